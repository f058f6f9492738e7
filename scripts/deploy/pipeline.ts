/**
 * The deployment pipeline: deploys the whole DeltaVault system to one network, idempotently, and
 * writes deployments/<network>.json (see state.ts for the format and steps.ts for how re-runs skip
 * what exists and resume after a crash).
 *
 * Order: test tokens (local) · oracle router + feeds · options venue (surface, pool, AMM, smiles,
 * listed strip) · perp DEX (markets) · Uniswap V3 from published artifacts (+ pools with liquidity,
 * local) · RiskPolicy, TreasuryLedger, HedgeApprovals, TreasuryVault · the three adapters (allowed in
 * the policy) · DAO (token, timelock, governor) · guardian Safe (n-of-m, published Safe 1.4.1
 * artifacts) · role grants from the declarative table (wiring.ts) · the deployer renounces every
 * role the table does not give it (DEFAULT_ADMIN_ROLE last, the Timelock's last of all) · the role
 * check (`verifyRoles`): the run fails if the chain differs from the intended wiring.
 *
 * Networks: "local" (embedded chain, `npx hardhat node`) deploys test tokens and managed feeds and
 * seeds venue liquidity, with wallet clients as default operator accounts; "external" (a real
 * network) uses the WETH/WBTC/USDC and Chainlink feeds named in deployments/config/<network>.json
 * and needs every operator address and the Safe owners there.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ArtifactManager } from "hardhat/types/artifacts";
import {
  encodeFunctionData,
  erc20Abi,
  getAddress,
  isAddressEqual,
  parseAbi,
  parseEventLogs,
  stringToHex,
  zeroAddress,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { z } from "zod";
import { safeAbi, safeProxyFactoryAbi } from "../governance/abis.ts";
import { governancePresets, safeArtifacts } from "./governance.ts";
import type { HardhatViem } from "./options.ts";
import {
  ASSET_KEYS,
  defaultLocalConfig,
  globalLimits,
  systemConfigSchema,
  toUnits,
  underlyingLimits,
  type AssetKey,
  type SystemConfig,
  type SystemConfigInput,
} from "./system.ts";
import { STATE_FORMAT, readState, statePath, type DeploymentState } from "./state.ts";
import {
  callStep,
  createViaCallStep,
  deployStep,
  ensureStep,
  identity,
  packageVersion,
  projectContract,
  publishedContract,
  save,
  type Deployable,
  type StepContext,
  type StepEvent,
} from "./steps.ts";
import {
  accessControlAbi,
  formatRoleReport,
  intendedRoles,
  ownableAbi,
  roleIdOf,
  roleRows,
  verifyRoles,
  type RoleReport,
} from "./wiring.ts";
import {
  factoryAbi,
  positionManagerAbi,
  readPoolState,
  sortTokens,
  sqrtPriceX96FromPrice,
  tickRangeAroundTick,
  uniswapV3Artifacts,
  type UniswapArtifact,
  linkBytecode,
} from "./uniswapV3.ts";

// ---------------------------------------------------------------------------------------------
// Network config: deployments/config/<network>.json
// ---------------------------------------------------------------------------------------------

const address = z
  .string({ error: (i) => (i.input === undefined ? "missing" : "expected an address string") })
  .regex(/^0x[0-9a-fA-F]{40}$/u, "expected a 20-byte hex address")
  .transform((a): Address => getAddress(a));

const wholeTokens = z
  .union([z.number().int().positive(), z.string().regex(/^[1-9]\d*$/u, "expected a whole number")])
  .transform((v) => BigInt(v) * 10n ** 18n);

const safeConfigSchema = z
  .object({
    owners: z.array(address).min(1).max(50),
    threshold: z.number().int().positive(),
    saltNonce: z.number().int().nonnegative().default(0),
    /** Deploy the SafeL2 singleton (emits an event per Safe transaction, recommended on L2s). */
    l2: z.boolean().default(false),
  })
  .refine((s) => new Set(s.owners).size === s.owners.length, "safe.owners must be distinct")
  .refine((s) => s.threshold <= s.owners.length, "safe.threshold must be <= the number of owners");

const governanceConfigSchema = z.object({
  /** Voting delay/period, proposal threshold, quorum and timelock delay (governance.ts presets). */
  preset: z.enum(["local", "testnet", "mainnet"]).optional(),
  /** DVG supply in whole tokens, minted once to `initialHolder` (default: the deployer). */
  tokenSupply: wholeTokens.default(1_000_000n * 10n ** 18n),
  initialHolder: address.optional(),
});

const accountsConfigSchema = z.object({
  keeper: address,
  treasurer: address,
  finance: address,
  risk: address,
  /** Local only: MINTER_ROLE on the test tokens and ORACLE_ROLE on the managed feeds (default: deployer). */
  marketOperator: address.optional(),
});

