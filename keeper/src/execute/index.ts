/**
 * The execute stage: one planned rebalance from intent to receipt, idempotent by epoch.
 *
 * 1. Record the intent in the journal (its inputsHash is the one sent on-chain) BEFORE anything
 *    is broadcast. The journal refuses a second live intent for the epoch.
 * 2. Pre-send checks, in one round trip issued just before the journal write (so the node works
 *    while the journal syncs to disk): the vault's epoch and mode, a simulation of the exact call
 *    (eth_call) and its gas estimate (or a gas limit learnt from bundles of the same shape). Epoch moved → lost-race (stop). Paused → abandoned, no send
 *    (never fight the guardian). ReduceOnly and the plan is not reduce-only → abandoned. Simulation
 *    reverted → failed with the decoded reason (WrongEpoch → lost-race). Shutdown requested →
 *    abandoned before broadcasting.
 * 3. Sign (with a learnt gas limit: already while the node runs step 2's checks; nothing leaves before
 *    they pass), broadcast (transient failures retried with the same signed transaction), then markSent.
 * 4. Wait for the receipt (stuck → replaced with bumped fees); success → confirmed; reverted →
 *    lost-race when the epoch moved past ours (another keeper won), else failed; no receipt in time
 *    → left "sent" for reconciliation (never resent blindly).
 */
import { encodeFunctionData, parseEventLogs, type Abi, type Address, type Hex } from "viem";
import type { Abis } from "../chain/abis.ts";
import { classifyError, decodeRevert, revertData, shortReason } from "../chain/errors.ts";
import type { Client } from "../chain/multicall.ts";
import { Mode, readEpochAndMode } from "../chain/state.ts";
import { JournalError, type IntentRow, type Journal } from "../journal/index.ts";
import type { Leg } from "../plan/types.ts";
import { SendError, type Sender } from "./sender.ts";

export * from "./sender.ts";
export * from "./fees.ts";
export * from "./retry.ts";

export type ExecuteStatus =
  | "confirmed"
  | "lost-race"
  | "paused"
  | "reduce-only"
  | "sim-failed"
  | "reverted"
  | "unconfirmed"
  | "aborted"
  | "conflict"
  | "send-failed"
  | "dry-run";

export type ExecuteResult = {
  status: ExecuteStatus;
  reason: string;
  intent: IntentRow | null;
  txHash: Hex | null;
  /** The Rebalanced event's inputsHash when confirmed. */
  eventInputsHash: Hex | null;
  /** ms from the execute call to the broadcast returning (null when nothing was broadcast). */
  broadcastAt: number | null;
};

export type ExecuteHooks = {
  /** Called after the broadcast succeeded and before the journal records it (crash tests). */
  afterBroadcast?: (hash: Hex) => void | Promise<void>;
};

/**
 * Gas limits learnt from confirmed bundles of the same shape (leg kinds and held-series count):
 * max gasUsed × 1.5 (headroom for the 63/64 rule of nested calls), so the pre-send round trip need
 * not run eth_estimateGas every time. A bundle that runs out of gas drops its shape's entry.
 */
export type GasCache = {
  get(shape: string): bigint | undefined;
  observe(shape: string, gasUsed: bigint): void;
  drop(shape: string): void;
};

export function createGasCache(): GasCache {
  const max = new Map<string, bigint>();
  return {
    get: (shape) => {
      const g = max.get(shape);
      return g === undefined ? undefined : (g * 3n) / 2n;
    },
    observe: (shape, used) => {
      const g = max.get(shape);
      if (g === undefined || used > g) max.set(shape, used);
    },
    drop: (shape) => void max.delete(shape),
  };
}

/** The gas-cache key of a bundle. */
export function gasShape(legs: readonly Leg[], heldSeries: number): string {
  return `${legs.map((l) => l.kind).join("")}|${heldSeries}`;
}

/** Lets queued requests of a batching transport leave before synchronous work blocks the loop. */
const flushIo = () => new Promise<void>((resolve) => setTimeout(() => setImmediate(resolve), 0));

export type ExecuteInput = {
  client: Client;
  abis: Abis;
  errors: Abi;
  journal: Journal;
  sender: Sender;
  chainId: number;
  vault: Address;
  epoch: bigint;
  inputsHash: Hex;
  snapshot: unknown;
  decision: unknown;
  legs: readonly Leg[];
  deadline: bigint;
  /** Base fee of the block the tick read (fee estimation). */
  baseFee: bigint;
  /** Whether the vault's reduce-only rules accept this plan. */
  reduceOnlyOk: boolean;
  gasMultiplier: number;
  confirmTimeoutMs: number;
  dryRun: boolean;
  gasCache?: GasCache;
  /** Cache key (see gasShape); required with gasCache. */
  shape?: string;
  signal?: AbortSignal;
  hooks?: ExecuteHooks;
};

