/**
 * Benchmark of the keeper's `price` stage (pure TypeScript, no chain).
 *
 * Method: a seeded random set of options — spot 3000, ln(F/K) uniform in [-2, 2], tau log-uniform
 * 1 hour..5 years, vol log-uniform 5%..300%, rate uniform 0..10%, calls and puts — priced with
 * `bsPrice`. The set keeps the prices from which the vol is representable to 1e-13 (the criterion of
 * keeper/src/price/impliedVol.test.ts: price normal and below its upper bound, attainable relative
 * accuracy (1 + κ)·ε <= 1e-14 with κ = P/(σ·∂P/∂σ)). Timings use process.hrtime.bigint(): one
 * warm-up pass, then the median of several passes over the whole set.
 *  - ivNsPerInversion: `impliedVolRaw` (Let's Be Rational), ns per inversion.
 *  - ivMaxRelError: max |σ̂/σ - 1| of those inversions against the input vols.
 *  - greeksMsFor10kOptions: `bsGreeksBatch` (price, delta, gamma, vega, theta, vanna, volga) over the
 *    first 10,000 options, ms per call.
 *  - baselineIvNsPerInversion / baselineIvFailures / baselineIvMaxRelError: `newtonImpliedVol` (plain
 *    Newton-Raphson from the Manaster-Koehler start, tolerance 4ε, at most 100 steps) on the same set;
 *    failures = not converged; its max error is over the converged inversions only.
 */
import {
  allocBsBatchOutput,
  bsGreeks,
  bsGreeksBatch,
  type BsBatchInput,
} from "../../keeper/src/price/blackScholes.ts";
import { impliedVol, impliedVolRaw, newtonImpliedVol } from "../../keeper/src/price/impliedVol.ts";

export interface KeeperPricingBench {
  ivNsPerInversion: number;
  ivMaxRelError: number;
  greeksMsFor10kOptions: number;
  baselineIvNsPerInversion: number;
  baselineIvFailures: number;
  baselineIvMaxRelError: number;
  /** `impliedVol` (typed result object) instead of the raw number API, ns per inversion. */
  ivTypedNsPerInversion: number;
  /** Options in the benchmark set (after the representability filter) and generated in total. */
  inversions: number;
  generated: number;
}

const EPS = 2.220446049250313e-16;
const DBL_MIN = 2.2250738585072014e-308;
const GENERATED = 200_000;
const REPEATS = 7;
const GREEKS_N = 10_000;
const GREEKS_REPEATS = 31;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface OptionSet extends BsBatchInput {
  price: Float64Array;
  n: number;
}

function makeSet(seed: number): OptionSet {
  const rnd = mulberry32(seed);
  const spotA = new Float64Array(GENERATED);
  const strikeA = new Float64Array(GENERATED);
  const tauA = new Float64Array(GENERATED);
  const volA = new Float64Array(GENERATED);
  const rateA = new Float64Array(GENERATED);
  const callA = new Uint8Array(GENERATED);
  const priceA = new Float64Array(GENERATED);
  let n = 0;
  for (let i = 0; i < GENERATED; i++) {
    const spot = 3000;
    const x = -2 + 4 * rnd();
    const tau = Math.exp(Math.log(1 / 8760) + (Math.log(5) - Math.log(1 / 8760)) * rnd());
    const vol = Math.exp(Math.log(0.05) + (Math.log(3) - Math.log(0.05)) * rnd());
    const rate = 0.1 * rnd();
    const isCall = rnd() < 0.5;
    const strike = spot * Math.exp(rate * tau - x);
    const g = bsGreeks(spot, strike, tau, vol, rate, isCall);
    const upper = isCall ? spot : strike * Math.exp(-rate * tau);
    if (!(g.price >= DBL_MIN && g.price < upper)) continue;
    if ((1 + g.price / (vol * g.vega)) * EPS > 1e-14) continue;
    spotA[n] = spot;
    strikeA[n] = strike;
    tauA[n] = tau;
    volA[n] = vol;
    rateA[n] = rate;
    callA[n] = isCall ? 1 : 0;
    priceA[n] = g.price;
    n++;
  }
  return {
    spot: spotA.subarray(0, n),
    strike: strikeA.subarray(0, n),
    tau: tauA.subarray(0, n),
    vol: volA.subarray(0, n),
    rate: rateA.subarray(0, n),
    isCall: callA.subarray(0, n),
    price: priceA.subarray(0, n),
    n,
  };
}

