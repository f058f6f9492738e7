/**
 * Implied volatility to machine precision: the method of P. Jäckel, "Let's Be Rational" (Wilmott,
 * January 2015, pp. 40-53; reference implementation © 2013-2024 Peter Jäckel, www.jaeckel.org,
 * "Permission to use, copy, modify, and distribute this software is freely granted, provided that
 * this notice is preserved."). This is an independent TypeScript implementation of that method.
 *
 * Work is in normalised form: x = ln(F/K), β = (undiscounted price)/√(F·K), s = vol·√tau, and the
 * normalised Black function b(x, s) of ./blackScholes.ts. In the money, the intrinsic value is
 * subtracted first and puts are mapped to calls (x → -x), leaving an out-of-the-money call, x <= 0,
 * 0 < β < b_max = e^{x/2}. The s-axis is split at s_l < s_c = √(2|x|) < s_u into four segments; on each,
 * a rational cubic interpolation (Delbourgo-Gregory) of the inverse — in the outer two through the
 * lower/upper asymptotic maps f(β) — gives an initial guess so close that exactly two third-order
 * Householder steps reach machine precision, on the objective
 *   lowest segment:  g(s) = 1/ln b(s) - 1/ln β
 *   middle segments: g(s) = b(s) - β
 *   upper segment:   g(s) = ln(b_max - β) - ln(b_max - b(s))   (b_max - b evaluated without cancellation)
 * (fourth-order steps for |x| > 190 / 580 as in the reference). The attainable relative accuracy is
 * (1 + |b/(s·∂b/∂s)|)·ε — see `impliedVolAttainableAccuracy`.
 */
import { z } from "zod";
import { inverseNormCdfAs241, normCdf, normPdf, erfcx, INV_SQRT2 } from "./normal.ts";
import {
  complementaryNormalisedBlack,
  logMoneyness,
  normalisedBlack,
  normalisedBlackCallOtmAndVega,
  normalisedBlackCallOverVegaOtm,
  normalisedIntrinsicCall,
  normalisedVega,
} from "./blackScholes.ts";

const DBL_EPSILON = 2.220446049250313e-16;
const DBL_MIN = 2.2250738585072014e-308;
const DBL_MAX = Number.MAX_VALUE;
const SQRT_DBL_MAX = Math.sqrt(DBL_MAX);
const TWO_PI = 6.283185307179586;
const SQRT_PI_OVER_2 = 1.2533141373155003;
const SQRT_2_OVER_PI = 0.7978845608028654;
const SQRT_THREE = 1.7320508075688772;
const SQRT_ONE_OVER_THREE = 0.5773502691896257;
const TWO_PI_OVER_SQRT_TWENTY_SEVEN = 1.2091995761561452;
const SQRT_THREE_OVER_THIRD_ROOT_TWO_PI = 0.9386434874273836;
const PI_OVER_SIX = 0.5235987755982989;
const RC_MIN = -(1 - Math.sqrt(DBL_EPSILON));
const RC_MAX = 2 / (DBL_EPSILON * DBL_EPSILON);

/** Sentinel of the raw solvers: the price is below the intrinsic value. */
export const IV_BELOW_INTRINSIC = -1;
/** Sentinel of the raw solvers: the price is at or above the upper bound (F for calls, K for puts, undiscounted). */
export const IV_ABOVE_MAXIMUM = -2;
/** Sentinel of the raw solvers: an input is not finite or out of domain. */
export const IV_INVALID_INPUT = -3;

/** Householder iterations of the method (two suffice for machine precision). */
const ITERATIONS = 2;

// ----------------------------------------------------------------------------------------------
// Rational cubic interpolation (R. Delbourgo, J. A. Gregory, "Shape preserving piecewise rational
// interpolation", SIAM J. Sci. Stat. Comput. 6 (1985)), as used by the method for initial guesses.
// ----------------------------------------------------------------------------------------------

