/**
 * Gas benchmark of the options AMM (contracts/venues/options).
 *
 * - optionBuyGas: full-transaction gasUsed of `OptionsAMM.buy` of 10 WETH of a 30-day ATM put
 *   (strike 3000, spot 3000, 80% ATM vol) by a trader with no position, on a warm series (another
 *   account already traded it, so the series' open-interest / cached-greeks slots and the pool's
 *   locked balance are non-zero).
 * - optionSellGas: full-transaction gasUsed of `OptionsAMM.sell` of the same 10 puts by the same
 *   trader, closing the position (pool pays proceeds and unlocks collateral).
 *
 * Pool net delta is a cached aggregate (no loop over series on a trade), so the figures do not
 * depend on how many series are listed.
 */
import type { network } from "hardhat";
import { encodeAbiParameters, getAddress, keccak256, parseUnits, type Address, type Hash } from "viem";
import { deployOptions } from "../deploy/options.ts";

type Viem = Awaited<ReturnType<typeof network.connect>>["viem"];

/** An existing venue the bench may reuse; the first wallet must hold the admin/minter roles. */
export interface OptionsBenchDeployment {
  usdc: Address;
  weth: Address;
  router: Address;
  surface: Address;
  pool: Address;
  amm: Address;
}

const SIZE = parseUnits("10", 18);
const STRIKE = parseUnits("3000", 18);
const DAY = 86_400n;

export async function benchOptions(
  viem: Viem,
  deployed?: OptionsBenchDeployment,
): Promise<{ optionBuyGas: number; optionSellGas: number }> {
  const publicClient = await viem.getPublicClient();
  const [adminWallet, traderWallet] = await viem.getWalletClients();
  if (!adminWallet || !traderWallet) throw new Error("benchOptions: need two wallet clients");
  const admin = getAddress(adminWallet.account.address);
  const trader = getAddress(traderWallet.account.address);
  const wait = async (hash: Hash): Promise<bigint> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`benchOptions: transaction ${hash} reverted`);
    return receipt.gasUsed;
  };

  const env = deployed ?? (await deployEnv(viem, admin, wait));
  const usdc = await viem.getContractAt("TestToken", env.usdc);
  const surface = await viem.getContractAt("VolatilitySurface", env.surface);
  const pool = await viem.getContractAt("OptionsPool", env.pool);
  const amm = await viem.getContractAt("OptionsAMM", env.amm);
  const asTrader = { account: traderWallet.account };

  // A 30-day ATM put (the expiry is rounded to the day so reruns can reuse the smile).
  const now = (await publicClient.getBlock()).timestamp;
  const expiry = ((now + 30n * DAY) / DAY) * DAY;
  await wait(
    await surface.write.setSmile([
      env.weth,
      expiry,
      parseUnits("0.8", 18),
      parseUnits("-0.1", 18),
      parseUnits("0.5", 18),
    ]),
  );
  const key = { underlying: env.weth, strike: STRIKE, expiry };
  let seriesId = await amm.read.seriesIdOf([seriesKey(key)]);
  if (seriesId === 0n) {
    await wait(await amm.write.listSeries([env.weth, STRIKE, expiry, false, parseUnits("1000000", 18)]));
    seriesId = await amm.read.seriesCount();
  }

  // LP liquidity and trader funds.
  await wait(await usdc.write.mint([admin, parseUnits("10100000", 6)]));
  await wait(await usdc.write.approve([env.pool, 2n ** 256n - 1n]));
  await wait(await pool.write.deposit([parseUnits("10000000", 6), 0n, admin]));
  await wait(await usdc.write.mint([trader, parseUnits("1000000", 6)]));
  await wait(await usdc.write.approve([env.amm, 2n ** 256n - 1n], asTrader));
  await wait(await usdc.write.approve([env.amm, 2n ** 256n - 1n]));

  // Warm the series with another account's trade.
  const deadline = (await publicClient.getBlock()).timestamp + 600n;
  await wait(await amm.write.buy([seriesId, parseUnits("1", 18), 2n ** 256n - 1n, deadline]));

  const buyQuote = await amm.read.quote([seriesId, SIZE]);
  const maxPremium = (buyQuote.amountUsdc * 101n) / 100n;
  const optionBuyGas = await wait(await amm.write.buy([seriesId, SIZE, maxPremium, deadline], asTrader));

  const sellQuote = await amm.read.quote([seriesId, -SIZE]);
  const minProceeds = (sellQuote.amountUsdc * 99n) / 100n;
  const optionSellGas = await wait(await amm.write.sell([seriesId, SIZE, minProceeds, deadline], asTrader));

  const [size] = await amm.read.positionOf([trader, seriesId]);
  if (size !== 0n) throw new Error("benchOptions: the sell did not close the position");
  return { optionBuyGas: Number(optionBuyGas), optionSellGas: Number(optionSellGas) };
}

/** keccak256(abi.encode(underlying, strike, expiry, isCall = false)), as OptionsAMM.seriesIdOf keys it. */
function seriesKey(k: { underlying: Address; strike: bigint; expiry: bigint }): `0x${string}` {
  return keccak256(
    encodeAbiParameters(
      [{ type: "address" }, { type: "uint256" }, { type: "uint256" }, { type: "bool" }],
      [k.underlying, k.strike, k.expiry, false],
    ),
  );
}

async function deployEnv(
  viem: Viem,
  admin: Address,
  wait: (hash: Hash) => Promise<bigint>,
): Promise<OptionsBenchDeployment> {
  const usdc = await viem.deployContract("TestToken", ["USD Coin", "USDC", 6, admin]);
  const weth = await viem.deployContract("TestToken", ["Wrapped Ether", "WETH", 18, admin]);
  const feed = await viem.deployContract("ManagedPriceFeed", [8, "ETH / USD", 3000n * 10n ** 8n, admin]);
  const router = await viem.deployContract("OracleRouter", [admin]);
  await wait(await router.write.setFeed([weth.address, feed.address, 3600, 2000]));
  const venue = await deployOptions(viem, {
    usdc: usdc.address,
    router: router.address,
    admin,
    underlyings: [{ token: weth.address, maxNetDelta: parseUnits("100000", 18) }],
  });
  return { usdc: usdc.address, weth: weth.address, router: router.address, ...venue };
}
