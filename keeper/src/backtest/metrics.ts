/**
 * Figures of a backtest: daily P&L variance hedged vs unhedged and the reduction, tracking error of
 * the net delta against its target, max |net delta|, max drawdown, costs by kind, rebalances by tier,
 * stand-downs and rejections; and the Derman–Kamal prediction of discrete-hedging error.
 *
 * Derman & Kamal, "When You Cannot Hedge Continuously: The Corrections of Black–Scholes",
 * Risk 12 (1999): an option (vega κ per 1.00 of vol) delta-hedged N times at equal intervals under
 * GBM with vol σ has a final hedging error with standard deviation ≈ sqrt(π/4) · κ · σ / √N.
 */
import type { BacktestResult, CostKind, ReasonCount } from "./engine.ts";
import { DAY_MS } from "./path.ts";

export type PolicyMetrics = {
  name: string;
  /** (1 − var(hedged daily P&L) / var(unhedged daily P&L)) × 100. */
  varianceReductionPct: number;
  dailyPnlStdUsd: number;
  unhedgedDailyPnlStdUsd: number;
  days: number;
  /** RMS of (net − target) over each bar's start and end, % of the mean |unhedged net − target|. */
  trackingErrorPct: number;
  trackingErrorUnits: number;
  /** Max |net − target| before any action after the first bar, % of the mean |unhedged net − target|. */
  maxAbsNetDeltaPct: number;
  maxAbsNetDeltaUnits: number;
  meanAbsUnhedgedNetUnits: number;
  maxDrawdownUsd: number;
  maxDrawdownPct: number;
  costs: Record<CostKind, number> & { total: number };
  /** fees + slippage + funding + gas (funding is a carry: negative when the hedge earns it). */
  totalCostUsd: number;
  /** fees + slippage + gas: what the rebalancing itself costs (the frontier's x axis). */
  executionCostUsd: number;
  rebalances: BacktestResult["rebalances"];
  decisions: BacktestResult["decisions"];
  standDowns: ReasonCount[];
  rejections: ReasonCount[];
  overlay: BacktestResult["overlay"];
  bookCostUsd: number;
  turnoverUnits: number;
  peakPerpNotionalUsd: number;
  finalValueUsd: number;
  cumulativePnlUsd: number;
};

/** Cumulative P&L per bar (value change net of external flows). */
export function cumulativePnl(r: BacktestResult): Float64Array {
  const out = new Float64Array(r.bars);
  const v0 = r.value[0] as number;
  for (let i = 0; i < r.bars; i++) out[i] = (r.value[i] as number) - v0 - (r.cumFlow[i] as number);
  return out;
}

/** Daily P&L: changes of the cumulative P&L between the last bars of consecutive UTC days. */
export function dailyPnl(times: Float64Array, cum: Float64Array): number[] {
  const ends: number[] = [];
  for (let i = 0; i < times.length; i++) {
    const day = Math.floor(((times[i] as number) - 1) / DAY_MS);
    const next = i + 1 < times.length ? Math.floor(((times[i + 1] as number) - 1) / DAY_MS) : Number.NaN;
    if (day !== next) ends.push(cum[i] as number);
  }
  const out: number[] = [];
  for (let k = 1; k < ends.length; k++) out.push((ends[k] as number) - (ends[k - 1] as number));
  return out;
}

/** Sample variance (n − 1). */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
}

/** Max drawdown of `base + cum` (USD and fraction of the running peak). */
export function maxDrawdown(base: number, cum: Float64Array): { usd: number; pct: number } {
  let peak = Number.NEGATIVE_INFINITY;
  let usd = 0;
  let pct = 0;
  for (let i = 0; i < cum.length; i++) {
    const v = base + (cum[i] as number);
    if (v > peak) peak = v;
    const dd = peak - v;
    if (dd > usd) usd = dd;
    if (peak > 0 && dd / peak > pct) pct = dd / peak;
  }
  return { usd, pct: pct * 100 };
}

/** The figures of `r` against the unhedged run `u` of the same path and treasury. */
export function policyMetrics(r: BacktestResult, u: BacktestResult): PolicyMetrics {
  if (r.bars !== u.bars) throw new RangeError("hedged and unhedged runs must cover the same bars");
  const cum = cumulativePnl(r);
  const cumU = cumulativePnl(u);
  const d = dailyPnl(r.times, cum);
  const du = dailyPnl(u.times, cumU);
  const vH = variance(d);
  const vU = variance(du);
  const target = r.target;
  let meanAbsU = 0;
  for (let i = 0; i < u.bars; i++) meanAbsU += Math.abs((u.netPre[i] as number) - target);
  meanAbsU /= u.bars;
  let sq = 0;
  let maxAbs = 0;
  for (let i = 1; i < r.bars; i++) {
    const a = (r.netPost[i - 1] as number) - target;
    const b = (r.netPre[i] as number) - target;
    sq += (a * a + b * b) / 2;
    maxAbs = Math.max(maxAbs, Math.abs(b));
  }
  const te = Math.sqrt(sq / Math.max(1, r.bars - 1));
  const dd = maxDrawdown(r.value[0] as number, cum);
  const pct = (x: number) => (meanAbsU > 0 ? (x / meanAbsU) * 100 : 0);
  return {
    name: r.policy.name,
    varianceReductionPct: vU > 0 ? (1 - vH / vU) * 100 : 0,
    dailyPnlStdUsd: Math.sqrt(vH),
    unhedgedDailyPnlStdUsd: Math.sqrt(vU),
    days: d.length,
    trackingErrorPct: pct(te),
    trackingErrorUnits: te,
    maxAbsNetDeltaPct: pct(maxAbs),
    maxAbsNetDeltaUnits: maxAbs,
    meanAbsUnhedgedNetUnits: meanAbsU,
    maxDrawdownUsd: dd.usd,
    maxDrawdownPct: dd.pct,
    costs: r.costs,
    totalCostUsd: r.costs.total,
    executionCostUsd: r.costs.fees + r.costs.slippage + r.costs.gas,
    rebalances: r.rebalances,
    decisions: r.decisions,
    standDowns: r.standDowns.slice(0, 10),
    rejections: r.rejections.slice(0, 10),
    overlay: r.overlay,
    bookCostUsd: r.bookCostUsd,
    turnoverUnits: r.turnoverUnits,
    peakPerpNotionalUsd: r.peakMarginUsd,
    finalValueUsd: r.value[r.bars - 1] as number,
    cumulativePnlUsd: cum[r.bars - 1] as number,
  };
}

/** Derman–Kamal: std of the final hedge error ≈ sqrt(π/4) · vega · σ / √N (vega per 1.00 of vol). */
export function dermanKamalStd(o: { vega: number; sigma: number; rebalances: number }): number {
  if (!(o.rebalances > 0)) throw new RangeError(`rebalances must be > 0: ${o.rebalances}`);
  return (Math.sqrt(Math.PI / 4) * Math.abs(o.vega) * o.sigma) / Math.sqrt(o.rebalances);
}