function rationalCubic(
  x: number,
  xl: number,
  xr: number,
  yl: number,
  yr: number,
  dl: number,
  dr: number,
  r: number,
): number {
  const h = xr - xl;
  if (Math.abs(h) <= 0) return 0.5 * (yl + yr);
  const t = (x - xl) / h;
  if (!(r >= RC_MAX)) {
    const omt = 1 - t;
    const t2 = t * t;
    const omt2 = omt * omt;
    return (
      (yr * t2 * t + (r * yr - h * dr) * t2 * omt + (r * yl + h * dl) * t * omt2 + yl * omt2 * omt) /
      (1 + (r - 3) * t * omt)
    );
  }
  return yr * t + yl * (1 - t);
}

function isZero(v: number): boolean {
  return Math.abs(v) < DBL_MIN;
}

function controlFitLeft(
  xl: number,
  xr: number,
  yl: number,
  yr: number,
  dl: number,
  dr: number,
  d2l: number,
): number {
  const h = xr - xl;
  const num = 0.5 * h * d2l + (dr - dl);
  if (isZero(num)) return 0;
  const den = (yr - yl) / h - dl;
  if (isZero(den)) return num > 0 ? RC_MAX : RC_MIN;
  return num / den;
}

function controlFitRight(
  xl: number,
  xr: number,
  yl: number,
  yr: number,
  dl: number,
  dr: number,
  d2r: number,
): number {
  const h = xr - xl;
  const num = 0.5 * h * d2r + (dr - dl);
  if (isZero(num)) return 0;
  const den = dr - (yr - yl) / h;
  if (isZero(den)) return num > 0 ? RC_MAX : RC_MIN;
  return num / den;
}

/** Smallest control parameter keeping the interpolant monotone / convex / concave where the data is. */
function minimumControl(dl: number, dr: number, slope: number, preferShape: boolean): number {
  const monotonic = dl * slope >= 0 && dr * slope >= 0;
  const convex = dl <= slope && slope <= dr;
  const concave = dl >= slope && slope >= dr;
  if (!monotonic && !convex && !concave) return RC_MIN;
  let r1 = -DBL_MAX;
  let r2 = -DBL_MAX;
  if (monotonic) {
    if (!isZero(slope)) r1 = (dr + dl) / slope;
    else if (preferShape) r1 = RC_MAX;
  }
  if (convex || concave) {
    const sMinusDl = slope - dl;
    const drMinusS = dr - slope;
    if (!(isZero(sMinusDl) || isZero(drMinusS))) {
      r2 = Math.max(Math.abs((dr - dl) / drMinusS), Math.abs((dr - dl) / sMinusDl));
    } else if (preferShape) r2 = RC_MAX;
  } else if (monotonic && preferShape) r2 = RC_MAX;
  return Math.max(RC_MIN, r1, r2);
}

function convexControlLeft(
  xl: number,
  xr: number,
  yl: number,
  yr: number,
  dl: number,
  dr: number,
  d2l: number,
  preferShape: boolean,
): number {
  const r = controlFitLeft(xl, xr, yl, yr, dl, dr, d2l);
  return Math.max(r, minimumControl(dl, dr, (yr - yl) / (xr - xl), preferShape));
}

function convexControlRight(
  xl: number,
  xr: number,
  yl: number,
  yr: number,
  dl: number,
  dr: number,
  d2r: number,
  preferShape: boolean,
): number {
  const r = controlFitRight(xl, xr, yl, yr, dl, dr, d2r);
  return Math.max(r, minimumControl(dl, dr, (yr - yl) / (xr - xl), preferShape));
}

// ----------------------------------------------------------------------------------------------
// Householder steps
// ----------------------------------------------------------------------------------------------

function householder3(nu: number, h2: number, h3: number): number {
  return (1 + 0.5 * h2 * nu) / (1 + nu * (h2 + (h3 * nu) / 6));
}

