// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVenueAdapter, LegResult} from "./IVenueAdapter.sol";

/// @title IOptionVenueAdapter
/// @notice Vault-facing surface of an options venue: trade with bounds, position, greeks, mark value.
interface IOptionVenueAdapter is IVenueAdapter {
    /// @notice Buys (`size` > 0) or sells (`size` < 0) `|size|` options of `seriesId`. DELEGATECALL only.
    /// @param priceBound Max total premium paid for a buy, min total proceeds for a sell (USD WAD).
    /// @param deadline Latest block timestamp at which the trade may execute.
    function trade(uint256 seriesId, int256 size, uint256 priceBound, uint256 deadline)
        external
        returns (LegResult memory result);

    /// @notice Redeems a settled series for the calling account (payoff or released collateral). DELEGATECALL only.
    function redeem(uint256 seriesId) external returns (int256 cashFlow);

    /// @notice The underlying asset of `seriesId`.
    function underlyingOf(uint256 seriesId) external view returns (address);

    /// @notice Expiry timestamp of `seriesId`.
    function expiryOf(uint256 seriesId) external view returns (uint256);

    /// @notice Premium (buy, `size` > 0) or proceeds (sell) including fees, and the fee part, in USD WAD.
    function quote(uint256 seriesId, int256 size) external view returns (uint256 amount, uint256 fee);

    /// @notice `account`'s signed size in `seriesId`, its delta (underlying units) and gamma
    /// (d(delta)/d(price) x 1e18) at the current oracle price; zero greeks once the series expired.
    function positionGreeks(address account, uint256 seriesId)
        external
        view
        returns (int256 size, int256 delta, int256 gamma);

    /// @notice Mark-to-model value of `account`'s position in `seriesId` (long value minus short
    /// liability, plus posted collateral), USD WAD.
    function positionValue(address account, uint256 seriesId) external view returns (int256 valueUsd);
}
