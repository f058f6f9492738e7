import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { pathFromBars } from "../backtest/path.ts";
import type { PriceBar } from "../feeds/csvReplay.ts";
import { applyData, snapshotKey, type Datum, type MarketSnapshot, type Underlying } from "../feeds/types.ts";
import { inverseNormCdf } from "../price/index.ts";
import { DEFAULT_POLICY, parsePolicy, validateSnapshot } from "../validate/index.ts";
import {
  acceptBackfill,
  atmPoint,
  DEFAULT_REGIME_FEED_OPTIONS,
  emptyRegimeHistory,
  etfFlowMomentum,
  regimeInputsFromFeeds,
  skew25,
  type RegimeFeedView,
  type RegimeHistory,
} from "./regimeInputs.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 2, 3); // a Monday, 00:00 UTC
const S = 3_000;

const flow = (
  day: number,
  netFlowUsd: number,
  source = "farside",
  receiveLag = 60_000,
): Datum<"etfFlow"> => ({
  kind: "etfFlow",
  underlying: "ETH",
  source,
  eventTime: T0 + day * DAY, // end of day `day - 1`
  receiveTime: T0 + day * DAY + receiveLag,
  netFlowUsd,
});
const point = (
  eventTime: number,
  strike: number,
  iv: number,
  o: { expiry?: number; source?: string; underlying?: Underlying } = {},
): Datum<"ivPoint"> => ({
  kind: "ivPoint",
  underlying: o.underlying ?? "ETH",
  source: o.source ?? "deribit",
  eventTime,
  receiveTime: eventTime,
  expiry: o.expiry ?? eventTime + 30 * DAY,
  strike,
  iv,
});
const funding = (eventTime: number, ratePerHour: number, source = "binance"): Datum<"funding"> => ({
  kind: "funding",
  underlying: "ETH",
  source,
  eventTime,
  receiveTime: eventTime,
  ratePerHour,
  intervalMs: 8 * HOUR,
});
const snap = (data: Datum[]): MarketSnapshot => applyData({}, data);
const view = (now: number, data: Datum[], over: Partial<RegimeFeedView> = {}): RegimeFeedView => ({
  now,
  underlyings: ["ETH", "BTC"],
  accepted: snap(data),
  spot: { ETH: S, BTC: 60_000 },
  chain: {},
  ...over,
});
const eth = (r: ReturnType<typeof regimeInputsFromFeeds>) => {
  const x = r.inputs.ETH;
  if (x === undefined) throw new Error("no ETH inputs");
  return x;
};
/** Strike whose Black–Scholes call delta (r = 0) is `delta` at vol `iv` and tenor `t` years. */
const strikeAtDelta = (delta: number, iv: number, t: number) =>
  S * Math.exp(0.5 * iv * iv * t - iv * Math.sqrt(t) * inverseNormCdf(delta));

describe("etfFlowMomentum (shared with the backtest paths)", () => {
  it("is the 5-day sum over (sample σ × √5), by hand", () => {
    // 20 days alternating +100/−100, then 5 days of −300 (millions): mean −60,
    // Σ(x − mean)² = 10·160² + 10·40² + 5·240² = 560 000, σ = √(560 000 / 24).
    const flows = [
      ...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 100 : -100)),
      ...Array(5).fill(-300),
    ];
    const expected = -1500 / (Math.sqrt(560_000 / 24) * Math.sqrt(5));
    expect(expected).toBeCloseTo(-4.39155, 5);
    expect(etfFlowMomentum(flows)).toBeCloseTo(expected, 12);
  });

  it("is NaN with fewer than 20 days, 0 when flows do not vary, and sees only the last 60 days", () => {
    expect(etfFlowMomentum(Array(19).fill(1e8))).toBeNaN();
    expect(etfFlowMomentum(Array(20).fill(1e8))).toBe(0);
    const base = Array.from({ length: 60 }, (_, i) => Math.sin(i) * 1e8);
    expect(etfFlowMomentum([...Array(30).fill(9e9), ...base])).toBe(etfFlowMomentum(base));
  });

  it("live (fresh day + history) agrees with the backtest path bar by bar", () => {
    const days = 40;
    const flows = Array.from({ length: days }, (_, d) => flow(d + 1, Math.cos(d * 1.7) * 2e8 - d * 1e7));
    const bars: PriceBar[] = Array.from({ length: days }, (_, d) => ({
      time: T0 + d * DAY,
      open: S,
      high: S,
      low: S,
      close: S,
      volume: 1,
    }));
    const path = pathFromBars(bars, "ETH", DAY, { etfFlows: flows });
    let h: RegimeHistory = emptyRegimeHistory();
    let checked = 0;
    for (let i = 0; i < days; i++) {
      const now = path.times[i] as number;
      const fresh = flows.filter((f) => f.eventTime <= now).slice(-1);
      const r = regimeInputsFromFeeds(h, view(now, fresh));
      h = r.history;
      const want = path.etfFlowMomentum[i] as number;
      const got = eth(r).etfFlowMomentum;
      if (Number.isNaN(want)) expect(got).toBeNull();
      else {
        expect(got).toBe(want);
        checked++;
      }
    }
    expect(checked).toBe(days - 19);
  });
});

