// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {VaultFixture} from "./VaultFixture.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";
import {TreasuryVault} from "../../../contracts/core/TreasuryVault.sol";
import {RiskPolicy} from "../../../contracts/core/RiskPolicy.sol";
import {TreasuryLedger} from "../../../contracts/core/TreasuryLedger.sol";
import {HedgeApprovals} from "../../../contracts/core/HedgeApprovals.sol";

/// @notice The role matrix: every external state-changing function of TreasuryVault, RiskPolicy,
/// TreasuryLedger and HedgeApprovals, called by every role holder and by a stranger. Each row runs
/// in a fresh snapshot and asserts: allowed <=> the call is not refused by access control
/// (AccessControlUnauthorizedAccount, or NotVault for the vault-only `consume`). An allowed call
/// must also succeed, except where the row names the business error it meets instead.
contract VaultRolesTest is VaultFixture {
    enum Fn {
        VaultRebalance,
        VaultRebuildOptionBook,
        VaultPause,
        VaultSetReduceOnly,
        VaultUnpause,
        VaultEmergencyUnwind,
        VaultAddUnderlying,
        VaultDeposit,
        VaultWithdraw,
        VaultGrantRole,
        VaultRevokeRole,
        VaultRenounceRole,
        PolicySetGlobalLimits,
        PolicySetUnderlyingLimits,
        PolicySetVenueAllowed,
        PolicyGrantRole,
        PolicyRevokeRole,
        PolicyRenounceRole,
        LedgerSetLiability,
        LedgerSetBucketTarget,
        LedgerGrantRole,
        LedgerRevokeRole,
        LedgerRenounceRole,
        ApprovalsBindVault,
        ApprovalsPropose,
        ApprovalsApproveFinance,
        ApprovalsApproveRisk,
        ApprovalsConsume,
        ApprovalsGrantRole,
        ApprovalsRevokeRole,
        ApprovalsRenounceRole
    }

    /// @dev One cell of the matrix.
    struct Row {
        Fn fn;
        address caller;
        bool expectedAllowed;
    }

    bool internal constant Y = true;
    bool internal constant N = false;

    /// @dev The columns of the table, in order.
    address[8] internal CALLERS;

    Row[] internal _rows;
    TestToken internal newToken;
    bytes32 internal pendingHash;
    uint64 internal pendingEpoch;

    function setUp() public {
        _deploySystem();
        CALLERS = [GOV, KEEPER, GUARDIAN, TREASURER, FINANCE, RISK, address(vault), STRANGER];
        // Base state: a perp hedge is open (so emergencyUnwind has something to close), a bundle
        // hash is proposed and FINANCE-approved (so approve/consume have a live proposal), and the
        // treasurer holds spare USDC to deposit.
        _rebalance(KEEPER, _perpHedgeLegs(-700e18));
        pendingEpoch = vault.epoch();
        pendingHash = keccak256("a bundle");
        vm.prank(KEEPER);
        approvals.propose(pendingHash, pendingEpoch);
        vm.prank(FINANCE);
        approvals.approve(pendingHash, HedgeApprovals.Approver.Finance);
        usdc.mint(TREASURER, 1_000e6);
        newToken = new TestToken("Third", "THD", 18, address(this));
        _buildTable();
    }

    /// @dev The role matrix. Columns: GOV, KEEPER (also PROPOSER), GUARDIAN, TREASURER, FINANCE,
    /// RISK, the VAULT contract itself, a STRANGER.
    function _buildTable() internal {
        //                                     GOV KEEPER GUARD TREAS FIN RISK VAULT STRANGER
        _line(Fn.VaultRebalance,             [N,  Y,     N,    N,    N,  N,   N,    N]);
        _line(Fn.VaultRebuildOptionBook,     [Y,  Y,     Y,    Y,    Y,  Y,   Y,    Y]);
        _line(Fn.VaultPause,                 [N,  N,     Y,    N,    N,  N,   N,    N]);
        _line(Fn.VaultSetReduceOnly,         [N,  N,     Y,    N,    N,  N,   N,    N]);
        _line(Fn.VaultUnpause,               [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.VaultEmergencyUnwind,       [N,  N,     Y,    N,    N,  N,   N,    N]);
        _line(Fn.VaultAddUnderlying,         [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.VaultDeposit,               [N,  N,     N,    Y,    N,  N,   N,    N]);
        _line(Fn.VaultWithdraw,              [N,  N,     N,    Y,    N,  N,   N,    N]);
        _line(Fn.VaultGrantRole,             [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.VaultRevokeRole,            [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.VaultRenounceRole,          [Y,  Y,     Y,    Y,    Y,  Y,   Y,    Y]);
        _line(Fn.PolicySetGlobalLimits,      [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.PolicySetUnderlyingLimits,  [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.PolicySetVenueAllowed,      [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.PolicyGrantRole,            [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.PolicyRevokeRole,           [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.PolicyRenounceRole,         [Y,  Y,     Y,    Y,    Y,  Y,   Y,    Y]);
        _line(Fn.LedgerSetLiability,         [N,  N,     N,    Y,    N,  N,   N,    N]);
        _line(Fn.LedgerSetBucketTarget,      [N,  N,     N,    Y,    N,  N,   N,    N]);
        _line(Fn.LedgerGrantRole,            [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.LedgerRevokeRole,           [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.LedgerRenounceRole,         [Y,  Y,     Y,    Y,    Y,  Y,   Y,    Y]);
        _line(Fn.ApprovalsBindVault,         [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.ApprovalsPropose,           [N,  Y,     N,    N,    N,  N,   N,    N]);
        _line(Fn.ApprovalsApproveFinance,    [N,  N,     N,    N,    Y,  N,   N,    N]);
        _line(Fn.ApprovalsApproveRisk,       [N,  N,     N,    N,    N,  Y,   N,    N]);
        _line(Fn.ApprovalsConsume,           [N,  N,     N,    N,    N,  N,   Y,    N]);
        _line(Fn.ApprovalsGrantRole,         [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.ApprovalsRevokeRole,        [Y,  N,     N,    N,    N,  N,   N,    N]);
        _line(Fn.ApprovalsRenounceRole,      [Y,  Y,     Y,    Y,    Y,  Y,   Y,    Y]);
    }

    function _line(Fn fn, bool[8] memory allowed) internal {
        for (uint256 c; c < 8; ++c) {
            _rows.push(Row(fn, CALLERS[c], allowed[c]));
        }
    }

    function testRoleMatrix() public {
        assertEq(_rows.length, (uint256(type(Fn).max) + 1) * 8, "every function x every caller");
        uint256 allowedCount;
        for (uint256 i; i < _rows.length; ++i) {
            Row memory r = _rows[i];
            uint256 snap = vm.snapshotState();
            _prepare(r.fn);
            (address target, bytes memory data) = _call(r.fn, r.caller);
            vm.prank(r.caller);
            (bool ok, bytes memory ret) = target.call(data);
            bool denied = !ok && _isAccessError(ret);
            string memory where = string.concat("row ", vm.toString(i), " fn ", vm.toString(uint256(r.fn)), " caller ", _name(r.caller));
            assertEq(!denied, r.expectedAllowed, string.concat(where, ": allowed mismatch"));
            if (r.expectedAllowed) {
                ++allowedCount;
                if (!ok) {
                    // The only allowed call that cannot succeed: the queue is bound to its vault once.
                    assertTrue(r.fn == Fn.ApprovalsBindVault, string.concat(where, ": allowed call reverted"));
                    _assertSelector(ret, HedgeApprovals.VaultAlreadyBound.selector);
                }
                _checkEffect(r.fn, r.caller);
            } else {
                // A denied call names the caller (and, for AccessControl, the missing role).
                bytes4 sel = bytes4(ret);
                if (sel == IAccessControl.AccessControlUnauthorizedAccount.selector) {
                    (address who,) = abi.decode(_args(ret), (address, bytes32));
                    assertEq(who, r.caller, string.concat(where, ": error names caller"));
                }
            }
            assertTrue(vm.revertToState(snap), "snapshot restored");
        }
        // 26 single-role cells + 8 x rebuildOptionBook + 4 x 8 renounceRole.
        assertEq(allowedCount, 26 + 8 + 32, "allowed cells");
    }

    /// @dev State a row needs before its call (inside the row's snapshot).
    function _prepare(Fn fn) internal {
        if (fn == Fn.VaultUnpause) {
            vm.prank(GUARDIAN);
            vault.pause();
        }
    }

    /// @dev The call of a row, with arguments that succeed for an authorised caller.
    function _call(Fn fn, address caller) internal view returns (address target, bytes memory data) {
        if (fn == Fn.VaultRebalance) {
            uint64 e = vault.epoch();
            TreasuryVault.Leg[] memory legs = _legs1(_perpLeg(address(weth), 1e18, 3100e18));
            return (address(vault), abi.encodeCall(TreasuryVault.rebalance, (legs, bytes32("in"), e, block.timestamp + 60)));
        }
        if (fn == Fn.VaultRebuildOptionBook) return (address(vault), abi.encodeCall(TreasuryVault.rebuildOptionBook, (address(weth))));
        if (fn == Fn.VaultPause) return (address(vault), abi.encodeCall(TreasuryVault.pause, ()));
        if (fn == Fn.VaultSetReduceOnly) return (address(vault), abi.encodeCall(TreasuryVault.setReduceOnly, ()));
        if (fn == Fn.VaultUnpause) return (address(vault), abi.encodeCall(TreasuryVault.unpause, ()));
        if (fn == Fn.VaultEmergencyUnwind) {
            return (
                address(vault),
                abi.encodeCall(TreasuryVault.emergencyUnwind, (address(perpAdapter), address(weth), 3100e18, block.timestamp + 60))
            );
        }
        if (fn == Fn.VaultAddUnderlying) return (address(vault), abi.encodeCall(TreasuryVault.addUnderlying, (address(newToken))));
        if (fn == Fn.VaultDeposit) return (address(vault), abi.encodeCall(TreasuryVault.deposit, (address(usdc), 1_000e6)));
        if (fn == Fn.VaultWithdraw) return (address(vault), abi.encodeCall(TreasuryVault.withdraw, (address(weth), 1e18, TREASURER)));
        if (fn == Fn.VaultGrantRole) return (address(vault), abi.encodeCall(IAccessControl.grantRole, (vault.KEEPER_ROLE(), STRANGER)));
        if (fn == Fn.VaultRevokeRole) return (address(vault), abi.encodeCall(IAccessControl.revokeRole, (vault.KEEPER_ROLE(), KEEPER2)));
        if (fn == Fn.VaultRenounceRole) return (address(vault), abi.encodeCall(IAccessControl.renounceRole, (_roleOf(fn, caller), caller)));
        if (fn == Fn.PolicySetGlobalLimits) {
            RiskPolicy.GlobalLimits memory g = _globalLimits();
            g.keeperCooldown = 60;
            return (address(policy), abi.encodeCall(RiskPolicy.setGlobalLimits, (g)));
        }
        if (fn == Fn.PolicySetUnderlyingLimits) {
            RiskPolicy.UnderlyingLimits memory l = _wethLimits();
            l.band = 30e18;
            return (address(policy), abi.encodeCall(RiskPolicy.setUnderlyingLimits, (address(weth), l)));
        }
        if (fn == Fn.PolicySetVenueAllowed) return (address(policy), abi.encodeCall(RiskPolicy.setVenueAllowed, (address(spotAdapter), false)));
        if (fn == Fn.PolicyGrantRole) return (address(policy), abi.encodeCall(IAccessControl.grantRole, (policy.GOVERNANCE_ROLE(), STRANGER)));
        if (fn == Fn.PolicyRevokeRole) return (address(policy), abi.encodeCall(IAccessControl.revokeRole, (policy.GOVERNANCE_ROLE(), GOV)));
        if (fn == Fn.PolicyRenounceRole) return (address(policy), abi.encodeCall(IAccessControl.renounceRole, (_roleOf(fn, caller), caller)));
        if (fn == Fn.LedgerSetLiability) {
            return (address(ledger), abi.encodeCall(TreasuryLedger.setLiability, (address(weth), TreasuryLedger.Bucket.Reserve, 5e18)));
        }
        if (fn == Fn.LedgerSetBucketTarget) {
            return (address(ledger), abi.encodeCall(TreasuryLedger.setBucketTarget, (address(usdc), TreasuryLedger.Bucket.Operating, 7e6)));
        }
        if (fn == Fn.LedgerGrantRole) return (address(ledger), abi.encodeCall(IAccessControl.grantRole, (ledger.TREASURER_ROLE(), STRANGER)));
        if (fn == Fn.LedgerRevokeRole) return (address(ledger), abi.encodeCall(IAccessControl.revokeRole, (ledger.TREASURER_ROLE(), TREASURER)));
        if (fn == Fn.LedgerRenounceRole) return (address(ledger), abi.encodeCall(IAccessControl.renounceRole, (_roleOf(fn, caller), caller)));
        if (fn == Fn.ApprovalsBindVault) return (address(approvals), abi.encodeCall(HedgeApprovals.bindVault, (STRANGER)));
        if (fn == Fn.ApprovalsPropose) return (address(approvals), abi.encodeCall(HedgeApprovals.propose, (keccak256("other"), pendingEpoch)));
        if (fn == Fn.ApprovalsApproveFinance) {
            return (address(approvals), abi.encodeCall(HedgeApprovals.approve, (pendingHash, HedgeApprovals.Approver.Finance)));
        }
        if (fn == Fn.ApprovalsApproveRisk) {
            return (address(approvals), abi.encodeCall(HedgeApprovals.approve, (pendingHash, HedgeApprovals.Approver.Risk)));
        }
        if (fn == Fn.ApprovalsConsume) return (address(approvals), abi.encodeCall(HedgeApprovals.consume, (pendingHash, 1)));
        if (fn == Fn.ApprovalsGrantRole) return (address(approvals), abi.encodeCall(IAccessControl.grantRole, (approvals.RISK_ROLE(), STRANGER)));
        if (fn == Fn.ApprovalsRevokeRole) return (address(approvals), abi.encodeCall(IAccessControl.revokeRole, (approvals.RISK_ROLE(), RISK)));
        // ApprovalsRenounceRole
        return (address(approvals), abi.encodeCall(IAccessControl.renounceRole, (_roleOf(fn, caller), caller)));
    }

    /// @dev The role a caller renounces on the row's contract (its own, or KEEPER_ROLE-like filler).
    function _roleOf(Fn fn, address caller) internal view returns (bytes32) {
        if (fn == Fn.VaultRenounceRole) {
            if (caller == GOV) return vault.GOVERNANCE_ROLE();
            if (caller == GUARDIAN) return vault.GUARDIAN_ROLE();
            if (caller == TREASURER) return vault.TREASURER_ROLE();
            return vault.KEEPER_ROLE();
        }
        if (fn == Fn.PolicyRenounceRole) return policy.GOVERNANCE_ROLE();
        if (fn == Fn.LedgerRenounceRole) return ledger.TREASURER_ROLE();
        if (caller == FINANCE) return approvals.FINANCE_ROLE();
        if (caller == RISK) return approvals.RISK_ROLE();
        return approvals.PROPOSER_ROLE();
    }

    /// @dev What an allowed call must have done.
    function _checkEffect(Fn fn, address caller) internal view {
        if (fn == Fn.VaultRebalance) assertEq(uint256(vault.epoch()), uint256(pendingEpoch) + 1, "rebalance: epoch");
        else if (fn == Fn.VaultPause) assertTrue(vault.mode() == TreasuryVault.Mode.Paused, "pause: mode");
        else if (fn == Fn.VaultSetReduceOnly) assertTrue(vault.mode() == TreasuryVault.Mode.ReduceOnly, "reduceOnly: mode");
        else if (fn == Fn.VaultUnpause) assertTrue(vault.mode() == TreasuryVault.Mode.Normal, "unpause: mode");
        else if (fn == Fn.VaultEmergencyUnwind) assertEq(dex.position(address(vault), address(weth)).size, int256(0), "unwind: flat");
        else if (fn == Fn.VaultAddUnderlying) assertEq(vault.underlyings().length, 3, "addUnderlying: listed");
        else if (fn == Fn.VaultDeposit) assertEq(usdc.balanceOf(TREASURER), 0, "deposit: pulled");
        else if (fn == Fn.VaultWithdraw) assertEq(weth.balanceOf(TREASURER), 1e18, "withdraw: sent");
        else if (fn == Fn.VaultGrantRole) assertTrue(vault.hasRole(vault.KEEPER_ROLE(), STRANGER), "vault grant");
        else if (fn == Fn.VaultRevokeRole) assertFalse(vault.hasRole(vault.KEEPER_ROLE(), KEEPER2), "vault revoke");
        else if (fn == Fn.VaultRenounceRole) assertFalse(vault.hasRole(_roleOf(fn, caller), caller), "vault renounce");
        else if (fn == Fn.PolicySetGlobalLimits) assertEq(uint256(policy.globalLimits().keeperCooldown), 60, "global set");
        else if (fn == Fn.PolicySetUnderlyingLimits) assertEq(uint256(policy.underlyingLimits(address(weth)).band), 30e18, "limits set");
        else if (fn == Fn.PolicySetVenueAllowed) assertFalse(policy.venueAllowed(address(spotAdapter)), "venue removed");
        else if (fn == Fn.PolicyGrantRole) assertTrue(policy.hasRole(policy.GOVERNANCE_ROLE(), STRANGER), "policy grant");
        else if (fn == Fn.PolicyRevokeRole) assertFalse(policy.hasRole(policy.GOVERNANCE_ROLE(), GOV), "policy revoke");
        else if (fn == Fn.PolicyRenounceRole) assertFalse(policy.hasRole(policy.GOVERNANCE_ROLE(), caller), "policy renounce");
        else if (fn == Fn.LedgerSetLiability) assertEq(ledger.totalLiabilities(address(weth)), 305e18, "liability set");
        else if (fn == Fn.LedgerSetBucketTarget) assertEq(ledger.bucketTarget(address(usdc), TreasuryLedger.Bucket.Operating), 7e6, "bucket");
        else if (fn == Fn.LedgerGrantRole) assertTrue(ledger.hasRole(ledger.TREASURER_ROLE(), STRANGER), "ledger grant");
        else if (fn == Fn.LedgerRevokeRole) assertFalse(ledger.hasRole(ledger.TREASURER_ROLE(), TREASURER), "ledger revoke");
        else if (fn == Fn.LedgerRenounceRole) assertFalse(ledger.hasRole(ledger.TREASURER_ROLE(), caller), "ledger renounce");
        else if (fn == Fn.ApprovalsBindVault) assertEq(address(approvals.vault()), address(vault), "still bound to the vault");
        else if (fn == Fn.ApprovalsPropose) assertEq(approvals.proposal(keccak256("other")).proposer, caller, "proposed");
        else if (fn == Fn.ApprovalsApproveFinance) assertEq(approvals.proposal(pendingHash).financeApprover, caller, "finance");
        else if (fn == Fn.ApprovalsApproveRisk) assertEq(approvals.proposal(pendingHash).riskApprover, caller, "risk");
        else if (fn == Fn.ApprovalsConsume) assertTrue(approvals.proposal(pendingHash).consumed, "consumed");
        else if (fn == Fn.ApprovalsGrantRole) assertTrue(approvals.hasRole(approvals.RISK_ROLE(), STRANGER), "approvals grant");
        else if (fn == Fn.ApprovalsRevokeRole) assertFalse(approvals.hasRole(approvals.RISK_ROLE(), RISK), "approvals revoke");
        else if (fn == Fn.ApprovalsRenounceRole) assertFalse(approvals.hasRole(_roleOf(fn, caller), caller), "approvals renounce");
        // VaultRebuildOptionBook: permissionless and position-neutral (no option held: nothing to check).
    }

    function _isAccessError(bytes memory ret) internal pure returns (bool) {
        if (ret.length < 4) return false;
        bytes4 sel = bytes4(ret);
        return sel == IAccessControl.AccessControlUnauthorizedAccount.selector || sel == HedgeApprovals.NotVault.selector;
    }

    function _name(address caller) internal view returns (string memory) {
        if (caller == GOV) return "GOV";
        if (caller == KEEPER) return "KEEPER";
        if (caller == GUARDIAN) return "GUARDIAN";
        if (caller == TREASURER) return "TREASURER";
        if (caller == FINANCE) return "FINANCE";
        if (caller == RISK) return "RISK";
        if (caller == address(vault)) return "VAULT";
        return "STRANGER";
    }

    /// @notice Spot checks of the exact errors behind a few denied cells.
    function testDeniedCellsCarryTheMissingRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, GUARDIAN, vault.GOVERNANCE_ROLE())
        );
        vm.prank(GUARDIAN);
        vault.unpause();
        vm.expectRevert(abi.encodeWithSelector(HedgeApprovals.NotVault.selector, KEEPER));
        vm.prank(KEEPER);
        approvals.consume(pendingHash, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, RISK, approvals.FINANCE_ROLE())
        );
        vm.prank(RISK);
        approvals.approve(pendingHash, HedgeApprovals.Approver.Finance);
    }
}
