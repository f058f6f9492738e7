/**
 * Backtest configuration: the treasury being hedged, the RiskPolicy limits, the keeper's decide and
 * plan settings, and the venue models. zod schemas at the boundary, defaults = the local deployment
 * (scripts/deploy/system.ts defaultLocalConfig for WETH) and the keeper's defaults.
 */
import { z } from "zod";
import { DEFAULT_DECIDE_CONFIG, type DecideConfig } from "../decide/index.ts";
import { DEFAULT_PLAN_CONFIG } from "../plan/index.ts";
import type { PlanConfig } from "../plan/types.ts";
import {
  DEFAULT_ETH_PERP,
  DEFAULT_ETH_SPOT,
  DEFAULT_GAS_MODEL,
  DEFAULT_OPTIONS_PARAMS,
  type GasModel,
  type OptionsModelParams,
  type PerpModelParams,
  type SpotModelParams,
} from "./model/index.ts";

const nonNeg = z.number().nonnegative();
const pos = z.number().positive();

/**
 * The treasury: an NFT marketplace's (or DAO's) ETH. Proceeds arrive in ETH every bar (marketplace
 * fees, noisy: 0.05 ETH/h ≈ 1.2 ETH a day), a `creatorShare` of them is owed to creators (a liability
 * in ETH) and paid out once a day with the operating withdrawal; a covered-call programme sells `coveredCalls.units` calls (strike ≈ moneyness × spot, the
 * first Friday expiry ≥ minDays away) on the options AMM and rolls them at expiry — the book's gamma.
 * `writtenOptions` adds fixed short (or long) options at the start (the options-pool scenario).
 */
export const TreasurySchema = z.strictObject({
  spot: nonNeg.default(1_000),
  cash: z.number().default(0),
  liabilities: nonNeg.default(150),
  proceedsPerHour: nonNeg.default(0.05),
  /** Operating spend withdrawn in ETH once a day (with the payout), units per day. */
  withdrawalPerDay: nonNeg.default(0.5),
  /** Coefficient of variation of each bar's proceeds (normal noise, floored at 0). */
  proceedsNoise: nonNeg.default(1),
  creatorShare: z.number().min(0).max(1).default(0.5),
  /** UTC hour of the daily creator payout. */
  payoutHourUtc: z.number().int().min(0).max(23).default(0),
  coveredCalls: z
    .strictObject({ units: pos, moneyness: pos, minDays: pos })
    .nullable()
    .default({ units: 300, moneyness: 1.1, minDays: 21 }),
  writtenOptions: z
    .array(
      z.strictObject({
        isCall: z.boolean(),
        strikeFraction: pos,
        /** ms; default: the path's last bar. */
        expiry: z.number().int().positive().optional(),
        /** Signed units: negative = written (short). */
        units: z.number(),
      }),
    )
    .default([]),
  seed: z.union([z.number(), z.string()]).default("treasury"),
});
export type TreasuryInput = z.input<typeof TreasurySchema>;
export type Treasury = z.output<typeof TreasurySchema>;

/** RiskPolicy limits for the underlying (WETH defaults of the local deployment). */
export const RiskLimitsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  targetDelta: z.number().default(0),
  band: pos.default(25),
  minHedgeRatio: z.number().min(0).max(1).default(0.5),
  maxHedgeRatio: z.number().min(0).max(2).default(1),
  maxOptionLegSize: nonNeg.default(2_000),
  maxPerpLegSize: nonNeg.default(5_000),
  /**
   * 0 by default in the backtest (the deployment allows 1,000): the plan sells held spot when that
   * is cheaper than the perp but never buys spot back, so over years the treasury's ETH would be
   * ratcheted into long perps; with 0 every policy keeps its ETH and hedges with the perp only.
   */
  maxSpotLegSize: nonNeg.default(0),
  maxPerpPosition: nonNeg.default(10_000),
  premiumBudgetUsdPerWindow: nonNeg.default(2_000_000),
  /**
   * The overlay's premium budget per window is also capped at this fraction of the treasury's spot
   * value (a fixed USD budget would be unbounded protection when ETH traded at $130).
   */
  premiumBudgetNavFraction: z.number().min(0).max(1).default(0.005),
  windowMs: pos.default(86_400_000),
  maxOpenSeries: z.number().int().nonnegative().default(20),
  maxSlippageBps: pos.default(100),
  tier1Usd: pos.default(2_000_000),
  tier2Usd: pos.default(10_000_000),
});
export type RiskLimits = z.output<typeof RiskLimitsSchema>;

