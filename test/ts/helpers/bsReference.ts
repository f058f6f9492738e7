/**
 * High-precision Black-Scholes reference (decimal.js, 60 significant digits).
 *
 * Real-valued API (`bsGreeks`, `normCdf`, ...) works in natural units; the WAD helpers
 * (`bsGreeksWad`, `toWad`, `fromWad`) take bigint 1e18 fixed-point inputs exactly as the Solidity
 * library does and return unrounded WAD-scaled values, so on-chain integers can be compared with
 * the exact real value. The error metric shared by the tests and the benchmark lives here too.
 */
import { Decimal } from "decimal.js";

/** Decimal constructor used by this module (60 digits; independent of the global Decimal config). */
export const Dec = Decimal.clone({
  precision: 60,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -100,
  toExpPos: 100,
});
export type Dec = InstanceType<typeof Dec>;

const WAD = new Dec("1e18");
const SQRT_2PI = Dec.sqrt(Dec.acos(-1).mul(2));

/** Option inputs in natural units: spot/strike in quote units, tau in years, vol and rate as fractions. */
export interface BsInput {
  spot: Decimal.Value;
  strike: Decimal.Value;
  tau: Decimal.Value;
  vol: Decimal.Value;
  rate: Decimal.Value;
  isCall: boolean;
}

/** Price and greeks in natural units (gamma per 1 quote unit, vega per 1.0 vol, theta per year). */
export interface BsGreeks {
  price: Dec;
  delta: Dec;
  gamma: Dec;
  vega: Dec;
  theta: Dec;
}

/** The same inputs as 1e18 fixed-point integers, as passed to the contract. */
export interface BsInputWad {
  spot: bigint;
  strike: bigint;
  tau: bigint;
  vol: bigint;
  rate: bigint;
  isCall: boolean;
}

export const GREEK_NAMES = ["price", "delta", "gamma", "vega", "theta"] as const;
export type GreekName = (typeof GREEK_NAMES)[number];

/** Standard normal density. */
export function normPdf(x: Decimal.Value): Dec {
  const d = new Dec(x);
  return Dec.exp(d.mul(d).neg().div(2)).div(SQRT_2PI);
}

/**
 * [N(x), N(-x)] for the standard normal CDF N, each with relative error far below 1e-30.
 * |x| <= 6: N(+-x) = 1/2 +- n(x) * sum_k x^(2k+1) / (1*3*...*(2k+1)) (every term has the sign of x;
 * summed at 80 digits, so the 1/2 - s cancellation, at most ~1e-9 at |x| = 6, still leaves > 60).
 * |x| > 6: Laplace continued fraction N(-y) = n(y) / (y + 1/(y + 2/(y + 3/(y + ...)))), evaluated
 * backwards from 400 terms (the truncation error falls like exp(-2 y sqrt(2k)): < 1e-40 for y > 6).
 */
export function normCdfPair(x: Decimal.Value): [Dec, Dec] {
  const d = new Dec(x);
  const y = d.abs();
  if (y.lte(6)) {
    const W = Dec.clone({ precision: 80 });
    const xx = new W(d.toString());
    const x2 = xx.mul(xx);
    let term = xx;
    let sum = xx;
    const eps = new W("1e-85");
    for (let k = 1; term.abs().gt(eps); k++) {
      term = term.mul(x2).div(2 * k + 1);
      sum = sum.add(term);
    }
    const s = W.exp(x2.neg().div(2))
      .div(W.sqrt(W.acos(-1).mul(2)))
      .mul(sum);
    return [new Dec(s.add(0.5).toString()), new Dec(new W(0.5).sub(s).toString())];
  }
  let frac = new Dec(0);
  for (let k = 400; k >= 1; k--) frac = new Dec(k).div(y.add(frac));
  const tail = normPdf(y).div(y.add(frac));
  const body = new Dec(1).sub(tail);
  return d.isNegative() ? [tail, body] : [body, tail];
}

/** Standard normal CDF (see normCdfPair for the method and accuracy). */
export function normCdf(x: Decimal.Value): Dec {
  return normCdfPair(x)[0];
}

