/**
 * The chain backtest engine: one market path through the real contracts and the real keeper.
 *
 * Deploys the full system on Hardhat's embedded chain (scripts/deploy/system.ts) at the path's
 * first price, with the backtest's RiskPolicy limits, funds the treasury, and snapshots the chain.
 * Then, per hedged policy (restored to that snapshot): bar by bar, warp the chain clock to the
 * bar's time (the path's clock shifted by whole days, so hourly and daily clocks tick where the
 * model's do), post the oracle round(s), book the treasury's flows on chain (proceeds deposited as
 * WETH, the creators' share added to the ledger's liability, daily payout and operating withdrawal
 * from the vault: the same seeded draws as the model engine), run ONE tick of the live keeper
 * (keeper/src/loop, in-process over the chain's EIP-1193 provider, the policy in its config, the
 * path's regime inputs from a market-data provider) while a finance/risk desk approves what it
 * proposes, and read back the vault's exposure, NAV and perp funding.
 *
 * Everything is measured on chain: fees and prices from the vault's Rebalanced events, funding from
 * the perp DEX, gas from receipts (valued at the gas model's gwei and the bar's ETH price and
 * charged to the treasury's value, as the model does). The unhedged baseline is the same vault's
 * spot and liabilities without the hedges (no spot legs: the hedges never touch the WETH).
 *
 * Scope (refused with a reason otherwise): one underlying (ETH), no options overlay, no option book
 * (covered calls / written options): a replayed year outlives every listed expiry of the reference
 * options venue. Those stay with the model engine.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { network } from "hardhat";
import { createPublicClient, custom, formatUnits, type TransactionReceipt } from "viem";
import { createApprovalDesk } from "../demo/approvalDesk.ts";
import {
  postPriceMove,
  progressBar,
  readRebalanceReceipt,
  testAccountKey,
  unhedgedResult,
} from "../demo/embeddedRun.ts";
import {
  Bucket,
  confirmStep,
  defaultLocalConfig,
  deploySystem,
  fundTreasury,
  walletFor,
  type SystemDeployment,
} from "../deploy/system.ts";
import { chainEngineProblems } from "../../keeper/src/backtest/chainScope.ts";
import type { BacktestConfig, PolicySpec } from "../../keeper/src/backtest/config.ts";
import {
  reasonTally,
  type BacktestResult,
  type CostKind,
  type Rebalance,
} from "../../keeper/src/backtest/engine.ts";
import { DAY_MS, HOUR_MS, type MarketPath } from "../../keeper/src/backtest/path.ts";
import { parseConfig, type KeeperConfigInput } from "../../keeper/src/config/index.ts";
import { createRng } from "../../keeper/src/feeds/rng.ts";
import { startKeeper, type TickReport } from "../../keeper/src/loop/index.ts";
import { createLogger } from "../../keeper/src/report/logger.ts";
import { createMetrics } from "../../keeper/src/report/metrics.ts";

type Connection = Awaited<ReturnType<typeof network.connect>>;

export type ChainEngineOptions = {
  path: MarketPath;
  /** Policies to run (the unhedged baseline is always returned first). */
  policies: readonly PolicySpec[];
  config: BacktestConfig;
  /** Folder for the keepers' journals (one per policy). */
  workDir: string;
  progress?: (line: string, done: boolean) => void;
  /** An existing connection (tests); default: a new embedded chain. */
  connection?: Connection;
};

export type ChainBacktest = {
  results: BacktestResult[];
  /** Wall seconds per policy run on chain (deployment excluded). */
  secondsPerPolicy: Record<string, number>;
  deploySeconds: number;
  /** Where the chain engine's setup differs from the model defaults, in words. */
  notes: string[];
};

const CREATOR_INDEX = 7;
const COSTS: readonly CostKind[] = ["fees", "slippage", "funding", "gas"];
/**
 * The market operator's and treasurer's per-bar transactions with fixed gas and fees: no
 * estimateGas / feeHistory / chainId round trips (a third of the chain engine's time). A revert
 * still fails the step (confirmStep reads the receipt). The keeper's own transactions are untouched.
 */
const FAST = {
  gas: 400_000n,
  maxFeePerGas: 10n ** 10n,
  maxPriorityFeePerGas: 0n,
  chain: null,
} as const;
const f18 = (x: bigint) => Number(formatUnits(x, 18));
const wei = (x: number) => BigInt(Math.round(x * 1e6)) * 10n ** 12n;

