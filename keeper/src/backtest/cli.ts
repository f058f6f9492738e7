/**
 * `backtest` command: flags → suite → report. Used by scripts/backtest.ts (`npm run backtest`) and
 * meant to be mounted as the keeper CLI's `backtest` subcommand (`runBacktestCli(argv)` returns the
 * exit code; it writes to the streams it is given).
 *
 * Exit codes: 0 ok; 1 input data rejected (CSV errors carry file, line and reason); 2 bad flags.
 * Engines: `model` (the keeper's decide/plan code over TypeScript venue models) and `chain` (the
 * real contracts and the live keeper on Hardhat's embedded chain; injected by the entry point).
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { CsvParseError, parseUtcDateTime } from "../feeds/csvReplay.ts";
import { formatSummary, writeReport } from "../reporting/backtestReport.ts";
import { join } from "node:path";
import {
  DEFAULT_POLICY_NAME,
  defaultBacktestConfig,
  policiesByName,
  standardPolicies,
  type BacktestConfig,
  type PolicySpec,
} from "./config.ts";
import { chainEngineProblems } from "./chainScope.ts";
import type { BacktestResult } from "./engine.ts";
import { findCompanionFiles, loadReplay, underlyingFromName, type ReplayFiles } from "./load.ts";
import { slicePath, syntheticPath, type MarketPath } from "./path.ts";
import { runSuite } from "./run.ts";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

const dateSchema = z.string().transform((s, ctx) => {
  const t = parseUtcDateTime(s);
  if (t === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `not a UTC date (YYYY-MM-DD[ HH:MM[:SS]]): ${JSON.stringify(s)}`,
    });
    return z.NEVER;
  }
  return t;
});

const intString = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `--${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `--${name} must be ≥ ${min}`).max(max, `--${name} must be ≤ ${max}`));

export const BacktestArgsSchema = z
  .strictObject({
    engine: z
      .enum(["model", "chain"], {
        error: (i) => `--engine must be model or chain, got ${JSON.stringify(i.input)}`,
      })
      .default("model"),
    replay: z.string().min(1).optional(),
    dvol: z.string().min(1).optional(),
    funding: z.string().min(1).optional(),
    etfFlows: z.string().min(1).optional(),
    marketData: z
      .enum(["auto", "none"], {
        error: (i) => `--market-data must be auto or none, got ${JSON.stringify(i.input)}`,
      })
      .default("auto"),
    from: dateSchema.optional(),
    to: dateSchema.optional(),
    policy: z
      .string()
      .default("all")
      .refine((p) => p === "all" || standardPolicies().some((x) => x.name === p), {
        error: (i) =>
          `--policy must be all or one of ${standardPolicies()
            .map((x) => x.name)
            .join(", ")}; got ${JSON.stringify(i.input)}`,
      }),
    sweep: z.boolean().default(false),
    out: z.string().min(1).optional(),
    json: z.boolean().default(false),
    seed: z.string().default("1"),
    days: intString("days", 2, 36_500).default(365),
    dkPaths: intString("dk-paths", 0, 100_000).default(200),
    charts: z.boolean().default(true),
  })
  .refine((a) => a.from === undefined || a.to === undefined || a.from < a.to, {
    error: "--from must be before --to",
  });

export type BacktestArgs = z.output<typeof BacktestArgsSchema>;

export const USAGE = `usage: backtest [--engine model|chain] [--replay <prices.csv>] [--dvol <csv>] [--funding <csv>]
                [--etf-flows <csv>] [--market-data auto|none] [--from <date>] [--to <date>]
                [--policy <name>|all] [--sweep] [--out <dir>] [--json] [--seed <s>] [--days <n>]
                [--dk-paths <n>] [--no-charts]
  --engine      model (default: TypeScript venue models, fast) or chain (the real contracts and the
                live keeper on the embedded chain; ETH, base policies, a linear book; --engine chain
                needs \`npm run -s backtest\` from the repository)
  --replay      price history (datetime or epoch-ms/s OHLCV CSV); without it a simulated path
                (--seed, --days) is used
  --market-data auto: pick DVOL/funding/ETF files next to a ../shared/data-style prices file
  --policy      ${standardPolicies()
    .map((p) => p.name)
    .join(", ")} (default all; ${DEFAULT_POLICY_NAME} is the keeper default)
  --sweep       also run every policy family over a parameter range and chart the frontier
  --json        print one JSON object as the last stdout line (the table goes to stderr)`;

/** Parses argv into validated arguments; throws UsageError with a clear message. */
export function parseBacktestArgs(argv: readonly string[]): BacktestArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        engine: { type: "string" },
        replay: { type: "string" },
        dvol: { type: "string" },
        funding: { type: "string" },
        "etf-flows": { type: "string" },
        "market-data": { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        policy: { type: "string" },
        sweep: { type: "boolean" },
        out: { type: "string" },
        json: { type: "boolean" },
        seed: { type: "string" },
        days: { type: "string" },
        "dk-paths": { type: "string" },
        "no-charts": { type: "boolean" },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const r = BacktestArgsSchema.safeParse({
    engine: values.engine,
    replay: values.replay,
    dvol: values.dvol,
    funding: values.funding,
    etfFlows: values["etf-flows"],
    marketData: values["market-data"],
    from: values.from,
    to: values.to,
    policy: values.policy,
    sweep: values.sweep,
    out: values.out,
    json: values.json,
    seed: values.seed,
    days: values.days,
    dkPaths: values["dk-paths"],
    charts: values["no-charts"] === true ? false : undefined,
  });
  if (!r.success) throw new UsageError(r.error.issues.map((i) => i.message).join("; "));
  return r.data;
}

