/**
 * The governance layer: the DAO (DeltaVaultToken (ERC20Votes) + DeltaVaultGovernor (OpenZeppelin
 * Governor) + DeltaVaultTimelock (OpenZeppelin TimelockController)), the guardian Safe (Safe 1.4.1
 * deployed from the published `@safe-global/safe-contracts` build artifacts, bytecode as published)
 * and the handover that leaves the Timelock as the only holder of every governed role and the
 * guardian Safe as the only holder of GUARDIAN_ROLE on the vault.
 *
 * Every function is a function of explicit inputs (a hardhat-viem connection and typed parameters,
 * validated with zod); nothing is cached in module state.
 *
 * Clock: the token and therefore the Governor count time in seconds (EIP-6372 `mode=timestamp`), so
 * `votingDelay`, `votingPeriod` and `timelockDelay` are all seconds on every network.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { network } from "hardhat";
import {
  encodeFunctionData,
  getAddress,
  isAddressEqual,
  parseEventLogs,
  zeroAddress,
  type Abi,
  type Address,
  type Hash,
  type Hex,
} from "viem";
import { z } from "zod";
import {
  accessControlAbi,
  approvalsAbi,
  safeAbi,
  safeProxyFactoryAbi,
  timelockAbi,
  vaultGuardianAbi,
} from "../governance/abis.ts";

/** hardhat-viem helpers of a network connection. */
export type HardhatViem = Awaited<ReturnType<typeof network.connect>>["viem"];

const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/u, "expected a 20-byte hex address")
  .transform((a) => getAddress(a));

const seconds = (max: bigint, what: string) =>
  z
    .union([z.bigint(), z.number().int()])
    .transform((v) => BigInt(v))
    .refine((v) => v >= 0n && v <= max, `${what} must be 0..${max} seconds`);

// ---------------------------------------------------------------------------------------------
// DAO: token, timelock, governor
// ---------------------------------------------------------------------------------------------

const governanceParamsSchema = z.object({
  /** Seconds from proposal to snapshot / voting start (uint48). */
  votingDelay: seconds((1n << 48n) - 1n, "votingDelay"),
  /** Seconds voting stays open (uint32, > 0). */
  votingPeriod: seconds((1n << 32n) - 1n, "votingPeriod").refine((v) => v > 0n, "votingPeriod must be > 0"),
  /** Votes (token units, 18 decimals) needed to propose. */
  proposalThreshold: z.bigint().nonnegative(),
  /** Quorum as a whole percentage of the supply at the snapshot (For + Abstain count). */
  quorumPercent: z.number().int().min(0).max(100),
  /** Seconds between queueing and executing a passed proposal. */
  timelockDelay: seconds(365n * 86_400n, "timelockDelay"),
  /** Fixed supply (token units, 18 decimals), minted once to `initialHolder`. */
  tokenSupply: z.bigint().positive(),
  initialHolder: addressSchema,
  tokenName: z.string().min(1).default("DeltaVault Governance"),
  tokenSymbol: z.string().min(1).default("DVG"),
});

export type GovernanceParams = z.input<typeof governanceParamsSchema>;

/** Per-network governance settings (everything except the token's supply and holder). */
export type GovernancePreset = Pick<
  GovernanceParams,
  "votingDelay" | "votingPeriod" | "proposalThreshold" | "quorumPercent" | "timelockDelay"
>;

const WAD = 10n ** 18n;
const DAY = 86_400;

/**
 * Defaults per network kind. `local` is short enough for a demo on an embedded chain (time travel
 * still needed); `testnet` lets people actually vote; `mainnet` follows common DAO practice.
 */
export const governancePresets = {
  local: {
    votingDelay: 60,
    votingPeriod: 3_600,
    proposalThreshold: 0n,
    quorumPercent: 4,
    timelockDelay: 600,
  },
  testnet: {
    votingDelay: 300,
    votingPeriod: DAY,
    proposalThreshold: 1_000n * WAD,
    quorumPercent: 4,
    timelockDelay: 3_600,
  },
  mainnet: {
    votingDelay: DAY,
    votingPeriod: 5 * DAY,
    proposalThreshold: 100_000n * WAD,
    quorumPercent: 4,
    timelockDelay: 2 * DAY,
  },
} as const satisfies Record<string, GovernancePreset>;

