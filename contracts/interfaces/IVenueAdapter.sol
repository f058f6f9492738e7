// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice What every adapter reports for one executed leg, so the vault can enforce per-leg caps
/// and slippage and emit one uniform audit record whatever the venue.
/// @dev All amounts WAD. USD values use the oracle router's price at execution time.
struct LegResult {
    address underlying; // asset whose exposure the leg changes
    int256 deltaChange; // change of the account's delta, underlying units (+ = longer)
    int256 gammaChange; // change of the account's gamma, d(delta)/d(price) x 1e18 (options; 0 otherwise)
    int256 positionBefore; // account's size in the traded instrument before the leg (underlying units)
    int256 positionAfter; // and after it: |after| < |before| means the leg reduced the position
    uint256 size; // |size| traded, underlying units (for per-instrument caps)
    uint256 notionalUsd; // size x oracle price (for tiers and turnover)
    uint256 executionPrice; // average price per unit actually paid/received (premium, fill or swap price)
    uint256 oraclePrice; // oracle price of the underlying used for the checks
    uint256 fee; // venue fees and spread paid, USD
    int256 cashFlow; // quote-token flow of the account, USD (+ received, - paid)
}

/// @title IVenueAdapter
/// @notice Common surface of the vault-facing venue adapters. Adapters are stateless (immutables
/// only) and their state-changing functions run by DELEGATECALL from the vault, so the vault itself
/// is the account that holds positions on the venue; their views are called normally with the
/// account as argument.
interface IVenueAdapter {
    /// @notice Venue kind, so the vault and auditors know which interface the adapter speaks.
    enum Kind {
        Option,
        Perp,
        Spot
    }

    /// @notice The kind of venue behind this adapter.
    function kind() external view returns (Kind);

    /// @notice The venue contract this adapter trades on.
    function venue() external view returns (address);
}
