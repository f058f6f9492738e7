import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BaseError, createPublicClient, http, RpcRequestError } from "viem";
import { classifyError } from "./errors.ts";
import { immediateBatchHttp } from "./multicall.ts";

type Req = { id: number; method: string; params?: unknown[] };

describe("immediateBatchHttp", () => {
  const posts: Req[][] = [];
  let server: Server;
  let url = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const parsed = JSON.parse(body) as Req | Req[];
        const batch = Array.isArray(parsed) ? parsed : [parsed];
        posts.push(batch);
        if (batch.some((r) => r.method === "eth_refuseBatch")) {
          // Some providers answer a whole batch with one error object (too large, rate limited).
          res.setHeader("content-type", "application/json");
          res.end(
            JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32005, message: "batch refused" } }),
          );
          return;
        }
        // Answers in reverse order: the transport must match them by id.
        const answers = batch
          .map((r) =>
            r.method === "eth_fail"
              ? { jsonrpc: "2.0", id: r.id, error: { code: -32000, message: "nope" } }
              : { jsonrpc: "2.0", id: r.id, result: `${r.method}:${JSON.stringify(r.params ?? [])}` },
          )
          .reverse();
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(Array.isArray(parsed) ? answers : answers[0]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("requests of one event-loop turn travel as one JSON-RPC batch; answers matched by id, errors per request", async () => {
    const client = createPublicClient({ transport: immediateBatchHttp(url, { retryCount: 0 }) });
    posts.length = 0;
    const rs = await Promise.allSettled([
      client.request({ method: "eth_a" as "eth_chainId", params: ["1"] as unknown as undefined }),
      client.request({ method: "eth_fail" as "eth_chainId" }),
      client.request({ method: "eth_b" as "eth_chainId", params: ["2"] as unknown as undefined }),
    ]);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.map((r) => r.method)).toEqual(["eth_a", "eth_fail", "eth_b"]);
    expect(rs[0]).toEqual({ status: "fulfilled", value: 'eth_a:["1"]' });
    expect(rs[2]).toEqual({ status: "fulfilled", value: 'eth_b:["2"]' });
    expect(rs[1]?.status).toBe("rejected");
    const err = (rs[1] as PromiseRejectedResult).reason as unknown;
    // viem maps the JSON-RPC error to its class (code -32000 → InvalidInputRpcError), as with `http`.
    expect(err).toBeInstanceOf(BaseError);
    expect((err as BaseError).walk((x) => x instanceof RpcRequestError)).toBeInstanceOf(RpcRequestError);
    expect((err as BaseError).details).toBe("nope");

    // A later turn is a new batch.
    await client.request({ method: "eth_c" as "eth_chainId" });
    expect(posts).toHaveLength(2);
  });

  it("a batch answered with one error object rejects every request in it (none hangs, nothing throws)", async () => {
    const client = createPublicClient({ transport: immediateBatchHttp(url, { retryCount: 0 }) });
    const rs = await Promise.allSettled([
      client.request({ method: "eth_a" as "eth_chainId" }),
      client.request({ method: "eth_refuseBatch" as "eth_chainId" }),
    ]);
    expect(rs.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    for (const r of rs)
      expect(((r as PromiseRejectedResult).reason as BaseError).details).toBe("batch refused");
  });

  it("leaves without a timer: with setTimeout frozen the request still completes (viem's batch wait would hang)", async () => {
    const client = createPublicClient({ transport: immediateBatchHttp(url, { retryCount: 0 }) });
    const viemBatch = createPublicClient({ transport: http(url, { retryCount: 0, batch: { wait: 0 } }) });
    const turns = (k: number) =>
      Array.from({ length: k }).reduce<Promise<void>>(
        (p) => p.then(() => new Promise<void>((resolve) => setImmediate(resolve))),
        Promise.resolve(),
      );
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let viemDone = false;
    // Control: viem's own batching waits for a setTimeout(0) that never fires here.
    const viemReq = viemBatch.request({ method: "eth_e" as "eth_chainId" }).then(() => (viemDone = true));
    try {
      await expect(client.request({ method: "eth_d" as "eth_chainId" })).resolves.toBe("eth_d:[]");
      await turns(200);
      expect(viemDone).toBe(false);
      vi.runOnlyPendingTimers(); // fire it: the request then completes
    } finally {
      vi.useRealTimers();
    }
    await viemReq;
    expect(viemDone).toBe(true);
  });

  it("an unreachable node is a transient error (the keeper's retries apply)", async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const client = createPublicClient({
      transport: immediateBatchHttp(`http://127.0.0.1:${port}`, { retryCount: 0, timeout: 2_000 }),
    });
    const e = await client.request({ method: "eth_chainId" }).catch((x: unknown) => x);
    expect(classifyError(e)).toBe("transient");
  });
});
