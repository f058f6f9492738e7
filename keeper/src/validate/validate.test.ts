import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ZodError } from "zod";
import { DEFAULT_POLICY, parsePolicy, validateSnapshot, type ValidationPolicy } from "./index.ts";
import {
  DatumSchema,
  UNDERLYINGS,
  applyData,
  snapshotKey,
  type Datum,
  type MarketSnapshot,
  type Underlying,
} from "../feeds/types.ts";
import { simulateMarket } from "../feeds/simulated.ts";

const NOW = Date.UTC(2025, 5, 1, 12);
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

const spot = (underlying: Underlying, source: string, price: number, age = 1 * S): Datum<"spot"> => ({
  kind: "spot",
  underlying,
  source,
  eventTime: NOW - age,
  receiveTime: NOW - age + 100,
  price,
});
const iv = (underlying: Underlying, strike: number, age = 1 * MIN, ivv = 0.6): Datum<"ivPoint"> => ({
  kind: "ivPoint",
  underlying,
  source: "deribit",
  eventTime: NOW - age,
  receiveTime: NOW - age + 100,
  expiry: NOW + 7 * D,
  strike,
  iv: ivv,
});
const funding = (underlying: Underlying, age = 10 * MIN, rate = 1e-5): Datum<"funding"> => ({
  kind: "funding",
  underlying,
  source: "perp",
  eventTime: NOW - age,
  receiveTime: NOW - age + 100,
  ratePerHour: rate,
  intervalMs: H,
});
const flow = (underlying: Underlying, age = 12 * H, usd = 1e8): Datum<"etfFlow"> => ({
  kind: "etfFlow",
  underlying,
  source: "etf",
  eventTime: NOW - age,
  receiveTime: NOW - age + 100,
  netFlowUsd: usd,
});

const goodData = (): Datum[] => [
  spot("ETH", "a", 3000),
  spot("ETH", "b", 3001),
  spot("BTC", "a", 60000),
  spot("BTC", "b", 60010),
  iv("ETH", 3000),
  iv("ETH", 3200),
  iv("BTC", 60000),
  funding("ETH"),
  funding("BTC"),
  flow("ETH"),
  flow("BTC"),
];
const snap = (data: Datum[]): MarketSnapshot => applyData({}, data);
const replace = (data: Datum[], d: Datum): Datum[] => [
  ...data.filter((x) => snapshotKey(x) !== snapshotKey(d)),
  d,
];

describe("validateSnapshot: the happy path", () => {
  it("all fresh and consistent → both usable, no alerts, median spot", () => {
    const r = validateSnapshot(snap(goodData()), DEFAULT_POLICY, NOW);
    expect(r.alerts).toEqual([]);
    expect(r.reasons).toEqual([]);
    expect(r.usable).toEqual({ ETH: true, BTC: true });
    expect(r.spot).toEqual({ ETH: 3000.5, BTC: 60005 });
    expect(Object.keys(r.accepted).length).toBe(goodData().length);
  });
});

