/**
 * `npm run demo`: deploys the whole protocol on the embedded chain, funds a marketplace treasury
 * (1,000 WETH, 50 WBTC, 5M USDC, 300 WETH of creator payouts owed) and prints every address, a
 * sample option quote, a sample perp fill, a Uniswap swap, the vault's exposure and NAV, and one
 * atomic option + perp hedge (tier 1: proposed, approved by FINANCE, executed) with the exposure
 * before and after.
 *
 * Then the month (scripts/demo/month.ts): the real keeper hedges the treasury, live, through a
 * simulated 30-day market (or a replayed ETH CSV), one tick per market hour, with a progress bar on
 * stderr; the report (table, report.json, PNG charts) and the keeper's journal go to `--out`.
 *
 * Flags: `--days N` (0 skips the month), `--seed N`, `--replay <csv>`, `--out <dir>`, `--policy
 * <name>`, `--json` (one JSON object as the last stdout line), `--help`. Unknown flags exit 2.
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { network } from "hardhat";
import { formatUnits, parseEventLogs, parseUnits, type Address } from "viem";
import { z } from "zod";
import {
  confirmStep,
  deploySystem,
  fundTreasury,
  type HardhatViem,
  type SystemDeployment,
} from "./deploy/system.ts";
import { swapExactInputSingle, quoteExactInputSingle } from "./deploy/uniswapV3.ts";
import { formatAtomicHedge, runAtomicHedge, type AtomicHedgeSummary } from "./demo/atomicHedge.ts";
import { formatGovernanceDemo, runGovernanceDemo, type GovernanceDemoSummary } from "./demo/governance.ts";
import { formatMonth, MONTH_POLICIES, runMonth, type MonthPolicy, type MonthResult } from "./demo/month.ts";

export const TREASURY = { weth: 1_000, wbtc: 50, usdc: 5_000_000, creatorPayoutsOwedWeth: 300 } as const;
const OPTION_SIZE = 100; // WETH
const PERP_SHORT = 100; // WETH
const PERP_MARGIN_USDC = 100_000;
const SWAP_WETH = 10;
/** Wallet index of the demo's market participant (0..5 are the protocol accounts). */
const TRADER_INDEX = 6;

const POLICY_NAMES = Object.keys(MONTH_POLICIES) as [MonthPolicy, ...MonthPolicy[]];

const USAGE = `usage: npm run demo [-- --days N --seed N --replay <csv> --out <dir> --policy <name> --json]

Deploys DeltaVault (tokens, oracles, options AMM, perp DEX, Uniswap V3, policy, ledger, approvals,
vault, adapters) on the embedded chain, funds a marketplace treasury, prints a summary, then runs
the live keeper through a simulated month and writes its report.

  --days N         market days of the month (default 30; 0 skips it)
  --seed N         simulation seed (default 42)
  --replay <csv>   drive ETH from an OHLCV price CSV (close prices, rebased to the oracle) instead
  --out <dir>      report folder (default out/demo-<timestamp>)
  --policy <name>  the keeper's hedging policy: ${POLICY_NAMES.join(" | ")} (default regime-band)
  --json           also print one JSON object with every figure as the last stdout line
  --help           show this help`;