const externalConfigSchema = z.object({
  tokens: z.object({ weth: address, wbtc: address, usdc: address }),
  /** Chainlink AggregatorV3 feeds (USD per whole unit) for WETH and WBTC. */
  feeds: z.object({ weth: address, wbtc: address }),
});

const systemOverride = z.custom<SystemConfigInput>(
  (v) => typeof v === "object" && v !== null,
  "expected an object",
);

/** A local network: everything optional (defaults: wallet clients, 2-of-3 Safe over wallets 6,7,8). */
export const localNetworkConfigSchema = z.object({
  governance: governanceConfigSchema.default({ tokenSupply: 1_000_000n * 10n ** 18n }),
  accounts: accountsConfigSchema.partial().default({}),
  safe: safeConfigSchema.optional(),
  system: systemOverride.optional(),
});

/** A real network: existing tokens and feeds, every operator and the Safe owners are required. */
export const externalNetworkConfigSchema = z.object({
  governance: governanceConfigSchema.default({ tokenSupply: 1_000_000n * 10n ** 18n }),
  accounts: accountsConfigSchema,
  safe: safeConfigSchema,
  external: externalConfigSchema,
  /** Limits, oracle and venue parameters (prices are used for the listed strikes). Default: local values. */
  system: systemOverride.optional(),
});

export type NetworkConfigInput =
  | ({ mode: "local" } & z.input<typeof localNetworkConfigSchema>)
  | ({ mode: "external" } & z.input<typeof externalNetworkConfigSchema>);

export type NetworkConfig =
  | ({ mode: "local" } & z.output<typeof localNetworkConfigSchema>)
  | ({ mode: "external" } & z.output<typeof externalNetworkConfigSchema>);

function formatIssues(where: string, issues: z.core.$ZodIssue[]): string {
  const lines = issues.map((i) => {
    const path = i.path.join(".") || "(root)";
    return i.message === "missing" || /received undefined/u.test(i.message)
      ? `missing field ${path}`
      : `${path}: ${i.message}`;
  });
  return `${where}: ${lines.join("; ")}`;
}

/** Validates a network config (the parsed JSON of deployments/config/<network>.json). */
export function parseNetworkConfig(raw: unknown, mode: "local" | "external", where: string): NetworkConfig {
  if (mode === "local") {
    const r = localNetworkConfigSchema.safeParse(raw);
    if (!r.success) throw new Error(formatIssues(where, r.error.issues));
    return { mode, ...r.data };
  }
  const r = externalNetworkConfigSchema.safeParse(raw);
  if (!r.success) throw new Error(formatIssues(where, r.error.issues));
  return { mode, ...r.data };
}

/** deployments/config/<network>.json under `dir`. */
export function networkConfigPath(dir: string, network: string): string {
  return join(dir, "config", `${network}.json`);
}

/**
 * Loads and validates the config of `network`. Local networks work without a file; a real network
 * fails here (before any RPC call) with a message naming the file or the missing fields.
 */
