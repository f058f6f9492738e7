// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {VaultFixture} from "./VaultFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {TreasuryVault} from "../../../contracts/core/TreasuryVault.sol";
import {HedgeApprovals} from "../../../contracts/core/HedgeApprovals.sol";

/// @notice Authority tiers: below tier 1 (5M USD) a keeper acts alone; from tier 1 FINANCE must
/// approve the exact bundle hash a PROPOSER queued; from tier 2 (20M USD) FINANCE and RISK, from two
/// different accounts. Approvals expire, bind the exact bundle, are consumed once, and never bypass
/// the post-trade checks.
contract VaultTiersTest is VaultFixture {
    bytes32 internal constant INPUTS = keccak256("keeper inputs");

    function setUp() public {
        _deploySystem();
    }

    /// @dev Two opposing perp legs net to -700 (lands at zero) with gross notional
    /// (gross + net) x 3,000 / 2: tier 1 at gross 3,300 (9.9M), tier 2 at 7,300 (21.9M).
    function _bundle(uint256 gross) internal view returns (TreasuryVault.Leg[] memory) {
        int256 shortLeg = -int256((gross + 700e18) / 2);
        int256 longLeg = int256((gross - 700e18) / 2);
        return _legs3(
            _marginLeg(address(weth), 1_000_000e6),
            _perpLeg(address(weth), shortLeg, 2900e18),
            _perpLeg(address(weth), longLeg, 3100e18)
        );
    }

    function _tier1() internal view returns (TreasuryVault.Leg[] memory) {
        return _bundle(3_300e18);
    }

    function _tier2() internal view returns (TreasuryVault.Leg[] memory) {
        return _bundle(7_300e18);
    }

    function _deadline() internal view returns (uint256) {
        return block.timestamp + 30 minutes;
    }

    function _hash(TreasuryVault.Leg[] memory legs, uint256 deadline) internal view returns (bytes32) {
        return vault.bundleHash(legs, INPUTS, vault.epoch(), deadline);
    }

    function _propose(bytes32 h) internal {
        uint64 e = vault.epoch();
        vm.prank(KEEPER);
        approvals.propose(h, e);
    }

    function _approve(address who, bytes32 h, HedgeApprovals.Approver as_) internal {
        vm.prank(who);
        approvals.approve(h, as_);
    }

    /// @dev Submits and returns the tier from the Rebalanced event.
    function _submit(TreasuryVault.Leg[] memory legs, uint256 deadline) internal returns (uint8 tier) {
        uint64 e = vault.epoch();
        vm.recordLogs();
        vm.prank(KEEPER);
        vault.rebalance(legs, INPUTS, e, deadline);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(vault) && logs[i].topics[0] == TreasuryVault.Rebalanced.selector) {
                (tier,) = abi.decode(logs[i].data, (uint8, uint256));
                return tier;
            }
        }
        fail("no Rebalanced event");
    }

    function _submitReverts(TreasuryVault.Leg[] memory legs, uint256 deadline, bytes memory err) internal {
        uint64 e = vault.epoch();
        vm.expectRevert(err);
        vm.prank(KEEPER);
        vault.rebalance(legs, INPUTS, e, deadline);
    }

    // ------------------------------------------------------------------ paths

    function testTier0KeeperAlone() public {
        uint8 tier = _submit(_perpHedgeLegs(-700e18), _deadline());
        assertEq(uint256(tier), 0, "tier 0");
        assertEq(uint256(vault.epoch()), 1, "executed");
    }

    function testTier1NeedsFinanceApprovalOfExactHash() public {
        TreasuryVault.Leg[] memory legs = _tier1();
        uint256 d = _deadline();
        bytes32 h = _hash(legs, d);
        _submitReverts(legs, d, abi.encodeWithSelector(HedgeApprovals.UnknownProposal.selector, h));
        _propose(h);
        _submitReverts(
            legs, d, abi.encodeWithSelector(HedgeApprovals.MissingApproval.selector, h, HedgeApprovals.Approver.Finance)
        );
        // RISK alone is not FINANCE.
        _approve(RISK, h, HedgeApprovals.Approver.Risk);
        _submitReverts(
            legs, d, abi.encodeWithSelector(HedgeApprovals.MissingApproval.selector, h, HedgeApprovals.Approver.Finance)
        );
        _approve(FINANCE, h, HedgeApprovals.Approver.Finance);
        uint8 tier = _submit(legs, d);
        assertEq(uint256(tier), 1, "tier 1");
        assertTrue(approvals.proposal(h).consumed, "approval consumed");
        assertApproxEqAbs(_net(address(weth)), int256(0), 1e9, "hedged");
    }

    function testTier2NeedsFinanceAndRisk() public {
        TreasuryVault.Leg[] memory legs = _tier2();
        uint256 d = _deadline();
        bytes32 h = _hash(legs, d);
        _propose(h);
        _approve(FINANCE, h, HedgeApprovals.Approver.Finance);
        _submitReverts(legs, d, abi.encodeWithSelector(HedgeApprovals.MissingApproval.selector, h, HedgeApprovals.Approver.Risk));
        _approve(RISK, h, HedgeApprovals.Approver.Risk);
        uint8 tier = _submit(legs, d);
        assertEq(uint256(tier), 2, "tier 2");
        HedgeApprovals.Proposal memory p = approvals.proposal(h);
        assertEq(p.financeApprover, FINANCE, "finance approver");
        assertEq(p.riskApprover, RISK, "risk approver");
        assertTrue(p.consumed, "consumed");
    }

    // ------------------------------------------------------------------ failures

    function testExpiredApprovalReverts() public {
        TreasuryVault.Leg[] memory legs = _tier1();
        uint256 d = block.timestamp + 3 hours;
        bytes32 h = _hash(legs, d);
        _propose(h);
        _approve(FINANCE, h, HedgeApprovals.Approver.Finance);
        uint64 expiresAt = approvals.proposal(h).expiresAt;
        assertEq(uint256(expiresAt), block.timestamp + 1 hours, "expiry from policy");
        // At the expiry second it still works (checked in a snapshot), one second later it does not.
        vm.warp(expiresAt);
        _refreshFeeds();
        uint256 snap = vm.snapshotState();
        assertEq(uint256(_submit(legs, d)), 1, "valid at expiry");
        vm.revertToState(snap);
        vm.warp(uint256(expiresAt) + 1);
        _refreshFeeds();
        _submitReverts(legs, d, abi.encodeWithSelector(HedgeApprovals.ProposalExpired.selector, h, expiresAt));
        // An expired, unused hash may be proposed again; the old approvals do not carry over.
        _propose(h);
        assertEq(approvals.proposal(h).financeApprover, address(0), "approvals reset");
        _submitReverts(
            legs, d, abi.encodeWithSelector(HedgeApprovals.MissingApproval.selector, h, HedgeApprovals.Approver.Finance)
        );
    }

    function testChangedBundleIsUnknown() public {
        TreasuryVault.Leg[] memory legs = _tier1();
        uint256 d = _deadline();
        bytes32 h = _hash(legs, d);
        _propose(h);
        _approve(FINANCE, h, HedgeApprovals.Approver.Finance);
        // One leg one unit smaller: a different bundle, never approved.
        legs[2].amount -= 1e18;
        bytes32 changed = _hash(legs, d);
        assertTrue(changed != h, "hash binds the legs");
        _submitReverts(legs, d, abi.encodeWithSelector(HedgeApprovals.UnknownProposal.selector, changed));
        // The same legs with another deadline or inputs hash are different bundles too.
        legs[2].amount += 1e18;
        _submitReverts(legs, d + 1, abi.encodeWithSelector(HedgeApprovals.UnknownProposal.selector, _hash(legs, d + 1)));
        uint64 e = vault.epoch();
        bytes32 otherInputs = vault.bundleHash(legs, keccak256("other inputs"), e, d);
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.UnknownProposal.selector, otherInputs));
        vm.prank(KEEPER);
        vault.rebalance(legs, keccak256("other inputs"), e, d);
        // The approved one still executes.
        assertEq(uint256(_submit(legs, d)), 1, "approved bundle");
    }

    function testWrongApprovers() public {
        TreasuryVault.Leg[] memory legs = _tier2();
        uint256 d = _deadline();
        bytes32 h = _hash(legs, d);
        _propose(h);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, KEEPER, approvals.FINANCE_ROLE())
        );
        _approve(KEEPER, h, HedgeApprovals.Approver.Finance);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, approvals.RISK_ROLE())
        );
        _approve(STRANGER, h, HedgeApprovals.Approver.Risk);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, FINANCE, approvals.RISK_ROLE())
        );
        _approve(FINANCE, h, HedgeApprovals.Approver.Risk);

        // One account holding both roles cannot be both approvers, in either order.
        address both = address(0xB07);
        vm.startPrank(GOV);
        approvals.grantRole(approvals.FINANCE_ROLE(), both);
        approvals.grantRole(approvals.RISK_ROLE(), both);
        vm.stopPrank();
        _approve(both, h, HedgeApprovals.Approver.Finance);
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.SameApprover.selector, both));
        _approve(both, h, HedgeApprovals.Approver.Risk);
        _submitReverts(legs, d, abi.encodeWithSelector(HedgeApprovals.MissingApproval.selector, h, HedgeApprovals.Approver.Risk));

        bytes32 h2 = keccak256("second bundle");
        _propose(h2);
        _approve(both, h2, HedgeApprovals.Approver.Risk);
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.SameApprover.selector, both));
        _approve(both, h2, HedgeApprovals.Approver.Finance);

        // A second, distinct account completes the first bundle.
        _approve(RISK, h, HedgeApprovals.Approver.Risk);
        assertEq(uint256(_submit(legs, d)), 2, "tier 2 with two accounts");
    }

    function testApproveUnknownHashReverts() public {
        bytes32 h = keccak256("never proposed");
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.UnknownProposal.selector, h));
        _approve(FINANCE, h, HedgeApprovals.Approver.Finance);
    }

    function testProposalWhilePausedReverts() public {
        vm.prank(GUARDIAN);
        vault.pause();
        uint64 e = vault.epoch();
        vm.expectRevert(HedgeApprovals.VaultPaused.selector);
        vm.prank(KEEPER);
        approvals.propose(keccak256("b"), e);
    }

    function testProposalForStaleEpochReverts() public {
        _submit(_perpHedgeLegs(-700e18), _deadline());
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.WrongEpoch.selector, uint64(1), uint64(0)));
        vm.prank(KEEPER);
        approvals.propose(keccak256("b"), 0);
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.WrongEpoch.selector, uint64(1), uint64(2)));
        vm.prank(KEEPER);
        approvals.propose(keccak256("b"), 2);
    }

    function testApprovedBundleStillPassesPostTradeChecks() public {
        // 3,000 gross but nets to -1,000: approved, yet it ends at -300, outside the band.
        TreasuryVault.Leg[] memory legs = _legs3(
            _marginLeg(address(weth), 1_000_000e6),
            _perpLeg(address(weth), -2_000e18, 2900e18),
            _perpLeg(address(weth), 1_000e18, 3100e18)
        );
        uint256 d = _deadline();
        bytes32 h = _hash(legs, d);
        _propose(h);
        _approve(FINANCE, h, HedgeApprovals.Approver.Finance);
        VaultState memory before = _state();
        _submitReverts(
            legs,
            d,
            abi.encodeWithSelector(TreasuryVault.OutsideBand.selector, address(weth), -int256(300e18), int256(0), uint256(25e18))
        );
        _assertSameState(before, _state());
        assertFalse(approvals.proposal(h).consumed, "a reverted bundle does not use up its approval");
    }

    function testApprovalConsumedOnce() public {
        TreasuryVault.Leg[] memory legs = _tier1();
        uint256 d = _deadline();
        bytes32 h = _hash(legs, d);
        _propose(h);
        uint64 e0 = vault.epoch();
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.AlreadyProposed.selector, h));
        vm.prank(KEEPER2);
        approvals.propose(h, e0);
        _approve(FINANCE, h, HedgeApprovals.Approver.Finance);
        assertEq(uint256(_submit(legs, d)), 1, "executed");
        // Used: it cannot be consumed, approved or proposed again.
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.AlreadyConsumed.selector, h));
        vm.prank(address(vault));
        approvals.consume(h, 1);
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.AlreadyConsumed.selector, h));
        _approve(RISK, h, HedgeApprovals.Approver.Risk);
        uint64 e1 = vault.epoch();
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.AlreadyProposed.selector, h));
        vm.prank(KEEPER);
        approvals.propose(h, e1);
        // And the executed bundle cannot be replayed (its epoch is gone).
        vm.expectRevert(abi.encodeWithSelector(TreasuryVault.WrongEpoch.selector, uint64(1), uint64(0)));
        vm.prank(KEEPER);
        vault.rebalance(legs, INPUTS, 0, d);
    }

    function testOnlyVaultConsumes() public {
        bytes32 h = keccak256("x");
        _propose(h);
        _approve(FINANCE, h, HedgeApprovals.Approver.Finance);
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.NotVault.selector, FINANCE));
        vm.prank(FINANCE);
        approvals.consume(h, 1);
        vm.prank(address(vault));
        approvals.consume(h, 1);
        assertTrue(approvals.proposal(h).consumed, "consumed by the vault");
    }
}
