/**
 * Double-precision normal distribution: erfc / erfcx (W. J. Cody), CDF, pdf and inverse CDF.
 *
 * - `erfc`, `erfcx`: W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
 *   approximations for the error function", Math. Comp. 23 (1969) 631-638; netlib specfun CALERF),
 *   which approximate erfc and erfcx(x) = exp(x²)·erfc(x) to better than 1e-18 in exact arithmetic.
 *   For |x| > 4 erfcx uses no exponential at all; exp(-x²) is taken with x² split exactly (Dekker)
 *   so the rounding of x² does not enter the result.
 * - `normCdf(z) = erfc(-z/√2)/2`: ~1e-16 relative everywhere including the far left tail (down to
 *   the underflow of Φ itself at z ≈ -37.5); use `normCdf(-z)` for the upper tail, never `1 - normCdf(z)`.
 * - `inverseNormCdf`: Wichura's AS241 (PPND16, Appl. Statist. 37 (1988) 477-484), ~1e-16 relative,
 *   refined by one Halley step on Φ so the result is accurate to a few ulps of the inverse.
 *
 * All functions take and return plain numbers and never allocate.
 */

/** 1/√(2π). */
export const INV_SQRT_2PI = 0.3989422804014327;
/** √(2π). */
export const SQRT_2PI = 2.5066282746310007;
/** 1/√2. */
export const INV_SQRT2 = 0.7071067811865476;
/** 1/√π. */
const INV_SQRT_PI = 0.5641895835477563;

// Cody's coefficients, |x| <= 0.46875: erf(x) = x·A(x²)/B(x²).
const A0 = 3.1611237438705655;
const A1 = 113.86415415105016;
const A2 = 377.485237685302;
const A3 = 3209.3775891384694;
const A4 = 0.18577770618460315;
const B0 = 23.601290952344122;
const B1 = 244.02463793444417;
const B2 = 1282.6165260773723;
const B3 = 2844.236833439171;
// 0.46875 < |x| <= 4: erfcx(x) = C(x)/D(x).
const C0 = 0.5641884969886701;
const C1 = 8.883149794388377;
const C2 = 66.11919063714163;
const C3 = 298.6351381974001;
const C4 = 881.952221241769;
const C5 = 1712.0476126340707;
const C6 = 2051.0783778260716;
const C7 = 1230.3393547979972;
const C8 = 2.1531153547440383e-8;
const D0 = 15.744926110709835;
const D1 = 117.6939508913125;
const D2 = 537.1811018620099;
const D3 = 1621.3895745666903;
const D4 = 3290.7992357334597;
const D5 = 4362.619090143247;
const D6 = 3439.3676741437216;
const D7 = 1230.3393548037495;
// |x| > 4: erfcx(x) = (1/√π - z·P(z)/Q(z)) / x with z = 1/x².
const P0 = 0.30532663496123236;
const P1 = 0.36034489994980445;
const P2 = 0.12578172611122926;
const P3 = 0.016083785148742275;
const P4 = 0.0006587491615298378;
const P5 = 0.016315387137302097;
const Q0 = 2.568520192289822;
const Q1 = 1.8729528499234604;
const Q2 = 0.5279051029514285;
const Q3 = 0.06051834131244132;
const Q4 = 0.0023352049762686918;

const THRESH = 0.46875;
/** erfc(x) underflows (to below the smallest normal) for x >= XBIG. */
const XBIG = 26.543;
/** Above this erfcx(x) = 1/(x√π) to double precision. */
const XHUGE = 6.71e7;
/** erfcx(x) overflows for x < XNEG. */
const XNEG = -26.628;

/** erf(x) / x for |x| <= 0.46875. */
function erfSmallOverX(ysq: number): number {
  let num = A4 * ysq;
  let den = ysq;
  num = (num + A0) * ysq;
  den = (den + B0) * ysq;
  num = (num + A1) * ysq;
  den = (den + B1) * ysq;
  num = (num + A2) * ysq;
  den = (den + B2) * ysq;
  return (num + A3) / (den + B3);
}

// erfcxMid and erfcxLarge as single Horner expressions: the same operations in the same order as
// Cody's loop form (the same values), in less bytecode, so that the lowest-segment iteration of the
// implied volatility can inline both of its erfcx evaluations (see erfcxPositive).

/** erfcx(y) for 0.46875 < y <= 4. */
function erfcxMid(y: number): number {
  return (
    ((((((((C8 * y + C0) * y + C1) * y + C2) * y + C3) * y + C4) * y + C5) * y + C6) * y + C7) /
    ((((((((y + D0) * y + D1) * y + D2) * y + D3) * y + D4) * y + D5) * y + D6) * y + D7)
  );
}

