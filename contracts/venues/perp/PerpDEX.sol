// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {FixedPointMathLib as FPM} from "solady/src/utils/FixedPointMathLib.sol";
import {SafeCastLib} from "solady/src/utils/SafeCastLib.sol";
import {IOracleRouter} from "../../interfaces/IOracleRouter.sol";
import {PerpLiquidityPool} from "./PerpLiquidityPool.sol";
import {PerpMath} from "./PerpMath.sol";

/// @title PerpDEX
/// @notice Reference perpetual-swap venue: oracle-priced perps (WETH, WBTC, ...) margined in USDC,
/// with a skew premium, continuous skew-proportional funding, maker/taker fees by skew direction,
/// max leverage, maintenance margin, permissionless liquidation with a fee, per-side open-interest
/// caps, and a slippage bound plus deadline on every order. The LP pool (inherited) is the
/// counterparty of every trader.
/// @dev Conventions (all internal values WAD):
/// - sizes in underlying units (1e18 = 1 WETH / 1 WBTC), signed, + long;
/// - prices in USD per whole underlying unit (the oracle router's `priceWad`), USD == USDC;
/// - margin, P&L, fees, funding in quote WAD (1e18 = 1 USDC); transfers convert to token units
///   (6 decimals for USDC), rounding in the protocol's favour.
/// Pricing (Synthetix-v2 style): fill = index x (1 + (skew + sizeDelta / 2) / skewScale), i.e. the
/// average premium across the order; buys round up, sells round down. Opening and then closing the
/// same size at the same index and time therefore fills at the same price (P&L <= 0 after rounding).
/// Fees: makerFeeBps on the part of the order that reduces |skew|, takerFeeBps on the part that
/// increases it, times the fill notional; rounded up.
/// Funding: rate/day = clamp(skew / skewScale, -1, 1) x maxFundingRatePerDay (positive: longs pay
/// shorts). A cumulative index per unit of size (quote WAD) accrues `rate x elapsed / 1 day x index
/// price` lazily on every touch of the market. A position owes size x (index - its last index),
/// rounded up, settled into its margin whenever the position changes. Funding flows against the
/// pool (the pool receives what the larger side pays beyond what the smaller side earns).
/// Aggregates are O(1): long/short open interest and `netEntry = sum(size x (entry - lastIndex))`,
/// so the traders' net unrealised P&L of a market is skew x (price - index) - netEntry.
/// Liquidation and margin checks value positions at the index price (no premium).
contract PerpDEX is PerpLiquidityPool {
    using SafeERC20 for IERC20;
    using SafeCastLib for uint256;
    using SafeCastLib for int256;
    using PerpMath for int256;

    /// @notice Governed parameters of one market. Units in brackets.
    struct MarketParams {
        uint128 skewScale; // skew at which the premium is 100% and funding saturates [underlying WAD]
        uint128 maxOpenInterest; // cap per side (longs, shorts) [underlying WAD]
        uint64 maxFundingRatePerDay; // funding rate at |skew| >= skewScale [WAD per day]
        uint64 maintenanceMarginRatio; // maintenance margin / notional [WAD]
        uint64 liquidationFeeRatio; // liquidator fee / notional [WAD]
        uint16 makerFeeBps; // fee on the skew-reducing part of an order [bps of notional]
        uint16 takerFeeBps; // fee on the skew-increasing part of an order [bps of notional]
        bool paused; // when true only risk-reducing trades, margin moves and liquidations run
        uint96 maxLeverage; // max notional / equity after a risk-increasing trade [WAD]
        uint128 minLiquidationFee; // floor of the liquidator fee [quote WAD]
    }

    /// @dev Mutable state of one market (2 slots). int128 is ample: |netEntry| <= OI x price, and
    /// OI <= skewScale <= 1e10 units, so even at 1e5 USD it stays below 1e33 (SafeCast on writes).
    struct MarketState {
        uint96 longOpenInterest; // sum of long sizes [underlying WAD]
        uint96 shortOpenInterest; // sum of |short sizes| [underlying WAD]
        uint64 lastFundingTime; // timestamp of the last funding accrual
        int128 fundingIndex; // cumulative funding per unit of size [quote WAD]
        int128 netEntry; // sum over positions of size x (entryPrice - lastFundingIndex) [quote WAD]
    }

    struct Market {
        MarketParams params;
        MarketState state;
    }

    /// @notice One isolated position per (account, underlying) (2 slots).
    struct Position {
        int128 size; // [underlying WAD], + long
        uint128 margin; // [quote WAD]
        uint128 entryPrice; // average fill price; 0 when flat [USD WAD]
        int128 lastFundingIndex; // market funding index when funding was last settled [quote WAD]
    }

    /// @notice What `position` reports (all WAD).
    struct PositionView {
        int256 size; // + long [underlying]
        uint256 entryPrice; // [USD]
        uint256 margin; // deposited margin after settlements [quote]
        int256 accruedFunding; // funding owed since the last settlement, + owed [quote]
        int256 unrealizedPnl; // size x (index - entry) [quote]
        uint256 liquidationPrice; // index price at which the position becomes liquidatable; 0 if none/flat [USD]
        uint256 notional; // |size| x index [quote]
        uint256 leverage; // notional / remaining margin; type(uint256).max when remaining margin <= 0 [WAD]
        int256 remainingMargin; // margin + unrealizedPnl - accruedFunding [quote]
        uint256 maintenanceMargin; // notional x maintenanceMarginRatio + liquidation fee [quote]
    }

    /// @notice What `marketState` reports (all WAD).
    struct MarketView {
        int256 skew; // long OI - short OI [underlying]
        uint256 longOpenInterest; // [underlying]
        uint256 shortOpenInterest; // [underlying]
        int256 fundingRatePerDay; // current rate, + longs pay [WAD per day]
        int256 fundingIndex; // cumulative index including the not yet stored accrual [quote per unit]
        uint256 indexPrice; // oracle price [USD]
        int256 traderNetPnl; // traders' unrealised P&L net of funding owed [quote]
    }

    /// @notice What a trade did, returned to integrators (the vault's adapter). All WAD.
    struct TradeReceipt {
        uint256 fillPrice; // [USD]
        uint256 indexPrice; // [USD]
        uint256 fee; // [quote]
        int256 sizeBefore; // [underlying]
        int256 sizeAfter; // [underlying]
    }

    /// @dev Working values of one trade (memory, avoids stack-too-deep without viaIR).
    struct Trade {
        uint256 indexPrice;
        uint256 fillPrice;
        uint256 fee;
        int256 sizeBefore;
        int256 sizeAfter;
        int256 fundingOwed;
        int256 realizedPnl;
        uint256 entryAfter;
        int256 marginAfter;
        bool increasesRisk;
    }

    /// @notice Hard bounds of market parameters (setMarketParams reverts outside them).
    uint256 public constant MAX_MARKETS = 16;
    uint256 public constant MIN_SKEW_SCALE = 1e18;
    uint256 public constant MAX_SKEW_SCALE = 1e28;
    uint256 public constant MAX_FUNDING_RATE_PER_DAY = 0.1e18;
    uint256 public constant MAX_FEE_BPS = 100;
    uint256 public constant MAX_LEVERAGE = 100e18;
    uint256 public constant MIN_MAINTENANCE_MARGIN_RATIO = 0.001e18;
    uint256 public constant MAX_MAINTENANCE_MARGIN_RATIO = 0.5e18;
    uint256 public constant MAX_LIQUIDATION_FEE_RATIO = 0.05e18;
    uint256 public constant MAX_MIN_LIQUIDATION_FEE = 1_000e18;

    uint256 private constant WAD = 1e18;
    uint256 private constant BPS = 10_000;

    /// @notice Price source of every market.
    IOracleRouter public immutable oracle;

    mapping(address underlying => Market) private _markets;
    address[] private _marketList;
    /// @notice Raw stored position of `account` in `underlying` (no settlement applied).
    mapping(address account => mapping(address underlying => Position)) public positions;

    /// @notice A market was listed.
    event MarketAdded(address indexed underlying, MarketParams params);
    /// @notice A market's parameters changed (funding accrued with the old ones first when the price is readable).
    event MarketParamsChanged(address indexed underlying, MarketParams oldParams, MarketParams newParams);
    /// @notice The funding index of `underlying` was brought up to the current block.
    event FundingUpdated(address indexed underlying, int256 fundingIndex, int256 fundingRatePerDay, uint256 indexPrice);
    /// @notice `amount` quote tokens (token units) moved into the position's margin.
    event MarginDeposited(address indexed account, address indexed underlying, uint256 amount, uint256 marginAfter);
    /// @notice `amount` quote tokens (token units) left the position's margin; `dust` (WAD below one
    /// token unit, full withdrawals only) went to the pool.
    event MarginWithdrawn(
        address indexed account, address indexed underlying, uint256 amount, uint256 dust, uint256 marginAfter
    );
    /// @notice A position changed. Pool balance change = fee + fundingSettled - realizedPnl.
    event PositionModified(
        address indexed account,
        address indexed underlying,
        int256 sizeBefore,
        int256 sizeAfter,
        uint256 fillPrice,
        uint256 indexPrice,
        uint256 fee,
        int256 realizedPnl,
        int256 fundingSettled,
        uint256 marginAfter,
        uint256 entryPriceAfter
    );
    /// @notice A position was liquidated at `indexPrice`. `remainingMargin` is its equity before
    /// liquidation; the liquidator was paid `liquidatorFee` (WAD, whole token units) and the pool
    /// balance changed by `poolDelta` (= margin - liquidatorFee).
    event Liquidated(
        address indexed account,
        address indexed underlying,
        address indexed liquidator,
        int256 size,
        uint256 indexPrice,
        int256 remainingMargin,
        uint256 liquidatorFee,
        int256 poolDelta
    );
    /// @notice The pool absorbed `amount` (WAD): what the liquidated position could not cover of its
    /// losses plus the liquidator fee (liquidatorFee - remainingMargin).
    event BadDebt(address indexed account, address indexed underlying, uint256 amount);

    /// @notice No market for `underlying`.
    error MarketNotFound(address underlying);
    /// @notice `underlying` is already listed.
    error MarketExists(address underlying);
    /// @notice MAX_MARKETS reached.
    error TooManyMarkets();
    /// @notice The market is paused and the trade would increase risk.
    error MarketPaused(address underlying);
    /// @notice The order's deadline has passed.
    error DeadlinePassed(uint256 deadline, uint256 timestamp);
    /// @notice Fill price worse than the order's acceptable price.
    error PriceExceedsBound(uint256 fillPrice, uint256 acceptablePrice);
    /// @notice The premium would make the fill price non-positive (skew far beyond skewScale).
    error InvalidFillPrice(int256 fillPrice);
    /// @notice sizeDelta == 0.
    error ZeroSizeDelta();
    /// @notice The account has no open position in the market.
    error NoPosition();
    /// @notice Margin would go negative, or a withdrawal exceeds the margin.
    error InsufficientMargin();
    /// @notice Notional / remaining margin would exceed maxLeverage (leverage WAD, max if equity <= 0).
    error MaxLeverageExceeded(uint256 leverage, uint256 maxLeverage);
    /// @notice The resulting position would be liquidatable at once.
    error WouldBeLiquidatable(int256 remainingMargin, uint256 maintenanceMargin);
    /// @notice A side's open interest would exceed the cap.
    error MaxOpenInterestExceeded(uint256 openInterest, uint256 cap);
    /// @notice The position is healthy.
    error NotLiquidatable(int256 remainingMargin, uint256 maintenanceMargin);

    /// @param quoteToken_ USDC (margin and settlement token).
    /// @param oracle_ Oracle router giving each underlying's index price.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and MARKET_ADMIN_ROLE.
    constructor(IERC20 quoteToken_, IOracleRouter oracle_, address admin) PerpLiquidityPool(quoteToken_, admin) {
        if (address(oracle_) == address(0)) revert ZeroAddress();
        oracle = oracle_;
    }

    // ------------------------------------------------------------------------------------------
    // Governance
    // ------------------------------------------------------------------------------------------

    /// @notice Lists a market for `underlying` (priced by the oracle router). MARKET_ADMIN_ROLE only.
    /// @dev Reverts ZeroAddress, MarketExists, TooManyMarkets, InvalidParam(field).
    function addMarket(address underlying, MarketParams calldata params) external onlyRole(MARKET_ADMIN_ROLE) {
        if (underlying == address(0)) revert ZeroAddress();
        Market storage m = _markets[underlying];
        if (m.params.skewScale != 0) revert MarketExists(underlying);
        if (_marketList.length >= MAX_MARKETS) revert TooManyMarkets();
        _validate(params);
        m.params = params;
        m.state.lastFundingTime = uint64(block.timestamp);
        _marketList.push(underlying);
        emit MarketAdded(underlying, params);
    }

    /// @notice Replaces the parameters of a market. MARKET_ADMIN_ROLE only. Funding is accrued with
    /// the old parameters first when the index price is readable (a broken oracle must not block
    /// governance, e.g. pausing); otherwise the pending interval accrues later with the new ones.
    /// @dev Reverts MarketNotFound, InvalidParam(field).
    function setMarketParams(address underlying, MarketParams calldata params) external onlyRole(MARKET_ADMIN_ROLE) {
        Market storage m = _markets[underlying];
        MarketParams memory old = m.params;
        if (old.skewScale == 0) revert MarketNotFound(underlying);
        _validate(params);
        try oracle.price(underlying) returns (uint256 px, uint256) {
            MarketState memory st = m.state;
            _accrue(st, old, underlying, px);
            m.state = st;
        } catch {}
        m.params = params;
        emit MarketParamsChanged(underlying, old, params);
    }

    function _validate(MarketParams calldata p) private pure {
        if (p.skewScale < MIN_SKEW_SCALE || p.skewScale > MAX_SKEW_SCALE) revert InvalidParam("skewScale");
        if (p.maxOpenInterest == 0 || p.maxOpenInterest > p.skewScale) revert InvalidParam("maxOpenInterest");
        if (p.maxFundingRatePerDay > MAX_FUNDING_RATE_PER_DAY) revert InvalidParam("maxFundingRatePerDay");
        if (p.makerFeeBps > MAX_FEE_BPS) revert InvalidParam("makerFeeBps");
        if (p.takerFeeBps > MAX_FEE_BPS) revert InvalidParam("takerFeeBps");
        if (p.maxLeverage < WAD || p.maxLeverage > MAX_LEVERAGE) revert InvalidParam("maxLeverage");
        if (p.maintenanceMarginRatio < MIN_MAINTENANCE_MARGIN_RATIO || p.maintenanceMarginRatio > MAX_MAINTENANCE_MARGIN_RATIO) {
            revert InvalidParam("maintenanceMarginRatio");
        }
        if (p.liquidationFeeRatio > MAX_LIQUIDATION_FEE_RATIO) revert InvalidParam("liquidationFeeRatio");
        if (p.minLiquidationFee > MAX_MIN_LIQUIDATION_FEE) revert InvalidParam("minLiquidationFee");
        // A position at max leverage must not be liquidatable at once (ignoring the fee floor).
        if (FPM.mulWad(uint256(p.maintenanceMarginRatio) + p.liquidationFeeRatio, p.maxLeverage) >= WAD) {
            revert InvalidParam("marginVsLeverage");
        }
    }

    // ------------------------------------------------------------------------------------------
    // Trader actions
    // ------------------------------------------------------------------------------------------

    /// @notice Moves `amount` quote tokens (token units) from the caller into the margin of their
    /// `underlying` position (allowed while paused).
    /// @dev Reverts ZeroAmount, MarketNotFound.
    function depositMargin(address underlying, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (_markets[underlying].params.skewScale == 0) revert MarketNotFound(underlying);
        Position storage p = positions[msg.sender][underlying];
        uint256 marginAfter = p.margin + amount * quoteScale;
        p.margin = marginAfter.toUint128();
        emit MarginDeposited(msg.sender, underlying, amount, marginAfter);
        quoteToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Withdraws `amount` quote tokens (token units) from the margin of the caller's
    /// `underlying` position; `type(uint256).max` withdraws the whole margin (rounded down to token
    /// units, the sub-unit dust goes to the pool). With an open position the remaining margin
    /// (margin + P&L - funding owed, at the index price) must stay within max leverage and above
    /// maintenance.
    /// @dev Reverts ZeroAmount, MarketNotFound, InsufficientMargin, MaxLeverageExceeded,
    /// WouldBeLiquidatable, or an oracle error (open positions only).
    function withdrawMargin(address underlying, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Market storage m = _markets[underlying];
        if (m.params.skewScale == 0) revert MarketNotFound(underlying);
        Position memory pos = positions[msg.sender][underlying];
        uint256 out;
        uint256 debit;
        if (amount == type(uint256).max) {
            out = pos.margin / quoteScale;
            debit = pos.margin;
            if (debit == 0) revert ZeroAmount();
        } else {
            out = amount;
            debit = amount * quoteScale;
            if (debit > pos.margin) revert InsufficientMargin();
        }
        uint256 marginAfter = pos.margin - debit;
        if (pos.size != 0) {
            MarketParams memory params = m.params;
            uint256 px = _indexPrice(underlying);
            pos.margin = uint128(marginAfter);
            (int256 equity,,,) = _health(params, pos, px, _currentFundingIndex(m.state, params, px));
            _checkRisk(params, PerpMath.abs(pos.size), px, equity);
        }
        uint256 dust = debit - out * quoteScale;
        if (dust != 0) poolBalance += int256(dust);
        positions[msg.sender][underlying].margin = uint128(marginAfter);
        emit MarginWithdrawn(msg.sender, underlying, out, dust, marginAfter);
        quoteToken.safeTransfer(msg.sender, out);
    }

    /// @notice Changes the caller's `underlying` position by `sizeDelta` (underlying WAD, + buys) at
    /// the current fill price. Funding is settled and realised P&L and the fee are booked into margin.
    /// @param acceptablePrice Worst accepted fill price (USD WAD): max for buys, min for sells.
    /// @param deadline Last accepted block timestamp.
    /// @dev Reverts DeadlinePassed, ZeroSizeDelta, MarketNotFound, MarketPaused (risk-increasing
    /// trade), InvalidFillPrice, PriceExceedsBound, InsufficientMargin, MaxOpenInterestExceeded,
    /// MaxLeverageExceeded, WouldBeLiquidatable, or an oracle error.
    /// @return receipt Fill and index price, fee, and the position size before and after.
    function modifyPosition(address underlying, int256 sizeDelta, uint256 acceptablePrice, uint256 deadline)
        external
        nonReentrant
        returns (TradeReceipt memory receipt)
    {
        if (block.timestamp > deadline) revert DeadlinePassed(deadline, block.timestamp);
        return _modify(msg.sender, underlying, sizeDelta, acceptablePrice);
    }

    /// @notice Closes the caller's whole `underlying` position (see modifyPosition); margin stays
    /// deposited for withdrawMargin.
    /// @dev Reverts DeadlinePassed, NoPosition, and the modifyPosition errors.
    function closePosition(address underlying, uint256 acceptablePrice, uint256 deadline) external nonReentrant {
        if (block.timestamp > deadline) revert DeadlinePassed(deadline, block.timestamp);
        int256 size = positions[msg.sender][underlying].size;
        if (size == 0) revert NoPosition();
        _modify(msg.sender, underlying, -size, acceptablePrice);
    }

    /// @notice Liquidates `account`'s `underlying` position when its remaining margin (margin +
    /// P&L - funding owed, at the index price) is below maintenance (notional x maintenance ratio +
    /// liquidation fee). Permissionless. The position is closed at the index price, the caller gets
    /// the liquidation fee (max(notional x ratio, minimum), rounded down to token units) and the
    /// pool keeps the margin minus that fee; bad debt is absorbed by the pool.
    /// @dev Reverts MarketNotFound, NoPosition, NotLiquidatable, or an oracle error.
    /// @return fee Liquidator fee paid (token units).
    function liquidate(address account, address underlying) external nonReentrant returns (uint256 fee) {
        Market storage m = _markets[underlying];
        MarketParams memory params = m.params;
        if (params.skewScale == 0) revert MarketNotFound(underlying);
        Position memory pos = positions[account][underlying];
        if (pos.size == 0) revert NoPosition();
        uint256 px = _indexPrice(underlying);
        MarketState memory st = m.state;
        _accrue(st, params, underlying, px);
        (int256 equity,, uint256 liqFee, uint256 maint) = _health(params, pos, px, st.fundingIndex);
        if (equity >= int256(maint)) revert NotLiquidatable(equity, maint);

        if (pos.size > 0) st.longOpenInterest -= uint96(uint256(int256(pos.size)));
        else st.shortOpenInterest -= uint96(uint256(-int256(pos.size)));
        st.netEntry = (st.netEntry - int256(pos.size).mulWadDown(int256(uint256(pos.entryPrice)) - pos.lastFundingIndex))
            .toInt128();
        m.state = st;
        delete positions[account][underlying];
        fee = _settleLiquidation(account, underlying, pos, px, equity, liqFee);
        quoteToken.safeTransfer(msg.sender, fee);
    }

    /// @dev Books a liquidation: liquidator fee rounded down to token units, margin minus that fee to the pool.
    function _settleLiquidation(
        address account,
        address underlying,
        Position memory pos,
        uint256 px,
        int256 equity,
        uint256 liqFee
    ) private returns (uint256 fee) {
        fee = liqFee / quoteScale;
        uint256 feeWad = fee * quoteScale;
        int256 poolDelta = int256(uint256(pos.margin)) - int256(feeWad);
        poolBalance += poolDelta;
        emit Liquidated(account, underlying, msg.sender, pos.size, px, equity, feeWad, poolDelta);
        if (equity < int256(liqFee)) emit BadDebt(account, underlying, uint256(int256(liqFee) - equity));
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @notice Markets listed, in listing order.
    function listMarkets() external view returns (address[] memory) {
        return _marketList;
    }

    /// @notice Parameters of the `underlying` market (zero struct if not listed).
    function marketParams(address underlying) external view returns (MarketParams memory) {
        return _markets[underlying].params;
    }

    /// @notice Full view of `account`'s `underlying` position at the current index price (funding
    /// accrued to now). A flat position only reports its margin and needs no price.
    function position(address account, address underlying) external view returns (PositionView memory v) {
        Market storage m = _markets[underlying];
        Position memory pos = positions[account][underlying];
        v.margin = pos.margin;
        v.size = pos.size;
        if (pos.size == 0) return v;
        MarketParams memory params = m.params;
        uint256 px = _indexPrice(underlying);
        int256 index = _currentFundingIndex(m.state, params, px);
        v.entryPrice = pos.entryPrice;
        v.accruedFunding = v.size.mulWadUp(index - pos.lastFundingIndex);
        v.unrealizedPnl = v.size.mulWadDown(int256(px) - int256(v.entryPrice));
        v.remainingMargin = int256(v.margin) + v.unrealizedPnl - v.accruedFunding;
        v.notional = FPM.mulWad(PerpMath.abs(v.size), px);
        v.maintenanceMargin = FPM.mulWad(v.notional, params.maintenanceMarginRatio) + _liquidationFee(params, v.notional);
        v.leverage = v.remainingMargin > 0 ? FPM.divWad(v.notional, uint256(v.remainingMargin)) : type(uint256).max;
        v.liquidationPrice = _liquidationPrice(params, v.size, v.entryPrice, int256(v.margin) - v.accruedFunding);
    }

    /// @notice Remaining margin (margin + unrealised P&L - funding owed) of `account` in `underlying` [quote WAD].
    function remainingMargin(address account, address underlying) external view returns (int256 equity) {
        Position memory pos = positions[account][underlying];
        if (pos.size == 0) return int256(uint256(pos.margin));
        Market storage m = _markets[underlying];
        MarketParams memory params = m.params;
        uint256 px = _indexPrice(underlying);
        (equity,,,) = _health(params, pos, px, _currentFundingIndex(m.state, params, px));
    }

    /// @notice True when `liquidate(account, underlying)` would succeed now.
    function isLiquidatable(address account, address underlying) external view returns (bool) {
        Position memory pos = positions[account][underlying];
        if (pos.size == 0) return false;
        Market storage m = _markets[underlying];
        MarketParams memory params = m.params;
        uint256 px = _indexPrice(underlying);
        (int256 equity,,, uint256 maint) = _health(params, pos, px, _currentFundingIndex(m.state, params, px));
        return equity < int256(maint);
    }

    /// @notice Market aggregates at the current index price.
    function marketState(address underlying) external view returns (MarketView memory v) {
        Market storage m = _markets[underlying];
        MarketParams memory params = m.params;
        if (params.skewScale == 0) revert MarketNotFound(underlying);
        MarketState memory st = m.state;
        v.indexPrice = _indexPrice(underlying);
        v.longOpenInterest = st.longOpenInterest;
        v.shortOpenInterest = st.shortOpenInterest;
        v.skew = int256(v.longOpenInterest) - int256(v.shortOpenInterest);
        v.fundingRatePerDay = _fundingRate(params, v.skew);
        v.fundingIndex = _currentFundingIndex(st, params, v.indexPrice);
        v.traderNetPnl = v.skew.mulWadDown(int256(v.indexPrice) - v.fundingIndex) - st.netEntry;
    }

    /// @notice Fill price and fee (both WAD) an order of `sizeDelta` would get now.
    /// @dev Reverts MarketNotFound, ZeroSizeDelta, InvalidFillPrice, or an oracle error.
    function quote(address underlying, int256 sizeDelta) external view returns (uint256 fillPrice, uint256 fee) {
        if (sizeDelta == 0) revert ZeroSizeDelta();
        Market storage m = _markets[underlying];
        MarketParams memory params = m.params;
        if (params.skewScale == 0) revert MarketNotFound(underlying);
        MarketState memory st = m.state;
        int256 skew = int256(uint256(st.longOpenInterest)) - int256(uint256(st.shortOpenInterest));
        fillPrice = _fillPrice(params, _indexPrice(underlying), skew, sizeDelta);
        fee = _fee(params, skew, sizeDelta, fillPrice);
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    function _modify(address account, address underlying, int256 sizeDelta, uint256 acceptablePrice)
        private
        returns (TradeReceipt memory receipt)
    {
        if (sizeDelta == 0) revert ZeroSizeDelta();
        Market storage m = _markets[underlying];
        MarketParams memory params = m.params;
        if (params.skewScale == 0) revert MarketNotFound(underlying);
        Position memory pos = positions[account][underlying];
        Trade memory t;
        t.sizeBefore = pos.size;
        t.sizeAfter = t.sizeBefore + sizeDelta;
        bool flips = t.sizeBefore != 0 && t.sizeAfter != 0 && (t.sizeBefore > 0) != (t.sizeAfter > 0);
        t.increasesRisk = flips || PerpMath.abs(t.sizeAfter) > PerpMath.abs(t.sizeBefore);
        if (params.paused && t.increasesRisk) revert MarketPaused(underlying);

        t.indexPrice = _indexPrice(underlying);
        MarketState memory st = m.state;
        _accrue(st, params, underlying, t.indexPrice);
        int256 skew = int256(uint256(st.longOpenInterest)) - int256(uint256(st.shortOpenInterest));

        t.fillPrice = _fillPrice(params, t.indexPrice, skew, sizeDelta);
        if (sizeDelta > 0 ? t.fillPrice > acceptablePrice : t.fillPrice < acceptablePrice) {
            revert PriceExceedsBound(t.fillPrice, acceptablePrice);
        }
        t.fee = _fee(params, skew, sizeDelta, t.fillPrice);
        t.fundingOwed = t.sizeBefore.mulWadUp(int256(st.fundingIndex) - pos.lastFundingIndex);

        _applyFill(t, pos, sizeDelta, flips);
        t.marginAfter = int256(uint256(pos.margin)) + t.realizedPnl - t.fundingOwed - int256(t.fee);
        if (t.marginAfter < 0) revert InsufficientMargin();

        _updateOpenInterest(st, params, t);
        if (t.increasesRisk) {
            int256 equity = t.marginAfter + t.sizeAfter.mulWadDown(int256(t.indexPrice) - int256(t.entryAfter));
            _checkRisk(params, PerpMath.abs(t.sizeAfter), t.indexPrice, equity);
        }

        st.netEntry = (
            st.netEntry + t.sizeAfter.mulWadDown(int256(t.entryAfter) - st.fundingIndex)
                - t.sizeBefore.mulWadDown(int256(uint256(pos.entryPrice)) - pos.lastFundingIndex)
        ).toInt128();
        m.state = st;
        poolBalance += int256(t.fee) + t.fundingOwed - t.realizedPnl;
        positions[account][underlying] = Position({
            size: t.sizeAfter.toInt128(),
            margin: uint256(t.marginAfter).toUint128(),
            entryPrice: t.entryAfter.toUint128(),
            lastFundingIndex: st.fundingIndex
        });

        _emitModified(account, underlying, t);
        receipt = TradeReceipt(t.fillPrice, t.indexPrice, t.fee, t.sizeBefore, t.sizeAfter);
    }

    /// @dev Entry price after the fill and realised P&L of the closed part (at the fill price).
    function _applyFill(Trade memory t, Position memory pos, int256 sizeDelta, bool flips) private pure {
        if (t.sizeBefore == 0 || (t.sizeBefore > 0) == (sizeDelta > 0)) {
            // Open or increase: size-weighted average entry, rounded against the trader.
            uint256 absBefore = PerpMath.abs(t.sizeBefore);
            uint256 absDelta = PerpMath.abs(sizeDelta);
            uint256 num = absBefore * pos.entryPrice + absDelta * t.fillPrice;
            uint256 den = absBefore + absDelta;
            t.entryAfter = sizeDelta > 0 ? FPM.divUp(num, den) : num / den;
        } else {
            // Reduce, close or flip: realise P&L on the closed part at the fill price.
            int256 closed = PerpMath.abs(sizeDelta) >= PerpMath.abs(t.sizeBefore) ? t.sizeBefore : -sizeDelta;
            t.realizedPnl = closed.mulWadDown(int256(t.fillPrice) - int256(uint256(pos.entryPrice)));
            t.entryAfter = t.sizeAfter == 0 ? 0 : (flips ? t.fillPrice : pos.entryPrice);
        }
    }

    /// @dev New per-side open interest into `st`; reverts where a side grows above the cap.
    function _updateOpenInterest(MarketState memory st, MarketParams memory params, Trade memory t) private pure {
        uint256 longOi = uint256(st.longOpenInterest) - PerpMath.pos(t.sizeBefore) + PerpMath.pos(t.sizeAfter);
        uint256 shortOi = uint256(st.shortOpenInterest) - PerpMath.pos(-t.sizeBefore) + PerpMath.pos(-t.sizeAfter);
        if (longOi > st.longOpenInterest && longOi > params.maxOpenInterest) {
            revert MaxOpenInterestExceeded(longOi, params.maxOpenInterest);
        }
        if (shortOi > st.shortOpenInterest && shortOi > params.maxOpenInterest) {
            revert MaxOpenInterestExceeded(shortOi, params.maxOpenInterest);
        }
        st.longOpenInterest = longOi.toUint96();
        st.shortOpenInterest = shortOi.toUint96();
    }

    function _emitModified(address account, address underlying, Trade memory t) private {
        emit PositionModified(
            account,
            underlying,
            t.sizeBefore,
            t.sizeAfter,
            t.fillPrice,
            t.indexPrice,
            t.fee,
            t.realizedPnl,
            t.fundingOwed,
            uint256(t.marginAfter),
            t.entryAfter
        );
    }

    /// @dev Equity (margin + P&L - funding owed), notional, liquidation fee and maintenance margin
    /// of `pos` at index price `px` and funding index `index`.
    function _health(MarketParams memory params, Position memory pos, uint256 px, int256 index)
        private
        pure
        returns (int256 equity, uint256 notional, uint256 liqFee, uint256 maint)
    {
        int256 size = pos.size;
        equity = int256(uint256(pos.margin)) + size.mulWadDown(int256(px) - int256(uint256(pos.entryPrice)))
            - size.mulWadUp(index - pos.lastFundingIndex);
        notional = FPM.mulWad(PerpMath.abs(size), px);
        liqFee = _liquidationFee(params, notional);
        maint = FPM.mulWad(notional, params.maintenanceMarginRatio) + liqFee;
    }

    /// @dev Reverts unless notional / equity <= maxLeverage and equity >= maintenance margin.
    function _checkRisk(MarketParams memory params, uint256 absSize, uint256 px, int256 equity) private pure {
        uint256 notional = FPM.mulWad(absSize, px);
        if (equity <= 0) revert MaxLeverageExceeded(type(uint256).max, params.maxLeverage);
        if (notional * WAD > uint256(params.maxLeverage) * uint256(equity)) {
            revert MaxLeverageExceeded(FPM.divWad(notional, uint256(equity)), params.maxLeverage);
        }
        uint256 maint = FPM.mulWad(notional, params.maintenanceMarginRatio) + _liquidationFee(params, notional);
        if (equity < int256(maint)) revert WouldBeLiquidatable(equity, maint);
    }

    /// @dev Brings `st` (memory) up to now: accrues funding at the pre-trade skew and emits.
    function _accrue(MarketState memory st, MarketParams memory params, address underlying, uint256 px) private {
        uint256 elapsed = block.timestamp - st.lastFundingTime;
        if (elapsed == 0) return;
        int256 skew = int256(uint256(st.longOpenInterest)) - int256(uint256(st.shortOpenInterest));
        int256 rate = _fundingRate(params, skew);
        st.lastFundingTime = uint64(block.timestamp);
        if (rate == 0) return;
        int256 index = int256(st.fundingIndex) + rate * int256(px) * int256(elapsed) / (1e18 * 1 days);
        st.fundingIndex = index.toInt128();
        emit FundingUpdated(underlying, index, rate, px);
    }

    function _currentFundingIndex(MarketState memory st, MarketParams memory params, uint256 px)
        private
        view
        returns (int256)
    {
        int256 skew = int256(uint256(st.longOpenInterest)) - int256(uint256(st.shortOpenInterest));
        int256 elapsed = int256(block.timestamp - st.lastFundingTime);
        return int256(st.fundingIndex) + _fundingRate(params, skew) * int256(px) * elapsed / (1e18 * 1 days);
    }

    /// @dev rate/day = clamp(skew / skewScale, -1, 1) x maxFundingRatePerDay; + means longs pay.
    function _fundingRate(MarketParams memory params, int256 skew) private pure returns (int256) {
        int256 scale = int256(uint256(params.skewScale));
        int256 ratio = skew * 1e18 / scale;
        if (ratio > 1e18) ratio = 1e18;
        else if (ratio < -1e18) ratio = -1e18;
        return ratio * int256(uint256(params.maxFundingRatePerDay)) / 1e18;
    }

    /// @dev index x (1 + (skew + sizeDelta / 2) / skewScale); buys round up, sells down.
    function _fillPrice(MarketParams memory params, uint256 px, int256 skew, int256 sizeDelta)
        private
        pure
        returns (uint256)
    {
        int256 num = int256(px) * (2 * skew + sizeDelta);
        int256 den = 2 * int256(uint256(params.skewScale));
        int256 premium = num / den;
        if (sizeDelta > 0 && num > 0 && num % den != 0) premium += 1;
        else if (sizeDelta < 0 && num < 0 && num % den != 0) premium -= 1;
        int256 fill = int256(px) + premium;
        if (fill <= 0) revert InvalidFillPrice(fill);
        return uint256(fill);
    }

    /// @dev Maker fee on the part of |sizeDelta| that moves skew toward zero, taker fee on the rest.
    function _fee(MarketParams memory params, int256 skew, int256 sizeDelta, uint256 fillPrice)
        private
        pure
        returns (uint256)
    {
        uint256 absDelta = PerpMath.abs(sizeDelta);
        uint256 makerPart;
        if (skew != 0 && (skew > 0) != (sizeDelta > 0)) {
            uint256 absSkew = PerpMath.abs(skew);
            makerPart = absDelta < absSkew ? absDelta : absSkew;
        }
        uint256 weighted = makerPart * params.makerFeeBps + (absDelta - makerPart) * params.takerFeeBps;
        return FPM.mulDivUp(weighted, fillPrice, WAD * BPS);
    }

    function _liquidationFee(MarketParams memory params, uint256 notional) private pure returns (uint256) {
        uint256 fee = FPM.mulWad(notional, params.liquidationFeeRatio);
        return fee > params.minLiquidationFee ? fee : params.minLiquidationFee;
    }

    /// @dev Index price at which equity == maintenance margin, given `base` = margin - funding owed.
    /// Long: base + s(P - e) = sP(mmr) + fee(P); short (a = |s|): base + a(e - P) = aP(mmr) + fee(P).
    /// fee(P) = max(a P lfr, minFee): solve with the floor, switch to the ratio branch if it dominates.
    /// One division at full precision (no truncated intermediate), so dust sizes are fine; the
    /// numerators stay below ~1e33 x 1e36, far inside int256.
    function _liquidationPrice(MarketParams memory params, int256 size, uint256 entry, int256 base)
        private
        pure
        returns (uint256)
    {
        uint256 a = PerpMath.abs(size);
        int256 entryValue = int256(FPM.mulWad(a, entry));
        int256 mmr = int256(uint256(params.maintenanceMarginRatio));
        int256 lfr = int256(uint256(params.liquidationFeeRatio));
        int256 minFee = int256(uint256(params.minLiquidationFee));
        int256 ai = int256(a);
        int256 p;
        if (size > 0) {
            // P (a (1 - mmr)) = a e - base + fee
            p = (entryValue - base + minFee) * 1e36 / (ai * (1e18 - mmr));
            if (p > 0 && FPM.mulWad(FPM.mulWad(a, uint256(p)), uint256(lfr)) > uint256(minFee)) {
                p = (entryValue - base) * 1e36 / (ai * (1e18 - mmr - lfr));
            }
        } else {
            // P (a (1 + mmr)) = a e + base - fee
            p = (entryValue + base - minFee) * 1e36 / (ai * (1e18 + mmr));
            if (p > 0 && FPM.mulWad(FPM.mulWad(a, uint256(p)), uint256(lfr)) > uint256(minFee)) {
                p = (entryValue + base) * 1e36 / (ai * (1e18 + mmr + lfr));
            }
        }
        return p > 0 ? uint256(p) : 0;
    }

    function _indexPrice(address underlying) private view returns (uint256 px) {
        (px,) = oracle.price(underlying);
    }

    /// @inheritdoc PerpLiquidityPool
    function _exposure() internal view override returns (int256 traderPnl, uint256 traderProfit, uint256 skewNotional) {
        uint256 n = _marketList.length;
        for (uint256 i; i < n; ++i) {
            address u = _marketList[i];
            Market storage m = _markets[u];
            MarketState memory st = m.state;
            int256 skew = int256(uint256(st.longOpenInterest)) - int256(uint256(st.shortOpenInterest));
            if (skew == 0 && st.netEntry == 0) continue;
            uint256 px = _indexPrice(u);
            int256 pnl = skew.mulWadDown(int256(px) - _currentFundingIndex(st, m.params, px)) - st.netEntry;
            traderPnl += pnl;
            if (pnl > 0) traderProfit += uint256(pnl);
            skewNotional += FPM.mulWad(PerpMath.abs(skew), px);
        }
    }
}
