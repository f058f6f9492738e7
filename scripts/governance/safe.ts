/**
 * Driving a Safe (1.4.1) with viem exactly as Safe specifies: the EIP-712 `SafeTx` typed data under
 * the Safe's domain {chainId, verifyingContract}, one ECDSA signature per owner over it (v = 27/28),
 * signatures sorted by owner address ascending and concatenated as 65-byte r‖s‖v, then
 * `execTransaction`. The locally computed hash is checked against the Safe's own
 * `getTransactionHash` before anyone signs.
 *
 * `guardianAction` is the guardian's use of it: pause, reduce-only or emergency unwind on the vault.
 */
import {
  concatHex,
  encodeFunctionData,
  getAddress,
  hashTypedData,
  isAddressEqual,
  parseEventLogs,
  recoverTypedDataAddress,
  zeroAddress,
  type Abi,
  type Address,
  type Hash,
  type Hex,
} from "viem";
import {
  accessControlAbi,
  governorAbi,
  riskPolicyAbi,
  safeAbi,
  timelockAbi,
  vaultGuardianAbi,
} from "./abis.ts";
import { GovernanceError, describeRevert } from "./errors.ts";
import type { SigningWallet } from "./governor.ts";
import type { AnyPublicClient } from "./proposal.ts";

/** The SafeTx struct (Safe 1.4.1). */
export interface SafeTx {
  to: Address;
  value: bigint;
  data: Hex;
  /** 0 = CALL, 1 = DELEGATECALL. */
  operation: 0 | 1;
  safeTxGas: bigint;
  baseGas: bigint;
  gasPrice: bigint;
  gasToken: Address;
  refundReceiver: Address;
  nonce: bigint;
}

