import { describe, expect, it } from "vitest";
import { BS_DOMAIN, bsGreeksPair } from "../../../test/ts/helpers/bsReference.ts";
import {
  allocBsBatchOutput,
  bsGreeks,
  bsGreeksBatch,
  bsInputSchema,
  bsPrice,
  normalisedBlack,
  normalisedBlackCallOtm,
  normalisedBlackCallOtmAndVega,
  normalisedVega,
  complementaryNormalisedBlack,
} from "./blackScholes.ts";
import { exactDec, relErr } from "./testUtil.ts";

const TOL = 1e-13;

/** Float grid over the reference helper's BS_DOMAIN (spot levels x S/K x tau x vol x rate). */
function domainGrid(): { spot: number; strike: number; tau: number; vol: number; rate: number }[] {
  const out: { spot: number; strike: number; tau: number; vol: number; rate: number }[] = [];
  const moneyness = [0.25, 0.5, 0.8, 0.95, 1, 1.05, 1.25, 2, 4];
  const taus = [1 / 8760, 1 / 365, 7 / 365, 30 / 365, 0.25, 1, 2];
  const vols = [0.05, 0.2, 0.8, 2, 5];
  const rates = [0, 0.05, 0.2];
  // Full grid at the middle spot level; every 4th point at the others (the math is scale-free,
  // the levels check the absolute scaling; the 60-digit reference costs ~8 ms per point).
  let i = 0;
  for (const spot of BS_DOMAIN.spotLevels)
    for (const m of moneyness)
      for (const tau of taus)
        for (const vol of vols)
          for (const rate of rates)
            if (spot === 3000 || i++ % 4 === 0) out.push({ spot, strike: spot / m, tau, vol, rate });
  return out;
}

