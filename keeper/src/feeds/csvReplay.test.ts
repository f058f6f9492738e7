import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CsvParseError,
  barsToSpotData,
  dvolToIvData,
  findGaps,
  fundingOptionsForFile,
  mergeByReceiveTime,
  parseDayMonthYear,
  parseDvolCsv,
  parseEtfFlowsCsv,
  parseFlowNumber,
  parseFundingCsv,
  parsePriceCsv,
  parseUtcDateTime,
  readDvolCsv,
  readEtfFlowsCsv,
  readFundingCsv,
  readPriceCsv,
  splitCsvLine,
  streamPriceCsv,
  type CsvErrorReason,
} from "./csvReplay.ts";
import { DatumSchema } from "./types.ts";

const DATA = fileURLToPath(new URL("../../../../shared/data/", import.meta.url));
const H = 3_600_000;
const D = 86_400_000;

function expectCsvError(fn: () => unknown, line: number, reason: CsvErrorReason): CsvParseError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CsvParseError);
  const err = caught as CsvParseError;
  expect({ line: err.line, reason: err.reason }).toEqual({ line, reason });
  return err;
}

const ETH_HEADER = "datetime,open,high,low,close,volume";

describe("low-level parsing", () => {
  it("splits quoted CSV cells with thousands separators and escaped quotes", () => {
    expect(splitCsvLine('Maximum,"1,373.80"', 1)).toEqual(["Maximum", "1,373.80"]);
    expect(splitCsvLine('a,"he said ""hi""",', 1)).toEqual(["a", 'he said "hi"', ""]);
    expect(splitCsvLine("a,,b", 1)).toEqual(["a", "", "b"]);
    expectCsvError(() => splitCsvLine('a,"open', 7), 7, "badQuote");
    expectCsvError(() => splitCsvLine('a,"x"y', 3), 3, "badQuote");
    expectCsvError(() => splitCsvLine('a,b"c', 4), 4, "badQuote");
  });

  it("parses UTC date-times strictly", () => {
    expect(parseUtcDateTime("2019-12-04 06:00:00")).toBe(Date.UTC(2019, 11, 4, 6));
    expect(parseUtcDateTime("2026-02-06 08:00:00.001")).toBe(Date.UTC(2026, 1, 6, 8, 0, 0, 1));
    expect(parseUtcDateTime("2024-02-29T23:59:59Z")).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(parseUtcDateTime("2021-03-24")).toBe(Date.UTC(2021, 2, 24));
    for (const bad of [
      "2023-02-29 00:00:00",
      "2023-13-01",
      "2023-01-01 24:00:00",
      "2023-1-1",
      "yesterday",
      "",
    ]) {
      expect(parseUtcDateTime(bad), bad).toBeUndefined();
    }
    expect(parseDayMonthYear("11 Jan 2024")).toBe(Date.UTC(2024, 0, 11));
    expect(parseDayMonthYear("31 Feb 2024")).toBeUndefined();
    expect(parseDayMonthYear("11 Foo 2024")).toBeUndefined();
  });

  it("parses flow numbers: separators, parentheses, signs", () => {
    expect(parseFlowNumber("1,373.80")).toBe(1373.8);
    expect(parseFlowNumber("-1,113.70")).toBe(-1113.7);
    expect(parseFlowNumber("(95.1)")).toBe(-95.1);
    expect(parseFlowNumber("203")).toBe(203);
    for (const bad of ["1,37", "abc", "", "1.2.3", "12,3456"])
      expect(parseFlowNumber(bad), bad).toBeUndefined();
  });

  it("reports gaps as count and list", () => {
    const g = findGaps([0, H, 2 * H, 5 * H, 6 * H, 8 * H], H);
    expect(g).toEqual({
      intervalMs: H,
      missingCount: 3,
      gaps: [
        { after: 2 * H, before: 5 * H, missing: 2 },
        { after: 6 * H, before: 8 * H, missing: 1 },
      ],
    });
  });
});

