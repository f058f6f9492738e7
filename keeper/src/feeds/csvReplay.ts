/**
 * CSV replay of market history: hourly/daily OHLCV price bars, Deribit DVOL, perp funding and spot
 * ETF daily net flows, in the formats of ../shared/data (see its README).
 *
 * Every parser is strict and fails with a {@link CsvParseError} carrying the 1-based physical `line`
 * of the file and a machine-readable `reason`; nothing is silently skipped except what the format
 * defines as droppable (trailing blank lines, the ETF file's summary rows). Missing intervals are
 * not errors: they are reported as gaps (count + list).
 *
 * Look-ahead safety: a bar's close, a DVOL day's close and a day's ETF flow are only known at the
 * END of their period, so the Datum conversions stamp eventTime = period end, never period start.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import type { Datum, Underlying } from "./types.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type CsvErrorReason =
  | "emptyFile"
  | "noData"
  | "blankLine"
  | "unknownHeader"
  | "columnCount"
  | "badQuote"
  | "badTime"
  | "badPrice"
  | "badVolume"
  | "highBelowLow"
  | "openCloseOutsideRange"
  | "badValue"
  | "badSymbol"
  | "nonMonotonic"
  | "rowAfterSummary";

/** A rejected CSV: `line` is the 1-based line number in the file, `reason` a stable code. */
export class CsvParseError extends Error {
  readonly line: number;
  readonly reason: CsvErrorReason;
  readonly file: string | undefined;
  constructor(line: number, reason: CsvErrorReason, detail: string, file?: string) {
    super(`${file === undefined ? "" : `${file}:`}line ${line}: ${reason}: ${detail}`);
    this.name = "CsvParseError";
    this.line = line;
    this.reason = reason;
    this.file = file;
  }
}

const fail = (line: number, reason: CsvErrorReason, detail: string): never => {
  throw new CsvParseError(line, reason, detail);
};

// ---------------------------------------------------------------------------------------------
// Low-level: lines, cells, numbers, times

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
export function splitCsvLine(text: string, line: number): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let cell = "";
      i++;
      for (;;) {
        if (i >= text.length) return fail(line, "badQuote", "unterminated quoted field");
        const ch = text[i];
        if (ch === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += ch;
        i++;
      }
      if (i < text.length && text[i] !== ",") return fail(line, "badQuote", "text after closing quote");
      cells.push(cell);
    } else {
      const next = text.indexOf(",", i);
      const end = next === -1 ? text.length : next;
      const cell = text.slice(i, end);
      if (cell.includes('"')) return fail(line, "badQuote", "quote inside unquoted field");
      cells.push(cell);
      i = end;
    }
    if (i >= text.length) return cells;
    i++; // skip the comma
    if (i === text.length) {
      cells.push("");
      return cells;
    }
  }
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Strict decimal number (no hex, no empty string, no "Infinity"); undefined if not one. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (!NUMBER_RE.test(t)) return undefined;
  const x = Number(t);
  return Number.isFinite(x) ? x : undefined;
}

const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|\+00:00)?$/;

