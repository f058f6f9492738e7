import { describe, expect, it } from "vitest";
import { getAddress } from "viem";
import { bsGreeks } from "../price/index.ts";
import type { HeldSeriesState, UnderlyingState, VaultState } from "../chain/state.ts";
import { compareWithVault, exposureOf, keeperExposure, vaultExposure } from "./index.ts";

const W = 10n ** 18n;
const NOW = 1_800_000_000n;
const YEAR = 365 * 86_400;
const tok = getAddress("0x00000000000000000000000000000000000000e1");

function series(over: Partial<HeldSeriesState>): HeldSeriesState {
  return {
    id: 1n,
    underlying: tok,
    expiry: NOW + 30n * 86_400n,
    isCall: false,
    strike: 3_000n * W,
    cap: 0n,
    adapter: tok,
    size: 100n * W,
    smile: null,
    vol: 0.65,
    capVol: null,
    ...over,
  };
}

function state(
  held: HeldSeriesState[],
  vaultNet: bigint,
  price = 3_000n * W,
): { s: VaultState; u: UnderlyingState } {
  const u: UnderlyingState = {
    info: { symbol: "ETH", token: tok, decimals: 18, feed: tok, feedDecimals: 8 },
    exposure: {
      spot: 1_000n * W,
      options: 0n,
      perps: -200n * W,
      liabilities: 300n * W,
      net: vaultNet,
      target: 0n,
      band: 25n * W,
      rebalanceDue: false,
      price,
      priceUpdatedAt: NOW,
    },
    exposureError: null,
    round: null,
    limits: {
      enabled: true,
      targetDelta: 0n,
      band: 25n * W,
      minHedgeRatio: W / 2n,
      maxHedgeRatio: W,
      maxOptionLegSize: 0n,
      maxPerpLegSize: 0n,
      maxSpotLegSize: 0n,
      maxPerpPosition: 0n,
      premiumBudgetPerWindow: 0n,
      maxOpenSeries: 20,
    },
    balance: 1_000n * W,
    liabilities: 300n * W,
    held,
    perpVenues: [],
    perpSizeSum: -200n * W,
    perp: null,
    fundingRatePerDay: null,
    atm: null,
    perpMarket: null,
  };
  const s: VaultState = {
    blockNumber: 1n,
    timestamp: NOW,
    baseFeePerGas: 1n,
    epoch: 0n,
    mode: 0,
    lastRebalanceAt: 0n,
    window: { start: 0n, turnoverUsd: 0n },
    global: {} as VaultState["global"],
    quoteBalance: 0n,
    ammRate: 5n * 10n ** 16n,
    underlyings: [u],
    rounds: 1,
  };
  return { s, u };
}

describe("exposure stage", () => {
  it("keeper net = spot + Σ size × BS delta (surface vol, AMM rate, block time) + perps − liabilities", () => {
    const put = series({});
    const { s, u } = state([put], 0n);
    const k = keeperExposure(s, u, 3_000);
    const g = bsGreeks(3_000, 3_000, (30 * 86_400) / YEAR, 0.65, 0.05, false);
    expect(k.options).toBeCloseTo(100 * g.delta, 12);
    expect(k.greeks.gamma).toBeCloseTo(100 * g.gamma, 15);
    expect(k.greeks.vega).toBeCloseTo(100 * g.vega, 9);
    expect(k.net).toBeCloseTo(1_000 + 100 * g.delta - 200 - 300, 9);
    expect(k.book).toBeCloseTo(1_000 + Math.abs(100 * g.delta) + 200 + 300, 9);
  });

  it("capped calls subtract the K + cap call like the AMM; a negligible cap leg is skipped", () => {
    const capped = series({ isCall: true, strike: 3_000n * W, cap: 600n * W, vol: 0.6, capVol: 0.7 });
    const { s, u } = state([capped], 0n);
    const k = keeperExposure(s, u, 3_000);
    const tau = (30 * 86_400) / YEAR;
    const want =
      bsGreeks(3_000, 3_000, tau, 0.6, 0.05, true).delta - bsGreeks(3_000, 3_600, tau, 0.7, 0.05, true).delta;
    expect(k.options).toBeCloseTo(100 * want, 12);
    const far = series({ isCall: true, strike: 3_000n * W, cap: 300_000n * W, vol: 0.6, capVol: 0.6 });
    const k2 = keeperExposure(state([far], 0n).s, state([far], 0n).u, 3_000);
    expect(k2.options).toBeCloseTo(100 * bsGreeks(3_000, 3_000, tau, 0.6, 0.05, true).delta, 12);
  });

  it("expired series carry no delta; a live series without a vol is an error", () => {
    const { s, u } = state([series({ expiry: NOW - 1n })], 0n);
    expect(keeperExposure(s, u, 3_000).options).toBe(0);
    const bad = state([series({ vol: null })], 0n);
    expect(() => keeperExposure(bad.s, bad.u, 3_000)).toThrow(/no surface vol/);
  });

  it("compareWithVault: |diff| ≤ 1e-6 × book + 1e-9 passes, just above fails", () => {
    const book = 2_000;
    const tol = 1e-6 * book + 1e-9;
    expect(compareWithVault({ net: 500 + tol * 0.99, book }, { net: 500 }).ok).toBe(true);
    expect(compareWithVault({ net: 500 + tol * 1.01, book }, { net: 500 }).ok).toBe(false);
    expect(compareWithVault({ net: Number.NaN, book }, { net: 500 }).ok).toBe(false);
    expect(compareWithVault({ net: 1e-10, book: 0 }, { net: 0 }).ok).toBe(true);
  });

  it("exposureOf: agreement → ok with the vault's view; disagreement → a stand-down reason; a reverting view → reason", () => {
    const put = series({});
    const g = bsGreeks(3_000, 3_000, (30 * 86_400) / YEAR, 0.65, 0.05, false);
    const exact = 1_000 + 100 * g.delta - 500;
    const ok = state([put], BigInt(Math.round(exact * 1e9)) * 10n ** 9n);
    const r = exposureOf(ok.s, ok.u);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.vault.net).toBeCloseTo(exact, 6);
      expect(r.diff).toBeLessThanOrEqual(r.allowed);
    }
    const off = state([put], BigInt(Math.round((exact + 0.01) * 1e9)) * 10n ** 9n);
    const bad = exposureOf(off.s, off.u);
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.reason).toMatch(/exposure mismatch on ETH: keeper net .* vs vault net .*> tolerance/);
    const reverted = state([put], 0n);
    reverted.u.exposure = null;
    reverted.u.exposureError = "StalePrice(...)";
    const rv = exposureOf(reverted.s, reverted.u);
    expect(rv.ok).toBe(false);
    if (!rv.ok) expect(rv.reason).toBe("vault.exposure(ETH) reverted: StalePrice(...)");
  });

  it("vaultExposure converts WAD to units", () => {
    const { u } = state([], 500n * W);
    expect(vaultExposure(u)).toEqual({
      underlying: "ETH",
      spot: 1_000,
      options: 0,
      perps: -200,
      liabilities: 300,
      net: 500,
      target: 0,
      band: 25,
      price: 3_000,
    });
  });
});
