/**
 * Types of the decide stage. Units (all plain JS numbers, converted from the vault's WAD values by
 * the exposure stage):
 * - deltas, positions, liabilities, bands: underlying units (1 = one whole ETH / BTC);
 * - prices: USD per whole unit of the underlying;
 * - gamma: d(net delta)/d(price), underlying units per USD;
 * - vega: d(value)/d(vol), USD per 1.00 of annualised vol (per 100 vol points);
 * - ratios: plain fractions (the vault's WAD ratios / 1e18).
 */
import type { Underlying } from "../feeds/types.ts";
import type { ValidationResult } from "../validate/index.ts";

/** Exposure of one underlying, as the vault's `exposure(underlying)` view reports it (in numbers). */
export type Exposure = {
  underlying: Underlying;
  /** Underlying held by the vault. */
  spot: number;
  /** Aggregate option delta. */
  options: number;
  /** Aggregate perp size (signed). */
  perps: number;
  /** Liabilities in the underlying (creator payouts owed, ...). */
  liabilities: number;
  /** spot + options + perps − liabilities. */
  net: number;
  /** RiskPolicy target delta. */
  target: number;
  /** RiskPolicy band: allowed |net − target| after a rebalance. */
  band: number;
  /** Oracle price, USD per unit. */
  price: number;
};

/** Aggregate greeks of the vault's book in one underlying. */
export type Greeks = {
  /** d(net delta)/d(price): underlying units per USD (only options contribute). */
  gamma: number;
  /** USD per 1.00 of annualised implied vol. */
  vega: number;
};

/**
 * Market-regime inputs. `null` marks an input that is unavailable (not required by validate); its
 * weight is then spread over the inputs that are present.
 */
export type RegimeInputs = {
  /** z-score of recent daily spot-ETF net flows (positive = inflows). */
  etfFlowMomentum: number | null;
  /** ATM implied vol, annualised fraction (0.65 = 65 vol points). */
  ivLevel: number | null;
  /** 1-day change of `ivLevel`, same units (+0.05 = up 5 vol points). */
  ivChange: number | null;
  /** 25-delta put vol minus 25-delta call vol, fraction (positive = puts bid). */
  skew: number | null;
  /** Perp funding rate per hour, fraction (positive = longs pay). */
  fundingRate: number | null;
};

export type RegimeInput = keyof RegimeInputs;

/** The RiskPolicy limits of one underlying plus the global slippage limit, in numbers. */
export type HedgePolicy = {
  enabled: boolean;
  /** Allowed |net − target| after a rebalance (underlying units). */
  band: number;
  /** The keeper may close between these fractions of the gap when |net − target| > band. */
  minHedgeRatio: number;
  maxHedgeRatio: number;
  /** Per-leg size caps, underlying units (0 = instrument not usable). */
  maxOptionLegSize: number;
  maxPerpLegSize: number;
  maxSpotLegSize: number;
  /** |aggregate perp size| allowed after a rebalance. */
  maxPerpPosition: number;
  /** Option premium (USD) the keeper may still pay in the current window. */
  premiumBudgetRemaining: number;
  maxOpenSeries: number;
  /** Every linear leg's execution price vs the oracle, and every leg's fee vs its notional. */
  maxSlippageBps: number;
};

export type RegimeLabel = "stressed" | "neutral" | "calm";

export type Decision = {
  underlying: Underlying;
  action: "hold" | "hedge" | "standDown";
  /** Human-readable, in order; the first line says why the action was taken. */
  reasons: string[];
  net: number;
  target: number;
  /** Net delta the plan should reach: the target or the band edge (per `hedgeTo`); `net` unless hedging. */
  targetNet: number;
  /** targetNet − net: the delta the plan must add (negative = sell delta). */
  gap: number;
  /** Effective band (after regime and clamps); null when standing down. */
  band: number | null;
  /** Whalley–Wilmott half-width before regime and clamps; null when standing down. */
  wwBand: number | null;
  regime: { score: number; label: RegimeLabel; multiplier: number } | null;
};

export type ValidationView = Pick<ValidationResult, "usable" | "alerts">;