/** `YYYY-MM-DD[ HH:MM[:SS[.fff]]]` (optionally `T` and `Z`) as UTC ms; undefined if invalid. */
export function parseUtcDateTime(text: string): number | undefined {
  const m = DATETIME_RE.exec(text.trim());
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0"));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(t);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1) return undefined; // e.g. 2023-02-30
  return t;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** `11 Jan 2024` as UTC midnight ms; undefined if invalid. */
export function parseDayMonthYear(text: string): number | undefined {
  const m = /^(\d{1,2}) ([A-Za-z]{3}) (\d{4})$/.exec(text.trim());
  if (m === null) return undefined;
  const month = MONTHS.indexOf((m[2] ?? "").toLowerCase());
  const day = Number(m[1]);
  const year = Number(m[3]);
  if (month < 0 || day < 1) return undefined;
  const t = Date.UTC(year, month, day);
  return new Date(t).getUTCDate() === day ? t : undefined;
}

/**
 * Line-level state machine shared by the sync and streaming parsers: strips a BOM and CRs, allows
 * trailing blank lines only, hands the header and each row (as cells) to the format.
 */
type Format<R> = {
  header: (cells: string[], line: number) => void;
  row: (cells: string[], line: number) => R | undefined;
};

function createFeeder<R>(format: Format<R>) {
  let lineNo = 0;
  let headerCells: number | undefined;
  let firstBlank: number | undefined;
  let rows = 0;
  return {
    push(raw: string): R | undefined {
      lineNo++;
      let text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim() === "") {
        firstBlank ??= lineNo;
        return undefined;
      }
      if (firstBlank !== undefined) fail(firstBlank, "blankLine", "blank line before more data");
      const cells = splitCsvLine(text, lineNo);
      if (headerCells === undefined) {
        format.header(
          cells.map((c) => c.trim()),
          lineNo,
        );
        headerCells = cells.length;
        return undefined;
      }
      if (cells.length !== headerCells)
        fail(lineNo, "columnCount", `expected ${headerCells} columns, got ${cells.length}`);
      rows++;
      return format.row(cells, lineNo);
    },
    end(): void {
      if (headerCells === undefined) fail(1, "emptyFile", "no header line");
      if (rows === 0) fail(lineNo + 1, "noData", "header but no data rows");
    },
  };
}

function runSync<R>(text: string, format: Format<R>, file?: string): R[] {
  const feeder = createFeeder(format);
  const out: R[] = [];
  try {
    const lines = text.split("\n");
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    for (const l of lines) {
      const r = feeder.push(l);
      if (r !== undefined) out.push(r);
    }
    feeder.end();
  } catch (e) {
    throw withFile(e, file);
  }
  return out;
}

