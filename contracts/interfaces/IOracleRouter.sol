// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IOracleRouter
/// @notice The single price source every venue and the vault read through. `price` never returns
/// a value it is unsure of: it reverts (stale, non-positive, jumping, sequencer down, unknown asset).
interface IOracleRouter {
    /// @notice USD price of one whole unit of `asset`, scaled to 1e18, and the feed's update time.
    /// @dev Reverts with a custom error when the price is not trustworthy.
    function price(address asset) external view returns (uint256 priceWad, uint256 updatedAt);
}
