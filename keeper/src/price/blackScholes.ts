/**
 * Black-Scholes price and greeks of European calls and puts (no dividends), in float64.
 *
 * Units — the same as contracts/libraries/BlackScholes.sol, but in natural (unscaled) numbers:
 *  - `spot`, `strike`: prices in the same quote unit; `tau`: years; `vol`: annualised (0.8 = 80%);
 *    `rate`: continuously compounded annual rate.
 *  - `price` in quote units; `delta` per unit of underlying; `gamma` = d(delta)/d(spot) per one quote
 *    unit; `vega` = dPrice/dVol per 1.0 of vol (100 vol points); `theta` = dPrice/dt per year of
 *    calendar time (= -dPrice/dtau, usually negative); `rho` = dPrice/dRate per 1.0 of rate;
 *    `vanna` = d(delta)/d(vol) per 1.0 of vol; `volga` = d(vega)/d(vol) per 1.0 of vol.
 *
 * The price goes through the normalised Black function (Jäckel, "Let's Be Rational", 2015):
 *   x = ln(F/K), s = vol·√tau, b(x, s) = e^{x/2}·Φ(x/s + s/2) - e^{-x/2}·Φ(x/s - s/2)   (call),
 *   price = D·√(F·K)·b = √S·√(K·D)·b,   D = e^{-rate·tau}, F = S/D,
 * evaluated out of the money (in-the-money = discounted intrinsic + the out-of-the-money twin, a sum
 * of two positive terms) without subtractive cancellation, so prices are accurate to ~1e-16 relative
 * even deep out of the money (down to underflow). See `normalisedBlack` for the four regions.
 */
import { z } from "zod";
import { erfc, erfcx, normCdf, INV_SQRT_2PI, INV_SQRT2 } from "./normal.ts";

const DBL_EPSILON = 2.220446049250313e-16;
/** √(π/2). */
const SQRT_PI_OVER_2 = 1.2533141373155003;
/** Region I (asymptotic expansion) threshold η on h = x/s. */
/** Region thresholds of the normalised Black function (the IV solver branches on the same ones). */
export const ASYMPTOTIC_THRESHOLD = -10;
/** Region II (small-t expansion) threshold τ = 2·ε^(1/16) on t = s/2. */
export const SMALL_T_THRESHOLD = 2 * Math.pow(DBL_EPSILON, 1 / 16);
/** Cody's switch point between his erf and erfc rational approximations. */
export const CODY_THRESHOLD = 0.46875;

/** Normalised intrinsic value of a call, e^{x/2} - e^{-x/2} = 2·sinh(x/2) for x > 0, else 0. */
export function normalisedIntrinsicCall(x: number): number {
  return x > 0 ? 2 * Math.sinh(0.5 * x) : 0;
}

/** ∂b/∂s = φ(x/s + s/2)·e^{x/2} = exp(-(h² + t²)/2)/√(2π) with h = x/s, t = s/2 (same for calls and puts). */
export function normalisedVega(x: number, s: number): number {
  if (x === 0) return INV_SQRT_2PI * Math.exp(-0.125 * s * s);
  if (!(s > 0)) return 0;
  const h = x / s;
  const t = 0.5 * s;
  return INV_SQRT_2PI * Math.exp(-0.5 * (h * h + t * t));
}

/** ln(∂b/∂s). */
export function lnNormalisedVega(x: number, s: number): number {
  const LN_SQRT_2PI = 0.9189385332046728;
  if (x === 0) return -LN_SQRT_2PI - 0.125 * s * s;
  if (!(s > 0)) return -Infinity;
  const h = x / s;
  const t = 0.5 * s;
  return -LN_SQRT_2PI - 0.5 * (h * h + t * t);
}

/**
 * Region I: h < -10 and h + t < -10 + τ. b/vega = Y(h+t) - Y(h-t) with Y(z) = Φ(z)/φ(z), from the
 * asymptotic series Y(z) ~ -Σ_k (-1)^k (2k-1)!! z^{-(2k+1)} (Abramowitz & Stegun 26.2.12). With
 * u = 1/(h+t), v = 1/(h-t) (both negative) each difference v^n - u^n (n odd) is written as
 * (v - u)·S_n, v - u = 2t/((h+t)(h-t)), S_n = Σ_{j<n} v^j u^{n-1-j}, and S_{n+2} = u²·S_n + v^n·(u + v)
 * is a sum of positive terms: no cancellation however small t/h is.
 */
