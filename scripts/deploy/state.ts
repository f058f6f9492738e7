/**
 * The deployment state file, deployments/<network>.json: what the pipeline has done on one network
 * (every transaction step with its hash and block, every contract with its address, constructor
 * arguments and verification data, the role table) so that a re-run skips what exists and a run
 * that crashed resumes. Validated with zod when read; written atomically (temp file + rename).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { getAddress, type Address, type Hash, type Hex } from "viem";
import { z } from "zod";

export const STATE_FORMAT = "deltavault-deployment/1";

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/u, "expected a 20-byte hex address")
  .transform((a): Address => getAddress(a));
const hash = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/u, "expected a 32-byte hex hash")
  .transform((h) => h as Hash);
const hex = z
  .string()
  .regex(/^0x(?:[0-9a-fA-F]{2})*$/u, "expected 0x-prefixed hex bytes")
  .transform((h) => h as Hex);

/** JSON form of ABI values: bigints become decimal strings. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

/** Verification data of a contract compiled from this project's sources. */
const projectVerificationSchema = z.object({
  kind: z.literal("project"),
  /** Source name as in the project ("contracts/core/RiskPolicy.sol"). */
  sourceName: z.string(),
  /** Source name in the compiler input ("project/contracts/core/RiskPolicy.sol"). */
  inputSourceName: z.string(),
  contractName: z.string(),
  /** `<inputSourceName>:<contractName>`, what block explorers call the contract name. */
  fullyQualifiedName: z.string(),
  /** Long solc version, e.g. "v0.8.28+commit.7893614a". */
  compilerVersion: z.string(),
  buildInfoId: z.string(),
  /** Standard JSON input, relative to the repository root (deduplicated per build). */
  standardJsonInput: z.string(),
  /** ABI-encoded constructor arguments. */
  constructorArgs: hex,
});

/** Contracts deployed from published npm artifacts (Uniswap V3, Safe): bytecode as published. */
const publishedVerificationSchema = z.object({
  kind: z.literal("published"),
  package: z.string(),
  version: z.string(),
  /** Artifact path inside the package. */
  artifact: z.string(),
  contractName: z.string(),
  constructorArgs: hex,
  libraries: z.record(z.string(), address).optional(),
});

export const verificationSchema = z.discriminatedUnion("kind", [
  projectVerificationSchema,
  publishedVerificationSchema,
]);
export type Verification = z.infer<typeof verificationSchema>;

export const contractRecordSchema = z.object({
  address,
  blockNumber: z.number().int().nonnegative(),
  txHash: hash,
  /** Constructor arguments (bigints as decimal strings); [] for contracts created by a factory call. */
  constructorArgs: z.array(jsonValue),
  verification: verificationSchema,
});
export type ContractRecord = z.infer<typeof contractRecordSchema>;

export const stepRecordSchema = z.object({
  status: z.enum(["pending", "done"]),
  txHash: hash,
  blockNumber: z.number().int().nonnegative().optional(),
  /** keccak256 of what the step sent (deploy data or target + calldata); a change re-runs a call step. */
  inputsHash: hash,
  /** Values the step produced (e.g. an address from an event), kept for a re-run that skips it. */
  result: z.record(z.string(), z.string()).optional(),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const roleRowSchema = z.object({
  contract: z.string(),
  role: z.string(),
  holder: address,
  holderName: z.string(),
});
export type RoleRow = z.infer<typeof roleRowSchema>;

export const deploymentStateSchema = z.object({
  format: z.literal(STATE_FORMAT),
  network: z.string(),
  chainId: z.number().int().positive(),
  /** Hash of block 0: a different value means the chain was reset (local node restarted). */
  genesisHash: hash,
  /** local: test tokens and managed feeds are deployed; external: existing tokens and feeds are used. */
  mode: z.enum(["local", "external"]),
  /** Block timestamp of the first run; option expiries are derived from it so re-runs send the same data. */
  anchorTimestamp: z.number().int().nonnegative(),
  complete: z.boolean(),
  updatedAt: z.string(),
  deployer: address,
  /** Named accounts (holder names of the role table that are EOAs / external accounts). */
  accounts: z.record(z.string(), address),
  safe: z.object({ owners: z.array(address), threshold: z.number().int().positive() }).optional(),
  /** Existing contracts the deployment uses but did not deploy (external mode). */
  external: z.record(z.string(), address),
  contracts: z.record(z.string(), contractRecordSchema),
  steps: z.record(z.string(), stepRecordSchema),
  roles: z.array(roleRowSchema),
});
export type DeploymentState = z.infer<typeof deploymentStateSchema>;

/** deployments/<network>.json under `dir`. */
export function statePath(dir: string, network: string): string {
  if (!/^[A-Za-z0-9_.-]+$/u.test(network)) throw new Error(`invalid network name "${network}"`);
  return join(dir, `${network}.json`);
}

/** Reads and validates a state file; undefined when there is none. */
export function readState(path: string): DeploymentState | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path} is not valid JSON`, { cause: err });
  }
  const parsed = deploymentStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`${path} is not a deployment state file: ${issues.join("; ")}`);
  }
  return parsed.data;
}

/** Writes JSON atomically: a temp file next to `path`, then rename over it. */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

export function writeState(path: string, state: DeploymentState): void {
  writeJsonAtomic(path, { ...state, updatedAt: new Date().toISOString() });
}

/** ABI values (bigints, nested arrays/structs) as JSON values. */
export function toJsonValue(value: unknown): JsonValue {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  }
  throw new Error(`cannot represent ${typeof value} as JSON`);
}
