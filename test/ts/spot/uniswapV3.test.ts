import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { network } from "hardhat";
import {
  encodeAbiParameters,
  erc20Abi,
  getAddress,
  getCreate2Address,
  keccak256,
  parseAbi,
  parseUnits,
  type Address,
} from "viem";
import {
  MAX_SQRT_RATIO,
  MAX_TICK,
  MIN_SQRT_RATIO,
  MIN_TICK,
  POOL_INIT_CODE_HASH,
  ceilTick,
  createPoolWithLiquidity,
  decodeSwapEvents,
  deployUniswapV3,
  floorTick,
  fullRangeTicks,
  isqrt,
  linkBytecode,
  priceFromSqrtPriceX96,
  priceWadFromSqrtPriceX96,
  publishedPoolInitCodeHash,
  quoteExactInputSingle,
  ratioToNumber,
  readPoolState,
  sortTokens,
  sqrtPriceX96AtTick,
  sqrtPriceX96FromPrice,
  swapExactInputSingle,
  tickAtSqrtPriceX96,
  tickRangeAroundTick,
  uniswapV3Artifacts,
  type CreatedPool,
  type TokenRef,
  type UniswapClients,
  type UniswapV3Deployment,
} from "../../../scripts/deploy/uniswapV3.ts";
import { benchUniswap } from "../../../scripts/bench/uniswap.ts";

const WAD = 10n ** 18n;
/** contracts/tokens/TestToken.sol mint (the generated artifact types are outside tsconfig's include). */
const testTokenMintAbi = parseAbi(["function mint(address to, uint256 amount)"]);
const FEE = 3000;
const FLIPPED_FEE = 500;
const ETH_PRICE = 3000;
const BTC_PRICE = 60000;
const ETH_POOL_WETH = parseUnits("2000", 18);
const ETH_POOL_USDC = parseUnits("6000000", 6);

const { viem } = await network.connect();

function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

type Env = {
  clients: UniswapClients;
  me: Address;
  uni: UniswapV3Deployment;
  weth: TokenRef;
  wbtc: TokenRef;
  usdc: TokenRef;
  ethPool: CreatedPool;
  btcPool: CreatedPool;
  /** Same pairs with base and quote swapped (fee 500): the opposite token0/token1 orientation. */
  usdcEthPool: CreatedPool;
  usdcBtcPool: CreatedPool;
};

let env: Env;

async function balanceOf(token: Address, owner: Address): Promise<bigint> {
  return env.clients.publicClient.readContract({
    address: token,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [owner],
  });
}

/** Current pool price (quote per base, whole units) from slot0. */
async function spotPrice(pool: Address, base: TokenRef, quote: TokenRef): Promise<number> {
  const state = await readPoolState(env.clients, pool);
  return priceFromSqrtPriceX96({
    sqrtPriceX96: state.sqrtPriceX96,
    baseDecimals: base.decimals,
    quoteDecimals: quote.decimals,
    baseIsToken0: state.token0 === getAddress(base.address),
  });
}

async function deadlineIn(seconds: bigint): Promise<bigint> {
  const block = await env.clients.publicClient.getBlock();
  return block.timestamp + seconds;
}

