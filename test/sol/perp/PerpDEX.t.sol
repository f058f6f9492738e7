// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PerpTestBase} from "./PerpTestBase.sol";
import {Vm} from "../utils/Vm.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";
import {IOracleRouter} from "../../../contracts/interfaces/IOracleRouter.sol";
import {OracleRouter} from "../../../contracts/oracles/OracleRouter.sol";
import {PerpDEX} from "../../../contracts/venues/perp/PerpDEX.sol";
import {PerpLiquidityPool} from "../../../contracts/venues/perp/PerpLiquidityPool.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Unit tests: every external function of PerpDEX / PerpLiquidityPool and every revert path.
contract PerpDEXTest is PerpTestBase {
    address internal constant STRANGER = address(0xBAD);

    // ------------------------------------------------------------------ constructor

    function test_constructor_setsImmutablesAndRoles() public view {
        assertEq(address(dex.quoteToken()), address(usdc), "quote");
        assertEq(address(dex.oracle()), address(router), "oracle");
        assertEq(dex.quoteScale(), 1e12, "scale");
        assertTrue(dex.hasRole(dex.DEFAULT_ADMIN_ROLE(), address(this)), "admin");
        assertTrue(dex.hasRole(dex.MARKET_ADMIN_ROLE(), address(this)), "market admin");
        assertEq(dex.MARKET_ADMIN_ROLE(), keccak256("MARKET_ADMIN_ROLE"), "role id");
    }

    function test_constructor_revertsOnZeroAddresses() public {
        IOracleRouter r = IOracleRouter(address(router));
        vm.expectRevert(PerpLiquidityPool.ZeroAddress.selector);
        new PerpDEX(IERC20(address(0)), r, address(this));
        vm.expectRevert(PerpLiquidityPool.ZeroAddress.selector);
        new PerpDEX(usdc, IOracleRouter(address(0)), address(this));
        vm.expectRevert(PerpLiquidityPool.ZeroAddress.selector);
        new PerpDEX(usdc, r, address(0));
    }

    function test_constructor_revertsOnQuoteDecimalsAbove18() public {
        TestToken t = new TestToken("X", "X", 19, address(this));
        vm.expectRevert(abi.encodeWithSelector(PerpLiquidityPool.InvalidParam.selector, bytes32("quoteDecimals")));
        new PerpDEX(t, IOracleRouter(address(router)), address(this));
    }

    // ------------------------------------------------------------------ addMarket / setMarketParams

    function test_addMarket_listsAndEmits() public {
        address u = address(0x1234);
        PerpDEX.MarketParams memory p = ethParams();
        vm.expectEmit();
        emit PerpDEX.MarketAdded(u, p);
        dex.addMarket(u, p);
        address[] memory list = dex.listMarkets();
        assertEq(list.length, 3, "count");
        assertEq(list[2], u, "listed");
        assertEq(dex.marketParams(u).skewScale, p.skewScale, "params stored");
    }

    function test_addMarket_revertsForNonAdmin() public {
        bytes32 role = dex.MARKET_ADMIN_ROLE();
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, role));
        dex.addMarket(address(0x1234), ethParams());
    }

    function test_addMarket_revertsOnZeroUnderlying() public {
        vm.expectRevert(PerpLiquidityPool.ZeroAddress.selector);
        dex.addMarket(address(0), ethParams());
    }

    function test_addMarket_revertsWhenExists() public {
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketExists.selector, address(weth)));
        dex.addMarket(address(weth), ethParams());
    }

    function test_addMarket_revertsAboveMaxMarkets() public {
        for (uint256 i = 2; i < dex.MAX_MARKETS(); ++i) {
            dex.addMarket(address(uint160(0x5000 + i)), ethParams());
        }
        vm.expectRevert(PerpDEX.TooManyMarkets.selector);
        dex.addMarket(address(0x9999), ethParams());
    }

    function _expectInvalid(PerpDEX.MarketParams memory p, bytes32 field) internal {
        vm.expectRevert(abi.encodeWithSelector(PerpLiquidityPool.InvalidParam.selector, field));
        dex.addMarket(address(0x7777), p);
        vm.expectRevert(abi.encodeWithSelector(PerpLiquidityPool.InvalidParam.selector, field));
        dex.setMarketParams(address(weth), p);
    }

    function test_marketParams_revertOutsideHardBounds() public {
        PerpDEX.MarketParams memory p;
        p = ethParams();
        p.skewScale = 1e17;
        _expectInvalid(p, "skewScale");
        p = ethParams();
        p.skewScale = 1e28 + 1;
        p.maxOpenInterest = 1e18;
        _expectInvalid(p, "skewScale");
        p = ethParams();
        p.maxOpenInterest = 0;
        _expectInvalid(p, "maxOpenInterest");
        p = ethParams();
        p.maxOpenInterest = p.skewScale + 1;
        _expectInvalid(p, "maxOpenInterest");
        p = ethParams();
        p.maxFundingRatePerDay = 0.1e18 + 1;
        _expectInvalid(p, "maxFundingRatePerDay");
        p = ethParams();
        p.makerFeeBps = 101;
        _expectInvalid(p, "makerFeeBps");
        p = ethParams();
        p.takerFeeBps = 101;
        _expectInvalid(p, "takerFeeBps");
        p = ethParams();
        p.maxLeverage = 1e18 - 1;
        _expectInvalid(p, "maxLeverage");
        p = ethParams();
        p.maxLeverage = 100e18 + 1;
        _expectInvalid(p, "maxLeverage");
        p = ethParams();
        p.maintenanceMarginRatio = 0.001e18 - 1;
        _expectInvalid(p, "maintenanceMarginRatio");
        p = ethParams();
        p.maintenanceMarginRatio = 0.5e18 + 1;
        _expectInvalid(p, "maintenanceMarginRatio");
        p = ethParams();
        p.liquidationFeeRatio = 0.05e18 + 1;
        _expectInvalid(p, "liquidationFeeRatio");
        p = ethParams();
        p.minLiquidationFee = 1_000e18 + 1;
        _expectInvalid(p, "minLiquidationFee");
        p = ethParams();
        p.maxLeverage = 40e18; // (2% + 0.5%) x 40 = 1
        _expectInvalid(p, "marginVsLeverage");
    }

    function test_marketParams_acceptsBoundaryValues() public {
        PerpDEX.MarketParams memory p = ethParams();
        p.skewScale = 1e18;
        p.maxOpenInterest = 1e18;
        p.maxFundingRatePerDay = 0.1e18;
        p.makerFeeBps = 100;
        p.takerFeeBps = 100;
        p.maxLeverage = 1e18;
        p.maintenanceMarginRatio = 0.5e18;
        p.liquidationFeeRatio = 0.05e18;
        p.minLiquidationFee = 1_000e18;
        dex.addMarket(address(0x7777), p);
        assertEq(dex.marketParams(address(0x7777)).minLiquidationFee, 1_000e18, "stored");
    }

    function test_setMarketParams_emitsOldAndNew() public {
        PerpDEX.MarketParams memory oldP = ethParams();
        PerpDEX.MarketParams memory newP = ethParams();
        newP.takerFeeBps = 9;
        vm.expectEmit();
        emit PerpDEX.MarketParamsChanged(address(weth), oldP, newP);
        dex.setMarketParams(address(weth), newP);
        assertEq(dex.marketParams(address(weth)).takerFeeBps, 9, "stored");
    }

    function test_setMarketParams_revertsForNonAdmin() public {
        bytes32 role = dex.MARKET_ADMIN_ROLE();
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, role));
        dex.setMarketParams(address(weth), ethParams());
    }

    function test_setMarketParams_revertsForUnknownMarket() public {
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketNotFound.selector, address(0x4444)));
        dex.setMarketParams(address(0x4444), ethParams());
    }

    function test_setMarketParams_accruesFundingWithOldParams() public {
        _deposit(ALICE, address(weth), 200_000e6);
        _trade(ALICE, address(weth), 1000e18);
        _warp(1 days);
        PerpDEX.MarketParams memory p = ethParams();
        p.maxFundingRatePerDay = 0;
        dex.setMarketParams(address(weth), p);
        // 1000/100000 x 1%/day x 3000 x 1 day = 0.3 per ETH, frozen afterwards (rate now 0).
        _warp(1 days);
        assertEq(dex.marketState(address(weth)).fundingIndex, 0.3e18, "index");
        assertEq(dex.position(ALICE, address(weth)).accruedFunding, 300e18, "owed");
    }

    function test_setMarketParams_worksWhenOracleIsStale() public {
        vm.warp(block.timestamp + 2 hours); // feeds now stale
        PerpDEX.MarketParams memory p = ethParams();
        p.paused = true;
        dex.setMarketParams(address(weth), p);
        assertTrue(dex.marketParams(address(weth)).paused, "paused despite stale oracle");
    }

    function test_setReserveRatio() public {
        vm.expectEmit();
        emit PerpLiquidityPool.ReserveRatioChanged(0, 0.2e18);
        dex.setReserveRatio(0.2e18);
        assertEq(dex.reserveRatio(), 0.2e18, "set");
        vm.expectRevert(abi.encodeWithSelector(PerpLiquidityPool.InvalidParam.selector, bytes32("reserveRatio")));
        dex.setReserveRatio(0.5e18 + 1);
        bytes32 role = dex.MARKET_ADMIN_ROLE();
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, role));
        dex.setReserveRatio(0);
    }

    // ------------------------------------------------------------------ margin

    function test_depositMargin_creditsWadAndPullsTokens() public {
        uint256 before = usdc.balanceOf(ALICE);
        vm.expectEmit();
        emit PerpDEX.MarginDeposited(ALICE, address(weth), 1234_567891, 1234_567891e12);
        _deposit(ALICE, address(weth), 1234_567891);
        assertEq(_margin(ALICE, address(weth)), 1234_567891e12, "margin wad");
        assertEq(before - usdc.balanceOf(ALICE), 1234_567891, "pulled");
        _deposit(ALICE, address(weth), 1);
        assertEq(_margin(ALICE, address(weth)), 1234_567892e12, "accumulates");
    }

    function test_depositMargin_reverts() public {
        vm.expectRevert(PerpLiquidityPool.ZeroAmount.selector);
        _deposit(ALICE, address(weth), 0);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketNotFound.selector, address(usdc)));
        _deposit(ALICE, address(usdc), 1e6);
    }

    function test_depositMargin_allowedWhilePaused() public {
        PerpDEX.MarketParams memory p = ethParams();
        p.paused = true;
        dex.setMarketParams(address(weth), p);
        _deposit(ALICE, address(weth), 1e6);
        assertEq(_margin(ALICE, address(weth)), 1e18, "deposited");
    }

    function test_withdrawMargin_partialWithoutPosition() public {
        _deposit(ALICE, address(weth), 1000e6);
        uint256 before = usdc.balanceOf(ALICE);
        vm.expectEmit();
        emit PerpDEX.MarginWithdrawn(ALICE, address(weth), 400e6, 0, 600e18);
        vm.prank(ALICE);
        dex.withdrawMargin(address(weth), 400e6);
        assertEq(usdc.balanceOf(ALICE) - before, 400e6, "paid");
        assertEq(_margin(ALICE, address(weth)), 600e18, "left");
    }

    function test_withdrawMargin_maxSendsDustToPool() public {
        _deposit(ALICE, address(weth), 1000e6);
        _trade(ALICE, address(weth), 1e18);
        _close(ALICE, address(weth));
        uint256 m = _margin(ALICE, address(weth));
        uint256 dust = m % 1e12;
        assertGt(dust, 0, "fees leave sub-unit dust");
        int256 poolBefore = dex.poolBalance();
        uint256 balBefore = usdc.balanceOf(ALICE);
        vm.prank(ALICE);
        dex.withdrawMargin(address(weth), type(uint256).max);
        assertEq(usdc.balanceOf(ALICE) - balBefore, m / 1e12, "floored payout");
        assertEq(uint256(dex.poolBalance() - poolBefore), dust, "dust to pool");
        assertEq(_margin(ALICE, address(weth)), 0, "emptied");
        address[] memory accts = new address[](1);
        accts[0] = ALICE;
        assertEq(_ledgerGap(accts), 0, "ledger exact");
    }

    function test_withdrawMargin_reverts() public {
        vm.expectRevert(PerpLiquidityPool.ZeroAmount.selector);
        vm.prank(ALICE);
        dex.withdrawMargin(address(weth), 0);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketNotFound.selector, address(usdc)));
        vm.prank(ALICE);
        dex.withdrawMargin(address(usdc), 1);
        vm.expectRevert(PerpLiquidityPool.ZeroAmount.selector); // max with nothing deposited
        vm.prank(ALICE);
        dex.withdrawMargin(address(weth), type(uint256).max);
        _deposit(ALICE, address(weth), 100e6);
        vm.expectRevert(PerpDEX.InsufficientMargin.selector);
        vm.prank(ALICE);
        dex.withdrawMargin(address(weth), 100e6 + 1);
    }

    function test_withdrawMargin_revertsAboveMaxLeverage() public {
        _deposit(ALICE, address(weth), 3_000e6);
        _trade(ALICE, address(weth), 10e18); // 30k notional, needs >= 1.5k equity at 20x
        vm.prank(ALICE);
        try dex.withdrawMargin(address(weth), 1_600e6) {
            fail("should exceed leverage");
        } catch (bytes memory err) {
            assertEq(bytes4(err), PerpDEX.MaxLeverageExceeded.selector, "selector");
        }
        vm.prank(ALICE);
        dex.withdrawMargin(address(weth), 1_400e6); // stays under 20x
        assertLe(dex.position(ALICE, address(weth)).leverage, 20e18, "within max leverage");
    }

    function test_withdrawMargin_revertsWhenItWouldBeLiquidatable() public {
        _deposit(ALICE, address(weth), 10e6);
        _trade(ALICE, address(weth), 0.01e18); // 30 notional; maintenance = 0.6 + 5 (fee floor)
        vm.prank(ALICE);
        try dex.withdrawMargin(address(weth), 6e6) {
            fail("should be liquidatable");
        } catch (bytes memory err) {
            assertEq(bytes4(err), PerpDEX.WouldBeLiquidatable.selector, "selector");
        }
    }

    function test_withdrawMargin_withPositionNeedsOracle() public {
        _deposit(ALICE, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 1e18);
        vm.warp(block.timestamp + 2 hours);
        vm.prank(ALICE);
        try dex.withdrawMargin(address(weth), 1e6) {
            fail("stale oracle must block");
        } catch (bytes memory err) {
            assertEq(bytes4(err), OracleRouter.StalePrice.selector, "stale");
        }
    }

    // ------------------------------------------------------------------ modifyPosition

    function test_modifyPosition_openLong_exactAccounting() public {
        _deposit(ALICE, address(weth), 10_000e6);
        int256 poolBefore = dex.poolBalance();
        // fill = 3000 x (1 + 5/100000) = 3000.15; fee = 10 x 3000.15 x 5bps = 15.00075
        vm.expectEmit();
        emit PerpDEX.PositionModified(
            ALICE, address(weth), 0, 10e18, 3000.15e18, ETH_PRICE, 15.00075e18, 0, 0, 9984.99925e18, 3000.15e18
        );
        vm.prank(ALICE);
        dex.modifyPosition(address(weth), 10e18, 3000.15e18, block.timestamp);
        assertEq(_size(ALICE, address(weth)), 10e18, "size");
        assertEq(_entry(ALICE, address(weth)), 3000.15e18, "entry");
        assertEq(_margin(ALICE, address(weth)), 9984.99925e18, "margin");
        assertEq(dex.poolBalance() - poolBefore, 15.00075e18, "fee to pool");
        PerpDEX.MarketView memory mv = dex.marketState(address(weth));
        assertEq(mv.skew, 10e18, "skew");
        assertEq(mv.longOpenInterest, 10e18, "long oi");
        assertEq(mv.shortOpenInterest, 0, "short oi");
    }

    function test_modifyPosition_makerTakerSplit() public {
        _deposit(ALICE, address(weth), 10_000e6);
        _deposit(BOB, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 10e18);
        (uint256 fill, uint256 fee) = dex.quote(address(weth), -15e18);
        // fill = 3000 (1 + (10 - 7.5)/1e5) = 3000.075; fee = (10 x 2 + 5 x 5) bps x 3000.075
        assertEq(fill, 3000.075e18, "fill");
        assertEq(fee, 13.5003375e18, "maker 10 + taker 5");
        uint256 mBefore = _margin(BOB, address(weth));
        _trade(BOB, address(weth), -15e18);
        assertEq(mBefore - _margin(BOB, address(weth)), fee, "charged = quoted");
        assertEq(_entry(BOB, address(weth)), fill, "short entry");
        assertEq(dex.marketState(address(weth)).skew, -5e18, "skew flipped");
    }

    function test_modifyPosition_increaseAveragesEntry_reduceKeepsIt_flipResets() public {
        _deposit(ALICE, address(weth), 50_000e6);
        _trade(ALICE, address(weth), 10e18); // 3000.15
        _setEth(3100e18);
        _trade(ALICE, address(weth), 10e18); // 3100 x (1 + 15/1e5) = 3100.465
        assertEq(_entry(ALICE, address(weth)), (10 * 3000.15e18 + 10 * 3100.465e18) / 20, "avg");
        uint256 entry = _entry(ALICE, address(weth));
        uint256 mBefore = _margin(ALICE, address(weth));
        (uint256 fill, uint256 fee) = dex.quote(address(weth), -5e18);
        _trade(ALICE, address(weth), -5e18);
        assertEq(_entry(ALICE, address(weth)), entry, "reduce keeps entry");
        int256 pnl = 5 * (int256(fill) - int256(entry));
        assertEq(int256(_margin(ALICE, address(weth))) - int256(mBefore), pnl - int256(fee), "realised");
        (fill,) = dex.quote(address(weth), -25e18);
        _trade(ALICE, address(weth), -25e18); // flip to -10
        assertEq(_size(ALICE, address(weth)), -10e18, "flipped");
        assertEq(_entry(ALICE, address(weth)), fill, "flip resets entry");
    }

    function test_modifyPosition_settlesFundingIntoMargin() public {
        _deposit(ALICE, address(weth), 200_000e6);
        _deposit(BOB, address(weth), 200_000e6);
        _trade(ALICE, address(weth), 1000e18);
        _trade(BOB, address(weth), -400e18); // skew 600
        _warp(1 days);
        // rate = 600/1e5 x 1% = 0.00006/day; index += 0.00006 x 3000 = 0.18
        PerpDEX.PositionView memory a = dex.position(ALICE, address(weth));
        PerpDEX.PositionView memory b = dex.position(BOB, address(weth));
        assertEq(a.accruedFunding, 180e18, "long pays");
        assertEq(b.accruedFunding, -72e18, "short receives");
        int256 poolBefore = dex.poolBalance();
        uint256 mBefore = _margin(ALICE, address(weth));
        (, uint256 fee) = dex.quote(address(weth), 1e18);
        _trade(ALICE, address(weth), 1e18);
        assertEq(mBefore - _margin(ALICE, address(weth)), 180e18 + fee, "funding + fee out of margin");
        assertEq(dex.poolBalance() - poolBefore, int256(180e18 + fee), "pool receives");
        assertEq(dex.position(ALICE, address(weth)).accruedFunding, 0, "settled");
    }

    function test_modifyPosition_reverts_deadlineZeroMarket() public {
        _deposit(ALICE, address(weth), 10_000e6);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.DeadlinePassed.selector, block.timestamp - 1, block.timestamp));
        dex.modifyPosition(address(weth), 1e18, type(uint256).max, block.timestamp - 1);
        vm.prank(ALICE);
        vm.expectRevert(PerpDEX.ZeroSizeDelta.selector);
        dex.modifyPosition(address(weth), 0, type(uint256).max, block.timestamp);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketNotFound.selector, address(usdc)));
        dex.modifyPosition(address(usdc), 1e18, type(uint256).max, block.timestamp);
    }

    function test_modifyPosition_revertsOnSlippage() public {
        _deposit(ALICE, address(weth), 10_000e6);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.PriceExceedsBound.selector, 3000.15e18, 3000.15e18 - 1));
        dex.modifyPosition(address(weth), 10e18, 3000.15e18 - 1, block.timestamp);
        // sell: fill = 3000 x (1 - 5/1e5) = 2999.85 must be >= acceptable
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.PriceExceedsBound.selector, 2999.85e18, 2999.85e18 + 1));
        dex.modifyPosition(address(weth), -10e18, 2999.85e18 + 1, block.timestamp);
        vm.prank(ALICE);
        dex.modifyPosition(address(weth), -10e18, 2999.85e18, block.timestamp);
        assertEq(_size(ALICE, address(weth)), -10e18, "exact bound accepted");
    }

    function test_modifyPosition_pausedAllowsOnlyRiskReduction() public {
        _deposit(ALICE, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 10e18);
        PerpDEX.MarketParams memory p = ethParams();
        p.paused = true;
        dex.setMarketParams(address(weth), p);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketPaused.selector, address(weth)));
        _trade(ALICE, address(weth), 1e18);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketPaused.selector, address(weth)));
        _trade(ALICE, address(weth), -15e18); // flip
        _trade(ALICE, address(weth), -4e18);
        _close(ALICE, address(weth));
        assertEq(_size(ALICE, address(weth)), 0, "closed while paused");
    }

    function test_modifyPosition_revertsAboveOpenInterestCap() public {
        PerpDEX.MarketParams memory p = ethParams();
        p.maxOpenInterest = 10e18;
        dex.setMarketParams(address(weth), p);
        _deposit(ALICE, address(weth), 100_000e6);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MaxOpenInterestExceeded.selector, 11e18, 10e18));
        _trade(ALICE, address(weth), 11e18);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MaxOpenInterestExceeded.selector, 11e18, 10e18));
        _trade(ALICE, address(weth), -11e18);
        _trade(ALICE, address(weth), 10e18);
        // a cap lowered below the open interest still lets positions shrink
        p.maxOpenInterest = 5e18;
        dex.setMarketParams(address(weth), p);
        _trade(ALICE, address(weth), -2e18);
        assertEq(dex.marketState(address(weth)).longOpenInterest, 8e18, "reduced");
    }

    function test_modifyPosition_revertsAboveMaxLeverage() public {
        _deposit(ALICE, address(weth), 1_000e6);
        vm.prank(ALICE);
        try dex.modifyPosition(address(weth), 10e18, type(uint256).max, block.timestamp) {
            fail("30x must revert");
        } catch (bytes memory err) {
            assertEq(bytes4(err), PerpDEX.MaxLeverageExceeded.selector, "selector");
        }
        _trade(ALICE, address(weth), 6e18); // ~18x ok
        assertEq(_size(ALICE, address(weth)), 6e18, "opened");
    }

    function test_modifyPosition_revertsWithoutMargin() public {
        vm.expectRevert(PerpDEX.InsufficientMargin.selector); // fee alone exceeds zero margin
        _trade(ALICE, address(weth), 1e18);
    }

    function test_modifyPosition_revertsWhenResultIsLiquidatable() public {
        _deposit(ALICE, address(weth), 3e6);
        vm.prank(ALICE);
        try dex.modifyPosition(address(weth), 0.01e18, type(uint256).max, block.timestamp) {
            fail("maintenance floor");
        } catch (bytes memory err) {
            assertEq(bytes4(err), PerpDEX.WouldBeLiquidatable.selector, "selector");
        }
    }

    function test_modifyPosition_revertsWhenLossExceedsMargin() public {
        _deposit(ALICE, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 50e18);
        _setEth(2700e18);
        vm.prank(ALICE);
        vm.expectRevert(PerpDEX.InsufficientMargin.selector);
        dex.closePosition(address(weth), 0, block.timestamp);
    }

    function test_modifyPosition_revertsOnNonPositiveFill() public {
        _deposit(ALICE, address(weth), 1_000_000e6);
        _trade(ALICE, address(weth), -1000e18);
        PerpDEX.MarketParams memory p = ethParams();
        p.skewScale = 500e18;
        p.maxOpenInterest = 500e18;
        dex.setMarketParams(address(weth), p);
        // 3000 x (1 + (-1000 - 5)/500) = -3030
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.InvalidFillPrice.selector, int256(-3030e18)));
        _trade(BOB, address(weth), -10e18);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.InvalidFillPrice.selector, int256(-3030e18)));
        dex.quote(address(weth), -10e18);
    }

    function test_modifyPosition_propagatesOracleErrors() public {
        _deposit(ALICE, address(weth), 10_000e6);
        vm.warp(block.timestamp + 2 hours);
        vm.prank(ALICE);
        try dex.modifyPosition(address(weth), 1e18, type(uint256).max, block.timestamp) {
            fail("stale");
        } catch (bytes memory err) {
            assertEq(bytes4(err), OracleRouter.StalePrice.selector, "stale");
        }
    }

    // ------------------------------------------------------------------ closePosition

    function test_closePosition_realisesProfitFromPool() public {
        _deposit(ALICE, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 10e18);
        _setEth(3300e18);
        int256 poolBefore = dex.poolBalance();
        uint256 mBefore = _margin(ALICE, address(weth));
        (uint256 fill, uint256 fee) = dex.quote(address(weth), -10e18);
        assertEq(fill, 3300e18 * (1e5 * 1e18 + 5e18) / (1e5 * 1e18), "close fill at skew 10");
        _close(ALICE, address(weth));
        int256 pnl = 10 * (int256(fill) - 3000.15e18);
        assertEq(int256(_margin(ALICE, address(weth))) - int256(mBefore), pnl - int256(fee), "margin");
        assertEq(poolBefore - dex.poolBalance(), pnl - int256(fee), "pool pays");
        assertEq(_size(ALICE, address(weth)), 0, "flat");
        assertEq(_entry(ALICE, address(weth)), 0, "entry cleared");
        assertEq(dex.marketState(address(weth)).longOpenInterest, 0, "oi");
    }

    function test_closePosition_reverts() public {
        vm.prank(ALICE);
        vm.expectRevert(PerpDEX.NoPosition.selector);
        dex.closePosition(address(weth), 0, block.timestamp);
        _deposit(ALICE, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 10e18);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.DeadlinePassed.selector, block.timestamp - 1, block.timestamp));
        dex.closePosition(address(weth), 0, block.timestamp - 1);
        // selling 10 at skew 10: fill = 3000.15 (same as the open)
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.PriceExceedsBound.selector, 3000.15e18, 3000.15e18 + 1));
        dex.closePosition(address(weth), 3000.15e18 + 1, block.timestamp);
    }

    // ------------------------------------------------------------------ liquidate

    function _openLevered() internal {
        _deposit(ALICE, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 50e18); // entry 3000.75, 15x
    }

    function test_liquidate_paysFeeAndPoolKeepsRest() public {
        _openLevered();
        uint256 liqPrice = dex.position(ALICE, address(weth)).liquidationPrice;
        _setEth(liqPrice * 1001 / 1000);
        assertFalse(dex.isLiquidatable(ALICE, address(weth)), "healthy above");
        _setEth(2850e18);
        assertTrue(dex.isLiquidatable(ALICE, address(weth)), "unhealthy");
        uint256 margin = _margin(ALICE, address(weth));
        int256 equity = dex.remainingMargin(ALICE, address(weth));
        int256 poolBefore = dex.poolBalance();
        uint256 fee = 712.5e18; // 50 x 2850 x 0.5%
        vm.expectEmit();
        emit PerpDEX.Liquidated(ALICE, address(weth), KEEPER, 50e18, 2850e18, equity, fee, int256(margin) - int256(fee));
        vm.prank(KEEPER);
        uint256 paid = dex.liquidate(ALICE, address(weth));
        assertEq(paid, 712.5e6, "returned");
        assertEq(usdc.balanceOf(KEEPER), 712.5e6, "keeper paid");
        assertEq(dex.poolBalance() - poolBefore, int256(margin) - int256(fee), "pool");
        assertEq(_size(ALICE, address(weth)), 0, "closed");
        assertEq(_margin(ALICE, address(weth)), 0, "margin taken");
        assertEq(dex.marketState(address(weth)).longOpenInterest, 0, "oi");
        address[] memory accts = new address[](1);
        accts[0] = ALICE;
        assertEq(_ledgerGap(accts), 0, "ledger");
    }

    function test_liquidate_emitsBadDebt() public {
        _openLevered();
        _setEth(2700e18);
        int256 equity = dex.remainingMargin(ALICE, address(weth));
        assertLe(equity, int256(0), "underwater");
        uint256 fee = 675e18;
        vm.expectEmit();
        emit PerpDEX.BadDebt(ALICE, address(weth), uint256(int256(fee) - equity));
        vm.prank(KEEPER);
        dex.liquidate(ALICE, address(weth));
        assertEq(usdc.balanceOf(KEEPER), 675e6, "liquidator still paid");
    }

    function test_liquidate_worksWhilePaused() public {
        _openLevered();
        PerpDEX.MarketParams memory p = ethParams();
        p.paused = true;
        dex.setMarketParams(address(weth), p);
        _setEth(2800e18);
        vm.prank(KEEPER);
        dex.liquidate(ALICE, address(weth));
        assertEq(_size(ALICE, address(weth)), 0, "liquidated");
    }

    function test_liquidate_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketNotFound.selector, address(usdc)));
        dex.liquidate(ALICE, address(usdc));
        vm.expectRevert(PerpDEX.NoPosition.selector);
        dex.liquidate(ALICE, address(weth));
        _openLevered();
        try dex.liquidate(ALICE, address(weth)) {
            fail("healthy");
        } catch (bytes memory err) {
            assertEq(bytes4(err), PerpDEX.NotLiquidatable.selector, "selector");
        }
    }

    function test_liquidationPrice_matchesHealthBoundary_short() public {
        _deposit(BOB, address(wbtc), 20_000e6);
        _trade(BOB, address(wbtc), -4e18); // 240k notional, 12x
        uint256 lp = dex.position(BOB, address(wbtc)).liquidationPrice;
        assertGt(lp, BTC_PRICE, "above for a short");
        _setBtc(lp * 999 / 1000);
        assertFalse(dex.isLiquidatable(BOB, address(wbtc)), "healthy below");
        _setBtc(lp * 1001 / 1000);
        assertTrue(dex.isLiquidatable(BOB, address(wbtc)), "liquidatable above");
    }

    function test_liquidationPrice_minFeeBranch() public {
        _deposit(ALICE, address(weth), 30e6);
        _trade(ALICE, address(weth), 0.1e18); // 300 notional: ratio fee 1.5 < floor 5
        uint256 lp = dex.position(ALICE, address(weth)).liquidationPrice;
        _setEth(lp * 1001 / 1000);
        assertFalse(dex.isLiquidatable(ALICE, address(weth)), "healthy above");
        _setEth(lp * 999 / 1000);
        assertTrue(dex.isLiquidatable(ALICE, address(weth)), "liquidatable below");
    }

    function test_liquidationPrice_dustPositions() public {
        _deposit(ALICE, address(weth), 100e6);
        _trade(ALICE, address(weth), 1); // 1 wei of ETH long
        PerpDEX.PositionView memory v = dex.position(ALICE, address(weth));
        assertEq(v.liquidationPrice, 0, "margin covers any price drop");
        _deposit(BOB, address(weth), 100e6);
        _trade(BOB, address(weth), -1); // 1 wei short
        v = dex.position(BOB, address(weth));
        assertGt(v.liquidationPrice, 1e30, "needs an absurd rise");
        assertFalse(dex.isLiquidatable(BOB, address(weth)), "healthy");
    }

    // ------------------------------------------------------------------ views

    function test_views_positionAndMarket() public {
        _deposit(ALICE, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 10e18);
        _setEth(3100e18);
        PerpDEX.PositionView memory v = dex.position(ALICE, address(weth));
        assertEq(v.size, 10e18, "size");
        assertEq(v.entryPrice, 3000.15e18, "entry");
        assertEq(v.unrealizedPnl, 10 * (3100e18 - 3000.15e18), "upnl");
        assertEq(v.notional, 31_000e18, "notional");
        assertEq(v.remainingMargin, int256(v.margin) + v.unrealizedPnl, "equity");
        assertEq(v.leverage, 31_000e18 * 1e18 / uint256(v.remainingMargin), "leverage");
        assertEq(v.maintenanceMargin, 620e18 + 155e18, "maintenance");
        assertEq(dex.remainingMargin(ALICE, address(weth)), v.remainingMargin, "remainingMargin view");
        PerpDEX.MarketView memory mv = dex.marketState(address(weth));
        assertEq(mv.indexPrice, 3100e18, "index");
        assertEq(mv.fundingRatePerDay, 10e18 * 1e18 / 100_000e18 * 0.01e18 / 1e18, "rate");
        assertEq(mv.traderNetPnl, v.unrealizedPnl, "aggregate pnl of the only position");
        // flat accounts: margin only, no oracle needed
        PerpDEX.PositionView memory flat = dex.position(BOB, address(weth));
        assertEq(flat.size, 0, "flat");
        assertEq(dex.remainingMargin(BOB, address(weth)), 0, "flat equity");
        assertFalse(dex.isLiquidatable(BOB, address(weth)), "flat never liquidatable");
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketNotFound.selector, address(usdc)));
        dex.marketState(address(usdc));
    }

    function test_views_aggregatePnlMatchesPositions() public {
        _deposit(ALICE, address(weth), 100_000e6);
        _deposit(BOB, address(weth), 100_000e6);
        _trade(ALICE, address(weth), 100e18);
        _warp(3 hours);
        _trade(BOB, address(weth), -250e18);
        _setEth(3050e18);
        _warp(5 hours);
        _trade(ALICE, address(weth), 20e18);
        _warp(7 hours);
        _setEth(2950e18);
        PerpDEX.PositionView memory a = dex.position(ALICE, address(weth));
        PerpDEX.PositionView memory b = dex.position(BOB, address(weth));
        int256 sum = a.unrealizedPnl - a.accruedFunding + b.unrealizedPnl - b.accruedFunding;
        assertApproxEqAbs(dex.marketState(address(weth)).traderNetPnl, sum, 10, "O(1) aggregate");
        assertApproxEqAbs(dex.poolValue(), dex.poolBalance() - sum, 10, "nav");
    }

    function test_quote_reverts() public {
        vm.expectRevert(PerpDEX.ZeroSizeDelta.selector);
        dex.quote(address(weth), 0);
        vm.expectRevert(abi.encodeWithSelector(PerpDEX.MarketNotFound.selector, address(usdc)));
        dex.quote(address(usdc), 1);
    }

    function test_funding_accruesForBothSidesAndEmits() public {
        _deposit(ALICE, address(weth), 200_000e6);
        _trade(ALICE, address(weth), 1000e18);
        _warp(1 days);
        assertEq(dex.position(ALICE, address(weth)).accruedFunding, 300e18, "1000 x 0.3");
        _deposit(BOB, address(weth), 500_000e6);
        vm.expectEmit();
        emit PerpDEX.FundingUpdated(address(weth), 0.3e18, 0.0001e18, ETH_PRICE);
        _trade(BOB, address(weth), -1000e18);
        _warp(1 days);
        assertEq(dex.marketState(address(weth)).fundingRatePerDay, 0, "balanced");
        assertEq(dex.position(BOB, address(weth)).accruedFunding, 0, "no funding at zero skew");
        _trade(BOB, address(weth), -1000e18); // skew -1000: shorts pay
        _warp(1 days);
        assertEq(dex.position(ALICE, address(weth)).accruedFunding, 300e18 - 300e18, "long earns back 300");
        assertEq(dex.position(BOB, address(weth)).accruedFunding, 600e18, "2000 short pays 0.3 each");
    }

    // ------------------------------------------------------------------ LP pool

    function test_depositLiquidity_firstAndAtNav() public {
        assertEq(dex.totalSupply(), POOL_SEED * 1e12, "1 share per WAD");
        assertEq(dex.poolBalance(), int256(POOL_SEED * 1e12), "balance");
        assertEq(dex.sharePrice(), 1e18, "par");
        _deposit(ALICE, address(weth), 10_000e6);
        _trade(ALICE, address(weth), 10e18);
        _close(ALICE, address(weth)); // fees accrue to LPs
        uint256 nav = uint256(dex.poolValue());
        assertGt(nav, POOL_SEED * 1e12, "fees raised nav");
        uint256 supply = dex.totalSupply();
        _fund(BOB, 0);
        vm.expectEmit(true, false, false, false);
        emit PerpLiquidityPool.LiquidityDeposited(BOB, 0, 0, 0);
        vm.prank(BOB);
        uint256 shares = dex.depositLiquidity(1_000e6);
        assertEq(shares, 1_000e18 * supply / nav, "priced at nav");
        assertGt(dex.sharePrice(), 1e18, "share price up");
    }

    function test_depositLiquidity_firstDepositWithEmptyPool() public {
        PerpDEX fresh = new PerpDEX(usdc, IOracleRouter(address(router)), address(this));
        assertEq(fresh.sharePrice(), 1e18, "par with no shares");
        usdc.mint(address(this), 100e6);
        usdc.approve(address(fresh), 100e6);
        assertEq(fresh.depositLiquidity(100e6), 100e18, "1:1");
    }

    function test_depositLiquidity_reverts() public {
        vm.prank(LP);
        vm.expectRevert(PerpLiquidityPool.ZeroAmount.selector);
        dex.depositLiquidity(0);
        _makePoolInsolvent();
        vm.prank(LP);
        try dex.depositLiquidity(1e6) {
            fail("insolvent");
        } catch (bytes memory err) {
            assertEq(bytes4(err), PerpLiquidityPool.PoolInsolvent.selector, "selector");
        }
        assertEq(dex.sharePrice(), 0, "worthless shares");
    }

    function _makePoolInsolvent() internal {
        _deposit(ALICE, address(weth), 5_000_000e6);
        _trade(ALICE, address(weth), 10_000e18); // entry 3150 (5% premium)
        _setEth(6000e18); // +30M trader profit vs 5M pool
    }

    function test_withdrawLiquidity_paysNav() public {
        uint256 shares = dex.balanceOf(LP) / 2;
        uint256 before = usdc.balanceOf(LP);
        vm.prank(LP);
        uint256 out = dex.withdrawLiquidity(shares);
        assertEq(out, POOL_SEED / 2, "half");
        assertEq(usdc.balanceOf(LP) - before, out, "paid");
        assertEq(dex.poolBalance(), int256(POOL_SEED / 2 * 1e12), "pool");
        assertEq(dex.totalSupply(), shares, "burned");
    }

    function test_withdrawLiquidity_reverts() public {
        vm.prank(LP);
        vm.expectRevert(PerpLiquidityPool.ZeroAmount.selector);
        dex.withdrawLiquidity(0);
        uint256 supply = dex.totalSupply();
        vm.prank(LP);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, LP, supply, supply + 1)
        );
        dex.withdrawLiquidity(supply + 1);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, BOB, 0, 1e18));
        dex.withdrawLiquidity(1e18);
        vm.prank(LP);
        vm.expectRevert(PerpLiquidityPool.ZeroAmount.selector); // rounds to zero token units
        dex.withdrawLiquidity(1e11);
    }

    function test_withdrawLiquidity_keepsBackingAndReserve() public {
        dex.setReserveRatio(0.5e18);
        _deposit(ALICE, address(weth), 1_000_000e6);
        _trade(ALICE, address(weth), 1000e18); // 3M skew notional -> 1.5M reserve
        _setEth(3300e18); // ~300k trader profit
        uint256 required = dex.requiredBacking();
        int256 traderPnl = dex.marketState(address(weth)).traderNetPnl;
        assertEq(required, uint256(traderPnl) + 1000e18 * 3300 / 2, "profit + reserve");
        uint256 available = dex.withdrawableLiquidity();
        assertEq(available, uint256(dex.poolBalance()) - required, "available");
        uint256 shares = dex.balanceOf(LP);
        vm.prank(LP);
        try dex.withdrawLiquidity(shares) {
            fail("must keep backing");
        } catch (bytes memory err) {
            assertEq(bytes4(err), PerpLiquidityPool.ExceedsWithdrawable.selector, "selector");
        }
        // a withdrawal inside the limit goes through
        vm.prank(LP);
        dex.withdrawLiquidity(shares / 10);
    }

    function test_withdrawLiquidity_revertsWhenInsolvent() public {
        _makePoolInsolvent();
        uint256 shares = dex.balanceOf(LP);
        vm.prank(LP);
        try dex.withdrawLiquidity(shares) {
            fail("insolvent");
        } catch (bytes memory err) {
            assertEq(bytes4(err), PerpLiquidityPool.PoolInsolvent.selector, "selector");
        }
        assertEq(dex.withdrawableLiquidity(), 0, "nothing withdrawable");
    }

    function test_lpShares_areTransferableErc20() public {
        assertEq(keccak256(bytes(dex.symbol())), keccak256("dvPLP"), "symbol");
        assertEq(dex.decimals(), 18, "decimals");
        vm.prank(LP);
        dex.transfer(BOB, 1e18);
        assertEq(dex.balanceOf(BOB), 1e18, "moved");
    }

    // ------------------------------------------------------------------ accounting

    function test_ledger_conservedAcrossLifecycle() public {
        address[] memory accts = new address[](2);
        accts[0] = ALICE;
        accts[1] = BOB;
        _deposit(ALICE, address(weth), 50_000e6);
        _deposit(BOB, address(wbtc), 50_000e6);
        _trade(ALICE, address(weth), 30e18);
        _trade(BOB, address(wbtc), -2e18);
        _warp(10 hours);
        _setEth(3111e18);
        _setBtc(58_000e18);
        _trade(ALICE, address(weth), -45e18);
        _close(BOB, address(wbtc));
        vm.prank(BOB);
        dex.withdrawMargin(address(wbtc), type(uint256).max);
        assertEq(_ledgerGap(accts), 0, "balance == margins + pool");
    }

    function test_events_logsRecorded() public {
        _deposit(ALICE, address(weth), 10_000e6);
        vm.recordLogs();
        _trade(ALICE, address(weth), 1e18);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "one PositionModified (no funding elapsed)");
        assertEq(logs[0].topics[0], PerpDEX.PositionModified.selector, "topic");
    }
}
