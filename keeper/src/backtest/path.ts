/**
 * Market paths for the backtest: one underlying's prices at a fixed bar interval, plus what the
 * keeper would know at each bar's close — the IV used to mark options and the regime inputs
 * (IV level and change, skew, funding, ETF-flow momentum; NaN = unavailable, passed to decide as null).
 *
 * Sources: a replayed OHLCV CSV (keeper/src/feeds/csvReplay.ts) with optional DVOL, funding and ETF
 * flow files; the simulated market (keeper/src/feeds/simulated.ts); or plain GBM (for the
 * Derman–Kamal check). Look-ahead safety: a bar is stamped at its close (open + interval); a DVOL
 * day or an ETF day is used only from the end of that day; a funding rate from its event time.
 */
import { ETF_MOMENTUM, etfFlowMomentum } from "../decide/regimeInputs.ts";
import type { DvolBar, GapReport, PriceBar } from "../feeds/csvReplay.ts";
import { findGaps } from "../feeds/csvReplay.ts";
import { createRng } from "../feeds/rng.ts";
import { simulateMarket, type MarketTick } from "../feeds/simulated.ts";
import type { Datum, Underlying } from "../feeds/types.ts";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
const YEAR_HOURS = 365.25 * 24;

export type MarketPath = {
  underlying: Underlying;
  source: string;
  intervalMs: number;
  /** Bar close times, ms. */
  times: Float64Array;
  /** Close prices, USD. */
  prices: Float64Array;
  /** ATM implied vol used to mark options (annualised). Always finite. */
  iv: Float64Array;
  /** Where `iv` came from per bar: 0 = realised-vol estimate, 1 = DVOL / simulated surface. */
  ivFromMarket: Uint8Array;
  /** Regime inputs per bar, NaN when unavailable. */
  ivLevel: Float64Array;
  ivChange: Float64Array;
  skew: Float64Array;
  fundingPerHour: Float64Array;
  etfFlowMomentum: Float64Array;
  gaps: GapReport;
};

export type PathExtras = {
  dvol?: DvolBar[];
  funding?: Datum<"funding">[];
  etfFlows?: Datum<"etfFlow">[];
};

/** EWMA realised vol (annualised) from log returns, half-life `halfLifeHours`; seeded at `initial`. */
function realisedVol(
  times: Float64Array,
  prices: Float64Array,
  halfLifeHours: number,
  initial: number,
): Float64Array {
  const out = new Float64Array(prices.length);
  let v = initial * initial;
  out[0] = initial;
  for (let i = 1; i < prices.length; i++) {
    const dtH = Math.max(((times[i] as number) - (times[i - 1] as number)) / HOUR_MS, 1e-9);
    const r = Math.log((prices[i] as number) / (prices[i - 1] as number));
    const lambda = Math.pow(0.5, dtH / halfLifeHours);
    v = lambda * v + (1 - lambda) * ((r * r) / dtH) * YEAR_HOURS;
    out[i] = Math.sqrt(v);
  }
  return out;
}

/**
 * ETF momentum per bar ({@link etfFlowMomentum}, shared with the live keeper): sum of the last 5
 * daily flows over (σ of the last 60 days × √5); NaN with < 20 days or no flow in the last 4 days.
 */
function etfMomentumSeries(times: Float64Array, flows: Datum<"etfFlow">[]): Float64Array {
  const out = new Float64Array(times.length).fill(Number.NaN);
  let j = 0;
  const seen: number[] = [];
  let lastTime = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    while (j < flows.length && (flows[j] as Datum<"etfFlow">).eventTime <= t) {
      const f = flows[j] as Datum<"etfFlow">;
      seen.push(f.netFlowUsd);
      lastTime = f.eventTime;
      j++;
    }
    if (seen.length < ETF_MOMENTUM.minDays || t - lastTime > 4 * DAY_MS) continue;
    out[i] = etfFlowMomentum(seen);
  }
  return out;
}

function fill(n: number): Float64Array {
  return new Float64Array(n).fill(Number.NaN);
}

/**
 * A path from replayed bars. `bars` times are bar OPEN times (as in the files); the path stamps
 * each bar at its close. IV for marking: DVOL close / 100 when a DVOL day is known, else an EWMA
 * realised-vol estimate (half-life 7 days).
 */