beforeAll(async () => {
  const publicClient = await viem.getPublicClient();
  const [walletClient] = await viem.getWalletClients();
  if (!walletClient) throw new Error("no wallet client");
  const clients: UniswapClients = { publicClient, walletClient };
  const me = walletClient.account.address;

  const deployToken = async (
    name: string,
    symbol: string,
    decimals: number,
    supply: bigint,
  ): Promise<TokenRef> => {
    const token = await viem.deployContract("TestToken", [name, symbol, decimals, me]);
    const hash = await walletClient.writeContract({
      address: token.address,
      abi: testTokenMintAbi,
      functionName: "mint",
      args: [me, supply],
    });
    await publicClient.waitForTransactionReceipt({ hash });
    return { address: token.address, decimals };
  };
  const weth = await deployToken("Wrapped Ether", "WETH", 18, parseUnits("100000", 18));
  const wbtc = await deployToken("Wrapped Bitcoin", "WBTC", 8, parseUnits("10000", 8));
  const usdc = await deployToken("USD Coin", "USDC", 6, parseUnits("1000000000", 6));

  const uni = await deployUniswapV3(clients, { weth: weth.address });
  const ethPool = await createPoolWithLiquidity(clients, uni, {
    base: weth,
    quote: usdc,
    fee: FEE,
    priceQuotePerBase: ETH_PRICE,
    baseAmount: ETH_POOL_WETH,
    quoteAmount: ETH_POOL_USDC,
    range: { pct: 0.2 },
  });
  const btcPool = await createPoolWithLiquidity(clients, uni, {
    base: wbtc,
    quote: usdc,
    fee: FEE,
    priceQuotePerBase: BigInt(BTC_PRICE) * WAD,
    baseAmount: parseUnits("100", 8),
    quoteAmount: parseUnits("6000000", 6),
    range: { pct: 0.2 },
  });
  const usdcEthPool = await createPoolWithLiquidity(clients, uni, {
    base: usdc,
    quote: weth,
    fee: FLIPPED_FEE,
    priceQuotePerBase: 1 / ETH_PRICE,
    baseAmount: parseUnits("300000", 6),
    quoteAmount: parseUnits("100", 18),
    range: "full",
  });
  const usdcBtcPool = await createPoolWithLiquidity(clients, uni, {
    base: usdc,
    quote: wbtc,
    fee: FLIPPED_FEE,
    priceQuotePerBase: WAD / BigInt(BTC_PRICE),
    baseAmount: parseUnits("600000", 6),
    quoteAmount: parseUnits("10", 8),
    range: { tickLower: -600_000, tickUpper: 600_000 },
  });
  env = { clients, me, uni, weth, wbtc, usdc, ethPool, btcPool, usdcEthPool, usdcBtcPool };
});

describe("Uniswap V3 published artifacts", () => {
  it("pool creation code hashes to the periphery's POOL_INIT_CODE_HASH", () => {
    expect(publishedPoolInitCodeHash()).toBe(POOL_INIT_CODE_HASH);
  });

  it("factory pools sit at the CREATE2 address the periphery derives", () => {
    for (const [a, b, fee, pool] of [
      [env.weth, env.usdc, FEE, env.ethPool.pool],
      [env.wbtc, env.usdc, FEE, env.btcPool.pool],
      [env.usdc, env.weth, FLIPPED_FEE, env.usdcEthPool.pool],
    ] as const) {
      const [token0, token1] = sortTokens(a.address, b.address);
      const salt = keccak256(
        encodeAbiParameters(
          [{ type: "address" }, { type: "address" }, { type: "uint24" }],
          [token0, token1, fee],
        ),
      );
      expect(getCreate2Address({ from: env.uni.factory, salt, bytecodeHash: POOL_INIT_CODE_HASH })).toBe(
        getAddress(pool),
      );
    }
  });

  it("deploys every periphery contract with code", async () => {
    for (const address of Object.values(env.uni)) {
      const code = await env.clients.publicClient.getCode({ address });
      expect(code && code.length > 2).toBe(true);
    }
  });

  it("linkBytecode refuses to deploy the descriptor without its NFTDescriptor library", () => {
    expect(() => linkBytecode(uniswapV3Artifacts.tokenDescriptor, {})).toThrow(/NFTDescriptor/);
    const linked = linkBytecode(uniswapV3Artifacts.tokenDescriptor, {
      NFTDescriptor: "0x00000000000000000000000000000000000000aa",
    });
    expect(linked).toContain("00000000000000000000000000000000000000aa");
    expect(linked).not.toContain("__$");
    expect(linked.length).toBe(uniswapV3Artifacts.tokenDescriptor.bytecode.length);
  });
});

