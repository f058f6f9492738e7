/**
 * The demo's month: the real keeper (keeper/src/loop, live, in-process over the embedded chain's
 * EIP-1193 provider) hedges the funded marketplace treasury through a simulated market
 * (keeper/src/feeds/simulated.ts: stochastic volatility with jumps, a crash day, a volatility-regime
 * shift, ETF-flow swings) or a replayed ETH price CSV, one keeper tick per market step.
 *
 * Per step: warp the chain to the step's time; post the ETH and BTC oracle rounds as the market
 * operator (a move beyond the router's jump guard is posted as several rounds, as a deviation-
 * triggered feed would); book the treasury's flows (marketplace proceeds deposited as WETH, the
 * creators' share added to the CreatorFunds liability, creators paid once a day); run ONE keeper
 * tick while a finance/risk desk approves whatever the keeper proposes for tier 1/2; then read the
 * vault's exposure, NAV and perp funding. At the end the keeper/src/backtest metrics and the
 * keeper/src/reporting charts turn the collected series into the report.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { network } from "hardhat";
import {
  createPublicClient,
  custom,
  formatUnits,
  keccak256,
  parseUnits,
  stringToBytes,
  type Address,
  type TransactionReceipt,
} from "viem";
import { z } from "zod";
import { Bucket, confirmStep, walletFor, type SystemDeployment } from "../deploy/system.ts";
import { createApprovalDesk } from "./approvalDesk.ts";
import {
  postPriceMove,
  progressBar,
  readRebalanceReceipt,
  testAccountKey,
  unhedgedResult,
} from "./embeddedRun.ts";
import { parseConfig } from "../../keeper/src/config/index.ts";
import { startKeeper, type TickReport } from "../../keeper/src/loop/index.ts";
import { createLogger } from "../../keeper/src/report/logger.ts";
import { createMetrics } from "../../keeper/src/report/metrics.ts";
import { demoMarketConfig, simulateMarket, HOUR_MS, DAY_MS } from "../../keeper/src/feeds/simulated.ts";
import { readPriceCsv } from "../../keeper/src/feeds/csvReplay.ts";
import {
  reasonTally,
  type BacktestResult,
  type CostKind,
  type ReasonCount,
  type Tier,
} from "../../keeper/src/backtest/engine.ts";
import {
  dailyPnl,
  cumulativePnl,
  policyMetrics,
  type PolicyMetrics,
} from "../../keeper/src/backtest/metrics.ts";
import { formatSummary, formatTable, frontierChart } from "../../keeper/src/reporting/backtestReport.ts";
import { defaultBacktestConfig, standardPolicies } from "../../keeper/src/backtest/config.ts";
import { pathFromBars, pathFromTicks, type MarketPath } from "../../keeper/src/backtest/path.ts";
import { runSuite } from "../../keeper/src/backtest/run.ts";
import { chartPng, PALETTE, type ChartSpec, type Rgb } from "../../keeper/src/reporting/chart.ts";

type Connection = Awaited<ReturnType<typeof network.connect>>;

/**
 * Policies the live keeper runs in the month (its `decide.policy` and `decide.hedgeTo`): the
 * backtest's hedged base policies plus the regime band hedged only back to its edge.
 */
export const MONTH_POLICIES = {
  "regime-band": { hedgeTo: "target", policy: { kind: "regime-band" } },
  "regime-band-edge": { hedgeTo: "edge", policy: { kind: "regime-band" } },
  "ww-band": { hedgeTo: "target", policy: { kind: "ww-band" } },
  "fixed-band": { hedgeTo: "target", policy: { kind: "fixed-band", band: 25 } },
  "time-hourly": { hedgeTo: "target", policy: { kind: "time", intervalHours: 1 } },
  "time-daily": { hedgeTo: "target", policy: { kind: "time", intervalHours: 24 } },
} as const;
export type MonthPolicy = keyof typeof MONTH_POLICIES;

export const monthOptionsSchema = z.strictObject({
  days: z.number().int().min(1).max(365),
  seed: z.number().int(),
  replay: z.string().min(1).optional(),
  out: z.string().min(1),
  policy: z.enum(Object.keys(MONTH_POLICIES) as [MonthPolicy, ...MonthPolicy[]]),
  /** Market step, minutes (one keeper tick per step; 15 → 2,880 ticks for 30 days). */
  stepMinutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(15),
  /**
   * Holder of the options AMM's LISTER_ROLE (the Timelock once governance took over), impersonated
   * on the embedded chain to list the next expiry's ATM strip so the keeper keeps an IV point.
   */
  venueLister: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/u)
    .transform((a) => a as Address)
    .optional(),
  /** Gas price used to value the keeper's gas, gwei. */
  gasPriceGwei: z.number().positive().default(20),
});
export type MonthOptions = z.input<typeof monthOptionsSchema>;

