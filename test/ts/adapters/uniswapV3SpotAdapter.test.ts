import { beforeAll, describe, expect, it } from "vitest";
import { network } from "hardhat";
import { decodeFunctionResult, encodeFunctionData, parseUnits, type Address } from "viem";
import {
  createPoolWithLiquidity,
  deployUniswapV3,
  type UniswapClients,
} from "../../../scripts/deploy/uniswapV3.ts";

const { viem } = await network.connect();
const WAD = 10n ** 18n;

async function deployEnv() {
  const publicClient = await viem.getPublicClient();
  const [walletClient] = await viem.getWalletClients();
  if (!walletClient) throw new Error("no wallet");
  const clients: UniswapClients = { publicClient, walletClient };
  const me = walletClient.account.address;
  const weth = await viem.deployContract("TestToken", ["Wrapped Ether", "WETH", 18, me]);
  const usdc = await viem.deployContract("TestToken", ["USD Coin", "USDC", 6, me]);
  const feed = await viem.deployContract("ManagedPriceFeed", [8, "ETH / USD", 3000n * 10n ** 8n, me]);
  const oracle = await viem.deployContract("OracleRouter", [me]);
  await oracle.write.setFeed([weth.address, feed.address, 3600, 2000]);
  const uni = await deployUniswapV3(clients, { weth: weth.address });
  await weth.write.mint([me, parseUnits("1000", 18)]);
  await usdc.write.mint([me, parseUnits("3000000", 6)]);
  await createPoolWithLiquidity(clients, uni, {
    base: { address: weth.address, decimals: 18 },
    quote: { address: usdc.address, decimals: 6 },
    fee: 500,
    priceQuotePerBase: 3000,
    baseAmount: parseUnits("1000", 18),
    quoteAmount: parseUnits("3000000", 6),
    range: { pct: 0.2 },
  });
  const adapter = await viem.deployContract("UniswapV3SpotAdapter", [
    uni.swapRouter,
    oracle.address,
    usdc.address,
    500,
  ]);
  const account = await viem.deployContract("DelegateCallHarness");
  await weth.write.mint([account.address, parseUnits("100", 18)]);
  await usdc.write.mint([account.address, parseUnits("300000", 6)]);
  return { publicClient, me, weth, usdc, adapter, account };
}

type Env = Awaited<ReturnType<typeof deployEnv>>;
let env: Env;
let sellPrice = 0;

beforeAll(async () => {
  env = await deployEnv();
});

async function deadline(): Promise<bigint> {
  const block = await env.publicClient.getBlock();
  return block.timestamp + 600n;
}

function swapData(tokenIn: Address, tokenOut: Address, amountIn: bigint, minOut: bigint, dl: bigint) {
  return encodeFunctionData({
    abi: env.adapter.abi,
    functionName: "swap",
    args: [tokenIn, tokenOut, amountIn, minOut, dl],
  });
}

describe("UniswapV3SpotAdapter (delegatecalled like the vault does)", () => {
  it("sells WETH for USDC and reports the leg in WAD at the oracle", async () => {
    const { weth, usdc, adapter, account, publicClient } = env;
    const data = swapData(weth.address, usdc.address, 10n * WAD, 1n, await deadline());
    const sim = await publicClient.simulateContract({
      address: account.address,
      abi: account.abi,
      functionName: "exec",
      args: [adapter.address, data],
      account: env.me,
    });
    const leg = decodeFunctionResult({ abi: adapter.abi, functionName: "swap", data: sim.result });
    const usdcBefore = await usdc.read.balanceOf([account.address]);
    const wethBefore = await weth.read.balanceOf([account.address]);
    await account.write.exec([adapter.address, data]);
    const received = (await usdc.read.balanceOf([account.address])) - usdcBefore;
    expect(wethBefore - (await weth.read.balanceOf([account.address]))).toBe(10n * WAD);
    expect(leg.underlying.toLowerCase()).toBe(weth.address.toLowerCase());
    expect(leg.size).toBe(10n * WAD);
    expect(leg.deltaChange).toBe(-10n * WAD);
    expect(leg.positionBefore).toBe(wethBefore);
    expect(leg.positionAfter).toBe(wethBefore - 10n * WAD);
    expect(leg.gammaChange).toBe(0n);
    expect(leg.oraclePrice).toBe(3000n * WAD);
    expect(leg.notionalUsd).toBe(30_000n * WAD);
    expect(leg.cashFlow).toBe(received * 10n ** 12n);
    // 0.05% pool, ~9.4k WETH of virtual depth: below the oracle by the fee plus ~0.2% impact.
    const px = Number(leg.executionPrice) / 1e18;
    sellPrice = px;
    expect(px).toBeLessThan(3000 * (1 - 0.0005));
    expect(px).toBeGreaterThan(3000 * (1 - 0.0005) * (1 - 0.005));
    expect(leg.fee).toBe((30_000n * WAD * 500n) / 1_000_000n);
  });

  it("buys WETH with USDC: positive delta, negative cash flow", async () => {
    const { weth, usdc, adapter, account, publicClient } = env;
    const data = swapData(usdc.address, weth.address, parseUnits("30000", 6), 1n, await deadline());
    const sim = await publicClient.simulateContract({
      address: account.address,
      abi: account.abi,
      functionName: "exec",
      args: [adapter.address, data],
      account: env.me,
    });
    const leg = decodeFunctionResult({ abi: adapter.abi, functionName: "swap", data: sim.result });
    expect(leg.deltaChange > 0n).toBe(true);
    expect(leg.cashFlow).toBe(-30_000n * WAD);
    // Buying pays more per WETH than the previous sale received (fee + impact both ways).
    expect(Number(leg.executionPrice) / 1e18).toBeGreaterThan(sellPrice);
  });

  it("enforces the minimum output (the whole call reverts, nothing moves)", async () => {
    const { weth, usdc, adapter, account } = env;
    const before = await weth.read.balanceOf([account.address]);
    const data = swapData(weth.address, usdc.address, WAD, parseUnits("3000", 6), await deadline());
    await expect(account.write.exec([adapter.address, data])).rejects.toThrow(/Too little received/);
    expect(await weth.read.balanceOf([account.address])).toBe(before);
  });

  it("rejects pairs without the quote token, zero amounts, expired deadlines and direct calls", async () => {
    const { weth, usdc, adapter, account } = env;
    const dl = await deadline();
    await expect(
      account.write.exec([adapter.address, swapData(weth.address, weth.address, WAD, 0n, dl)]),
    ).rejects.toThrow(/NotQuotePair/);
    await expect(
      account.write.exec([adapter.address, swapData(usdc.address, usdc.address, WAD, 0n, dl)]),
    ).rejects.toThrow(/NotQuotePair/);
    await expect(
      account.write.exec([adapter.address, swapData(weth.address, usdc.address, 0n, 0n, dl)]),
    ).rejects.toThrow(/ZeroAmount/);
    await expect(
      account.write.exec([adapter.address, swapData(weth.address, usdc.address, WAD, 0n, 1n)]),
    ).rejects.toThrow(/Transaction too old/);
    await expect(adapter.write.swap([weth.address, usdc.address, WAD, 0n, dl])).rejects.toThrow(
      /DelegateCallOnly/,
    );
    expect(await adapter.read.kind()).toBe(2);
  });
});
