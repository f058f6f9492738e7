/**
 * The keeper's journal: every rebalance intent with its full input snapshot, recorded durably
 * BEFORE the transaction is sent, then its send, receipt and outcome. Node's built-in SQLite
 * (`node:sqlite`) in WAL mode with `synchronous=FULL`, so a recorded intent survives a crash or a
 * power cut the moment `recordIntent` returns.
 *
 * One row per intent. `inputs_hash` = keccak256 of the canonical snapshot (`snapshot_json`), the
 * `inputsHash` sent on-chain, so an auditor matches each `Rebalanced` event to its data.
 *
 * Statuses: intent → sent → confirmed | failed; intent | sent → lost-race (another bundle used the
 * epoch); intent → abandoned (no transaction was recorded; the keeper re-plans). At most one intent
 * per (chain, vault, epoch) may be `intent`, `sent` or `confirmed` at a time (a partial unique
 * index): a second intent for an epoch is refused until the first is terminal, and never once the
 * epoch is confirmed (the vault has moved past it). An abandoned intent whose transaction turns out
 * to have been mined is later set to confirmed by `reconcile` (see reconcile.ts).
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { getAddress, isHex, keccak256, stringToBytes, type Address, type Hex } from "viem";
import { z } from "zod";
import { canonicalize } from "../canonical/index.ts";
import type { Leg } from "../plan/types.ts";

export const INTENT_STATUSES = ["intent", "sent", "confirmed", "failed", "lost-race", "abandoned"] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];
export const LIVE_STATUSES: readonly IntentStatus[] = ["intent", "sent"];

export type IntentRow = {
  id: number;
  createdAt: number;
  chainId: number;
  vault: Address;
  epoch: bigint;
  inputsHash: Hex;
  snapshotJson: string;
  legsJson: string;
  decisionJson: string;
  deadline: bigint | null;
  status: IntentStatus;
  txHash: Hex | null;
  nonce: number | null;
  blockNumber: bigint | null;
  error: string | null;
  updatedAt: number;
};

export type IntentInput = {
  chainId: number;
  vault: Address;
  epoch: bigint;
  /** The full input snapshot; stored canonically, its hash is the on-chain inputsHash. */
  snapshot: unknown;
  legs: readonly Leg[];
  /** The decision and plan rationale (anything canonically encodable). */
  decision: unknown;
  /** The bundle's deadline (unix seconds). */
  deadline?: bigint;
};

export type JournalErrorCode = "conflict" | "transition" | "notFound" | "invalid";

/** A refused journal operation; `code` says which kind. */
export class JournalError extends Error {
  readonly code: JournalErrorCode;
  constructor(code: JournalErrorCode, message: string) {
    super(message);
    this.name = "JournalError";
    this.code = code;
  }
}