function householder4(nu: number, h2: number, h3: number, h4: number): number {
  return (
    (1 + nu * (h2 + (nu * h3) / 6)) / (1 + nu * (1.5 * h2 + nu * ((h2 * h2) / 4 + h3 / 3 + (nu * h4) / 24)))
  );
}

const lnVegaScratch = new Float64Array(1);
const vegaScratch = new Float64Array(1);

/**
 * s = vol·√tau of an out-of-the-money call: x <= 0, 0 < beta < e^{x/2} (not checked).
 */
function impliedNormalisedOtmCall(beta: number, x: number): number {
  const bMax = Math.exp(0.5 * x);
  const emx = 1 / bMax;
  let s: number;
  let ds = -DBL_MAX;
  let sLeft = DBL_MIN;
  let sRight = DBL_MAX;
  let iterations = 0;
  const sc = Math.sqrt(Math.abs(2 * x));
  const bc = normalisedBlackCallOtmAndVega(x, sc, bMax, emx, vegaScratch);
  const vc = vegaScratch[0]!;
  if (beta < bc) {
    const sl = sc - bc / vc;
    const bl = normalisedBlackCallOtmAndVega(x, sl, bMax, emx, vegaScratch);
    const vl = vegaScratch[0]!;
    if (beta < bl) {
      // Lowest segment: guess through the lower map f(β) = 2π/√27·|x|·Φ(-|x|/(√3·s))³.
      const ax = Math.abs(x);
      const zz = (SQRT_ONE_OVER_THREE * ax) / sl;
      const y = zz * zz;
      const s2 = sl * sl;
      const Phi = normCdf(-zz);
      const phi = normPdf(zz);
      const fpp =
        ((PI_OVER_SIX * y) / (s2 * sl)) *
        Phi *
        (8 * SQRT_THREE * sl * ax + ((3 * s2 * (s2 - 8) - 8 * x * x) * Phi) / phi) *
        Math.exp(2 * y + 0.25 * s2);
      const Phi2 = Phi * Phi;
      const fp = TWO_PI * y * Phi2 * Math.exp(y + 0.125 * s2);
      const fl = TWO_PI_OVER_SQRT_TWENTY_SEVEN * ax * (Phi2 * Phi);
      const r = convexControlRight(0, bl, 0, fl, 1, fp, fpp, true);
      let f = rationalCubic(beta, 0, bl, 0, fl, 1, fp, r);
      if (!(f > 0)) {
        const tt = beta / bl;
        f = (fl * tt + bl * (1 - tt)) * tt;
      }
      s = Math.abs(
        x /
          (SQRT_THREE *
            inverseNormCdfAs241((SQRT_THREE_OVER_THIRD_ROOT_TWO_PI * Math.cbrt(f)) / Math.cbrt(ax))),
      );
      sRight = sl;
      const lnBeta = Math.log(beta);
      for (; iterations < ITERATIONS && Math.abs(ds) > DBL_EPSILON * s; iterations++) {
        const bx = normalisedBlackCallOverVegaOtm(x, s, lnVegaScratch);
        const lnB = Math.log(bx) + lnVegaScratch[0]!;
        const bpob = 1 / bx;
        const h = x / s;
        const bh2 = (h * h) / s - s / 4;
        const nu = ((lnBeta - lnB) * lnB) / lnBeta / bpob;
        const lambda = 1 / lnB;
        const otl = 1 + 2 * lambda;
        const h2 = bh2 - bpob * otl;
        const c = 3 * (h / s) * (h / s);
        const bh3 = bh2 * bh2 - c - 0.25;
        const sqBpob = bpob * bpob;
        const bppob = bh2 * bpob;
        const mu = 6 * lambda * (1 + lambda);
        const h3 = bh3 + sqBpob * (2 + mu) - bppob * 3 * otl;
        if (x < -190) {
          const h4 =
            bh2 * (bh3 - 0.5) -
            (bh2 - 2 / s) * 2 * c -
            bpob * (sqBpob * (6 + lambda * (22 + lambda * (36 + lambda * 24))) - bppob * (12 + 6 * mu)) -
            bppob * bh2 * 3 * otl -
            bh3 * bpob * 4 * otl;
          ds = nu * householder4(nu, h2, h3, h4);
        } else {
          ds = nu * householder3(nu, h2, h3);
        }
        const sNew = Math.max(sLeft, Math.min(sRight, s + ds));
        ds = sNew - s;
        s = sNew;
      }
      return s;
    }
    const r = convexControlRight(bl, bc, sl, sc, 1 / vl, 1 / vc, 0, false);
    s = rationalCubic(beta, bl, bc, sl, sc, 1 / vl, 1 / vc, r);
    sLeft = sl;
    sRight = sc;
  } else {
    const su = vc > DBL_MIN ? sc + (bMax - bc) / vc : sc;
    const bu = normalisedBlackCallOtmAndVega(x, su, bMax, emx, vegaScratch);
    const vu = vegaScratch[0]!;
    if (beta <= bu) {
      const r = convexControlLeft(bc, bu, sc, su, 1 / vc, 1 / vu, 0, false);
      s = rationalCubic(beta, bc, bu, sc, su, 1 / vc, 1 / vu, r);
      sLeft = sc;
      sRight = su;
    } else {
      // Upper segment: guess through the upper map f(β) = Φ(-s/2).
      const fu = normCdf(-0.5 * su);
      const w = (x / su) * (x / su);
      const fp = -0.5 * Math.exp(0.5 * w);
      const fpp = SQRT_PI_OVER_2 * Math.exp(w + 0.125 * su * su) * (w / su);
      let f = -DBL_MAX;
      if (fpp > -SQRT_DBL_MAX && fpp < SQRT_DBL_MAX) {
        const r = convexControlLeft(bu, bMax, fu, 0, fp, -0.5, fpp, true);
        f = rationalCubic(beta, bu, bMax, fu, 0, fp, -0.5, r);
      }
      if (f <= 0) {
        const hh = bMax - bu;
        const tt = (beta - bu) / hh;
        f = (fu * (1 - tt) + 0.5 * hh * tt) * (1 - tt);
      }
      s = -2 * inverseNormCdfAs241(f);
      sLeft = su;
      if (beta > 0.5 * bMax) {
        const betaBar = bMax - beta;
        for (; iterations < ITERATIONS && Math.abs(ds) > DBL_EPSILON * s; iterations++) {
          const h = x / s;
          const t = 0.5 * s;
          // g' = b'/b̄ = √(2/π) / (erfcx((t+h)/√2) + erfcx((t-h)/√2))
          const gp = SQRT_2_OVER_PI / (erfcx(INV_SQRT2 * (t + h)) + erfcx(INV_SQRT2 * (t - h)));
          const bBar = normalisedVega(x, s) / gp;
          const g = Math.log(betaBar / bBar);
          const bh2 = (h * h) / s - s / 4;
          const c = 3 * (h / s) * (h / s);
          const bh3 = bh2 * bh2 - c - 0.25;
          const nu = -g / gp;
          const h2 = bh2 + gp;
          const h3 = bh3 + gp * (2 * gp + 3 * bh2);
          if (x < -580) {
            const h4 =
              bh2 * (bh3 - 0.5) -
              (bh2 - 2 / s) * 2 * c +
              gp * (6 * gp * (gp + 2 * bh2) + 3 * bh2 * bh2 + 4 * bh3);
            ds = nu * householder4(nu, h2, h3, h4);
          } else {
            ds = nu * householder3(nu, h2, h3);
          }
          const sNew = Math.max(sLeft, Math.min(sRight, s + ds));
          ds = sNew - s;
          s = sNew;
        }
        return s;
      }
    }
  }
  // Middle segments (and the upper one for β <= b_max/2): g(s) = b(s) - β.
  for (; iterations < ITERATIONS && Math.abs(ds) > DBL_EPSILON * s; iterations++) {
    const b = normalisedBlackCallOtmAndVega(x, s, bMax, emx, vegaScratch);
    const bp = vegaScratch[0]!;
    const nu = (beta - b) / bp;
    const h = x / s;
    const h2 = (h * h) / s - s / 4;
    const h3 = h2 * h2 - 3 * (h / s) * (h / s) - 0.25;
    ds = nu * householder3(nu, h2, h3);
    const sNew = Math.max(sLeft, Math.min(sRight, s + ds));
    ds = sNew - s;
    s = sNew;
  }
  return s;
}

