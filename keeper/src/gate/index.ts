/**
 * The gate stage: the authority tier of a bundle, exactly as the vault computes it (USD notional of
 * option and perp sizes at the oracle price, spot buys at their quote amount, spot sales at the
 * oracle price; margin and redeem legs count zero), and — at tier 1 and above — the approval
 * workflow: propose the exact bundle hash (the vault's `bundleHash` view) to HedgeApprovals, then
 * poll `proposal(hash)` until the approvals the tier needs arrive, the proposal expires, the epoch
 * moves on, the configured wait ends or the keeper shuts down. Every bundle is simulated (eth_call)
 * before it is sent — see execute.
 */
import { zeroAddress, type Address, type Hex } from "viem";
import type { Abis } from "../chain/abis.ts";
import type { GlobalLimitsRaw } from "../chain/state.ts";
import { call, multiRead, need, type Client } from "../chain/multicall.ts";
import { LegKind, type Leg } from "../plan/types.ts";
import { sleep } from "../execute/retry.ts";

export type Tier = 0 | 1 | 2;

/** Tier of a bundle of USD notional `notionalWad` (WAD) under `g`. */
export function tierOf(
  notionalWad: bigint,
  g: Pick<GlobalLimitsRaw, "tier1Notional" | "tier2Notional">,
): Tier {
  return notionalWad >= g.tier2Notional ? 2 : notionalWad >= g.tier1Notional ? 1 : 0;
}

const abs = (x: bigint) => (x < 0n ? -x : x);
const toWad = (amount: bigint, dec: number) =>
  dec <= 18 ? amount * 10n ** BigInt(18 - dec) : amount / 10n ** BigInt(dec - 18);

/** The vault's `_bundleNotional`: exact integer arithmetic in WAD. */
export function bundleNotionalWad(
  legs: readonly Leg[],
  priceWad: (underlying: Address) => bigint,
  decimalsOf: (underlying: Address) => number,
  quoteDecimals: number,
): bigint {
  let notional = 0n;
  for (const l of legs) {
    const a = abs(l.amount);
    if (l.kind === LegKind.Option || l.kind === LegKind.Perp)
      notional += (a * priceWad(l.underlying)) / 10n ** 18n;
    else if (l.kind === LegKind.Spot) {
      notional +=
        l.amount > 0n
          ? toWad(a, quoteDecimals)
          : (toWad(a, decimalsOf(l.underlying)) * priceWad(l.underlying)) / 10n ** 18n;
    }
  }
  return notional;
}

/** The hash approvers sign off (from the vault's view, so it binds chain and vault exactly). */
export async function bundleHashOf(
  client: Client,
  abis: Abis,
  vault: Address,
  legs: readonly Leg[],
  inputsHash: Hex,
  epoch: bigint,
  deadline: bigint,
): Promise<Hex> {
  const [r] = await multiRead(client, [
    call(vault, abis.vault, "bundleHash", [legs.map((l) => ({ ...l })), inputsHash, epoch, deadline]),
  ] as const);
  return need(r, "vault.bundleHash()");
}

export type Proposal = {
  proposer: Address;
  epoch: bigint;
  expiresAt: bigint;
  financeApprover: Address;
  riskApprover: Address;
  consumed: boolean;
};

export async function readProposal(
  client: Client,
  abis: Abis,
  approvals: Address,
  hash: Hex,
): Promise<Proposal> {
  const [r] = await multiRead(client, [call(approvals, abis.approvals, "proposal", [hash])] as const);
  return need(r, "approvals.proposal()");
}

/** Whether `p` carries the approvals tier `tier` needs. */
export function approvedFor(p: Proposal, tier: Tier): boolean {
  if (tier === 0) return true;
  if (p.financeApprover === zeroAddress) return false;
  return tier < 2 || p.riskApprover !== zeroAddress;
}

export type ApprovalOutcome =
  | { status: "approved"; proposal: Proposal; waitedMs: number }
  | {
      status: "expired" | "timeout" | "aborted" | "epochMoved" | "consumed";
      reason: string;
      waitedMs: number;
    };

/**
 * Polls `proposal(hash)` every `pollMs` until it carries the approvals `tier` needs (see module doc).
 * `onArrival` is told about each approval as it is noticed.
 */
export async function awaitApprovals(x: {
  client: Client;
  abis: Abis;
  approvals: Address;
  vault: Address;
  hash: Hex;
  tier: Tier;
  epoch: bigint;
  waitMs: number;
  pollMs: number;
  signal?: AbortSignal;
  onArrival?: (who: "finance" | "risk", approver: Address) => void;
}): Promise<ApprovalOutcome> {
  const start = Date.now();
  let seenFinance = false;
  let seenRisk = false;
  for (;;) {
    const waited = Date.now() - start;
    if (x.signal?.aborted === true)
      return { status: "aborted", reason: "shutdown while waiting for approvals", waitedMs: waited };
    const [p, e] = await multiRead(x.client, [
      call(x.approvals, x.abis.approvals, "proposal", [x.hash]),
      call(x.vault, x.abis.vault, "epoch", []),
    ] as const);
    const prop = need(p, "approvals.proposal()");
    const epoch = need(e, "vault.epoch()");
    if (!seenFinance && prop.financeApprover !== zeroAddress) {
      seenFinance = true;
      x.onArrival?.("finance", prop.financeApprover);
    }
    if (!seenRisk && prop.riskApprover !== zeroAddress) {
      seenRisk = true;
      x.onArrival?.("risk", prop.riskApprover);
    }
    if (prop.consumed) return { status: "consumed", reason: "proposal already consumed", waitedMs: waited };
    if (epoch !== x.epoch)
      return { status: "epochMoved", reason: `epoch moved to ${epoch}`, waitedMs: waited };
    if (approvedFor(prop, x.tier)) return { status: "approved", proposal: prop, waitedMs: waited };
    const block = await x.client.getBlock({ blockTag: "latest" });
    if (prop.proposer !== zeroAddress && block.timestamp > prop.expiresAt) {
      return { status: "expired", reason: `proposal expired at ${prop.expiresAt}`, waitedMs: waited };
    }
    if (waited >= x.waitMs)
      return { status: "timeout", reason: `no approval within ${x.waitMs} ms`, waitedMs: waited };
    await sleep(x.pollMs, x.signal);
  }
}