/** Marketplace flows: mean proceeds per hour (WETH), the creators' share, ETF sentiment scale. */
const FLOWS = { proceedsWethPerHour: 1.5, creatorShare: 0.4, etfScaleUsd: 300e6 } as const;
const CREATOR_INDEX = 7;
const COSTS: readonly CostKind[] = ["fees", "slippage", "funding", "gas"];

export type StepRecord = {
  time: number;
  eth: number;
  btc: number;
  /** Net WETH delta before the tick's action (the keeper's view of the vault) and after it. */
  netPre: number;
  netPost: number;
  policyBand: number;
  effectiveBand: number;
  hedgedValueUsd: number;
  unhedgedValueUsd: number;
  cumFlowUsd: number;
  outcome: string;
  tier: number | null;
  reasons: string[];
};

export type MonthResult = {
  source: string;
  policy: MonthPolicy;
  days: number;
  steps: number;
  stepMinutes: number;
  wallMs: number;
  metrics: PolicyMetrics;
  unhedged: PolicyMetrics;
  dailyPnl: { hedged: number[]; unhedged: number[] };
  variance: { hedged: number; unhedged: number; reductionPct: number };
  costs: Record<CostKind, number> & { total: number };
  rebalances: Record<Tier, number> & { total: number };
  /** Operator rebalances outside the keeper: expired held series redeemed (with a perp offset). */
  housekeepingRebalances: number;
  /** Per confirmed rebalance: the vault's |net| right after it and its governed band. */
  afterRebalance: { time: number; net: number; band: number; tier: number }[];
  standDowns: ReasonCount[];
  flows: { proceedsWeth: number; creatorPayoutsWeth: number };
  events: string[];
  table: string;
  /**
   * The same month's ETH path through the model engine (the keeper's decide/plan code over the
   * venue models): every policy side by side, the cost/variance frontier, Derman–Kamal.
   */
  policies: { table: string; summary: string; metrics: PolicyMetrics[]; seconds: number };
  outDir: string;
  journal: string;
  files: string[];
};

type Market = { time: number; eth: number; btc: number; etfFlowEth: number; events: string[] };

const f18 = (x: bigint) => Number(formatUnits(x, 18));

/** Market steps: the simulation (ETH/BTC) or a replayed ETH CSV (rebased to the current oracle price). */
async function marketSteps(
  o: z.output<typeof monthOptionsSchema>,
  start: number,
  s0: { eth: number; btc: number },
): Promise<{ source: string; steps: Market[]; ethPath: MarketPath | null }> {
  const stepMs = o.stepMinutes * 60_000;
  const n = Math.round((o.days * DAY_MS) / stepMs) + 1;
  const base = demoMarketConfig(o.seed, start);
  const sim = [
    ...simulateMarket({
      ...base,
      stepMs,
      steps: n,
      assets: { ETH: { s0: s0.eth }, BTC: { s0: s0.btc } },
    }),
  ];
  const steps: Market[] = [];
  let etf = 0;
  for (const t of sim) {
    for (const d of t.data) if (d.kind === "etfFlow" && d.underlying === "ETH") etf = d.netFlowUsd;
    const events = t.events.map((e) =>
      e.type === "crash"
        ? "crash"
        : e.type === "regimeShift"
          ? `volatility regime shift ×${Math.sqrt(e.thetaMultiplier).toFixed(2)}`
          : `${e.underlying} jump ${(e.logReturn * 100).toFixed(1)} %`,
    );
    steps.push({ time: t.time, eth: t.spot.ETH, btc: t.spot.BTC, etfFlowEth: etf, events });
  }
  if (o.replay === undefined) {
    const source = `simulated (seed ${o.seed})`;
    // The ETH path the keeper saw, with the simulation's IV, skew, funding and ETF flows.
    return { source, steps, ethPath: pathFromTicks(sim, "ETH", stepMs, source) };
  }
  const csv = await readPriceCsv(o.replay);
  const bars = csv.bars.filter((b) => b.close > 0);
  if (bars.length < 2) throw new Error(`--replay ${o.replay}: fewer than 2 price bars`);
  const scale = s0.eth / (bars[0] as { close: number }).close;
  const replayed = steps.slice(0, Math.min(steps.length, bars.length)).map((s, i) => ({
    ...s,
    eth: (bars[i] as { close: number }).close * scale,
    events: [],
  }));
  return {
    source: `replay ${o.replay} (${replayed.length} bars, rebased ×${scale.toFixed(4)})`,
    steps: replayed,
    ethPath: null,
  };
}

