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
 * lower/upper asymptotic maps f(β) — gives an initial guess so close that at most two third-order
 * Householder steps reach machine precision, on the objective
 *   lowest segment:  g(s) = 1/ln b(s) - 1/ln β
 *   middle segments: g(s) = b(s) - β
 *   upper segment:   g(s) = ln(b_max - β) - ln(b_max - b(s))   (b_max - b evaluated without cancellation)
 * (fourth-order steps for |x| > 190 / 580 as in the reference). The attainable relative accuracy is
 * (1 + |b/(s·∂b/∂s)|)·ε — see `impliedVolAttainableAccuracy`.
 */
import { z } from "zod";
import {
  AS241_LN_LOWER_TAIL,
  inverseNormCdfAs241,
  inverseNormCdfAs241LowerTailFromLog,
  normCdf,
  erfc,
  erfcx,
  erfcxPositive,
  INV_SQRT2,
  INV_SQRT_2PI,
} from "./normal.ts";
import {
  ASYMPTOTIC_THRESHOLD,
  CODY_THRESHOLD,
  SMALL_T_THRESHOLD,
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
const SQRT_TWO_PI = 2.5066282746310007;
const SQRT_PI_OVER_2 = 1.2533141373155003;
const SQRT_2_OVER_PI = 0.7978845608028654;
const SQRT_THREE = 1.7320508075688772;
const SQRT_ONE_OVER_THREE = 0.5773502691896257;
const TWO_PI_OVER_SQRT_TWENTY_SEVEN = 1.2091995761561452;
const SQRT_THREE_OVER_THIRD_ROOT_TWO_PI = 0.9386434874273836;
const PI_OVER_SIX = 0.5235987755982989;
const LN_SQRT_THREE_OVER_THIRD_ROOT_TWO_PI = Math.log(SQRT_THREE_OVER_THIRD_ROOT_TWO_PI);
const RC_MIN = -(1 - Math.sqrt(DBL_EPSILON));
const RC_MAX = 2 / (DBL_EPSILON * DBL_EPSILON);
const LN_SQRT_2PI = 0.9189385332046728;
/** Where the lowest-segment iteration takes b/∂b/∂s from erfcx directly (see there). */
const DIRECT_MIN_ABS_X = 0.125;
const DIRECT_MIN_S = 0.16;

/** Sentinel of the raw solvers: the price is below the intrinsic value. */
export const IV_BELOW_INTRINSIC = -1;
/** Sentinel of the raw solvers: the price is at or above the upper bound (F for calls, K for puts, undiscounted). */
export const IV_ABOVE_MAXIMUM = -2;
/** Sentinel of the raw solvers: an input is not finite or out of domain. */
export const IV_INVALID_INPUT = -3;

/** Householder iterations of the method (two suffice for machine precision). */
const ITERATIONS = 2;
/**
 * The Householder steps converge with order four, so after an unclamped first step with |Δs| <= tol·s
 * the second step is skipped. Thresholds by segment and |x| such that the skipped step is <= ~1e-15·s
 * (measured over the test grids, |x| up to 300, and the benchmark set): lowest segment 3e-4
 * (|x| <= 30) / 1e-4 (beyond); other segments 1e-4 / 3e-5.
 */
const SECOND_STEP_TOL_LOWEST = 3e-4;
const SECOND_STEP_TOL_LOWEST_FAR = 1e-4;
const SECOND_STEP_TOL = 1e-4;
const SECOND_STEP_TOL_FAR = 3e-5;
const SECOND_STEP_FAR_X = -30;

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
  return (1 + 0.5 * h2 * nu) / (1 + nu * (h2 + h3 * nu * ONE_SIXTH));
}
const ONE_SIXTH = 1 / 6;

function householder4(nu: number, h2: number, h3: number, h4: number): number {
  return (
    (1 + nu * (h2 + (nu * h3) / 6)) / (1 + nu * (1.5 * h2 + nu * ((h2 * h2) / 4 + h3 / 3 + (nu * h4) / 24)))
  );
}
const ONE_THIRD = 1 / 3;

