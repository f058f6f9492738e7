import { describe, expect, it } from "vitest";
import {
  DatumSchema,
  ProviderDatumSchema,
  applyData,
  fromProvider,
  snapshotData,
  snapshotKey,
  type Datum,
  type MarketSnapshot,
} from "./types.ts";

const spot = (
  source: string,
  eventTime: number,
  price: number,
  receiveTime = eventTime + 1,
): Datum<"spot"> => ({
  kind: "spot",
  underlying: "ETH",
  source,
  eventTime,
  receiveTime,
  price,
});
const iv = (eventTime: number, strike: number, v = 0.6): Datum<"ivPoint"> => ({
  kind: "ivPoint",
  underlying: "ETH",
  source: "deribit",
  eventTime,
  receiveTime: eventTime,
  expiry: eventTime + 7 * 86_400_000,
  strike,
  iv: v,
});

describe("DatumSchema", () => {
  it("accepts each kind and rejects bad values with a field path", () => {
    const good: Datum[] = [
      spot("a", 1, 3000),
      iv(1, 3000),
      {
        kind: "funding",
        underlying: "BTC",
        source: "p",
        eventTime: 1,
        receiveTime: 2,
        ratePerHour: -1e-5,
        intervalMs: 3_600_000,
      },
      { kind: "etfFlow", underlying: "BTC", source: "e", eventTime: 1, receiveTime: 2, netFlowUsd: -1e8 },
    ];
    for (const d of good) expect(DatumSchema.parse(d)).toEqual(d);
    const bad: [unknown, string][] = [
      [{ ...spot("a", 1, 3000), price: 0 }, "price"],
      [{ ...spot("a", 1, 3000), price: Number.NaN }, "price"],
      [{ ...spot("a", 1, 3000), price: Number.POSITIVE_INFINITY }, "price"],
      [{ ...spot("a", 1, 3000), underlying: "SOL" }, "underlying"],
      [{ ...spot("a", 1, 3000), source: "" }, "source"],
      [{ ...spot("a", 1, 3000), eventTime: 1.5 }, "eventTime"],
      [{ ...spot("a", 1, 3000), receiveTime: -1 }, "receiveTime"],
      [{ ...spot("a", 1, 3000), extra: 1 }, ""],
      [{ ...iv(1, 3000), iv: -0.1 }, "iv"],
      [{ ...iv(1, 3000), mark: -1 }, "mark"],
      [
        {
          kind: "funding",
          underlying: "BTC",
          source: "p",
          eventTime: 1,
          receiveTime: 2,
          ratePerHour: 0,
          intervalMs: 0,
        },
        "intervalMs",
      ],
      [{ kind: "weather", underlying: "BTC" }, "kind"],
    ];
    for (const [x, path] of bad) {
      const r = DatumSchema.safeParse(x);
      expect(r.success, JSON.stringify(x)).toBe(false);
      if (!r.success) expect(r.error.issues[0]?.path.join(".")).toBe(path);
    }
  });
});

describe("snapshot", () => {
  it("keeps the latest datum per (kind, underlying, source), ignoring late arrivals", () => {
    let s: MarketSnapshot = {};
    s = applyData(s, [spot("a", 10, 100), spot("b", 10, 101), spot("a", 20, 102), spot("a", 15, 99)]);
    expect(snapshotData(s, "spot").map((d) => [d.source, d.price])).toEqual([
      ["a", 102],
      ["b", 101],
    ]);
    // same eventTime: the later receive wins
    s = applyData(s, [spot("b", 10, 105, 50)]);
    expect(s[snapshotKey(spot("b", 0, 1))]).toMatchObject({ price: 105 });
    expect(snapshotData(s, "spot", "BTC")).toEqual([]);
  });

  it("holds the latest IV surface per source: newer points replace older surfaces, older points are ignored", () => {
    let s: MarketSnapshot = applyData({}, [iv(10, 2900), iv(10, 3000), iv(10, 3100)]);
    expect(snapshotData(s, "ivPoint").length).toBe(3);
    s = applyData(s, [iv(20, 3000, 0.7), iv(20, 3200, 0.7)]);
    expect(snapshotData(s, "ivPoint").map((d) => [d.strike, d.eventTime])).toEqual([
      [3000, 20],
      [3200, 20],
    ]);
    s = applyData(s, [iv(15, 2800)]);
    expect(snapshotData(s, "ivPoint").map((d) => d.strike)).toEqual([3000, 3200]);
    expect(snapshotKey(iv(1, 3000))).toBe(`ivPoint|ETH|deribit|${1 + 7 * 86_400_000}|3000`);
  });

  it("does not mutate its input", () => {
    const s0: MarketSnapshot = applyData({}, [spot("a", 1, 1)]);
    const copy = JSON.stringify(s0);
    applyData(s0, [spot("a", 2, 2)]);
    expect(JSON.stringify(s0)).toBe(copy);
  });
});

describe("ProviderDatumSchema (HTTP feed payload items)", () => {
  const items = [
    { kind: "spot", underlying: "ETH", eventTime: 1, price: 3000 },
    { kind: "ivPoint", underlying: "BTC", eventTime: 1, expiry: 2, strike: 60_000, iv: 0.5, mark: 10 },
    { kind: "funding", underlying: "ETH", eventTime: 1, ratePerHour: -1e-5, intervalMs: 28_800_000 },
    { kind: "etfFlow", underlying: "BTC", eventTime: 1, netFlowUsd: -2.5e8 },
  ];

  it("accepts every kind; the feed's source and receive time make it a Datum", () => {
    for (const it of items) {
      const p = ProviderDatumSchema.parse(it);
      const d = fromProvider(p, "cex", 5);
      expect(DatumSchema.parse(d)).toEqual({ ...it, source: "cex", receiveTime: 5 });
    }
  });

  it("is strict and checks each kind's fields, naming the failing path", () => {
    const path = (x: unknown) => ProviderDatumSchema.safeParse(x).error?.issues[0]?.path.join(".");
    expect(path({ ...items[0], source: "x" })).toBe("");
    expect(path({ ...items[0], receiveTime: 1 })).toBe("");
    expect(path({ ...items[0], price: "high" })).toBe("price");
    expect(path({ ...items[1], iv: 0 })).toBe("iv");
    expect(path({ ...items[2], intervalMs: 1.5 })).toBe("intervalMs");
    expect(path({ ...items[3], netFlowUsd: Number.NaN })).toBe("netFlowUsd");
    expect(path({ ...items[3], kind: "options" })).toBe("kind");
    expect(path({ ...items[3], underlying: "SOL" })).toBe("underlying");
  });
});
