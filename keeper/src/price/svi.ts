/**
 * Raw SVI volatility smile per expiry (Gatheral 2004) and smile-adjusted delta.
 *
 *   w(k) = a + b·(ρ·(k - m) + √((k - m)² + σ²)),   k = ln(K/F) (log-moneyness), w = vol²·tau (total variance).
 *
 * Fit: the quasi-explicit method (Zeliade Systems, "Quasi-explicit calibration of Gatheral's SVI
 * model", 2009; De Marco & Martini). With y = (k - m)/σ the slice is linear in (a, d, c) = (a, ρbσ, bσ):
 *   w = a + d·y + c·√(y² + 1),
 * so for fixed (m, σ) the weighted least squares in (a, d, c) is a 3-variable convex QP, solved exactly
 * (KKT active-set enumeration) under linear constraints that imply the no-arbitrage conditions:
 *   c >= 0                       (b >= 0)
 *   |d| <= (1 - 1e-6)·c          (|ρ| < 1)
 *   a + c - |d| >= 0             (⇒ min w = a + bσ√(1 - ρ²) >= 0, since √(c² - d²) >= c - |d|)
 *   c + |d| <= 4σ                (Roger Lee's moment bound b(1 + |ρ|) <= 4 on the wings)
 * and the outer 2-D problem over (m, ln σ) is solved by Nelder-Mead from several starts.
 *
 * Smile-adjusted delta convention (sticky moneyness): the smile moves with the forward, i.e. the
 * vol of strike K is σ_imp(k) with k = ln(K/F), F = S·e^{rate·tau}. Then dk/dS = -1/S and
 *   Δ_smile = Δ_BS + vega·dσ_imp/dS = Δ_BS - vega·σ_imp'(k)/S,   σ_imp'(k) = w'(k)/(2·tau·σ_imp),
 * which is the exact spot derivative of the smile-consistent price V(S) = BS(S, K, tau, σ_imp(k(S)), rate).
 */
import { z } from "zod";
import { bsGreeks } from "./blackScholes.ts";

/** Raw SVI parameters of one expiry (total-variance form). */
export interface SviParams {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
}

/** A fitted expiry: time to expiry (years), forward and SVI parameters. */
export interface SviSlice {
  tau: number;
  forward: number;
  params: SviParams;
}

/** One calibration point: log-moneyness k = ln(K/F), total variance w = vol²·tau, optional weight. */
export const sviPointSchema = z.object({
  k: z.number().finite(),
  w: z.number().finite().nonnegative(),
  weight: z.number().finite().positive().optional(),
});
export type SviPoint = z.infer<typeof sviPointSchema>;

/** Parameters as they cross a boundary (e.g. loaded from a journal), constraints checked. */
export const sviParamsSchema = z
  .object({
    a: z.number().finite(),
    b: z.number().finite().nonnegative(),
    rho: z.number().finite().gt(-1).lt(1),
    m: z.number().finite(),
    sigma: z.number().finite().positive(),
  })
  .refine((p) => p.a + p.b * p.sigma * Math.sqrt(1 - p.rho * p.rho) >= 0, {
    message: "SVI minimum total variance a + b·σ·√(1-ρ²) must be >= 0",
  });

export const sviSliceSchema = z.object({
  tau: z.number().finite().positive(),
  forward: z.number().finite().positive(),
  params: sviParamsSchema,
});

/** Total variance w(k). */
export function sviTotalVariance(p: SviParams, k: number): number {
  const km = k - p.m;
  return p.a + p.b * (p.rho * km + Math.sqrt(km * km + p.sigma * p.sigma));
}

/** dw/dk. */
export function sviTotalVarianceSlope(p: SviParams, k: number): number {
  const km = k - p.m;
  return p.b * (p.rho + km / Math.sqrt(km * km + p.sigma * p.sigma));
}

/** Implied vol √(w(k)/tau). */
export function sviImpliedVol(p: SviParams, k: number, tau: number): number {
  return Math.sqrt(Math.max(sviTotalVariance(p, k), 0) / tau);
}

/** The no-arbitrage parameter constraints: b >= 0, |ρ| < 1, σ > 0, a + b·σ·√(1-ρ²) >= 0. */
export function sviSatisfiesConstraints(p: SviParams): boolean {
  return (
    p.b >= 0 &&
    Math.abs(p.rho) < 1 &&
    p.sigma > 0 &&
    p.a + p.b * p.sigma * Math.sqrt(1 - p.rho * p.rho) >= 0 &&
    [p.a, p.b, p.rho, p.m, p.sigma].every(Number.isFinite)
  );
}

