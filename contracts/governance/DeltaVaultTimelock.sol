// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title DeltaVaultTimelock
/// @notice OpenZeppelin's TimelockController unchanged; this file only gives it a project artifact
/// (Hardhat emits artifacts for project sources, not for npm dependencies). It owns RiskPolicy and
/// holds the governance and admin roles of the vault and its satellites.
contract DeltaVaultTimelock is TimelockController {
    /// @param minDelay Seconds between queueing and executing an operation.
    /// @param proposers PROPOSER_ROLE and CANCELLER_ROLE holders (the Governor).
    /// @param executors EXECUTOR_ROLE holders (address(0) = anyone may execute a ready operation).
    /// @param admin Optional bootstrap admin (address(0) for none); must renounce after wiring.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