/** Runs the month on `connection`'s chain against the deployed and funded system `d`. */
export async function runMonth(
  connection: Connection,
  d: SystemDeployment,
  options: MonthOptions,
  progress: (line: string, done: boolean) => void = () => undefined,
): Promise<MonthResult> {
  const o = monthOptionsSchema.parse(options);
  const wall0 = Date.now();
  const { viem, networkHelpers } = connection;
  const pc = await viem.getPublicClient();
  const treasurer = await walletFor(viem, d.accounts.treasurer);
  const creator = (await viem.getWalletClients())[CREATOR_INDEX];
  if (creator === undefined) throw new Error(`month: need wallet client #${CREATOR_INDEX} (creators)`);
  const vault = await viem.getContractAt("TreasuryVault", d.vault);
  const ledger = await viem.getContractAt("TreasuryLedger", d.ledger);
  const weth = await viem.getContractAt("TestToken", d.tokens.weth.address);
  const dex = await viem.getContractAt("PerpDEX", d.perpDex);
  const feeds = {
    eth: await viem.getContractAt("ManagedPriceFeed", d.feeds.weth),
    btc: await viem.getContractAt("ManagedPriceFeed", d.feeds.wbtc),
  };
  const feedDecimals = await feeds.eth.read.decimals();
  const W = d.tokens.weth.address;

  await mkdir(o.out, { recursive: true });
  const journalPath = join(o.out, "journal.sqlite");
  // A fresh chain needs a fresh journal: a previous run's intents would block the same epochs.
  for (const suffix of ["", "-wal", "-shm"]) await rm(`${journalPath}${suffix}`, { force: true });

  // ---- starting point: the chain's clock, the oracle prices, the treasury's unhedged book
  const latest = async (feed: typeof feeds.eth) => {
    const [, answer] = await feed.read.latestRoundData();
    return Number(answer) / 10 ** feedDecimals;
  };
  const s0 = { eth: await latest(feeds.eth), btc: await latest(feeds.btc) };
  // Fresh rounds at the current prices (earlier scenes may have moved the clock past the max age).
  for (const [feed, p] of [
    [feeds.eth, s0.eth],
    [feeds.btc, s0.btc],
  ] as const) {
    await confirmStep(pc, "oracle round", () =>
      feed.write.submit([BigInt(Math.round(p * 10 ** feedDecimals))]),
    );
  }
  const chainNow = Number((await pc.getBlock()).timestamp) * 1000;
  const start = Math.ceil((chainNow + 60_000) / HOUR_MS) * HOUR_MS;
  const { source, steps, ethPath } = await marketSteps(o, start, s0);

  // The treasurer's stash of marketplace proceeds (minted once, deposited as they arrive).
  const stash = parseUnits(String(Math.ceil(FLOWS.proceedsWethPerHour * 4 * 24 * o.days + 10)), 18);
  await confirmStep(pc, "mint the proceeds stash", () => weth.write.mint([treasurer.account.address, stash]));
  await confirmStep(pc, "treasurer approves proceeds", () =>
    weth.write.approve([d.vault, stash], { account: treasurer.account }),
  );

  // ---- the options venue lists ATM puts/calls at the last smile expiry (the month outlives the strip)
  const amm = await viem.getContractAt("OptionsAMM", d.optionsAmm);
  const listed: string[] = [];
  const lister = o.venueLister ?? d.accounts.deployer;
  const listerRole = await amm.read.LISTER_ROLE();
  if (await amm.read.hasRole([listerRole, lister])) {
    const own = (await viem.getWalletClients()).some(
      (w) => w.account.address.toLowerCase() === lister.toLowerCase(),
    );
    if (!own) {
      await networkHelpers.impersonateAccount(lister);
      await networkHelpers.setBalance(lister, 10n ** 20n);
    }
    const listerWallet = await viem.getWalletClient(lister);
    const expiry = d.smileExpiries.reduce((a, b) => (b > a ? b : a), 0n);
    for (const [token, price] of [
      [W, s0.eth, 100] as const,
      [d.tokens.wbtc.address, s0.btc, 1_000] as const,
    ].map(([t, p, step]) => [t, BigInt(Math.round(p / step) * step) * 10n ** 18n] as const)) {
      for (const isCall of [false, true]) {
        await confirmStep(pc, "amm.listSeries (next expiry)", () =>
          amm.write.listSeries([token, price, expiry, isCall, 10_000n * 10n ** 18n], {
            account: listerWallet.account,
          }),
        );
      }
    }
    if (!own) await networkHelpers.stopImpersonatingAccount(lister);
    listed.push(
      `options venue listed ATM puts/calls (WETH, WBTC) expiring ${new Date(Number(expiry) * 1000).toISOString().slice(0, 16)}Z`,
    );
  } else listed.push(`options venue: ${lister} lacks LISTER_ROLE; no new expiry listed`);

  // ---- the keeper: live, in-process, its own journal
  const keeperCfg = parseConfig({
    rpcUrl: "http://127.0.0.1:1", // unused: the transport is the embedded chain's provider
    chainId: d.chainId,
    contracts: { vault: d.vault, perpAdapter: d.adapters.perp, optionsAdapter: d.adapters.options },
    underlyings: [
      { symbol: "ETH", token: W },
      { symbol: "BTC", token: d.tokens.wbtc.address },
    ],
    journal: journalPath,
    decide: { hedgeTo: MONTH_POLICIES[o.policy].hedgeTo, policy: MONTH_POLICIES[o.policy].policy },
    execute: { pollMs: 5, replaceAfterMs: 30_000, confirmTimeoutMs: 30_000 },
    gate: { approvalWaitMs: 30_000, approvalPollMs: 10 },
    metrics: { port: null },
    log: { level: "silent" },
  });
  const transport = custom(connection.provider);
  const keeper = await startKeeper({
    config: keeperCfg,
    account: testAccountKey(d.accounts.keeper),
    logger: createLogger({ level: "silent" }),
    metrics: createMetrics(),
    live: true,
    transport,
  });
  const client = createPublicClient({ transport });

  // ---- the finance/risk desk: approves every proposal while a tick waits for it
  const desk = await createApprovalDesk(viem, {
    approvals: d.approvals,
    finance: d.accounts.finance,
    risk: d.accounts.risk,
  });
  const tickWithDesk = (): Promise<TickReport> => desk.during(() => keeper.tick());

  const keeperWallet = await walletFor(viem, d.accounts.keeper);
  const housekeeping: TransactionReceipt[] = [];
  const redeemExpired = async (timeMs: number): Promise<bigint[]> => {
    const now = BigInt(Math.floor(timeMs / 1000));
    const done: bigint[] = [];
    for (const token of [W, d.tokens.wbtc.address]) {
      for (const h of await vault.read.heldSeries([token])) {
        const info = await amm.read.seriesInfo([h.seriesId]);
        if (info.expiry > now) continue;
        if (!info.settled) await confirmStep(pc, "amm.settle", () => amm.write.settle([h.seriesId]));
        // The redeem drops the series' delta; a perp leg in the same bundle keeps the vault in its band.
        const adapter = await viem.getContractAt("OptionsAMMAdapter", h.adapter);
        const [, seriesDelta] = await adapter.read.positionGreeks([d.vault, h.seriesId]);
        const e = await vault.read.exposure([token]);
        const perpSize = -(e.net - seriesDelta - e.target);
        const legs = [
          { kind: 5, adapter: h.adapter, underlying: token, id: h.seriesId, amount: 0n, bound: 0n },
        ];
        if (perpSize !== 0n)
          legs.push({
            kind: 1,
            adapter: d.adapters.perp,
            underlying: token,
            id: 0n,
            amount: perpSize,
            bound: perpSize < 0n ? (e.price * 98n) / 100n : (e.price * 102n) / 100n,
          });
        const epoch = await vault.read.epoch();
        const inputsHash = keccak256(
          stringToBytes(`demo: redeem expired series ${h.seriesId} at epoch ${epoch}`),
        );
        const receipt = await confirmStep(pc, "vault.rebalance (redeem expired series)", () =>
          vault.write.rebalance([legs, inputsHash, epoch, now + 900n], { account: keeperWallet.account }),
        );
        housekeeping.push(receipt);
        done.push(h.seriesId);
      }
    }
    if (done.length > 0) await keeper.sender.resync("demo housekeeping redeemed expired series");
    return done;
  };

  const postPrice = (feed: typeof feeds.eth, from: number, to: number) =>
    postPriceMove(pc, (answer) => feed.write.submit([answer]), feedDecimals, from, to);

  // ---- state at the start
  const exp0 = await vault.read.exposure([W]);
  const [nav0] = await vault.read.nav();
  const wbtcUnits = f18((await vault.read.exposure([d.tokens.wbtc.address])).spot);
  const spotNet0 = f18(exp0.spot) - f18(exp0.liabilities);
  const frozenUsd = f18(nav0) - spotNet0 * s0.eth - wbtcUnits * s0.btc; // cash + hedges at the start
  let fundingSettled = 0;
  let proceedsTotal = 0;
  let payoutsTotal = 0;
  let owedToday = 0n;
  let cumFlow = 0;
  const cum: Record<CostKind, number> = { fees: 0, slippage: 0, funding: 0, gas: 0 };
  const n = steps.length;
  const series = {
    times: new Float64Array(n),
    prices: new Float64Array(n),
    value: new Float64Array(n),
    valueU: new Float64Array(n),
    cumFlow: new Float64Array(n),
    netPre: new Float64Array(n),
    netPost: new Float64Array(n),
    netU: new Float64Array(n),
    band: new Float64Array(n),
    cumCost: Object.fromEntries(COSTS.map((k) => [k, new Float64Array(n)])) as Record<CostKind, Float64Array>,
  };
  const rebalances = { auto: 0, oneApproval: 0, twoApprovals: 0, total: 0 };
  const rebalanceLog: BacktestResult["rebalanceLog"] = [];
  const decisions = { hold: 0, hedge: 0, standDown: 0, rejected: 0 };
  const standDowns = reasonTally();
  const rejections = reasonTally();
  const afterRebalance: MonthResult["afterRebalance"] = [];
  const events: string[] = [...listed];
  const records: StepRecord[] = [];
  let prev = { eth: s0.eth, btc: s0.btc };
  let hedges = 0;
  let turnover = 0;
  const rng = mulberry(o.seed);

  /** Books a rebalance's fees, slippage vs oracle, settled funding and gas; returns its tier. */
  const bookCosts = (receipt: TransactionReceipt, m: Market, byKeeper: boolean): number | null => {
    const r = readRebalanceReceipt(
      receipt,
      { vault: vault.abi, perpDex: dex.abi },
      { gasPriceGwei: o.gasPriceGwei, ethUsd: m.eth, time: m.time },
    );
    if (r === null) return null;
    cum.fees += r.fees;
    cum.slippage += r.slippage;
    cum.gas += r.gasUsd;
    turnover += r.turnover;
    fundingSettled += r.fundingSettled;
    if (!byKeeper) {
      housekept++;
      return r.tier;
    }
    rebalances[r.rebalance.tier]++;
    rebalances.total++;
    hedges++;
    rebalanceLog.push(r.rebalance);
    return r.tier;
  };
  let housekept = 0;

  try {
    for (let i = 0; i < n; i++) {
      const m = steps[i] as Market;
      const day = Math.min(o.days - 1, Math.floor((m.time - start) / DAY_MS));
      for (const e of m.events) events.push(`day ${day + 1} ${isoHm(m.time)}: ${e}`);
      if (i > 0) await networkHelpers.time.increaseTo(Math.floor(m.time / 1000));
      await postPrice(feeds.eth, prev.eth, m.eth);
      await postPrice(feeds.btc, prev.btc, m.btc);
      prev = { eth: m.eth, btc: m.btc };

      // ---- flows: proceeds in (ETF sentiment swings the marketplace's volume), creators paid daily
      if (i > 0) {
        const mood = Math.max(0, 1 + m.etfFlowEth / FLOWS.etfScaleUsd);
        const hours = o.stepMinutes / 60;
        const proceeds = Math.round(FLOWS.proceedsWethPerHour * hours * mood * (0.5 + rng()) * 1e4) / 1e4;
        const owed = await ledger.read.liability([W, Bucket.CreatorFunds]);
        let liability = owed;
        if (proceeds > 0) {
          const units = parseUnits(proceeds.toFixed(4), 18);
          await confirmStep(pc, "deposit proceeds", () =>
            vault.write.deposit([W, units], { account: treasurer.account }),
          );
          const share = (units * BigInt(Math.round(FLOWS.creatorShare * 1e6))) / 1_000_000n;
          liability += share;
          owedToday += share;
          proceedsTotal += proceeds;
          cumFlow += (proceeds - f18(share)) * m.eth;
        }
        const newDay =
          Math.floor((m.time - 1) / DAY_MS) !== Math.floor((m.time - 1 - o.stepMinutes * 60_000) / DAY_MS);
        if (newDay && owedToday > 0n) {
          const payUnits = owedToday > liability ? liability : owedToday;
          await confirmStep(pc, "pay creators", () =>
            vault.write.withdraw([W, payUnits, creator.account.address], { account: treasurer.account }),
          );
          liability -= payUnits;
          payoutsTotal += f18(payUnits);
          owedToday = 0n;
        }
        if (liability !== owed) {
          await confirmStep(pc, "ledger.setLiability", () =>
            ledger.write.setLiability([W, Bucket.CreatorFunds, liability], { account: treasurer.account }),
          );
        }
      }

      // ---- expiry housekeeping: the keeper never redeems an expired held series (it stands down on its
      // expired IV point), so the operator settles it on the AMM and redeems it through the vault.
      const redeemed = await redeemExpired(m.time);
      for (const id of redeemed)
        events.push(`day ${day + 1} ${isoHm(m.time)}: expired series ${id} settled and redeemed`);

      // ---- one real keeper tick
      const r = await tickWithDesk();
      const ethDecision = r.decisions.find((x) => x.underlying === "ETH");
      for (const dec of r.decisions) {
        if (dec.action === "standDown") {
          decisions.standDown++;
          standDowns.add(`${dec.underlying}: ${dec.reasons[0] ?? "stand down"}`, m.time);
        } else if (dec.action === "hedge") decisions.hedge++;
        else decisions.hold++;
      }
      if (r.outcome === "error" || r.outcome === "awaitingApproval" || r.outcome === "reduce-only") {
        decisions.rejected++;
        rejections.add(`${r.outcome}: ${r.reasons[0] ?? ""}`, m.time);
      } else if (r.outcome === "standDown" && r.decisions.every((x) => x.action !== "standDown")) {
        decisions.standDown++;
        standDowns.add(r.reasons.join("; "), m.time);
      } else if (!["hedged", "hold", "standDown", "noop"].includes(r.outcome)) {
        decisions.rejected++;
        rejections.add(`${r.outcome}: ${r.reasons[0] ?? ""}`, m.time);
      }

      let tier: number | null = null;
      for (const rc of housekeeping.splice(0)) bookCosts(rc, m, false);
      if (r.outcome === "hedged" && r.execute?.txHash) {
        const receipt = await client.getTransactionReceipt({ hash: r.execute.txHash });
        tier = bookCosts(receipt, m, true);
      }

      // ---- state after the tick
      const e = await vault.read.exposure([W]);
      const [nav] = await vault.read.nav();
      const pos = await dex.read.position([d.vault, W]);
      cum.funding = fundingSettled + f18(pos.accruedFunding);
      const netPost = f18(e.net);
      const policyBand = f18(e.band);
      if (tier !== null) afterRebalance.push({ time: m.time, net: netPost, band: policyBand, tier });
      const spotNet = f18(e.spot) - f18(e.liabilities);
      const unhedged = frozenUsd + spotNet * m.eth + wbtcUnits * m.btc;
      const netPre = ethDecision?.net ?? netPost;
      const effBand = ethDecision?.band ?? policyBand;
      series.times[i] = m.time;
      series.prices[i] = m.eth;
      series.value[i] = f18(nav);
      series.valueU[i] = unhedged;
      series.cumFlow[i] = cumFlow;
      series.netPre[i] = netPre;
      series.netPost[i] = netPost;
      series.netU[i] = spotNet;
      series.band[i] = effBand;
      for (const k of COSTS) (series.cumCost[k] as Float64Array)[i] = cum[k];
      records.push({
        time: m.time,
        eth: m.eth,
        btc: m.btc,
        netPre,
        netPost,
        policyBand,
        effectiveBand: effBand,
        hedgedValueUsd: f18(nav),
        unhedgedValueUsd: unhedged,
        cumFlowUsd: cumFlow,
        outcome: r.outcome,
        tier,
        reasons: r.reasons,
      });
      const hm = isoHm(m.time);
      progress(
        `${progressBar((i + 1) / n)} day ${String(day + 1).padStart(2)}/${o.days} ${hm}  ETH ${m.eth.toFixed(0)}  net ${netPost.toFixed(1)} vs band ±${policyBand.toFixed(1)}  hedges ${hedges}`,
        i === n - 1,
      );
    }
  } finally {
    keeper.close();
  }

  // ---- metrics (keeper/src/backtest) and report (keeper/src/reporting)
  const costs = { ...cum, total: COSTS.reduce((s, k) => s + cum[k], 0) };
  const base = {
    underlying: "ETH",
    bars: n,
    times: series.times,
    prices: series.prices,
    cumFlow: series.cumFlow,
    target: f18(exp0.target),
    bookCostUsd: 0,
    overlay: { buys: 0, premiumUsd: 0, feesUsd: 0, spreadUsd: 0 },
    peakMarginUsd: 0,
    minCashUsd: 0,
  };
  const hedgedRun: BacktestResult = {
    ...base,
    policy: { name: `keeper ${o.policy} (live)`, kind: "regime-band", overlay: true },
    value: series.value,
    netPre: series.netPre,
    netPost: series.netPost,
    band: series.band,
    cumCost: series.cumCost,
    costs,
    rebalances,
    rebalanceLog,
    decisions,
    standDowns: standDowns.list(),
    rejections: rejections.list(),
    turnoverUnits: turnover,
  };
  const unhedgedRun = unhedgedResult(base, series.valueU, series.netU);
  const metrics = policyMetrics(hedgedRun, unhedgedRun);
  const unhedgedMetrics = policyMetrics(unhedgedRun, unhedgedRun);
  const dH = dailyPnl(series.times, cumulativePnl(hedgedRun));
  const dU = dailyPnl(series.times, cumulativePnl(unhedgedRun));
  const vH = sampleVariance(dH);
  const vU = sampleVariance(dU);
  const table = formatTable([unhedgedMetrics, metrics]);

  const files: string[] = [];
  const png = async (name: string, spec: ChartSpec) => {
    const p = join(o.out, name);
    await writeFile(p, chartPng(spec));
    files.push(p);
  };
  await png("treasury-value.png", valueSpec(hedgedRun, unhedgedRun));
  await png("net-delta.png", netDeltaSpec(hedgedRun, series.netU));
  await png("costs.png", costSpec(hedgedRun));

  // ---- every policy on the same path (model engine), the frontier, Derman–Kamal
  const t0Suite = performance.now();
  const stepMs = o.stepMinutes * 60_000;
  const bars = Array.from(series.times, (t, i) => {
    const c = series.prices[i] as number;
    return { time: t - stepMs, open: c, high: c, low: c, close: c, volume: 0 };
  });
  // The ETH book as the demo holds it (its proceeds and creators' share; WBTC is not in this run).
  const suite = runSuite({
    path: ethPath ?? pathFromBars(bars, "ETH", stepMs, {}, `demo month (${source})`),
    config: defaultBacktestConfig({
      treasury: {
        spot: f18(exp0.spot),
        liabilities: f18(exp0.liabilities),
        proceedsPerHour: FLOWS.proceedsWethPerHour,
        creatorShare: FLOWS.creatorShare,
        withdrawalPerDay: 0,
        coveredCalls: null,
        seed: o.seed,
      },
    }),
    policies: standardPolicies(),
    sweep: true,
    dermanKamalPaths: 200,
  });
  await png("frontier.png", frontierChart(suite));
  const policies = {
    table: formatTable(suite.metrics),
    summary: formatSummary(suite),
    metrics: suite.metrics,
    seconds: (performance.now() - t0Suite) / 1000,
  };

  const result: MonthResult = {
    source,
    policy: o.policy,
    days: o.days,
    steps: n,
    stepMinutes: o.stepMinutes,
    wallMs: Date.now() - wall0,
    metrics,
    unhedged: unhedgedMetrics,
    dailyPnl: { hedged: dH, unhedged: dU },
    variance: { hedged: vH, unhedged: vU, reductionPct: vU > 0 ? (1 - vH / vU) * 100 : 0 },
    costs,
    rebalances,
    housekeepingRebalances: housekept,
    afterRebalance,
    standDowns: standDowns.list(),
    flows: { proceedsWeth: proceedsTotal, creatorPayoutsWeth: payoutsTotal },
    events,
    table,
    policies,
    outDir: o.out,
    journal: journalPath,
    files: [],
  };
  const reportPath = join(o.out, "report.json");
  files.unshift(reportPath);
  result.files = files;
  await writeFile(reportPath, JSON.stringify({ ...result, steps: records }, null, 2));
  return result;
}