const intFlag = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/u, `${what}: expected an integer`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what}: must be >= ${min}`).max(max, `${what}: must be <= ${max}`));

const cliSchema = z.strictObject({
  json: z.boolean().default(false),
  help: z.boolean().default(false),
  days: intFlag("--days", 0, 365).default(30),
  seed: intFlag("--seed", 0, 2 ** 31 - 1).default(42),
  replay: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
  policy: z
    .enum(POLICY_NAMES, { error: `--policy: expected one of ${POLICY_NAMES.join(", ")}` })
    .default("regime-band"),
});
type Cli = z.infer<typeof cliSchema>;

/** Parses the CLI flags; throws with a readable message on unknown flags, bad values or positionals. */
export function parseCli(argv: readonly string[]): Cli {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      days: { type: "string" },
      seed: { type: "string" },
      replay: { type: "string" },
      out: { type: "string" },
      policy: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const r = cliSchema.safeParse(values);
  if (!r.success) throw new Error(r.error.issues.map((i) => i.message).join("; "));
  return r.data;
}

const num = (value: bigint, decimals = 18): number => Number(formatUnits(value, decimals));

export type OptionQuoteSummary = {
  seriesId: string;
  strike: number;
  expiry: string;
  size: number;
  premium: number;
  amountUsdc: number;
  fee: number;
  spread: number;
  mid: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  vol: number;
  spot: number;
};

export type PerpFillSummary = {
  size: number;
  marginUsdc: number;
  fillPrice: number;
  indexPrice: number;
  fee: number;
  skewAfter: number;
  fundingRatePerDay: number;
};

export type SwapSummary = { amountInWeth: number; amountOutUsdc: number; effectivePrice: number };

export type ExposureSummary = {
  spot: number;
  options: number;
  perps: number;
  liabilities: number;
  net: number;
  target: number;
  band: number;
  rebalanceDue: boolean;
  price: number;
};

export type DemoResult = {
  chainId: number;
  accounts: SystemDeployment["accounts"];
  addresses: Record<string, Record<string, Address>>;
  seriesListed: number;
  treasury: typeof TREASURY;
  optionQuote: OptionQuoteSummary;
  perpFill: PerpFillSummary;
  swap: SwapSummary;
  exposure: { WETH: ExposureSummary; WBTC: ExposureSummary };
  atomicHedge: AtomicHedgeSummary;
  governance: GovernanceDemoSummary;
  navUsd: number;
  /** The live keeper's month (null with --days 0). */
  month: MonthResult | null;
  elapsedMs: number;
};

function addressBook(d: SystemDeployment): DemoResult["addresses"] {
  return {
    tokens: { WETH: d.tokens.weth.address, WBTC: d.tokens.wbtc.address, USDC: d.tokens.usdc.address },
    oracles: { "ETH/USD feed": d.feeds.weth, "BTC/USD feed": d.feeds.wbtc, router: d.router },
    options: { surface: d.surface, pool: d.optionsPool, amm: d.optionsAmm },
    perp: { dex: d.perpDex },
    uniswap: { ...d.uniswap, "WETH/USDC pool": d.pools.weth, "WBTC/USDC pool": d.pools.wbtc },
    core: { policy: d.policy, ledger: d.ledger, approvals: d.approvals, vault: d.vault },
    adapters: { ...d.adapters },
  };
}

async function sampleOptionQuote(viem: HardhatViem, d: SystemDeployment): Promise<OptionQuoteSummary> {
  const atmPut = d.series
    .filter((s) => s.underlying === d.tokens.weth.address && !s.isCall && s.strike === d.prices.weth)
    .sort((a, b) => Number(b.expiry - a.expiry))[0];
  if (!atmPut) throw new Error("demo: no ATM WETH put listed");
  const amm = await viem.getContractAt("OptionsAMM", d.optionsAmm);
  const q = await amm.read.quote([atmPut.id, parseUnits(String(OPTION_SIZE), 18)]);
  return {
    seriesId: atmPut.id.toString(),
    strike: num(atmPut.strike),
    expiry: new Date(Number(atmPut.expiry) * 1000).toISOString(),
    size: OPTION_SIZE,
    premium: num(q.premium),
    amountUsdc: num(q.amountUsdc, d.tokens.usdc.decimals),
    fee: num(q.fee),
    spread: num(q.spread),
    mid: num(q.mid),
    delta: num(q.delta),
    gamma: num(q.gamma),
    vega: num(q.vega),
    theta: num(q.theta),
    vol: num(q.vol),
    spot: num(q.spot),
  };
}

async function traderWallet(viem: HardhatViem) {
  const wallet = (await viem.getWalletClients())[TRADER_INDEX];
  if (!wallet) throw new Error(`demo: need wallet client #${TRADER_INDEX} as the trader`);
  return wallet;
}

async function samplePerpFill(viem: HardhatViem, d: SystemDeployment): Promise<PerpFillSummary> {
  const publicClient = await viem.getPublicClient();
  const trader = await traderWallet(viem);
  const as = { account: trader.account };
  const usdc = await viem.getContractAt("TestToken", d.tokens.usdc.address);
  const dex = await viem.getContractAt("PerpDEX", d.perpDex);
  const weth = d.tokens.weth.address;
  const margin = parseUnits(String(PERP_MARGIN_USDC), d.tokens.usdc.decimals);
  const size = -parseUnits(String(PERP_SHORT), 18);

  await confirmStep(publicClient, "mint margin USDC", () =>
    usdc.write.mint([trader.account.address, margin]),
  );
  await confirmStep(publicClient, "approve margin", () => usdc.write.approve([d.perpDex, margin], as));
  await confirmStep(publicClient, "perpDex.depositMargin", () => dex.write.depositMargin([weth, margin], as));
  const [quoted] = await dex.read.quote([weth, size]);
  const deadline = (await publicClient.getBlock()).timestamp + 600n;
  const receipt = await confirmStep(publicClient, "perpDex.modifyPosition (short)", () =>
    dex.write.modifyPosition([weth, size, (quoted * 99n) / 100n, deadline], as),
  );
  const [fill] = parseEventLogs({ abi: dex.abi, eventName: "PositionModified", logs: receipt.logs });
  if (!fill) throw new Error("demo: the perp trade emitted no PositionModified");
  const market = await dex.read.marketState([weth]);
  return {
    size: num(size),
    marginUsdc: PERP_MARGIN_USDC,
    fillPrice: num(fill.args.fillPrice),
    indexPrice: num(fill.args.indexPrice),
    fee: num(fill.args.fee),
    skewAfter: num(market.skew),
    fundingRatePerDay: num(market.fundingRatePerDay),
  };
}

