/**
 * Test helpers for the price stage (imported by the *.test.ts files only).
 */
import { Dec } from "../../../test/ts/helpers/bsReference.ts";

/** The exact real value of a double as a Decimal (mantissa·2^exponent; exact to 60 digits). */
export function exactDec(x: number): Dec {
  if (x === 0) return new Dec(0);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1 : 1;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = expBits === 0 ? frac : frac | (1n << 52n);
  const exp = (expBits === 0 ? 1 : expBits) - 1075;
  return new Dec(mant.toString()).mul(new Dec(2).pow(exp)).mul(sign);
}

/** Relative error |a - ref| / max(|ref|, floor) as a number. */
export function relErr(a: number, ref: Dec, floor: number): number {
  return exactDec(a)
    .sub(ref)
    .abs()
    .div(Dec.max(ref.abs(), exactDec(floor)))
    .toNumber();
}

/** Deterministic PRNG (mulberry32) for seeded grids. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