/**
 * Normalised implied volatility s = vol·√tau from β = (undiscounted price)/√(F·K) at x = ln(F/K).
 * Returns s >= 0, or IV_BELOW_INTRINSIC / IV_ABOVE_MAXIMUM / IV_INVALID_INPUT (negative sentinels).
 * A price at the intrinsic value (to within 4 ulps of β) gives 0.
 */
export function normalisedImpliedVolRaw(beta: number, x: number, isCall: boolean): number {
  if (!(Number.isFinite(beta) && Number.isFinite(x))) return IV_INVALID_INPUT;
  let xc = isCall ? x : -x; // call-equivalent moneyness
  let b = beta;
  if (b >= Math.exp(0.5 * xc)) return IV_ABOVE_MAXIMUM;
  if (xc > 0) {
    b -= normalisedIntrinsicCall(xc);
    xc = -xc;
  }
  // Removing the intrinsic value is exact to a few ulps of β: a time value within that of zero
  // (a price at the intrinsic value, up to its own rounding) is zero volatility, not an error.
  if (b < 0) return b >= -4 * DBL_EPSILON * beta ? 0 : IV_BELOW_INTRINSIC;
  if (b === 0) return 0;
  if (b >= Math.exp(0.5 * xc)) return IV_ABOVE_MAXIMUM;
  return impliedNormalisedOtmCall(b, xc);
}