async function sampleSwap(viem: HardhatViem, d: SystemDeployment): Promise<SwapSummary> {
  const publicClient = await viem.getPublicClient();
  const trader = await traderWallet(viem);
  const clients = { publicClient, walletClient: trader };
  const weth = await viem.getContractAt("TestToken", d.tokens.weth.address);
  const usdc = await viem.getContractAt("TestToken", d.tokens.usdc.address);
  const amountIn = parseUnits(String(SWAP_WETH), d.tokens.weth.decimals);
  const me = trader.account.address;
  await confirmStep(publicClient, "mint swap WETH", () => weth.write.mint([me, amountIn]));
  const pair = { tokenIn: weth.address, tokenOut: usdc.address, fee: d.poolFee, amountIn };
  const quoted = await quoteExactInputSingle(clients, d.uniswap, pair);
  const before = await usdc.read.balanceOf([me]);
  const deadline = (await publicClient.getBlock()).timestamp + 600n;
  await swapExactInputSingle(clients, d.uniswap, {
    ...pair,
    amountOutMinimum: (quoted.amountOut * 99n) / 100n,
    recipient: me,
    deadline,
  });
  const amountOut = num((await usdc.read.balanceOf([me])) - before, d.tokens.usdc.decimals);
  return { amountInWeth: SWAP_WETH, amountOutUsdc: amountOut, effectivePrice: amountOut / SWAP_WETH };
}

async function vaultExposure(
  viem: HardhatViem,
  d: SystemDeployment,
): Promise<{ exposure: DemoResult["exposure"]; navUsd: number }> {
  const vault = await viem.getContractAt("TreasuryVault", d.vault);
  const one = async (token: Address): Promise<ExposureSummary> => {
    const e = await vault.read.exposure([token]);
    return {
      spot: num(e.spot),
      options: num(e.options),
      perps: num(e.perps),
      liabilities: num(e.liabilities),
      net: num(e.net),
      target: num(e.target),
      band: num(e.band),
      rebalanceDue: e.rebalanceDue,
      price: num(e.price),
    };
  };
  const [navUsd] = await vault.read.nav();
  return {
    exposure: { WETH: await one(d.tokens.weth.address), WBTC: await one(d.tokens.wbtc.address) },
    navUsd: num(navUsd),
  };
}

export type MonthRun = {
  days: number;
  seed: number;
  replay?: string;
  out: string;
  policy: MonthPolicy;
  progress?: (line: string, done: boolean) => void;
};

/** Deploys, funds and samples every venue on `viem`'s chain, then runs the month; returns the figures. */
export async function runDemo(
  connection: Awaited<ReturnType<typeof network.connect>>,
  month: MonthRun | null = null,
): Promise<DemoResult> {
  const { viem } = connection;
  const started = Date.now();
  const d = await deploySystem(viem);
  await fundTreasury(viem, d, TREASURY);
  const optionQuote = await sampleOptionQuote(viem, d);
  const perpFill = await samplePerpFill(viem, d);
  const swap = await sampleSwap(viem, d);
  const { exposure, navUsd } = await vaultExposure(viem, d);
  const atomicHedge = await runAtomicHedge(viem, d);
  const governance = await runGovernanceDemo(connection, d);
  const monthResult =
    month === null || month.days === 0
      ? null
      : await runMonth(
          connection,
          d,
          {
            days: month.days,
            seed: month.seed,
            out: month.out,
            policy: month.policy,
            venueLister: governance.timelock,
            ...(month.replay === undefined ? {} : { replay: month.replay }),
          },
          month.progress,
        );
  return {
    chainId: d.chainId,
    accounts: d.accounts,
    addresses: addressBook(d),
    seriesListed: d.series.length,
    treasury: TREASURY,
    optionQuote,
    perpFill,
    swap,
    exposure,
    atomicHedge,
    governance,
    navUsd,
    month: monthResult,
    elapsedMs: Date.now() - started,
  };
}

const usd = (x: number, digits = 2): string =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fixed = (x: number, digits = 4): string => x.toFixed(digits);

