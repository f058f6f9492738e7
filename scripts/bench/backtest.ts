/**
 * Backtest benchmark: `npm run -s bench:backtest [-- --json] [--sweep]`.
 *
 * 1. Times a 1-year hourly replay (the first 8,760 bars of 2024) of the ETH CSV on the model engine:
 *    every standard policy (6 base + 5 with the options overlay), wall and CPU seconds.
 * 2. Runs the full 2020-01-01 → end ETH replay (with DVOL and Binance funding where the files cover
 *    the dates) and prints each policy's figures and the goals; writes the report and charts to
 *    out/bench-backtest/.
 * With --json the last stdout line is one JSON object with every figure (progress on stderr).
 */
import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import {
  defaultBacktestConfig,
  DEFAULT_POLICY_NAME,
  standardPolicies,
} from "../../keeper/src/backtest/config.ts";
import { runModelBacktest } from "../../keeper/src/backtest/engine.ts";
import { findCompanionFiles, loadReplay } from "../../keeper/src/backtest/load.ts";
import { slicePath } from "../../keeper/src/backtest/path.ts";
import { runSuite } from "../../keeper/src/backtest/run.ts";
import { formatSummary, writeReport } from "../../keeper/src/reporting/backtestReport.ts";

const ETH_CSV = "../shared/data/prices/ETHUSDT_1h_binance_2019-12_2025-11.csv";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    json: { type: "boolean" },
    sweep: { type: "boolean" },
    csv: { type: "string" },
    "dk-paths": { type: "string" },
  },
});
const csv = values.csv ?? ETH_CSV;
const log = (s: string) => process.stderr.write(`${s}\n`);

const files = await findCompanionFiles(csv, "ETH");
const t0 = performance.now();
const { path: full } = await loadReplay(files, "ETH");
const loadSeconds = (performance.now() - t0) / 1000;
const config = defaultBacktestConfig();

// ---- 1. one year, hourly: 8,760 bars
const from2024 = slicePath(full, Date.UTC(2024, 0, 1));
const year = slicePath(from2024, undefined, (from2024.times[8760] as number) ?? undefined);
log(`bench backtest: 1-year replay, ${year.times.length} bars, ${standardPolicies().length} policies...`);
const perPolicy: Record<string, number> = {};
const c0 = cpuUsage();
const w0 = performance.now();
for (const p of standardPolicies()) {
  const a = performance.now();
  runModelBacktest({ path: year, policy: p, config });
  perPolicy[p.name] = (performance.now() - a) / 1000;
}
const yearWallSeconds = (performance.now() - w0) / 1000;
const cpu = cpuUsage(c0);
const yearCpuSeconds = (cpu.user + cpu.system) / 1e6;

// ---- 2. ETH 2020-01-01 → end of file
const eth = slicePath(full, Date.UTC(2020, 0, 1));
log(
  `bench backtest: ETH ${new Date(eth.times[0] as number).toISOString().slice(0, 10)} → ${new Date(eth.times[eth.times.length - 1] as number).toISOString().slice(0, 10)}, ${eth.times.length} bars...`,
);
const w1 = performance.now();
const suite = runSuite({
  path: eth,
  config,
  policies: standardPolicies(),
  sweep: values.sweep === true,
  dermanKamalPaths: values["dk-paths"] === undefined ? 200 : Number(values["dk-paths"]),
});
const fullSeconds = (performance.now() - w1) / 1000;
const report = await writeReport("out/bench-backtest", suite, { files, bench: true }, DEFAULT_POLICY_NAME);

const figures = {
  oneYear: {
    bars: year.times.length,
    policies: standardPolicies().length,
    wallSeconds: yearWallSeconds,
    cpuSeconds: yearCpuSeconds,
    defaultPolicySeconds: perPolicy[DEFAULT_POLICY_NAME],
    perPolicySeconds: perPolicy,
  },
  eth2020to2025: {
    from: suite.path.from,
    to: suite.path.to,
    bars: suite.path.bars,
    pathHours: suite.path.pathHours,
    missingBars: suite.path.missingBars,
    wallSeconds: fullSeconds,
    policySeconds: suite.seconds.policies,
    policies: suite.metrics.map((m) => ({
      name: m.name,
      varianceReductionPct: m.varianceReductionPct,
      totalCostUsd: m.totalCostUsd,
      costs: m.costs,
      rebalances: m.rebalances.total,
      rebalancesByTier: {
        auto: m.rebalances.auto,
        oneApproval: m.rebalances.oneApproval,
        twoApprovals: m.rebalances.twoApprovals,
      },
      trackingErrorPct: m.trackingErrorPct,
      maxAbsNetDeltaPct: m.maxAbsNetDeltaPct,
      maxDrawdownPct: m.maxDrawdownPct,
      standDowns: m.decisions.standDown,
      rejected: m.decisions.rejected,
    })),
    goals: suite.goals,
    dermanKamal: suite.dermanKamal.map((d) => ({
      rebalances: d.rebalances,
      paths: d.paths,
      predictedStdUsd: d.predictedStdUsd,
      realisedStdUsd: d.realisedStdUsd,
      ratio: d.ratio,
    })),
  },
  loadSeconds,
  report: report.json,
  charts: report.charts,
};

const text = [
  `1-year hourly replay (${year.times.length} bars) on the model engine: ${yearWallSeconds.toFixed(2)} s wall, ${yearCpuSeconds.toFixed(2)} s CPU for ${standardPolicies().length} policies (${DEFAULT_POLICY_NAME} alone ${(perPolicy[DEFAULT_POLICY_NAME] ?? 0).toFixed(2)} s)`,
  ...Object.entries(perPolicy).map(([k, v]) => `  ${k.padEnd(22)} ${v.toFixed(3)} s`),
  "",
  formatSummary(suite),
  `full replay: ${fullSeconds.toFixed(1)} s; report ${report.json}`,
].join("\n");
if (values.json === true) {
  log(text);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  process.stdout.write(`${text}\n`);
}