describe("pool initialization at the oracle price", () => {
  const cases = [
    {
      name: "WETH/USDC",
      pool: () => env.ethPool,
      base: () => env.weth,
      quote: () => env.usdc,
      price: ETH_PRICE,
    },
    {
      name: "WBTC/USDC",
      pool: () => env.btcPool,
      base: () => env.wbtc,
      quote: () => env.usdc,
      price: BTC_PRICE,
    },
    {
      name: "USDC/WETH",
      pool: () => env.usdcEthPool,
      base: () => env.usdc,
      quote: () => env.weth,
      price: 1 / ETH_PRICE,
    },
    {
      name: "USDC/WBTC",
      pool: () => env.usdcBtcPool,
      base: () => env.usdc,
      quote: () => env.wbtc,
      price: 1 / BTC_PRICE,
    },
  ];

  it.each(cases)(
    "$name slot0 encodes the requested price within 1e-6",
    async ({ pool, base, quote, price }) => {
      const state = await readPoolState(env.clients, pool().pool);
      const baseIsToken0 = state.token0 === getAddress(base().address);
      expect(state.token1).toBe(getAddress(baseIsToken0 ? quote().address : base().address));
      const onChain = priceFromSqrtPriceX96({
        sqrtPriceX96: state.sqrtPriceX96,
        baseDecimals: base().decimals,
        quoteDecimals: quote().decimals,
        baseIsToken0,
      });
      expect(relErr(onChain, price)).toBeLessThan(1e-6);
      // the pool's own TickMath agrees with our port
      expect(state.tick).toBe(tickAtSqrtPriceX96(state.sqrtPriceX96));
      expect(state.liquidity).toBe(pool().liquidity);
      expect(state.liquidity > 0n).toBe(true);
    },
  );

  it("covers both token orderings for both decimal combinations", async () => {
    const orientation = async (pool: CreatedPool, base: TokenRef): Promise<boolean> =>
      (await readPoolState(env.clients, pool.pool)).token0 === getAddress(base.address);
    expect(await orientation(env.ethPool, env.weth)).toBe(!(await orientation(env.usdcEthPool, env.usdc)));
    expect(await orientation(env.btcPool, env.wbtc)).toBe(!(await orientation(env.usdcBtcPool, env.usdc)));
  });

  it("mints the position in a tick range around the price, aligned to tick spacing", async () => {
    for (const created of [env.ethPool, env.btcPool, env.usdcEthPool, env.usdcBtcPool]) {
      const state = await readPoolState(env.clients, created.pool);
      expect(Math.abs(created.tickLower % state.tickSpacing)).toBe(0);
      expect(Math.abs(created.tickUpper % state.tickSpacing)).toBe(0);
      expect(created.tickLower).toBeLessThan(state.tick);
      expect(created.tickUpper).toBeGreaterThan(state.tick);
      expect(created.baseDeposited > 0n && created.quoteDeposited > 0n).toBe(true);
    }
    expect(env.usdcEthPool.tickLower).toBe(fullRangeTicks(10).tickLower);
    expect(env.usdcBtcPool).toMatchObject({ tickLower: -600_000, tickUpper: 600_000 });
  });

  it("deposits the amounts Uniswap's liquidity math implies, using up the limiting side", async () => {
    const created = env.ethPool;
    const state = await readPoolState(env.clients, created.pool);
    const s = Number(created.sqrtPriceX96) / 2 ** 96;
    const sa = Number(sqrtPriceX96AtTick(created.tickLower)) / 2 ** 96;
    const sb = Number(sqrtPriceX96AtTick(created.tickUpper)) / 2 ** 96;
    const liquidity = Number(created.liquidity);
    const amount0 = (liquidity * (sb - s)) / (s * sb);
    const amount1 = liquidity * (s - sa);
    const wethIsToken0 = state.token0 === getAddress(env.weth.address);
    const [expectedBase, expectedQuote] = wethIsToken0 ? [amount0, amount1] : [amount1, amount0];
    expect(relErr(Number(created.baseDeposited), expectedBase)).toBeLessThan(1e-9);
    expect(relErr(Number(created.quoteDeposited), expectedQuote)).toBeLessThan(1e-9);
    expect(created.baseDeposited <= ETH_POOL_WETH && created.quoteDeposited <= ETH_POOL_USDC).toBe(true);
    const usedBase = Number(created.baseDeposited) / Number(ETH_POOL_WETH);
    const usedQuote = Number(created.quoteDeposited) / Number(ETH_POOL_USDC);
    expect(Math.max(usedBase, usedQuote)).toBeGreaterThan(1 - 1e-9);
  });

  it("rejects re-creating an existing pool at a different price", async () => {
    await expect(
      createPoolWithLiquidity(env.clients, env.uni, {
        base: env.weth,
        quote: env.usdc,
        fee: FEE,
        priceQuotePerBase: 2500,
        baseAmount: 1n,
        quoteAmount: 1n,
        range: "full",
      }),
    ).rejects.toThrow(/already initialized/);
  });
});

