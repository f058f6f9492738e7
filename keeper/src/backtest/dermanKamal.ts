/**
 * The Derman–Kamal check through the model engine: an options pool writes `units` at-the-money
 * calls for `tenorDays`, and the keeper's time-based policy delta-hedges them with the perp `N`
 * times at equal intervals, on GBM paths with constant vol σ (the assumptions of the formula: no
 * costs, no jumps, constant vol, r = 0). The realised standard deviation of the final P&L across
 * paths is compared with sqrt(π/4) · vega · σ / √N.
 */
import { bsGreeks } from "../price/blackScholes.ts";
import {
  RiskLimitsSchema,
  TreasurySchema,
  DEFAULT_KEEPER,
  DEFAULT_VENUES,
  type BacktestConfig,
} from "./config.ts";
import { runModelBacktest } from "./engine.ts";
import { dermanKamalStd } from "./metrics.ts";
import { AMM_YEAR_MS } from "./model/options.ts";
import { DAY_MS, gbmPath } from "./path.ts";

export type DermanKamalInput = {
  paths: number;
  rebalances: number;
  sigma: number;
  s0: number;
  tenorDays: number;
  units: number;
  seed: number | string;
};

export type DermanKamalResult = DermanKamalInput & {
  vegaUsd: number;
  predictedStdUsd: number;
  realisedStdUsd: number;
  realisedMeanUsd: number;
  /** Standard error of the realised std (from the sample kurtosis). */
  stdErrorUsd: number;
  /** realised / predicted. */
  ratio: number;
};

/** Frictionless venues and a policy wide enough never to bind. */
export function frictionlessConfig(units: number, expiry: number): BacktestConfig {
  return {
    treasury: TreasurySchema.parse({
      spot: 0,
      liabilities: 0,
      proceedsPerHour: 0,
      coveredCalls: null,
      writtenOptions: [{ isCall: true, strikeFraction: 1, expiry, units: -units }],
    }),
    limits: RiskLimitsSchema.parse({
      band: 1e9,
      maxPerpLegSize: 1e9,
      maxPerpPosition: 1e9,
      tier1Usd: 1e15,
      tier2Usd: 1e16,
    }),
    venues: {
      ...DEFAULT_VENUES,
      perp: {
        ...DEFAULT_VENUES.perp,
        skewScale: 1e15,
        makerFeeBps: 0,
        takerFeeBps: 0,
        maxFundingRatePerDay: 0,
        maxOpenInterest: 1e9,
      },
      funding: "venue",
      options: {
        ...DEFAULT_VENUES.options,
        feeBps: 0,
        vegaSpreadCoeff: 0,
        exposureCoeff: 0,
        capMultiple: 10,
      },
      smile: { skew: 0, curvature: 0 },
      gas: { ...DEFAULT_VENUES.gas, gasPriceGwei: 0 },
    },
    keeper: { ...DEFAULT_KEEPER, minTradeUnits: 1e-9 },
  };
}

export function runDermanKamal(input: DermanKamalInput): DermanKamalResult {
  const { paths, rebalances: N, sigma, s0, tenorDays, units } = input;
  const tenorMs = tenorDays * DAY_MS;
  const stepMs = Math.round(tenorMs / N);
  const finals: number[] = [];
  for (let k = 0; k < paths; k++) {
    const path = gbmPath({ seed: `${String(input.seed)}|${k}`, s0, sigma, steps: N, stepMs });
    const expiry = path.times[N] as number;
    const r = runModelBacktest({
      path,
      policy: { name: "time-dk", kind: "time", overlay: false, intervalHours: stepMs / 3_600_000 },
      config: frictionlessConfig(units, expiry),
    });
    finals.push((r.value[N] as number) - (r.value[0] as number));
  }
  const m = finals.reduce((a, b) => a + b, 0) / paths;
  const m2 = finals.reduce((a, b) => a + (b - m) ** 2, 0) / (paths - 1);
  const m4 = finals.reduce((a, b) => a + (b - m) ** 4, 0) / paths;
  const sd = Math.sqrt(m2);
  // Var(s²) ≈ (m4 − σ⁴ (n − 3)/(n − 1)) / n; se(s) ≈ se(s²) / (2 s).
  const varS2 = (m4 - (m2 * m2 * (paths - 3)) / (paths - 1)) / paths;
  const stdErrorUsd = Math.sqrt(Math.max(varS2, 0)) / (2 * sd);
  const vegaUsd = units * bsGreeks(s0, s0, tenorMs / AMM_YEAR_MS, sigma, 0, true).vega;
  const predictedStdUsd = dermanKamalStd({ vega: vegaUsd, sigma, rebalances: N });
  return {
    ...input,
    vegaUsd,
    predictedStdUsd,
    realisedStdUsd: sd,
    realisedMeanUsd: m,
    stdErrorUsd,
    ratio: sd / predictedStdUsd,
  };
}
