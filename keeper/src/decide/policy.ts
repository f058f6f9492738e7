/**
 * Hedging policies: the rule that turns one underlying's exposure into hold / hedge / stand down.
 * One function for the live keeper (keeper/src/loop) and both backtest engines, so a policy
 * compared in a backtest is exactly the policy the keeper runs.
 *
 * - regime-band: decide() as is — Whalley–Wilmott band from the book's gamma, scaled by the regime
 *   score, clamped to [minBand, governed band]. The keeper's default.
 * - ww-band: the same band without the regime score.
 * - fixed-band: a constant half-width (`band`, default the floor), no gamma, no regime.
 * - time: on every clock tick (`intervalHours`), hedge to the target whatever the band says.
 *
 * Every policy stands down where decide() would (unusable inputs, hedging disabled, inconsistent
 * numbers), and every hedge keeps decide()'s margin inside the governed hedge-ratio bounds.
 */
import { decide, type DecideContext } from "./decide.ts";
import type { Decision, Exposure, RegimeInputs } from "./types.ts";

export const KEEPER_POLICY_KINDS = ["regime-band", "ww-band", "fixed-band", "time"] as const;
export type KeeperPolicyKind = (typeof KEEPER_POLICY_KINDS)[number];

export type KeeperPolicy = {
  kind: KeeperPolicyKind;
  /** time: hours between hedges (a hedge at every change of floor(now / interval)). */
  intervalHours?: number;
  /** fixed-band: half-width, underlying units (default: the decide config's minBand). */
  band?: number;
};

export const NULL_REGIME: RegimeInputs = {
  etfFlowMomentum: null,
  ivLevel: null,
  ivChange: null,
  skew: null,
  fundingRate: null,
};

export type PolicyDecision = {
  decision: Decision;
  /** The time policy's clock bucket after this call (unchanged for the band policies). */
  clock: number;
  /** False when the time policy's clock did not tick: nothing was decided at this time. */
  fired: boolean;
};

/** decide()'s context as the policy sees it: fixed-band drops gamma and regime, ww-band the regime. */
export function policyContext(policy: KeeperPolicy, ctx: DecideContext): DecideContext {
  switch (policy.kind) {
    case "regime-band":
      return ctx;
    case "ww-band":
      return { ...ctx, regime: NULL_REGIME };
    case "fixed-band":
      return {
        ...ctx,
        greeks: { ...ctx.greeks, gamma: 0 },
        regime: NULL_REGIME,
        config: { ...ctx.config, minBand: policy.band ?? ctx.config.minBand },
      };
    case "time":
      // Band 0: any deviation is hedged to the target (decide() still applies the ratio margin).
      return {
        ...ctx,
        greeks: { ...ctx.greeks, gamma: 0 },
        regime: NULL_REGIME,
        config: { ...ctx.config, minBand: 0, hedgeTo: "target" },
      };
  }
}

/**
 * One decision under `policy` at `nowMs`. `clock` is the time policy's last fired bucket (start
 * with -Infinity). Hedges smaller than `minTradeUnits` become holds.
 */
export function decideByPolicy(
  policy: KeeperPolicy,
  exposure: Exposure,
  ctx: DecideContext,
  o: { nowMs: number; clock: number; minTradeUnits: number },
): PolicyDecision {
  const pctx = policyContext(policy, ctx);
  let clock = o.clock;
  let fired = true;
  if (policy.kind === "time") {
    const interval = (policy.intervalHours ?? 1) * 3_600_000;
    if (!(interval > 0)) throw new RangeError(`time policy: intervalHours must be > 0`);
    const bucket = Math.floor(o.nowMs / interval);
    fired = bucket !== o.clock;
    clock = bucket;
  }
  let d = decide(exposure, pctx);
  if (policy.kind === "time" && d.action !== "standDown") {
    const every = `clock: every ${policy.intervalHours ?? 1} h, hedge to target`;
    d = fired
      ? { ...d, band: null, reasons: [every, ...d.reasons] }
      : {
          ...d,
          action: "hold",
          band: null,
          targetNet: d.net,
          gap: 0,
          reasons: [`${every}: not due until the next clock tick`],
        };
  }
  if (d.action === "hedge" && Math.abs(d.gap) < o.minTradeUnits)
    d = {
      ...d,
      action: "hold",
      targetNet: d.net,
      gap: 0,
      reasons: [...d.reasons, `hedge of ${d.gap} below the minimum trade ${o.minTradeUnits}: hold`],
    };
  return { decision: d, clock, fired };
}
