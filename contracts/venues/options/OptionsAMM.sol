// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as M} from "solady/src/utils/FixedPointMathLib.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IOracleRouter} from "../../interfaces/IOracleRouter.sol";
import {BlackScholes} from "../../libraries/BlackScholes.sol";
import {VolatilitySurface} from "./VolatilitySurface.sol";
import {OptionsPool} from "./OptionsPool.sol";

/// @title OptionsAMM
/// @notice Cash-settled European options on WETH/WBTC (settled in USDC) with the OptionsPool as
/// counterparty of every trade.
///
/// Series: (underlying, strike, expiry, call/put), listed by LISTER_ROLE. Calls are CAPPED calls:
/// payoff = min(max(S_T - K, 0), cap) with cap = strike * capMultiple fixed at listing, priced as
/// the call spread C(K) - C(K + cap) (each leg at its own smile vol). The second leg is skipped when
/// d1(K + cap) <= -7.2, where C(K + cap) <= S * N(d1) < 3.1e-13 * S (bound tested).
///
/// Prices: Black-Scholes on the governed VolatilitySurface. A buy pays mid + fee + spread, a sell
/// receives max(mid - fee - spread, 0), with
///   fee    = feeBps * spot * |size|
///   spread = vegaSpreadCoeff * |vega| * |size| + exposureCoeff * spot * max(0, |D'| - |D|)
/// where D / D' are the pool's net option delta before / after the trade. Buy amounts round up,
/// sell amounts round down (USDC units), so a round trip at one price and time never earns.
///
/// Collateral (full): every short is fully backed. Users short a series post `strike` (put) or
/// `cap` (call) USDC per unit, or for calls 1 unit of underlying per option. When users are net
/// long, the pool locks the same per-unit amount of USDC in OptionsPool.
///
/// Pool net delta/vega per underlying are CACHED aggregates: sum over active series of
/// poolPosition * (delta, vega at that series' last trade). A trade refreshes its own series
/// exactly; other series may be stale by at most |poolPosition| * |delta drift| each (delta drift
/// <= 1 per unit for puts and capped calls). `refreshExposure` recomputes all (bounded loop,
/// permissionless).
///
/// Units: sizes are WAD units of underlying; prices, premiums, fees WAD USD; token amounts
/// (maxPremium, minProceeds, collateral, payouts) in token units.
contract OptionsAMM is AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant LISTER_ROLE = keccak256("LISTER_ROLE");
    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");

    uint256 internal constant WAD = 1e18;
    uint256 public constant YEAR = 365 days;
    /// @notice Hard cap on listed underlyings (bounds every NAV loop).
    uint256 public constant MAX_UNDERLYINGS = 4;
    /// @notice Hard cap on active (unsettled) series per underlying.
    uint256 public constant MAX_ACTIVE_SERIES = 32;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_VEGA_SPREAD_COEFF = 0.05e18;
    uint256 public constant MAX_EXPOSURE_COEFF = 0.05e18;
    uint256 public constant MAX_RATE = 0.2e18;
    uint256 public constant MIN_CAP_MULTIPLE = 0.1e18;
    uint256 public constant MAX_CAP_MULTIPLE = 10e18;
    uint256 public constant MAX_HORIZON_LIMIT = 730 days;
    /// @notice Largest listable strike (WAD USD): keeps K + cap inside BlackScholes' 1e36 range.
    uint256 public constant MAX_STRIKE = 1e33;
    /// @notice The K + cap leg is skipped when its d1 is at or below -SKIP_D1 (N(-7.2) ~ 3.0e-13).
    uint256 public constant SKIP_D1 = 7.2e18;

    enum CollateralKind {
        None,
        Cash,
        Underlying
    }

    struct Series {
        address underlying;
        uint40 expiry;
        bool isCall;
        bool settled;
        uint128 strike; // WAD USD
        uint128 cap; // WAD USD per unit (calls); 0 for puts
        uint128 longOI; // sum of user long sizes
        uint128 shortCashOI; // sum of user short sizes backed by USDC
        uint128 shortUnderlyingOI; // sum of user short sizes backed by underlying
        uint128 maxOpenInterest; // bound on longOI
        int128 lastDelta; // per-unit delta at the last refresh (cached exposure)
        int128 lastVega; // per-unit vega at the last refresh
        uint128 settlementPrice; // WAD USD
        uint128 payoffPerUnit; // WAD USD
    }

    struct Position {
        int128 size; // + long, - short (WAD)
        uint112 collateral; // token units of USDC (Cash) or of the underlying (Underlying)
        CollateralKind kind;
    }

    struct UnderlyingConfig {
        bool enabled;
        uint8 decimals;
        uint128 maxNetDelta; // bound on |pool net delta|, WAD units of underlying
    }

    /// @notice Pool-side cached aggregates per underlying (see contract doc).
    struct Exposure {
        int128 netDelta;
        int128 netVega;
    }

    struct Params {
        uint16 feeBps;
        uint64 vegaSpreadCoeff; // WAD vol points charged per unit of vega
        uint64 exposureCoeff; // WAD share of the delta notional added to the pool's exposure
        uint64 rate; // WAD annual risk-free rate used in pricing
        uint32 maxHorizon; // seconds
        uint8 maxActiveSeries; // per underlying, <= MAX_ACTIVE_SERIES
    }

    /// @notice A priced trade. Money fields are WAD USD totals for |size|; greeks are per unit
    /// (one long option); `amountUsdc` is what moves (buy: paid, rounded up; sell: received,
    /// rounded down).
    struct Quote {
        uint256 premium; // buy: mid + fee + spread; sell: max(mid - fee - spread, 0)
        uint256 amountUsdc;
        uint256 fee;
        uint256 spread;
        uint256 mid;
        int256 delta;
        int256 gamma;
        int256 vega;
        int256 theta;
        uint256 vol;
        uint256 spot;
    }

    /// @notice Size-weighted greeks of a position (delta in underlying units, value WAD USD).
    struct PositionGreeks {
        int256 size;
        int256 value;
        int256 delta;
        int256 gamma;
        int256 vega;
        int256 theta;
    }

    /// @dev Per-unit valuation of a series.
    struct Unit {
        uint256 price;
        int256 delta;
        int256 gamma;
        int256 vega;
        int256 theta;
        uint256 vol;
    }

    /// @dev Exposure bookkeeping computed with a quote.
    struct Ext {
        int256 netDeltaBefore; // with this series refreshed at the current delta
        int256 netDeltaAfter;
        int256 netVegaAfter;
        int256 unitDelta;
        int256 unitVega;
    }

    /// @dev Cash/underlying flows of a settlement (token units; spot and payoff WAD).
    struct SettleFlows {
        uint256 spot;
        uint256 payoff;
        uint256 owed;
        uint256 fromCash;
        uint256 fromUnd;
        uint256 unlock;
    }

    /// @dev Position / OI / lock changes of a trade.
    /// @notice What a trade did, for integrators (the vault's adapter): sizes, cash and per-unit greeks.
    struct TradeReceipt {
        address underlying;
        int256 sizeBefore; // account's signed size before the trade
        int256 sizeAfter; // and after it
        uint256 amountUsdc; // USDC paid (buy) or received (sell), token units
        uint256 premium; // WAD USD, as in Quote
        uint256 fee; // WAD USD
        uint256 spread; // WAD USD
        uint256 spot; // oracle price used, WAD USD
        int256 unitDelta; // per-unit delta at `spot`
        int256 unitGamma; // per-unit gamma at `spot`
    }

    struct Fill {
        int256 oldSize;
        int256 newSize;
        uint256 oldCollateral;
        uint256 newCollateral;
        CollateralKind kind;
        int256 lockDelta;
    }

    IERC20 public immutable usdc;
    uint256 public immutable usdcScale; // 10^(18 - usdc decimals)
    OptionsPool public immutable pool;
    VolatilitySurface public immutable surface;
    IOracleRouter public immutable router;

    Params public params;
    /// @notice Call cap as a multiple of strike, applied at listing (WAD).
    uint256 public capMultiple;
    uint256 public seriesCount;

    mapping(uint256 id => Series) private _series;
    mapping(uint256 id => mapping(address account => Position)) private _positions;
    mapping(address underlying => UnderlyingConfig) public underlyingConfig;
    mapping(address underlying => Exposure) private _exposure;
    mapping(address underlying => uint256[]) private _active;
    mapping(uint256 id => uint256) private _activeIndex; // index + 1
    mapping(bytes32 key => uint256 id) public seriesIdOf;
    address[] private _underlyings;

    event UnderlyingConfigured(address indexed underlying, uint8 decimals, uint256 maxNetDelta);
    event ParamsSet(
        uint256 feeBps,
        uint256 vegaSpreadCoeff,
        uint256 exposureCoeff,
        uint256 rate,
        uint256 maxHorizon,
        uint256 maxActiveSeries,
        uint256 capMultiple
    );
    event SeriesListed(
        uint256 indexed seriesId,
        address indexed underlying,
        uint256 strike,
        uint256 expiry,
        bool isCall,
        uint256 cap,
        uint256 maxOpenInterest
    );
    event MaxOpenInterestSet(uint256 indexed seriesId, uint256 oldMax, uint256 newMax);
    /// @notice One trade. `sizeDelta` > 0 buy, < 0 sell; `amountUsdc` paid (buy) or received (sell);
    /// `collateral` the position's collateral afterwards (token units of `kind`).
    event Traded(
        uint256 indexed seriesId,
        address indexed account,
        int256 sizeDelta,
        int256 newSize,
        uint256 amountUsdc,
        uint256 premium,
        uint256 fee,
        uint256 spread,
        uint256 spot,
        uint256 vol,
        CollateralKind kind,
        uint256 collateral
    );
    event ExposureUpdated(address indexed underlying, int256 netDelta, int256 netVega);
    event Settled(
        uint256 indexed seriesId,
        uint256 settlementPrice,
        uint256 payoffPerUnit,
        uint256 longOI,
        uint256 shortCashOI,
        uint256 shortUnderlyingOI,
        uint256 poolPaidUsdc,
        uint256 poolReceivedUsdc,
        uint256 poolReceivedUnderlying
    );
    event Redeemed(
        uint256 indexed seriesId, address indexed account, int256 size, uint256 usdcOut, uint256 underlyingOut
    );

    error ZeroAddress();
    error ZeroSize();
    error DeadlineExpired(uint256 deadline);
    error UnknownSeries(uint256 seriesId);
    error SeriesExpired(uint256 seriesId);
    error SeriesNotExpired(uint256 seriesId);
    error AlreadySettled(uint256 seriesId);
    error NotSettled(uint256 seriesId);
    error NothingToRedeem();
    error UnderlyingNotEnabled(address underlying);
    error TooManyUnderlyings();
    error UnsupportedDecimals(uint8 decimals);
    error InvalidStrike();
    error InvalidExpiry(uint256 expiry);
    error SmileMissing(address underlying, uint256 expiry);
    error TooManyActiveSeries(address underlying);
    error DuplicateSeries(uint256 existingId);
    error InvalidMaxOpenInterest();
    error ParamOutOfBounds(uint256 which);
    error PremiumAboveMax(uint256 amount, uint256 maxPremium);
    error ProceedsBelowMin(uint256 amount, uint256 minProceeds);
    error OpenInterestLimit(uint256 longOI, uint256 maxOpenInterest);
    error NetDeltaLimit(int256 netDelta, uint256 maxNetDelta);
    error UnderlyingCollateralOnlyForCalls();
    error CollateralKindMismatch();
    error SettlementPriceTooEarly(uint256 updatedAt, uint256 expiry);
    error SizeTooLarge();

    /// @param admin Receives DEFAULT_ADMIN_ROLE, PARAMS_ROLE and LISTER_ROLE.
    constructor(IERC20 usdc_, OptionsPool pool_, VolatilitySurface surface_, IOracleRouter router_, address admin) {
        if (
            address(usdc_) == address(0) || address(pool_) == address(0) || address(surface_) == address(0)
                || address(router_) == address(0) || admin == address(0)
        ) revert ZeroAddress();
        usdc = usdc_;
        usdcScale = 10 ** (18 - IERC20Metadata(address(usdc_)).decimals());
        pool = pool_;
        surface = surface_;
        router = router_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PARAMS_ROLE, admin);
        _grantRole(LISTER_ROLE, admin);
        // Defaults: 5 bps fee, half a vol point per vega, 10 bps of added delta notional, r = 0,
        // 1-year horizon, 16 series per underlying, calls capped at 3x strike.
        params = Params(5, 0.005e18, 0.001e18, 0, 365 days, 16);
        capMultiple = 3e18;
    }

    // ================================================================== governance

    /// @notice Enables (or updates) an underlying. PARAMS_ROLE only. Its oracle price must be live.
    /// @param maxNetDelta Bound on |pool net option delta| in this underlying (WAD units).
    function configureUnderlying(address underlying, uint128 maxNetDelta) external onlyRole(PARAMS_ROLE) {
        if (underlying == address(0)) revert ZeroAddress();
        UnderlyingConfig storage c = underlyingConfig[underlying];
        if (!c.enabled) {
            if (_underlyings.length >= MAX_UNDERLYINGS) revert TooManyUnderlyings();
            uint8 dec = IERC20Metadata(underlying).decimals();
            if (dec > 18) revert UnsupportedDecimals(dec);
            router.price(underlying); // fails closed if the oracle does not know it
            c.enabled = true;
            c.decimals = dec;
            _underlyings.push(underlying);
        }
        c.maxNetDelta = maxNetDelta;
        emit UnderlyingConfigured(underlying, c.decimals, maxNetDelta);
    }

    /// @notice Sets pricing and listing parameters (all bounded). PARAMS_ROLE only.
    /// @param p New parameters: feeBps <= MAX_FEE_BPS, vegaSpreadCoeff <= MAX_VEGA_SPREAD_COEFF,
    /// exposureCoeff <= MAX_EXPOSURE_COEFF, rate <= MAX_RATE, 1 day <= maxHorizon <= MAX_HORIZON_LIMIT,
    /// 1 <= maxActiveSeries <= MAX_ACTIVE_SERIES.
    /// @param capMultiple_ Call cap / strike for future listings, in [MIN_CAP_MULTIPLE, MAX_CAP_MULTIPLE].
    function setParams(Params calldata p, uint256 capMultiple_) external onlyRole(PARAMS_ROLE) {
        if (p.feeBps > MAX_FEE_BPS) revert ParamOutOfBounds(0);
        if (p.vegaSpreadCoeff > MAX_VEGA_SPREAD_COEFF) revert ParamOutOfBounds(1);
        if (p.exposureCoeff > MAX_EXPOSURE_COEFF) revert ParamOutOfBounds(2);
        if (p.rate > MAX_RATE) revert ParamOutOfBounds(3);
        if (p.maxHorizon < 1 days || p.maxHorizon > MAX_HORIZON_LIMIT) revert ParamOutOfBounds(4);
        if (p.maxActiveSeries == 0 || p.maxActiveSeries > MAX_ACTIVE_SERIES) revert ParamOutOfBounds(5);
        if (capMultiple_ < MIN_CAP_MULTIPLE || capMultiple_ > MAX_CAP_MULTIPLE) revert ParamOutOfBounds(6);
        params = p;
        capMultiple = capMultiple_;
        emit ParamsSet(p.feeBps, p.vegaSpreadCoeff, p.exposureCoeff, p.rate, p.maxHorizon, p.maxActiveSeries, capMultiple_);
    }

    /// @notice Lists a series. LISTER_ROLE only.
    /// @param strike WAD USD, > 0. @param expiry Unix time, in (now, now + maxHorizon], smile set.
    /// @param maxOpenInterest Bound on the sum of long sizes (WAD), > 0.
    /// @return id The new series id (ids start at 1).
    function listSeries(address underlying, uint256 strike, uint256 expiry, bool isCall, uint256 maxOpenInterest)
        external
        onlyRole(LISTER_ROLE)
        returns (uint256 id)
    {
        if (!underlyingConfig[underlying].enabled) revert UnderlyingNotEnabled(underlying);
        if (strike == 0 || strike > MAX_STRIKE) revert InvalidStrike();
        Params memory p = params;
        if (expiry <= block.timestamp || expiry > block.timestamp + p.maxHorizon) revert InvalidExpiry(expiry);
        if (!surface.isSet(underlying, expiry)) revert SmileMissing(underlying, expiry);
        if (maxOpenInterest == 0 || maxOpenInterest > type(uint128).max) revert InvalidMaxOpenInterest();
        uint256[] storage act = _active[underlying];
        if (act.length >= p.maxActiveSeries) revert TooManyActiveSeries(underlying);
        bytes32 key = keccak256(abi.encode(underlying, strike, expiry, isCall));
        uint256 existing = seriesIdOf[key];
        if (existing != 0) revert DuplicateSeries(existing);

        uint256 cap = isCall ? M.mulWad(strike, capMultiple) : 0;
        id = ++seriesCount;
        Series storage s = _series[id];
        s.underlying = underlying;
        s.expiry = uint40(expiry);
        s.isCall = isCall;
        s.strike = uint128(strike);
        s.cap = uint128(cap);
        s.maxOpenInterest = uint128(maxOpenInterest);
        seriesIdOf[key] = id;
        act.push(id);
        _activeIndex[id] = act.length;
        emit SeriesListed(id, underlying, strike, expiry, isCall, cap, maxOpenInterest);
    }

    /// @notice Changes a series' max open interest (may be below the current OI: blocks new longs).
    function setMaxOpenInterest(uint256 seriesId, uint256 maxOpenInterest) external onlyRole(PARAMS_ROLE) {
        Series storage s = _existing(seriesId);
        if (maxOpenInterest == 0 || maxOpenInterest > type(uint128).max) revert InvalidMaxOpenInterest();
        emit MaxOpenInterestSet(seriesId, s.maxOpenInterest, maxOpenInterest);
        s.maxOpenInterest = uint128(maxOpenInterest);
    }

    // ================================================================== trading

    /// @notice Buys `size` options (closing a short first, then opening a long).
    /// @param size WAD units, > 0.
    /// @param maxPremium Slippage bound: max USDC (token units) paid.
    /// @param deadline Latest block timestamp.
    /// @return receipt The trade's receipt (`amountUsdc` = USDC paid, token units).
    function buy(uint256 seriesId, uint256 size, uint256 maxPremium, uint256 deadline)
        external
        nonReentrant
        returns (TradeReceipt memory receipt)
    {
        return _trade(seriesId, _signed(size, true), maxPremium, deadline, CollateralKind.Cash);
    }

    /// @notice Sells `size` options (closing a long first, then opening a short backed by USDC).
    /// @param minProceeds Slippage bound: min USDC (token units) received.
    /// @return receipt The trade's receipt (`amountUsdc` = USDC received, token units).
    function sell(uint256 seriesId, uint256 size, uint256 minProceeds, uint256 deadline)
        external
        nonReentrant
        returns (TradeReceipt memory receipt)
    {
        return _trade(seriesId, _signed(size, false), minProceeds, deadline, CollateralKind.Cash);
    }

    /// @notice Sells calls, backing any new short with 1 unit of underlying per option.
    /// @return receipt The trade's receipt (`amountUsdc` = USDC received, token units).
    function sellWithUnderlyingCollateral(uint256 seriesId, uint256 size, uint256 minProceeds, uint256 deadline)
        external
        nonReentrant
        returns (TradeReceipt memory receipt)
    {
        return _trade(seriesId, _signed(size, false), minProceeds, deadline, CollateralKind.Underlying);
    }

    /// @notice Settles an expired series at the oracle price (permissionless). The price used must
    /// have been published at or after expiry.
    function settle(uint256 seriesId) external nonReentrant {
        Series storage s = _existing(seriesId);
        if (s.settled) revert AlreadySettled(seriesId);
        if (block.timestamp < s.expiry) revert SeriesNotExpired(seriesId);
        address u = s.underlying;
        SettleFlows memory f;
        {
            (uint256 spot, uint256 updatedAt) = router.price(u);
            if (updatedAt < s.expiry) revert SettlementPriceTooEarly(updatedAt, s.expiry);
            f.spot = spot;
        }
        f.payoff = _payoff(s, f.spot);
        s.settled = true;
        s.settlementPrice = SafeCast.toUint128(f.spot);
        s.payoffPerUnit = SafeCast.toUint128(f.payoff);
        _dropExposure(s, u);
        _removeActive(u, seriesId);

        f.owed = M.mulDivUp(s.longOI, f.payoff, WAD * usdcScale); // pool -> longs (round up)
        f.fromCash = M.mulDiv(s.shortCashOI, f.payoff, WAD * usdcScale); // cash shorts -> pool (down)
        if (s.shortUnderlyingOI != 0) {
            f.fromUnd =
                M.mulDiv(M.mulDiv(s.shortUnderlyingOI, f.payoff, f.spot), 10 ** underlyingConfig[u].decimals, WAD);
        }
        f.unlock = _lockFor(s, s.longOI);
        emit Settled(
            seriesId,
            f.spot,
            f.payoff,
            s.longOI,
            s.shortCashOI,
            s.shortUnderlyingOI,
            f.owed,
            f.fromCash,
            f.fromUnd
        );

        if (f.fromCash >= f.owed) {
            uint256 net = f.fromCash - f.owed;
            if (net > 0) usdc.safeTransfer(address(pool), net);
            pool.onTrade(int256(net), -int256(f.unlock), address(0));
        } else {
            pool.onTrade(-int256(f.owed - f.fromCash), -int256(f.unlock), address(this));
        }
        if (f.fromUnd > 0) {
            IERC20(u).safeTransfer(address(pool), f.fromUnd);
            pool.onUnderlyingReceived(u, f.fromUnd);
        }
    }

    /// @dev Removes a series' contribution from the cached exposure of `u`.
    function _dropExposure(Series storage s, address u) internal {
        int256 poolPos = int256(uint256(s.shortCashOI) + s.shortUnderlyingOI) - int256(uint256(s.longOI));
        Exposure storage e = _exposure[u];
        int256 nd = int256(e.netDelta) - M.sMulWad(poolPos, s.lastDelta);
        int256 nv = int256(e.netVega) - M.sMulWad(poolPos, s.lastVega);
        e.netDelta = SafeCast.toInt128(nd);
        e.netVega = SafeCast.toInt128(nv);
        emit ExposureUpdated(u, nd, nv);
    }

    /// @notice Redeems the caller's position in a settled series: longs receive the payoff, shorts
    /// get their collateral back minus what they owe.
    /// @return usdcOut USDC paid (token units). @return underlyingOut Underlying returned (token units).
    function redeem(uint256 seriesId) external nonReentrant returns (uint256 usdcOut, uint256 underlyingOut) {
        Series storage s = _existing(seriesId);
        if (!s.settled) revert NotSettled(seriesId);
        Position memory p = _positions[seriesId][msg.sender];
        if (p.size == 0) revert NothingToRedeem();
        uint256 payoff = s.payoffPerUnit;
        if (p.size > 0) {
            usdcOut = M.mulDiv(uint256(int256(p.size)), payoff, WAD * usdcScale);
        } else {
            uint256 abs = uint256(-int256(p.size));
            if (p.kind == CollateralKind.Cash) {
                usdcOut = p.collateral - M.mulDivUp(abs, payoff, WAD * usdcScale);
            } else {
                uint256 owedUnits = M.mulDivUp(
                    M.mulDivUp(abs, payoff, s.settlementPrice), 10 ** underlyingConfig[s.underlying].decimals, WAD
                );
                underlyingOut = p.collateral - owedUnits;
            }
        }
        delete _positions[seriesId][msg.sender];
        emit Redeemed(seriesId, msg.sender, p.size, usdcOut, underlyingOut);
        if (usdcOut > 0) usdc.safeTransfer(msg.sender, usdcOut);
        if (underlyingOut > 0) IERC20(s.underlying).safeTransfer(msg.sender, underlyingOut);
    }

    /// @notice Recomputes the cached pool net delta/vega of `underlying` from every active series
    /// at the current price (permissionless; bounded by maxActiveSeries).
    function refreshExposure(address underlying) external nonReentrant {
        if (!underlyingConfig[underlying].enabled) revert UnderlyingNotEnabled(underlying);
        (uint256 spot,) = router.price(underlying);
        uint256[] storage act = _active[underlying];
        uint256 n = act.length;
        Params memory p = params;
        int256 nd;
        int256 nv;
        for (uint256 i; i < n; ++i) {
            Series storage s = _series[act[i]];
            int256 d;
            int256 v;
            if (block.timestamp < s.expiry) {
                Unit memory g = _unit(s, spot, p.rate);
                d = g.delta;
                v = g.vega;
            }
            s.lastDelta = SafeCast.toInt128(d);
            s.lastVega = SafeCast.toInt128(v);
            int256 poolPos = int256(uint256(s.shortCashOI) + s.shortUnderlyingOI) - int256(uint256(s.longOI));
            nd += M.sMulWad(poolPos, d);
            nv += M.sMulWad(poolPos, v);
        }
        _exposure[underlying] = Exposure(SafeCast.toInt128(nd), SafeCast.toInt128(nv));
        emit ExposureUpdated(underlying, nd, nv);
    }

    // ================================================================== views

    /// @notice Prices a trade of signed `size` (> 0 buy, < 0 sell) now, without executing it.
    function quote(uint256 seriesId, int256 size) external view returns (Quote memory q) {
        Series storage s = _existing(seriesId);
        _checkTradable(s, seriesId);
        if (size == 0) revert ZeroSize();
        (q,) = _quote(s, size);
    }

    /// @notice Position of `account` in a series: signed size and collateral by kind (token units).
    function positionOf(address account, uint256 seriesId)
        external
        view
        returns (int256 size, uint256 cashCollateral, uint256 underlyingCollateral)
    {
        Position memory p = _positions[seriesId][account];
        size = p.size;
        if (p.kind == CollateralKind.Cash) cashCollateral = p.collateral;
        else if (p.kind == CollateralKind.Underlying) underlyingCollateral = p.collateral;
    }

    /// @notice Size-weighted value and greeks of `account`'s position (after expiry: intrinsic /
    /// settlement payoff value, greeks zero).
    function positionGreeks(address account, uint256 seriesId) external view returns (PositionGreeks memory r) {
        Series storage s = _existing(seriesId);
        int256 size = _positions[seriesId][account].size;
        r.size = size;
        if (size == 0) return r;
        if (s.settled) {
            r.value = M.sMulWad(size, int256(uint256(s.payoffPerUnit)));
            return r;
        }
        (uint256 spot,) = router.price(s.underlying);
        if (block.timestamp >= s.expiry) {
            r.value = M.sMulWad(size, int256(_payoff(s, spot)));
            return r;
        }
        Unit memory g = _unit(s, spot, params.rate);
        r.value = M.sMulWad(size, int256(g.price));
        r.delta = M.sMulWad(size, g.delta);
        r.gamma = M.sMulWad(size, g.gamma);
        r.vega = M.sMulWad(size, g.vega);
        r.theta = M.sMulWad(size, g.theta);
    }

    /// @notice Full series record.
    function seriesInfo(uint256 seriesId) external view returns (Series memory) {
        return _existing(seriesId);
    }

    /// @notice Pool exposure in `underlying`: cached net option delta (units) and vega, and the
    /// USDC (token units) the pool has locked for its shorts in this underlying's active series.
    function poolExposure(address underlying)
        external
        view
        returns (int256 netDelta, int256 netVega, uint256 lockedCollateral)
    {
        Exposure memory e = _exposure[underlying];
        uint256[] storage act = _active[underlying];
        uint256 n = act.length;
        for (uint256 i; i < n; ++i) {
            Series storage s = _series[act[i]];
            lockedCollateral += _lockFor(s, s.longOI);
        }
        return (e.netDelta, e.netVega, lockedCollateral);
    }

    /// @notice Active (unsettled) series ids of `underlying` (at most maxActiveSeries).
    function activeSeries(address underlying) external view returns (uint256[] memory) {
        return _active[underlying];
    }

    /// @notice Listed underlyings (at most MAX_UNDERLYINGS).
    function underlyings() external view returns (address[] memory) {
        return _underlyings;
    }

    /// @notice Mark-to-market (WAD USD) of the pool's positions in all unsettled series: mid for
    /// live series, intrinsic at the current oracle price for expired ones. Positive when the pool
    /// is net long. Bounded: MAX_UNDERLYINGS * MAX_ACTIVE_SERIES series, <= 2 BS evaluations each.
    function poolBookValue() external view returns (int256 value) {
        uint256 nu = _underlyings.length;
        uint256 rate = params.rate;
        for (uint256 j; j < nu; ++j) {
            address u = _underlyings[j];
            uint256[] storage act = _active[u];
            uint256 n = act.length;
            if (n == 0) continue;
            (uint256 spot,) = router.price(u);
            for (uint256 i; i < n; ++i) {
                Series storage s = _series[act[i]];
                int256 poolPos = int256(uint256(s.shortCashOI) + s.shortUnderlyingOI) - int256(uint256(s.longOI));
                if (poolPos == 0) continue;
                uint256 px = block.timestamp >= s.expiry ? _payoff(s, spot) : _unit(s, spot, rate).price;
                value += M.sMulWad(poolPos, int256(px));
            }
        }
    }

    /// @notice Collateral per unit for shorts of this series (WAD USD): strike (put) or cap (call).
    function collateralPerUnit(uint256 seriesId) external view returns (uint256) {
        Series storage s = _existing(seriesId);
        return s.isCall ? s.cap : s.strike;
    }

    // ================================================================== internals

    function _trade(uint256 id, int256 size, uint256 bound, uint256 deadline, CollateralKind kind)
        internal
        returns (TradeReceipt memory r)
    {
        if (block.timestamp > deadline) revert DeadlineExpired(deadline);
        Series storage s = _existing(id);
        _checkTradable(s, id);
        if (kind == CollateralKind.Underlying && !s.isCall) revert UnderlyingCollateralOnlyForCalls();
        (Quote memory q, Ext memory e) = _quote(s, size);
        uint256 amount = q.amountUsdc;
        if (size > 0) {
            if (amount > bound) revert PremiumAboveMax(amount, bound);
        } else if (amount < bound) {
            revert ProceedsBelowMin(amount, bound);
        }
        address u = s.underlying;
        {
            uint256 maxDelta = underlyingConfig[u].maxNetDelta;
            uint256 absAfter = M.abs(e.netDeltaAfter);
            if (absAfter > maxDelta && absAfter > M.abs(e.netDeltaBefore)) {
                revert NetDeltaLimit(e.netDeltaAfter, maxDelta);
            }
        }
        Fill memory f = _fill(s, id, size, kind);
        s.lastDelta = SafeCast.toInt128(e.unitDelta);
        s.lastVega = SafeCast.toInt128(e.unitVega);
        _exposure[u] = Exposure(SafeCast.toInt128(e.netDeltaAfter), SafeCast.toInt128(e.netVegaAfter));

        emit Traded(
            id,
            msg.sender,
            size,
            f.newSize,
            amount,
            q.premium,
            q.fee,
            q.spread,
            q.spot,
            q.vol,
            f.newCollateral == 0 ? CollateralKind.None : f.kind,
            f.newCollateral
        );

        _moveFunds(u, size > 0, amount, f);
        r = TradeReceipt(u, f.oldSize, f.newSize, amount, q.premium, q.fee, q.spread, q.spot, q.delta, q.gamma);
    }

    /// @dev Interactions of a trade: premium/proceeds through the pool, collateral in or out.
    function _moveFunds(address u, bool isBuy, uint256 amount, Fill memory f) internal {
        IERC20 collToken = f.kind == CollateralKind.Underlying ? IERC20(u) : usdc;
        if (isBuy) {
            if (amount > 0) usdc.safeTransferFrom(msg.sender, address(pool), amount);
            pool.onTrade(int256(amount), f.lockDelta, address(0));
            if (f.oldCollateral > f.newCollateral) collToken.safeTransfer(msg.sender, f.oldCollateral - f.newCollateral);
        } else {
            if (f.newCollateral > f.oldCollateral) {
                collToken.safeTransferFrom(msg.sender, address(this), f.newCollateral - f.oldCollateral);
            }
            pool.onTrade(-int256(amount), f.lockDelta, msg.sender);
        }
    }

    /// @dev Applies a trade of signed `size` to the position, open interest and pool lock.
    function _fill(Series storage s, uint256 id, int256 size, CollateralKind sellKind)
        internal
        returns (Fill memory f)
    {
        Position storage p = _positions[id][msg.sender];
        f.oldSize = p.size;
        f.newSize = f.oldSize + size;
        if (f.newSize > type(int128).max || f.newSize < type(int128).min) revert SizeTooLarge();
        f.oldCollateral = p.collateral;
        f.kind = p.kind;

        uint256 oldLong = f.oldSize > 0 ? uint256(f.oldSize) : 0;
        uint256 newLong = f.newSize > 0 ? uint256(f.newSize) : 0;
        uint256 oldShort = f.oldSize < 0 ? uint256(-f.oldSize) : 0;
        uint256 newShort = f.newSize < 0 ? uint256(-f.newSize) : 0;

        if (newShort > 0) {
            if (oldShort == 0) f.kind = sellKind;
            else if (newShort > oldShort && f.kind != sellKind) revert CollateralKindMismatch();
        }
        // Position collateral is always exactly the requirement of its short size (rounded up).
        f.newCollateral = newShort == 0 ? 0 : _required(s, f.kind, newShort);
        if (f.newCollateral > type(uint112).max) revert SizeTooLarge();

        if (oldShort != newShort) {
            if (f.kind == CollateralKind.Cash) {
                s.shortCashOI = SafeCast.toUint128(uint256(s.shortCashOI) + newShort - oldShort);
            } else {
                s.shortUnderlyingOI = SafeCast.toUint128(uint256(s.shortUnderlyingOI) + newShort - oldShort);
            }
        }
        if (oldLong != newLong) {
            uint256 oiBefore = s.longOI;
            uint256 oiAfter = oiBefore + newLong - oldLong;
            if (newLong > oldLong && oiAfter > s.maxOpenInterest) revert OpenInterestLimit(oiAfter, s.maxOpenInterest);
            s.longOI = uint128(oiAfter);
            f.lockDelta = int256(_lockFor(s, oiAfter)) - int256(_lockFor(s, oiBefore));
        }
        // `f.kind` keeps the old kind when a short is closed (it names the token to release).
        CollateralKind stored = newShort == 0 ? CollateralKind.None : f.kind;
        _positions[id][msg.sender] = Position(int128(f.newSize), uint112(f.newCollateral), stored);
    }

    /// @dev Prices signed `size` and computes the exposure after it.
    function _quote(Series storage s, int256 size) internal view returns (Quote memory q, Ext memory e) {
        address u = s.underlying;
        (uint256 spot,) = router.price(u);
        Params memory p = params;
        Unit memory g = _unit(s, spot, p.rate);
        uint256 abs = M.abs(size);
        bool isBuy = size > 0;

        q.spot = spot;
        q.vol = g.vol;
        q.delta = g.delta;
        q.gamma = g.gamma;
        q.vega = g.vega;
        q.theta = g.theta;
        q.mid = isBuy ? M.mulWadUp(g.price, abs) : M.mulWad(g.price, abs);
        q.fee = M.mulDivUp(M.mulWadUp(spot, abs), p.feeBps, 10_000);

        // Exposure: refresh this series' contribution at the new delta, then apply the trade.
        Exposure memory ex = _exposure[u];
        int256 poolPos = int256(uint256(s.shortCashOI) + s.shortUnderlyingOI) - int256(uint256(s.longOI));
        int256 refreshed = int256(ex.netDelta) + M.sMulWad(poolPos, g.delta - s.lastDelta);
        e.netDeltaBefore = refreshed;
        e.unitDelta = g.delta;
        e.unitVega = g.vega;
        e.netDeltaAfter = refreshed - M.sMulWad(size, g.delta);
        e.netVegaAfter = int256(ex.netVega) + M.sMulWad(poolPos, g.vega - s.lastVega) - M.sMulWad(size, g.vega);

        uint256 absAfter = M.abs(e.netDeltaAfter);
        uint256 absBefore = M.abs(refreshed);
        uint256 increase = absAfter > absBefore ? absAfter - absBefore : 0;
        q.spread = M.mulWadUp(p.vegaSpreadCoeff, M.mulWadUp(M.abs(g.vega), abs))
            + M.mulWadUp(p.exposureCoeff, M.mulWadUp(increase, spot));

        if (isBuy) {
            q.premium = q.mid + q.fee + q.spread;
            q.amountUsdc = M.divUp(q.premium, usdcScale);
        } else {
            uint256 cost = q.fee + q.spread;
            q.premium = q.mid > cost ? q.mid - cost : 0;
            q.amountUsdc = q.premium / usdcScale;
        }
    }

    /// @dev Per-unit price and greeks; capped calls as C(K) - C(K + cap). Price clamped to
    /// [0, collateral per unit].
    function _unit(Series storage s, uint256 spot, uint256 rate) internal view returns (Unit memory g) {
        uint256 strike = s.strike;
        uint256 tau = M.mulDiv(uint256(s.expiry) - block.timestamp, WAD, YEAR);
        if (tau == 0) tau = 1;
        g.vol = surface.vol(s.underlying, s.expiry, strike, spot);
        BlackScholes.Greeks memory a = BlackScholes.greeks(spot, strike, tau, g.vol, rate, s.isCall);
        g.delta = a.delta;
        g.gamma = int256(a.gamma);
        g.vega = int256(a.vega);
        g.theta = a.theta;
        if (!s.isCall) {
            g.price = M.min(a.price, strike);
            return g;
        }
        int256 price = int256(a.price);
        (BlackScholes.Greeks memory b, bool used) = _upperLeg(s, spot, tau, rate);
        if (used) {
            price -= int256(b.price);
            g.delta -= b.delta;
            g.gamma -= int256(b.gamma);
            g.vega -= int256(b.vega);
            g.theta -= b.theta;
        }
        g.price = price < 0 ? 0 : M.min(uint256(price), s.cap);
    }

    /// @dev The K + cap call of a capped call, unless negligible (then `used` is false).
    function _upperLeg(Series storage s, uint256 spot, uint256 tau, uint256 rate)
        internal
        view
        returns (BlackScholes.Greeks memory b, bool used)
    {
        uint256 k2 = uint256(s.strike) + s.cap;
        uint256 vol2 = surface.vol(s.underlying, s.expiry, k2, spot);
        if (_negligibleCall(spot, k2, tau, vol2, rate)) return (b, false);
        return (BlackScholes.greeks(spot, k2, tau, vol2, rate, true), true);
    }

    /// @notice True when d1 of a call struck at `strike` is <= -SKIP_D1, so that its BS value is
    /// below S * N(-7.2) < 3.1e-13 * S (and its delta/vega are as negligible).
    function _negligibleCall(uint256 spot, uint256 strike, uint256 tau, uint256 vol, uint256 rate)
        internal
        pure
        returns (bool)
    {
        uint256 ratio = M.fullMulDiv(strike, WAD, spot);
        if (ratio <= WAD) return false;
        int256 m = M.lnWad(int256(M.min(ratio, uint256(type(int256).max))));
        uint256 sigSqrtT = M.mulWad(vol, M.sqrtWad(tau));
        uint256 drift = M.mulWad(rate + M.mulWad(vol, vol) / 2, tau);
        return uint256(m) >= M.mulWad(SKIP_D1, sigSqrtT) + drift;
    }

    /// @notice Exposed for tests/explorers: whether the K + cap leg of a call spread would be skipped.
    function isNegligibleCall(uint256 spot, uint256 strike, uint256 tau, uint256 vol, uint256 rate)
        external
        pure
        returns (bool)
    {
        return _negligibleCall(spot, strike, tau, vol, rate);
    }

    function _payoff(Series storage s, uint256 spot) internal view returns (uint256) {
        uint256 k = s.strike;
        if (s.isCall) return spot > k ? M.min(spot - k, s.cap) : 0;
        return k > spot ? k - spot : 0;
    }

    /// @dev Collateral (token units) a short of `size` needs: USDC per unit of strike/cap, rounded
    /// up; or 1 underlying per option, rounded up.
    function _required(Series storage s, CollateralKind kind, uint256 size) internal view returns (uint256) {
        if (kind == CollateralKind.Underlying) {
            return M.mulDivUp(size, 10 ** underlyingConfig[s.underlying].decimals, WAD);
        }
        return M.mulDivUp(size, s.isCall ? s.cap : s.strike, WAD * usdcScale);
    }

    /// @dev USDC (token units) the pool locks for `longOI` user longs, rounded up.
    function _lockFor(Series storage s, uint256 longOI) internal view returns (uint256) {
        return M.mulDivUp(longOI, s.isCall ? s.cap : s.strike, WAD * usdcScale);
    }

    function _existing(uint256 id) internal view returns (Series storage s) {
        s = _series[id];
        if (s.underlying == address(0)) revert UnknownSeries(id);
    }

    function _checkTradable(Series storage s, uint256 id) internal view {
        if (s.settled || block.timestamp >= s.expiry) revert SeriesExpired(id);
    }

    function _signed(uint256 size, bool isBuy) internal pure returns (int256) {
        if (size == 0) revert ZeroSize();
        if (size > uint256(uint128(type(int128).max))) revert SizeTooLarge();
        return isBuy ? int256(size) : -int256(size);
    }

    function _removeActive(address u, uint256 id) internal {
        uint256[] storage act = _active[u];
        uint256 idx = _activeIndex[id];
        uint256 last = act[act.length - 1];
        act[idx - 1] = last;
        _activeIndex[last] = idx;
        act.pop();
        delete _activeIndex[id];
    }
}
