/**
 * The two deployment commands as functions of explicit inputs (the entry scripts cli.ts and
 * verifyRolesCli.ts pass Hardhat's runtime; tests call these directly):
 *
 * - `runDeploy`: validates the network's config (before any RPC call), deploys idempotently, writes
 *   deployments/<network>.json and prints the contracts and the role table;
 * - `runVerifyRoles`: reads deployments/<network>.json, reads the chain, prints the role table and
 *   returns exit code 0 when the wiring is exactly the intended one, 1 otherwise.
 */
import type { ArtifactManager } from "hardhat/types/artifacts";
import type { HardhatViem } from "./options.ts";
import { deployAll, isLocalNetwork, loadNetworkConfig, type DeployAllResult } from "./pipeline.ts";
import { readState, statePath } from "./state.ts";
import { formatRoleReport, verifyRoles, type RoleReport } from "./wiring.ts";

/** What the commands need from Hardhat's runtime environment. */
export interface CommandEnv {
  /** Opens a connection to a configured network (Hardhat: `network.create(name)`). */
  connect: (network: string) => Promise<HardhatViem>;
  artifacts: ArtifactManager;
  /** `--network` (undefined: the default network). */
  networkName: string | undefined;
  /** Resolved config type and user-config URL of each network. */
  networks: Record<string, { type?: string; url?: unknown } | undefined>;
  /** Deployments directory. */
  dir: string;
  out: (line: string) => void;
}

const DEFAULT_NETWORK = "default";

function resolveNetwork(env: CommandEnv): { name: string; local: boolean } {
  const name = env.networkName ?? DEFAULT_NETWORK;
  const net = env.networks[name];
  if (!net) throw new Error(`network "${name}" is not configured in hardhat.config.ts`);
  return { name, local: isLocalNetwork(net) };
}

function contractsTable(result: DeployAllResult): string {
  const entries = Object.entries(result.state.contracts);
  const width = Math.max(...entries.map(([name]) => name.length));
  return entries
    .map(([name, c]) => `${name.padEnd(width)}  ${c.address}  block ${c.blockNumber}  tx ${c.txHash}`)
    .join("\n");
}

/** `npm run deploy -- --network <name>`; returns the process exit code. */
export async function runDeploy(env: CommandEnv): Promise<number> {
  try {
    const { name, local } = resolveNetwork(env);
    const config = loadNetworkConfig(env.dir, name, local);
    const viem = await env.connect(name);
    const result = await deployAll({
      viem,
      artifacts: env.artifacts,
      network: name,
      dir: env.dir,
      config,
      log: env.out,
    });
    env.out("");
    env.out(contractsTable(result));
    env.out("");
    env.out(formatRoleReport(result.report));
    env.out("");
    env.out(
      `wrote ${result.path} (chain ${result.state.chainId}): ${result.sent} transactions sent, ${result.skipped} steps already done`,
    );
    return 0;
  } catch (err) {
    env.out(`deploy failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** `npm run verify-roles -- --network <name>`; returns the exit code (1 on any difference). */
export async function runVerifyRoles(env: CommandEnv): Promise<{ code: number; report?: RoleReport }> {
  try {
    const { name } = resolveNetwork(env);
    const path = statePath(env.dir, name);
    const state = readState(path);
    if (!state) throw new Error(`${path} does not exist: deploy first (npm run deploy -- --network ${name})`);
    const viem = await env.connect(name);
    const client = await viem.getPublicClient();
    const chainId = await client.getChainId();
    if (chainId !== state.chainId)
      throw new Error(`${path} is for chain ${state.chainId}, the network is chain ${chainId}`);
    const report = await verifyRoles(client, state);
    env.out(`roles of ${name} (chain ${chainId}) read from the chain, compared with the intended wiring:`);
    env.out("");
    env.out(formatRoleReport(report));
    return { code: report.ok ? 0 : 1, report };
  } catch (err) {
    env.out(`verify-roles failed: ${err instanceof Error ? err.message : String(err)}`);
    return { code: 1 };
  }
}