/** Price and greeks of the call and the put with the same inputs (shares the CDF evaluations). */
export function bsGreeksPair(input: Omit<BsInput, "isCall">): { call: BsGreeks; put: BsGreeks } {
  const S = new Dec(input.spot);
  const K = new Dec(input.strike);
  const T = new Dec(input.tau);
  const sigma = new Dec(input.vol);
  const r = new Dec(input.rate);
  const sqrtT = T.sqrt();
  const v = sigma.mul(sqrtT);
  const kd = K.mul(Dec.exp(r.mul(T).neg()));
  const d1 = Dec.ln(S.div(K))
    .add(r.add(sigma.mul(sigma).div(2)).mul(T))
    .div(v);
  const d2 = d1.sub(v);
  const n1 = normPdf(d1);
  const gamma = n1.div(S.mul(v));
  const vega = S.mul(n1).mul(sqrtT);
  const decay = S.mul(n1).mul(sigma).div(sqrtT.mul(2));
  const [nd1, nmd1] = normCdfPair(d1);
  const [nd2, nmd2] = normCdfPair(d2);
  return {
    call: {
      price: S.mul(nd1).sub(kd.mul(nd2)),
      delta: nd1,
      gamma,
      vega,
      theta: decay.neg().sub(r.mul(kd).mul(nd2)),
    },
    put: {
      price: kd.mul(nmd2).sub(S.mul(nmd1)),
      delta: nmd1.neg(),
      gamma,
      vega,
      theta: decay.neg().add(r.mul(kd).mul(nmd2)),
    },
  };
}

/** Black-Scholes price and greeks in natural units. */
export function bsGreeks(input: BsInput): BsGreeks {
  const pair = bsGreeksPair(input);
  return input.isCall ? pair.call : pair.put;
}

/** Exact real value of a WAD integer. */
export function fromWad(x: bigint): Dec {
  return new Dec(x.toString()).div(WAD);
}

/** Nearest WAD integer to a real value. */
export function toWad(x: Decimal.Value): bigint {
  return BigInt(new Dec(x).mul(WAD).toDecimalPlaces(0, Dec.ROUND_HALF_EVEN).toFixed(0));
}

function toRealInput(input: BsInputWad): BsInput {
  return {
    spot: fromWad(input.spot),
    strike: fromWad(input.strike),
    tau: fromWad(input.tau),
    vol: fromWad(input.vol),
    rate: fromWad(input.rate),
    isCall: input.isCall,
  };
}

/**
 * Reference for the contract's outputs: every greek multiplied by 1e18 and NOT rounded
 * (gamma is gamma_true * 1e18 with gamma_true per 1 quote unit, exactly as the contract defines it).
 */
export function bsGreeksWad(input: BsInputWad): BsGreeks {
  return scaleToWad(bsGreeks(toRealInput(input)));
}

/** `bsGreeksWad` for the call and the put at the same inputs (`isCall` is ignored). */
export function bsGreeksWadPair(input: BsInputWad): { call: BsGreeks; put: BsGreeks } {
  const pair = bsGreeksPair(toRealInput(input));
  return { call: scaleToWad(pair.call), put: scaleToWad(pair.put) };
}

function scaleToWad(g: BsGreeks): BsGreeks {
  return {
    price: g.price.mul(WAD),
    delta: g.delta.mul(WAD),
    gamma: g.gamma.mul(WAD),
    vega: g.vega.mul(WAD),
    theta: g.theta.mul(WAD),
  };
}

/**
 * Error metric shared by tests and benchmark.
 *
 * For an integer output x (WAD) and the exact real reference ref (WAD, unrounded):
 *   excess = max(0, |x - ref| - 1)           (1 wei: an integer cannot be closer than 0.5 wei)
 *   err    = excess / max(|ref|, floor)
 * Above the floor this is the relative error |x - ref| / |ref| (less the 1-wei quantum); below it,
 * err <= tol bounds the absolute error by tol * floor. Floors are 1e-8 of each greek's natural scale:
 *   price: spot                      delta: 1
 *   gamma: 1 / (spot * vol * sqrt(tau))   (ATM gamma is 0.4 of this)
 *   vega : spot * sqrt(tau)          (ATM vega is 0.4 of this)
 *   theta: spot * vol / (2 sqrt(tau)) + rate * strike
 */
