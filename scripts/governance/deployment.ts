/**
 * What the operator commands (propose / governance / guardian) need from a deployment made by
 * `npm run deploy -- --network <name>`: the addresses from deployments/<name>.json, checked against
 * the chain the network points at (same chain id, same genesis block, code at the Governor), the
 * proposer account, the Governor's proposals (from its ProposalCreated events) and the Safe owners'
 * keys available on this machine.
 */
import {
  createWalletClient,
  custom,
  getAbiItem,
  getAddress,
  isAddressEqual,
  keccak256,
  parseAbi,
  stringToHex,
  type Address,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { CommandEnv } from "../deploy/commands.ts";
import type { HardhatViem } from "../deploy/options.ts";
import { isLocalNetwork } from "../deploy/pipeline.ts";
import { readState, statePath, type DeploymentState } from "../deploy/state.ts";
import { governorAbi, safeAbi } from "./abis.ts";
import { GovernanceError } from "./errors.ts";
import type { SigningWallet } from "./governor.ts";
import type { AssetSymbol } from "./limits.ts";
import type { AnyPublicClient, GovernorProposal } from "./proposal.ts";

/** Environment variable with the Safe owners' private keys (comma-separated; never printed). */
export const SAFE_OWNER_KEYS_ENV = "DELTAVAULT_SAFE_OWNER_KEYS";

/** A refusal of the command line itself; `exitCode` 2 for usage / input errors, 1 otherwise. */
export class CliError extends Error {
  readonly exitCode: 1 | 2;

  constructor(exitCode: 1 | 2, message: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** The operator commands' environment: the deploy commands' one plus environment variables. */
export interface OperatorEnv extends Omit<CommandEnv, "artifacts" | "networkName"> {
  vars: Readonly<Record<string, string | undefined>>;
}

/** Contracts the operator commands use, by their name in deployments/<network>.json. */
const REQUIRED = [
  "RiskPolicy",
  "TreasuryVault",
  "DeltaVaultToken",
  "DeltaVaultTimelock",
  "DeltaVaultGovernor",
  "GuardianSafe",
] as const;

export interface Deployment {
  network: string;
  local: boolean;
  path: string;
  state: DeploymentState;
  viem: HardhatViem;
  publicClient: AnyPublicClient;
  chainId: number;
  policy: Address;
  vault: Address;
  token: Address;
  timelock: Address;
  governor: Address;
  safe: Address;
  /** Block of the Governor's deployment (where the proposal scan starts). */
  governorBlock: bigint;
  underlyings: Partial<Record<AssetSymbol, Address>>;
}

/** Loads deployments/<network>.json and checks it against the chain; refuses with "run deploy first". */
export async function loadDeployment(env: OperatorEnv, network: string): Promise<Deployment> {
  const net = env.networks[network];
  if (!net) {
    throw new CliError(
      2,
      `network "${network}" is not configured in hardhat.config.ts (configured: ${Object.keys(env.networks).join(", ")})`,
    );
  }
  const path = statePath(env.dir, network);
  const deployFirst = `run npm run deploy -- --network ${network} first`;
  const state = readState(path);
  if (!state)
    throw new CliError(1, `no deployment for network ${network}: ${deployFirst} (${path} is missing)`);
  if (!state.complete) {
    throw new CliError(
      1,
      `no deployment for network ${network}: ${deployFirst} (${path} records an incomplete deployment)`,
    );
  }
  const missing = REQUIRED.filter((name) => state.contracts[name] === undefined);
  if (missing.length > 0) {
    throw new CliError(
      1,
      `no deployment for network ${network}: ${deployFirst} (${path} has no ${missing.join(", ")})`,
    );
  }
  const at = (name: (typeof REQUIRED)[number]): Address => {
    const record = state.contracts[name];
    if (!record) throw new CliError(1, `${path} has no ${name}`);
    return record.address;
  };

  const viem = await env.connect(network);
  const publicClient: AnyPublicClient = await viem.getPublicClient();
  const chainId = await publicClient.getChainId();
  if (chainId !== state.chainId) {
    throw new CliError(
      1,
      `no deployment for network ${network} on this chain: ${path} is for chain ${state.chainId}, the network is chain ${chainId}; ${deployFirst}`,
    );
  }
  const genesis = await publicClient.getBlock({ blockNumber: 0n });
  if (genesis.hash !== state.genesisHash) {
    throw new CliError(
      1,
      `no deployment for network ${network} on this chain: ${path} was made on another chain instance (genesis ${state.genesisHash}, the node's is ${genesis.hash}); ${deployFirst}`,
    );
  }
  const governor = at("DeltaVaultGovernor");
  const code = await publicClient.getCode({ address: governor });
  if (code === undefined || code === "0x") {
    throw new CliError(
      1,
      `no deployment for network ${network}: no code at the Governor ${governor}; ${deployFirst}`,
    );
  }

  const underlyings: Partial<Record<AssetSymbol, Address>> = {};
  for (const asset of ["WETH", "WBTC"] as const) {
    const a = state.contracts[asset]?.address ?? state.external[asset];
    if (a !== undefined) underlyings[asset] = a;
  }
  return {
    network,
    local: isLocalNetwork(net),
    path,
    state,
    viem,
    publicClient,
    chainId,
    policy: at("RiskPolicy"),
    vault: at("TreasuryVault"),
    token: at("DeltaVaultToken"),
    timelock: at("DeltaVaultTimelock"),
    governor,
    safe: at("GuardianSafe"),
    governorBlock: BigInt(state.contracts.DeltaVaultGovernor?.blockNumber ?? 0),
    underlyings,
  };
}

/** The account that proposes, votes, queues and executes: the network's first wallet. */
export async function operatorWallet(d: Deployment): Promise<SigningWallet> {
  const [first] = await d.viem.getWalletClients();
  if (!first) {
    throw new CliError(
      1,
      `network ${d.network} has no account to send from (set the network's accounts in hardhat.config.ts)`,
    );
  }
  return first;
}

// ---------------------------------------------------------------------------------------------
// Voting power
// ---------------------------------------------------------------------------------------------

/** ERC20Votes surface of DeltaVaultToken the commands use. */
export const votesTokenAbi = parseAbi([
  "function balanceOf(address account) view returns (uint256)",
  "function delegates(address account) view returns (address)",
  "function delegate(address delegatee)",
]);

/** How long to wait for the block after a delegation before proposing. */
const NEXT_BLOCK_WAIT_MS = 60_000;

/**
 * Delegates `wallet`'s own DVG to itself when it holds DVG and has never delegated (ERC20Votes counts
 * only delegated balances). Returns the amount delegated (0 when nothing was done).
 */
export async function selfDelegateIfNeeded(d: Deployment, wallet: SigningWallet): Promise<bigint> {
  const account = getAddress(wallet.account.address);
  const [delegatee, balance] = await Promise.all([
    d.publicClient.readContract({
      address: d.token,
      abi: votesTokenAbi,
      functionName: "delegates",
      args: [account],
    }),
    d.publicClient.readContract({
      address: d.token,
      abi: votesTokenAbi,
      functionName: "balanceOf",
      args: [account],
    }),
  ]);
  if (balance === 0n || !/^0x0{40}$/u.test(delegatee)) return 0n;
  const hash = await wallet.writeContract({
    address: d.token,
    abi: votesTokenAbi,
    functionName: "delegate",
    args: [account],
  });
  const receipt = await d.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success")
    throw new GovernanceError("reverted", `delegate: transaction ${hash} reverted`);
  // The Governor counts votes strictly before the current clock: with a proposal threshold, the
  // delegation must be in an earlier block than the proposal's (real networks: the next block).
  const threshold = await d.publicClient.readContract({
    address: d.governor,
    abi: governorAbi,
    functionName: "proposalThreshold",
  });
  if (threshold > 0n) {
    const deadline = Date.now() + NEXT_BLOCK_WAIT_MS;
    while ((await d.publicClient.getBlockNumber()) <= receipt.blockNumber) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  return balance;
}

// ---------------------------------------------------------------------------------------------
// Proposals on the Governor
// ---------------------------------------------------------------------------------------------

export interface RecordedProposal {
  proposalId: bigint;
  proposal: GovernorProposal;
  proposer: Address;
  blockNumber: bigint;
}

const proposalCreated = getAbiItem({ abi: governorAbi, name: "ProposalCreated" });
/** Blocks per eth_getLogs request (public RPCs cap the range). */
const LOG_CHUNK = 10_000n;

/** Every proposal made on the deployment's Governor, oldest first (from ProposalCreated events). */
export async function listProposals(d: Deployment): Promise<RecordedProposal[]> {
  const latest = await d.publicClient.getBlockNumber();
  const out: RecordedProposal[] = [];
  for (let from = d.governorBlock; from <= latest; from += LOG_CHUNK) {
    const to = from + LOG_CHUNK - 1n < latest ? from + LOG_CHUNK - 1n : latest;
    const logs = await d.publicClient.getLogs({
      address: d.governor,
      event: proposalCreated,
      fromBlock: from,
      toBlock: to,
    });
    for (const log of logs) {
      const { proposalId, proposer, targets, values, calldatas, description } = log.args;
      if (
        proposalId === undefined ||
        proposer === undefined ||
        targets === undefined ||
        values === undefined ||
        calldatas === undefined ||
        description === undefined
      )
        continue;
      out.push({
        proposalId,
        proposer,
        blockNumber: log.blockNumber ?? 0n,
        proposal: {
          targets: [...targets],
          values: [...values],
          calldatas: [...calldatas],
          description,
          descriptionHash: keccak256(stringToHex(description)),
        },
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Safe owners' keys
// ---------------------------------------------------------------------------------------------

export type SignerSource = typeof SAFE_OWNER_KEYS_ENV | "network account";

export interface SafeSigners {
  owners: Address[];
  threshold: bigint;
  /** Owners whose key is available here, in the Safe's owner order. */
  available: Address[];
  /** `threshold` wallets that will sign. */
  wallets: SigningWallet[];
  /** Who signs and where the key comes from (for the operator; never key material). */
  signers: Array<{ address: Address; source: SignerSource }>;
  /** Notes for the operator (keys given that are not owners); never contain key material. */
  notes: string[];
}

const PRIVATE_KEY_RE = /^(?:0x)?[0-9a-fA-F]{64}$/u;

/**
 * The Safe owners that can sign here: the network's wallets that are owners (on a local node the
 * deployment's owners, wallets 6, 7, 8) and the keys in DELTAVAULT_SAFE_OWNER_KEYS. `only` restricts
 * the signers to those addresses. Refuses when fewer than the threshold are available.
 */
export async function safeSigners(
  d: Deployment,
  vars: OperatorEnv["vars"],
  only?: readonly Address[],
): Promise<SafeSigners> {
  const [owners, threshold] = await Promise.all([
    d.publicClient.readContract({ address: d.safe, abi: safeAbi, functionName: "getOwners" }),
    d.publicClient.readContract({ address: d.safe, abi: safeAbi, functionName: "getThreshold" }),
  ]);
  const chain = d.publicClient.chain;
  if (!chain) throw new CliError(1, `network ${d.network} has no chain definition`);

  const notes: string[] = [];
  // Keys from the environment first (an operator's explicit choice), then the network's accounts.
  const candidates: Array<{ wallet: SigningWallet; source: SignerSource }> = [];
  const raw = vars[SAFE_OWNER_KEYS_ENV] ?? "";
  const keys = raw
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  for (const [i, key] of keys.entries()) {
    if (!PRIVATE_KEY_RE.test(key)) {
      throw new CliError(2, `${SAFE_OWNER_KEYS_ENV} entry ${i + 1} is not a 32-byte hex private key`);
    }
    const account = privateKeyToAccount((key.startsWith("0x") ? key : `0x${key}`) as `0x${string}`);
    if (!owners.some((o) => isAddressEqual(o, account.address))) {
      notes.push(
        `${SAFE_OWNER_KEYS_ENV} entry ${i + 1} (${account.address}) is not an owner of the Safe: ignored`,
      );
      continue;
    }
    candidates.push({
      wallet: createWalletClient({ account, chain, transport: custom(d.publicClient) }),
      source: SAFE_OWNER_KEYS_ENV,
    });
  }
  for (const wallet of await d.viem.getWalletClients())
    candidates.push({ wallet, source: "network account" });

  const byOwner = new Map<Address, { wallet: SigningWallet; source: SignerSource }>();
  for (const c of candidates) {
    const a = getAddress(c.wallet.account.address);
    if (owners.some((o) => isAddressEqual(o, a)) && !byOwner.has(a)) byOwner.set(a, c);
  }
  if (only !== undefined) {
    for (const a of only) {
      if (!owners.some((o) => isAddressEqual(o, a))) {
        throw new CliError(
          2,
          `--signers: ${a} is not an owner of Safe ${d.safe} (owners: ${owners.join(", ")})`,
        );
      }
      if (!byOwner.has(getAddress(a))) throw new CliError(1, `--signers: no key for owner ${a} here`);
    }
  }
  const available = owners
    .map((o) => getAddress(o))
    .filter((o) => byOwner.has(o) && (only === undefined || only.some((a) => isAddressEqual(a, o))));
  if (BigInt(available.length) < threshold) {
    const have = available.length === 0 ? "none" : available.join(", ");
    throw new CliError(
      1,
      `the guardian Safe ${d.safe} needs ${threshold} of ${owners.length} owner signatures, ` +
        `only ${available.length} owner key(s) available here (${have}): ` +
        `set ${SAFE_OWNER_KEYS_ENV} to the other owners' private keys (comma-separated)`,
    );
  }
  const chosen = available.slice(0, Number(threshold)).flatMap((a) => {
    const c = byOwner.get(a);
    return c ? [{ address: a, source: c.source, wallet: c.wallet }] : [];
  });
  return {
    owners: [...owners],
    threshold,
    available,
    wallets: chosen.map((c) => c.wallet),
    signers: chosen.map(({ address, source }) => ({ address, source })),
    notes,
  };
}
