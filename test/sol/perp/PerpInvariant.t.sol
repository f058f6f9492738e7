// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../utils/TestBase.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";
import {ManagedPriceFeed} from "../../../contracts/oracles/ManagedPriceFeed.sol";
import {OracleRouter} from "../../../contracts/oracles/OracleRouter.sol";
import {IOracleRouter} from "../../../contracts/interfaces/IOracleRouter.sol";
import {PerpDEX} from "../../../contracts/venues/perp/PerpDEX.sol";

/// @dev The handler lives in this file (not in its own) because EDR identifies fuzz targets from
/// the artifacts of the test roots being run; a handler compiled only as an import is not found.
/// @notice Invariant handler: random trades, margin moves, LP deposits/withdrawals, price moves,
/// time jumps, liquidations and round trips on a PerpDEX with two markets. Ghost counters record
/// the properties that can only be observed during an action (a liquidatable position that could
/// not be liquidated, a round trip that earned something).
contract PerpHandler is TestBase {
    PerpDEX public dex;
    TestToken public usdc;
    ManagedPriceFeed public ethFeed;
    ManagedPriceFeed public btcFeed;
    address public weth;
    address public wbtc;

    address[] internal _actors;
    address[] internal _lps;
    address public constant LIQUIDATOR = address(0x11D);

    /// @notice Time the handler has reached; every action starts by restoring it.
    uint256 public now_;

    uint256 public liquidationFailures;
    uint256 public liquidations;
    uint256 public roundTrips;
    uint256 public roundTripProfits;
    int256 public worstRoundTripGain = type(int256).min;
    uint256 public trades;
    uint256 public calls;

    constructor(
        PerpDEX dex_,
        TestToken usdc_,
        ManagedPriceFeed ethFeed_,
        ManagedPriceFeed btcFeed_,
        address weth_,
        address wbtc_,
        address[] memory actors_,
        address[] memory lps_
    ) {
        dex = dex_;
        usdc = usdc_;
        ethFeed = ethFeed_;
        btcFeed = btcFeed_;
        weth = weth_;
        wbtc = wbtc_;
        _actors = actors_;
        _lps = lps_;
        now_ = block.timestamp;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function lps() external view returns (address[] memory) {
        return _lps;
    }

    modifier synced() {
        vm.warp(now_);
        ++calls;
        _;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _market(uint256 seed) internal view returns (address) {
        return seed % 2 == 0 ? weth : wbtc;
    }

    /// @dev Per-market scale: ETH sizes up to 300, BTC sizes up to 15 (both ~1M USD).
    function _maxSize(address u) internal view returns (int256) {
        return u == weth ? int256(300e18) : int256(15e18);
    }

    // ------------------------------------------------------------------ actions

    function depositMargin(uint256 actorSeed, uint256 marketSeed, uint256 amount) external synced {
        amount = bound(amount, 1e6, 200_000e6);
        vm.prank(_actor(actorSeed));
        dex.depositMargin(_market(marketSeed), amount);
    }

    function withdrawMargin(uint256 actorSeed, uint256 marketSeed, uint256 amount, bool all) external synced {
        address a = _actor(actorSeed);
        address u = _market(marketSeed);
        (, uint128 m,,) = dex.positions(a, u);
        if (m < 1e12) return;
        amount = all ? type(uint256).max : bound(amount, 1, m / 1e12);
        vm.prank(a);
        try dex.withdrawMargin(u, amount) {} catch {}
    }

    /// @dev Trades `sizeSeed` (bounded) after topping margin up to notional / leverage, leverage
    /// drawn in [1, 30] (above the 25x max sometimes, so leverage reverts are exercised too).
    function trade(uint256 actorSeed, uint256 marketSeed, int256 sizeSeed, uint256 levSeed) external synced {
        address a = _actor(actorSeed);
        address u = _market(marketSeed);
        int256 lim = _maxSize(u);
        int256 d = boundInt(sizeSeed, -lim, lim);
        if (d == 0) return;
        _topUp(a, u, d, bound(levSeed, 1, 30));
        vm.prank(a);
        try dex.modifyPosition(u, d, d > 0 ? type(uint256).max : 0, block.timestamp) {
            ++trades;
        } catch {}
    }

    function _topUp(address a, address u, int256 d, uint256 leverage) internal {
        (, int256 answer,,,) = (u == weth ? ethFeed : btcFeed).latestRoundData();
        uint256 need = (d >= 0 ? uint256(d) : uint256(-d)) * uint256(answer) / 1e8 / leverage; // quote WAD
        (, uint128 m,,) = dex.positions(a, u);
        if (m >= need) return;
        vm.prank(a);
        dex.depositMargin(u, (need - m) / 1e12 + 1);
    }

    function closePosition(uint256 actorSeed, uint256 marketSeed) external synced {
        address a = _actor(actorSeed);
        address u = _market(marketSeed);
        (int128 size,,,) = dex.positions(a, u);
        if (size == 0) return;
        vm.prank(a);
        try dex.closePosition(u, size > 0 ? 0 : type(uint256).max, block.timestamp) {
            ++trades;
        } catch {}
    }

    /// @dev Moves one market's price by up to +-12% inside a band (router jump limit is 20%).
    function movePrice(uint256 marketSeed, int256 bpsSeed) external synced {
        ManagedPriceFeed feed = marketSeed % 2 == 0 ? ethFeed : btcFeed;
        (, int256 answer,,,) = feed.latestRoundData();
        int256 bps = boundInt(bpsSeed, -1200, 1200);
        int256 next = answer * (10_000 + bps) / 10_000;
        int256 lo = marketSeed % 2 == 0 ? int256(1000e8) : int256(20_000e8);
        int256 hi = lo * 9;
        if (next < lo) next = lo;
        if (next > hi) next = hi;
        feed.submit(next);
    }

    /// @dev Jumps up to 2 days and refreshes both feeds (same answers) so prices stay fresh.
    function warp(uint256 dt) external synced {
        now_ += bound(dt, 1, 2 days);
        vm.warp(now_);
        (, int256 e,,,) = ethFeed.latestRoundData();
        (, int256 b,,,) = btcFeed.latestRoundData();
        ethFeed.submit(e);
        btcFeed.submit(b);
    }

    /// @dev Keeper sweep: every liquidatable position (all actors, both markets) is liquidated; a
    /// liquidatable position that fails to liquidate is recorded.
    function liquidate(uint256 startSeed) external synced {
        uint256 n = _actors.length;
        for (uint256 k; k < 2 * n; ++k) {
            uint256 idx = (startSeed + k) % (2 * n);
            address a = _actors[idx / 2];
            address u = _market(idx);
            if (!dex.isLiquidatable(a, u)) continue;
            vm.prank(LIQUIDATOR);
            try dex.liquidate(a, u) {
                ++liquidations;
            } catch {
                ++liquidationFailures;
            }
        }
    }

    /// @dev Open then close the same size at the same index price and time: the equity change
    /// plus both fees must never be positive.
    function roundTrip(uint256 actorSeed, uint256 marketSeed, int256 sizeSeed) external synced {
        address a = _actor(actorSeed);
        address u = _market(marketSeed);
        int256 lim = _maxSize(u);
        int256 d = boundInt(sizeSeed, -lim, lim);
        if (d == 0) return;
        _topUp(a, u, d, 5);
        int256 e0 = dex.remainingMargin(a, u);
        (, uint256 fee1) = dex.quote(u, d);
        vm.prank(a);
        try dex.modifyPosition(u, d, d > 0 ? type(uint256).max : 0, block.timestamp) {}
        catch {
            return;
        }
        (, uint256 fee2) = dex.quote(u, -d);
        vm.prank(a);
        try dex.modifyPosition(u, -d, d > 0 ? 0 : type(uint256).max, block.timestamp) {}
        catch {
            return; // e.g. flipping back needs leverage room the fees ate; not a round trip
        }
        ++roundTrips;
        int256 gain = dex.remainingMargin(a, u) + int256(fee1 + fee2) - e0;
        if (gain > worstRoundTripGain) worstRoundTripGain = gain;
        if (gain > 0) ++roundTripProfits;
    }

    function lpDeposit(uint256 lpSeed, uint256 amount) external synced {
        amount = bound(amount, 1e6, 1_000_000e6);
        vm.prank(_lps[lpSeed % _lps.length]);
        try dex.depositLiquidity(amount) {} catch {}
    }

    function lpWithdraw(uint256 lpSeed, uint256 shares) external synced {
        address lp = _lps[lpSeed % _lps.length];
        uint256 bal = dex.balanceOf(lp);
        if (bal == 0) return;
        shares = bound(shares, 1, bal);
        vm.prank(lp);
        try dex.withdrawLiquidity(shares) {} catch {}
    }
}

/// @notice Invariants of the perp DEX under random sequences of trades, margin moves, LP flows,
/// price moves, time jumps, liquidations and round trips (see PerpHandler).
contract PerpInvariantTest is TestBase {
    PerpDEX internal dex;
    TestToken internal usdc;
    PerpHandler internal handler;
    address internal weth;
    address internal wbtc;
    ManagedPriceFeed internal ethFeed;
    ManagedPriceFeed internal btcFeed;

    function setUp() public {
        vm.warp(1_700_000_000);
        usdc = new TestToken("USD Coin", "USDC", 6, address(this));
        weth = address(new TestToken("Wrapped Ether", "WETH", 18, address(this)));
        wbtc = address(new TestToken("Wrapped BTC", "WBTC", 8, address(this)));
        ethFeed = new ManagedPriceFeed(8, "ETH / USD", 3000e8, address(this));
        btcFeed = new ManagedPriceFeed(8, "BTC / USD", 60_000e8, address(this));
        OracleRouter router = new OracleRouter(address(this));
        router.setFeed(weth, address(ethFeed), 3 days, 2000);
        router.setFeed(wbtc, address(btcFeed), 3 days, 2000);
        dex = new PerpDEX(usdc, IOracleRouter(address(router)), address(this));
        dex.addMarket(weth, _params(20_000e18, 2_000e18));
        dex.addMarket(wbtc, _params(1_000e18, 100e18));
        dex.setReserveRatio(0.1e18);

        address[] memory actors_ = new address[](3);
        for (uint256 i; i < actors_.length; ++i) {
            actors_[i] = address(uint160(0xA000 + i));
            _fund(actors_[i], 100_000_000e6);
        }
        address[] memory lps_ = new address[](2);
        lps_[0] = address(0x1F0);
        lps_[1] = address(0x1F1);
        _fund(lps_[0], 100_000_000e6);
        _fund(lps_[1], 100_000_000e6);
        vm.prank(lps_[0]);
        dex.depositLiquidity(2_000_000e6);

        handler = new PerpHandler(dex, usdc, ethFeed, btcFeed, weth, wbtc, actors_, lps_);
        ethFeed.grantRole(ethFeed.ORACLE_ROLE(), address(handler));
        btcFeed.grantRole(btcFeed.ORACLE_ROLE(), address(handler));
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = PerpHandler.depositMargin.selector;
        selectors[1] = PerpHandler.withdrawMargin.selector;
        selectors[2] = PerpHandler.trade.selector;
        selectors[3] = PerpHandler.closePosition.selector;
        selectors[4] = PerpHandler.movePrice.selector;
        selectors[5] = PerpHandler.warp.selector;
        selectors[6] = PerpHandler.liquidate.selector;
        selectors[7] = PerpHandler.roundTrip.selector;
        selectors[8] = PerpHandler.lpDeposit.selector;
        selectors[9] = PerpHandler.lpWithdraw.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function _params(uint128 skewScale, uint128 maxOi) internal pure returns (PerpDEX.MarketParams memory) {
        return PerpDEX.MarketParams({
            skewScale: skewScale,
            maxOpenInterest: maxOi,
            maxFundingRatePerDay: 0.05e18,
            maintenanceMarginRatio: 0.02e18,
            liquidationFeeRatio: 0.005e18,
            makerFeeBps: 2,
            takerFeeBps: 6,
            paused: false,
            maxLeverage: 25e18,
            minLiquidationFee: 5e18
        });
    }

    function _fund(address who, uint256 amount) internal {
        usdc.mint(who, amount);
        vm.prank(who);
        usdc.approve(address(dex), type(uint256).max);
    }

    /// @notice balance x 1e12 == sum of every margin + pool balance, exactly.
    function invariant_quoteLedgerConserved() public view {
        address[] memory a = handler.actors();
        int256 sum = dex.poolBalance();
        for (uint256 i; i < a.length; ++i) {
            (, uint128 m1,,) = dex.positions(a[i], weth);
            (, uint128 m2,,) = dex.positions(a[i], wbtc);
            sum += int256(uint256(m1)) + int256(uint256(m2));
        }
        assertEq(int256(usdc.balanceOf(address(dex)) * 1e12), sum, "balance == margins + pool");
    }

    /// @notice Open interest per side equals the sum of the positions' sizes.
    function invariant_openInterestMatchesPositions() public view {
        address[] memory a = handler.actors();
        address[2] memory mk = [weth, wbtc];
        for (uint256 k; k < 2; ++k) {
            uint256 longs;
            uint256 shorts;
            for (uint256 i; i < a.length; ++i) {
                (int128 s,,,) = dex.positions(a[i], mk[k]);
                if (s > 0) longs += uint256(int256(s));
                else shorts += uint256(-int256(s));
            }
            PerpDEX.MarketView memory v = dex.marketState(mk[k]);
            assertEq(v.longOpenInterest, longs, "long oi");
            assertEq(v.shortOpenInterest, shorts, "short oi");
            assertLe(longs, 2_000e18 * (k == 0 ? 1 : 0) + 100e18 * k, "long cap");
            assertLe(shorts, 2_000e18 * (k == 0 ? 1 : 0) + 100e18 * k, "short cap");
        }
    }

    /// @notice The O(1) market aggregate equals the per-position sum (up to rounding).
    function invariant_aggregatePnlMatchesPositions() public view {
        address[] memory a = handler.actors();
        address[2] memory mk = [weth, wbtc];
        for (uint256 k; k < 2; ++k) {
            int256 sum;
            for (uint256 i; i < a.length; ++i) {
                PerpDEX.PositionView memory v = dex.position(a[i], mk[k]);
                sum += v.unrealizedPnl - v.accruedFunding;
            }
            assertApproxEqAbs(dex.marketState(mk[k]).traderNetPnl, sum, 1e6, "aggregate pnl");
        }
    }

    /// @notice No liquidatable position ever failed to liquidate, and every one that is
    /// liquidatable now can be liquidated (checked on a snapshot, then rolled back).
    function invariant_liquidatablePositionsCanBeLiquidated() public {
        assertEq(handler.liquidationFailures(), 0, "handler saw a failed liquidation");
        address[] memory a = handler.actors();
        address[2] memory mk = [weth, wbtc];
        for (uint256 k; k < 2; ++k) {
            for (uint256 i; i < a.length; ++i) {
                if (!dex.isLiquidatable(a[i], mk[k])) continue;
                uint256 snap = vm.snapshotState();
                try dex.liquidate(a[i], mk[k]) {}
                catch {
                    fail("liquidatable position could not be liquidated");
                }
                (int128 s,,,) = dex.positions(a[i], mk[k]);
                assertEq(int256(s), 0, "closed by liquidation");
                vm.revertToState(snap);
            }
        }
    }

    /// @notice Open-then-close at the same index price and time never earns before fees.
    function invariant_roundTripNeverProfits() public view {
        assertEq(handler.roundTripProfits(), 0, "round trip earned");
    }

    /// @notice Liquidity shares are only held by the LPs (none leak, none are minted from nothing).
    function invariant_lpSharesAccounted() public view {
        address[] memory l = handler.lps();
        uint256 sum;
        for (uint256 i; i < l.length; ++i) {
            sum += dex.balanceOf(l[i]);
        }
        assertEq(dex.totalSupply(), sum, "supply == LP balances");
    }

    /// @notice The handler's actions do what the campaign relies on (non-vacuity check).
    function test_handlerActionsAreProductive() public {
        handler.trade(0, 0, 100e18, 20); // ~21x long ETH after premium and fee
        handler.trade(1, 1, -10e18, 3); // short BTC
        assertEq(handler.trades(), 2, "trades land");
        handler.roundTrip(2, 0, 100e18);
        assertEq(handler.roundTrips(), 1, "round trip completes");
        assertEq(handler.roundTripProfits(), 0, "no profit");
        assertLe(handler.worstRoundTripGain(), int256(0), "gain <= 0");
        handler.movePrice(0, -1000); // -10%
        handler.liquidate(0);
        assertEq(handler.liquidations(), 1, "levered long liquidated");
        assertEq(handler.liquidationFailures(), 0, "no failures");
        handler.warp(1 days);
        assertEq(handler.now_(), block.timestamp, "time advanced");
        handler.lpDeposit(1, 1_000e6);
        assertGt(dex.balanceOf(address(0x1F1)), 0, "lp deposit");
        invariant_quoteLedgerConserved();
        invariant_openInterestMatchesPositions();
        invariant_aggregatePnlMatchesPositions();
    }
}
