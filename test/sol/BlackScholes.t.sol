// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "./utils/TestBase.sol";
import {BlackScholes} from "../../contracts/libraries/BlackScholes.sol";
import {BlackScholesHarness} from "../../contracts/harness/BlackScholesHarness.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

/// @notice Property tests of BlackScholes (accuracy against the reference is in test/ts/pricing).
contract BlackScholesTest is TestBase {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant HOUR = WAD / 8760;

    BlackScholesHarness internal harness;

    struct Market {
        uint256 spot;
        uint256 strike;
        uint256 tau;
        uint256 vol;
        uint256 rate;
    }

    function setUp() public {
        harness = new BlackScholesHarness();
    }

    // ----- input helpers -----

    /// @dev Issue domain: spot 0.01..100000 quote units, spot/strike 0.25..4, 1 hour..2 years,
    /// vol 5%..500%, rate 0..20%.
    function _domain(uint256 s, uint256 m, uint256 t, uint256 v, uint256 r) internal pure returns (Market memory x) {
        x.spot = bound(s, 1e16, 1e23);
        x.strike = x.spot * 1e18 / bound(m, 0.25e18, 4e18);
        x.tau = bound(t, HOUR, 2e18);
        x.vol = bound(v, 0.05e18, 5e18);
        x.rate = bound(r, 0, 0.2e18);
    }

    /// @dev The whole accepted input range.
    function _full(uint256 s, uint256 k, uint256 t, uint256 v, uint256 r) internal pure returns (Market memory x) {
        x.spot = bound(s, 1, BlackScholes.MAX_PRICE);
        x.strike = bound(k, 1, BlackScholes.MAX_PRICE);
        x.tau = bound(t, 1, BlackScholes.MAX_TAU);
        x.vol = bound(v, 1, BlackScholes.MAX_VOL);
        x.rate = bound(r, 0, BlackScholes.MAX_RATE);
    }

    function _g(Market memory x, bool isCall) internal pure returns (BlackScholes.Greeks memory) {
        return BlackScholes.greeks(x.spot, x.strike, x.tau, x.vol, x.rate, isCall);
    }

    /// @dev K e^{-r tau} from solady's expWad (relative error ~1e-18 / e^{-r tau}).
    function _discountedStrike(Market memory x) internal pure returns (uint256) {
        int256 e = FixedPointMathLib.expWad(-int256(x.rate * x.tau / WAD));
        return FixedPointMathLib.fullMulDiv(x.strike, uint256(e), WAD);
    }

    /// @dev Tolerance for comparisons that involve K e^{-r tau}: a few wei plus expWad's error on it.
    function _kdTol(Market memory x) internal pure returns (uint256) {
        int256 e = FixedPointMathLib.expWad(-int256(x.rate * x.tau / WAD));
        return 4 + x.strike / uint256(e) + x.strike / 1e17;
    }

    // ----- parity, bounds, symmetry -----

    function testFuzz_putCallParity(uint256 s, uint256 m, uint256 t, uint256 v, uint256 r) public pure {
        Market memory x = _domain(s, m, t, v, r);
        BlackScholes.Greeks memory c = _g(x, true);
        BlackScholes.Greeks memory p = _g(x, false);
        int256 lhs = int256(c.price) - int256(p.price);
        int256 rhs = int256(x.spot) - int256(_discountedStrike(x));
        assertApproxEqAbs(lhs, rhs, _kdTol(x), "C - P = S - K e^{-rT}");
        // Theta parity: theta_C - theta_P = -r K e^{-r tau}.
        int256 thetaGap = c.theta - p.theta;
        int256 want = -int256(x.rate * _discountedStrike(x) / WAD);
        assertApproxEqAbs(thetaGap, want, 4 + _kdTol(x), "theta_C - theta_P = -r K e^{-rT}");
    }

    function testFuzz_deltaBoundsAndParity(uint256 s, uint256 k, uint256 t, uint256 v, uint256 r) public pure {
        Market memory x = _full(s, k, t, v, r);
        BlackScholes.Greeks memory c = _g(x, true);
        BlackScholes.Greeks memory p = _g(x, false);
        assertGe(c.delta, int256(0), "call delta >= 0");
        assertLe(c.delta, int256(WAD), "call delta <= 1");
        assertGe(p.delta, -int256(WAD), "put delta >= -1");
        assertLe(p.delta, int256(0), "put delta <= 0");
        assertApproxEqAbs(c.delta - p.delta, int256(WAD), 1, "call delta - put delta = 1");
    }

    function testFuzz_priceBounds(uint256 s, uint256 m, uint256 t, uint256 v, uint256 r) public pure {
        _checkPriceBounds(_domain(s, m, t, v, r));
    }

    /// @dev Whole accepted range: nothing overflows into garbage (bounds hold, greeks have their signs).
    function testFuzz_priceBoundsFullRange(uint256 s, uint256 k, uint256 t, uint256 v, uint256 r) public pure {
        Market memory x = _full(s, k, t, v, r);
        _checkPriceBounds(x);
        BlackScholes.Greeks memory c = _g(x, true);
        BlackScholes.Greeks memory p = _g(x, false);
        assertEq(c.gamma, p.gamma, "gamma call == put");
        assertEq(c.vega, p.vega, "vega call == put");
        // Vega <= S sqrt(tau) / sqrt(2 pi) and the theta of a call is never positive.
        uint256 sqrtTau = FixedPointMathLib.sqrt(x.tau * WAD);
        assertLe(c.vega, FixedPointMathLib.fullMulDiv(x.spot, sqrtTau, WAD) * 398942280401432678 / WAD + 2, "vega cap");
        assertLe(c.theta, int256(1), "call theta <= 0");
    }

    function _checkPriceBounds(Market memory x) internal pure {
        BlackScholes.Greeks memory c = _g(x, true);
        BlackScholes.Greeks memory p = _g(x, false);
        uint256 kd = _discountedStrike(x);
        uint256 tol = _kdTol(x);
        uint256 callFloor = x.spot > kd ? x.spot - kd : 0;
        uint256 putFloor = kd > x.spot ? kd - x.spot : 0;
        assertGe(c.price + tol, callFloor, "C >= max(0, S - K e^{-rT})");
        assertLe(c.price, x.spot, "C <= S");
        assertGe(p.price + tol, putFloor, "P >= max(0, K e^{-rT} - S)");
        assertLe(p.price, kd + tol, "P <= K e^{-rT}");
    }

    function testFuzz_gammaVegaNonNegativeAndEqual(uint256 s, uint256 m, uint256 t, uint256 v, uint256 r)
        public
        pure
    {
        Market memory x = _domain(s, m, t, v, r);
        BlackScholes.Greeks memory c = _g(x, true);
        BlackScholes.Greeks memory p = _g(x, false);
        assertEq(c.gamma, p.gamma, "gamma call == put");
        assertEq(c.vega, p.vega, "vega call == put");
        // Gamma and vega are tied: vega = gamma * S^2 * sigma * tau.
        uint256 vegaFromGamma =
            FixedPointMathLib.fullMulDiv(FixedPointMathLib.fullMulDiv(c.gamma, x.spot, WAD), x.spot, WAD);
        vegaFromGamma = FixedPointMathLib.fullMulDiv(vegaFromGamma, x.vol * x.tau / WAD, WAD);
        assertApproxEqAbs(c.vega, vegaFromGamma, 2 + c.vega / 1e12 + x.spot / 1e12, "vega = gamma S^2 sigma tau");
    }

    function testFuzz_monotoneInSpot(uint256 s, uint256 m, uint256 t, uint256 v, uint256 r, uint256 bump)
        public
        pure
    {
        Market memory x = _domain(s, m, t, v, r);
        BlackScholes.Greeks memory c0 = _g(x, true);
        BlackScholes.Greeks memory p0 = _g(x, false);
        x.spot += x.spot * bound(bump, 1e12, 0.1e18) / WAD;
        BlackScholes.Greeks memory c1 = _g(x, true);
        BlackScholes.Greeks memory p1 = _g(x, false);
        uint256 tol = 2 + c0.price / 1e14 + p0.price / 1e14;
        assertGe(c1.price + tol, c0.price, "call increases with spot");
        assertLe(p1.price, p0.price + tol, "put decreases with spot");
        assertGe(c1.delta + 1, c0.delta, "call delta increases with spot (gamma >= 0)");
    }

    function testFuzz_monotoneInVol(uint256 s, uint256 m, uint256 t, uint256 v, uint256 r, uint256 bump)
        public
        pure
    {
        Market memory x = _domain(s, m, t, v, r);
        BlackScholes.Greeks memory c0 = _g(x, true);
        BlackScholes.Greeks memory p0 = _g(x, false);
        x.vol += x.vol * bound(bump, 1e12, 0.5e18) / WAD;
        BlackScholes.Greeks memory c1 = _g(x, true);
        BlackScholes.Greeks memory p1 = _g(x, false);
        uint256 tol = 2 + c0.price / 1e14 + p0.price / 1e14;
        assertGe(c1.price + tol, c0.price, "call increases with vol");
        assertGe(p1.price + tol, p0.price, "put increases with vol");
    }

    function testFuzz_homogeneity(uint256 s, uint256 m, uint256 t, uint256 v, uint256 r, uint256 c) public pure {
        Market memory x = _domain(s, m, t, v, r);
        x.spot = bound(s, 1e18, 1e20);
        x.strike = x.spot * 1e18 / bound(m, 0.25e18, 4e18);
        uint256 scale = bound(c, 2, 1e6);
        for (uint256 i; i < 2; ++i) {
            bool isCall = i == 0;
            BlackScholes.Greeks memory a = _g(x, isCall);
            BlackScholes.Greeks memory b =
                BlackScholes.greeks(x.spot * scale, x.strike * scale, x.tau, x.vol, x.rate, isCall);
            // Price and vega scale by c; delta is unchanged; gamma scales by 1/c.
            assertApproxEqAbs(b.price, a.price * scale, 2 * scale + a.price * scale / 1e14, "price(cS, cK) = c price");
            assertApproxEqAbs(b.vega, a.vega * scale, 2 * scale + a.vega * scale / 1e14, "vega(cS, cK) = c vega");
            assertApproxEqAbs(b.delta, a.delta, 2 + uint256(a.delta < 0 ? -a.delta : a.delta) / 1e14, "delta");
            assertApproxEqAbs(b.gamma * scale, a.gamma, 2 * scale + a.gamma / 1e14, "gamma(cS, cK) = gamma / c");
        }
    }

    function testFuzz_priceAndDeltaMatchGreeks(uint256 s, uint256 k, uint256 t, uint256 v, uint256 r, bool isCall)
        public
        pure
    {
        Market memory x = _full(s, k, t, v, r);
        BlackScholes.Greeks memory g = _g(x, isCall);
        assertEq(BlackScholes.price(x.spot, x.strike, x.tau, x.vol, x.rate, isCall), g.price, "price()");
        assertEq(BlackScholes.delta(x.spot, x.strike, x.tau, x.vol, x.rate, isCall), g.delta, "delta()");
    }

    // ----- fixed points -----

    /// @dev Textbook value: S = K = 100, tau = 1, vol = 20%, r = 5%: C = 10.450583572185565, P = 5.573526022256971,
    /// call delta 0.636830651175619, gamma 0.018762017345847, vega 37.52403469169379, theta -6.414027546438197.
    function test_textbookValues() public pure {
        BlackScholes.Greeks memory c = BlackScholes.greeks(100e18, 100e18, 1e18, 0.2e18, 0.05e18, true);
        BlackScholes.Greeks memory p = BlackScholes.greeks(100e18, 100e18, 1e18, 0.2e18, 0.05e18, false);
        assertApproxEqAbs(c.price, 10.450583572185565e18, 1e4, "call price");
        assertApproxEqAbs(p.price, 5.573526022256971e18, 1e4, "put price");
        assertApproxEqAbs(c.delta, int256(0.636830651175619e18), 1e4, "call delta");
        assertApproxEqAbs(p.delta, -int256(0.363169348824381e18), 1e4, "put delta");
        assertApproxEqAbs(c.gamma, 0.018762017345847e18, 1e4, "gamma");
        assertApproxEqAbs(c.vega, 37.52403469169379e18, 1e5, "vega");
        assertApproxEqAbs(c.theta, -int256(6.414027546438197e18), 1e5, "call theta");
    }

    function test_deepMoneynessSaturates() public pure {
        // 1 hour, 5% vol: strike at spot / 4 and spot * 4 are far beyond 12 standard deviations.
        BlackScholes.Greeks memory itm = BlackScholes.greeks(3000e18, 750e18, HOUR, 0.05e18, 0, true);
        assertEq(itm.price, 2250e18, "deep ITM call = intrinsic");
        assertEq(itm.delta, int256(WAD), "delta 1");
        assertEq(itm.gamma, 0, "gamma 0");
        assertEq(itm.vega, 0, "vega 0");
        assertEq(itm.theta, 0, "theta 0 at r = 0");
        BlackScholes.Greeks memory otm = BlackScholes.greeks(3000e18, 12000e18, HOUR, 0.05e18, 0, true);
        assertEq(otm.price, 0, "deep OTM call = 0");
        assertEq(otm.delta, 0, "delta 0");
        BlackScholes.Greeks memory put = BlackScholes.greeks(3000e18, 12000e18, HOUR, 0.05e18, 0, false);
        assertEq(put.price, 9000e18, "deep ITM put = intrinsic");
        assertEq(put.delta, -int256(WAD), "put delta -1");
    }

    function test_extremeInputsDoNotRevert() public pure {
        uint256 max = BlackScholes.MAX_PRICE;
        BlackScholes.Greeks memory a = BlackScholes.greeks(max, 1, 1, 1, 0, true);
        assertEq(a.price, max - 1, "max spot, 1 wei strike: intrinsic");
        assertEq(a.delta, int256(WAD), "delta 1");
        BlackScholes.Greeks memory b = BlackScholes.greeks(1, max, 10e18, 10e18, 1e18, true);
        assertLe(b.price, 1, "call on a 1-wei spot");
        BlackScholes.Greeks memory c = BlackScholes.greeks(max, max, 10e18, 10e18, 1e18, true);
        // sigma sqrt(tau) = 31.6: the call is worth (almost) the whole spot.
        assertApproxEqAbs(c.price, max, max / 1e12, "huge vol call ~ S");
        assertLe(c.price, max, "C <= S");
    }

    // ----- revert paths -----

    function test_revertsOnZeroSpot() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.SpotOutOfRange.selector, 0));
        harness.greeks(0, 1e18, 1e18, 1e18, 0, true);
    }

    function test_revertsOnHugeSpot() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.SpotOutOfRange.selector, 1e36 + 1));
        harness.price(1e36 + 1, 1e18, 1e18, 1e18, 0, true);
    }

    function test_revertsOnZeroStrike() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.StrikeOutOfRange.selector, 0));
        harness.greeks(1e18, 0, 1e18, 1e18, 0, false);
    }

    function test_revertsOnHugeStrike() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.StrikeOutOfRange.selector, 1e36 + 1));
        harness.delta(1e18, 1e36 + 1, 1e18, 1e18, 0, true);
    }

    function test_revertsOnZeroTau() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.TimeOutOfRange.selector, 0));
        harness.greeks(1e18, 1e18, 0, 1e18, 0, true);
    }

    function test_revertsOnHugeTau() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.TimeOutOfRange.selector, 10e18 + 1));
        harness.greeks(1e18, 1e18, 10e18 + 1, 1e18, 0, true);
    }

    function test_revertsOnZeroVol() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.VolatilityOutOfRange.selector, 0));
        harness.price(1e18, 1e18, 1e18, 0, 0, true);
    }

    function test_revertsOnHugeVol() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.VolatilityOutOfRange.selector, 10e18 + 1));
        harness.greeks(1e18, 1e18, 1e18, 10e18 + 1, 0, false);
    }

    function test_revertsOnHugeRate() public {
        vm.expectRevert(abi.encodeWithSelector(BlackScholes.RateOutOfRange.selector, 1e18 + 1));
        harness.delta(1e18, 1e18, 1e18, 1e18, 1e18 + 1, false);
    }

    function testFuzz_revertsOutsideRange(uint256 s, uint256 which) public {
        uint256 bad = bound(s, 1e36 + 1, type(uint256).max);
        uint256 w = bound(which, 0, 4);
        if (w == 0) {
            vm.expectRevert(abi.encodeWithSelector(BlackScholes.SpotOutOfRange.selector, bad));
            harness.greeks(bad, 1e18, 1e18, 1e18, 0, true);
        } else if (w == 1) {
            vm.expectRevert(abi.encodeWithSelector(BlackScholes.StrikeOutOfRange.selector, bad));
            harness.greeks(1e18, bad, 1e18, 1e18, 0, true);
        } else if (w == 2) {
            vm.expectRevert(abi.encodeWithSelector(BlackScholes.TimeOutOfRange.selector, bad));
            harness.greeks(1e18, 1e18, bad, 1e18, 0, true);
        } else if (w == 3) {
            vm.expectRevert(abi.encodeWithSelector(BlackScholes.VolatilityOutOfRange.selector, bad));
            harness.greeks(1e18, 1e18, 1e18, bad, 0, true);
        } else {
            vm.expectRevert(abi.encodeWithSelector(BlackScholes.RateOutOfRange.selector, bad));
            harness.greeks(1e18, 1e18, 1e18, 1e18, bad, true);
        }
    }
}
