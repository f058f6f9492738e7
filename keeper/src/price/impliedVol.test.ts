import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { bsGreeks, bsPrice, normalisedBlack, normalisedVega } from "./blackScholes.ts";
import {
  IV_ABOVE_MAXIMUM,
  IV_BELOW_INTRINSIC,
  IV_INVALID_INPUT,
  impliedVol,
  impliedVolAttainableAccuracy,
  impliedVolInputSchema,
  impliedVolRaw,
  newtonImpliedVol,
  normalisedImpliedVol,
  normalisedImpliedVolRaw,
} from "./impliedVol.ts";

const EPS = 2.220446049250313e-16;
const DBL_MIN = 2.2250738585072014e-308;

/**
 * Representability criterion used throughout. For a price P (as given: calls and puts, in or out of
 * the money) the best relative accuracy any double-precision inversion can reach is
 *   A = (1 + κ)·ε,   κ = P / (σ·∂P/∂σ)
 * (a one-ulp change of P moves σ by κ·ε relative). The vol is "representable to 1e-13" when
 *   P >= DBL_MIN (normal), P < upper bound (S for calls, K·e^{-r·tau} for puts), and A <= 1e-14,
 * i.e. when P is more than a few ulps (relative to its own conditioning) away from 0, from the
 * intrinsic value and from the upper bound. There we assert |σ̂/σ - 1| <= 1e-13. Everywhere with
 * A <= 1e-6 we also assert |σ̂/σ - 1| <= 16·A (the method is within a small factor of the limit).
 */
const STRICT_A = 1e-14;
const TOL = 1e-13;

