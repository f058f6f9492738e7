/**
 * The chain as a feed: Datums from one `VaultState` read.
 *
 * - spot, source "chain:<feed address>": the oracle feed's latest round (answer / 10^decimals);
 * - ivPoint, source "chain:surface": the AMM surface's ATM vol at the nearest listed expiry and the
 *   vol of every held series.
 *
 * Clocks: the chain's times are mapped onto the keeper's clock by their age at the read block —
 * eventTime = receiveTime − (block.timestamp − updatedAt) — so that validate's freshness checks
 * measure the same age the vault measures, whatever the offset between the chain's clock and the
 * keeper's (a local chain may have been time-travelled).
 */
import type { Datum } from "../feeds/types.ts";
import type { VaultState } from "./state.ts";

const WAD = 1e18;

export function chainSource(feed: string): string {
  return `chain:${feed.toLowerCase()}`;
}
export const SURFACE_SOURCE = "chain:surface";

/** Datums of `state`, received at `receiveTime` (keeper clock, ms). */
export function chainData(state: VaultState, receiveTime: number): Datum[] {
  const out: Datum[] = [];
  const chainMs = Number(state.timestamp) * 1000;
  const toKeeper = (chainTimeMs: number) => Math.max(0, Math.round(receiveTime - (chainMs - chainTimeMs)));
  for (const u of state.underlyings) {
    if (u.round !== null && u.round.answer > 0n) {
      out.push({
        kind: "spot",
        underlying: u.info.symbol,
        source: chainSource(u.info.feed),
        eventTime: toKeeper(Number(u.round.updatedAt) * 1000),
        receiveTime,
        price: Number(u.round.answer) / 10 ** u.info.feedDecimals,
      });
    }
    const spot = u.exposure !== null ? Number(u.exposure.price) / WAD : null;
    if (u.atm !== null && spot !== null && u.atm.vol > 0) {
      out.push({
        kind: "ivPoint",
        underlying: u.info.symbol,
        source: SURFACE_SOURCE,
        eventTime: receiveTime,
        receiveTime,
        expiry: toKeeper(Number(u.atm.expiry) * 1000),
        strike: spot,
        iv: u.atm.vol,
      });
    }
    for (const h of u.held) {
      if (h.vol === null || !(h.vol > 0)) continue;
      out.push({
        kind: "ivPoint",
        underlying: u.info.symbol,
        source: SURFACE_SOURCE,
        eventTime: receiveTime,
        receiveTime,
        expiry: toKeeper(Number(h.expiry) * 1000),
        strike: Number(h.strike) / WAD,
        iv: h.vol,
      });
    }
  }
  return out;
}
