/**
 * Regime score: one number in [-1, 1] summarising how stressed the market is (negative = stressed,
 * positive = calm), from five inputs. Each input is mapped to a signal in (-1, 1) by a tanh of its
 * deviation from a neutral level divided by a scale, signed so that positive means calm:
 *
 *   etfFlowMomentum   s = tanh(z / etfFlowZ)                    inflows calm, outflows stress
 *   ivLevel           s = −tanh((iv − ivRef) / ivScale)         vol above its reference is stress
 *   ivChange          s = −tanh(Δiv / ivChange)                 rising vol is stress
 *   skew              s = −tanh(skew / skew)                    puts bid over calls is stress
 *   fundingRate       s = 1 − 2 tanh(|f| / fundingPerHour)      crowded leverage either way is stress
 *
 * score = Σ wᵢ sᵢ / Σ wᵢ over the inputs present (weights ≥ 0); `parts[i]` = wᵢ sᵢ / Σ wⱼ, so the
 * parts sum to the score. With no input present the score is 0 (neutral).
 */
import type { RegimeInput, RegimeInputs } from "./types.ts";

export type RegimeWeights = Record<RegimeInput, number>;

export type RegimeScales = {
  /** z-score that maps to tanh(1) ≈ 0.76. */
  etfFlowZ: number;
  /** Neutral implied vol (annualised fraction) and the distance from it that maps to ±0.76. */
  ivRef: number;
  ivScale: number;
  /** 1-day IV change (fraction) that maps to −0.76. */
  ivChange: number;
  /** Put-minus-call vol spread (fraction) that maps to −0.76. */
  skew: number;
  /** |funding| per hour at which the funding signal is 1 − 2 tanh(1) ≈ −0.52. */
  fundingPerHour: number;
};

export const REGIME_INPUTS: readonly RegimeInput[] = [
  "etfFlowMomentum",
  "ivLevel",
  "ivChange",
  "skew",
  "fundingRate",
] as const;

export const DEFAULT_REGIME_WEIGHTS: RegimeWeights = {
  etfFlowMomentum: 1,
  ivLevel: 1,
  ivChange: 1,
  skew: 1,
  fundingRate: 0.5,
};

export const DEFAULT_REGIME_SCALES: RegimeScales = {
  etfFlowZ: 2,
  ivRef: 0.6,
  ivScale: 0.2,
  ivChange: 0.05,
  skew: 0.05,
  fundingPerHour: 5e-5,
};

export type RegimeScore = {
  /** In [-1, 1]; negative = stressed. */
  score: number;
  /** Each input's weighted contribution (0 when missing); they sum to `score`. */
  parts: Record<RegimeInput, number>;
  /** Each input's signal in (-1, 1), null when missing. */
  signals: Record<RegimeInput, number | null>;
  missing: RegimeInput[];
};

function signal(input: RegimeInput, x: number, k: RegimeScales): number {
  switch (input) {
    case "etfFlowMomentum":
      return Math.tanh(x / k.etfFlowZ);
    case "ivLevel":
      return -Math.tanh((x - k.ivRef) / k.ivScale);
    case "ivChange":
      return -Math.tanh(x / k.ivChange);
    case "skew":
      return -Math.tanh(x / k.skew);
    case "fundingRate":
      return 1 - 2 * Math.tanh(Math.abs(x) / k.fundingPerHour);
  }
}

/** The regime score of `inputs`; throws a RangeError on a non-finite input, weight or scale. */
export function regimeScore(
  inputs: RegimeInputs,
  weights: RegimeWeights = DEFAULT_REGIME_WEIGHTS,
  scales: RegimeScales = DEFAULT_REGIME_SCALES,
): RegimeScore {
  for (const [name, v] of Object.entries(scales)) {
    const ok = name === "ivRef" ? Number.isFinite(v) : Number.isFinite(v) && v > 0;
    if (!ok)
      throw new RangeError(`regime scale ${name} must be finite${name === "ivRef" ? "" : " and > 0"}: ${v}`);
  }
  const signals = {} as Record<RegimeInput, number | null>;
  const missing: RegimeInput[] = [];
  let wSum = 0;
  for (const name of REGIME_INPUTS) {
    const w = weights[name];
    if (!(Number.isFinite(w) && w >= 0))
      throw new RangeError(`regime weight ${name} must be finite and ≥ 0: ${w}`);
    const x = inputs[name];
    if (x === null) {
      signals[name] = null;
      missing.push(name);
      continue;
    }
    if (!Number.isFinite(x)) throw new RangeError(`regime input ${name} is not finite: ${x}`);
    signals[name] = signal(name, x, scales);
    wSum += w;
  }
  const parts = {} as Record<RegimeInput, number>;
  let score = 0;
  for (const name of REGIME_INPUTS) {
    const s = signals[name];
    const p = s === null || weights[name] === 0 ? 0 : (weights[name] * s) / wSum;
    parts[name] = p;
    score += p;
  }
  return { score: Math.max(-1, Math.min(1, score)), parts, signals, missing };
}
