/**
 * A backtest suite: every requested policy over one path (always with the unhedged baseline), the
 * figures of each (./metrics.ts), the time-based frontier used for the equal-cost comparison, an
 * optional parameter sweep (the cost/variance frontier of every policy family) and the
 * Derman–Kamal check calibrated to the path's realised vol.
 */
import { DEFAULT_POLICY_NAME, type BacktestConfig, type PolicySpec } from "./config.ts";
import { runDermanKamal, type DermanKamalResult } from "./dermanKamal.ts";
import { runModelBacktest, type BacktestResult } from "./engine.ts";
import { policyMetrics, type PolicyMetrics } from "./metrics.ts";
import { HOUR_MS, type MarketPath } from "./path.ts";

export type FrontierPoint = {
  family: string;
  name: string;
  parameter: string;
  value: number;
  varianceReductionPct: number;
  totalCostUsd: number;
  /** fees + slippage + gas: the frontier's cost axis and the equal-cost comparison's. */
  executionCostUsd: number;
  rebalances: number;
};

export type EqualCostComparison = {
  against: string;
  defaultCostUsd: number;
  defaultVarianceReductionPct: number;
  otherCostUsd: number;
  otherVarianceReductionPct: number;
  /** Variance reduction of the time-based family interpolated at the default's cost (log-cost). */
  timeFamilyVarianceReductionAtDefaultCostPct: number | null;
  /** default ≥ other in variance reduction at ≤ its cost, or above the interpolated time frontier. */
  beats: boolean;
  how: string;
};

export type Goals = {
  defaultPolicy: string;
  varianceReductionGoalPct: number;
  defaultVarianceReductionPct: number;
  meetsVarianceGoal: boolean;
  equalCost: EqualCostComparison[];
  beatsBothTimeBasedAtEqualCost: boolean | null;
};

export type SuiteOptions = {
  path: MarketPath;
  config: BacktestConfig;
  policies: PolicySpec[];
  sweep: boolean;
  /** Monte Carlo paths for the Derman–Kamal check; 0 = skip. */
  dermanKamalPaths: number;
  defaultPolicy?: string;
  /**
   * Results another engine already ran over `path` (the chain engine), the unhedged baseline first.
   * The suite then runs nothing itself: the time frontier uses the time policies among them.
   */
  precomputed?: readonly BacktestResult[];
};

export type SuiteResult = {
  path: {
    source: string;
    underlying: string;
    from: string;
    to: string;
    bars: number;
    pathHours: number;
    intervalMs: number;
    missingBars: number;
    gaps: number;
    realisedVol: number;
    ivFromMarketPct: number;
    regimeCoveragePct: Record<"ivLevel" | "ivChange" | "skew" | "fundingRate" | "etfFlowMomentum", number>;
  };
  results: BacktestResult[];
  unhedged: BacktestResult;
  metrics: PolicyMetrics[];
  timeFrontier: FrontierPoint[];
  frontier: FrontierPoint[] | null;
  dermanKamal: DermanKamalResult[];
  goals: Goals | null;
  seconds: { policies: number; frontier: number; dermanKamal: number };
};

export const SWEEP = {
  timeHours: [1, 2, 4, 8, 12, 24, 48, 168],
  fixedBand: [2, 5, 10, 15, 25],
  riskAversion: [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3],
};

const TIME_FRONTIER_HOURS = [1, 2, 4, 8, 12, 24, 48, 168];

function coverage(a: Float64Array): number {
  let k = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i] as number)) k++;
  return a.length === 0 ? 0 : (k / a.length) * 100;
}

/** Annualised realised vol of the path's log returns (365.25-day year). */
export function pathRealisedVol(p: MarketPath): number {
  let s = 0;
  let s2 = 0;
  let n = 0;
  let hours = 0;
  for (let i = 1; i < p.prices.length; i++) {
    const r = Math.log((p.prices[i] as number) / (p.prices[i - 1] as number));
    s += r;
    s2 += r * r;
    n++;
    hours += ((p.times[i] as number) - (p.times[i - 1] as number)) / HOUR_MS;
  }
  if (n < 2) return 0;
  const varPerBar = (s2 - (s * s) / n) / (n - 1);
  const barsPerYear = (365.25 * 24 * n) / hours;
  return Math.sqrt(varPerBar * barsPerYear);
}

