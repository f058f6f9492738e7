// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {IOptionVenueAdapter} from "../interfaces/IOptionVenueAdapter.sol";
import {IVenueAdapter, LegResult} from "../interfaces/IVenueAdapter.sol";
import {OptionsAMM} from "../venues/options/OptionsAMM.sol";
import {DelegateOnly} from "./DelegateOnly.sol";

/// @title OptionsAMMAdapter
/// @notice Vault-facing adapter of the reference options AMM. Trades run by DELEGATECALL from the
/// vault, which is the AMM account; allowances are granted for the one trade and reset afterwards,
/// so the vault never leaves a standing approval to a venue.
contract OptionsAMMAdapter is IOptionVenueAdapter, DelegateOnly {
    using SafeERC20 for IERC20;

    OptionsAMM public immutable amm;
    IERC20 public immutable usdc;
    IOracleRouter public immutable oracle;
    uint256 private immutable _usdcScale; // 10^(18 - usdc decimals)

    error ZeroSize();

    /// @param amm_ The options AMM.
    constructor(OptionsAMM amm_) {
        amm = amm_;
        usdc = amm_.usdc();
        oracle = amm_.router();
        _usdcScale = 10 ** (18 - IERC20Metadata(address(usdc)).decimals());
    }

    /// @inheritdoc IVenueAdapter
    function kind() external pure returns (Kind) {
        return Kind.Option;
    }

    /// @inheritdoc IVenueAdapter
    function venue() external view returns (address) {
        return address(amm);
    }

    /// @inheritdoc IOptionVenueAdapter
    function trade(uint256 seriesId, int256 size, uint256 priceBound, uint256 deadline)
        external
        onlyDelegateCall
        returns (LegResult memory r)
    {
        if (size == 0) revert ZeroSize();
        OptionsAMM.TradeReceipt memory t;
        uint256 abs = size > 0 ? uint256(size) : uint256(-size);
        if (size > 0) {
            // Max premium: round the USD bound down to token units (stricter, never looser).
            uint256 maxPremium = priceBound / _usdcScale;
            usdc.forceApprove(address(amm), maxPremium);
            t = amm.buy(seriesId, abs, maxPremium, deadline);
        } else {
            // A sell may open a short that posts cash collateral: allow it for this call only.
            usdc.forceApprove(address(amm), type(uint256).max);
            t = amm.sell(seriesId, abs, (priceBound + _usdcScale - 1) / _usdcScale, deadline);
        }
        if (usdc.allowance(address(this), address(amm)) != 0) usdc.forceApprove(address(amm), 0);

        uint256 cash = t.amountUsdc * _usdcScale;
        r.underlying = t.underlying;
        r.deltaChange = size * t.unitDelta / 1e18;
        r.gammaChange = size * t.unitGamma / 1e18;
        r.positionBefore = t.sizeBefore;
        r.positionAfter = t.sizeAfter;
        r.size = abs;
        r.notionalUsd = abs * t.spot / 1e18;
        r.executionPrice = cash * 1e18 / abs;
        r.oraclePrice = t.spot;
        r.fee = t.fee + t.spread;
        r.cashFlow = size > 0 ? -int256(cash) : int256(cash);
    }

    /// @inheritdoc IOptionVenueAdapter
    function redeem(uint256 seriesId) external onlyDelegateCall returns (int256 cashFlow) {
        (uint256 usdcOut,) = amm.redeem(seriesId);
        return int256(usdcOut * _usdcScale);
    }

    /// @inheritdoc IOptionVenueAdapter
    function underlyingOf(uint256 seriesId) external view returns (address) {
        return amm.seriesInfo(seriesId).underlying;
    }

    /// @inheritdoc IOptionVenueAdapter
    function expiryOf(uint256 seriesId) external view returns (uint256) {
        return amm.seriesInfo(seriesId).expiry;
    }

    /// @inheritdoc IOptionVenueAdapter
    function quote(uint256 seriesId, int256 size) external view returns (uint256 amount, uint256 fee) {
        OptionsAMM.Quote memory q = amm.quote(seriesId, size);
        return (q.amountUsdc * _usdcScale, q.fee + q.spread);
    }

    /// @inheritdoc IOptionVenueAdapter
    function positionGreeks(address account, uint256 seriesId)
        external
        view
        returns (int256 size, int256 delta, int256 gamma)
    {
        OptionsAMM.PositionGreeks memory g = amm.positionGreeks(account, seriesId);
        return (g.size, g.delta, g.gamma);
    }

    /// @inheritdoc IOptionVenueAdapter
    function positionValue(address account, uint256 seriesId) external view returns (int256 valueUsd) {
        OptionsAMM.PositionGreeks memory g = amm.positionGreeks(account, seriesId);
        (, uint256 cashCollateral, uint256 underlyingCollateral) = amm.positionOf(account, seriesId);
        valueUsd = g.value + int256(cashCollateral * _usdcScale);
        if (underlyingCollateral != 0) {
            address u = amm.seriesInfo(seriesId).underlying;
            (uint256 px,) = oracle.price(u);
            uint256 units = underlyingCollateral * 10 ** (18 - IERC20Metadata(u).decimals());
            valueUsd += int256(units * px / 1e18);
        }
    }
}
