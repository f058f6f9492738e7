/**
 * The two backtest engines on one fixed path: the chain engine (real contracts on the embedded
 * chain, the live keeper) and the model engine (the same keeper decide/plan code over TypeScript
 * venue models) must agree. Stated tolerance, per policy, on a 6-day hourly path hedging an
 * 850-ETH net book (~$2.5M of perp hedges, unhedged P&L swinging by ~$50k):
 * - the same number of rebalances;
 * - fees and slippage within 2 % (+ $1): both engines price the same fills (128 hourly trades of a
 *   few units each accumulate the WAD rounding of sizes and skew);
 * - funding within 5 % (+ $5): the DEX accrues it continuously, the model per bar;
 * - gas: the model's per-bundle constants (from the gas benchmark) within [0.9, 2] × the receipts
 *   (the first bundle of a run opens the position and deposits margin: cold storage);
 * - cumulative hedged P&L excluding gas: at every bar within max($25, 0.1 % of the largest
 *   unhedged cumulative P&L);
 * - daily P&L variance reduction within 0.01 percentage points.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { beforeAll, describe, expect, it } from "vitest";
import { runChainBacktest, type ChainBacktest } from "../../../scripts/backtest/chainEngine.ts";
import { BASE_POLICIES, DEFAULT_VENUES, defaultBacktestConfig } from "../../../keeper/src/backtest/config.ts";
import { runModelBacktest, type BacktestResult } from "../../../keeper/src/backtest/engine.ts";
import { cumulativePnl, policyMetrics } from "../../../keeper/src/backtest/metrics.ts";
import { syntheticPath } from "../../../keeper/src/backtest/path.ts";

const path = syntheticPath({ seed: "agree2", days: 6 });
const config = {
  ...defaultBacktestConfig({ treasury: { coveredCalls: null } }),
  // The chain's perp charges its own skew formula: the model must too (not the path's market funding).
  venues: { ...DEFAULT_VENUES, funding: "venue" as const },
};
const NAMES = ["time-hourly", "time-daily", "fixed-band", "regime-band"];
const policies = BASE_POLICIES.filter((p) => NAMES.includes(p.name));
let chain: ChainBacktest;

beforeAll(async () => {
  chain = await runChainBacktest({
    path,
    policies,
    config,
    workDir: mkdtempSync(join(tmpdir(), "chain-vs-model-")),
    connection: await network.connect(),
  });
}, 240_000);

const exGas = (r: BacktestResult) => cumulativePnl(r).map((v, i) => v + (r.cumCost.gas[i] as number));

describe("chain engine vs model engine on one path", () => {
  it("the unhedged baseline is the same treasury in both (flows, prices, liabilities)", () => {
    const model = runModelBacktest({ path, policy: BASE_POLICIES[0]!, config });
    const c = cumulativePnl(chain.results[0]!);
    const m = cumulativePnl(model);
    expect(chain.results[0]!.policy.name).toBe("unhedged");
    for (let i = 0; i < m.length; i++) expect(Math.abs((c[i] as number) - (m[i] as number))).toBeLessThan(1);
  });

  it.each(NAMES)("%s: same rebalances, costs and hedged P&L within the stated tolerance", (name) => {
    const r = chain.results.find((x) => x.policy.name === name)!;
    const policy = policies.find((p) => p.name === name)!;
    const m = runModelBacktest({ path, policy, config });
    const unhedged = runModelBacktest({ path, policy: BASE_POLICIES[0]!, config });
    expect(r.rebalances.total).toBeGreaterThan(0);
    expect(r.rebalances.total).toBe(m.rebalances.total);
    for (const k of ["fees", "slippage"] as const)
      expect(Math.abs(r.costs[k] - m.costs[k])).toBeLessThanOrEqual(0.02 * m.costs[k] + 1);
    expect(Math.abs(r.costs.funding - m.costs.funding)).toBeLessThanOrEqual(
      0.05 * Math.abs(m.costs.funding) + 5,
    );
    expect(m.costs.gas).toBeGreaterThanOrEqual(r.costs.gas / 2);
    expect(m.costs.gas).toBeLessThanOrEqual(r.costs.gas * 1.1);

    const u = cumulativePnl(unhedged);
    let maxU = 0;
    for (const x of u) maxU = Math.max(maxU, Math.abs(x));
    expect(maxU).toBeGreaterThan(20_000); // the path moves the book: agreement is not trivial
    const tol = Math.max(25, 1e-3 * maxU);
    const a = exGas(r);
    const b = exGas(m);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
    expect(worst).toBeLessThanOrEqual(tol);

    const vrChain = policyMetrics(r, chain.results[0]!).varianceReductionPct;
    const vrModel = policyMetrics(m, unhedged).varianceReductionPct;
    expect(vrChain).toBeGreaterThan(99);
    expect(Math.abs(vrChain - vrModel)).toBeLessThan(0.01);
  });

  it("every rebalance on chain left the vault inside its governed band", () => {
    for (const r of chain.results.slice(1)) {
      for (let i = 0; i < r.bars; i++) {
        if (r.netPost[i] === r.netPre[i]) continue;
        expect(Math.abs((r.netPost[i] as number) - config.limits.targetDelta)).toBeLessThanOrEqual(
          config.limits.band,
        );
      }
    }
  });
});
