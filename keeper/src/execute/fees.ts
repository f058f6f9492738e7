/**
 * EIP-1559 fees with operator caps, and the bump for replacing a stuck transaction.
 *
 * maxPriorityFeePerGas = min(priorityFee, maxPriorityFeeCap); maxFeePerGas = min(baseFee ×
 * baseFeeMultiplier + priority, maxFeeCap). A replacement raises both by at least `bumpPct`
 * (≥ 12.5%, above the 10% nodes require), still within the caps; when the caps leave no room for a
 * valid replacement `bumpFees` returns null (keep waiting).
 */
export type FeeConfig = {
  priorityFee: bigint;
  maxPriorityFeeCap: bigint;
  maxFeeCap: bigint;
  baseFeeMultiplier: number;
  /** Percent, ≥ 12.5. */
  bumpPct: number;
};

export type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

export function initialFees(baseFee: bigint, cfg: FeeConfig): Fees {
  const prio = min(cfg.priorityFee, cfg.maxPriorityFeeCap);
  const mult = BigInt(Math.round(cfg.baseFeeMultiplier * 1000));
  const want = (baseFee * mult) / 1000n + prio;
  const maxFee = min(want, cfg.maxFeeCap);
  return { maxFeePerGas: max(maxFee, prio), maxPriorityFeePerGas: min(prio, maxFee) };
}

/** Multiplies by (1 + pct/100), rounding up, plus one wei. */
export function bump(x: bigint, pct: number): bigint {
  const num = BigInt(Math.round((100 + pct) * 1000));
  return (x * num + 99_999n) / 100_000n + 1n;
}

/** Replacement fees (both raised ≥ bumpPct), or null when the caps forbid a valid replacement. */
export function bumpFees(prev: Fees, baseFee: bigint, cfg: FeeConfig): Fees | null {
  const pct = Math.max(cfg.bumpPct, 12.5);
  const prio = bump(prev.maxPriorityFeePerGas, pct);
  const fresh = initialFees(baseFee, {
    ...cfg,
    maxFeeCap: cfg.maxFeeCap * 1000n,
    priorityFee: prio,
    maxPriorityFeeCap: prio,
  });
  const maxFee = max(bump(prev.maxFeePerGas, pct), fresh.maxFeePerGas);
  if (maxFee > cfg.maxFeeCap || prio > cfg.maxPriorityFeeCap || prio > maxFee) return null;
  return { maxFeePerGas: maxFee, maxPriorityFeePerGas: prio };
}
