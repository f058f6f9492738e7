import { beforeAll, describe, expect, it } from "vitest";
import { defaultBacktestConfig, policiesByName, standardPolicies } from "./config.ts";
import { runModelBacktest, type BacktestResult } from "./engine.ts";
import { dailyPnl, maxDrawdown, policyMetrics, variance, type PolicyMetrics } from "./metrics.ts";
import { gbmPath, pathFromBars, syntheticPath } from "./path.ts";
import { runDermanKamal } from "./dermanKamal.ts";
import { dermanKamalStd } from "./metrics.ts";

describe("model engine: policies on a simulated path", () => {
  const path = syntheticPath({ seed: 11, days: 90 });
  const config = defaultBacktestConfig();
  let unhedged: BacktestResult;
  const m = new Map<string, PolicyMetrics>();
  const runs = new Map<string, BacktestResult>();
  beforeAll(() => {
    unhedged = runModelBacktest({ path, policy: policiesByName("unhedged")[0]!, config });
    for (const p of standardPolicies()) {
      const r = p.name === "unhedged" ? unhedged : runModelBacktest({ path, policy: p, config });
      runs.set(p.name, r);
      m.set(p.name, policyMetrics(r, unhedged));
    }
  });

  it("every hedged policy has lower daily P&L variance than unhedged; the default removes ≥ 95 %", () => {
    for (const [name, x] of m) {
      if (name === "unhedged") {
        expect(x.varianceReductionPct).toBe(0);
        continue;
      }
      expect(x.dailyPnlStdUsd).toBeLessThan(x.unhedgedDailyPnlStdUsd);
      expect(x.varianceReductionPct).toBeGreaterThan(80);
    }
    expect(m.get("regime-band")!.varianceReductionPct).toBeGreaterThanOrEqual(95);
  });

  it("hourly re-hedging reduces variance at least as much as daily, and costs more", () => {
    const h = m.get("time-hourly")!;
    const d = m.get("time-daily")!;
    expect(h.varianceReductionPct).toBeGreaterThanOrEqual(d.varianceReductionPct);
    expect(h.rebalances.total).toBeGreaterThan(20 * d.rebalances.total);
    expect(h.totalCostUsd).toBeGreaterThan(d.totalCostUsd);
    expect(h.trackingErrorPct).toBeLessThan(d.trackingErrorPct);
  });

  it("costs: fees and gas ≥ 0, the parts sum to the total, cumulative series end at the totals", () => {
    for (const [name, r] of runs) {
      const c = r.costs;
      expect(c.fees).toBeGreaterThanOrEqual(0);
      expect(c.gas).toBeGreaterThanOrEqual(0);
      expect(c.total).toBeCloseTo(c.fees + c.slippage + c.funding + c.gas, 6);
      expect(r.cumCost.gas.at(-1)).toBeCloseTo(c.gas, 6);
      expect(r.cumCost.fees.at(-1)).toBeCloseTo(c.fees, 6);
      if (name === "unhedged") expect(c.total).toBe(0);
      else {
        expect(c.fees).toBeGreaterThan(0);
        expect(c.gas).toBeGreaterThan(0);
        // Funding is a carry: income when the short perp receives it, so only the execution
        // costs must be positive.
        expect(c.fees + c.slippage + c.gas).toBeGreaterThan(0);
      }
      const tiers = r.rebalances.auto + r.rebalances.oneApproval + r.rebalances.twoApprovals;
      expect(tiers).toBe(r.rebalances.total);
      expect(r.decisions.hedge).toBe(r.rebalances.total);
    }
  });

  it("band policies keep the post-trade net delta inside their band", () => {
    const r = runs.get("regime-band")!;
    let hedges = 0;
    for (let i = 0; i < r.bars; i++) {
      const b = r.band[i]!;
      if (Number.isNaN(b)) continue;
      if (Math.abs(r.netPre[i]! - r.target) > b) hedges++;
      expect(Math.abs(r.netPost[i]! - r.target)).toBeLessThanOrEqual(b + 1e-6);
    }
    expect(hedges).toBeGreaterThan(0);
  });

  it("the regime moves the band: regime-band and ww-band differ on a path with regime data", () => {
    const a = runs.get("regime-band")!;
    const b = runs.get("ww-band")!;
    let differ = 0;
    for (let i = 0; i < a.bars; i++) if (Math.abs(a.band[i]! - b.band[i]!) > 1e-9) differ++;
    expect(differ).toBeGreaterThan(a.bars / 10);
  });

  it("is deterministic", () => {
    const again = runModelBacktest({ path, policy: policiesByName("regime-band")[0]!, config });
    expect(Array.from(again.value)).toEqual(Array.from(runs.get("regime-band")!.value));
  });

  it("records rejected bundles with the plan's reason (leg caps too small)", () => {
    const tight = { ...config, limits: { ...config.limits, maxPerpLegSize: 5, maxSpotLegSize: 0 } };
    const r = runModelBacktest({ path, policy: policiesByName("regime-band")[0]!, config: tight });
    expect(r.decisions.rejected).toBeGreaterThan(0);
    expect(r.rejections[0]!.example).toMatch(/plan infeasible: needs \d+ legs > 8: leg caps too small/);
    expect(r.rejections.reduce((a, x) => a + x.count, 0)).toBe(r.decisions.rejected);
  });

  it("counts approval tiers from the bundle notional", () => {
    const low = { ...config, limits: { ...config.limits, tier1Usd: 1_000, tier2Usd: 100_000 } };
    const r = runModelBacktest({ path, policy: policiesByName("time-daily")[0]!, config: low });
    expect(r.rebalances.twoApprovals).toBeGreaterThan(0); // the initial hedge (~750 ETH) is > 100k USD
    expect(r.rebalances.oneApproval + r.rebalances.auto).toBeGreaterThan(0);
  });
});

