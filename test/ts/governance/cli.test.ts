/**
 * The operator commands as a user runs them: `npx hardhat node` on a free port (child process, own
 * process group), `npm run deploy -- --network localhostTest` (LOCALHOST_TEST_URL points the network
 * at the node), then `npm run propose`, `npm run governance` and `npm run guardian` against it, with
 * time moved forward through the node's JSON-RPC (evm_increaseTime + evm_mine) between the steps.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, getAddress, http, toHex, type Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { riskPolicyAbi, vaultGuardianAbi } from "../../../scripts/governance/abis.ts";
import { jsonRpc, runNpm, startHardhatNode, type HardhatNode } from "../helpers/hardhatNode.ts";

const dir = mkdtempSync(join(tmpdir(), "dv-gov-cli-"));
const emptyDir = mkdtempSync(join(tmpdir(), "dv-gov-cli-empty-"));
let node: HardhatNode | undefined;
let url = "";

/** Local preset (scripts/deploy/governance.ts): voting delay 60 s, period 3600 s, timelock 600 s. */
const VOTING_DELAY = 60;
const VOTING_PERIOD = 3_600;
const TIMELOCK_DELAY = 600;
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

const rpc = (method: string, params: unknown[] = []) => jsonRpc(url, method, params);

async function timeTravel(seconds: number): Promise<void> {
  await rpc("evm_increaseTime", [seconds]);
  await rpc("evm_mine");
}

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  runNpm(args, { LOCALHOST_TEST_URL: url, DEPLOYMENTS_DIR: dir, ...env });

const net = ["--network", "localhostTest"];
const propose = (...a: string[]) => run(["propose", "--", ...net, ...a]);
const governance = (...a: string[]) => run(["governance", "--", ...net, ...a]);
const guardian = (a: string[], env: Record<string, string | undefined> = {}) =>
  run(["guardian", "--", ...net, ...a], env);

const stateSchema = z.object({
  contracts: z.record(z.string(), z.object({ address: z.string() })),
  safe: z.object({ owners: z.array(z.string()), threshold: z.number() }),
});
let contracts: Record<string, Address> = {};
let safeOwners: Address[] = [];

const client = () => createPublicClient({ transport: http(url) });
const addr = (name: string): Address => {
  const a = contracts[name];
  if (!a) throw new Error(`no ${name} in the deployment`);
  return a;
};
const wethBand = async () =>
  (
    await client().readContract({
      address: addr("RiskPolicy"),
      abi: riskPolicyAbi,
      functionName: "rawUnderlyingLimits",
      args: [addr("WETH")],
    })
  ).band;
const vaultMode = () =>
  client().readContract({ address: addr("TreasuryVault"), abi: vaultGuardianAbi, functionName: "mode" });
const blockNumber = async () => BigInt(z.string().parse(await rpc("eth_blockNumber")));

