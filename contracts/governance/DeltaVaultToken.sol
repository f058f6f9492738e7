// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title DeltaVaultToken
/// @notice The DAO's governance token: a fixed supply minted once to an initial holder, with
/// ERC20Votes checkpoints (holders must delegate, to themselves or to someone else, for their
/// balance to count as votes) and ERC20Permit (gasless approvals and delegation by signature).
/// @dev Clock: timestamps (EIP-6372 `mode=timestamp`), not block numbers. Voting delay and period
/// are then seconds on every chain, including L2s whose block times differ or whose `block.number`
/// tracks L1; the Governor reads the clock from this token.
contract DeltaVaultToken is ERC20, ERC20Permit, ERC20Votes {
    error ZeroHolder();
    error ZeroSupply();

    /// @param name_ Token name (also the EIP-712 domain name used by permit and delegateBySig).
    /// @param symbol_ Token symbol.
    /// @param supply Whole fixed supply, in token units (18 decimals); minted once.
    /// @param initialHolder Receives the whole supply.
    constructor(string memory name_, string memory symbol_, uint256 supply, address initialHolder)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
    {
        if (initialHolder == address(0)) revert ZeroHolder();
        if (supply == 0) revert ZeroSupply();
        _mint(initialHolder, supply);
    }

    /// @notice The current timepoint of the vote checkpoints: the block timestamp.
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice EIP-6372 description of the clock.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice Permit and vote-delegation nonce of `owner` (shared by ERC20Permit and ERC20Votes).
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
