import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { getAddress, keccak256, stringToBytes, type Address, type Hex } from "viem";
import { inputsHash, parseCanonical } from "../canonical/index.ts";
import { LegKind, type Leg } from "../plan/types.ts";
import {
  JournalError,
  openJournal,
  reconcile,
  type ChainView,
  type IntentInput,
  type Journal,
} from "./index.ts";

const VAULT = getAddress("0x00000000000000000000000000000000000000aa");
const OTHER = getAddress("0x00000000000000000000000000000000000000bb");
const txh = (s: string): Hex => keccak256(stringToBytes(s));
const legs: Leg[] = [
  {
    kind: LegKind.Perp,
    adapter: OTHER,
    underlying: VAULT,
    id: 0n,
    amount: -350n * 10n ** 18n,
    bound: 2_990n * 10n ** 18n,
  },
];
const input = (epoch: bigint, over: Partial<IntentInput> = {}): IntentInput => ({
  chainId: 31337,
  vault: VAULT,
  epoch,
  snapshot: { epoch, spot: { ETH: 3000.5 }, exposure: { net: 700, target: 0 }, t: 1748779200000 },
  legs,
  decision: { action: "hedge", reasons: ["net 700.0 ETH vs target 0 outside band 20.0"] },
  deadline: 1_748_779_500n,
  ...over,
});

/**
 * A deterministic in-memory vault + chain: transactions wait in a mempool until `mine()`, and a
 * rebalance succeeds only for the vault's current epoch (which then increments), like TreasuryVault.
 */
function fakeChain() {
  let epoch = 0n;
  let block = 100n;
  const mempool: { hash: Hex; epoch: bigint; inputsHash: Hex }[] = [];
  const receipts = new Map<Hex, { status: "success" | "reverted"; blockNumber: bigint }>();
  const events = new Map<bigint, { txHash: Hex; inputsHash: Hex }>();
  const view: ChainView = {
    currentEpoch: async () => epoch,
    receipt: async (h) => receipts.get(h) ?? null,
    rebalanceEventFor: async (e) => events.get(e) ?? null,
  };
  return {
    view,
    events,
    broadcast(hash: Hex, e: bigint, ih: Hex) {
      mempool.push({ hash, epoch: e, inputsHash: ih });
    },
    mine() {
      block += 1n;
      for (const tx of mempool.splice(0)) {
        if (tx.epoch === epoch) {
          events.set(epoch, { txHash: tx.hash, inputsHash: tx.inputsHash });
          epoch += 1n;
          receipts.set(tx.hash, { status: "success", blockNumber: block });
        } else {
          receipts.set(tx.hash, { status: "reverted", blockNumber: block });
        }
      }
    },
    /** Successful rebalances per epoch. */
    hedges: () => events.size,
    get epoch() {
      return epoch;
    },
  };
}

