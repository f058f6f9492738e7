/**
 * Gas benchmark of the treasury vault's atomic rebalance on the full system (embedded chain).
 *
 * One deployment (scripts/deploy/system.ts), one marketplace treasury (1,000 WETH, 50 WBTC, 5M USDC,
 * 300 WETH of creator payouts owed). Every figure is a full transaction's gasUsed, measured on a
 * warm system (venues traded before, the vault's perp position open, its greeks cache fresh):
 *
 * - uniswapV3SwapGas: a 10 WETH -> USDC exactInputSingle through the SwapRouter (standing approval).
 * - rebalancePerpOnlyGas: a bundle with one perp leg (the liability moved the net delta out of band).
 * - rebalanceOptionPlusPerpGas: buy puts of a series not yet held + adjust the perp short, band
 *   check included; the vault already holds one series (its first option trade ever, which
 *   initialises the greeks cache and premium window, is a warm-up and not measured).
 * - rebalanceThreeLegGas: option + perp + spot sale in one bundle.
 * - rebalanceGasAt20Series: the same bundle (a new series + perp) when it makes the 20th held series.
 * - rebuildOptionBook20SeriesGas: pricing all 20 held series exactly (what a stale cache costs).
 * - bundleToSwapRatio = rebalanceOptionPlusPerpGas / uniswapV3SwapGas.
 *
 * Between measurements the treasurer changes the creator-payout liability so that a hedge is due
 * (the vault only accepts bundles that end inside the band within the policy's hedge ratios).
 */
import {
  encodeAbiParameters,
  keccak256,
  parseAbiParameters,
  parseUnits,
  type Address,
  type Hash,
} from "viem";
import { deploySystem, defaultLocalConfig, fundTreasury, type SystemDeployment } from "../deploy/system.ts";
import { swapExactInputSingle } from "../deploy/uniswapV3.ts";
import type { HardhatViem } from "../deploy/options.ts";
import { profileTransaction } from "./gasProfile.ts";

const WAD = 10n ** 18n;
const LegKind = { Option: 0, Perp: 1, Spot: 2, MarginDeposit: 3 } as const;
type Leg = { kind: number; adapter: Address; underlying: Address; id: bigint; amount: bigint; bound: bigint };

export interface VaultBench {
  uniswapV3SwapGas: number;
  rebalancePerpOnlyGas: number;
  rebalanceOptionPlusPerpGas: number;
  rebalanceThreeLegGas: number;
  rebalanceGasAt20Series: number;
  rebuildOptionBook20SeriesGas: number;
  bundleToSwapRatio: number;
  perpOnlyToSwapRatio: number;
  twentySeriesOverheadPct: number;
}

