import { describe, expect, it } from "vitest";
import {
  createPublicClient,
  custom,
  encodeErrorResult,
  HttpRequestError,
  keccak256,
  parseTransaction,
  TimeoutError,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { loadAbis } from "../chain/abis.ts";
import { classifyError, decodeRevert, errorAbi, revertData } from "../chain/errors.ts";
import type { Client } from "../chain/multicall.ts";
import { LegKind } from "../plan/types.ts";
import {
  bump,
  bumpFees,
  createGasCache,
  createSender,
  gasShape,
  initialFees,
  retryDelay,
  withRetry,
  type FeeConfig,
} from "./index.ts";

const gwei = 10n ** 9n;
const cfg: FeeConfig = {
  priorityFee: 2n * gwei,
  maxPriorityFeeCap: 5n * gwei,
  maxFeeCap: 100n * gwei,
  baseFeeMultiplier: 2,
  bumpPct: 12.5,
};

describe("execute: fees", () => {
  it("initial fees: 2 × base fee + priority, within the caps", () => {
    expect(initialFees(10n * gwei, cfg)).toEqual({
      maxFeePerGas: 22n * gwei,
      maxPriorityFeePerGas: 2n * gwei,
    });
    expect(initialFees(80n * gwei, cfg)).toEqual({
      maxFeePerGas: 100n * gwei,
      maxPriorityFeePerGas: 2n * gwei,
    });
    expect(initialFees(0n, { ...cfg, priorityFee: 9n * gwei })).toEqual({
      maxFeePerGas: 5n * gwei,
      maxPriorityFeePerGas: 5n * gwei,
    });
  });

  it("bump raises by at least 12.5% (rounded up, + 1 wei)", () => {
    expect(bump(1_000n, 12.5)).toBe(1_126n);
    expect(bump(8n, 12.5)).toBe(10n);
    const prev = initialFees(10n * gwei, cfg);
    const next = bumpFees(prev, 10n * gwei, cfg);
    expect(next).not.toBeNull();
    expect((next?.maxFeePerGas ?? 0n) * 1000n).toBeGreaterThanOrEqual(prev.maxFeePerGas * 1125n);
    expect((next?.maxPriorityFeePerGas ?? 0n) * 1000n).toBeGreaterThanOrEqual(
      prev.maxPriorityFeePerGas * 1125n,
    );
    // a higher base fee since: the replacement follows it
    const up = bumpFees(prev, 30n * gwei, cfg);
    expect(up?.maxFeePerGas).toBeGreaterThanOrEqual(60n * gwei);
  });

  it("no valid replacement within the caps → null (keep waiting)", () => {
    expect(
      bumpFees({ maxFeePerGas: 95n * gwei, maxPriorityFeePerGas: 2n * gwei }, 10n * gwei, cfg),
    ).toBeNull();
    expect(
      bumpFees({ maxFeePerGas: 20n * gwei, maxPriorityFeePerGas: 5n * gwei }, 1n * gwei, cfg),
    ).toBeNull();
  });
});

describe("execute: retries and error classes", () => {
  const fetchFailed = () =>
    new HttpRequestError({
      url: "http://x",
      details: "fetch failed",
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    });
  it("classifies transient RPC failures, reverts, nonce and fee problems", () => {
    expect(classifyError(fetchFailed())).toBe("transient");
    expect(classifyError(new HttpRequestError({ url: "http://x", status: 503 }))).toBe("transient");
    expect(
      classifyError(new HttpRequestError({ url: "http://x", status: 400, details: "bad request" })),
    ).toBe("other");
    expect(classifyError(new TimeoutError({ body: {}, url: "http://x" }))).toBe("transient");
    expect(classifyError(new Error("execution reverted: custom error 0x1234"))).toBe("revert");
    expect(classifyError(new Error("Nonce too low. Expected nonce to be 5 but got 4."))).toBe("nonce");
    expect(classifyError(new Error("replacement transaction underpriced"))).toBe("underpriced");
    expect(classifyError(new Error("already known"))).toBe("known");
  });

  it("withRetry retries transient failures with exponential backoff, never reverts", async () => {
    const policy = { maxAttempts: 4, initialMs: 1, maxMs: 4, factor: 2 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(policy, a))).toEqual([1, 2, 4, 4, 4]);
    let n = 0;
    const delays: number[] = [];
    const v = await withRetry(
      async () => {
        if (++n < 3) throw fetchFailed();
        return "ok";
      },
      policy,
      { onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(v).toBe("ok");
    expect(n).toBe(3);
    expect(delays).toEqual([1, 2]);
    let m = 0;
    await expect(
      withRetry(async () => {
        m++;
        throw new Error("execution reverted");
      }, policy),
    ).rejects.toThrow(/reverted/);
    expect(m).toBe(1);
    let k = 0;
    await expect(
      withRetry(async () => {
        k++;
        throw fetchFailed();
      }, policy),
    ).rejects.toThrow();
    expect(k).toBe(4);
  });

  it("decodes WrongEpoch (vault) and MarketPaused (venue, bubbled through the vault) by name", () => {
    const abis = loadAbis();
    const errs = errorAbi(abis);
    const wrong = encodeErrorResult({ abi: abis.vault, errorName: "WrongEpoch", args: [5n, 4n] });
    expect(decodeRevert(errs, wrong)).toEqual({
      name: "WrongEpoch",
      args: [5n, 4n],
      text: "WrongEpoch(5, 4)",
    });
    const paused = encodeErrorResult({
      abi: abis.perpDex,
      errorName: "MarketPaused",
      args: ["0x00000000000000000000000000000000000000e1"],
    });
    expect(decodeRevert(errs, paused)?.name).toBe("MarketPaused");
    expect(decodeRevert(errs, "0xdeadbeef")?.name).toBe("Unknown");
    expect(decodeRevert(errs, null)).toBeNull();
    const wrapped = Object.assign(new Error("outer"), {
      cause: Object.assign(new Error("inner"), { data: wrong }),
    });
    expect(revertData(wrapped)).toBe(wrong);
  });
});

describe("execute: gas cache", () => {
  it("learns max gasUsed × 1.5 per bundle shape; drop forgets it", () => {
    const c = createGasCache();
    const shape = gasShape(
      [
        {
          kind: LegKind.Perp,
          adapter: "0x00000000000000000000000000000000000000ad",
          underlying: "0x00000000000000000000000000000000000000e1",
          id: 0n,
          amount: 1n,
          bound: 0n,
        },
      ],
      1,
    );
    expect(shape).toBe("1|1");
    expect(c.get(shape)).toBeUndefined();
    c.observe(shape, 200_000n);
    c.observe(shape, 100_000n);
    expect(c.get(shape)).toBe(300_000n);
    c.drop(shape);
    expect(c.get(shape)).toBeUndefined();
  });
});

describe("execute: pre-signed transactions", () => {
  const key = privateKeyToAccount(`0x${"11".repeat(32)}`);
  let signatures = 0;
  const account = {
    ...key,
    signTransaction: ((...a: Parameters<typeof key.signTransaction>) => {
      signatures++;
      return key.signTransaction(...a);
    }) as typeof key.signTransaction,
  };
  const senderCfg = {
    fees: cfg,
    retry: { maxAttempts: 1, initialMs: 1, maxMs: 1, factor: 2 },
    replaceAfterMs: 60_000,
    pollMs: 10,
  };
  /** A client whose node has pending nonce `chainNonce` and accepts every raw transaction. */
  function fakeNode(chainNonce: number) {
    const sent: Hex[] = [];
    const calls: string[] = [];
    const client = createPublicClient({
      transport: custom({
        request: async ({ method, params }: { method: string; params?: unknown }) => {
          calls.push(method);
          if (method === "eth_getTransactionCount") return `0x${chainNonce.toString(16)}`;
          if (method === "eth_sendRawTransaction") {
            const raw = (params as [Hex])[0];
            sent.push(raw);
            return keccak256(raw);
          }
          throw new Error(`unexpected ${method}`);
        },
      }),
    }) as Client;
    return { client, sent, calls };
  }
  const req = { to: `0x${"22".repeat(20)}` as Hex, data: "0xabcdef" as Hex, gas: 500_000n };

  it("prepare signs at the next nonce without sending or taking it; broadcast sends exactly those bytes", async () => {
    const node = fakeNode(7);
    const sender = createSender(node.client, account, 31337, senderCfg);
    signatures = 0;
    const p1 = await sender.prepare(req, 10n * gwei);
    const p2 = await sender.prepare(req, 10n * gwei);
    expect(signatures).toBe(2);
    expect(p1.nonce).toBe(7);
    expect(p2.nonce).toBe(7); // the counter did not move
    expect(node.sent).toEqual([]);
    expect(p1.fees).toEqual(initialFees(10n * gwei, cfg));
    expect(parseTransaction(p1.raw)).toMatchObject({ nonce: 7, gas: req.gas, to: req.to, chainId: 31337 });
    const sent = await sender.broadcast(req, 10n * gwei, undefined, p1);
    expect(signatures).toBe(2); // not signed again
    expect(node.sent).toEqual([p1.raw]);
    expect(sent).toMatchObject({ nonce: 7, hashes: [p1.hash] });
    expect(await sender.nonce()).toBe(8);
  });

  it("a pre-signature that no longer matches (nonce moved, other gas or fees) is not used", async () => {
    const node = fakeNode(3);
    const sender = createSender(node.client, account, 31337, senderCfg);
    const stale = await sender.prepare(req, 10n * gwei);
    await sender.broadcast({ ...req, data: "0x01" }, 10n * gwei); // takes nonce 3
    signatures = 0;
    const a = await sender.broadcast(req, 10n * gwei, undefined, stale);
    expect(signatures).toBe(1); // signed afresh
    expect(a.nonce).toBe(4);
    expect(a.hashes[0]).not.toBe(stale.hash);
    expect(parseTransaction(node.sent[1] as Hex).nonce).toBe(4);

    const p = await sender.prepare(req, 10n * gwei);
    const otherGas = await sender.broadcast({ ...req, gas: req.gas + 1n }, 10n * gwei, undefined, p);
    expect(otherGas.hashes[0]).not.toBe(p.hash);
    expect(parseTransaction(node.sent[2] as Hex)).toMatchObject({ nonce: 5, gas: req.gas + 1n });

    const q = await sender.prepare(req, 10n * gwei);
    const otherFees = await sender.broadcast(req, 20n * gwei, undefined, q);
    expect(otherFees.hashes[0]).not.toBe(q.hash);
    expect(parseTransaction(node.sent[3] as Hex).maxFeePerGas).toBe(
      initialFees(20n * gwei, cfg).maxFeePerGas,
    );
    expect(node.sent).toHaveLength(4);
  });
});
