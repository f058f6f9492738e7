// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "./Vm.sol";

/// @notice Small replacement for forge-std's Test: cheatcodes, assertions with readable
/// messages, `bound`, and the invariant target registry EDR reads.
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    address[] private _excludeContracts;
    address[] private _targetSenders;
    FuzzSelector[] private _targetSelectors;

    // ----- invariant target registry (names and ABI match what the fuzzer queries) -----

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function excludeContract(address target) internal {
        _excludeContracts.push(target);
    }

    function targetSender(address sender) internal {
        _targetSenders.push(sender);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetSelectors.push(selector);
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function excludeContracts() public view returns (address[] memory) {
        return _excludeContracts;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetSenders;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    // ----- helpers -----

    /// @dev Maps any x into [lo, hi] without rejecting inputs (keeps fuzz runs productive).
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(lo <= hi, "bound: lo > hi");
        if (x >= lo && x <= hi) return x;
        uint256 size = hi - lo + 1;
        if (size == 0) return x; // full range
        return lo + (x % size);
    }

    function boundInt(int256 x, int256 lo, int256 hi) internal pure returns (int256) {
        require(lo <= hi, "bound: lo > hi");
        uint256 size = uint256(hi - lo) + 1;
        uint256 off = uint256(x) % size;
        return lo + int256(off);
    }

    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool c, string memory message) internal pure {
        if (!c) revert(message);
    }

    function assertFalse(bool c, string memory message) internal pure {
        if (c) revert(message);
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) revert(string.concat(message, ": ", _u(a), " != ", _u(b)));
    }

    function assertEq(int256 a, int256 b, string memory message) internal pure {
        if (a != b) revert(string.concat(message, ": ", _i(a), " != ", _i(b)));
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) revert(message);
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a != b) revert(message);
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        if (a != b) revert(message);
    }

    function assertLe(uint256 a, uint256 b, string memory message) internal pure {
        if (a > b) revert(string.concat(message, ": ", _u(a), " > ", _u(b)));
    }

    function assertGe(uint256 a, uint256 b, string memory message) internal pure {
        if (a < b) revert(string.concat(message, ": ", _u(a), " < ", _u(b)));
    }

    function assertLt(uint256 a, uint256 b, string memory message) internal pure {
        if (a >= b) revert(string.concat(message, ": ", _u(a), " >= ", _u(b)));
    }

    function assertGt(uint256 a, uint256 b, string memory message) internal pure {
        if (a <= b) revert(string.concat(message, ": ", _u(a), " <= ", _u(b)));
    }

    function assertLe(int256 a, int256 b, string memory message) internal pure {
        if (a > b) revert(string.concat(message, ": ", _i(a), " > ", _i(b)));
    }

    function assertGe(int256 a, int256 b, string memory message) internal pure {
        if (a < b) revert(string.concat(message, ": ", _i(a), " < ", _i(b)));
    }

    /// @dev |a - b| <= maxDelta
    function assertApproxEqAbs(uint256 a, uint256 b, uint256 maxDelta, string memory message) internal pure {
        uint256 d = a > b ? a - b : b - a;
        if (d > maxDelta) revert(string.concat(message, ": |", _u(a), " - ", _u(b), "| > ", _u(maxDelta)));
    }

    function assertApproxEqAbs(int256 a, int256 b, uint256 maxDelta, string memory message) internal pure {
        uint256 d = a > b ? uint256(a - b) : uint256(b - a);
        if (d > maxDelta) revert(string.concat(message, ": |", _i(a), " - ", _i(b), "| > ", _u(maxDelta)));
    }

    /// @dev |a - b| / b <= maxRel (1e18 = 100%)
    function assertApproxEqRel(uint256 a, uint256 b, uint256 maxRel, string memory message) internal pure {
        if (b == 0) return assertEq(a, b, message);
        uint256 d = a > b ? a - b : b - a;
        if (d * 1e18 / b > maxRel) revert(string.concat(message, ": rel err too big ", _u(a), " vs ", _u(b)));
    }

    function _u(uint256 v) private pure returns (string memory) {
        return vm.toString(v);
    }

    function _i(int256 v) private pure returns (string memory) {
        return vm.toString(v);
    }
}
