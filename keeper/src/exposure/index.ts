/**
 * The exposure stage: per underlying, the keeper's own net delta — token balance + Σ size × Black-
 * Scholes delta (keeper/src/price, at the surface vol of each held series, the AMM's rate and the
 * block's time; capped calls as call(K) − call(K + cap) like the AMM) + perp sizes − liabilities —
 * next to the vault's own `exposure` view, and the check that the two agree.
 *
 * Tolerance (stated): |keeper net − vault net| ≤ relTolerance × book + absTolerance, with
 * book = |spot| + Σ|option deltas| + |perps| + liabilities (underlying units) and defaults
 * relTolerance = 1e-6, absTolerance = 1e-9. Spot, perps and liabilities are exact on both sides, so
 * the check bounds the difference between the keeper's float greeks and the vault's fixed-point
 * Black-Scholes. A mismatch means the keeper does not understand the book: stand down and alert.
 */
import { bsGreeks } from "../price/index.ts";
import type { Exposure, Greeks } from "../decide/types.ts";
import type { UnderlyingState, VaultState } from "../chain/state.ts";

const YEAR_S = 365 * 86_400;
/** The AMM skips a capped call's K + cap leg when its d1 ≤ −7.2 (negligible). */
const SKIP_D1 = 7.2;

export type ExposureTolerance = { relTolerance: number; absTolerance: number };
export const DEFAULT_TOLERANCE: ExposureTolerance = { relTolerance: 1e-6, absTolerance: 1e-9 };

export type SeriesGreeks = {
  seriesId: bigint;
  size: number;
  /** Position greeks (size × per-unit): delta in units, gamma per USD, vega USD per 1.00 vol. */
  delta: number;
  gamma: number;
  vega: number;
};

export type KeeperExposure = {
  spot: number;
  options: number;
  perps: number;
  liabilities: number;
  net: number;
  /** |spot| + Σ|option deltas| + |perps| + liabilities. */
  book: number;
  greeks: Greeks;
  series: SeriesGreeks[];
};

export type ExposureResult =
  | {
      ok: true;
      /** The vault's view, in numbers (what decide uses: it is what the vault enforces). */
      vault: Exposure;
      keeper: KeeperExposure;
      diff: number;
      allowed: number;
    }
  | { ok: false; reason: string; keeper: KeeperExposure | null; vault: Exposure | null };

const n = (x: bigint, decimals = 18) => Number(x) / 10 ** decimals;

function perUnit(
  S: number,
  K: number,
  tau: number,
  vol: number,
  rate: number,
  isCall: boolean,
  cap: { strike: number; vol: number } | null,
): { delta: number; gamma: number; vega: number } {
  const g = bsGreeks(S, K, tau, vol, rate, isCall);
  let { delta, gamma, vega } = g;
  if (isCall && cap !== null) {
    const s = cap.vol * Math.sqrt(tau);
    const d1 = (Math.log(S / cap.strike) + (rate + 0.5 * cap.vol * cap.vol) * tau) / s;
    if (cap.strike <= S || d1 > -SKIP_D1) {
      const g2 = bsGreeks(S, cap.strike, tau, cap.vol, rate, true);
      delta -= g2.delta;
      gamma -= g2.gamma;
      vega -= g2.vega;
    }
  }
  return { delta, gamma, vega };
}

/** The keeper's own exposure of `u` (throws RangeError when a held series lacks a usable vol). */
export function keeperExposure(state: VaultState, u: UnderlyingState, price: number): KeeperExposure {
  const now = Number(state.timestamp);
  const rate = n(state.ammRate);
  const series: SeriesGreeks[] = [];
  let options = 0;
  let gamma = 0;
  let vega = 0;
  let absOptions = 0;
  for (const h of u.held) {
    const size = n(h.size);
    const expiry = Number(h.expiry);
    let d = 0;
    let gm = 0;
    let vg = 0;
    if (expiry > now && size !== 0) {
      if (h.vol === null || !(h.vol > 0)) throw new RangeError(`series #${h.id}: no surface vol`);
      const tau = Math.max(expiry - now, 1e-9 * YEAR_S) / YEAR_S;
      const capLeg = h.isCall && h.cap > 0n ? { strike: n(h.strike + h.cap), vol: h.capVol ?? NaN } : null;
      if (capLeg !== null && !(capLeg.vol > 0)) throw new RangeError(`series #${h.id}: no cap-leg vol`);
      const g = perUnit(price, n(h.strike), tau, h.vol, rate, h.isCall, capLeg);
      d = size * g.delta;
      gm = size * g.gamma;
      vg = size * g.vega;
    }
    options += d;
    gamma += gm;
    vega += vg;
    absOptions += Math.abs(d);
    series.push({ seriesId: h.id, size, delta: d, gamma: gm, vega: vg });
  }
  const spot = n(u.balance, u.info.decimals);
  const perps = n(u.perpSizeSum);
  const liabilities = n(u.liabilities);
  const net = spot + options + perps - liabilities;
  return {
    spot,
    options,
    perps,
    liabilities,
    net,
    book: Math.abs(spot) + absOptions + Math.abs(perps) + liabilities,
    greeks: { gamma, vega },
    series,
  };
}

/** The vault's `exposure` view in numbers. */
export function vaultExposure(u: UnderlyingState): Exposure | null {
  const e = u.exposure;
  if (e === null) return null;
  return {
    underlying: u.info.symbol,
    spot: n(e.spot),
    options: n(e.options),
    perps: n(e.perps),
    liabilities: n(e.liabilities),
    net: n(e.net),
    target: n(e.target),
    band: n(e.band),
    price: n(e.price),
  };
}

/** |keeper − vault| ≤ rel × book + abs (see module doc). */
export function compareWithVault(
  keeper: Pick<KeeperExposure, "net" | "book">,
  vault: Pick<Exposure, "net">,
  tol: ExposureTolerance = DEFAULT_TOLERANCE,
): { ok: boolean; diff: number; allowed: number } {
  const diff = Math.abs(keeper.net - vault.net);
  const allowed = tol.relTolerance * keeper.book + tol.absTolerance;
  return { ok: Number.isFinite(diff) && diff <= allowed, diff, allowed };
}

/** Both views of `u` and their agreement; never throws. */
export function exposureOf(
  state: VaultState,
  u: UnderlyingState,
  tol: ExposureTolerance = DEFAULT_TOLERANCE,
): ExposureResult {
  const vault = vaultExposure(u);
  if (vault === null) {
    return {
      ok: false,
      reason: `vault.exposure(${u.info.symbol}) reverted: ${u.exposureError ?? "unknown"}`,
      keeper: null,
      vault: null,
    };
  }
  let keeper: KeeperExposure;
  try {
    keeper = keeperExposure(state, u, vault.price);
  } catch (e) {
    return {
      ok: false,
      reason: `keeper greeks of ${u.info.symbol}: ${(e as Error).message}`,
      keeper: null,
      vault,
    };
  }
  const c = compareWithVault(keeper, vault, tol);
  if (!c.ok) {
    return {
      ok: false,
      reason: `exposure mismatch on ${u.info.symbol}: keeper net ${keeper.net} vs vault net ${vault.net} (|diff| ${c.diff.toExponential(3)} > tolerance ${c.allowed.toExponential(3)})`,
      keeper,
      vault,
    };
  }
  return { ok: true, vault, keeper, diff: c.diff, allowed: c.allowed };
}