describe("swaps through SwapRouter.exactInputSingle", () => {
  const FEE_FRACTION = FEE / 1e6;
  const IMPACT_BOUND = 0.002;

  it("WETH -> USDC pays the oracle price minus the fee, minus a small price impact", async () => {
    const amountIn = parseUnits("10", 18);
    const before = await balanceOf(env.usdc.address, env.me);
    const wethBefore = await balanceOf(env.weth.address, env.me);
    const spot = await spotPrice(env.ethPool.pool, env.weth, env.usdc);
    const receipt = await swapExactInputSingle(env.clients, env.uni, {
      tokenIn: env.weth.address,
      tokenOut: env.usdc.address,
      fee: FEE,
      amountIn,
      amountOutMinimum: 0n,
      recipient: env.me,
      deadline: await deadlineIn(600n),
    });
    const out = Number((await balanceOf(env.usdc.address, env.me)) - before) / 1e6;
    expect(wethBefore - (await balanceOf(env.weth.address, env.me))).toBe(amountIn);
    // price impact only ever costs: never more than the pre-trade spot minus the fee
    expect(out).toBeLessThan(10 * spot * (1 - FEE_FRACTION));
    const ideal = 10 * ETH_PRICE * (1 - FEE_FRACTION);
    expect(relErr(out, ideal)).toBeLessThan(IMPACT_BOUND);
    const [swap] = decodeSwapEvents(receipt);
    expect(swap?.pool).toBe(getAddress(env.ethPool.pool));
  });

  it("USDC -> WETH pays the inverse price minus the fee, minus a small price impact", async () => {
    const amountIn = parseUnits("30000", 6);
    const before = await balanceOf(env.weth.address, env.me);
    const spot = await spotPrice(env.ethPool.pool, env.weth, env.usdc);
    await swapExactInputSingle(env.clients, env.uni, {
      tokenIn: env.usdc.address,
      tokenOut: env.weth.address,
      fee: FEE,
      amountIn,
      amountOutMinimum: 0n,
      recipient: env.me,
      deadline: await deadlineIn(600n),
    });
    const out = Number((await balanceOf(env.weth.address, env.me)) - before) / 1e18;
    expect(out).toBeLessThan((30000 / spot) * (1 - FEE_FRACTION));
    const ideal = (30000 / ETH_PRICE) * (1 - FEE_FRACTION);
    expect(relErr(out, ideal)).toBeLessThan(IMPACT_BOUND);
  });

  it("WBTC -> USDC at 60000 minus fee", async () => {
    const amountIn = parseUnits("0.5", 8);
    const other = (await viem.getWalletClients())[1];
    if (!other) throw new Error("need a second account");
    const before = await balanceOf(env.usdc.address, other.account.address);
    const spot = await spotPrice(env.btcPool.pool, env.wbtc, env.usdc);
    expect(relErr(spot, BTC_PRICE)).toBeLessThan(1e-6);
    await swapExactInputSingle(env.clients, env.uni, {
      tokenIn: env.wbtc.address,
      tokenOut: env.usdc.address,
      fee: FEE,
      amountIn,
      amountOutMinimum: 0n,
      recipient: other.account.address,
      deadline: await deadlineIn(600n),
    });
    const out = Number((await balanceOf(env.usdc.address, other.account.address)) - before) / 1e6;
    const ideal = 0.5 * BTC_PRICE * (1 - FEE_FRACTION);
    expect(out).toBeLessThan(ideal * (1 + 1e-6));
    expect(out).toBeGreaterThan(ideal * (1 - IMPACT_BOUND));
  });

  it("QuoterV2's quote equals the executed amount, and the price after matches", async () => {
    const amountIn = parseUnits("7.5", 18);
    const quote = await quoteExactInputSingle(env.clients, env.uni, {
      tokenIn: env.weth.address,
      tokenOut: env.usdc.address,
      fee: FEE,
      amountIn,
    });
    expect(quote.amountOut > 0n).toBe(true);
    expect(quote.initializedTicksCrossed).toBeLessThanOrEqual(1);
    const before = await balanceOf(env.usdc.address, env.me);
    const receipt = await swapExactInputSingle(env.clients, env.uni, {
      tokenIn: env.weth.address,
      tokenOut: env.usdc.address,
      fee: FEE,
      amountIn,
      amountOutMinimum: quote.amountOut,
      recipient: env.me,
      deadline: await deadlineIn(600n),
    });
    expect((await balanceOf(env.usdc.address, env.me)) - before).toBe(quote.amountOut);
    const [swap] = decodeSwapEvents(receipt);
    expect(swap?.sqrtPriceX96).toBe(quote.sqrtPriceX96After);
    expect((await readPoolState(env.clients, env.ethPool.pool)).sqrtPriceX96).toBe(quote.sqrtPriceX96After);
  });

  it("reverts with 'Too little received' when amountOutMinimum exceeds the possible output", async () => {
    const amountIn = parseUnits("1", 18);
    const quote = await quoteExactInputSingle(env.clients, env.uni, {
      tokenIn: env.weth.address,
      tokenOut: env.usdc.address,
      fee: FEE,
      amountIn,
    });
    const before = await balanceOf(env.usdc.address, env.me);
    await expect(
      swapExactInputSingle(env.clients, env.uni, {
        tokenIn: env.weth.address,
        tokenOut: env.usdc.address,
        fee: FEE,
        amountIn,
        amountOutMinimum: quote.amountOut + 1n,
        recipient: env.me,
        deadline: await deadlineIn(600n),
      }),
    ).rejects.toThrow(/Too little received/);
    expect(await balanceOf(env.usdc.address, env.me)).toBe(before);
  });

  it("reverts with 'Transaction too old' past the deadline", async () => {
    const before = await balanceOf(env.weth.address, env.me);
    await expect(
      swapExactInputSingle(env.clients, env.uni, {
        tokenIn: env.weth.address,
        tokenOut: env.usdc.address,
        fee: FEE,
        amountIn: parseUnits("1", 18),
        amountOutMinimum: 0n,
        recipient: env.me,
        deadline: (await deadlineIn(0n)) - 1n,
      }),
    ).rejects.toThrow(/Transaction too old/);
    expect(await balanceOf(env.weth.address, env.me)).toBe(before);
  });
});