function asymptoticBlackOverVega(h: number, t: number): number {
  const u = 1 / (h + t);
  const v = 1 / (h - t);
  const u2 = u * u;
  const upv = u + v;
  let sN = 1; // S_1
  let vN = v; // v^1
  let coef = 1; // (2k-1)!!, k = 0
  let sum = 1;
  let prev = Infinity;
  for (let k = 1; k < 80; k++) {
    sN = u2 * sN + vN * upv;
    vN *= v * v;
    coef *= 2 * k - 1;
    const term = coef * sN;
    if (!(term < prev)) break; // the series is asymptotic: stop at its smallest term
    sum += k & 1 ? -term : term;
    if (term <= 0.25 * DBL_EPSILON * sum) break;
    prev = term;
  }
  return ((2 * t) / ((h + t) * (h - t))) * sum;
}

/**
 * Region II: t < τ ≈ 0.21 (and h >= -10). b/vega = Y(h+t) - Y(h-t) = 2·Σ_{n odd} Y⁽ⁿ⁾(h)·tⁿ/n!, with
 * Y(h) = √(π/2)·erfcx(-h/√2), Y' = 1 + h·Y and Y⁽ⁿ⁺¹⁾ = h·Y⁽ⁿ⁾ + n·Y⁽ⁿ⁻¹⁾.
 */
function smallTBlackOverVega(h: number, t: number): number {
  let yPrev = SQRT_PI_OVER_2 * erfcx(-INV_SQRT2 * h); // Y⁽⁰⁾
  let y = 1 + h * yPrev; // Y⁽¹⁾
  const w = t * t;
  let f = t; // tⁿ/n!
  let sum = y * t;
  for (let n = 1; n < 40; n += 2) {
    // Y⁽ⁿ⁺¹⁾, Y⁽ⁿ⁺²⁾
    const y1 = h * y + n * yPrev;
    const y2 = h * y1 + (n + 1) * y;
    yPrev = y1;
    y = y2;
    f *= w / ((n + 1) * (n + 2));
    const term = y * f;
    sum += term;
    if (Math.abs(term) <= 0.125 * DBL_EPSILON * sum) break;
  }
  return 2 * sum;
}

/**
 * Regions III/IV: b = ½·[e^{x/2}·erfc(q1) - e^{-x/2}·erfc(q2)], q1 = -(h+t)/√2, q2 = -(h-t)/√2,
 * with each erfc(q) = erfcx(q)·e^{-q²} folded into a single exponential e^{-(h²+t²)/2} whenever Cody's
 * erfcx needs no exponential of its own (q >= 0.46875).
 */
function codyBlack(x: number, h: number, t: number): number {
  const q1 = -INV_SQRT2 * (h + t);
  const q2 = -INV_SQRT2 * (h - t);
  let twoB: number;
  if (q1 < CODY_THRESHOLD) {
    if (q2 < CODY_THRESHOLD) twoB = Math.exp(0.5 * x) * erfc(q1) - Math.exp(-0.5 * x) * erfc(q2);
    else twoB = Math.exp(0.5 * x) * erfc(q1) - Math.exp(-0.5 * (h * h + t * t)) * erfcx(q2);
  } else if (q2 < CODY_THRESHOLD) {
    twoB = Math.exp(-0.5 * (h * h + t * t)) * erfcx(q1) - Math.exp(-0.5 * x) * erfc(q2);
  } else {
    twoB = Math.exp(-0.5 * (h * h + t * t)) * (erfcx(q1) - erfcx(q2));
  }
  const b = 0.5 * twoB;
  return b > 0 ? b : 0;
}

