/**
 * `deltavault keeper init-config`: a keeper config from a deployment file written by
 * scripts/deploy/pipeline.ts (`npm run deploy -- --network <name>` → deployments/<name>.json):
 * chain id, vault, perp and options adapters, the Uniswap V3 spot adapter with its QuoterV2 (when the
 * deployment has them), and the WETH/WBTC tokens as the ETH/BTC underlyings.
 * The result is validated with the keeper's own schema before it is written; an existing file is
 * kept unless `force`.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { deploymentStateSchema, type DeploymentState } from "../../../scripts/deploy/state.ts";
import { parseConfig, type KeeperConfigInput } from "../config/index.ts";
import type { Underlying } from "../feeds/types.ts";

/** A deployment file or output path the command refuses; every line names the field or file. */
export class InitConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InitConfigError";
  }
}

export type InitConfigOptions = {
  deployment: string;
  rpcUrl: string;
  out: string;
  journal?: string;
  force?: boolean;
};

/** The deployment's contract names the keeper needs (as pipeline.ts records them). */
const VAULT = "TreasuryVault";
const PERP_ADAPTER = "PerpDEXAdapter";
const OPTIONS_ADAPTER = "OptionsAMMAdapter";
const SPOT_ADAPTER = "UniswapV3SpotAdapter";
const SPOT_QUOTER = "QuoterV2";
/** Keeper underlying → token name in the deployment (`contracts` locally, `external` on real networks). */
const TOKENS: readonly [Underlying, string][] = [
  ["ETH", "WETH"],
  ["BTC", "WBTC"],
];

/** Reads and validates a deployment file; InitConfigError names the file and the bad field. */
export function readDeployment(path: string): DeploymentState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InitConfigError(
      code === "ENOENT"
        ? `deployment file ${path} does not exist: run \`npm run deploy -- --network <name>\` first`
        : `cannot read deployment file ${path}: ${(e as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InitConfigError(`deployment file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  const r = deploymentStateSchema.safeParse(raw);
  if (!r.success) {
    throw new InitConfigError(
      `deployment file ${path} is not a deployment written by npm run deploy:\n  ` +
        r.error.issues
          .map((i) => `${["deployment", ...i.path.map(String)].join(".")}: ${i.message}`)
          .join("\n  "),
    );
  }
  return r.data;
}

/** The keeper config (input form) for a validated deployment; throws InitConfigError naming a missing field. */
export function keeperConfigFromDeployment(
  d: DeploymentState,
  o: { rpcUrl: string; journal?: string; source?: string },
): KeeperConfigInput {
  const source = o.source ?? "deployment";
  const missing: string[] = [];
  const contract = (name: string) => {
    const a = d.contracts[name]?.address;
    if (a === undefined) missing.push(`deployment.contracts.${name}.address: missing`);
    return a;
  };
  const vault = contract(VAULT);
  const perpAdapter = contract(PERP_ADAPTER);
  const optionsAdapter = contract(OPTIONS_ADAPTER);
  // Spot legs need both the adapter and the quoter its sell ladders are read from, or neither.
  const spotAdapter = d.contracts[SPOT_ADAPTER]?.address;
  const spotQuoter = d.contracts[SPOT_QUOTER]?.address;
  if ((spotAdapter === undefined) !== (spotQuoter === undefined)) {
    const absent = spotAdapter === undefined ? SPOT_ADAPTER : SPOT_QUOTER;
    missing.push(
      `deployment.contracts.${absent}.address: missing (spot legs need ${SPOT_ADAPTER} and ${SPOT_QUOTER})`,
    );
  }
  const underlyings = TOKENS.map(([symbol, name]) => {
    const token = d.contracts[name]?.address ?? d.external[name];
    if (token === undefined) {
      missing.push(`deployment.contracts.${name}.address (or deployment.external.${name}): missing`);
    }
    return { symbol, token };
  });
  if (!d.complete) {
    missing.unshift(
      `deployment.complete: false — the deployment to ${d.network} did not finish; re-run \`npm run deploy -- --network ${d.network}\``,
    );
  }
  if (
    missing.length > 0 ||
    vault === undefined ||
    perpAdapter === undefined ||
    optionsAdapter === undefined
  ) {
    throw new InitConfigError(`${source} cannot make a keeper config:\n  ${missing.join("\n  ")}`);
  }
  return {
    rpcUrl: o.rpcUrl,
    chainId: d.chainId,
    contracts: {
      vault,
      perpAdapter,
      optionsAdapter,
      ...(spotAdapter === undefined || spotQuoter === undefined ? {} : { spotAdapter, spotQuoter }),
    },
    underlyings: underlyings.flatMap((u) =>
      u.token === undefined ? [] : [{ symbol: u.symbol, token: u.token }],
    ),
    journal: o.journal ?? "keeper-journal.sqlite",
  };
}

/**
 * Writes the keeper config for `o.deployment` to `o.out` (validated with parseConfig first).
 * Refuses to replace an existing file unless `o.force`. Returns what was written.
 */
export function initConfig(o: InitConfigOptions): KeeperConfigInput {
  if (existsSync(o.out) && o.force !== true) {
    throw new InitConfigError(`${o.out} already exists: pass --force to overwrite it`);
  }
  const d = readDeployment(o.deployment);
  const config = keeperConfigFromDeployment(d, {
    rpcUrl: o.rpcUrl,
    source: `deployment file ${o.deployment}`,
    ...(o.journal === undefined ? {} : { journal: o.journal }),
  });
  parseConfig(config, `keeper config generated from ${o.deployment}`);
  try {
    writeFileSync(o.out, `${JSON.stringify(config, null, 2)}\n`, { flag: o.force === true ? "w" : "wx" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new InitConfigError(`${o.out} already exists: pass --force to overwrite it`);
    throw new InitConfigError(`cannot write ${o.out}: ${(e as Error).message}`);
  }
  return config;
}
