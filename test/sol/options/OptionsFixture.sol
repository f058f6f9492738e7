// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../utils/TestBase.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";
import {ManagedPriceFeed} from "../../../contracts/oracles/ManagedPriceFeed.sol";
import {OracleRouter} from "../../../contracts/oracles/OracleRouter.sol";
import {IOracleRouter} from "../../../contracts/interfaces/IOracleRouter.sol";
import {VolatilitySurface} from "../../../contracts/venues/options/VolatilitySurface.sol";
import {OptionsPool} from "../../../contracts/venues/options/OptionsPool.sol";
import {OptionsAMM} from "../../../contracts/venues/options/OptionsAMM.sol";

/// @notice Shared deployment for the options tests: USDC(6)/WETH(18)/WBTC(8), managed feeds behind
/// the router, surface, pool (10M USDC of LP liquidity) and AMM, one 30-day WETH expiry with a smile.
abstract contract OptionsFixture is TestBase {
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant EXPIRY = T0 + 30 days;
    uint256 internal constant ETH_PX = 3000e18;
    uint256 internal constant BTC_PX = 60_000e18;
    uint256 internal constant LP_DEPOSIT = 10_000_000e6;

    TestToken internal usdc;
    TestToken internal weth;
    TestToken internal wbtc;
    ManagedPriceFeed internal ethFeed;
    ManagedPriceFeed internal btcFeed;
    OracleRouter internal router;
    VolatilitySurface internal surface;
    OptionsPool internal pool;
    OptionsAMM internal amm;

    address internal lp = address(0x1111);
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA401);

    function _deployOptions() internal {
        vm.warp(T0);
        usdc = new TestToken("USD Coin", "USDC", 6, address(this));
        weth = new TestToken("Wrapped Ether", "WETH", 18, address(this));
        wbtc = new TestToken("Wrapped BTC", "WBTC", 8, address(this));
        ethFeed = new ManagedPriceFeed(8, "ETH / USD", int256(ETH_PX / 1e10), address(this));
        btcFeed = new ManagedPriceFeed(8, "BTC / USD", int256(BTC_PX / 1e10), address(this));
        router = new OracleRouter(address(this));
        router.setFeed(address(weth), address(ethFeed), 7 days, 10_000);
        router.setFeed(address(wbtc), address(btcFeed), 7 days, 10_000);
        surface = new VolatilitySurface(address(this));
        pool = new OptionsPool(usdc, IOracleRouter(address(router)), address(this));
        amm = new OptionsAMM(usdc, pool, surface, IOracleRouter(address(router)), address(this));
        pool.setAmm(address(amm));
        amm.configureUnderlying(address(weth), 100_000e18);
        amm.configureUnderlying(address(wbtc), 10_000e18);
        surface.setSmile(address(weth), EXPIRY, 0.8e18, -0.1e18, 0.5e18);
        surface.setSmile(address(wbtc), EXPIRY, 0.6e18, -0.05e18, 0.3e18);

        _fund(lp, LP_DEPOSIT);
        vm.prank(lp);
        pool.deposit(LP_DEPOSIT, 0, lp);
        _fund(alice, 1_000_000e6);
        _fund(bob, 1_000_000e6);
        _fund(carol, 1_000_000e6);
    }

    function _fund(address who, uint256 usdcAmount) internal {
        usdc.mint(who, usdcAmount);
        weth.mint(who, 1_000e18);
        wbtc.mint(who, 100e8);
        vm.startPrank(who);
        usdc.approve(address(pool), type(uint256).max);
        usdc.approve(address(amm), type(uint256).max);
        weth.approve(address(amm), type(uint256).max);
        wbtc.approve(address(amm), type(uint256).max);
        vm.stopPrank();
    }

    function _listPut(uint256 strike) internal returns (uint256) {
        return amm.listSeries(address(weth), strike, EXPIRY, false, 1_000_000e18);
    }

    function _listCall(uint256 strike) internal returns (uint256) {
        return amm.listSeries(address(weth), strike, EXPIRY, true, 1_000_000e18);
    }

    function _setEth(uint256 pxWad) internal {
        ethFeed.submit(int256(pxWad / 1e10));
    }

    function _setBtc(uint256 pxWad) internal {
        btcFeed.submit(int256(pxWad / 1e10));
    }

    function _buy(address who, uint256 id, uint256 size) internal returns (uint256) {
        vm.prank(who);
        return amm.buy(id, size, type(uint256).max, block.timestamp).amountUsdc;
    }

    function _sell(address who, uint256 id, uint256 size) internal returns (uint256) {
        vm.prank(who);
        return amm.sell(id, size, 0, block.timestamp).amountUsdc;
    }

    function _sellU(address who, uint256 id, uint256 size) internal returns (uint256) {
        vm.prank(who);
        return amm.sellWithUnderlyingCollateral(id, size, 0, block.timestamp).amountUsdc;
    }

    /// @dev Warps to expiry and publishes `pxWad` at that time, so settlement can use it.
    function _expireAt(uint256 pxWad) internal {
        vm.warp(EXPIRY);
        _setEth(pxWad);
        _setBtc(BTC_PX);
    }

    function _tau() internal view returns (uint256) {
        return (EXPIRY - block.timestamp) * 1e18 / 365 days;
    }
}
