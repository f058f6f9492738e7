// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVenueAdapter, LegResult} from "./IVenueAdapter.sol";

/// @title ISpotVenueAdapter
/// @notice Vault-facing surface of a spot venue: an exact-input swap with a minimum output.
interface ISpotVenueAdapter is IVenueAdapter {
    /// @notice Swaps exactly `amountIn` of `tokenIn` for at least `minAmountOut` of `tokenOut`
    /// (token units). One side must be the quote token. DELEGATECALL only.
    function swap(address tokenIn, address tokenOut, uint256 amountIn, uint256 minAmountOut, uint256 deadline)
        external
        returns (LegResult memory result);
}
