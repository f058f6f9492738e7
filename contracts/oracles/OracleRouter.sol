// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";

/// @title OracleRouter
/// @notice The one place venues and the vault read prices from. Fails closed: a price that is
/// stale, non-positive, from an incomplete round, jumping too far from the previous round, or read
/// while the L2 sequencer is down (or just back up) is never returned; the call reverts instead.
contract OracleRouter is IOracleRouter, AccessControl {
    bytes32 public constant ORACLE_ADMIN_ROLE = keccak256("ORACLE_ADMIN_ROLE");

    /// @dev Hard sanity bounds on governed settings.
    uint32 public constant MAX_MAX_AGE = 7 days;
    uint16 public constant MAX_JUMP_BPS = 10_000;
    uint32 public constant MAX_GRACE_PERIOD = 1 days;

    struct FeedConfig {
        AggregatorV3Interface feed;
        uint32 maxAge; // seconds a round stays usable
        uint16 maxJumpBps; // max move vs the previous round, in bps; 10_000 disables the check
        uint8 decimals; // cached feed decimals
    }

    mapping(address asset => FeedConfig) private _feeds;
    AggregatorV3Interface public sequencerFeed; // address(0) on L1 / local
    uint32 public sequencerGracePeriod;

    event FeedSet(address indexed asset, address indexed feed, uint32 maxAge, uint16 maxJumpBps, uint8 decimals);
    event FeedRemoved(address indexed asset, address indexed feed);
    event SequencerFeedSet(address indexed feed, uint32 gracePeriod);

    error UnknownAsset(address asset);
    error StalePrice(address asset, uint256 updatedAt, uint256 maxAge);
    error NonPositivePrice(address asset, int256 answer);
    error IncompleteRound(address asset, uint80 roundId, uint80 answeredInRound);
    error PriceJump(address asset, uint256 previous, uint256 current, uint16 maxJumpBps);
    error SequencerDown();
    error SequencerGracePeriodNotOver(uint256 upSince, uint32 gracePeriod);
    error InvalidConfig(string field);

    /// @param admin Receives DEFAULT_ADMIN_ROLE and ORACLE_ADMIN_ROLE (the Timelock in production).
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ADMIN_ROLE, admin);
    }

    /// @notice Sets (or replaces) the feed for `asset`. ORACLE_ADMIN_ROLE only.
    /// @param maxAge Seconds after `updatedAt` that a round is still accepted (1 s .. 7 days).
    /// @param maxJumpBps Max relative move between consecutive rounds (1 .. 10_000 bps; 10_000 = off).
    function setFeed(address asset, address feed, uint32 maxAge, uint16 maxJumpBps)
        external
        onlyRole(ORACLE_ADMIN_ROLE)
    {
        if (asset == address(0)) revert InvalidConfig("asset");
        if (feed == address(0)) revert InvalidConfig("feed");
        if (maxAge == 0 || maxAge > MAX_MAX_AGE) revert InvalidConfig("maxAge");
        if (maxJumpBps == 0 || maxJumpBps > MAX_JUMP_BPS) revert InvalidConfig("maxJumpBps");
        uint8 dec = AggregatorV3Interface(feed).decimals();
        if (dec > 36) revert InvalidConfig("decimals");
        _feeds[asset] = FeedConfig(AggregatorV3Interface(feed), maxAge, maxJumpBps, dec);
        emit FeedSet(asset, feed, maxAge, maxJumpBps, dec);
    }

    /// @notice Removes the feed of `asset`; reads then revert with UnknownAsset. ORACLE_ADMIN_ROLE only.
    function removeFeed(address asset) external onlyRole(ORACLE_ADMIN_ROLE) {
        address feed = address(_feeds[asset].feed);
        if (feed == address(0)) revert UnknownAsset(asset);
        delete _feeds[asset];
        emit FeedRemoved(asset, feed);
    }

    /// @notice Sets the L2 sequencer-uptime feed (answer 0 = up, 1 = down) and the grace period
    /// after it comes back up during which prices are refused. `feed == address(0)` disables it.
    function setSequencerFeed(address feed, uint32 gracePeriod) external onlyRole(ORACLE_ADMIN_ROLE) {
        if (gracePeriod > MAX_GRACE_PERIOD) revert InvalidConfig("gracePeriod");
        sequencerFeed = AggregatorV3Interface(feed);
        sequencerGracePeriod = gracePeriod;
        emit SequencerFeedSet(feed, gracePeriod);
    }

    /// @notice The configuration used for `asset` (zero feed if none).
    function feedConfig(address asset) external view returns (FeedConfig memory) {
        return _feeds[asset];
    }

    /// @inheritdoc IOracleRouter
    function price(address asset) external view returns (uint256 priceWad, uint256 updatedAt) {
        _checkSequencer();
        FeedConfig memory cfg = _feeds[asset];
        if (address(cfg.feed) == address(0)) revert UnknownAsset(asset);

        (uint80 roundId, int256 answer,, uint256 upd, uint80 answeredInRound) = cfg.feed.latestRoundData();
        if (answer <= 0) revert NonPositivePrice(asset, answer);
        if (answeredInRound < roundId) revert IncompleteRound(asset, roundId, answeredInRound);
        if (upd > block.timestamp || block.timestamp - upd > cfg.maxAge) revert StalePrice(asset, upd, cfg.maxAge);

        priceWad = _toWad(uint256(answer), cfg.decimals);
        if (cfg.maxJumpBps < MAX_JUMP_BPS && roundId > 1) {
            // Compare with the previous round; an unreadable or non-positive previous round is
            // itself a reason to distrust the current one.
            (, int256 prevAnswer,,,) = cfg.feed.getRoundData(roundId - 1);
            if (prevAnswer <= 0) revert NonPositivePrice(asset, prevAnswer);
            uint256 prev = _toWad(uint256(prevAnswer), cfg.decimals);
            uint256 diff = priceWad > prev ? priceWad - prev : prev - priceWad;
            if (diff * 10_000 > prev * cfg.maxJumpBps) revert PriceJump(asset, prev, priceWad, cfg.maxJumpBps);
        }
        return (priceWad, upd);
    }

    function _checkSequencer() private view {
        AggregatorV3Interface seq = sequencerFeed;
        if (address(seq) == address(0)) return;
        (, int256 answer, uint256 startedAt,,) = seq.latestRoundData();
        if (answer != 0) revert SequencerDown();
        // startedAt == 0 is an uninitialised round; a future startedAt cannot be trusted either.
        if (startedAt == 0 || startedAt > block.timestamp || block.timestamp - startedAt <= sequencerGracePeriod) {
            revert SequencerGracePeriodNotOver(startedAt, sequencerGracePeriod);
        }
    }

    function _toWad(uint256 value, uint8 dec) private pure returns (uint256) {
        if (dec == 18) return value;
        return dec < 18 ? value * 10 ** (18 - dec) : value / 10 ** (dec - 18);
    }
}