export type Io = { stdout: (s: string) => void; stderr: (s: string) => void; now?: () => Date };

/**
 * The chain engine (scripts/backtest/chainEngine.ts: the real contracts on Hardhat's embedded chain
 * and the live keeper), injected by the entry point that can load Hardhat; results unhedged first.
 */
export type ChainEngine = (o: {
  path: MarketPath;
  policies: PolicySpec[];
  config: BacktestConfig;
  workDir: string;
  progress: (line: string, done: boolean) => void;
}) => Promise<{ results: BacktestResult[]; notes: string[]; secondsPerPolicy: Record<string, number> }>;

export type Engines = { chain?: ChainEngine };

/** Loads the path the arguments describe. */
export async function loadPath(a: BacktestArgs): Promise<{ path: MarketPath; files: ReplayFiles | null }> {
  let path: MarketPath;
  let files: ReplayFiles | null = null;
  if (a.replay !== undefined) {
    const u = underlyingFromName(a.replay);
    const auto: ReplayFiles =
      a.marketData === "auto" ? await findCompanionFiles(a.replay, u) : { prices: a.replay };
    files = {
      prices: a.replay,
      dvol: a.dvol ?? auto.dvol,
      funding: a.funding ?? auto.funding,
      etfFlows: a.etfFlows ?? auto.etfFlows,
    };
    path = (await loadReplay(files, u)).path;
  } else {
    path = syntheticPath({
      seed: a.seed,
      days: a.days,
      ...(a.from === undefined ? {} : { startTime: a.from }),
    });
  }
  if (a.from !== undefined || a.to !== undefined) path = slicePath(path, a.from, a.to);
  return { path, files };
}

