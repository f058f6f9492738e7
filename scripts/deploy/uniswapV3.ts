/**
 * Uniswap V3 spot venue, deployed from the published artifacts of `@uniswap/v3-core` and
 * `@uniswap/v3-periphery` (bytecode used as published, never recompiled).
 *
 * Everything here is a function of explicit inputs: a viem public client + wallet client and typed
 * parameters. No module state besides the immutable artifacts read (and validated) at import.
 *
 * Price conventions: a "price" is always quote per base in whole units (e.g. 3000 USDC per WETH),
 * given either as a JS number (converted exactly, every double is a dyadic rational) or as a WAD
 * bigint (1e18 = 1.0). Uniswap stores sqrt(token1/token0 in raw units) as a Q64.96; the helpers
 * below handle the token0/token1 ordering (by address) and differing decimals.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  erc20Abi,
  getAddress,
  keccak256,
  maxUint256,
  parseAbi,
  parseEventLogs as viemParseEventLogs,
  stringToHex,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { formatAbiItem } from "viem/utils";
import { z } from "zod";

// ---------------------------------------------------------------------------------------------
// Clients and shared types
// ---------------------------------------------------------------------------------------------

/** The clients every on-chain function takes (hardhat-viem's clients satisfy this type). */
export type UniswapClients = {
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
};

/** Addresses of one Uniswap V3 deployment. */
export type UniswapV3Deployment = {
  factory: Address;
  swapRouter: Address;
  positionManager: Address;
  quoterV2: Address;
  /** NonfungibleTokenPositionDescriptor (linked against a freshly deployed NFTDescriptor library). */
  tokenDescriptor: Address;
};

/** An ERC20 as the helpers need it. */
export type TokenRef = { address: Address; decimals: number };

/** Price of one whole base unit in whole quote units: a number, or a WAD bigint (1e18 = 1.0). */
export type PriceInput = number | bigint;

// ---------------------------------------------------------------------------------------------
// Artifacts (validated with zod at the boundary)
// ---------------------------------------------------------------------------------------------

/** keccak256 of UniswapV3Pool creation code hard-coded in periphery's PoolAddress library. */
export const POOL_INIT_CODE_HASH: Hex = "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54";

/** Creation code: hex bytes, possibly with `__$<34 hex>$__` library placeholders (unlinked). */
const bytecodeSchema = z.custom<Hex>(
  (value) => typeof value === "string" && /^0x(?:[0-9a-fA-F]{2}|__\$[0-9a-fA-F]{34}\$__)*$/.test(value),
  "expected 0x-prefixed creation bytecode",
);
const abiSchema = z.custom<Abi>(
  (value) =>
    Array.isArray(value) &&
    value.every(
      (item: unknown) =>
        typeof item === "object" &&
        item !== null &&
        "type" in item &&
        typeof item.type === "string" &&
        ["function", "event", "error", "constructor", "fallback", "receive"].includes(item.type),
    ),
  "expected a JSON ABI array",
);
const linkReferencesSchema = z.record(
  z.string(),
  z.record(z.string(), z.array(z.object({ start: z.number().int().nonnegative(), length: z.literal(20) }))),
);
const artifactSchema = z.object({
  contractName: z.string(),
  sourceName: z.string(),
  abi: abiSchema,
  bytecode: bytecodeSchema,
  linkReferences: linkReferencesSchema,
});

/** A published Hardhat artifact, validated. */
export type UniswapArtifact = {
  contractName: string;
  sourceName: string;
  abi: Abi;
  bytecode: Hex;
  linkReferences: z.infer<typeof linkReferencesSchema>;
};

const requireFromHere = createRequire(import.meta.url);

/** Reads and validates a Hardhat artifact JSON from an installed package (module specifier). */
export function loadArtifact(specifier: string): UniswapArtifact {
  const path = requireFromHere.resolve(specifier);
  return artifactSchema.parse(JSON.parse(readFileSync(path, "utf8")));
}

const CORE = "@uniswap/v3-core/artifacts/contracts";
const PERIPHERY = "@uniswap/v3-periphery/artifacts/contracts";

