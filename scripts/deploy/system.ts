/**
 * Deploys the whole protocol on one chain (the embedded one included) and wires it:
 * test tokens, Chainlink-compatible feeds + oracle router, the options venue (surface, LP pool, AMM)
 * with smiles and a listed strip, the perpetual DEX with both markets, Uniswap V3 (published
 * artifacts) with WETH/USDC and WBTC/USDC pools at the oracle price, then RiskPolicy, TreasuryLedger,
 * HedgeApprovals, TreasuryVault and the three venue adapters (allow-listed in the policy).
 *
 * The first wallet client deploys and configures everything. When the configured governance is
 * another account (the Timelock in production), every admin role is granted to governance and the
 * deployer renounces its own; the deployer keeps only the local "market operator" roles of the test
 * stand-ins: MINTER_ROLE on the test tokens and ORACLE_ROLE (price reporter) on the managed feeds.
 *
 * Config is validated with zod; amounts are human units (numbers or decimal strings) converted
 * exactly to token units / WAD. `defaultLocalConfig()` gives the local defaults.
 */
import { Decimal } from "decimal.js";
import {
  getAddress,
  keccak256,
  parseAbi,
  toHex,
  zeroHash,
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
import { z } from "zod";
import { deployOptions, type HardhatViem } from "./options.ts";
import { defaultWbtcPerpParams, defaultWethPerpParams, deployPerp, perpMarketParamsSchema } from "./perp.ts";
import { createPoolWithLiquidity, deployUniswapV3, type UniswapClients } from "./uniswapV3.ts";

export type { HardhatViem } from "./options.ts";

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

/** Decimal with enough precision for any WAD amount (1e36 has 37 digits). */
const D = Decimal.clone({ precision: 80 });

const decimalSchema = z
  .union([z.number().finite(), z.string().regex(/^-?\d+(\.\d+)?$/u, "expected a decimal string")])
  .transform((v) => new D(v));
const nonNegative = decimalSchema.refine((d) => d.gte(0), "must be >= 0");
const positive = decimalSchema.refine((d) => d.gt(0), "must be > 0");
const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/u, "expected a 20-byte hex address")
  .transform((a) => getAddress(a));
const int = (min: number, max: number) => z.number().int().min(min).max(max);

const smileSchema = z.object({
  /** ATM implied vol (1 = 100%). */
  atmVol: positive,
  /** Vol per unit of log-moneyness. */
  skew: decimalSchema,
  /** Vol per unit of squared log-moneyness (>= 0). */
  curvature: nonNegative,
});

/** RiskPolicy.UnderlyingLimits in human units (underlying units, USD, ratios). */
const underlyingLimitsSchema = z
  .object({
    enabled: z.boolean(),
    targetDelta: decimalSchema,
    band: positive,
    minHedgeRatio: positive,
    maxHedgeRatio: positive,
    maxOptionLegSize: nonNegative,
    maxPerpLegSize: nonNegative,
    maxSpotLegSize: nonNegative,
    maxPerpPosition: nonNegative,
    premiumBudgetUsdPerWindow: nonNegative,
    maxOpenSeries: int(0, 255),
  })
  .refine((l) => l.minHedgeRatio.lte(l.maxHedgeRatio), "minHedgeRatio must be <= maxHedgeRatio");

const assetSchema = z.object({
  name: z.string().min(1),
  symbol: z.string().min(1),
  decimals: int(0, 18),
  /** Oracle price in USD per whole unit. */
  price: positive,
  feedDescription: z.string().min(1),
  options: z.object({
    smile: smileSchema,
    /** Bound on the options pool's |net delta| in this underlying (underlying units). */
    maxNetDelta: positive,
    /** Max open interest of each listed series (underlying units). */
    maxOpenInterest: positive,
  }),
  perp: perpMarketParamsSchema,
  /** Liquidity of the base/USDC Uniswap pool (whole units). */
  uniswap: z.object({ baseAmount: positive, quoteAmount: positive }),
  limits: underlyingLimitsSchema,
});

/** RiskPolicy.GlobalLimits in human units (seconds, bps, USD). */
const globalLimitsSchema = z
  .object({
    maxSlippageBps: int(1, 65_535),
    oracleMaxDeviationBps: int(1, 65_535),
    oracleMaxAge: int(0, 2 ** 32 - 1),
    keeperCooldown: int(0, 2 ** 32 - 1),
    window: int(0, 2 ** 32 - 1),
    approvalExpiry: int(0, 2 ** 32 - 1),
    greeksCacheMaxAge: int(0, 2 ** 32 - 1),
    greeksCacheMaxMoveBps: int(1, 65_535),
    turnoverCapUsdPerWindow: positive,
    tier1Usd: positive,
    tier2Usd: positive,
  })
  .refine((g) => g.tier1Usd.lte(g.tier2Usd), "tier1Usd must be <= tier2Usd");