// ----------------------------------------------------------------------------------------------
// Segment boundaries from s_c alone (P. Jäckel, "Let's Be Rational", reference implementation
// © 2013-2024, notice above): rational functions of s_c instead of two Black-function evaluations.
// ----------------------------------------------------------------------------------------------

/** From this s_c = √(2|x|) on the boundaries b_l, b_u come from the fits below (see there). */
const BOUNDARY_FIT_MIN_SC = 0.25;

/**
 * b_l/b_max = b(x, s_l)/e^{x/2} as a function of s_c = √(2|x|) (x = -s_c²/2, s_l = s_c - b(s_c)/∂b/∂s(s_c)):
 * the four-piece rational minimax approximation of the reference implementation (2024). Checked
 * against a 50-digit decimal.js evaluation of b: <= 2e-14 relative for s_c in [0.25, 40], 1e-13 up to
 * s_c = 300 (impliedVolBoundaries.test.ts). Below s_c = 0.25 the solver evaluates b(s_l) instead.
 */
export function lowerBoundaryOverBMax(sc: number): number {
  if (sc < 2.6267851073127395) {
    if (sc < 0.7099295739719539) {
      const g =
        (0.08074107237288286 +
          sc *
            (0.0980789117863589 +
              sc *
                (0.039760631445677055 +
                  sc *
                    (0.005971692845958919 + sc * (-0.00000640363993414798 + 4.5425102093616064e-7 * sc))))) /
        (1 +
          sc *
            (1.8594977672287665 +
              sc * (1.365880147571179 + sc * (0.4613270710865565 + 0.06125459704983172 * sc))));
      return sc * sc * (0.07560996640296362 + sc * (sc * g - 0.09672719281339437));
    }
    return (
      (1.979573792759858e-9 +
        sc *
          (-2.7081288564685587e-8 +
            sc *
              (0.07561014227254904 +
                sc *
                  (0.06917130174466835 +
                    sc *
                      (0.029537058950963018 + sc * (0.006584925270230231 + 0.0006971140063983471 * sc)))))) /
      (1 +
        sc *
          (2.194144852558658 +
            sc *
              (2.129710354999518 +
                sc *
                  (1.1571483187179783 +
                    sc * (0.3783162225306046 + sc * (0.07171486244882935 + 0.00663619758278612 * sc))))))
    );
  }
  if (sc < 7.348469228349534)
    return (
      (-0.00009332511535483788 +
        sc *
          (0.0005311803397279465 +
            sc *
              (0.07411485544834501 +
                sc *
                  (0.07403965818682282 +
                    sc *
                      (0.039225177407687606 + sc * (0.01002291337825409 + 0.0017012579407246055 * sc)))))) /
      (1 +
        sc *
          (2.2217238132228134 +
            sc *
              (2.3441816707087404 +
                sc *
                  (1.391232364627114 +
                    sc * (0.5323125844350184 + sc * (0.11744005919716101 + 0.016195405895930937 * sc))))))
    );
  return (
    (0.0014500072297240604 +
      sc *
        (-0.0015116692485011196 +
          sc *
            (0.07168217831093633 +
              sc *
                (0.039216108578204636 +
                  sc * (0.029342405658628445 + sc * (0.005183252617163152 + 0.0016930208078421475 * sc)))))) /
    (1 +
      sc *
        (1.6176313502305415 +
          sc *
            (1.6823159175281532 +
              sc *
                (0.8487830756737222 +
                  sc * (0.3754374213737579 + sc * (0.07126137099644303 + 0.016116992546788677 * sc))))))
  );
}
/**
 * b_u/b_max = b(x, s_u)/e^{x/2} as a function of s_c (s_u = s_c + (b_max - b(s_c))/∂b/∂s(s_c)), as
 * `lowerBoundaryOverBMax`: <= 2e-15 relative for s_c in [0.25, 40], 2e-14 up to s_c = 300.
 */