describe("impliedVol round trip (price -> IV -> vol)", () => {
  it("dollar grid: ln(F/K) in [-3, 3] and extremes, tau 1h..5y, vol 1%..500%, calls and puts", () => {
    const spot = 3000;
    const rate = 0.03;
    const xs: number[] = [];
    for (let i = -12; i <= 12; i++) xs.push(i / 4);
    xs.push(-8, -5, -0.01, 0.01, 5, 8);
    const taus = [1 / 8760, 1 / 365, 7 / 365, 30 / 365, 0.25, 1, 2, 5];
    const vols = [0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3, 5];
    let strict = 0;
    let loose = 0;
    let otmStrict = 0;
    let otmTotal = 0;
    let worstStrict = 0;
    let worstRatio = 0;
    for (const x of xs)
      for (const tau of taus)
        for (const vol of vols)
          for (const isCall of [true, false]) {
            const strike = spot * Math.exp(rate * tau - x);
            const g = bsGreeks(spot, strike, tau, vol, rate, isCall);
            const upper = isCall ? spot : strike * Math.exp(-rate * tau);
            const otm = isCall ? x <= 0 : x >= 0;
            if (!(g.price >= DBL_MIN) || !(g.price < upper)) continue;
            const A = (1 + g.price / (vol * g.vega)) * EPS;
            const r = impliedVol(g.price, spot, strike, tau, rate, isCall);
            if (A <= 1e-6) expect(r.ok, `x=${x} tau=${tau} vol=${vol} call=${isCall}`).toBe(true);
            if (!r.ok) continue;
            const err = Math.abs(r.vol / vol - 1);
            if (otm) otmTotal++;
            if (A <= STRICT_A) {
              strict++;
              if (otm) otmStrict++;
              worstStrict = Math.max(worstStrict, err);
              expect(err, `x=${x} tau=${tau} vol=${vol} call=${isCall}`).toBeLessThanOrEqual(TOL);
            }
            if (A <= 1e-6) {
              loose++;
              worstRatio = Math.max(worstRatio, err / A);
              expect(err, `x=${x} tau=${tau} vol=${vol} call=${isCall} A=${A}`).toBeLessThanOrEqual(16 * A);
            }
          }
    // The criterion keeps essentially the whole out-of-the-money grid.
    expect(strict).toBeGreaterThan(1900);
    expect(loose).toBeGreaterThanOrEqual(strict);
    expect(otmStrict / otmTotal).toBeGreaterThan(0.95);
    expect(worstStrict).toBeLessThanOrEqual(TOL);
    expect(worstRatio).toBeLessThanOrEqual(16);
  });

  it("normalised grid: x in [-3, 3] plus |x| up to 300, s = vol·√tau from 1e-6 to 20", () => {
    const xs: number[] = [];
    for (let i = -60; i <= 60; i++) xs.push(i / 20);
    xs.push(-300, -100, -30, -10, 10, 30, 100, 300);
    let strict = 0;
    for (const x of xs)
      for (let e = -6; e <= 1.3; e += 0.05) {
        const s = Math.pow(10, e);
        for (const isCall of [true, false]) {
          const b = normalisedBlack(x, s, isCall);
          const bMax = Math.exp(isCall ? 0.5 * x : -0.5 * x);
          if (!(b >= DBL_MIN) || !(b < bMax)) continue;
          const A = (1 + b / (s * normalisedVega(x, s))) * EPS;
          if (!(A <= 1e-6)) continue;
          const sh = normalisedImpliedVolRaw(b, x, isCall);
          const err = Math.abs(sh / s - 1);
          expect(err, `x=${x} s=${s} call=${isCall}`).toBeLessThanOrEqual(16 * A);
          if (A <= STRICT_A) {
            strict++;
            expect(err).toBeLessThanOrEqual(TOL);
          }
        }
      }
    expect(strict).toBeGreaterThan(8000);
  });

  it("fast-check: random moneyness, vol, expiry and rate (dollar API)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -4, max: 4, noNaN: true }),
        fc.double({ min: Math.log(0.01), max: Math.log(5), noNaN: true }),
        fc.double({ min: Math.log(1 / 8760), max: Math.log(5), noNaN: true }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.boolean(),
        (x, lnVol, lnTau, rate, isCall) => {
          const vol = Math.exp(lnVol);
          const tau = Math.exp(lnTau);
          const spot = 100;
          const strike = spot * Math.exp(rate * tau - x);
          const g = bsGreeks(spot, strike, tau, vol, rate, isCall);
          const upper = isCall ? spot : strike * Math.exp(-rate * tau);
          if (!(g.price >= DBL_MIN && g.price < upper)) return;
          const A = (1 + g.price / (vol * g.vega)) * EPS;
          if (A > 1e-6) return;
          const v = impliedVolRaw(g.price, spot, strike, tau, rate, isCall);
          const err = Math.abs(v / vol - 1);
          expect(err).toBeLessThanOrEqual(16 * A);
          if (A <= STRICT_A) expect(err).toBeLessThanOrEqual(TOL);
        },
      ),
      { numRuns: 3000, seed: 20240523 },
    );
  });

  it("impliedVolAttainableAccuracy is the conditioning bound of the out-of-the-money price", () => {
    expect(impliedVolAttainableAccuracy(0, 0.2, true)).toBeCloseTo((1 + 1) * EPS, 17); // b ≈ s·vega at the money
    expect(impliedVolAttainableAccuracy(-2, 0.1, true)).toBeLessThan(2 * EPS); // deep OTM: κ ≈ 1/h²
    expect(impliedVolAttainableAccuracy(-0.1, 10, true)).toBeGreaterThan(1e-12); // near the upper bound
  });
});

