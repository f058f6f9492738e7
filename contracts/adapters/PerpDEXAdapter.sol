// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IPerpVenueAdapter} from "../interfaces/IPerpVenueAdapter.sol";
import {IVenueAdapter, LegResult} from "../interfaces/IVenueAdapter.sol";
import {PerpDEX} from "../venues/perp/PerpDEX.sol";
import {DelegateOnly} from "./DelegateOnly.sol";

/// @title PerpDEXAdapter
/// @notice Vault-facing adapter of the reference perpetual DEX. State-changing functions run by
/// DELEGATECALL from the vault, which is the DEX account; the margin allowance is exact per deposit.
contract PerpDEXAdapter is IPerpVenueAdapter, DelegateOnly {
    using SafeERC20 for IERC20;

    PerpDEX public immutable dex;
    IERC20 public immutable quoteToken;

    /// @param dex_ The perpetual DEX.
    constructor(PerpDEX dex_) {
        dex = dex_;
        quoteToken = dex_.quoteToken();
    }

    /// @inheritdoc IVenueAdapter
    function kind() external pure returns (Kind) {
        return Kind.Perp;
    }

    /// @inheritdoc IVenueAdapter
    function venue() external view returns (address) {
        return address(dex);
    }

    /// @inheritdoc IPerpVenueAdapter
    function trade(address underlying, int256 sizeDelta, uint256 acceptablePrice, uint256 deadline)
        external
        onlyDelegateCall
        returns (LegResult memory r)
    {
        PerpDEX.TradeReceipt memory t = dex.modifyPosition(underlying, sizeDelta, acceptablePrice, deadline);
        uint256 abs = sizeDelta > 0 ? uint256(sizeDelta) : uint256(-sizeDelta);
        r.underlying = underlying;
        r.deltaChange = sizeDelta;
        r.positionBefore = t.sizeBefore;
        r.positionAfter = t.sizeAfter;
        r.size = abs;
        r.notionalUsd = abs * t.indexPrice / 1e18;
        r.executionPrice = t.fillPrice;
        r.oraclePrice = t.indexPrice;
        r.fee = t.fee;
        // Fees come out of margin, not the vault's cash: the cash flow of a perp trade is zero.
    }

    /// @inheritdoc IPerpVenueAdapter
    function depositMargin(address underlying, uint256 amount) external onlyDelegateCall {
        quoteToken.forceApprove(address(dex), amount);
        dex.depositMargin(underlying, amount);
    }

    /// @inheritdoc IPerpVenueAdapter
    function withdrawMargin(address underlying, uint256 amount) external onlyDelegateCall {
        dex.withdrawMargin(underlying, amount);
    }

    /// @inheritdoc IPerpVenueAdapter
    function positionSize(address account, address underlying) external view returns (int256 size) {
        (size,,,) = dex.positions(account, underlying);
    }

    /// @inheritdoc IPerpVenueAdapter
    function position(address account, address underlying)
        external
        view
        returns (int256 size, int256 equityUsd, uint256 maintenanceMarginUsd)
    {
        PerpDEX.PositionView memory v = dex.position(account, underlying);
        return (v.size, v.size == 0 ? int256(v.margin) : v.remainingMargin, v.size == 0 ? 0 : v.maintenanceMargin);
    }
}