/** erfcx(y) for y > 4. */
function erfcxLarge(y: number): number {
  if (y >= XHUGE) return INV_SQRT_PI / y;
  const z = 1 / (y * y);
  return (
    (INV_SQRT_PI -
      (z * (((((P5 * z + P0) * z + P1) * z + P2) * z + P3) * z + P4)) /
        (((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4)) /
    y
  );
}

/** Veltkamp splitter 2^27 + 1. */
const SPLITTER = 134217729;

/**
 * exp(-y²) without the rounding error of forming y²: y² = hi + lo exactly (Dekker's product with a
 * Veltkamp split), exp(-y²) = exp(-hi)·exp(-lo) = exp(-hi)·(1 - lo) since |lo| <= ulp(hi)/2.
 * (Cody's original splits y at 1/16 and takes two exponentials; this needs one.)
 */
function expMinusSquare(y: number): number {
  const hi = y * y;
  const t = SPLITTER * y;
  const yh = t - (t - y);
  const yl = y - yh;
  const lo = yh * yh - hi + 2 * yh * yl + yl * yl;
  return Math.exp(-hi) * (1 - lo);
}

/** Complementary error function erfc(x) = 1 - erf(x), accurate to ~1e-16 relative for all x. */
export function erfc(x: number): number {
  const y = Math.abs(x);
  let r: number;
  if (y <= THRESH) {
    return 1 - x * erfSmallOverX(y * y);
  } else if (y <= 4) {
    r = erfcxMid(y) * expMinusSquare(y);
  } else if (y >= XBIG) {
    r = 0;
  } else {
    r = erfcxLarge(y) * expMinusSquare(y);
  }
  return x < 0 ? 2 - r : r;
}

/** Error function erf(x). */
export function erf(x: number): number {
  const y = Math.abs(x);
  if (y <= THRESH) return x * erfSmallOverX(y * y);
  const r = 1 - erfc(y);
  return x < 0 ? -r : r;
}

/**
 * Scaled complementary error function erfcx(x) = exp(x²)·erfc(x), accurate to ~1e-16 relative.
 * For x > 4 no exponential is evaluated (erfcx(x) ≈ 1/(x√π)); returns +Infinity below -26.628.
 */
export function erfcx(x: number): number {
  const y = Math.abs(x);
  let r: number;
  if (y <= THRESH) {
    const ysq = y * y;
    r = Math.exp(ysq) * (1 - x * erfSmallOverX(ysq));
    return r;
  } else if (y <= 4) {
    r = erfcxMid(y);
  } else {
    r = erfcxLarge(y);
  }
  if (x < 0) {
    if (x < XNEG) return Infinity;
    const e = 1 / expMinusSquare(y);
    return e + e - r;
  }
  return r;
}

/**
 * `erfcx` with the positive ranges tested first and no sign handling in line: the same value for
 * every x, but small enough that a caller evaluating it twice can inline both (the lowest-segment
 * iteration of the implied volatility, whose arguments are positive).
 */
export function erfcxPositive(x: number): number {
  return x > 4 ? erfcxLarge(x) : x > 0.46875 ? erfcxMid(x) : erfcx(x);
}

/** exp(-z²/2) without the rounding of z² (one exponential; see expMinusSquare). */
export function expMinusHalfSquare(z: number): number {
  const hi = z * z;
  const t = SPLITTER * z;
  const zh = t - (t - z);
  const zl = z - zh;
  const lo = zh * zh - hi + 2 * zh * zl + zl * zl;
  return Math.exp(-0.5 * hi) * (1 - 0.5 * lo);
}

/** Standard normal density φ(z), ~1e-16 relative also for large |z| (exact-split exponent). */
export function normPdf(z: number): number {
  return Math.abs(z) < 1 ? INV_SQRT_2PI * Math.exp(-0.5 * z * z) : INV_SQRT_2PI * expMinusHalfSquare(z);
}

/**
 * Standard normal CDF Φ(z), ~1e-16 relative in both tails (use Φ(-z) for the upper tail). For z < -1:
 * Φ(z) = ½·erfcx(-z/√2)·exp(-z²/2) — erfcx is well conditioned, so rounding z/√2 costs nothing, and the
 * exponential takes the exact-split z².
 */
export function normCdf(z: number): number {
  if (z < -1) {
    if (z < -38.5) return 0;
    return 0.5 * erfcx(-INV_SQRT2 * z) * expMinusHalfSquare(z);
  }
  return 0.5 * erfc(-INV_SQRT2 * z);
}

// AS241 (PPND16) coefficients.
const SPLIT1 = 0.425;
const SPLIT2 = 5;
const CONST1 = 0.180625;
const CONST2 = 1.6;
const IA0 = 3.3871328727963665;
const IA1 = 133.14166789178438;
const IA2 = 1971.5909503065513;
const IA3 = 13731.69376550946;
const IA4 = 45921.95393154987;
const IA5 = 67265.7709270087;
const IA6 = 33430.57558358813;
const IA7 = 2509.0809287301227;
const IB1 = 42.31333070160091;
const IB2 = 687.1870074920579;
const IB3 = 5394.196021424751;
const IB4 = 21213.794301586597;
const IB5 = 39307.89580009271;
const IB6 = 28729.085735721943;
const IB7 = 5226.495278852854;
const IC0 = 1.4234371107496835;
const IC1 = 4.630337846156546;
const IC2 = 5.769497221460691;
const IC3 = 3.6478483247632045;
const IC4 = 1.2704582524523684;
const IC5 = 0.2417807251774506;
const IC6 = 0.022723844989269184;
const IC7 = 0.0007745450142783414;
const ID1 = 2.053191626637759;
const ID2 = 1.6763848301838038;
const ID3 = 0.6897673349851;
const ID4 = 0.14810397642748008;
const ID5 = 0.015198666563616457;
const ID6 = 0.0005475938084995345;
const ID7 = 1.0507500716444169e-9;
const IE0 = 6.657904643501103;
const IE1 = 5.463784911164114;
const IE2 = 1.7848265399172913;
const IE3 = 0.29656057182850487;
const IE4 = 0.026532189526576124;
const IE5 = 0.0012426609473880784;
const IE6 = 2.7115555687434876e-5;
const IE7 = 2.0103343992922881e-7;
const IF1 = 0.599832206555888;
const IF2 = 0.1369298809227358;
const IF3 = 0.014875361290850615;
const IF4 = 0.0007868691311456133;
const IF5 = 1.8463183175100548e-5;
const IF6 = 1.421511758316446e-7;
const IF7 = 2.0442631033899397e-15;

// AS241's three rational approximations as separate small functions, so that the optimising compiler
// inlines the dispatcher and the branch a caller needs (one function holding all three is too large to
// inline, and every call boxed its argument and result).
function as241Central(q: number): number {
  const r = CONST1 - q * q;
  return (
    (q * (((((((IA7 * r + IA6) * r + IA5) * r + IA4) * r + IA3) * r + IA2) * r + IA1) * r + IA0)) /
    (((((((IB7 * r + IB6) * r + IB5) * r + IB4) * r + IB3) * r + IB2) * r + IB1) * r + 1)
  );
}

function as241Tail(r: number): number {
  return (
    (((((((IC7 * r + IC6) * r + IC5) * r + IC4) * r + IC3) * r + IC2) * r + IC1) * r + IC0) /
    (((((((ID7 * r + ID6) * r + ID5) * r + ID4) * r + ID3) * r + ID2) * r + ID1) * r + 1)
  );
}

function as241FarTail(r: number): number {
  return (
    (((((((IE7 * r + IE6) * r + IE5) * r + IE4) * r + IE3) * r + IE2) * r + IE1) * r + IE0) /
    (((((((IF7 * r + IF6) * r + IF5) * r + IF4) * r + IF3) * r + IF2) * r + IF1) * r + 1)
  );
}

/** AS241 without refinement: Φ⁻¹(u) to ~1e-16 relative (used for initial guesses). */
export function inverseNormCdfAs241(u: number): number {
  if (!(u > 0)) return u === 0 ? -Infinity : NaN;
  if (!(u < 1)) return u === 1 ? Infinity : NaN;
  const q = u - 0.5;
  if (Math.abs(q) <= SPLIT1) return as241Central(q);
  const r = Math.sqrt(-Math.log(q < 0 ? u : 1 - u));
  const ret = r < SPLIT2 ? as241Tail(r - CONST2) : as241FarTail(r - SPLIT2);
  return q < 0 ? -ret : ret;
}

/**
 * AS241 without refinement in the lower tail, from ℓ = ln u for u < 0.075 (ℓ < ln 0.075, where AS241
 * takes r = √(-ln u)): a caller holding ln u saves forming u and its logarithm. ℓ must be finite.
 */
export function inverseNormCdfAs241LowerTailFromLog(lnU: number): number {
  const r = Math.sqrt(-lnU);
  return -(r < SPLIT2 ? as241Tail(r - CONST2) : as241FarTail(r - SPLIT2));
}

/** ln(0.5 - 0.425): below it AS241 is in its tail (see inverseNormCdfAs241LowerTailFromLog). */
export const AS241_LN_LOWER_TAIL = Math.log(0.5 - SPLIT1);

/**
 * Inverse standard normal CDF Φ⁻¹(u) for u in (0, 1); -Infinity / +Infinity at 0 / 1, NaN outside.
 * AS241 followed by one Halley step on the tail probability min(u, 1-u) (so the upper tail, where
 * 1 - u has lost digits, is refined against Φ(-z) rather than Φ(z)).
 */
export function inverseNormCdf(u: number): number {
  const z = inverseNormCdfAs241(u);
  if (!Number.isFinite(z)) return z;
  // Refine on the lower tail: for z > 0 solve Φ(-z) = 1 - u (exact subtraction when u > 1/2).
  const lower = z <= 0;
  const zl = lower ? z : -z;
  const target = lower ? u : 1 - u;
  const pdf = normPdf(zl);
  if (!(pdf > 0)) return z;
  const e = (normCdf(zl) - target) / pdf;
  const zr = zl - e / (1 + 0.5 * zl * e);
  return lower ? zr : -zr;
}