export interface GovernanceDeployment {
  token: Address;
  timelock: Address;
  governor: Address;
}

/**
 * Deploys token, timelock and governor, makes the governor the timelock's only proposer and
 * canceller, lets anyone execute a ready operation (executor = address(0)), and renounces the
 * deployer's bootstrap admin role on the timelock (verified: afterwards the timelock administers
 * itself and nobody else holds a timelock role except as listed).
 */
export async function deployGovernance(
  viem: HardhatViem,
  params: GovernanceParams,
): Promise<GovernanceDeployment> {
  const p = governanceParamsSchema.parse(params);
  const publicClient = await viem.getPublicClient();
  const deployer = await deployerAddress(viem, "deployGovernance");
  const wait = waiter(publicClient, "deployGovernance");

  const token = await viem.deployContract("DeltaVaultToken", [
    p.tokenName,
    p.tokenSymbol,
    p.tokenSupply,
    p.initialHolder,
  ]);
  const timelock = await viem.deployContract("DeltaVaultTimelock", [
    p.timelockDelay,
    [],
    [zeroAddress],
    deployer,
  ]);
  const governor = await viem.deployContract("DeltaVaultGovernor", [
    token.address,
    timelock.address,
    Number(p.votingDelay),
    Number(p.votingPeriod),
    p.proposalThreshold,
    BigInt(p.quorumPercent),
  ]);

  const [adminRole, proposerRole, cancellerRole, executorRole] = await Promise.all([
    timelock.read.DEFAULT_ADMIN_ROLE(),
    timelock.read.PROPOSER_ROLE(),
    timelock.read.CANCELLER_ROLE(),
    timelock.read.EXECUTOR_ROLE(),
  ]);
  await wait(await timelock.write.grantRole([proposerRole, governor.address]));
  await wait(await timelock.write.grantRole([cancellerRole, governor.address]));
  await wait(await timelock.write.renounceRole([adminRole, deployer]));

  const checks: Array<[string, boolean]> = [
    ["deployer renounced timelock admin", !(await timelock.read.hasRole([adminRole, deployer]))],
    ["timelock administers itself", await timelock.read.hasRole([adminRole, timelock.address])],
    ["governor is proposer", await timelock.read.hasRole([proposerRole, governor.address])],
    ["governor is canceller", await timelock.read.hasRole([cancellerRole, governor.address])],
    ["anyone may execute", await timelock.read.hasRole([executorRole, zeroAddress])],
    ["deployer is not proposer", !(await timelock.read.hasRole([proposerRole, deployer]))],
    ["governor uses the timelock", isAddressEqual(await governor.read.timelock(), timelock.address)],
    ["governor uses the token", isAddressEqual(await governor.read.token(), token.address)],
  ];
  const failed = checks.filter(([, ok]) => !ok).map(([what]) => what);
  if (failed.length > 0) throw new Error(`deployGovernance: post-deploy checks failed: ${failed.join(", ")}`);

  return { token: token.address, timelock: timelock.address, governor: governor.address };
}

// ---------------------------------------------------------------------------------------------
// Guardian Safe (published Safe 1.4.1 artifacts)
// ---------------------------------------------------------------------------------------------

const SAFE_ARTIFACTS = "@safe-global/safe-contracts/build/artifacts/contracts";

const safeArtifactSchema = z.object({
  contractName: z.string(),
  abi: z.array(z.looseObject({ type: z.string() })),
  bytecode: z.string().regex(/^0x(?:[0-9a-fA-F]{2})+$/u, "expected linked creation bytecode"),
  linkReferences: z.record(z.string(), z.unknown()).refine((r) => Object.keys(r).length === 0, "unlinked"),
});

/** A published Safe artifact (bytecode as published, never recompiled). */
export interface SafeArtifact {
  contractName: string;
  abi: Abi;
  bytecode: Hex;
}

const requireFromHere = createRequire(import.meta.url);