/** EIP-712 types of SafeTx, field order as in Safe.sol's SAFE_TX_TYPEHASH. */
export const SAFE_TX_TYPES = {
  SafeTx: [
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "data", type: "bytes" },
    { name: "operation", type: "uint8" },
    { name: "safeTxGas", type: "uint256" },
    { name: "baseGas", type: "uint256" },
    { name: "gasPrice", type: "uint256" },
    { name: "gasToken", type: "address" },
    { name: "refundReceiver", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

/** The full typed-data definition of `tx` for the Safe at `safe` on `chainId`. */
export function safeTxTypedData(chainId: number, safe: Address, tx: SafeTx) {
  return {
    domain: { chainId, verifyingContract: getAddress(safe) },
    types: SAFE_TX_TYPES,
    primaryType: "SafeTx",
    message: tx,
  } as const;
}

/** The SafeTx hash (what owners sign and what `getTransactionHash` returns). */
export function safeTxHash(chainId: number, safe: Address, tx: SafeTx): Hash {
  return hashTypedData(safeTxTypedData(chainId, safe, tx));
}

/** A plain CALL with no gas refund (the only kind the guardian needs), at `nonce`. */
export function plainSafeTx(to: Address, data: Hex, nonce: bigint, value = 0n): SafeTx {
  return {
    to: getAddress(to),
    value,
    data,
    operation: 0,
    safeTxGas: 0n,
    baseGas: 0n,
    gasPrice: 0n,
    gasToken: zeroAddress,
    refundReceiver: zeroAddress,
    nonce,
  };
}

export interface OwnerSignature {
  signer: Address;
  signature: Hex;
}

/** One owner's EIP-712 signature of `tx` (checked by recovering the signer). */
export async function signSafeTx(
  wallet: SigningWallet,
  chainId: number,
  safe: Address,
  tx: SafeTx,
): Promise<OwnerSignature> {
  const typed = safeTxTypedData(chainId, safe, tx);
  const signature = await wallet.signTypedData({ account: wallet.account, ...typed });
  const recovered = await recoverTypedDataAddress({ ...typed, signature });
  const signer = getAddress(wallet.account.address);
  if (!isAddressEqual(recovered, signer)) {
    throw new GovernanceError(
      "not-owner",
      `signature recovers to ${recovered}, not the signing account ${signer}`,
    );
  }
  return { signer, signature };
}

/** Signatures sorted by signer ascending and concatenated (Safe's `checkNSignatures` format). */
export function encodeSafeSignatures(signatures: readonly OwnerSignature[]): Hex {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (prev && cur && isAddressEqual(prev.signer, cur.signer)) {
      throw new GovernanceError("threshold", `duplicate signature by ${cur.signer}`);
    }
  }
  for (const s of sorted) {
    if (!/^0x[0-9a-fA-F]{130}$/u.test(s.signature)) {
      throw new GovernanceError("threshold", `signature of ${s.signer} is not 65 bytes`);
    }
  }
  return sorted.length === 0 ? "0x" : concatHex(sorted.map((s) => s.signature));
}

export interface SafeExecParams {
  safe: Address;
  /** Owners' wallets; each signs the SafeTx. */
  owners: readonly SigningWallet[];
  to: Address;
  data: Hex;
  value?: bigint;
  /** Who sends execTransaction (any account; default the first owner). */
  submitter?: SigningWallet;
  /** Simulate the inner call from the Safe first and refuse with its decoded revert (default true). */
  preflight?: boolean;
  /** Extra ABI items to decode inner reverts with. */
  errorsAbi?: Abi;
}

export interface SafeExecResult {
  hash: Hash;
  safeTxHash: Hash;
  nonce: bigint;
  signers: Address[];
}

const innerErrorsAbi: Abi = [
  ...vaultGuardianAbi,
  ...accessControlAbi,
  ...riskPolicyAbi,
  ...governorAbi,
  ...timelockAbi,
];

/**
 * Has every wallet in `owners` sign the call as a SafeTx at the Safe's current nonce and executes it.
 * Refuses before signing when a wallet is not an owner, when there are fewer signers than the
 * threshold, when the local hash differs from the Safe's, or (preflight) when the call would revert.
 */
export async function safeExec(
  publicClient: AnyPublicClient,
  params: SafeExecParams,
): Promise<SafeExecResult> {
  const safe = getAddress(params.safe);
  const read = <F extends "getOwners" | "getThreshold" | "nonce">(functionName: F) =>
    publicClient.readContract({ address: safe, abi: safeAbi, functionName });
  const [owners, threshold, nonce, chainId] = await Promise.all([
    read("getOwners"),
    read("getThreshold"),
    read("nonce"),
    publicClient.getChainId(),
  ]);

  const signers = params.owners.map((w) => getAddress(w.account.address));
  for (const s of signers) {
    if (!owners.some((o) => isAddressEqual(o, s))) {
      throw new GovernanceError(
        "not-owner",
        `${s} is not an owner of Safe ${safe} (owners: ${owners.join(", ")})`,
      );
    }
  }
  if (new Set(signers).size !== signers.length)
    throw new GovernanceError("threshold", "the same owner is listed twice");
  if (BigInt(signers.length) < threshold) {
    throw new GovernanceError(
      "threshold",
      `${signers.length} signature(s) given, Safe ${safe} needs ${threshold} of ${owners.length}`,
    );
  }

  const tx = plainSafeTx(params.to, params.data, nonce, params.value ?? 0n);
  const localHash = safeTxHash(chainId, safe, tx);
  const onChainHash = await publicClient.readContract({
    address: safe,
    abi: safeAbi,
    functionName: "getTransactionHash",
    args: [
      tx.to,
      tx.value,
      tx.data,
      tx.operation,
      tx.safeTxGas,
      tx.baseGas,
      tx.gasPrice,
      tx.gasToken,
      tx.refundReceiver,
      tx.nonce,
    ],
  });
  if (localHash !== onChainHash) {
    throw new GovernanceError("hash-mismatch", `local SafeTx hash ${localHash} != Safe's ${onChainHash}`);
  }

  const errorsAbi: Abi = [...innerErrorsAbi, ...(params.errorsAbi ?? [])];
  if (params.preflight !== false) {
    try {
      await publicClient.call({ account: safe, to: tx.to, data: tx.data, value: tx.value });
    } catch (err) {
      throw new GovernanceError(
        "preflight",
        `the Safe's call to ${tx.to} would revert: ${describeRevert(err, errorsAbi)}`,
        {
          cause: err,
        },
      );
    }
  }

  const signatures = await Promise.all(params.owners.map((w) => signSafeTx(w, chainId, safe, tx)));
  const packed = encodeSafeSignatures(signatures);
  const submitter = params.submitter ?? params.owners[0];
  if (!submitter) throw new GovernanceError("threshold", "no owner wallets given");

  let hash: Hash;
  try {
    hash = await submitter.writeContract({
      address: safe,
      abi: safeAbi,
      functionName: "execTransaction",
      args: [
        tx.to,
        tx.value,
        tx.data,
        tx.operation,
        tx.safeTxGas,
        tx.baseGas,
        tx.gasPrice,
        tx.gasToken,
        tx.refundReceiver,
        packed,
      ],
    });
  } catch (err) {
    throw new GovernanceError("reverted", `execTransaction would revert: ${describeRevert(err, errorsAbi)}`, {
      cause: err,
    });
  }
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new GovernanceError("reverted", `execTransaction ${hash} reverted`);
  const ok = parseEventLogs({ abi: safeAbi, eventName: "ExecutionSuccess", logs: receipt.logs }).some(
    (e) => isAddressEqual(e.address, safe) && e.args.txHash === localHash,
  );
  if (!ok)
    throw new GovernanceError("reverted", `Safe ${safe} reported no ExecutionSuccess for ${localHash}`);
  return { hash, safeTxHash: localHash, nonce, signers };
}

// ---------------------------------------------------------------------------------------------
// Guardian actions on the vault
// ---------------------------------------------------------------------------------------------

/** TreasuryVault.Mode, in enum order. */
export const VAULT_MODES = ["Normal", "ReduceOnly", "Paused"] as const;
export type VaultMode = (typeof VAULT_MODES)[number];

export type GuardianAction =
  | { kind: "pause" }
  | { kind: "reduceOnly" }
  | {
      kind: "emergencyUnwind";
      adapter: Address;
      underlying: Address;
      acceptablePrice: bigint;
      deadline: bigint;
    };

/** Calldata of a guardian action on TreasuryVault. */
export function guardianCalldata(action: GuardianAction): Hex {
  switch (action.kind) {
    case "pause":
      return encodeFunctionData({ abi: vaultGuardianAbi, functionName: "pause" });
    case "reduceOnly":
      return encodeFunctionData({ abi: vaultGuardianAbi, functionName: "setReduceOnly" });
    case "emergencyUnwind":
      return encodeFunctionData({
        abi: vaultGuardianAbi,
        functionName: "emergencyUnwind",
        args: [
          getAddress(action.adapter),
          getAddress(action.underlying),
          action.acceptablePrice,
          action.deadline,
        ],
      });
  }
}

export async function vaultMode(publicClient: AnyPublicClient, vault: Address): Promise<VaultMode> {
  const m = await publicClient.readContract({ address: vault, abi: vaultGuardianAbi, functionName: "mode" });
  const mode = VAULT_MODES[m];
  if (mode === undefined) throw new GovernanceError("state", `vault ${vault} reports unknown mode ${m}`);
  return mode;
}

/**
 * The guardian Safe pauses the vault, sets it reduce-only, or unwinds a perp position, with the
 * owners' signatures. Refuses when the Safe does not hold GUARDIAN_ROLE or the vault is already in
 * the requested mode; returns the mode before and after.
 */
export async function guardianAction(
  publicClient: AnyPublicClient,
  params: Omit<SafeExecParams, "to" | "data" | "value"> & { vault: Address; action: GuardianAction },
): Promise<SafeExecResult & { modeBefore: VaultMode; modeAfter: VaultMode }> {
  const vault = getAddress(params.vault);
  const safe = getAddress(params.safe);
  const guardianRole = await publicClient.readContract({
    address: vault,
    abi: vaultGuardianAbi,
    functionName: "GUARDIAN_ROLE",
  });
  const isGuardian = await publicClient.readContract({
    address: vault,
    abi: accessControlAbi,
    functionName: "hasRole",
    args: [guardianRole, safe],
  });
  if (!isGuardian)
    throw new GovernanceError("role", `Safe ${safe} does not hold GUARDIAN_ROLE on vault ${vault}`);
  const modeBefore = await vaultMode(publicClient, vault);
  const wanted: Partial<Record<GuardianAction["kind"], VaultMode>> = {
    pause: "Paused",
    reduceOnly: "ReduceOnly",
  };
  if (wanted[params.action.kind] === modeBefore) {
    throw new GovernanceError("state", `vault ${vault} is already ${modeBefore}`);
  }
  const result = await safeExec(publicClient, {
    ...params,
    safe,
    to: vault,
    data: guardianCalldata(params.action),
  });
  return { ...result, modeBefore, modeAfter: await vaultMode(publicClient, vault) };
}
