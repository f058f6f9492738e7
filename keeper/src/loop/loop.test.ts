import { describe, expect, it } from "vitest";
import { getAddress } from "viem";
import type { Decision } from "../decide/types.ts";
import { LegKind, type Leg, type Plan } from "../plan/types.ts";
import { perpFill, perpLadder, reduceOnlyOk } from "./index.ts";

const A = getAddress("0x00000000000000000000000000000000000000ad");
const W = 10n ** 18n;

describe("loop: local perp model (PerpDEX pricing)", () => {
  const m = { index: 3_000, skew: -400, skewScale: 1_000_000, makerFeeBps: 2, takerFeeBps: 5 };
  it("fill = index × (1 + (skew + size/2)/skewScale); maker fee on the skew-reducing part", () => {
    const buy = perpFill(m, 100);
    expect(buy.avgPrice).toBeCloseTo(3_000 * (1 + (-400 + 50) / 1_000_000), 9);
    expect(buy.feeUsd).toBeCloseTo((100 * 2 * buy.avgPrice) / 10_000, 9);
    const big = perpFill(m, 1_000); // 400 maker, 600 taker
    expect(big.feeUsd).toBeCloseTo(((400 * 2 + 600 * 5) * big.avgPrice) / 10_000, 9);
    const sell = perpFill(m, -100); // increases |skew|: all taker
    expect(sell.feeUsd).toBeCloseTo((100 * 5 * sell.avgPrice) / 10_000, 9);
    expect(sell.avgPrice).toBeLessThan(3_000);
  });

  it("ladder: ascending sizes up to 2 × |gap| on the gap's side only", () => {
    const l = perpLadder(m, -80);
    expect(l.buy).toEqual([]);
    expect(l.sell.map((p) => p.size)).toEqual([20, 40, 60, 80, 100, 120, 160]);
    expect(perpLadder(m, 0)).toEqual({ buy: [], sell: [] });
  });
});

describe("loop: reduce-only rule", () => {
  const d = (net: number, gap: number): Decision => ({
    underlying: "ETH",
    action: "hedge",
    reasons: [],
    net,
    target: 0,
    targetNet: net + gap,
    gap,
    band: 10,
    wwBand: 10,
    regime: null,
  });
  const perp = (amount: bigint): Leg => ({
    kind: LegKind.Perp,
    adapter: A,
    underlying: A,
    id: 0n,
    amount,
    bound: 0n,
  });
  const plan = (legs: Leg[], after: number): Plan => ({
    status: "ok",
    legs,
    rationale: [],
    expectedNetAfter: after,
    notionalUsd: 0,
    premiumUsd: 0,
    deadline: 1n,
  });
  it("accepts legs that move toward the target without overshoot; rejects the rest", () => {
    const legs = [perp(-100n * W)];
    expect(reduceOnlyOk(legs, [{ decision: d(100, -100), plan: plan(legs, 0) }])).toBe(true);
    const wrong = [perp(100n * W)];
    expect(reduceOnlyOk(wrong, [{ decision: d(100, -100), plan: plan(wrong, 0) }])).toBe(false);
    const over = [perp(-150n * W)];
    expect(reduceOnlyOk(over, [{ decision: d(100, -150), plan: plan(over, -50) }])).toBe(false);
    const spotBuy: Leg[] = [{ kind: LegKind.Spot, adapter: A, underlying: A, id: 0n, amount: 5n, bound: 0n }];
    expect(reduceOnlyOk(spotBuy, [{ decision: d(-50, 50), plan: plan(spotBuy, 0) }])).toBe(false);
  });
});
