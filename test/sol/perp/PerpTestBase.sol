// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../utils/TestBase.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";
import {ManagedPriceFeed} from "../../../contracts/oracles/ManagedPriceFeed.sol";
import {OracleRouter} from "../../../contracts/oracles/OracleRouter.sol";
import {IOracleRouter} from "../../../contracts/interfaces/IOracleRouter.sol";
import {PerpDEX} from "../../../contracts/venues/perp/PerpDEX.sol";

/// @notice Shared fixture of the perp tests: USDC(6)/WETH(18)/WBTC(8), managed feeds behind the
/// oracle router, a PerpDEX with WETH and WBTC markets, a seeded LP pool and funded traders.
abstract contract PerpTestBase is TestBase {
    TestToken internal usdc;
    TestToken internal weth;
    TestToken internal wbtc;
    ManagedPriceFeed internal ethFeed;
    ManagedPriceFeed internal btcFeed;
    OracleRouter internal router;
    PerpDEX internal dex;

    address internal constant LP = address(0x1111);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant KEEPER = address(0xC0FFEE);

    uint256 internal constant ETH_PRICE = 3000e18;
    uint256 internal constant BTC_PRICE = 60_000e18;
    uint256 internal constant POOL_SEED = 5_000_000e6;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        usdc = new TestToken("USD Coin", "USDC", 6, address(this));
        weth = new TestToken("Wrapped Ether", "WETH", 18, address(this));
        wbtc = new TestToken("Wrapped BTC", "WBTC", 8, address(this));
        ethFeed = new ManagedPriceFeed(8, "ETH / USD", 3000e8, address(this));
        btcFeed = new ManagedPriceFeed(8, "BTC / USD", 60_000e8, address(this));
        router = new OracleRouter(address(this));
        router.setFeed(address(weth), address(ethFeed), 3600, 10_000);
        router.setFeed(address(wbtc), address(btcFeed), 3600, 10_000);
        dex = new PerpDEX(usdc, IOracleRouter(address(router)), address(this));
        dex.addMarket(address(weth), ethParams());
        dex.addMarket(address(wbtc), btcParams());

        _fund(LP, 10_000_000e6);
        vm.prank(LP);
        dex.depositLiquidity(POOL_SEED);
        _fund(ALICE, 10_000_000e6);
        _fund(BOB, 10_000_000e6);
        _fund(KEEPER, 0);
    }

    function ethParams() internal pure returns (PerpDEX.MarketParams memory) {
        return PerpDEX.MarketParams({
            skewScale: 100_000e18,
            maxOpenInterest: 10_000e18,
            maxFundingRatePerDay: 0.01e18,
            maintenanceMarginRatio: 0.02e18,
            liquidationFeeRatio: 0.005e18,
            makerFeeBps: 2,
            takerFeeBps: 5,
            paused: false,
            maxLeverage: 20e18,
            minLiquidationFee: 5e18
        });
    }

    function btcParams() internal pure returns (PerpDEX.MarketParams memory p) {
        p = ethParams();
        p.skewScale = 5_000e18;
        p.maxOpenInterest = 500e18;
    }

    function _fund(address who, uint256 amount) internal {
        if (amount != 0) usdc.mint(who, amount);
        vm.prank(who);
        usdc.approve(address(dex), type(uint256).max);
    }

    function _deposit(address who, address u, uint256 amount) internal {
        vm.prank(who);
        dex.depositMargin(u, amount);
    }

    function _trade(address who, address u, int256 size) internal {
        vm.prank(who);
        dex.modifyPosition(u, size, size > 0 ? type(uint256).max : 0, block.timestamp);
    }

    function _close(address who, address u) internal {
        (int256 size,,,) = dex.positions(who, u);
        vm.prank(who);
        dex.closePosition(u, size < 0 ? type(uint256).max : 0, block.timestamp);
    }

    function _setEth(uint256 priceWad) internal {
        ethFeed.submit(int256(priceWad / 1e10));
    }

    function _setBtc(uint256 priceWad) internal {
        btcFeed.submit(int256(priceWad / 1e10));
    }

    /// @dev Warps and refreshes both feeds (same answers) so prices stay fresh.
    function _warp(uint256 dt) internal {
        vm.warp(block.timestamp + dt);
        (, int256 e,,,) = ethFeed.latestRoundData();
        (, int256 b,,,) = btcFeed.latestRoundData();
        ethFeed.submit(e);
        btcFeed.submit(b);
    }

    function _margin(address who, address u) internal view returns (uint256 m) {
        (, uint128 mm,,) = dex.positions(who, u);
        m = mm;
    }

    function _size(address who, address u) internal view returns (int256 s) {
        (int128 ss,,,) = dex.positions(who, u);
        s = ss;
    }

    function _entry(address who, address u) internal view returns (uint256 e) {
        (,, uint128 ee,) = dex.positions(who, u);
        e = ee;
    }

    /// @dev balance x scale - (sum of the given accounts' margins + pool balance).
    function _ledgerGap(address[] memory accounts) internal view returns (int256) {
        int256 sum = dex.poolBalance();
        for (uint256 i; i < accounts.length; ++i) {
            sum += int256(_margin(accounts[i], address(weth))) + int256(_margin(accounts[i], address(wbtc)));
        }
        return int256(usdc.balanceOf(address(dex)) * 1e12) - sum;
    }

    /// @dev Reference fill price: index (1 + (skew + d/2)/S), buys up, sells down (test oracle).
    function _refFill(uint256 index, int256 skew, int256 d, uint256 scale) internal pure returns (uint256) {
        int256 num = int256(index) * (2 * skew + d);
        int256 den = 2 * int256(scale);
        int256 q = num / den;
        if (d > 0 && num > 0 && num % den != 0) q += 1;
        if (d < 0 && num < 0 && num % den != 0) q -= 1;
        return uint256(int256(index) + q);
    }

    function _abs(int256 x) internal pure returns (uint256) {
        return uint256(x >= 0 ? x : -x);
    }
}