/** The keeper's policy for a backtest policy spec. */
type KeeperPolicyInput = NonNullable<NonNullable<KeeperConfigInput["decide"]>["policy"]>;
function keeperPolicyOf(p: PolicySpec, bandDefault: number): KeeperPolicyInput {
  switch (p.kind) {
    case "time":
      return { kind: "time", intervalHours: p.intervalHours ?? 1 };
    case "fixed-band":
      return { kind: "fixed-band", band: p.band ?? bandDefault };
    case "ww-band":
      return { kind: "ww-band" };
    case "regime-band":
      return { kind: "regime-band" };
    case "unhedged":
      throw new RangeError("the unhedged baseline runs no keeper");
  }
}

const nn = (x: number | undefined): number | null => (x === undefined || Number.isNaN(x) ? null : x);

/** Deploys, funds and replays every policy; returns the unhedged baseline first, then each policy. */
export async function runChainBacktest(o: ChainEngineOptions): Promise<ChainBacktest> {
  const problems = chainEngineProblems(o.path, o.config, o.policies);
  if (problems.length > 0) throw new RangeError(`chain engine: ${problems.join("; ")}`);
  const { path, config } = o;
  const { treasury: tr, limits, keeper: ks, venues } = config;
  const n = path.times.length;
  if (n < 2) throw new RangeError("chain engine: a backtest needs at least 2 bars");
  const prices = path.prices;
  const times = path.times;
  const p0 = prices[0] as number;
  let maxPrice = 0;
  for (const p of prices) maxPrice = Math.max(maxPrice, p);

  const connection = o.connection ?? (await network.connect());
  const { viem, networkHelpers } = connection;
  const pc = await viem.getPublicClient();
  const notes: string[] = [];

  // ---- deploy at the path's first price with the backtest's limits
  const t0 = Date.now();
  const sys = defaultLocalConfig();
  const weth = sys.assets.weth;
  weth.price = p0.toFixed(8);
  const poolWeth = 5_000;
  weth.uniswap = { baseAmount: poolWeth, quoteAmount: Math.round(poolWeth * p0) };
  weth.limits = {
    enabled: limits.enabled,
    targetDelta: limits.targetDelta,
    band: limits.band,
    minHedgeRatio: limits.minHedgeRatio,
    maxHedgeRatio: limits.maxHedgeRatio,
    maxOptionLegSize: limits.maxOptionLegSize,
    maxPerpLegSize: limits.maxPerpLegSize,
    maxSpotLegSize: limits.maxSpotLegSize,
    maxPerpPosition: limits.maxPerpPosition,
    premiumBudgetUsdPerWindow: limits.premiumBudgetUsdPerWindow,
    maxOpenSeries: limits.maxOpenSeries,
  };
  // Oracle max age one day: the ETH round is posted at every bar anyway; the idle BTC feed (the
  // vault's NAV prices it) then needs a round twice a day instead of one per bar.
  sys.oracle = { ...sys.oracle, maxAge: 86_400 };
  sys.policy.global = {
    ...sys.policy.global,
    oracleMaxAge: 86_400,
    maxSlippageBps: limits.maxSlippageBps,
    tier1Usd: limits.tier1Usd,
    tier2Usd: limits.tier2Usd,
    window: Math.round(limits.windowMs / 1000),
  };
  const d = await deploySystem(viem, sys);
  // USDC for perp margin: enough to carry a short of the whole book to the path's highest price.
  const usdc = Math.max(tr.cash, 1_000_000, Math.ceil(2.5 * (tr.spot + tr.liabilities) * maxPrice));
  await fundTreasury(viem, d, {
    weth: tr.spot,
    wbtc: 0,
    usdc,
    creatorPayoutsOwedWeth: tr.liabilities,
  });
  notes.push(
    `treasury on chain: ${tr.spot} WETH, ${usdc.toLocaleString("en-US")} USDC for perp margin, ${tr.liabilities} WETH owed to creators`,
    "funding: the perp DEX's own skew formula (the chain has no market funding); gas at the gas model's gwei",
  );

  const W = d.tokens.weth.address;
  const vault = await viem.getContractAt("TreasuryVault", d.vault);
  const ledger = await viem.getContractAt("TreasuryLedger", d.ledger);
  const dex = await viem.getContractAt("PerpDEX", d.perpDex);
  const wethToken = await viem.getContractAt("TestToken", W);
  const feeds = {
    eth: await viem.getContractAt("ManagedPriceFeed", d.feeds.weth),
    btc: await viem.getContractAt("ManagedPriceFeed", d.feeds.wbtc),
  };
  const feedDecimals = await feeds.eth.read.decimals();
  const btcAnswer = (await feeds.btc.read.latestRoundData())[1];
  const treasurer = await walletFor(viem, d.accounts.treasurer);
  const creator = (await viem.getWalletClients())[CREATOR_INDEX];
  if (creator === undefined) throw new Error(`chain engine: need wallet client #${CREATOR_INDEX}`);

  // The treasurer's stash of marketplace proceeds (minted once, deposited bar by bar).
  const hours = ((times[n - 1] as number) - (times[0] as number)) / HOUR_MS;
  const stash = wei(Math.ceil(tr.proceedsPerHour * (1 + 6 * tr.proceedsNoise) * (hours + 1) + 10));
  await confirmStep(pc, "mint the proceeds stash", () =>
    wethToken.write.mint([treasurer.account.address, stash]),
  );
  await confirmStep(pc, "treasurer approves proceeds", () =>
    wethToken.write.approve([d.vault, stash], { account: treasurer.account }),
  );

  // Chain clock = path clock + whole days, so floor(t / 1 h) and floor(t / 1 day) tick together.
  const chainNow = Number((await pc.getBlock()).timestamp) * 1000;
  const first = times[0] as number;
  const offset = Math.ceil((chainNow + HOUR_MS - first) / DAY_MS) * DAY_MS;
  const chainSec = (t: number) => Math.floor((t + offset) / 1000);
  await networkHelpers.time.increaseTo(chainSec(first) - 60);
  await confirmStep(pc, "ETH round at the first bar", () =>
    feeds.eth.write.submit([BigInt(Math.round(p0 * 10 ** feedDecimals))]),
  );
  await confirmStep(pc, "BTC round at the first bar", () => feeds.btc.write.submit([btcAnswer]));
  const snapshot = await networkHelpers.takeSnapshot();
  const deploySeconds = (Date.now() - t0) / 1000;

  const postEth = (from: number, to: number) =>
    postPriceMove(pc, (answer) => feeds.eth.write.submit([answer], FAST), feedDecimals, from, to);

  const desk = await createApprovalDesk(viem, {
    approvals: d.approvals,
    finance: d.accounts.finance,
    risk: d.accounts.risk,
    pollMs: 2,
  });
  const transport = custom(connection.provider);
  const client = createPublicClient({ transport });
  const keeperAccount = testAccountKey(d.accounts.keeper);
  await mkdir(o.workDir, { recursive: true });

  /** One run over the path; `policy` null = the flows only (the unhedged baseline alone). */
  const runOne = async (policy: PolicySpec | null) => {
    await snapshot.restore();
    const label = policy?.name ?? "unhedged";
    const journalPath = join(o.workDir, `journal-${label}.sqlite`);
    for (const suffix of ["", "-wal", "-shm"]) await rm(`${journalPath}${suffix}`, { force: true });
    let bar = 0;
    const keeper =
      policy === null
        ? null
        : await startKeeper({
            config: parseConfig({
              rpcUrl: "http://127.0.0.1:1", // unused: the transport is the embedded chain's provider
              chainId: d.chainId,
              contracts: { vault: d.vault, perpAdapter: d.adapters.perp },
              underlyings: [{ symbol: "ETH", token: W }],
              journal: journalPath,
              // A linear book needs no option prices: the oracle's spot is the one required input.
              validation: { required: { ETH: ["spot"] } },
              decide: {
                policy: keeperPolicyOf(policy, limits.band),
                minBandOfPolicy: Math.min(1, ks.decide.minBand / limits.band),
                costPerUnit: ks.decide.costPerUnit,
                riskAversion: policy.riskAversion ?? ks.decide.riskAversion,
                hedgeTo: ks.decide.hedgeTo,
                minTradeUnits: ks.minTradeUnits,
              },
              plan: {
                slippageToleranceBps: ks.plan.slippageToleranceBps,
                targetLeverage: ks.plan.targetLeverage,
              },
              execute: { pollMs: 2, replaceAfterMs: 60_000, confirmTimeoutMs: 60_000 },
              gate: { approvalWaitMs: 60_000, approvalPollMs: 5 },
              metrics: { port: null },
              log: { level: "silent" },
            } satisfies KeeperConfigInput),
            account: keeperAccount,
            logger: createLogger({ level: "silent" }),
            metrics: createMetrics(),
            live: true,
            transport,
            // The path's market data (DVOL, skew, ETF flows, funding) as the keeper's provider.
            regimeInputs: () => ({
              etfFlowMomentum: nn(path.etfFlowMomentum[bar]),
              ivLevel: nn(path.ivLevel[bar]),
              ivChange: nn(path.ivChange[bar]),
              skew: nn(path.skew[bar]),
              fundingRate: nn(path.fundingPerHour[bar]),
            }),
          });

    const flowRng = createRng(`${String(tr.seed)}|${path.source}|${first}`);
    const value = new Float64Array(n);
    const valueU = new Float64Array(n);
    const cumFlow = new Float64Array(n);
    const netPre = new Float64Array(n);
    const netPost = new Float64Array(n);
    const netU = new Float64Array(n);
    const band = new Float64Array(n).fill(Number.NaN);
    const cumCost = Object.fromEntries(COSTS.map((k) => [k, new Float64Array(n)])) as Record<
      CostKind,
      Float64Array
    >;
    const cum: Record<CostKind, number> = { fees: 0, slippage: 0, funding: 0, gas: 0 };
    const rebalances = { auto: 0, oneApproval: 0, twoApprovals: 0, total: 0 };
    const rebalanceLog: Rebalance[] = [];
    const decisions = { hold: 0, hedge: 0, standDown: 0, rejected: 0 };
    const standDowns = reasonTally();
    const rejections = reasonTally();
    let fundingSettled = 0;
    let turnover = 0;
    let flowTotal = 0;
    let owed = 0n;
    let liability = await ledger.read.liability([W, Bucket.CreatorFunds]);
    let peakMarginUsd = 0;
    let lastBtc = first;
    let usdc0 = 0;
    const wall0 = Date.now();

    try {
      for (let i = 0; i < n; i++) {
        bar = i;
        const t = times[i] as number;
        const S = prices[i] as number;
        // Bar 0 too: the keeper's clock must read the bar's time (the time policy's first bucket).
        await networkHelpers.time.increaseTo(chainSec(t));
        if (i > 0) {
          const tPrev = times[i - 1] as number;
          await postEth(prices[i - 1] as number, S);
          // BTC is not traded; its round is refreshed so the vault's NAV never reads a stale price.
          if (t - lastBtc >= 12 * HOUR_MS) {
            await confirmStep(pc, "BTC round", () => feeds.btc.write.submit([btcAnswer], FAST));
            lastBtc = t;
          }

          // ---- flows: the model engine's draws, in the same order
          const dtH = (t - tPrev) / HOUR_MS;
          const q = Math.max(0, tr.proceedsPerHour * dtH * (1 + tr.proceedsNoise * flowRng.nextNormal()));
          const qUnits = wei(q);
          let newLiability = liability;
          if (qUnits > 0n) {
            await confirmStep(pc, "deposit proceeds", () =>
              vault.write.deposit([W, qUnits], { ...FAST, account: treasurer.account }),
            );
            const share = (qUnits * BigInt(Math.round(tr.creatorShare * 1e6))) / 1_000_000n;
            newLiability += share;
            owed += share;
            flowTotal += q * (1 - tr.creatorShare) * S;
          }
          const hour = Math.floor((t % DAY_MS) / HOUR_MS);
          if (Math.floor(t / DAY_MS) !== Math.floor(tPrev / DAY_MS) && hour >= tr.payoutHourUtc) {
            if (owed > 0n) {
              await confirmStep(pc, "pay creators", () =>
                vault.write.withdraw([W, owed, creator.account.address], {
                  ...FAST,
                  account: treasurer.account,
                }),
              );
              newLiability -= owed;
              owed = 0n;
            }
            const spot = f18((await vault.read.exposure([W])).spot);
            const w = Math.min(Math.max(spot, 0), tr.withdrawalPerDay);
            if (w > 0) {
              await confirmStep(pc, "operating withdrawal", () =>
                vault.write.withdraw([W, wei(w), treasurer.account.address], {
                  ...FAST,
                  account: treasurer.account,
                }),
              );
              flowTotal -= w * S;
            }
          }
          if (newLiability !== liability) {
            const set = newLiability;
            await confirmStep(pc, "ledger.setLiability", () =>
              ledger.write.setLiability([W, Bucket.CreatorFunds, set], {
                ...FAST,
                account: treasurer.account,
              }),
            );
            liability = newLiability;
          }
        }

        // The unhedged baseline: the vault's cash at the start plus its spot net of what it owes
        // (nav() already deducts the liabilities), read before the first tick trades.
        if (i === 0) {
          const e0 = await vault.read.exposure([W]);
          const [nav0] = await vault.read.nav();
          usdc0 = f18(nav0) - (f18(e0.spot) - f18(e0.liabilities)) * S;
        }

        // ---- one tick of the live keeper, the desk approving what it proposes
        let r: TickReport | null = null;
        if (keeper !== null) {
          const k = keeper;
          r = await desk.during(() => k.tick());
          const dec = r.decisions.find((x) => x.underlying === "ETH");
          // A time policy between its clock ticks decided nothing (the model engine counts nothing).
          const notDue = dec?.reasons[0]?.endsWith("not due until the next clock tick") === true;
          if (dec !== undefined && !notDue) {
            if (dec.action === "standDown") {
              decisions.standDown++;
              standDowns.add(dec.reasons[0] ?? "stand down", t);
            } else if (dec.action === "hedge") decisions.hedge++;
            else decisions.hold++;
            if (dec.band !== null) band[i] = dec.band;
          }
          if (!["hedged", "hold", "standDown", "noop"].includes(r.outcome)) {
            decisions.rejected++;
            rejections.add(`${r.outcome}: ${r.reasons[0] ?? ""}`, t);
          }
          if (r.outcome === "hedged" && r.execute?.txHash) {
            const receipt = await client.getTransactionReceipt({ hash: r.execute.txHash });
            book(receipt, t, S);
          }
        }

        // ---- state after the bar
        const e = await vault.read.exposure([W]);
        const [nav] = await vault.read.nav();
        const pos = await dex.read.position([d.vault, W]);
        cum.funding = fundingSettled + f18(pos.accruedFunding);
        const net = f18(e.net);
        const spotNet = f18(e.spot) - f18(e.liabilities);
        const navUsd = f18(nav);
        const dec = r?.decisions.find((x) => x.underlying === "ETH");
        netPre[i] = dec?.net ?? net;
        netPost[i] = net;
        netU[i] = spotNet;
        // Gas is paid by the keeper's account: charged to the treasury here, as the model does.
        value[i] = navUsd - cum.gas;
        valueU[i] = usdc0 + spotNet * S;
        cumFlow[i] = flowTotal;
        for (const k of COSTS) (cumCost[k] as Float64Array)[i] = cum[k];
        peakMarginUsd = Math.max(peakMarginUsd, Math.abs(f18(e.perps)) * S);
        if (o.progress !== undefined && (i % 24 === 0 || i === n - 1))
          o.progress(
            `${label.padEnd(12)} ${progressBar((i + 1) / n)} ${new Date(t).toISOString().slice(0, 10)}  ${path.underlying} ${S.toFixed(0)}  net ${net.toFixed(1)}  hedges ${rebalances.total}`,
            i === n - 1,
          );
      }
    } finally {
      keeper?.close();
    }
    const seconds = (Date.now() - wall0) / 1000;

    function book(receipt: TransactionReceipt, t: number, S: number) {
      const r = readRebalanceReceipt(
        receipt,
        { vault: vault.abi, perpDex: dex.abi },
        { gasPriceGwei: venues.gas.gasPriceGwei, ethUsd: S, time: t },
      );
      if (r === null) return;
      cum.fees += r.fees;
      cum.slippage += r.slippage;
      cum.gas += r.gasUsd;
      turnover += r.turnover;
      fundingSettled += r.fundingSettled;
      rebalances[r.rebalance.tier]++;
      rebalances.total++;
      if (rebalanceLog.length < 100_000) rebalanceLog.push(r.rebalance);
    }

    const costs = { ...cum, total: COSTS.reduce((s, k) => s + cum[k], 0) };
    const base = {
      underlying: path.underlying,
      bars: n,
      times,
      prices,
      cumFlow,
      target: limits.targetDelta,
    };
    const unhedged = unhedgedResult(base, valueU, netU);
    const hedged: BacktestResult | null =
      policy === null
        ? null
        : {
            ...base,
            bookCostUsd: 0,
            overlay: { buys: 0, premiumUsd: 0, feesUsd: 0, spreadUsd: 0 },
            minCashUsd: 0,
            policy,
            value,
            netPre,
            netPost,
            band,
            cumCost,
            costs,
            rebalances,
            rebalanceLog,
            decisions,
            standDowns: standDowns.list(),
            rejections: rejections.list(),
            turnoverUnits: turnover,
            peakMarginUsd,
          };
    return { unhedged, hedged, seconds };
  };

  const hedgedPolicies = o.policies.filter((p) => p.kind !== "unhedged");
  const results: BacktestResult[] = [];
  const secondsPerPolicy: Record<string, number> = {};
  let unhedged: BacktestResult | null = null;
  for (const p of hedgedPolicies) {
    const r = await runOne(p);
    unhedged ??= r.unhedged;
    secondsPerPolicy[p.name] = r.seconds;
    if (r.hedged !== null) results.push(r.hedged);
  }
  if (unhedged === null) {
    const r = await runOne(null);
    unhedged = r.unhedged;
    secondsPerPolicy.unhedged = r.seconds;
  }
  return { results: [unhedged, ...results], secondsPerPolicy, deploySeconds, notes };
}

export type { SystemDeployment };