export function upperBoundaryOverBMax(sc: number): number {
  if (sc < 1.7888543819998317) {
    if (sc < 0.7745966692414833) {
      const g =
        (-0.060630998812335614 +
          sc *
            (-0.08101194663712061 +
              sc *
                (-0.042505564862438755 +
                  sc *
                    (-0.008988000094686869 + sc * (-0.000007560307211044327 + 4.387955662154015e-7 * sc))))) /
        (1 +
          sc *
            (1.8400371530721829 +
              sc * (1.5709283443886144 + sc * (0.689132454536114 + 0.1470317306172098 * sc))));
      return 0.7899085945560628 + sc * sc * (0.06146168058051474 + sc * g);
    }
    return (
      (0.7899094443575528 +
        sc *
          (-1.2655410534988973 +
            sc *
              (-2.8803040699221003 +
                sc *
                  (-2.693619868911326 +
                    sc *
                      (-1.1213067281643205 + sc * (-0.2127779380169163 + 0.00000514864459052998 * sc)))))) /
      (1 +
        sc *
          (-1.6021222722060444 +
            sc *
              (-3.7242680976480704 +
                sc * (-3.2083117718907364 + sc * (-1.292233383593096 - 0.2376232833405 * sc)))))
    );
  }
  if (sc < 6.164414002968976)
    return (
      (0.789906400489676 +
        sc *
          (1.5993699253596663 +
            sc *
              (1.648172903914037 +
                sc *
                  (0.982271881098692 +
                    sc * (0.3631355796618694 + sc * (0.0782770362611796 + 0.009340430736453872 * sc)))))) /
      (1 +
        sc *
          (2.02474070056404 +
            sc *
              (2.008745427910374 +
                sc *
                  (1.1627561803056963 +
                    sc * (0.42004672123723824 + sc * (0.08913086279388724 + 0.010436767768858022 * sc))))))
    );
  return (
    (0.7911338259484194 +
      sc *
        (1.2465373321088005 +
          sc *
            (1.3274742698053739 +
              sc *
                (0.6950097057178468 +
                  sc * (0.3059659442682285 + sc * (0.06022003633913529 + 0.012905024445434484 * sc)))))) /
    (1 +
      sc *
        (1.5811748671463468 +
          sc *
            (1.6014471324762964 +
              sc *
                (0.8300401858368824 +
                  sc * (0.35307186381340155 + sc * (0.06959016841317585 + 0.014419758064389 * sc))))))
  );
}

const lnVegaScratch = new Float64Array(1);
const vegaScratch = new Float64Array(1);

// The solver is split by segment: each part is a separate optimisation unit for V8, so each gets its
// own inlining budget and the erfcx calls of its Householder loop are inlined (one function holding
// every segment exhausted the budget and called most erfcx out of line, boxing every argument).

/**
 * s = vol·√tau of an out-of-the-money call: x <= 0, 0 < beta < e^{x/2} (not checked).
 */
