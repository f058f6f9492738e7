// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VaultFixture} from "./VaultFixture.sol";
import {TreasuryVault} from "../../../contracts/core/TreasuryVault.sol";

contract VaultRebalanceTest is VaultFixture {
    function setUp() public {
        _deploySystem();
    }

    function testInitialExposure() public view {
        TreasuryVault.Exposure memory e = vault.exposure(address(weth));
        assertEq(e.spot, int256(1_000e18), "spot");
        assertEq(e.liabilities, 300e18, "liabilities");
        assertEq(e.net, int256(700e18), "net");
        assertTrue(e.rebalanceDue, "due");
        assertEq(e.price, ETH_PX, "price");
    }

    function testPerpOnlyHedgeLandsInBand() public {
        _rebalance(KEEPER, _perpHedgeLegs(-700e18));
        int256 net = _net(address(weth));
        assertLe(net, int256(25e18), "in band (upper)");
        assertGe(net, -int256(25e18), "in band (lower)");
        assertEq(uint256(vault.epoch()), 1, "epoch advanced");
    }

    function testOptionPlusPerpHedge() public {
        TreasuryVault.Leg[] memory legs = new TreasuryVault.Leg[](3);
        legs[0] = _marginLeg(address(weth), 1_000_000e6);
        legs[1] = _optionLeg(putAtm, 300e18, 100_000_000e18);
        // An ATM put is about -0.45 delta: 300 of them take ~135 off the 700.
        legs[2] = _perpLeg(address(weth), -555e18, 2900e18);
        _rebalance(KEEPER, legs);
        int256 net = _net(address(weth));
        assertLe(net, int256(25e18), "in band (upper)");
        assertGe(net, -int256(25e18), "in band (lower)");
        assertEq(vault.heldSeries(address(weth)).length, 1, "series held");
    }

    function testSpotLegSellsWeth() public {
        TreasuryVault.Leg[] memory legs = new TreasuryVault.Leg[](3);
        legs[0] = _marginLeg(address(weth), 1_000_000e6);
        legs[1] = _spotLeg(address(weth), -50e18, 1);
        legs[2] = _perpLeg(address(weth), -650e18, 2900e18);
        _rebalance(KEEPER, legs);
        assertEq(vault.exposure(address(weth)).spot, int256(950e18), "spot sold");
        int256 net = _net(address(weth));
        assertLe(net, int256(25e18), "in band");
        assertGe(net, -int256(25e18), "in band");
    }
}