export function pathFromBars(
  bars: readonly PriceBar[],
  underlying: Underlying,
  intervalMs: number,
  extras: PathExtras = {},
  source = "csv",
): MarketPath {
  const n = bars.length;
  const times = new Float64Array(n);
  const prices = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const b = bars[i] as PriceBar;
    times[i] = b.time + intervalMs;
    prices[i] = b.close;
  }
  const rv = realisedVol(times, prices, 168, 0.8);
  const iv = new Float64Array(n);
  const ivFromMarket = new Uint8Array(n);
  const ivLevel = fill(n);
  const ivChange = fill(n);
  const dvol = extras.dvol ?? [];
  let d = -1;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    while (d + 1 < dvol.length && (dvol[d + 1] as DvolBar).time + DAY_MS <= t) d++;
    const cur = dvol[d];
    if (cur !== undefined && t - (cur.time + DAY_MS) <= 3 * DAY_MS) {
      iv[i] = cur.close / 100;
      ivFromMarket[i] = 1;
      ivLevel[i] = cur.close / 100;
      const prev = dvol[d - 1];
      if (prev !== undefined && cur.time - prev.time === DAY_MS) ivChange[i] = (cur.close - prev.close) / 100;
    } else {
      iv[i] = Math.max(0.2, rv[i] as number);
    }
  }
  const fundingPerHour = fill(n);
  const funding = (extras.funding ?? []).filter((f) => f.underlying === underlying);
  let f = -1;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    while (f + 1 < funding.length && (funding[f + 1] as Datum<"funding">).eventTime <= t) f++;
    const cur = funding[f];
    if (cur !== undefined && t - cur.eventTime <= 3 * cur.intervalMs) fundingPerHour[i] = cur.ratePerHour;
  }
  const etf = (extras.etfFlows ?? []).filter((e) => e.underlying === underlying);
  return {
    underlying,
    source,
    intervalMs,
    times,
    prices,
    iv,
    ivFromMarket,
    ivLevel,
    ivChange,
    skew: fill(n),
    fundingPerHour,
    etfFlowMomentum: etfMomentumSeries(times, etf),
    gaps: findGaps(Array.from(times), intervalMs),
  };
}

/**
 * A path from the simulated market (stochastic vol with jumps): hourly by default. IV = the
 * simulated 30-day surface's point nearest the money; skew = IV(0.9 S) − IV(1.1 S); funding and ETF
 * flows as simulated.
 */
export function syntheticPath(o: {
  seed: number | string;
  days: number;
  underlying?: Underlying;
  stepMs?: number;
  startTime?: number;
}): MarketPath {
  const u = o.underlying ?? "ETH";
  const stepMs = o.stepMs ?? HOUR_MS;
  const steps = Math.round((o.days * DAY_MS) / stepMs) + 1;
  const ticks = simulateMarket({
    seed: o.seed,
    steps,
    stepMs,
    ...(o.startTime === undefined ? {} : { startTime: o.startTime }),
    emit: {
      ivTenorsDays: [30],
      ivMoneyness: [0.9, 1, 1.1],
      etfUnderlyings: [u],
      spotEveryMs: stepMs,
      ivEveryMs: stepMs,
      fundingEveryMs: stepMs,
    },
  });
  return pathFromTicks(ticks, u, stepMs, `sim(seed ${o.seed})`);
}

/**
 * A path from simulated market ticks (keeper/src/feeds/simulated.ts): the true spot, IV = the
 * emitted ~30-day point nearest the money (0.65 until one is seen), skew = IV of the lowest strike
 * − IV of the highest, funding and ETF flows as emitted. Used by syntheticPath and by the demo's
 * month (the same ticks the chain saw).
 */
