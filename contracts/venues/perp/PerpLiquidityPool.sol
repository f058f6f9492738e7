// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as FPM} from "solady/src/utils/FixedPointMathLib.sol";

/// @title PerpLiquidityPool
/// @notice The liquidity pool side of the perp DEX: the counterparty of every trader. It pays trader
/// profit, receives trader losses, fees and net funding, and absorbs bad debt. Liquidity providers
/// deposit the quote token (USDC) and receive ERC20 shares of this contract.
/// @dev Abstract: the DEX (`PerpDEX`) inherits it so that ONE contract holds every quote token of the
/// venue. Accounting identity, exact at every step:
///     quoteToken.balanceOf(this) * scale == sum(trader margins) + poolBalance
/// where all internal amounts are quote-token WAD (1e18 = 1 USDC) and `scale = 10**(18 - decimals)`.
/// The pool's value (NAV) counts the traders' aggregate unrealised P&L (net of funding owed) against
/// it, so share issuance and redemption are fair whatever the open positions are doing. LP
/// withdrawals may never take the quote tokens needed to back the traders' aggregate unrealised
/// profit plus a governed reserve proportional to the open skew notional.
abstract contract PerpLiquidityPool is ERC20, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role that adds markets, sets market parameters and the pool reserve ratio.
    bytes32 public constant MARKET_ADMIN_ROLE = keccak256("MARKET_ADMIN_ROLE");
    /// @notice Hard upper bound of `reserveRatio` (WAD, of the open skew notional).
    uint256 public constant MAX_RESERVE_RATIO = 0.5e18;

    /// @notice The quote (margin and settlement) token, USDC.
    IERC20 public immutable quoteToken;
    /// @notice 10**(18 - quote decimals): quote token units -> internal WAD.
    uint256 public immutable quoteScale;

    /// @notice Quote tokens owned by the pool (WAD). Signed: an (extreme) loss beyond the pool's
    /// assets shows as a negative balance instead of breaking the accounting identity.
    int256 public poolBalance;
    /// @notice Reserve kept back from LP withdrawals, as a WAD fraction of the sum over markets of
    /// |skew| x index price (the pool's net exposure to the traders).
    uint256 public reserveRatio;

    /// @notice Emitted when a liquidity provider deposits `amount` quote tokens (token units) and receives `shares`.
    event LiquidityDeposited(address indexed provider, uint256 amount, uint256 shares, int256 poolBalanceAfter);
    /// @notice Emitted when a liquidity provider burns `shares` for `amount` quote tokens (token units).
    event LiquidityWithdrawn(address indexed provider, uint256 shares, uint256 amount, int256 poolBalanceAfter);
    /// @notice Emitted when the reserve ratio changes.
    event ReserveRatioChanged(uint256 oldRatio, uint256 newRatio);

    /// @notice An amount or share count of zero (or one that rounds to zero).
    error ZeroAmount();
    /// @notice A required address argument is zero.
    error ZeroAddress();
    /// @notice A governed parameter outside its hard bounds; `field` names it.
    error InvalidParam(bytes32 field);
    /// @notice The pool's value is not positive, so shares cannot be priced.
    error PoolInsolvent(int256 poolValue);
    /// @notice An LP withdrawal above what the pool can release (both WAD).
    error ExceedsWithdrawable(uint256 requested, uint256 available);

    /// @param quoteToken_ The quote token (USDC, 6 decimals; any decimals <= 18 work).
    /// @param admin Receives DEFAULT_ADMIN_ROLE and MARKET_ADMIN_ROLE (the Timelock in production).
    constructor(IERC20 quoteToken_, address admin) ERC20("DeltaVault Perp LP", "dvPLP") {
        if (address(quoteToken_) == address(0) || admin == address(0)) revert ZeroAddress();
        uint8 dec = IERC20Metadata(address(quoteToken_)).decimals();
        if (dec > 18) revert InvalidParam("quoteDecimals");
        quoteToken = quoteToken_;
        quoteScale = 10 ** (18 - dec);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MARKET_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------
    // LP actions
    // ------------------------------------------------------------------------------------------

    /// @notice Deposits `amount` quote tokens (token units) into the pool and mints LP shares at the
    /// current pool value (rounded down). The first deposit mints 1 share per WAD deposited.
    /// @dev Reverts ZeroAmount (amount or resulting shares zero), PoolInsolvent (pool value <= 0
    /// while shares exist), or any oracle error of an open market (the value needs every price).
    /// @return shares LP shares minted to the caller.
    function depositLiquidity(uint256 amount) external nonReentrant returns (uint256 shares) {
        if (amount == 0) revert ZeroAmount();
        uint256 amountWad = amount * quoteScale;
        uint256 supply = totalSupply();
        if (supply == 0) {
            shares = amountWad;
        } else {
            int256 nav = poolValue();
            if (nav <= 0) revert PoolInsolvent(nav);
            shares = FPM.mulDiv(amountWad, supply, uint256(nav));
        }
        if (shares == 0) revert ZeroAmount();
        int256 balanceAfter = poolBalance + int256(amountWad);
        poolBalance = balanceAfter;
        _mint(msg.sender, shares);
        emit LiquidityDeposited(msg.sender, amount, shares, balanceAfter);
        quoteToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Burns `shares` LP shares and pays their value in quote tokens (rounded down to whole
    /// token units; the dust stays with the remaining LPs).
    /// @dev Reverts ZeroAmount, PoolInsolvent, ERC20InsufficientBalance (not enough shares),
    /// ExceedsWithdrawable (would dip into the traders' backing + reserve), or an oracle error.
    /// @return amount Quote tokens (token units) paid to the caller.
    function withdrawLiquidity(uint256 shares) external nonReentrant returns (uint256 amount) {
        if (shares == 0) revert ZeroAmount();
        uint256 supply = totalSupply();
        if (shares > supply) revert ERC20InsufficientBalance(msg.sender, balanceOf(msg.sender), shares);
        (int256 nav, uint256 available) = _poolValueAndWithdrawable();
        if (nav <= 0) revert PoolInsolvent(nav);
        amount = FPM.mulDiv(shares, uint256(nav), supply) / quoteScale;
        if (amount == 0) revert ZeroAmount();
        uint256 amountWad = amount * quoteScale;
        if (amountWad > available) revert ExceedsWithdrawable(amountWad, available);
        _burn(msg.sender, shares);
        int256 balanceAfter = poolBalance - int256(amountWad);
        poolBalance = balanceAfter;
        emit LiquidityWithdrawn(msg.sender, shares, amount, balanceAfter);
        quoteToken.safeTransfer(msg.sender, amount);
    }

    /// @notice Sets the reserve ratio (WAD of open skew notional, at most MAX_RESERVE_RATIO) kept
    /// back from LP withdrawals. MARKET_ADMIN_ROLE only.
    function setReserveRatio(uint256 newRatio) external onlyRole(MARKET_ADMIN_ROLE) {
        if (newRatio > MAX_RESERVE_RATIO) revert InvalidParam("reserveRatio");
        emit ReserveRatioChanged(reserveRatio, newRatio);
        reserveRatio = newRatio;
    }

    // ------------------------------------------------------------------------------------------
    // Pool views
    // ------------------------------------------------------------------------------------------

    /// @notice Pool value (WAD): pool balance minus the traders' aggregate unrealised P&L net of
    /// funding owed, over all markets, at current index prices.
    function poolValue() public view returns (int256 nav) {
        (int256 traderPnl,,) = _exposure();
        nav = poolBalance - traderPnl;
    }

    /// @notice Value of one LP share in quote WAD (1e18 = 1 USDC per share); 1e18 with no shares, 0
    /// when the pool value is not positive.
    function sharePrice() external view returns (uint256) {
        uint256 supply = totalSupply();
        if (supply == 0) return 1e18;
        int256 nav = poolValue();
        return nav <= 0 ? 0 : FPM.mulDiv(uint256(nav), 1e18, supply);
    }

    /// @notice Quote WAD the pool must keep: traders' aggregate unrealised profit (per market,
    /// losses not netted across markets) plus `reserveRatio` x open skew notional.
    function requiredBacking() public view returns (uint256) {
        (, uint256 profit, uint256 skewNotional) = _exposure();
        return profit + FPM.mulWad(skewNotional, reserveRatio);
    }

    /// @notice Quote WAD that LPs may withdraw now: pool balance above `requiredBacking`.
    function withdrawableLiquidity() external view returns (uint256 available) {
        (, available) = _poolValueAndWithdrawable();
    }

    function _poolValueAndWithdrawable() internal view returns (int256 nav, uint256 available) {
        (int256 traderPnl, uint256 profit, uint256 skewNotional) = _exposure();
        int256 bal = poolBalance;
        nav = bal - traderPnl;
        int256 free = bal - int256(profit + FPM.mulWad(skewNotional, reserveRatio));
        available = free > 0 ? uint256(free) : 0;
    }

    /// @dev Aggregate trader exposure over all markets, at current index prices (WAD):
    /// `traderPnl` signed net unrealised P&L minus funding owed; `traderProfit` sum of the positive
    /// per-market values; `skewNotional` sum of |skew| x index price.
    function _exposure() internal view virtual returns (int256 traderPnl, uint256 traderProfit, uint256 skewNotional);
}