const accountsSchema = z.object({
  governance: addressSchema.optional(),
  keeper: addressSchema.optional(),
  guardian: addressSchema.optional(),
  treasurer: addressSchema.optional(),
  finance: addressSchema.optional(),
  risk: addressSchema.optional(),
});

export const systemConfigSchema = z
  .object({
    /** Defaults: wallet clients 0..5 as governance (= deployer), keeper, guardian, treasurer, finance, risk. */
    accounts: accountsSchema.default({}),
    quote: z.object({ name: z.string().min(1), symbol: z.string().min(1), decimals: int(0, 18) }),
    assets: z.object({ weth: assetSchema, wbtc: assetSchema }),
    oracle: z.object({ decimals: int(0, 36), maxAge: int(1, 7 * 86_400), maxJumpBps: int(1, 10_000) }),
    options: z.object({
      /** USDC deposited into the options LP pool by the deployer (whole units). */
      lpLiquidity: positive,
      /** Smiles are set for these expiries (days from now, at `expiryHourUtc`) on both underlyings. */
      smileExpiryDays: z.array(int(1, 730)).min(1),
      expiryHourUtc: int(0, 23),
      /** The listed strip: puts and calls at these fractions of spot, at this expiry (days). */
      listExpiryDays: int(1, 730),
      strikeFractions: z.array(positive).min(1),
    }),
    perp: z.object({ lpLiquidity: positive }),
    uniswap: z.object({ fee: int(1, 999_999), rangePct: z.number().gt(0).lt(1) }),
    policy: z.object({ global: globalLimitsSchema }),
  })
  .refine((c) => c.options.smileExpiryDays.includes(c.options.listExpiryDays), {
    message: "options.listExpiryDays must be one of options.smileExpiryDays",
  });

export type SystemConfigInput = z.input<typeof systemConfigSchema>;
export type SystemConfig = z.output<typeof systemConfigSchema>;
export type AssetKey = "weth" | "wbtc";
export const ASSET_KEYS: readonly AssetKey[] = ["weth", "wbtc"];

