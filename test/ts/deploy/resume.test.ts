import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { artifacts, network } from "hardhat";
import { getAddress, type Address } from "viem";
import { deployAll, parseNetworkConfig } from "../../../scripts/deploy/pipeline.ts";
import { readState } from "../../../scripts/deploy/state.ts";
import type { StepEvent } from "../../../scripts/deploy/steps.ts";
import { runVerifyRoles } from "../../../scripts/deploy/commands.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dv-resume-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Throws once, at the n-th event of `phase` (1-based), simulating a crash there. */
function crashAt(phase: StepEvent["phase"], n: number) {
  let seen = 0;
  let crashedAt: string | undefined;
  return {
    hook: (e: StepEvent) => {
      if (e.phase !== phase) return;
      seen += 1;
      if (seen === n) {
        crashedAt = e.key;
        throw new Error(`simulated crash at ${e.key} (${phase})`);
      }
    },
    crashedAt: () => crashedAt,
  };
}

describe("a deployment that crashes resumes where it stopped", () => {
  it("two crashes (before a send, and after a send before its receipt) → every transaction sent exactly once", async () => {
    const { viem } = await network.create();
    const client = await viem.getPublicClient();
    const [wallet] = await viem.getWalletClients();
    if (!wallet) throw new Error("no wallet");
    const deployer = wallet.account.address;
    const dir = tempDir();
    const path = join(dir, "crashy.json");

    const first = crashAt("before-send", 40);
    await expect(deployAll({ viem, artifacts, network: "crashy", dir, onStep: first.hook })).rejects.toThrow(
      /simulated crash/u,
    );
    expect(await client.getTransactionCount({ address: deployer })).toBe(39);
    const afterFirst = readState(path);
    expect(afterFirst?.complete).toBe(false);
    expect(Object.keys(afterFirst?.steps ?? {})).toHaveLength(39);

    const second = crashAt("sent", 50);
    await expect(deployAll({ viem, artifacts, network: "crashy", dir, onStep: second.hook })).rejects.toThrow(
      /simulated crash/u,
    );
    const pendingKey = second.crashedAt();
    if (!pendingKey) throw new Error("no crash");
    const afterSecond = readState(path);
    const pending = afterSecond?.steps[pendingKey];
    expect(pending?.status).toBe("pending");
    expect(await client.getTransactionCount({ address: deployer })).toBe(89);

    const resumed = await deployAll({ viem, artifacts, network: "crashy", dir });
    expect(resumed.report.ok).toBe(true);
    expect(resumed.state.complete).toBe(true);
    // The pending transaction was adopted, not sent again.
    expect(resumed.state.steps[pendingKey]).toMatchObject({ status: "done", txHash: pending?.txHash });
    const done = Object.values(resumed.state.steps).filter((s) => s.status === "done").length;
    const nonce = await client.getTransactionCount({ address: deployer });
    expect(nonce).toBe(done);
    expect(resumed.sent).toBe(nonce - 89);

    // Same number of transactions as an uninterrupted deployment on a fresh chain.
    const clean = await network.create();
    const cleanRun = await deployAll({ viem: clean.viem, artifacts, network: "clean", dir: tempDir() });
    expect(cleanRun.sent).toBe(nonce);
    expect(Object.keys(resumed.state.contracts).sort()).toEqual(Object.keys(cleanRun.state.contracts).sort());

    // verify-roles as a command: exit code 0 on the clean deployment.
    const lines: string[] = [];
    const verified = await runVerifyRoles({
      connect: async () => viem,
      artifacts,
      networkName: "crashy",
      networks: { crashy: { type: "edr-simulated" } },
      dir,
      out: (l) => lines.push(l),
    });
    expect(verified.code).toBe(0);
    expect(lines.join("\n")).toContain("roles OK");
  });
});

