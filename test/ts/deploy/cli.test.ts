/**
 * The commands as a user runs them: `npx hardhat node` on a free port (child process), then
 * `npm run deploy -- --network localhostTest` and `npm run verify-roles -- --network localhostTest`
 * against it (network `localhostTest` reads its URL from LOCALHOST_TEST_URL), and the real-network
 * path up to the point where it would need an RPC.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonRpc, runNpm, startHardhatNode, type HardhatNode } from "../helpers/hardhatNode.ts";
import { z } from "zod";

const dir = mkdtempSync(join(tmpdir(), "dv-cli-"));
let node: HardhatNode | undefined;
let url = "";

const rpc = (method: string, params: unknown[] = []) => jsonRpc(url, method, params);
const run = (args: string[], env: Record<string, string | undefined>) => runNpm(args, env);

beforeAll(async () => {
  node = await startHardhatNode();
  url = node.url;
});

afterAll(() => {
  node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const stateSchema = z.object({
  chainId: z.number(),
  contracts: z.record(
    z.string(),
    z.object({ address: z.string(), blockNumber: z.number(), txHash: z.string().regex(/^0x[0-9a-f]{64}$/u) }),
  ),
  roles: z.array(
    z.object({ contract: z.string(), role: z.string(), holder: z.string(), holderName: z.string() }),
  ),
});

describe("npm run deploy / verify-roles against `hardhat node`", () => {
  it("deploys and writes deployments/localhostTest.json; a second run sends nothing; verify-roles exits 0", async () => {
    const env = { LOCALHOST_TEST_URL: url, DEPLOYMENTS_DIR: dir };
    const deployed = await run(["deploy", "--", "--network", "localhostTest"], env);
    expect(deployed.code, deployed.out).toBe(0);
    expect(deployed.out).toContain("roles OK");
    const state = stateSchema.parse(JSON.parse(readFileSync(join(dir, "localhostTest.json"), "utf8")));
    expect(state.chainId).toBe(31337);
    expect(Object.keys(state.contracts).length).toBeGreaterThanOrEqual(30);
    for (const [name, c] of Object.entries(state.contracts)) {
      const code = await rpc("eth_getCode", [c.address, "latest"]);
      expect(typeof code === "string" && code.length > 2, `${name} has code on the node`).toBe(true);
      const receipt = z
        .object({ blockNumber: z.string() })
        .parse(await rpc("eth_getTransactionReceipt", [c.txHash]));
      expect(Number(receipt.blockNumber), name).toBe(c.blockNumber);
    }
    expect(
      state.roles.find((r) => r.contract === "TreasuryVault" && r.role === "GUARDIAN_ROLE"),
    ).toMatchObject({
      holder: state.contracts.GuardianSafe?.address,
      holderName: "guardianSafe",
    });
    const txCount = await rpc("eth_blockNumber");

    const again = await run(["deploy", "--", "--network", "localhostTest"], env);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/: 0 transactions sent, \d+ steps already done/u);
    expect(await rpc("eth_blockNumber")).toBe(txCount);

    const verified = await run(["verify-roles", "--", "--network", "localhostTest"], env);
    expect(verified.code, verified.out).toBe(0);
    expect(verified.out).toMatch(
      /RiskPolicy\s+GOVERNANCE_ROLE\s+timelock\s+0x[0-9a-fA-F]{40}\s+contract\s+ok/u,
    );
    expect(verified.out).toContain("no EOA holds an admin role");
  });

  it("on a real network, fails before any RPC call when the config lacks a field", async () => {
    mkdirSync(join(dir, "config"), { recursive: true });
    writeFileSync(
      join(dir, "config", "sepolia.json"),
      JSON.stringify({ external: { tokens: {}, feeds: {} }, safe: { owners: [], threshold: 1 } }),
    );
    const result = await run(["deploy", "--", "--network", "sepolia"], {
      DEPLOYMENTS_DIR: dir,
      SEPOLIA_RPC_URL: undefined,
      DEPLOYER_PRIVATE_KEY: undefined,
    });
    expect(result.code).toBe(1);
    expect(result.out).toContain("deploy failed:");
    expect(result.out).toContain("missing field external.tokens.usdc");
    expect(result.out).toContain("missing field accounts");
    expect(result.out).not.toMatch(/SEPOLIA_RPC_URL/u);
  });
});
