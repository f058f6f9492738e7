/**
 * The decide stage: per underlying, hold, hedge or stand down, and always say why.
 *
 * Hedge when |net − target| leaves the effective band (Whalley–Wilmott half-width × regime
 * multiplier, clamped to [minBand, policy band]). The plan aims at the target (`hedgeTo: "target"`)
 * or at the near band edge (`"edge"`, the WW-optimal move). When |net − target| exceeds the policy
 * band the vault also checks the fraction of the gap closed against [minHedgeRatio, maxHedgeRatio],
 * so the aim is clamped into those ratios. Stand down when validate flagged the underlying's inputs
 * unusable, when hedging is disabled by the RiskPolicy, or when an input is not a finite number.
 */
import { DEFAULT_BAND_CONFIG, effectiveBand, whalleyWilmottBand, type BandConfig } from "./band.ts";
import { DEFAULT_REGIME_SCALES, DEFAULT_REGIME_WEIGHTS, regimeScore } from "./regime.ts";
import type { RegimeScales, RegimeWeights } from "./regime.ts";
import type { Decision, Exposure, Greeks, HedgePolicy, RegimeInputs, ValidationView } from "./types.ts";

export type DecideConfig = BandConfig & {
  /** Proportional cost λ of the hedge instrument (fees + impact), fraction of notional. */
  costPerUnit: number;
  /** Absolute risk aversion γ per USD. */
  riskAversion: number;
  /** e^{−r(T−t)}, default 1. */
  discount?: number;
  hedgeTo: "target" | "edge";
  /**
   * Fraction of the gap kept between the planned hedge ratio and the policy's bounds when a hedge
   * is due. The vault checks the ratio after execution, where the book has moved by a second (time
   * decay, a greeks-cache rebuild): aiming exactly at a bound (a hedge to target is ratio 1) would
   * revert on chain. Default 0.01.
   */
  hedgeRatioMargin?: number;
  weights?: RegimeWeights;
  scales?: RegimeScales;
};

export type DecideContext = {
  greeks: Greeks;
  regime: RegimeInputs;
  policy: Pick<HedgePolicy, "enabled" | "band" | "minHedgeRatio" | "maxHedgeRatio">;
  /** The validate stage's result for the snapshot the exposure and regime were built from. */
  validation: ValidationView;
  config: DecideConfig;
};

export const DEFAULT_DECIDE_CONFIG: DecideConfig = {
  ...DEFAULT_BAND_CONFIG,
  costPerUnit: 0.0005,
  riskAversion: 1e-4,
  hedgeTo: "target",
};

/** Compact number for reasons: "700.0", "0.350", "0". */
export function fmt(x: number): string {
  if (x === 0) return "0";
  return Math.abs(x) >= 1 ? x.toFixed(1) : x.toPrecision(3);
}

function standDown(e: Exposure, reasons: string[]): Decision {
  const net = Number.isFinite(e.net) ? e.net : 0;
  return {
    underlying: e.underlying,
    action: "standDown",
    reasons,
    net,
    target: Number.isFinite(e.target) ? e.target : 0,
    targetNet: net,
    gap: 0,
    band: null,
    wwBand: null,
    regime: null,
  };
}

function problems(e: Exposure, ctx: DecideContext): string[] {
  const out: string[] = [];
  const numbers: [string, number][] = [
    ["exposure.spot", e.spot],
    ["exposure.options", e.options],
    ["exposure.perps", e.perps],
    ["exposure.liabilities", e.liabilities],
    ["exposure.net", e.net],
    ["exposure.target", e.target],
    ["exposure.band", e.band],
    ["exposure.price", e.price],
    ["greeks.gamma", ctx.greeks.gamma],
    ["greeks.vega", ctx.greeks.vega],
  ];
  for (const [name, v] of Object.entries(ctx.regime)) {
    if (v !== null) numbers.push([`regime.${name}`, v]);
  }
  for (const [name, v] of numbers) if (!Number.isFinite(v)) out.push(`${name} is not finite (${v})`);
  if (Number.isFinite(e.price) && e.price <= 0) out.push(`exposure.price ${e.price} is not positive`);
  if (out.length === 0) {
    const sum = e.spot + e.options + e.perps - e.liabilities;
    if (Math.abs(sum - e.net) > 1e-9 * Math.max(1, Math.abs(e.net), Math.abs(e.spot), e.liabilities)) {
      out.push(`exposure.net ${e.net} ≠ spot + options + perps − liabilities (${sum})`);
    }
    if (e.band !== ctx.policy.band)
      out.push(`exposure band ${e.band} ≠ policy band ${ctx.policy.band} (stale read)`);
  }
  return out;
}

