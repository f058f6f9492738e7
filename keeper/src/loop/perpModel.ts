/**
 * Local perp quotes: PerpDEX's pricing replicated from its market state, so the plan needs no extra
 * round trip. PerpDEX fills an order of signed size Δ at
 *
 *     fill = index × (1 + (skew + Δ/2) / skewScale)
 *
 * and charges makerFeeBps on the part of |Δ| that moves the skew toward zero, takerFeeBps on the
 * rest, times the fill price (contracts/venues/perp/PerpDEX.sol `_fillPrice`, `_fee`). The
 * simulation (eth_call) of every bundle before it is sent checks the venue's real answer; the e2e
 * test compares this model with `PerpDEX.quote`.
 */
import type { PerpQuotePoint } from "../plan/types.ts";

export type PerpMarket = {
  /** Oracle (index) price, USD. */
  index: number;
  /** Long − short open interest, units. */
  skew: number;
  skewScale: number;
  makerFeeBps: number;
  takerFeeBps: number;
};

/** Average fill price and fee of a signed order of `size` units (> 0 buy). */
export function perpFill(m: PerpMarket, size: number): { avgPrice: number; feeUsd: number } {
  const avgPrice = m.index * (1 + (m.skew + size / 2) / m.skewScale);
  const abs = Math.abs(size);
  const maker = m.skew !== 0 && m.skew > 0 !== size > 0 ? Math.min(abs, Math.abs(m.skew)) : 0;
  const feeUsd = ((maker * m.makerFeeBps + (abs - maker) * m.takerFeeBps) * avgPrice) / 10_000;
  return { avgPrice, feeUsd };
}

export const LADDER_FRACTIONS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2] as const;

/** A quote ladder for trading up to 2 × |gap| on the gap's side (empty for the other side). */
export function perpLadder(m: PerpMarket, gap: number): { buy: PerpQuotePoint[]; sell: PerpQuotePoint[] } {
  const side = gap >= 0 ? 1 : -1;
  const points: PerpQuotePoint[] = [];
  for (const f of LADDER_FRACTIONS) {
    const size = Math.abs(gap) * f;
    if (!(size > 0)) continue;
    const q = perpFill(m, side * size);
    if (!(q.avgPrice > 0)) break;
    points.push({ size, avgPrice: q.avgPrice, feeUsd: q.feeUsd });
  }
  return side > 0 ? { buy: points, sell: [] } : { buy: [], sell: points };
}
