/**
 * Fast model of the reference perpetual DEX (contracts/venues/perp/PerpDEX.sol), in plain numbers.
 * Same economics as the contract, without its WAD rounding:
 *
 * - fill price  = index × (1 + (skew + sizeDelta / 2) / skewScale)      (average premium over the order)
 * - fee         = (makerPart × makerFeeBps + (|Δ| − makerPart) × takerFeeBps) / 1e4 × fill, where the
 *                 maker part is the part of |Δ| that moves the skew toward zero: min(|Δ|, |skew|) when
 *                 the order's sign is opposite to the skew, else 0
 * - funding     = clamp(skew / skewScale, −1, 1) × maxFundingRatePerDay per day (+ = longs pay), owed
 *                 per unit of size × index price
 * - positions are valued at the index price (no premium), as the contract's margin checks do.
 *
 * The skew seen by an order is the vault's own position plus a configurable background skew (the
 * rest of the market). Defaults are the deploy script's WETH market (scripts/deploy/perp.ts).
 */
import type { PerpQuotePoint } from "../../plan/types.ts";

export type PerpModelParams = {
  /** Skew at which the premium is 100 % and funding saturates, underlying units. */
  skewScale: number;
  /** Funding at |skew| ≥ skewScale, fraction per day. */
  maxFundingRatePerDay: number;
  makerFeeBps: number;
  takerFeeBps: number;
  /** Cap per side, underlying units (the quote ladder stops there). */
  maxOpenInterest: number;
  maintenanceMarginRatio: number;
};

/** scripts/deploy/perp.ts defaultWethPerpParams. */
export const DEFAULT_ETH_PERP: PerpModelParams = {
  skewScale: 1_000_000,
  maxFundingRatePerDay: 0.01,
  makerFeeBps: 2,
  takerFeeBps: 5,
  maxOpenInterest: 100_000,
  maintenanceMarginRatio: 0.02,
};

/** scripts/deploy/perp.ts defaultWbtcPerpParams. */
export const DEFAULT_BTC_PERP: PerpModelParams = {
  ...DEFAULT_ETH_PERP,
  skewScale: 50_000,
  maxOpenInterest: 5_000,
};

/** index × (1 + (skew + sizeDelta / 2) / skewScale). */
export function perpFillPrice(p: PerpModelParams, index: number, skew: number, sizeDelta: number): number {
  return index * (1 + (skew + sizeDelta / 2) / p.skewScale);
}

/** Maker fee on the skew-reducing part of |sizeDelta|, taker fee on the rest, times the fill price. */
export function perpFee(p: PerpModelParams, skew: number, sizeDelta: number, fillPrice: number): number {
  const abs = Math.abs(sizeDelta);
  const makerPart = skew !== 0 && skew > 0 !== sizeDelta > 0 ? Math.min(abs, Math.abs(skew)) : 0;
  return ((makerPart * p.makerFeeBps + (abs - makerPart) * p.takerFeeBps) / 10_000) * fillPrice;
}

/** clamp(skew / skewScale, −1, 1) × maxFundingRatePerDay (fraction per day, + = longs pay). */
export function perpFundingRatePerDay(p: PerpModelParams, skew: number): number {
  const r = Math.max(-1, Math.min(1, skew / p.skewScale));
  return r * p.maxFundingRatePerDay;
}

export type PerpFill = { fillPrice: number; fee: number; slippage: number };

/** Executes `sizeDelta` against skew `skew`: fill, fee and slippage vs the index (cost, + = paid). */
export function perpTrade(p: PerpModelParams, index: number, skew: number, sizeDelta: number): PerpFill {
  const fillPrice = perpFillPrice(p, index, skew, sizeDelta);
  return {
    fillPrice,
    fee: perpFee(p, skew, sizeDelta, fillPrice),
    slippage: (fillPrice - index) * sizeDelta,
  };
}

/** Quote ladder sizes: 1, 3, 10, 30, … up to the open-interest headroom. */
export function ladderSizes(max: number): number[] {
  const out: number[] = [];
  for (let s = 1; s < max; s *= Math.sqrt(10)) out.push(Math.round(s * 1e6) / 1e6);
  if (max > 0) out.push(max);
  return out;
}

/** The venue's quote ladder for buying (side +1) or selling (−1), as the plan stage reads it. */
export function perpQuoteLadder(
  p: PerpModelParams,
  index: number,
  skew: number,
  side: 1 | -1,
  position: number,
): PerpQuotePoint[] {
  // Headroom on the side the order grows: shorts are capped by the short OI cap, longs by the long one.
  const headroom =
    Math.max(0, p.maxOpenInterest - Math.max(0, side * position)) + Math.max(0, -side * position);
  return ladderSizes(headroom).map((size) => {
    const f = perpFillPrice(p, index, skew, side * size);
    return { size, avgPrice: f, feeUsd: perpFee(p, skew, side * size, f) };
  });
}
