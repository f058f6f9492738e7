/**
 * Uniswap V3 spot model: a concentrated position behaves, inside its range, like a constant-product
 * pool with virtual reserves X (base) and Y = X·P (quote). Selling x base pays the pool fee on the
 * input and receives Y·x′/(X + x′), x′ = x·(1 − fee). Arbitrage is assumed to bring the pool price
 * back to the oracle between bars, and the virtual base depth X is held constant (so impact in
 * percent does not depend on the price level).
 *
 * Default depth: the local deployment's 5,000 WETH + 15M USDC in a ±30 % range around 3,000
 * (scripts/deploy/system.ts) has liquidity L = x·√P·√Pb/(√Pb − √P) ≈ 2.23e6, i.e. X = L/√P ≈ 40,700 WETH
 * of virtual depth; fee tier 500 (5 bps).
 */
import type { SpotQuotePoint } from "../../plan/types.ts";
import { ladderSizes } from "./perp.ts";

export type SpotModelParams = {
  /** Fee, fraction of the input (500 pips = 0.0005). */
  fee: number;
  /** Virtual base reserve X, underlying units. */
  virtualBaseDepth: number;
  /** Largest sale quoted (range edge), underlying units. */
  maxSale: number;
};

/** Virtual depth of `base` units + matching quote in a ±`rangePct` range (price-independent in units). */
export function virtualDepthFromRange(base: number, rangePct: number): number {
  const r = Math.sqrt(1 + rangePct);
  return (base * r) / (r - 1);
}

export const DEFAULT_ETH_SPOT: SpotModelParams = {
  fee: 0.0005,
  virtualBaseDepth: virtualDepthFromRange(5_000, 0.3),
  maxSale: 1_000,
};

/** Quote received for selling `size` base at pool price `price`. */
export function spotSellOut(p: SpotModelParams, price: number, size: number): number {
  const x = size * (1 - p.fee);
  return (p.virtualBaseDepth * price * x) / (p.virtualBaseDepth + x);
}

/** The sell ladder the plan stage reads. */
export function spotSellLadder(p: SpotModelParams, price: number, maxSize: number): SpotQuotePoint[] {
  return ladderSizes(Math.min(maxSize, p.maxSale)).map((size) => ({
    size,
    amountOut: spotSellOut(p, price, size),
  }));
}
