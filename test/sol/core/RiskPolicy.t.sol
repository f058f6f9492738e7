// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../utils/TestBase.sol";
import {RiskPolicy} from "../../../contracts/core/RiskPolicy.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract RiskPolicyTest is TestBase {
    RiskPolicy policy;
    address gov = address(0x60F);
    address stranger = address(0xBAD);
    address constant WETH = address(0xE7);

    function _global() internal pure returns (RiskPolicy.GlobalLimits memory) {
        return RiskPolicy.GlobalLimits({
            maxSlippageBps: 100,
            oracleMaxDeviationBps: 200,
            oracleMaxAge: 3600,
            keeperCooldown: 60,
            window: 1 days,
            approvalExpiry: 1 hours,
            greeksCacheMaxAge: 1 hours,
            greeksCacheMaxMoveBps: 100,
            turnoverCapPerWindow: 50_000_000e18,
            tier1Notional: 1_000_000e18,
            tier2Notional: 5_000_000e18
        });
    }

    function _weth() internal pure returns (RiskPolicy.UnderlyingLimits memory) {
        return RiskPolicy.UnderlyingLimits({
            enabled: true,
            targetDelta: 0,
            band: 25e18,
            minHedgeRatio: 0.5e18,
            maxHedgeRatio: 1e18,
            maxOptionLegSize: 500e18,
            maxPerpLegSize: 1000e18,
            maxSpotLegSize: 200e18,
            maxPerpPosition: 2000e18,
            premiumBudgetPerWindow: 250_000e18,
            maxOpenSeries: 20
        });
    }

    function setUp() public {
        policy = new RiskPolicy(gov, _global());
    }

    function testConstructorRejectsZeroGovernance() public {
        vm.expectRevert(abi.encodeWithSelector(RiskPolicy.InvalidLimit.selector, "governance"));
        new RiskPolicy(address(0), _global());
    }

    function testGovernanceSetsUnderlyingLimitsWithOldAndNew() public {
        RiskPolicy.UnderlyingLimits memory empty;
        vm.expectEmit();
        emit RiskPolicy.UnderlyingLimitsSet(WETH, empty, _weth());
        vm.prank(gov);
        policy.setUnderlyingLimits(WETH, _weth());
        assertEq(uint256(policy.underlyingLimits(WETH).band), 25e18, "band stored");

        RiskPolicy.UnderlyingLimits memory next = _weth();
        next.band = 30e18;
        vm.expectEmit();
        emit RiskPolicy.UnderlyingLimitsSet(WETH, _weth(), next);
        vm.prank(gov);
        policy.setUnderlyingLimits(WETH, next);
        assertEq(uint256(policy.underlyingLimits(WETH).band), 30e18, "band updated");
    }

    function testUnknownUnderlyingReverts() public {
        vm.expectRevert(abi.encodeWithSelector(RiskPolicy.UnknownUnderlying.selector, WETH));
        policy.underlyingLimits(WETH);
        assertEq(uint256(policy.rawUnderlyingLimits(WETH).band), 0, "raw view is zero");
    }

    function testGlobalLimitsEmitOldAndNew() public {
        RiskPolicy.GlobalLimits memory next = _global();
        next.maxSlippageBps = 50;
        vm.expectEmit();
        emit RiskPolicy.GlobalLimitsSet(_global(), next);
        vm.prank(gov);
        policy.setGlobalLimits(next);
        assertEq(uint256(policy.globalLimits().maxSlippageBps), 50, "slippage updated");
    }

    function testVenueAllowList() public {
        address adapter = address(0xADA);
        assertFalse(policy.venueAllowed(adapter), "not allowed by default");
        vm.expectEmit();
        emit RiskPolicy.VenueAllowedSet(adapter, false, true);
        vm.prank(gov);
        policy.setVenueAllowed(adapter, true);
        assertTrue(policy.venueAllowed(adapter), "allowed");
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(RiskPolicy.InvalidLimit.selector, "adapter"));
        policy.setVenueAllowed(address(0), true);
    }

    function testEveryGovernedSetterRejectsStrangers() public {
        bytes32 role = policy.GOVERNANCE_ROLE();
        bytes memory err = abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role);
        vm.startPrank(stranger);
        vm.expectRevert(err);
        policy.setGlobalLimits(_global());
        vm.expectRevert(err);
        policy.setUnderlyingLimits(WETH, _weth());
        vm.expectRevert(err);
        policy.setVenueAllowed(address(1), true);
        vm.stopPrank();
    }

    function _expectGlobalInvalid(RiskPolicy.GlobalLimits memory g, string memory field) internal {
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(RiskPolicy.InvalidLimit.selector, field));
        policy.setGlobalLimits(g);
    }

    function testGlobalSanityBounds() public {
        RiskPolicy.GlobalLimits memory g = _global();
        g.maxSlippageBps = 0;
        _expectGlobalInvalid(g, "maxSlippageBps");
        g = _global();
        g.maxSlippageBps = 1001;
        _expectGlobalInvalid(g, "maxSlippageBps");
        g = _global();
        g.oracleMaxDeviationBps = 0;
        _expectGlobalInvalid(g, "oracleMaxDeviationBps");
        g = _global();
        g.oracleMaxDeviationBps = 2001;
        _expectGlobalInvalid(g, "oracleMaxDeviationBps");
        g = _global();
        g.oracleMaxAge = 29;
        _expectGlobalInvalid(g, "oracleMaxAge");
        g = _global();
        g.oracleMaxAge = 1 days + 1;
        _expectGlobalInvalid(g, "oracleMaxAge");
        g = _global();
        g.keeperCooldown = 1 days + 1;
        _expectGlobalInvalid(g, "keeperCooldown");
        g = _global();
        g.window = 1 hours - 1;
        _expectGlobalInvalid(g, "window");
        g = _global();
        g.window = 30 days + 1;
        _expectGlobalInvalid(g, "window");
        g = _global();
        g.approvalExpiry = 5 minutes - 1;
        _expectGlobalInvalid(g, "approvalExpiry");
        g = _global();
        g.approvalExpiry = 7 days + 1;
        _expectGlobalInvalid(g, "approvalExpiry");
        g = _global();
        g.greeksCacheMaxAge = 0;
        _expectGlobalInvalid(g, "greeksCacheMaxAge");
        g = _global();
        g.greeksCacheMaxAge = 1 days + 1;
        _expectGlobalInvalid(g, "greeksCacheMaxAge");
        g = _global();
        g.greeksCacheMaxMoveBps = 0;
        _expectGlobalInvalid(g, "greeksCacheMaxMoveBps");
        g = _global();
        g.greeksCacheMaxMoveBps = 501;
        _expectGlobalInvalid(g, "greeksCacheMaxMoveBps");
        g = _global();
        g.turnoverCapPerWindow = 0;
        _expectGlobalInvalid(g, "turnoverCapPerWindow");
        g = _global();
        g.tier1Notional = 0;
        _expectGlobalInvalid(g, "tier1Notional");
        g = _global();
        g.tier1Notional = g.tier2Notional + 1;
        _expectGlobalInvalid(g, "tier1Notional");
        g = _global();
        g.tier1Notional = 1;
        g.tier2Notional = 1e36 + 1;
        _expectGlobalInvalid(g, "tier2Notional");
    }

    function _expectUnderlyingInvalid(RiskPolicy.UnderlyingLimits memory l, string memory field) internal {
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(RiskPolicy.InvalidLimit.selector, field));
        policy.setUnderlyingLimits(WETH, l);
    }

    function testUnderlyingSanityBounds() public {
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(RiskPolicy.InvalidLimit.selector, "underlying"));
        policy.setUnderlyingLimits(address(0), _weth());
        RiskPolicy.UnderlyingLimits memory l = _weth();
        l.band = 0;
        _expectUnderlyingInvalid(l, "band");
        l = _weth();
        l.targetDelta = -1e36 - 1;
        _expectUnderlyingInvalid(l, "targetDelta");
        l = _weth();
        l.minHedgeRatio = 0;
        _expectUnderlyingInvalid(l, "minHedgeRatio");
        l = _weth();
        l.minHedgeRatio = 1.1e18;
        _expectUnderlyingInvalid(l, "minHedgeRatio");
        l = _weth();
        l.maxHedgeRatio = 2.1e18;
        _expectUnderlyingInvalid(l, "maxHedgeRatio");
        l = _weth();
        l.maxOptionLegSize = 1e36 + 1;
        _expectUnderlyingInvalid(l, "maxOptionLegSize");
        l = _weth();
        l.maxPerpLegSize = 1e36 + 1;
        _expectUnderlyingInvalid(l, "maxPerpLegSize");
        l = _weth();
        l.maxSpotLegSize = 1e36 + 1;
        _expectUnderlyingInvalid(l, "maxSpotLegSize");
        l = _weth();
        l.maxPerpPosition = 1e36 + 1;
        _expectUnderlyingInvalid(l, "maxPerpPosition");
        l = _weth();
        l.premiumBudgetPerWindow = 1e36 + 1;
        _expectUnderlyingInvalid(l, "premiumBudgetPerWindow");
        l = _weth();
        l.maxOpenSeries = 33;
        _expectUnderlyingInvalid(l, "maxOpenSeries");
    }

    /// @dev Fuzz: any band inside the sanity range is stored exactly; outside it reverts.
    function testFuzzBand(uint128 band) public {
        RiskPolicy.UnderlyingLimits memory l = _weth();
        l.band = band;
        vm.prank(gov);
        if (band == 0 || band > 1e36) vm.expectRevert(abi.encodeWithSelector(RiskPolicy.InvalidLimit.selector, "band"));
        policy.setUnderlyingLimits(WETH, l);
        if (band != 0 && band <= 1e36) assertEq(uint256(policy.underlyingLimits(WETH).band), band, "stored");
    }
}
