import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { HttpFeedError, backoffDelay, fetchJson, pollJson, type PollResult } from "./http.ts";

const PriceSchema = z.object({
  data: z.array(z.object({ symbol: z.string(), price: z.number().positive() })).min(1),
});

const hits = new Map<string, number>();
let server: Server;
let base = "";

function body(n: number): string {
  return JSON.stringify({ data: [{ symbol: "ETH", price: 3000 + n }] });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const key = url.pathname + url.search;
    const n = (hits.get(key) ?? 0) + 1;
    hits.set(key, n);
    const json = (status: number, text: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(text);
    };
    switch (url.pathname) {
      case "/good":
        return json(200, body(n));
      case "/slow": {
        // headers at once, body after `ms`: the timeout must cover the body too
        const ms = Number(url.searchParams.get("ms") ?? "400");
        const slowFor = Number(url.searchParams.get("slowFor") ?? "1000000");
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"data":');
        const delay = n <= slowFor ? ms : 0;
        const t = setTimeout(() => res.end(`[{"symbol":"ETH","price":${3000 + n}}]}`), delay);
        res.on("close", () => clearTimeout(t));
        return;
      }
      case "/flaky":
        return n <= 2 ? json(500, '{"error":"boom"}') : json(200, body(n));
      case "/busy":
        return n <= 1 ? json(429, "{}") : json(200, body(n));
      case "/always500":
        return json(503, "{}");
      case "/notfound":
        return json(404, '{"error":"no"}');
      case "/malformed":
        return json(
          200,
          JSON.stringify({
            data: [
              { symbol: "ETH", price: 1 },
              { symbol: "BTC", price: "60000" },
            ],
          }),
        );
      case "/negative":
        return json(200, JSON.stringify({ data: [{ symbol: "ETH", price: -1 }] }));
      case "/notjson":
        return json(200, "<html>oops</html>");
      default:
        return json(404, "{}");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const fast = { initialMs: 5, maxMs: 40, factor: 2, jitter: 0 };

async function collect<T>(
  it: AsyncGenerator<PollResult<T>, void, undefined>,
  n: number,
): Promise<PollResult<T>[]> {
  const out: PollResult<T>[] = [];
  for await (const r of it) {
    out.push(r);
    if (out.length >= n) break;
  }
  return out;
}

async function caught(p: Promise<unknown>): Promise<HttpFeedError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(HttpFeedError);
  return e as HttpFeedError;
}

describe("backoffDelay", () => {
  it("grows geometrically to the cap, with bounded jitter", () => {
    const b = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 10].map((a) => backoffDelay(b, a, () => 0.5))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(b, 2, () => 0)).toBe(100);
    expect(backoffDelay(b, 2, () => 0.999999)).toBe(300);
    expect(backoffDelay({ ...b, jitter: 0 }, 3, () => 0.9)).toBe(400);
  });
});