function inAsymptoticRegion(x: number, s: number): boolean {
  // h < η and h + t < η + τ, without dividing by s.
  return x < s * ASYMPTOTIC_THRESHOLD && 0.5 * s * s + x < s * (SMALL_T_THRESHOLD + ASYMPTOTIC_THRESHOLD);
}

/** Normalised out-of-the-money call b(x, s) for x <= 0, s > 0. */
export function normalisedBlackCallOtm(x: number, s: number): number {
  if (!(s > 0)) return 0;
  if (inAsymptoticRegion(x, s)) return asymptoticBlackOverVega(x / s, 0.5 * s) * normalisedVega(x, s);
  if (0.5 * s < SMALL_T_THRESHOLD) return smallTBlackOverVega(x / s, 0.5 * s) * normalisedVega(x, s);
  return codyBlack(x, x / s, 0.5 * s);
}

/**
 * b(x, s) of an out-of-the-money call (x <= 0, s > 0) and its vega ∂b/∂s (written to `vegaOut[0]`)
 * from one shared exponential; `ex` = e^{x/2}, `emx` = e^{-x/2} are passed in by callers that evaluate
 * many s at the same x (the implied-volatility iteration). Same values as normalisedBlackCallOtm.
 */
export function normalisedBlackCallOtmAndVega(
  x: number,
  s: number,
  ex: number,
  emx: number,
  vegaOut: Float64Array,
): number {
  if (!(s > 0)) {
    vegaOut[0] = x === 0 ? INV_SQRT_2PI : 0;
    return 0;
  }
  const h = x / s;
  const t = 0.5 * s;
  const e = Math.exp(-0.5 * (h * h + t * t));
  const vega = x === 0 ? INV_SQRT_2PI * Math.exp(-0.125 * s * s) : INV_SQRT_2PI * e;
  vegaOut[0] = vega;
  if (inAsymptoticRegion(x, s)) return asymptoticBlackOverVega(h, t) * vega;
  if (t < SMALL_T_THRESHOLD) return smallTBlackOverVega(h, t) * vega;
  const q1 = -INV_SQRT2 * (h + t);
  const q2 = -INV_SQRT2 * (h - t);
  let twoB: number;
  if (q1 < CODY_THRESHOLD) {
    if (q2 < CODY_THRESHOLD) twoB = ex * erfc(q1) - emx * erfc(q2);
    else twoB = ex * erfc(q1) - e * erfcx(q2);
  } else if (q2 < CODY_THRESHOLD) {
    twoB = e * erfcx(q1) - emx * erfc(q2);
  } else {
    twoB = e * (erfcx(q1) - erfcx(q2));
  }
  const b = 0.5 * twoB;
  return b > 0 ? b : 0;
}

/**
 * b(x, s)/∂b/∂s for an out-of-the-money call (x <= 0), returned together with ln(∂b/∂s) through
 * `out[0]`, so that ln b = ln(b/vega) + ln vega stays finite where b itself underflows.
 */
export function normalisedBlackCallOverVegaOtm(x: number, s: number, lnVegaOut: Float64Array): number {
  const lnVega = lnNormalisedVega(x, s);
  lnVegaOut[0] = lnVega;
  if (inAsymptoticRegion(x, s)) return asymptoticBlackOverVega(x / s, 0.5 * s);
  if (0.5 * s < SMALL_T_THRESHOLD) return smallTBlackOverVega(x / s, 0.5 * s);
  return codyBlack(x, x / s, 0.5 * s) * Math.exp(-lnVega);
}

/**
 * Normalised Black price: b = price / (D·√(F·K)) of a call (`isCall`) or put, x = ln(F/K), s = vol·√tau.
 * Uses the reciprocal-strike symmetry b_put(x, s) = b_call(-x, s) and, in the money,
 * b_call(x, s) = 2·sinh(x/2) + b_call(-x, s).
 */
export function normalisedBlack(x: number, s: number, isCall: boolean): number {
  const xc = isCall ? x : -x;
  if (xc > 0) return normalisedIntrinsicCall(xc) + normalisedBlackCallOtm(-xc, s);
  return normalisedBlackCallOtm(xc, s);
}

