// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../utils/TestBase.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {VolatilitySurface} from "../../../contracts/venues/options/VolatilitySurface.sol";

contract VolatilitySurfaceTest is TestBase {
    VolatilitySurface internal surface;
    address internal constant U = address(0xE7);
    uint256 internal constant EXP = 2_000_000_000;

    event SmileSet(
        address indexed underlying,
        uint256 indexed expiry,
        uint256 oldAtmVol,
        int256 oldSkew,
        uint256 oldCurvature,
        uint256 newAtmVol,
        int256 newSkew,
        uint256 newCurvature
    );

    function setUp() public {
        surface = new VolatilitySurface(address(this));
    }

    function test_constructor_zeroAdmin_reverts() public {
        vm.expectRevert(VolatilitySurface.ZeroAddress.selector);
        new VolatilitySurface(address(0));
    }

    function test_roles() public view {
        assertTrue(surface.hasRole(surface.SURFACE_ADMIN_ROLE(), address(this)), "surface admin");
        assertTrue(surface.hasRole(surface.DEFAULT_ADMIN_ROLE(), address(this)), "default admin");
    }

    function test_setSmile_storesAndEmitsOldNew() public {
        vm.expectEmit();
        emit SmileSet(U, EXP, 0, 0, 0, 0.8e18, -0.1e18, 0.5e18);
        surface.setSmile(U, EXP, 0.8e18, -0.1e18, 0.5e18);
        vm.expectEmit();
        emit SmileSet(U, EXP, 0.8e18, -0.1e18, 0.5e18, 0.6e18, 0.2e18, 0);
        surface.setSmile(U, EXP, 0.6e18, 0.2e18, 0);
        VolatilitySurface.Smile memory s = surface.smileOf(U, EXP);
        assertEq(uint256(s.atmVol), 0.6e18, "atm");
        assertEq(int256(s.skew), 0.2e18, "skew");
        assertEq(uint256(s.curvature), 0, "curv");
        assertTrue(s.set, "set");
        assertTrue(surface.isSet(U, EXP), "isSet");
        assertFalse(surface.isSet(U, EXP + 1), "other expiry unset");
    }

    function test_setSmile_unauthorized_reverts() public {
        bytes32 role = surface.SURFACE_ADMIN_ROLE();
        vm.prank(address(0xBAD));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(0xBAD), role)
        );
        surface.setSmile(U, EXP, 0.8e18, 0, 0);
    }

    function test_setSmile_zeroUnderlying_reverts() public {
        vm.expectRevert(VolatilitySurface.ZeroAddress.selector);
        surface.setSmile(address(0), EXP, 0.8e18, 0, 0);
    }

    function test_setSmile_bounds_revert() public {
        vm.expectRevert(abi.encodeWithSelector(VolatilitySurface.AtmVolOutOfBounds.selector, 0.01e18 - 1));
        surface.setSmile(U, EXP, 0.01e18 - 1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(VolatilitySurface.AtmVolOutOfBounds.selector, 5e18 + 1));
        surface.setSmile(U, EXP, 5e18 + 1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(VolatilitySurface.SkewOutOfBounds.selector, int256(2e18 + 1)));
        surface.setSmile(U, EXP, 0.8e18, 2e18 + 1, 0);
        vm.expectRevert(abi.encodeWithSelector(VolatilitySurface.SkewOutOfBounds.selector, -int256(2e18 + 1)));
        surface.setSmile(U, EXP, 0.8e18, -2e18 - 1, 0);
        vm.expectRevert(abi.encodeWithSelector(VolatilitySurface.CurvatureOutOfBounds.selector, 5e18 + 1));
        surface.setSmile(U, EXP, 0.8e18, 0, 5e18 + 1);
        // the bounds themselves are accepted
        surface.setSmile(U, EXP, 0.01e18, -2e18, 5e18);
        surface.setSmile(U, EXP, 5e18, 2e18, 0);
    }

    function test_vol_unset_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(VolatilitySurface.SmileNotSet.selector, U, EXP));
        surface.vol(U, EXP, 3000e18, 3000e18);
    }

    function test_vol_zeroPrices_revert() public {
        surface.setSmile(U, EXP, 0.8e18, 0, 0);
        vm.expectRevert(VolatilitySurface.InvalidPrice.selector);
        surface.vol(U, EXP, 0, 3000e18);
        vm.expectRevert(VolatilitySurface.InvalidPrice.selector);
        surface.vol(U, EXP, 3000e18, 0);
    }

    function test_vol_atmEqualsAtmVol() public {
        surface.setSmile(U, EXP, 0.8e18, -0.3e18, 1e18);
        assertEq(surface.vol(U, EXP, 3000e18, 3000e18), 0.8e18, "ATM");
    }

    function test_vol_skewAndCurvature() public {
        surface.setSmile(U, EXP, 0.8e18, -0.2e18, 0.5e18);
        // k = ln(2) = 0.693147..., vol = 0.8 - 0.2k + 0.5k^2
        uint256 v = surface.vol(U, EXP, 6000e18, 3000e18);
        uint256 k = 693147180559945309;
        uint256 expected = 0.8e18 - (0.2e18 * k) / 1e18 + (0.5e18 * (k * k / 1e18)) / 1e18;
        assertApproxEqAbs(v, expected, 1e6, "OTM call wing");
        uint256 vDown = surface.vol(U, EXP, 1500e18, 3000e18);
        uint256 expDown = 0.8e18 + (0.2e18 * k) / 1e18 + (0.5e18 * (k * k / 1e18)) / 1e18;
        assertApproxEqAbs(vDown, expDown, 1e6, "OTM put wing");
        assertGt(vDown, v, "negative skew: puts richer");
    }

    function test_vol_clampsToFloorAndCap() public {
        surface.setSmile(U, EXP, 0.05e18, 2e18, 0); // steep positive skew
        assertEq(surface.vol(U, EXP, 1000e18, 3000e18), 0.01e18, "floor");
        surface.setSmile(U, EXP, 4.9e18, 0, 5e18);
        assertEq(surface.vol(U, EXP, 30_000e18, 3000e18), 5e18, "cap");
    }

    function test_vol_extremeMoneynessClamped() public {
        surface.setSmile(U, EXP, 1e18, 0, 0.1e18);
        // |k| clamps at 3: vol = 1 + 0.1 * 9 = 1.9 for any far strike, including ratio -> 0 / huge
        assertEq(surface.vol(U, EXP, 1, 3000e18), 1.9e18, "tiny strike");
        assertEq(surface.vol(U, EXP, 1e36, 1e18), 1.9e18, "huge strike");
        assertEq(surface.vol(U, EXP, 3000e18 * 25, 3000e18), 1.9e18, "just above e^3");
    }

    /// Fuzz: output always inside the hard bounds, for any admissible parameters and prices.
    function testFuzz_vol_withinBounds(uint256 atm, int256 skew, uint256 curv, uint256 strike, uint256 spot) public {
        atm = bound(atm, 0.01e18, 5e18);
        skew = boundInt(skew, -2e18, 2e18);
        curv = bound(curv, 0, 5e18);
        strike = bound(strike, 1, 1e33);
        spot = bound(spot, 1, 1e33);
        surface.setSmile(U, EXP, atm, skew, curv);
        uint256 v = surface.vol(U, EXP, strike, spot);
        assertGe(v, 0.01e18, "floor");
        assertLe(v, 5e18, "cap");
    }

    /// Fuzz: with zero curvature and negative skew, vol is non-increasing in strike.
    function testFuzz_vol_monotoneUnderNegativeSkew(uint256 k1, uint256 k2, int256 skew) public {
        skew = boundInt(skew, -2e18, 0);
        k1 = bound(k1, 100e18, 100_000e18);
        k2 = bound(k2, k1, 100_000e18);
        surface.setSmile(U, EXP, 0.8e18, skew, 0);
        assertGe(surface.vol(U, EXP, k1, 3000e18), surface.vol(U, EXP, k2, 3000e18), "monotone");
    }

    /// Fuzz: symmetric smile (skew 0) gives equal vol at K and S^2/K.
    function testFuzz_vol_symmetricWithoutSkew(uint256 strike, uint256 curv) public {
        strike = bound(strike, 1000e18, 9000e18);
        curv = bound(curv, 0, 5e18);
        surface.setSmile(U, EXP, 0.8e18, 0, curv);
        uint256 mirror = (3000e18 * 3000e18) / strike;
        assertApproxEqAbs(surface.vol(U, EXP, strike, 3000e18), surface.vol(U, EXP, mirror, 3000e18), 1e9, "sym");
    }
}
