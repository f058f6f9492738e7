// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "../utils/Vm.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";
import {ManagedPriceFeed} from "../../../contracts/oracles/ManagedPriceFeed.sol";
import {VolatilitySurface} from "../../../contracts/venues/options/VolatilitySurface.sol";
import {OptionsPool} from "../../../contracts/venues/options/OptionsPool.sol";
import {OptionsAMM} from "../../../contracts/venues/options/OptionsAMM.sol";

/// @notice Invariant-campaign actor: random trades (buy/sell/round trips, cash or underlying
/// collateral), LP deposits/withdrawals, price moves, time jumps, listings, settlements and
/// redemptions on the WETH options market. Ghost flags record any property violation observed
/// inside an action; the invariant contract asserts them.
contract OptionsHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    OptionsAMM public immutable amm;
    OptionsPool public immutable pool;
    TestToken public immutable usdc;
    TestToken public immutable weth;
    ManagedPriceFeed public immutable feed;
    VolatilitySurface public immutable surface;

    address[3] internal traders = [address(0x7001), address(0x7002), address(0x7003)];
    address[2] internal lps = [address(0x8001), address(0x8002)];
    uint256[] public seriesIds;
    uint256 public price = 3000e18;

    // ghosts
    bool public roundTripProfit;
    bool public redeemFailed;
    bool public settleFailed;
    bool public withdrawTookBacking;
    uint256 public trades;
    uint256 public settlements;
    uint256 public redemptions;
    uint256 public withdrawals;

    constructor(
        OptionsAMM amm_,
        OptionsPool pool_,
        TestToken usdc_,
        TestToken weth_,
        ManagedPriceFeed feed_,
        VolatilitySurface surface_,
        uint256[] memory initialSeries
    ) {
        amm = amm_;
        pool = pool_;
        usdc = usdc_;
        weth = weth_;
        feed = feed_;
        surface = surface_;
        seriesIds = initialSeries;
    }

    /// @dev Called once by the test after roles are granted.
    function init() external {
        for (uint256 i; i < 3; ++i) _fund(traders[i]);
        for (uint256 i; i < 2; ++i) _fund(lps[i]);
    }

    function _fund(address who) internal {
        usdc.mint(who, 50_000_000e6);
        weth.mint(who, 10_000e18);
        vm.startPrank(who);
        usdc.approve(address(amm), type(uint256).max);
        usdc.approve(address(pool), type(uint256).max);
        weth.approve(address(amm), type(uint256).max);
        vm.stopPrank();
    }

    function tradersList() external view returns (address[3] memory) {
        return traders;
    }

    function seriesCount() external view returns (uint256) {
        return seriesIds.length;
    }

    function _series(uint256 seed) internal view returns (uint256) {
        return seriesIds[seed % seriesIds.length];
    }

    // ------------------------------------------------------------------ trades

    function buy(uint256 actor, uint256 seed, uint256 size) external {
        address a = traders[actor % 3];
        size = 1e15 + (size % 20e18);
        vm.prank(a);
        try amm.buy(_series(seed), size, type(uint256).max, block.timestamp) {
            ++trades;
        } catch {}
    }

    function sell(uint256 actor, uint256 seed, uint256 size, bool underlying) external {
        address a = traders[actor % 3];
        size = 1e15 + (size % 20e18);
        uint256 id = _series(seed);
        vm.prank(a);
        if (underlying) {
            try amm.sellWithUnderlyingCollateral(id, size, 0, block.timestamp) {
                ++trades;
            } catch {}
        } else {
            try amm.sell(id, size, 0, block.timestamp) {
                ++trades;
            } catch {}
        }
    }

    /// Opens then closes `size` at the same price and time; the trader may never end richer.
    function roundTrip(uint256 actor, uint256 seed, uint256 size, bool shortFirst, bool underlying) external {
        address a = traders[actor % 3];
        size = 1e15 + (size % 20e18);
        uint256 id = _series(seed);
        uint256 u0 = usdc.balanceOf(a);
        uint256 w0 = weth.balanceOf(a);
        (int256 s0,, uint256 und0) = amm.positionOf(a, id);
        vm.startPrank(a);
        bool ok;
        if (shortFirst) {
            if (underlying) {
                try amm.sellWithUnderlyingCollateral(id, size, 0, block.timestamp) {
                    ok = true;
                } catch {}
            } else {
                try amm.sell(id, size, 0, block.timestamp) {
                    ok = true;
                } catch {}
            }
            if (ok) amm.buy(id, size, type(uint256).max, block.timestamp);
        } else {
            try amm.buy(id, size, type(uint256).max, block.timestamp) {
                ok = true;
            } catch {}
            // re-open with the collateral kind the closed short had
            if (ok && und0 > 0) amm.sellWithUnderlyingCollateral(id, size, 0, block.timestamp);
            else if (ok) amm.sell(id, size, 0, block.timestamp);
        }
        vm.stopPrank();
        if (!ok) return;
        ++trades;
        (int256 s1,,) = amm.positionOf(a, id);
        if (s1 != s0) roundTripProfit = true; // position must be restored exactly
        if (usdc.balanceOf(a) > u0 || weth.balanceOf(a) > w0) roundTripProfit = true;
    }

    // ------------------------------------------------------------------ LPs

    function deposit(uint256 who, uint256 amount) external {
        address l = lps[who % 2];
        amount = 1e6 + (amount % 5_000_000e6);
        vm.prank(l);
        try pool.deposit(amount, 0, l) {} catch {}
    }

    function withdraw(uint256 who, uint256 fraction) external {
        address l = lps[who % 2];
        uint256 bal = pool.balanceOf(l);
        if (bal == 0) return;
        uint256 shares = (bal * (1 + (fraction % 100))) / 100;
        vm.prank(l);
        try pool.withdraw(shares, 0, l) {
            ++withdrawals;
            uint256 locked = pool.locked();
            uint256 reserve = (locked * pool.reserveBps() + 9_999) / 10_000;
            if (pool.cash() < locked + reserve) withdrawTookBacking = true;
        } catch {}
    }

    // ------------------------------------------------------------------ market

    function movePrice(uint256 bps, bool up) external {
        uint256 step = (price * (bps % 1_000)) / 10_000; // up to 10%
        uint256 p = up ? price + step : price - step;
        if (p < 1000e18) p = 1000e18;
        if (p > 9000e18) p = 9000e18;
        price = (p / 1e10) * 1e10;
        feed.submit(int256(price / 1e10));
    }

    function warp(uint256 dt) external {
        dt = 1 hours + (dt % 8 days);
        vm.warp(block.timestamp + dt);
        feed.submit(int256(price / 1e10)); // keep the oracle fresh
    }

    function listNew(uint256 seed, bool isCall) external {
        uint256 expiry = ((block.timestamp + 2 days + (seed % 20 days)) / 1 days) * 1 days;
        if (!surface.isSet(address(weth), expiry)) {
            surface.setSmile(address(weth), expiry, 0.5e18 + (seed % 5) * 0.1e18, -0.1e18, 0.3e18);
        }
        uint256 strike = ((price * (80 + (seed % 41))) / 100 / 50e18) * 50e18;
        if (strike == 0) strike = 50e18;
        try amm.listSeries(address(weth), strike, expiry, isCall, 200e18) returns (uint256 id) {
            if (seriesIds.length < 24) seriesIds.push(id);
        } catch {}
    }

    function settleExpired() external {
        uint256 n = seriesIds.length;
        bool submitted;
        for (uint256 i; i < n; ++i) {
            uint256 id = seriesIds[i];
            OptionsAMM.Series memory s = amm.seriesInfo(id);
            if (s.settled || block.timestamp < s.expiry) continue;
            if (!submitted) {
                feed.submit(int256(price / 1e10)); // a price published at/after expiry
                submitted = true;
            }
            try amm.settle(id) {
                ++settlements;
            } catch {
                settleFailed = true;
            }
        }
    }

    function redeemAll(uint256 actor) external {
        address a = traders[actor % 3];
        uint256 n = seriesIds.length;
        for (uint256 i; i < n; ++i) {
            uint256 id = seriesIds[i];
            if (!amm.seriesInfo(id).settled) continue;
            (int256 size,,) = amm.positionOf(a, id);
            if (size == 0) continue;
            vm.prank(a);
            try amm.redeem(id) {
                ++redemptions;
            } catch {
                redeemFailed = true;
            }
        }
    }
}
