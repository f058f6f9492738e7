import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifacts, network } from "hardhat";
import {
  decodeAbiParameters,
  encodeFunctionData,
  getAddress,
  parseEther,
  type Abi,
  type Address,
} from "viem";
import { deployAll, type DeployAllResult } from "../../../scripts/deploy/pipeline.ts";
import { readState, writeState, type DeploymentState } from "../../../scripts/deploy/state.ts";
import {
  ROLE_TABLE,
  accessControlAbi,
  formatRoleReport,
  isAdminRole,
  roleIdOf,
  verifyRoles,
} from "../../../scripts/deploy/wiring.ts";
import { runVerifyRoles, type CommandEnv } from "../../../scripts/deploy/commands.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dv-deploy-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const conn = await network.create();
const viem = conn.viem;
const client = await viem.getPublicClient();
const [deployerWallet, , , , , , , , , outsiderWallet] = await viem.getWalletClients();
if (!deployerWallet || !outsiderWallet) throw new Error("need 10 wallet clients");
const deployer = getAddress(deployerWallet.account.address);
const outsider = getAddress(outsiderWallet.account.address);
const dir = tempDir();
const NETWORK = "embedded";

const nonce = () => client.getTransactionCount({ address: deployer });
const doneSteps = (s: DeploymentState) => Object.values(s.steps).filter((x) => x.status === "done").length;

let first: DeployAllResult;

beforeAll(async () => {
  first = await deployAll({ viem, artifacts, network: NETWORK, dir });
});