describe("bsGreeks vs the 60-digit decimal.js reference", () => {
  it("price, delta, gamma, vega, theta within 1e-13 relative over BS_DOMAIN (floor 1e-8 of each scale)", () => {
    const grid = domainGrid();
    expect(grid.length).toBeGreaterThan(1400);
    const worst = { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
    for (const p of grid) {
      const ref = bsGreeksPair({
        spot: exactDec(p.spot),
        strike: exactDec(p.strike),
        tau: exactDec(p.tau),
        vol: exactDec(p.vol),
        rate: exactDec(p.rate),
      });
      const sqrtT = Math.sqrt(p.tau);
      // Floors: 1e-8 of each greek's natural scale (as in the reference helper's metric).
      const floors = {
        price: 1e-8 * p.spot,
        delta: 1e-8,
        gamma: 1e-8 / (p.spot * p.vol * sqrtT),
        vega: 1e-8 * p.spot * sqrtT,
        theta: 1e-8 * ((p.spot * p.vol) / (2 * sqrtT) + p.rate * p.strike),
      };
      for (const isCall of [true, false]) {
        const g = bsGreeks(p.spot, p.strike, p.tau, p.vol, p.rate, isCall);
        const r = isCall ? ref.call : ref.put;
        for (const k of ["price", "delta", "gamma", "vega", "theta"] as const) {
          const e = relErr(g[k], r[k], floors[k]);
          if (e > worst[k]) worst[k] = e;
        }
        expect(bsPrice(p.spot, p.strike, p.tau, p.vol, p.rate, isCall)).toBe(g.price);
      }
    }
    for (const k of Object.keys(worst) as (keyof typeof worst)[])
      expect(worst[k], k).toBeLessThanOrEqual(TOL);
  });

  it("deep out-of-the-money prices keep full relative accuracy down to 1e-300 (no floor)", () => {
    // spot 100, strikes far out, short expiries: prices from ~1e-5 down to ~1e-300.
    let worst = 0;
    let n = 0;
    for (const strike of [130, 200, 400, 1000]) {
      for (const vol of [0.05, 0.2, 0.6, 1.5]) {
        for (const tau of [1 / 365, 0.1, 1]) {
          const price = bsPrice(100, strike, tau, vol, 0.03, true);
          if (!(price > 1e-300)) continue;
          const ref = bsGreeksPair({
            spot: 100,
            strike,
            tau: exactDec(tau),
            vol: exactDec(vol),
            rate: exactDec(0.03),
          });
          const x = Math.abs(Math.log(100 / strike)) / (vol * Math.sqrt(tau));
          // Conditioning of the price in its inputs is ~x², the rounding of ln(S/K) alone costs x²·ε.
          const e = relErr(price, ref.call.price, 0) / Math.max(1, (x * x) / 64);
          if (e > worst) worst = e;
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(30);
    expect(worst).toBeLessThanOrEqual(TOL);
  });
});

describe("bsGreeks identities and domain", () => {
  it("put-call parity, vanna and volga match finite differences, theta = -dPrice/dtau", () => {
    const [S, K, T, v, r] = [2500, 2700, 0.3, 0.65, 0.04];
    const c = bsGreeks(S, K, T, v, r, true);
    const p = bsGreeks(S, K, T, v, r, false);
    expect(c.price - p.price).toBeCloseTo(S - K * Math.exp(-r * T), 10);
    expect(c.delta - p.delta).toBeCloseTo(1, 14);
    expect(c.gamma).toBe(p.gamma);
    const h = 1e-5;
    const up = bsGreeks(S, K, T, v + h, r, true);
    const dn = bsGreeks(S, K, T, v - h, r, true);
    expect((up.delta - dn.delta) / (2 * h)).toBeCloseTo(c.vanna, 7);
    expect((up.vega - dn.vega) / (2 * h)).toBeCloseTo(c.volga, 4);
    const tUp = bsPrice(S, K, T + 1e-6, v, r, true);
    const tDn = bsPrice(S, K, T - 1e-6, v, r, true);
    expect(-(tUp - tDn) / 2e-6).toBeCloseTo(c.theta, 4);
    const rUp = bsPrice(S, K, T, v, r + 1e-6, false);
    const rDn = bsPrice(S, K, T, v, r - 1e-6, false);
    expect((rUp - rDn) / 2e-6).toBeCloseTo(p.rho, 4);
  });

  it("rejects inputs outside the domain", () => {
    expect(() => bsGreeks(0, 100, 1, 0.2, 0, true)).toThrow(RangeError);
    expect(() => bsGreeks(100, -1, 1, 0.2, 0, true)).toThrow(RangeError);
    expect(() => bsGreeks(100, 100, 0, 0.2, 0, true)).toThrow(RangeError);
    expect(() => bsGreeks(100, 100, 1, 0, 0, true)).toThrow(RangeError);
    expect(() => bsGreeks(100, 100, 1, 0.2, NaN, true)).toThrow(RangeError);
    expect(() => bsGreeks(Infinity, 100, 1, 0.2, 0, true)).toThrow(RangeError);
    expect(
      bsInputSchema.safeParse({ spot: 1, strike: 1, tau: 1, vol: 0.2, rate: 0, isCall: true }).success,
    ).toBe(true);
    expect(
      bsInputSchema.safeParse({ spot: 1, strike: 1, tau: 0, vol: 0.2, rate: 0, isCall: true }).success,
    ).toBe(false);
    expect(
      bsInputSchema.safeParse({ spot: 1, strike: 1, tau: 1, vol: 0.2, rate: Infinity, isCall: true }).success,
    ).toBe(false);
  });

  it("normalised Black: put/call symmetry, upper bound complement, monotone in s", () => {
    for (const x of [-2, -0.3, 0, 0.7, 3]) {
      let prev = -1;
      for (const s of [0.01, 0.1, 0.5, 1, 3, 8]) {
        const c = normalisedBlack(x, s, true);
        const p = normalisedBlack(-x, s, false);
        expect(c).toBe(p);
        // Strictly increasing while the time value is representable next to the intrinsic value.
        if (x <= 0) expect(c).toBeGreaterThan(prev);
        else expect(c).toBeGreaterThanOrEqual(prev);
        prev = c;
        if (x <= 0) {
          const bar = complementaryNormalisedBlack(x, s);
          expect(Math.abs(c + bar - Math.exp(0.5 * x))).toBeLessThan(4e-16 * Math.exp(0.5 * x));
        }
      }
    }
  });
});

describe("normalisedBlackCallOtmAndVega (the solver's fused kernel)", () => {
  it("matches normalisedBlackCallOtm and normalisedVega in every region", () => {
    const vega = new Float64Array(1);
    for (const x of [0, -1e-3, -0.5, -3, -25, -200]) {
      for (const s of [0, 1e-5, 0.05, 0.3, 0.5, 2, 9]) {
        const b = normalisedBlackCallOtmAndVega(x, s, Math.exp(0.5 * x), Math.exp(-0.5 * x), vega);
        const ref = normalisedBlackCallOtm(x, s);
        expect(Math.abs(b - ref)).toBeLessThanOrEqual(4e-16 * ref);
        expect(vega[0]).toBe(s > 0 || x === 0 ? normalisedVega(x, s) : 0);
      }
    }
  });
});

describe("bsGreeksBatch", () => {
  it("equals the scalar function row by row", () => {
    const n = 500;
    const input = {
      spot: new Float64Array(n),
      strike: new Float64Array(n),
      tau: new Float64Array(n),
      vol: new Float64Array(n),
      rate: new Float64Array(n),
      isCall: new Uint8Array(n),
    };
    for (let i = 0; i < n; i++) {
      input.spot[i] = 3000 + i;
      input.strike[i] = 1500 + 7 * i;
      input.tau[i] = 0.001 + i / 300;
      input.vol[i] = 0.1 + (i % 37) / 20;
      input.rate[i] = (i % 5) / 50;
      input.isCall[i] = i & 1;
    }
    const out = allocBsBatchOutput(n);
    expect(bsGreeksBatch(input, out)).toBe(n);
    for (let i = 0; i < n; i++) {
      const g = bsGreeks(
        input.spot[i]!,
        input.strike[i]!,
        input.tau[i]!,
        input.vol[i]!,
        input.rate[i]!,
        input.isCall[i] === 1,
      );
      expect(out.price[i]).toBe(g.price);
      expect(out.delta[i]).toBe(g.delta);
      expect(out.gamma[i]).toBe(g.gamma);
      expect(out.vega[i]).toBe(g.vega);
      expect(out.theta[i]).toBe(g.theta);
      expect(out.vanna[i]).toBe(g.vanna);
      expect(out.volga[i]).toBe(g.volga);
    }
  });
});