function point(family: string, parameter: string, value: number, m: PolicyMetrics): FrontierPoint {
  return {
    family,
    name: m.name,
    parameter,
    value,
    varianceReductionPct: m.varianceReductionPct,
    totalCostUsd: m.totalCostUsd,
    executionCostUsd: m.executionCostUsd,
    rebalances: m.rebalances.total,
  };
}

/**
 * Upper envelope VR at execution cost `cost` along `pts`, linear in log cost; null outside their
 * cost range. Costs here are execution costs (fees + slippage + gas): funding is a carry on the
 * position held, about the same for every policy hedging the same book, and often income.
 */
export function interpolateAtCost(pts: readonly FrontierPoint[], cost: number): number | null {
  const s = [...pts]
    .filter((p) => p.executionCostUsd > 0)
    .sort((a, b) => a.executionCostUsd - b.executionCostUsd);
  if (s.length === 0) return null;
  const first = s[0] as FrontierPoint;
  const last = s[s.length - 1] as FrontierPoint;
  if (cost < first.executionCostUsd || cost > last.executionCostUsd) return null;
  let best = Number.NEGATIVE_INFINITY;
  for (let k = 1; k < s.length; k++) {
    const a = s[k - 1] as FrontierPoint;
    const b = s[k] as FrontierPoint;
    if (cost < a.executionCostUsd || cost > b.executionCostUsd) continue;
    const w =
      b.executionCostUsd === a.executionCostUsd
        ? 0
        : Math.log(cost / a.executionCostUsd) / Math.log(b.executionCostUsd / a.executionCostUsd);
    best = Math.max(best, a.varianceReductionPct + w * (b.varianceReductionPct - a.varianceReductionPct));
  }
  // Never credit the time family with less than a cheaper time point already achieves.
  for (const p of s) if (p.executionCostUsd <= cost) best = Math.max(best, p.varianceReductionPct);
  return best;
}