/** Decides what to do about one underlying's exposure. Never throws for bad market data: it stands down. */
export function decide(exposure: Exposure, ctx: DecideContext): Decision {
  const u = exposure.underlying;
  const cfg = ctx.config;
  if (ctx.validation.usable[u] !== true) {
    const details = ctx.validation.alerts
      .filter((a) => a.underlying === u || a.underlying === "*")
      .map((a) => `${a.underlying} ${a.kind} ${a.reason}: ${a.detail}`);
    return standDown(exposure, [`stand down: ${u} inputs unusable (validate)`, ...details]);
  }
  if (!ctx.policy.enabled)
    return standDown(exposure, [`stand down: hedging ${u} is disabled by the RiskPolicy`]);
  const bad = problems(exposure, ctx);
  if (bad.length > 0) return standDown(exposure, [`stand down: ${u} inputs inconsistent`, ...bad]);

  let regime;
  let ww;
  let eb;
  try {
    regime = regimeScore(
      ctx.regime,
      cfg.weights ?? DEFAULT_REGIME_WEIGHTS,
      cfg.scales ?? DEFAULT_REGIME_SCALES,
    );
    ww = whalleyWilmottBand({
      gamma: ctx.greeks.gamma,
      price: exposure.price,
      costPerUnit: cfg.costPerUnit,
      riskAversion: cfg.riskAversion,
      discount: cfg.discount ?? 1,
    });
    eb = effectiveBand(ww, regime, ctx.policy, cfg);
  } catch (e) {
    return standDown(exposure, [`stand down: ${u} band not computable: ${(e as Error).message}`]);
  }

  const { net, target } = exposure;
  const dev = net - target;
  const clampNote =
    eb.clamp === "policy"
      ? `, capped at policy ${fmt(ctx.policy.band)}`
      : eb.clamp === "floor"
        ? `, floored at min ${fmt(cfg.minBand)}`
        : "";
  const why = `(WW ${fmt(ww)}, regime ${eb.score.toFixed(2)} ${eb.label} ×${eb.multiplier.toFixed(2)}${clampNote})`;
  const base = {
    underlying: u,
    net,
    target,
    band: eb.band,
    wwBand: ww,
    regime: { score: eb.score, label: eb.label, multiplier: eb.multiplier },
  };
  const head = `net ${fmt(net)} ${u} vs target ${fmt(target)}`;
  if (Math.abs(dev) <= eb.band) {
    return {
      ...base,
      action: "hold",
      reasons: [`${head} inside band ${fmt(eb.band)} ${why}`],
      targetNet: net,
      gap: 0,
    };
  }

  const reasons = [`${head} outside band ${fmt(eb.band)} ${why}`];
  let aimDev = cfg.hedgeTo === "target" ? 0 : Math.sign(dev) * eb.band;
  if (Math.abs(dev) > ctx.policy.band) {
    const ratio = 1 - aimDev / dev;
    const margin = cfg.hedgeRatioMargin ?? 0.01;
    const lo = ctx.policy.minHedgeRatio + margin;
    const hi = Math.max(lo, ctx.policy.maxHedgeRatio - margin);
    const clamped = Math.min(hi, Math.max(lo, ratio));
    if (clamped !== ratio) {
      aimDev = dev * (1 - clamped);
      reasons.push(
        `hedge ratio ${ratio.toFixed(3)} kept inside policy [${ctx.policy.minHedgeRatio}, ${ctx.policy.maxHedgeRatio}] with margin ${margin}: using ${clamped.toFixed(3)}`,
      );
    }
  }
  const targetNet = target + aimDev;
  const gap = targetNet - net;
  reasons.push(`hedge to ${cfg.hedgeTo}: target net ${fmt(targetNet)} (gap ${fmt(gap)} ${u})`);
  return { ...base, action: "hedge", reasons, targetNet, gap };
}
