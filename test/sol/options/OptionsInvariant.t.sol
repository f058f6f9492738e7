// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {OptionsFixture} from "./OptionsFixture.sol";
import {OptionsHandler} from "./OptionsHandler.t.sol";
import {OptionsAMM} from "../../../contracts/venues/options/OptionsAMM.sol";

/// @notice Invariants of the options venue under random sequences of trades, LP flows, price
/// moves, time jumps, listings, settlements and redemptions.
contract OptionsInvariantTest is OptionsFixture {
    OptionsHandler public handler;

    function setUp() public {
        _deployOptions();
        uint256 shortExpiry = T0 + 5 days;
        surface.setSmile(address(weth), shortExpiry, 0.7e18, -0.1e18, 0.3e18);
        uint256[] memory ids = new uint256[](4);
        ids[0] = _listPut(3000e18);
        ids[1] = _listCall(3000e18);
        ids[2] = amm.listSeries(address(weth), 2800e18, shortExpiry, false, 200e18);
        ids[3] = amm.listSeries(address(weth), 3100e18, shortExpiry, true, 200e18);
        pool.setReserveBps(500);
        handler = new OptionsHandler(amm, pool, usdc, weth, ethFeed, surface, ids);
        usdc.grantRole(usdc.MINTER_ROLE(), address(handler));
        weth.grantRole(weth.MINTER_ROLE(), address(handler));
        ethFeed.grantRole(ethFeed.ORACLE_ROLE(), address(handler));
        surface.grantRole(surface.SURFACE_ADMIN_ROLE(), address(handler));
        amm.grantRole(amm.LISTER_ROLE(), address(handler));
        handler.init();

        bytes4[] memory sel = new bytes4[](10);
        sel[0] = OptionsHandler.buy.selector;
        sel[1] = OptionsHandler.sell.selector;
        sel[2] = OptionsHandler.roundTrip.selector;
        sel[3] = OptionsHandler.deposit.selector;
        sel[4] = OptionsHandler.withdraw.selector;
        sel[5] = OptionsHandler.movePrice.selector;
        sel[6] = OptionsHandler.warp.selector;
        sel[7] = OptionsHandler.listNew.selector;
        sel[8] = OptionsHandler.settleExpired.selector;
        sel[9] = OptionsHandler.redeemAll.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector(address(handler), sel));
    }

    /// Every option the pool is short is fully backed: cash >= locked, and the pool really holds it.
    function invariant_poolBacksEveryShort() public view {
        assertGe(pool.cash(), pool.locked(), "cash >= locked");
        assertGe(usdc.balanceOf(address(pool)), pool.cash(), "tokens >= booked cash");
        (,, uint256 lockedWeth) = amm.poolExposure(address(weth));
        (,, uint256 lockedBtc) = amm.poolExposure(address(wbtc));
        assertEq(pool.locked(), lockedWeth + lockedBtc, "locked == backing of open longs");
        assertEq(weth.balanceOf(address(pool)), pool.inventory(address(weth)), "inventory booked");
    }

    /// The AMM always holds every claim it owes: settled payouts, short collateral (cash and WETH).
    function invariant_ammHoldsEveryClaim() public view {
        address[3] memory traders = handler.tradersList();
        uint256 n = handler.seriesCount();
        uint256 usdcOwed;
        uint256 wethOwed;
        for (uint256 i; i < n; ++i) {
            uint256 id = handler.seriesIds(i);
            OptionsAMM.Series memory s = amm.seriesInfo(id);
            for (uint256 j; j < 3; ++j) {
                (int256 size, uint256 cashC, uint256 undC) = amm.positionOf(traders[j], id);
                if (!s.settled) {
                    usdcOwed += cashC;
                    wethOwed += undC;
                } else if (size > 0) {
                    usdcOwed += uint256(size) * s.payoffPerUnit / 1e30;
                } else if (size < 0) {
                    uint256 abs = uint256(-size);
                    if (cashC > 0) usdcOwed += cashC - _ceilDiv(abs * s.payoffPerUnit, 1e30);
                    if (undC > 0) wethOwed += undC - _ceilDiv(abs * s.payoffPerUnit, s.settlementPrice);
                }
            }
        }
        assertGe(usdc.balanceOf(address(amm)), usdcOwed, "AMM USDC covers claims");
        assertGe(weth.balanceOf(address(amm)), wethOwed, "AMM WETH covers claims");
    }

    function invariant_noRoundTripProfit() public view {
        assertFalse(handler.roundTripProfit(), "a round trip earned the trader something");
    }

    function invariant_settledClaimsAlwaysRedeemable() public view {
        assertFalse(handler.redeemFailed(), "a redemption failed");
        assertFalse(handler.settleFailed(), "a settlement failed");
    }

    function invariant_withdrawalsNeverTakeBacking() public view {
        assertFalse(handler.withdrawTookBacking(), "a withdrawal dug into locked collateral");
        assertGe(pool.cash(), pool.locked(), "cash >= locked");
    }

    /// Active-series lists stay within their governed bound.
    function invariant_boundedLoops() public view {
        assertLe(amm.activeSeries(address(weth)).length, 16, "active series bounded");
    }

    function _ceilDiv(uint256 a, uint256 b) internal pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }
}
