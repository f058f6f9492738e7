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
import { parseAbi } from "viem";
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
  UniswapV3SpotAdapter: "contracts/adapters/UniswapV3SpotAdapter.sol/UniswapV3SpotAdapter.json",
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

/**
 * Fragments of the published Uniswap V3 ABIs (`@uniswap/v3-periphery`, `@uniswap/v3-core`) the keeper
 * calls; the spot-quote tests check each against the published artifact (signature and outputs).
 * QuoterV2's `quoteExactInputSingle` is not a view (it runs the swap and reverts with the result):
 * it is declared `view` here because the keeper only ever reads it through `eth_call`.
 */
export const uniswapAbis = {
  quoterV2: parseAbi([
    "struct QuoteExactInputSingleParams { address tokenIn; address tokenOut; uint256 amountIn; uint24 fee; uint160 sqrtPriceLimitX96; }",
    "function quoteExactInputSingle(QuoteExactInputSingleParams params) view returns (uint256 amountOut, uint160 sqrtPriceX96After, uint32 initializedTicksCrossed, uint256 gasEstimate)",
    "function factory() view returns (address)",
  ]),
  swapRouter: parseAbi(["function factory() view returns (address)"]),
  uniswapFactory: parseAbi([
    "function getPool(address tokenA, address tokenB, uint24 fee) view returns (address pool)",
  ]),
} as const;

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
    spotAdapter: abiOf("UniswapV3SpotAdapter"),
    ...uniswapAbis,
  };
}
export type Abis = ReturnType<typeof loadAbis>;