function impliedNormalisedOtmCall(beta: number, x: number, bMax: number, emx: number): number {
  const sc = Math.sqrt(Math.abs(2 * x));
  // At s_c = √(2|x|): h = -t, so e^{-(h²+t²)/2} = e^{x/2} = b_max and ∂b/∂s = b_max/√(2π), and in
  // Cody's region b = ½·b_max·(1 - erfcx(q2)) for q2 >= 0.46875 (else the erfc form): no exponential.
  let bc: number;
  let vc: number;
  let bcOverVc: number;
  const tc = 0.5 * sc;
  if (tc >= SMALL_T_THRESHOLD) {
    // q1 = -(h + t)/√2 = 0 up to the rounding of h = x/s_c (erfc(q1) = 1 to the last bit), and
    // q2 = -(h - t)/√2 = √2·t_c.
    const q2 = 2 * INV_SQRT2 * tc;
    vc = INV_SQRT_2PI * bMax;
    const twoB = q2 >= CODY_THRESHOLD ? bMax * (1 - erfcx(q2)) : bMax - emx * erfc(q2);
    bc = twoB > 0 ? 0.5 * twoB : 0;
    bcOverVc = SQRT_TWO_PI * emx * bc;
  } else {
    bc = normalisedBlackCallOtmAndVega(x, sc, bMax, emx, vegaScratch);
    vc = vegaScratch[0]!;
    bcOverVc = bc / vc;
  }
  // The segment boundaries b_l = b(s_l), b_u = b(s_u) are only interpolation nodes and places to
  // switch objective: for s_c >= BOUNDARY_FIT_MIN_SC they come from the rational approximations
  // in s_c (no exponential or erfcx), and the iterations are bounded by s_c, 0 and ∞ rather than
  // by s_l / s_u, so a β within the approximation error of a boundary converges either way.
  const fitted = sc >= BOUNDARY_FIT_MIN_SC;
  if (beta < bc) {
    const sl = sc - bcOverVc;
    let bl: number;
    let vl = 0;
    if (fitted) {
      bl = bMax * lowerBoundaryOverBMax(sc);
    } else {
      // Where the lowest-segment iteration may take b/∂b/∂s from erfcx directly, so may this (the
      // boundary moves by <= 8ε·s_l).
      const tl = 0.5 * sl;
      const hl = x / sl;
      if (
        x <= -DIRECT_MIN_ABS_X ||
        sl >= DIRECT_MIN_S ||
        (tl >= SMALL_T_THRESHOLD &&
          !(x < sl * ASYMPTOTIC_THRESHOLD && tl * sl + x < sl * (SMALL_T_THRESHOLD + ASYMPTOTIC_THRESHOLD)))
      ) {
        const e = Math.exp(-0.5 * (hl * hl + tl * tl));
        vl = INV_SQRT_2PI * e;
        bl = 0.5 * e * (erfcx(-INV_SQRT2 * (hl + tl)) - erfcx(-INV_SQRT2 * (hl - tl)));
        if (!(bl > 0)) bl = 0;
      } else {
        bl = normalisedBlackCallOtmAndVega(x, sl, bMax, emx, vegaScratch);
        vl = vegaScratch[0]!;
      }
    }
    if (beta < bl) return lowestIterations(beta, x, lowestGuess(beta, x, sl, bl), sc);
    if (fitted) vl = normalisedVega(x, sl);
    const r = convexControlRight(bl, bc, sl, sc, 1 / vl, 1 / vc, 0, false);
    return middleIterations(
      beta,
      x,
      bMax,
      rationalCubic(beta, bl, bc, sl, sc, 1 / vl, 1 / vc, r),
      DBL_MIN,
      sc,
    );
  }
  const su = vc > DBL_MIN ? sc + (bMax - bc) / vc : sc;
  let bu: number;
  let vu = 0;
  if (fitted) {
    bu = bMax * upperBoundaryOverBMax(sc);
  } else {
    bu = normalisedBlackCallOtmAndVega(x, su, bMax, emx, vegaScratch);
    vu = vegaScratch[0]!;
  }
  if (beta <= bu) {
    if (fitted) vu = normalisedVega(x, su);
    const r = convexControlLeft(bc, bu, sc, su, 1 / vc, 1 / vu, 0, false);
    return middleIterations(
      beta,
      x,
      bMax,
      rationalCubic(beta, bc, bu, sc, su, 1 / vc, 1 / vu, r),
      sc,
      DBL_MAX,
    );
  }
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
  const s = -2 * inverseNormCdfAs241(f);
  return beta > 0.5 * bMax
    ? upperIterations(beta, x, bMax, s, sc)
    : middleIterations(beta, x, bMax, s, sc, DBL_MAX);
}