/**
 * b̄(x, s) = e^{x/2} - b(x, s) (distance of an out-of-the-money call from its upper bound), directly:
 * b̄ = ½·[erfcx((t+h)/√2) + erfcx((t-h)/√2)]·e^{-(h²+t²)/2} — no subtraction.
 */
export function complementaryNormalisedBlack(x: number, s: number): number {
  const h = x / s;
  const t = 0.5 * s;
  if (t + h < 0) {
    // Far from the bound: the two positive terms e^{x/2}·Φ(-h-t) + e^{-x/2}·Φ(h-t) directly.
    return Math.exp(0.5 * x) * normCdf(-h - t) + Math.exp(-0.5 * x) * normCdf(h - t);
  }
  return 0.5 * (erfcx(INV_SQRT2 * (t + h)) + erfcx(INV_SQRT2 * (t - h))) * Math.exp(-0.5 * (t * t + h * h));
}

/** ln(F/K) with F = spot·e^{rate·tau}, accurate near the money (log1p of an exact difference). */
export function logMoneyness(spot: number, strike: number, tau: number, rate: number): number {
  const ratio = spot / strike;
  const lnSK = ratio > 0.5 && ratio < 2 ? Math.log1p((spot - strike) / strike) : Math.log(ratio);
  return lnSK + rate * tau;
}

/** Black-Scholes price (see the module doc for units). Inputs must be finite with spot, strike > 0, tau, vol >= 0. */
export function bsPrice(
  spot: number,
  strike: number,
  tau: number,
  vol: number,
  rate: number,
  isCall: boolean,
): number {
  const kd = strike * Math.exp(-rate * tau);
  const x = logMoneyness(spot, strike, tau, rate);
  const s = vol * Math.sqrt(tau);
  const xc = isCall ? x : -x;
  const scale = Math.sqrt(spot) * Math.sqrt(kd);
  // In the money: D·√(FK)·(2·sinh(x/2) + b(-x, s)); the intrinsic part from x, not from S - K·D,
  // which would cancel near the forward.
  if (xc > 0) return scale * (normalisedIntrinsicCall(xc) + normalisedBlackCallOtm(-xc, s));
  return scale * normalisedBlackCallOtm(xc, s);
}

/** Boundary schema for one option's Black-Scholes inputs (the `bsGreeks` domain). */
export const bsInputSchema = z.object({
  spot: z.number().finite().positive(),
  strike: z.number().finite().positive(),
  tau: z.number().finite().positive(),
  vol: z.number().finite().positive(),
  rate: z.number().finite(),
  isCall: z.boolean(),
});
export type BsInput = z.infer<typeof bsInputSchema>;

/** Price and greeks of one option (units in the module doc). */
export interface BsGreeks {
  price: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  rho: number;
  vanna: number;
  volga: number;
}

/**
 * Price and all greeks of one European option. Inputs: spot, strike > 0, tau > 0, vol > 0, rate finite
 * (validate at the boundary with `bsInputSchema`); throws RangeError otherwise.
 */
export function bsGreeks(
  spot: number,
  strike: number,
  tau: number,
  vol: number,
  rate: number,
  isCall: boolean,
): BsGreeks {
  if (
    !(spot > 0 && strike > 0 && tau > 0 && vol > 0 && Number.isFinite(rate)) ||
    !Number.isFinite(spot * strike * tau * vol)
  ) {
    throw new RangeError(
      `bsGreeks: invalid input spot=${spot} strike=${strike} tau=${tau} vol=${vol} rate=${rate}`,
    );
  }
  const sqrtT = Math.sqrt(tau);
  const s = vol * sqrtT;
  const kd = strike * Math.exp(-rate * tau);
  const x = logMoneyness(spot, strike, tau, rate);
  const d1 = x / s + 0.5 * s;
  const d2 = d1 - s;
  const n1 = INV_SQRT_2PI * Math.exp(-0.5 * d1 * d1);
  const sn1 = spot * n1;
  const vega = sn1 * sqrtT;
  const decay = (-0.5 * sn1 * vol) / sqrtT;
  const xc = isCall ? x : -x;
  const scale = Math.sqrt(spot) * Math.sqrt(kd);
  let price: number;
  if (xc > 0) {
    price = scale * (normalisedIntrinsicCall(xc) + normalisedBlackCallOtm(-xc, s));
  } else {
    price = scale * normalisedBlackCallOtm(xc, s);
  }
  let delta: number;
  let kdn2: number; // K·D·N(±d2)
  if (isCall) {
    delta = normCdf(d1);
    kdn2 = kd * normCdf(d2);
  } else {
    delta = -normCdf(-d1);
    kdn2 = kd * normCdf(-d2);
  }
  return {
    price,
    delta,
    gamma: n1 / (spot * s),
    vega,
    theta: isCall ? decay - rate * kdn2 : decay + rate * kdn2,
    rho: isCall ? tau * kdn2 : -tau * kdn2,
    vanna: (-n1 * d2) / vol,
    volga: (vega * d1 * d2) / vol,
  };
}

