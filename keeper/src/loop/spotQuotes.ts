/**
 * Spot venue quotes for the plan stage: the sell ladder of an underlying for the quote token on the
 * configured Uniswap V3 spot venue, read with QuoterV2.quoteExactInputSingle (not a view: it runs
 * the swap and reverts with the result, so it is only ever read through eth_call) in ONE multicall
 * at the tick's block, together with the RiskPolicy's allow-list entry of the adapter (a venue
 * governance has removed gets no quotes, so the plan falls back to the perps instead of planning a
 * bundle the vault would refuse).
 *
 * The ladder's sizes are the perp ladder's (loop/perpModel.ts LADDER_FRACTIONS of |gap|), capped at
 * the vault's holdings of the underlying (the plan never sells more: never short spot). Each point is
 * the exact token amount quoted and its exact output, so a leg of a quoted size gets the pool's own
 * answer as its min-out base; between points the plan interpolates linearly, which under-estimates
 * the (concave) output — the safe side for a min-out bound.
 */
import type { Abis } from "../chain/abis.ts";
import { call, multiRead, type CallResult, type Client } from "../chain/multicall.ts";
import type { ChainAddresses } from "../chain/resolve.ts";
import type { UnderlyingState, VaultState } from "../chain/state.ts";
import type { SpotQuotePoint, SpotVenueQuote } from "../plan/types.ts";
import { fromUnits, toUnits } from "../plan/units.ts";
import { LADDER_FRACTIONS } from "./perpModel.ts";

/**
 * The token amounts (units of the underlying) of the sell ladder for a hedge of `gap` units with
 * `holdings` token units held: LADDER_FRACTIONS × |gap| truncated to units and capped at the
 * holdings (the holdings themselves the last point when the cap bites), strictly ascending, no zero.
 * Empty when the gap buys delta (spot legs only sell held spot) or nothing is held.
 */
export function spotSellAmounts(gap: number, holdings: bigint, decimals: number): bigint[] {
  if (!(gap < 0) || !Number.isFinite(gap) || holdings <= 0n) return [];
  const out: bigint[] = [];
  for (const f of LADDER_FRACTIONS) {
    const units = toUnits(-gap * f, decimals, "trunc");
    const capped = units < holdings ? units : holdings;
    if (capped > (out[out.length - 1] ?? 0n)) out.push(capped);
    if (capped === holdings) break;
  }
  return out;
}

/**
 * The sell ladder from the quoted outputs of `amounts` (token units in, quote token units out; null
 * when the quote failed): the points up to the first failed, non-positive or non-increasing output
 * (the venue's usable depth ends there), in whole tokens.
 */
export function spotSellLadder(
  amounts: readonly bigint[],
  outs: readonly (bigint | null)[],
  decimals: number,
  quoteDecimals: number,
): SpotQuotePoint[] {
  const points: SpotQuotePoint[] = [];
  let prev = 0n;
  for (let i = 0; i < amounts.length; i++) {
    const out = outs[i];
    if (out === undefined || out === null || out <= prev) break;
    points.push({
      size: fromUnits(amounts[i] as bigint, decimals),
      amountOut: fromUnits(out, quoteDecimals),
    });
    prev = out;
  }
  return points;
}

type QuoteOut = readonly [bigint, bigint, number, bigint];

/**
 * The configured spot venue's sell ladder of `u` for a hedge of `gap` units, read at the tick's
 * block (quotedAt = its timestamp). Null without a spot venue, a pool for `u`, a sale to make
 * (gap ≥ 0), holdings, or the adapter's allow-listing; null too when not even the smallest size
 * could be quoted.
 */
export async function readSpotQuote(
  client: Client,
  abis: Abis,
  a: ChainAddresses,
  state: VaultState,
  u: UnderlyingState,
  gap: number,
): Promise<SpotVenueQuote | null> {
  const venue = a.spot;
  if (venue === null) return null;
  const pool = venue.pools.get(u.info.token);
  // Never sell the WETH owed to creators: the sellable part is the balance above the liabilities.
  const owedUnits = u.liabilities / 10n ** BigInt(18 - u.info.decimals);
  const sellable = u.balance > owedUnits ? u.balance - owedUnits : 0n;
  const amounts = spotSellAmounts(gap, sellable, u.info.decimals);
  if (pool === undefined || amounts.length === 0) return null;
  const quote = (amountIn: bigint) =>
    call(venue.quoter, abis.quoterV2, "quoteExactInputSingle", [
      {
        tokenIn: u.info.token,
        tokenOut: a.quoteToken,
        amountIn,
        fee: venue.poolFee,
        sqrtPriceLimitX96: 0n,
      },
    ]);
  const [allowed, ...quotes] = await multiRead(
    client,
    [call(a.policy, abis.policy, "venueAllowed", [venue.adapter]), ...amounts.map(quote)],
    state.blockNumber,
  );
  if (allowed === undefined || !allowed.ok || allowed.value !== true) return null;
  const outs = (quotes as CallResult<QuoteOut>[]).map((r) => (r.ok ? r.value[0] : null));
  const sell = spotSellLadder(amounts, outs, u.info.decimals, a.quoteDecimals);
  if (sell.length === 0) return null;
  return { adapter: venue.adapter, quotedAt: Number(state.timestamp) * 1000, sell };
}
