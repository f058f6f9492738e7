import { describe, expect, it } from "vitest";
import { LegKind, type Leg } from "../plan/types.ts";
import {
  DEFAULT_ETH_PERP,
  DEFAULT_GAS_MODEL,
  DEFAULT_OPTIONS_PARAMS,
  bundleGas,
  createSeriesRegistry,
  fridayExpiries,
  gasUsd,
  listedStrike,
  optionPayoff,
  perpFee,
  perpFillPrice,
  perpFundingRatePerDay,
  perpQuoteLadder,
  quoteOption,
  smileVol,
  spotSellOut,
  unitGreeks,
  virtualDepthFromRange,
  type OptionSeries,
} from "./model/index.ts";

const p = {
  ...DEFAULT_ETH_PERP,
  skewScale: 1_000_000,
  makerFeeBps: 2,
  takerFeeBps: 5,
  maxFundingRatePerDay: 0.01,
};

describe("perp model = PerpDEX.sol formulas", () => {
  it("fill = index × (1 + (skew + Δ/2)/skewScale) (hand-computed)", () => {
    // skew 0, sell 1,000 at 3,000: 3000 × (1 − 500/1e6) = 2998.5
    expect(perpFillPrice(p, 3000, 0, -1000)).toBeCloseTo(2998.5, 10);
    // skew +20,000, buy 10,000: 3000 × (1 + 25,000/1e6) = 3075
    expect(perpFillPrice(p, 3000, 20_000, 10_000)).toBeCloseTo(3075, 10);
  });
  it("maker fee on the skew-reducing part, taker on the rest", () => {
    // skew −600, buy 1,000 at fill 3000: 600 maker (2 bps) + 400 taker (5 bps) = (1200 + 2000)/1e4 × 3000 = 960
    expect(perpFee(p, -600, 1000, 3000)).toBeCloseTo(960, 9);
    // same direction as the skew: all taker
    expect(perpFee(p, 600, 1000, 3000)).toBeCloseTo(1500, 9);
    // zero skew: all taker
    expect(perpFee(p, 0, -10, 2000)).toBeCloseTo(10, 12);
  });
  it("funding = clamp(skew/skewScale) × max rate, + = longs pay", () => {
    expect(perpFundingRatePerDay(p, 100_000)).toBeCloseTo(0.001, 15);
    expect(perpFundingRatePerDay(p, -5_000_000)).toBe(-0.01);
  });
  it("quote ladder: sizes ascend, average price is the fill, depth to the OI headroom", () => {
    const l = perpQuoteLadder({ ...p, maxOpenInterest: 5000 }, 3000, 0, -1, -1000);
    for (let k = 1; k < l.length; k++) expect(l[k]!.size).toBeGreaterThan(l[k - 1]!.size);
    expect(l.at(-1)!.size).toBe(4000);
    expect(l[0]!.avgPrice).toBeCloseTo(perpFillPrice(p, 3000, 0, -1), 9);
  });
});