let dir: string;
let path: string;
let j: Journal;
let clock = 1_000;
/** Handles left open by simulated crashes, closed after the test. */
const crashed: Journal[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "journal-"));
  path = join(dir, "keeper.db");
  j = openJournal(path, { now: () => ++clock });
});
afterEach(() => {
  for (const h of [...crashed.splice(0), j]) {
    try {
      h.close();
    } catch {
      // already closed
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("journal: storage", () => {
  it("runs in WAL mode with synchronous=FULL", () => {
    expect(j.settings()).toEqual({ journalMode: "wal", synchronous: 2 });
    j.recordIntent(input(0n));
    expect(existsSync(`${path}-wal`)).toBe(true);
  });

  it("records the canonical snapshot and its hash (the on-chain inputsHash), legs and decision", () => {
    const i = input(3n);
    const row = j.recordIntent(i);
    expect(row).toMatchObject({
      chainId: 31337,
      vault: VAULT,
      epoch: 3n,
      status: "intent",
      txHash: null,
      deadline: 1_748_779_500n,
    });
    expect(row.inputsHash).toBe(inputsHash(i.snapshot));
    expect(inputsHash(parseCanonical(row.snapshotJson))).toBe(row.inputsHash);
    expect(parseCanonical(row.legsJson)).toEqual(legs);
    expect(parseCanonical(row.decisionJson)).toEqual(i.decision);
    expect(j.byInputsHash(row.inputsHash).map((r) => r.id)).toEqual([row.id]);
    expect(j.byInputsHash(row.inputsHash.toUpperCase().replace("0X", "0x") as Hex)).toHaveLength(1);
  });

  it("survives close and reopen", () => {
    const row = j.recordIntent(input(1n));
    j.markSent(row.id, txh("a"), 7);
    j.close();
    j = openJournal(path);
    expect(j.get(row.id)).toMatchObject({ status: "sent", txHash: txh("a"), nonce: 7, epoch: 1n });
  });

  it("refuses a second live intent for the same epoch until the first is terminal, never after confirmed", () => {
    const a = j.recordIntent(input(5n));
    expect(() => j.recordIntent(input(5n))).toThrow(
      /epoch 5 of 0x0+AA on chain 31337 already has intent #\d+ \(intent\)/,
    );
    j.markSent(a.id, txh("a"), 1);
    expect(() => j.recordIntent(input(5n))).toThrow(JournalError);
    // other epochs, vaults and chains are independent
    j.recordIntent(input(6n));
    j.recordIntent(input(5n, { vault: OTHER }));
    j.recordIntent(input(5n, { chainId: 1 }));
    j.markFailed(a.id, "reverted");
    const b = j.recordIntent(input(5n));
    j.markLostRace(b.id);
    const c = j.recordIntent(input(5n));
    j.markAbandoned(c.id, "test");
    const d = j.recordIntent(input(5n));
    j.markSent(d.id, txh("d"), 2);
    j.markConfirmed(d.id, { blockNumber: 9n });
    let err: unknown;
    try {
      j.recordIntent(input(5n));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JournalError);
    expect((err as JournalError).code).toBe("conflict");
    expect((err as JournalError).message).toContain("(confirmed)");
  });

  it("enforces uniqueness in the database itself (partial unique index)", () => {
    expect(j.recordIntent(input(8n, { vault: VAULT.toLowerCase() as Address })).vault).toBe(VAULT);
    const raw = new DatabaseSync(path);
    const dup = () =>
      raw
        .prepare(
          `INSERT INTO intents (created_at, chain_id, vault, epoch, inputs_hash, snapshot_json, legs_json, decision_json, status, updated_at)
           VALUES (1, 31337, ?, 8, '0x00', '{}', '[]', '{}', ?, 1)`,
        )
        .run(VAULT, "sent");
    expect(dup).toThrow(/UNIQUE constraint failed/);
    // a terminal duplicate is fine
    raw
      .prepare(
        `INSERT INTO intents (created_at, chain_id, vault, epoch, inputs_hash, snapshot_json, legs_json, decision_json, status, updated_at)
       VALUES (1, 31337, ?, 8, '0x00', '{}', '[]', '{}', 'failed', 1)`,
      )
      .run(VAULT);
    expect(() =>
      raw
        .prepare(
          `INSERT INTO intents (created_at, chain_id, vault, epoch, inputs_hash, snapshot_json, legs_json, decision_json, status, updated_at)
         VALUES (1, 31337, ?, 9, '0x00', '{}', '[]', '{}', 'bogus', 1)`,
        )
        .run(VAULT),
    ).toThrow(/CHECK constraint failed/);
    raw.close();
  });

  it("allows only the documented status transitions", () => {
    const a = j.recordIntent(input(1n));
    expect(() => j.markConfirmed(a.id, { blockNumber: 1n }, { late: true })).toThrow(
      /is intent: cannot become confirmed/,
    );
    j.markSent(a.id, txh("a"), 0);
    expect(() => j.markSent(a.id, txh("b"), 1)).toThrow(/is sent: cannot become sent/);
    expect(() => j.markAbandoned(a.id, "x")).toThrow(/cannot become abandoned/);
    j.markConfirmed(a.id, { blockNumber: 42n });
    expect(j.get(a.id)).toMatchObject({ status: "confirmed", blockNumber: 42n, txHash: txh("a") });
    for (const f of [
      () => j.markFailed(a.id, "x"),
      () => j.markLostRace(a.id),
      () => j.markSent(a.id, txh("c"), 2),
    ]) {
      expect(f).toThrow(/is confirmed/);
    }
    expect(() => j.markSent(999, txh("z"), 0)).toThrow(/intent #999 not found/);
  });

  it("rejects invalid inputs", () => {
    const a = j.recordIntent(input(1n));
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as JournalError).code;
      }
      return "none";
    };
    expect(code(() => j.markSent(a.id, "0x1234", 0))).toBe("invalid");
    expect(code(() => j.markSent(a.id, txh("a"), -1))).toBe("invalid");
    expect(code(() => j.recordIntent(input(2n, { vault: "0x1234" as Address })))).toBe("invalid");
    expect(code(() => j.recordIntent(input(2n, { chainId: 0 })))).toBe("invalid");
    expect(code(() => j.recordIntent(input(-1n)))).toBe("invalid");
    expect(code(() => j.recordIntent(input(1n << 63n)))).toBe("invalid");
    expect(code(() => j.list({ limit: 0 }))).toBe("invalid");
    expect(() => j.recordIntent(input(2n, { snapshot: { x: Number.NaN } }))).toThrow(/non-finite/);
    expect(j.list()).toHaveLength(1); // nothing half-written
  });

  it("lists by status, newest first, and pending oldest first", () => {
    const a = j.recordIntent(input(1n));
    const b = j.recordIntent(input(2n));
    const c = j.recordIntent(input(3n));
    j.markSent(b.id, txh("b"), 0);
    j.markAbandoned(c.id, "x");
    expect(j.pending().map((r) => r.id)).toEqual([a.id, b.id]);
    expect(j.list().map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect(j.list({ limit: 2 }).map((r) => r.id)).toEqual([c.id, b.id]);
    expect(j.list({ status: "abandoned" }).map((r) => r.id)).toEqual([c.id]);
    expect(j.get(c.id)?.error).toBe("x");
  });
});

describe("reconcile", () => {
  /** Crash: the process dies with the database open (never closed); a new process opens the file again. */
  const crashAndRestart = () => {
    crashed.push(j);
    j = openJournal(j.path, { now: () => ++clock });
  };

  it("crash before sending: the intent is abandoned (not resent) and the keeper can re-plan the epoch", async () => {
    const chain = fakeChain();
    const a = j.recordIntent(input(0n));
    crashAndRestart();
    const out = await reconcile(j, chain.view);
    expect(out).toEqual([expect.objectContaining({ id: a.id, from: "intent", to: "abandoned" })]);
    expect(j.get(a.id)?.status).toBe("abandoned");
    expect(j.pending()).toEqual([]);
    expect(chain.hedges()).toBe(0);
    expect(j.recordIntent(input(0n)).status).toBe("intent");
  });

  it("crash after broadcast, before journalling the send: confirmed from the epoch's event, no second hedge", async () => {
    const chain = fakeChain();
    const a = j.recordIntent(input(0n));
    chain.broadcast(txh("a"), 0n, a.inputsHash);
    chain.mine();
    crashAndRestart();
    const out = await reconcile(j, chain.view);
    expect(out).toEqual([expect.objectContaining({ id: a.id, from: "intent", to: "confirmed" })]);
    expect(j.get(a.id)).toMatchObject({ status: "confirmed", txHash: txh("a"), blockNumber: 101n });
    expect(() => j.recordIntent(input(0n))).toThrow(/confirmed/);
    expect(chain.hedges()).toBe(1);
  });

  it("a sent intent is settled by its receipt: success → confirmed, revert → failed", async () => {
    const chain = fakeChain();
    const a = j.recordIntent(input(0n));
    chain.broadcast(txh("a"), 0n, a.inputsHash);
    j.markSent(a.id, txh("a"), 0);
    const b = j.recordIntent(input(5n, { vault: VAULT, chainId: 31337, snapshot: { other: 1 } }));
    chain.broadcast(txh("b"), 5n, b.inputsHash); // wrong epoch: reverts
    j.markSent(b.id, txh("b"), 1);
    chain.mine();
    crashAndRestart();
    const out = await reconcile(j, chain.view);
    expect(out.map((o) => [o.id, o.to])).toEqual([
      [a.id, "confirmed"],
      [b.id, "failed"],
    ]);
    expect(j.get(a.id)).toMatchObject({ blockNumber: 101n });
    expect(j.get(b.id)).toMatchObject({ blockNumber: 101n, error: `tx ${txh("b")} reverted in block 101` });
  });

  it("a sent intent not mined yet at the current epoch stays sent", async () => {
    const chain = fakeChain();
    const a = j.recordIntent(input(0n));
    j.markSent(a.id, txh("a"), 0);
    chain.broadcast(txh("a"), 0n, a.inputsHash);
    const out = await reconcile(j, chain.view);
    expect(out).toEqual([expect.objectContaining({ id: a.id, from: "sent", to: "sent" })]);
    expect(j.get(a.id)?.status).toBe("sent");
  });

  it("another keeper used the epoch: lost-race, whether or not we had sent", async () => {
    const chain = fakeChain();
    const rival = txh("rival");
    chain.broadcast(rival, 0n, txh("their inputs"));
    const a = j.recordIntent(input(0n));
    j.markSent(a.id, txh("a"), 0); // our tx was dropped from the mempool (never mined)
    chain.mine();
    const b = j.recordIntent(input(1n, { vault: OTHER })); // different vault: out of scope
    const out = await reconcile(j, chain.view, { chainId: 31337, vault: VAULT.toLowerCase() });
    expect(out).toEqual([expect.objectContaining({ id: a.id, to: "lost-race" })]);
    expect(j.get(a.id)?.error).toBe(
      `epoch 0 rebalanced by tx ${rival} with inputsHash ${txh("their inputs")}`,
    );
    expect(j.get(b.id)?.status).toBe("intent");
  });

  it("an epoch passed with no event found is a lost race (never resent)", async () => {
    const chain = fakeChain();
    chain.broadcast(txh("x"), 0n, txh("x"));
    chain.mine();
    chain.events.clear(); // e.g. the log provider pruned it
    const a = j.recordIntent(input(0n));
    const out = await reconcile(j, chain.view);
    expect(out[0]).toMatchObject({
      id: a.id,
      to: "lost-race",
      reason: "epoch 0 passed (chain at 1) with no Rebalanced event found",
    });
  });

  it("an intent ahead of the chain's epoch is left alone and reported", async () => {
    const chain = fakeChain();
    const a = j.recordIntent(input(4n));
    const out = await reconcile(j, chain.view);
    expect(out[0]).toMatchObject({ id: a.id, from: "intent", to: "intent" });
    expect(out[0]!.reason).toMatch(/ahead of the chain's 0/);
    expect(j.get(a.id)?.status).toBe("intent");
  });

  it("abandoned intent whose transaction lands after all: re-planned one reverts, the old one is adopted (late)", async () => {
    const chain = fakeChain();
    const a = j.recordIntent(input(0n));
    chain.broadcast(txh("a"), 0n, a.inputsHash); // broadcast, then crash before markSent
    crashAndRestart();
    await reconcile(j, chain.view); // epoch still current → abandoned
    expect(j.get(a.id)?.status).toBe("abandoned");
    // the keeper re-plans epoch 0 from fresh data and sends
    const b = j.recordIntent(input(0n, { snapshot: { replanned: true } }));
    chain.broadcast(txh("b"), 0n, b.inputsHash);
    j.markSent(b.id, txh("b"), 1);
    chain.mine(); // a lands first; b reverts on the epoch
    const out = await reconcile(j, chain.view);
    expect(out.map((o) => [o.id, o.from, o.to])).toEqual([
      [b.id, "sent", "failed"],
      [a.id, "abandoned", "confirmed"],
    ]);
    expect(j.get(a.id)).toMatchObject({ status: "confirmed", txHash: txh("a"), blockNumber: 101n });
    expect(chain.hedges()).toBe(1);
    // idempotent: nothing more to do
    expect(await reconcile(j, chain.view)).toEqual([]);
  });

  it("never hedges twice whatever step the keeper crashes at (crash-loop simulation)", async () => {
    // keeper step: reconcile, plan for the chain's epoch if nothing is pending, record, broadcast, journal the send
    const steps = ["record", "broadcast", "markSent", "mine", "done"] as const;
    for (const crashAt of steps) {
      crashed.push(j);
      j = openJournal(join(dir, `loop-${crashAt}.db`), { now: () => ++clock });
      const chain = fakeChain();
      const run = async (crash: (typeof steps)[number] | null, tag: string) => {
        await reconcile(j, chain.view);
        if (j.pending().length > 0) return;
        const epoch = await chain.view.currentEpoch();
        if (epoch > 0n) return; // epoch 0 hedged: nothing more to do in this scenario
        const row = j.recordIntent(input(epoch, { snapshot: { tag } }));
        if (crash === "record") return;
        const hash = txh(`${tag}-${epoch}`);
        chain.broadcast(hash, epoch, row.inputsHash);
        if (crash === "broadcast") return;
        j.markSent(row.id, hash, 0);
        if (crash === "markSent") return;
        chain.mine();
        if (crash === "mine") return;
        await reconcile(j, chain.view);
      };
      await run(crashAt, "first");
      crashAndRestart();
      await run(null, "second");
      chain.mine();
      crashAndRestart();
      await run(null, "third");
      chain.mine();
      await reconcile(j, chain.view);
      expect(chain.hedges(), `crash at ${crashAt}`).toBe(1);
      expect(chain.epoch).toBe(1n);
      const confirmed = j.list({ status: "confirmed" });
      expect(confirmed, `crash at ${crashAt}`).toHaveLength(1);
      expect(confirmed[0]!.inputsHash).toBe(chain.events.get(0n)!.inputsHash);
      expect(j.pending()).toEqual([]);
    }
  });
});
