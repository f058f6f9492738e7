import { beforeAll, describe, expect, it } from "vitest";
import { encodeFunctionData, getAddress, zeroAddress, type Abi, type Address } from "viem";
import { accessControlAbi, governorAbi, riskPolicyAbi, safeAbi } from "../../../scripts/governance/abis.ts";
import { GovernanceError } from "../../../scripts/governance/errors.ts";
import { castVote, propose, proposalStatus, queue } from "../../../scripts/governance/governor.ts";
import { buildLimitProposal } from "../../../scripts/governance/proposal.ts";
import { roleHolders, roleNamesFromAbi } from "../../../scripts/governance/roles.ts";
import { safeExec } from "../../../scripts/governance/safe.ts";
import { handOverToGovernance } from "../../../scripts/deploy/governance.ts";
import {
  VOTING_DELAY,
  VOTING_PERIOD,
  WAD,
  governedSystem,
  initialWethLimits,
  type GovernedSystemFixture,
  revertReader,
} from "./fixture.ts";

const decodeAbi: Abi = [...riskPolicyAbi, ...accessControlAbi, ...governorAbi];

const revertOf = revertReader(decodeAbi);

describe("only the timelock changes a limit", () => {
  let f: GovernedSystemFixture;
  beforeAll(async () => {
    f = await governedSystem();
  });

  it("a proposal that fails quorum ends Defeated, cannot be queued and changes nothing", async () => {
    const { publicClient, contracts, wallets, networkHelpers, dao } = f;
    const built = await buildLimitProposal(publicClient, {
      policy: contracts.policy.address,
      change: "set WETH band to 40 ETH",
      underlyings: f.underlyings,
    });
    // The small holder (1%) meets the proposal threshold but not the 4% quorum on its own.
    const { proposalId } = await propose(publicClient, wallets.smallHolder, {
      governor: dao.governor,
      proposal: built.proposal,
    });
    await networkHelpers.time.increase(VOTING_DELAY + 1);
    await castVote(publicClient, wallets.smallHolder, { governor: dao.governor, proposalId, support: "for" });
    await networkHelpers.time.increase(VOTING_PERIOD);

    const status = await proposalStatus(publicClient, dao.governor, proposalId);
    expect(status.state).toBe("Defeated");
    expect(status.votes.for).toBe(10_000n * WAD);
    expect(status.quorum).toBe(40_000n * WAD); // 4% of 1,000,000
    let refused: unknown;
    try {
      await queue(publicClient, wallets.smallHolder, { governor: dao.governor, proposal: built.proposal });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(GovernanceError);
    expect((refused as GovernanceError).message).toMatch(
      /was Defeated: quorum not reached \(10000000000000000000000 of 40000000000000000000000 For\+Abstain votes\)/,
    );
    // And the Governor itself refuses to queue it.
    const args = [
      built.proposal.targets,
      built.proposal.values,
      built.proposal.calldatas,
      built.proposal.descriptionHash,
    ] as const;
    expect(
      await revertOf(contracts.governor.write.queue(args, { account: wallets.smallHolder.account })),
    ).toMatch(/^GovernorUnexpectedProposalState\(/);
    expect(await contracts.policy.read.underlyingLimits([contracts.weth.address])).toEqual(initialWethLimits);
  });

  it("a proposal that reaches quorum through Abstain but loses For vs Against is Defeated too", async () => {
    const { publicClient, contracts, wallets, networkHelpers, dao } = f;
    const built = await buildLimitProposal(publicClient, {
      policy: contracts.policy.address,
      change: "set WETH band to 41 ETH",
      underlyings: f.underlyings,
    });
    const { proposalId } = await propose(publicClient, wallets.smallHolder, {
      governor: dao.governor,
      proposal: built.proposal,
    });
    await networkHelpers.time.increase(VOTING_DELAY + 1);
    await castVote(publicClient, wallets.smallHolder, {
      governor: dao.governor,
      proposalId,
      support: "against",
    });
    await castVote(publicClient, wallets.bigHolder, {
      governor: dao.governor,
      proposalId,
      support: "abstain",
    });
    await networkHelpers.time.increase(VOTING_PERIOD);
    const status = await proposalStatus(publicClient, dao.governor, proposalId);
    expect(status.state).toBe("Defeated");
    await expect(
      queue(publicClient, wallets.outsider, { governor: dao.governor, proposal: built.proposal }),
    ).rejects.toThrow(/was Defeated: For 0 did not beat Against 10000000000000000000000/);
    expect((await contracts.policy.read.underlyingLimits([contracts.weth.address])).band).toBe(25n * WAD);
  });

  it("direct RiskPolicy calls from the deployer, a token holder, the governor or the Safe revert", async () => {
    const { contracts, wallets, dao, safe, owners, publicClient } = f;
    const wider = { ...initialWethLimits, band: 99n * WAD };
    const govRole = await contracts.policy.read.GOVERNANCE_ROLE();
    const expected = (who: Address) => `AccessControlUnauthorizedAccount("${getAddress(who)}", "${govRole}")`;
    for (const wallet of [wallets.deployer, wallets.bigHolder, wallets.smallHolder, wallets.outsider]) {
      const who = wallet.account.address;
      expect(
        await revertOf(
          contracts.policy.write.setUnderlyingLimits([contracts.weth.address, wider], {
            account: wallet.account,
          }),
        ),
      ).toBe(expected(who));
      expect(
        await revertOf(contracts.policy.write.setVenueAllowed([who, true], { account: wallet.account })),
      ).toBe(expected(who));
    }
    // The governor holds no role: a call "from" it (simulated) is refused as well.
    const data = encodeFunctionData({
      abi: riskPolicyAbi,
      functionName: "setUnderlyingLimits",
      args: [getAddress(contracts.weth.address), wider],
    });
    expect(
      await revertOf(publicClient.call({ account: dao.governor, to: contracts.policy.address, data })),
    ).toBe(expected(dao.governor));
    // The guardian Safe, with a full 2-of-3 quorum of owner signatures, cannot change a limit:
    // the helper's preflight refuses, and the Safe itself reverts (GS013) when forced.
    await expect(
      safeExec(publicClient, { safe, owners: owners.slice(0, 2), to: contracts.policy.address, data }),
    ).rejects.toThrow(/would revert: AccessControlUnauthorizedAccount/);
    const forced = await revertOf(
      safeExec(publicClient, {
        safe,
        owners: owners.slice(0, 2),
        to: contracts.policy.address,
        data,
        preflight: false,
      }),
    );
    expect(forced).toMatch(/GS013/);
    expect(await publicClient.readContract({ address: safe, abi: safeAbi, functionName: "nonce" })).toBe(0n);
    expect(await contracts.policy.read.underlyingLimits([contracts.weth.address])).toEqual(initialWethLimits);
    // Nor can anyone grant themselves the role.
    expect(
      await revertOf(
        contracts.policy.write.grantRole([govRole, wallets.outsider.account.address], {
          account: wallets.deployer.account,
        }),
      ),
    ).toMatch(/^AccessControlUnauthorizedAccount\(/);
  });

  it("after the handover the deployer holds no role; the timelock holds every governed one; the Safe only GUARDIAN", async () => {
    const { viem, publicClient, contracts, wallets, dao, safe } = f;
    const deployer = getAddress(wallets.deployer.account.address);
    const timelock = getAddress(dao.timelock);
    const governed: Record<
      string,
      { address: Address; abi: Abi; timelockRoles: string[]; safeRoles: string[] }
    > = {
      RiskPolicy: {
        address: contracts.policy.address,
        abi: contracts.policy.abi,
        timelockRoles: ["DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE"],
        safeRoles: [],
      },
      TreasuryVault: {
        address: contracts.vault.address,
        abi: contracts.vault.abi,
        timelockRoles: ["DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE"],
        safeRoles: ["GUARDIAN_ROLE"],
      },
      TreasuryLedger: {
        address: contracts.ledger.address,
        abi: contracts.ledger.abi,
        timelockRoles: ["DEFAULT_ADMIN_ROLE"],
        safeRoles: [],
      },
      HedgeApprovals: {
        address: contracts.approvals.address,
        abi: contracts.approvals.abi,
        timelockRoles: ["DEFAULT_ADMIN_ROLE"],
        safeRoles: [],
      },
      OracleRouter: {
        address: contracts.router.address,
        abi: contracts.router.abi,
        timelockRoles: ["DEFAULT_ADMIN_ROLE", "ORACLE_ADMIN_ROLE"],
        safeRoles: [],
      },
      ManagedPriceFeed: {
        address: contracts.feed.address,
        abi: contracts.feed.abi,
        timelockRoles: ["DEFAULT_ADMIN_ROLE"],
        safeRoles: [],
      },
    };
    for (const [name, c] of Object.entries(governed)) {
      const roles = roleNamesFromAbi(c.abi);
      expect(roles, name).toContain("DEFAULT_ADMIN_ROLE");
      const table = await roleHolders(publicClient, c.address, roles);
      for (const { role, roleId, holders } of table) {
        // Enumerated from the ABI and confirmed with hasRole: the deployer holds nothing (but the
        // feed operator's ORACLE_ROLE, which publishes prices and governs nothing) ...
        const operator = name === "ManagedPriceFeed" && role === "ORACLE_ROLE";
        expect(
          await publicClient.readContract({
            address: c.address,
            abi: accessControlAbi,
            functionName: "hasRole",
            args: [roleId, deployer],
          }),
          `${name}.${role}`,
        ).toBe(operator);
        // ... and the event-rebuilt holders are exactly the intended ones.
        const want: Address[] = [];
        if (c.timelockRoles.includes(role)) want.push(timelock);
        if (c.safeRoles.includes(role)) want.push(getAddress(safe));
        if (operator) want.push(deployer);
        expect([...holders].sort(), `${name}.${role}`).toEqual(want.sort());
      }
    }
    // The governor holds no role on the timelock except proposer/canceller; anyone executes.
    const tl = await roleHolders(publicClient, timelock, roleNamesFromAbi(contracts.timelock.abi));
    const byRole = Object.fromEntries(tl.map((r) => [r.role, r.holders]));
    expect(byRole).toEqual({
      DEFAULT_ADMIN_ROLE: [timelock],
      PROPOSER_ROLE: [getAddress(dao.governor)],
      CANCELLER_ROLE: [getAddress(dao.governor)],
      EXECUTOR_ROLE: [zeroAddress],
    });
    // The handover's own table agrees (deployer false everywhere, timelock / Safe true where due).
    for (const row of f.roleTable) {
      const due = row.role === "GUARDIAN_ROLE" ? row.holder === "guardianSafe" : row.holder === "timelock";
      expect(row.held, `${row.contract}.${row.role} ${row.holder}`).toBe(due);
    }
    // Running it again with the deployer no longer admin is a no-op that verifies the same state.
    const again = await handOverToGovernance(viem, f.system, { timelock, guardianSafe: safe });
    expect(again).toEqual(f.roleTable);
  });

  it("handover refuses a mis-wired system and impossible parameters", async () => {
    const { viem, dao, safe, system, wallets } = f;
    await expect(
      handOverToGovernance(
        viem,
        { ...system, riskPolicy: system.ledger },
        { timelock: dao.timelock, guardianSafe: safe },
      ),
    ).rejects.toThrow(/vault\.policy is 0x[0-9a-fA-F]{40}, expected/);
    await expect(handOverToGovernance(viem, system, { timelock: safe, guardianSafe: safe })).rejects.toThrow(
      /must differ/,
    );
    // A venue the deployer does not administer and whose roles the timelock does not hold: clear refusal.
    const stray = await viem.deployContract("PerpDEX", [
      f.contracts.usdc.address,
      system.oracleRouter,
      wallets.outsider.account.address,
    ]);
    await expect(
      handOverToGovernance(
        viem,
        { ...system, perpDex: stray.address },
        { timelock: dao.timelock, guardianSafe: safe },
      ),
    ).rejects.toThrow(
      /cannot grant PerpDEX\.MARKET_ADMIN_ROLE to the timelock: the deployer 0x[0-9a-fA-F]{40} is not its admin/,
    );
  });
});