/** Runs the command; returns the process exit code. */
export async function runBacktestCli(
  argv: readonly string[],
  io: Io,
  engines: Engines = {},
): Promise<number> {
  const started = performance.now();
  let a: BacktestArgs;
  try {
    a = parseBacktestArgs(argv);
  } catch (e) {
    io.stderr(`backtest: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let loaded: Awaited<ReturnType<typeof loadPath>>;
  try {
    loaded = await loadPath(a);
  } catch (e) {
    if (e instanceof CsvParseError) {
      io.stderr(
        `backtest: rejected ${e.file ?? "input"}: line ${e.line}: ${e.reason}: ${e.message.replace(/^.*?line \d+: \w+: /, "")}\n`,
      );
      return 1;
    }
    if (e instanceof RangeError || (e as NodeJS.ErrnoException).code === "ENOENT") {
      io.stderr(`backtest: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
  const stamp = (io.now?.() ?? new Date()).toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const dir = a.out ?? `out/backtest-${stamp}`;
  let config = defaultBacktestConfig();
  let policies = a.policy === "all" ? standardPolicies() : policiesByName(a.policy);
  let precomputed: BacktestResult[] | undefined;
  let chain: { notes: string[]; secondsPerPolicy: Record<string, number> } | null = null;
  if (a.engine === "chain") {
    // The chain engine hedges a linear book (no option programme) with the base policies.
    config = defaultBacktestConfig({ treasury: { coveredCalls: null } });
    if (a.policy === "all") policies = policies.filter((p) => !p.overlay);
    const problems = [
      ...chainEngineProblems(loaded.path, config, policies),
      ...(a.sweep ? ["--sweep runs on the model engine only"] : []),
      ...(engines.chain === undefined
        ? ["this entry point cannot start the embedded chain (run `npm run -s backtest` from the repo)"]
        : []),
    ];
    if (problems.length > 0 || engines.chain === undefined) {
      io.stderr(`backtest: --engine chain: ${problems.join("; ")}\n`);
      return 2;
    }
    const r = await engines.chain({
      path: loaded.path,
      policies,
      config,
      workDir: join(dir, "journals"),
      progress: (line, done) => io.stderr(done ? `${line}\n` : `${line}\r`),
    });
    precomputed = r.results;
    chain = { notes: r.notes, secondsPerPolicy: r.secondsPerPolicy };
  }
  const suite = runSuite({
    path: loaded.path,
    config,
    policies,
    sweep: a.sweep,
    dermanKamalPaths: a.dkPaths,
    ...(precomputed === undefined ? {} : { precomputed }),
  });
  const extra = {
    generatedAt: (io.now?.() ?? new Date()).toISOString(),
    args: {
      ...a,
      from: a.from === undefined ? null : new Date(a.from).toISOString(),
      to: a.to === undefined ? null : new Date(a.to).toISOString(),
    },
    files: loaded.files,
    engine: { name: a.engine, ...(chain === null ? {} : chain) },
    config: {
      treasury: config.treasury,
      limits: config.limits,
      venues: config.venues,
      keeper: { ...config.keeper, plan: config.keeper.plan },
    },
  };
  const report = a.charts ? await writeReport(dir, suite, extra, DEFAULT_POLICY_NAME) : null;
  const wallSeconds = (performance.now() - started) / 1000;
  const summary = formatSummary(suite, a.engine);
  const where =
    report === null ? "" : `\nreport: ${report.json}\ncharts: ${Object.values(report.charts).join(", ")}\n`;
  const timing =
    chain === null
      ? `model engine: ${suite.path.bars} bars × ${suite.results.length} policies in ${suite.seconds.policies.toFixed(2)} s (wall ${wallSeconds.toFixed(2)} s)`
      : [
          `chain engine: ${suite.path.bars} bars, per policy on chain: ${Object.entries(
            chain.secondsPerPolicy,
          )
            .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
            .join(", ")} (wall ${wallSeconds.toFixed(1)} s)`,
          ...chain.notes.map((x) => `  ${x}`),
        ].join("\n");
  if (a.json) {
    io.stderr(`${summary}\n${timing}${where}`);
    const out = {
      policies: suite.metrics.map((m) => ({
        name: m.name,
        varianceReductionPct: m.varianceReductionPct,
        totalCostUsd: m.totalCostUsd,
        rebalances: m.rebalances.total,
        trackingErrorPct: m.trackingErrorPct,
        maxAbsNetDeltaPct: m.maxAbsNetDeltaPct,
      })),
      pathHours: suite.path.pathHours,
      wallSeconds,
      defaultPolicy: DEFAULT_POLICY_NAME,
      engine: a.engine,
      bars: suite.path.bars,
      policySeconds: chain === null ? suite.seconds.policies : chain.secondsPerPolicy,
      goals:
        suite.goals === null
          ? null
          : {
              meetsVarianceGoal: suite.goals.meetsVarianceGoal,
              beatsBothTimeBasedAtEqualCost: suite.goals.beatsBothTimeBasedAtEqualCost,
            },
      report: report?.json ?? null,
    };
    io.stdout(`${JSON.stringify(out)}\n`);
  } else {
    io.stdout(`${summary}\n${timing}${where}`);
  }
  return 0;
}
