/**
 * The step runner of the deployment pipeline. Every transaction is a named step recorded in the
 * state file (deployments/<network>.json) together with what it sent (a hash of the deploy data or
 * target + calldata), its tx hash and block:
 *
 * - a deploy step is skipped when the file records the contract AND the chain has code there;
 * - a call step is skipped when the file records it with the same inputs AND the chain has its
 *   successful receipt;
 * - an "ensure" step (role grants, renounces, ownership) is skipped when the chain state already is
 *   what it would make it;
 * - a step recorded as pending (sent, crash before its receipt) is adopted if the chain knows the
 *   transaction, re-sent otherwise.
 *
 * The file is rewritten atomically after every transaction, so a re-run after a crash resumes where
 * it stopped and a re-run of a complete deployment sends nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import type { ArtifactManager } from "hardhat/types/artifacts";
import {
  concat,
  encodeDeployData,
  getAddress,
  keccak256,
  toHex,
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
import { z } from "zod";
import {
  toJsonValue,
  writeJsonAtomic,
  writeState,
  type ContractRecord,
  type DeploymentState,
  type Verification,
} from "./state.ts";

export type Wallet = WalletClient<Transport, Chain, Account>;
export type Public = PublicClient<Transport, Chain>;

/** Progress events; a test hook may throw from one to simulate a crash at that point. */
export type StepEvent = { key: string; phase: "before-send" | "sent" };

export interface StepContext {
  state: DeploymentState;
  /** Path of deployments/<network>.json. */
  path: string;
  /** Directory of the state file (verification inputs go under <dir>/<network>/verify). */
  dir: string;
  client: Public;
  wallet: Wallet;
  artifacts: ArtifactManager;
  log: (line: string) => void;
  onStep?: (event: StepEvent) => void;
  /** Transactions sent by this run, and recorded steps skipped because the chain has them. */
  counters: { sent: number; skipped: number };
}

export function save(ctx: StepContext): void {
  writeState(ctx.path, ctx.state);
}

/** viem errors: the short message plus the node's details (which name the custom error). */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const short =
    "shortMessage" in err && typeof err.shortMessage === "string" ? err.shortMessage : err.message;
  const details = "details" in err && typeof err.details === "string" ? err.details : "";
  return details && !short.includes(details) ? `${short} (${details})` : short;
}

async function hasCode(client: Public, address: Address): Promise<boolean> {
  const code = await client.getCode({ address });
  return code !== undefined && code !== "0x";
}

async function receiptOf(client: Public, hash: Hash): Promise<TransactionReceipt | undefined> {
  try {
    return await client.getTransactionReceipt({ hash });
  } catch {
    return undefined;
  }
}