describe("regimeInputsFromFeeds", () => {
  it("ETF momentum from a fresh day plus backfilled days equals the hand value; null without a fresh day", () => {
    const values = [
      ...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 1e8 : -1e8)),
      ...Array(5).fill(-3e8),
    ];
    const data = values.map((v, i) => flow(i + 1, v));
    const now = T0 + 25 * DAY + HOUR;
    const r = regimeInputsFromFeeds(
      emptyRegimeHistory(),
      view(now, data.slice(-1), { backfill: data.slice(0, -1) }),
    );
    expect(eth(r).etfFlowMomentum).toBeCloseTo(-1.5e9 / (Math.sqrt(560_000e12 / 24) * Math.sqrt(5)), 9);
    expect(r.history.ETH?.flows.map((f) => f.netFlowUsd)).toEqual(values);
    // Same history, but no fresh day in the snapshot (validate dropped it as stale): unknown.
    expect(eth(regimeInputsFromFeeds(r.history, view(now + DAY, []))).etfFlowMomentum).toBeNull();
    // 19 days only: not enough history.
    const short = regimeInputsFromFeeds(
      emptyRegimeHistory(),
      view(now, data.slice(-1), { backfill: data.slice(7, -1) }),
    );
    expect(eth(short).etfFlowMomentum).toBeNull();
  });

  it("a day's revision replaces it (newest event/receive time wins); an older revision does not", () => {
    const h0 = regimeInputsFromFeeds(emptyRegimeHistory(), view(T0 + DAY, [flow(1, 5e8)])).history;
    const h1 = regimeInputsFromFeeds(h0, view(T0 + DAY, [flow(1, 6e8, "farside", 120_000)])).history;
    expect(h1.ETH?.flows.map((f) => f.netFlowUsd)).toEqual([6e8]);
    const h2 = regimeInputsFromFeeds(
      h1,
      view(T0 + DAY, [], { backfill: [flow(1, 7e8, "farside", 30_000)] }),
    ).history;
    expect(h2.ETH?.flows.map((f) => f.netFlowUsd)).toEqual([6e8]);
  });

  it("ivLevel: the fresh point nearest the money at the expiry nearest 30 days; the chain's when no feed", () => {
    const t = T0 + 10 * DAY;
    const pts = [
      point(t, 3_000, 0.9, { expiry: t + 7 * DAY }),
      point(t, 2_900, 0.71, { expiry: t + 28 * DAY }),
      point(t, 3_050, 0.72, { expiry: t + 28 * DAY }),
      point(t, 3_400, 0.68, { expiry: t + 28 * DAY }),
      point(t, 3_000, 0.6, { expiry: t + 90 * DAY }),
    ];
    expect(atmPoint(pts, S, 30 * DAY)?.iv).toBe(0.72);
    expect(eth(regimeInputsFromFeeds(emptyRegimeHistory(), view(t, pts))).ivLevel).toBe(0.72);
    const chainOnly = regimeInputsFromFeeds(
      emptyRegimeHistory(),
      view(t, [], { chain: { ETH: { ivLevel: 0.65, fundingRate: null } } }),
    );
    expect(eth(chainOnly).ivLevel).toBe(0.65);
    expect(eth(regimeInputsFromFeeds(emptyRegimeHistory(), view(t, []))).ivLevel).toBeNull();
    // No spot (nothing validated, no oracle): the feed's points cannot be placed → chain fallback.
    const noSpot = regimeInputsFromFeeds(
      emptyRegimeHistory(),
      view(t, pts, { spot: {}, chain: { ETH: { ivLevel: 0.65, fundingRate: null } } }),
    );
    expect(eth(noSpot).ivLevel).toBe(0.65);
  });

  it("ivChange: null until a day of history, then level − the level 24 h earlier (same origin)", () => {
    let h = emptyRegimeHistory();
    const at = (t: number, v: number) => {
      const r = regimeInputsFromFeeds(h, view(t, [point(t, S, v)]));
      h = r.history;
      return eth(r);
    };
    expect(at(T0, 0.7).ivChange).toBeNull();
    expect(at(T0 + 6 * HOUR, 0.74).ivChange).toBeNull();
    expect(at(T0 + 20 * HOUR, 0.78).ivChange).toBeNull();
    const d1 = at(T0 + DAY, 0.82);
    expect(d1.ivLevel).toBe(0.82);
    expect(d1.ivChange).toBeCloseTo(0.12, 12);
    // 30 h later: the reading nearest 6 h (the 0.74 one) is the comparison.
    expect(at(T0 + 30 * HOUR, 0.8).ivChange).toBeCloseTo(0.06, 12);
    // A chain reading never compares with a feed reading.
    const chain = regimeInputsFromFeeds(
      h,
      view(T0 + 44 * HOUR, [], { chain: { ETH: { ivLevel: 0.9, fundingRate: null } } }),
    );
    expect(eth(chain).ivLevel).toBe(0.9);
    expect(eth(chain).ivChange).toBeNull();
  });

  it("ivChange at once from a backfilled surface 24 h old; chain readings compare with chain readings", () => {
    const now = T0 + 5 * DAY;
    const old = [point(now - DAY, S * 0.9, 0.8), point(now - DAY, S, 0.75), point(now - DAY, S * 1.1, 0.72)];
    const r = regimeInputsFromFeeds(
      emptyRegimeHistory(),
      view(now, [point(now, S, 0.95)], { backfill: old }),
    );
    expect(eth(r).ivChange).toBeCloseTo(0.2, 12);
    let h = emptyRegimeHistory();
    for (const [t, v] of [
      [now, 0.6],
      [now + DAY + HOUR, 0.66],
    ] as const) {
      const c = regimeInputsFromFeeds(h, view(t, [], { chain: { ETH: { ivLevel: v, fundingRate: null } } }));
      h = c.history;
      if (t > now) expect(eth(c).ivChange).toBeCloseTo(0.06, 12);
      else expect(eth(c).ivChange).toBeNull();
    }
  });

  it("skew: 25Δ put vol − 25Δ call vol from points at those deltas, interpolated in delta; null when not bracketed", () => {
    const t = T0;
    const T = 30 / 365;
    const at = (delta: number, iv: number) => point(t, strikeAtDelta(delta, iv, T), iv);
    const exact = [at(0.9, 0.9), at(0.75, 0.8), at(0.5, 0.7), at(0.25, 0.66), at(0.1, 0.64)];
    expect(skew25(exact, S)).toBeCloseTo(0.8 - 0.66, 9);
    // Only 0.9/0.6 and 0.4/0.1: linear in delta, midway → the mean of each pair.
    const sparse = [at(0.9, 0.92), at(0.6, 0.78), at(0.4, 0.7), at(0.1, 0.6)];
    expect(skew25(sparse, S)).toBeCloseTo((0.92 + 0.78) / 2 - (0.7 + 0.6) / 2, 9);
    // Points between 0.6 and 0.3 bracket neither delta.
    expect(skew25([at(0.6, 0.7), at(0.45, 0.68), at(0.3, 0.66)], S)).toBeNull();
    expect(skew25([], S)).toBeNull();
    // Through the pipeline: the ATM point's own smile (same source/expiry/time); another source's points do not mix in.
    const other = [point(t, S * 0.5, 3, { source: "okx" }), point(t, S * 2, 0.1, { source: "okx" })];
    const r = regimeInputsFromFeeds(emptyRegimeHistory(), view(t, [...exact, ...other]));
    expect(eth(r).skew).toBeCloseTo(0.14, 9);
    expect(eth(r).ivLevel).toBe(0.7);
  });

  it("funding: the newest fresh datum; the chain perp's rate otherwise", () => {
    const t = T0 + DAY;
    const data = [funding(t - 2 * HOUR, 1e-5, "a"), funding(t - HOUR, -2e-5, "b")];
    const chain = { ETH: { ivLevel: null, fundingRate: 3e-5 } };
    expect(eth(regimeInputsFromFeeds(emptyRegimeHistory(), view(t, data, { chain }))).fundingRate).toBe(
      -2e-5,
    );
    expect(eth(regimeInputsFromFeeds(emptyRegimeHistory(), view(t, [], { chain }))).fundingRate).toBe(3e-5);
  });

  it("stale data (dropped by validate) gives null inputs; the same data fresh gives values", () => {
    const values = Array.from({ length: 30 }, (_, i) => (i < 25 ? (i % 3) * 1e8 : -8e8));
    const flows = values.map((v, i) => flow(i + 1, v));
    const last = flows[flows.length - 1] as Datum<"etfFlow">;
    const t = last.eventTime;
    const T = 30 / 365;
    const smile = [0.9, 0.75, 0.5, 0.25, 0.1].map((d, k) => {
      const v = 0.7 + 0.02 * (2 - k);
      return point(t, strikeAtDelta(d, v, T), v);
    });
    const data: Datum[] = [last, ...smile, funding(t, 4e-5)];
    const run = (now: number) => {
      const v = validateSnapshot(snap(data), parsePolicy({ required: { ETH: [], BTC: [] } }), now);
      const back = acceptBackfill(flows.slice(0, -1), DEFAULT_POLICY, now);
      return eth(
        regimeInputsFromFeeds(
          emptyRegimeHistory(),
          view(now, [], { accepted: v.accepted, backfill: back.accepted }),
        ),
      );
    };
    const fresh = run(t + 60_000);
    expect(fresh.etfFlowMomentum).toBeLessThan(-1);
    expect(fresh.ivLevel).toBe(0.7);
    expect(fresh.skew).toBeCloseTo(0.72 - 0.68, 9);
    expect(fresh.fundingRate).toBe(4e-5);
    // 20 min later the IV points are stale (15 min SLA); 3 h later the funding (2 h); 6 days later the ETF day (5 days).
    const ivStale = run(t + 20 * 60_000);
    expect([ivStale.ivLevel, ivStale.skew, ivStale.etfFlowMomentum === null]).toEqual([null, null, false]);
    const fundingStale = run(t + 3 * HOUR);
    expect(fundingStale.fundingRate).toBeNull();
    expect(fundingStale.etfFlowMomentum).toBe(fresh.etfFlowMomentum);
    expect(run(t + 6 * DAY)).toEqual({
      etfFlowMomentum: null,
      ivLevel: null,
      ivChange: null,
      skew: null,
      fundingRate: null,
    });
  });

  it("memory is bounded: 60 ETF days and one IV reading per origin per 5 min within 2 days", () => {
    let h = emptyRegimeHistory();
    for (let d = 1; d <= 400; d++)
      h = regimeInputsFromFeeds(h, view(T0 + d * DAY, [flow(d, d * 1e6)])).history;
    expect(h.ETH?.flows).toHaveLength(DEFAULT_REGIME_FEED_OPTIONS.etfDays);
    expect(h.ETH?.flows[0]?.netFlowUsd).toBe(341e6);
    const start = T0 + 500 * DAY;
    for (let m = 0; m < 5 * 24 * 60; m += 1) {
      const t = start + m * 60_000;
      const chain = { ETH: { ivLevel: 0.6 + (m % 7) / 100, fundingRate: null } };
      h = regimeInputsFromFeeds(h, view(t, m % 2 === 0 ? [point(t, S, 0.7)] : [], { chain })).history;
    }
    const iv = h.ETH?.iv ?? [];
    const end = start + (5 * 24 * 60 - 1) * 60_000;
    const perOrigin = DEFAULT_REGIME_FEED_OPTIONS.ivRetentionMs / DEFAULT_REGIME_FEED_OPTIONS.ivBucketMs + 1;
    for (const origin of ["feed", "chain"] as const)
      expect(iv.filter((x) => x.origin === origin).length).toBeLessThanOrEqual(perOrigin);
    expect(iv.length).toBeGreaterThan(perOrigin); // both origins held
    expect(Math.min(...iv.map((x) => x.time))).toBeGreaterThanOrEqual(
      end - DEFAULT_REGIME_FEED_OPTIONS.ivRetentionMs,
    );
    expect(h.ETH?.flows).toHaveLength(60); // untouched by ticks without ETF data
  });

  it("does not mutate its inputs", () => {
    const h0 = regimeInputsFromFeeds(
      emptyRegimeHistory(),
      view(T0 + DAY, [flow(1, 1e8), point(T0 + DAY, S, 0.7)]),
    ).history;
    const frozen = JSON.stringify(h0);
    regimeInputsFromFeeds(h0, view(T0 + 2 * DAY, [flow(2, 2e8), point(T0 + 2 * DAY, S, 0.8)]));
    expect(JSON.stringify(h0)).toBe(frozen);
  });
});

