// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {LegResult} from "../interfaces/IVenueAdapter.sol";
import {IOptionVenueAdapter} from "../interfaces/IOptionVenueAdapter.sol";
import {IPerpVenueAdapter} from "../interfaces/IPerpVenueAdapter.sol";
import {ISpotVenueAdapter} from "../interfaces/ISpotVenueAdapter.sol";
import {RiskPolicy} from "./RiskPolicy.sol";
import {TreasuryLedger} from "./TreasuryLedger.sol";
import {HedgeApprovals} from "./HedgeApprovals.sol";

/// @title TreasuryVault
/// @notice Holds a treasury (underlyings such as WETH and WBTC, and a quote token such as USDC),
/// its option and perp positions (through allow-listed venue adapters run by DELEGATECALL, so the
/// vault itself is the venue account) and executes hedge bundles atomically: every leg within its
/// caps and slippage bound, and afterwards every touched underlying's net delta inside the governed
/// band, or the whole transaction reverts. A keeper can do nothing the RiskPolicy does not allow.
///
/// Net delta per underlying = spot balance + option delta + perp size - liabilities (TreasuryLedger).
/// Option delta in the rebalance path comes from a greeks cache (see `OptionBook`), rebuilt exactly
/// whenever it is older than `greeksCacheMaxAge` or the price moved more than
/// `greeksCacheMaxMoveBps` since it was built; the explorer views always price every series exactly.
contract TreasuryVault is AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");

    uint256 public constant MAX_UNDERLYINGS = 4;
    uint256 public constant MAX_PERP_VENUES = 3;
    uint256 public constant MAX_LEGS = 8;
    /// @dev Treasury withdrawals of the quote token keep this multiple of every perp position's
    /// maintenance margin (less its equity) in the vault, so a withdrawal never strips needed margin.
    uint256 public constant MARGIN_BUFFER_MULTIPLE = 2;
    /// @dev Tolerance of the hedge-ratio bounds (WAD): 1e-6 of the gap.
    uint256 private constant RATIO_TOLERANCE = 1e12;

    enum Mode {
        Normal,
        ReduceOnly,
        Paused
    }

    enum LegKind {
        Option, // id = seriesId, amount = signed size (+ buy), bound = max premium / min proceeds (USD WAD)
        Perp, // amount = signed size delta, bound = acceptable price (USD WAD)
        Spot, // amount > 0: spend `amount` quote units for the underlying; < 0: sell |amount| underlying units; bound = min out
        MarginDeposit, // amount = quote token units
        MarginWithdraw, // amount = quote token units
        OptionRedeem // id = seriesId (after settlement)
    }

    struct Leg {
        LegKind kind;
        address adapter;
        address underlying;
        uint256 id;
        int256 amount;
        uint256 bound;
    }

    /// @notice Per-leg audit record emitted with every rebalance: venue (adapter), instrument (kind,
    /// id, and the underlying of its DeltaRecord), signed size traded, delta change, average price
    /// paid, the oracle price and the fee. Margin and redeem legs carry their amount as `sizeChange`.
    struct LegRecord {
        LegKind kind;
        address adapter;
        uint256 id;
        int256 sizeChange;
        int256 deltaChange;
        uint256 executionPrice;
        uint256 oraclePrice;
        uint256 fee;
    }

    /// @notice Pre- and post-trade net delta of one touched underlying.
    struct DeltaRecord {
        address underlying;
        int256 preNetDelta;
        int256 postNetDelta;
        int256 target;
        uint256 band;
        uint256 price;
    }

    /// @notice Cached aggregate option greeks of one underlying: delta(S) ~ delta0 + gamma0 (S - refPrice).
    struct OptionBook {
        int128 delta0; // underlying units (WAD) at refPrice
        int128 gamma0; // d(delta)/d(price) x 1e18, summed over series
        uint96 refPrice; // oracle price the cache is anchored to (WAD; up to 7.9e10 USD)
        uint32 refTime; // when the cache was last rebuilt exactly
        uint128 absSize; // sum of |size| over held series (underlying units)
    }

    struct HeldSeries {
        address adapter;
        uint96 seriesId;
    }

    /// @notice Exposure of one underlying as explorers see it (options priced exactly).
    struct Exposure {
        int256 spot;
        int256 options;
        int256 perps;
        uint256 liabilities;
        int256 net;
        int256 target;
        uint256 band;
        bool rebalanceDue;
        uint256 price;
        uint256 priceUpdatedAt;
    }

    struct Window {
        uint64 start;
        uint128 turnoverUsd;
    }

    // ------------------------------------------------------------------ immutables

    RiskPolicy public immutable policy;
    IOracleRouter public immutable oracle;
    TreasuryLedger public immutable ledger;
    HedgeApprovals public immutable approvals;
    IERC20 public immutable quoteToken;
    uint8 private immutable _quoteDecimals;

    // ------------------------------------------------------------------ state

    Mode public mode;
    uint64 public epoch;
    uint64 public lastRebalanceAt;
    Window public window;

    address[] private _underlyings;
    mapping(address underlying => uint8) private _decimalsPlusOne; // 0 = not listed
    mapping(address underlying => OptionBook) private _books;
    mapping(address underlying => HeldSeries[]) private _held;
    mapping(bytes32 key => uint256) private _heldIndexPlusOne;
    mapping(address underlying => address[]) private _perpVenues;
    mapping(address underlying => Window) private _premiumWindow;

    // ------------------------------------------------------------------ events

    event Rebalanced(
        uint64 indexed epoch,
        bytes32 indexed inputsHash,
        address indexed keeper,
        uint8 tier,
        uint256 notionalUsd,
        DeltaRecord[] deltas,
        LegRecord[] legs
    );
    event OptionBookRebuilt(address indexed underlying, int256 delta0, int256 gamma0, uint256 refPrice, uint256 absSize);
    event SeriesHeld(address indexed underlying, address indexed adapter, uint256 indexed seriesId, bool held);
    event PerpVenueRegistered(address indexed underlying, address indexed adapter);
    event ModeChanged(Mode oldMode, Mode newMode, address indexed by);
    event EmergencyUnwind(
        address indexed underlying, address indexed adapter, address indexed guardian, LegResult result
    );
    event Deposited(address indexed token, address indexed from, uint256 amount);
    event Withdrawn(address indexed token, address indexed to, uint256 amount);
    event UnderlyingAdded(address indexed underlying, uint8 decimals);

    // ------------------------------------------------------------------ errors

    error Paused();
    error ReduceOnlyViolation(uint256 legIndex);
    error DeadlinePassed(uint256 deadline);
    error WrongEpoch(uint64 expected, uint64 given);
    error Cooldown(uint256 readyAt);
    error NoLegs();
    error TooManyLegs(uint256 count);
    error VenueNotAllowed(address adapter);
    error UnknownUnderlying(address underlying);
    error HedgingDisabled(address underlying);
    error UnderlyingMismatch(uint256 legIndex, address expected, address reported);
    error LegSizeAboveCap(uint256 legIndex, uint256 size, uint256 cap);
    error SlippageTooHigh(uint256 legIndex, uint256 executionPrice, uint256 oraclePrice, uint256 fee);
    error OracleDeviation(uint256 legIndex, uint256 venuePrice, uint256 oraclePrice);
    error OutsideBand(address underlying, int256 netDelta, int256 target, uint256 band);
    error HedgeRatioOutOfBounds(address underlying, uint256 ratio, uint256 minRatio, uint256 maxRatio);
    error PerpPositionAboveCap(address underlying, uint256 size, uint256 cap);
    error TooManyOpenSeries(address underlying, uint256 count, uint256 cap);
    error TooManyPerpVenues(address underlying);
    error TurnoverCapExceeded(uint256 turnover, uint256 cap);
    error PremiumBudgetExceeded(address underlying, uint256 spent, uint256 budget);
    error StaleOracle(address asset, uint256 updatedAt, uint256 maxAge);
    error InvalidAmount();
    error UnsupportedToken(address token);
    error MarginNeeded(uint256 balanceAfter, uint256 reserve);
    error NotRegisteredPerpVenue(address adapter);
    error TooManyUnderlyings();
    error InvalidMode();

    // ------------------------------------------------------------------ construction

    /// @param policy_ The RiskPolicy every limit is read from.
    /// @param oracle_ The oracle router (prices for every check and view).
    /// @param ledger_ Liabilities and buckets.
    /// @param approvals_ The approval queue for bundles above tier 1.
    /// @param quoteToken_ The quote/settlement token (USDC).
    /// @param underlyings_ Initial underlyings (at most MAX_UNDERLYINGS).
    /// @param governance Receives DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE (the Timelock in production).
    constructor(
        RiskPolicy policy_,
        IOracleRouter oracle_,
        TreasuryLedger ledger_,
        HedgeApprovals approvals_,
        IERC20 quoteToken_,
        address[] memory underlyings_,
        address governance
    ) {
        policy = policy_;
        oracle = oracle_;
        ledger = ledger_;
        approvals = approvals_;
        quoteToken = quoteToken_;
        _quoteDecimals = IERC20Metadata(address(quoteToken_)).decimals();
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
        for (uint256 i; i < underlyings_.length; ++i) {
            _addUnderlying(underlyings_[i]);
        }
    }

    // ================================================================== rebalance

    /// @notice Executes `legs` in order as one atomic hedge. KEEPER_ROLE only; not while paused (in
    /// reduce-only mode every leg must reduce a position or the underlying's |net delta - target|).
    /// @param legs The bundle (1..MAX_LEGS legs).
    /// @param inputsHash keccak256 of the keeper's canonical input snapshot (its journal holds the data).
    /// @param epoch_ Must equal `epoch`; it then increments, so a racing second keeper reverts cheaply.
    /// @param deadline Latest timestamp at which the bundle may execute.
    function rebalance(Leg[] calldata legs, bytes32 inputsHash, uint64 epoch_, uint256 deadline)
        external
        nonReentrant
        onlyRole(KEEPER_ROLE)
    {
        // Cheap checks first: a losing racer pays little.
        uint64 current = epoch;
        if (epoch_ != current) revert WrongEpoch(current, epoch_);
        Mode m = mode;
        if (m == Mode.Paused) revert Paused();
        if (block.timestamp > deadline) revert DeadlinePassed(deadline);
        if (legs.length == 0) revert NoLegs();
        if (legs.length > MAX_LEGS) revert TooManyLegs(legs.length);

        RiskPolicy.GlobalLimits memory g = policy.globalLimits();
        if (block.timestamp < uint256(lastRebalanceAt) + g.keeperCooldown) {
            revert Cooldown(uint256(lastRebalanceAt) + g.keeperCooldown);
        }

        Touched memory t = _newTouched();
        // Pre-trade state of every touched underlying, before any leg runs.
        for (uint256 i; i < legs.length; ++i) {
            _touch(t, legs[i].underlying, g);
        }
        (uint8 tier, uint256 notional) = _authorize(legs, inputsHash, epoch_, deadline, t, g);
        (LegRecord[] memory records, uint256 turnover) = _runLegs(legs, t, g, m == Mode.ReduceOnly, deadline);
        _checkWindows(t, turnover, g);
        DeltaRecord[] memory deltas = _postChecks(t, g, m == Mode.ReduceOnly);

        epoch = current + 1;
        lastRebalanceAt = uint64(block.timestamp);
        emit Rebalanced(current, inputsHash, msg.sender, tier, notional, deltas, records);
    }

    /// @notice The hash approvers sign off: binds chain, vault, legs, inputsHash, epoch and deadline.
    function bundleHash(Leg[] calldata legs, bytes32 inputsHash, uint64 epoch_, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), legs, inputsHash, epoch_, deadline));
    }

    /// @notice Rebuilds the option greeks cache of `underlying` exactly (bounded by the policy's max
    /// open series). Anyone may call it; it changes no position.
    function rebuildOptionBook(address underlying) external nonReentrant {
        _requireListed(underlying);
        (uint256 price,) = oracle.price(underlying);
        _rebuildBook(underlying, price);
    }

    // ================================================================== guardian and governance

    /// @notice Stops rebalances, proposals and new risk at once. GUARDIAN_ROLE.
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _setMode(Mode.Paused);
    }

    /// @notice Allows only rebalances whose every leg reduces risk. GUARDIAN_ROLE. Not from Paused:
    /// leaving a pause in any direction is governance's call.
    function setReduceOnly() external onlyRole(GUARDIAN_ROLE) {
        if (mode == Mode.Paused) revert Paused();
        _setMode(Mode.ReduceOnly);
    }

    /// @notice Back to normal operation. GOVERNANCE_ROLE only (the guardian can stop, not restart).
    function unpause() external onlyRole(GOVERNANCE_ROLE) {
        _setMode(Mode.Normal);
    }

    /// @notice Closes the vault's whole perp position on a registered venue, with the price no worse
    /// than `acceptablePrice` and within the policy's slippage of the oracle. GUARDIAN_ROLE; works in
    /// every mode, and on a venue governance has since removed from the allow-list.
    function emergencyUnwind(address adapter, address underlying, uint256 acceptablePrice, uint256 deadline)
        external
        nonReentrant
        onlyRole(GUARDIAN_ROLE)
    {
        if (!_isPerpVenue(underlying, adapter)) revert NotRegisteredPerpVenue(adapter);
        (int256 size,,) = IPerpVenueAdapter(adapter).position(address(this), underlying);
        if (size == 0) revert InvalidAmount();
        bytes memory ret = _delegate(
            adapter, abi.encodeCall(IPerpVenueAdapter.trade, (underlying, -size, acceptablePrice, deadline))
        );
        LegResult memory r = abi.decode(ret, (LegResult));
        _checkSlippage(0, r, policy.globalLimits().maxSlippageBps, true);
        emit EmergencyUnwind(underlying, adapter, msg.sender, r);
    }

    /// @notice Lists a new underlying (at most MAX_UNDERLYINGS). GOVERNANCE_ROLE.
    function addUnderlying(address underlying) external onlyRole(GOVERNANCE_ROLE) {
        _addUnderlying(underlying);
    }

    // ================================================================== treasury

    /// @notice Pulls `amount` of a listed underlying or the quote token from the caller. TREASURER_ROLE.
    function deposit(address token, uint256 amount) external nonReentrant onlyRole(TREASURER_ROLE) {
        if (amount == 0) revert InvalidAmount();
        if (token != address(quoteToken) && _decimalsPlusOne[token] == 0) revert UnsupportedToken(token);
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(token, msg.sender, amount);
    }

    /// @notice Sends `amount` of `token` to `to`. TREASURER_ROLE. A quote-token withdrawal must leave
    /// the margin reserve (see `marginReserve`) in the vault.
    function withdraw(address token, uint256 amount, address to) external nonReentrant onlyRole(TREASURER_ROLE) {
        if (amount == 0 || to == address(0)) revert InvalidAmount();
        if (token != address(quoteToken) && _decimalsPlusOne[token] == 0) revert UnsupportedToken(token);
        IERC20(token).safeTransfer(to, amount);
        if (token == address(quoteToken)) {
            uint256 reserve = marginReserve();
            uint256 balance = IERC20(token).balanceOf(address(this));
            if (balance < reserve) revert MarginNeeded(balance, reserve);
        }
        emit Withdrawn(token, to, amount);
    }

    // ================================================================== views

    /// @notice True while the guardian's pause is in force.
    function isPaused() external view returns (bool) {
        return mode == Mode.Paused;
    }

    /// @notice The listed underlyings.
    function underlyings() external view returns (address[] memory) {
        return _underlyings;
    }

    /// @notice Option series the vault holds on `underlying`.
    function heldSeries(address underlying) external view returns (HeldSeries[] memory) {
        return _held[underlying];
    }

    /// @notice Perp venues (adapters) the vault has used on `underlying`.
    function perpVenues(address underlying) external view returns (address[] memory) {
        return _perpVenues[underlying];
    }

    /// @notice The option greeks cache of `underlying`.
    function optionBook(address underlying) external view returns (OptionBook memory) {
        return _books[underlying];
    }

    /// @notice Option premium paid on `underlying` in its premium window, as last recorded (raw: the
    /// amount counts against `premiumBudgetPerWindow` only while block.timestamp < windowStart +
    /// globalLimits().window; from then on the next option buy starts a new window at zero).
    /// @return spentUsd Premium paid in the window (USD, WAD).
    /// @return windowStart When the window began (0: never).
    function premiumSpent(address underlying) external view returns (uint256 spentUsd, uint64 windowStart) {
        Window memory w = _premiumWindow[underlying];
        return (w.turnoverUsd, w.start);
    }

    /// @notice Exposure of `underlying` with every option series priced exactly at the oracle price.
    function exposure(address underlying) public view returns (Exposure memory e) {
        _requireListed(underlying);
        (e.price, e.priceUpdatedAt) = oracle.price(underlying);
        e.spot = int256(_toWad(IERC20(underlying).balanceOf(address(this)), _decimalsPlusOne[underlying] - 1));
        HeldSeries[] storage held = _held[underlying];
        for (uint256 i; i < held.length; ++i) {
            (, int256 d,) = IOptionVenueAdapter(held[i].adapter).positionGreeks(address(this), held[i].seriesId);
            e.options += d;
        }
        e.perps = _perpSize(underlying);
        e.liabilities = ledger.totalLiabilities(underlying);
        e.net = e.spot + e.options + e.perps - int256(e.liabilities);
        RiskPolicy.UnderlyingLimits memory lim = policy.rawUnderlyingLimits(underlying);
        e.target = lim.targetDelta;
        e.band = lim.band;
        e.rebalanceDue = lim.enabled && _abs(e.net - e.target) > lim.band;
    }

    /// @notice Net asset value in USD (WAD): holdings at oracle prices, perp equity, option marks,
    /// less liabilities; with the prices and their timestamps, per underlying, that were used.
    function nav() external view returns (int256 navUsd, uint256[] memory prices, uint256[] memory updatedAt) {
        uint256 nU = _underlyings.length;
        prices = new uint256[](nU);
        updatedAt = new uint256[](nU);
        navUsd = int256(_toWad(quoteToken.balanceOf(address(this)), _quoteDecimals));
        for (uint256 i; i < nU; ++i) {
            address u = _underlyings[i];
            (prices[i], updatedAt[i]) = oracle.price(u);
            int256 units = int256(_toWad(IERC20(u).balanceOf(address(this)), _decimalsPlusOne[u] - 1))
                - int256(ledger.totalLiabilities(u));
            navUsd += units * int256(prices[i]) / 1e18;
            address[] storage venues = _perpVenues[u];
            for (uint256 j; j < venues.length; ++j) {
                (, int256 equity,) = IPerpVenueAdapter(venues[j]).position(address(this), u);
                navUsd += equity;
            }
            HeldSeries[] storage held = _held[u];
            for (uint256 j; j < held.length; ++j) {
                navUsd += IOptionVenueAdapter(held[j].adapter).positionValue(address(this), held[j].seriesId);
            }
        }
    }

    /// @notice Quote tokens (token units) the vault keeps for its perp positions: per position,
    /// MARGIN_BUFFER_MULTIPLE x maintenance margin less its equity, when positive.
    function marginReserve() public view returns (uint256 reserve) {
        uint256 wad;
        for (uint256 i; i < _underlyings.length; ++i) {
            address u = _underlyings[i];
            address[] storage venues = _perpVenues[u];
            for (uint256 j; j < venues.length; ++j) {
                (, int256 equity, uint256 maint) = IPerpVenueAdapter(venues[j]).position(address(this), u);
                int256 need = int256(maint * MARGIN_BUFFER_MULTIPLE) - equity;
                if (need > 0) wad += uint256(need);
            }
        }
        reserve = _fromWadUp(wad, _quoteDecimals);
    }

    // ================================================================== internals: per-bundle state

    /// @dev In-memory state of the underlyings a bundle touches (at most MAX_UNDERLYINGS).
    struct Touched {
        uint256 count;
        address[MAX_UNDERLYINGS] underlying;
        uint256[MAX_UNDERLYINGS] price;
        int256[MAX_UNDERLYINGS] pre;
        int256[MAX_UNDERLYINGS] running;
        uint256[MAX_UNDERLYINGS] premium;
        RiskPolicy.UnderlyingLimits[MAX_UNDERLYINGS] limits;
    }

    function _newTouched() private pure returns (Touched memory t) {}

    function _touch(Touched memory t, address u, RiskPolicy.GlobalLimits memory g) private {
        for (uint256 i; i < t.count; ++i) {
            if (t.underlying[i] == u) return;
        }
        uint8 decPlusOne = _decimalsPlusOne[u];
        if (decPlusOne == 0) revert UnknownUnderlying(u);
        RiskPolicy.UnderlyingLimits memory lim = policy.underlyingLimits(u);
        if (!lim.enabled) revert HedgingDisabled(u);
        (uint256 price, uint256 updatedAt) = oracle.price(u);
        if (block.timestamp - updatedAt > g.oracleMaxAge) revert StaleOracle(u, updatedAt, g.oracleMaxAge);
        uint256 k = t.count++;
        t.underlying[k] = u;
        t.price[k] = price;
        t.limits[k] = lim;
        (int256 net,) = _netDelta(u, decPlusOne - 1, price, g);
        t.pre[k] = net;
        t.running[k] = net;
    }

    function _indexOf(Touched memory t, address u) private pure returns (uint256) {
        for (uint256 i; i < t.count; ++i) {
            if (t.underlying[i] == u) return i;
        }
        revert UnknownUnderlying(u); // unreachable: every leg's underlying was touched first
    }

    /// @dev Net delta in the rebalance path: the option part from the cache, rebuilt if stale.
    function _netDelta(address u, uint8 dec, uint256 price, RiskPolicy.GlobalLimits memory g)
        private
        returns (int256 net, int256 perp)
    {
        perp = _perpSize(u);
        int256 spot = int256(_toWad(IERC20(u).balanceOf(address(this)), dec));
        net = spot + _cachedOptionDelta(u, price, g) + perp - int256(ledger.totalLiabilities(u));
    }

    function _cachedOptionDelta(address u, uint256 price, RiskPolicy.GlobalLimits memory g)
        private
        returns (int256)
    {
        if (_held[u].length == 0) return 0;
        OptionBook memory b = _books[u];
        uint256 move = price > b.refPrice ? price - b.refPrice : b.refPrice - price;
        bool stale = block.timestamp - b.refTime > g.greeksCacheMaxAge
            || move * 10_000 > uint256(b.refPrice) * g.greeksCacheMaxMoveBps;
        if (stale) {
            b = _rebuildBook(u, price);
        }
        return int256(b.delta0) + int256(b.gamma0) * (int256(price) - int256(uint256(b.refPrice))) / 1e18;
    }

    function _rebuildBook(address u, uint256 price) private returns (OptionBook memory b) {
        HeldSeries[] storage held = _held[u];
        int256 delta;
        int256 gamma;
        uint256 absSize;
        for (uint256 i; i < held.length; ++i) {
            (int256 size, int256 d, int256 gm) =
                IOptionVenueAdapter(held[i].adapter).positionGreeks(address(this), held[i].seriesId);
            delta += d;
            gamma += gm;
            absSize += _abs(size);
        }
        b = OptionBook(int128(delta), int128(gamma), uint96(price), uint32(block.timestamp), uint128(absSize));
        _books[u] = b;
        emit OptionBookRebuilt(u, delta, gamma, price, absSize);
    }

    function _perpSize(address u) private view returns (int256 size) {
        address[] storage venues = _perpVenues[u];
        for (uint256 i; i < venues.length; ++i) {
            size += IPerpVenueAdapter(venues[i]).positionSize(address(this), u);
        }
    }

    /// @dev USD notional of the bundle as requested (before execution), for the authority tier.
    function _bundleNotional(Leg[] calldata legs, Touched memory t) private view returns (uint256 notional) {
        for (uint256 i; i < legs.length; ++i) {
            Leg calldata leg = legs[i];
            uint256 price = t.price[_indexOf(t, leg.underlying)];
            uint256 amount = _abs(leg.amount);
            if (leg.kind == LegKind.Option || leg.kind == LegKind.Perp) {
                notional += amount * price / 1e18;
            } else if (leg.kind == LegKind.Spot) {
                notional += leg.amount > 0
                    ? _toWad(amount, _quoteDecimals)
                    : _toWad(amount, _decimalsPlusOne[leg.underlying] - 1) * price / 1e18;
            }
        }
    }

    // ================================================================== internals: legs

    /// @dev Authority tier from the requested notional; above tier 1 the exact bundle must be approved.
    function _authorize(
        Leg[] calldata legs,
        bytes32 inputsHash,
        uint64 epoch_,
        uint256 deadline,
        Touched memory t,
        RiskPolicy.GlobalLimits memory g
    ) private returns (uint8 tier, uint256 notional) {
        notional = _bundleNotional(legs, t);
        tier = notional >= g.tier2Notional ? 2 : notional >= g.tier1Notional ? 1 : 0;
        if (tier > 0) approvals.consume(bundleHash(legs, inputsHash, epoch_, deadline), tier);
    }

    function _runLegs(
        Leg[] calldata legs,
        Touched memory t,
        RiskPolicy.GlobalLimits memory g,
        bool reduceOnly,
        uint256 deadline
    ) private returns (LegRecord[] memory records, uint256 turnover) {
        records = new LegRecord[](legs.length);
        for (uint256 i; i < legs.length; ++i) {
            LegResult memory r = _runLeg(legs[i], i, t, g, reduceOnly, deadline);
            Leg calldata leg = legs[i];
            int256 sizeChange = !_isTrade(leg.kind)
                ? leg.amount
                : leg.kind == LegKind.Spot ? r.deltaChange : r.positionAfter - r.positionBefore;
            records[i] = LegRecord(
                leg.kind, leg.adapter, leg.id, sizeChange, r.deltaChange, r.executionPrice, r.oraclePrice, r.fee
            );
            turnover += r.notionalUsd;
        }
    }

    /// @dev Executes one leg and applies its per-leg checks and bookkeeping.
    function _runLeg(
        Leg calldata leg,
        uint256 i,
        Touched memory t,
        RiskPolicy.GlobalLimits memory g,
        bool reduceOnly,
        uint256 deadline
    ) private returns (LegResult memory r) {
        uint256 k = _indexOf(t, leg.underlying);
        r = _executeLeg(leg, deadline);
        if (_isTrade(leg.kind)) {
            if (r.underlying != leg.underlying) revert UnderlyingMismatch(i, leg.underlying, r.underlying);
            _checkLeg(i, leg.kind, r, t.limits[k], g);
            // The venue must have priced against (nearly) the vault's own oracle price.
            uint256 px = t.price[k];
            uint256 dev = r.oraclePrice > px ? r.oraclePrice - px : px - r.oraclePrice;
            if (dev * 10_000 > px * g.oracleMaxDeviationBps) revert OracleDeviation(i, r.oraclePrice, px);
            if (reduceOnly) _checkReduces(i, r, t, k);
            t.running[k] += r.deltaChange;
            if (leg.kind == LegKind.Option && r.cashFlow < 0) t.premium[k] += uint256(-r.cashFlow);
        }
        _afterLeg(leg, r, t, k);
    }

    function _executeLeg(Leg calldata leg, uint256 deadline) private returns (LegResult memory r) {
        if (!policy.venueAllowed(leg.adapter)) revert VenueNotAllowed(leg.adapter);
        bytes memory data;
        LegKind kind = leg.kind;
        if (kind == LegKind.Option) {
            data = abi.encodeCall(IOptionVenueAdapter.trade, (leg.id, leg.amount, leg.bound, deadline));
        } else if (kind == LegKind.Perp) {
            data = abi.encodeCall(IPerpVenueAdapter.trade, (leg.underlying, leg.amount, leg.bound, deadline));
        } else if (kind == LegKind.Spot) {
            if (leg.amount == 0) revert InvalidAmount();
            data = leg.amount > 0
                ? abi.encodeCall(
                    ISpotVenueAdapter.swap,
                    (address(quoteToken), leg.underlying, uint256(leg.amount), leg.bound, deadline)
                )
                : abi.encodeCall(
                    ISpotVenueAdapter.swap,
                    (leg.underlying, address(quoteToken), uint256(-leg.amount), leg.bound, deadline)
                );
        } else if (kind == LegKind.MarginDeposit || kind == LegKind.MarginWithdraw) {
            if (leg.amount <= 0) revert InvalidAmount();
            data = kind == LegKind.MarginDeposit
                ? abi.encodeCall(IPerpVenueAdapter.depositMargin, (leg.underlying, uint256(leg.amount)))
                : abi.encodeCall(IPerpVenueAdapter.withdrawMargin, (leg.underlying, uint256(leg.amount)));
        } else {
            data = abi.encodeCall(IOptionVenueAdapter.redeem, (leg.id));
        }
        bytes memory ret = _delegate(leg.adapter, data);
        if (_isTrade(kind)) r = abi.decode(ret, (LegResult));
        else r.underlying = leg.underlying;
    }

    function _isTrade(LegKind kind) private pure returns (bool) {
        return kind == LegKind.Option || kind == LegKind.Perp || kind == LegKind.Spot;
    }

    function _checkLeg(
        uint256 i,
        LegKind kind,
        LegResult memory r,
        RiskPolicy.UnderlyingLimits memory lim,
        RiskPolicy.GlobalLimits memory g
    ) private pure {
        uint256 cap = kind == LegKind.Option ? lim.maxOptionLegSize : kind == LegKind.Perp ? lim.maxPerpLegSize : lim.maxSpotLegSize;
        if (r.size > cap) revert LegSizeAboveCap(i, r.size, cap);
        _checkSlippage(i, r, g.maxSlippageBps, kind != LegKind.Option);
    }

    /// @dev Fees never above the slippage budget of the notional; linear legs also fill within it of the oracle.
    function _checkSlippage(uint256 i, LegResult memory r, uint16 maxBps, bool linear) private pure {
        bool bad = r.fee * 10_000 > r.notionalUsd * maxBps;
        if (linear && !bad) {
            uint256 diff = r.executionPrice > r.oraclePrice ? r.executionPrice - r.oraclePrice : r.oraclePrice - r.executionPrice;
            bad = diff * 10_000 > r.oraclePrice * maxBps;
        }
        if (bad) revert SlippageTooHigh(i, r.executionPrice, r.oraclePrice, r.fee);
    }

    /// @dev Reduce-only: the leg shrinks its instrument's position, or moves net delta toward target
    /// without overshooting it.
    function _checkReduces(uint256 i, LegResult memory r, Touched memory t, uint256 k) private pure {
        if (_abs(r.positionAfter) < _abs(r.positionBefore)) return;
        int256 target = t.limits[k].targetDelta;
        int256 before = t.running[k] - target;
        int256 afterLeg = before + r.deltaChange;
        if (_abs(afterLeg) > _abs(before)) revert ReduceOnlyViolation(i);
    }

    /// @dev Bookkeeping after a leg: option cache and series registry, perp venue registry.
    function _afterLeg(Leg calldata leg, LegResult memory r, Touched memory t, uint256 k) private {
        LegKind kind = leg.kind;
        if (kind == LegKind.Option) {
            _applyOptionTrade(leg.underlying, r, t.price[k]);
            _setHeld(leg.underlying, leg.adapter, leg.id, r.positionAfter != 0);
        } else if (kind == LegKind.OptionRedeem) {
            // Redeeming closes the position; an expired series carries no delta, so the cache holds.
            _setHeld(leg.underlying, leg.adapter, leg.id, false);
        } else if (kind != LegKind.Spot && !_isPerpVenue(leg.underlying, leg.adapter)) {
            address[] storage venues = _perpVenues[leg.underlying];
            if (venues.length >= MAX_PERP_VENUES) revert TooManyPerpVenues(leg.underlying);
            venues.push(leg.adapter);
            emit PerpVenueRegistered(leg.underlying, leg.adapter);
        }
    }

    /// @dev delta(S) = delta0 + gamma0 (S - ref): adding a position with delta d and gamma gm at S
    /// keeps the model exact at S: delta0 += d - gm (S - ref), gamma0 += gm.
    function _applyOptionTrade(address u, LegResult memory r, uint256 price) private {
        OptionBook storage b = _books[u];
        if (_held[u].length == 0 && b.absSize == 0) {
            // An empty book starts afresh: drop the closed positions' residual model error.
            b.delta0 = 0;
            b.gamma0 = 0;
            b.refPrice = uint96(price);
            b.refTime = uint32(block.timestamp);
        }
        int256 shift = r.gammaChange * (int256(price) - int256(uint256(b.refPrice))) / 1e18;
        b.delta0 = int128(int256(b.delta0) + r.deltaChange - shift);
        b.gamma0 = int128(int256(b.gamma0) + r.gammaChange);
        int256 abs = int256(uint256(b.absSize)) + int256(_abs(r.positionAfter)) - int256(_abs(r.positionBefore));
        b.absSize = uint128(uint256(abs > 0 ? abs : int256(0)));
    }

    function _setHeld(address u, address adapter, uint256 seriesId, bool held) private {
        bytes32 key = keccak256(abi.encode(u, adapter, seriesId));
        uint256 idx = _heldIndexPlusOne[key];
        if (held == (idx != 0)) return;
        HeldSeries[] storage list = _held[u];
        if (held) {
            list.push(HeldSeries(adapter, uint96(seriesId)));
            _heldIndexPlusOne[key] = list.length;
        } else {
            uint256 last = list.length - 1;
            if (idx - 1 != last) {
                HeldSeries memory moved = list[last];
                list[idx - 1] = moved;
                _heldIndexPlusOne[keccak256(abi.encode(u, moved.adapter, uint256(moved.seriesId)))] = idx;
            }
            list.pop();
            delete _heldIndexPlusOne[key];
        }
        emit SeriesHeld(u, adapter, seriesId, held);
    }

    // ================================================================== internals: post-trade checks

    function _checkWindows(Touched memory t, uint256 turnover, RiskPolicy.GlobalLimits memory g) private {
        Window memory w = window;
        if (block.timestamp >= uint256(w.start) + g.window) w = Window(uint64(block.timestamp), 0);
        uint256 total = w.turnoverUsd + turnover;
        if (total > g.turnoverCapPerWindow) revert TurnoverCapExceeded(total, g.turnoverCapPerWindow);
        window = Window(w.start, uint128(total));
        for (uint256 k; k < t.count; ++k) {
            if (t.premium[k] == 0) continue;
            address u = t.underlying[k];
            Window memory pw = _premiumWindow[u];
            if (block.timestamp >= uint256(pw.start) + g.window) pw = Window(uint64(block.timestamp), 0);
            uint256 spent = pw.turnoverUsd + t.premium[k];
            uint256 budget = t.limits[k].premiumBudgetPerWindow;
            if (spent > budget) revert PremiumBudgetExceeded(u, spent, budget);
            _premiumWindow[u] = Window(pw.start, uint128(spent));
        }
    }

    /// @dev In reduce-only mode the per-leg reduce checks replace the band and ratio checks, so a
    /// partial unwind is possible; every other cap still applies.
    function _postChecks(Touched memory t, RiskPolicy.GlobalLimits memory g, bool reduceOnly)
        private
        returns (DeltaRecord[] memory deltas)
    {
        deltas = new DeltaRecord[](t.count);
        for (uint256 k; k < t.count; ++k) {
            address u = t.underlying[k];
            RiskPolicy.UnderlyingLimits memory lim = t.limits[k];
            (int256 post, int256 perpSize) = _netDelta(u, _decimalsPlusOne[u] - 1, t.price[k], g);
            int256 dev = post - lim.targetDelta;
            int256 preDev = t.pre[k] - lim.targetDelta;
            if (!reduceOnly && _abs(dev) > lim.band) revert OutsideBand(u, post, lim.targetDelta, lim.band);
            if (!reduceOnly && _abs(preDev) > lim.band) {
                // A hedge was due: the fraction of the gap closed must lie within the governed ratios.
                int256 signedRatio = (preDev - dev) * 1e18 / preDev;
                uint256 ratio = signedRatio > 0 ? uint256(signedRatio) : 0;
                // 1e-6 tolerance: a hedge to exactly the target must not fail on a rounding wei.
                if (ratio + RATIO_TOLERANCE < lim.minHedgeRatio || ratio > lim.maxHedgeRatio + RATIO_TOLERANCE) {
                    revert HedgeRatioOutOfBounds(u, ratio, lim.minHedgeRatio, lim.maxHedgeRatio);
                }
            }
            uint256 perp = _abs(perpSize);
            if (perp > lim.maxPerpPosition) revert PerpPositionAboveCap(u, perp, lim.maxPerpPosition);
            uint256 open = _held[u].length;
            if (open > lim.maxOpenSeries) revert TooManyOpenSeries(u, open, lim.maxOpenSeries);
            deltas[k] = DeltaRecord(u, t.pre[k], post, lim.targetDelta, lim.band, t.price[k]);
        }
    }

    // ================================================================== internals: misc

    function _delegate(address adapter, bytes memory data) private returns (bytes memory ret) {
        bool ok;
        (ok, ret) = adapter.delegatecall(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function _setMode(Mode next) private {
        Mode old = mode;
        if (old == next) revert InvalidMode();
        mode = next;
        emit ModeChanged(old, next, msg.sender);
    }

    function _addUnderlying(address u) private {
        if (_underlyings.length >= MAX_UNDERLYINGS) revert TooManyUnderlyings();
        if (u == address(0) || u == address(quoteToken) || _decimalsPlusOne[u] != 0) revert UnsupportedToken(u);
        uint8 dec = IERC20Metadata(u).decimals();
        _underlyings.push(u);
        _decimalsPlusOne[u] = dec + 1;
        emit UnderlyingAdded(u, dec);
    }

    function _requireListed(address u) private view {
        if (_decimalsPlusOne[u] == 0) revert UnknownUnderlying(u);
    }

    function _isPerpVenue(address u, address adapter) private view returns (bool) {
        address[] storage venues = _perpVenues[u];
        for (uint256 i; i < venues.length; ++i) {
            if (venues[i] == adapter) return true;
        }
        return false;
    }

    function _abs(int256 x) private pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    function _toWad(uint256 amount, uint8 dec) private pure returns (uint256) {
        return dec <= 18 ? amount * 10 ** (18 - dec) : amount / 10 ** (dec - 18);
    }

    function _fromWadUp(uint256 wad, uint8 dec) private pure returns (uint256) {
        if (dec >= 18) return wad * 10 ** (dec - 18);
        uint256 f = 10 ** (18 - dec);
        return (wad + f - 1) / f;
    }
}
