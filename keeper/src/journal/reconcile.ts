/**
 * Restart reconciliation: settles the journal's pending intents against the chain so that a crash
 * anywhere between recording, sending and journalling the result never causes a second hedge.
 *
 * Rules, per pending intent (oldest first), with the vault's current epoch read once:
 * 1. "sent" and its transaction is mined → confirmed (success) or failed (reverted).
 * 2. Its epoch is already past on chain → if the vault's `Rebalanced` event for that epoch carries
 *    this intent's inputsHash, it was ours (crash after broadcast, before journalling) → confirmed
 *    with the event's transaction; otherwise another bundle used the epoch → lost-race.
 * 3. "intent" (no transaction recorded) and its epoch is current → abandoned: never resend blindly;
 *    the keeper re-plans from fresh data (should the lost transaction still land, the epoch makes the
 *    re-planned one revert, and rule 4 adopts the old intent).
 * 4. The most recent abandoned intents (up to `lateWindow`, default 16) whose epoch has passed are
 *    checked too: one whose inputsHash is on that epoch's event is set to confirmed (late) — its
 *    transaction landed after all — so the journal matches the chain.
 * A "sent" intent not mined yet at the current epoch, or an intent ahead of the chain's epoch, stays
 * as it is (the latter is reported: wrong chain or vault?).
 */
import type { Hex } from "viem";
import type { IntentRow, IntentStatus, Journal } from "./journal.ts";

export type ChainView = {
  currentEpoch(): Promise<bigint>;
  receipt(txHash: Hex): Promise<{ status: "success" | "reverted"; blockNumber: bigint } | null>;
  rebalanceEventFor(epoch: bigint): Promise<{ txHash: Hex; inputsHash: Hex } | null>;
};

export type ReconcileOutcome = {
  id: number;
  epoch: bigint;
  from: IntentStatus;
  to: IntentStatus;
  reason: string;
};

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Reconciles the pending intents of one vault (`scope`; all pending intents when omitted — use a
 * scope when one journal serves several vaults or chains) with `chain`.
 */
export async function reconcile(
  journal: Journal,
  chain: ChainView,
  scope?: { chainId: number; vault: string },
  opts: { lateWindow?: number } = {},
): Promise<ReconcileOutcome[]> {
  const out: ReconcileOutcome[] = [];
  const inScope = (r: IntentRow) =>
    scope === undefined || (r.chainId === scope.chainId && same(r.vault, scope.vault));
  const pending = journal.pending().filter(inScope);
  const abandoned = journal.list({ status: "abandoned", limit: opts.lateWindow ?? 16 }).filter(inScope);
  if (pending.length === 0 && abandoned.length === 0) return out;
  const current = await chain.currentEpoch();

  const note = (r: IntentRow, to: IntentStatus, reason: string) =>
    out.push({ id: r.id, epoch: r.epoch, from: r.status, to, reason });

  for (const r of pending) {
    if (r.status === "sent" && r.txHash !== null) {
      const rc = await chain.receipt(r.txHash);
      if (rc !== null) {
        if (rc.status === "success") {
          journal.markConfirmed(r.id, { blockNumber: rc.blockNumber });
          note(r, "confirmed", `tx ${r.txHash} mined in block ${rc.blockNumber}`);
        } else {
          journal.markFailed(r.id, `tx ${r.txHash} reverted in block ${rc.blockNumber}`, rc.blockNumber);
          note(r, "failed", `tx ${r.txHash} reverted in block ${rc.blockNumber}`);
        }
        continue;
      }
    }
    if (r.epoch < current) {
      const ev = await chain.rebalanceEventFor(r.epoch);
      if (ev !== null && same(ev.inputsHash, r.inputsHash)) {
        const rc = await chain.receipt(ev.txHash);
        journal.markConfirmed(r.id, { txHash: ev.txHash, blockNumber: rc?.blockNumber ?? null });
        note(r, "confirmed", `epoch ${r.epoch} rebalanced with our inputsHash by tx ${ev.txHash}`);
      } else {
        const reason =
          ev === null
            ? `epoch ${r.epoch} passed (chain at ${current}) with no Rebalanced event found`
            : `epoch ${r.epoch} rebalanced by tx ${ev.txHash} with inputsHash ${ev.inputsHash}`;
        journal.markLostRace(r.id, reason);
        note(r, "lost-race", reason);
      }
      continue;
    }
    if (r.epoch === current) {
      if (r.status === "intent") {
        const reason = `no transaction recorded and epoch ${r.epoch} is still current: re-plan, do not resend`;
        journal.markAbandoned(r.id, reason);
        note(r, "abandoned", reason);
      } else {
        note(r, r.status, `tx ${r.txHash} not mined yet; epoch ${r.epoch} still current`);
      }
      continue;
    }
    note(r, r.status, `epoch ${r.epoch} is ahead of the chain's ${current}: wrong chain or vault?`);
  }

  for (const a of abandoned) {
    if (a.epoch >= current) continue;
    const ev = await chain.rebalanceEventFor(a.epoch);
    if (ev === null || !same(ev.inputsHash, a.inputsHash)) continue;
    const rc = await chain.receipt(ev.txHash);
    try {
      journal.markConfirmed(
        a.id,
        { txHash: ev.txHash, blockNumber: rc?.blockNumber ?? null },
        { late: true },
      );
      note(
        a,
        "confirmed",
        `late: tx ${ev.txHash} rebalanced epoch ${a.epoch} with its inputsHash after it was abandoned`,
      );
    } catch (e) {
      // another intent of that epoch is already confirmed (same inputs, re-planned): keep this one abandoned
      note(a, "abandoned", `epoch ${a.epoch} event matches, not adopted: ${(e as Error).message}`);
    }
  }
  return out;
}