/** The published artifacts this module deploys or talks to. */
export const uniswapV3Artifacts = {
  factory: loadArtifact(`${CORE}/UniswapV3Factory.sol/UniswapV3Factory.json`),
  pool: loadArtifact(`${CORE}/UniswapV3Pool.sol/UniswapV3Pool.json`),
  swapRouter: loadArtifact(`${PERIPHERY}/SwapRouter.sol/SwapRouter.json`),
  positionManager: loadArtifact(
    `${PERIPHERY}/NonfungiblePositionManager.sol/NonfungiblePositionManager.json`,
  ),
  tokenDescriptor: loadArtifact(
    `${PERIPHERY}/NonfungibleTokenPositionDescriptor.sol/NonfungibleTokenPositionDescriptor.json`,
  ),
  nftDescriptorLibrary: loadArtifact(`${PERIPHERY}/libraries/NFTDescriptor.sol/NFTDescriptor.json`),
  quoterV2: loadArtifact(`${PERIPHERY}/lens/QuoterV2.sol/QuoterV2.json`),
} as const;

/** keccak256 of the published UniswapV3Pool creation bytecode (must equal POOL_INIT_CODE_HASH). */
export function publishedPoolInitCodeHash(): Hex {
  return keccak256(uniswapV3Artifacts.pool.bytecode);
}

/**
 * Typed fragments of the artifact ABIs for the calls made here. Each fragment is checked against
 * the published artifact ABI at import (same signature, same output types), so a typo or a
 * package upgrade that changes an interface fails loudly instead of calling a wrong selector.
 */
export const factoryAbi = parseAbi([
  "function getPool(address tokenA, address tokenB, uint24 fee) view returns (address pool)",
  "function feeAmountTickSpacing(uint24 fee) view returns (int24)",
]);
export const poolAbi = parseAbi([
  "function slot0() view returns (uint160 sqrtPriceX96, int24 tick, uint16 observationIndex, uint16 observationCardinality, uint16 observationCardinalityNext, uint8 feeProtocol, bool unlocked)",
  "function liquidity() view returns (uint128)",
  "function token0() view returns (address)",
  "function token1() view returns (address)",
  "function fee() view returns (uint24)",
  "function tickSpacing() view returns (int24)",
  "event Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)",
]);
export const swapRouterAbi = parseAbi([
  "struct ExactInputSingleParams { address tokenIn; address tokenOut; uint24 fee; address recipient; uint256 deadline; uint256 amountIn; uint256 amountOutMinimum; uint160 sqrtPriceLimitX96; }",
  "function exactInputSingle(ExactInputSingleParams params) payable returns (uint256 amountOut)",
]);
export const positionManagerAbi = parseAbi([
  "struct MintParams { address token0; address token1; uint24 fee; int24 tickLower; int24 tickUpper; uint256 amount0Desired; uint256 amount1Desired; uint256 amount0Min; uint256 amount1Min; address recipient; uint256 deadline; }",
  "function createAndInitializePoolIfNecessary(address token0, address token1, uint24 fee, uint160 sqrtPriceX96) payable returns (address pool)",
  "function mint(MintParams params) payable returns (uint256 tokenId, uint128 liquidity, uint256 amount0, uint256 amount1)",
  "event IncreaseLiquidity(uint256 indexed tokenId, uint128 liquidity, uint256 amount0, uint256 amount1)",
]);
export const quoterV2Abi = parseAbi([
  "struct QuoteExactInputSingleParams { address tokenIn; address tokenOut; uint256 amountIn; uint24 fee; uint160 sqrtPriceLimitX96; }",
  "function quoteExactInputSingle(QuoteExactInputSingleParams params) returns (uint256 amountOut, uint160 sqrtPriceX96After, uint32 initializedTicksCrossed, uint256 gasEstimate)",
]);

const abiEntrySchema = z.object({
  type: z.string(),
  name: z.string().optional(),
  outputs: z.array(z.object({ type: z.string() })).optional(),
});

function signatureKey(item: Abi[number]): string {
  const entry = abiEntrySchema.parse(item);
  const outputs = (entry.outputs ?? []).map((o) => o.type).join(",");
  return `${entry.type}:${formatAbiItem(item)}->(${outputs})`;
}

/** Throws unless every item of `fragment` appears in `published` with the same signature and outputs. */
export function assertAbiFragment(contractName: string, published: Abi, fragment: Abi): void {
  const keys = new Set(
    published.filter((i) => i.type === "function" || i.type === "event").map(signatureKey),
  );
  for (const item of fragment) {
    if (item.type !== "function" && item.type !== "event") continue;
    const key = signatureKey(item);
    if (!keys.has(key)) throw new Error(`${contractName} artifact ABI has no ${key}`);
  }
}