describe("pollJson against a local HTTP server", () => {
  it("yields validated payloads at the configured interval with receive times", async () => {
    const t0 = Date.now();
    const rs = await collect(
      pollJson({ url: `${base}/good?a`, schema: PriceSchema, intervalMs: 60, timeoutMs: 1000 }),
      3,
    );
    expect(rs.map((r) => r.value.data[0]?.price)).toEqual([3001, 3002, 3003]);
    expect(rs.every((r) => r.attempts === 1 && r.receiveTime >= t0 && r.latencyMs >= 0)).toBe(true);
    // fixed rate: request starts (receiveTime − latency) are one interval apart
    const starts = rs.map((r) => r.receiveTime - r.latencyMs);
    expect((starts[1] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(58);
    expect((starts[2] as number) - (starts[1] as number)).toBeGreaterThanOrEqual(58);
    expect((starts[2] as number) - (starts[0] as number)).toBeLessThan(1000);
    expect(hits.get("/good?a")).toBe(3);
  });

  it("retries 500s with backoff, then recovers", async () => {
    const retries: { attempt: number; delayMs: number; status: number | undefined }[] = [];
    const [r] = await collect(
      pollJson({
        url: `${base}/flaky`,
        schema: PriceSchema,
        intervalMs: 10,
        timeoutMs: 1000,
        backoff: fast,
        onRetry: (i) => retries.push({ attempt: i.attempt, delayMs: i.delayMs, status: i.error.status }),
      }),
      1,
    );
    expect(r?.value.data[0]?.price).toBe(3003);
    expect(r?.attempts).toBe(3);
    expect(retries).toEqual([
      { attempt: 1, delayMs: 5, status: 500 },
      { attempt: 2, delayMs: 10, status: 500 },
    ]);
  });

  it("retries 429 (rate limited)", async () => {
    const [r] = await collect(
      pollJson({ url: `${base}/busy`, schema: PriceSchema, intervalMs: 10, timeoutMs: 1000, backoff: fast }),
      1,
    );
    expect(r?.attempts).toBe(2);
  });

  it("times out slow bodies, retries, and recovers when the server speeds up", async () => {
    const kinds: string[] = [];
    const t0 = Date.now();
    const [r] = await collect(
      pollJson({
        url: `${base}/slow?ms=2000&slowFor=2`,
        schema: PriceSchema,
        intervalMs: 10,
        timeoutMs: 100,
        backoff: fast,
        onRetry: (i) => kinds.push(i.error.kind),
      }),
      1,
    );
    expect(kinds).toEqual(["timeout", "timeout"]);
    expect(r?.value.data[0]?.price).toBe(3003);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it("gives up after maxConsecutiveFailures with kind 'exhausted'", async () => {
    const e = await caught(
      collect(
        pollJson({
          url: `${base}/always500`,
          schema: PriceSchema,
          intervalMs: 10,
          timeoutMs: 500,
          backoff: fast,
          maxConsecutiveFailures: 2,
        }),
        1,
      ),
    );
    expect(e.kind).toBe("exhausted");
    expect(e.status).toBe(503);
    expect(hits.get("/always500")).toBe(3);
  });

  it("network errors (connection refused) are retried, then exhausted", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const kinds: string[] = [];
    const e = await caught(
      collect(
        pollJson({
          url: `http://127.0.0.1:${port}/`,
          schema: PriceSchema,
          intervalMs: 10,
          timeoutMs: 500,
          backoff: fast,
          maxConsecutiveFailures: 1,
          onRetry: (i) => kinds.push(i.error.kind),
        }),
        1,
      ),
    );
    expect(kinds).toEqual(["network"]);
    expect(e.kind).toBe("exhausted");
    expect((e.cause as HttpFeedError).kind).toBe("network");
  });

  it("4xx is fatal at once, without retries", async () => {
    let retried = 0;
    const e = await caught(
      collect(
        pollJson({
          url: `${base}/notfound`,
          schema: PriceSchema,
          intervalMs: 10,
          timeoutMs: 500,
          backoff: fast,
          onRetry: () => retried++,
        }),
        1,
      ),
    );
    expect(e.kind).toBe("status");
    expect(e.status).toBe(404);
    expect(e.retryable).toBe(false);
    expect(retried).toBe(0);
    expect(hits.get("/notfound")).toBe(1);
  });

  it("schema failures are fatal and name the failing field path", async () => {
    const e = await caught(
      collect(pollJson({ url: `${base}/malformed`, schema: PriceSchema, intervalMs: 10, timeoutMs: 500 }), 1),
    );
    expect(e.kind).toBe("schema");
    expect(e.path).toBe("data.1.price");
    expect(e.message).toContain('"data.1.price"');
    expect(hits.get("/malformed")).toBe(1);
    const e2 = await caught(fetchJson(`${base}/negative`, PriceSchema, 500));
    expect(e2.path).toBe("data.0.price");
    expect(e2.issues.length).toBe(1);
  });

  it("a non-JSON body is fatal (kind 'json')", async () => {
    const e = await caught(fetchJson(`${base}/notjson`, PriceSchema, 500));
    expect(e.kind).toBe("json");
    expect(e.status).toBe(200);
  });

  it("aborting the signal ends the iteration quietly, during a wait and during a request", async () => {
    const ac = new AbortController();
    const got: number[] = [];
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 80);
    for await (const r of pollJson({
      url: `${base}/good?b`,
      schema: PriceSchema,
      intervalMs: 10_000,
      timeoutMs: 1000,
      signal: ac.signal,
    })) {
      got.push(r.value.data[0]?.price ?? 0);
    }
    expect(got).toEqual([3001]);
    expect(Date.now() - t0).toBeLessThan(2000);

    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 80);
    const t1 = Date.now();
    const rs: unknown[] = [];
    for await (const r of pollJson({
      url: `${base}/slow?ms=5000`,
      schema: PriceSchema,
      intervalMs: 10,
      timeoutMs: 10_000,
      signal: ac2.signal,
    }))
      rs.push(r);
    expect(rs).toEqual([]);
    expect(Date.now() - t1).toBeLessThan(2000);
  });
});
