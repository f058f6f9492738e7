import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { parseBacktestArgs, runBacktestCli } from "./cli.ts";

type Captured = { code: number; out: string; err: string };
async function cli(argv: string[]): Promise<Captured> {
  let out = "";
  let err = "";
  const code = await runBacktestCli(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

let dir: string;
const H = 3_600_000;
function hourlyCsv(rows: number, epochMs: boolean, t0 = Date.UTC(2024, 0, 1)): string {
  const lines = [epochMs ? "timestamp,open,high,low,close,volume" : "datetime,open,high,low,close,volume"];
  let p = 2000;
  for (let i = 0; i < rows; i++) {
    const t = t0 + i * H;
    const next = p * Math.exp(0.01 * Math.sin(i * 1.7) + 0.004 * Math.cos(i * 0.37));
    const hi = Math.max(p, next) * 1.001;
    const lo = Math.min(p, next) * 0.999;
    const ts = epochMs ? String(t) : new Date(t).toISOString().slice(0, 19).replace("T", " ");
    lines.push(`${ts},${p.toFixed(2)},${hi.toFixed(2)},${lo.toFixed(2)},${next.toFixed(2)},10`);
    p = next;
  }
  return `${lines.join("\n")}\n`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "backtest-cli-"));
});

describe("backtest CLI: rejected input", () => {
  it("a non-monotonic CSV is rejected with its line number and reason (exit 1)", async () => {
    const text = hourlyCsv(50, false).split("\n");
    [text[10], text[11]] = [text[11]!, text[10]!]; // rows 10 and 11 (lines 11, 12) swapped
    const f = join(dir, "nonmono.csv");
    await writeFile(f, text.join("\n"));
    const r = await cli(["--replay", f, "--json", "--no-charts", "--dk-paths", "0"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(
      new RegExp(
        `rejected ${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: line 12: nonMonotonic: time 2024-01-01T09:00:00.000Z not after previous`,
      ),
    );
  });
  it("a malformed row is rejected with its line number and reason", async () => {
    const text = hourlyCsv(30, true).split("\n");
    text[7] = text[7]!.replace(/,([\d.]+),10$/, ",abc,10"); // close not a number on line 8
    const f = join(dir, "bad.csv");
    await writeFile(f, text.join("\n"));
    const r = await cli(["--replay", f, "--no-charts"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('line 8: badPrice: close "abc" is not a number');
  });
  it("a missing column and a missing file are rejected", async () => {
    const f = join(dir, "nohead.csv");
    await writeFile(f, "datetime,open,high,low\n2024-01-01 00:00:00,1,1,1\n");
    const r = await cli(["--replay", f]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("line 1: unknownHeader: missing column close");
    const m = await cli(["--replay", join(dir, "nope.csv")]);
    expect(m.code).toBe(1);
    expect(m.err).toMatch(/ENOENT/);
  });
});

describe("backtest CLI: flags", () => {
  it.each([
    [["--engine", "quantum"], /--engine must be model or chain, got "quantum"/],
    [["--policy", "sometimes"], /--policy must be all or one of unhedged, time-hourly/],
    [["--days", "-3"], /Option '--days' argument is ambiguous|--days must be a whole number/],
    [["--days", "1"], /--days must be ≥ 2/],
    [["--from", "2024-13-01"], /not a UTC date/],
    [["--from", "2024-02-01", "--to", "2024-01-01"], /--from must be before --to/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["stray"], /Unexpected argument 'stray'/],
  ])("%j → exit 2 with a clear error", async (argv, msg) => {
    const r = await cli(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg as RegExp);
    expect(r.err).toContain("usage: backtest");
  });
  it("--engine chain without a chain engine (this entry point) is refused, naming why", async () => {
    const r = await cli(["--engine", "chain", "--days", "2"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("this entry point cannot start the embedded chain");
  });
  it("--engine chain refuses what only the model engine runs, each reason named", async () => {
    const r = await cli(["--engine", "chain", "--days", "2", "--policy", "regime-band+overlay", "--sweep"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("policy regime-band+overlay: the options overlay runs on the model engine only");
    expect(r.err).toContain("--sweep runs on the model engine only");
  });
  it("defaults", () => {
    const a = parseBacktestArgs([]);
    expect(a).toMatchObject({
      engine: "model",
      policy: "all",
      sweep: false,
      json: false,
      days: 365,
      dkPaths: 200,
      charts: true,
      marketData: "auto",
    });
  });
});

describe("backtest CLI: a replay end to end", () => {
  it("epoch-ms CSV, --json: last stdout line is the benchmark object; report and PNG charts written", async () => {
    const f = join(dir, "ETHUSDT_epoch.csv");
    await writeFile(f, hourlyCsv(24 * 20, true));
    const out = join(dir, "report");
    const r = await cli(["--engine", "model", "--replay", f, "--json", "--out", out, "--dk-paths", "20"]);
    expect(r.err).toContain("model engine:");
    expect(r.code).toBe(0);
    const last = r.out.trim().split("\n").at(-1)!;
    const j = JSON.parse(last) as {
      policies: {
        name: string;
        varianceReductionPct: number;
        totalCostUsd: number;
        rebalances: number;
        trackingErrorPct: number;
        maxAbsNetDeltaPct: number;
      }[];
      pathHours: number;
      wallSeconds: number;
    };
    expect(j.policies.map((p) => p.name).slice(0, 6)).toEqual([
      "unhedged",
      "time-hourly",
      "time-daily",
      "fixed-band",
      "ww-band",
      "regime-band",
    ]);
    for (const p of j.policies) {
      for (const k of [
        "varianceReductionPct",
        "totalCostUsd",
        "rebalances",
        "trackingErrorPct",
        "maxAbsNetDeltaPct",
      ] as const)
        expect(Number.isFinite(p[k])).toBe(true);
    }
    expect(j.policies.find((p) => p.name === "regime-band")!.rebalances).toBeGreaterThan(0);
    expect(j.pathHours).toBe(24 * 20 - 1);
    expect(j.wallSeconds).toBeGreaterThan(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as {
      policies: unknown[];
      path: { bars: number };
      dermanKamal: unknown[];
    };
    expect(report.policies).toHaveLength(11);
    expect(report.path.bars).toBe(480);
    expect(report.dermanKamal).toHaveLength(2);
    for (const name of ["treasury-value.png", "net-delta.png", "costs.png", "frontier.png"]) {
      const png = await readFile(join(out, name));
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      // IDAT inflates to height × (1 + 3 × width) bytes
      const w = png.readUInt32BE(16);
      const h = png.readUInt32BE(20);
      const idatLen = png.readUInt32BE(33);
      expect(png.toString("latin1", 37, 41)).toBe("IDAT");
      expect(inflateSync(png.subarray(41, 41 + idatLen)).length).toBe(h * (1 + 3 * w));
    }
  });
  it("--from/--to slice the replay; a single --policy runs with its unhedged baseline", async () => {
    const f = join(dir, "ETHUSDT_dt.csv");
    await writeFile(f, hourlyCsv(24 * 10, false));
    const r = await cli([
      "--replay",
      f,
      "--from",
      "2024-01-03",
      "--to",
      "2024-01-06",
      "--policy",
      "time-daily",
      "--json",
      "--no-charts",
      "--dk-paths",
      "0",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.trim().split("\n").at(-1)!) as {
      policies: { name: string }[];
      pathHours: number;
    };
    expect(j.policies.map((p) => p.name)).toEqual(["unhedged", "time-daily"]);
    expect(j.pathHours).toBe(3 * 24 - 1);
  });
});