assertAbiFragment("UniswapV3Factory", uniswapV3Artifacts.factory.abi, factoryAbi);
assertAbiFragment("UniswapV3Pool", uniswapV3Artifacts.pool.abi, poolAbi);
assertAbiFragment("SwapRouter", uniswapV3Artifacts.swapRouter.abi, swapRouterAbi);
assertAbiFragment("NonfungiblePositionManager", uniswapV3Artifacts.positionManager.abi, positionManagerAbi);
assertAbiFragment("QuoterV2", uniswapV3Artifacts.quoterV2.abi, quoterV2Abi);

// ---------------------------------------------------------------------------------------------
// Pure math: exact bigint sqrtPriceX96 <-> price, TickMath port, tick ranges
// ---------------------------------------------------------------------------------------------

export const Q96 = 1n << 96n;
export const Q192 = 1n << 192n;
export const MIN_TICK = -887272;
export const MAX_TICK = 887272;
/** TickMath.MIN_SQRT_RATIO (= getSqrtRatioAtTick(MIN_TICK)). */
export const MIN_SQRT_RATIO = 4295128739n;
/** TickMath.MAX_SQRT_RATIO (= getSqrtRatioAtTick(MAX_TICK)). */
export const MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342n;
const WAD = 10n ** 18n;
const MAX_UINT256 = maxUint256;

