/**
 * The DAO and the guardian at work on the demo's system: the real OpenZeppelin Governor + Timelock
 * and a 2-of-3 Safe (published artifacts) take over every admin role; the DAO votes a limit change
 * ("set WETH band to 30 ETH") through propose → vote → queue → timelock delay → execute; the Safe
 * pauses the vault with two owner signatures, the keeper's next rebalance is refused, and only a
 * second governance vote unpauses it.
 */
import type { network } from "hardhat";
import { formatUnits, type Address } from "viem";
import {
  deployGovernance,
  deploySafe,
  deploySafeInfrastructure,
  governancePresets,
  handOverToGovernance,
} from "../deploy/governance.ts";
import type { SystemDeployment } from "../deploy/system.ts";
import { castVote, execute, propose, proposalStatus, queue } from "../governance/governor.ts";
import { buildLimitProposal, unpauseProposal, type GovernorProposal } from "../governance/proposal.ts";
import { guardianAction } from "../governance/safe.ts";
import { describeRevert } from "../governance/errors.ts";

type Connection = Awaited<ReturnType<typeof network.connect>>;

const WAD = 10n ** 18n;
/** Wallet indexes of the DAO's token holder and the Safe's owners (0..6 are taken by the demo). */
const HOLDER_INDEX = 7;
const OWNER_INDEXES = [8, 9, 10] as const;

export type GovernanceDemoSummary = {
  timelock: Address;
  governor: Address;
  safe: Address;
  safeOwners: Address[];
  bandChange: { diff: string; states: string[]; bandBefore: number; bandAfter: number };
  guardian: {
    modeAfterPause: string;
    keeperRevert: string;
    modeAfterUnpauseVote: string;
    unpauseStates: string[];
  };
  adminRolesHandedOver: number;
};

/** A governed system: the DAO and the guardian Safe hold every admin role of `d`. */
export type Governed = Awaited<ReturnType<typeof governSystem>>;

/**
 * Deploys the DAO (token delegated to its holder, timelock, governor) and a 2-of-3 guardian Safe,
 * hands every admin role of `d` to them, and returns a helper that passes and executes a proposal
 * (propose → vote → queue → timelock delay → execute) with time travel on the embedded chain.
 */
export async function governSystem(connection: Connection, d: SystemDeployment) {
  const { viem, networkHelpers } = connection;
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const holder = wallets[HOLDER_INDEX];
  const owners = OWNER_INDEXES.map((i) => wallets[i]);
  if (!holder || owners.some((o) => o === undefined)) throw new Error("governance demo: not enough wallets");
  const safeOwners = owners.flatMap((o) => (o ? [o] : []));
  const preset = governancePresets.local;

  const dao = await deployGovernance(viem, {
    ...preset,
    tokenSupply: 1_000_000n * WAD,
    initialHolder: holder.account.address,
  });
  const token = await viem.getContractAt("DeltaVaultToken", dao.token, { client: { wallet: holder } });
  await publicClient.waitForTransactionReceipt({
    hash: await token.write.delegate([holder.account.address]),
  });
  await networkHelpers.mine();

  const safe = await deploySafe(viem, {
    owners: safeOwners.map((o) => o.account.address),
    threshold: 2,
    infrastructure: await deploySafeInfrastructure(viem),
  });

  const roles = await handOverToGovernance(
    viem,
    {
      riskPolicy: d.policy,
      vault: d.vault,
      ledger: d.ledger,
      approvals: d.approvals,
      oracleRouter: d.router,
      optionsAmm: d.optionsAmm,
      optionsPool: d.optionsPool,
      volatilitySurface: d.surface,
      perpDex: d.perpDex,
      priceFeeds: [d.feeds.weth, d.feeds.wbtc],
    },
    { timelock: dao.timelock, guardianSafe: safe },
  );

  const passAndExecute = async (proposal: GovernorProposal): Promise<string[]> => {
    const states: string[] = [];
    const { proposalId, status } = await propose(publicClient, holder, { governor: dao.governor, proposal });
    states.push(status.state);
    await networkHelpers.time.increase(preset.votingDelay + 1);
    await castVote(publicClient, holder, { governor: dao.governor, proposalId, support: "for" });
    states.push((await proposalStatus(publicClient, dao.governor, proposalId)).state);
    await networkHelpers.time.increase(preset.votingPeriod + 1);
    states.push((await proposalStatus(publicClient, dao.governor, proposalId)).state);
    await queue(publicClient, holder, { governor: dao.governor, proposal });
    states.push((await proposalStatus(publicClient, dao.governor, proposalId)).state);
    await networkHelpers.time.increase(preset.timelockDelay + 1);
    await execute(publicClient, holder, { governor: dao.governor, proposal });
    states.push((await proposalStatus(publicClient, dao.governor, proposalId)).state);
    return states;
  };
  return { dao, safe, safeOwners, roles, passAndExecute };
}