export function loadNetworkConfig(dir: string, network: string, local: boolean): NetworkConfig {
  const path = networkConfigPath(dir, network);
  const mode = local ? "local" : "external";
  if (!existsSync(path)) {
    if (local) return parseNetworkConfig({}, "local", path);
    throw new Error(
      `${path} is missing: network "${network}" is not local, so the deployment needs its config ` +
        `(external.tokens.{weth,wbtc,usdc}, external.feeds.{weth,wbtc}, accounts.{keeper,treasurer,finance,risk}, ` +
        `safe.{owners,threshold}); see deployments/config/example.external.json`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path} is not valid JSON`, { cause: err });
  }
  return parseNetworkConfig(raw, mode, path);
}

/**
 * Whether a configured network is a local chain: the embedded one (edr-simulated) or an HTTP
 * network whose URL is a literal localhost address. Anything else (a config variable URL) is real.
 */
export function isLocalNetwork(network: { type?: string; url?: unknown }): boolean {
  if (network.type !== "http") return true;
  if (typeof network.url !== "string") return false;
  try {
    const host = new URL(network.url).hostname;
    return ["localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"].includes(host);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Pipeline
// ---------------------------------------------------------------------------------------------

export interface DeployAllOptions {
  /** hardhat-viem of the network connection: `(await network.create()).viem`. */
  viem: HardhatViem;
  artifacts: ArtifactManager;
  /** Network name: the state file is <dir>/<network>.json. */
  network: string;
  /** Deployments directory (default "deployments"). */
  dir?: string;
  /** Default: loaded from <dir>/config/<network>.json, or local defaults. */
  config?: NetworkConfig;
  log?: (line: string) => void;
  /** Progress hook (tests throw from it to simulate a crash). */
  onStep?: (event: StepEvent) => void;
}

export interface DeployAllResult {
  state: DeploymentState;
  path: string;
  report: RoleReport;
  /** Transactions sent by this run; steps skipped because they were already done. */
  sent: number;
  skipped: number;
}

const LOCAL_CHAIN_IDS = new Set([31337, 1337]);
const DAY = 86_400;

function alignedExpiry(anchor: number, days: number, hourUtc: number): bigint {
  return BigInt(Math.floor((anchor + days * DAY) / DAY) * DAY + hourUtc * 3_600);
}

const wad = (v: SystemConfig["assets"]["weth"]["price"], what: string) => toUnits(v, 18, what);

const chainlinkAbi = parseAbi([
  "function decimals() view returns (uint8)",
  "function latestRoundData() view returns (uint80, int256, uint256, uint256, uint80)",
]);

/** Deploys (or resumes, or confirms) the whole system on the connected network. */
export async function deployAll(options: DeployAllOptions): Promise<DeployAllResult> {
  const dir = options.dir ?? "deployments";
  const log = options.log ?? (() => {});
  const viem = options.viem;
  const client = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const wallet = wallets[0];
  if (!wallet) throw new Error("deployAll: the network has no account to deploy from");
  const deployer = getAddress(wallet.account.address);
  const chainId = await client.getChainId();
  const genesisHash = (await client.getBlock({ blockNumber: 0n })).hash;
  const local = LOCAL_CHAIN_IDS.has(chainId);
  const config = options.config ?? loadNetworkConfig(dir, options.network, local);
  if (config.mode === "local" && !local) {
    throw new Error(
      `network "${options.network}" (chain ${chainId}) is not local: its config needs "external"`,
    );
  }
  const cfg = systemConfigSchema.parse(config.system ?? defaultLocalConfig());
  const path = statePath(dir, options.network);

  let state = readState(path);
  if (state) {
    if (state.chainId !== chainId) {
      throw new Error(
        `${path} is for chain ${state.chainId}, but network "${options.network}" is chain ${chainId}`,
      );
    }
    if (state.genesisHash !== genesisHash) {
      if (!local) throw new Error(`${path}: the chain's genesis block differs from the recorded one`);
      log(`${path}: the local chain was reset (new genesis block); starting a fresh deployment`);
      state = undefined;
    } else if (!isAddressEqual(state.deployer, deployer)) {
      throw new Error(`${path} was deployed by ${state.deployer}; the configured deployer is ${deployer}`);
    }
  }
  const at = (i: number): Address => {
    const w = wallets[i];
    if (!w)
      throw new Error(
        `local defaults need wallet client ${i}; configure accounts/safe in the network config`,
      );
    return getAddress(w.account.address);
  };
  const accounts: Record<string, Address> =
    config.mode === "external"
      ? {
          keeper: config.accounts.keeper,
          treasurer: config.accounts.treasurer,
          finance: config.accounts.finance,
          risk: config.accounts.risk,
        }
      : {
          keeper: config.accounts.keeper ?? at(1),
          treasurer: config.accounts.treasurer ?? at(3),
          finance: config.accounts.finance ?? at(4),
          risk: config.accounts.risk ?? at(5),
          marketOperator: config.accounts.marketOperator ?? deployer,
        };
  const safe = config.safe ?? { owners: [at(6), at(7), at(8)], threshold: 2, saltNonce: 0, l2: false };
  const latest = await client.getBlock();
  state ??= {
    format: STATE_FORMAT,
    network: options.network,
    chainId,
    genesisHash,
    mode: config.mode,
    anchorTimestamp: Number(latest.timestamp),
    complete: false,
    updatedAt: new Date().toISOString(),
    deployer,
    accounts: {},
    external: {},
    contracts: {},
    steps: {},
    roles: [],
  };
  state.mode = config.mode;
  state.accounts = accounts;
  state.safe = { owners: safe.owners, threshold: safe.threshold };

  const ctx: StepContext = {
    state,
    path,
    dir,
    client,
    wallet,
    artifacts: options.artifacts,
    log,
    ...(options.onStep ? { onStep: options.onStep } : {}),
    counters: { sent: 0, skipped: 0 },
  };
  save(ctx);
  log(`deploying to ${options.network} (chain ${chainId}, ${config.mode}) from ${deployer} -> ${path}`);

  const project = (name: string) => projectContract(ctx, name);
  const contractAbi = async (name: string): Promise<Abi> =>
    (await options.artifacts.readArtifact(name)).abi as Abi;

  // --- tokens and feeds -----------------------------------------------------------------------
  const tokenNames: Record<AssetKey | "usdc", string> = { weth: "WETH", wbtc: "WBTC", usdc: "USDC" };
  const tokens = {} as Record<AssetKey | "usdc", { address: Address; decimals: number; symbol: string }>;
  const feeds = {} as Record<AssetKey, Address>;
  if (config.mode === "local") {
    const testToken = await project("TestToken");
    for (const key of ["weth", "wbtc", "usdc"] as const) {
      const t = key === "usdc" ? cfg.quote : cfg.assets[key];
      tokens[key] = {
        address: await deployStep(ctx, tokenNames[key], testToken, [t.name, t.symbol, t.decimals, deployer]),
        decimals: t.decimals,
        symbol: t.symbol,
      };
    }
  } else {
    for (const key of ["weth", "wbtc", "usdc"] as const) {
      const t = key === "usdc" ? cfg.quote : cfg.assets[key];
      const token = config.external.tokens[key];
      const decimals = await client.readContract({ address: token, abi: erc20Abi, functionName: "decimals" });
      if (decimals !== t.decimals) {
        throw new Error(
          `external.tokens.${key} ${token} has ${decimals} decimals, the system config says ${t.decimals}`,
        );
      }
      tokens[key] = { address: token, decimals, symbol: t.symbol };
      state.external[tokenNames[key]] = token;
    }
  }

  log("oracles");
  const router = await deployStep(ctx, "OracleRouter", await project("OracleRouter"), [deployer]);
  const routerAbi = await contractAbi("OracleRouter");
  const managedFeed = config.mode === "local" ? await project("ManagedPriceFeed") : undefined;
  for (const key of ASSET_KEYS) {
    const asset = cfg.assets[key];
    const name = `${tokenNames[key]}Feed`;
    if (managedFeed) {
      const answer = toUnits(asset.price, cfg.oracle.decimals, `${key} price`);
      feeds[key] = await deployStep(ctx, name, managedFeed, [
        cfg.oracle.decimals,
        asset.feedDescription,
        answer,
        deployer,
      ]);
    } else if (config.mode === "external") {
      feeds[key] = config.external.feeds[key];
      await client
        .readContract({ address: feeds[key], abi: chainlinkAbi, functionName: "decimals" })
        .catch((err: unknown) => {
          throw new Error(`external.feeds.${key} ${feeds[key]} is not an AggregatorV3 feed`, { cause: err });
        });
      state.external[name] = feeds[key];
    }
    await callStep(
      ctx,
      `router.setFeed(${asset.symbol})`,
      router,
      encodeFunctionData({
        abi: routerAbi,
        functionName: "setFeed",
        args: [tokens[key].address, feeds[key], cfg.oracle.maxAge, cfg.oracle.maxJumpBps],
      }),
    );
  }

  const testTokenAbi = await contractAbi("TestToken");
  const usdcUnits = (v: SystemConfig["options"]["lpLiquidity"], what: string) =>
    toUnits(v, tokens.usdc.decimals, what);
  if (config.mode === "local") {
    log("venue funds");
    const usdcNeeded =
      usdcUnits(cfg.options.lpLiquidity, "options.lpLiquidity") +
      usdcUnits(cfg.perp.lpLiquidity, "perp.lpLiquidity") +
      usdcUnits(cfg.assets.weth.uniswap.quoteAmount, "weth uniswap.quoteAmount") +
      usdcUnits(cfg.assets.wbtc.uniswap.quoteAmount, "wbtc uniswap.quoteAmount");
    const mint = (token: Address, amount: bigint, symbol: string) =>
      callStep(
        ctx,
        `mint(${symbol})`,
        token,
        encodeFunctionData({ abi: testTokenAbi, functionName: "mint", args: [deployer, amount] }),
      );
    await mint(tokens.usdc.address, usdcNeeded, tokens.usdc.symbol);
    for (const k of ASSET_KEYS) {
      await mint(
        tokens[k].address,
        toUnits(cfg.assets[k].uniswap.baseAmount, tokens[k].decimals, `${k} uniswap.baseAmount`),
        tokens[k].symbol,
      );
    }
  }
  const approve = (token: Address, spender: Address, amount: bigint, key: string) =>
    callStep(
      ctx,
      key,
      token,
      encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [spender, amount] }),
    );

  // --- options venue --------------------------------------------------------------------------
  log("options venue");
  const surface = await deployStep(ctx, "VolatilitySurface", await project("VolatilitySurface"), [deployer]);
  const optionsPool = await deployStep(ctx, "OptionsPool", await project("OptionsPool"), [
    tokens.usdc.address,
    router,
    deployer,
  ]);
  const optionsAmm = await deployStep(ctx, "OptionsAMM", await project("OptionsAMM"), [
    tokens.usdc.address,
    optionsPool,
    surface,
    router,
    deployer,
  ]);
  const poolAbi = await contractAbi("OptionsPool");
  const ammAbi = await contractAbi("OptionsAMM");
  const surfaceAbi = await contractAbi("VolatilitySurface");
  await callStep(
    ctx,
    "optionsPool.setAmm",
    optionsPool,
    encodeFunctionData({ abi: poolAbi, functionName: "setAmm", args: [optionsAmm] }),
  );
  for (const k of ASSET_KEYS) {
    const maxNetDelta = wad(cfg.assets[k].options.maxNetDelta, `${k} options.maxNetDelta`);
    await callStep(
      ctx,
      `optionsAmm.configureUnderlying(${tokens[k].symbol})`,
      optionsAmm,
      encodeFunctionData({
        abi: ammAbi,
        functionName: "configureUnderlying",
        args: [tokens[k].address, maxNetDelta],
      }),
    );
  }
  const o = cfg.options;
  for (const k of ASSET_KEYS) {
    const s = cfg.assets[k].options.smile;
    for (const days of o.smileExpiryDays) {
      const expiry = alignedExpiry(state.anchorTimestamp, days, o.expiryHourUtc);
      await callStep(
        ctx,
        `surface.setSmile(${tokens[k].symbol},${days}d)`,
        surface,
        encodeFunctionData({
          abi: surfaceAbi,
          functionName: "setSmile",
          args: [
            tokens[k].address,
            expiry,
            wad(s.atmVol, "atmVol"),
            wad(s.skew, "skew"),
            wad(s.curvature, "curvature"),
          ],
        }),
      );
    }
  }
  const listExpiry = alignedExpiry(state.anchorTimestamp, o.listExpiryDays, o.expiryHourUtc);
  for (const k of ASSET_KEYS) {
    const asset = cfg.assets[k];
    const maxOi = wad(asset.options.maxOpenInterest, `${k} options.maxOpenInterest`);
    for (const fraction of o.strikeFractions) {
      const strike = wad(asset.price.times(fraction), `${k} strike`);
      for (const isCall of [false, true]) {
        await callStep(
          ctx,
          `optionsAmm.listSeries(${tokens[k].symbol},${fraction.toString()},${isCall ? "call" : "put"})`,
          optionsAmm,
          encodeFunctionData({
            abi: ammAbi,
            functionName: "listSeries",
            args: [tokens[k].address, strike, listExpiry, isCall, maxOi],
          }),
        );
      }
    }
  }
  if (config.mode === "local") {
    const lp = usdcUnits(o.lpLiquidity, "options.lpLiquidity");
    await approve(tokens.usdc.address, optionsPool, lp, "usdc.approve(OptionsPool)");
    await callStep(
      ctx,
      "optionsPool.deposit",
      optionsPool,
      encodeFunctionData({ abi: poolAbi, functionName: "deposit", args: [lp, 0n, deployer] }),
    );
  }

  // --- perp DEX -------------------------------------------------------------------------------
  log("perp DEX");
  const perpDex = await deployStep(ctx, "PerpDEX", await project("PerpDEX"), [
    tokens.usdc.address,
    router,
    deployer,
  ]);
  const perpAbi = await contractAbi("PerpDEX");
  for (const k of ASSET_KEYS) {
    await callStep(
      ctx,
      `perpDex.addMarket(${tokens[k].symbol})`,
      perpDex,
      encodeFunctionData({
        abi: perpAbi,
        functionName: "addMarket",
        args: [tokens[k].address, cfg.assets[k].perp],
      }),
    );
  }
  if (config.mode === "local") {
    const lp = usdcUnits(cfg.perp.lpLiquidity, "perp.lpLiquidity");
    await approve(tokens.usdc.address, perpDex, lp, "usdc.approve(PerpDEX)");
    await callStep(
      ctx,
      "perpDex.depositLiquidity",
      perpDex,
      encodeFunctionData({ abi: perpAbi, functionName: "depositLiquidity", args: [lp] }),
    );
  }

  // --- Uniswap V3 (published artifacts) -------------------------------------------------------
  log("Uniswap V3");
  const uni = uniswapV3Artifacts;
  const CORE = "@uniswap/v3-core";
  const PERIPHERY = "@uniswap/v3-periphery";
  const published = (pkg: string, a: UniswapArtifact, libraries?: Record<string, Address>): Deployable =>
    publishedContract({
      pkg,
      artifactPath: `artifacts/${a.sourceName}/${a.contractName}.json`,
      contractName: a.contractName,
      abi: a.abi,
      bytecode: libraries ? linkBytecode(a, libraries) : a.bytecode,
      ...(libraries ? { libraries } : {}),
    });
  const factory = await deployStep(ctx, "UniswapV3Factory", published(CORE, uni.factory), []);
  const swapRouter = await deployStep(ctx, "SwapRouter", published(PERIPHERY, uni.swapRouter), [
    factory,
    tokens.weth.address,
  ]);
  const nftDescriptor = await deployStep(
    ctx,
    "NFTDescriptor",
    published(PERIPHERY, uni.nftDescriptorLibrary),
    [],
  );
  const tokenDescriptor = await deployStep(
    ctx,
    "NonfungibleTokenPositionDescriptor",
    published(PERIPHERY, uni.tokenDescriptor, { NFTDescriptor: nftDescriptor }),
    [tokens.weth.address, stringToHex("ETH", { size: 32 })],
  );
  const positionManager = await deployStep(
    ctx,
    "NonfungiblePositionManager",
    published(PERIPHERY, uni.positionManager),
    [factory, tokens.weth.address, tokenDescriptor],
  );
  await deployStep(ctx, "QuoterV2", published(PERIPHERY, uni.quoterV2), [factory, tokens.weth.address]);
  if (config.mode === "local") {
    for (const k of ASSET_KEYS) {
      const base = tokens[k];
      const quote = tokens.usdc;
      const fee = cfg.uniswap.fee;
      const [token0, token1] = sortTokens(base.address, quote.address);
      const baseIsToken0 = token0 === base.address;
      const sqrtPriceX96 = sqrtPriceX96FromPrice({
        price: wad(cfg.assets[k].price, `${k} price`),
        baseDecimals: base.decimals,
        quoteDecimals: quote.decimals,
        baseIsToken0,
      });
      const poolName = `${base.symbol}${quote.symbol}Pool`;
      const pool = await createViaCallStep(
        ctx,
        poolName,
        {
          to: positionManager,
          data: encodeFunctionData({
            abi: positionManagerAbi,
            functionName: "createAndInitializePoolIfNecessary",
            args: [token0, token1, fee, sqrtPriceX96],
          }),
        },
        () =>
          client.readContract({
            address: factory,
            abi: factoryAbi,
            functionName: "getPool",
            args: [token0, token1, fee],
          }),
        published(CORE, uni.pool).verification("0x"),
      );
      const baseAmount = toUnits(cfg.assets[k].uniswap.baseAmount, base.decimals, `${k} uniswap.baseAmount`);
      const quoteAmount = toUnits(
        cfg.assets[k].uniswap.quoteAmount,
        quote.decimals,
        `${k} uniswap.quoteAmount`,
      );
      const [amount0, amount1] = baseIsToken0 ? [baseAmount, quoteAmount] : [quoteAmount, baseAmount];
      await approve(token0, positionManager, amount0, `${poolName}.approve(token0)`);
      await approve(token1, positionManager, amount1, `${poolName}.approve(token1)`);
      const mintKey = `${poolName}.mint`;
      const mintIdentity = identity("mint", pool, amount0, amount1, cfg.uniswap.rangePct);
      const alreadyMinted = ctx.state.steps[mintKey]?.status === "done";
      // Ticks and deadline come from the chain; the step's identity leaves them out.
      const ps = await readPoolState({ publicClient: client }, pool);
      const { tickLower, tickUpper } = tickRangeAroundTick({
        currentTick: ps.tick,
        tickSpacing: ps.tickSpacing,
        rangePct: cfg.uniswap.rangePct,
        baseIsToken0,
      });
      const deadline = (await client.getBlock()).timestamp + 3_600n;
      await callStep(
        ctx,
        mintKey,
        positionManager,
        encodeFunctionData({
          abi: positionManagerAbi,
          functionName: "mint",
          args: [
            {
              token0,
              token1,
              fee,
              tickLower,
              tickUpper,
              amount0Desired: amount0,
              amount1Desired: amount1,
              amount0Min: 0n,
              amount1Min: 0n,
              recipient: deployer,
              deadline,
            },
          ],
        }),
        { identity: mintIdentity },
      );
      if (!alreadyMinted) log(`  ${poolName}: liquidity in ticks [${tickLower}, ${tickUpper}]`);
    }
  }

  // --- core -----------------------------------------------------------------------------------
  log("core");
  const policy = await deployStep(ctx, "RiskPolicy", await project("RiskPolicy"), [
    deployer,
    globalLimits(cfg),
  ]);
  const policyAbi = await contractAbi("RiskPolicy");
  for (const k of ASSET_KEYS) {
    const limits = underlyingLimits(cfg.assets[k].limits);
    await callStep(
      ctx,
      `policy.setUnderlyingLimits(${tokens[k].symbol})`,
      policy,
      encodeFunctionData({
        abi: policyAbi,
        functionName: "setUnderlyingLimits",
        args: [tokens[k].address, limits],
      }),
    );
  }
  const ledger = await deployStep(ctx, "TreasuryLedger", await project("TreasuryLedger"), [
    deployer,
    accounts.treasurer,
  ]);
  const approvals = await deployStep(ctx, "HedgeApprovals", await project("HedgeApprovals"), [
    policy,
    deployer,
  ]);
  const vault = await deployStep(ctx, "TreasuryVault", await project("TreasuryVault"), [
    policy,
    router,
    ledger,
    approvals,
    tokens.usdc.address,
    ASSET_KEYS.map((k) => tokens[k].address),
    deployer,
  ]);
  await callStep(
    ctx,
    "approvals.bindVault",
    approvals,
    encodeFunctionData({
      abi: await contractAbi("HedgeApprovals"),
      functionName: "bindVault",
      args: [vault],
    }),
  );

  log("adapters");
  const adapters = {
    OptionsAMMAdapter: await deployStep(ctx, "OptionsAMMAdapter", await project("OptionsAMMAdapter"), [
      optionsAmm,
    ]),
    PerpDEXAdapter: await deployStep(ctx, "PerpDEXAdapter", await project("PerpDEXAdapter"), [perpDex]),
    UniswapV3SpotAdapter: await deployStep(
      ctx,
      "UniswapV3SpotAdapter",
      await project("UniswapV3SpotAdapter"),
      [swapRouter, router, tokens.usdc.address, cfg.uniswap.fee],
    ),
  };
  for (const [name, adapter] of Object.entries(adapters)) {
    await callStep(
      ctx,
      `policy.setVenueAllowed(${name})`,
      policy,
      encodeFunctionData({ abi: policyAbi, functionName: "setVenueAllowed", args: [adapter, true] }),
    );
  }

  // --- governance and guardian Safe -----------------------------------------------------------
  log("governance");
  const preset =
    governancePresets[config.governance.preset ?? (config.mode === "local" ? "local" : "testnet")];
  const dvToken = await deployStep(ctx, "DeltaVaultToken", await project("DeltaVaultToken"), [
    "DeltaVault Governance",
    "DVG",
    config.governance.tokenSupply,
    config.governance.initialHolder ?? deployer,
  ]);
  const timelock = await deployStep(ctx, "DeltaVaultTimelock", await project("DeltaVaultTimelock"), [
    BigInt(preset.timelockDelay),
    [],
    [zeroAddress],
    deployer,
  ]);
  await deployStep(ctx, "DeltaVaultGovernor", await project("DeltaVaultGovernor"), [
    dvToken,
    timelock,
    preset.votingDelay,
    preset.votingPeriod,
    preset.proposalThreshold,
    BigInt(preset.quorumPercent),
  ]);

  log("guardian Safe");
  const SAFE = "@safe-global/safe-contracts";
  const safeArtifact = (a: ReturnType<(typeof safeArtifacts)["safe"]>, file: string) =>
    publishedContract({
      pkg: SAFE,
      artifactPath: `build/artifacts/contracts/${file}`,
      contractName: a.contractName,
      abi: a.abi,
      bytecode: a.bytecode,
    });
  const singleton = await deployStep(
    ctx,
    "SafeSingleton",
    safe.l2
      ? safeArtifact(safeArtifacts.safeL2(), "SafeL2.sol/SafeL2.json")
      : safeArtifact(safeArtifacts.safe(), "Safe.sol/Safe.json"),
    [],
  );
  const proxyFactory = await deployStep(
    ctx,
    "SafeProxyFactory",
    safeArtifact(safeArtifacts.proxyFactory(), "proxies/SafeProxyFactory.sol/SafeProxyFactory.json"),
    [],
  );
  const fallbackHandler = await deployStep(
    ctx,
    "SafeFallbackHandler",
    safeArtifact(
      safeArtifacts.fallbackHandler(),
      "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
    ),
    [],
  );
  const initializer = encodeFunctionData({
    abi: safeAbi,
    functionName: "setup",
    args: [
      safe.owners,
      BigInt(safe.threshold),
      zeroAddress,
      "0x",
      fallbackHandler,
      zeroAddress,
      0n,
      zeroAddress,
    ],
  });
  await createViaCallStep(
    ctx,
    "GuardianSafe",
    {
      to: proxyFactory,
      data: encodeFunctionData({
        abi: safeProxyFactoryAbi,
        functionName: "createProxyWithNonce",
        args: [singleton, initializer, BigInt(safe.saltNonce)],
      }),
    },
    async (receipt) => {
      const created = parseEventLogs({
        abi: safeProxyFactoryAbi,
        eventName: "ProxyCreation",
        logs: receipt.logs,
      });
      const event = created.find((e) => isAddressEqual(e.address, proxyFactory));
      if (!event) throw new Error("createProxyWithNonce emitted no ProxyCreation event");
      return event.args.proxy;
    },
    {
      kind: "published",
      package: SAFE,
      version: packageVersion(SAFE),
      artifact: "build/artifacts/contracts/proxies/SafeProxy.sol/SafeProxy.json",
      contractName: "SafeProxy",
      constructorArgs: `0x${singleton.slice(2).toLowerCase().padStart(64, "0")}` as Hex,
    },
  );

  // --- roles ----------------------------------------------------------------------------------
  log("roles: grants");
  await wireRoles(ctx, deployer);

  log("roles: check");
  const report = await verifyRoles(client, state);
  state.roles = roleRows(state);
  state.complete = report.ok;
  save(ctx);
  if (!report.ok) {
    throw new Error(`deployment finished but the role check failed:\n${formatRoleReport(report)}`);
  }
  log(`done: ${ctx.counters.sent} transactions sent, ${ctx.counters.skipped} steps already done`);
  return { state, path, report, sent: ctx.counters.sent, skipped: ctx.counters.skipped };
}

