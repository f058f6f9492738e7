/**
 * Gas benchmark of the perpetual DEX (contracts/venues/perp).
 *
 * - perpOpenGas: full-transaction gasUsed of `PerpDEX.modifyPosition` opening a 10 WETH long by a
 *   trader with margin already deposited and no position, on a warm market (another account holds
 *   a position, so the open-interest / funding / aggregate slots are non-zero) with funding to
 *   accrue (time has passed since the last touch).
 * - perpCloseGas: full-transaction gasUsed of `PerpDEX.closePosition` closing those 10 WETH
 *   (funding settled, P&L realised, fee taken).
 *
 * Market aggregates are O(1) (no loop over positions), so the figures do not depend on how many
 * positions are open.
 */
import type { network } from "hardhat";
import { getAddress, parseUnits, type Address, type Hash } from "viem";
import { defaultWbtcPerpParams, defaultWethPerpParams, deployPerp } from "../deploy/perp.ts";

type Viem = Awaited<ReturnType<typeof network.connect>>["viem"];

/**
 * An existing venue the bench may reuse: the first wallet must be able to mint `usdc` (TestToken
 * MINTER_ROLE), `weth` must be a listed market of `perpDex` with a fresh oracle price.
 */
export interface PerpBenchDeployment {
  usdc: Address;
  weth: Address;
  perpDex: Address;
}

const SIZE = parseUnits("10", 18);
const MAX_UINT = 2n ** 256n - 1n;

export async function benchPerp(
  viem: Viem,
  deployed?: PerpBenchDeployment,
): Promise<{ perpOpenGas: number; perpCloseGas: number }> {
  const publicClient = await viem.getPublicClient();
  const [adminWallet, traderWallet] = await viem.getWalletClients();
  if (!adminWallet || !traderWallet) throw new Error("benchPerp: need two wallet clients");
  const admin = getAddress(adminWallet.account.address);
  const trader = getAddress(traderWallet.account.address);
  const wait = async (hash: Hash): Promise<bigint> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`benchPerp: transaction ${hash} reverted`);
    return receipt.gasUsed;
  };

  const env = deployed ?? (await deployEnv(viem, admin, wait));
  const usdc = await viem.getContractAt("TestToken", env.usdc);
  const dex = await viem.getContractAt("PerpDEX", env.perpDex);
  const asTrader = { account: traderWallet.account };

  // LP liquidity, a warm market (the admin holds a 1 WETH short), trader margin.
  await wait(await usdc.write.mint([admin, parseUnits("2000000", 6)]));
  await wait(await usdc.write.approve([env.perpDex, MAX_UINT]));
  await wait(await dex.write.depositLiquidity([parseUnits("1000000", 6)]));
  let deadline = (await publicClient.getBlock()).timestamp + 600n;
  await wait(await dex.write.depositMargin([env.weth, parseUnits("10000", 6)]));
  await wait(await dex.write.modifyPosition([env.weth, -parseUnits("1", 18), 0n, deadline]));
  await wait(await usdc.write.mint([trader, parseUnits("100000", 6)]));
  await wait(await usdc.write.approve([env.perpDex, MAX_UINT], asTrader));
  await wait(await dex.write.depositMargin([env.weth, parseUnits("10000", 6)], asTrader));

  // Slippage bounds from the quotes, 1% worse.
  const [openFill] = await dex.read.quote([env.weth, SIZE]);
  deadline = (await publicClient.getBlock()).timestamp + 600n;
  const perpOpenGas = await wait(
    await dex.write.modifyPosition([env.weth, SIZE, (openFill * 101n) / 100n, deadline], asTrader),
  );
  const [closeFill] = await dex.read.quote([env.weth, -SIZE]);
  const perpCloseGas = await wait(
    await dex.write.closePosition([env.weth, (closeFill * 99n) / 100n, deadline], asTrader),
  );

  const [size] = await dex.read.positions([trader, env.weth]);
  if (size !== 0n) throw new Error("benchPerp: the close did not flatten the position");
  return { perpOpenGas: Number(perpOpenGas), perpCloseGas: Number(perpCloseGas) };
}

async function deployEnv(
  viem: Viem,
  admin: Address,
  wait: (hash: Hash) => Promise<bigint>,
): Promise<PerpBenchDeployment> {
  const usdc = await viem.deployContract("TestToken", ["USD Coin", "USDC", 6, admin]);
  const weth = await viem.deployContract("TestToken", ["Wrapped Ether", "WETH", 18, admin]);
  const wbtc = await viem.deployContract("TestToken", ["Wrapped BTC", "WBTC", 8, admin]);
  const ethFeed = await viem.deployContract("ManagedPriceFeed", [8, "ETH / USD", 3000n * 10n ** 8n, admin]);
  const btcFeed = await viem.deployContract("ManagedPriceFeed", [8, "BTC / USD", 60_000n * 10n ** 8n, admin]);
  const router = await viem.deployContract("OracleRouter", [admin]);
  await wait(await router.write.setFeed([weth.address, ethFeed.address, 3600, 2000]));
  await wait(await router.write.setFeed([wbtc.address, btcFeed.address, 3600, 2000]));
  const { perpDex } = await deployPerp(viem, {
    usdc: usdc.address,
    router: router.address,
    admin,
    markets: [
      { underlying: weth.address, params: defaultWethPerpParams },
      { underlying: wbtc.address, params: defaultWbtcPerpParams },
    ],
  });
  return { usdc: usdc.address, weth: weth.address, perpDex };
}
