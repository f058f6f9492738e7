/**
 * Regime inputs from market data: what the live keeper knows at time `now` from its validated feeds
 * plus a small bounded history, as the five {@link RegimeInputs} the regime score needs.
 *
 * - etfFlowMomentum: {@link etfFlowMomentum} of the daily net flows held for the underlying, up to the
 *   newest day with a fresh (validated) etfFlow datum — the same definition the backtest paths use.
 * - ivLevel: the IV of the fresh ivPoint nearest the money at the expiry nearest `ivTenorMs` (30 days)
 *   ahead; the chain surface's ATM vol when no feed provides one.
 * - ivChange: ivLevel − the reading of the same origin (feed or chain) nearest `ivChangeLagMs` (24 h)
 *   earlier, within `ivChangeToleranceMs`; null until such a reading exists.
 * - skew: 25-delta put vol − 25-delta call vol on the ivLevel point's surface (same source, expiry and
 *   event time): IV interpolated linearly in Black–Scholes call delta at 0.75 and 0.25 (r = 0; a put's
 *   delta is the call's − 1). Null unless that surface's points bracket both deltas.
 * - fundingRate: the newest fresh funding datum's rate per hour; the chain perp's rate otherwise.
 *
 * Only data that passed validation is used: `accepted` (fresh) for the current values, and history
 * fed from accepted data or from backfill that passed every check except age ({@link acceptBackfill}).
 * Stale current data is not in `accepted`, so its input is null ("unknown" to decide).
 *
 * History is bounded: `etfDays` daily flows (one per UTC day of the event time, the newest revision
 * wins) and IV readings within `ivRetentionMs`, at most one per origin and `ivBucketMs`.
 *
 * Pure: functions return new values and never mutate their arguments.
 */
import {
  snapshotKey,
  UNDERLYINGS,
  type Datum,
  type MarketSnapshot,
  type Underlying,
} from "../feeds/types.ts";
import { normCdf } from "../price/index.ts";
import { validateSnapshot, type ValidationPolicy } from "../validate/index.ts";
import type { RegimeInputs } from "./types.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

/** The ETF-flow momentum window: last `windowDays` days for σ, last `recentDays` summed, ≥ `minDays`. */
export const ETF_MOMENTUM = { windowDays: 60, recentDays: 5, minDays: 20 } as const;

/**
 * ETF-flow momentum of daily net flows in time order: the sum of the last 5 over (σ of the last 60,
 * sample standard deviation, × √5) — a z-score of the 5-day flow against the daily flows' spread.
 * NaN with fewer than 20 days; 0 when σ = 0. Shared by the backtest paths and the live keeper.
 */
export function etfFlowMomentum(flows: readonly number[]): number {
  if (flows.length < ETF_MOMENTUM.minDays) return Number.NaN;
  const win = flows.slice(-ETF_MOMENTUM.windowDays);
  const mean = win.reduce((a, b) => a + b, 0) / win.length;
  const sd = Math.sqrt(win.reduce((a, b) => a + (b - mean) ** 2, 0) / (win.length - 1));
  const recent = flows.slice(-ETF_MOMENTUM.recentDays).reduce((a, b) => a + b, 0);
  return sd > 0 ? recent / (sd * Math.sqrt(ETF_MOMENTUM.recentDays)) : 0;
}

export type RegimeFeedOptions = {
  /** Daily ETF flows kept per underlying (the momentum window). */
  etfDays: number;
  /** Oldest backfilled ETF flow accepted (age of its event time). */
  etfBackfillMaxAgeMs: number;
  /** Tenor the ATM IV is read at. */
  ivTenorMs: number;
  /** ivChange compares with the reading this long before. */
  ivChangeLagMs: number;
  /** ... found within this distance of the lag, else ivChange is null. */
  ivChangeToleranceMs: number;
  /** IV readings older than this (vs now) are dropped; also the oldest backfilled surface accepted. */
  ivRetentionMs: number;
  /** At most one IV reading per origin per bucket of this length (the newest). */
  ivBucketMs: number;
};

export const DEFAULT_REGIME_FEED_OPTIONS: RegimeFeedOptions = {
  etfDays: ETF_MOMENTUM.windowDays,
  etfBackfillMaxAgeMs: 120 * DAY_MS,
  ivTenorMs: 30 * DAY_MS,
  ivChangeLagMs: DAY_MS,
  ivChangeToleranceMs: 2 * HOUR_MS,
  ivRetentionMs: 2 * DAY_MS,
  ivBucketMs: 5 * 60_000,
};