describe("impliedVol typed errors", () => {
  const [S, K, T, r] = [100, 90, 0.5, 0.05];
  const kd = K * Math.exp(-r * T);

  it("below intrinsic, above the upper bound, invalid inputs — never NaN", () => {
    expect(impliedVol(S - kd - 1e-6, S, K, T, r, true)).toEqual({ ok: false, error: "BELOW_INTRINSIC" });
    expect(impliedVol(0.5 * (kd - 80), 80, K, T, r, false)).toEqual({ ok: false, error: "BELOW_INTRINSIC" });
    expect(impliedVol(S, S, K, T, r, true)).toEqual({ ok: false, error: "ABOVE_MAXIMUM" });
    expect(impliedVol(S * 2, S, K, T, r, true)).toEqual({ ok: false, error: "ABOVE_MAXIMUM" });
    expect(impliedVol(kd, S, K, T, r, false)).toEqual({ ok: false, error: "ABOVE_MAXIMUM" });
    expect(impliedVol(NaN, S, K, T, r, true)).toEqual({ ok: false, error: "INVALID_INPUT" });
    expect(impliedVol(-1, S, K, T, r, true)).toEqual({ ok: false, error: "INVALID_INPUT" });
    expect(impliedVol(5, 0, K, T, r, true)).toEqual({ ok: false, error: "INVALID_INPUT" });
    expect(impliedVol(5, S, K, 0, r, true)).toEqual({ ok: false, error: "INVALID_INPUT" });
    expect(impliedVol(5, S, K, T, Infinity, true)).toEqual({ ok: false, error: "INVALID_INPUT" });
    expect(impliedVolRaw(S - kd - 1e-6, S, K, T, r, true)).toBe(IV_BELOW_INTRINSIC);
    expect(impliedVolRaw(S, S, K, T, r, true)).toBe(IV_ABOVE_MAXIMUM);
    expect(impliedVolRaw(NaN, S, K, T, r, true)).toBe(IV_INVALID_INPUT);
  });

  it("normalised form: errors and the zero-time-value limit", () => {
    expect(normalisedImpliedVol(-0.1, -0.5, true)).toEqual({ ok: false, error: "BELOW_INTRINSIC" });
    expect(normalisedImpliedVol(2 * Math.sinh(0.25) - 1e-9, 0.5, true)).toEqual({
      ok: false,
      error: "BELOW_INTRINSIC",
    });
    expect(normalisedImpliedVol(Math.exp(0.25), 0.5, true)).toEqual({ ok: false, error: "ABOVE_MAXIMUM" });
    expect(normalisedImpliedVol(Math.exp(0.25), -0.5, false)).toEqual({ ok: false, error: "ABOVE_MAXIMUM" });
    expect(normalisedImpliedVol(0.1, Infinity, true)).toEqual({ ok: false, error: "INVALID_INPUT" });
    expect(normalisedImpliedVol(0, -0.5, true)).toEqual({ ok: true, vol: 0 });
    expect(normalisedImpliedVol(2 * Math.sinh(0.25), 0.5, true)).toEqual({ ok: true, vol: 0 });
  });

  it("boundary schema", () => {
    const ok = { price: 3, spot: 100, strike: 100, tau: 0.1, rate: 0, isCall: true };
    expect(impliedVolInputSchema.parse(ok)).toEqual(ok);
    expect(impliedVolInputSchema.safeParse({ ...ok, tau: 0 }).success).toBe(false);
    expect(impliedVolInputSchema.safeParse({ ...ok, price: -1 }).success).toBe(false);
    expect(impliedVolInputSchema.safeParse({ ...ok, spot: Number.NaN }).success).toBe(false);
  });
});

describe("newtonImpliedVol (baseline)", () => {
  it("converges near the money", () => {
    const p = bsPrice(100, 105, 0.5, 0.35, 0.02, true);
    const r = newtonImpliedVol(p, 100, 105, 0.5, 0.02, true);
    expect(r.converged).toBe(true);
    expect(Math.abs(r.vol / 0.35 - 1)).toBeLessThan(1e-12);
    expect(r.iterations).toBeGreaterThan(1);
  });

  it("reports failure where plain Newton breaks down (deep out of the money, low vol)", () => {
    const [S, K, T, r, v] = [100, 100 * Math.exp(3), 1, 0, 0.1];
    const p = bsPrice(S, K, T, v, r, true);
    expect(p).toBeGreaterThan(0);
    const nr = newtonImpliedVol(p, S, K, T, r, true);
    expect(nr.converged).toBe(false);
    const lbr = impliedVol(p, S, K, T, r, true);
    expect(lbr.ok && Math.abs(lbr.vol / v - 1)).toBeLessThan(1e-14);
  });
});
