/** Exact number → integer conversions for leg amounts and bounds (decimal.js, 80 digits). */
import { Decimal } from "decimal.js";

const D = Decimal.clone({ precision: 80 });

export type Rounding = "floor" | "ceil" | "trunc";

/** `x` × 10^decimals as an integer, rounded as asked (floor/ceil toward ∓∞, trunc toward 0). */
export function toUnits(x: number, decimals: number, rounding: Rounding): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite amount: ${x}`);
  const mode = rounding === "floor" ? D.ROUND_FLOOR : rounding === "ceil" ? D.ROUND_CEIL : D.ROUND_DOWN;
  return BigInt(new D(x).mul(new D(10).pow(decimals)).toDecimalPlaces(0, mode).toFixed(0));
}

/** `x` / 10^decimals as a number. */
export function fromUnits(x: bigint, decimals: number): number {
  return new D(x.toString()).div(new D(10).pow(decimals)).toNumber();
}

export const WAD_DECIMALS = 18;