export const FLOOR_FRACTION = new Dec("1e-8");

/** Floors (WAD-scaled, like the outputs) for the error metric at one input. */
export function errorFloors(input: BsInputWad): Record<GreekName, Dec> {
  const S = fromWad(input.spot);
  const K = fromWad(input.strike);
  const sqrtT = fromWad(input.tau).sqrt();
  const sigma = fromWad(input.vol);
  const r = fromWad(input.rate);
  const scale = (x: Dec): Dec => x.mul(WAD).mul(FLOOR_FRACTION);
  return {
    price: scale(S),
    delta: scale(new Dec(1)),
    gamma: scale(new Dec(1).div(S.mul(sigma).mul(sqrtT))),
    vega: scale(S.mul(sqrtT)),
    theta: scale(S.mul(sigma).div(sqrtT.mul(2)).add(r.mul(K))),
  };
}

/** err = max(0, |actual - ref| - 1) / max(|ref|, floor). */
export function metricError(actual: bigint, ref: Dec, floor: Dec): Dec {
  const excess = Dec.max(new Dec(actual.toString()).sub(ref).abs().sub(1), 0);
  return excess.div(Dec.max(ref.abs(), floor));
}

/** Contract output shape (as decoded by viem). */
export interface GreeksWad {
  price: bigint;
  delta: bigint;
  gamma: bigint;
  vega: bigint;
  theta: bigint;
}

/**
 * Per-greek metric errors of one contract result against the reference (`ref` defaults to
 * `bsGreeksWad(input)`; pass it when already computed, e.g. from `bsGreeksWadPair`).
 */
export function greeksErrors(
  input: BsInputWad,
  actual: GreeksWad,
  ref: BsGreeks = bsGreeksWad(input),
): Record<GreekName, Dec> {
  const floors = errorFloors(input);
  return {
    price: metricError(actual.price, ref.price, floors.price),
    delta: metricError(actual.delta, ref.delta, floors.delta),
    gamma: metricError(actual.gamma, ref.gamma, floors.gamma),
    vega: metricError(actual.vega, ref.vega, floors.vega),
    theta: metricError(actual.theta, ref.theta, floors.theta),
  };
}

const ONE_WAD = 10n ** 18n;

/** Domain of the accuracy claims: the ranges, at several absolute spot levels. */
export const BS_DOMAIN = {
  spotLevels: [1, 3000, 60000],
  moneyness: [0.25, 4], // spot / strike
  tauYears: [1 / 8760, 2],
  vol: [0.05, 5],
  rate: [0, 0.2],
} as const;

/**
 * Grid over BS_DOMAIN: spot levels x spot/strike x tau x vol x rate x {call, put}
 * (3 x 9 x 7 x 5 x 3 x 2 = 5670 points). Edges and near-the-money points are included.
 */
export function bsDomainGrid(): BsInputWad[] {
  const moneyness = ["0.25", "0.5", "0.8", "0.95", "1", "1.05", "1.25", "2", "4"];
  const taus: [number, number][] = [
    [1, 8760],
    [1, 365],
    [7, 365],
    [30, 365],
    [1, 4],
    [1, 1],
    [2, 1],
  ];
  const vols = ["0.05", "0.2", "0.8", "2", "5"];
  const rates = ["0", "0.05", "0.2"];
  const out: BsInputWad[] = [];
  for (const level of BS_DOMAIN.spotLevels) {
    const spot = BigInt(level) * ONE_WAD;
    for (const m of moneyness) {
      const strike = toWad(new Dec(level).div(m));
      for (const [num, den] of taus) {
        const tau = toWad(new Dec(num).div(den));
        for (const v of vols) {
          for (const r of rates) {
            for (const isCall of [true, false]) {
              out.push({ spot, strike, tau, vol: toWad(v), rate: toWad(r), isCall });
            }
          }
        }
      }
    }
  }
  return out;
}