/**
 * Implied volatility from a Black-Scholes price (units as `bsPrice`), as a plain number for hot loops:
 * vol >= 0, or one of the negative sentinels IV_BELOW_INTRINSIC (price < discounted intrinsic),
 * IV_ABOVE_MAXIMUM (price >= spot for a call, >= K·e^{-rate·tau} for a put), IV_INVALID_INPUT.
 */
export function impliedVolRaw(
  price: number,
  spot: number,
  strike: number,
  tau: number,
  rate: number,
  isCall: boolean,
): number {
  if (
    !(price >= 0 && spot > 0 && strike > 0 && tau > 0 && Number.isFinite(rate)) ||
    !Number.isFinite(price * spot * strike * tau)
  ) {
    return IV_INVALID_INPUT;
  }
  // β = price/(D·√(FK)) = price/(√S·√(K·D)); the intrinsic value is removed in normalised form
  // (2·sinh(x/2)), which does not cancel near the forward as S - K·D would.
  const scale = Math.sqrt(spot) * Math.sqrt(strike * Math.exp(-rate * tau));
  const s = normalisedImpliedVolRaw(price / scale, logMoneyness(spot, strike, tau, rate), isCall);
  return s >= 0 ? s / Math.sqrt(tau) : s;
}

/** Why an implied volatility does not exist. */
export type ImpliedVolError = "BELOW_INTRINSIC" | "ABOVE_MAXIMUM" | "INVALID_INPUT";

/** Result of `impliedVol`: a volatility, or a typed reason why none exists (never NaN). */
export type ImpliedVolResult = { ok: true; vol: number } | { ok: false; error: ImpliedVolError };