export type Journal = {
  readonly path: string;
  /** Records an intent before sending (computes the inputsHash); refuses a second live intent for the epoch. */
  recordIntent(input: IntentInput): IntentRow;
  markSent(id: number, txHash: Hex, nonce: number): IntentRow;
  /** intent | sent (or abandoned, `late`) → confirmed. `txHash` replaces the recorded one when given. */
  markConfirmed(
    id: number,
    receipt: { blockNumber: bigint | null; txHash?: Hex },
    opts?: { late?: boolean },
  ): IntentRow;
  markFailed(id: number, reason: string, blockNumber?: bigint | null): IntentRow;
  markLostRace(id: number, reason?: string): IntentRow;
  markAbandoned(id: number, reason: string): IntentRow;
  get(id: number): IntentRow | undefined;
  /** Intents in "intent" or "sent", oldest first. */
  pending(): IntentRow[];
  byInputsHash(hash: Hex): IntentRow[];
  /** Newest first. */
  list(opts?: { limit?: number; status?: IntentStatus }): IntentRow[];
  /** The connection's durability settings: journal mode ("wal") and synchronous level (2 = FULL). */
  settings(): { journalMode: string; synchronous: number };
  close(): void;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS intents (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at    INTEGER NOT NULL,
  chain_id      INTEGER NOT NULL,
  vault         TEXT    NOT NULL,
  epoch         INTEGER NOT NULL CHECK (epoch >= 0),
  inputs_hash   TEXT    NOT NULL,
  snapshot_json TEXT    NOT NULL,
  legs_json     TEXT    NOT NULL,
  decision_json TEXT    NOT NULL,
  deadline      INTEGER,
  status        TEXT    NOT NULL CHECK (status IN ('intent','sent','confirmed','failed','lost-race','abandoned')),
  tx_hash       TEXT,
  nonce         INTEGER,
  block_number  INTEGER,
  error         TEXT,
  updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS intents_one_live_per_epoch
  ON intents (chain_id, vault, epoch) WHERE status IN ('intent','sent','confirmed');
CREATE INDEX IF NOT EXISTS intents_by_hash ON intents (inputs_hash);
CREATE INDEX IF NOT EXISTS intents_by_status ON intents (status, id);
`;

const big = z.union([z.bigint(), z.number()]).transform((v) => BigInt(v));
const num = z.union([z.bigint(), z.number()]).transform((v) => Number(v));
const hex = z.string().refine((s) => isHex(s), "not hex") as unknown as z.ZodType<Hex>;
const RowSchema = z.object({
  id: num,
  created_at: num,
  chain_id: num,
  vault: z.string().transform((s) => getAddress(s)),
  epoch: big,
  inputs_hash: hex,
  snapshot_json: z.string(),
  legs_json: z.string(),
  decision_json: z.string(),
  deadline: big.nullable(),
  status: z.enum(INTENT_STATUSES),
  tx_hash: hex.nullable(),
  nonce: num.nullable(),
  block_number: big.nullable(),
  error: z.string().nullable(),
  updated_at: num,
});

function toRow(raw: unknown): IntentRow {
  const r = RowSchema.parse(raw);
  return {
    id: r.id,
    createdAt: r.created_at,
    chainId: r.chain_id,
    vault: r.vault,
    epoch: r.epoch,
    inputsHash: r.inputs_hash,
    snapshotJson: r.snapshot_json,
    legsJson: r.legs_json,
    decisionJson: r.decision_json,
    deadline: r.deadline,
    status: r.status,
    txHash: r.tx_hash,
    nonce: r.nonce,
    blockNumber: r.block_number,
    error: r.error,
    updatedAt: r.updated_at,
  };
}

const INT64_MAX = (1n << 63n) - 1n;
const isTxHash = (h: string): h is Hex => /^0x[0-9a-fA-F]{64}$/.test(h);

/** Opens (creating if needed) the journal at `path` (":memory:" for tests). */
export function openJournal(path: string, opts: { now?: () => number } = {}): Journal {
  const now = opts.now ?? Date.now;
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec(SCHEMA);

  const q = (sql: string) => {
    const st = db.prepare(sql);
    st.setReadBigInts(true);
    return st;
  };
  const selectById = q("SELECT * FROM intents WHERE id = ?");
  const selectLiveForEpoch = q(
    "SELECT id, status FROM intents WHERE chain_id = ? AND vault = ? AND epoch = ? AND status IN ('intent','sent','confirmed')",
  );
  const insert = q(`INSERT INTO intents
    (created_at, chain_id, vault, epoch, inputs_hash, snapshot_json, legs_json, decision_json, deadline, status, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'intent', ?)`);

  const get = (id: number): IntentRow | undefined => {
    const raw = selectById.get(id);
    return raw === undefined ? undefined : toRow(raw);
  };

  const inTx = <T>(fn: () => T): T => {
    db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      db.exec("COMMIT");
      return out;
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  };

  /** Moves `id` from one of `from` to `to`, setting `fields`; atomically. */
  const transition = (
    id: number,
    from: readonly IntentStatus[],
    to: IntentStatus,
    fields: Record<string, SQLInputValue> = {},
  ): IntentRow =>
    inTx(() => {
      const cur = get(id);
      if (cur === undefined) throw new JournalError("notFound", `intent #${id} not found`);
      if (!from.includes(cur.status)) {
        throw new JournalError(
          "transition",
          `intent #${id} is ${cur.status}: cannot become ${to} (only from ${from.join(", ")})`,
        );
      }
      const cols = Object.keys(fields);
      const set = ["status = ?", "updated_at = ?", ...cols.map((c) => `${c} = ?`)].join(", ");
      db.prepare(`UPDATE intents SET ${set} WHERE id = ?`).run(
        to,
        now(),
        ...cols.map((c) => fields[c] as SQLInputValue),
        id,
      );
      return get(id) as IntentRow;
    });

  return {
    path,
    recordIntent(input) {
      if (!(Number.isSafeInteger(input.chainId) && input.chainId > 0)) {
        throw new JournalError("invalid", `chainId must be a positive integer: ${input.chainId}`);
      }
      let vault: Address;
      try {
        vault = getAddress(input.vault);
      } catch {
        throw new JournalError("invalid", `vault is not an address: ${input.vault}`);
      }
      if (input.epoch < 0n || input.epoch > INT64_MAX)
        throw new JournalError("invalid", `epoch out of range: ${input.epoch}`);
      const snapshotJson = canonicalize(input.snapshot);
      const hash = keccak256(stringToBytes(snapshotJson)); // = inputsHash(input.snapshot)
      const legsJson = canonicalize(input.legs);
      const decisionJson = canonicalize(input.decision);
      return inTx(() => {
        const live = selectLiveForEpoch.get(input.chainId, vault, input.epoch) as
          { id: bigint; status: string } | undefined;
        if (live !== undefined) {
          throw new JournalError(
            "conflict",
            `epoch ${input.epoch} of ${vault} on chain ${input.chainId} already has intent #${live.id} (${live.status})`,
          );
        }
        const t = now();
        const r = insert.run(
          t,
          input.chainId,
          vault,
          input.epoch,
          hash,
          snapshotJson,
          legsJson,
          decisionJson,
          input.deadline ?? null,
          t,
        );
        return get(Number(r.lastInsertRowid)) as IntentRow;
      });
    },
    markSent(id, txHash, nonce) {
      if (!isTxHash(txHash)) throw new JournalError("invalid", `not a transaction hash: ${txHash}`);
      if (!(Number.isSafeInteger(nonce) && nonce >= 0))
        throw new JournalError("invalid", `bad nonce: ${nonce}`);
      return transition(id, ["intent"], "sent", { tx_hash: txHash, nonce });
    },
    markConfirmed(id, receipt, opts = {}) {
      const fields: Record<string, SQLInputValue> = { block_number: receipt.blockNumber, error: null };
      if (receipt.txHash !== undefined) {
        if (!isTxHash(receipt.txHash))
          throw new JournalError("invalid", `not a transaction hash: ${receipt.txHash}`);
        fields.tx_hash = receipt.txHash;
      }
      const from: IntentStatus[] = opts.late === true ? ["abandoned"] : ["intent", "sent"];
      return transition(id, from, "confirmed", fields);
    },
    markFailed(id, reason, blockNumber = null) {
      return transition(id, LIVE_STATUSES, "failed", { error: reason, block_number: blockNumber });
    },
    markLostRace(id, reason = "another bundle used the epoch") {
      return transition(id, LIVE_STATUSES, "lost-race", { error: reason });
    },
    markAbandoned(id, reason) {
      return transition(id, ["intent"], "abandoned", { error: reason });
    },
    get,
    pending() {
      return q("SELECT * FROM intents WHERE status IN ('intent','sent') ORDER BY id").all().map(toRow);
    },
    byInputsHash(hash) {
      return q("SELECT * FROM intents WHERE inputs_hash = ? ORDER BY id").all(hash.toLowerCase()).map(toRow);
    },
    list(opts = {}) {
      const limit = opts.limit ?? 100;
      if (!(Number.isSafeInteger(limit) && limit > 0))
        throw new JournalError("invalid", `bad limit: ${limit}`);
      const rows =
        opts.status === undefined
          ? q("SELECT * FROM intents ORDER BY id DESC LIMIT ?").all(limit)
          : q("SELECT * FROM intents WHERE status = ? ORDER BY id DESC LIMIT ?").all(opts.status, limit);
      return rows.map(toRow);
    },
    settings() {
      const mode = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
      const sync = db.prepare("PRAGMA synchronous").get() as { synchronous: number };
      return { journalMode: mode.journal_mode, synchronous: Number(sync.synchronous) };
    },
    close() {
      db.close();
    },
  };
}
