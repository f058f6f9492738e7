import { beforeAll, describe, expect, it } from "vitest";
import { encodeFunctionData, getAddress, parseEventLogs, type Abi, type Hex } from "viem";
import { accessControlAbi, safeAbi, vaultGuardianAbi } from "../../../scripts/governance/abis.ts";
import { GovernanceError } from "../../../scripts/governance/errors.ts";
import {
  castVote,
  execute,
  propose,
  queue,
  type SigningWallet,
} from "../../../scripts/governance/governor.ts";
import { unpauseProposal } from "../../../scripts/governance/proposal.ts";
import {
  encodeSafeSignatures,
  guardianAction,
  guardianCalldata,
  plainSafeTx,
  safeExec,
  safeTxHash,
  signSafeTx,
  vaultMode,
  type SafeTx,
} from "../../../scripts/governance/safe.ts";
import { deploySafe } from "../../../scripts/deploy/governance.ts";
import {
  TIMELOCK_DELAY,
  VOTING_DELAY,
  VOTING_PERIOD,
  governedSystem,
  type GovernedSystemFixture,
  revertReader,
} from "./fixture.ts";

const decodeAbi: Abi = [...vaultGuardianAbi, ...accessControlAbi];

const revertOf = revertReader(decodeAbi);

async function governanceError(p: Promise<unknown>): Promise<GovernanceError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GovernanceError) return err;
    throw err;
  }
  throw new Error("expected a GovernanceError");
}