/**
 * Calibration points from implied vols with weights that make the total-variance residual a
 * first-order vol residual: δw ≈ 2·σ·tau·δσ, so weight = 1/(2·σ·tau)².
 */
export function sviPointsFromVols(ks: readonly number[], vols: readonly number[], tau: number): SviPoint[] {
  return ks.map((k, i) => {
    const v = vols[i]!;
    return { k, w: v * v * tau, weight: 1 / (2 * v * tau) ** 2 };
  });
}

/** Result of `fitSvi`. */
export interface SviFit {
  params: SviParams;
  /** Weighted root-mean-square residual in total variance: √(Σ wᵢ·rᵢ² / Σ wᵢ). */
  rmse: number;
  /** Objective evaluations used by the outer search. */
  evaluations: number;
}

const RHO_MARGIN = 1e-6;
const LEE_BOUND = 4;

// Constraint rows g·(a, d, c) >= hScale·σ (hScale 0 or -4).
const G: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 1, 0],
  [0, -1, 1 - RHO_MARGIN, 0],
  [0, 1, 1 - RHO_MARGIN, 0],
  [1, -1, 1, 0],
  [1, 1, 1, 0],
  [0, -1, -1, -LEE_BOUND],
  [0, 1, -1, -LEE_BOUND],
];

/** Active sets of size 1..3 over the 7 constraints (enumerated once). */
const ACTIVE_SETS: readonly (readonly number[])[] = (() => {
  const sets: number[][] = [];
  const n = G.length;
  for (let i = 0; i < n; i++) {
    sets.push([i]);
    for (let j = i + 1; j < n; j++) {
      sets.push([i, j]);
      for (let l = j + 1; l < n; l++) sets.push([i, j, l]);
    }
  }
  return sets;
})();

/** Solves the dense system A·x = b in place (partial pivoting); returns false when singular. */
function solveDense(A: Float64Array, b: Float64Array, n: number): boolean {
  for (let col = 0; col < n; col++) {
    let piv = col;
    let best = Math.abs(A[col * n + col]!);
    for (let r = col + 1; r < n; r++) {
      const v = Math.abs(A[r * n + col]!);
      if (v > best) {
        best = v;
        piv = r;
      }
    }
    if (!(best > 1e-300)) return false;
    if (piv !== col) {
      for (let c = 0; c < n; c++) {
        const t = A[col * n + c]!;
        A[col * n + c] = A[piv * n + c]!;
        A[piv * n + c] = t;
      }
      const t = b[col]!;
      b[col] = b[piv]!;
      b[piv] = t;
    }
    const d = A[col * n + col]!;
    for (let r = col + 1; r < n; r++) {
      const f = A[r * n + col]! / d;
      if (f === 0) continue;
      for (let c = col; c < n; c++) A[r * n + c] = A[r * n + c]! - f * A[col * n + c]!;
      b[r] = b[r]! - f * b[col]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let acc = b[r]!;
    for (let c = r + 1; c < n; c++) acc -= A[r * n + c]! * b[c]!;
    b[r] = acc / A[r * n + r]!;
  }
  return true;
}

interface InnerResult {
  sse: number;
  a: number;
  d: number;
  c: number;
}

const kkt = new Float64Array(36);
const rhs = new Float64Array(6);

/** Weighted LS in (a, d, c) for fixed (m, σ) under the constraints (exact convex QP solution). */
function innerFit(
  ks: Float64Array,
  ws: Float64Array,
  wts: Float64Array,
  m: number,
  sigma: number,
): InnerResult {
  // Normal equations M·θ = v with θ = (a, d, c), plus Σ wt·w² for the objective.
  let s1 = 0,
    sy = 0,
    sz = 0,
    syy = 0,
    syz = 0,
    szz = 0,
    sw = 0,
    syw = 0,
    szw = 0,
    sww = 0;
  const n = ks.length;
  for (let i = 0; i < n; i++) {
    const y = (ks[i]! - m) / sigma;
    const zz = Math.sqrt(y * y + 1);
    const wt = wts[i]!;
    const w = ws[i]!;
    s1 += wt;
    sy += wt * y;
    sz += wt * zz;
    syy += wt * y * y;
    syz += wt * y * zz;
    szz += wt * zz * zz;
    sw += wt * w;
    syw += wt * y * w;
    szw += wt * zz * w;
    sww += wt * w * w;
  }
  const M = [s1, sy, sz, sy, syy, syz, sz, syz, szz] as const;
  const v = [sw, syw, szw] as const;
  const objective = (a: number, d: number, c: number): number =>
    sww -
    2 * (a * v[0] + d * v[1] + c * v[2]) +
    (a * (M[0] * a + M[1] * d + M[2] * c) +
      d * (M[3] * a + M[4] * d + M[5] * c) +
      c * (M[6] * a + M[7] * d + M[8] * c));
  const feasible = (a: number, d: number, c: number): boolean => {
    const tol = 1e-12 * (Math.abs(a) + Math.abs(d) + Math.abs(c) + sigma);
    for (const g of G) if (g[0] * a + g[1] * d + g[2] * c < g[3] * sigma - tol) return false;
    return true;
  };
  let best: InnerResult = { sse: Infinity, a: 0, d: 0, c: 0 };
  const trySet = (set: readonly number[]): void => {
    const k = set.length;
    const dim = 3 + k;
    kkt.fill(0, 0, dim * dim);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) kkt[r * dim + c] = M[r * 3 + c]!;
      rhs[r] = v[r]!;
    }
    for (let j = 0; j < k; j++) {
      const g = G[set[j]!]!;
      for (let c = 0; c < 3; c++) {
        kkt[(3 + j) * dim + c] = g[c]!;
        kkt[c * dim + 3 + j] = g[c]!;
      }
      rhs[3 + j] = g[3] * sigma;
    }
    if (!solveDense(kkt, rhs, dim)) return;
    const a = rhs[0]!,
      d = rhs[1]!,
      c = rhs[2]!;
    if (!feasible(a, d, c)) return;
    const sse = objective(a, d, c);
    if (sse < best.sse) best = { sse, a, d, c };
  };
  trySet([]);
  if (best.sse === Infinity) for (const set of ACTIVE_SETS) trySet(set);
  return best;
}