describe("deployAll on the embedded chain", () => {
  it("deploys the whole system, the role check is clean and no EOA holds an admin role", async () => {
    const { state, report } = first;
    expect(report.ok, formatRoleReport(report)).toBe(true);
    expect(report.problems).toEqual([]);
    expect(state.complete).toBe(true);
    const names = Object.keys(state.contracts);
    for (const name of [
      "WETH",
      "OracleRouter",
      "OptionsAMM",
      "PerpDEX",
      "UniswapV3Factory",
      "WETHUSDCPool",
      "RiskPolicy",
      "TreasuryVault",
      "UniswapV3SpotAdapter",
      "DeltaVaultTimelock",
      "DeltaVaultGovernor",
      "GuardianSafe",
    ]) {
      expect(names).toContain(name);
    }
    // Every intended row is held; every admin-class holder is a contract.
    expect(report.rows.every((r) => r.status === "ok")).toBe(true);
    const adminRows = report.rows.filter((r) => r.admin);
    expect(adminRows.length).toBeGreaterThan(20);
    for (const r of adminRows) {
      const code = await client.getCode({ address: r.holder });
      expect(code && code.length > 2, `${r.contract}.${r.role} holder ${r.holder} has code`).toBe(true);
    }
    // Independently of verifyRoles: the deployer holds no admin-class role anywhere.
    for (const row of ROLE_TABLE) {
      const record = state.contracts[row.contract];
      if (!record || row.role === "owner" || !isAdminRole(row.contract, row.role)) continue;
      const held = await client.readContract({
        address: record.address,
        abi: accessControlAbi,
        functionName: "hasRole",
        args: [roleIdOf(row.role), deployer],
      });
      expect(held, `deployer holds ${row.contract}.${row.role}`).toBe(false);
    }
    // The guardian Safe is 2-of-3 over wallets 6, 7, 8 and holds GUARDIAN_ROLE.
    const wallets = await viem.getWalletClients();
    expect(state.safe).toEqual({
      owners: [6, 7, 8].map((i) => getAddress(wallets[i]?.account.address ?? "0x")),
      threshold: 2,
    });
  });

  it("records every transaction once: the deployer's nonce equals the number of done steps", async () => {
    expect(await nonce()).toBe(doneSteps(first.state));
    expect(first.sent).toBe(doneSteps(first.state));
    expect(Object.values(first.state.steps).some((s) => s.status === "pending")).toBe(false);
  });

  it("writes deployments/<network>.json with chainId, contracts (address, block, tx) and the role table", async () => {
    const raw: unknown = JSON.parse(readFileSync(join(dir, `${NETWORK}.json`), "utf8"));
    expect(raw).toMatchObject({ chainId: 31337, network: NETWORK, complete: true });
    const state = readState(join(dir, `${NETWORK}.json`));
    if (!state) throw new Error("no state");
    for (const [name, c] of Object.entries(state.contracts)) {
      const receipt = await client.getTransactionReceipt({ hash: c.txHash });
      expect(Number(receipt.blockNumber), name).toBe(c.blockNumber);
      if (receipt.contractAddress) expect(getAddress(receipt.contractAddress), name).toBe(c.address);
      const code = await client.getCode({ address: c.address });
      expect(code && code.length > 2, `${name} has code`).toBe(true);
    }
    expect(state.roles.length).toBe(first.report.rows.length);
    expect(state.roles).toContainEqual({
      contract: "TreasuryVault",
      role: "GUARDIAN_ROLE",
      holder: state.contracts.GuardianSafe?.address,
      holderName: "guardianSafe",
    });
    expect(state.roles).toContainEqual({
      contract: "RiskPolicy",
      role: "GOVERNANCE_ROLE",
      holder: state.contracts.DeltaVaultTimelock?.address,
      holderName: "timelock",
    });
  });

  it("records verification data: compiler input, long version and ABI-encoded constructor args", async () => {
    const vault = first.state.contracts.TreasuryVault;
    if (!vault || vault.verification.kind !== "project") throw new Error("vault verification");
    const v = vault.verification;
    expect(v.fullyQualifiedName).toBe("project/contracts/core/TreasuryVault.sol:TreasuryVault");
    expect(v.compilerVersion).toMatch(/^v0\.8\.28\+commit\.[0-9a-f]{8}$/u);
    const input = JSON.parse(readFileSync(join(dir, v.standardJsonInput), "utf8")) as {
      language: string;
      sources: Record<string, unknown>;
      settings: { optimizer: { enabled: boolean } };
    };
    expect(input.language).toBe("Solidity");
    expect(Object.keys(input.sources)).toContain(v.inputSourceName);
    expect(input.settings.optimizer.enabled).toBe(true);
    const artifact = await artifacts.readArtifact("TreasuryVault");
    const ctor = (artifact.abi as Abi).find((i) => i.type === "constructor");
    if (!ctor || ctor.type !== "constructor") throw new Error("no constructor");
    const decoded = decodeAbiParameters(ctor.inputs, v.constructorArgs);
    expect(decoded[0]).toBe(first.state.contracts.RiskPolicy?.address);
    expect(decoded[6]).toBe(deployer);
    expect(vault.constructorArgs[0]).toBe(first.state.contracts.RiskPolicy?.address);
    // Published artifacts: package, version and artifact path instead of sources.
    const router = first.state.contracts.SwapRouter?.verification;
    expect(router).toMatchObject({ kind: "published", package: "@uniswap/v3-periphery", version: "1.4.4" });
    const safe = first.state.contracts.GuardianSafe?.verification;
    expect(safe).toMatchObject({
      kind: "published",
      package: "@safe-global/safe-contracts",
      version: "1.4.1",
    });
    // One standard JSON input per build, shared by the contracts of that build.
    const ids = new Set(
      Object.values(first.state.contracts).flatMap((c) =>
        c.verification.kind === "project" ? [c.verification.buildInfoId] : [],
      ),
    );
    for (const id of ids) expect(existsSync(join(dir, NETWORK, "verify", `${id}.input.json`))).toBe(true);
  });

  it("is idempotent: a second run sends no transaction and returns the same addresses", async () => {
    const before = await nonce();
    const again = await deployAll({ viem, artifacts, network: NETWORK, dir });
    expect(again.sent).toBe(0);
    expect(again.skipped).toBe(doneSteps(first.state));
    expect(await nonce()).toBe(before);
    expect(again.report.ok).toBe(true);
    const addresses = (s: DeploymentState) =>
      Object.fromEntries(Object.entries(s.contracts).map(([n, c]) => [n, c.address]));
    expect(addresses(again.state)).toEqual(addresses(first.state));
  });

  it("redeploys only what the state file lost (one contract entry deleted → one transaction)", async () => {
    const path = join(dir, `${NETWORK}.json`);
    const state = readState(path);
    if (!state) throw new Error("no state");
    const old = state.contracts.QuoterV2?.address;
    delete state.contracts.QuoterV2;
    delete state.steps["deploy:QuoterV2"];
    writeState(path, state);
    const before = await nonce();
    const again = await deployAll({ viem, artifacts, network: NETWORK, dir });
    expect(again.sent).toBe(1);
    expect(await nonce()).toBe(before + 1);
    const fresh = again.state.contracts.QuoterV2?.address;
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(old);
    for (const name of ["TreasuryVault", "RiskPolicy", "GuardianSafe", "SwapRouter"]) {
      expect(again.state.contracts[name]?.address).toBe(first.state.contracts[name]?.address);
    }
    expect(again.report.ok).toBe(true);
  });
});