describe("price CSVs from ../shared/data", () => {
  it("ETH hourly: 51,816 bars, 32 missing hours, datetime encoding, CRLF handled", async () => {
    const s = await readPriceCsv(join(DATA, "prices/ETHUSDT_1h_binance_2019-12_2025-11.csv"));
    expect(s.timeColumn).toBe("datetime");
    expect(s.timeEncoding).toBe("datetime");
    expect(s.bars.length).toBe(51_816);
    expect(s.gaps.intervalMs).toBe(H);
    expect(s.gaps.missingCount).toBe(32);
    expect(s.gaps.gaps.reduce((a, g) => a + g.missing, 0)).toBe(32);
    expect(s.bars[0]).toEqual({
      time: Date.UTC(2019, 11, 4, 6),
      open: 143.61,
      high: 144.62,
      low: 143.31,
      close: 144.09,
      volume: 7611.36,
    });
    expect(s.bars.at(-1)?.time).toBe(Date.UTC(2025, 10, 2, 13));
    expect(s.bars.at(-1)?.close).toBe(3864.71);
    // span in hours = bars + missing − 1
    expect(((s.bars.at(-1)?.time ?? 0) - (s.bars[0]?.time ?? 0)) / H).toBe(51_816 + 32 - 1);
  });

  it("BTC epoch-ms hourly file parses (35,032 bars, 32 missing hours)", async () => {
    const s = await readPriceCsv(join(DATA, "prices/BTCUSDT_1h_binance_2020-2023.csv"));
    expect(s.timeEncoding).toBe("epochMs");
    expect(s.bars.length).toBe(35_032);
    expect(s.gaps.missingCount).toBe(32);
    expect(s.bars[0]?.time).toBe(1577808000000);
    expect(s.bars[0]?.time).toBe(Date.UTC(2019, 11, 31, 16));
  });

  it("BTC timestamp-string file parses and agrees with the epoch-ms file on shared hours", async () => {
    const [a, b] = await Promise.all([
      readPriceCsv(join(DATA, "prices/BTCUSDT_1h_binance_2022-2025.csv")),
      readPriceCsv(join(DATA, "prices/BTCUSDT_1h_binance_2020-2023.csv")),
    ]);
    expect(a.timeColumn).toBe("timestamp");
    expect(a.timeEncoding).toBe("datetime");
    expect(a.bars.length).toBe(34_349);
    const byTime = new Map(b.bars.map((x) => [x.time, x]));
    let shared = 0;
    for (const bar of a.bars) {
      const o = byTime.get(bar.time);
      if (o === undefined) continue;
      shared++;
      expect(o.close).toBe(bar.close);
    }
    expect(shared).toBe(17_511);
  });

  it("BTC daily file with reordered columns and unix_timestamp parses", async () => {
    const s = await readPriceCsv(join(DATA, "prices/BTCUSD_1d_bitstamp-coinbase_2011-2025.csv"));
    expect(s.bars.length).toBe(5_152);
    expect(s.gaps.intervalMs).toBe(D);
    expect(s.bars[0]).toMatchObject({
      time: Date.UTC(2011, 7, 18),
      open: 10.9,
      close: 10.9,
      high: 10.9,
      low: 10.9,
    });
    expect(s.bars.at(-1)).toMatchObject({
      open: 112017.21,
      close: 113700.11,
      high: 113950.0,
      low: 111066.07,
    });
  });

  it("streams the ETH file with the same bars and gap report", async () => {
    const path = join(DATA, "prices/ETHUSDT_1h_binance_2019-12_2025-11.csv");
    const it = streamPriceCsv(path);
    let n = 0;
    let last = 0;
    let r = await it.next();
    while (r.done !== true) {
      n++;
      last = r.value.close;
      r = await it.next();
    }
    expect(n).toBe(51_816);
    expect(last).toBe(3864.71);
    expect(r.value.missingCount).toBe(32);
    expect(r.value.intervalMs).toBe(H);
  });

  it("spot data from bars are stamped at the bar close (no look-ahead) and pass the schema", () => {
    const s = parsePriceCsv(
      `${ETH_HEADER}\n2024-01-01 00:00:00,10,12,9,11,5\n2024-01-01 01:00:00,11,13,10,12,6\n`,
    );
    const data = barsToSpotData(s.bars, {
      underlying: "ETH",
      source: "binance-csv",
      intervalMs: H,
      receiveLagMs: 500,
    });
    expect(data).toEqual([
      {
        kind: "spot",
        underlying: "ETH",
        source: "binance-csv",
        eventTime: Date.UTC(2024, 0, 1, 1),
        receiveTime: Date.UTC(2024, 0, 1, 1) + 500,
        price: 11,
      },
      {
        kind: "spot",
        underlying: "ETH",
        source: "binance-csv",
        eventTime: Date.UTC(2024, 0, 1, 2),
        receiveTime: Date.UTC(2024, 0, 1, 2) + 500,
        price: 12,
      },
    ]);
    for (const d of data) expect(DatumSchema.safeParse(d).success).toBe(true);
  });
});