export type FlowDay = {
  /** UTC day of the event time (floor(eventTime / 1 day)). */
  day: number;
  eventTime: number;
  receiveTime: number;
  netFlowUsd: number;
  source: string;
};

export type IvReading = {
  /** Event time of the reading (the surface's, or `now` for the chain's). */
  time: number;
  iv: number;
  origin: "feed" | "chain";
};

export type UnderlyingHistory = {
  /** Ascending by day, one per day. */
  flows: readonly FlowDay[];
  /** Ascending by time. */
  iv: readonly IvReading[];
};

export type RegimeHistory = Readonly<Partial<Record<Underlying, UnderlyingHistory>>>;

export function emptyRegimeHistory(): RegimeHistory {
  return {};
}

const EMPTY: UnderlyingHistory = { flows: [], iv: [] };

function newerFlow(a: FlowDay, b: FlowDay): boolean {
  return a.eventTime > b.eventTime || (a.eventTime === b.eventTime && a.receiveTime >= b.receiveTime);
}

/** `flows` merged into `held`: per day the newest revision, the last `etfDays` days kept. */
export function recordFlows(
  held: readonly FlowDay[],
  flows: Iterable<Datum<"etfFlow">>,
  etfDays: number,
): FlowDay[] {
  const byDay = new Map<number, FlowDay>(held.map((f) => [f.day, f]));
  for (const d of flows) {
    const f: FlowDay = {
      day: Math.floor(d.eventTime / DAY_MS),
      eventTime: d.eventTime,
      receiveTime: d.receiveTime,
      netFlowUsd: d.netFlowUsd,
      source: d.source,
    };
    const cur = byDay.get(f.day);
    if (cur === undefined || newerFlow(f, cur)) byDay.set(f.day, f);
  }
  const out = [...byDay.values()].sort((a, b) => a.day - b.day);
  return out.slice(Math.max(0, out.length - Math.max(0, Math.floor(etfDays))));
}

/** `r` added to `held`: the newest reading per (origin, bucket) kept, readings older than now − retention dropped. */
export function recordIv(
  held: readonly IvReading[],
  r: IvReading,
  now: number,
  o: Pick<RegimeFeedOptions, "ivRetentionMs" | "ivBucketMs">,
): IvReading[] {
  const bucket = (x: IvReading) => Math.floor(x.time / o.ivBucketMs);
  const out: IvReading[] = [];
  let add = true;
  for (const x of held) {
    if (x.origin === r.origin && bucket(x) === bucket(r)) {
      if (x.time > r.time) add = false;
      else continue; // replaced by r
    }
    out.push(x);
  }
  if (add) out.push(r);
  return out.filter((x) => x.time >= now - o.ivRetentionMs).sort((a, b) => a.time - b.time);
}

/** The reading of `origin` nearest `at`, within `tolerance`; null if none. */
function readingNear(held: readonly IvReading[], origin: IvReading["origin"], at: number, tolerance: number) {
  let best: IvReading | null = null;
  for (const x of held) {
    if (x.origin !== origin || Math.abs(x.time - at) > tolerance) continue;
    if (best === null || Math.abs(x.time - at) < Math.abs(best.time - at)) best = x;
  }
  return best;
}

/**
 * The ATM point of `points`: at the expiry nearest `eventTime + tenor` (of each point's own event
 * time), the strike nearest `spot`. Earlier points win ties (callers pass key order). Null if empty.
 */
export function atmPoint(
  points: readonly Datum<"ivPoint">[],
  spot: number,
  tenorMs: number,
): Datum<"ivPoint"> | null {
  let best: Datum<"ivPoint"> | null = null;
  let bestT = Infinity;
  let bestK = Infinity;
  for (const p of points) {
    const dt = Math.abs(p.expiry - (p.eventTime + tenorMs));
    const dk = Math.abs(p.strike - spot);
    if (dt < bestT || (dt === bestT && dk < bestK)) {
      best = p;
      bestT = dt;
      bestK = dk;
    }
  }
  return best;
}