async function knownTransaction(client: Public, hash: Hash): Promise<boolean> {
  try {
    await client.getTransaction({ hash });
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends one transaction for step `key` (or adopts a pending one with the same inputs), records it
 * pending as soon as the hash is known and done once the receipt is successful.
 */
async function send(
  ctx: StepContext,
  key: string,
  inputsHash: Hash,
  tx: { to?: Address; data: Hex },
): Promise<TransactionReceipt> {
  const prev = ctx.state.steps[key];
  let hash: Hash | undefined;
  if (
    prev?.status === "pending" &&
    prev.inputsHash === inputsHash &&
    (await knownTransaction(ctx.client, prev.txHash))
  ) {
    ctx.log(`  ${key}: adopting pending transaction ${prev.txHash}`);
    hash = prev.txHash;
  }
  if (hash === undefined) {
    ctx.onStep?.({ key, phase: "before-send" });
    try {
      hash = await ctx.wallet.sendTransaction({ to: tx.to ?? null, data: tx.data });
    } catch (err) {
      throw new Error(`step ${key} failed: ${errorMessage(err)}`, { cause: err });
    }
    ctx.counters.sent += 1;
    ctx.state.steps[key] = { status: "pending", txHash: hash, inputsHash };
    save(ctx);
    ctx.onStep?.({ key, phase: "sent" });
  }
  const receipt = await ctx.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`step ${key} reverted (tx ${hash})`);
  ctx.state.steps[key] = {
    status: "done",
    txHash: hash,
    inputsHash,
    blockNumber: Number(receipt.blockNumber),
  };
  save(ctx);
  return receipt;
}

// ---------------------------------------------------------------------------------------------
// Artifacts and verification data
// ---------------------------------------------------------------------------------------------

const buildInfoSchema = z.object({
  solcLongVersion: z.string(),
  input: z.looseObject({ language: z.string(), sources: z.record(z.string(), z.unknown()) }),
});

/** A contract to deploy: ABI, creation code and how to verify it. */
export interface Deployable {
  abi: Abi;
  bytecode: Hex;
  /** Builds the verification record for ABI-encoded constructor args. */
  verification: (constructorArgs: Hex) => Verification;
}

/**
 * A contract of this project: artifact from Hardhat, verification data pointing at the build's
 * standard JSON input, written (once per build) to <dir>/<network>/verify/<buildInfoId>.input.json.
 */
export async function projectContract(ctx: StepContext, artifactName: string): Promise<Deployable> {
  const artifact = await ctx.artifacts.readArtifact(artifactName);
  if (Object.keys(artifact.linkReferences).length > 0)
    throw new Error(`${artifactName} needs linked libraries`);
  const buildInfoId = artifact.buildInfoId;
  const inputSourceName = artifact.inputSourceName ?? artifact.sourceName;
  if (buildInfoId === undefined)
    throw new Error(`artifact ${artifactName} has no buildInfoId (rebuild the project)`);
  const buildInfoPath = await ctx.artifacts.getBuildInfoPath(buildInfoId);
  if (buildInfoPath === undefined) throw new Error(`build info ${buildInfoId} of ${artifactName} is missing`);
  const buildInfo = buildInfoSchema.parse(JSON.parse(readFileSync(buildInfoPath, "utf8")));
  const inputFile = join(ctx.dir, ctx.state.network, "verify", `${buildInfoId}.input.json`);
  if (!existsSync(inputFile)) writeJsonAtomic(inputFile, buildInfo.input);
  const standardJsonInput = relative(ctx.dir, inputFile);
  return {
    abi: artifact.abi as Abi,
    bytecode: artifact.bytecode as Hex,
    verification: (constructorArgs) => ({
      kind: "project",
      sourceName: artifact.sourceName,
      inputSourceName,
      contractName: artifact.contractName,
      fullyQualifiedName: `${inputSourceName}:${artifact.contractName}`,
      compilerVersion: `v${buildInfo.solcLongVersion}`,
      buildInfoId,
      standardJsonInput,
      constructorArgs,
    }),
  };
}

const requireFromHere = createRequire(import.meta.url);
const packageJsonSchema = z.object({ version: z.string() });

/** Version of an installed npm package. */
export function packageVersion(pkg: string): string {
  return packageJsonSchema.parse(
    JSON.parse(readFileSync(requireFromHere.resolve(`${pkg}/package.json`), "utf8")),
  ).version;
}

/** A contract deployed from a published npm artifact (bytecode as published, already linked). */
export function publishedContract(params: {
  pkg: string;
  artifactPath: string;
  contractName: string;
  abi: Abi;
  bytecode: Hex;
  libraries?: Record<string, Address>;
}): Deployable {
  const version = packageVersion(params.pkg);
  return {
    abi: params.abi,
    bytecode: params.bytecode,
    verification: (constructorArgs) => ({
      kind: "published",
      package: params.pkg,
      version,
      artifact: params.artifactPath,
      contractName: params.contractName,
      constructorArgs,
      ...(params.libraries ? { libraries: params.libraries } : {}),
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

/** Deploys `contract` as `name` unless the state file records it and the chain has its code. */
export async function deployStep(
  ctx: StepContext,
  name: string,
  contract: Deployable,
  args: readonly unknown[],
): Promise<Address> {
  const key = `deploy:${name}`;
  const data = encodeDeployData({ abi: contract.abi, bytecode: contract.bytecode, args });
  const inputsHash = keccak256(data);
  const record = ctx.state.contracts[name];
  const step = ctx.state.steps[key];
  if (record && step?.status === "done") {
    if (await hasCode(ctx.client, record.address)) {
      if (step.inputsHash !== inputsHash) {
        ctx.log(
          `  ${name}: deployed at ${record.address} from other code or arguments than now; kept (delete its entry to redeploy)`,
        );
      }
      ctx.counters.skipped += 1;
      return record.address;
    }
    ctx.log(`  ${name}: recorded at ${record.address} but the chain has no code there; deploying again`);
  }
  const receipt = await send(ctx, key, inputsHash, { data });
  if (!receipt.contractAddress) throw new Error(`step ${key}: no contract address in the receipt`);
  const address = getAddress(receipt.contractAddress);
  const constructorArgs: Hex = `0x${data.slice(contract.bytecode.length)}`;
  const entry: ContractRecord = {
    address,
    blockNumber: Number(receipt.blockNumber),
    txHash: receipt.transactionHash,
    constructorArgs: args.map(toJsonValue),
    verification: contract.verification(constructorArgs),
  };
  ctx.state.contracts[name] = entry;
  save(ctx);
  ctx.log(`  deployed ${name} at ${address}`);
  return address;
}

export interface CallOptions {
  /**
   * What identifies the call for idempotency when the calldata carries run-dependent values (a
   * deadline, a tick read from the chain). Defaults to the calldata.
   */
  identity?: Hex;
}

/**
 * Sends `data` to `to` unless the state file records step `key` with the same inputs and the chain
 * has its successful receipt. Returns the receipt when it sent (or adopted) one, else undefined.
 */
export async function callStep(
  ctx: StepContext,
  key: string,
  to: Address,
  data: Hex,
  options: CallOptions = {},
): Promise<TransactionReceipt | undefined> {
  const inputsHash = keccak256(concat([to, options.identity ?? data]));
  const step = ctx.state.steps[key];
  if (step?.status === "done" && step.inputsHash === inputsHash) {
    const receipt = await receiptOf(ctx.client, step.txHash);
    if (receipt?.status === "success") {
      ctx.counters.skipped += 1;
      return undefined;
    }
    ctx.log(`  ${key}: recorded tx ${step.txHash} is not on this chain; sending again`);
  }
  return send(ctx, key, inputsHash, { to, data });
}

/** Sends `data` to `to` unless `satisfied()` reads from the chain that it is not needed. */
export async function ensureStep(
  ctx: StepContext,
  key: string,
  satisfied: () => Promise<boolean>,
  to: Address,
  data: Hex,
): Promise<void> {
  const step = ctx.state.steps[key];
  if (await satisfied()) {
    if (step?.status === "pending") {
      // Crashed after sending: the transaction made it; record its receipt.
      const receipt = await receiptOf(ctx.client, step.txHash);
      if (receipt?.status === "success") {
        ctx.state.steps[key] = { ...step, status: "done", blockNumber: Number(receipt.blockNumber) };
      } else delete ctx.state.steps[key];
      save(ctx);
    }
    if (ctx.state.steps[key]?.status === "done") ctx.counters.skipped += 1;
    return;
  }
  await send(ctx, key, keccak256(concat([to, data])), { to, data });
  if (!(await satisfied()))
    throw new Error(`step ${key}: sent, but the chain state is still not as intended`);
}

/**
 * A contract created by a factory call (Uniswap pool, Safe proxy): the call is step `create:<name>`,
 * the address comes from `addressOf` (reading the receipt or the chain) and is recorded as `name`.
 */
export async function createViaCallStep(
  ctx: StepContext,
  name: string,
  call: { to: Address; data: Hex; identity?: Hex },
  addressOf: (receipt: TransactionReceipt) => Promise<Address>,
  verification: Verification,
): Promise<Address> {
  const key = `create:${name}`;
  const record = ctx.state.contracts[name];
  const step = ctx.state.steps[key];
  const inputsHash = keccak256(concat([call.to, call.identity ?? call.data]));
  if (record && step?.status === "done" && (await hasCode(ctx.client, record.address))) {
    ctx.counters.skipped += 1;
    return record.address;
  }
  const receipt = await send(ctx, key, inputsHash, call);
  const address = getAddress(await addressOf(receipt));
  ctx.state.contracts[name] = {
    address,
    blockNumber: Number(receipt.blockNumber),
    txHash: receipt.transactionHash,
    constructorArgs: [],
    verification,
  };
  save(ctx);
  ctx.log(`  created ${name} at ${address}`);
  return address;
}

/** A short, stable identity for calls whose calldata is not (see CallOptions.identity). */
export function identity(...parts: Array<string | number | bigint | boolean>): Hex {
  return keccak256(toHex(parts.map(String).join("|")));
}