/** Reads and validates one published Safe artifact, e.g. `Safe.sol/Safe.json`. */
export function loadSafeArtifact(relativePath: string): SafeArtifact {
  const file = requireFromHere.resolve(`${SAFE_ARTIFACTS}/${relativePath}`);
  const parsed = safeArtifactSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  return {
    contractName: parsed.contractName,
    abi: parsed.abi as unknown as Abi,
    bytecode: parsed.bytecode as Hex,
  };
}

/** The published artifacts the guardian Safe needs. */
export const safeArtifacts = {
  safe: () => loadSafeArtifact("Safe.sol/Safe.json"),
  safeL2: () => loadSafeArtifact("SafeL2.sol/SafeL2.json"),
  proxyFactory: () => loadSafeArtifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json"),
  fallbackHandler: () =>
    loadSafeArtifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"),
} as const;

export interface SafeInfrastructure {
  /** The Safe (or SafeL2) singleton every proxy delegates to. */
  singleton: Address;
  proxyFactory: Address;
  fallbackHandler: Address;
}

/**
 * Deploys the Safe singleton (SafeL2 with `l2: true`, which also emits a SafeMultiSigTransaction
 * event per transaction, as Safe recommends on L2s), the SafeProxyFactory and the
 * CompatibilityFallbackHandler. Deploy once per chain and pass the result to every `deploySafe`.
 */
export async function deploySafeInfrastructure(
  viem: HardhatViem,
  options: { l2?: boolean } = {},
): Promise<SafeInfrastructure> {
  const deploy = async (artifact: SafeArtifact): Promise<Address> => {
    const publicClient = await viem.getPublicClient();
    const [wallet] = await viem.getWalletClients();
    if (!wallet) throw new Error("deploySafeInfrastructure: no wallet client");
    const hash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args: [] });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) {
      throw new Error(`deploySafeInfrastructure: deploying ${artifact.contractName} failed (${hash})`);
    }
    return getAddress(receipt.contractAddress);
  };
  const singleton = await deploy(options.l2 === true ? safeArtifacts.safeL2() : safeArtifacts.safe());
  const proxyFactory = await deploy(safeArtifacts.proxyFactory());
  const fallbackHandler = await deploy(safeArtifacts.fallbackHandler());
  return { singleton, proxyFactory, fallbackHandler };
}

const deploySafeSchema = z
  .object({
    owners: z.array(addressSchema).min(1).max(50),
    threshold: z.number().int().positive(),
    /** CREATE2 salt nonce for the proxy (distinct Safes with the same owners need distinct nonces). */
    saltNonce: z.bigint().nonnegative().default(0n),
  })
  .refine((p) => new Set(p.owners).size === p.owners.length, "owners must be distinct")
  .refine((p) => p.threshold <= p.owners.length, "threshold must be <= number of owners")
  .refine((p) => !p.owners.includes(zeroAddress), "owner must not be the zero address");

export type DeploySafeParams = z.input<typeof deploySafeSchema> & {
  /** Reuse singleton/factory/handler; when omitted a fresh set is deployed first. */
  infrastructure?: SafeInfrastructure;
};

/**
 * Deploys an n-of-m Safe proxy: `createProxyWithNonce(singleton, setup(owners, threshold, to=0,
 * data=0x, fallbackHandler, paymentToken=0, payment=0, paymentReceiver=0), saltNonce)`, then checks
 * the proxy's owners, threshold and version. Returns the Safe's address.
 */
