/**
 * No-trade band around the target delta.
 *
 * Whalley & Wilmott, "An asymptotic analysis of an optimal hedging model for option pricing with
 * transaction costs", Mathematical Finance 7(3), 1997, 307–324 (the asymptotic form of the
 * Hodges–Neuberger utility-indifference hedge): with proportional transaction cost λ (fraction of the
 * traded notional) and exponential-utility risk aversion γ, the optimal strategy leaves the hedge
 * alone while |Δ − Δ*| ≤ H and trades back to the band edge when it leaves it, with
 *
 *     H = ( 3/2 · e^{−r(T−t)} · λ · S · Γ² / γ )^{1/3}
 *
 * Units here: S in USD per unit of the underlying, Γ the book's d(net delta)/dS in underlying units
 * per USD, γ the absolute risk aversion per USD, λ dimensionless; H is then in underlying units
 * (as in the paper, one "unit" is one whole ETH / BTC: the formula is taken in those natural units).
 * `discount` is e^{−r(T−t)} (default 1: on hedging horizons of hours it is ≈ 1). The band does not
 * depend on volatility at leading order. A linear book (Γ ≈ 0) gives H ≈ 0: the caller's `minBand`
 * floor applies then.
 */
import type { RegimeLabel } from "./types.ts";

export type WhalleyWilmottInput = {
  /** Book gamma, underlying units per USD (sign irrelevant: Γ² enters). */
  gamma: number;
  /** USD per unit, > 0. */
  price: number;
  /** Proportional cost λ of trading the hedge (fees + impact), fraction of notional, ≥ 0. */
  costPerUnit: number;
  /** Absolute risk aversion γ, per USD, > 0. */
  riskAversion: number;
  /** e^{−r(T−t)} in (0, 1]; default 1. */
  discount?: number;
  /** Floor for a linear book, underlying units; default 0. */
  minBand?: number;
};

/** Whalley–Wilmott half-width H (underlying units), floored at `minBand`. Throws RangeError on bad input. */
export function whalleyWilmottBand(input: WhalleyWilmottInput): number {
  const { gamma, price, costPerUnit, riskAversion } = input;
  const discount = input.discount ?? 1;
  const minBand = input.minBand ?? 0;
  if (!Number.isFinite(gamma)) throw new RangeError(`gamma must be finite: ${gamma}`);
  if (!(Number.isFinite(price) && price > 0)) throw new RangeError(`price must be finite and > 0: ${price}`);
  if (!(Number.isFinite(costPerUnit) && costPerUnit >= 0))
    throw new RangeError(`costPerUnit must be finite and ≥ 0: ${costPerUnit}`);
  if (!(Number.isFinite(riskAversion) && riskAversion > 0))
    throw new RangeError(`riskAversion must be finite and > 0: ${riskAversion}`);
  if (!(Number.isFinite(discount) && discount > 0 && discount <= 1))
    throw new RangeError(`discount must be in (0, 1]: ${discount}`);
  if (!(Number.isFinite(minBand) && minBand >= 0))
    throw new RangeError(`minBand must be finite and ≥ 0: ${minBand}`);
  const h = Math.cbrt((1.5 * discount * costPerUnit * price * gamma * gamma) / riskAversion);
  return Math.max(h, minBand);
}

export type BandConfig = {
  /** Smallest band the keeper uses (a linear book's band), underlying units. */
  minBand: number;
  /** Multiplier at score −1 (fully stressed), in (0, 1]: tightens. */
  stressedMultiplier: number;
  /** Multiplier at score +1 (fully calm), ≥ 1: widens. */
  calmMultiplier: number;
  /** score ≤ this is labelled stressed (drives the options overlay). */
  stressedBelow: number;
  /** score ≥ this is labelled calm. */
  calmAbove: number;
};

export const DEFAULT_BAND_CONFIG: BandConfig = {
  minBand: 0,
  stressedMultiplier: 0.5,
  calmMultiplier: 1.5,
  stressedBelow: -0.25,
  calmAbove: 0.25,
};

export type EffectiveBand = {
  band: number;
  ww: number;
  score: number;
  label: RegimeLabel;
  /** Linear in the score: 1 at 0, stressedMultiplier at −1, calmMultiplier at +1. */
  multiplier: number;
  /** ww × multiplier before the clamps. */
  unclamped: number;
  clamp: "none" | "floor" | "policy";
};

export function regimeLabel(
  score: number,
  config: Pick<BandConfig, "stressedBelow" | "calmAbove">,
): RegimeLabel {
  return score <= config.stressedBelow ? "stressed" : score >= config.calmAbove ? "calm" : "neutral";
}

/** Regime multiplier for `score` ∈ [-1, 1]: ×stressedMultiplier..×1..×calmMultiplier, linear on each side. */
export function regimeMultiplier(
  score: number,
  config: Pick<BandConfig, "stressedMultiplier" | "calmMultiplier">,
): number {
  const s = Math.max(-1, Math.min(1, score));
  return s >= 0 ? 1 + s * (config.calmMultiplier - 1) : 1 + s * (1 - config.stressedMultiplier);
}

/**
 * The band the keeper uses: the WW half-width times the regime multiplier, clamped to
 * [minBand, policy.band]. The policy always wins: with minBand > policy.band the band is policy.band.
 */
export function effectiveBand(
  ww: number,
  regime: { score: number },
  policy: { band: number },
  config: BandConfig = DEFAULT_BAND_CONFIG,
): EffectiveBand {
  if (!(Number.isFinite(ww) && ww >= 0)) throw new RangeError(`ww band must be finite and ≥ 0: ${ww}`);
  if (!(Number.isFinite(policy.band) && policy.band > 0))
    throw new RangeError(`policy band must be finite and > 0: ${policy.band}`);
  if (!Number.isFinite(regime.score)) throw new RangeError(`regime score must be finite: ${regime.score}`);
  if (!(config.stressedMultiplier > 0 && config.stressedMultiplier <= 1))
    throw new RangeError(`stressedMultiplier must be in (0, 1]: ${config.stressedMultiplier}`);
  if (!(Number.isFinite(config.calmMultiplier) && config.calmMultiplier >= 1))
    throw new RangeError(`calmMultiplier must be finite and ≥ 1: ${config.calmMultiplier}`);
  if (!(Number.isFinite(config.minBand) && config.minBand >= 0))
    throw new RangeError(`minBand must be finite and ≥ 0: ${config.minBand}`);
  const multiplier = regimeMultiplier(regime.score, config);
  const unclamped = ww * multiplier;
  let band = unclamped;
  let clamp: EffectiveBand["clamp"] = "none";
  if (band < config.minBand) {
    band = config.minBand;
    clamp = "floor";
  }
  if (band > policy.band) {
    band = policy.band;
    clamp = "policy";
  }
  return {
    band,
    ww,
    score: regime.score,
    label: regimeLabel(regime.score, config),
    multiplier,
    unclamped,
    clamp,
  };
}