/** Column inputs of `bsGreeksBatch` (all arrays of the same length; isCall: 1 = call, 0 = put). */
export interface BsBatchInput {
  spot: Float64Array;
  strike: Float64Array;
  tau: Float64Array;
  vol: Float64Array;
  rate: Float64Array;
  isCall: Uint8Array;
}

/** Column outputs of `bsGreeksBatch`, written in place (arrays at least as long as the inputs). */
export interface BsBatchOutput {
  price: Float64Array;
  delta: Float64Array;
  gamma: Float64Array;
  vega: Float64Array;
  theta: Float64Array;
  vanna: Float64Array;
  volga: Float64Array;
}

/** Allocates the output columns for `n` options. */
export function allocBsBatchOutput(n: number): BsBatchOutput {
  return {
    price: new Float64Array(n),
    delta: new Float64Array(n),
    gamma: new Float64Array(n),
    vega: new Float64Array(n),
    theta: new Float64Array(n),
    vanna: new Float64Array(n),
    volga: new Float64Array(n),
  };
}

/**
 * Vectorised `bsGreeks` over columns: same formulas and results, no allocation, no validation
 * (inputs must satisfy the `bsGreeks` domain; invalid rows produce NaN). Returns the row count.
 */
export function bsGreeksBatch(input: BsBatchInput, out: BsBatchOutput): number {
  const n = input.spot.length;
  const { spot: S, strike: K, tau: T, vol: V, rate: R, isCall: C } = input;
  const { price: oP, delta: oD, gamma: oG, vega: oV, theta: oT, vanna: oVa, volga: oVo } = out;
  for (let i = 0; i < n; i++) {
    const spot = S[i]!;
    const tau = T[i]!;
    const vol = V[i]!;
    const rate = R[i]!;
    const call = C[i] === 1;
    const sqrtT = Math.sqrt(tau);
    const s = vol * sqrtT;
    const kd = K[i]! * Math.exp(-rate * tau);
    const x = logMoneyness(spot, K[i]!, tau, rate);
    const d1 = x / s + 0.5 * s;
    const d2 = d1 - s;
    const n1 = INV_SQRT_2PI * Math.exp(-0.5 * d1 * d1);
    const sn1 = spot * n1;
    const vega = sn1 * sqrtT;
    const decay = (-0.5 * sn1 * vol) / sqrtT;
    const xc = call ? x : -x;
    const scale = Math.sqrt(spot) * Math.sqrt(kd);
    if (xc > 0) {
      oP[i] = scale * (normalisedIntrinsicCall(xc) + normalisedBlackCallOtm(-xc, s));
    } else {
      oP[i] = scale * normalisedBlackCallOtm(xc, s);
    }
    if (call) {
      oD[i] = normCdf(d1);
      oT[i] = decay - rate * (kd * normCdf(d2));
    } else {
      oD[i] = -normCdf(-d1);
      oT[i] = decay + rate * (kd * normCdf(-d2));
    }
    oG[i] = n1 / (spot * s);
    oV[i] = vega;
    oVa[i] = (-n1 * d2) / vol;
    oVo[i] = (vega * d1 * d2) / vol;
  }
  return n;
}
