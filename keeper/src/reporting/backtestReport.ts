/**
 * Backtest report: a table for people (stdout), a JSON file with every figure, and PNG charts —
 * treasury value hedged vs unhedged, net delta with its band, cumulative cost by kind, and the
 * cost / variance-reduction frontier.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BacktestResult } from "../backtest/engine.ts";
import { cumulativePnl, type PolicyMetrics } from "../backtest/metrics.ts";
import type { FrontierPoint, SuiteResult } from "../backtest/run.ts";
import { DAY_MS } from "../backtest/path.ts";
import {
  chartPng,
  PALETTE,
  type ChartSpec,
  type Rgb,
  type ScatterSeries,
  type MarkerShape,
} from "./chart.ts";

const pad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);
const padR = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const usd = (x: number) => Math.round(x).toLocaleString("en-US");

/** The per-policy table. */
export function formatTable(metrics: readonly PolicyMetrics[]): string {
  const head = [
    padR("policy", 22),
    pad("var red %", 10),
    pad("daily σ $", 12),
    pad("TE %", 7),
    pad("max|Δ| %", 9),
    pad("maxDD %", 8),
    pad("fees $", 10),
    pad("slip $", 9),
    pad("funding $", 10),
    pad("gas $", 9),
    pad("total $", 10),
    pad("exec $", 10),
    pad("rebal", 6),
    pad("auto/1/2", 12),
    pad("stood", 6),
    pad("rej", 4),
  ].join(" ");
  const rows = metrics.map((m) =>
    [
      padR(m.name, 22),
      pad(m.varianceReductionPct.toFixed(2), 10),
      pad(usd(m.dailyPnlStdUsd), 12),
      pad(m.trackingErrorPct.toFixed(2), 7),
      pad(m.maxAbsNetDeltaPct.toFixed(1), 9),
      pad(m.maxDrawdownPct.toFixed(1), 8),
      pad(usd(m.costs.fees), 10),
      pad(usd(m.costs.slippage), 9),
      pad(usd(m.costs.funding), 10),
      pad(usd(m.costs.gas), 9),
      pad(usd(m.totalCostUsd), 10),
      pad(usd(m.executionCostUsd), 10),
      pad(String(m.rebalances.total), 6),
      pad(`${m.rebalances.auto}/${m.rebalances.oneApproval}/${m.rebalances.twoApprovals}`, 12),
      pad(String(m.decisions.standDown), 6),
      pad(String(m.decisions.rejected), 4),
    ].join(" "),
  );
  return [head, "-".repeat(head.length), ...rows].join("\n");
}

