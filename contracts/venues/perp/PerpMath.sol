// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title PerpMath
/// @notice Signed WAD helpers with explicit rounding direction, used by the perp DEX so that every
/// rounding goes in the protocol's favour (trader P&L rounded down, funding owed rounded up).
/// @dev Solady's `sMulWad` rounds toward zero; perps need floor/ceil on signed values.
library PerpMath {
    int256 internal constant WAD = 1e18;

    /// @notice floor(a * b / 1e18) for signed operands.
    function mulWadDown(int256 a, int256 b) internal pure returns (int256 z) {
        int256 p = a * b;
        z = p / WAD;
        if (p < 0 && p % WAD != 0) z -= 1;
    }

    /// @notice ceil(a * b / 1e18) for signed operands.
    function mulWadUp(int256 a, int256 b) internal pure returns (int256 z) {
        int256 p = a * b;
        z = p / WAD;
        if (p > 0 && p % WAD != 0) z += 1;
    }

    /// @notice |x| as uint256.
    function abs(int256 x) internal pure returns (uint256) {
        return uint256(x >= 0 ? x : -x);
    }

    /// @notice max(x, 0) as uint256.
    function pos(int256 x) internal pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }
}