describe("guardian Safe (2-of-3, Safe 1.4.1 from the published artifacts)", () => {
  let f: GovernedSystemFixture;
  let chainId: number;
  beforeAll(async () => {
    f = await governedSystem();
    chainId = await f.publicClient.getChainId();
  });

  /** Sends execTransaction with exactly the given packed signatures (no helper checks). */
  const rawExec = (tx: SafeTx, signatures: Hex, sender: SigningWallet = f.wallets.outsider) =>
    sender.writeContract({
      address: f.safe,
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
        signatures,
      ],
    });
  const nonce = () => f.publicClient.readContract({ address: f.safe, abi: safeAbi, functionName: "nonce" });

  it("the deployed Safe is the published 1.4.1 with the requested owners and threshold", async () => {
    const read = <F extends "getOwners" | "getThreshold" | "VERSION">(functionName: F) =>
      f.publicClient.readContract({ address: f.safe, abi: safeAbi, functionName });
    expect(await read("VERSION")).toBe("1.4.1");
    expect(await read("getThreshold")).toBe(2n);
    expect([...(await read("getOwners"))].sort()).toEqual(
      f.owners.map((o) => getAddress(o.account.address)).sort(),
    );
    // The local EIP-712 SafeTx hash equals the Safe's own for arbitrary fields.
    const tx: SafeTx = {
      to: f.contracts.vault.address,
      value: 7n,
      data: "0xdeadbeef",
      operation: 1,
      safeTxGas: 11n,
      baseGas: 13n,
      gasPrice: 17n,
      gasToken: f.contracts.usdc.address,
      refundReceiver: f.wallets.outsider.account.address,
      nonce: 42n,
    };
    const onChain = await f.publicClient.readContract({
      address: f.safe,
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
    expect(safeTxHash(chainId, f.safe, tx)).toBe(onChain);
    await expect(
      deploySafe(f.viem, {
        owners: [f.wallets.ownerA.account.address],
        threshold: 2,
        infrastructure: f.safeInfra,
      }),
    ).rejects.toThrow(/threshold must be <= number of owners/);
  });

  it("one signature is not enough: the helper refuses, and the Safe itself reverts GS020", async () => {
    const data = guardianCalldata({ kind: "pause" });
    const one = await governanceError(
      guardianAction(f.publicClient, {
        safe: f.safe,
        owners: [f.wallets.ownerA],
        vault: f.contracts.vault.address,
        action: { kind: "pause" },
      }),
    );
    expect(one.code).toBe("threshold");
    expect(one.message).toMatch(/1 signature\(s\) given, Safe 0x[0-9a-fA-F]{40} needs 2 of 3/);
    const tx = plainSafeTx(f.contracts.vault.address, data, await nonce());
    const sig = await signSafeTx(f.wallets.ownerA, chainId, f.safe, tx);
    expect(await revertOf(rawExec(tx, encodeSafeSignatures([sig])))).toMatch(/GS020/);
    expect(await vaultMode(f.publicClient, f.contracts.vault.address)).toBe("Normal");
  });

  it("a non-owner's or a misordered pair of signatures is refused (GS026)", async () => {
    const tx = plainSafeTx(f.contracts.vault.address, guardianCalldata({ kind: "pause" }), await nonce());
    const outsiderSig = await signSafeTx(f.wallets.outsider, chainId, f.safe, tx);
    const a = await signSafeTx(f.wallets.ownerA, chainId, f.safe, tx);
    const b = await signSafeTx(f.wallets.ownerB, chainId, f.safe, tx);
    const notOwner = await governanceError(
      safeExec(f.publicClient, {
        safe: f.safe,
        owners: [f.wallets.ownerA, f.wallets.outsider],
        to: tx.to,
        data: tx.data,
      }),
    );
    expect(notOwner.code).toBe("not-owner");
    expect(await revertOf(rawExec(tx, encodeSafeSignatures([a, outsiderSig])))).toMatch(/GS026/);
    // Safe requires ascending owner order; the reverse order of a valid pair fails.
    const [lo, hi] = BigInt(a.signer) < BigInt(b.signer) ? [a, b] : [b, a];
    expect(await revertOf(rawExec(tx, `0x${hi.signature.slice(2)}${lo.signature.slice(2)}`))).toMatch(
      /GS026/,
    );
    expect(() => encodeSafeSignatures([a, a])).toThrow(/duplicate signature/);
    expect(await vaultMode(f.publicClient, f.contracts.vault.address)).toBe("Normal");
  });

  it("two owner signatures set reduce-only, then pause the vault; signatures cannot be replayed", async () => {
    const vault = f.contracts.vault.address;
    const ro = await guardianAction(f.publicClient, {
      safe: f.safe,
      owners: [f.wallets.ownerB, f.wallets.ownerC],
      vault,
      action: { kind: "reduceOnly" },
    });
    expect([ro.modeBefore, ro.modeAfter]).toEqual(["Normal", "ReduceOnly"]);

    const startNonce = await nonce();
    const tx = plainSafeTx(vault, guardianCalldata({ kind: "pause" }), startNonce);
    const sigs = [
      await signSafeTx(f.wallets.ownerC, chainId, f.safe, tx),
      await signSafeTx(f.wallets.ownerA, chainId, f.safe, tx),
    ];
    const packed = encodeSafeSignatures(sigs); // sorted by the helper whatever the input order
    // Anyone may submit a fully signed SafeTx (here: an account that is no owner).
    const hash = await rawExec(tx, packed);
    const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    expect(await f.contracts.vault.read.mode()).toBe(2); // Paused
    const [changed] = parseEventLogs({ abi: vaultGuardianAbi, eventName: "ModeChanged", logs: receipt.logs });
    expect(changed?.args).toEqual({ oldMode: 1, newMode: 2, by: getAddress(f.safe) });
    const [ok] = parseEventLogs({ abi: safeAbi, eventName: "ExecutionSuccess", logs: receipt.logs });
    expect(ok?.args.txHash).toBe(safeTxHash(chainId, f.safe, tx));
    expect(await nonce()).toBe(startNonce + 1n);
    // The same signatures again: the nonce moved, so they no longer verify.
    expect(await revertOf(rawExec(tx, packed))).toMatch(/GS026/);
    // Pausing a paused vault: the helper refuses; forced through the Safe it reverts (GS013).
    const again = await governanceError(
      guardianAction(f.publicClient, {
        safe: f.safe,
        owners: [f.wallets.ownerA, f.wallets.ownerB],
        vault,
        action: { kind: "pause" },
      }),
    );
    expect(again.message).toMatch(/is already Paused/);
    const forced = revertOf(
      safeExec(f.publicClient, {
        safe: f.safe,
        owners: [f.wallets.ownerA, f.wallets.ownerB],
        to: vault,
        data: tx.data,
        preflight: false,
      }),
    );
    expect(await forced).toMatch(/GS013/);
    expect(await nonce()).toBe(startNonce + 1n);
  });

  it("the Safe cannot unpause (AccessControl inside, GS013 outside); the vault stays paused", async () => {
    const vault = f.contracts.vault.address;
    const data = encodeFunctionData({ abi: vaultGuardianAbi, functionName: "unpause" });
    const refused = await governanceError(
      safeExec(f.publicClient, { safe: f.safe, owners: f.owners, to: vault, data }),
    );
    expect(refused.code).toBe("preflight");
    expect(refused.message).toMatch(
      /AccessControlUnauthorizedAccount\("0x[0-9a-fA-F]{40}", "0x[0-9a-f]{64}"\)/,
    );
    const before = await nonce();
    expect(
      await revertOf(
        safeExec(f.publicClient, { safe: f.safe, owners: f.owners, to: vault, data, preflight: false }),
      ),
    ).toMatch(/GS013/);
    expect(await nonce()).toBe(before);
    expect(await vaultMode(f.publicClient, vault)).toBe("Paused");
    // Nor can an owner's own account.
    expect(await revertOf(f.contracts.vault.write.unpause({ account: f.wallets.ownerA.account }))).toMatch(
      /^AccessControlUnauthorizedAccount\(/,
    );
  });

  it("emergency unwind reaches the vault as GUARDIAN (no perp venue registered → NotRegisteredPerpVenue)", async () => {
    const vault = f.contracts.vault.address;
    const action = {
      kind: "emergencyUnwind",
      adapter: f.wallets.outsider.account.address,
      underlying: f.contracts.weth.address,
      acceptablePrice: 0n,
      deadline: 2n ** 40n,
    } as const;
    const err = await governanceError(
      guardianAction(f.publicClient, {
        safe: f.safe,
        owners: [f.wallets.ownerA, f.wallets.ownerC],
        vault,
        action,
      }),
    );
    expect(err.code).toBe("preflight");
    expect(err.message).toContain(`NotRegisteredPerpVenue("${getAddress(action.adapter)}")`);
    // Without the role the same call fails on the role check instead.
    expect(
      await revertOf(
        f.contracts.vault.write.emergencyUnwind([action.adapter, action.underlying, 0n, action.deadline], {
          account: f.wallets.outsider.account,
        }),
      ),
    ).toMatch(/^AccessControlUnauthorizedAccount\(/);
  });

  it("a Safe without GUARDIAN_ROLE is refused by the helper and by the vault", async () => {
    const other = await deploySafe(f.viem, {
      owners: f.owners.map((o) => o.account.address),
      threshold: 2,
      saltNonce: 1n,
      infrastructure: f.safeInfra,
    });
    expect(other).not.toBe(f.safe);
    const err = await governanceError(
      guardianAction(f.publicClient, {
        safe: other,
        owners: [f.wallets.ownerA, f.wallets.ownerB],
        vault: f.contracts.vault.address,
        action: { kind: "reduceOnly" },
      }),
    );
    expect(err.code).toBe("role");
    expect(err.message).toMatch(/does not hold GUARDIAN_ROLE/);
  });

  it("only governance unpauses: a passed proposal returns the vault to Normal", async () => {
    const { publicClient, wallets, networkHelpers, dao } = f;
    const vault = f.contracts.vault.address;
    expect(await vaultMode(publicClient, vault)).toBe("Paused");
    const proposal = unpauseProposal(vault, "Incident closed.");
    const { proposalId } = await propose(publicClient, wallets.bigHolder, {
      governor: dao.governor,
      proposal,
    });
    await networkHelpers.time.increase(VOTING_DELAY + 1);
    await castVote(publicClient, wallets.bigHolder, { governor: dao.governor, proposalId, support: "for" });
    await networkHelpers.time.increase(VOTING_PERIOD);
    await queue(publicClient, wallets.outsider, { governor: dao.governor, proposal });
    expect(await vaultMode(publicClient, vault)).toBe("Paused");
    await networkHelpers.time.increase(TIMELOCK_DELAY);
    const { hash } = await execute(publicClient, wallets.outsider, { governor: dao.governor, proposal });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    const [changed] = parseEventLogs({ abi: vaultGuardianAbi, eventName: "ModeChanged", logs: receipt.logs });
    expect(changed?.args).toEqual({ oldMode: 2, newMode: 0, by: getAddress(dao.timelock) });
    expect(await vaultMode(publicClient, vault)).toBe("Normal");
    // And the guardian can stop it again at once.
    const res = await guardianAction(publicClient, {
      safe: f.safe,
      owners: [f.wallets.ownerA, f.wallets.ownerB],
      vault,
      action: { kind: "pause" },
    });
    expect(res.modeAfter).toBe("Paused");
  });
});
