// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title RiskPolicy
/// @notice Every limit the vault and its keeper live under, in one place. Only GOVERNANCE_ROLE (the
/// DAO's Timelock in production) can change a value; each change emits the old and the new value,
/// and values outside hard sanity bounds revert so that even governance cannot set a limit that
/// disables a safety check by accident.
contract RiskPolicy is AccessControl {
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");

    // ---- hard sanity bounds (constants: not even governance moves them) ----
    uint256 public constant MAX_OPEN_SERIES_CAP = 32;
    uint256 public constant MAX_HEDGE_RATIO = 2e18;
    uint256 public constant MAX_SLIPPAGE_BPS_CAP = 1_000; // 10%
    uint256 public constant MIN_ORACLE_MAX_AGE = 30;
    uint256 public constant MAX_ORACLE_MAX_AGE = 1 days;
    uint256 public constant MAX_ORACLE_DEVIATION_BPS = 2_000; // 20%
    uint256 public constant MAX_COOLDOWN = 1 days;
    uint256 public constant MIN_WINDOW = 1 hours;
    uint256 public constant MAX_WINDOW = 30 days;
    uint256 public constant MIN_APPROVAL_EXPIRY = 5 minutes;
    uint256 public constant MAX_APPROVAL_EXPIRY = 7 days;
    uint256 public constant MAX_AMOUNT = 1e36; // any size or USD amount
    uint256 public constant MAX_GREEKS_CACHE_AGE = 1 days;
    uint256 public constant MAX_GREEKS_CACHE_MOVE_BPS = 500; // 5%

    /// @notice Limits per underlying asset (all WAD; sizes in underlying units, money in USD).
    struct UnderlyingLimits {
        bool enabled; // hedging allowed on this underlying
        int128 targetDelta; // net delta the vault aims for
        uint128 band; // allowed |net delta - target| after a rebalance
        uint64 minHedgeRatio; // keeper may hedge between these fractions of the gap
        uint64 maxHedgeRatio;
        uint128 maxOptionLegSize; // per option leg
        uint128 maxPerpLegSize; // per perp leg
        uint128 maxSpotLegSize; // per spot leg
        uint128 maxPerpPosition; // |perp size| after a rebalance
        uint128 premiumBudgetPerWindow; // option premium the keeper may pay per window
        uint8 maxOpenSeries; // option series the vault may hold at once
    }

    /// @notice Limits that apply to the vault as a whole.
    struct GlobalLimits {
        uint16 maxSlippageBps; // every leg's price vs the oracle
        uint16 oracleMaxDeviationBps; // venue mark vs oracle before trading is refused
        uint32 oracleMaxAge; // seconds
        uint32 keeperCooldown; // seconds between rebalances
        uint32 window; // seconds; turnover and premium budgets reset per window
        uint32 approvalExpiry; // seconds an approval stays valid
        uint32 greeksCacheMaxAge; // seconds the vault may use cached option greeks
        uint16 greeksCacheMaxMoveBps; // price move since the cache was built before it must be rebuilt
        uint128 turnoverCapPerWindow; // USD notional traded per window
        uint128 tier1Notional; // bundles at or above need one approval (FINANCE)
        uint128 tier2Notional; // bundles at or above need two (FINANCE and RISK)
    }

    GlobalLimits private _global;
    mapping(address underlying => UnderlyingLimits) private _limits;
    mapping(address adapter => bool) public venueAllowed;

    event GlobalLimitsSet(GlobalLimits oldLimits, GlobalLimits newLimits);
    event UnderlyingLimitsSet(address indexed underlying, UnderlyingLimits oldLimits, UnderlyingLimits newLimits);
    event VenueAllowedSet(address indexed adapter, bool oldAllowed, bool newAllowed);

    error InvalidLimit(string field);
    error UnknownUnderlying(address underlying);

    /// @param governance Receives GOVERNANCE_ROLE and is the role's admin (the Timelock in production).
    /// @param initialGlobal Initial global limits (validated).
    constructor(address governance, GlobalLimits memory initialGlobal) {
        if (governance == address(0)) revert InvalidLimit("governance");
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
        _setGlobal(initialGlobal);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Replaces the global limits. GOVERNANCE_ROLE only.
    function setGlobalLimits(GlobalLimits calldata limits) external onlyRole(GOVERNANCE_ROLE) {
        _setGlobal(limits);
    }

    /// @notice Replaces the limits of `underlying`. GOVERNANCE_ROLE only.
    function setUnderlyingLimits(address underlying, UnderlyingLimits calldata limits)
        external
        onlyRole(GOVERNANCE_ROLE)
    {
        if (underlying == address(0)) revert InvalidLimit("underlying");
        _validateUnderlying(limits);
        UnderlyingLimits memory old = _limits[underlying];
        _limits[underlying] = limits;
        emit UnderlyingLimitsSet(underlying, old, limits);
    }

    /// @notice Adds or removes `adapter` from the venue allow-list. GOVERNANCE_ROLE only.
    function setVenueAllowed(address adapter, bool allowed) external onlyRole(GOVERNANCE_ROLE) {
        if (adapter == address(0)) revert InvalidLimit("adapter");
        bool old = venueAllowed[adapter];
        venueAllowed[adapter] = allowed;
        emit VenueAllowedSet(adapter, old, allowed);
    }

    // ------------------------------------------------------------------ views

    /// @notice The global limits in force.
    function globalLimits() external view returns (GlobalLimits memory) {
        return _global;
    }

    /// @notice The limits of `underlying` (reverts if it was never configured).
    function underlyingLimits(address underlying) external view returns (UnderlyingLimits memory lim) {
        lim = _limits[underlying];
        if (lim.band == 0) revert UnknownUnderlying(underlying);
    }

    /// @notice The limits of `underlying`, zeroed if it was never configured (for explorers).
    function rawUnderlyingLimits(address underlying) external view returns (UnderlyingLimits memory) {
        return _limits[underlying];
    }

    // ------------------------------------------------------------------ validation

    function _setGlobal(GlobalLimits memory g) private {
        if (g.maxSlippageBps == 0 || g.maxSlippageBps > MAX_SLIPPAGE_BPS_CAP) revert InvalidLimit("maxSlippageBps");
        if (g.oracleMaxDeviationBps == 0 || g.oracleMaxDeviationBps > MAX_ORACLE_DEVIATION_BPS) {
            revert InvalidLimit("oracleMaxDeviationBps");
        }
        if (g.oracleMaxAge < MIN_ORACLE_MAX_AGE || g.oracleMaxAge > MAX_ORACLE_MAX_AGE) {
            revert InvalidLimit("oracleMaxAge");
        }
        if (g.keeperCooldown > MAX_COOLDOWN) revert InvalidLimit("keeperCooldown");
        if (g.window < MIN_WINDOW || g.window > MAX_WINDOW) revert InvalidLimit("window");
        if (g.approvalExpiry < MIN_APPROVAL_EXPIRY || g.approvalExpiry > MAX_APPROVAL_EXPIRY) {
            revert InvalidLimit("approvalExpiry");
        }
        if (g.greeksCacheMaxAge == 0 || g.greeksCacheMaxAge > MAX_GREEKS_CACHE_AGE) {
            revert InvalidLimit("greeksCacheMaxAge");
        }
        if (g.greeksCacheMaxMoveBps == 0 || g.greeksCacheMaxMoveBps > MAX_GREEKS_CACHE_MOVE_BPS) {
            revert InvalidLimit("greeksCacheMaxMoveBps");
        }
        if (g.turnoverCapPerWindow == 0 || g.turnoverCapPerWindow > MAX_AMOUNT) {
            revert InvalidLimit("turnoverCapPerWindow");
        }
        if (g.tier1Notional == 0 || g.tier1Notional > g.tier2Notional) revert InvalidLimit("tier1Notional");
        if (g.tier2Notional > MAX_AMOUNT) revert InvalidLimit("tier2Notional");
        GlobalLimits memory old = _global;
        _global = g;
        emit GlobalLimitsSet(old, g);
    }

    function _validateUnderlying(UnderlyingLimits calldata lim) private pure {
        if (lim.band == 0 || lim.band > MAX_AMOUNT) revert InvalidLimit("band");
        if (lim.targetDelta > int256(MAX_AMOUNT) || lim.targetDelta < -int256(MAX_AMOUNT)) revert InvalidLimit("targetDelta");
        if (lim.minHedgeRatio == 0 || lim.minHedgeRatio > lim.maxHedgeRatio) revert InvalidLimit("minHedgeRatio");
        if (lim.maxHedgeRatio > MAX_HEDGE_RATIO) revert InvalidLimit("maxHedgeRatio");
        if (lim.maxOptionLegSize > MAX_AMOUNT) revert InvalidLimit("maxOptionLegSize");
        if (lim.maxPerpLegSize > MAX_AMOUNT) revert InvalidLimit("maxPerpLegSize");
        if (lim.maxSpotLegSize > MAX_AMOUNT) revert InvalidLimit("maxSpotLegSize");
        if (lim.maxPerpPosition > MAX_AMOUNT) revert InvalidLimit("maxPerpPosition");
        if (lim.premiumBudgetPerWindow > MAX_AMOUNT) revert InvalidLimit("premiumBudgetPerWindow");
        if (lim.maxOpenSeries > MAX_OPEN_SERIES_CAP) revert InvalidLimit("maxOpenSeries");
    }
}
