/**
 * Gas benchmark of the Uniswap V3 spot venue: one one-hop exactInputSingle WETH -> USDC through
 * the published SwapRouter, measured as the full transaction's gasUsed.
 *
 * Method: a 10 WETH swap (≈ 30k USDC) against a WETH/USDC 0.3% pool at 3000 with a deep ±20%
 * position, after one identical warm-up swap (so pool, balance and observation slots are in
 * their steady, non-zero state) and with a standing max approval for the router (no allowance
 * write in the measured transaction). The measured swap must not cross an initialized tick:
 * the pool's active liquidity is checked to be unchanged, otherwise the benchmark throws.
 */
import type { network } from "hardhat";
import { erc20Abi, maxUint256, parseAbi, parseUnits, type Address } from "viem";
import {
  createPoolWithLiquidity,
  deployUniswapV3,
  factoryAbi,
  ensureAllowance,
  quoteExactInputSingle,
  readPoolState,
  swapExactInputSingle,
  type TokenRef,
  type UniswapClients,
  type UniswapV3Deployment,
} from "../deploy/uniswapV3.ts";

/** hardhat-viem helpers of a network connection. */
export type HardhatViem = Awaited<ReturnType<typeof network.connect>>["viem"];

/** An existing deployment to reuse; `weth` must be a TestToken the wallet can mint (MINTER_ROLE). */
export type UniswapBenchSetup = {
  uni: UniswapV3Deployment;
  weth: TokenRef;
  usdc: TokenRef;
  /** Fee tier of an existing, liquid WETH/USDC pool. */
  fee: number;
};

const testTokenMintAbi = parseAbi(["function mint(address to, uint256 amount)"]);
const FEE = 3000;
const SWAP_WETH = parseUnits("10", 18);

async function mint(clients: UniswapClients, token: Address, amount: bigint): Promise<void> {
  const hash = await clients.walletClient.writeContract({
    address: token,
    abi: testTokenMintAbi,
    functionName: "mint",
    args: [clients.walletClient.account.address, amount],
  });
  await clients.publicClient.waitForTransactionReceipt({ hash });
}

/** Deploys the minimal setup: TestToken WETH(18) and USDC(6), Uniswap V3, a deep WETH/USDC 0.3% pool at 3000. */
export async function deployUniswapBenchSetup(
  viem: HardhatViem,
  clients: UniswapClients,
): Promise<UniswapBenchSetup> {
  const me = clients.walletClient.account.address;
  const wethToken = await viem.deployContract("TestToken", ["Wrapped Ether", "WETH", 18, me]);
  const usdcToken = await viem.deployContract("TestToken", ["USD Coin", "USDC", 6, me]);
  const weth: TokenRef = { address: wethToken.address, decimals: 18 };
  const usdc: TokenRef = { address: usdcToken.address, decimals: 6 };
  const baseAmount = parseUnits("2000", 18);
  const quoteAmount = parseUnits("6000000", 6);
  await mint(clients, weth.address, baseAmount);
  await mint(clients, usdc.address, quoteAmount);
  const uni = await deployUniswapV3(clients, { weth: weth.address });
  await createPoolWithLiquidity(clients, uni, {
    base: weth,
    quote: usdc,
    fee: FEE,
    priceQuotePerBase: 3000,
    baseAmount,
    quoteAmount,
    range: { pct: 0.2 },
  });
  return { uni, weth, usdc, fee: FEE };
}

/**
 * Measures `uniswapV3SwapGas`. Deploys its own tokens, Uniswap and pool unless `setup` is given
 * (so the main bench can reuse one deployment). Uses the first wallet client of `viem`.
 */
export async function benchUniswap(
  viem: HardhatViem,
  setup?: UniswapBenchSetup,
): Promise<{ uniswapV3SwapGas: number }> {
  const publicClient = await viem.getPublicClient();
  const [walletClient] = await viem.getWalletClients();
  if (!walletClient) throw new Error("benchUniswap: no wallet client");
  const clients: UniswapClients = { publicClient, walletClient };
  const { uni, weth, usdc, fee } = setup ?? (await deployUniswapBenchSetup(viem, clients));
  const me = walletClient.account.address;

  const held = await publicClient.readContract({
    address: weth.address,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [me],
  });
  if (held < 2n * SWAP_WETH) await mint(clients, weth.address, 2n * SWAP_WETH - held);
  await ensureAllowance(clients, weth.address, uni.swapRouter, maxUint256);

  const swap = async (): Promise<bigint> => {
    const block = await publicClient.getBlock();
    const receipt = await swapExactInputSingle(clients, uni, {
      tokenIn: weth.address,
      tokenOut: usdc.address,
      fee,
      amountIn: SWAP_WETH,
      amountOutMinimum: 1n,
      recipient: me,
      deadline: block.timestamp + 600n,
      approve: false,
    });
    return receipt.gasUsed;
  };

  await swap(); // warm-up
  const pool = await publicClient.readContract({
    address: uni.factory,
    abi: factoryAbi,
    functionName: "getPool",
    args: [weth.address, usdc.address, fee],
  });
  const before = await readPoolState(clients, pool);
  const quote = await quoteExactInputSingle(clients, uni, {
    tokenIn: weth.address,
    tokenOut: usdc.address,
    fee,
    amountIn: SWAP_WETH,
  });
  const gasUsed = await swap();
  const after = await readPoolState(clients, pool);
  if (after.liquidity !== before.liquidity || after.sqrtPriceX96 !== quote.sqrtPriceX96After) {
    throw new Error("benchUniswap: the measured swap crossed an initialized tick or diverged from the quote");
  }
  return { uniswapV3SwapGas: Number(gasUsed) };
}