/** Options of `fitSvi`. */
export interface SviFitOptions {
  /** Nelder-Mead iterations per start (default 200). */
  maxIterations?: number;
}

function nelderMead2(
  f: (p0: number, p1: number) => number,
  x0: number,
  y0: number,
  step0: number,
  step1: number,
  maxIter: number,
): { x: number; y: number; fx: number; evals: number } {
  const px = [x0, x0 + step0, x0];
  const py = [y0, y0, y0 + step1];
  const fv = [f(px[0]!, py[0]!), f(px[1]!, py[1]!), f(px[2]!, py[2]!)];
  let evals = 3;
  for (let it = 0; it < maxIter; it++) {
    // order
    const idx = [0, 1, 2].sort((i, j) => fv[i]! - fv[j]!);
    const [b, g, w] = idx as [number, number, number];
    const spread = Math.abs(fv[w]! - fv[b]!);
    if (spread <= 1e-12 * Math.abs(fv[b]!) && Math.abs(px[w]! - px[b]!) + Math.abs(py[w]! - py[b]!) < 1e-8)
      break;
    const cx = 0.5 * (px[b]! + px[g]!);
    const cy = 0.5 * (py[b]! + py[g]!);
    const rx = cx + (cx - px[w]!);
    const ry = cy + (cy - py[w]!);
    const fr = f(rx, ry);
    evals++;
    if (fr < fv[b]!) {
      const ex = cx + 2 * (cx - px[w]!);
      const ey = cy + 2 * (cy - py[w]!);
      const fe = f(ex, ey);
      evals++;
      if (fe < fr) {
        px[w] = ex;
        py[w] = ey;
        fv[w] = fe;
      } else {
        px[w] = rx;
        py[w] = ry;
        fv[w] = fr;
      }
    } else if (fr < fv[g]!) {
      px[w] = rx;
      py[w] = ry;
      fv[w] = fr;
    } else {
      const outside = fr < fv[w]!;
      const kx = outside ? cx + 0.5 * (rx - cx) : cx + 0.5 * (px[w]! - cx);
      const ky = outside ? cy + 0.5 * (ry - cy) : cy + 0.5 * (py[w]! - cy);
      const fk = f(kx, ky);
      evals++;
      if (fk < (outside ? fr : fv[w]!)) {
        px[w] = kx;
        py[w] = ky;
        fv[w] = fk;
      } else {
        for (const i of [g, w]) {
          px[i] = px[b]! + 0.5 * (px[i]! - px[b]!);
          py[i] = py[b]! + 0.5 * (py[i]! - py[b]!);
          fv[i] = f(px[i]!, py[i]!);
          evals++;
        }
      }
    }
  }
  let bi = 0;
  for (let i = 1; i < 3; i++) if (fv[i]! < fv[bi]!) bi = i;
  return { x: px[bi]!, y: py[bi]!, fx: fv[bi]!, evals };
}

/**
 * Fits raw SVI to one expiry's points by weighted least squares in total variance (see module doc).
 * Needs at least 5 points with distinct k. The result always satisfies `sviSatisfiesConstraints`.
 */