/** Black–Scholes call delta with r = 0; NaN when undefined (expired, bad numbers). */
function callDelta(spot: number, p: Datum<"ivPoint">): number {
  const t = (p.expiry - p.eventTime) / YEAR_MS;
  const sd = p.iv * Math.sqrt(t);
  if (!(t > 0 && sd > 0 && spot > 0)) return Number.NaN;
  const d1 = (Math.log(spot / p.strike) + 0.5 * sd * sd) / sd;
  return Number.isFinite(d1) ? normCdf(d1) : Number.NaN;
}

/** IV at call delta `target`, linear between the two points bracketing it; null if not bracketed. */
function ivAtDelta(pts: readonly { delta: number; iv: number }[], target: number): number | null {
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1] as { delta: number; iv: number };
    const b = pts[i] as { delta: number; iv: number };
    if (a.delta <= target && target <= b.delta) {
      if (b.delta === a.delta) return (a.iv + b.iv) / 2;
      return a.iv + ((b.iv - a.iv) * (target - a.delta)) / (b.delta - a.delta);
    }
  }
  return null;
}

/**
 * 25-delta skew of one expiry's smile: IV at call delta 0.75 (the 25-delta put) − IV at call delta
 * 0.25 (the 25-delta call), each interpolated linearly in delta; null unless both are bracketed.
 */
export function skew25(points: readonly Datum<"ivPoint">[], spot: number): number | null {
  const pts = points
    .map((p) => ({ delta: callDelta(spot, p), iv: p.iv }))
    .filter((x) => Number.isFinite(x.delta))
    .sort((a, b) => a.delta - b.delta || a.iv - b.iv);
  const put = ivAtDelta(pts, 0.75);
  const call = ivAtDelta(pts, 0.25);
  if (put === null || call === null) return null;
  const s = put - call;
  return Number.isFinite(s) ? s : null;
}

/** Groups ivPoints into surfaces: same underlying, source and event time (in input order). */
function surfaces(points: readonly Datum<"ivPoint">[]): Datum<"ivPoint">[][] {
  const m = new Map<string, Datum<"ivPoint">[]>();
  for (const p of points) {
    const k = `${p.underlying}|${p.source}|${p.eventTime}`;
    const g = m.get(k);
    if (g === undefined) m.set(k, [p]);
    else g.push(p);
  }
  return [...m.values()];
}

const finiteOrNull = (x: number | null | undefined): number | null =>
  x !== null && x !== undefined && Number.isFinite(x) ? x : null;

export type RegimeFeedView = {
  /** Keeper clock, ms (the clock validation used). */
  now: number;
  /** Underlyings to produce inputs for. */
  underlyings: readonly Underlying[];
  /** Validated, fresh data (ValidationResult.accepted), from the market-data feeds only. */
  accepted: MarketSnapshot;
  /** Older data from the same feeds, accepted by {@link acceptBackfill}: goes into the history only. */
  backfill?: readonly Datum[];
  /** Spot per underlying for ATM and delta (validated median, else the oracle); no spot → no feed IV. */
  spot: Partial<Record<Underlying, number>>;
  /** Fallbacks: the chain surface's ATM vol and the perp's funding per hour. */
  chain: Partial<Record<Underlying, { ivLevel: number | null; fundingRate: number | null }>>;
};

/**
 * The regime inputs per underlying at `view.now`, and the history with this call's data folded in.
 * Never throws for schema-valid data; every returned input is finite or null.
 */