function withFile(e: unknown, file: string | undefined): unknown {
  if (file !== undefined && e instanceof CsvParseError && e.file === undefined) {
    return new CsvParseError(e.line, e.reason, e.message.replace(/^line \d+: \w+: /, ""), file);
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Gaps

export type Gap = {
  /** last time before the gap */ after: number;
  /** first time after it */ before: number;
  missing: number;
};
export type GapReport = { intervalMs: number; missingCount: number; gaps: Gap[] };

/** Most common step between consecutive times (rounded to the second), or undefined if < 2 times. */
export function modalStep(times: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  let best: number | undefined;
  let bestCount = 0;
  for (let i = 1; i < times.length; i++) {
    const d = Math.round(((times[i] ?? 0) - (times[i - 1] ?? 0)) / 1000) * 1000;
    const c = (counts.get(d) ?? 0) + 1;
    counts.set(d, c);
    if (c > bestCount || (c === bestCount && best !== undefined && d < best)) {
      best = d;
      bestCount = c;
    }
  }
  return best;
}

/** Missing intervals in an increasing time series sampled every `intervalMs` (small jitter tolerated). */
export function findGaps(times: readonly number[], intervalMs: number): GapReport {
  const gaps: Gap[] = [];
  let missingCount = 0;
  for (let i = 1; i < times.length; i++) {
    const a = times[i - 1] ?? 0;
    const b = times[i] ?? 0;
    const missing = Math.round((b - a) / intervalMs) - 1;
    if (missing >= 1) {
      gaps.push({ after: a, before: b, missing });
      missingCount += missing;
    }
  }
  return { intervalMs, missingCount, gaps };
}

// ---------------------------------------------------------------------------------------------
// Price bars

export type PriceBar = {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
};
/** How the time column was written: `YYYY-MM-DD HH:MM:SS`, a bare date, epoch ms, or epoch seconds. */
export type TimeEncoding = "datetime" | "date" | "epochMs" | "epochS";
export type PriceSeries = {
  timeColumn: string;
  timeEncoding: TimeEncoding;
  bars: PriceBar[];
  gaps: GapReport;
};

const TIME_COLUMNS = ["datetime", "timestamp", "date", "time", "open_time"];
const PRICE_COLUMNS = ["open", "high", "low", "close", "volume"] as const;
const IGNORED_COLUMNS = ["unix_timestamp"];

function priceFormat(): Format<PriceBar> & {
  timeColumn: () => string;
  encoding: () => TimeEncoding | undefined;
} {
  let timeIdx = -1;
  let timeColumn = "";
  const idx: Record<(typeof PRICE_COLUMNS)[number], number> = {
    open: -1,
    high: -1,
    low: -1,
    close: -1,
    volume: -1,
  };
  let encoding: TimeEncoding | undefined;
  let last: number | undefined;

  const parseTime = (cell: string, line: number): number => {
    const t = cell.trim();
    let kind: TimeEncoding;
    let value: number | undefined;
    if (/^\d+$/.test(t)) {
      const n = Number(t);
      kind = n >= 1e11 ? "epochMs" : "epochS";
      value = kind === "epochMs" ? n : n * 1000;
      if (!Number.isSafeInteger(value)) value = undefined;
    } else {
      kind = t.length === 10 ? "date" : "datetime";
      value = parseUtcDateTime(t);
    }
    if (value === undefined) return fail(line, "badTime", `unparseable time ${JSON.stringify(cell)}`);
    if (encoding === undefined) encoding = kind;
    else if (kind !== encoding)
      return fail(line, "badTime", `time ${JSON.stringify(cell)} is ${kind}, file uses ${encoding}`);
    return value;
  };

  return {
    header(cells, line) {
      const names = cells.map((c) => c.toLowerCase());
      names.forEach((n, i) => {
        if (TIME_COLUMNS.includes(n)) {
          if (timeIdx !== -1) fail(line, "unknownHeader", `two time columns (${timeColumn}, ${n})`);
          timeIdx = i;
          timeColumn = n;
        } else if ((PRICE_COLUMNS as readonly string[]).includes(n)) {
          const k = n as (typeof PRICE_COLUMNS)[number];
          if (idx[k] !== -1) fail(line, "unknownHeader", `duplicate column ${n}`);
          idx[k] = i;
        } else if (!IGNORED_COLUMNS.includes(n)) {
          fail(line, "unknownHeader", `unknown column ${JSON.stringify(cells[i])}`);
        }
      });
      if (timeIdx === -1) fail(line, "unknownHeader", `no time column (one of ${TIME_COLUMNS.join(", ")})`);
      for (const k of PRICE_COLUMNS) if (idx[k] === -1) fail(line, "unknownHeader", `missing column ${k}`);
    },
    row(cells, line) {
      const time = parseTime(cells[timeIdx] ?? "", line);
      const px = (k: "open" | "high" | "low" | "close"): number => {
        const raw = cells[idx[k]] ?? "";
        const v = parseNumber(raw);
        if (v === undefined) return fail(line, "badPrice", `${k} ${JSON.stringify(raw)} is not a number`);
        if (v <= 0) return fail(line, "badPrice", `${k} ${raw} is not positive`);
        return v;
      };
      const open = px("open");
      const high = px("high");
      const low = px("low");
      const close = px("close");
      const rawVol = cells[idx.volume] ?? "";
      const volume = parseNumber(rawVol);
      if (volume === undefined || volume < 0)
        fail(line, "badVolume", `volume ${JSON.stringify(rawVol)} is not a number >= 0`);
      if (high < low) fail(line, "highBelowLow", `high ${high} < low ${low}`);
      if (open > high || open < low || close > high || close < low) {
        fail(
          line,
          "openCloseOutsideRange",
          `open ${open} / close ${close} outside [low ${low}, high ${high}]`,
        );
      }
      if (last !== undefined && time <= last) {
        fail(
          line,
          "nonMonotonic",
          `time ${new Date(time).toISOString()} not after previous ${new Date(last).toISOString()}`,
        );
      }
      last = time;
      return { time, open, high, low, close, volume: volume ?? 0 };
    },
    timeColumn: () => timeColumn,
    encoding: () => encoding,
  };
}

/**
 * Parses an OHLCV CSV. Accepted headers: a time column (`datetime` | `timestamp` | `date` | `time` |
 * `open_time`) plus open, high, low, close, volume in any order (an extra `unix_timestamp` is
 * ignored). Times: `YYYY-MM-DD HH:MM:SS` UTC, a bare date, or epoch milliseconds (≥ 1e11) /
 * seconds — one encoding per file. Gaps use `intervalMs` if given, else the modal step.
 */
export function parsePriceCsv(
  text: string,
  options: { intervalMs?: number; file?: string } = {},
): PriceSeries {
  const format = priceFormat();
  const bars = runSync(text, format, options.file);
  const times = bars.map((b) => b.time);
  const interval = options.intervalMs ?? modalStep(times) ?? HOUR_MS;
  return {
    timeColumn: format.timeColumn(),
    timeEncoding: format.encoding() ?? "datetime",
    bars,
    gaps: findGaps(times, interval),
  };
}

/** Reads and parses a price CSV file (errors carry the file name). */
export async function readPriceCsv(
  path: string,
  options: { intervalMs?: number } = {},
): Promise<PriceSeries> {
  return parsePriceCsv(await readFile(path, "utf8"), { ...options, file: path });
}

/**
 * Streams a price CSV file bar by bar with the same checks (constant memory). The generator's
 * return value is the gap report (interval = `intervalMs` if given, else the first step seen).
 */
export async function* streamPriceCsv(
  path: string,
  options: { intervalMs?: number } = {},
): AsyncGenerator<PriceBar, GapReport, undefined> {
  const feeder = createFeeder(priceFormat());
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let interval = options.intervalMs;
  let prev: number | undefined;
  const gaps: Gap[] = [];
  let missingCount = 0;
  try {
    for await (const line of rl) {
      const bar = feeder.push(line);
      if (bar === undefined) continue;
      if (prev !== undefined) {
        interval ??= bar.time - prev;
        const missing = Math.round((bar.time - prev) / interval) - 1;
        if (missing >= 1) {
          gaps.push({ after: prev, before: bar.time, missing });
          missingCount += missing;
        }
      }
      prev = bar.time;
      yield bar;
    }
    feeder.end();
  } catch (e) {
    throw withFile(e, path);
  } finally {
    rl.close();
  }
  return { intervalMs: interval ?? HOUR_MS, missingCount, gaps };
}

/**
 * Spot data from bars: price = close, eventTime = bar open + intervalMs (the close is only known
 * then), receiveTime = eventTime + receiveLagMs.
 */
export function barsToSpotData(
  bars: Iterable<PriceBar>,
  o: { underlying: Underlying; source: string; intervalMs: number; receiveLagMs?: number },
): Datum<"spot">[] {
  const out: Datum<"spot">[] = [];
  for (const b of bars) {
    const eventTime = b.time + o.intervalMs;
    out.push({
      kind: "spot",
      underlying: o.underlying,
      source: o.source,
      eventTime,
      receiveTime: eventTime + (o.receiveLagMs ?? 0),
      price: b.close,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DVOL

/** One DVOL day (UTC midnight `time`), values in vol points as in the file (60 = 60 %). */
export type DvolBar = { time: number; open: number; high: number; low: number; close: number };

/** Parses a Deribit DVOL daily CSV (`date_utc,dvol_open,dvol_high,dvol_low,dvol_close`). */
export function parseDvolCsv(text: string, file?: string): { bars: DvolBar[]; gaps: GapReport } {
  const cols = ["date_utc", "dvol_open", "dvol_high", "dvol_low", "dvol_close"];
  let last: number | undefined;
  const bars = runSync<DvolBar>(
    text,
    {
      header(cells, line) {
        if (cells.map((c) => c.toLowerCase()).join(",") !== cols.join(",")) {
          fail(line, "unknownHeader", `expected ${cols.join(",")}, got ${cells.join(",")}`);
        }
      },
      row(cells, line) {
        const raw = cells[0] ?? "";
        const time = /^\d{4}-\d{2}-\d{2}$/.test(raw.trim()) ? parseUtcDateTime(raw) : undefined;
        if (time === undefined) return fail(line, "badTime", `unparseable date ${JSON.stringify(raw)}`);
        const v = cells.slice(1).map((c, i) => {
          const x = parseNumber(c);
          if (x === undefined || x <= 0)
            return fail(line, "badValue", `${cols[i + 1]} ${JSON.stringify(c)} is not a positive number`);
          return x;
        });
        const [open, high, low, close] = v as [number, number, number, number];
        if (high < low) fail(line, "highBelowLow", `high ${high} < low ${low}`);
        if (last !== undefined && time <= last)
          fail(line, "nonMonotonic", `${raw} not after the previous day`);
        last = time;
        return { time, open, high, low, close };
      },
    },
    file,
  );
  return {
    bars,
    gaps: findGaps(
      bars.map((b) => b.time),
      DAY_MS,
    ),
  };
}

/** Reads and parses a DVOL CSV file. */
export async function readDvolCsv(path: string): Promise<{ bars: DvolBar[]; gaps: GapReport }> {
  return parseDvolCsv(await readFile(path, "utf8"), path);
}

/**
 * DVOL as 30-day ATM IV points: eventTime = end of the DVOL day (its close), expiry = eventTime +
 * tenorDays, strike = spot at eventTime from `spotAt` (days without a spot are skipped),
 * iv = close / 100.
 */
export function dvolToIvData(
  bars: Iterable<DvolBar>,
  o: {
    underlying: Underlying;
    source: string;
    spotAt: (t: number) => number | undefined;
    tenorDays?: number;
    receiveLagMs?: number;
  },
): Datum<"ivPoint">[] {
  const out: Datum<"ivPoint">[] = [];
  for (const b of bars) {
    const eventTime = b.time + DAY_MS;
    const strike = o.spotAt(eventTime);
    if (strike === undefined || !(strike > 0) || !Number.isFinite(strike)) continue;
    out.push({
      kind: "ivPoint",
      underlying: o.underlying,
      source: o.source,
      eventTime,
      receiveTime: eventTime + (o.receiveLagMs ?? 0),
      expiry: eventTime + (o.tenorDays ?? 30) * DAY_MS,
      strike,
      iv: b.close / 100,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Funding

export type FundingOptions = {
  source: string;
  /** Required for files without a Symbol column; must agree with the Symbol column otherwise. */
  underlying?: Underlying;
  /** Offset of the file's clock from UTC (3 for a UTC+3 file: 3 hours are subtracted). */
  utcOffsetHours?: number;
  /** Funding interval the rates are quoted for; default: the modal step of the file. */
  intervalMs?: number;
  receiveLagMs?: number;
};

export type FundingSeries = { data: Datum<"funding">[]; intervalMs: number; gaps: GapReport };

function symbolUnderlying(symbol: string): Underlying | undefined {
  const s = symbol.trim().toUpperCase();
  if (/^(ETH|WETH)[-_/]?/.test(s)) return "ETH";
  if (/^(BTC|WBTC|XBT)[-_/]?/.test(s)) return "BTC";
  return undefined;
}

/**
 * Parses a funding CSV: `timestamp,funding_rate` (Binance export) or `Symbol,Date,Funding Rate`
 * (funding-rates-fetcher layout, Binance or dYdX). The file's rate is per funding interval; the
 * datum carries ratePerHour = rate / interval-in-hours and the interval.
 */
export function parseFundingCsv(text: string, options: FundingOptions, file?: string): FundingSeries {
  const offsetMs = (options.utcOffsetHours ?? 0) * HOUR_MS;
  let timeIdx = -1;
  let rateIdx = -1;
  let symbolIdx = -1;
  let last: number | undefined;
  const rows = runSync<{ time: number; rate: number; underlying: Underlying }>(
    text,
    {
      header(cells, line) {
        const h = cells.map((c) => c.toLowerCase()).join(",");
        if (h === "timestamp,funding_rate") {
          timeIdx = 0;
          rateIdx = 1;
          if (options.underlying === undefined)
            fail(line, "unknownHeader", "file has no symbol column: options.underlying is required");
        } else if (h === "symbol,date,funding rate") {
          symbolIdx = 0;
          timeIdx = 1;
          rateIdx = 2;
        } else {
          fail(
            line,
            "unknownHeader",
            `expected "timestamp,funding_rate" or "Symbol,Date,Funding Rate", got ${cells.join(",")}`,
          );
        }
      },
      row(cells, line) {
        let underlying = options.underlying;
        if (symbolIdx >= 0) {
          const sym = cells[symbolIdx] ?? "";
          const u = symbolUnderlying(sym);
          if (u === undefined || (underlying !== undefined && u !== underlying)) {
            return fail(
              line,
              "badSymbol",
              `symbol ${JSON.stringify(sym)} is not ${underlying ?? "ETH or BTC"}`,
            );
          }
          underlying = u;
        }
        const raw = cells[timeIdx] ?? "";
        const local = parseUtcDateTime(raw);
        if (local === undefined) return fail(line, "badTime", `unparseable time ${JSON.stringify(raw)}`);
        const time = local - offsetMs;
        const rate = parseNumber(cells[rateIdx] ?? "");
        if (rate === undefined || Math.abs(rate) >= 1)
          return fail(line, "badValue", `funding rate ${JSON.stringify(cells[rateIdx])} is not a fraction`);
        if (last !== undefined && time <= last)
          fail(line, "nonMonotonic", `time ${raw} not after the previous row`);
        last = time;
        return { time, rate, underlying: underlying as Underlying };
      },
    },
    file,
  );
  const times = rows.map((r) => r.time);
  const intervalMs = options.intervalMs ?? modalStep(times) ?? 8 * HOUR_MS;
  const perHour = HOUR_MS / intervalMs;
  const data = rows.map((r): Datum<"funding"> => ({
    kind: "funding",
    underlying: r.underlying,
    source: options.source,
    eventTime: r.time,
    receiveTime: r.time + (options.receiveLagMs ?? 0),
    ratePerHour: r.rate * perHour,
    intervalMs,
  }));
  return { data, intervalMs, gaps: findGaps(times, intervalMs) };
}

/**
 * Funding options inferred from a shared-data file name: venue (binance/dydx → "<venue>-perp"),
 * underlying (ETH/BTC in the name) and a `utc+N` clock offset.
 */
export function fundingOptionsForFile(path: string): FundingOptions {
  const name = basename(path).toLowerCase();
  const venue = name.includes("dydx") ? "dydx" : name.includes("binance") ? "binance" : "csv";
  const underlying: Underlying | undefined = /(^|[^a-z])w?eth/.test(name)
    ? "ETH"
    : /(^|[^a-z])w?btc/.test(name)
      ? "BTC"
      : undefined;
  const off = /utc([+-]\d{1,2})/.exec(name);
  return { source: `${venue}-perp`, underlying, utcOffsetHours: off === null ? 0 : Number(off[1]) };
}

/** Reads a funding CSV; options default to {@link fundingOptionsForFile} of the path. */
export async function readFundingCsv(
  path: string,
  options?: Partial<FundingOptions>,
): Promise<FundingSeries> {
  return parseFundingCsv(await readFile(path, "utf8"), { ...fundingOptionsForFile(path), ...options }, path);
}

// ---------------------------------------------------------------------------------------------
// ETF flows

export type EtfFlowOptions = {
  source: string;
  underlying?: Underlying;
  /** USD per unit in the file (default 1e6: the file is in US$ millions). */
  unitUsd?: number;
  receiveLagMs?: number;
};

export type EtfFlowSeries = {
  data: Datum<"etfFlow">[];
  /** Summary rows dropped from the end of the file (e.g. Total, Average, Maximum, Minimum). */
  summaryRows: string[];
  /** Days present with "-" (no data), as UTC midnights. */
  noDataDays: number[];
};

const SUMMARY_LABELS = ["total", "average", "maximum", "minimum", "sum", "mean", "max", "min"];

/** Number in a flows file: `1,373.80` (thousands separators), `(95.1)` (outflow), `-1,113.70`. */
export function parseFlowNumber(text: string): number | undefined {
  const t = text.trim();
  const neg = /^\((.*)\)$/.exec(t);
  const body = (neg === null ? t : (neg[1] ?? "")).trim();
  if (!/^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$/.test(body)) return undefined;
  const x = Number(body.replace(/,/g, ""));
  return neg === null ? x : -x;
}

/**
 * Parses a daily ETF net-flow CSV (`Date,Total`, dates like `11 Jan 2024`). Trailing summary rows
 * are dropped (a dated row after one is an error); `-` means no data for that day. eventTime = the
 * end of the day (next UTC midnight).
 */
export function parseEtfFlowsCsv(text: string, options: EtfFlowOptions, file?: string): EtfFlowSeries {
  const unit = options.unitUsd ?? 1e6;
  const underlying = options.underlying ?? "BTC";
  const summaryRows: string[] = [];
  const noDataDays: number[] = [];
  let last: number | undefined;
  const data = runSync<Datum<"etfFlow">>(
    text,
    {
      header(cells, line) {
        if (cells.length !== 2 || (cells[0] ?? "").toLowerCase() !== "date") {
          fail(line, "unknownHeader", `expected "Date,<total column>", got ${cells.join(",")}`);
        }
      },
      row(cells, line) {
        const label = (cells[0] ?? "").trim();
        if (SUMMARY_LABELS.includes(label.toLowerCase())) {
          summaryRows.push(label);
          return undefined;
        }
        const day =
          parseDayMonthYear(label) ??
          (/^\d{4}-\d{2}-\d{2}$/.test(label) ? parseUtcDateTime(label) : undefined);
        if (day === undefined) return fail(line, "badTime", `unparseable date ${JSON.stringify(label)}`);
        if (summaryRows.length > 0)
          return fail(line, "rowAfterSummary", `dated row after summary row ${summaryRows[0]}`);
        if (last !== undefined && day <= last)
          return fail(line, "nonMonotonic", `${label} not after the previous day`);
        last = day;
        const raw = (cells[1] ?? "").trim();
        if (raw === "-" || raw === "") {
          noDataDays.push(day);
          return undefined;
        }
        const v = parseFlowNumber(raw);
        if (v === undefined) return fail(line, "badValue", `flow ${JSON.stringify(raw)} is not a number`);
        const eventTime = day + DAY_MS;
        return {
          kind: "etfFlow",
          underlying,
          source: options.source,
          eventTime,
          receiveTime: eventTime + (options.receiveLagMs ?? 0),
          netFlowUsd: v * unit,
        };
      },
    },
    file,
  );
  return { data, summaryRows, noDataDays };
}

/** Reads an ETF flows CSV (default source "etf-flows-csv", underlying BTC, US$ millions). */
export async function readEtfFlowsCsv(
  path: string,
  options: Partial<EtfFlowOptions> = {},
): Promise<EtfFlowSeries> {
  return parseEtfFlowsCsv(await readFile(path, "utf8"), { source: "etf-flows-csv", ...options }, path);
}

// ---------------------------------------------------------------------------------------------
// Merging

/**
 * Merges streams that are each sorted by receiveTime into one sorted stream (stable: ties keep
 * the order of the streams), lazily — suitable for replaying several files as one feed.
 */
export function* mergeByReceiveTime(streams: readonly Iterable<Datum>[]): Generator<Datum, void, undefined> {
  const its = streams.map((s) => s[Symbol.iterator]());
  const heads: (Datum | undefined)[] = its.map((it) => {
    const r = it.next();
    return r.done === true ? undefined : r.value;
  });
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h === undefined) continue;
      const b = best === -1 ? undefined : heads[best];
      if (b === undefined || h.receiveTime < b.receiveTime) best = i;
    }
    if (best === -1) return;
    const d = heads[best] as Datum;
    const r = (its[best] as Iterator<Datum>).next();
    heads[best] = r.done === true ? undefined : r.value;
    yield d;
  }
}