describe("freshness SLA per kind", () => {
  const cases: [string, (age: number) => Datum, number][] = [
    ["spot", (age) => spot("ETH", "a", 3000, age), 60 * S],
    ["ivPoint", (age) => iv("ETH", 3000, age), 15 * MIN],
    ["funding", (age) => funding("ETH", age), 2 * H],
    ["etfFlow", (age) => flow("ETH", age), 5 * D],
  ];
  for (const [kind, make, sla] of cases) {
    it(`${kind}: age ${sla} ms is fresh, ${sla + 1} ms is stale → ETH stands down, BTC unaffected`, () => {
      // drop the other ETH data of this kind (a newer IV surface would otherwise supersede the point)
      const others = goodData().filter((d) => !(d.kind === kind && d.underlying === "ETH"));
      const ok = validateSnapshot(snap([...others, make(sla)]), DEFAULT_POLICY, NOW);
      expect(ok.usable).toEqual({ ETH: true, BTC: true });
      const bad = validateSnapshot(snap([...others, make(sla + 1)]), DEFAULT_POLICY, NOW);
      expect(bad.usable).toEqual({ ETH: false, BTC: true });
      expect(bad.alerts).toHaveLength(1);
      expect(bad.alerts[0]).toMatchObject({ underlying: "ETH", kind, reason: "stale" });
      expect(bad.alerts[0]?.detail).toContain(`${sla + 1} ms > ${sla} ms`);
      expect(bad.reasons[0]).toMatch(new RegExp(`^ETH ${kind} stale: `));
      expect(bad.spot.ETH).toBeUndefined();
      expect(bad.spot.BTC).toBe(60005);
    });
  }

  it("SLAs and per-source overrides are configurable", () => {
    const data = replace(goodData(), funding("BTC", 5 * H));
    expect(validateSnapshot(snap(data), DEFAULT_POLICY, NOW).usable.BTC).toBe(false);
    expect(validateSnapshot(snap(data), parsePolicy({ maxAgeMs: { funding: 6 * H } }), NOW).usable.BTC).toBe(
      true,
    );
    expect(
      validateSnapshot(snap(data), parsePolicy({ sourceMaxAgeMs: { perp: 9 * H } }), NOW).usable.BTC,
    ).toBe(true);
    expect(
      validateSnapshot(snap(data), parsePolicy({ sourceMaxAgeMs: { other: 9 * H } }), NOW).usable.BTC,
    ).toBe(false);
  });
});

describe("cross-source deviation", () => {
  it("spot sources within maxDeviationBps pass; beyond it the underlying stands down", () => {
    const within = replace(goodData(), spot("ETH", "b", 3000 * 1.0049));
    expect(validateSnapshot(snap(within), DEFAULT_POLICY, NOW).usable.ETH).toBe(true);
    const beyond = replace(goodData(), spot("ETH", "b", 3000 * 1.0051));
    const r = validateSnapshot(snap(beyond), DEFAULT_POLICY, NOW);
    expect(r.usable).toEqual({ ETH: false, BTC: true });
    expect(r.alerts).toEqual([
      {
        underlying: "ETH",
        kind: "spot",
        reason: "deviation",
        detail: expect.stringMatching(/^b 3015\.3 vs a 3000: 51\.0 bps > 50 bps$/),
      },
    ]);
    expect(validateSnapshot(snap(beyond), parsePolicy({ maxDeviationBps: 60 }), NOW).usable.ETH).toBe(true);
  });

  it("three sources: the widest pair decides", () => {
    const data = [...goodData(), spot("BTC", "c", 60000 * 0.994)];
    const r = validateSnapshot(snap(data), DEFAULT_POLICY, NOW);
    expect(r.usable.BTC).toBe(false);
    expect(r.alerts[0]?.detail).toContain("b 60010 vs c 59640");
  });

  it("a single spot source has nothing to deviate from", () => {
    const data = goodData().filter((d) => !(d.kind === "spot" && d.source === "b"));
    expect(validateSnapshot(snap(data), DEFAULT_POLICY, NOW).usable).toEqual({ ETH: true, BTC: true });
  });
});

