/**
 * Deploys the reference perpetual DEX (contracts/venues/perp/PerpDEX.sol, which is also its USDC LP
 * pool and LP share token), lists the given markets, then hands every role to `admin` (the Timelock
 * in production) and renounces the deployer's roles when `admin` is someone else.
 *
 * Everything is a function of explicit inputs (a hardhat-viem connection and typed parameters);
 * inputs are validated with zod. Market parameters use the contract's units: sizes in underlying
 * WAD, ratios WAD, fees in bps, quote amounts in USDC WAD (1e18 = 1 USDC).
 */
import type { network } from "hardhat";
import { getAddress, type Address, type Hash } from "viem";
import { z } from "zod";

/** hardhat-viem helpers of a network connection. */
export type HardhatViem = Awaited<ReturnType<typeof network.connect>>["viem"];

const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/u, "expected a 20-byte hex address")
  .transform((a) => getAddress(a));

const uint = (bits: number) =>
  z
    .bigint()
    .nonnegative()
    .max((1n << BigInt(bits)) - 1n, `must fit in uint${bits}`);

/** PerpDEX.MarketParams (the contract enforces the hard sanity bounds and reverts outside them). */
export const perpMarketParamsSchema = z.object({
  skewScale: uint(128),
  maxOpenInterest: uint(128),
  maxFundingRatePerDay: uint(64),
  maintenanceMarginRatio: uint(64),
  liquidationFeeRatio: uint(64),
  makerFeeBps: z.number().int().min(0).max(65_535),
  takerFeeBps: z.number().int().min(0).max(65_535),
  paused: z.boolean(),
  maxLeverage: uint(96),
  minLiquidationFee: uint(128),
});

export type PerpMarketParams = z.infer<typeof perpMarketParamsSchema>;

const deployPerpSchema = z.object({
  usdc: addressSchema,
  router: addressSchema,
  admin: addressSchema,
  /** LP withdrawals keep back this WAD fraction of the open skew notional (default 0). */
  reserveRatio: z.bigint().nonnegative().optional(),
  markets: z
    .array(z.object({ underlying: addressSchema, params: perpMarketParamsSchema }))
    .min(1)
    .max(16),
});

export type DeployPerpParams = z.input<typeof deployPerpSchema>;

export interface PerpDeployment {
  /** PerpDEX: markets, positions, LP pool and LP share token (one contract holds all USDC). */
  perpDex: Address;
}

const WAD = 10n ** 18n;

/** Sensible defaults for a WETH market (USD 3000-ish, ~1M ETH premium scale). */
export const defaultWethPerpParams: PerpMarketParams = {
  skewScale: 1_000_000n * WAD,
  maxOpenInterest: 100_000n * WAD,
  maxFundingRatePerDay: WAD / 100n, // 1%/day at full skew
  maintenanceMarginRatio: (2n * WAD) / 100n, // 2%
  liquidationFeeRatio: (5n * WAD) / 1000n, // 0.5%
  makerFeeBps: 2,
  takerFeeBps: 5,
  paused: false,
  maxLeverage: 20n * WAD,
  minLiquidationFee: 5n * WAD, // 5 USDC
};

/** Sensible defaults for a WBTC market. */
export const defaultWbtcPerpParams: PerpMarketParams = {
  ...defaultWethPerpParams,
  skewScale: 50_000n * WAD,
  maxOpenInterest: 5_000n * WAD,
};

/** Deploys PerpDEX, lists the markets and hands over the roles; returns the address. */
export async function deployPerp(viem: HardhatViem, params: DeployPerpParams): Promise<PerpDeployment> {
  const p = deployPerpSchema.parse(params);
  const publicClient = await viem.getPublicClient();
  const [wallet] = await viem.getWalletClients();
  if (!wallet) throw new Error("deployPerp: no wallet client");
  const deployer = getAddress(wallet.account.address);
  const wait = async (hash: Hash): Promise<void> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`deployPerp: transaction ${hash} reverted`);
  };

  const dex = await viem.deployContract("PerpDEX", [p.usdc, p.router, deployer]);
  for (const m of p.markets) {
    await wait(await dex.write.addMarket([m.underlying, m.params]));
  }
  if (p.reserveRatio !== undefined && p.reserveRatio !== 0n) {
    await wait(await dex.write.setReserveRatio([p.reserveRatio]));
  }

  if (p.admin !== deployer) {
    const roles = [await dex.read.DEFAULT_ADMIN_ROLE(), await dex.read.MARKET_ADMIN_ROLE()];
    for (const role of roles) await wait(await dex.write.grantRole([role, p.admin]));
    // Renounce DEFAULT_ADMIN_ROLE last.
    for (const role of [...roles].reverse()) await wait(await dex.write.renounceRole([role, deployer]));
  }

  return { perpDex: dex.address };
}