type Rational = { num: bigint; den: bigint };

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** floor(sqrt(n)) for a non-negative bigint (Newton's method from an over-estimate). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("isqrt of a negative number");
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Exact rational value of a positive finite double (every double is m * 2^e). */
function rationalFromNumber(x: number): Rational {
  if (!Number.isFinite(x) || x <= 0) throw new RangeError(`price must be a positive finite number, got ${x}`);
  let mantissa = x;
  let exp = 0;
  while (!Number.isInteger(mantissa)) {
    mantissa *= 2; // exact: a non-integer double is < 2^53, doubling never overflows or rounds
    exp += 1;
  }
  return { num: BigInt(mantissa), den: 1n << BigInt(exp) };
}

function rationalFromPrice(price: PriceInput): Rational {
  if (typeof price === "bigint") {
    if (price <= 0n) throw new RangeError(`WAD price must be positive, got ${price}`);
    return { num: price, den: WAD };
  }
  return rationalFromNumber(price);
}

function scaleByPow2(x: number, k: number): number {
  let v = x;
  let e = k;
  while (e > 1000) {
    v *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    v *= 2 ** -1000;
    e += 1000;
  }
  return v * 2 ** e;
}

/** num/den (positive bigints) as the nearest double, correct to ~2^-63 relative before rounding. */
export function ratioToNumber(num: bigint, den: bigint): number {
  if (num <= 0n || den <= 0n) throw new RangeError("ratioToNumber expects positive operands");
  const shift = bitLength(den) - bitLength(num) + 64;
  const q = shift >= 0 ? (num << BigInt(shift)) / den : num / (den << BigInt(-shift));
  return scaleByPow2(Number(q), -shift);
}

/** Parameters identifying how a base/quote price maps onto a pool's token0/token1. */
export type PriceOrientation = {
  baseDecimals: number;
  quoteDecimals: number;
  /** true when the base token's address sorts below the quote token's (base is token0). */
  baseIsToken0: boolean;
};

function checkDecimals(d: number): bigint {
  if (!Number.isInteger(d) || d < 0 || d > 255) throw new RangeError(`invalid decimals ${d}`);
  return 10n ** BigInt(d);
}

/**
 * sqrtPriceX96 = floor(sqrt(token1/token0 raw ratio) * 2^96), computed exactly with bigints.
 * Throws RangeError when the result is outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO).
 */
export function sqrtPriceX96FromPrice(params: PriceOrientation & { price: PriceInput }): bigint {
  const { num, den } = rationalFromPrice(params.price);
  const baseUnit = checkDecimals(params.baseDecimals);
  const quoteUnit = checkDecimals(params.quoteDecimals);
  // raw token1-per-token0: base is token0 -> P * 10^dq / 10^db; quote is token0 -> 10^db / (P * 10^dq)
  const sqrtPriceX96 = params.baseIsToken0
    ? isqrt((num * quoteUnit * Q192) / (den * baseUnit))
    : isqrt((den * baseUnit * Q192) / (num * quoteUnit));
  if (sqrtPriceX96 < MIN_SQRT_RATIO || sqrtPriceX96 >= MAX_SQRT_RATIO) {
    throw new RangeError(`price ${params.price} is outside Uniswap V3's representable range`);
  }
  return sqrtPriceX96;
}

function priceRational(params: PriceOrientation & { sqrtPriceX96: bigint }): Rational {
  if (params.sqrtPriceX96 <= 0n) throw new RangeError("sqrtPriceX96 must be positive");
  const baseUnit = checkDecimals(params.baseDecimals);
  const quoteUnit = checkDecimals(params.quoteDecimals);
  const squared = params.sqrtPriceX96 * params.sqrtPriceX96;
  return params.baseIsToken0
    ? { num: squared * baseUnit, den: Q192 * quoteUnit }
    : { num: Q192 * baseUnit, den: squared * quoteUnit };
}

/** Price (quote per base, whole units) encoded by a sqrtPriceX96, as a double. */
export function priceFromSqrtPriceX96(params: PriceOrientation & { sqrtPriceX96: bigint }): number {
  const { num, den } = priceRational(params);
  return ratioToNumber(num, den);
}

/** Price (quote per base, whole units) encoded by a sqrtPriceX96, as a WAD bigint (rounded down). */
export function priceWadFromSqrtPriceX96(params: PriceOrientation & { sqrtPriceX96: bigint }): bigint {
  const { num, den } = priceRational(params);
  return (num * WAD) / den;
}

const TICK_MULTIPLIERS: readonly bigint[] = [
  0xfff97272373d413259a46990580e213an,
  0xfff2e50f5f656932ef12357cf3c7fdccn,
  0xffe5caca7e10e4e61c3624eaa0941cd0n,
  0xffcb9843d60f6159c9db58835c926644n,
  0xff973b41fa98c081472e6896dfb254c0n,
  0xff2ea16466c96a3843ec78b326b52861n,
  0xfe5dee046a99a2a811c461f1969c3053n,
  0xfcbe86c7900a88aedcffc83b479aa3a4n,
  0xf987a7253ac413176f2b074cf7815e54n,
  0xf3392b0822b70005940c7a398e4b70f3n,
  0xe7159475a2c29b7443b29c7fa6e889d9n,
  0xd097f3bdfd2022b8845ad8f792aa5825n,
  0xa9f746462d870fdf8a65dc1f90e061e5n,
  0x70d869a156d2a1b890bb3df62baf32f7n,
  0x31be135f97d08fd981231505542fcfa6n,
  0x9aa508b5b7a84e1c677de54f3e99bc9n,
  0x5d6af8dedb81196699c329225ee604n,
  0x2216e584f5fa1ea926041bedfe98n,
  0x48a170391f7dc42444e8fa2n,
];

/** Exact port of TickMath.getSqrtRatioAtTick. */
export function sqrtPriceX96AtTick(tick: number): bigint {
  if (!Number.isInteger(tick) || tick < MIN_TICK || tick > MAX_TICK)
    throw new RangeError(`tick ${tick} out of range`);
  const absTick = BigInt(Math.abs(tick));
  let ratio = (absTick & 1n) !== 0n ? 0xfffcb933bd6fad37aa2d162d1a594001n : 1n << 128n;
  TICK_MULTIPLIERS.forEach((multiplier, i) => {
    if ((absTick & (1n << BigInt(i + 1))) !== 0n) ratio = (ratio * multiplier) >> 128n;
  });
  if (tick > 0) ratio = MAX_UINT256 / ratio;
  return (ratio >> 32n) + (ratio % (1n << 32n) === 0n ? 0n : 1n);
}

/** TickMath.getTickAtSqrtRatio: the greatest tick whose sqrt ratio is <= sqrtPriceX96 (binary search). */
export function tickAtSqrtPriceX96(sqrtPriceX96: bigint): number {
  if (sqrtPriceX96 < MIN_SQRT_RATIO || sqrtPriceX96 >= MAX_SQRT_RATIO) {
    throw new RangeError(`sqrtPriceX96 ${sqrtPriceX96} out of range`);
  }
  let lo = MIN_TICK;
  let hi = MAX_TICK - 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (sqrtPriceX96AtTick(mid) <= sqrtPriceX96) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rounds a tick down to a multiple of `tickSpacing`, clamped to the usable range. */
export function floorTick(tick: number, tickSpacing: number): number {
  const floored = Math.floor(tick / tickSpacing) * tickSpacing;
  return Math.max(floored, Math.ceil(MIN_TICK / tickSpacing) * tickSpacing);
}

/** Rounds a tick up to a multiple of `tickSpacing`, clamped to the usable range. */
export function ceilTick(tick: number, tickSpacing: number): number {
  const ceiled = Math.ceil(tick / tickSpacing) * tickSpacing;
  return Math.min(ceiled, Math.floor(MAX_TICK / tickSpacing) * tickSpacing);
}

/** The widest usable range for a tick spacing. */
export function fullRangeTicks(tickSpacing: number): { tickLower: number; tickUpper: number } {
  return { tickLower: ceilTick(MIN_TICK, tickSpacing), tickUpper: floorTick(MAX_TICK, tickSpacing) };
}

/**
 * Ticks covering base prices within ±rangePct of the price at `currentTick`, rounded outwards to
 * `tickSpacing`. When the quote token is token0 the pool's price is the inverse of the base
 * price, so the bounds swap sides.
 */
export function tickRangeAroundTick(params: {
  currentTick: number;
  tickSpacing: number;
  rangePct: number;
  baseIsToken0: boolean;
}): { tickLower: number; tickUpper: number } {
  const { currentTick, tickSpacing, rangePct, baseIsToken0 } = params;
  if (!(rangePct > 0 && rangePct < 1)) throw new RangeError(`rangePct must be in (0, 1), got ${rangePct}`);
  const logBase = Math.log(1.0001);
  const down = Math.log(1 - rangePct) / logBase; // negative
  const up = Math.log(1 + rangePct) / logBase; // positive
  const lower = baseIsToken0 ? currentTick + down : currentTick - up;
  const upper = baseIsToken0 ? currentTick + up : currentTick - down;
  const tickLower = floorTick(Math.floor(lower), tickSpacing);
  const tickUpper = ceilTick(Math.ceil(upper), tickSpacing);
  if (tickLower >= tickUpper) throw new RangeError("empty tick range");
  return { tickLower, tickUpper };
}

/** Uniswap sorts a pair by address: returns [token0, token1]. */
export function sortTokens(a: Address, b: Address): [Address, Address] {
  const [x, y] = [getAddress(a), getAddress(b)];
  if (x.toLowerCase() === y.toLowerCase()) throw new Error("identical tokens");
  return x.toLowerCase() < y.toLowerCase() ? [x, y] : [y, x];
}

// ---------------------------------------------------------------------------------------------
// On-chain: deployment, pool creation, liquidity, swaps, quotes
// ---------------------------------------------------------------------------------------------

async function confirm(clients: UniswapClients, hash: Hash, what: string): Promise<TransactionReceipt> {
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${what} reverted (tx ${hash})`);
  return receipt;
}

async function deployArtifact(
  clients: UniswapClients,
  artifact: UniswapArtifact,
  args: readonly unknown[],
  libraries: Readonly<Record<string, Address>> = {},
): Promise<Address> {
  const bytecode = linkBytecode(artifact, libraries);
  const hash = await clients.walletClient.deployContract({ abi: artifact.abi, bytecode, args });
  const receipt = await confirm(clients, hash, `deploy ${artifact.contractName}`);
  if (!receipt.contractAddress) throw new Error(`deploy ${artifact.contractName}: no contract address`);
  return receipt.contractAddress;
}

/**
 * Replaces the library placeholders of a published artifact's creation code with addresses.
 * `libraries` is keyed by library name (e.g. "NFTDescriptor"); every placeholder must be given.
 */
export function linkBytecode(artifact: UniswapArtifact, libraries: Readonly<Record<string, Address>>): Hex {
  let code = artifact.bytecode.slice(2);
  for (const [source, libs] of Object.entries(artifact.linkReferences)) {
    for (const [name, refs] of Object.entries(libs)) {
      const address = libraries[name];
      if (!address) throw new Error(`${artifact.contractName} needs library ${source}:${name}`);
      const hex = getAddress(address).slice(2).toLowerCase();
      for (const { start } of refs) code = code.slice(0, start * 2) + hex + code.slice(start * 2 + 40);
    }
  }
  if (code.includes("__$")) throw new Error(`${artifact.contractName}: unresolved library placeholder`);
  return `0x${code}`;
}

/**
 * Deploys UniswapV3Factory, SwapRouter, the NFTDescriptor library + NonfungibleTokenPositionDescriptor
 * (the descriptor's creation code links NFTDescriptor; we deploy and link it, so tokenURI works),
 * NonfungiblePositionManager and QuoterV2, all from the published bytecode.
 * Throws if the published pool creation code does not hash to the periphery's POOL_INIT_CODE_HASH
 * (the router's and position manager's callback checks derive pool addresses from it).
 */
export async function deployUniswapV3(
  clients: UniswapClients,
  params: { weth: Address; nativeCurrencyLabel?: string },
): Promise<UniswapV3Deployment> {
  const initCodeHash = publishedPoolInitCodeHash();
  if (initCodeHash !== POOL_INIT_CODE_HASH) {
    throw new Error(`UniswapV3Pool init code hash ${initCodeHash} != periphery POOL_INIT_CODE_HASH`);
  }
  const a = uniswapV3Artifacts;
  const factory = await deployArtifact(clients, a.factory, []);
  const swapRouter = await deployArtifact(clients, a.swapRouter, [factory, params.weth]);
  const nftDescriptor = await deployArtifact(clients, a.nftDescriptorLibrary, []);
  const label = stringToHex(params.nativeCurrencyLabel ?? "ETH", { size: 32 });
  const tokenDescriptor = await deployArtifact(clients, a.tokenDescriptor, [params.weth, label], {
    NFTDescriptor: nftDescriptor,
  });
  const positionManager = await deployArtifact(clients, a.positionManager, [
    factory,
    params.weth,
    tokenDescriptor,
  ]);
  const quoterV2 = await deployArtifact(clients, a.quoterV2, [factory, params.weth]);
  return { factory, swapRouter, positionManager, quoterV2, tokenDescriptor };
}

/** Approves `spender` for `amount` of `token` if the current allowance is lower. */
export async function ensureAllowance(
  clients: UniswapClients,
  token: Address,
  spender: Address,
  amount: bigint,
): Promise<void> {
  const owner = clients.walletClient.account.address;
  const allowance = await clients.publicClient.readContract({
    address: token,
    abi: erc20Abi,
    functionName: "allowance",
    args: [owner, spender],
  });
  if (allowance >= amount) return;
  const hash = await clients.walletClient.writeContract({
    address: token,
    abi: erc20Abi,
    functionName: "approve",
    args: [spender, amount],
  });
  await confirm(clients, hash, "approve");
}

/** Pool state as read from slot0 and immutables. */
export type PoolState = {
  sqrtPriceX96: bigint;
  tick: number;
  liquidity: bigint;
  token0: Address;
  token1: Address;
  fee: number;
  tickSpacing: number;
};

/** Reads a pool's price, tick, active liquidity and immutables. */
export async function readPoolState(
  clients: Pick<UniswapClients, "publicClient">,
  pool: Address,
): Promise<PoolState> {
  const read = clients.publicClient;
  const [slot0, liquidity, token0, token1, fee, tickSpacing] = await Promise.all([
    read.readContract({ address: pool, abi: poolAbi, functionName: "slot0" }),
    read.readContract({ address: pool, abi: poolAbi, functionName: "liquidity" }),
    read.readContract({ address: pool, abi: poolAbi, functionName: "token0" }),
    read.readContract({ address: pool, abi: poolAbi, functionName: "token1" }),
    read.readContract({ address: pool, abi: poolAbi, functionName: "fee" }),
    read.readContract({ address: pool, abi: poolAbi, functionName: "tickSpacing" }),
  ]);
  return { sqrtPriceX96: slot0[0], tick: slot0[1], liquidity, token0, token1, fee, tickSpacing };
}

/** Liquidity range: ±pct around the initial price, explicit ticks, or the full range. */
export type LiquidityRange = { pct: number } | { tickLower: number; tickUpper: number } | "full";

export type CreatePoolParams = {
  base: TokenRef;
  quote: TokenRef;
  /** Fee tier in hundredths of a bip (500, 3000, 10000 are enabled on a fresh factory). */
  fee: number;
  priceQuotePerBase: PriceInput;
  /** Desired base amount (raw units); the minted liquidity uses at most this much. */
  baseAmount: bigint;
  /** Desired quote amount (raw units); the minted liquidity uses at most this much. */
  quoteAmount: bigint;
  range: LiquidityRange;
  /** Owner of the position NFT; defaults to the wallet's account. */
  recipient?: Address;
};

export type CreatedPool = {
  pool: Address;
  sqrtPriceX96: bigint;
  tickLower: number;
  tickUpper: number;
  tokenId: bigint;
  liquidity: bigint;
  /** Raw amounts actually deposited. */
  baseDeposited: bigint;
  quoteDeposited: bigint;
};

/**
 * Creates and initializes the base/quote pool at `priceQuotePerBase` (exact sqrtPriceX96), then
 * mints a liquidity position through the NonfungiblePositionManager. The wallet must hold
 * `baseAmount` and `quoteAmount`; this function approves the position manager for them.
 * Throws if the pool already exists at a different price.
 */
export async function createPoolWithLiquidity(
  clients: UniswapClients,
  uni: Pick<UniswapV3Deployment, "factory" | "positionManager">,
  params: CreatePoolParams,
): Promise<CreatedPool> {
  const { base, quote, fee } = params;
  const [token0] = sortTokens(base.address, quote.address);
  const baseIsToken0 = token0 === getAddress(base.address);
  const sqrtPriceX96 = sqrtPriceX96FromPrice({
    price: params.priceQuotePerBase,
    baseDecimals: base.decimals,
    quoteDecimals: quote.decimals,
    baseIsToken0,
  });
  const [t0, t1] = baseIsToken0 ? [base, quote] : [quote, base];
  const [amount0, amount1] = baseIsToken0
    ? [params.baseAmount, params.quoteAmount]
    : [params.quoteAmount, params.baseAmount];

  const createHash = await clients.walletClient.writeContract({
    address: uni.positionManager,
    abi: positionManagerAbi,
    functionName: "createAndInitializePoolIfNecessary",
    args: [t0.address, t1.address, fee, sqrtPriceX96],
  });
  await confirm(clients, createHash, "createAndInitializePoolIfNecessary");
  const pool = await clients.publicClient.readContract({
    address: uni.factory,
    abi: factoryAbi,
    functionName: "getPool",
    args: [t0.address, t1.address, fee],
  });
  const state = await readPoolState(clients, pool);
  if (state.sqrtPriceX96 !== sqrtPriceX96) {
    throw new Error(
      `pool ${pool} already initialized at sqrtPriceX96 ${state.sqrtPriceX96}, wanted ${sqrtPriceX96}`,
    );
  }

  const range = params.range;
  const { tickLower, tickUpper } =
    range === "full"
      ? fullRangeTicks(state.tickSpacing)
      : "pct" in range
        ? tickRangeAroundTick({
            currentTick: state.tick,
            tickSpacing: state.tickSpacing,
            rangePct: range.pct,
            baseIsToken0,
          })
        : range;

  await ensureAllowance(clients, t0.address, uni.positionManager, amount0);
  await ensureAllowance(clients, t1.address, uni.positionManager, amount1);
  const block = await clients.publicClient.getBlock();
  const mintHash = await clients.walletClient.writeContract({
    address: uni.positionManager,
    abi: positionManagerAbi,
    functionName: "mint",
    args: [
      {
        token0: t0.address,
        token1: t1.address,
        fee,
        tickLower,
        tickUpper,
        amount0Desired: amount0,
        amount1Desired: amount1,
        amount0Min: 0n,
        amount1Min: 0n,
        recipient: params.recipient ?? clients.walletClient.account.address,
        deadline: block.timestamp + 3600n,
      },
    ],
  });
  const receipt = await confirm(clients, mintHash, "mint");
  const minted = mintedFromReceipt({ receipt, address: uni.positionManager });
  return {
    pool,
    sqrtPriceX96,
    tickLower,
    tickUpper,
    tokenId: minted.tokenId,
    liquidity: minted.liquidity,
    baseDeposited: baseIsToken0 ? minted.amount0 : minted.amount1,
    quoteDeposited: baseIsToken0 ? minted.amount1 : minted.amount0,
  };
}

function mintedFromReceipt(args: { receipt: TransactionReceipt; address: Address }): {
  tokenId: bigint;
  liquidity: bigint;
  amount0: bigint;
  amount1: bigint;
} {
  const logs = viemParseEventLogs({
    abi: positionManagerAbi,
    eventName: "IncreaseLiquidity",
    logs: args.receipt.logs.filter((l) => l.address.toLowerCase() === args.address.toLowerCase()),
  });
  const log = logs[0];
  if (!log) throw new Error("mint emitted no IncreaseLiquidity event");
  return log.args;
}

export type SwapExactInputSingleParams = {
  tokenIn: Address;
  tokenOut: Address;
  fee: number;
  amountIn: bigint;
  amountOutMinimum: bigint;
  recipient: Address;
  deadline: bigint;
  /** 0 (default) = no price limit. */
  sqrtPriceLimitX96?: bigint;
  /** Approve the router first when the allowance is short (default true; separate transaction). */
  approve?: boolean;
};

/** One-hop exact-input swap through SwapRouter.exactInputSingle; returns the swap's receipt. */
export async function swapExactInputSingle(
  clients: UniswapClients,
  uni: Pick<UniswapV3Deployment, "swapRouter">,
  params: SwapExactInputSingleParams,
): Promise<TransactionReceipt> {
  if (params.approve ?? true) await ensureAllowance(clients, params.tokenIn, uni.swapRouter, params.amountIn);
  const hash = await clients.walletClient.writeContract({
    address: uni.swapRouter,
    abi: swapRouterAbi,
    functionName: "exactInputSingle",
    args: [
      {
        tokenIn: params.tokenIn,
        tokenOut: params.tokenOut,
        fee: params.fee,
        recipient: params.recipient,
        deadline: params.deadline,
        amountIn: params.amountIn,
        amountOutMinimum: params.amountOutMinimum,
        sqrtPriceLimitX96: params.sqrtPriceLimitX96 ?? 0n,
      },
    ],
  });
  return confirm(clients, hash, "exactInputSingle");
}

/** Pool Swap events in a receipt (amounts are signed pool deltas: positive = paid into the pool). */
export function decodeSwapEvents(receipt: TransactionReceipt): Array<{
  pool: Address;
  amount0: bigint;
  amount1: bigint;
  sqrtPriceX96: bigint;
  liquidity: bigint;
  tick: number;
}> {
  return viemParseEventLogs({ abi: poolAbi, eventName: "Swap", logs: receipt.logs }).map((log) => ({
    pool: getAddress(log.address),
    amount0: log.args.amount0,
    amount1: log.args.amount1,
    sqrtPriceX96: log.args.sqrtPriceX96,
    liquidity: log.args.liquidity,
    tick: log.args.tick,
  }));
}

export type QuoteExactInputSingleResult = {
  amountOut: bigint;
  sqrtPriceX96After: bigint;
  initializedTicksCrossed: number;
  gasEstimate: bigint;
};

/** QuoterV2.quoteExactInputSingle via eth_call (the quoter reverts internally by design). */
export async function quoteExactInputSingle(
  clients: UniswapClients,
  uni: Pick<UniswapV3Deployment, "quoterV2">,
  params: { tokenIn: Address; tokenOut: Address; fee: number; amountIn: bigint; sqrtPriceLimitX96?: bigint },
): Promise<QuoteExactInputSingleResult> {
  const { result } = await clients.publicClient.simulateContract({
    account: clients.walletClient.account,
    address: uni.quoterV2,
    abi: quoterV2Abi,
    functionName: "quoteExactInputSingle",
    args: [
      {
        tokenIn: params.tokenIn,
        tokenOut: params.tokenOut,
        amountIn: params.amountIn,
        fee: params.fee,
        sqrtPriceLimitX96: params.sqrtPriceLimitX96 ?? 0n,
      },
    ],
  });
  const [amountOut, sqrtPriceX96After, initializedTicksCrossed, gasEstimate] = result;
  return { amountOut, sqrtPriceX96After, initializedTicksCrossed, gasEstimate };
}