describe("acceptBackfill", () => {
  it("keeps older ETF days and IV surfaces that pass every check but freshness; rejects bad ones with validate's reason", () => {
    const now = T0 + 50 * DAY;
    const ok = [flow(45, 1e8), point(now - DAY, S, 0.7)];
    const bad = [
      point(now - DAY, S, 9), // beyond ivMax 5
      flow(49, 1e12), // beyond ±50e9
      { ...flow(48, 1e8), receiveTime: T0 + 40 * DAY }, // received before its event
      point(now - 2 * HOUR, S, 0.7, { expiry: now - HOUR }), // expired
    ];
    const ignored = [
      flow(-100, 1e8), // older than 120 days
      point(now - 3 * DAY, S, 0.7), // older than the IV retention (2 days)
      funding(now - DAY, 1e-5), // not history
      { ...point(now - DAY, S, 0.7), underlying: "BTC" as const }, // not traded below
    ];
    const policy = parsePolicy({ underlyings: ["ETH"] });
    const r = acceptBackfill([...ok, ...bad, ...ignored], policy, now);
    expect(r.accepted).toEqual(ok);
    expect(r.rejected).toHaveLength(4);
    expect(r.rejected.join("\n")).toMatch(/iv 9 outside/);
    expect(r.rejected.join("\n")).toMatch(/ETF flow 1000000000000 USD beyond/);
    expect(r.rejected.join("\n")).toMatch(/received .* before its eventTime/);
    expect(r.rejected.join("\n")).toMatch(/expired/);
  });
});

