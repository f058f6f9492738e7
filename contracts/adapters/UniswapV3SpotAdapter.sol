// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {ISpotVenueAdapter} from "../interfaces/ISpotVenueAdapter.sol";
import {IVenueAdapter, LegResult} from "../interfaces/IVenueAdapter.sol";
import {DelegateOnly} from "./DelegateOnly.sol";

/// @notice The part of Uniswap V3's SwapRouter this adapter calls.
interface IUniswapV3SwapRouter {
    struct ExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address recipient;
        uint256 deadline;
        uint256 amountIn;
        uint256 amountOutMinimum;
        uint160 sqrtPriceLimitX96;
    }

    function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 amountOut);
}

/// @title UniswapV3SpotAdapter
/// @notice Spot legs on Uniswap V3: one-hop exact-input swaps between an underlying and the quote
/// token through the published SwapRouter, in the pool of the fee tier fixed at deployment.
/// @dev Runs by DELEGATECALL from the vault: the vault approves the router and receives the output.
contract UniswapV3SpotAdapter is ISpotVenueAdapter, DelegateOnly {
    using SafeERC20 for IERC20;

    IUniswapV3SwapRouter public immutable router;
    IOracleRouter public immutable oracle;
    address public immutable quoteToken;
    uint24 public immutable poolFee;
    uint8 private immutable _quoteDecimals;

    error NotQuotePair(address tokenIn, address tokenOut);
    error ZeroAmount();

    /// @param router_ Uniswap V3 SwapRouter.
    /// @param oracle_ Oracle router used to value the leg.
    /// @param quoteToken_ The vault's quote token (USDC).
    /// @param poolFee_ Fee tier of the pools traded (e.g. 500 = 0.05%).
    constructor(address router_, address oracle_, address quoteToken_, uint24 poolFee_) {
        router = IUniswapV3SwapRouter(router_);
        oracle = IOracleRouter(oracle_);
        quoteToken = quoteToken_;
        poolFee = poolFee_;
        _quoteDecimals = IERC20Metadata(quoteToken_).decimals();
    }

    /// @inheritdoc IVenueAdapter
    function kind() external pure returns (Kind) {
        return Kind.Spot;
    }

    /// @inheritdoc IVenueAdapter
    function venue() external view returns (address) {
        return address(router);
    }

    /// @inheritdoc ISpotVenueAdapter
    function swap(address tokenIn, address tokenOut, uint256 amountIn, uint256 minAmountOut, uint256 deadline)
        external
        onlyDelegateCall
        returns (LegResult memory r)
    {
        if (amountIn == 0) revert ZeroAmount();
        bool sellingUnderlying = tokenOut == quoteToken;
        if (sellingUnderlying == (tokenIn == quoteToken)) revert NotQuotePair(tokenIn, tokenOut);
        address underlying = sellingUnderlying ? tokenIn : tokenOut;
        (uint256 px,) = oracle.price(underlying);
        uint8 underlyingDecimals = IERC20Metadata(underlying).decimals();
        // In the vault's context: its spot position is its own token balance.
        r.positionBefore = int256(_toWad(IERC20(underlying).balanceOf(address(this)), underlyingDecimals));

        IERC20(tokenIn).forceApprove(address(router), amountIn);
        uint256 amountOut = router.exactInputSingle(
            IUniswapV3SwapRouter.ExactInputSingleParams({
                tokenIn: tokenIn,
                tokenOut: tokenOut,
                fee: poolFee,
                recipient: address(this),
                deadline: deadline,
                amountIn: amountIn,
                amountOutMinimum: minAmountOut,
                sqrtPriceLimitX96: 0
            })
        );

        r.positionAfter = int256(_toWad(IERC20(underlying).balanceOf(address(this)), underlyingDecimals));
        uint256 baseWad = _toWad(sellingUnderlying ? amountIn : amountOut, underlyingDecimals);
        uint256 quoteWad = _toWad(sellingUnderlying ? amountOut : amountIn, _quoteDecimals);
        r.underlying = underlying;
        r.size = baseWad;
        r.deltaChange = sellingUnderlying ? -int256(baseWad) : int256(baseWad);
        r.oraclePrice = px;
        r.notionalUsd = baseWad * px / 1e18;
        r.executionPrice = baseWad == 0 ? 0 : quoteWad * 1e18 / baseWad;
        // The pool fee is charged on the input amount.
        r.fee = (sellingUnderlying ? r.notionalUsd : quoteWad) * poolFee / 1e6;
        r.cashFlow = sellingUnderlying ? int256(quoteWad) : -int256(quoteWad);
    }

    function _toWad(uint256 amount, uint8 dec) private pure returns (uint256) {
        return dec <= 18 ? amount * 10 ** (18 - dec) : amount / 10 ** (dec - 18);
    }
}