/**
 * Lowest segment (β < b_l): the initial guess through the lower map
 * f(β) = 2π/√27·|x|·Φ(-|x|/(√3·s))³, interpolated between 0 and (b_l, f(s_l)).
 */
function lowestGuess(beta: number, x: number, sl: number, bl: number): number {
  const ax = Math.abs(x);
  const invSl = 1 / sl;
  const zz = SQRT_ONE_OVER_THREE * ax * invSl;
  const y = zz * zz;
  const s2 = sl * sl;
  let Phi: number;
  let phiOverPhi: number; // Φ(-z)/φ(z)
  let emh: number; // e^{-z²/2} = √(2π)·φ(z)
  if (zz > 1) {
    // Φ(-z) = ½·erfcx(z/√2)·e^{-z²/2}, φ(z) = e^{-z²/2}/√(2π): one shared exponential (the rounding
    // of z² is immaterial for a guess).
    const erfcxZ = erfcx(INV_SQRT2 * zz);
    emh = Math.exp(-0.5 * y);
    Phi = 0.5 * erfcxZ * emh;
    phiOverPhi = SQRT_PI_OVER_2 * erfcxZ;
  } else {
    Phi = normCdf(-zz);
    emh = Math.exp(-0.5 * y);
    phiOverPhi = (SQRT_TWO_PI * Phi) / emh;
  }
  const eFp = Math.exp(y + 0.125 * s2);
  const fpp =
    PI_OVER_SIX *
    y *
    (invSl * invSl * invSl) *
    Phi *
    (8 * SQRT_THREE * sl * ax + (3 * s2 * (s2 - 8) - 8 * x * x) * phiOverPhi) *
    (eFp * eFp);
  const Phi2 = Phi * Phi;
  const fp = TWO_PI * y * Phi2 * eFp;
  const fl = TWO_PI_OVER_SQRT_TWENTY_SEVEN * ax * (Phi2 * Phi);
  const r = convexControlRight(0, bl, 0, fl, 1, fp, fpp, true);
  let f = rationalCubic(beta, 0, bl, 0, fl, 1, fp, r);
  if (!(f > 0)) {
    const tt = beta / bl;
    f = (fl * tt + bl * (1 - tt)) * tt;
  }
  // s = |x|/(√3·|Φ⁻¹(u)|), u = c·∛(f/|x|): in AS241's tail (most of this segment) it needs only
  // ln u = ln c + ⅓·ln(f/|x|), one logarithm instead of a cube root and a logarithm.
  const fOverAx = f / ax;
  const lnU = LN_SQRT_THREE_OVER_THIRD_ROOT_TWO_PI + ONE_THIRD * Math.log(fOverAx);
  const z =
    lnU < AS241_LN_LOWER_TAIL && lnU > -DBL_MAX
      ? inverseNormCdfAs241LowerTailFromLog(lnU)
      : inverseNormCdfAs241(SQRT_THREE_OVER_THIRD_ROOT_TWO_PI * Math.cbrt(fOverAx));
  return Math.abs(x / (SQRT_THREE * z));
}

