import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, parseCli, type DemoResult } from "../../../scripts/demo.ts";
import type { MonthResult } from "../../../scripts/demo/month.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  return {
    out,
    err,
    progress,
    io: {
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      progress: (l: string) => progress.push(l),
    },
  };
}

describe("demo month flags", () => {
  it("parses the month's flags", () => {
    expect(
      parseCli([
        "--days",
        "3",
        "--seed",
        "7",
        "--replay",
        "p.csv",
        "--out",
        "o",
        "--policy",
        "regime-band-edge",
      ]),
    ).toEqual({
      json: false,
      help: false,
      days: 3,
      seed: 7,
      replay: "p.csv",
      out: "o",
      policy: "regime-band-edge",
    });
  });

  it.each([
    [["--days", "x"], /--days: expected an integer/],
    [["--days=-1"], /--days: must be >= 0/],
    [["--days", "400"], /--days: must be <= 365/],
    [["--seed", "1.5"], /--seed: expected an integer/],
    [
      ["--policy", "sometimes"],
      /--policy: expected one of regime-band, regime-band-edge, ww-band, fixed-band, time-hourly, time-daily/,
    ],
    [["--days"], /--days/],
    [["--replay", "a.csv", "extra"], /unexpected argument "extra"/],
  ])("rejects %j with exit code 2", async (argv, message) => {
    const c = io();
    expect(await main(argv, c.io)).toBe(2);
    expect(c.err.join("\n")).toMatch(message);
  });
});

describe("demo month (3 days, live keeper on the embedded chain)", () => {
  it("hedges, stays in band after every rebalance, books its costs and writes the report", async () => {
    const out = mkdtempSync(join(tmpdir(), "demo-month-"));
    const c = io();
    const code = await main(["--days", "3", "--json", "--out", out], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const result = JSON.parse(c.out[c.out.length - 1] ?? "") as DemoResult;
    const m = result.month as MonthResult;
    expect(m).not.toBeNull();
    expect(m.days).toBe(3);
    expect(m.steps).toBe((3 * 24 * 60) / m.stepMinutes + 1);

    // Hedging works: the hedged daily P&L varies far less than the unhedged one.
    expect(m.dailyPnl.hedged.length).toBe(3);
    expect(m.variance.unhedged).toBeGreaterThan(0);
    expect(m.variance.hedged).toBeLessThan(m.variance.unhedged);
    expect(m.metrics.varianceReductionPct).toBeCloseTo(m.variance.reductionPct, 6);

    // The keeper rebalanced, and the vault was inside its band right after each of its rebalances.
    expect(m.rebalances.total).toBeGreaterThan(0);
    expect(m.afterRebalance.length).toBe(m.rebalances.total);
    expect(m.rebalances.auto + m.rebalances.oneApproval + m.rebalances.twoApprovals).toBe(m.rebalances.total);
    for (const r of m.afterRebalance) expect(Math.abs(r.net)).toBeLessThanOrEqual(r.band);

    // Costs: positive execution costs, and the parts sum to the total.
    expect(m.costs.fees).toBeGreaterThan(0);
    expect(m.costs.gas).toBeGreaterThan(0);
    expect(m.costs.slippage).toBeGreaterThanOrEqual(0);
    expect(m.costs.total).toBeGreaterThan(0);
    expect(m.costs.fees + m.costs.slippage + m.costs.funding + m.costs.gas).toBeCloseTo(m.costs.total, 6);

    // Flows moved the exposure: proceeds in, creators paid.
    expect(m.flows.proceedsWeth).toBeGreaterThan(0);
    expect(m.flows.creatorPayoutsWeth).toBeGreaterThan(0);

    // Files: report.json (the same figures plus every step), the PNG charts, the keeper's journal.
    expect(m.outDir).toBe(out);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as MonthResult & {
      steps: { netPost: number; outcome: string }[];
    };
    expect(report.costs.total).toBeCloseTo(m.costs.total, 6);
    expect(report.steps.length).toBe(m.steps);
    expect(report.steps.filter((s) => s.outcome === "hedged").length).toBe(m.rebalances.total);
    // Every policy on the same path (model engine): hedged ones remove variance, the baseline none.
    const names = m.policies.metrics.map((x) => x.name);
    for (const name of ["unhedged", "time-hourly", "time-daily", "fixed-band", "ww-band", "regime-band"])
      expect(names).toContain(name);
    for (const x of m.policies.metrics) {
      if (x.name === "unhedged") expect(x.varianceReductionPct).toBe(0);
      else expect(x.varianceReductionPct).toBeGreaterThan(50);
    }
    expect(m.policies.summary).toMatch(/Derman–Kamal .*\(ratio \d/);
    for (const name of ["treasury-value.png", "net-delta.png", "costs.png", "frontier.png"]) {
      const bytes = readFileSync(join(out, name));
      expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(bytes.length).toBeGreaterThan(1_000);
    }
    expect(existsSync(m.journal)).toBe(true);
    expect(m.journal).toBe(join(out, "journal.sqlite"));

    // The readable output: the report table and both paths; a progress line per step.
    const text = c.out.join("\n");
    expect(text).toMatch(/keeper regime-band \(live\)/);
    expect(text).toContain(`report: ${out}`);
    expect(text).toContain(`journal: ${m.journal}`);
    expect(c.progress.length).toBe(m.steps);
    expect(c.progress[c.progress.length - 1]).toMatch(
      /day\s+3\/3 .* net -?\d+\.\d vs band ±\d+\.\d\s+hedges \d+/,
    );
  }, 120_000);

  it("replays ETH prices from a CSV", async () => {
    const out = mkdtempSync(join(tmpdir(), "demo-month-replay-"));
    const csv = join(out, "eth.csv");
    const start = Date.UTC(2025, 0, 1);
    const rows = ["timestamp,open,high,low,close,volume"];
    for (let i = 0; i < 30; i++) {
      const p = 2000 * (1 + 0.02 * Math.sin(i / 3));
      rows.push(`${start + i * 900_000},${p},${p},${p},${p},1`);
    }
    writeFileSync(csv, `${rows.join("\n")}\n`);
    const c = io();
    const code = await main(["--days", "1", "--json", "--out", out, "--replay", csv], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const m = (JSON.parse(c.out[c.out.length - 1] ?? "") as DemoResult).month as MonthResult;
    expect(m.source).toMatch(/^replay .*eth\.csv \(30 bars, rebased/);
    expect(m.steps).toBe(30);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as {
      steps: { eth: number }[];
    };
    // Rebased to the oracle's price: the replayed returns, step for step.
    const eth = report.steps.map((s) => s.eth);
    const p = (i: number) => 2000 * (1 + 0.02 * Math.sin(i / 3));
    for (let i = 1; i < eth.length; i++)
      expect((eth[i] as number) / (eth[0] as number)).toBeCloseTo(p(i) / p(0), 9);
  }, 120_000);
});