export async function runGovernanceDemo(
  connection: Connection,
  d: SystemDeployment,
): Promise<GovernanceDemoSummary> {
  const { viem } = connection;
  const publicClient = await viem.getPublicClient();
  const { dao, safe, safeOwners, roles, passAndExecute } = await governSystem(connection, d);

  const policy = await viem.getContractAt("RiskPolicy", d.policy);
  const band = async () =>
    Number(formatUnits((await policy.read.underlyingLimits([d.tokens.weth.address])).band, 18));

  // 1. A limit change voted by the DAO.
  const bandBefore = await band();
  const built = await buildLimitProposal(publicClient, {
    policy: d.policy,
    change: "set WETH band to 30 ETH",
    underlyings: { WETH: d.tokens.weth.address, WBTC: d.tokens.wbtc.address },
    executor: dao.timelock,
  });
  const bandStates = await passAndExecute(built.proposal);
  const bandChange = { diff: built.summary, states: bandStates, bandBefore, bandAfter: await band() };

  // 2. The guardian pauses with two of three signatures; the keeper is refused.
  const paused = await guardianAction(publicClient, {
    safe,
    owners: safeOwners.slice(0, 2),
    vault: d.vault,
    action: { kind: "pause" },
  });
  const vault = await viem.getContractAt("TreasuryVault", d.vault);
  let keeperRevert = "none (unexpected)";
  try {
    const epoch = await vault.read.epoch();
    const leg = {
      kind: 1,
      adapter: d.adapters.perp,
      underlying: d.tokens.weth.address,
      id: 0n,
      amount: -WAD,
      bound: 0n,
    };
    await vault.simulate.rebalance(
      [[leg], `0x${"00".repeat(32)}`, epoch, (await publicClient.getBlock()).timestamp + 600n],
      {
        account: d.accounts.keeper,
      },
    );
  } catch (err) {
    keeperRevert = describeRevert(err, vault.abi);
  }

  // 3. Only governance unpauses.
  const unpauseStates = await passAndExecute(
    unpauseProposal(d.vault, "demo: resume after the guardian's pause"),
  );
  const modes = ["Normal", "ReduceOnly", "Paused"];
  return {
    timelock: dao.timelock,
    governor: dao.governor,
    safe,
    safeOwners: safeOwners.map((o) => o.account.address),
    bandChange,
    guardian: {
      modeAfterPause: paused.modeAfter,
      keeperRevert,
      modeAfterUnpauseVote: modes[Number(await vault.read.mode())] ?? "?",
      unpauseStates,
    },
    adminRolesHandedOver: roles.length,
  };
}

export function formatGovernanceDemo(g: GovernanceDemoSummary): string[] {
  return [
    `Governance: Governor ${g.governor}, Timelock ${g.timelock} (${g.adminRolesHandedOver} roles handed over)`,
    `  guardian Safe ${g.safe}, 2 of ${g.safeOwners.length} owners`,
    `  proposal: ${g.bandChange.diff.split("\n").join(" | ")}`,
    `  ${g.bandChange.states.join(" → ")}: WETH band ${g.bandChange.bandBefore} → ${g.bandChange.bandAfter}`,
    `  Safe pause (2 signatures): vault ${g.guardian.modeAfterPause}; keeper's rebalance refused: ${g.guardian.keeperRevert}`,
    `  unpause vote ${g.guardian.unpauseStates.join(" → ")}: vault ${g.guardian.modeAfterUnpauseVote}`,
  ];
}