describe("time consistency", () => {
  it("eventTime in the future beyond the skew allowance → futureEvent", () => {
    const within = replace(goodData(), {
      ...spot("BTC", "a", 60000),
      eventTime: NOW + 5 * S,
      receiveTime: NOW + 5 * S,
    });
    expect(validateSnapshot(snap(within), DEFAULT_POLICY, NOW).usable.BTC).toBe(true);
    const beyond = replace(goodData(), {
      ...spot("BTC", "a", 60000),
      eventTime: NOW + 5 * S + 1,
      receiveTime: NOW + 5 * S,
    });
    const r = validateSnapshot(snap(beyond), DEFAULT_POLICY, NOW);
    expect(r.usable).toEqual({ ETH: true, BTC: false });
    expect(r.alerts.map((a) => a.reason)).toEqual(["futureEvent"]);
  });

  it("receiveTime ahead of now, or well before eventTime → clockInconsistent", () => {
    const ahead = replace(goodData(), { ...funding("ETH"), receiveTime: NOW + 60 * S });
    expect(validateSnapshot(snap(ahead), DEFAULT_POLICY, NOW).alerts.map((a) => a.reason)).toEqual([
      "clockInconsistent",
    ]);
    const before = replace(goodData(), { ...funding("ETH"), receiveTime: NOW - 10 * MIN - 6 * S });
    const r = validateSnapshot(snap(before), DEFAULT_POLICY, NOW);
    expect(r.usable.ETH).toBe(false);
    expect(r.alerts[0]).toMatchObject({
      underlying: "ETH",
      kind: "funding",
      reason: "clockInconsistent",
      source: "perp",
    });
  });

  it("a non-finite `now` fails closed for everything", () => {
    for (const now of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const r = validateSnapshot(snap(goodData()), DEFAULT_POLICY, now);
      expect(r.usable).toEqual({ ETH: false, BTC: false });
      expect(r.alerts[0]).toMatchObject({ underlying: "*", reason: "clockInconsistent" });
    }
  });
});

describe("bad values", () => {
  const badSpots: [string, unknown][] = [
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["zero", 0],
    ["negative", -3000],
    ["string", "3000"],
    ["null", null],
  ];
  for (const [name, price] of badSpots) {
    it(`spot price ${name} → malformed, ETH stands down`, () => {
      const s: Record<string, unknown> = { ...snap(goodData()) };
      const key = snapshotKey(spot("ETH", "a", 1));
      s[key] = { ...spot("ETH", "a", 1), price };
      const r = validateSnapshot(s, DEFAULT_POLICY, NOW);
      expect(r.usable).toEqual({ ETH: false, BTC: true });
      expect(r.alerts).toEqual([
        {
          underlying: "ETH",
          kind: "spot",
          reason: "malformed",
          detail: expect.stringContaining(`${key}: price:`),
          key,
        },
      ]);
      expect(r.accepted[key]).toBeUndefined();
    });
  }

  it("IV outside bounds, expired options, absurd funding and ETF flows → outOfBounds", () => {
    const cases: [Datum, Underlying][] = [
      [iv("ETH", 3000, MIN, 6), "ETH"],
      [iv("ETH", 3000, MIN, 0.005), "ETH"],
      [{ ...iv("BTC", 60000), expiry: NOW }, "BTC"],
      [funding("BTC", MIN, 0.02), "BTC"],
      [funding("ETH", MIN, -0.011), "ETH"],
      [flow("BTC", H, 6e10), "BTC"],
    ];
    for (const [d, u] of cases) {
      const r = validateSnapshot(snap(replace(goodData(), d)), DEFAULT_POLICY, NOW);
      expect(r.usable[u], JSON.stringify(d)).toBe(false);
      expect(r.alerts.map((a) => a.reason)).toEqual(["outOfBounds"]);
    }
  });

  it("an entry whose underlying cannot be read stands down every underlying", () => {
    const s = { ...snap(goodData()), junk: { kind: "spot", price: 1 } };
    const r = validateSnapshot(s, DEFAULT_POLICY, NOW);
    expect(r.usable).toEqual({ ETH: false, BTC: false });
    expect(r.alerts).toEqual([
      {
        underlying: "*",
        kind: "spot",
        reason: "malformed",
        detail: expect.stringContaining("junk: underlying"),
        key: "junk",
      },
    ]);
  });

  it("a key that does not match its datum is malformed", () => {
    const s = { ...snap(goodData()), "spot|ETH|zzz": spot("ETH", "a", 3000) };
    const r = validateSnapshot(s, DEFAULT_POLICY, NOW);
    expect(r.usable).toEqual({ ETH: false, BTC: true });
    expect(r.alerts[0]).toMatchObject({ reason: "malformed", key: "spot|ETH|zzz" });
  });

  it("a snapshot that is not an object stands everything down", () => {
    for (const x of [null, undefined, 42, "snapshot", [spot("ETH", "a", 1)], true]) {
      const r = validateSnapshot(x, DEFAULT_POLICY, NOW);
      expect(r.usable).toEqual({ ETH: false, BTC: false });
      expect(r.alerts).toHaveLength(1);
      expect(r.alerts[0]).toMatchObject({ underlying: "*", kind: "snapshot", reason: "malformedSnapshot" });
    }
  });
});