function ivPass(set: OptionSet, out: Float64Array): bigint {
  const { price, spot, strike, tau, rate, isCall, n } = set;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++)
    out[i] = impliedVolRaw(price[i]!, spot[i]!, strike[i]!, tau[i]!, rate[i]!, isCall[i] === 1);
  return process.hrtime.bigint() - t0;
}

function ivTypedPass(set: OptionSet, out: Float64Array): bigint {
  const { price, spot, strike, tau, rate, isCall, n } = set;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = impliedVol(price[i]!, spot[i]!, strike[i]!, tau[i]!, rate[i]!, isCall[i] === 1);
    out[i] = r.ok ? r.vol : -1;
  }
  return process.hrtime.bigint() - t0;
}

function newtonPass(set: OptionSet, out: Float64Array, ok: Uint8Array): bigint {
  const { price, spot, strike, tau, rate, isCall, n } = set;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = newtonImpliedVol(price[i]!, spot[i]!, strike[i]!, tau[i]!, rate[i]!, isCall[i] === 1);
    out[i] = r.vol;
    ok[i] = r.converged ? 1 : 0;
  }
  return process.hrtime.bigint() - t0;
}

function maxRelError(set: OptionSet, est: Float64Array, mask?: Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < set.n; i++) {
    if (mask && mask[i] !== 1) continue;
    const e = Math.abs(est[i]! / set.vol[i]! - 1);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/** Runs the benchmark (about 10-20 s) and returns the measured numbers. */
export async function benchKeeperPricing(): Promise<KeeperPricingBench> {
  const set = makeSet(20240523);
  const est = new Float64Array(set.n);

  ivPass(set, est); // warm-up
  const ivTimes: number[] = [];
  for (let r = 0; r < REPEATS; r++) ivTimes.push(Number(ivPass(set, est)) / set.n);
  const ivMaxRelError = maxRelError(set, est);

  ivTypedPass(set, est);
  const typedTimes: number[] = [];
  for (let r = 0; r < REPEATS; r++) typedTimes.push(Number(ivTypedPass(set, est)) / set.n);

  const nEst = new Float64Array(set.n);
  const nOk = new Uint8Array(set.n);
  newtonPass(set, nEst, nOk);
  const nTimes: number[] = [];
  for (let r = 0; r < REPEATS; r++) nTimes.push(Number(newtonPass(set, nEst, nOk)) / set.n);
  let failures = 0;
  for (let i = 0; i < set.n; i++) if (nOk[i] !== 1) failures++;

  const g: BsBatchInput = {
    spot: set.spot.subarray(0, GREEKS_N),
    strike: set.strike.subarray(0, GREEKS_N),
    tau: set.tau.subarray(0, GREEKS_N),
    vol: set.vol.subarray(0, GREEKS_N),
    rate: set.rate.subarray(0, GREEKS_N),
    isCall: set.isCall.subarray(0, GREEKS_N),
  };
  const out = allocBsBatchOutput(GREEKS_N);
  for (let r = 0; r < 5; r++) bsGreeksBatch(g, out); // warm-up
  const gTimes: number[] = [];
  for (let r = 0; r < GREEKS_REPEATS; r++) {
    const t0 = process.hrtime.bigint();
    bsGreeksBatch(g, out);
    gTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  if (!(out.price[GREEKS_N - 1]! > 0)) throw new Error("bsGreeksBatch produced no prices");

  return {
    ivNsPerInversion: median(ivTimes),
    ivMaxRelError,
    greeksMsFor10kOptions: median(gTimes),
    baselineIvNsPerInversion: median(nTimes),
    baselineIvFailures: failures,
    baselineIvMaxRelError: maxRelError(set, nEst, nOk),
    ivTypedNsPerInversion: median(typedTimes),
    inversions: set.n,
    generated: GENERATED,
  };
}
