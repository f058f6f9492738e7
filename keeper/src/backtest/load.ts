/**
 * Loading a replay path from files: the price CSV (any format keeper/src/feeds/csvReplay.ts accepts:
 * `datetime` strings or epoch-ms/-s timestamps) and, optionally, DVOL, funding and ETF-flow files for
 * the regime inputs. With `auto`, the shared-data layout is searched: for a price file in
 * `<root>/prices/`, `<root>/vol/DVOL_<U>_*.csv`, `<root>/funding/binance_<U>USDT_*.csv` and (BTC only)
 * `<root>/flows/btc_etf_total_daily_*.csv`.
 */
import { readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { readDvolCsv, readEtfFlowsCsv, readFundingCsv, readPriceCsv } from "../feeds/csvReplay.ts";
import type { Datum, Underlying } from "../feeds/types.ts";
import { pathFromBars, type MarketPath, type PathExtras } from "./path.ts";

export type ReplayFiles = {
  prices: string;
  dvol?: string | undefined;
  funding?: string | undefined;
  etfFlows?: string | undefined;
};

/** ETH or BTC from a file name (ETH when neither is named). */
export function underlyingFromName(path: string): Underlying {
  const n = basename(path).toUpperCase();
  return /BTC|XBT/.test(n) && !/ETH/.test(n) ? "BTC" : "ETH";
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** The companion files of a price file in the shared-data layout (undefined where none). */
export async function findCompanionFiles(prices: string, u: Underlying): Promise<ReplayFiles> {
  const root = dirname(dirname(prices));
  const vol = (await listDir(join(root, "vol"))).find(
    (f) => f.startsWith(`DVOL_${u}_`) && f.endsWith(".csv"),
  );
  const fund = (await listDir(join(root, "funding"))).find(
    (f) => f.toLowerCase().startsWith(`binance_${u.toLowerCase()}usdt_`) && f.endsWith(".csv"),
  );
  const flows =
    u === "BTC"
      ? (await listDir(join(root, "flows"))).find(
          (f) => f.startsWith("btc_etf_total_daily") && f.endsWith(".csv"),
        )
      : undefined;
  return {
    prices,
    dvol: vol === undefined ? undefined : join(root, "vol", vol),
    funding: fund === undefined ? undefined : join(root, "funding", fund),
    etfFlows: flows === undefined ? undefined : join(root, "flows", flows),
  };
}

export type LoadedReplay = { path: MarketPath; files: ReplayFiles; underlying: Underlying };

/** Reads the files (CsvParseError with file and line on bad input) into a path. */
export async function loadReplay(files: ReplayFiles, underlying?: Underlying): Promise<LoadedReplay> {
  const u = underlying ?? underlyingFromName(files.prices);
  const series = await readPriceCsv(files.prices);
  const extras: PathExtras = {};
  if (files.dvol !== undefined) extras.dvol = (await readDvolCsv(files.dvol)).bars;
  if (files.funding !== undefined) {
    const f = await readFundingCsv(files.funding);
    extras.funding = f.data.filter((d: Datum<"funding">) => d.underlying === u);
  }
  if (files.etfFlows !== undefined)
    extras.etfFlows = (await readEtfFlowsCsv(files.etfFlows, { underlying: u })).data;
  const interval = series.gaps.intervalMs;
  return {
    path: pathFromBars(series.bars, u, interval, extras, basename(files.prices)),
    files,
    underlying: u,
  };
}
