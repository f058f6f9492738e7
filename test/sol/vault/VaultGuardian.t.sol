// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {VaultFixture} from "./VaultFixture.sol";
import {TreasuryVault} from "../../../contracts/core/TreasuryVault.sol";
import {RiskPolicy} from "../../../contracts/core/RiskPolicy.sol";
import {HedgeApprovals} from "../../../contracts/core/HedgeApprovals.sol";
import {PerpDEX} from "../../../contracts/venues/perp/PerpDEX.sol";
import {PerpDEXAdapter} from "../../../contracts/adapters/PerpDEXAdapter.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";

/// @notice Guardian powers (pause, reduce-only, emergency unwind), governance-only restart, and the
/// treasury's deposit/withdraw rules including the margin reserve.
contract VaultGuardianTest is VaultFixture {
    function setUp() public {
        _deploySystem();
    }

    function _hedge() internal {
        _rebalance(KEEPER, _perpHedgeLegs(-700e18));
        assertEq(dex.position(address(vault), address(weth)).size, -int256(700e18), "hedged");
    }

    // ------------------------------------------------------------------ pause

    function testPauseStopsRebalanceAndProposals() public {
        vm.expectEmit(true, true, true, true, address(vault));
        emit TreasuryVault.ModeChanged(TreasuryVault.Mode.Normal, TreasuryVault.Mode.Paused, GUARDIAN);
        vm.prank(GUARDIAN);
        vault.pause();
        assertTrue(vault.isPaused(), "paused");
        VaultState memory before = _state();
        _rebalanceReverts(_perpHedgeLegs(-700e18), abi.encodeWithSelector(TreasuryVault.Paused.selector));
        vm.expectRevert(HedgeApprovals.VaultPaused.selector);
        vm.prank(KEEPER);
        approvals.propose(keccak256("b"), 0);
        _assertSameState(before, _state());
        // Pausing twice is a no-op error, not a silent success.
        vm.expectRevert(TreasuryVault.InvalidMode.selector);
        vm.prank(GUARDIAN);
        vault.pause();
    }

    function testUnpauseOnlyByGovernance() public {
        vm.prank(GUARDIAN);
        vault.pause();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, GUARDIAN, vault.GOVERNANCE_ROLE())
        );
        vm.prank(GUARDIAN);
        vault.unpause();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, KEEPER, vault.GOVERNANCE_ROLE())
        );
        vm.prank(KEEPER);
        vault.unpause();
        vm.prank(GOV);
        vault.unpause();
        assertTrue(vault.mode() == TreasuryVault.Mode.Normal, "normal again");
        _hedge();
    }

    // ------------------------------------------------------------------ reduce-only

    function testReduceOnlyLetsReducingBundleThrough() public {
        _hedge();
        vm.prank(GUARDIAN);
        vault.setReduceOnly();
        // Growing the short from a flat book adds risk.
        _rebalanceReverts(
            _legs1(_perpLeg(address(weth), -100e18, 2900e18)), abi.encodeWithSelector(TreasuryVault.ReduceOnlyViolation.selector, 0)
        );
        // Buying WETH spot moves net delta away from target.
        _rebalanceReverts(
            _legs2(_perpLeg(address(weth), 50e18, 3100e18), _spotLeg(address(weth), 30_000e6, 1)),
            abi.encodeWithSelector(TreasuryVault.ReduceOnlyViolation.selector, 1)
        );
        // Partially closing the perp hedge is allowed, though net delta (200) leaves the band.
        _rebalance(KEEPER, _legs1(_perpLeg(address(weth), 200e18, 3100e18)));
        assertEq(dex.position(address(vault), address(weth)).size, -int256(500e18), "partially closed");
        assertApproxEqAbs(_net(address(weth)), int256(200e18), 1e9, "net outside band is fine in reduce-only");
        // Moving net delta toward target without overshooting is allowed too (perp 500 -> 600 short).
        _rebalance(KEEPER, _legs1(_perpLeg(address(weth), -100e18, 2900e18)));
        // But not past it: 100 net, a 250 short overshoots to -150.
        _rebalanceReverts(
            _legs1(_perpLeg(address(weth), -250e18, 2900e18)), abi.encodeWithSelector(TreasuryVault.ReduceOnlyViolation.selector, 0)
        );
        // The guardian cannot lift reduce-only; governance can.
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, GUARDIAN, vault.GOVERNANCE_ROLE())
        );
        vm.prank(GUARDIAN);
        vault.unpause();
    }

    // ------------------------------------------------------------------ emergency unwind

    function testEmergencyUnwindClosesPerpWhilePaused() public {
        _hedge();
        vm.prank(GUARDIAN);
        vault.pause();
        vm.prank(GUARDIAN);
        vault.emergencyUnwind(address(perpAdapter), address(weth), 3100e18, block.timestamp + 60);
        assertEq(dex.position(address(vault), address(weth)).size, int256(0), "flat");
        assertTrue(vault.isPaused(), "still paused");
        // Nothing left to close.
        vm.expectRevert(TreasuryVault.InvalidAmount.selector);
        vm.prank(GUARDIAN);
        vault.emergencyUnwind(address(perpAdapter), address(weth), 3100e18, block.timestamp + 60);
    }

    function testEmergencyUnwindWorksOnDelistedVenue() public {
        _hedge();
        vm.prank(GOV);
        policy.setVenueAllowed(address(perpAdapter), false);
        vm.prank(GUARDIAN);
        vault.emergencyUnwind(address(perpAdapter), address(weth), 3100e18, block.timestamp + 60);
        assertEq(dex.position(address(vault), address(weth)).size, int256(0), "flat");
    }

    function testEmergencyUnwindRejectsUnregisteredAdapter() public {
        _hedge();
        PerpDEXAdapter other = new PerpDEXAdapter(dex);
        vm.expectRevert(abi.encodeWithSelector(TreasuryVault.NotRegisteredPerpVenue.selector, address(other)));
        vm.prank(GUARDIAN);
        vault.emergencyUnwind(address(other), address(weth), 3100e18, block.timestamp + 60);
        // Registered on WETH only, not on WBTC.
        vm.expectRevert(abi.encodeWithSelector(TreasuryVault.NotRegisteredPerpVenue.selector, address(perpAdapter)));
        vm.prank(GUARDIAN);
        vault.emergencyUnwind(address(perpAdapter), address(wbtc), 70_000e18, block.timestamp + 60);
    }

    function testEmergencyUnwindRespectsSlippage() public {
        _hedge();
        // A buy-back may not fill above the guardian's acceptable price.
        vm.expectRevert();
        vm.prank(GUARDIAN);
        vault.emergencyUnwind(address(perpAdapter), address(weth), 2990e18, block.timestamp + 60);
        // The policy's slippage budget applies as well: 5 bps taker fee > 1 bps budget.
        RiskPolicy.GlobalLimits memory g = _globalLimits();
        g.maxSlippageBps = 1;
        _setGlobal(g);
        (bool ok, bytes memory ret) = _tryUnwind();
        assertFalse(ok, "over slippage budget");
        _assertSelector(ret, TreasuryVault.SlippageTooHigh.selector);
        assertEq(dex.position(address(vault), address(weth)).size, -int256(700e18), "position kept");
    }

    function _tryUnwind() internal returns (bool ok, bytes memory ret) {
        vm.prank(GUARDIAN);
        (ok, ret) = address(vault).call(
            abi.encodeCall(TreasuryVault.emergencyUnwind, (address(perpAdapter), address(weth), 3100e18, block.timestamp + 60))
        );
    }

    // ------------------------------------------------------------------ treasury

    function testDepositRolesAndTokens() public {
        usdc.mint(TREASURER, 10e6);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, KEEPER, vault.TREASURER_ROLE())
        );
        vm.prank(KEEPER);
        vault.deposit(address(usdc), 10e6);
        vm.expectRevert(TreasuryVault.InvalidAmount.selector);
        vm.prank(TREASURER);
        vault.deposit(address(usdc), 0);
        TestToken other = new TestToken("Other", "OTH", 18, address(this));
        vm.expectRevert(abi.encodeWithSelector(TreasuryVault.UnsupportedToken.selector, address(other)));
        vm.prank(TREASURER);
        vault.deposit(address(other), 1e18);
        uint256 before = usdc.balanceOf(address(vault));
        vm.expectEmit(true, true, true, true, address(vault));
        emit TreasuryVault.Deposited(address(usdc), TREASURER, 10e6);
        vm.prank(TREASURER);
        vault.deposit(address(usdc), 10e6);
        assertEq(usdc.balanceOf(address(vault)), before + 10e6, "deposited");
    }

    function testWithdrawRolesAndTokens() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, vault.TREASURER_ROLE())
        );
        vm.prank(STRANGER);
        vault.withdraw(address(weth), 1e18, STRANGER);
        vm.startPrank(TREASURER);
        vm.expectRevert(TreasuryVault.InvalidAmount.selector);
        vault.withdraw(address(weth), 0, TREASURER);
        vm.expectRevert(TreasuryVault.InvalidAmount.selector);
        vault.withdraw(address(weth), 1e18, address(0));
        vm.expectRevert(abi.encodeWithSelector(TreasuryVault.UnsupportedToken.selector, address(this)));
        vault.withdraw(address(this), 1e18, TREASURER);
        vm.expectEmit(true, true, true, true, address(vault));
        emit TreasuryVault.Withdrawn(address(wbtc), TREASURER, 1e8);
        vault.withdraw(address(wbtc), 1e8, TREASURER);
        vm.stopPrank();
        assertEq(wbtc.balanceOf(TREASURER), 1e8, "withdrawn");
        assertEq(wbtc.balanceOf(address(vault)), 49e8, "vault keeps the rest");
    }

    function testUsdcWithdrawalKeepsMarginReserve() public {
        // Thin margin (19x) and a 1.5% move against the short: equity falls below 2x maintenance.
        _rebalance(KEEPER, _legs2(_marginLeg(address(weth), 110_000e6), _perpLeg(address(weth), -700e18, 2900e18)));
        assertEq(vault.marginReserve(), 0, "no reserve at entry: equity ~5.2% of notional > 2 x 2.5% maintenance");
        _setEth(3045e18);
        uint256 reserve = vault.marginReserve();
        assertGt(reserve, 0, "reserve positive");
        PerpDEX.PositionView memory pv = dex.position(address(vault), address(weth));
        uint256 expectedWad = 2 * pv.maintenanceMargin - uint256(pv.remainingMargin);
        assertEq(reserve, (expectedWad + 1e12 - 1) / 1e12, "reserve = 2 x maintenance - equity, rounded up");

        uint256 bal = usdc.balanceOf(address(vault));
        vm.expectRevert(abi.encodeWithSelector(TreasuryVault.MarginNeeded.selector, reserve - 1, reserve));
        vm.prank(TREASURER);
        vault.withdraw(address(usdc), bal - reserve + 1, TREASURER);
        vm.prank(TREASURER);
        vault.withdraw(address(usdc), bal - reserve, TREASURER);
        assertEq(usdc.balanceOf(address(vault)), reserve, "exactly the reserve left");
        // WETH withdrawals are not held back by the USDC reserve.
        vm.prank(TREASURER);
        vault.withdraw(address(weth), 10e18, TREASURER);
    }
}
