/**
 * Quote ladders and cost-ordered allocation across venues.
 *
 * A ladder is a venue's quotes for growing sizes from its current state. Between quoted sizes the
 * total cost (price × size, fees) is interpolated linearly, so each segment has a constant marginal
 * price and fee per unit. Allocation fills the need from the venues' next segments in order of
 * marginal all-in cost per unit (price impact vs the oracle + fee + a per-unit extra such as
 * expected funding): exact water-filling when costs are convex, and never skipping a segment of a
 * venue. A segment whose marginal price or fee breaks the vault's slippage limit ends that venue's
 * usable depth.
 */
export type Ladder = {
  /** Sizes with 0 prepended, strictly ascending. */
  sizes: number[];
  /** Total proceeds/cost (price × size) at each size, USD. */
  totals: number[];
  /** Total fees at each size, USD. */
  fees: number[];
};

/** Builds a ladder from quote points; returns an error string if they are not usable. */
export function makeLadder(points: { size: number; total: number; fee: number }[]): Ladder | string {
  const l: Ladder = { sizes: [0], totals: [0], fees: [0] };
  let prev = 0;
  for (const p of points) {
    if (![p.size, p.total, p.fee].every(Number.isFinite)) return "non-finite quote";
    if (!(p.size > prev)) return "quote sizes not strictly ascending from 0";
    if (p.total <= 0 || p.fee < 0) return "non-positive price or negative fee in quote";
    l.sizes.push(p.size);
    l.totals.push(p.total);
    l.fees.push(p.fee);
    prev = p.size;
  }
  return points.length === 0 ? "empty quote" : l;
}

/** Interpolated total and fee at size `s` (0 ≤ s ≤ the largest size). */
export function ladderAt(l: Ladder, s: number): { total: number; fee: number } {
  if (s <= 0) return { total: 0, fee: 0 };
  for (let k = 1; k < l.sizes.length; k++) {
    const hi = l.sizes[k] as number;
    if (s <= hi || k === l.sizes.length - 1) {
      const lo = l.sizes[k - 1] as number;
      const w = (s - lo) / (hi - lo);
      const t0 = l.totals[k - 1] as number;
      const f0 = l.fees[k - 1] as number;
      return { total: t0 + w * ((l.totals[k] as number) - t0), fee: f0 + w * ((l.fees[k] as number) - f0) };
    }
  }
  return { total: 0, fee: 0 };
}

export type Source<T> = {
  ref: T;
  /** Group whose combined size is capped (e.g. all perp venues share the perp position cap). */
  group: string;
  ladder: Ladder;
  /** +1 buying (cost = price above oracle), −1 selling (cost = price below oracle). */
  side: 1 | -1;
  /** Extra cost per unit, USD (expected funding). */
  extraPerUnit: number;
};

export type Allocation<T> = { ref: T; size: number; depth: number };

/** Usable depth of a ladder: up to the first segment whose marginal price or fee breaks `maxSlip`. */
export function usableDepth(l: Ladder, oracle: number, maxSlip: number): number {
  let depth = 0;
  for (let k = 1; k < l.sizes.length; k++) {
    const ds = (l.sizes[k] as number) - (l.sizes[k - 1] as number);
    const mp = ((l.totals[k] as number) - (l.totals[k - 1] as number)) / ds;
    const mf = ((l.fees[k] as number) - (l.fees[k - 1] as number)) / ds;
    if (Math.abs(mp / oracle - 1) > maxSlip || mf > oracle * maxSlip) break;
    depth = l.sizes[k] as number;
  }
  return depth;
}

/**
 * Allocates `need` units over `sources` by marginal cost. `groupCaps` caps the combined size per
 * group. Returns the sizes per source (in source order) and the unfilled rest.
 */
export function allocate<T>(
  sources: Source<T>[],
  need: number,
  oracle: number,
  maxSlip: number,
  groupCaps: Record<string, number>,
): { allocations: Allocation<T>[]; unfilled: number } {
  const eps = 1e-12 * Math.max(1, need);
  const state = sources.map((s) => ({ s, taken: 0, depth: usableDepth(s.ladder, oracle, maxSlip) }));
  const groupLeft: Record<string, number> = { ...groupCaps };
  let left = need;
  while (left > eps) {
    let best: { i: number; end: number; cost: number } | null = null;
    for (let i = 0; i < state.length; i++) {
      const st = state[i] as (typeof state)[number];
      const g = groupLeft[st.s.group] ?? Number.POSITIVE_INFINITY;
      if (st.taken >= st.depth - eps || g <= eps) continue;
      const l = st.s.ladder;
      let k = 1;
      while ((l.sizes[k] as number) <= st.taken + eps) k++;
      const ds = (l.sizes[k] as number) - (l.sizes[k - 1] as number);
      const mp = ((l.totals[k] as number) - (l.totals[k - 1] as number)) / ds;
      const mf = ((l.fees[k] as number) - (l.fees[k - 1] as number)) / ds;
      const cost = st.s.side * (mp - oracle) + mf + st.s.extraPerUnit;
      if (best === null || cost < best.cost)
        best = { i, end: Math.min(l.sizes[k] as number, st.depth), cost };
    }
    if (best === null) break;
    const st = state[best.i] as (typeof state)[number];
    const take = Math.min(best.end - st.taken, left, groupLeft[st.s.group] ?? Number.POSITIVE_INFINITY);
    st.taken += take;
    left -= take;
    if (groupLeft[st.s.group] !== undefined) groupLeft[st.s.group] = (groupLeft[st.s.group] as number) - take;
  }
  return {
    allocations: state.map((st) => ({ ref: st.s.ref, size: st.taken, depth: st.depth })),
    unfilled: Math.max(0, left),
  };
}
