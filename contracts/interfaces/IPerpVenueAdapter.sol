// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVenueAdapter, LegResult} from "./IVenueAdapter.sol";

/// @title IPerpVenueAdapter
/// @notice Vault-facing surface of a perpetuals venue: trade with bounds, margin, position, mark value.
interface IPerpVenueAdapter is IVenueAdapter {
    /// @notice Changes the position in `underlying` by `sizeDelta` (+ buys). DELEGATECALL only.
    /// @param acceptablePrice Worst fill price accepted (max for buys, min for sells), USD WAD.
    function trade(address underlying, int256 sizeDelta, uint256 acceptablePrice, uint256 deadline)
        external
        returns (LegResult memory result);

    /// @notice Moves `amount` quote tokens (token units) from the account into margin. DELEGATECALL only.
    function depositMargin(address underlying, uint256 amount) external;

    /// @notice Moves `amount` quote tokens (token units) from margin back to the account. DELEGATECALL only.
    function withdrawMargin(address underlying, uint256 amount) external;

    /// @notice Signed size of `account`'s position (underlying units): the cheap read the vault's
    /// band check uses on every rebalance.
    function positionSize(address account, address underlying) external view returns (int256 size);

    /// @notice Signed size (underlying units), equity (margin + unrealised P&L - funding owed, USD
    /// WAD) and the maintenance margin the position needs (USD WAD).
    function position(address account, address underlying)
        external
        view
        returns (int256 size, int256 equityUsd, uint256 maintenanceMarginUsd);
}