function toResult(v: number): ImpliedVolResult {
  if (v >= 0) return { ok: true, vol: v };
  return {
    ok: false,
    error:
      v === IV_BELOW_INTRINSIC
        ? "BELOW_INTRINSIC"
        : v === IV_ABOVE_MAXIMUM
          ? "ABOVE_MAXIMUM"
          : "INVALID_INPUT",
  };
}

/**
 * Implied volatility of a European option from its Black-Scholes price (spot, strike in quote units,
 * tau in years, rate continuously compounded; vol annualised), by "Let's Be Rational".
 */
export function impliedVol(
  price: number,
  spot: number,
  strike: number,
  tau: number,
  rate: number,
  isCall: boolean,
): ImpliedVolResult {
  return toResult(impliedVolRaw(price, spot, strike, tau, rate, isCall));
}

/** Normalised form of `impliedVol`: s = vol·√tau from β = price/(D·√(F·K)) and x = ln(F/K). */
export function normalisedImpliedVol(beta: number, x: number, isCall: boolean): ImpliedVolResult {
  return toResult(normalisedImpliedVolRaw(beta, x, isCall));
}

/** Boundary schema for an implied-volatility request (e.g. parsed from a feed). */
export const impliedVolInputSchema = z.object({
  price: z.number().finite().nonnegative(),
  spot: z.number().finite().positive(),
  strike: z.number().finite().positive(),
  tau: z.number().finite().positive(),
  rate: z.number().finite(),
  isCall: z.boolean(),
});
export type ImpliedVolInput = z.infer<typeof impliedVolInputSchema>;

/**
 * Best relative accuracy any double-precision inversion can attain at (x, s) for a price given as the
 * normalised *out-of-the-money* value: (1 + |b/(s·∂b/∂s)|)·ε (error propagation of the inverse).
 */
export function impliedVolAttainableAccuracy(x: number, s: number, isCall: boolean): number {
  const b = normalisedBlack(x, s, isCall);
  return (1 + Math.abs(b / (s * normalisedVega(x, s)))) * DBL_EPSILON;
}

/** Outcome of the Newton-Raphson baseline: the volatility and whether it converged. */
export interface NewtonResult {
  vol: number;
  iterations: number;
  converged: boolean;
}

/**
 * Plain Newton-Raphson implied volatility — a baseline for comparison only. Iterates
 * vol ← vol - (bsPrice(vol) - price)/vega(vol) from the Manaster-Koehler start √(2|ln(F/K)|/tau)
 * (0.3 at the money), until |Δvol| <= tol·vol or maxIter. Fails (converged = false) on a vanishing
 * vega, a non-finite or non-positive iterate, or no convergence. Prices go through the same accurate
 * normalised Black function as `bsPrice`.
 */
export function newtonImpliedVol(
  price: number,
  spot: number,
  strike: number,
  tau: number,
  rate: number,
  isCall: boolean,
  tol = 4 * DBL_EPSILON,
  maxIter = 100,
): NewtonResult {
  const kd = strike * Math.exp(-rate * tau);
  const scale = Math.sqrt(spot) * Math.sqrt(kd);
  const x = logMoneyness(spot, strike, tau, rate);
  const sqrtT = Math.sqrt(tau);
  const beta = price / scale;
  let vol = x === 0 ? 0.3 : Math.sqrt((2 * Math.abs(x)) / tau);
  for (let i = 1; i <= maxIter; i++) {
    const s = vol * sqrtT;
    const b = normalisedBlack(x, s, isCall);
    const vega = normalisedVega(x, s) * sqrtT;
    if (!(vega > 0)) return { vol, iterations: i, converged: false };
    const step = (b - beta) / vega;
    vol -= step;
    if (!(vol > 0) || !Number.isFinite(vol)) return { vol, iterations: i, converged: false };
    if (Math.abs(step) <= tol * vol) return { vol, iterations: i, converged: true };
  }
  return { vol, iterations: maxIter, converged: false };
}

/** Re-export for callers that need the normalised Black function alongside the inverse. */
export { normalisedBlack, complementaryNormalisedBlack };
