import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createLogger, scrub } from "./logger.ts";
import { createMetrics, timed } from "./metrics.ts";
import { healthStatus, startServer } from "./server.ts";

const KEY = `0x${"5a".repeat(32)}`;

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, log: createLogger({ level: "info", destination: dest }) };
}

describe("report: logger", () => {
  it("JSON lines; secret-looking fields are redacted at any of three levels", () => {
    const { lines, log } = capture();
    log.info({ privateKey: KEY, nested: { key: KEY, deeper: { secret: KEY } }, keeper: "0xabc" }, "hello");
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(rec.msg).toBe("hello");
    expect(rec.keeper).toBe("0xabc");
    expect(rec.privateKey).toBe("[redacted]");
    expect((rec.nested as Record<string, unknown>).key).toBe("[redacted]");
    expect(lines.join("")).not.toContain("5a5a5a5a");
  });

  it("scrub removes the key from free text", () => {
    expect(scrub(`boom ${KEY} and ${KEY.slice(2).toUpperCase()}`, KEY)).toBe(
      "boom 0x[redacted] and [redacted]",
    );
    expect(scrub("nothing", null)).toBe("nothing");
  });
});

describe("report: metrics and HTTP", () => {
  it("metrics carry the listed series; stage timings land in the histogram", async () => {
    const m = createMetrics();
    m.netDelta.set({ underlying: "ETH" }, -12.5);
    m.band.set({ underlying: "ETH" }, 15);
    m.hedges.inc({ tier: "1" });
    m.stale.inc({ underlying: "ETH", kind: "spot" });
    m.failures.inc({ reason: "rpc" });
    expect(await timed(m, "plan", async () => 7)).toBe(7);
    const text = await m.registry.metrics();
    expect(text).toMatch(/keeper_net_delta\{underlying="ETH"\} -12\.5/);
    expect(text).toMatch(/keeper_band\{underlying="ETH"\} 15/);
    expect(text).toMatch(/keeper_hedges_total\{tier="0"\} 0/);
    expect(text).toMatch(/keeper_hedges_total\{tier="1"\} 1/);
    expect(text).toMatch(/keeper_stale_inputs_total\{underlying="ETH",kind="spot"\} 1/);
    expect(text).toMatch(/keeper_failures_total\{reason="rpc"\} 1/);
    expect(text).toMatch(/keeper_stage_seconds_count\{stage="plan"\} 1/);
  });

  it("healthz: 200 only when the last tick succeeded within the window", () => {
    const h = { lastSuccessAt: 1_000, lastError: null, mode: "Normal", live: true };
    expect(healthStatus(h, 1_500, 1_000).code).toBe(200);
    expect(healthStatus(h, 2_001, 1_000).code).toBe(503);
    expect(healthStatus({ ...h, lastSuccessAt: null }, 0, 1_000).code).toBe(503);
  });

  it("serves /metrics, /healthz (200 → 503 as the last success ages) and 404 elsewhere", async () => {
    const m = createMetrics();
    let last: number | null = Date.now();
    const srv = await startServer({
      metrics: m,
      health: () => ({
        lastSuccessAt: last,
        lastError: last === null ? "rpc down" : null,
        mode: "Normal",
        live: false,
      }),
      healthyWithinMs: 60_000,
      port: 0,
    });
    try {
      const base = `http://127.0.0.1:${srv.port}`;
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/# TYPE keeper_stage_seconds histogram/);
      const ok = await fetch(`${base}/healthz`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ ok: true, mode: "Normal", live: false });
      last = null;
      const bad = await fetch(`${base}/healthz`);
      expect(bad.status).toBe(503);
      expect(await bad.json()).toMatchObject({ ok: false, lastError: "rpc down" });
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await srv.close();
    }
  });
});