/** Householder steps of the lowest segment from `s0` on g(s) = 1/ln b(s) - 1/ln β within (0, sRight]. */
function lowestIterations(beta: number, x: number, s0: number, sRight: number): number {
  let s = s0;
  let ds = -DBL_MAX;
  let tol = DBL_EPSILON;
  const lnBeta = Math.log(beta);
  const skipTolLowest = x >= SECOND_STEP_FAR_X ? SECOND_STEP_TOL_LOWEST : SECOND_STEP_TOL_LOWEST_FAR;
  const invLnBeta = 1 / lnBeta;
  for (let iterations = 0; iterations < ITERATIONS && Math.abs(ds) > tol * s; iterations++) {
    const invS = 1 / s;
    const h = x * invS;
    const t = 0.5 * s;
    // b/∂b/∂s = Y(h+t) - Y(h-t) with Y(z) = Φ(z)/φ(z) = √(π/2)·erfcx(-z/√2), and ln ∂b/∂s, without
    // any exponential. The difference of the two erfcx cancels for small t or very negative h (where
    // ./blackScholes.ts uses series for b itself), but only the root s matters here: an absolute
    // error δ ≈ 2ε·Y(h) in b/∂b/∂s moves ln b by δ/(b/∂b/∂s) and s by δ, i.e. by ε·Y(h)/s relative,
    // with Y(h) <= min(√(π/2), 1/|h|). So the direct form is used where that is <= 8ε: in Cody's
    // region (as for b itself), or for |x| >= 1/8 (Y/s <= 1/|x|), or s >= 0.16 (Y/s <= √(π/2)/s).
    let bx = 0;
    let lnVega = 0;
    if (
      x <= -DIRECT_MIN_ABS_X ||
      s >= DIRECT_MIN_S ||
      (t >= SMALL_T_THRESHOLD &&
        !(x < s * ASYMPTOTIC_THRESHOLD && t * s + x < s * (SMALL_T_THRESHOLD + ASYMPTOTIC_THRESHOLD)))
    ) {
      bx = SQRT_PI_OVER_2 * (erfcxPositive(-INV_SQRT2 * (h + t)) - erfcxPositive(-INV_SQRT2 * (h - t)));
      lnVega = -LN_SQRT_2PI - 0.5 * (h * h + t * t);
    }
    if (!(bx > 0)) {
      bx = normalisedBlackCallOverVegaOtm(x, s, lnVegaScratch);
      lnVega = lnVegaScratch[0]!;
    }
    const lnB = Math.log(bx) + lnVega;
    // 1/bx and 1/ln b from one division.
    const invBxLnB = 1 / (bx * lnB);
    const bpob = lnB * invBxLnB;
    const hOverS = h * invS;
    const bh2 = h * hOverS - 0.25 * s;
    const nu = (lnBeta - lnB) * lnB * invLnBeta * bx;
    const lambda = bx * invBxLnB;
    const otl = 1 + 2 * lambda;
    const h2 = bh2 - bpob * otl;
    const c = 3 * hOverS * hOverS;
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
      // householder3, written out (a call would spend the inlining budget the two erfcx need)
      ds = (nu * (1 + 0.5 * h2 * nu)) / (1 + nu * (h2 + h3 * nu * ONE_SIXTH));
    }
    const sNew = Math.max(DBL_MIN, Math.min(sRight, s + ds));
    tol = sNew === s + ds ? skipTolLowest : DBL_EPSILON;
    ds = sNew - s;
    s = sNew;
  }
  return s;
}

/**
 * Upper segment for β > b_max/2: Householder steps from `s0` on g(s) = ln(b_max - β) - ln(b_max - b(s))
 * within [sLeft, ∞).
 */
function upperIterations(beta: number, x: number, bMax: number, s0: number, sLeft: number): number {
  let s = s0;
  let ds = -DBL_MAX;
  let tol = DBL_EPSILON;
  const skipTol = x >= SECOND_STEP_FAR_X ? SECOND_STEP_TOL : SECOND_STEP_TOL_FAR;
  const betaBar = bMax - beta;
  for (let iterations = 0; iterations < ITERATIONS && Math.abs(ds) > tol * s; iterations++) {
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
        bh2 * (bh3 - 0.5) - (bh2 - 2 / s) * 2 * c + gp * (6 * gp * (gp + 2 * bh2) + 3 * bh2 * bh2 + 4 * bh3);
      ds = nu * householder4(nu, h2, h3, h4);
    } else {
      ds = nu * householder3(nu, h2, h3);
    }
    const sNew = Math.max(sLeft, Math.min(DBL_MAX, s + ds));
    tol = sNew === s + ds ? skipTol : DBL_EPSILON;
    ds = sNew - s;
    s = sNew;
  }
  return s;
}

/**
 * Middle segments (and the upper one for β <= b_max/2): Householder steps from `s0` on
 * g(s) = b(s) - β within [sLeft, sRight].
 */