describe("external mode (existing tokens and feeds) on a local chain", () => {
  it("uses the given tokens and feeds, deploys no test tokens, seeds no liquidity, and wires roles cleanly", async () => {
    const { viem } = await network.create();
    const client = await viem.getPublicClient();
    const wallets = await viem.getWalletClients();
    const me = getAddress(wallets[0]?.account.address ?? "0x");
    const addr = (i: number): Address => getAddress(wallets[i]?.account.address ?? "0x");
    // "Existing" tokens and Chainlink-compatible feeds, deployed beforehand by someone else.
    const weth = await viem.deployContract("TestToken", ["Wrapped Ether", "WETH", 18, me]);
    const wbtc = await viem.deployContract("TestToken", ["Wrapped BTC", "WBTC", 8, me]);
    const usdc = await viem.deployContract("TestToken", ["USD Coin", "USDC", 6, me]);
    const ethFeed = await viem.deployContract("ManagedPriceFeed", [8, "ETH / USD", 3_000n * 10n ** 8n, me]);
    const btcFeed = await viem.deployContract("ManagedPriceFeed", [8, "BTC / USD", 60_000n * 10n ** 8n, me]);
    const external = {
      governance: { preset: "testnet", tokenSupply: "5000000", initialHolder: addr(2) },
      accounts: { keeper: addr(11), treasurer: addr(12), finance: addr(13), risk: addr(14) },
      safe: { owners: [addr(15), addr(16), addr(17), addr(18)], threshold: 3 },
      external: {
        tokens: { weth: weth.address, wbtc: wbtc.address, usdc: usdc.address },
        feeds: { weth: ethFeed.address, wbtc: btcFeed.address },
      },
    };
    const config = parseNetworkConfig(external, "external", "test");
    const dir = tempDir();
    const result = await deployAll({ viem, artifacts, network: "ext", dir, config });
    expect(result.report.ok).toBe(true);
    const s = result.state;
    expect(s.mode).toBe("external");
    expect(s.external).toEqual({
      WETH: getAddress(weth.address),
      WBTC: getAddress(wbtc.address),
      USDC: getAddress(usdc.address),
      WETHFeed: getAddress(ethFeed.address),
      WBTCFeed: getAddress(btcFeed.address),
    });
    for (const name of ["WETH", "WBTC", "USDC", "WETHFeed", "WBTCFeed", "WETHUSDCPool", "WBTCUSDCPool"]) {
      expect(s.contracts[name], name).toBeUndefined();
    }
    expect(s.roles.some((r) => r.role === "MINTER_ROLE" || r.role === "ORACLE_ROLE")).toBe(false);
    expect(s.safe).toEqual({ owners: [15, 16, 17, 18].map(addr), threshold: 3 });
    const router = await viem.getContractAt("OracleRouter", s.contracts.OracleRouter?.address ?? "0x");
    expect(getAddress((await router.read.feedConfig([weth.address])).feed)).toBe(getAddress(ethFeed.address));
    // The testnet preset: 1 h timelock delay; the DVG supply went to the configured holder.
    const timelock = await viem.getContractAt(
      "DeltaVaultTimelock",
      s.contracts.DeltaVaultTimelock?.address ?? "0x",
    );
    expect(await timelock.read.getMinDelay()).toBe(3_600n);
    const dvg = await viem.getContractAt("DeltaVaultToken", s.contracts.DeltaVaultToken?.address ?? "0x");
    expect(await dvg.read.balanceOf([addr(2)])).toBe(5_000_000n * 10n ** 18n);
    // Nothing was minted: the deployer's USDC balance of the pre-existing token is untouched.
    expect(await usdc.read.totalSupply()).toBe(0n);
    expect(await client.getTransactionCount({ address: me })).toBe(5 + result.sent);

    // A token whose decimals contradict the system config is refused before anything is sent.
    const bad = parseNetworkConfig(
      {
        ...external,
        external: { ...external.external, tokens: { ...external.external.tokens, wbtc: usdc.address } },
      },
      "external",
      "test",
    );
    await expect(deployAll({ viem, artifacts, network: "ext2", dir, config: bad })).rejects.toThrow(
      /external\.tokens\.wbtc 0x[0-9a-fA-F]{40} has 6 decimals, the system config says 8/u,
    );
  });
});
