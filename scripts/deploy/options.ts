/**
 * Deploys the reference options venue: VolatilitySurface, OptionsPool (USDC LP pool) and
 * OptionsAMM, wires the pool to the AMM, enables the underlyings, then hands every role to `admin`
 * (the Timelock in production) and renounces the deployer's roles when `admin` is someone else.
 *
 * Everything is a function of explicit inputs (a hardhat-viem connection and typed parameters);
 * inputs are validated with zod.
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

const deployOptionsSchema = z.object({
  usdc: addressSchema,
  router: addressSchema,
  admin: addressSchema,
  underlyings: z
    .array(
      z.object({
        token: addressSchema,
        /** Bound on |pool net option delta| in this underlying, WAD units of the underlying. */
        maxNetDelta: z.bigint().nonnegative(),
      }),
    )
    .min(1)
    .max(4),
});

export type DeployOptionsParams = z.input<typeof deployOptionsSchema>;

export interface OptionsDeployment {
  surface: Address;
  pool: Address;
  amm: Address;
}

/** Deploys and wires the options venue; returns the three addresses. */
export async function deployOptions(
  viem: HardhatViem,
  params: DeployOptionsParams,
): Promise<OptionsDeployment> {
  const p = deployOptionsSchema.parse(params);
  const publicClient = await viem.getPublicClient();
  const [wallet] = await viem.getWalletClients();
  if (!wallet) throw new Error("deployOptions: no wallet client");
  const deployer = getAddress(wallet.account.address);
  const wait = async (hash: Hash): Promise<void> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`deployOptions: transaction ${hash} reverted`);
  };

  const surface = await viem.deployContract("VolatilitySurface", [deployer]);
  const pool = await viem.deployContract("OptionsPool", [p.usdc, p.router, deployer]);
  const amm = await viem.deployContract("OptionsAMM", [
    p.usdc,
    pool.address,
    surface.address,
    p.router,
    deployer,
  ]);
  await wait(await pool.write.setAmm([amm.address]));
  for (const u of p.underlyings) {
    await wait(await amm.write.configureUnderlying([u.token, u.maxNetDelta]));
  }

  if (p.admin !== deployer) {
    const surfaceRoles = [await surface.read.DEFAULT_ADMIN_ROLE(), await surface.read.SURFACE_ADMIN_ROLE()];
    const poolRoles = [await pool.read.DEFAULT_ADMIN_ROLE(), await pool.read.POOL_ADMIN_ROLE()];
    const ammRoles = [
      await amm.read.DEFAULT_ADMIN_ROLE(),
      await amm.read.PARAMS_ROLE(),
      await amm.read.LISTER_ROLE(),
    ];
    // Grant everything first, renounce DEFAULT_ADMIN_ROLE last (index 0 of each list).
    for (const role of surfaceRoles) await wait(await surface.write.grantRole([role, p.admin]));
    for (const role of poolRoles) await wait(await pool.write.grantRole([role, p.admin]));
    for (const role of ammRoles) await wait(await amm.write.grantRole([role, p.admin]));
    for (const role of [...surfaceRoles].reverse())
      await wait(await surface.write.renounceRole([role, deployer]));
    for (const role of [...poolRoles].reverse()) await wait(await pool.write.renounceRole([role, deployer]));
    for (const role of [...ammRoles].reverse()) await wait(await amm.write.renounceRole([role, deployer]));
  }

  return { surface: surface.address, pool: pool.address, amm: amm.address };
}
