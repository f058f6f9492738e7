// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title DelegateCallHarness
/// @notice TEST ONLY: an account that runs adapter code by DELEGATECALL the way the vault does,
/// so adapters can be tested and benchmarked without the vault. Never deploy outside tests.
contract DelegateCallHarness {
    address public immutable owner;

    error NotOwner();

    constructor() {
        owner = msg.sender;
    }

    /// @notice DELEGATECALLs `target` with `data`, bubbling any revert. Owner only.
    function exec(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert NotOwner();
        (bool ok, bytes memory ret) = target.delegatecall(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
