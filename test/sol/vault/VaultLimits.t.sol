// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VaultFixture} from "./VaultFixture.sol";
import {TreasuryVault} from "../../../contracts/core/TreasuryVault.sol";
import {RiskPolicy} from "../../../contracts/core/RiskPolicy.sol";
import {OracleRouter} from "../../../contracts/oracles/OracleRouter.sol";
import {PerpDEXAdapter} from "../../../contracts/adapters/PerpDEXAdapter.sol";
import {PerpDEX} from "../../../contracts/venues/perp/PerpDEX.sol";
import {ManagedPriceFeed} from "../../../contracts/oracles/ManagedPriceFeed.sol";
import {IOracleRouter} from "../../../contracts/interfaces/IOracleRouter.sol";

/// @notice Every per-leg and post-trade limit of a rebalance, each with its own custom error.
contract VaultLimitsTest is VaultFixture {
    function setUp() public {
        _deploySystem();
    }

    function _margin() internal view returns (TreasuryVault.Leg memory) {
        return _marginLeg(address(weth), 1_000_000e6);
    }

    /// @dev Raises the approval tiers so large single legs run without approvals (tiers are tested apart).
    function _highTiers() internal {
        RiskPolicy.GlobalLimits memory g = policy.globalLimits();
        g.tier1Notional = 500_000_000e18;
        g.tier2Notional = 1_000_000_000e18;
        _setGlobal(g);
    }

    // ------------------------------------------------------------------ venues

    function testVenueNotOnAllowList() public {
        PerpDEXAdapter unlisted = new PerpDEXAdapter(dex);
        TreasuryVault.Leg memory leg = _perpLeg(address(weth), -700e18, 2900e18);
        leg.adapter = address(unlisted);
        _rebalanceReverts(_legs2(_margin(), leg), abi.encodeWithSelector(TreasuryVault.VenueNotAllowed.selector, address(unlisted)));
        leg.adapter = address(0xDEAD);
        _rebalanceReverts(_legs1(leg), abi.encodeWithSelector(TreasuryVault.VenueNotAllowed.selector, address(0xDEAD)));
        // Governance delists the spot venue: spot legs stop at once.
        vm.prank(GOV);
        policy.setVenueAllowed(address(spotAdapter), false);
        _rebalanceReverts(
            _legs1(_spotLeg(address(weth), -10e18, 1)),
            abi.encodeWithSelector(TreasuryVault.VenueNotAllowed.selector, address(spotAdapter))
        );
    }

    /// @dev A venue whose index comes from another oracle (3% above the vault's) is refused even
    /// though its own fill is within the slippage bound of its own index.
    function testVenuePricedOffTheVaultOracleIsRefused() public {
        ManagedPriceFeed otherFeed = new ManagedPriceFeed(8, "ETH / USD (other)", 3090e8, address(this));
        OracleRouter otherRouter = new OracleRouter(address(this));
        otherRouter.setFeed(address(weth), address(otherFeed), 3600, 2000);
        PerpDEX otherDex = new PerpDEX(usdc, IOracleRouter(address(otherRouter)), address(this));
        otherDex.addMarket(address(weth), _perpParams(2_000_000e18, 100_000e18));
        usdc.mint(address(this), 10_000_000e6);
        usdc.approve(address(otherDex), type(uint256).max);
        otherDex.depositLiquidity(10_000_000e6);
        PerpDEXAdapter otherAdapter = new PerpDEXAdapter(otherDex);
        vm.prank(GOV);
        policy.setVenueAllowed(address(otherAdapter), true);

        TreasuryVault.Leg memory margin = _margin();
        margin.adapter = address(otherAdapter);
        TreasuryVault.Leg memory leg = _perpLeg(address(weth), -700e18, 3000e18);
        leg.adapter = address(otherAdapter);
        _rebalanceReverts(
            _legs2(margin, leg), abi.encodeWithSelector(TreasuryVault.OracleDeviation.selector, 1, 3090e18, 3000e18)
        );
        // Within the 2% limit the same venue is accepted.
        otherFeed.submit(3030e8);
        _rebalance(KEEPER, _legs2(margin, leg));
        assertLe(_net(address(weth)), int256(25e18), "in band");
    }

    function testTooManyPerpVenues() public {
        TreasuryVault.Leg[] memory legs = new TreasuryVault.Leg[](4);
        for (uint256 i; i < 4; ++i) {
            address a = i == 0 ? address(perpAdapter) : address(new PerpDEXAdapter(dex));
            vm.prank(GOV);
            policy.setVenueAllowed(a, true);
            legs[i] = _marginLeg(address(weth), 1_000e6);
            legs[i].adapter = a;
        }
        _rebalanceReverts(legs, abi.encodeWithSelector(TreasuryVault.TooManyPerpVenues.selector, address(weth)));
    }

    // ------------------------------------------------------------------ leg size caps

    function testOptionLegAboveCap() public {
        _highTiers();
        _rebalanceReverts(
            _legs1(_optionLegAmple(putAtm, 2_001e18)),
            abi.encodeWithSelector(TreasuryVault.LegSizeAboveCap.selector, 0, 2_001e18, 2_000e18)
        );
        // Selling is capped the same way (a short capped call posts 3x strike of USDC: fund it).
        usdc.mint(TREASURER, 20_000_000e6);
        vm.prank(TREASURER);
        vault.deposit(address(usdc), 20_000_000e6);
        _rebalanceReverts(
            _legs1(_optionLegAmple(callAtm, -2_001e18)),
            abi.encodeWithSelector(TreasuryVault.LegSizeAboveCap.selector, 0, 2_001e18, 2_000e18)
        );
    }

    function testPerpLegAboveCap() public {
        _highTiers();
        _rebalanceReverts(
            _legs2(_margin(), _perpLeg(address(weth), -5_001e18, 2900e18)),
            abi.encodeWithSelector(TreasuryVault.LegSizeAboveCap.selector, 1, 5_001e18, 5_000e18)
        );
    }

    function testSpotLegAboveCap() public {
        RiskPolicy.UnderlyingLimits memory l = _wethLimits();
        l.maxSpotLegSize = 100e18;
        _setLimits(address(weth), l);
        _rebalanceReverts(
            _legs1(_spotLeg(address(weth), -101e18, 1)),
            abi.encodeWithSelector(TreasuryVault.LegSizeAboveCap.selector, 0, 101e18, 100e18)
        );
        // Buying is capped on the WETH received: 400k USDC buys ~133 WETH.
        _rebalanceRevertsSel(_legs1(_spotLeg(address(weth), 400_000e6, 1)), TreasuryVault.LegSizeAboveCap.selector);
    }

    // ------------------------------------------------------------------ slippage

    function testOptionFeeAndSpreadOverBudget() public {
        // The AMM charges a 5 bps fee plus a vega spread: over a 5 bps budget.
        RiskPolicy.GlobalLimits memory g = _globalLimits();
        g.maxSlippageBps = 5;
        _setGlobal(g);
        _rebalanceRevertsSel(_legs1(_optionLegAmple(putAtm, 100e18)), TreasuryVault.SlippageTooHigh.selector);
        // Within a 100 bps budget the same leg passes its checks (and the hedge is completed).
        g.maxSlippageBps = 100;
        _setGlobal(g);
        _rebalance(
            KEEPER,
            _legs3(_margin(), _optionLegAmple(putAtm, 100e18), _perpToTargetAfter(address(weth), 0, _optionDelta(putAtm, 100e18)))
        );
    }

    function testPerpFillTooFarFromOracle() public {
        // 4,500 short on a 2M skew scale fills ~11.25 bps under the index; the 5 bps fee is within 10 bps.
        _highTiers();
        RiskPolicy.GlobalLimits memory g = policy.globalLimits();
        g.maxSlippageBps = 10;
        _setGlobal(g);
        uint64 e = vault.epoch();
        (bool ok, bytes memory ret) = _tryRebalance(
            KEEPER, _legs2(_margin(), _perpLeg(address(weth), -4_500e18, 2900e18)), bytes32(0), e, block.timestamp + 60
        );
        assertFalse(ok, "reverts");
        _assertSelector(ret, TreasuryVault.SlippageTooHigh.selector);
        (uint256 idx, uint256 execPrice, uint256 oraclePrice, uint256 fee) = abi.decode(_args(ret), (uint256, uint256, uint256, uint256));
        assertEq(idx, 1, "leg index");
        assertEq(oraclePrice, ETH_PX, "oracle");
        assertGt((oraclePrice - execPrice) * 10_000, oraclePrice * 10, "fill more than 10 bps off");
        assertLe(fee * 10_000, 4_500e18 * ETH_PX / 1e18 * 10, "fee within budget: the price check fired");
    }

    function testSpotSwapTooFarFromOracle() public {
        // Selling 1,000 WETH into a 20,000 WETH full-range pool moves the price ~5%.
        uint64 e = vault.epoch();
        (bool ok, bytes memory ret) =
            _tryRebalance(KEEPER, _legs1(_spotLeg(address(weth), -1_000e18, 1)), bytes32(0), e, block.timestamp + 60);
        assertFalse(ok, "reverts");
        _assertSelector(ret, TreasuryVault.SlippageTooHigh.selector);
        (uint256 idx, uint256 execPrice, uint256 oraclePrice,) = abi.decode(_args(ret), (uint256, uint256, uint256, uint256));
        assertEq(idx, 0, "leg index");
        assertLt(execPrice, oraclePrice * 99 / 100, "executed more than 1% under the oracle");
    }

    // ------------------------------------------------------------------ hedge ratio

    function testHedgeRatioOvershoot() public {
        // Net 700 hedged by 720: lands at -20 (inside the band) but closes 102.9% of the gap.
        uint256 ratio = uint256(720e18) * 1e18 / 700e18;
        _rebalanceReverts(
            _legs2(_margin(), _perpLeg(address(weth), -720e18, 2900e18)),
            abi.encodeWithSelector(TreasuryVault.HedgeRatioOutOfBounds.selector, address(weth), ratio, 0.5e18, 1e18)
        );
    }

    function testHedgeRatioTooSmall() public {
        // A 500 band: net 700 hedged by only 250 lands inside (450) but closes 35.7% < 50% of the gap.
        RiskPolicy.UnderlyingLimits memory l = _wethLimits();
        l.band = 500e18;
        _setLimits(address(weth), l);
        uint256 ratio = uint256(250e18) * 1e18 / 700e18;
        _rebalanceReverts(
            _legs2(_margin(), _perpLeg(address(weth), -250e18, 2900e18)),
            abi.encodeWithSelector(TreasuryVault.HedgeRatioOutOfBounds.selector, address(weth), ratio, 0.5e18, 1e18)
        );
        // Closing 50% exactly is allowed.
        _rebalance(KEEPER, _legs2(_margin(), _perpLeg(address(weth), -350e18, 2900e18)));
    }

    function testHedgeMovingAwayFromTargetReverts() public {
        // Adding to the gap (700 -> 900): with a band this wide the band check passes, the ratio check
        // (negative ratio, clamped to 0) does not.
        RiskPolicy.UnderlyingLimits memory l = _wethLimits();
        l.band = 600e18;
        l.targetDelta = 0;
        _setLimits(address(weth), l);
        // Pre-trade 700 is outside a 600 band; after +200 net is 900: outside too -> OutsideBand.
        _rebalanceReverts(
            _legs2(_margin(), _perpLeg(address(weth), 200e18, 3100e18)),
            abi.encodeWithSelector(TreasuryVault.OutsideBand.selector, address(weth), int256(900e18), int256(0), uint256(600e18))
        );
        // A hedge that crosses the target to the far side of the band overshoots the ratio bound.
        _rebalanceReverts(
            _legs2(_margin(), _perpLeg(address(weth), -1_250e18, 2900e18)),
            abi.encodeWithSelector(
                TreasuryVault.HedgeRatioOutOfBounds.selector, address(weth), uint256(1_250e18) * 1e18 / 700e18, 0.5e18, 1e18
            )
        );
    }

    // ------------------------------------------------------------------ position caps

    function testPerpPositionCap() public {
        RiskPolicy.UnderlyingLimits memory l = _wethLimits();
        l.maxPerpPosition = 600e18;
        _setLimits(address(weth), l);
        _rebalanceReverts(
            _legs2(_margin(), _perpLeg(address(weth), -700e18, 2900e18)),
            abi.encodeWithSelector(TreasuryVault.PerpPositionAboveCap.selector, address(weth), 700e18, 600e18)
        );
        // Spot sale for the rest keeps the perp at the cap.
        _rebalance(KEEPER, _legs3(_margin(), _spotLeg(address(weth), -100e18, 1), _perpLeg(address(weth), -600e18, 2900e18)));
        assertEq(dex.position(address(vault), address(weth)).size, -int256(600e18), "at the cap");
    }

    function testTooManyOpenSeries() public {
        RiskPolicy.UnderlyingLimits memory l = _wethLimits();
        l.maxOpenSeries = 1;
        _setLimits(address(weth), l);
        int256 d = _optionDelta(putAtm, 100e18) + _optionDelta(put90, 100e18);
        TreasuryVault.Leg[] memory legs = new TreasuryVault.Leg[](4);
        legs[0] = _margin();
        legs[1] = _optionLegAmple(putAtm, 100e18);
        legs[2] = _optionLegAmple(put90, 100e18);
        legs[3] = _perpToTargetAfter(address(weth), 0, d);
        _rebalanceReverts(legs, abi.encodeWithSelector(TreasuryVault.TooManyOpenSeries.selector, address(weth), 2, 1));
        // One series is fine.
        _rebalance(
            KEEPER, _legs3(_margin(), _optionLegAmple(putAtm, 100e18), _perpToTargetAfter(address(weth), 0, _optionDelta(putAtm, 100e18)))
        );
        assertEq(vault.heldSeries(address(weth)).length, 1, "one series held");
    }

    // ------------------------------------------------------------------ windows

    /// @dev Buys `size` ATM puts and hedges the rest of the book with a perp.
    function _buyPuts(int256 size) internal view returns (TreasuryVault.Leg[] memory) {
        return _legs3(_margin(), _optionLegAmple(putAtm, size), _perpToTargetAfter(address(weth), 0, _optionDelta(putAtm, size)));
    }

    function testPremiumBudgetPerWindowAndReset() public {
        uint256 p100 = amm.quote(putAtm, 100e18).premium;
        uint256 p150 = amm.quote(putAtm, 150e18).premium;
        // Budget fits the first purchase but not both.
        uint128 budget = uint128(p100 + p150 / 2);
        RiskPolicy.UnderlyingLimits memory l = _wethLimits();
        l.premiumBudgetPerWindow = budget;
        _setLimits(address(weth), l);
        uint256 t0 = block.timestamp;
        _rebalance(KEEPER, _buyPuts(100e18));
        // Quoted after the first purchase: the pool's exposure (and so its spread) has moved.
        p150 = amm.quote(putAtm, 150e18).premium;
        uint64 e = vault.epoch();
        (bool ok, bytes memory ret) = _tryRebalance(KEEPER, _buyPuts(150e18), bytes32(0), e, block.timestamp + 60);
        assertFalse(ok, "over budget");
        _assertSelector(ret, TreasuryVault.PremiumBudgetExceeded.selector);
        (address u, uint256 spent, uint256 b) = abi.decode(_args(ret), (address, uint256, uint256));
        assertEq(u, address(weth), "underlying");
        assertEq(b, budget, "budget");
        // USDC paid rounds each WAD premium up to the next 1e-6.
        assertApproxEqAbs(spent, p100 + p150, 2e12, "cumulative premium in the window");
        // The window resets a full window after it started.
        vm.warp(t0 + 1 days - 1);
        _refreshFeeds();
        (ok,) = _tryRebalance(KEEPER, _buyPuts(150e18), bytes32(0), e, block.timestamp + 60);
        assertFalse(ok, "still the same window");
        vm.warp(t0 + 1 days);
        _refreshFeeds();
        _rebalance(KEEPER, _buyPuts(150e18));
        assertEq(vault.heldSeries(address(weth)).length, 1, "bought in the new window");
    }

    /// @dev `premiumSpent` shows what `_checkWindows` counts: option premium paid per underlying,
    /// growing with buys inside a window (not with perp legs or option sales) and restarting from the
    /// buy that opens the next window.
    function testPremiumSpentViewGrowsWithBuysAndResetsAfterWindow() public {
        (uint256 spent, uint64 start) = vault.premiumSpent(address(weth));
        assertEq(spent, 0, "nothing spent yet");
        assertEq(uint256(start), 0, "no window yet");
        uint256 t0 = block.timestamp;
        uint256 p100 = amm.quote(putAtm, 100e18).premium;
        _rebalance(KEEPER, _buyPuts(100e18));
        (spent, start) = vault.premiumSpent(address(weth));
        // USDC paid rounds each WAD premium up to the next 1e-6.
        assertApproxEqAbs(spent, p100, 1e12, "first buy");
        assertGt(spent, 0, "premium counted");
        assertEq(uint256(start), t0, "window opened by the first buy");

        vm.warp(t0 + 1 hours);
        _refreshFeeds();
        uint256 p50 = amm.quote(putAtm, 50e18).premium;
        _rebalance(KEEPER, _buyPuts(50e18));
        uint256 spent2;
        (spent2, start) = vault.premiumSpent(address(weth));
        assertApproxEqAbs(spent2, spent + p50, 1e12, "second buy adds up");
        assertEq(uint256(start), t0, "same window");

        // A perp-only bundle and an option sale pay no premium.
        _rebalance(KEEPER, _legs1(_perpLeg(address(weth), 1e18, 3100e18)));
        _rebalance(
            KEEPER,
            _legs2(_optionLegAmple(putAtm, -20e18), _perpToTargetAfter(address(weth), 0, _optionDelta(putAtm, -20e18)))
        );
        uint256 spent3;
        (spent3, start) = vault.premiumSpent(address(weth));
        assertEq(spent3, spent2, "no premium from perp legs or sales");
        assertEq(uint256(start), t0, "same window");
        (uint256 btcSpent, uint64 btcStart) = vault.premiumSpent(address(wbtc));
        assertEq(btcSpent + btcStart, 0, "per underlying");

        // The view is raw: it keeps the old record until the next buy opens a new window.
        vm.warp(t0 + 1 days);
        _refreshFeeds();
        (spent3, start) = vault.premiumSpent(address(weth));
        assertEq(spent3, spent2, "raw record after the window");
        uint256 p20 = amm.quote(putAtm, 20e18).premium;
        _rebalance(KEEPER, _buyPuts(20e18));
        (spent, start) = vault.premiumSpent(address(weth));
        assertApproxEqAbs(spent, p20, 1e12, "restarted at the new buy");
        assertEq(uint256(start), t0 + 1 days, "new window");
    }

    function testTurnoverCapAndReset() public {
        RiskPolicy.GlobalLimits memory g = _globalLimits();
        g.turnoverCapPerWindow = 3_000_000e18;
        _setGlobal(g);
        uint256 t0 = block.timestamp;
        _rebalance(KEEPER, _perpHedgeLegs(-700e18)); // 2.1M
        TreasuryVault.Leg[] memory churn =
            _legs2(_perpLeg(address(weth), 300e18, 3100e18), _perpLeg(address(weth), -300e18, 2900e18)); // 1.8M
        _rebalanceReverts(churn, abi.encodeWithSelector(TreasuryVault.TurnoverCapExceeded.selector, 3_900_000e18, 3_000_000e18));
        vm.warp(t0 + 1 days);
        _refreshFeeds();
        _rebalance(KEEPER, churn);
        (uint64 start, uint128 turnover) = vault.window();
        assertEq(uint256(start), t0 + 1 days, "new window");
        assertEq(uint256(turnover), 1_800_000e18, "turnover restarted");
    }

    function testKeeperCooldown() public {
        RiskPolicy.GlobalLimits memory g = _globalLimits();
        g.keeperCooldown = 600;
        _setGlobal(g);
        uint256 t0 = block.timestamp;
        _rebalance(KEEPER, _perpHedgeLegs(-700e18));
        TreasuryVault.Leg[] memory small = _legs1(_perpLeg(address(weth), 1e18, 3100e18));
        _rebalanceReverts(small, abi.encodeWithSelector(TreasuryVault.Cooldown.selector, t0 + 600));
        vm.warp(t0 + 599);
        _rebalanceReverts(small, abi.encodeWithSelector(TreasuryVault.Cooldown.selector, t0 + 600));
        vm.warp(t0 + 600);
        _rebalance(KEEPER2, small);
        assertEq(uint256(vault.epoch()), 2, "second rebalance after cooldown");
    }

    // ------------------------------------------------------------------ bundle shape

    function testDeadlinePassed() public {
        vm.warp(block.timestamp + 100);
        uint256 deadline = block.timestamp - 1;
        vm.expectRevert(abi.encodeWithSelector(TreasuryVault.DeadlinePassed.selector, deadline));
        vm.prank(KEEPER);
        vault.rebalance(_perpHedgeLegs(-700e18), bytes32(0), 0, deadline);
    }

    function testNoLegsAndTooManyLegs() public {
        _rebalanceReverts(new TreasuryVault.Leg[](0), abi.encodeWithSelector(TreasuryVault.NoLegs.selector));
        TreasuryVault.Leg[] memory legs = new TreasuryVault.Leg[](9);
        for (uint256 i; i < 9; ++i) {
            legs[i] = _marginLeg(address(weth), 1e6);
        }
        _rebalanceReverts(legs, abi.encodeWithSelector(TreasuryVault.TooManyLegs.selector, 9));
    }

    function testInvalidLegAmounts() public {
        _rebalanceReverts(_legs1(_spotLeg(address(weth), 0, 0)), abi.encodeWithSelector(TreasuryVault.InvalidAmount.selector));
        _rebalanceReverts(_legs1(_marginLeg(address(weth), 0)), abi.encodeWithSelector(TreasuryVault.InvalidAmount.selector));
    }

    // ------------------------------------------------------------------ underlyings and oracle

    function testUnknownUnderlying() public {
        TreasuryVault.Leg memory leg = _perpLeg(address(weth), -700e18, 2900e18);
        leg.underlying = address(usdc);
        _rebalanceReverts(_legs1(leg), abi.encodeWithSelector(TreasuryVault.UnknownUnderlying.selector, address(usdc)));
    }

    function testHedgingDisabled() public {
        RiskPolicy.UnderlyingLimits memory l = _wethLimits();
        l.enabled = false;
        _setLimits(address(weth), l);
        _rebalanceReverts(_perpHedgeLegs(-700e18), abi.encodeWithSelector(TreasuryVault.HedgingDisabled.selector, address(weth)));
    }

    function testStaleOracleRouterRefusesFirst() public {
        vm.warp(T0 + 3601);
        _rebalanceReverts(
            _perpHedgeLegs(-700e18), abi.encodeWithSelector(OracleRouter.StalePrice.selector, address(weth), T0, uint256(3600))
        );
    }

    function testStaleOracleVaultMaxAge() public {
        // The policy's own limit is tighter than the router's: the vault refuses with its error.
        RiskPolicy.GlobalLimits memory g = _globalLimits();
        g.oracleMaxAge = 60;
        _setGlobal(g);
        vm.warp(T0 + 61);
        _rebalanceReverts(
            _perpHedgeLegs(-700e18), abi.encodeWithSelector(TreasuryVault.StaleOracle.selector, address(weth), T0, uint256(60))
        );
        vm.warp(T0 + 60);
        _rebalance(KEEPER, _perpHedgeLegs(-700e18));
    }

    function testUnderlyingMismatch() public {
        // The series is on WETH, the leg claims WBTC.
        TreasuryVault.Leg memory leg = _optionLegAmple(putAtm, 10e18);
        leg.underlying = address(wbtc);
        _rebalanceReverts(
            _legs1(leg), abi.encodeWithSelector(TreasuryVault.UnderlyingMismatch.selector, 0, address(wbtc), address(weth))
        );
    }
}
