import { beforeAll, describe, expect, it } from "vitest";
import { getAddress, parseEventLogs, type Abi } from "viem";
import { riskPolicyAbi, timelockAbi, governorAbi } from "../../../scripts/governance/abis.ts";
import { GovernanceError } from "../../../scripts/governance/errors.ts";
import {
  castVote,
  execute,
  propose,
  proposalStatus,
  queue,
  timelockOperationId,
} from "../../../scripts/governance/governor.ts";
import { buildLimitProposal } from "../../../scripts/governance/proposal.ts";
import {
  TIMELOCK_DELAY,
  VOTING_DELAY,
  VOTING_PERIOD,
  WAD,
  governedSystem,
  initialWethLimits,
  type GovernedSystemFixture,
  revertReader,
} from "./fixture.ts";

const VENUE = "0x00000000000000000000000000000000000000aa";
const decodeAbi: Abi = [...governorAbi, ...timelockAbi, ...riskPolicyAbi];

const revertOf = revertReader(decodeAbi);

async function rejectionOf(p: Promise<unknown>): Promise<GovernanceError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GovernanceError) return err;
    throw err;
  }
  throw new Error("expected a GovernanceError");
}

describe("governance lifecycle: propose → vote → queue → delay → execute", () => {
  let f: GovernedSystemFixture;
  beforeAll(async () => {
    f = await governedSystem();
  });

  it("changes the WETH band to 30 ETH only after the vote and the timelock delay", async () => {
    const { publicClient, contracts, wallets, networkHelpers, dao } = f;
    const built = await buildLimitProposal(publicClient, {
      policy: contracts.policy.address,
      change: "set WETH band to 30 ETH",
      underlyings: f.underlyings,
      executor: dao.timelock,
    });
    // Human-readable diff: current → proposed, with units; only the band changes.
    expect(built.diff.filter((d) => d.changed)).toEqual([
      { scope: "WETH", field: "band", current: "25 ETH", proposed: "30 ETH", changed: true },
    ]);
    expect(built.summary).toContain("25 ETH → 30 ETH");
    expect(built.proposal.description).toContain("- WETH band: 25 ETH → 30 ETH");
    expect(built.proposal.targets).toEqual([getAddress(contracts.policy.address)]);

    // A holder without votes cannot propose (threshold 1000 tokens).
    const noVotes = await rejectionOf(
      propose(publicClient, wallets.outsider, { governor: dao.governor, proposal: built.proposal }),
    );
    expect(noVotes.code).toBe("threshold");
    expect(noVotes.message).toMatch(/has 0 votes, the proposal threshold is 1000000000000000000000/);

    const { proposalId, status } = await propose(publicClient, wallets.bigHolder, {
      governor: dao.governor,
      proposal: built.proposal,
    });
    expect(status.state).toBe("Pending");
    const again = await rejectionOf(
      propose(publicClient, wallets.bigHolder, { governor: dao.governor, proposal: built.proposal }),
    );
    expect(again.code).toBe("state");
    expect(again.message).toMatch(/identical proposal .* already exists \(Pending\)/);

    // Voting has not opened yet: helper refuses, and the Governor itself reverts.
    const early = await rejectionOf(
      castVote(publicClient, wallets.bigHolder, { governor: dao.governor, proposalId, support: "for" }),
    );
    expect(early.code).toBe("state");
    expect(early.message).toMatch(/is Pending: voting opens after/);
    expect(
      await revertOf(
        contracts.governor.write.castVote([proposalId, 1], { account: wallets.bigHolder.account }),
      ),
    ).toMatch(/^GovernorUnexpectedProposalState\(/);

    await networkHelpers.time.increase(VOTING_DELAY + 1);
    const vote = await castVote(publicClient, wallets.bigHolder, {
      governor: dao.governor,
      proposalId,
      support: "for",
      reason: "wider band for the fee season",
    });
    expect(vote.weight).toBe(1_000_000n * WAD - 10_000n * WAD);
    const twice = await rejectionOf(
      castVote(publicClient, wallets.bigHolder, { governor: dao.governor, proposalId, support: "for" }),
    );
    expect(twice.message).toMatch(/has already voted/);

    // Cannot queue while voting is open.
    const tooSoon = await rejectionOf(
      queue(publicClient, wallets.outsider, { governor: dao.governor, proposal: built.proposal }),
    );
    expect(tooSoon.message).toMatch(/is Active: it can be queued only after voting ends/);

    await networkHelpers.time.increase(VOTING_PERIOD);
    expect((await proposalStatus(publicClient, dao.governor, proposalId)).state).toBe("Succeeded");
    const queued = await queue(publicClient, wallets.outsider, {
      governor: dao.governor,
      proposal: built.proposal,
    });
    const now = BigInt(await networkHelpers.time.latest());
    expect(queued.eta).toBe(now + BigInt(TIMELOCK_DELAY));
    const opId = await timelockOperationId(publicClient, dao.governor, built.proposal);
    expect(await contracts.timelock.read.isOperationPending([opId])).toBe(true);
    expect(await contracts.timelock.read.isOperationReady([opId])).toBe(false);

    // Before the delay: the helper refuses, and the Governor → TimelockController call reverts.
    const notReady = await rejectionOf(
      execute(publicClient, wallets.outsider, { governor: dao.governor, proposal: built.proposal }),
    );
    expect(notReady.message).toMatch(/timelock delay ends at/);
    const args = [
      built.proposal.targets,
      built.proposal.values,
      built.proposal.calldatas,
      built.proposal.descriptionHash,
    ] as const;
    expect(
      await revertOf(contracts.governor.write.execute(args, { account: wallets.outsider.account })),
    ).toBe(
      `TimelockUnexpectedOperationState("${opId}", "0x${"4".padStart(64, "0")}")`, // expected: Ready (1 << 2)
    );
    // Nor can anyone bypass the Governor and execute the timelock operation directly early.
    const salt =
      `0x${((BigInt(dao.governor) << 96n) ^ BigInt(built.proposal.descriptionHash)).toString(16).padStart(64, "0")}` as const;
    expect(
      await revertOf(
        contracts.timelock.write.executeBatch(
          [
            built.proposal.targets,
            built.proposal.values,
            built.proposal.calldatas,
            `0x${"0".repeat(64)}`,
            salt,
          ],
          { account: wallets.outsider.account },
        ),
      ),
    ).toMatch(/^TimelockUnexpectedOperationState\(/);
    expect((await contracts.policy.read.underlyingLimits([contracts.weth.address])).band).toBe(25n * WAD);

    await networkHelpers.time.increase(TIMELOCK_DELAY);
    const { hash } = await execute(publicClient, wallets.outsider, {
      governor: dao.governor,
      proposal: built.proposal,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect((await proposalStatus(publicClient, dao.governor, proposalId)).state).toBe("Executed");

    const after = await contracts.policy.read.underlyingLimits([contracts.weth.address]);
    expect(after.band).toBe(30n * WAD);
    expect({ ...after, band: 25n * WAD }).toEqual(initialWethLimits);
    const [event] = parseEventLogs({
      abi: riskPolicyAbi,
      eventName: "UnderlyingLimitsSet",
      logs: receipt.logs,
    });
    expect(getAddress(event?.address ?? "0x")).toBe(getAddress(contracts.policy.address));
    expect(event?.args.underlying).toBe(getAddress(contracts.weth.address));
    expect(event?.args.oldLimits.band).toBe(25n * WAD);
    expect(event?.args.newLimits.band).toBe(30n * WAD);
    expect(event?.args.newLimits.maxHedgeRatio).toBe(initialWethLimits.maxHedgeRatio);

    // Executed is final.
    const done = await rejectionOf(
      execute(publicClient, wallets.outsider, { governor: dao.governor, proposal: built.proposal }),
    );
    expect(done.message).toMatch(/is Executed: it cannot be executed/);
  });

  it("several changes in one proposal: one call per struct, all applied together", async () => {
    const { publicClient, contracts, wallets, networkHelpers, dao } = f;
    const built = await buildLimitProposal(publicClient, {
      policy: contracts.policy.address,
      change: `set WETH maxHedgeRatio to 90%; set slippage to 0.4%; set keeperCooldown to 2 min; allow venue ${VENUE}`,
      underlyings: f.underlyings,
      executor: dao.timelock,
    });
    expect(built.calls.map((c) => c.fn)).toEqual([
      "setUnderlyingLimits",
      "setGlobalLimits",
      "setVenueAllowed",
    ]);
    expect(
      built.diff.filter((d) => d.changed).map((d) => `${d.scope} ${d.field}: ${d.current} → ${d.proposed}`),
    ).toEqual([
      "WETH maxHedgeRatio: 100% → 90%",
      "global maxSlippageBps: 50 bps → 40 bps",
      "global keeperCooldown: 60 s (1min) → 120 s (2min)",
      `venue ${getAddress(VENUE)} allowed: not allowed → allowed`,
    ]);
    const { proposalId } = await propose(publicClient, wallets.bigHolder, {
      governor: dao.governor,
      proposal: built.proposal,
    });
    await networkHelpers.time.increase(VOTING_DELAY + 1);
    await castVote(publicClient, wallets.bigHolder, { governor: dao.governor, proposalId, support: "for" });
    await castVote(publicClient, wallets.smallHolder, {
      governor: dao.governor,
      proposalId,
      support: "against",
    });
    await networkHelpers.time.increase(VOTING_PERIOD);
    await queue(publicClient, wallets.outsider, { governor: dao.governor, proposal: built.proposal });
    await networkHelpers.time.increase(TIMELOCK_DELAY);
    await execute(publicClient, wallets.outsider, { governor: dao.governor, proposal: built.proposal });

    const weth = await contracts.policy.read.underlyingLimits([contracts.weth.address]);
    expect(weth.maxHedgeRatio).toBe((9n * WAD) / 10n);
    expect(weth.band).toBe(30n * WAD); // from the previous proposal, untouched
    const g = await contracts.policy.read.globalLimits();
    expect(g.maxSlippageBps).toBe(40);
    expect(g.keeperCooldown).toBe(120);
    expect(g.oracleMaxAge).toBe(3_600);
    expect(await contracts.policy.read.venueAllowed([VENUE])).toBe(true);
  });

  it("refuses at build time what RiskPolicy would refuse at execution (preflight as the timelock)", async () => {
    const { publicClient, contracts, dao } = f;
    const build = (change: string) =>
      buildLimitProposal(publicClient, {
        policy: contracts.policy.address,
        change,
        underlyings: f.underlyings,
        executor: dao.timelock,
      });
    const minAboveMax = await rejectionOf(build("set WETH minHedgeRatio to 95%"));
    expect(minAboveMax.code).toBe("preflight");
    expect(minAboveMax.message).toMatch(/InvalidLimit\("minHedgeRatio"\)/);
    const slippage = await rejectionOf(build("set slippage to 11%"));
    expect(slippage.message).toMatch(/InvalidLimit\("maxSlippageBps"\)/);
    const zeroBand = await rejectionOf(build("set WETH band to 0"));
    expect(zeroBand.message).toMatch(/InvalidLimit\("band"\)/);
    // The same call from anyone but the timelock is refused by AccessControl.
    const asDeployer = await rejectionOf(
      buildLimitProposal(publicClient, {
        policy: contracts.policy.address,
        change: "set WETH band to 31 ETH",
        underlyings: f.underlyings,
        executor: f.wallets.deployer.account.address,
      }),
    );
    expect(asDeployer.message).toMatch(/AccessControlUnauthorizedAccount\(/);
    // Nothing to change / unknown asset address / unparsable text.
    expect((await rejectionOf(build("set WETH band to 30 ETH"))).code).toBe("no-change");
    expect((await rejectionOf(build("set WBTC band to 1 BTC"))).message).toMatch(/no address given for WBTC/);
    const typo = await rejectionOf(build("set WETH bnad to 30 ETH"));
    expect(typo.code).toBe("parse");
    expect(typo.message).toBe('unknown field "bnad" (did you mean "band"?)');
    const unconfigured = await rejectionOf(
      buildLimitProposal(publicClient, {
        policy: contracts.policy.address,
        change: "set WETH band to 30 ETH",
        underlyings: { WETH: contracts.usdc.address },
      }),
    );
    expect(unconfigured.code).toBe("unconfigured");
  });
});