describe("required kinds and traded underlyings", () => {
  it("a missing required kind stands down; optional kinds may be absent but not stale", () => {
    const noIv = goodData().filter((d) => !(d.kind === "ivPoint" && d.underlying === "BTC"));
    const r = validateSnapshot(snap(noIv), DEFAULT_POLICY, NOW);
    expect(r.usable).toEqual({ ETH: true, BTC: false });
    expect(r.alerts).toEqual([
      { underlying: "BTC", kind: "ivPoint", reason: "missing", detail: "no ivPoint data (required)" },
    ]);
    const relaxed = parsePolicy({ required: { BTC: ["spot"] } });
    expect(validateSnapshot(snap(noIv), relaxed, NOW).usable.BTC).toBe(true);
    const noFlows = goodData().filter((d) => d.kind !== "etfFlow");
    expect(validateSnapshot(snap(noFlows), DEFAULT_POLICY, NOW).usable).toEqual({ ETH: true, BTC: true });
    const strict = parsePolicy({ required: { ETH: ["spot", "ivPoint", "funding", "etfFlow"] } });
    expect(
      validateSnapshot(snap(noFlows), strict, NOW).alerts.map((a) => `${a.underlying} ${a.kind} ${a.reason}`),
    ).toEqual(["ETH etfFlow missing"]);
    const empty = validateSnapshot({}, DEFAULT_POLICY, NOW);
    expect(empty.usable).toEqual({ ETH: false, BTC: false });
    expect(empty.alerts.length).toBe(4);
  });

  it("only traded underlyings are judged; others are never usable and their data is ignored", () => {
    const policy = parsePolicy({ underlyings: ["ETH"] });
    const s = { ...snap(goodData()), bad: { ...spot("BTC", "x", 1), price: -1 } };
    const r = validateSnapshot(s, policy, NOW);
    expect(r.usable).toEqual({ ETH: true, BTC: false });
    expect(r.alerts).toEqual([]);
    expect(Object.values(r.accepted).every((d) => d.underlying === "ETH")).toBe(true);
  });
});

describe("policy", () => {
  it("defaults match the documented SLAs; invalid policies are rejected", () => {
    expect(DEFAULT_POLICY.maxAgeMs).toEqual({
      spot: 60_000,
      ivPoint: 900_000,
      funding: 7_200_000,
      etfFlow: 432_000_000,
    });
    expect(DEFAULT_POLICY.maxDeviationBps).toBe(50);
    expect(() => parsePolicy({ maxDeviationBps: -1 })).toThrow(ZodError);
    expect(() => parsePolicy({ maxAgeMs: { spot: -5 } })).toThrow(ZodError);
    expect(() => parsePolicy({ underlyings: [] })).toThrow(ZodError);
    expect(() => parsePolicy({ required: { ETH: ["weather" as "spot"] } })).toThrow(ZodError);
  });
});

