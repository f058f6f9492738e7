import { describe, expect, it } from "vitest";
import { artifacts } from "hardhat";
import type { Abi, AbiParameter } from "viem";
import { formatAbiItem } from "viem/utils";
import {
  accessControlAbi,
  approvalsAbi,
  governorAbi,
  riskPolicyAbi,
  safeAbi,
  safeProxyFactoryAbi,
  timelockAbi,
  vaultGuardianAbi,
} from "../../../scripts/governance/abis.ts";
import { safeArtifacts } from "../../../scripts/deploy/governance.ts";
import { roleNamesFromAbi } from "../../../scripts/governance/roles.ts";

/** A comparable fingerprint: canonical signature, outputs, mutability, indexed flags. */
function fingerprint(item: Abi[number]): string {
  const types = (ps: readonly AbiParameter[]): string =>
    ps
      .map((p) => ("components" in p && p.components ? `(${types(p.components)})${p.type.slice(5)}` : p.type))
      .join(",");
  switch (item.type) {
    case "function":
      return `${formatAbiItem(item)} ${item.stateMutability} returns (${types(item.outputs)})`;
    case "event":
      return `${formatAbiItem(item)} indexed ${item.inputs.map((i) => Boolean(i.indexed)).join(",")}`;
    case "error":
      return formatAbiItem(item);
    default:
      return item.type;
  }
}

async function abiOf(name: string): Promise<Abi> {
  return (await artifacts.readArtifact(name)).abi as Abi;
}

describe("the helpers' minimal ABIs match the compiled and published artifacts", () => {
  const cases: Array<[string, Abi, () => Promise<Abi>]> = [
    ["AccessControl (RiskPolicy)", accessControlAbi, () => abiOf("RiskPolicy")],
    ["RiskPolicy", riskPolicyAbi, () => abiOf("RiskPolicy")],
    ["TreasuryVault", vaultGuardianAbi, () => abiOf("TreasuryVault")],
    ["HedgeApprovals", approvalsAbi, () => abiOf("HedgeApprovals")],
    [
      "DeltaVaultGovernor (+ the timelock errors it bubbles)",
      governorAbi,
      async () => [...(await abiOf("DeltaVaultGovernor")), ...(await abiOf("DeltaVaultTimelock"))],
    ],
    ["DeltaVaultTimelock", timelockAbi, () => abiOf("DeltaVaultTimelock")],
    ["Safe 1.4.1", safeAbi, async () => safeArtifacts.safe().abi],
    ["SafeL2 1.4.1", safeAbi, async () => safeArtifacts.safeL2().abi],
    ["SafeProxyFactory 1.4.1", safeProxyFactoryAbi, async () => safeArtifacts.proxyFactory().abi],
  ];
  for (const [name, mine, load] of cases) {
    it(name, async () => {
      const published = new Set((await load()).map(fingerprint));
      const missing = mine.map(fingerprint).filter((fp) => !published.has(fp));
      expect(missing).toEqual([]);
    });
  }

  it("role names come from the ABI's X_ROLE constant getters", async () => {
    expect(roleNamesFromAbi(await abiOf("TreasuryVault"))).toEqual([
      "DEFAULT_ADMIN_ROLE",
      "GOVERNANCE_ROLE",
      "GUARDIAN_ROLE",
      "KEEPER_ROLE",
      "TREASURER_ROLE",
    ]);
    expect(roleNamesFromAbi(await abiOf("HedgeApprovals"))).toEqual([
      "DEFAULT_ADMIN_ROLE",
      "FINANCE_ROLE",
      "PROPOSER_ROLE",
      "RISK_ROLE",
    ]);
  });

  it("the governance contracts fit EIP-170 (24,576 bytes)", async () => {
    for (const name of ["DeltaVaultToken", "DeltaVaultGovernor", "DeltaVaultTimelock"]) {
      const { deployedBytecode } = await artifacts.readArtifact(name);
      expect((deployedBytecode.length - 2) / 2, name).toBeLessThanOrEqual(24_576);
    }
  });
});
