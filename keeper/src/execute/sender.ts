/**
 * The keeper's transaction sender: local signing, explicit nonces, capped EIP-1559 fees, retries of
 * transient RPC failures with the SAME signed transaction (so a retry can never create a second
 * transaction), and replacement of a stuck transaction (same nonce, fees bumped ≥ 12.5%).
 *
 * Nonces: the pending nonce is read from the chain at start; a local counter hands them out; on a
 * nonce error (or an unknown outcome) the counter is resynchronised from the chain.
 *
 * Pre-signing: `prepare` signs a request at the next nonce without sending it or taking the nonce, so
 * the signing can overlap the pre-send round trip; `broadcast` uses such a signature only when it is
 * still exactly what it would sign itself (same request, nonce and fees), else signs afresh.
 */
import {
  TransactionReceiptNotFoundError,
  keccak256,
  type Address,
  type Hex,
  type LocalAccount,
  type TransactionReceipt,
} from "viem";
import { classifyError, shortReason } from "../chain/errors.ts";
import type { Client } from "../chain/multicall.ts";
import { bumpFees, initialFees, type FeeConfig, type Fees } from "./fees.ts";
import { DEFAULT_RETRY, sleep, withRetry, type RetryPolicy } from "./retry.ts";

export type SenderConfig = {
  fees: FeeConfig;
  retry: RetryPolicy;
  /** Replace a transaction not mined after this long. */
  replaceAfterMs: number;
  /** Receipt polling interval. */
  pollMs: number;
};

export type TxRequest = { to: Address; data: Hex; gas: bigint };

export type SentTx = {
  nonce: number;
  /** Every hash broadcast for this nonce, first one first. */
  hashes: Hex[];
  fees: Fees;
  request: TxRequest;
  lastBroadcastAt: number;
};

export type Mined = { receipt: TransactionReceipt; hash: Hex };

/** A transaction signed ahead of its broadcast (see `Sender.prepare`); nothing was sent. */
export type Prepared = { request: TxRequest; nonce: number; fees: Fees; raw: Hex; hash: Hex };

export type SenderEvents = {
  onRetry?: (what: string, e: unknown, attempt: number, delayMs: number) => void;
  onReplace?: (nonce: number, oldHash: Hex, newHash: Hex, fees: Fees) => void;
  onResync?: (nonce: number, why: string) => void;
};

export type Sender = {
  readonly address: Address;
  /** The next nonce the sender will use (reads the chain on first use). */
  nonce(): Promise<number>;
  /** Re-reads the pending nonce from the chain. */
  resync(why: string): Promise<number>;
  /**
   * Signs `req` at the next nonce with the fees `broadcast` would use, sending nothing and leaving the
   * nonce counter as it is.
   */
  prepare(req: TxRequest, baseFee: bigint): Promise<Prepared>;
  /**
   * Signs `req` at the next nonce and broadcasts it (retrying transient failures with the same raw
   * transaction). `beforeBroadcast` sees the hash before it leaves (the hash is known once signed).
   * `prepared` (from `prepare`) is used instead of signing when it matches `req`, the next nonce and
   * the fees for `baseFee` exactly; otherwise it is ignored.
   */
  broadcast(
    req: TxRequest,
    baseFee: bigint,
    beforeBroadcast?: (hash: Hex, nonce: number) => void,
    prepared?: Prepared | null,
  ): Promise<SentTx>;
  /**
   * Waits for a receipt of any of `tx`'s hashes, replacing it after `replaceAfterMs`; null when
   * `timeoutMs` passes first (the transaction may still be mined later: reconcile). Not abortable:
   * a shutdown finishes the in-flight confirmation.
   */
  waitMined(tx: SentTx, timeoutMs: number): Promise<Mined | null>;
};

const sameFees = (a: Fees, b: Fees) =>
  a.maxFeePerGas === b.maxFeePerGas && a.maxPriorityFeePerGas === b.maxPriorityFeePerGas;
const sameRequest = (a: TxRequest, b: TxRequest) =>
  a.to.toLowerCase() === b.to.toLowerCase() &&
  a.data.toLowerCase() === b.data.toLowerCase() &&
  a.gas === b.gas;

/** Thrown when a broadcast failed for a reason other than transient RPC trouble. */
export class SendError extends Error {
  readonly kind: ReturnType<typeof classifyError>;
  readonly hash: Hex | null;
  constructor(kind: ReturnType<typeof classifyError>, message: string, hash: Hex | null, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "SendError";
    this.kind = kind;
    this.hash = hash;
  }
}

