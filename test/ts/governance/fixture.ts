/**
 * A governed DeltaVault on a fresh embedded chain: tokens, oracle, RiskPolicy, ledger, approvals and
 * vault (deployed directly from their artifacts), the DAO (token, timelock, governor), a 2-of-3
 * guardian Safe from the published Safe artifacts, and the handover. Every call to `governedSystem`
 * connects a new chain.
 */
import { network } from "hardhat";
import { getAddress, zeroAddress, type Abi, type Address } from "viem";
import { describeRevert } from "../../../scripts/governance/errors.ts";
import {
  deployGovernance,
  deploySafe,
  deploySafeInfrastructure,
  handOverToGovernance,
  type RoleAssignment,
} from "../../../scripts/deploy/governance.ts";

export const WAD = 10n ** 18n;
export const VOTING_DELAY = 60;
export const VOTING_PERIOD = 3_600;
export const TIMELOCK_DELAY = 600;
export const TOKEN_SUPPLY = 1_000_000n * WAD;
/** The small holder's share: 1% (below the 4% quorum). */
export const SMALL_HOLDING = 10_000n * WAD;
export const PROPOSAL_THRESHOLD = 1_000n * WAD;

export const initialGlobal = {
  maxSlippageBps: 50,
  oracleMaxDeviationBps: 200,
  oracleMaxAge: 3_600,
  keeperCooldown: 60,
  window: 86_400,
  approvalExpiry: 3_600,
  greeksCacheMaxAge: 3_600,
  greeksCacheMaxMoveBps: 100,
  turnoverCapPerWindow: 10_000_000n * WAD,
  tier1Notional: 100_000n * WAD,
  tier2Notional: 1_000_000n * WAD,
} as const;

export const initialWethLimits = {
  enabled: true,
  targetDelta: 0n,
  band: 25n * WAD,
  minHedgeRatio: WAD / 2n,
  maxHedgeRatio: WAD,
  maxOptionLegSize: 100n * WAD,
  maxPerpLegSize: 200n * WAD,
  maxSpotLegSize: 100n * WAD,
  maxPerpPosition: 500n * WAD,
  premiumBudgetPerWindow: 50_000n * WAD,
  maxOpenSeries: 8,
} as const;

export async function governedSystem() {
  const connection = await network.connect();
  const { viem, networkHelpers } = connection;
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const [deployer, bigHolder, smallHolder, ownerA, ownerB, ownerC, outsider] = wallets;
  if (!deployer || !bigHolder || !smallHolder || !ownerA || !ownerB || !ownerC || !outsider) {
    throw new Error("fixture: need 7 wallet clients");
  }
  const me = getAddress(deployer.account.address);

  const usdc = await viem.deployContract("TestToken", ["USD Coin", "USDC", 6, me]);
  const weth = await viem.deployContract("TestToken", ["Wrapped Ether", "WETH", 18, me]);
  const feed = await viem.deployContract("ManagedPriceFeed", [8, "ETH / USD", 3_000n * 10n ** 8n, me]);
  const router = await viem.deployContract("OracleRouter", [me]);
  await router.write.setFeed([weth.address, feed.address, 3_600, 10_000]);
  const policy = await viem.deployContract("RiskPolicy", [me, initialGlobal]);
  await policy.write.setUnderlyingLimits([weth.address, initialWethLimits]);
  const ledger = await viem.deployContract("TreasuryLedger", [me, zeroAddress]);
  const approvals = await viem.deployContract("HedgeApprovals", [policy.address, me]);
  const vault = await viem.deployContract("TreasuryVault", [
    policy.address,
    router.address,
    ledger.address,
    approvals.address,
    usdc.address,
    [weth.address],
    me,
  ]);
  await approvals.write.bindVault([vault.address]);

  const dao = await deployGovernance(viem, {
    votingDelay: VOTING_DELAY,
    votingPeriod: VOTING_PERIOD,
    proposalThreshold: PROPOSAL_THRESHOLD,
    quorumPercent: 4,
    timelockDelay: TIMELOCK_DELAY,
    tokenSupply: TOKEN_SUPPLY,
    initialHolder: bigHolder.account.address,
  });
  const token = await viem.getContractAt("DeltaVaultToken", dao.token);
  const governor = await viem.getContractAt("DeltaVaultGovernor", dao.governor);
  const timelock = await viem.getContractAt("DeltaVaultTimelock", dao.timelock);
  const asBig = { client: { wallet: bigHolder } } as const;
  const asSmall = { client: { wallet: smallHolder } } as const;
  await (
    await viem.getContractAt("DeltaVaultToken", dao.token, asBig)
  ).write.transfer([smallHolder.account.address, SMALL_HOLDING]);
  await (
    await viem.getContractAt("DeltaVaultToken", dao.token, asBig)
  ).write.delegate([bigHolder.account.address]);
  await (
    await viem.getContractAt("DeltaVaultToken", dao.token, asSmall)
  ).write.delegate([smallHolder.account.address]);
  // Checkpoints are read strictly in the past: let one second pass.
  await networkHelpers.mine();

  const safeInfra = await deploySafeInfrastructure(viem);
  const owners = [ownerA, ownerB, ownerC];
  const safe = await deploySafe(viem, {
    owners: owners.map((o) => o.account.address),
    threshold: 2,
    infrastructure: safeInfra,
  });

  const system = {
    riskPolicy: policy.address,
    vault: vault.address,
    ledger: ledger.address,
    approvals: approvals.address,
    oracleRouter: router.address,
    priceFeeds: [feed.address],
  };
  const roleTable: RoleAssignment[] = await handOverToGovernance(viem, system, {
    timelock: dao.timelock,
    guardianSafe: safe,
  });

  return {
    connection,
    viem,
    networkHelpers,
    publicClient,
    wallets: { deployer, bigHolder, smallHolder, ownerA, ownerB, ownerC, outsider },
    owners,
    contracts: { usdc, weth, feed, router, policy, ledger, approvals, vault, token, governor, timelock },
    dao,
    safe,
    safeInfra,
    system,
    roleTable,
    underlyings: { WETH: weth.address } as Record<"WETH", Address>,
  };
}

export type GovernedSystemFixture = Awaited<ReturnType<typeof governedSystem>>;

/** A function that awaits a promise that must reject and returns its revert decoded with `abi`. */
export function revertReader(abi: Abi): (p: Promise<unknown>) => Promise<string> {
  return async (p) => {
    try {
      await p;
    } catch (err) {
      return describeRevert(err, abi);
    }
    throw new Error("expected a revert");
  };
}
