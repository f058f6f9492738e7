// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PerpTestBase} from "./PerpTestBase.sol";
import {PerpDEX} from "../../../contracts/venues/perp/PerpDEX.sol";

/// @notice Fuzz tests on fees, prices and bounds of the perp DEX.
contract PerpFuzzTest is PerpTestBase {
    function setUp() public override {
        super.setUp();
        _deposit(ALICE, address(weth), 5_000_000e6);
        _deposit(BOB, address(weth), 5_000_000e6);
    }

    /// @dev Builds a skew in [-3000, 3000] ETH with Alice (0 allowed).
    function _skew(int256 seed) internal returns (int256 skew) {
        skew = boundInt(seed, -3000e18, 3000e18);
        if (skew != 0) _trade(ALICE, address(weth), skew);
    }

    function _nonZero(int256 seed, int256 lim) internal pure returns (int256 d) {
        d = boundInt(seed, -lim, lim);
        if (d == 0) d = 1e15;
    }

    function testFuzz_feeSplitsByDirectionAndMatchesCharge(int256 skewSeed, int256 deltaSeed) public {
        int256 skew = _skew(skewSeed);
        int256 d = _nonZero(deltaSeed, 3000e18);
        (uint256 fill, uint256 fee) = dex.quote(address(weth), d);
        uint256 absD = _abs(d);
        // independent reference of the maker/taker split
        uint256 maker = (skew != 0 && (skew > 0) != (d > 0)) ? (absD < _abs(skew) ? absD : _abs(skew)) : 0;
        uint256 weighted = maker * 2 + (absD - maker) * 5;
        uint256 expected = (weighted * fill + 1e22 - 1) / 1e22;
        assertEq(fee, expected, "fee formula");
        assertGe(fee, absD * fill * 2 / 1e22, "at least maker rate");
        assertLe(fee, (absD * fill * 5 + 1e22 - 1) / 1e22, "at most taker rate");
        if (maker == 0) assertEq(fee, (absD * fill * 5 + 1e22 - 1) / 1e22, "pure taker");
        assertEq(fill, _refFill(ETH_PRICE, skew, d, 100_000e18), "fill formula");
        // the charge equals the quote (Bob is flat: no P&L, no funding)
        uint256 m0 = _margin(BOB, address(weth));
        _trade(BOB, address(weth), d);
        assertEq(m0 - _margin(BOB, address(weth)), fee, "charged == quoted");
        assertEq(_entry(BOB, address(weth)), fill, "entry == fill");
    }

    function testFuzz_fillPriceMonotonicAndOnPremiumSide(int256 skewSeed, int256 aSeed, int256 bSeed) public {
        int256 skew = _skew(skewSeed);
        int256 a = _nonZero(aSeed, 3000e18);
        int256 b = _nonZero(bSeed, 3000e18);
        if (a > b) (a, b) = (b, a);
        (uint256 fa,) = dex.quote(address(weth), a);
        (uint256 fb,) = dex.quote(address(weth), b);
        assertLe(fa, fb, "bigger buys never fill cheaper");
        // premium sign follows the skew at the order's midpoint
        int256 mid2 = 2 * skew + b;
        if (mid2 > 0) assertGt(fb, ETH_PRICE, "above index");
        if (mid2 < 0) assertLt(fb, ETH_PRICE, "below index");
    }

    function testFuzz_roundTripNeverProfits(int256 skewSeed, int256 deltaSeed, uint256 priceSeed, uint256 dtSeed)
        public
    {
        _skew(skewSeed);
        _warp(bound(dtSeed, 0, 3 days));
        _setEth(bound(priceSeed, 1000e18, 6000e18));
        int256 d = _nonZero(deltaSeed, 3000e18);
        int256 e0 = dex.remainingMargin(BOB, address(weth));
        (, uint256 fee1) = dex.quote(address(weth), d);
        _trade(BOB, address(weth), d);
        (, uint256 fee2) = dex.quote(address(weth), -d);
        _trade(BOB, address(weth), -d);
        int256 e1 = dex.remainingMargin(BOB, address(weth));
        assertEq(_size(BOB, address(weth)), 0, "flat again");
        assertLe(e1 + int256(fee1 + fee2), e0, "no profit before fees");
        assertGe(e1 + int256(fee1 + fee2), e0 - 1e7, "loses at most rounding");
    }

    function testFuzz_roundTripOnExistingPositionNeverProfits(int256 skewSeed, int256 posSeed, int256 deltaSeed)
        public
    {
        _skew(skewSeed);
        _trade(BOB, address(weth), _nonZero(posSeed, 2000e18));
        _warp(6 hours);
        _setEth(3210e18);
        int256 d = _nonZero(deltaSeed, 2000e18);
        int256 e0 = dex.remainingMargin(BOB, address(weth));
        (, uint256 fee1) = dex.quote(address(weth), d);
        _trade(BOB, address(weth), d);
        (, uint256 fee2) = dex.quote(address(weth), -d);
        _trade(BOB, address(weth), -d);
        assertLe(dex.remainingMargin(BOB, address(weth)) + int256(fee1 + fee2), e0, "equity never grows");
    }

    function testFuzz_openRespectsLeverageAndMaintenance(uint256 marginSeed, int256 sizeSeed) public {
        uint256 margin = bound(marginSeed, 1e6, 1_000_000e6);
        int256 size = _nonZero(sizeSeed, 5000e18);
        address who = address(0xCAFE);
        _fund(who, margin);
        _deposit(who, address(weth), margin);
        vm.prank(who);
        try dex.modifyPosition(address(weth), size, size > 0 ? type(uint256).max : 0, block.timestamp) {
            PerpDEX.PositionView memory v = dex.position(who, address(weth));
            assertLe(v.leverage, 20e18, "leverage bound");
            assertFalse(dex.isLiquidatable(who, address(weth)), "never born liquidatable");
        } catch (bytes memory err) {
            bytes4 sel = bytes4(err);
            assertTrue(
                sel == PerpDEX.MaxLeverageExceeded.selector || sel == PerpDEX.WouldBeLiquidatable.selector
                    || sel == PerpDEX.InsufficientMargin.selector,
                "only risk reverts"
            );
            // and the margin really was short of what the order needs: leverage (N/20) or
            // maintenance (2% N + fee floor 5), plus the premium (N |size| / 2S) and the fee.
            uint256 n = _abs(size) * ETH_PRICE / 1e18;
            uint256 need = n / 20 + n / 50 + 5e18 + n * _abs(size) / 200_000e18 + n * 5 / 10_000 + 1e18;
            assertLt(margin * 1e12, need, "reverts only when under-margined");
        }
    }

    function testFuzz_withdrawMarginKeepsPositionHealthy(uint256 amountSeed, int256 sizeSeed) public {
        int256 size = _nonZero(sizeSeed, 300e18);
        _trade(BOB, address(weth), size);
        uint256 m = _margin(BOB, address(weth)) / 1e12;
        uint256 amount = bound(amountSeed, 1, m);
        vm.prank(BOB);
        try dex.withdrawMargin(address(weth), amount) {
            PerpDEX.PositionView memory v = dex.position(BOB, address(weth));
            assertLe(v.leverage, 20e18, "leverage bound");
            assertGe(v.remainingMargin, int256(v.maintenanceMargin), "above maintenance");
        } catch (bytes memory err) {
            bytes4 sel = bytes4(err);
            assertTrue(
                sel == PerpDEX.MaxLeverageExceeded.selector || sel == PerpDEX.WouldBeLiquidatable.selector,
                "only risk reverts"
            );
        }
    }

    function testFuzz_liquidationFeeAndLedger(uint256 priceSeed, int256 sizeSeed) public {
        address who = address(0xCAFE);
        _fund(who, 20_000e6);
        _deposit(who, address(weth), 20_000e6);
        int256 size = boundInt(sizeSeed, 80e18, 120e18);
        if (uint256(priceSeed) % 2 == 0) size = -size;
        _trade(who, address(weth), size);
        _setEth(bound(priceSeed, 2000e18, 4000e18));
        if (!dex.isLiquidatable(who, address(weth))) return;
        uint256 notional = _abs(size) * (bound(priceSeed, 2000e18, 4000e18) / 1e10 * 1e10) / 1e18;
        uint256 expectedFee = notional * 0.005e18 / 1e18;
        if (expectedFee < 5e18) expectedFee = 5e18;
        uint256 before = usdc.balanceOf(KEEPER);
        vm.prank(KEEPER);
        uint256 paid = dex.liquidate(who, address(weth));
        assertEq(paid, expectedFee / 1e12, "fee = max(ratio, floor), floored to units");
        assertEq(usdc.balanceOf(KEEPER) - before, paid, "paid out");
        address[] memory accts = new address[](3);
        accts[0] = ALICE;
        accts[1] = BOB;
        accts[2] = who;
        assertEq(_ledgerGap(accts), 0, "ledger");
    }

    function testFuzz_lpRoundTripNeverGains(uint256 amountSeed, int256 skewSeed, uint256 priceSeed) public {
        _skew(skewSeed);
        _setEth(bound(priceSeed, 2500e18, 3500e18));
        uint256 amount = bound(amountSeed, 1e6, 1_000_000e6);
        address lp2 = address(0xD00D);
        _fund(lp2, amount);
        vm.prank(lp2);
        uint256 shares = dex.depositLiquidity(amount);
        vm.prank(lp2);
        try dex.withdrawLiquidity(shares) returns (uint256 out) {
            assertLe(out, amount, "no free value");
            assertGe(out + 2, amount, "only rounding lost");
        } catch (bytes memory err) {
            assertEq(bytes4(err), bytes4(keccak256("ExceedsWithdrawable(uint256,uint256)")), "only the backing guard");
        }
    }
}