beforeAll(async () => {
  node = await startHardhatNode();
  url = node.url;
  const deployed = await run(["deploy", "--", ...net]);
  if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.out}`);
  const state = stateSchema.parse(JSON.parse(readFileSync(join(dir, "localhostTest.json"), "utf8")));
  contracts = Object.fromEntries(Object.entries(state.contracts).map(([k, v]) => [k, getAddress(v.address)]));
  safeOwners = state.safe.owners.map((o) => getAddress(o));
});

afterAll(() => {
  node?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(emptyDir, { recursive: true, force: true });
});

describe("npm run propose / governance against a deployment on `hardhat node`", () => {
  it("proposes, votes, queues and executes 'set WETH band to 30 ETH', refusing each step too early", async () => {
    expect(await wethBand()).toBe(25n * 10n ** 18n);

    const before = await blockNumber();
    const dry = await propose("set WETH band to 30 ETH", "--dry-run");
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toMatch(/WETH band\s+25 ETH → 30 ETH/u);
    expect(dry.out).toContain("dry run: nothing submitted");
    expect(await blockNumber()).toBe(before);

    const proposed = await propose("set WETH band to 30 ETH");
    expect(proposed.code, proposed.out).toBe(0);
    expect(proposed.out).toMatch(/WETH band\s+25 ETH → 30 ETH/u);
    expect(proposed.out).toContain(
      `preflight: every call succeeds when the Timelock ${addr("DeltaVaultTimelock")}`,
    );
    expect(proposed.out).toContain("delegated the proposer's 1,000,000 DVG to itself");
    expect(proposed.out).toMatch(/state\s+Pending/u);
    const id = /proposal id (\d+)/u.exec(proposed.out)?.[1];
    expect(id).toBeDefined();
    expect(dry.out).toContain(`proposal id ${id}`);

    const early = await governance("vote", "set WETH band to 30 ETH");
    expect(early.code, early.out).toBe(1);
    expect(early.out).toContain(`proposal ${id} is Pending: voting opens after`);

    await timeTravel(VOTING_DELAY + 1);
    const voted = await governance("vote", id ?? "", "--support", "for");
    expect(voted.code, voted.out).toBe(0);
    expect(voted.out).toContain('voted for on "Risk limits: set WETH band to 30 ETH" with 1,000,000 DVG');
    expect(voted.out).toMatch(/state\s+Active/u);
    const twice = await governance("vote", id ?? "");
    expect(twice.code).toBe(1);
    expect(twice.out).toContain("has already voted");

    const queuedEarly = await governance("queue", "set WETH band to 30 ETH");
    expect(queuedEarly.code).toBe(1);
    expect(queuedEarly.out).toContain("is Active: it can be queued only after voting ends");

    await timeTravel(VOTING_PERIOD + 1);
    const queued = await governance("queue", "set WETH band to 30 ETH");
    expect(queued.code, queued.out).toBe(0);
    expect(queued.out).toMatch(/state\s+Queued/u);
    expect(queued.out).toMatch(/eta\s+\d+ \(/u);

    const executedEarly = await governance("execute", id ?? "");
    expect(executedEarly.code).toBe(1);
    expect(executedEarly.out).toContain("the timelock delay ends at");
    expect(await wethBand()).toBe(25n * 10n ** 18n);

    await timeTravel(TIMELOCK_DELAY + 1);
    const executed = await governance("execute", "set WETH band to 30 ETH");
    expect(executed.code, executed.out).toBe(0);
    expect(executed.out).toMatch(/state\s+Executed/u);
    expect(await wethBand()).toBe(30n * 10n ** 18n);

    const status = await governance("status", id ?? "");
    expect(status.code, status.out).toBe(0);
    expect(status.out).toMatch(/state\s+Executed/u);
    expect(status.out).toMatch(/votes\s+for 1,000,000 DVG · against 0 DVG · abstain 0 DVG/u);
    expect(status.out).toMatch(/quorum\s+40,000 DVG \(For \+ Abstain: 1,000,000 DVG, reached\)/u);

    const again = await propose("set WETH band to 30 ETH");
    expect(again.code).toBe(1);
    expect(again.out).toContain("would change nothing");
  });

  it("refuses bad input before any RPC: exit 2 with the suggestion; a missing deployment says to deploy", async () => {
    const [typo, verb, vote, noNetwork, badSupport, missing, value] = await Promise.all([
      propose("set WETH bnad to 30 ETH"),
      propose("unpase vault"),
      governance("vote", "set WTEH band to 30 ETH"),
      run(["propose", "--", "set WETH band to 30 ETH"]),
      governance("vote", "1", "--support", "yes"),
      run(["propose", "--", ...net, "set WETH band to 30 ETH"], { DEPLOYMENTS_DIR: emptyDir }),
      propose("set WETH band to 1e-19 ETH"),
    ]);
    expect(typo.code).toBe(2);
    expect(typo.out).toContain('unknown field "bnad" (did you mean "band"?)');
    expect(typo.out).toContain("did you mean: set WETH band to 30 ETH");
    expect(verb.code).toBe(2);
    expect(verb.out).toContain("did you mean: unpause vault");
    expect(vote.code).toBe(2);
    expect(vote.out).toContain("did you mean: set WETH band to 30 ETH");
    expect(noNetwork.code).toBe(2);
    expect(noNetwork.out).toContain("missing --network <name>");
    expect(badSupport.code).toBe(2);
    expect(badSupport.out).toContain("--support must be for, against or abstain");
    expect(missing.code).toBe(1);
    expect(missing.out).toContain(
      "no deployment for network localhostTest: run npm run deploy -- --network localhostTest first",
    );
    expect(value.code).toBe(2);
    expect(value.out).toContain("band must be a multiple of 1e-18");
  });
});

describe('npm run guardian, then `propose "unpause vault"`', () => {
  it("pauses with the owners' keys, refuses repeats and too few owners; governance unpauses", async () => {
    expect(await vaultMode()).toBe(0);
    const [o0, o1, o2] = safeOwners;
    if (!o0 || !o1 || !o2) throw new Error("expected three Safe owners");

    const tooFew = await guardian(["pause", "--signers", o0]);
    expect(tooFew.code, tooFew.out).toBe(1);
    expect(tooFew.out).toContain("needs 2 of 3 owner signatures, only 1 owner key(s) available here");
    expect(await vaultMode()).toBe(0);

    // Owners 7 and 8 sign with keys from the environment (the real-network path); keys never printed.
    const key = (i: number) =>
      toHex(
        mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: i }).getHdKey().privateKey ?? new Uint8Array(),
      );
    const keys = [key(7), key(8)];
    expect(mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: 7 }).address).toBe(o1);
    const paused = await guardian(["pause", "--signers", `${o1},${o2}`], {
      DELTAVAULT_SAFE_OWNER_KEYS: keys.join(","),
    });
    expect(paused.code, paused.out).toBe(0);
    expect(paused.out).toContain(`${o1} (DELTAVAULT_SAFE_OWNER_KEYS), ${o2} (DELTAVAULT_SAFE_OWNER_KEYS)`);
    expect(paused.out).toContain("vault mode Normal → Paused");
    for (const k of keys) expect(paused.out).not.toContain(k.slice(2));
    expect(await vaultMode()).toBe(2);

    const again = await guardian(["pause"]);
    expect(again.code, again.out).toBe(1);
    expect(again.out).toContain(`vault ${addr("TreasuryVault")} is already Paused`);
    const reduce = await guardian(["reduce-only"]);
    expect(reduce.code).toBe(1);
    expect(reduce.out).toContain("the guardian cannot move it to ReduceOnly");
    const unwind = await guardian([
      "unwind",
      "--adapter",
      o0,
      "--underlying",
      "WETH",
      "--acceptable-price",
      "2500",
    ]);
    expect(unwind.code).toBe(1);
    expect(unwind.out).toContain(`would revert: NotRegisteredPerpVenue("${o0}")`);
    const badKey = await guardian(["pause"], { DELTAVAULT_SAFE_OWNER_KEYS: "0x1234" });
    expect(badKey.code).toBe(2);
    expect(badKey.out).toContain("DELTAVAULT_SAFE_OWNER_KEYS entry 1 is not a 32-byte hex private key");
    expect(await vaultMode()).toBe(2);

    const proposed = await propose("unpause vault");
    expect(proposed.code, proposed.out).toBe(0);
    expect(proposed.out).toMatch(/vault mode\s+Paused → Normal/u);
    await timeTravel(VOTING_DELAY + 1);
    const voted = await governance("vote", "unpause vault");
    expect(voted.code, voted.out).toBe(0);
    await timeTravel(VOTING_PERIOD + 1);
    const queued = await governance("queue", "unpause vault");
    expect(queued.code, queued.out).toBe(0);
    await timeTravel(TIMELOCK_DELAY + 1);
    expect(await vaultMode()).toBe(2);
    const executed = await governance("execute", "unpause vault");
    expect(executed.code, executed.out).toBe(0);
    expect(executed.out).toMatch(/state\s+Executed/u);
    expect(await vaultMode()).toBe(0);

    const nothing = await propose("unpause vault");
    expect(nothing.code).toBe(1);
    expect(nothing.out).toContain("is already Normal: there is nothing to unpause");
  });
});
