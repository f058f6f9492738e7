/**
 * The keeper's HTTP surface (node:http): GET /metrics (Prometheus text) and GET /healthz — 200 with
 * a JSON body when the last tick completed within `healthyWithinMs`, 503 otherwise.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.ts";

export type Health = { lastSuccessAt: number | null; lastError: string | null; mode: string; live: boolean };

export function healthStatus(
  h: Health,
  now: number,
  healthyWithinMs: number,
): { code: 200 | 503; body: object } {
  const age = h.lastSuccessAt === null ? null : now - h.lastSuccessAt;
  const ok = age !== null && age <= healthyWithinMs;
  return {
    code: ok ? 200 : 503,
    body: { ok, lastSuccessAgeMs: age, lastError: h.lastError, mode: h.mode, live: h.live },
  };
}

export async function startServer(opts: {
  metrics: Metrics;
  health: () => Health;
  healthyWithinMs: number;
  port: number;
  host?: string;
}): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    if (url === "/metrics") {
      opts.metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "content-type": opts.metrics.registry.contentType });
          res.end(text);
        })
        .catch((e: unknown) => {
          res.writeHead(500).end(String(e));
        });
      return;
    }
    if (url === "/healthz") {
      const { code, body } = healthStatus(opts.health(), Date.now(), opts.healthyWithinMs);
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
