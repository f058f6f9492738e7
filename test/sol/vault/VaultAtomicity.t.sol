// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VaultFixture} from "./VaultFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {TreasuryVault} from "../../../contracts/core/TreasuryVault.sol";
import {OptionsAMM} from "../../../contracts/venues/options/OptionsAMM.sol";
import {PerpDEX} from "../../../contracts/venues/perp/PerpDEX.sol";

/// @notice Atomicity (a failing leg anywhere reverts the whole bundle with no state change),
/// idempotency by epoch, and the Rebalanced audit event.
contract VaultAtomicityTest is VaultFixture {
    function setUp() public {
        _deploySystem();
    }

    // ------------------------------------------------------------------ atomicity

    /// @dev A bundle whose first legs would succeed (margin in, perp short) and whose last leg fails.
    function _assertBundleRevertsCleanly(TreasuryVault.Leg[] memory legs, bytes4 sel) internal {
        VaultState memory before = _state();
        _rebalanceRevertsSel(legs, sel);
        _assertSameState(before, _state());
    }

    function testOptionLegFailureRevertsBundle() public {
        _rebalance(
            KEEPER,
            _legs3(
                _marginLeg(address(weth), 1_000_000e6),
                _optionLegAmple(putAtm, 100e18),
                _perpToTargetAfter(address(weth), 0, _optionDelta(putAtm, 100e18))
            )
        );
        assertEq(vault.heldSeries(address(weth)).length, 1, "seed series held");
        // margin + perp succeed, then the option buy's max premium (1 USD) is far below the quote.
        TreasuryVault.Leg[] memory legs = _legs3(
            _marginLeg(address(weth), 100_000e6), _perpLeg(address(weth), -100e18, 2900e18), _optionLeg(put90, 200e18, 1e18)
        );
        _assertBundleRevertsCleanly(legs, OptionsAMM.PremiumAboveMax.selector);
    }

    function testPerpLegFailureRevertsBundle() public {
        // margin + option buy succeed, then the perp short demands a fill at least 3,100 (oracle 3,000).
        TreasuryVault.Leg[] memory legs = _legs3(
            _marginLeg(address(weth), 1_000_000e6), _optionLegAmple(putAtm, 300e18), _perpLeg(address(weth), -555e18, 3100e18)
        );
        _assertBundleRevertsCleanly(legs, PerpDEX.PriceExceedsBound.selector);
    }

    function testSwapFailureRevertsBundle() public {
        // margin + perp succeed, then the swap asks for an impossible minimum out (Uniswap's string error).
        TreasuryVault.Leg[] memory legs = _legs3(
            _marginLeg(address(weth), 1_000_000e6), _perpLeg(address(weth), -650e18, 2900e18), _spotLeg(address(weth), -50e18, 1e30)
        );
        VaultState memory before = _state();
        uint64 e = vault.epoch();
        (bool ok, bytes memory ret) = _tryRebalance(KEEPER, legs, bytes32("x"), e, block.timestamp + 60);
        assertFalse(ok, "swap leg must fail");
        assertEq(keccak256(ret), keccak256(abi.encodeWithSignature("Error(string)", "Too little received")), "uniswap error");
        _assertSameState(before, _state());
    }

    function testBundleEndingOutsideBandReverts() public {
        // Every leg succeeds, but net delta ends at 700 - 300 = 400, far outside the 25 band.
        TreasuryVault.Leg[] memory legs = _legs2(_marginLeg(address(weth), 1_000_000e6), _perpLeg(address(weth), -300e18, 2900e18));
        VaultState memory before = _state();
        _rebalanceReverts(legs, abi.encodeWithSelector(TreasuryVault.OutsideBand.selector, address(weth), int256(400e18), int256(0), uint256(25e18)));
        _assertSameState(before, _state());
    }

    // ------------------------------------------------------------------ idempotency

    function testTwoKeepersSameEpochExactlyOneExecutes() public {
        uint64 e = vault.epoch();
        TreasuryVault.Leg[] memory legs = _perpHedgeLegs(-700e18);
        uint256 deadline = block.timestamp + 60;
        vm.recordLogs();
        (bool ok1,) = _tryRebalance(KEEPER, legs, bytes32("k1"), e, deadline);
        (bool ok2, bytes memory ret2) = _tryRebalance(KEEPER2, legs, bytes32("k2"), e, deadline);
        assertTrue(ok1, "first keeper executes");
        assertFalse(ok2, "second keeper reverts");
        assertEq(keccak256(ret2), keccak256(abi.encodeWithSelector(TreasuryVault.WrongEpoch.selector, e + 1, e)), "WrongEpoch");
        assertEq(uint256(vault.epoch()), uint256(e) + 1, "epoch advanced once");
        assertEq(dex.position(address(vault), address(weth)).size, -int256(700e18), "hedged once");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(vault) && logs[i].topics[0] == TreasuryVault.Rebalanced.selector) ++n;
        }
        assertEq(n, 1, "one Rebalanced event");
    }

    function testFutureEpochRejected() public {
        uint64 e = vault.epoch();
        vm.expectRevert(abi.encodeWithSelector(TreasuryVault.WrongEpoch.selector, e, e + 1));
        vm.prank(KEEPER);
        vault.rebalance(_perpHedgeLegs(-700e18), bytes32(0), e + 1, block.timestamp + 60);
    }

    // ------------------------------------------------------------------ events

    struct Expect {
        uint64 epoch;
        bytes32 inputsHash;
        int256 optDelta;
        int256 perpSize;
        uint256 paidUsdc;
    }

    function testRebalancedEventCarriesFullRecord() public {
        Expect memory x;
        x.epoch = vault.epoch();
        x.inputsHash = keccak256("snapshot");
        x.optDelta = _optionDelta(putAtm, 300e18);
        x.perpSize = -(700e18 + x.optDelta);
        TreasuryVault.Leg[] memory legs = _legs3(
            _marginLeg(address(weth), 1_000_000e6), _optionLegAmple(putAtm, 300e18), _perpLeg(address(weth), x.perpSize, 2900e18)
        );
        uint256 usdcBefore = usdc.balanceOf(address(vault));

        vm.recordLogs();
        vm.prank(KEEPER);
        vault.rebalance(legs, x.inputsHash, x.epoch, block.timestamp + 60);
        Vm.Log memory log = _findRebalanced(vm.getRecordedLogs());
        x.paidUsdc = usdcBefore - 1_000_000e6 - usdc.balanceOf(address(vault));

        assertEq(uint256(log.topics[1]), uint256(x.epoch), "epoch topic");
        assertEq(log.topics[2], x.inputsHash, "inputsHash topic");
        assertEq(address(uint160(uint256(log.topics[3]))), KEEPER, "keeper topic");
        (uint8 tier, uint256 notional, TreasuryVault.DeltaRecord[] memory deltas, TreasuryVault.LegRecord[] memory recs) =
            abi.decode(log.data, (uint8, uint256, TreasuryVault.DeltaRecord[], TreasuryVault.LegRecord[]));
        assertEq(uint256(tier), 0, "tier 0");
        assertEq(notional, 300e18 * ETH_PX / 1e18 + uint256(-x.perpSize) * ETH_PX / 1e18, "requested notional");
        _checkDeltas(deltas);
        assertEq(recs.length, 3, "three leg records");
        _checkMarginRecord(recs[0]);
        _checkOptionRecord(recs[1], x);
        _checkPerpRecord(recs[2], x);
        assertEq(uint256(vault.epoch()), uint256(x.epoch) + 1, "epoch");
    }

    function _findRebalanced(Vm.Log[] memory logs) internal view returns (Vm.Log memory log) {
        bool found;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(vault) && logs[i].topics[0] == TreasuryVault.Rebalanced.selector) {
                assertFalse(found, "one Rebalanced event");
                log = logs[i];
                found = true;
            }
        }
        assertTrue(found, "Rebalanced emitted");
    }

    function _checkDeltas(TreasuryVault.DeltaRecord[] memory deltas) internal view {
        assertEq(deltas.length, 1, "one underlying touched");
        assertEq(deltas[0].underlying, address(weth), "delta underlying");
        assertEq(deltas[0].preNetDelta, int256(700e18), "pre net delta");
        assertApproxEqAbs(deltas[0].postNetDelta, _net(address(weth)), 1e9, "post net delta = exposure");
        assertApproxEqAbs(deltas[0].postNetDelta, int256(0), 1e9, "hedged to zero");
        assertEq(deltas[0].target, int256(0), "target");
        assertEq(deltas[0].band, 25e18, "band");
        assertEq(deltas[0].price, ETH_PX, "price");
    }

    function _checkMarginRecord(TreasuryVault.LegRecord memory rec) internal view {
        assertTrue(rec.kind == TreasuryVault.LegKind.MarginDeposit, "leg 0 kind");
        assertEq(rec.adapter, address(perpAdapter), "leg 0 adapter");
        assertEq(rec.sizeChange, int256(1_000_000e6), "margin amount");
        assertEq(rec.deltaChange, int256(0), "margin has no delta");
        assertEq(rec.fee, 0, "margin has no fee");
    }

    function _checkOptionRecord(TreasuryVault.LegRecord memory o, Expect memory x) internal view {
        assertTrue(o.kind == TreasuryVault.LegKind.Option, "leg 1 kind");
        assertEq(o.adapter, address(optAdapter), "leg 1 adapter");
        assertEq(o.id, putAtm, "leg 1 series");
        assertEq(o.sizeChange, int256(300e18), "option size");
        assertEq(o.deltaChange, x.optDelta, "option delta change");
        assertEq(o.oraclePrice, ETH_PX, "option oracle");
        assertGt(o.fee, 0, "option fee");
        assertEq(o.executionPrice, x.paidUsdc * 1e12 * 1e18 / 300e18, "option price per unit = USDC paid / size");
    }

    function _checkPerpRecord(TreasuryVault.LegRecord memory p, Expect memory x) internal view {
        assertTrue(p.kind == TreasuryVault.LegKind.Perp, "leg 2 kind");
        assertEq(p.adapter, address(perpAdapter), "leg 2 adapter");
        assertEq(p.sizeChange, x.perpSize, "perp size change");
        assertEq(p.deltaChange, x.perpSize, "perp delta change");
        assertEq(p.oraclePrice, ETH_PX, "perp oracle");
        assertLt(p.executionPrice, ETH_PX, "a short fills below index (skew)");
        assertGt(p.executionPrice, ETH_PX * 999 / 1000, "fill within the skew premium");
        assertGt(p.fee, 0, "perp fee");
        // Taker fee 5 bps of the fill notional, rounded up.
        assertApproxEqAbs(p.fee, uint256(-x.perpSize) * p.executionPrice / 1e18 * 5 / 10_000, 1e12, "perp fee = 5 bps");
    }
}