describe("properties (fast-check)", () => {
  const policy: ValidationPolicy = DEFAULT_POLICY;

  /** Independent oracle: does this raw entry pass every per-datum rule? */
  const entryOk = (key: string, raw: unknown): boolean => {
    const p = DatumSchema.safeParse(raw);
    if (!p.success) return false;
    const d = p.data;
    if (snapshotKey(d) !== key) return false;
    if (NOW - d.eventTime > policy.maxAgeMs[d.kind] || d.eventTime > NOW + policy.clockSkewMs) return false;
    if (d.receiveTime > NOW + policy.clockSkewMs || d.receiveTime < d.eventTime - policy.clockSkewMs)
      return false;
    if (d.kind === "ivPoint" && (d.iv < 0.01 || d.iv > 5 || d.expiry <= NOW)) return false;
    if (d.kind === "funding" && Math.abs(d.ratePerHour) > 0.01) return false;
    if (d.kind === "etfFlow" && Math.abs(d.netFlowUsd) > 50e9) return false;
    return true;
  };
  const underlyingOf = (raw: unknown): Underlying | "*" => {
    const u =
      typeof raw === "object" && raw !== null ? (raw as { underlying?: unknown }).underlying : undefined;
    return u === "ETH" || u === "BTC" ? u : "*";
  };
  const checkNeverUsableWithBadData = (s: unknown) => {
    const r = validateSnapshot(s, policy, NOW);
    expect(typeof r.usable.ETH).toBe("boolean");
    expect(typeof r.usable.BTC).toBe("boolean");
    expect(r.reasons.length).toBe(r.alerts.length);
    if (typeof s !== "object" || s === null || Array.isArray(s)) {
      expect(r.usable).toEqual({ ETH: false, BTC: false });
      return;
    }
    for (const [key, raw] of Object.entries(s as Record<string, unknown>)) {
      if (entryOk(key, raw)) continue;
      const u = underlyingOf(raw);
      for (const v of UNDERLYINGS)
        if (u === "*" || u === v) expect(r.usable[v], `${key} ${JSON.stringify(raw)}`).toBe(false);
    }
    for (const v of UNDERLYINGS) {
      if (!r.usable[v]) continue;
      const spots = Object.values(r.accepted).filter(
        (d): d is Datum<"spot"> => d.kind === "spot" && d.underlying === v,
      );
      expect(spots.length).toBeGreaterThan(0);
      const ps = spots.map((d) => d.price);
      expect((Math.max(...ps) / Math.min(...ps) - 1) * 1e4).toBeLessThanOrEqual(policy.maxDeviationBps);
    }
  };

  it("random JSON as the snapshot: never throws, never usable", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (x) => {
        const r = validateSnapshot(x, policy, NOW);
        expect(r.usable).toEqual({ ETH: false, BTC: false });
        expect(r.alerts.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it("a good snapshot plus random JSON entries: never throws, bad entries never end up usable", () => {
    const rawEntry = fc.oneof(
      fc.jsonValue(),
      fc.record({
        kind: fc.constantFrom("spot", "ivPoint", "funding", "etfFlow", "x"),
        underlying: fc.constantFrom("ETH", "BTC", "SOL"),
        price: fc.jsonValue(),
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), rawEntry, { maxKeys: 4 }), (extra) => {
        checkNeverUsableWithBadData({ ...snap(goodData()), ...extra });
      }),
      { numRuns: 300 },
    );
  });

  it("a good datum with one field corrupted stands its underlying down", () => {
    const badValue = fc.oneof(
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
      fc.constant(Number.NEGATIVE_INFINITY),
      fc.constant(-1),
      fc.constant(0),
      fc.constant(null),
      fc.constant(undefined),
      fc.string(),
      fc.double({ min: -1e30, max: -1e-300 }),
      fc.constant(1e300),
      fc.constant({}),
    );
    const all = goodData();
    fc.assert(
      fc.property(
        fc.nat({ max: all.length - 1 }),
        fc.string({ maxLength: 12 }),
        badValue,
        (i, fieldSeed, value) => {
          const d = all[i] as Datum;
          const fields = Object.keys(d).filter(
            (f) => f !== "kind" && f !== "underlying" && f !== "source" && f !== "intervalMs",
          );
          const field = fields[fieldSeed.length % fields.length] as string;
          const mutated = { ...d, [field]: value };
          const s: Record<string, unknown> = { ...snap(all) };
          s[snapshotKey(d)] = mutated;
          const r = validateSnapshot(s, policy, NOW);
          if (!entryOk(snapshotKey(d), mutated)) {
            expect(r.usable[d.underlying], `${field}=${String(value)}`).toBe(false);
            expect(r.alerts.some((a) => a.underlying === d.underlying)).toBe(true);
          }
          checkNeverUsableWithBadData(s);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("random well-typed data at random ages and prices: usable ⇔ every rule holds", () => {
    const datum = fc.oneof(
      fc.record({
        kind: fc.constant("spot" as const),
        underlying: fc.constantFrom("ETH" as const, "BTC" as const),
        source: fc.constantFrom("a", "b", "c"),
        age: fc.integer({ min: -20 * S, max: 3 * MIN }),
        price: fc.double({ min: 2990, max: 3010, noNaN: true }),
      }),
      fc.record({
        kind: fc.constant("ivPoint" as const),
        underlying: fc.constantFrom("ETH" as const, "BTC" as const),
        source: fc.constant("d"),
        age: fc.integer({ min: 0, max: 30 * MIN }),
        price: fc.double({ min: 0.001, max: 8, noNaN: true }),
      }),
    );
    fc.assert(
      fc.property(fc.array(datum, { maxLength: 8 }), (items) => {
        const data: Datum[] = items.map((x) =>
          x.kind === "spot"
            ? {
                kind: "spot",
                underlying: x.underlying,
                source: x.source,
                eventTime: NOW - x.age,
                receiveTime: Math.max(NOW - x.age, NOW - 3 * MIN),
                price: x.price,
              }
            : {
                kind: "ivPoint",
                underlying: x.underlying,
                source: x.source,
                eventTime: NOW - x.age,
                receiveTime: NOW - x.age,
                expiry: NOW + D,
                strike: 3000,
                iv: x.price,
              },
        );
        const s = snap(data);
        checkNeverUsableWithBadData(s);
        const r = validateSnapshot(s, policy, NOW);
        for (const u of UNDERLYINGS) {
          const mine = Object.entries(s).filter(([, d]) => d.underlying === u);
          const spots = mine.filter(([, d]) => d.kind === "spot").map(([, d]) => (d as Datum<"spot">).price);
          const expectUsable =
            mine.every(([k, d]) => entryOk(k, d)) &&
            spots.length > 0 &&
            mine.some(([, d]) => d.kind === "ivPoint") &&
            (Math.max(...spots) / Math.min(...spots) - 1) * 1e4 <= policy.maxDeviationBps;
          expect(r.usable[u]).toBe(expectUsable);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("with the simulated market", () => {
  it("stands down exactly while a spot source is frozen or off, and trades through a crash", () => {
    const start = Date.UTC(2025, 0, 1);
    const freeze = { from: start + 30 * MIN, to: start + 45 * MIN };
    const offset = { from: start + 90 * MIN, to: start + 100 * MIN };
    const crashAt = start + 150 * MIN;
    let s: MarketSnapshot = {};
    const down: number[] = [];
    const reasons = new Set<string>();
    for (const tick of simulateMarket({
      seed: 4,
      startTime: start,
      stepMs: MIN,
      steps: 240,
      emit: {
        spotSources: [
          { id: "a", noiseBps: 2 },
          { id: "b", noiseBps: 2 },
        ],
      },
      scenario: {
        crash: { time: crashAt },
        feedFaults: [
          { source: "a", underlying: "ETH", mode: "freeze", ...freeze },
          { source: "b", underlying: "BTC", mode: "offset", offsetBps: 120, ...offset },
        ],
      },
    })) {
      s = applyData(s, tick.data);
      const r = validateSnapshot(s, DEFAULT_POLICY, tick.time + S);
      for (const a of r.alerts) reasons.add(`${a.underlying} ${a.kind} ${a.reason}`);
      const ethDown = tick.time >= freeze.from && tick.time < freeze.to;
      const btcDown = tick.time >= offset.from && tick.time < offset.to;
      expect(r.usable, new Date(tick.time).toISOString()).toEqual({ ETH: !ethDown, BTC: !btcDown });
      if (!r.usable.ETH || !r.usable.BTC) down.push(tick.time);
      if (r.usable.ETH) expect(Math.abs((r.spot.ETH as number) / tick.spot.ETH - 1)).toBeLessThan(10e-4);
    }
    expect(down.length).toBe(25);
    expect([...reasons].sort()).toEqual(["BTC spot deviation", "ETH spot stale"]);
  });
});