describe("malformed price CSVs: reason and exact line", () => {
  const good = "2024-01-01 00:00:00,10,12,9,11,5";
  const cases: [string, string, number, CsvErrorReason][] = [
    ["empty file", "", 1, "emptyFile"],
    ["only blank lines", "\n\n", 1, "emptyFile"],
    ["header only", `${ETH_HEADER}\n`, 2, "noData"],
    ["unknown column", "datetime,open,high,low,close,volume,foo\n", 1, "unknownHeader"],
    ["missing column", "datetime,open,high,low,close\n", 1, "unknownHeader"],
    ["no time column", "when,open,high,low,close,volume\n", 1, "unknownHeader"],
    ["duplicate column", "datetime,open,open,high,low,close,volume\n", 1, "unknownHeader"],
    ["two time columns", "datetime,timestamp,open,high,low,close,volume\n", 1, "unknownHeader"],
    ["too few columns", `${ETH_HEADER}\n${good}\n2024-01-01 01:00:00,10,12,9,11\n`, 3, "columnCount"],
    [
      "too many columns",
      `${ETH_HEADER}\n${good}\n${good.replace("00:00:00", "01:00:00")},7\n`,
      3,
      "columnCount",
    ],
    ["non-numeric price", `${ETH_HEADER}\n${good}\n2024-01-01 01:00:00,10,abc,9,11,5\n`, 3, "badPrice"],
    ["zero price", `${ETH_HEADER}\n2024-01-01 00:00:00,0,12,9,11,5\n`, 2, "badPrice"],
    ["negative price", `${ETH_HEADER}\n${good}\n2024-01-01 01:00:00,10,12,-9,11,5\n`, 3, "badPrice"],
    ["Infinity price", `${ETH_HEADER}\n2024-01-01 00:00:00,Infinity,12,9,11,5\n`, 2, "badPrice"],
    ["empty price", `${ETH_HEADER}\n2024-01-01 00:00:00,,12,9,11,5\n`, 2, "badPrice"],
    ["negative volume", `${ETH_HEADER}\n2024-01-01 00:00:00,10,12,9,11,-5\n`, 2, "badVolume"],
    ["high below low", `${ETH_HEADER}\n${good}\n2024-01-01 01:00:00,10,9,12,11,5\n`, 3, "highBelowLow"],
    ["close above high", `${ETH_HEADER}\n2024-01-01 00:00:00,10,12,9,13,5\n`, 2, "openCloseOutsideRange"],
    ["unparseable time", `${ETH_HEADER}\n${good}\n2024-01-01 25:00:00,10,12,9,11,5\n`, 3, "badTime"],
    ["mixed time encodings", `${ETH_HEADER}\n${good}\n1704070800000,10,12,9,11,5\n`, 3, "badTime"],
    ["duplicate timestamp", `${ETH_HEADER}\n${good}\n${good}\n`, 3, "nonMonotonic"],
    [
      "time going backwards",
      `${ETH_HEADER}\n${good.replace("00:00:00", "02:00:00")}\n${good.replace("00:00:00", "03:00:00")}\n${good}\n`,
      4,
      "nonMonotonic",
    ],
    [
      "epoch-ms going backwards",
      `timestamp,open,high,low,close,volume\n1577811600000,1,1,1,1,1\n1577808000000,1,1,1,1,1\n`,
      3,
      "nonMonotonic",
    ],
    [
      "blank line inside",
      `${ETH_HEADER}\n${good}\n\n${good.replace("00:00:00", "01:00:00")}\n`,
      3,
      "blankLine",
    ],
    ["bad quoting", `${ETH_HEADER}\n${good}\n"2024-01-01 01:00:00,10,12,9,11,5\n`, 3, "badQuote"],
  ];
  for (const [name, text, line, reason] of cases) {
    it(`${name} → line ${line} ${reason}`, () => {
      expectCsvError(() => parsePriceCsv(text), line, reason);
    });
  }

  it("line numbers count CRLF lines and a BOM header correctly; trailing blank lines are fine", () => {
    const text = `\uFEFF${ETH_HEADER}\r\n${good}\r\n${good.replace("00:00:00", "01:00:00")}\r\n\r\n\r\n`;
    expect(parsePriceCsv(text).bars.length).toBe(2);
    expectCsvError(() => parsePriceCsv(`\uFEFF${ETH_HEADER}\r\n${good}\r\n${good}\r\n`), 3, "nonMonotonic");
  });

  it("file errors carry the path; the stream rejects with the same line and reason", async () => {
    const dir = await mkdtemp(join(tmpdir(), "csvreplay-"));
    const path = join(dir, "bad.csv");
    await writeFile(
      path,
      `${ETH_HEADER}\n${good}\n${good.replace("00:00:00", "01:00:00")}\n2024-01-01 00:30:00,10,12,9,11,5\n`,
    );
    await expect(readPriceCsv(path)).rejects.toMatchObject({ line: 4, reason: "nonMonotonic", file: path });
    const bars: number[] = [];
    const consume = async () => {
      for await (const b of streamPriceCsv(path)) bars.push(b.time);
    };
    await expect(consume()).rejects.toMatchObject({ line: 4, reason: "nonMonotonic", file: path });
    expect(bars.length).toBe(2);
    const err = await readPriceCsv(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsvParseError);
    expect((err as Error).message).toContain(`${path}:line 4: nonMonotonic`);
  });

  it("epoch seconds are accepted and converted to ms", () => {
    const s = parsePriceCsv(
      "timestamp,open,high,low,close,volume\n1704067200,1,2,1,2,3\n1704070800,2,2,1,1,3\n",
    );
    expect(s.timeEncoding).toBe("epochS");
    expect(s.bars.map((b) => b.time)).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 1)]);
  });
});