function middleIterations(
  beta: number,
  x: number,
  bMax: number,
  s0: number,
  sLeft: number,
  sRight: number,
): number {
  const emx = 1 / bMax;
  let s = s0;
  let ds = -DBL_MAX;
  let tol = DBL_EPSILON;
  const skipTol = x >= SECOND_STEP_FAR_X ? SECOND_STEP_TOL : SECOND_STEP_TOL_FAR;
  for (let iterations = 0; iterations < ITERATIONS && Math.abs(ds) > tol * s; iterations++) {
    const invS = 1 / s;
    const h = x * invS;
    const t = 0.5 * s;
    let b: number;
    let bp: number;
    if (
      t >= SMALL_T_THRESHOLD &&
      !(x < s * ASYMPTOTIC_THRESHOLD && t * s + x < s * (SMALL_T_THRESHOLD + ASYMPTOTIC_THRESHOLD))
    ) {
      // Cody's region with one exponential e = e^{-(h²+t²)/2}: since h·t = x/2, e^{-q1²} = e·e^{-x/2}
      // and e^{-q2²} = e·e^{x/2}, so every erfc(q) with |q| > 0.46875 is erfcx(|q|)·e·e^{∓x/2} (q2 >= 0).
      const e = Math.exp(-0.5 * (h * h + t * t));
      bp = INV_SQRT_2PI * e;
      const q1 = -INV_SQRT2 * (h + t);
      const q2 = -INV_SQRT2 * (h - t);
      const term1 =
        q1 >= CODY_THRESHOLD
          ? e * erfcx(q1)
          : q1 > -CODY_THRESHOLD
            ? bMax * erfc(q1)
            : 2 * bMax - e * erfcx(-q1);
      const term2 = q2 >= CODY_THRESHOLD ? e * erfcx(q2) : emx * erfc(q2);
      const twoB = term1 - term2;
      b = twoB > 0 ? 0.5 * twoB : 0;
    } else {
      b = normalisedBlackCallOtmAndVega(x, s, bMax, emx, vegaScratch);
      bp = vegaScratch[0]!;
    }
    const nu = (beta - b) / bp;
    const hOverS = h * invS;
    const h2 = h * hOverS - 0.25 * s;
    const h3 = h2 * h2 - 3 * hOverS * hOverS - 0.25;
    ds = nu * householder3(nu, h2, h3);
    const sNew = Math.max(sLeft, Math.min(sRight, s + ds));
    tol = sNew === s + ds ? skipTol : DBL_EPSILON;
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
  const xc = isCall ? x : -x; // call-equivalent moneyness
  return normalisedImpliedVolCallEquivalent(beta, xc, Math.exp(0.5 * xc));
}

/** `normalisedImpliedVolRaw` of the call-equivalent (xc = ±x), given bMax = e^{xc/2}; finite inputs. */
function normalisedImpliedVolCallEquivalent(beta: number, x: number, bMaxCall: number): number {
  let xc = x;
  let b = beta;
  let bMax = bMaxCall;
  let emx: number;
  if (b >= bMax) return IV_ABOVE_MAXIMUM;
  if (xc > 0) {
    b -= normalisedIntrinsicCall(xc);
    xc = -xc;
    emx = bMax; // e^{|x|/2}
    bMax = 1 / bMax; // e^{-|x|/2}
  } else {
    emx = 1 / bMax;
  }
  // Removing the intrinsic value is exact to a few ulps of β: a time value within that of zero
  // (a price at the intrinsic value, up to its own rounding) is zero volatility, not an error.
  if (b < 0) return b >= -4 * DBL_EPSILON * beta ? 0 : IV_BELOW_INTRINSIC;
  if (b === 0) return 0;
  if (b >= bMax) return IV_ABOVE_MAXIMUM;
  return impliedNormalisedOtmCall(b, xc, bMax, emx);
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