describe("replay gaps: the keeper stands down for missing bars and says why", () => {
  it("counts one stand-down per missing hour with the validate reason", () => {
    const bars = Array.from({ length: 200 }, (_, i) => ({
      time: Date.UTC(2024, 0, 1) + (i < 100 ? i : i + 3) * 3_600_000,
      open: 2000,
      high: 2000 + i,
      low: 1990,
      close: 2000 + (i % 7),
      volume: 1,
    }));
    const path = pathFromBars(bars, "ETH", 3_600_000);
    expect(path.gaps.missingCount).toBe(3);
    const r = runModelBacktest({
      path,
      policy: policiesByName("regime-band")[0]!,
      config: defaultBacktestConfig(),
    });
    expect(r.decisions.standDown).toBe(3);
    expect(r.standDowns[0]!.example).toContain("stand down: ETH inputs unusable (validate)");
    expect(r.standDowns[0]!.example).toContain("no price for 3 bar(s)");
  });
});

describe("metrics helpers", () => {
  it("daily P&L uses the last bar of each UTC day; variance and drawdown", () => {
    const H = 3_600_000;
    const t0 = Date.UTC(2024, 0, 1);
    const times = Float64Array.from({ length: 73 }, (_, i) => t0 + i * H);
    const cum = Float64Array.from({ length: 73 }, (_, i) => (i <= 24 ? 0 : i <= 48 ? 10 : -5));
    // the bar closing at 00:00 belongs to the day before: ends at bars 0, 24, 48, 72
    expect(dailyPnl(times, cum)).toEqual([0, 10, -15]);
    expect(variance([1, 2, 3, 4])).toBeCloseTo(5 / 3, 12);
    expect(maxDrawdown(100, Float64Array.from([0, 10, -20, 5]))).toEqual({ usd: 30, pct: (30 / 110) * 100 });
  });
});

describe("Derman–Kamal: discrete delta-hedging error of a short option under GBM", () => {
  it("the engine's realised hedge error matches sqrt(π/4)·vega·σ/√N", () => {
    // 1,000 GBM paths, 100 short ATM 30-day calls (σ 80 %), hedged 30 times by the time policy on
    // frictionless venues. Tolerance: 3 standard errors of the sample std (from the sample kurtosis,
    // ≈ 3 % each here) plus 3 % for the O(1/N) terms the leading-order formula leaves out.
    const r = runDermanKamal({
      paths: 1000,
      rebalances: 30,
      sigma: 0.8,
      s0: 3000,
      tenorDays: 30,
      units: 100,
      seed: 42,
    });
    expect(r.predictedStdUsd).toBeCloseTo(dermanKamalStd({ vega: r.vegaUsd, sigma: 0.8, rebalances: 30 }), 9);
    expect(Math.abs(r.realisedStdUsd - r.predictedStdUsd)).toBeLessThanOrEqual(
      3 * r.stdErrorUsd + 0.03 * r.predictedStdUsd,
    );
    // The mean error is ~0 (no drift in the hedged P&L under the model measure).
    expect(Math.abs(r.realisedMeanUsd)).toBeLessThan((4 * r.realisedStdUsd) / Math.sqrt(1000));
  });
  it("quadrupling the rebalances halves the error (1/√N)", () => {
    const a = runDermanKamal({
      paths: 400,
      rebalances: 12,
      sigma: 0.6,
      s0: 2000,
      tenorDays: 30,
      units: 50,
      seed: 3,
    });
    const b = runDermanKamal({
      paths: 400,
      rebalances: 48,
      sigma: 0.6,
      s0: 2000,
      tenorDays: 30,
      units: 50,
      seed: 3,
    });
    expect(a.realisedStdUsd / b.realisedStdUsd).toBeGreaterThan(1.7);
    expect(a.realisedStdUsd / b.realisedStdUsd).toBeLessThan(2.3);
  });
  it("the formula rejects N ≤ 0", () => {
    expect(() => dermanKamalStd({ vega: 1, sigma: 1, rebalances: 0 })).toThrow(/rebalances/);
  });
  it("GBM paths have the requested vol", () => {
    const p = gbmPath({ seed: 1, s0: 100, sigma: 0.5, steps: 20_000, stepMs: 3_600_000 });
    let s2 = 0;
    for (let i = 1; i < p.prices.length; i++) s2 += Math.log(p.prices[i]! / p.prices[i - 1]!) ** 2;
    const vol = Math.sqrt((s2 / 20_000) * 365 * 24);
    expect(vol).toBeGreaterThan(0.48);
    expect(vol).toBeLessThan(0.52);
  });
});
