// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";

/// @title VolatilitySurface
/// @notice Governed implied-volatility surface for the options AMM. One smile per
/// (underlying, expiry): vol(k) = atmVol + skew * k + curvature * k^2, with log-moneyness
/// k = ln(strike / spot), clamped to [MIN_VOL, MAX_VOL]. Every parameter has hard bounds.
/// @dev All values are WAD (1e18 = 1.0 = 100% annualised vol). Moneyness is taken against spot
/// (not the forward): with the AMM's small governed rate the difference is r * tau, which the
/// skew/curvature parameters absorb.
contract VolatilitySurface is AccessControl {
    bytes32 public constant SURFACE_ADMIN_ROLE = keccak256("SURFACE_ADMIN_ROLE");

    /// @notice Lowest vol the surface ever returns, and lowest settable ATM vol (1%).
    uint256 public constant MIN_VOL = 0.01e18;
    /// @notice Highest vol the surface ever returns, and highest settable ATM vol (500%).
    uint256 public constant MAX_VOL = 5e18;
    /// @notice Bound on |skew| (vol per unit of log-moneyness).
    uint256 public constant MAX_ABS_SKEW = 2e18;
    /// @notice Bound on curvature (vol per unit of squared log-moneyness); curvature is >= 0.
    uint256 public constant MAX_CURVATURE = 5e18;
    /// @notice |k| is clamped to this before the polynomial is evaluated (strike within e^±3 of spot).
    int256 public constant MAX_ABS_MONEYNESS = 3e18;

    /// @notice Smile parameters of one (underlying, expiry), WAD.
    struct Smile {
        uint64 atmVol;
        int64 skew;
        uint64 curvature;
        bool set;
    }

    mapping(address underlying => mapping(uint256 expiry => Smile)) private _smiles;

    /// @notice Emitted on every change, with old and new parameters.
    event SmileSet(
        address indexed underlying,
        uint256 indexed expiry,
        uint256 oldAtmVol,
        int256 oldSkew,
        uint256 oldCurvature,
        uint256 newAtmVol,
        int256 newSkew,
        uint256 newCurvature
    );

    error AtmVolOutOfBounds(uint256 atmVol);
    error SkewOutOfBounds(int256 skew);
    error CurvatureOutOfBounds(uint256 curvature);
    error ZeroAddress();
    error SmileNotSet(address underlying, uint256 expiry);
    error InvalidPrice();

    /// @param admin Receives DEFAULT_ADMIN_ROLE and SURFACE_ADMIN_ROLE.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SURFACE_ADMIN_ROLE, admin);
    }

    /// @notice Sets the smile of (`underlying`, `expiry`). SURFACE_ADMIN_ROLE only.
    /// @param atmVol ATM vol, in [MIN_VOL, MAX_VOL].
    /// @param skew Slope in log-moneyness, |skew| <= MAX_ABS_SKEW.
    /// @param curvature Convexity in log-moneyness, in [0, MAX_CURVATURE].
    function setSmile(address underlying, uint256 expiry, uint256 atmVol, int256 skew, uint256 curvature)
        external
        onlyRole(SURFACE_ADMIN_ROLE)
    {
        if (underlying == address(0)) revert ZeroAddress();
        if (atmVol < MIN_VOL || atmVol > MAX_VOL) revert AtmVolOutOfBounds(atmVol);
        if (skew > int256(MAX_ABS_SKEW) || skew < -int256(MAX_ABS_SKEW)) revert SkewOutOfBounds(skew);
        if (curvature > MAX_CURVATURE) revert CurvatureOutOfBounds(curvature);
        Smile memory old = _smiles[underlying][expiry];
        // Casts are safe: all three are bounded well inside 64 bits above.
        _smiles[underlying][expiry] = Smile(uint64(atmVol), int64(skew), uint64(curvature), true);
        emit SmileSet(underlying, expiry, old.atmVol, old.skew, old.curvature, atmVol, skew, curvature);
    }

    /// @notice The smile parameters of (`underlying`, `expiry`) (all zero and `set == false` if none).
    function smileOf(address underlying, uint256 expiry) external view returns (Smile memory) {
        return _smiles[underlying][expiry];
    }

    /// @notice Whether a smile has been set for (`underlying`, `expiry`).
    function isSet(address underlying, uint256 expiry) external view returns (bool) {
        return _smiles[underlying][expiry].set;
    }

    /// @notice Implied vol for `strike` at `spot` on (`underlying`, `expiry`). Reverts if no smile.
    /// @param strike Strike, WAD USD. @param spot Spot, WAD USD.
    /// @return v Annualised vol, WAD, in [MIN_VOL, MAX_VOL].
    function vol(address underlying, uint256 expiry, uint256 strike, uint256 spot) external view returns (uint256 v) {
        Smile memory s = _smiles[underlying][expiry];
        if (!s.set) revert SmileNotSet(underlying, expiry);
        if (strike == 0 || spot == 0) revert InvalidPrice();
        return volFromSmile(s, strike, spot);
    }

    /// @notice Pure smile evaluation (exposed for tests and off-chain checks).
    function volFromSmile(Smile memory s, uint256 strike, uint256 spot) public pure returns (uint256) {
        if (strike == 0 || spot == 0) revert InvalidPrice();
        uint256 ratio = FixedPointMathLib.fullMulDiv(strike, 1e18, spot);
        // e^-3 ~ 0.0498 and e^3 ~ 20.09: ratios outside [0.04, 21] clamp without calling lnWad
        // (which would revert on 0 and overflow int256 on huge ratios).
        int256 k;
        if (ratio < 0.04e18) {
            k = -MAX_ABS_MONEYNESS;
        } else if (ratio > 21e18) {
            k = MAX_ABS_MONEYNESS;
        } else {
            k = FixedPointMathLib.lnWad(int256(ratio));
            if (k > MAX_ABS_MONEYNESS) k = MAX_ABS_MONEYNESS;
            if (k < -MAX_ABS_MONEYNESS) k = -MAX_ABS_MONEYNESS;
        }
        int256 v = int256(uint256(s.atmVol)) + (int256(s.skew) * k) / 1e18
            + (int256(uint256(s.curvature)) * ((k * k) / 1e18)) / 1e18;
        if (v < int256(MIN_VOL)) return MIN_VOL;
        if (v > int256(MAX_VOL)) return MAX_VOL;
        return uint256(v);
    }
}