export function rebalanceCalldata(
  abis: Abis,
  legs: readonly Leg[],
  inputsHash: Hex,
  epoch: bigint,
  deadline: bigint,
): Hex {
  return encodeFunctionData({
    abi: abis.vault,
    functionName: "rebalance",
    args: [legs.map((l) => ({ ...l })), inputsHash, epoch, deadline],
  });
}

export type Simulation =
  { ok: true; gas: bigint } | { ok: false; revert: string; name: string; transient: boolean };

/**
 * eth_call of `data` from `from` and, unless `knownGas` is given, eth_estimateGas (both in one
 * batched round trip). A revert in either is decoded with `errors`.
 */
export async function simulate(
  client: Client,
  errors: Abi,
  from: Address,
  to: Address,
  data: Hex,
  knownGas?: bigint,
): Promise<Simulation> {
  const [c, g] = await Promise.allSettled([
    client.call({ account: from, to, data }),
    knownGas === undefined ? client.estimateGas({ account: from, to, data }) : Promise.resolve(knownGas),
  ]);
  const failed = c.status === "rejected" ? c.reason : g.status === "rejected" ? g.reason : null;
  if (failed !== null) {
    const dec = decodeRevert(errors, revertData(failed));
    const transient = classifyError(failed) === "transient";
    return {
      ok: false,
      name: dec?.name ?? (transient ? "Transient" : "Unknown"),
      revert: dec?.text ?? shortReason(failed),
      transient,
    };
  }
  return { ok: true, gas: (g as PromiseFulfilledResult<bigint>).value };
}

/** Read through a call so TypeScript does not narrow across awaits. */
const isAborted = (s: AbortSignal | undefined): boolean => s?.aborted === true;

const result = (
  status: ExecuteStatus,
  reason: string,
  intent: IntentRow | null,
  extra: Partial<ExecuteResult> = {},
): ExecuteResult => ({
  status,
  reason,
  intent,
  txHash: null,
  eventInputsHash: null,
  broadcastAt: null,
  ...extra,
});