export function regimeInputsFromFeeds(
  history: RegimeHistory,
  view: RegimeFeedView,
  o: RegimeFeedOptions = DEFAULT_REGIME_FEED_OPTIONS,
): { inputs: Partial<Record<Underlying, RegimeInputs>>; history: RegimeHistory } {
  const next: Partial<Record<Underlying, UnderlyingHistory>> = { ...history };
  const inputs: Partial<Record<Underlying, RegimeInputs>> = {};
  const current = Object.keys(view.accepted)
    .sort()
    .map((k) => view.accepted[k] as Datum);
  const backfill = view.backfill ?? [];
  for (const u of UNDERLYINGS) {
    if (!view.underlyings.includes(u)) continue;
    const h = next[u] ?? EMPTY;
    const mine = <K extends Datum["kind"]>(data: readonly Datum[], kind: K) =>
      data.filter((d): d is Datum<K> => d.kind === kind && d.underlying === u);
    const spot = view.spot[u];
    const hasSpot = spot !== undefined && Number.isFinite(spot) && spot > 0;
    const chain = view.chain[u];

    // ETF flows: history from accepted and backfilled days; momentum only with a fresh day.
    const freshFlows = mine(current, "etfFlow");
    const flows = recordFlows(h.flows, [...mine(backfill, "etfFlow"), ...freshFlows], o.etfDays);
    let etf: number | null = null;
    if (freshFlows.length > 0) {
      const lastDay = Math.max(...freshFlows.map((f) => Math.floor(f.eventTime / DAY_MS)));
      etf = finiteOrNull(etfFlowMomentum(flows.filter((f) => f.day <= lastDay).map((f) => f.netFlowUsd)));
    }

    // IV: backfilled surfaces become readings; the current level from the feed, else the chain.
    let iv = h.iv.filter((x) => x.time >= view.now - o.ivRetentionMs);
    if (hasSpot) {
      for (const s of surfaces(mine(backfill, "ivPoint"))) {
        const p = atmPoint(s, spot, o.ivTenorMs);
        if (p !== null) iv = recordIv(iv, { time: p.eventTime, iv: p.iv, origin: "feed" }, view.now, o);
      }
    }
    const points = hasSpot ? mine(current, "ivPoint") : [];
    const atm = hasSpot ? atmPoint(points, spot, o.ivTenorMs) : null;
    let reading: IvReading | null = null;
    let skew: number | null = null;
    if (atm !== null) {
      reading = { time: atm.eventTime, iv: atm.iv, origin: "feed" };
      const smile = points.filter(
        (p) => p.source === atm.source && p.expiry === atm.expiry && p.eventTime === atm.eventTime,
      );
      skew = skew25(smile, spot as number);
    } else {
      const c = finiteOrNull(chain?.ivLevel);
      if (c !== null) reading = { time: view.now, iv: c, origin: "chain" };
    }
    let ivChange: number | null = null;
    if (reading !== null) {
      iv = recordIv(iv, reading, view.now, o);
      const prev = readingNear(iv, reading.origin, reading.time - o.ivChangeLagMs, o.ivChangeToleranceMs);
      if (prev !== null) ivChange = finiteOrNull(reading.iv - prev.iv);
    }

    // Funding: the newest fresh datum (event time, then receive time), else the chain's perp.
    let funding: Datum<"funding"> | null = null;
    for (const f of mine(current, "funding")) {
      if (
        funding === null ||
        f.eventTime > funding.eventTime ||
        (f.eventTime === funding.eventTime && f.receiveTime > funding.receiveTime)
      )
        funding = f;
    }

    next[u] = { flows, iv };
    inputs[u] = {
      etfFlowMomentum: etf,
      ivLevel: reading === null ? null : finiteOrNull(reading.iv),
      ivChange,
      skew,
      fundingRate: funding !== null ? finiteOrNull(funding.ratePerHour) : finiteOrNull(chain?.fundingRate),
    };
  }
  return { inputs, history: next };
}

/**
 * Checks older data (a provider's backfill: earlier ETF days, earlier IV surfaces) for the history:
 * every validate check (bounds, clocks, expiry, traded underlying) except the freshness SLA, which
 * becomes `etfBackfillMaxAgeMs` / `ivRetentionMs`: older data, other kinds (not history) and
 * untraded underlyings are ignored; `rejected` holds validate's reasons for the rest that failed.
 */
export function acceptBackfill(
  data: readonly Datum[],
  policy: ValidationPolicy,
  now: number,
  o: RegimeFeedOptions = DEFAULT_REGIME_FEED_OPTIONS,
): { accepted: Datum[]; rejected: string[] } {
  const relaxed: ValidationPolicy = {
    ...policy,
    maxAgeMs: { ...policy.maxAgeMs, etfFlow: o.etfBackfillMaxAgeMs, ivPoint: o.ivRetentionMs },
    sourceMaxAgeMs: {},
    required: { ETH: [], BTC: [] },
  };
  const accepted: Datum[] = [];
  const rejected: string[] = [];
  for (const d of data) {
    if (d.kind !== "etfFlow" && d.kind !== "ivPoint") continue;
    // Not needed (older than the history keeps) or not traded: ignored, not an error.
    if (now - d.eventTime > relaxed.maxAgeMs[d.kind] || !relaxed.underlyings.includes(d.underlying)) continue;
    const key = snapshotKey(d);
    const v = validateSnapshot({ [key]: d }, relaxed, now);
    if (v.accepted[key] !== undefined) accepted.push(d);
    else rejected.push(...v.reasons);
  }
  return { accepted, rejected };
}