/**
 * Grants every intended role that is not held yet (from the table), moves the Uniswap factory's
 * ownership to the Timelock, then renounces every role the deployer holds that the table does not
 * give it: DEFAULT_ADMIN_ROLE last per contract, the Timelock's last of all.
 */
async function wireRoles(ctx: StepContext, deployer: Address): Promise<void> {
  const { client, state } = ctx;
  const intended = intendedRoles(state);
  for (const r of intended) {
    if (r.roleId === null) {
      await ensureStep(
        ctx,
        `owner:${r.contract}->${r.holderName}`,
        async () =>
          isAddressEqual(
            await client.readContract({ address: r.address, abi: ownableAbi, functionName: "owner" }),
            r.holder,
          ),
        r.address,
        encodeFunctionData({ abi: ownableAbi, functionName: "setOwner", args: [r.holder] }),
      );
      continue;
    }
    const roleId = r.roleId;
    const held = () =>
      client.readContract({
        address: r.address,
        abi: accessControlAbi,
        functionName: "hasRole",
        args: [roleId, r.holder],
      });
    if (!(await held())) {
      const adminRole = await client.readContract({
        address: r.address,
        abi: accessControlAbi,
        functionName: "getRoleAdmin",
        args: [roleId],
      });
      const canGrant = await client.readContract({
        address: r.address,
        abi: accessControlAbi,
        functionName: "hasRole",
        args: [adminRole, deployer],
      });
      if (!canGrant) {
        throw new Error(
          `${r.contract}.${r.role} must be held by ${r.holderName} ${r.holder}, but the deployer no longer ` +
            `administers it: governance (the Timelock) has to grant it`,
        );
      }
    }
    await ensureStep(
      ctx,
      `grant:${r.contract}.${r.role}->${r.holderName}`,
      held,
      r.address,
      encodeFunctionData({ abi: accessControlAbi, functionName: "grantRole", args: [roleId, r.holder] }),
    );
  }

  ctx.log("roles: renounce");
  const contracts = [...new Set(intended.filter((r) => r.roleId !== null).map((r) => r.contract))].sort(
    (a, b) => Number(a === "DeltaVaultTimelock") - Number(b === "DeltaVaultTimelock"),
  );
  const candidateRoles = [
    ...new Set([
      "DEFAULT_ADMIN_ROLE",
      ...intended.map((r) => r.role).filter((r) => r !== "owner"),
      "ORACLE_ROLE",
      "MINTER_ROLE",
    ]),
  ];
  for (const contract of contracts) {
    const record = state.contracts[contract];
    if (!record) continue;
    const ordered = [...candidateRoles].sort(
      (a, b) => Number(a === "DEFAULT_ADMIN_ROLE") - Number(b === "DEFAULT_ADMIN_ROLE"),
    );
    for (const role of ordered) {
      const roleId = roleIdOf(role);
      const intendedForDeployer = intended.some(
        (r) => r.contract === contract && r.role === role && isAddressEqual(r.holder, deployer),
      );
      if (intendedForDeployer) continue;
      await ensureStep(
        ctx,
        `renounce:${contract}.${role}`,
        async () =>
          !(await client.readContract({
            address: record.address,
            abi: accessControlAbi,
            functionName: "hasRole",
            args: [roleId, deployer],
          })),
        record.address,
        encodeFunctionData({ abi: accessControlAbi, functionName: "renounceRole", args: [roleId, deployer] }),
      );
    }
  }
}
