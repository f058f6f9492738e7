/**
 * Contract ABIs for the keeper, read from Hardhat's build artifacts at runtime (so they never drift
 * from the contracts) and typed with the `ArtifactMap` that `hardhat build` generates
 * (artifacts/**\/artifacts.d.ts). Run `npx hardhat build` before starting the keeper.
 *
 * The artifacts directory is `<repo>/artifacts` (resolved from this file), or `DELTAVAULT_ARTIFACTS`.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ArtifactMap } from "hardhat/types/artifacts";
import { z } from "zod";

const ARTIFACT_PATHS = {
  TreasuryVault: "contracts/core/TreasuryVault.sol/TreasuryVault.json",
  RiskPolicy: "contracts/core/RiskPolicy.sol/RiskPolicy.json",
  HedgeApprovals: "contracts/core/HedgeApprovals.sol/HedgeApprovals.json",
  TreasuryLedger: "contracts/core/TreasuryLedger.sol/TreasuryLedger.json",
  OracleRouter: "contracts/oracles/OracleRouter.sol/OracleRouter.json",
  AggregatorV3Interface: "contracts/interfaces/AggregatorV3Interface.sol/AggregatorV3Interface.json",
  IOptionVenueAdapter: "contracts/interfaces/IOptionVenueAdapter.sol/IOptionVenueAdapter.json",
  IPerpVenueAdapter: "contracts/interfaces/IPerpVenueAdapter.sol/IPerpVenueAdapter.json",
  OptionsAMM: "contracts/venues/options/OptionsAMM.sol/OptionsAMM.json",
  VolatilitySurface: "contracts/venues/options/VolatilitySurface.sol/VolatilitySurface.json",
  PerpDEX: "contracts/venues/perp/PerpDEX.sol/PerpDEX.json",
  TestToken: "contracts/tokens/TestToken.sol/TestToken.json",
} as const;

export type AbiName = keyof typeof ARTIFACT_PATHS;
export type AbiOf<N extends AbiName> = ArtifactMap[N]["abi"];

const ArtifactSchema = z.object({
  contractName: z.string(),
  abi: z.array(z.looseObject({ type: z.string() })).min(1),
});

/** Thrown when an artifact is missing or malformed (run `npx hardhat build`). */
export class ArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArtifactError";
  }
}

export function artifactsDir(): string {
  const env = process.env.DELTAVAULT_ARTIFACTS;
  if (env !== undefined && env !== "") return resolve(env);
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "artifacts");
}

const cache = new Map<AbiName, unknown>();

/** The ABI of contract `name` from its artifact (cached). */
export function abiOf<N extends AbiName>(name: N): AbiOf<N> {
  const hit = cache.get(name);
  if (hit !== undefined) return hit as AbiOf<N>;
  const file = join(artifactsDir(), ARTIFACT_PATHS[name]);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ArtifactError(
      `artifact of ${name} not found at ${file} (run \`npx hardhat build\`): ${(e as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ArtifactError(`artifact of ${name} at ${file} is not JSON`);
  }
  const parsed = ArtifactSchema.safeParse(json);
  if (!parsed.success || parsed.data.contractName !== name) {
    throw new ArtifactError(`artifact of ${name} at ${file} is malformed (no ABI or wrong contract)`);
  }
  cache.set(name, parsed.data.abi);
  return parsed.data.abi as unknown as AbiOf<N>;
}

/** All the keeper's ABIs, loaded eagerly (fails fast at start-up). */
export function loadAbis() {
  return {
    vault: abiOf("TreasuryVault"),
    policy: abiOf("RiskPolicy"),
    approvals: abiOf("HedgeApprovals"),
    ledger: abiOf("TreasuryLedger"),
    router: abiOf("OracleRouter"),
    aggregator: abiOf("AggregatorV3Interface"),
    optionAdapter: abiOf("IOptionVenueAdapter"),
    perpAdapter: abiOf("IPerpVenueAdapter"),
    amm: abiOf("OptionsAMM"),
    surface: abiOf("VolatilitySurface"),
    perpDex: abiOf("PerpDEX"),
    erc20: abiOf("TestToken"),
  };
}
export type Abis = ReturnType<typeof loadAbis>;
