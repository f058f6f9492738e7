/**
 * Types of the plan stage. The `Leg` mirrors `TreasuryVault.Leg` field by field (same names, same
 * order) so viem encodes it directly; its integers are in the vault's units:
 *
 * | kind               | id        | amount                                        | bound                                   |
 * | ------------------ | --------- | --------------------------------------------- | --------------------------------------- |
 * | 0 Option           | series id | signed size, underlying units WAD (+ buy)     | max total premium (buy) / min total proceeds (sell), USD WAD |
 * | 1 Perp             | 0         | signed size delta, underlying units WAD       | acceptable average fill price, USD WAD (max buy / min sell)  |
 * | 2 Spot             | 0         | > 0 spend quote token units; < 0 sell underlying token units | min out, token units of the other side |
 * | 3 MarginDeposit    | 0         | quote token units                             | 0                                       |
 * | 4 MarginWithdraw   | 0         | quote token units                             | 0                                       |
 * | 5 OptionRedeem     | series id | 0                                             | 0                                       |
 *
 * Quote inputs are plain numbers: sizes in underlying units, prices in USD per unit, the quote
 * token valued at 1 USD per whole token, times in ms since the Unix epoch.
 */
import type { Address } from "viem";
import type { Underlying } from "../feeds/types.ts";

export const LegKind = {
  Option: 0,
  Perp: 1,
  Spot: 2,
  MarginDeposit: 3,
  MarginWithdraw: 4,
  OptionRedeem: 5,
} as const;
export type LegKind = (typeof LegKind)[keyof typeof LegKind];

export type Leg = {
  kind: LegKind;
  adapter: Address;
  underlying: Address;
  id: bigint;
  amount: bigint;
  bound: bigint;
};

/** The venue's quote for trading `size` units from its current state (a quote-function result). */
export type PerpQuotePoint = {
  /** Units, > 0, strictly ascending within a ladder. */
  size: number;
  /** Average fill price over the whole `size`, USD per unit. */
  avgPrice: number;
  /** Total fees for `size`, USD. */
  feeUsd: number;
};

export type PerpVenueQuote = {
  adapter: Address;
  /** When the ladder was read. */
  quotedAt: number;
  /** Quote ladders for buying and for selling; the largest size is the usable depth. */
  buy: PerpQuotePoint[];
  sell: PerpQuotePoint[];
  /** The vault's position on this venue: signed size, equity (USD) and maintenance margin (USD). */
  position: number;
  equityUsd: number;
  maintenanceUsd: number;
};

export type SpotQuotePoint = {
  /** Underlying units sold, > 0, strictly ascending. */
  size: number;
  /** Quote tokens received for `size` (fees and price impact included), whole tokens. */
  amountOut: number;
};

export type SpotVenueQuote = {
  adapter: Address;
  quotedAt: number;
  /** Quotes for selling the underlying for the quote token. */
  sell: SpotQuotePoint[];
};

export type OptionQuote = {
  adapter: Address;
  seriesId: bigint;
  type: "put" | "call";
  strike: number;
  /** Expiry, ms. */
  expiry: number;
  /** USD per unit to buy, fees included. */
  ask: number;
  /** USD per unit received when selling, fees deducted; null when the venue does not buy it back. */
  bid: number | null;
  /** Delta and gamma of one long unit (gamma per USD). */
  delta: number;
  gamma: number;
  quotedAt: number;
};

export type PlanMarket = {
  /** ms; quote freshness and the deadline are measured from it. */
  now: number;
  underlying: { symbol: Underlying; address: Address; decimals: number };
  quoteToken: { address: Address; decimals: number };
  /** Oracle price, USD per unit (the vault checks slippage against it). */
  oraclePrice: number;
  /** Underlying the vault holds and may sell: spot legs never sell more (never short spot). */
  spotBalance: number;
  /** Quote tokens (whole) available in the vault for margin deposits. */
  quoteBalance: number;
  /** Aggregate perp size across all the vault's perp venues (the vault caps |size| after a rebalance). */
  perpPosition: number;
  /** Expected funding rate per hour (positive = longs pay). */
  fundingRatePerHour: number;
  perps: PerpVenueQuote[];
  spots: SpotVenueQuote[];
  options: OptionQuote[];
  /** Series the vault holds now (they count against maxOpenSeries). */
  heldSeries: { adapter: Address; seriesId: bigint }[];
};

export type PlanConfig = {
  /** Bound tolerance vs the quote; never above the policy's maxSlippageBps (clamped). */
  slippageToleranceBps: number;
  /** A perp venue's post-trade |size| × price / equity above this gets a margin deposit down to it. */
  targetLeverage: number;
  /** Hours of expected funding counted in the perp's cost when comparing with spot. */
  fundingHorizonHours: number;
  overlay: {
    structure: "put" | "collar";
    /** Fraction of the gap the overlay covers (0..1). */
    fraction: number;
    /** |delta| of the chosen strikes (0.25 = 25-delta). */
    targetDelta: number;
    /** Shortest time to expiry of the overlay, days. */
    minDaysToExpiry: number;
  };
  /** Configured event windows ([start, end) ms) during which the overlay applies whatever the regime. */
  eventWindows: { start: number; end: number }[];
  /** Deadline = now + this, seconds. */
  deadlineSeconds: number;
  /** Quotes older than this (or from the future) are not used. */
  maxQuoteAgeMs: number;
};

export type Plan = {
  status: "ok" | "none" | "infeasible";
  /** In execution order: margin deposits, options, spot, perps. */
  legs: Leg[];
  rationale: string[];
  /** Net delta expected after the legs (the current net when there are none). */
  expectedNetAfter: number;
  /** USD notional as the vault computes it for its authority tier (option and perp size × price, spot sold × price). */
  notionalUsd: number;
  /** Max option premium committed by the bounds, USD. */
  premiumUsd: number;
  /** Unix seconds; 0n when there are no legs. */
  deadline: bigint;
  /** Why no legs could be planned (status "infeasible"). */
  infeasible?: string;
};