export function fitSvi(points: readonly SviPoint[], options: SviFitOptions = {}): SviFit {
  const parsed = z.array(sviPointSchema).min(5).parse(points);
  const n = parsed.length;
  const ks = new Float64Array(n);
  const ws = new Float64Array(n);
  const wts = new Float64Array(n);
  let kMin = Infinity,
    kMax = -Infinity,
    wSum = 0,
    kAtMinW = 0,
    minW = Infinity;
  parsed.forEach((p, i) => {
    ks[i] = p.k;
    ws[i] = p.w;
    wts[i] = p.weight ?? 1;
    wSum += wts[i]!;
    if (p.k < kMin) kMin = p.k;
    if (p.k > kMax) kMax = p.k;
    if (p.w < minW) {
      minW = p.w;
      kAtMinW = p.k;
    }
  });
  const range = kMax - kMin;
  if (!(range > 0)) throw new RangeError("fitSvi: points need distinct log-moneyness");
  const mLo = kMin - range;
  const mHi = kMax + range;
  const lnSigLo = Math.log(1e-4);
  const lnSigHi = Math.log(10);
  const maxIter = options.maxIterations ?? 200;
  const objective = (m: number, lnSig: number): number => {
    const mm = Math.min(mHi, Math.max(mLo, m));
    const ls = Math.min(lnSigHi, Math.max(lnSigLo, lnSig));
    // Penalise leaving the box so the simplex comes back (the clamped point is still evaluated).
    const pen = (m - mm) ** 2 + (lnSig - ls) ** 2;
    return innerFit(ks, ws, wts, mm, Math.exp(ls)).sse * (1 + pen);
  };
  let best = { x: kAtMinW, y: Math.log(0.1 * range + 1e-3), fx: Infinity, evals: 0 };
  let evaluations = 0;
  const starts: [number, number][] = [];
  for (const m0 of [kAtMinW, 0.5 * (kMin + kMax), kMin + 0.25 * range, kMin + 0.75 * range]) {
    for (const s0 of [0.05 * range, 0.2 * range, 0.6 * range])
      starts.push([m0, Math.log(Math.max(s0, 1e-3))]);
  }
  for (const [m0, ls0] of starts) {
    const r = nelderMead2(objective, m0, ls0, 0.1 * range, 0.5, maxIter);
    evaluations += r.evals;
    if (r.fx < best.fx) best = r;
  }
  // Polish from the best start.
  const polished = nelderMead2(objective, best.x, best.y, 0.01 * range, 0.05, maxIter);
  evaluations += polished.evals;
  if (polished.fx <= best.fx) best = polished;
  const m = Math.min(mHi, Math.max(mLo, best.x));
  const sigma = Math.exp(Math.min(lnSigHi, Math.max(lnSigLo, best.y)));
  const inner = innerFit(ks, ws, wts, m, sigma);
  const b = inner.c / sigma;
  const rho = inner.c > 0 ? inner.d / inner.c : 0;
  return {
    params: { a: inner.a, b, rho, m, sigma },
    rmse: Math.sqrt(Math.max(inner.sse, 0) / wSum),
    evaluations,
  };
}

/** Smile-adjusted delta and its parts (see the module doc for the sticky-moneyness convention). */
export interface SmileDelta {
  /** Δ_BS + vega·dσ/dS. */
  delta: number;
  /** Black-Scholes delta at the smile vol. */
  bsDelta: number;
  /** Smile vol σ_imp(k) at this strike. */
  vol: number;
  /** dσ_imp/dS = -σ_imp'(k)/S. */
  dVolDSpot: number;
  /** Black-Scholes vega at the smile vol (per 1.0 vol). */
  vega: number;
}

/**
 * Smile-adjusted delta of a European option under a sticky-moneyness SVI slice: the slice's own
 * forward is ignored for k; k = ln(K/F) with F = spot·e^{rate·tau} at the given spot.
 */
export function smileAdjustedDelta(
  spot: number,
  strike: number,
  tau: number,
  rate: number,
  slice: SviSlice,
  isCall = true,
): SmileDelta {
  const k = Math.log(strike / spot) - rate * tau;
  const w = sviTotalVariance(slice.params, k);
  if (!(w > 0)) throw new RangeError(`smileAdjustedDelta: non-positive total variance ${w} at k=${k}`);
  const vol = Math.sqrt(w / tau);
  const dVolDk = sviTotalVarianceSlope(slice.params, k) / (2 * tau * vol);
  const g = bsGreeks(spot, strike, tau, vol, rate, isCall);
  const dVolDSpot = -dVolDk / spot;
  return { delta: g.delta + g.vega * dVolDSpot, bsDelta: g.delta, vol, dVolDSpot, vega: g.vega };
}