// ---- property: never throws on any schema-valid snapshot; inputs finite or null; history bounded

const time = fc.integer({ min: T0 - 200 * DAY, max: T0 + 200 * DAY });
const datumArb: fc.Arbitrary<Datum> = fc.oneof(
  fc.record({
    kind: fc.constant("spot" as const),
    underlying: fc.constantFrom<Underlying>("ETH", "BTC"),
    source: fc.constantFrom("a", "b"),
    eventTime: time,
    receiveTime: time,
    price: fc.double({ min: Number.MIN_VALUE, max: 1e300, noNaN: true, noDefaultInfinity: true }),
  }),
  fc.record(
    {
      kind: fc.constant("ivPoint" as const),
      underlying: fc.constantFrom<Underlying>("ETH", "BTC"),
      source: fc.constantFrom("a", "b"),
      eventTime: time,
      receiveTime: time,
      expiry: fc.integer({ min: 0, max: T0 + 1_000 * DAY }),
      strike: fc.double({ min: Number.MIN_VALUE, max: 1e300, noNaN: true, noDefaultInfinity: true }),
      iv: fc.double({ min: Number.MIN_VALUE, max: 1e6, noNaN: true, noDefaultInfinity: true }),
      mark: fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }),
    },
    { requiredKeys: ["kind", "underlying", "source", "eventTime", "receiveTime", "expiry", "strike", "iv"] },
  ),
  fc.record({
    kind: fc.constant("funding" as const),
    underlying: fc.constantFrom<Underlying>("ETH", "BTC"),
    source: fc.constantFrom("a", "b"),
    eventTime: time,
    receiveTime: time,
    ratePerHour: fc.double({ noNaN: true, noDefaultInfinity: true }),
    intervalMs: fc.integer({ min: 1, max: 1e9 }),
  }),
  fc.record({
    kind: fc.constant("etfFlow" as const),
    underlying: fc.constantFrom<Underlying>("ETH", "BTC"),
    source: fc.constantFrom("a", "b"),
    eventTime: time,
    receiveTime: time,
    netFlowUsd: fc.double({ noNaN: true, noDefaultInfinity: true }),
  }),
);
const maybeNum = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null });