export async function benchVault(viem: HardhatViem): Promise<VaultBench> {
  const d = await deploySystem(viem, defaultLocalConfig());
  await fundTreasury(viem, d, { weth: 1_000, wbtc: 50, usdc: 5_000_000, creatorPayoutsOwedWeth: 300 });
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const byAddress = (a: Address) => {
    const w = wallets.find((x) => x.account.address.toLowerCase() === a.toLowerCase());
    if (!w) throw new Error(`bench vault: no wallet for ${a}`);
    return w;
  };
  const keeper = byAddress(d.accounts.keeper);
  const treasurer = byAddress(d.accounts.treasurer);
  const deployer = byAddress(d.accounts.deployer);
  const vault = await viem.getContractAt("TreasuryVault", d.vault);
  const ledger = await viem.getContractAt("TreasuryLedger", d.ledger);
  const amm = await viem.getContractAt("OptionsAMM", d.optionsAmm);
  const weth = d.tokens.weth.address;
  const usdc = d.tokens.usdc.address;

  const gasOf = async (hash: Hash, what: string): Promise<number> => {
    const r = await publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== "success") throw new Error(`bench vault: ${what} reverted`);
    // BENCH_PROFILE="option + perp" (a scenario's name) prints where that transaction's gas went.
    if (process.env.BENCH_PROFILE === what) {
      const names = new Map<string, string>(
        Object.entries({
          ...d.adapters,
          vault: d.vault,
          amm: d.optionsAmm,
          optionsPool: d.optionsPool,
          dex: d.perpDex,
          policy: d.policy,
          router: d.router,
          ledger: d.ledger,
          surface: d.surface,
          usdc,
          weth,
          ethFeed: d.feeds.weth,
        }).map(([k, v]) => [v.toLowerCase(), k]),
      );
      const profile = await profileTransaction(publicClient, hash);
      for (const f of profile.byFrame) {
        const label =
          f.frame === "tx"
            ? "tx (vault)"
            : `${f.frame.slice(0, 2)}${names.get(f.frame.slice(2)) ?? f.frame.slice(2)}`;
        process.stderr.write(
          `${label.padEnd(28)} ${String(f.gas).padStart(8)}  sload ${String(f.sload).padStart(7)}  sstore ${String(f.sstore).padStart(7)}\n`,
        );
      }
    }
    return Number(r.gasUsed);
  };
  const deadline = async () => (await publicClient.getBlock()).timestamp + 600n;
  const net = async () => (await vault.read.exposure([weth])).net;
  const setOwed = async (wethOwed: bigint) =>
    gasOf(
      await ledger.write.setLiability([weth, 2, wethOwed * WAD], { account: treasurer.account }),
      "setLiability",
    );
  const rebalance = async (legs: Leg[], what: string) => {
    const epoch = await vault.read.epoch();
    const inputsHash = `0x${epoch.toString(16).padStart(64, "0")}` as const;
    return gasOf(
      await vault.write.rebalance([legs, inputsHash, epoch, await deadline()], { account: keeper.account }),
      what,
    );
  };
  const perp = (size: bigint): Leg => ({
    kind: LegKind.Perp,
    adapter: d.adapters.perp,
    underlying: weth,
    id: 0n,
    amount: size,
    bound: size < 0n ? 2_900n * WAD : 3_100n * WAD,
  });
  const option = (id: bigint, size: bigint): Leg => ({
    kind: LegKind.Option,
    adapter: d.adapters.options,
    underlying: weth,
    id,
    amount: size,
    bound: 10_000_000n * WAD,
  });
  const putDelta = async (id: bigint, size: bigint) =>
    ((await amm.read.quote([id, size])).delta * size) / WAD;
  const wethSeries = d.series.filter((s) => s.underlying.toLowerCase() === weth.toLowerCase());
  const atmPut = wethSeries.find((s) => !s.isCall && s.strike === d.prices.weth);
  if (!atmPut) throw new Error("bench vault: no ATM WETH put listed");

  // Uniswap swap in the same run (warm-up first, standing approval: the swap alone is measured).
  const clients = { publicClient, walletClient: deployer };
  const weth20 = await viem.getContractAt("TestToken", weth);
  await gasOf(await weth20.write.mint([deployer.account.address, 100n * WAD]), "mint");
  const swap = async () =>
    swapExactInputSingle(clients, d.uniswap, {
      tokenIn: weth,
      tokenOut: usdc,
      fee: d.poolFee,
      amountIn: 10n * WAD,
      amountOutMinimum: 1n,
      recipient: deployer.account.address,
      deadline: await deadline(),
    });
  await swap();
  const uniswapV3SwapGas = Number((await swap()).gasUsed);

  // Setup (not measured): hedge the 700 WETH net long with a perp short in steps below tier 1
  // (2M USD), moving the creator-payout liability so each step ends inside the band.
  await setOwed(700n);
  await rebalance(
    [
      {
        kind: LegKind.MarginDeposit,
        adapter: d.adapters.perp,
        underlying: weth,
        id: 0n,
        amount: parseUnits("1500000", 6),
        bound: 0n,
      },
      perp(-(await net())),
    ],
    "setup hedge 1",
  );
  await setOwed(400n);
  await rebalance([perp(-(await net()))], "setup hedge 2");
  await setOwed(300n);
  await rebalance([perp(-(await net()))], "setup hedge 3");

  // Perp only: 100 more WETH owed -> net about -100 -> buy back 100 of the short.
  await setOwed(400n);
  const rebalancePerpOnlyGas = await rebalance([perp(-(await net()))], "perp-only");

  // Warm-up (not measured): the vault's first option ever initialises its greeks cache and premium
  // window (one-off storage), so it holds one series before the option bundles are measured.
  const otherPut = wethSeries.find((s) => !s.isCall && s.strike < d.prices.weth);
  if (!otherPut) throw new Error("bench vault: no OTM WETH put listed");
  await setOwed(350n);
  const warm = 10n * WAD;
  await rebalance(
    [option(otherPut.id, warm), perp(-((await net()) + (await putDelta(otherPut.id, warm))))],
    "warm-up",
  );

  // Option + perp: owed back to 300 -> net +50; buy 100 ATM puts (a series not yet held), short the rest.
  await setOwed(300n);
  const put = 100n * WAD;
  const rest = (await net()) + (await putDelta(atmPut.id, put));
  const rebalanceOptionPlusPerpGas = await rebalance([option(atmPut.id, put), perp(-rest)], "option + perp");

  // Three legs: owed 200 -> net +100: buy 50 more puts, sell 20 WETH spot, short the rest.
  await setOwed(200n);
  const put2 = 50n * WAD;
  const spotSold = 20n * WAD;
  const rest3 = (await net()) + (await putDelta(atmPut.id, put2)) - spotSold;
  const rebalanceThreeLegGas = await rebalance(
    [
      option(atmPut.id, put2),
      {
        kind: LegKind.Spot,
        adapter: d.adapters.spot,
        underlying: weth,
        id: 0n,
        amount: -spotSold,
        bound: 1n,
      },
      perp(-rest3),
    ],
    "three legs",
  );

  // Hold 20 series: list more WETH series on the other smile expiries, buy 1 of each.
  const params = await amm.read.params();
  await gasOf(
    await amm.write.setParams(
      [
        {
          feeBps: params[0],
          vegaSpreadCoeff: params[1],
          exposureCoeff: params[2],
          rate: params[3],
          maxHorizon: params[4],
          maxActiveSeries: 32,
        },
        await amm.read.capMultiple(),
      ],
      { account: deployer.account },
    ),
    "amm.setParams",
  );
  const held = new Set((await vault.read.heldSeries([weth])).map((h) => h.seriesId));
  const candidates: bigint[] = wethSeries.map((s) => s.id).filter((id) => !held.has(id));
  for (const expiry of d.smileExpiries) {
    for (const frac of [70n, 75n, 85n, 95n, 105n, 115n, 125n]) {
      if (held.size + candidates.length >= 24) break;
      if (expiry === atmPut.expiry) continue;
      const strike = (d.prices.weth * frac) / 100n;
      const hash = await amm.write.listSeries([weth, strike, expiry, frac < 100n, 10_000n * WAD], {
        account: deployer.account,
      });
      await gasOf(hash, "listSeries");
      const key = keccak256(
        encodeAbiParameters(parseAbiParameters("address, uint256, uint256, bool"), [
          weth,
          strike,
          expiry,
          frac < 100n,
        ]),
      );
      candidates.push(await amm.read.seriesIdOf([key]));
    }
  }
  while (held.size < 19) {
    const id = candidates.shift();
    if (id === undefined) throw new Error("bench vault: not enough series to hold 20");
    const size = WAD;
    const rest = (await net()) + (await putDelta(id, size));
    await rebalance([option(id, size), perp(-rest)], `hold series ${held.size + 1}`);
    held.add(id);
  }
  // The 20th series is the measured bundle's option leg (a new series, like the 1-series case).
  const twentieth = candidates.shift();
  if (twentieth === undefined) throw new Error("bench vault: no 20th series");
  await setOwed(100n);
  const rest20 = (await net()) + (await putDelta(twentieth, put));
  const rebalanceGasAt20Series = await rebalance(
    [option(twentieth, put), perp(-rest20)],
    "option + perp at 20 series",
  );
  const heldNow = (await vault.read.heldSeries([weth])).length;
  if (heldNow !== 20) throw new Error(`bench vault: expected 20 held series, got ${heldNow}`);
  const rebuildOptionBook20SeriesGas = await gasOf(
    await vault.write.rebuildOptionBook([weth], { account: keeper.account }),
    "rebuild",
  );

  // The 1-series measurement bought a series the vault did not hold; compare like with like.
  return {
    uniswapV3SwapGas,
    rebalancePerpOnlyGas,
    rebalanceOptionPlusPerpGas,
    rebalanceThreeLegGas,
    rebalanceGasAt20Series,
    rebuildOptionBook20SeriesGas,
    bundleToSwapRatio: round(rebalanceOptionPlusPerpGas / uniswapV3SwapGas),
    perpOnlyToSwapRatio: round(rebalancePerpOnlyGas / uniswapV3SwapGas),
    twentySeriesOverheadPct: round(
      (100 * (rebalanceGasAt20Series - rebalanceOptionPlusPerpGas)) / rebalanceOptionPlusPerpGas,
    ),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export type { SystemDeployment };