export function createSender(
  client: Client,
  account: LocalAccount,
  chainId: number,
  cfg: SenderConfig,
  events: SenderEvents = {},
): Sender {
  let next: number | null = null;
  const retry = cfg.retry ?? DEFAULT_RETRY;
  const onRetry = (what: string) => (e: unknown, attempt: number, delayMs: number) =>
    events.onRetry?.(what, e, attempt, delayMs);

  const pendingNonce = () =>
    withRetry(() => client.getTransactionCount({ address: account.address, blockTag: "pending" }), retry, {
      onRetry: onRetry("getTransactionCount"),
    });

  const resync = async (why: string) => {
    next = await pendingNonce();
    events.onResync?.(next, why);
    return next;
  };

  const sign = async (req: TxRequest, nonce: number, fees: Fees) => {
    const raw = await account.signTransaction({
      chainId,
      type: "eip1559",
      to: req.to,
      data: req.data,
      gas: req.gas,
      nonce,
      value: 0n,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    return { raw, hash: keccak256(raw) };
  };

  const exists = async (hash: Hex): Promise<boolean> => {
    try {
      await client.getTransaction({ hash });
      return true;
    } catch {
      return false;
    }
  };

  /** Sends `raw`; true when the node has it (sent now or already known). */
  const sendRaw = async (raw: Hex, hash: Hex): Promise<void> => {
    try {
      await withRetry(() => client.request({ method: "eth_sendRawTransaction", params: [raw] }), retry, {
        onRetry: onRetry("eth_sendRawTransaction"),
      });
    } catch (e) {
      const kind = classifyError(e);
      if (kind === "known") return;
      // A retried send whose first attempt got through, or a node that mines on send and reports
      // the revert (Hardhat automine): the transaction exists, its receipt tells the outcome.
      if ((kind === "nonce" || kind === "revert" || kind === "transient") && (await exists(hash))) return;
      throw new SendError(kind, `broadcast failed (${kind}): ${shortReason(e)}`, hash, e);
    }
  };

  const receiptOf = async (hash: Hex): Promise<TransactionReceipt | null> => {
    try {
      return await client.getTransactionReceipt({ hash });
    } catch (e) {
      if (e instanceof TransactionReceiptNotFoundError) return null;
      throw e;
    }
  };

  return {
    address: account.address,
    async nonce() {
      if (next === null) await resync("start");
      return next as number;
    },
    resync,
    async prepare(req, baseFee) {
      if (next === null) await resync("start");
      const nonce = next as number;
      const fees = initialFees(baseFee, cfg.fees);
      const { raw, hash } = await sign(req, nonce, fees);
      return { request: { ...req }, nonce, fees, raw, hash };
    },
    async broadcast(req, baseFee, beforeBroadcast, prepared) {
      if (next === null) await resync("start");
      for (let attempt = 0; ; attempt++) {
        const nonce = next as number;
        const fees = initialFees(baseFee, cfg.fees);
        const pre = attempt === 0 ? (prepared ?? null) : null;
        const { raw, hash } =
          pre !== null && pre.nonce === nonce && sameFees(pre.fees, fees) && sameRequest(pre.request, req)
            ? pre
            : await sign(req, nonce, fees);
        beforeBroadcast?.(hash, nonce);
        try {
          await sendRaw(raw, hash);
          next = nonce + 1;
          return { nonce, hashes: [hash], fees, request: req, lastBroadcastAt: Date.now() };
        } catch (e) {
          const kind = e instanceof SendError ? e.kind : classifyError(e);
          if ((kind === "nonce" || kind === "underpriced") && attempt < 2) {
            await resync(`${kind} on nonce ${nonce}`);
            continue;
          }
          // Unknown outcome (transient exhausted): the next send must not reuse the nonce blindly.
          if (kind === "transient") next = null;
          throw e;
        }
      }
    },
    async waitMined(tx, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let failures = 0;
      while (Date.now() < deadline) {
        try {
          const receipts = await Promise.all(tx.hashes.map((h) => receiptOf(h)));
          failures = 0;
          const i = receipts.findIndex((r) => r !== null);
          if (i >= 0) return { receipt: receipts[i] as TransactionReceipt, hash: tx.hashes[i] as Hex };
          if (Date.now() - tx.lastBroadcastAt >= cfg.replaceAfterMs) {
            const block = await client.getBlock({ blockTag: "latest" });
            const fees = bumpFees(tx.fees, block.baseFeePerGas ?? 0n, cfg.fees);
            if (fees !== null) {
              const { raw, hash } = await sign(tx.request, tx.nonce, fees);
              try {
                await sendRaw(raw, hash);
                events.onReplace?.(tx.nonce, tx.hashes[tx.hashes.length - 1] as Hex, hash, fees);
                tx.hashes.push(hash);
                tx.fees = fees;
              } catch (e) {
                // The original may have been mined in between (nonce too low): the next poll sees it.
                if (!(e instanceof SendError) || (e.kind !== "nonce" && e.kind !== "underpriced")) throw e;
              }
            }
            tx.lastBroadcastAt = Date.now();
          }
        } catch (e) {
          if (classifyError(e) !== "transient") throw e;
          failures++;
          const delay = Math.min(retry.maxMs, retry.initialMs * Math.pow(retry.factor, failures - 1));
          events.onRetry?.("receipt", e, failures, delay);
          await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
          continue;
        }
        await sleep(cfg.pollMs);
      }
      return null;
    },
  };
}