export async function deploySafe(viem: HardhatViem, params: DeploySafeParams): Promise<Address> {
  const p = deploySafeSchema.parse(params);
  const infra = params.infrastructure ?? (await deploySafeInfrastructure(viem));
  const publicClient = await viem.getPublicClient();
  const [wallet] = await viem.getWalletClients();
  if (!wallet) throw new Error("deploySafe: no wallet client");

  const initializer = encodeFunctionData({
    abi: safeAbi,
    functionName: "setup",
    args: [
      p.owners,
      BigInt(p.threshold),
      zeroAddress,
      "0x",
      infra.fallbackHandler,
      zeroAddress,
      0n,
      zeroAddress,
    ],
  });
  const hash = await wallet.writeContract({
    address: infra.proxyFactory,
    abi: safeProxyFactoryAbi,
    functionName: "createProxyWithNonce",
    args: [infra.singleton, initializer, p.saltNonce],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`deploySafe: createProxyWithNonce reverted (${hash})`);
  const created = parseEventLogs({
    abi: safeProxyFactoryAbi,
    eventName: "ProxyCreation",
    logs: receipt.logs,
  });
  const event = created.find((e) => isAddressEqual(e.address, infra.proxyFactory));
  if (!event) throw new Error("deploySafe: no ProxyCreation event");
  const safe = getAddress(event.args.proxy);

  const read = <F extends "getOwners" | "getThreshold" | "VERSION">(functionName: F) =>
    publicClient.readContract({ address: safe, abi: safeAbi, functionName });
  const [owners, threshold, version] = await Promise.all([
    read("getOwners"),
    read("getThreshold"),
    read("VERSION"),
  ]);
  const sameOwners =
    owners.length === p.owners.length && p.owners.every((o) => owners.some((x) => isAddressEqual(x, o)));
  if (!sameOwners || threshold !== BigInt(p.threshold) || version !== "1.4.1") {
    throw new Error(
      `deploySafe: Safe ${safe} is not as requested (owners ${owners.join(",")}, threshold ${threshold}, version ${version})`,
    );
  }
  return safe;
}

// ---------------------------------------------------------------------------------------------
// Handover
// ---------------------------------------------------------------------------------------------

const systemSchema = z.object({
  riskPolicy: addressSchema,
  vault: addressSchema,
  ledger: addressSchema,
  approvals: addressSchema,
  oracleRouter: addressSchema,
  optionsAmm: addressSchema.optional(),
  optionsPool: addressSchema.optional(),
  volatilitySurface: addressSchema.optional(),
  perpDex: addressSchema.optional(),
  /** ManagedPriceFeeds: DEFAULT_ADMIN_ROLE goes to the timelock; ORACLE_ROLE stays with its operator. */
  priceFeeds: z.array(addressSchema).default([]),
});

/** Addresses of the system contracts whose admin roles governance takes over. */
export type GovernedSystem = z.input<typeof systemSchema>;

const handoverSchema = z
  .object({ timelock: addressSchema, guardianSafe: addressSchema })
  .refine((p) => p.timelock !== p.guardianSafe, "the timelock and the guardian Safe must differ");
export type HandoverParams = z.input<typeof handoverSchema>;

/** Which roles (by the contracts' own role-constant getters) each contract hands to the timelock. */
export const governedRoles = {
  riskPolicy: ["GOVERNANCE_ROLE", "DEFAULT_ADMIN_ROLE"],
  vault: ["GOVERNANCE_ROLE", "DEFAULT_ADMIN_ROLE"],
  ledger: ["DEFAULT_ADMIN_ROLE"],
  approvals: ["DEFAULT_ADMIN_ROLE"],
  oracleRouter: ["ORACLE_ADMIN_ROLE", "DEFAULT_ADMIN_ROLE"],
  optionsAmm: ["PARAMS_ROLE", "LISTER_ROLE", "DEFAULT_ADMIN_ROLE"],
  optionsPool: ["POOL_ADMIN_ROLE", "DEFAULT_ADMIN_ROLE"],
  volatilitySurface: ["SURFACE_ADMIN_ROLE", "DEFAULT_ADMIN_ROLE"],
  perpDex: ["MARKET_ADMIN_ROLE", "DEFAULT_ADMIN_ROLE"],
  priceFeed: ["DEFAULT_ADMIN_ROLE"],
} as const;

/** One (contract, role, account) fact after the handover. */
export interface RoleAssignment {
  contract: string;
  address: Address;
  role: string;
  roleId: Hex;
  account: Address;
  holder: "timelock" | "guardianSafe" | "deployer";
  held: boolean;
}

/** The ABI of one `X_ROLE()` constant getter. */
function roleGetterAbi(name: string) {
  return [
    { type: "function", name, stateMutability: "view", inputs: [], outputs: [{ type: "bytes32", name: "" }] },
  ] as const;
}

/**
 * Grants the timelock every governed role (GOVERNANCE_ROLE + DEFAULT_ADMIN_ROLE on RiskPolicy and
 * the vault, DEFAULT_ADMIN_ROLE on ledger and approvals, the oracle router's and the venues' admin
 * roles), grants GUARDIAN_ROLE on the vault to the guardian Safe, then renounces every one of those
 * roles (and GUARDIAN_ROLE) held by the deployer, DEFAULT_ADMIN_ROLE last per contract. Verifies the
 * end state and returns it as a table. Idempotent: a role the timelock already holds is skipped.
 * Operational roles (KEEPER, TREASURER, PROPOSER, FINANCE, RISK, ORACLE) are left as they are.
 */
export async function handOverToGovernance(
  viem: HardhatViem,
  system: GovernedSystem,
  params: HandoverParams,
): Promise<RoleAssignment[]> {
  const s = systemSchema.parse(system);
  const { timelock, guardianSafe } = handoverSchema.parse(params);
  const publicClient = await viem.getPublicClient();
  const [wallet] = await viem.getWalletClients();
  if (!wallet) throw new Error("handOverToGovernance: no wallet client");
  const deployer = getAddress(wallet.account.address);
  const wait = waiter(publicClient, "handOverToGovernance");
  if (deployer === timelock || deployer === guardianSafe) {
    throw new Error("handOverToGovernance: the deployer must be neither the timelock nor the guardian Safe");
  }

  // The recipients must be what they claim to be (a typo would hand the protocol to nobody).
  try {
    await publicClient.readContract({ address: timelock, abi: timelockAbi, functionName: "getMinDelay" });
    await publicClient.readContract({ address: guardianSafe, abi: safeAbi, functionName: "getThreshold" });
  } catch (err) {
    throw new Error("handOverToGovernance: timelock must be a TimelockController and guardianSafe a Safe", {
      cause: err,
    });
  }

  // Wiring sanity: the vault must use exactly these satellites, and the approval queue must already
  // be bound (binding needs DEFAULT_ADMIN_ROLE, i.e. a governance vote after the handover).
  const vaultRead = <F extends "policy" | "oracle" | "ledger" | "approvals">(functionName: F) =>
    publicClient.readContract({ address: s.vault, abi: vaultGuardianAbi, functionName });
  const wiring: Array<[string, Address, Address]> = [
    ["vault.policy", await vaultRead("policy"), s.riskPolicy],
    ["vault.oracle", await vaultRead("oracle"), s.oracleRouter],
    ["vault.ledger", await vaultRead("ledger"), s.ledger],
    ["vault.approvals", await vaultRead("approvals"), s.approvals],
    [
      "approvals.vault",
      await publicClient.readContract({ address: s.approvals, abi: approvalsAbi, functionName: "vault" }),
      s.vault,
    ],
  ];
  for (const [what, actual, expected] of wiring) {
    if (!isAddressEqual(actual, expected)) {
      throw new Error(`handOverToGovernance: ${what} is ${actual}, expected ${expected}`);
    }
  }

  const targets: Array<{ contract: string; address: Address; roles: readonly string[] }> = [
    { contract: "RiskPolicy", address: s.riskPolicy, roles: governedRoles.riskPolicy },
    { contract: "TreasuryVault", address: s.vault, roles: governedRoles.vault },
    { contract: "TreasuryLedger", address: s.ledger, roles: governedRoles.ledger },
    { contract: "HedgeApprovals", address: s.approvals, roles: governedRoles.approvals },
    { contract: "OracleRouter", address: s.oracleRouter, roles: governedRoles.oracleRouter },
  ];
  if (s.optionsAmm)
    targets.push({ contract: "OptionsAMM", address: s.optionsAmm, roles: governedRoles.optionsAmm });
  if (s.optionsPool)
    targets.push({ contract: "OptionsPool", address: s.optionsPool, roles: governedRoles.optionsPool });
  if (s.volatilitySurface) {
    targets.push({
      contract: "VolatilitySurface",
      address: s.volatilitySurface,
      roles: governedRoles.volatilitySurface,
    });
  }
  if (s.perpDex) targets.push({ contract: "PerpDEX", address: s.perpDex, roles: governedRoles.perpDex });
  s.priceFeeds.forEach((feed, i) =>
    targets.push({ contract: `ManagedPriceFeed[${i}]`, address: feed, roles: governedRoles.priceFeed }),
  );

  const roleId = (address: Address, name: string): Promise<Hex> =>
    publicClient.readContract({ address, abi: roleGetterAbi(name), functionName: name });
  const hasRole = (address: Address, role: Hex, account: Address): Promise<boolean> =>
    publicClient.readContract({
      address,
      abi: accessControlAbi,
      functionName: "hasRole",
      args: [role, account],
    });
  const write = async (
    address: Address,
    functionName: "grantRole" | "renounceRole",
    role: Hex,
    account: Address,
  ): Promise<void> => {
    await wait(
      await wallet.writeContract({ address, abi: accessControlAbi, functionName, args: [role, account] }),
    );
  };

  // 1. Grants, all checked before the first is sent (and all sent before any renounce).
  const resolved: Array<{ contract: string; address: Address; roles: Array<{ name: string; id: Hex }> }> = [];
  const grants: Array<{ address: Address; id: Hex }> = [];
  for (const t of targets) {
    const roles = await Promise.all(
      t.roles.map(async (name) => ({ name, id: await roleId(t.address, name) })),
    );
    resolved.push({ contract: t.contract, address: t.address, roles });
    for (const role of roles) {
      if (await hasRole(t.address, role.id, timelock)) continue;
      const adminRole = await publicClient.readContract({
        address: t.address,
        abi: accessControlAbi,
        functionName: "getRoleAdmin",
        args: [role.id],
      });
      if (!(await hasRole(t.address, adminRole, deployer))) {
        throw new Error(
          `handOverToGovernance: cannot grant ${t.contract}.${role.name} to the timelock: the deployer ${deployer} is not its admin`,
        );
      }
      grants.push({ address: t.address, id: role.id });
    }
  }
  for (const g of grants) await write(g.address, "grantRole", g.id, timelock);
  const guardianRole = await roleId(s.vault, "GUARDIAN_ROLE");
  if (!(await hasRole(s.vault, guardianRole, guardianSafe))) {
    await write(s.vault, "grantRole", guardianRole, guardianSafe);
  }

  // 2. Renounces: the deployer keeps nothing governed; DEFAULT_ADMIN_ROLE goes last per contract.
  for (const t of resolved) {
    const roles = t.address === s.vault ? [{ name: "GUARDIAN_ROLE", id: guardianRole }, ...t.roles] : t.roles;
    const ordered = [...roles].sort(
      (a, b) => Number(a.name === "DEFAULT_ADMIN_ROLE") - Number(b.name === "DEFAULT_ADMIN_ROLE"),
    );
    for (const role of ordered) {
      if (await hasRole(t.address, role.id, deployer))
        await write(t.address, "renounceRole", role.id, deployer);
    }
  }

  // 3. Verify and report.
  const table: RoleAssignment[] = [];
  for (const t of resolved) {
    const roles = t.address === s.vault ? [...t.roles, { name: "GUARDIAN_ROLE", id: guardianRole }] : t.roles;
    for (const role of roles) {
      const holders: Array<[RoleAssignment["holder"], Address]> = [
        ["timelock", timelock],
        ["guardianSafe", guardianSafe],
        ["deployer", deployer],
      ];
      for (const [holder, account] of holders) {
        table.push({
          contract: t.contract,
          address: t.address,
          role: role.name,
          roleId: role.id,
          account,
          holder,
          held: await hasRole(t.address, role.id, account),
        });
      }
    }
  }
  const wrong = table.filter((r) => {
    const shouldHold = r.role === "GUARDIAN_ROLE" ? r.holder === "guardianSafe" : r.holder === "timelock";
    return r.held !== shouldHold;
  });
  if (wrong.length > 0) {
    const lines = wrong.map((r) => `${r.contract}.${r.role} ${r.holder}=${r.held}`);
    throw new Error(`handOverToGovernance: end state is wrong: ${lines.join("; ")}`);
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

async function deployerAddress(viem: HardhatViem, who: string): Promise<Address> {
  const [wallet] = await viem.getWalletClients();
  if (!wallet) throw new Error(`${who}: no wallet client`);
  return getAddress(wallet.account.address);
}

function waiter(publicClient: Awaited<ReturnType<HardhatViem["getPublicClient"]>>, who: string) {
  return async (hash: Hash): Promise<void> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${who}: transaction ${hash} reverted`);
  };
}
