/**
 * Venue quotes for the plan stage. The perp quote ladder is computed from the market state read
 * with the tick (loop/perpModel.ts); the one-unit buy/sell quotes of the
 * listed option series (for the overlay) are read only when the overlay is wanted, in one multicall
 * at the tick's block.
 */
import type { Abis } from "../chain/abis.ts";
import { call, multiRead, type Call, type CallResult, type Client } from "../chain/multicall.ts";
import type { ChainAddresses } from "../chain/resolve.ts";
import type { UnderlyingState, VaultState } from "../chain/state.ts";
import type { OptionQuote, PerpVenueQuote } from "../plan/types.ts";
import { perpLadder } from "./perpModel.ts";

const WAD = 10n ** 18n;
const n = (x: bigint) => Number(x) / 1e18;

/**
 * The configured perp venue's quote for a hedge of `gap` units: the ladder from the local PerpDEX
 * model at the tick's index price and skew (null without a readable position or market).
 */
export function perpQuoteOf(
  a: ChainAddresses,
  state: VaultState,
  u: UnderlyingState,
  gap: number,
): PerpVenueQuote | null {
  if (u.perp === null || u.perpMarket === null || u.exposure === null) return null;
  const m = u.perpMarket;
  const ladder = perpLadder(
    {
      index: n(u.exposure.price),
      skew: n(m.skew),
      skewScale: n(m.skewScale),
      makerFeeBps: m.makerFeeBps,
      takerFeeBps: m.takerFeeBps,
    },
    gap,
  );
  return {
    adapter: a.perpAdapter,
    quotedAt: Number(state.timestamp) * 1000,
    buy: ladder.buy,
    sell: ladder.sell,
    position: n(u.perp.size),
    equityUsd: n(u.perp.equity),
    maintenanceUsd: n(u.perp.maintenance),
  };
}

/** One-unit quotes of the unexpired listed series of `u` (buy: ask, delta, gamma; sell: bid or null). */
export async function readOptionQuotes(
  client: Client,
  abis: Abis,
  a: ChainAddresses,
  state: VaultState,
  u: UnderlyingState,
): Promise<OptionQuote[]> {
  if (a.amm === null || a.optionsAdapter === null) return [];
  const series = [...a.series.values()].filter(
    (s) => s.underlying.toLowerCase() === u.info.token.toLowerCase() && s.expiry > state.timestamp,
  );
  const calls: Call<unknown>[] = series.flatMap((s) => [
    call(a.amm as `0x${string}`, abis.amm, "quote", [s.id, WAD]),
    call(a.amm as `0x${string}`, abis.amm, "quote", [s.id, -WAD]),
  ]);
  const res = (await multiRead(client, calls, state.blockNumber)) as CallResult<unknown>[];
  const quotedAt = Number(state.timestamp) * 1000;
  const out: OptionQuote[] = [];
  series.forEach((s, i) => {
    const buy = res[2 * i] as CallResult<{ premium: bigint; delta: bigint; gamma: bigint }>;
    const sell = res[2 * i + 1] as CallResult<{ premium: bigint }>;
    if (!buy.ok) return;
    out.push({
      adapter: a.optionsAdapter as `0x${string}`,
      seriesId: s.id,
      type: s.isCall ? "call" : "put",
      strike: n(s.strike),
      expiry: Number(s.expiry) * 1000,
      ask: n(buy.value.premium),
      bid: sell.ok && sell.value.premium > 0n ? n(sell.value.premium) : null,
      delta: n(buy.value.delta),
      gamma: n(buy.value.gamma),
      quotedAt,
    });
  });
  return out;
}