describe("verifyRoles", () => {
  it("reports a deployer that kept an admin role, a missing grant and an extra holder; exit code 1", async () => {
    const state = readState(join(dir, `${NETWORK}.json`));
    if (!state) throw new Error("no state");
    const timelock = state.contracts.DeltaVaultTimelock?.address;
    const policy = state.contracts.RiskPolicy?.address;
    const vault = state.contracts.TreasuryVault?.address;
    if (!timelock || !policy || !vault) throw new Error("addresses");
    // Governance (the Timelock) makes three changes the intended wiring does not have.
    await conn.networkHelpers.impersonateAccount(timelock);
    await conn.networkHelpers.setBalance(timelock, parseEther("1"));
    const asTimelock = async (to: Address, data: `0x${string}`) => {
      const hash = await deployerWallet.sendTransaction({ account: timelock, to, data });
      expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
    };
    await asTimelock(
      policy,
      encodeFunctionData({
        abi: accessControlAbi,
        functionName: "grantRole",
        args: [roleIdOf("DEFAULT_ADMIN_ROLE"), deployer],
      }),
    );
    const revokeAbi = [
      {
        type: "function",
        name: "revokeRole",
        stateMutability: "nonpayable",
        inputs: [
          { name: "role", type: "bytes32" },
          { name: "account", type: "address" },
        ],
        outputs: [],
      },
    ] as const;
    const keeper = state.accounts.keeper;
    if (!keeper) throw new Error("keeper");
    await asTimelock(
      vault,
      encodeFunctionData({
        abi: revokeAbi,
        functionName: "revokeRole",
        args: [roleIdOf("KEEPER_ROLE"), keeper],
      }),
    );
    await asTimelock(
      vault,
      encodeFunctionData({
        abi: accessControlAbi,
        functionName: "grantRole",
        args: [roleIdOf("TREASURER_ROLE"), outsider],
      }),
    );

    const report = await verifyRoles(client, state);
    expect(report.ok).toBe(false);
    const kinds = report.problems.map((p) => `${p.kind} ${p.message}`);
    expect(
      kinds.some((k) => k.startsWith("eoa-admin RiskPolicy.DEFAULT_ADMIN_ROLE") && k.includes(deployer)),
    ).toBe(true);
    expect(
      kinds.some((k) => k.startsWith("unexpected RiskPolicy.DEFAULT_ADMIN_ROLE") && k.includes("deployer")),
    ).toBe(true);
    expect(kinds.some((k) => k.startsWith("missing TreasuryVault.KEEPER_ROLE") && k.includes(keeper))).toBe(
      true,
    );
    expect(
      kinds.some((k) => k.startsWith("unexpected TreasuryVault.TREASURER_ROLE") && k.includes(outsider)),
    ).toBe(true);
    expect(report.problems).toHaveLength(4);
    const unexpected = report.rows.find((r) => r.status === "unexpected" && r.contract === "RiskPolicy");
    expect(unexpected).toMatchObject({
      role: "DEFAULT_ADMIN_ROLE",
      holder: deployer,
      holderKind: "eoa",
      admin: true,
    });

    // The command prints the table and exits 1.
    const lines: string[] = [];
    const env: CommandEnv = {
      connect: async () => viem,
      artifacts,
      networkName: NETWORK,
      networks: { [NETWORK]: { type: "edr-simulated" } },
      dir,
      out: (l) => lines.push(l),
    };
    const result = await runVerifyRoles(env);
    expect(result.code).toBe(1);
    const printed = lines.join("\n");
    expect(printed).toContain("MISSING");
    expect(printed).toContain("UNEXPECTED");
    expect(printed).toMatch(/\[eoa-admin\] RiskPolicy\.DEFAULT_ADMIN_ROLE/u);

    // A re-run of the deployment cannot restore the keeper's role: only governance can now.
    await expect(deployAll({ viem, artifacts, network: NETWORK, dir })).rejects.toThrow(
      /TreasuryVault\.KEEPER_ROLE must be held by keeper 0x[0-9a-fA-F]{40}, but the deployer no longer administers it/u,
    );
  });

  it("exits 1 when there is no deployment file, naming the command to run first", async () => {
    const lines: string[] = [];
    const env = (d: string): CommandEnv => ({
      connect: async () => viem,
      artifacts,
      networkName: NETWORK,
      networks: { [NETWORK]: { type: "edr-simulated" } },
      dir: d,
      out: (l) => lines.push(l),
    });
    expect((await runVerifyRoles(env(tempDir()))).code).toBe(1);
    expect(lines.join("\n")).toMatch(/embedded\.json does not exist: deploy first/u);
  });
});
