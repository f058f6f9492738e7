// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IOracleRouter} from "../../interfaces/IOracleRouter.sol";

/// @notice What the pool needs from the AMM: the mark-to-market of the pool's option book.
interface IOptionsBook {
    /// @notice Signed value (WAD USD) of the pool's positions in every unsettled series
    /// (positive when the pool is net long options).
    function poolBookValue() external view returns (int256);
}

/// @title OptionsPool
/// @notice USDC liquidity pool that is the counterparty of every options AMM trade. LPs hold
/// ERC20 shares of the pool NAV = USDC cash + underlying inventory (at the oracle) + the
/// mark-to-market of the pool's option book. Every option the pool is short is fully backed by
/// USDC `locked` here (strike per put, cap per capped call); withdrawals can only take free
/// liquidity: after a withdrawal `cash >= locked * (1 + reserveBps)`.
/// @dev Cash is tracked internally (donations are ignored, which also defeats share-inflation
/// attacks). Underlying inventory (WETH/WBTC received when call sellers settle with underlying
/// collateral) is paid out pro-rata in kind on withdrawal. Amounts are in token units unless
/// noted; NAV and book values are WAD USD.
contract OptionsPool is ERC20, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant POOL_ADMIN_ROLE = keccak256("POOL_ADMIN_ROLE");
    /// @notice Upper bound of the governed withdrawal reserve (50% of locked collateral).
    uint16 public constant MAX_RESERVE_BPS = 5_000;
    /// @notice Bound on the number of inventory tokens (the AMM lists at most this many underlyings).
    uint256 public constant MAX_INVENTORY_TOKENS = 8;

    IERC20 public immutable usdc;
    IOracleRouter public immutable router;
    /// @notice 10^(18 - usdc decimals): multiply USDC units by this to get WAD.
    uint256 public immutable usdcScale;

    /// @notice The AMM allowed to move pool funds (set once).
    address public amm;
    /// @notice USDC held for LPs (token units), including locked collateral.
    uint128 public cash;
    /// @notice USDC (token units) backing the options the pool is short (packed with `cash`).
    uint128 public locked;
    /// @notice Extra share of `locked` that withdrawals must leave in the pool, in bps.
    uint16 public reserveBps;

    /// @notice Underlying tokens held as inventory, and their amounts (token units).
    address[] private _inventoryTokens;
    mapping(address token => uint256) public inventory;
    mapping(address token => uint256) private _unitScale; // 10^decimals

    event AmmSet(address indexed amm);
    event ReserveBpsSet(uint16 oldBps, uint16 newBps);
    event Deposited(
        address indexed sender, address indexed receiver, uint256 usdcAmount, uint256 shares, uint256 navBefore
    );
    event Withdrawn(
        address indexed owner,
        address indexed receiver,
        uint256 shares,
        uint256 usdcAmount,
        address[] tokens,
        uint256[] tokenAmounts,
        uint256 navBefore
    );
    /// @notice Every AMM movement: cash delta (+ in, - out), lock delta, resulting cash and locked.
    event TradeFlow(int256 cashDelta, int256 lockDelta, address indexed payTo, uint256 cash, uint256 locked);
    event InventoryReceived(address indexed token, uint256 amount, uint256 inventory);

    error ZeroAddress();
    error ZeroAmount();
    error AmmAlreadySet();
    error NotAmm(address caller);
    error ReserveTooHigh(uint16 bps);
    error InsufficientLiquidity(uint256 cash, uint256 locked);
    error WithdrawalExceedsFreeLiquidity(uint256 usdcOut, uint256 free);
    error SlippageExceeded(uint256 amount, uint256 bound);
    error EmptyPool();
    error TooManyInventoryTokens();

    /// @param usdc_ Quote token (USDC, <= 18 decimals).
    /// @param router_ Oracle router used to value underlying inventory.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and POOL_ADMIN_ROLE.
    constructor(IERC20 usdc_, IOracleRouter router_, address admin) ERC20("DeltaVault Options LP", "dvOLP") {
        if (address(usdc_) == address(0) || address(router_) == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        usdc = usdc_;
        router = router_;
        usdcScale = 10 ** (18 - IERC20Metadata(address(usdc_)).decimals());
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POOL_ADMIN_ROLE, admin);
    }

    modifier onlyAmm() {
        if (msg.sender != amm) revert NotAmm(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Binds the pool to its AMM, once. POOL_ADMIN_ROLE only.
    function setAmm(address amm_) external onlyRole(POOL_ADMIN_ROLE) {
        if (amm_ == address(0)) revert ZeroAddress();
        if (amm != address(0)) revert AmmAlreadySet();
        amm = amm_;
        emit AmmSet(amm_);
    }

    /// @notice Sets the withdrawal reserve (share of locked collateral withdrawals must leave).
    function setReserveBps(uint16 bps) external onlyRole(POOL_ADMIN_ROLE) {
        if (bps > MAX_RESERVE_BPS) revert ReserveTooHigh(bps);
        emit ReserveBpsSet(reserveBps, bps);
        reserveBps = bps;
    }

    // ------------------------------------------------------------------ LPs

    /// @notice Deposits `amount` USDC (token units) and mints shares at the current NAV.
    /// @param minShares Slippage bound: revert if fewer shares would be minted.
    /// @return shares Shares minted to `receiver`.
    function deposit(uint256 amount, uint256 minShares, address receiver)
        external
        nonReentrant
        returns (uint256 shares)
    {
        if (amount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        uint256 supply = totalSupply();
        uint256 navBefore = nav();
        uint256 assetsWad = amount * usdcScale;
        if (supply == 0) {
            shares = assetsWad;
        } else {
            if (navBefore == 0) revert EmptyPool();
            shares = FixedPointMathLib.fullMulDiv(assetsWad, supply, navBefore);
        }
        if (shares == 0 || shares < minShares) revert SlippageExceeded(shares, minShares);
        cash = SafeCast.toUint128(cash + amount);
        _mint(receiver, shares);
        emit Deposited(msg.sender, receiver, amount, shares, navBefore);
        usdc.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Burns `shares` and pays their pro-rata NAV: underlying inventory in kind, the rest
    /// (cash + option book value) in USDC. Reverts if the USDC part would dig into locked
    /// collateral or the reserve.
    /// @param minUsdc Slippage bound on the USDC paid.
    /// @return usdcOut USDC paid (token units).
    /// @return tokens Inventory tokens paid. @return amounts Their amounts (token units).
    function withdraw(uint256 shares, uint256 minUsdc, address receiver)
        external
        nonReentrant
        returns (uint256 usdcOut, address[] memory tokens, uint256[] memory amounts)
    {
        if (shares == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        uint256 supply = totalSupply();
        uint256 navBefore = nav();
        usdcOut = _usdcShare(shares, supply);
        uint256 free = freeLiquidity();
        if (usdcOut > free) revert WithdrawalExceedsFreeLiquidity(usdcOut, free);
        if (usdcOut < minUsdc) revert SlippageExceeded(usdcOut, minUsdc);
        (tokens, amounts) = _takeInventory(shares, supply);
        cash -= uint128(usdcOut); // usdcOut <= free liquidity <= cash
        _burn(msg.sender, shares);
        emit Withdrawn(msg.sender, receiver, shares, usdcOut, tokens, amounts, navBefore);

        if (usdcOut > 0) usdc.safeTransfer(receiver, usdcOut);
        for (uint256 i; i < tokens.length; ++i) {
            if (amounts[i] > 0) IERC20(tokens[i]).safeTransfer(receiver, amounts[i]);
        }
    }

    /// @dev USDC (token units, rounded down) owed for `shares`: their share of cash + book value.
    function _usdcShare(uint256 shares, uint256 supply) internal view returns (uint256) {
        int256 cashAndBook = int256(cash * usdcScale) + _bookValue();
        if (cashAndBook <= 0) return 0;
        return FixedPointMathLib.fullMulDiv(uint256(cashAndBook), shares, supply) / usdcScale;
    }

    /// @dev Removes the pro-rata inventory of `shares` (rounded down) from the books.
    function _takeInventory(uint256 shares, uint256 supply)
        internal
        returns (address[] memory tokens, uint256[] memory amounts)
    {
        uint256 n = _inventoryTokens.length;
        tokens = new address[](n);
        amounts = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            address t = _inventoryTokens[i];
            tokens[i] = t;
            uint256 a = FixedPointMathLib.fullMulDiv(inventory[t], shares, supply);
            amounts[i] = a;
            inventory[t] -= a;
        }
    }

    // ------------------------------------------------------------------ AMM hooks

    /// @notice Books one AMM cash movement. AMM only.
    /// @param cashDelta > 0: the AMM already transferred that much USDC here; < 0: the pool pays
    /// |cashDelta| to `payTo`.
    /// @param lockDelta Change of locked collateral (token units).
    /// @dev Reverts unless `cash >= locked` afterwards (every short option stays fully backed).
    function onTrade(int256 cashDelta, int256 lockDelta, address payTo) external onlyAmm nonReentrant {
        uint256 newCash = cash;
        uint256 newLocked = locked;
        if (cashDelta >= 0) {
            newCash += uint256(cashDelta);
        } else {
            uint256 out = uint256(-cashDelta);
            if (out > newCash) revert InsufficientLiquidity(newCash, newLocked);
            newCash -= out;
        }
        if (lockDelta >= 0) newLocked += uint256(lockDelta);
        else newLocked -= uint256(-lockDelta);
        if (newCash < newLocked) revert InsufficientLiquidity(newCash, newLocked);
        cash = SafeCast.toUint128(newCash); // newLocked <= newCash
        locked = uint128(newLocked);
        emit TradeFlow(cashDelta, lockDelta, payTo, newCash, newLocked);
        if (cashDelta < 0) usdc.safeTransfer(payTo, uint256(-cashDelta));
    }

    /// @notice Books underlying received from settled short calls. AMM only (tokens already sent).
    function onUnderlyingReceived(address token, uint256 amount) external onlyAmm nonReentrant {
        if (_unitScale[token] == 0) {
            if (_inventoryTokens.length >= MAX_INVENTORY_TOKENS) revert TooManyInventoryTokens();
            _unitScale[token] = 10 ** IERC20Metadata(token).decimals();
            _inventoryTokens.push(token);
        }
        uint256 inv = inventory[token] + amount;
        inventory[token] = inv;
        emit InventoryReceived(token, amount, inv);
    }

    // ------------------------------------------------------------------ views

    /// @notice Pool NAV, WAD USD: cash + inventory at the oracle + option book (never negative:
    /// the book's short side is worth at most the locked collateral).
    function nav() public view returns (uint256) {
        int256 v = int256(cash * usdcScale) + _bookValue();
        uint256 n = _inventoryTokens.length;
        for (uint256 i; i < n; ++i) {
            address t = _inventoryTokens[i];
            uint256 inv = inventory[t];
            if (inv == 0) continue;
            (uint256 px,) = router.price(t);
            v += int256(FixedPointMathLib.fullMulDiv(inv, px, _unitScale[t]));
        }
        return v > 0 ? uint256(v) : 0;
    }

    /// @notice USDC (token units) withdrawals may take: cash - locked - reserve (0 if negative).
    function freeLiquidity() public view returns (uint256) {
        uint256 need = locked + FixedPointMathLib.mulDivUp(locked, reserveBps, 10_000);
        return cash > need ? cash - need : 0;
    }

    /// @notice USDC (token units) the AMM may still lock or pay out: cash - locked.
    function availableForTrading() external view returns (uint256) {
        return cash > locked ? cash - locked : 0;
    }

    /// @notice Underlying tokens the pool has ever held as inventory (bounded).
    function inventoryTokens() external view returns (address[] memory) {
        return _inventoryTokens;
    }

    /// @notice NAV per share, WAD (1e18 before the first deposit).
    function sharePrice() external view returns (uint256) {
        uint256 supply = totalSupply();
        if (supply == 0) return 1e18;
        return FixedPointMathLib.fullMulDiv(nav(), 1e18, supply);
    }

    function _bookValue() internal view returns (int256) {
        address a = amm;
        return a == address(0) ? int256(0) : IOptionsBook(a).poolBookValue();
    }
}
