// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title DelegateOnly
/// @notice Guards adapter functions that must run in the vault's context (DELEGATECALL): called
/// directly they would trade for the adapter contract itself, which holds nothing.
abstract contract DelegateOnly {
    address private immutable _self = address(this);

    error DelegateCallOnly();

    modifier onlyDelegateCall() {
        if (address(this) == _self) revert DelegateCallOnly();
        _;
    }
}