describe("DVOL, funding and ETF flows from ../shared/data", () => {
  it("DVOL ETH: 1,921 days, no gaps; IV data stamped at day end with spot strikes", async () => {
    const { bars, gaps } = await readDvolCsv(join(DATA, "vol/DVOL_ETH_1d_2021-03_2026-06.csv"));
    expect(bars.length).toBe(1_921);
    expect(gaps.missingCount).toBe(0);
    expect(bars[0]).toEqual({
      time: Date.UTC(2021, 2, 24),
      open: 94.13,
      high: 106.94,
      low: 92.67,
      close: 106.73,
    });
    const spotAt = (t: number) => (t < Date.UTC(2021, 2, 27) ? 1700 : undefined);
    const iv = dvolToIvData(bars, { underlying: "ETH", source: "deribit-dvol", spotAt });
    expect(iv.length).toBe(2); // 24 Mar closes at 25 Mar 00:00, 25 Mar at 26 Mar; 26 Mar closes at 27 Mar (no spot)
    expect(iv[0]).toEqual({
      kind: "ivPoint",
      underlying: "ETH",
      source: "deribit-dvol",
      eventTime: Date.UTC(2021, 2, 25),
      receiveTime: Date.UTC(2021, 2, 25),
      expiry: Date.UTC(2021, 2, 25) + 30 * D,
      strike: 1700,
      iv: expect.closeTo(1.0673, 12),
    });
    for (const d of iv) expect(DatumSchema.safeParse(d).success).toBe(true);
  });

  it("DVOL rejects a bad header, a high below the low and a repeated day", () => {
    const h = "date_utc,dvol_open,dvol_high,dvol_low,dvol_close";
    expectCsvError(() => parseDvolCsv("date,open,high,low,close\n2021-01-01,1,2,1,2\n"), 1, "unknownHeader");
    expectCsvError(() => parseDvolCsv(`${h}\n2021-01-01,1,2,1,2\n2021-01-02,1,1,2,2\n`), 3, "highBelowLow");
    expectCsvError(() => parseDvolCsv(`${h}\n2021-01-01,1,2,1,2\n2021-01-01,1,2,1,2\n`), 3, "nonMonotonic");
    expectCsvError(() => parseDvolCsv(`${h}\n2021-01-01 00:00:00,1,2,1,2\n`), 2, "badTime");
    expectCsvError(() => parseDvolCsv(`${h}\n2021-01-01,1,2,x,2\n`), 2, "badValue");
  });

  it("Binance BTC 8h funding: UTC, per-hour rate = rate / 8", async () => {
    const f = await readFundingCsv(join(DATA, "funding/binance_BTCUSDT_8h_2019-2026.csv"));
    expect(f.data.length).toBe(7_028);
    expect(f.intervalMs).toBe(8 * H);
    expect(f.data[0]).toEqual({
      kind: "funding",
      underlying: "BTC",
      source: "binance-perp",
      eventTime: Date.UTC(2019, 8, 10, 8),
      receiveTime: Date.UTC(2019, 8, 10, 8),
      ratePerHour: 0.0001 / 8,
      intervalMs: 8 * H,
    });
    expect(f.data.at(-1)?.ratePerHour).toBeCloseTo(-2.907e-5 / 8, 15);
    expect(f.data.at(-1)?.eventTime).toBe(Date.UTC(2026, 1, 7, 16, 0, 0, 10));
  });

  it("Binance ETH 8h funding in UTC+3: three hours subtracted, funding lands on 00/08/16 UTC", async () => {
    const path = join(DATA, "funding/binance_ETHUSDT_8h_2020-2023_utc+3.csv");
    expect(fundingOptionsForFile(path)).toEqual({
      source: "binance-perp",
      underlying: "ETH",
      utcOffsetHours: 3,
    });
    const f = await readFundingCsv(path);
    expect(f.data.length).toBe(4_383);
    expect(f.data[0]?.eventTime).toBe(Date.UTC(2020, 0, 1, 0));
    expect(f.data[0]?.ratePerHour).toBeCloseTo(0.0001 / 8, 15);
    const onSchedule = f.data.filter((d) => new Date(d.eventTime).getUTCHours() % 8 === 0).length;
    expect(onSchedule).toBe(f.data.length);
  });

  it("dYdX hourly funding for both underlyings: rate is already per hour", async () => {
    const eth = await readFundingCsv(join(DATA, "funding/dydx_ETH-USD_1h_2022-2023.csv"));
    const btc = await readFundingCsv(join(DATA, "funding/dydx_BTC-USD_1h_2022-2023.csv"));
    expect(eth.data.length).toBe(17_520);
    expect(btc.data.length).toBe(17_520);
    expect(eth.intervalMs).toBe(H);
    expect(eth.data[0]).toMatchObject({
      underlying: "ETH",
      source: "dydx-perp",
      eventTime: Date.UTC(2022, 0, 1),
      ratePerHour: 0.0000252879,
    });
    expect(btc.data[0]).toMatchObject({ underlying: "BTC", source: "dydx-perp", ratePerHour: 0.0000058615 });
    expect(eth.gaps.missingCount).toBe(0);
  });

  it("funding rejects a wrong symbol, a wrong header, a non-numeric rate and a missing underlying", () => {
    const h = "Symbol,Date,Funding Rate";
    expectCsvError(
      () =>
        parseFundingCsv(`${h}\nETH-USDT,2022-01-01 00:00:00,0.0001\nSOL-USDT,2022-01-01 01:00:00,0.0001\n`, {
          source: "x",
        }),
      3,
      "badSymbol",
    );
    expectCsvError(
      () =>
        parseFundingCsv(`${h}\nBTC-USDT,2022-01-01 00:00:00,0.0001\n`, { source: "x", underlying: "ETH" }),
      2,
      "badSymbol",
    );
    expectCsvError(() => parseFundingCsv("time,rate\n", { source: "x" }), 1, "unknownHeader");
    expectCsvError(
      () => parseFundingCsv("timestamp,funding_rate\n2022-01-01 00:00:00,0.1\n", { source: "x" }),
      1,
      "unknownHeader",
    );
    expectCsvError(
      () => parseFundingCsv(`${h}\nETH-USDT,2022-01-01 00:00:00,abc\n`, { source: "x" }),
      2,
      "badValue",
    );
    expectCsvError(
      () =>
        parseFundingCsv(`${h}\nETH-USDT,2022-01-01 01:00:00,0.1\nETH-USDT,2022-01-01 00:00:00,0.1\n`, {
          source: "x",
        }),
      3,
      "nonMonotonic",
    );
  });

  it("ETF flows: four summary rows dropped, 512 days, thousands separators, end-of-day stamps", async () => {
    const f = await readEtfFlowsCsv(join(DATA, "flows/btc_etf_total_daily_2024-01_2026-01.csv"));
    expect(f.summaryRows).toEqual(["Total", "Average", "Maximum", "Minimum"]);
    expect(f.data.length).toBe(512);
    expect(f.noDataDays).toEqual([]);
    expect(f.data[0]).toEqual({
      kind: "etfFlow",
      underlying: "BTC",
      source: "etf-flows-csv",
      eventTime: Date.UTC(2024, 0, 12),
      receiveTime: Date.UTC(2024, 0, 12),
      netFlowUsd: 655.3e6,
    });
    const flows = f.data.map((d) => d.netFlowUsd / 1e6);
    // The file's own summary rows, recomputed from the parsed days.
    expect(Math.max(...flows)).toBeCloseTo(1373.8, 6);
    expect(Math.min(...flows)).toBeCloseTo(-1113.7, 6);
    expect(flows.reduce((a, b) => a + b, 0)).toBeCloseTo(56_594.2, 3);
    expect(f.data.at(-1)?.eventTime).toBe(Date.UTC(2026, 0, 3));
  });

  it("ETF flows: dated row after a summary row, bad date, bad number, '-' days, parenthesised outflows", () => {
    expectCsvError(
      () => parseEtfFlowsCsv("Date,Total\n11 Jan 2024,1\nTotal,1\n12 Jan 2024,2\n", { source: "x" }),
      4,
      "rowAfterSummary",
    );
    expectCsvError(() => parseEtfFlowsCsv("Date,Total\n2024/01/11,1\n", { source: "x" }), 2, "badTime");
    expectCsvError(() => parseEtfFlowsCsv("Date,Total\n11 Jan 2024,1.2.3\n", { source: "x" }), 2, "badValue");
    expectCsvError(
      () => parseEtfFlowsCsv("Date,Total\n12 Jan 2024,1\n11 Jan 2024,1\n", { source: "x" }),
      3,
      "nonMonotonic",
    );
    expectCsvError(() => parseEtfFlowsCsv("Fecha,Total\n", { source: "x" }), 1, "unknownHeader");
    const f = parseEtfFlowsCsv('Date,IBIT\n11 Jan 2024,(95.1)\n12 Jan 2024,-\n15 Jan 2024,"1,000"\n', {
      source: "farside",
      underlying: "BTC",
    });
    expect(f.data.map((d) => d.netFlowUsd)).toEqual([-95.1e6, 1000e6]);
    expect(f.noDataDays).toEqual([Date.UTC(2024, 0, 12)]);
  });
});

describe("mergeByReceiveTime", () => {
  it("merges sorted streams into one sorted stream, stable on ties", () => {
    const mk = (source: string, times: number[]) =>
      times.map((t) => ({
        kind: "spot" as const,
        underlying: "ETH" as const,
        source,
        eventTime: t,
        receiveTime: t,
        price: 1,
      }));
    const merged = [...mergeByReceiveTime([mk("a", [1, 4, 4, 9]), mk("b", [2, 4, 10]), mk("c", [])])];
    expect(merged.map((d) => `${d.source}${d.receiveTime}`)).toEqual([
      "a1",
      "b2",
      "a4",
      "a4",
      "b4",
      "a9",
      "b10",
    ]);
  });
});