/** The readable summary, one string per line. */
export function formatSummary(r: DemoResult): string[] {
  const lines: string[] = [`DeltaVault demo on the embedded chain (chain id ${r.chainId})`, ""];
  lines.push("Accounts");
  for (const [role, address] of Object.entries(r.accounts)) lines.push(`  ${role.padEnd(12)} ${address}`);
  for (const [group, entries] of Object.entries(r.addresses)) {
    lines.push("", `Addresses: ${group}`);
    for (const [name, address] of Object.entries(entries)) lines.push(`  ${name.padEnd(16)} ${address}`);
  }
  const q = r.optionQuote;
  lines.push(
    "",
    `Option quote: buy ${q.size} WETH ${usd(q.strike, 0)} put, expiry ${q.expiry} (series ${q.seriesId})`,
    `  premium ${usd(q.premium)} USD (pay ${usd(q.amountUsdc)} USDC) = mid ${usd(q.mid)} + fee ${usd(q.fee)} + spread ${usd(q.spread)}`,
    `  per option: delta ${fixed(q.delta)}  gamma ${fixed(q.gamma, 6)}  vega ${fixed(q.vega, 2)} (per 1.0 vol)  theta ${fixed(q.theta, 2)}/year  vol ${fixed(q.vol * 100, 2)}%  spot ${usd(q.spot)}`,
  );
  const p = r.perpFill;
  lines.push(
    "",
    `Perp fill: ${p.size} WETH (short) with ${usd(p.marginUsdc, 0)} USDC margin`,
    `  fill ${usd(p.fillPrice, 4)} (index ${usd(p.indexPrice)})  fee ${usd(p.fee)} USDC  skew after ${p.skewAfter} WETH  funding ${fixed(p.fundingRatePerDay * 100, 6)}%/day`,
  );
  const s = r.swap;
  lines.push(
    "",
    `Uniswap swap: ${s.amountInWeth} WETH -> ${usd(s.amountOutUsdc)} USDC (effective price ${usd(s.effectivePrice, 4)})`,
    "",
    `Treasury funded: ${r.treasury.weth} WETH, ${r.treasury.wbtc} WBTC, ${usd(r.treasury.usdc, 0)} USDC; owes ${r.treasury.creatorPayoutsOwedWeth} WETH creator payouts`,
  );
  for (const [symbol, e] of Object.entries(r.exposure)) {
    lines.push(
      `  ${symbol.padEnd(5)} spot ${e.spot}  options ${e.options}  perps ${e.perps}  liabilities ${e.liabilities}  net ${e.net}  target ${e.target}  band ±${e.band}  rebalance due: ${e.rebalanceDue ? "yes" : "no"}`,
    );
  }
  lines.push(
    `  NAV ${usd(r.navUsd)} USD`,
    "",
    ...formatAtomicHedge(r.atomicHedge),
    "",
    ...formatGovernanceDemo(r.governance),
    "",
    ...(r.month === null ? ["Month skipped (--days 0)."] : formatMonth(r.month)),
    "",
    `Done in ${(r.elapsedMs / 1000).toFixed(1)} s.`,
  );
  return lines;
}

export type DemoIo = {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress bar updates (`done` on the last one); default: one \r-rewritten line on a TTY stderr. */
  progress?: (line: string, done: boolean) => void;
};
const consoleIo: DemoIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** A single-line progress bar on stderr when it is a terminal; otherwise one line per ~10 %. */
function stderrProgress(): (line: string, done: boolean) => void {
  let last = -1;
  let count = 0;
  return (line, done) => {
    count++;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line}\x1b[K${done ? "\n" : ""}`);
      return;
    }
    const decile = Math.floor(Number(/\[(#*)/u.exec(line)?.[1]?.length ?? 0) / 2.4);
    if (done || decile !== last || count === 1) process.stderr.write(`${line}\n`);
    last = decile;
  };
}

/** CLI entry: returns the exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: readonly string[], io: DemoIo = consoleIo): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(argv);
  } catch (err) {
    io.err(`demo: ${err instanceof Error ? err.message : String(err)}`);
    io.err(USAGE);
    return 2;
  }
  if (cli.help) {
    io.out(USAGE);
    return 0;
  }
  const connection = await network.connect();
  try {
    const out = cli.out ?? join("out", `demo-${new Date().toISOString().replace(/[:.]/g, "-")}`);
    const result = await runDemo(connection, {
      days: cli.days,
      seed: cli.seed,
      out: resolve(out),
      policy: cli.policy,
      progress: io.progress ?? stderrProgress(),
      ...(cli.replay === undefined ? {} : { replay: resolve(cli.replay) }),
    });
    for (const line of formatSummary(result)) io.out(line);
    if (cli.json) io.out(JSON.stringify(result));
    return 0;
  } catch (err) {
    io.err(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await connection.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