function sampleVariance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
}

/** Small deterministic PRNG for the marketplace's proceeds noise. */
function mulberry(seed: number): () => number {
  let a = seed >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const isoHm = (t: number) => new Date(t).toISOString().slice(5, 16).replace("T", " ");

function valueOf(r: BacktestResult): Float64Array {
  const c = cumulativePnl(r);
  const v0 = r.value[0] as number;
  return c.map((x) => v0 + x);
}

function valueSpec(h: BacktestResult, u: BacktestResult): ChartSpec {
  return {
    title: "Treasury value, hedged (vault NAV) vs unhedged (flows excluded)",
    xLabel: "market time (UTC)",
    yLabel: "USD",
    xAxis: "time",
    lines: [
      { name: "unhedged", color: PALETTE.red as Rgb, xs: u.times, ys: valueOf(u) },
      { name: "hedged by the keeper", color: PALETTE.blue as Rgb, xs: h.times, ys: valueOf(h) },
    ],
  };
}

function netDeltaSpec(h: BacktestResult, unhedgedNet: Float64Array): ChartSpec {
  return {
    title: "Net WETH delta with the keeper's band",
    xLabel: "market time (UTC)",
    yLabel: "net delta, WETH",
    xAxis: "time",
    bands: [
      {
        name: "band (target +/- effective band)",
        color: PALETTE.green as Rgb,
        xs: h.times,
        lo: h.band.map((b) => h.target - b),
        hi: h.band.map((b) => h.target + b),
        alpha: 0.3,
      },
    ],
    lines: [
      { name: "net before the tick", color: PALETTE.blue as Rgb, xs: h.times, ys: h.netPre, width: 1 },
      {
        name: "unhedged net (spot - owed)",
        color: PALETTE.red as Rgb,
        xs: h.times,
        ys: unhedgedNet,
        width: 1,
      },
    ],
    hlines: [{ y: h.target, color: PALETTE.grey as Rgb, label: "target" }],
  };
}

function costSpec(h: BacktestResult): ChartSpec {
  const c = h.cumCost;
  const total = c.fees.map(
    (x, i) => x + (c.slippage[i] as number) + (c.funding[i] as number) + (c.gas[i] as number),
  );
  return {
    title: "Cumulative hedging cost by kind",
    xLabel: "market time (UTC)",
    yLabel: "USD",
    xAxis: "time",
    lines: [
      { name: "total", color: [30, 30, 30], xs: h.times, ys: total },
      { name: "fees", color: PALETTE.blue as Rgb, xs: h.times, ys: c.fees },
      { name: "slippage vs oracle", color: PALETTE.orange as Rgb, xs: h.times, ys: c.slippage },
      { name: "funding", color: PALETTE.purple as Rgb, xs: h.times, ys: c.funding },
      { name: "gas", color: PALETTE.green as Rgb, xs: h.times, ys: c.gas },
    ],
  };
}

/** Readable lines for the demo's output. */
export function formatMonth(r: MonthResult): string[] {
  const m = r.metrics;
  const usd = (x: number) => Math.round(x).toLocaleString("en-US");
  const lines = [
    `Month: the live keeper (${r.policy}) over ${r.days} days, ${r.steps} ticks of ${r.stepMinutes} min, market ${r.source}; wall ${(r.wallMs / 1000).toFixed(1)} s`,
    ...r.events.slice(0, 8).map((e) => `  event ${e}`),
    `  flows: ${r.flows.proceedsWeth.toFixed(1)} WETH proceeds deposited, ${r.flows.creatorPayoutsWeth.toFixed(1)} WETH paid to creators`,
    "",
    r.table,
    "",
    `  daily P&L variance: hedged ${usd(r.variance.hedged)} vs unhedged ${usd(r.variance.unhedged)} USD² → reduction ${r.variance.reductionPct.toFixed(2)} %`,
    `  tracking error ${m.trackingErrorUnits.toFixed(2)} WETH (${m.trackingErrorPct.toFixed(2)} %), max drawdown ${usd(m.maxDrawdownUsd)} USD (${m.maxDrawdownPct.toFixed(2)} %)`,
    `  costs: fees ${usd(r.costs.fees)} + slippage ${usd(r.costs.slippage)} + funding ${usd(r.costs.funding)} + gas ${usd(r.costs.gas)} = ${usd(r.costs.total)} USD`,
    `  rebalances: ${r.rebalances.total} (auto ${r.rebalances.auto}, tier 1 ${r.rebalances.oneApproval}, tier 2 ${r.rebalances.twoApprovals})`,
    ...(r.housekeepingRebalances > 0
      ? [`  expired series redeemed by the operator: ${r.housekeepingRebalances} (costs included above)`]
      : []),
    ...r.standDowns.slice(0, 5).map((s) => `  stood down ×${s.count}: ${s.example}`),
    ...r.metrics.rejections.slice(0, 5).map((s) => `  not executed ×${s.count}: ${s.example}`),
    "",
    `Every policy on the same ETH path (the ETH book and its flows; WBTC is hedged above but not here), model engine (${r.policies.seconds.toFixed(1)} s; the frontier in frontier.png):`,
    r.policies.table,
    ...r.policies.summary.split("\n").filter((l) => l.startsWith("Derman–Kamal")),
    `  report: ${r.outDir}  (${r.files.map((p) => p.slice(r.outDir.length + 1)).join(", ")})`,
    `  journal: ${r.journal}`,
  ];
  return lines;
}
