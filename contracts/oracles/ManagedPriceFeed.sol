// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

/// @title ManagedPriceFeed
/// @notice AggregatorV3-compatible price feed for networks without Chainlink (local, test, replay).
/// An ORACLE_ROLE account submits answers; every submission is a new round whose data stays
/// readable through `getRoundData`, exactly like a Chainlink aggregator.
contract ManagedPriceFeed is AggregatorV3Interface, AccessControl {
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    struct Round {
        int192 answer;
        uint64 updatedAt;
    }

    uint8 public immutable override decimals;
    string public override description;
    uint80 public latestRound;
    mapping(uint80 roundId => Round) private _rounds;

    /// @notice A new round was recorded.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error RoundNotFound(uint80 roundId);
    error AnswerOutOfRange(int256 answer);

    /// @param decimals_ Decimals of the answer (8 for Chainlink USD pairs).
    /// @param description_ Human-readable pair, e.g. "ETH / USD".
    /// @param initialAnswer First round's answer.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and ORACLE_ROLE.
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer, address admin) {
        decimals = decimals_;
        description = description_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ROLE, admin);
        _record(initialAnswer);
    }

    /// @notice Records `answer` as a new round at the current block time. ORACLE_ROLE only.
    /// @dev Non-positive answers are accepted on purpose: a feed reports what it sees, and the
    /// router is the one that refuses them (as with real aggregators).
    function submit(int256 answer) external onlyRole(ORACLE_ROLE) {
        _record(answer);
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure override returns (uint256) {
        return 4;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId)
        external
        view
        override
        returns (uint80, int256, uint256, uint256, uint80)
    {
        Round memory r = _rounds[roundId];
        if (roundId == 0 || roundId > latestRound) revert RoundNotFound(roundId);
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        uint80 id = latestRound;
        Round memory r = _rounds[id];
        return (id, r.answer, r.updatedAt, r.updatedAt, id);
    }

    function _record(int256 answer) private {
        if (answer > type(int192).max || answer < type(int192).min) revert AnswerOutOfRange(answer);
        uint80 id = latestRound + 1;
        latestRound = id;
        _rounds[id] = Round(int192(answer), uint64(block.timestamp));
        emit AnswerUpdated(answer, id, block.timestamp);
    }
}