export type VenueModels = {
  perp: PerpModelParams;
  /** Skew of the rest of the market on the perp venue, underlying units. */
  backgroundSkew: number;
  /** "market": charge the path's funding rate when known (else the venue's); "venue": skew formula only. */
  funding: "market" | "venue";
  spot: SpotModelParams;
  options: OptionsModelParams;
  /** Smile shape around the path's ATM IV (the surface's skew and curvature, vol per log-moneyness). */
  smile: { skew: number; curvature: number };
  gas: GasModel;
  /** ETH/USD for gas when the underlying is not ETH. */
  gasEthUsd: number;
};

export const DEFAULT_VENUES: VenueModels = {
  perp: DEFAULT_ETH_PERP,
  backgroundSkew: 0,
  funding: "market",
  spot: DEFAULT_ETH_SPOT,
  options: DEFAULT_OPTIONS_PARAMS,
  smile: { skew: -0.1, curvature: 0.5 },
  gas: DEFAULT_GAS_MODEL,
  gasEthUsd: 3_000,
};

export type KeeperSettings = {
  decide: DecideConfig;
  plan: PlanConfig;
  /** Trades smaller than this (underlying units) are not sent. */
  minTradeUnits: number;
  /** USDC the treasury can draw for perp margin beyond its cash (the model lets cash go negative). */
  creditLineUsd: number;
};

/**
 * Keeper defaults for the backtest: the keeper's decide config with a 2-unit band floor (a linear
 * book's WW band is 0) and a cost λ matching the perp taker fee plus a little impact; the plan's
 * defaults.
 */
export const DEFAULT_KEEPER: KeeperSettings = {
  decide: { ...DEFAULT_DECIDE_CONFIG, minBand: 2, costPerUnit: 0.0006 },
  plan: DEFAULT_PLAN_CONFIG,
  minTradeUnits: 1e-3,
  creditLineUsd: 1e12,
};

export type BacktestConfig = {
  treasury: Treasury;
  limits: RiskLimits;
  venues: VenueModels;
  keeper: KeeperSettings;
};

export function defaultBacktestConfig(
  over: { treasury?: TreasuryInput; limits?: z.input<typeof RiskLimitsSchema> } = {},
): BacktestConfig {
  return {
    treasury: TreasurySchema.parse(over.treasury ?? {}),
    limits: RiskLimitsSchema.parse(over.limits ?? {}),
    venues: DEFAULT_VENUES,
    keeper: DEFAULT_KEEPER,
  };
}

// ---------------------------------------------------------------------------------------------
// Policies

export const POLICY_KINDS = ["unhedged", "time", "fixed-band", "ww-band", "regime-band"] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export type PolicySpec = {
  name: string;
  kind: PolicyKind;
  /** Options overlay allowed (plan buys protection when the regime is stressed). */
  overlay: boolean;
  /** time: hedge to target every this many hours. */
  intervalHours?: number;
  /** fixed-band: half-width, underlying units. */
  band?: number;
  /** ww-band / regime-band: risk aversion γ (default the keeper's). */
  riskAversion?: number;
};

export const BASE_POLICIES: readonly PolicySpec[] = [
  { name: "unhedged", kind: "unhedged", overlay: false },
  { name: "time-hourly", kind: "time", overlay: false, intervalHours: 1 },
  { name: "time-daily", kind: "time", overlay: false, intervalHours: 24 },
  { name: "fixed-band", kind: "fixed-band", overlay: false },
  { name: "ww-band", kind: "ww-band", overlay: false },
  { name: "regime-band", kind: "regime-band", overlay: false },
];

export const DEFAULT_POLICY_NAME = "regime-band";

/** The six base policies and the five hedged ones with the options overlay (`<name>+overlay`). */
export function standardPolicies(): PolicySpec[] {
  const out: PolicySpec[] = [...BASE_POLICIES];
  for (const p of BASE_POLICIES)
    if (p.kind !== "unhedged") out.push({ ...p, name: `${p.name}+overlay`, overlay: true });
  return out;
}

/** Looks a standard policy up by name (`all` = every standard policy). */
export function policiesByName(name: string): PolicySpec[] {
  const all = standardPolicies();
  if (name === "all") return all;
  const p = all.find((x) => x.name === name);
  if (p === undefined)
    throw new RangeError(
      `unknown policy ${JSON.stringify(name)}; expected all or one of: ${all.map((x) => x.name).join(", ")}`,
    );
  return [p];
}