describe("options model = OptionsAMM.sol formulas", () => {
  const smile = { atmVol: 0.6, skew: -0.1, curvature: 0.5 };
  it("smile vol: atm + skew·k + curvature·k², clamped", () => {
    const k = Math.log(3300 / 3000);
    expect(smileVol(smile, 3300, 3000)).toBeCloseTo(0.6 - 0.1 * k + 0.5 * k * k, 14);
    expect(smileVol({ atmVol: 0.02, skew: 2, curvature: 0 }, 1000, 3000)).toBe(0.01);
    expect(smileVol({ atmVol: 4.9, skew: 0, curvature: 5 }, 60_000, 3000)).toBe(5);
  });
  it("premium = mid + fee + vega spread + exposure spread (buy); proceeds floored at 0 (sell)", () => {
    const now = Date.UTC(2025, 0, 1);
    const put: OptionSeries = { id: 1n, isCall: false, strike: 2700, expiry: now + 30 * 86_400_000, cap: 0 };
    const u = unitGreeks(put, 3000, now, smile, 0);
    const q = quoteOption(put, 10, 3000, now, smile, DEFAULT_OPTIONS_PARAMS, 0);
    expect(q.mid).toBeCloseTo(u.price * 10, 9);
    expect(q.fee).toBeCloseTo(0.0005 * 3000 * 10, 9); // 5 bps × spot × size = 15
    // pool sells the put: pool delta 0 → −10 × (−Δ)... |D'| − |D| = 10|Δ|
    const spread = 0.005 * u.vega * 10 + 0.001 * 10 * Math.abs(u.delta) * 3000;
    expect(q.spread).toBeCloseTo(spread, 9);
    expect(q.premium).toBeCloseTo(q.mid + q.fee + spread, 9);
    const s = quoteOption(put, -10, 3000, now, smile, DEFAULT_OPTIONS_PARAMS, 0);
    expect(s.premium).toBeCloseTo(Math.max(0, s.mid - s.fee - s.spread), 9);
    const far: OptionSeries = { ...put, strike: 100 };
    const flat = { atmVol: 0.6, skew: 0, curvature: 0 };
    expect(quoteOption(far, -10, 3000, now, flat, DEFAULT_OPTIONS_PARAMS, 0).premium).toBe(0);
  });
  it("capped call = C(K) − C(K + cap), payoff capped", () => {
    const now = Date.UTC(2025, 0, 1);
    const reg = createSeriesRegistry(0.1);
    const c = reg.get(true, 3000, now + 365 * 86_400_000);
    expect(c.cap).toBeCloseTo(300, 12);
    const flat = { atmVol: 0.8, skew: 0, curvature: 0 };
    const u = unitGreeks(c, 3000, now, flat, 0);
    const uncapped = unitGreeks({ ...c, cap: 1e12 }, 3000, now, flat, 0);
    const upper = unitGreeks({ ...c, strike: 3300, cap: 1e12 }, 3000, now, flat, 0);
    expect(u.price).toBeCloseTo(uncapped.price - upper.price, 8);
    expect(u.price).toBeLessThanOrEqual(300);
    expect(optionPayoff(c, 4000)).toBeCloseTo(300, 12);
    expect(optionPayoff(c, 3100)).toBeCloseTo(100, 12);
    expect(optionPayoff({ ...c, isCall: false }, 2500)).toBe(500);
    expect(reg.get(true, 3000, now + 365 * 86_400_000)).toBe(c);
  });
  it("strike grid and Friday expiries", () => {
    expect(listedStrike(3012, 0.9)).toBe(2700);
    expect(listedStrike(143.2, 1.1)).toBe(158); // step 1 below 150
    expect(listedStrike(2000, 1.13)).toBe(2250); // step 25 around 2,000
    const [e] = fridayExpiries(Date.UTC(2025, 0, 1), 1); // Wed 1 Jan 2025 → Fri 3 Jan 08:00
    expect(e).toBe(Date.UTC(2025, 0, 3, 8));
    expect(new Date(fridayExpiries(Date.UTC(2025, 0, 3, 9), 2)[1]!).toISOString()).toBe(
      "2025-01-17T08:00:00.000Z",
    );
  });
});

describe("spot and gas models", () => {
  it("constant product inside the range, fee on the input", () => {
    const X = virtualDepthFromRange(5000, 0.3);
    // L = x √P √Pb / (√Pb − √P) → X = L / √P = x √1.3 / (√1.3 − 1)
    expect(X).toBeCloseTo((5000 * Math.sqrt(1.3)) / (Math.sqrt(1.3) - 1), 6);
    const out = spotSellOut({ fee: 0.0005, virtualBaseDepth: 40_000, maxSale: 1e9 }, 3000, 100);
    const xIn = 100 * 0.9995;
    expect(out).toBeCloseTo((40_000 * 3000 * xIn) / (40_000 + xIn), 6);
  });
  it("gas per bundle shape, priced in USD", () => {
    const leg = (kind: Leg["kind"]): Leg => ({
      kind,
      adapter: "0x0000000000000000000000000000000000000001",
      underlying: "0x0000000000000000000000000000000000000002",
      id: 0n,
      amount: 1n,
      bound: 0n,
    });
    expect(bundleGas(DEFAULT_GAS_MODEL, [leg(LegKind.Perp)])).toBe(203_000);
    expect(bundleGas(DEFAULT_GAS_MODEL, [leg(LegKind.MarginDeposit), leg(LegKind.Perp)])).toBe(203_000);
    expect(bundleGas(DEFAULT_GAS_MODEL, [leg(LegKind.Option), leg(LegKind.Perp)])).toBe(459_000);
    expect(bundleGas(DEFAULT_GAS_MODEL, [leg(LegKind.Option), leg(LegKind.Spot), leg(LegKind.Perp)])).toBe(
      470_000,
    );
    expect(bundleGas(DEFAULT_GAS_MODEL, [])).toBe(0);
    expect(gasUsd({ ...DEFAULT_GAS_MODEL, gasPriceGwei: 10 }, 203_000, 3000)).toBeCloseTo(6.09, 10);
  });
});
