import { describe, expect, it } from "vitest";
import { getAddress, zeroAddress, type Address } from "viem";
import { LegKind, type Leg } from "../plan/types.ts";
import { approvedFor, bundleNotionalWad, tierOf, type Proposal } from "./index.ts";

const W = 10n ** 18n;
const ETH = getAddress("0x00000000000000000000000000000000000000e1");
const BTC = getAddress("0x00000000000000000000000000000000000000b1");
const AD = getAddress("0x00000000000000000000000000000000000000ad");
const leg = (kind: Leg["kind"], underlying: Address, amount: bigint): Leg => ({
  kind,
  adapter: AD,
  underlying,
  id: 0n,
  amount,
  bound: 0n,
});
const price = (u: Address) => (u === ETH ? 3_000n * W : 60_000n * W);
const dec = (u: Address) => (u === ETH ? 18 : 8);

describe("gate: tiers", () => {
  const g = { tier1Notional: 2_000_000n * W, tier2Notional: 10_000_000n * W };
  it("tier boundaries are inclusive like the vault's", () => {
    expect(tierOf(0n, g)).toBe(0);
    expect(tierOf(2_000_000n * W - 1n, g)).toBe(0);
    expect(tierOf(2_000_000n * W, g)).toBe(1);
    expect(tierOf(10_000_000n * W - 1n, g)).toBe(1);
    expect(tierOf(10_000_000n * W, g)).toBe(2);
  });

  it("notional = |option| and |perp| × price + spot buys at quote value + spot sales × price; margin legs count zero", () => {
    const legs = [
      leg(LegKind.MarginDeposit, ETH, 1_000_000n * 10n ** 6n),
      leg(LegKind.Option, ETH, 100n * W),
      leg(LegKind.Perp, ETH, -200n * W),
      leg(LegKind.Spot, BTC, -(2n * 10n ** 8n)), // sell 2 WBTC (8 decimals)
      leg(LegKind.Spot, ETH, 50_000n * 10n ** 6n), // spend 50k USDC (6 decimals)
      leg(LegKind.MarginWithdraw, ETH, 5n),
    ];
    const n = bundleNotionalWad(legs, price, dec, 6);
    expect(n).toBe((100n + 200n) * 3_000n * W + 2n * 60_000n * W + 50_000n * W);
    expect(tierOf(n, g)).toBe(0);
    expect(tierOf(bundleNotionalWad([leg(LegKind.Perp, ETH, 700n * W)], price, dec, 6), g)).toBe(1);
  });

  it("approvedFor: tier 1 needs FINANCE, tier 2 needs FINANCE and RISK", () => {
    const p = (f: Address, r: Address): Proposal => ({
      proposer: AD,
      epoch: 0n,
      expiresAt: 0n,
      financeApprover: f,
      riskApprover: r,
      consumed: false,
    });
    expect(approvedFor(p(zeroAddress, zeroAddress), 0)).toBe(true);
    expect(approvedFor(p(zeroAddress, zeroAddress), 1)).toBe(false);
    expect(approvedFor(p(AD, zeroAddress), 1)).toBe(true);
    expect(approvedFor(p(AD, zeroAddress), 2)).toBe(false);
    expect(approvedFor(p(zeroAddress, AD), 2)).toBe(false);
    expect(approvedFor(p(AD, ETH), 2)).toBe(true);
  });
});