describe("pure price and tick helpers", () => {
  const decimals = fc.integer({ min: 0, max: 18 });
  // prices with raw ratios well inside the representable range, so floor(sqrt) keeps > 40 bits
  const price = fc.double({ min: 1e-9, max: 1e12, noNaN: true, noDefaultInfinity: true });

  it("price -> sqrtPriceX96 -> price round-trips within 1e-12 relative", () => {
    fc.assert(
      fc.property(price, decimals, decimals, fc.boolean(), (p, baseDecimals, quoteDecimals, baseIsToken0) => {
        const orientation = { baseDecimals, quoteDecimals, baseIsToken0 };
        const sqrtPriceX96 = sqrtPriceX96FromPrice({ price: p, ...orientation });
        const back = priceFromSqrtPriceX96({ sqrtPriceX96, ...orientation });
        return relErr(back, p) < 1e-12;
      }),
      { numRuns: 2000 },
    );
  });

  it("sqrtPriceX96 is the exact floor: s^2 <= target < (s+1)^2 (base is token0)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 30n }), decimals, decimals, (wad, db, dq) => {
        const s = sqrtPriceX96FromPrice({
          price: wad,
          baseDecimals: db,
          quoteDecimals: dq,
          baseIsToken0: true,
        });
        // target = wad/1e18 * 10^dq / 10^db * 2^192, compared by cross-multiplication
        const num = wad * 10n ** BigInt(dq) * (1n << 192n);
        const den = WAD * 10n ** BigInt(db);
        return s * s * den <= num && (s + 1n) * (s + 1n) * den > num;
      }),
      { numRuns: 300 },
    );
  });

  it("WAD and number inputs agree, and WAD output inverts WAD input", () => {
    for (const [p, wad] of [
      [3000, 3000n * WAD],
      [60000, 60000n * WAD],
      [0.5, WAD / 2n],
    ] as const) {
      for (const baseIsToken0 of [true, false]) {
        const o = { baseDecimals: 18, quoteDecimals: 6, baseIsToken0 };
        const s = sqrtPriceX96FromPrice({ price: p, ...o });
        expect(sqrtPriceX96FromPrice({ price: wad, ...o })).toBe(s);
        const back = priceWadFromSqrtPriceX96({ sqrtPriceX96: s, ...o });
        expect(Math.abs(Number(back - wad)) / Number(wad)).toBeLessThan(1e-12);
      }
    }
  });

  it("known value: 1 token1 per token0 at equal decimals is 2^96", () => {
    expect(sqrtPriceX96FromPrice({ price: 1, baseDecimals: 6, quoteDecimals: 6, baseIsToken0: true })).toBe(
      1n << 96n,
    );
    expect(sqrtPriceX96FromPrice({ price: 4, baseDecimals: 6, quoteDecimals: 6, baseIsToken0: false })).toBe(
      1n << 95n,
    );
  });

  it("rejects non-positive, non-finite and out-of-range prices and bad decimals", () => {
    const o = { baseDecimals: 18, quoteDecimals: 6, baseIsToken0: true };
    expect(() => sqrtPriceX96FromPrice({ price: 0, ...o })).toThrow(RangeError);
    expect(() => sqrtPriceX96FromPrice({ price: -1, ...o })).toThrow(RangeError);
    expect(() => sqrtPriceX96FromPrice({ price: Number.POSITIVE_INFINITY, ...o })).toThrow(RangeError);
    expect(() => sqrtPriceX96FromPrice({ price: 0n, ...o })).toThrow(RangeError);
    expect(() => sqrtPriceX96FromPrice({ price: 1e60, ...o })).toThrow(/representable range/);
    expect(() => sqrtPriceX96FromPrice({ price: 1e-60, ...o })).toThrow(/representable range/);
    expect(() => sqrtPriceX96FromPrice({ price: 1, ...o, baseDecimals: 1.5 })).toThrow(/decimals/);
    expect(() => priceFromSqrtPriceX96({ sqrtPriceX96: 0n, ...o })).toThrow(RangeError);
  });

  it("TickMath port: bounds, tick(sqrt(tick)) = tick, and monotonicity", () => {
    expect(sqrtPriceX96AtTick(MIN_TICK)).toBe(MIN_SQRT_RATIO);
    expect(sqrtPriceX96AtTick(MAX_TICK)).toBe(MAX_SQRT_RATIO);
    expect(sqrtPriceX96AtTick(0)).toBe(1n << 96n);
    expect(() => sqrtPriceX96AtTick(MAX_TICK + 1)).toThrow(RangeError);
    expect(() => tickAtSqrtPriceX96(MIN_SQRT_RATIO - 1n)).toThrow(RangeError);
    expect(() => tickAtSqrtPriceX96(MAX_SQRT_RATIO)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: MIN_TICK + 1, max: MAX_TICK - 1 }), (tick) => {
        const s = sqrtPriceX96AtTick(tick);
        return (
          tickAtSqrtPriceX96(s) === tick &&
          tickAtSqrtPriceX96(s - 1n) === tick - 1 &&
          sqrtPriceX96AtTick(tick + 1) > s
        );
      }),
      { numRuns: 300 },
    );
  });

  it("tick price matches 1.0001^tick", () => {
    fc.assert(
      fc.property(fc.integer({ min: -400_000, max: 400_000 }), (tick) => {
        const s = sqrtPriceX96AtTick(tick);
        const ratio = ratioToNumber(s * s, 1n << 192n);
        return relErr(ratio, 1.0001 ** tick) < 1e-9;
      }),
      { numRuns: 300 },
    );
  });

  it("tick ranges round outwards to the spacing and bracket ±pct in base-price terms", () => {
    expect(floorTick(-61, 60)).toBe(-120);
    expect(ceilTick(61, 60)).toBe(120);
    expect(fullRangeTicks(60)).toEqual({ tickLower: -887220, tickUpper: 887220 });
    fc.assert(
      fc.property(
        fc.integer({ min: -500_000, max: 500_000 }),
        fc.constantFrom(1, 10, 60, 200),
        fc.double({ min: 0.001, max: 0.9, noNaN: true }),
        fc.boolean(),
        (currentTick, tickSpacing, rangePct, baseIsToken0) => {
          const { tickLower, tickUpper } = tickRangeAroundTick({
            currentTick,
            tickSpacing,
            rangePct,
            baseIsToken0,
          });
          // price of base relative to the current one at each bound
          const rel = (t: number): number => 1.0001 ** ((baseIsToken0 ? 1 : -1) * (t - currentTick));
          const [lo, hi] = baseIsToken0 ? [rel(tickLower), rel(tickUpper)] : [rel(tickUpper), rel(tickLower)];
          return (
            tickLower % tickSpacing === 0 &&
            tickUpper % tickSpacing === 0 &&
            lo <= (1 - rangePct) * (1 + 1e-9) &&
            hi >= (1 + rangePct) * (1 - 1e-9)
          );
        },
      ),
      { numRuns: 300 },
    );
    expect(() =>
      tickRangeAroundTick({ currentTick: 0, tickSpacing: 60, rangePct: 1, baseIsToken0: true }),
    ).toThrow(RangeError);
  });

  it("isqrt is the exact floor square root", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 400n }), (n) => {
        const r = isqrt(n);
        return r * r <= n && (r + 1n) * (r + 1n) > n;
      }),
      { numRuns: 500 },
    );
    expect(() => isqrt(-1n)).toThrow(RangeError);
  });

  it("sortTokens orders by address and rejects identical tokens", () => {
    const a = "0x00000000000000000000000000000000000000aa" as const;
    const b = "0x00000000000000000000000000000000000000BB" as const;
    expect(sortTokens(b, a)).toEqual([getAddress(a), getAddress(b)]);
    expect(sortTokens(a, b)).toEqual([getAddress(a), getAddress(b)]);
    expect(() => sortTokens(a, a)).toThrow(/identical/);
  });
});

describe("benchUniswap", () => {
  it("measures one exactInputSingle on a fresh deployment and when reusing one", async () => {
    const fresh = await benchUniswap(viem);
    const reused = await benchUniswap(viem, { uni: env.uni, weth: env.weth, usdc: env.usdc, fee: FEE });
    for (const { uniswapV3SwapGas } of [fresh, reused]) {
      expect(Number.isInteger(uniswapV3SwapGas)).toBe(true);
      // a one-hop V3 swap without tick crossing: above the 21k base + two token transfers, well under 200k
      expect(uniswapV3SwapGas).toBeGreaterThan(80_000);
      expect(uniswapV3SwapGas).toBeLessThan(200_000);
    }
    console.log(`uniswapV3SwapGas fresh=${fresh.uniswapV3SwapGas} reused=${reused.uniswapV3SwapGas}`);
  });
});