/** Human summary: path, table, goals, stand-down/rejection reasons, Derman–Kamal. */
export function formatSummary(s: SuiteResult, engine: "model" | "chain" = "model"): string {
  const p = s.path;
  const lines = [
    `backtest (${engine} engine): ${p.source} ${p.underlying} ${p.from.slice(0, 16)} → ${p.to.slice(0, 16)} UTC, ${p.bars} bars (${p.missingBars} missing), realised vol ${(p.realisedVol * 100).toFixed(1)} %`,
    `regime inputs available: IV level ${p.regimeCoveragePct.ivLevel.toFixed(0)} %, funding ${p.regimeCoveragePct.fundingRate.toFixed(0)} %, ETF flows ${p.regimeCoveragePct.etfFlowMomentum.toFixed(0)} %, skew ${p.regimeCoveragePct.skew.toFixed(0)} % of bars`,
    "",
    formatTable(s.metrics),
  ];
  if (s.goals !== null) {
    const g = s.goals;
    lines.push(
      "",
      `goal: ${g.defaultPolicy} removes ≥ ${g.varianceReductionGoalPct} % of unhedged daily P&L variance: ${g.defaultVarianceReductionPct.toFixed(2)} % → ${g.meetsVarianceGoal ? "met" : "NOT met"}`,
    );
    for (const e of g.equalCost)
      lines.push(
        `goal: at equal (execution) cost beats ${e.against}: ${e.beats ? "yes" : "NO"} (${g.defaultPolicy} ${e.defaultVarianceReductionPct.toFixed(3)} % for $${usd(e.defaultCostUsd)}; ${e.against} ${e.otherVarianceReductionPct.toFixed(3)} % for $${usd(e.otherCostUsd)}; ${e.how})`,
      );
  }
  for (const m of s.metrics) {
    for (const r of m.standDowns.slice(0, 3)) lines.push(`stood down (${m.name}) ×${r.count}: ${r.example}`);
    for (const r of m.rejections.slice(0, 3)) lines.push(`rejected (${m.name}) ×${r.count}: ${r.example}`);
  }
  for (const d of s.dermanKamal)
    lines.push(
      `Derman–Kamal (short ${d.units} ATM ${d.tenorDays}-day calls, GBM σ ${(d.sigma * 100).toFixed(1)} %, hedged ${d.rebalances}×, ${d.paths} paths): hedge error σ realised $${usd(d.realisedStdUsd)} ± ${usd(d.stdErrorUsd)} vs predicted $${usd(d.predictedStdUsd)} (ratio ${d.ratio.toFixed(3)})`,
    );
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Charts

function treasuryValue(r: BacktestResult): Float64Array {
  const cum = cumulativePnl(r);
  const v0 = r.value[0] as number;
  return cum.map((x) => v0 + x);
}

export function valueChart(s: SuiteResult, defaultName: string): ChartSpec {
  const def = s.results.find((r) => r.policy.name === defaultName) ?? s.results[s.results.length - 1];
  const daily = s.results.find((r) => r.policy.name === "time-daily");
  const lines = [
    { name: "unhedged", color: PALETTE.red as Rgb, xs: s.unhedged.times, ys: treasuryValue(s.unhedged) },
  ];
  if (daily !== undefined && daily !== def)
    lines.push({ name: "time-daily", color: PALETTE.grey as Rgb, xs: daily.times, ys: treasuryValue(daily) });
  if (def !== undefined && def !== s.unhedged)
    lines.push({
      name: `${def.policy.name} (hedged)`,
      color: PALETTE.blue as Rgb,
      xs: def.times,
      ys: treasuryValue(def),
    });
  return {
    title: `Treasury value, hedged vs unhedged (${s.path.underlying}, flows excluded)`,
    xLabel: "time (UTC)",
    yLabel: "USD",
    xAxis: "time",
    lines,
  };
}

export function netDeltaChart(s: SuiteResult, defaultName: string): ChartSpec {
  const r =
    s.results.find((x) => x.policy.name === defaultName) ??
    (s.results[s.results.length - 1] as BacktestResult);
  const lo = r.band.map((b) => (Number.isNaN(b) ? Number.NaN : r.target - b));
  const hi = r.band.map((b) => (Number.isNaN(b) ? Number.NaN : r.target + b));
  // Robust y range: the 0.1–99.9 % quantiles of the net delta after the initial hedge, and the band;
  // rarer spikes (option expiries, the first bar) are drawn clipped at the edge.
  const vals = Array.from(r.netPre.subarray(1))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const q = (f: number) =>
    vals[Math.min(vals.length - 1, Math.max(0, Math.floor(f * (vals.length - 1))))] ?? 0;
  const maxBand = Math.max(0, ...Array.from(r.band).filter(Number.isFinite));
  const yRange: [number, number] = [
    Math.min(q(0.001), r.target - maxBand),
    Math.max(q(0.999), r.target + maxBand),
  ];
  return {
    yRange,
    title: `Net delta with its band (${r.policy.name}; spikes clipped)`,
    xLabel: "time (UTC)",
    yLabel: `net delta, ${s.path.underlying}`,
    xAxis: "time",
    bands: [
      {
        name: "band (target +/- effective band)",
        color: PALETTE.green as Rgb,
        xs: r.times,
        lo,
        hi,
        alpha: 0.3,
      },
    ],
    lines: [
      { name: "net delta before action", color: PALETTE.blue as Rgb, xs: r.times, ys: r.netPre, width: 1 },
    ],
    hlines: [{ y: r.target, color: PALETTE.grey as Rgb, label: "target" }],
  };
}

export function costChart(s: SuiteResult, defaultName: string): ChartSpec {
  const r =
    s.results.find((x) => x.policy.name === defaultName) ??
    (s.results[s.results.length - 1] as BacktestResult);
  const total = r.cumCost.fees.map(
    (f, i) =>
      f + (r.cumCost.slippage[i] as number) + (r.cumCost.funding[i] as number) + (r.cumCost.gas[i] as number),
  );
  return {
    title: `Cumulative hedging cost by kind (${r.policy.name})`,
    xLabel: "time (UTC)",
    yLabel: "USD",
    xAxis: "time",
    lines: [
      { name: "total", color: INK_DARK, xs: r.times, ys: total },
      { name: "fees", color: PALETTE.blue as Rgb, xs: r.times, ys: r.cumCost.fees },
      { name: "slippage vs oracle", color: PALETTE.orange as Rgb, xs: r.times, ys: r.cumCost.slippage },
      { name: "funding", color: PALETTE.purple as Rgb, xs: r.times, ys: r.cumCost.funding },
      { name: "gas", color: PALETTE.green as Rgb, xs: r.times, ys: r.cumCost.gas },
    ],
  };
}
const INK_DARK: Rgb = [30, 30, 30];

const FAMILY_STYLE: Record<string, { color: Rgb; shape: MarkerShape }> = {
  time: { color: PALETTE.grey as Rgb, shape: "square" },
  "fixed-band": { color: PALETTE.orange as Rgb, shape: "triangle" },
  "ww-band": { color: PALETTE.green as Rgb, shape: "diamond" },
  "regime-band": { color: PALETTE.blue as Rgb, shape: "circle" },
  overlay: { color: PALETTE.purple as Rgb, shape: "triangle" },
};

export function frontierChart(s: SuiteResult): ChartSpec {
  const pts: FrontierPoint[] = s.frontier ?? [
    ...s.timeFrontier,
    ...s.metrics
      .filter((m) => m.name !== "unhedged" && !s.timeFrontier.some((p) => p.name === m.name))
      .map((m) => ({
        family: m.name.endsWith("+overlay") ? "overlay" : m.name,
        name: m.name,
        parameter: "default",
        value: 0,
        varianceReductionPct: m.varianceReductionPct,
        totalCostUsd: m.totalCostUsd,
        executionCostUsd: m.executionCostUsd,
        rebalances: m.rebalances.total,
      })),
  ];
  const families = [...new Set(pts.map((p) => p.family))];
  const scatter: ScatterSeries[] = families.map((f, k) => {
    const style = FAMILY_STYLE[f] ?? {
      color: Object.values(PALETTE)[k % 10] as Rgb,
      shape: "circle" as const,
    };
    const fp = pts.filter((p) => p.family === f && p.executionCostUsd > 0);
    return {
      name: f === "time" ? "time-based (1h to 168h)" : f,
      color: style.color,
      shape: style.shape,
      connect: f !== "overlay",
      points: fp.map((p) => ({
        x: p.executionCostUsd,
        y: p.varianceReductionPct,
        ...(f === "time" ? { label: `${p.value}h` } : {}),
      })),
    };
  });
  return {
    title: "Frontier: variance reduction vs total hedging cost",
    xLabel: "execution cost over the path (fees + slippage + gas), USD, log scale",
    yLabel: "variance reduction, %",
    xAxis: "log",
    scatter,
    legendPosition: "bottom-right",
  };
}

// ---------------------------------------------------------------------------------------------
// Files

/** Daily samples of the default policy's series (for the JSON). */
function dailySeries(s: SuiteResult, r: BacktestResult) {
  const out: {
    date: string;
    valueHedged: number;
    valueUnhedged: number;
    netDelta: number;
    band: number | null;
    cumCostUsd: number;
  }[] = [];
  const vh = treasuryValue(r);
  const vu = treasuryValue(s.unhedged);
  for (let i = 0; i < r.bars; i++) {
    const t = r.times[i] as number;
    const next = i + 1 < r.bars ? (r.times[i + 1] as number) : Number.POSITIVE_INFINITY;
    if (Math.floor((t - 1) / DAY_MS) === Math.floor((next - 1) / DAY_MS)) continue;
    const b = r.band[i] as number;
    out.push({
      date: new Date(t - 1).toISOString().slice(0, 10),
      valueHedged: vh[i] as number,
      valueUnhedged: vu[i] as number,
      netDelta: r.netPost[i] as number,
      band: Number.isNaN(b) ? null : b,
      cumCostUsd:
        (r.cumCost.fees[i] as number) +
        (r.cumCost.slippage[i] as number) +
        (r.cumCost.funding[i] as number) +
        (r.cumCost.gas[i] as number),
    });
  }
  return out;
}

export type WrittenReport = {
  dir: string;
  json: string;
  charts: Record<"value" | "netDelta" | "costs" | "frontier", string>;
};

/** The report object written to report.json. */
export function reportObject(s: SuiteResult, extra: Record<string, unknown>, defaultName: string) {
  const def = s.results.find((r) => r.policy.name === defaultName);
  return {
    schema: "deltavault.backtest/1",
    engine: "model",
    ...extra,
    path: s.path,
    goals: s.goals,
    policies: s.metrics,
    timeFrontier: s.timeFrontier,
    frontier: s.frontier,
    dermanKamal: s.dermanKamal,
    seconds: s.seconds,
    defaultPolicyDaily: def === undefined ? null : dailySeries(s, def),
    rebalances:
      def === undefined
        ? null
        : def.rebalanceLog.slice(0, 5_000).map((x) => ({ ...x, time: new Date(x.time).toISOString() })),
  };
}

/** Writes report.json and the four PNG charts into `dir`. */
export async function writeReport(
  dir: string,
  s: SuiteResult,
  extra: Record<string, unknown>,
  defaultName: string,
): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const charts = {
    value: join(dir, "treasury-value.png"),
    netDelta: join(dir, "net-delta.png"),
    costs: join(dir, "costs.png"),
    frontier: join(dir, "frontier.png"),
  };
  await writeFile(charts.value, chartPng(valueChart(s, defaultName)));
  await writeFile(charts.netDelta, chartPng(netDeltaChart(s, defaultName)));
  await writeFile(charts.costs, chartPng(costChart(s, defaultName)));
  await writeFile(charts.frontier, chartPng(frontierChart(s)));
  const json = join(dir, "report.json");
  await writeFile(json, `${JSON.stringify({ ...reportObject(s, extra, defaultName), charts }, null, 2)}\n`);
  return { dir, json, charts };
}