/** Runs one rebalance (see module doc). Never throws for chain-side outcomes; journal bugs do throw. */
export async function executeRebalance(x: ExecuteInput): Promise<ExecuteResult> {
  const t0 = performance.now();
  const data = rebalanceCalldata(x.abis, x.legs, x.inputsHash, x.epoch, x.deadline);
  if (x.dryRun) {
    const sim = await simulate(x.client, x.errors, x.sender.address, x.vault, data);
    return sim.ok
      ? result("dry-run", `dry run: simulation ok (gas ${sim.gas}); not sent`, null)
      : result("dry-run", `dry run: simulation reverted: ${sim.revert}`, null);
  }
  if (isAborted(x.signal)) return result("aborted", "shutdown before the intent was recorded", null);

  // Pre-send checks in one round trip, started first so the node works while the journal syncs.
  const cached = x.gasCache !== undefined && x.shape !== undefined ? x.gasCache.get(x.shape) : undefined;
  const checks = Promise.all([
    readEpochAndMode(x.client, x.abis, x.vault),
    simulate(x.client, x.errors, x.sender.address, x.vault, data, cached),
  ]);
  checks.catch(() => undefined);
  await flushIo();
  // With a learnt gas limit the transaction is fully known now: sign it while the node works on the
  // checks (deterministic signature: the broadcast would sign exactly these bytes). Nothing is sent
  // and no nonce is taken until the checks have passed; a failed pre-sign just signs again later.
  const presigned =
    cached !== undefined
      ? x.sender.prepare({ to: x.vault, data, gas: cached }, x.baseFee).catch(() => null)
      : Promise.resolve(null);

  let row: IntentRow;
  try {
    row = x.journal.recordIntent({
      chainId: x.chainId,
      vault: x.vault,
      epoch: x.epoch,
      snapshot: x.snapshot,
      legs: x.legs,
      decision: x.decision,
      deadline: x.deadline,
    });
  } catch (e) {
    await checks.catch(() => undefined);
    if (e instanceof JournalError && e.code === "conflict") return result("conflict", e.message, null);
    throw e;
  }
  if (row.inputsHash.toLowerCase() !== x.inputsHash.toLowerCase()) {
    x.journal.markAbandoned(row.id, `journal hash ${row.inputsHash} ≠ planned inputsHash ${x.inputsHash}`);
    throw new Error(`inputsHash mismatch: journal ${row.inputsHash} vs planned ${x.inputsHash}`);
  }

  let em: { epoch: bigint; mode: number };
  let sim: Simulation;
  try {
    [em, sim] = await checks;
  } catch (e) {
    const row2 = x.journal.markAbandoned(row.id, `pre-send checks failed: ${shortReason(e)}`);
    return result("send-failed", `pre-send checks failed: ${shortReason(e)}`, row2);
  }
  if (em.epoch !== x.epoch) {
    const why = `epoch moved to ${em.epoch} before sending (planned ${x.epoch})`;
    return result("lost-race", why, x.journal.markLostRace(row.id, why));
  }
  if (em.mode === Mode.Paused) {
    const why = "vault paused by the guardian: standing down, nothing sent";
    return result("paused", why, x.journal.markAbandoned(row.id, why));
  }
  if (em.mode === Mode.ReduceOnly && !x.reduceOnlyOk) {
    const why = "vault is reduce-only and the plan is not: nothing sent";
    return result("reduce-only", why, x.journal.markAbandoned(row.id, why));
  }
  if (!sim.ok) {
    if (sim.name === "WrongEpoch") {
      const why = `simulation: ${sim.revert} (another bundle used the epoch)`;
      return result("lost-race", why, x.journal.markLostRace(row.id, why));
    }
    if (sim.transient) {
      const why = `simulation failed (RPC): ${sim.revert}`;
      return result("send-failed", why, x.journal.markAbandoned(row.id, why));
    }
    const why = `simulation reverted: ${sim.revert}`;
    return result("sim-failed", why, x.journal.markFailed(row.id, why));
  }
  if (isAborted(x.signal)) {
    const why = "shutdown before broadcasting";
    return result("aborted", why, x.journal.markAbandoned(row.id, why));
  }

  // ---- broadcast
  const gas = cached !== undefined ? sim.gas : (sim.gas * BigInt(Math.round(x.gasMultiplier * 100))) / 100n;
  let sent;
  try {
    sent = await x.sender.broadcast({ to: x.vault, data, gas }, x.baseFee, undefined, await presigned);
  } catch (e) {
    const why = `broadcast failed: ${shortReason(e)}`;
    // Nothing is known to have left: abandon (reconcile adopts it should it be mined after all).
    return result("send-failed", why, x.journal.markAbandoned(row.id, why), {
      txHash: e instanceof SendError ? e.hash : null,
    });
  }
  const broadcastAt = performance.now() - t0;
  const hash = sent.hashes[0] as Hex;
  await x.hooks?.afterBroadcast?.(hash);
  row = x.journal.markSent(row.id, hash, sent.nonce);

  // ---- confirm (not abortable: a shutdown finishes the in-flight confirmation)
  let mined;
  try {
    mined = await x.sender.waitMined(sent, x.confirmTimeoutMs);
  } catch (e) {
    return result("unconfirmed", `receipt wait failed: ${shortReason(e)} (left sent; reconcile)`, row, {
      txHash: hash,
      broadcastAt,
    });
  }
  if (mined === null) {
    return result("unconfirmed", `no receipt within ${x.confirmTimeoutMs} ms (left sent; reconcile)`, row, {
      txHash: hash,
      broadcastAt,
    });
  }
  const { receipt } = mined;
  if (x.gasCache !== undefined && x.shape !== undefined) {
    if (receipt.status === "success") x.gasCache.observe(x.shape, receipt.gasUsed);
    else if (receipt.gasUsed * 100n >= gas * 98n) x.gasCache.drop(x.shape);
  }
  if (receipt.status === "success") {
    const events = parseEventLogs({ abi: x.abis.vault, eventName: "Rebalanced", logs: receipt.logs });
    const ev = events.find((l) => l.address.toLowerCase() === x.vault.toLowerCase());
    row = x.journal.markConfirmed(row.id, { blockNumber: receipt.blockNumber, txHash: mined.hash });
    return result("confirmed", `mined in block ${receipt.blockNumber}`, row, {
      txHash: mined.hash,
      eventInputsHash: ev?.args.inputsHash ?? null,
      broadcastAt,
    });
  }
  const epochNow = await readEpochAndMode(x.client, x.abis, x.vault).then(
    (r) => r.epoch,
    () => null,
  );
  if (epochNow !== null && epochNow > x.epoch) {
    const why = `tx ${mined.hash} reverted in block ${receipt.blockNumber}: epoch ${x.epoch} was used by another bundle`;
    return result("lost-race", why, x.journal.markLostRace(row.id, why), { txHash: mined.hash, broadcastAt });
  }
  const why = `tx ${mined.hash} reverted in block ${receipt.blockNumber}`;
  return result("reverted", why, x.journal.markFailed(row.id, why, receipt.blockNumber), {
    txHash: mined.hash,
    broadcastAt,
  });
}