/** Sensible local values: ETH 3000 / BTC 60000, deep venues, the governed limits of the brief. */
export function defaultLocalConfig(): SystemConfigInput {
  return {
    accounts: {},
    quote: { name: "USD Coin", symbol: "USDC", decimals: 6 },
    assets: {
      weth: {
        name: "Wrapped Ether",
        symbol: "WETH",
        decimals: 18,
        price: 3000,
        feedDescription: "ETH / USD",
        options: {
          smile: { atmVol: 0.65, skew: -0.1, curvature: 0.5 },
          maxNetDelta: 50_000,
          maxOpenInterest: 10_000,
        },
        perp: defaultWethPerpParams,
        uniswap: { baseAmount: 5_000, quoteAmount: 15_000_000 },
        limits: {
          enabled: true,
          targetDelta: 0,
          band: 25,
          minHedgeRatio: 0.5,
          maxHedgeRatio: 1,
          maxOptionLegSize: 2_000,
          maxPerpLegSize: 5_000,
          maxSpotLegSize: 1_000,
          maxPerpPosition: 10_000,
          premiumBudgetUsdPerWindow: 2_000_000,
          maxOpenSeries: 20,
        },
      },
      wbtc: {
        name: "Wrapped BTC",
        symbol: "WBTC",
        decimals: 8,
        price: 60_000,
        feedDescription: "BTC / USD",
        options: {
          smile: { atmVol: 0.55, skew: -0.08, curvature: 0.4 },
          maxNetDelta: 2_500,
          maxOpenInterest: 500,
        },
        perp: defaultWbtcPerpParams,
        uniswap: { baseAmount: 250, quoteAmount: 15_000_000 },
        limits: {
          enabled: true,
          targetDelta: 0,
          band: 1.5,
          minHedgeRatio: 0.5,
          maxHedgeRatio: 1,
          maxOptionLegSize: 100,
          maxPerpLegSize: 250,
          maxSpotLegSize: 50,
          maxPerpPosition: 500,
          premiumBudgetUsdPerWindow: 2_000_000,
          maxOpenSeries: 20,
        },
      },
    },
    oracle: { decimals: 8, maxAge: 3_600, maxJumpBps: 2_000 },
    options: {
      lpLiquidity: 10_000_000,
      smileExpiryDays: [7, 30, 90],
      expiryHourUtc: 8,
      listExpiryDays: 30,
      strikeFractions: [0.8, 0.9, 1, 1.1, 1.2],
    },
    perp: { lpLiquidity: 10_000_000 },
    uniswap: { fee: 500, rangePct: 0.3 },
    policy: {
      global: {
        maxSlippageBps: 100,
        oracleMaxDeviationBps: 200,
        oracleMaxAge: 3_600,
        keeperCooldown: 0,
        window: 86_400,
        approvalExpiry: 3_600,
        greeksCacheMaxAge: 3_600,
        greeksCacheMaxMoveBps: 100,
        turnoverCapUsdPerWindow: 100_000_000,
        tier1Usd: 2_000_000,
        tier2Usd: 10_000_000,
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Result types
// ---------------------------------------------------------------------------------------------

export type SystemAccounts = {
  deployer: Address;
  governance: Address;
  keeper: Address;
  guardian: Address;
  treasurer: Address;
  finance: Address;
  risk: Address;
};

export type TokenInfo = { address: Address; symbol: string; decimals: number };

/** One listed option series (strike WAD USD, expiry unix seconds). */
export type ListedSeries = {
  id: bigint;
  underlying: Address;
  strike: bigint;
  expiry: bigint;
  isCall: boolean;
};

export type SystemDeployment = {
  chainId: number;
  accounts: SystemAccounts;
  tokens: { weth: TokenInfo; wbtc: TokenInfo; usdc: TokenInfo };
  /** Oracle prices at deployment, WAD USD per whole unit. */
  prices: { weth: bigint; wbtc: bigint };
  feeds: { weth: Address; wbtc: Address };
  router: Address;
  surface: Address;
  optionsPool: Address;
  optionsAmm: Address;
  perpDex: Address;
  uniswap: { factory: Address; swapRouter: Address; positionManager: Address; quoterV2: Address };
  /** Uniswap V3 base/USDC pools of fee tier `poolFee`. */
  pools: { weth: Address; wbtc: Address };
  poolFee: number;
  policy: Address;
  ledger: Address;
  approvals: Address;
  vault: Address;
  adapters: { options: Address; perp: Address; spot: Address };
  /** Smile expiries set on the surface (both underlyings). */
  smileExpiries: bigint[];
  series: ListedSeries[];
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Wallet = WalletClient<Transport, Chain, Account>;
type Public = PublicClient<Transport, Chain>;
type Ctx = { viem: HardhatViem; publicClient: Public; wallet: Wallet; deployer: Address };

const DAY = 86_400n;

/** Exact conversion of a human amount to integer units with `decimals` decimals. */
export function toUnits(value: Decimal | number | string, decimals: number, what = "amount"): bigint {
  const scaled = new D(value).times(new D(10).pow(decimals));
  if (!scaled.isInteger()) throw new Error(`${what}: ${value.toString()} has more than ${decimals} decimals`);
  return BigInt(scaled.toFixed(0));
}

const wad = (value: Decimal, what: string): bigint => toUnits(value, 18, what);

/**
 * Sends one transaction (`send`), waits for its receipt and throws an error naming `step` when the
 * send fails (e.g. gas estimation hits a revert) or the transaction reverts.
 */
export async function confirmStep(
  publicClient: Public,
  step: string,
  send: () => Promise<Hash>,
): Promise<TransactionReceipt> {
  let hash: Hash;
  try {
    hash = await send();
  } catch (err) {
    throw new Error(`${step} failed: ${errorMessage(err)}`, { cause: err });
  }
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${step} reverted (tx ${hash})`);
  return receipt;
}

/** Runs a multi-transaction stage and prefixes any error with its name. */
async function stage<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new Error(`${name}: ${errorMessage(err)}`, { cause: err });
  }
}

/** viem errors: the short message plus the node's details (which name the custom error). */
function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const short =
    "shortMessage" in err && typeof err.shortMessage === "string" ? err.shortMessage : err.message;
  const details = "details" in err && typeof err.details === "string" ? err.details : "";
  return details && !short.includes(details) ? `${short} (${details})` : short;
}

/** AccessControl role id (DEFAULT_ADMIN_ROLE is bytes32(0)). */
export function roleId(name: string): Hex {
  return name === "DEFAULT_ADMIN_ROLE" ? zeroHash : keccak256(toHex(name));
}

const accessControlAbi = parseAbi([
  "function grantRole(bytes32 role, address account)",
  "function renounceRole(bytes32 role, address callerConfirmation)",
]);

async function grantRole(
  ctx: Ctx,
  label: string,
  contract: Address,
  role: string,
  to: Address,
): Promise<void> {
  await confirmStep(ctx.publicClient, `grant ${role} on ${label} to ${to}`, () =>
    ctx.wallet.writeContract({
      address: contract,
      abi: accessControlAbi,
      functionName: "grantRole",
      args: [roleId(role), to],
    }),
  );
}

async function renounceRole(ctx: Ctx, label: string, contract: Address, role: string): Promise<void> {
  await confirmStep(ctx.publicClient, `renounce ${role} on ${label}`, () =>
    ctx.wallet.writeContract({
      address: contract,
      abi: accessControlAbi,
      functionName: "renounceRole",
      args: [roleId(role), ctx.deployer],
    }),
  );
}

/** Wallet client of `address` among the connection's wallets (throws if it has none). */
export async function walletFor(viem: HardhatViem, address: Address): Promise<Wallet> {
  const wallets = await viem.getWalletClients();
  const wallet = wallets.find((w) => w.account.address.toLowerCase() === address.toLowerCase());
  if (!wallet) throw new Error(`no wallet client for ${address} on this connection`);
  return wallet;
}

function alignedExpiry(now: bigint, days: number, hourUtc: number): bigint {
  return ((now + BigInt(days) * DAY) / DAY) * DAY + BigInt(hourUtc) * 3_600n;
}

// ---------------------------------------------------------------------------------------------
// Stages
// ---------------------------------------------------------------------------------------------

async function resolveAccounts(viem: HardhatViem, cfg: SystemConfig): Promise<SystemAccounts> {
  const wallets = await viem.getWalletClients();
  const at = (i: number): Address => {
    const w = wallets[i];
    if (!w) throw new Error(`deploySystem: need at least 6 wallet clients for the default accounts`);
    return getAddress(w.account.address);
  };
  const a = cfg.accounts;
  return {
    deployer: at(0),
    governance: a.governance ?? at(0),
    keeper: a.keeper ?? at(1),
    guardian: a.guardian ?? at(2),
    treasurer: a.treasurer ?? at(3),
    finance: a.finance ?? at(4),
    risk: a.risk ?? at(5),
  };
}

async function deployTokens(ctx: Ctx, cfg: SystemConfig): Promise<SystemDeployment["tokens"]> {
  const token = async (t: { name: string; symbol: string; decimals: number }): Promise<TokenInfo> => {
    const c = await stage("deploy TestToken", () =>
      ctx.viem.deployContract("TestToken", [t.name, t.symbol, t.decimals, ctx.deployer]),
    );
    return { address: getAddress(c.address), symbol: t.symbol, decimals: t.decimals };
  };
  return {
    weth: await token(cfg.assets.weth),
    wbtc: await token(cfg.assets.wbtc),
    usdc: await token(cfg.quote),
  };
}

async function deployOracles(
  ctx: Ctx,
  cfg: SystemConfig,
  tokens: SystemDeployment["tokens"],
): Promise<{ feeds: SystemDeployment["feeds"]; router: Address }> {
  const router = await stage("deploy OracleRouter", () =>
    ctx.viem.deployContract("OracleRouter", [ctx.deployer]),
  );
  const feed = async (key: AssetKey): Promise<Address> => {
    const asset = cfg.assets[key];
    const answer = toUnits(asset.price, cfg.oracle.decimals, `${key} price`);
    const f = await stage("deploy ManagedPriceFeed", () =>
      ctx.viem.deployContract("ManagedPriceFeed", [
        cfg.oracle.decimals,
        asset.feedDescription,
        answer,
        ctx.deployer,
      ]),
    );
    await confirmStep(ctx.publicClient, `router.setFeed(${asset.symbol})`, () =>
      router.write.setFeed([tokens[key].address, f.address, cfg.oracle.maxAge, cfg.oracle.maxJumpBps]),
    );
    return getAddress(f.address);
  };
  return {
    feeds: { weth: await feed("weth"), wbtc: await feed("wbtc") },
    router: getAddress(router.address),
  };
}

async function mint(ctx: Ctx, token: Address, to: Address, amount: bigint, what: string): Promise<void> {
  const t = await ctx.viem.getContractAt("TestToken", token);
  await confirmStep(ctx.publicClient, `mint ${what}`, () => t.write.mint([to, amount]));
}

async function approve(
  ctx: Ctx,
  token: Address,
  spender: Address,
  amount: bigint,
  what: string,
): Promise<void> {
  const t = await ctx.viem.getContractAt("TestToken", token);
  await confirmStep(ctx.publicClient, `approve ${what}`, () => t.write.approve([spender, amount]));
}

type OptionsVenue = {
  surface: Address;
  optionsPool: Address;
  optionsAmm: Address;
  smileExpiries: bigint[];
  series: ListedSeries[];
};

async function deployOptionsVenue(
  ctx: Ctx,
  cfg: SystemConfig,
  tokens: SystemDeployment["tokens"],
  router: Address,
): Promise<OptionsVenue> {
  const venue = await deployOptions(ctx.viem, {
    usdc: tokens.usdc.address,
    router,
    admin: ctx.deployer,
    underlyings: ASSET_KEYS.map((k) => ({
      token: tokens[k].address,
      maxNetDelta: wad(cfg.assets[k].options.maxNetDelta, `${k} options.maxNetDelta`),
    })),
  });
  const now = (await ctx.publicClient.getBlock()).timestamp;
  const o = cfg.options;
  const smileExpiries = o.smileExpiryDays.map((d) => alignedExpiry(now, d, o.expiryHourUtc));
  const surface = await ctx.viem.getContractAt("VolatilitySurface", venue.surface);
  for (const k of ASSET_KEYS) {
    const s = cfg.assets[k].options.smile;
    for (const expiry of smileExpiries) {
      await confirmStep(ctx.publicClient, `surface.setSmile(${tokens[k].symbol}, ${expiry})`, () =>
        surface.write.setSmile([
          tokens[k].address,
          expiry,
          wad(s.atmVol, "atmVol"),
          wad(s.skew, "skew"),
          wad(s.curvature, "curvature"),
        ]),
      );
    }
  }
  const listExpiry = alignedExpiry(now, o.listExpiryDays, o.expiryHourUtc);
  const series: ListedSeries[] = [];
  for (const k of ASSET_KEYS)
    series.push(...(await listStrip(ctx, cfg, k, tokens[k], venue.amm, listExpiry)));

  const lp = toUnits(o.lpLiquidity, tokens.usdc.decimals, "options.lpLiquidity");
  const pool = await ctx.viem.getContractAt("OptionsPool", venue.pool);
  await approve(ctx, tokens.usdc.address, venue.pool, lp, "USDC to the options pool");
  await confirmStep(ctx.publicClient, "optionsPool.deposit", () =>
    pool.write.deposit([lp, 0n, ctx.deployer]),
  );
  return {
    surface: getAddress(venue.surface),
    optionsPool: getAddress(venue.pool),
    optionsAmm: getAddress(venue.amm),
    smileExpiries,
    series,
  };
}

async function listStrip(
  ctx: Ctx,
  cfg: SystemConfig,
  key: AssetKey,
  token: TokenInfo,
  ammAddress: Address,
  expiry: bigint,
): Promise<ListedSeries[]> {
  const amm = await ctx.viem.getContractAt("OptionsAMM", ammAddress);
  const asset = cfg.assets[key];
  const maxOi = wad(asset.options.maxOpenInterest, `${key} options.maxOpenInterest`);
  const out: ListedSeries[] = [];
  for (const fraction of cfg.options.strikeFractions) {
    const strike = wad(asset.price.times(fraction), `${key} strike`);
    for (const isCall of [false, true]) {
      await confirmStep(
        ctx.publicClient,
        `amm.listSeries(${token.symbol} ${strike} ${isCall ? "call" : "put"})`,
        () => amm.write.listSeries([token.address, strike, expiry, isCall, maxOi]),
      );
      out.push({ id: await amm.read.seriesCount(), underlying: token.address, strike, expiry, isCall });
    }
  }
  return out;
}

async function deployPerpVenue(
  ctx: Ctx,
  cfg: SystemConfig,
  tokens: SystemDeployment["tokens"],
  router: Address,
): Promise<Address> {
  const { perpDex } = await deployPerp(ctx.viem, {
    usdc: tokens.usdc.address,
    router,
    admin: ctx.deployer,
    markets: ASSET_KEYS.map((k) => ({ underlying: tokens[k].address, params: cfg.assets[k].perp })),
  });
  const lp = toUnits(cfg.perp.lpLiquidity, tokens.usdc.decimals, "perp.lpLiquidity");
  const dex = await ctx.viem.getContractAt("PerpDEX", perpDex);
  await approve(ctx, tokens.usdc.address, perpDex, lp, "USDC to the perp DEX");
  await confirmStep(ctx.publicClient, "perpDex.depositLiquidity", () => dex.write.depositLiquidity([lp]));
  return getAddress(perpDex);
}

async function deployUniswapVenue(
  ctx: Ctx,
  cfg: SystemConfig,
  tokens: SystemDeployment["tokens"],
): Promise<{ uniswap: SystemDeployment["uniswap"]; pools: SystemDeployment["pools"] }> {
  const clients: UniswapClients = { publicClient: ctx.publicClient, walletClient: ctx.wallet };
  const uni = await deployUniswapV3(clients, { weth: tokens.weth.address });
  const pool = async (key: AssetKey): Promise<Address> => {
    const asset = cfg.assets[key];
    const created = await createPoolWithLiquidity(clients, uni, {
      base: tokens[key],
      quote: tokens.usdc,
      fee: cfg.uniswap.fee,
      priceQuotePerBase: wad(asset.price, `${key} price`),
      baseAmount: toUnits(asset.uniswap.baseAmount, tokens[key].decimals, `${key} uniswap.baseAmount`),
      quoteAmount: toUnits(asset.uniswap.quoteAmount, tokens.usdc.decimals, `${key} uniswap.quoteAmount`),
      range: { pct: cfg.uniswap.rangePct },
    });
    return created.pool;
  };
  const { factory, swapRouter, positionManager, quoterV2 } = uni;
  return {
    uniswap: {
      factory: getAddress(factory),
      swapRouter: getAddress(swapRouter),
      positionManager: getAddress(positionManager),
      quoterV2: getAddress(quoterV2),
    },
    pools: { weth: await pool("weth"), wbtc: await pool("wbtc") },
  };
}

/** Mints what the venues' liquidity needs to the deployer (USDC for all venues, base for Uniswap). */
async function mintVenueFunds(
  ctx: Ctx,
  cfg: SystemConfig,
  tokens: SystemDeployment["tokens"],
): Promise<void> {
  const usdc = (v: Decimal, what: string) => toUnits(v, tokens.usdc.decimals, what);
  const usdcNeeded =
    usdc(cfg.options.lpLiquidity, "options.lpLiquidity") +
    usdc(cfg.perp.lpLiquidity, "perp.lpLiquidity") +
    usdc(cfg.assets.weth.uniswap.quoteAmount, "weth uniswap.quoteAmount") +
    usdc(cfg.assets.wbtc.uniswap.quoteAmount, "wbtc uniswap.quoteAmount");
  await mint(ctx, tokens.usdc.address, ctx.deployer, usdcNeeded, "USDC for venue liquidity");
  for (const k of ASSET_KEYS) {
    const amount = toUnits(cfg.assets[k].uniswap.baseAmount, tokens[k].decimals, `${k} uniswap.baseAmount`);
    await mint(ctx, tokens[k].address, ctx.deployer, amount, `${tokens[k].symbol} for Uniswap liquidity`);
  }
}

/** RiskPolicy.GlobalLimits from the config (shared with the network pipeline). */
export function globalLimits(cfg: SystemConfig) {
  const g = cfg.policy.global;
  return {
    maxSlippageBps: g.maxSlippageBps,
    oracleMaxDeviationBps: g.oracleMaxDeviationBps,
    oracleMaxAge: g.oracleMaxAge,
    keeperCooldown: g.keeperCooldown,
    window: g.window,
    approvalExpiry: g.approvalExpiry,
    greeksCacheMaxAge: g.greeksCacheMaxAge,
    greeksCacheMaxMoveBps: g.greeksCacheMaxMoveBps,
    turnoverCapPerWindow: wad(g.turnoverCapUsdPerWindow, "turnoverCapUsdPerWindow"),
    tier1Notional: wad(g.tier1Usd, "tier1Usd"),
    tier2Notional: wad(g.tier2Usd, "tier2Usd"),
  };
}

/** RiskPolicy.UnderlyingLimits from one asset's config (shared with the network pipeline). */
export function underlyingLimits(l: SystemConfig["assets"]["weth"]["limits"]) {
  return {
    enabled: l.enabled,
    targetDelta: wad(l.targetDelta, "targetDelta"),
    band: wad(l.band, "band"),
    minHedgeRatio: wad(l.minHedgeRatio, "minHedgeRatio"),
    maxHedgeRatio: wad(l.maxHedgeRatio, "maxHedgeRatio"),
    maxOptionLegSize: wad(l.maxOptionLegSize, "maxOptionLegSize"),
    maxPerpLegSize: wad(l.maxPerpLegSize, "maxPerpLegSize"),
    maxSpotLegSize: wad(l.maxSpotLegSize, "maxSpotLegSize"),
    maxPerpPosition: wad(l.maxPerpPosition, "maxPerpPosition"),
    premiumBudgetPerWindow: wad(l.premiumBudgetUsdPerWindow, "premiumBudgetUsdPerWindow"),
    maxOpenSeries: l.maxOpenSeries,
  };
}

type Core = { policy: Address; ledger: Address; approvals: Address; vault: Address };

async function deployCore(
  ctx: Ctx,
  cfg: SystemConfig,
  tokens: SystemDeployment["tokens"],
  router: Address,
  accounts: SystemAccounts,
): Promise<Core> {
  const policy = await stage("deploy RiskPolicy", () =>
    ctx.viem.deployContract("RiskPolicy", [ctx.deployer, globalLimits(cfg)]),
  );
  for (const k of ASSET_KEYS) {
    await confirmStep(ctx.publicClient, `policy.setUnderlyingLimits(${tokens[k].symbol})`, () =>
      policy.write.setUnderlyingLimits([tokens[k].address, underlyingLimits(cfg.assets[k].limits)]),
    );
  }
  const ledger = await stage("deploy TreasuryLedger", () =>
    ctx.viem.deployContract("TreasuryLedger", [ctx.deployer, accounts.treasurer]),
  );
  const approvals = await stage("deploy HedgeApprovals", () =>
    ctx.viem.deployContract("HedgeApprovals", [policy.address, ctx.deployer]),
  );
  const vault = await stage("deploy TreasuryVault", () =>
    ctx.viem.deployContract("TreasuryVault", [
      policy.address,
      router,
      ledger.address,
      approvals.address,
      tokens.usdc.address,
      ASSET_KEYS.map((k) => tokens[k].address),
      ctx.deployer,
    ]),
  );
  await confirmStep(ctx.publicClient, "approvals.bindVault", () =>
    approvals.write.bindVault([vault.address]),
  );
  return {
    policy: getAddress(policy.address),
    ledger: getAddress(ledger.address),
    approvals: getAddress(approvals.address),
    vault: getAddress(vault.address),
  };
}

async function deployAdapters(
  ctx: Ctx,
  cfg: SystemConfig,
  d: {
    optionsAmm: Address;
    perpDex: Address;
    swapRouter: Address;
    router: Address;
    usdc: Address;
    policy: Address;
  },
): Promise<SystemDeployment["adapters"]> {
  const options = await stage("deploy OptionsAMMAdapter", () =>
    ctx.viem.deployContract("OptionsAMMAdapter", [d.optionsAmm]),
  );
  const perp = await stage("deploy PerpDEXAdapter", () =>
    ctx.viem.deployContract("PerpDEXAdapter", [d.perpDex]),
  );
  const spot = await stage("deploy UniswapV3SpotAdapter", () =>
    ctx.viem.deployContract("UniswapV3SpotAdapter", [d.swapRouter, d.router, d.usdc, cfg.uniswap.fee]),
  );
  const policy = await ctx.viem.getContractAt("RiskPolicy", d.policy);
  for (const [name, adapter] of [
    ["options", options.address],
    ["perp", perp.address],
    ["spot", spot.address],
  ] as const) {
    await confirmStep(ctx.publicClient, `policy.setVenueAllowed(${name} adapter)`, () =>
      policy.write.setVenueAllowed([adapter, true]),
    );
  }
  return {
    options: getAddress(options.address),
    perp: getAddress(perp.address),
    spot: getAddress(spot.address),
  };
}

/** Operator roles (who runs the protocol day to day), granted by the deployer as admin. */
export function operatorRoles(d: Pick<SystemDeployment, "vault" | "approvals" | "ledger" | "accounts">) {
  const a = d.accounts;
  return [
    { label: "TreasuryVault", contract: d.vault, role: "KEEPER_ROLE", holder: a.keeper },
    { label: "TreasuryVault", contract: d.vault, role: "GUARDIAN_ROLE", holder: a.guardian },
    { label: "TreasuryVault", contract: d.vault, role: "TREASURER_ROLE", holder: a.treasurer },
    // Granted by the ledger's constructor.
    {
      label: "TreasuryLedger",
      contract: d.ledger,
      role: "TREASURER_ROLE",
      holder: a.treasurer,
      atConstruction: true,
    },
    { label: "HedgeApprovals", contract: d.approvals, role: "PROPOSER_ROLE", holder: a.keeper },
    { label: "HedgeApprovals", contract: d.approvals, role: "FINANCE_ROLE", holder: a.finance },
    { label: "HedgeApprovals", contract: d.approvals, role: "RISK_ROLE", holder: a.risk },
  ] as const;
}

/**
 * Every admin role of the deployment, per contract (DEFAULT_ADMIN_ROLE first). These end with
 * governance; the deployer holds none of them once governance is another account.
 */
export function adminRoles(
  d: SystemDeployment,
): Array<{ label: string; contract: Address; roles: string[] }> {
  return [
    { label: "WETH", contract: d.tokens.weth.address, roles: ["DEFAULT_ADMIN_ROLE"] },
    { label: "WBTC", contract: d.tokens.wbtc.address, roles: ["DEFAULT_ADMIN_ROLE"] },
    { label: "USDC", contract: d.tokens.usdc.address, roles: ["DEFAULT_ADMIN_ROLE"] },
    { label: "ETH feed", contract: d.feeds.weth, roles: ["DEFAULT_ADMIN_ROLE"] },
    { label: "BTC feed", contract: d.feeds.wbtc, roles: ["DEFAULT_ADMIN_ROLE"] },
    { label: "OracleRouter", contract: d.router, roles: ["DEFAULT_ADMIN_ROLE", "ORACLE_ADMIN_ROLE"] },
    { label: "VolatilitySurface", contract: d.surface, roles: ["DEFAULT_ADMIN_ROLE", "SURFACE_ADMIN_ROLE"] },
    { label: "OptionsPool", contract: d.optionsPool, roles: ["DEFAULT_ADMIN_ROLE", "POOL_ADMIN_ROLE"] },
    {
      label: "OptionsAMM",
      contract: d.optionsAmm,
      roles: ["DEFAULT_ADMIN_ROLE", "PARAMS_ROLE", "LISTER_ROLE"],
    },
    { label: "PerpDEX", contract: d.perpDex, roles: ["DEFAULT_ADMIN_ROLE", "MARKET_ADMIN_ROLE"] },
    { label: "RiskPolicy", contract: d.policy, roles: ["DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE"] },
    { label: "TreasuryLedger", contract: d.ledger, roles: ["DEFAULT_ADMIN_ROLE"] },
    { label: "HedgeApprovals", contract: d.approvals, roles: ["DEFAULT_ADMIN_ROLE"] },
    { label: "TreasuryVault", contract: d.vault, roles: ["DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE"] },
  ];
}

/** Grants every admin role to governance, then renounces the deployer's (DEFAULT_ADMIN_ROLE last). */
async function handOverToGovernance(ctx: Ctx, d: SystemDeployment): Promise<void> {
  const entries = adminRoles(d);
  for (const e of entries) {
    for (const role of e.roles) await grantRole(ctx, e.label, e.contract, role, d.accounts.governance);
  }
  for (const e of entries) {
    for (const role of [...e.roles].reverse()) await renounceRole(ctx, e.label, e.contract, role);
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/** Deploys and wires the whole protocol; see the module doc. `viem` = `(await network.connect()).viem`. */
export async function deploySystem(
  viem: HardhatViem,
  config: SystemConfigInput = defaultLocalConfig(),
): Promise<SystemDeployment> {
  const cfg = systemConfigSchema.parse(config);
  const accounts = await resolveAccounts(viem, cfg);
  const publicClient = await viem.getPublicClient();
  const wallet = await walletFor(viem, accounts.deployer);
  const ctx: Ctx = { viem, publicClient, wallet, deployer: accounts.deployer };

  const tokens = await stage("tokens", () => deployTokens(ctx, cfg));
  const { feeds, router } = await stage("oracles", () => deployOracles(ctx, cfg, tokens));
  await stage("venue funds", () => mintVenueFunds(ctx, cfg, tokens));
  const options = await stage("options venue", () => deployOptionsVenue(ctx, cfg, tokens, router));
  const perpDex = await stage("perp venue", () => deployPerpVenue(ctx, cfg, tokens, router));
  const { uniswap, pools } = await stage("uniswap venue", () => deployUniswapVenue(ctx, cfg, tokens));
  const core = await stage("core", () => deployCore(ctx, cfg, tokens, router, accounts));
  const adapters = await stage("adapters", () =>
    deployAdapters(ctx, cfg, {
      optionsAmm: options.optionsAmm,
      perpDex,
      swapRouter: uniswap.swapRouter,
      router,
      usdc: tokens.usdc.address,
      policy: core.policy,
    }),
  );

  const deployment: SystemDeployment = {
    chainId: await publicClient.getChainId(),
    accounts,
    tokens,
    prices: {
      weth: wad(cfg.assets.weth.price, "weth price"),
      wbtc: wad(cfg.assets.wbtc.price, "wbtc price"),
    },
    feeds,
    router,
    ...options,
    perpDex,
    uniswap,
    pools,
    poolFee: cfg.uniswap.fee,
    ...core,
    adapters,
  };
  await stage("operator roles", async () => {
    for (const r of operatorRoles(deployment)) {
      if ("atConstruction" in r) continue;
      await grantRole(ctx, r.label, r.contract, r.role, r.holder);
    }
  });
  if (accounts.governance !== accounts.deployer) {
    await stage("governance hand-over", () => handOverToGovernance(ctx, deployment));
  }
  return deployment;
}

/** TreasuryLedger.Bucket. */
export const Bucket = { Operating: 0, Reserve: 1, CreatorFunds: 2, PendingSettlements: 3 } as const;

const fundSchema = z.object({
  weth: nonNegative,
  wbtc: nonNegative,
  usdc: nonNegative,
  creatorPayoutsOwedWeth: nonNegative,
});
export type FundTreasuryParams = z.input<typeof fundSchema>;

/**
 * Funds a marketplace treasury: the deployer mints WETH/WBTC/USDC (whole units) to the treasurer,
 * who deposits them into the vault, and adds `creatorPayoutsOwedWeth` to the ledger's
 * CreatorFunds liability in WETH. Needs wallet clients for the deployer (MINTER_ROLE on the test
 * tokens) and the treasurer (TREASURER_ROLE on vault and ledger).
 */
export async function fundTreasury(
  viem: HardhatViem,
  deployment: SystemDeployment,
  params: FundTreasuryParams,
): Promise<void> {
  const p = fundSchema.parse(params);
  const publicClient = await viem.getPublicClient();
  const deployer: Ctx = {
    viem,
    publicClient,
    wallet: await walletFor(viem, deployment.accounts.deployer),
    deployer: deployment.accounts.deployer,
  };
  const treasurer = await walletFor(viem, deployment.accounts.treasurer);
  const as = { account: treasurer.account };
  const vault = await viem.getContractAt("TreasuryVault", deployment.vault);
  const t = deployment.tokens;
  for (const [token, amount] of [
    [t.weth, p.weth],
    [t.wbtc, p.wbtc],
    [t.usdc, p.usdc],
  ] as const) {
    const units = toUnits(amount, token.decimals, `fund ${token.symbol}`);
    if (units === 0n) continue;
    const erc20 = await viem.getContractAt("TestToken", token.address);
    await mint(
      deployer,
      token.address,
      deployment.accounts.treasurer,
      units,
      `${token.symbol} to the treasurer`,
    );
    await confirmStep(publicClient, `treasurer approves ${token.symbol}`, () =>
      erc20.write.approve([deployment.vault, units], as),
    );
    await confirmStep(publicClient, `vault.deposit(${token.symbol})`, () =>
      vault.write.deposit([token.address, units], as),
    );
  }
  const owed = wad(p.creatorPayoutsOwedWeth, "creatorPayoutsOwedWeth");
  if (owed === 0n) return;
  const ledger = await viem.getContractAt("TreasuryLedger", deployment.ledger);
  const current = await ledger.read.liability([t.weth.address, Bucket.CreatorFunds]);
  await confirmStep(publicClient, "ledger.setLiability(WETH, CreatorFunds)", () =>
    ledger.write.setLiability([t.weth.address, Bucket.CreatorFunds, current + owed], as),
  );
}