export function runSuite(o: SuiteOptions): SuiteResult {
  const { path, config } = o;
  const defaultName = o.defaultPolicy ?? DEFAULT_POLICY_NAME;
  const fixed = o.precomputed;
  if (fixed !== undefined && fixed[0]?.policy.kind !== "unhedged")
    throw new RangeError("precomputed results must start with the unhedged baseline");
  if (fixed !== undefined && o.sweep) throw new RangeError("a sweep runs on the model engine only");
  const run = (policy: PolicySpec) => runModelBacktest({ path, policy, config });

  const t0 = performance.now();
  const unhedged = fixed?.[0] ?? run({ name: "unhedged", kind: "unhedged", overlay: false });
  const results: BacktestResult[] = fixed === undefined ? [unhedged] : [...fixed];
  if (fixed === undefined) for (const p of o.policies) if (p.kind !== "unhedged") results.push(run(p));
  const metrics = results.map((r) => policyMetrics(r, unhedged));
  const t1 = performance.now();

  // ---- the time-based family for the equal-cost comparison
  const byName = new Map(metrics.map((m) => [m.name, m]));
  const def = byName.get(defaultName);
  const timeFrontier: FrontierPoint[] = [];
  const frontier: FrontierPoint[] = [];
  const families = o.sweep;
  if (def !== undefined || families) {
    for (const h of TIME_FRONTIER_HOURS) {
      const name = h === 1 ? "time-hourly" : h === 24 ? "time-daily" : `time-${h}h`;
      const m =
        byName.get(name) ??
        (fixed === undefined
          ? policyMetrics(run({ name, kind: "time", overlay: false, intervalHours: h }), unhedged)
          : undefined);
      if (m !== undefined) timeFrontier.push(point("time", "intervalHours", h, m));
    }
  }
  if (o.sweep) {
    frontier.push(...timeFrontier);
    for (const b of SWEEP.fixedBand) {
      const m = policyMetrics(
        run({ name: `fixed-band(${b})`, kind: "fixed-band", overlay: false, band: b }),
        unhedged,
      );
      frontier.push(point("fixed-band", "band", b, m));
    }
    for (const kind of ["ww-band", "regime-band"] as const) {
      for (const ra of SWEEP.riskAversion) {
        const m = policyMetrics(
          run({ name: `${kind}(γ=${ra})`, kind, overlay: false, riskAversion: ra }),
          unhedged,
        );
        frontier.push(point(kind, "riskAversion", ra, m));
      }
    }
    for (const m of metrics)
      if (m.name.endsWith("+overlay")) frontier.push(point("overlay", "default", 0, m));
  }
  const t2 = performance.now();

  // ---- Derman–Kamal, calibrated to the path
  const sigma = pathRealisedVol(path);
  const dermanKamal: DermanKamalResult[] = [];
  if (o.dermanKamalPaths > 0) {
    const units = config.treasury.coveredCalls?.units ?? 100;
    for (const N of [30, 120]) {
      dermanKamal.push(
        runDermanKamal({
          paths: o.dermanKamalPaths,
          rebalances: N,
          sigma,
          s0: path.prices[0] as number,
          tenorDays: 30,
          units,
          seed: `dk|${path.source}`,
        }),
      );
    }
  }
  const t3 = performance.now();

  // ---- goals
  let goals: Goals | null = null;
  if (def !== undefined) {
    const equalCost: EqualCostComparison[] = [];
    const atCost = interpolateAtCost(timeFrontier, def.executionCostUsd);
    for (const other of ["time-hourly", "time-daily"]) {
      const m = byName.get(other) ?? metrics.find((x) => x.name === other);
      const tf = timeFrontier.find((p) => p.name === other);
      const oc = m?.executionCostUsd ?? tf?.executionCostUsd;
      const ov = m?.varianceReductionPct ?? tf?.varianceReductionPct;
      if (oc === undefined || ov === undefined) continue;
      const dominates = def.executionCostUsd <= oc && def.varianceReductionPct >= ov;
      const aboveFrontier = atCost !== null && def.varianceReductionPct > atCost;
      // Equal cost: if the default costs less than `other`, compare with what the time family gets
      // for the default's cost (interpolated); if it costs more, `other` would need to spend more.
      const beats =
        dominates ||
        (def.executionCostUsd > oc ? def.varianceReductionPct > ov && aboveFrontier : aboveFrontier);
      equalCost.push({
        against: other,
        defaultCostUsd: def.executionCostUsd,
        defaultVarianceReductionPct: def.varianceReductionPct,
        otherCostUsd: oc,
        otherVarianceReductionPct: ov,
        timeFamilyVarianceReductionAtDefaultCostPct: atCost,
        beats,
        how: dominates
          ? "dominates: no more cost and at least the variance reduction"
          : atCost === null
            ? "outside the time family's cost range"
            : `time family at the default's cost reaches ${atCost.toFixed(3)} %`,
      });
    }
    goals = {
      defaultPolicy: defaultName,
      varianceReductionGoalPct: 95,
      defaultVarianceReductionPct: def.varianceReductionPct,
      meetsVarianceGoal: def.varianceReductionPct >= 95,
      equalCost,
      beatsBothTimeBasedAtEqualCost: equalCost.length === 2 ? equalCost.every((e) => e.beats) : null,
    };
  }

  const missing = path.gaps.missingCount;
  return {
    path: {
      source: path.source,
      underlying: path.underlying,
      from: new Date(path.times[0] as number).toISOString(),
      to: new Date(path.times[path.times.length - 1] as number).toISOString(),
      bars: path.times.length,
      pathHours: ((path.times[path.times.length - 1] as number) - (path.times[0] as number)) / HOUR_MS,
      intervalMs: path.intervalMs,
      missingBars: missing,
      gaps: path.gaps.gaps.length,
      realisedVol: sigma,
      ivFromMarketPct: (path.ivFromMarket.reduce((a, b) => a + b, 0) / path.ivFromMarket.length) * 100,
      regimeCoveragePct: {
        ivLevel: coverage(path.ivLevel),
        ivChange: coverage(path.ivChange),
        skew: coverage(path.skew),
        fundingRate: coverage(path.fundingPerHour),
        etfFlowMomentum: coverage(path.etfFlowMomentum),
      },
    },
    results,
    unhedged,
    metrics,
    timeFrontier,
    frontier: o.sweep ? frontier : null,
    dermanKamal,
    goals,
    seconds: { policies: (t1 - t0) / 1000, frontier: (t2 - t1) / 1000, dermanKamal: (t3 - t2) / 1000 },
  };
}