describe("regimeInputsFromFeeds property", () => {
  it("never throws on any valid snapshot; every input is finite or null; history stays bounded", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            now: time,
            data: fc.array(datumArb, { maxLength: 25 }),
            backfill: fc.array(datumArb, { maxLength: 25 }),
            spot: fc.option(fc.double({ noNaN: false }), { nil: undefined }),
            iv: maybeNum,
            fund: maybeNum,
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (ticks) => {
          let h = emptyRegimeHistory();
          for (const t of ticks) {
            const accepted = applyData({}, t.data);
            for (const [k, d] of Object.entries(accepted)) expect(snapshotKey(d)).toBe(k);
            const r = regimeInputsFromFeeds(h, {
              now: t.now,
              underlyings: ["ETH", "BTC"],
              accepted,
              backfill: t.backfill,
              spot: t.spot === undefined ? {} : { ETH: t.spot, BTC: t.spot },
              chain: { ETH: { ivLevel: t.iv, fundingRate: t.fund } },
            });
            h = r.history;
            for (const u of ["ETH", "BTC"] as const) {
              const x = r.inputs[u];
              expect(x).toBeDefined();
              for (const v of Object.values(x ?? {})) expect(v === null || Number.isFinite(v)).toBe(true);
              expect(h[u]?.flows.length ?? 0).toBeLessThanOrEqual(DEFAULT_REGIME_FEED_OPTIONS.etfDays);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