export function pathFromTicks(
  ticks: Iterable<MarketTick>,
  u: Underlying,
  stepMs: number,
  source: string,
): MarketPath {
  const times: number[] = [];
  const prices: number[] = [];
  const ivs: number[] = [];
  const skews: number[] = [];
  const fund: number[] = [];
  const flows: Datum<"etfFlow">[] = [];
  let lastIv = Number.NaN;
  let lastSkew = Number.NaN;
  for (const tick of ticks) {
    const S = tick.spot[u];
    let best: Datum<"ivPoint"> | undefined;
    let lo: Datum<"ivPoint"> | undefined;
    let hi: Datum<"ivPoint"> | undefined;
    for (const d of tick.data) {
      if (d.underlying !== u) continue;
      if (d.kind === "etfFlow") flows.push(d);
      if (d.kind !== "ivPoint") continue;
      if (best === undefined || Math.abs(d.strike - S) < Math.abs(best.strike - S)) best = d;
      if (lo === undefined || d.strike < lo.strike) lo = d;
      if (hi === undefined || d.strike > hi.strike) hi = d;
    }
    if (best !== undefined) lastIv = best.iv;
    if (lo !== undefined && hi !== undefined && lo !== hi) lastSkew = lo.iv - hi.iv;
    times.push(tick.time);
    prices.push(S);
    ivs.push(lastIv);
    skews.push(lastSkew);
    fund.push(tick.funding[u]);
  }
  const n = times.length;
  const t = Float64Array.from(times);
  const iv = Float64Array.from(ivs, (x) => (Number.isFinite(x) ? x : 0.65));
  const ivLevel = Float64Array.from(iv);
  const ivChange = fill(n);
  const perDay = Math.max(1, Math.round(DAY_MS / stepMs));
  for (let i = perDay; i < n; i++) ivChange[i] = (iv[i] as number) - (iv[i - perDay] as number);
  flows.sort((a, b) => a.eventTime - b.eventTime);
  return {
    underlying: u,
    source,
    intervalMs: stepMs,
    times: t,
    prices: Float64Array.from(prices),
    iv,
    ivFromMarket: new Uint8Array(n).fill(1),
    ivLevel,
    ivChange,
    skew: Float64Array.from(skews),
    fundingPerHour: Float64Array.from(fund),
    etfFlowMomentum: etfMomentumSeries(t, flows),
    gaps: { intervalMs: stepMs, missingCount: 0, gaps: [] },
  };
}

/**
 * Geometric Brownian motion with constant vol `sigma` (annualised, 365-day years to match the AMM's
 * option clock), zero drift unless `mu` is given; IV = sigma; no funding, no regime data.
 */
export function gbmPath(o: {
  seed: number | string;
  s0: number;
  sigma: number;
  steps: number;
  stepMs: number;
  mu?: number;
  startTime?: number;
}): MarketPath {
  const rng = createRng(o.seed);
  const n = o.steps + 1;
  const times = new Float64Array(n);
  const prices = new Float64Array(n);
  const dt = o.stepMs / (365 * DAY_MS);
  const drift = ((o.mu ?? 0) - 0.5 * o.sigma * o.sigma) * dt;
  const vol = o.sigma * Math.sqrt(dt);
  const start = o.startTime ?? Date.UTC(2025, 0, 3, 8);
  let s = o.s0;
  for (let i = 0; i < n; i++) {
    if (i > 0) s *= Math.exp(drift + vol * rng.nextNormal());
    times[i] = start + i * o.stepMs;
    prices[i] = s;
  }
  return {
    underlying: "ETH",
    source: `gbm(seed ${o.seed}, σ ${o.sigma})`,
    intervalMs: o.stepMs,
    times,
    prices,
    iv: new Float64Array(n).fill(o.sigma),
    ivFromMarket: new Uint8Array(n).fill(1),
    ivLevel: fill(n),
    ivChange: fill(n),
    skew: fill(n),
    fundingPerHour: new Float64Array(n).fill(0),
    etfFlowMomentum: fill(n),
    gaps: { intervalMs: o.stepMs, missingCount: 0, gaps: [] },
  };
}

/** The sub-path with times in [from, to) (ms); throws if fewer than 2 bars remain. */
export function slicePath(p: MarketPath, from?: number, to?: number): MarketPath {
  let a = 0;
  let b = p.times.length;
  if (from !== undefined) while (a < b && (p.times[a] as number) < from) a++;
  if (to !== undefined) while (b > a && (p.times[b - 1] as number) >= to) b--;
  if (b - a < 2) throw new RangeError(`path has ${b - a} bars in the requested range`);
  const s = <T extends Float64Array | Uint8Array>(x: T): T => x.slice(a, b) as T;
  const times = s(p.times);
  return {
    ...p,
    times,
    prices: s(p.prices),
    iv: s(p.iv),
    ivFromMarket: s(p.ivFromMarket),
    ivLevel: s(p.ivLevel),
    ivChange: s(p.ivChange),
    skew: s(p.skew),
    fundingPerHour: s(p.fundingPerHour),
    etfFlowMomentum: s(p.etfFlowMomentum),
    gaps: findGaps(Array.from(times), p.intervalMs),
  };
}
