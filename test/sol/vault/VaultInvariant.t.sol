// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../utils/TestBase.sol";
import {Vm} from "../utils/Vm.sol";
import {VaultFixture} from "./VaultFixture.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";
import {ManagedPriceFeed} from "../../../contracts/oracles/ManagedPriceFeed.sol";
import {OptionsAMM} from "../../../contracts/venues/options/OptionsAMM.sol";
import {TreasuryVault} from "../../../contracts/core/TreasuryVault.sol";
import {RiskPolicy} from "../../../contracts/core/RiskPolicy.sol";

/// @notice Everything the handler needs from the fixture.
struct HandlerSetup {
    TreasuryVault vault;
    TestToken usdc;
    TestToken weth;
    TestToken wbtc;
    ManagedPriceFeed ethFeed;
    ManagedPriceFeed btcFeed;
    OptionsAMM amm;
    address optAdapter;
    address perpAdapter;
    address spotAdapter;
    uint256[] series;
    address keeper;
    address guardian;
    address gov;
    address treasurer;
    address trader;
}

/// @dev The handler lives in this file (not in its own) because EDR identifies fuzz targets from the
/// artifacts of the test roots being run; a handler compiled only as an import is not found.
/// @notice Invariant handler: treasury deposits and withdrawals, oracle moves (within the router's
/// 20% jump bound, feeds always fresh), time jumps, option trades by an outside TRADER on the AMM,
/// keeper bundles (valid hedges, and hostile ones with random kinds, sizes, venues and bounds), and
/// guardian pause / governance unpause. Ghost counters record what can only be seen during a call.
contract VaultHandler is TestBase {
    address internal constant NOT_ALLOWED = address(0xBEEF);
    /// @dev Tolerance of the band ghost: the vault checks its band on the cached option delta, the
    /// ghost reads exposure() (exact); they differ by at most the cache error (VaultGreeks.t.sol
    /// states 0.067% x absSize on its book; the ghost allows 0.5% x absSize + 1e-6).
    uint256 internal constant CACHE_TOL_PER_UNIT = 5e15;
    /// @dev NAV rounding tolerance per keeper call (USD WAD): one cent.
    uint256 internal constant NAV_TOL = 1e16;

    TreasuryVault public vault;
    TestToken public usdc;
    TestToken public weth;
    TestToken public wbtc;
    ManagedPriceFeed public ethFeed;
    ManagedPriceFeed public btcFeed;
    OptionsAMM public amm;
    address public optAdapter;
    address public perpAdapter;
    address public spotAdapter;
    uint256[] internal _series;
    address public keeper;
    address public guardian;
    address public gov;
    address public treasurer;
    address public trader;

    /// @notice Time the handler has reached; every action starts by restoring it.
    uint256 public now_;

    // ghosts
    uint256 public calls;
    uint256 public keeperCalls;
    uint256 public keeperSuccesses;
    uint256 public validSuccesses;
    uint256 public hostileSuccesses;
    uint256 public pausedKeeperCalls;
    uint256 public pausedKeeperSuccesses;
    uint256 public pausedStateChanges;
    uint256 public bandViolations;
    uint256 public navViolations;
    int256 public worstNavSlack = type(int256).max; // min over successful calls of (allowed - drop)
    uint256 public withdrawals;
    uint256 public marginViolations;
    uint256 public marginRefusals;
    uint256 public traderTrades;
    uint256 public pauses;
    uint256 public validCalls;

    constructor(HandlerSetup memory s) {
        vault = s.vault;
        usdc = s.usdc;
        weth = s.weth;
        wbtc = s.wbtc;
        ethFeed = s.ethFeed;
        btcFeed = s.btcFeed;
        amm = s.amm;
        optAdapter = s.optAdapter;
        perpAdapter = s.perpAdapter;
        spotAdapter = s.spotAdapter;
        _series = s.series;
        keeper = s.keeper;
        guardian = s.guardian;
        gov = s.gov;
        treasurer = s.treasurer;
        trader = s.trader;
        now_ = block.timestamp;
    }

    modifier synced() {
        vm.warp(now_);
        ++calls;
        _;
    }

    // ================================================================== treasury

    function deposit(uint256 tokenSeed, uint256 amountSeed) external synced {
        (TestToken t, uint256 amount) = _tokenAmount(tokenSeed, amountSeed);
        t.mint(treasurer, amount);
        vm.prank(treasurer);
        vault.deposit(address(t), amount);
    }

    function withdraw(uint256 tokenSeed, uint256 fracSeed) external synced {
        TestToken t = _token(tokenSeed);
        uint256 bal = t.balanceOf(address(vault));
        // Up to the whole balance: USDC withdrawals must be refused where they would strip margin.
        uint256 amount = bal * bound(fracSeed, 1, 1_000) / 1_000;
        if (amount == 0) return;
        vm.prank(treasurer);
        (bool ok, bytes memory ret) = address(vault).call(abi.encodeCall(TreasuryVault.withdraw, (address(t), amount, treasurer)));
        if (!ok) {
            if (bytes4(ret) == TreasuryVault.MarginNeeded.selector) ++marginRefusals;
            return;
        }
        ++withdrawals;
        // Only quote-token withdrawals move the quote balance the reserve is measured against.
        if (t == usdc && usdc.balanceOf(address(vault)) < vault.marginReserve()) ++marginViolations;
    }

    // ================================================================== market

    function movePrice(uint256 which, int256 bpsSeed) external synced {
        int256 bps = boundInt(bpsSeed, -500, 500);
        ManagedPriceFeed f = which % 2 == 0 ? ethFeed : btcFeed;
        ManagedPriceFeed other = which % 2 == 0 ? btcFeed : ethFeed;
        (, int256 answer,,,) = f.latestRoundData();
        int256 next = answer * (10_000 + bps) / 10_000;
        f.submit(next);
        (, int256 o,,,) = other.latestRoundData();
        other.submit(o);
    }

    function warp(uint256 dtSeed) external synced {
        now_ += bound(dtSeed, 1, 2 hours);
        vm.warp(now_);
        (, int256 e,,,) = ethFeed.latestRoundData();
        (, int256 b,,,) = btcFeed.latestRoundData();
        ethFeed.submit(e);
        btcFeed.submit(b);
    }

    function traderOption(uint256 seriesSeed, int256 sizeSeed) external synced {
        uint256 id = _series[seriesSeed % _series.length];
        int256 size = boundInt(sizeSeed, -200e18, 200e18);
        if (size == 0) return;
        vm.prank(trader);
        bool ok;
        if (size > 0) {
            (ok,) = address(amm).call(abi.encodeCall(OptionsAMM.buy, (id, uint256(size), type(uint256).max, now_)));
        } else {
            (ok,) = address(amm).call(abi.encodeCall(OptionsAMM.sell, (id, uint256(-size), 0, now_)));
        }
        if (ok) ++traderTrades;
    }

    // ================================================================== guardian / governance

    function togglePause(uint256 seed) external synced {
        if (vault.isPaused()) {
            vm.prank(gov);
            vault.unpause();
        } else if (seed % 3 == 0) {
            vm.prank(guardian);
            vault.pause();
            ++pauses;
        }
    }

    // ================================================================== keepers

    /// @notice A computed hedge: per chosen underlying, margin, maybe an option, and a perp leg that
    /// closes the exact gap to target but for min(10%, a fifth of the band) of it.
    function keeperValid(uint256 seed) external synced {
        uint256 which = seed % 3; // 0 WETH, 1 WBTC, 2 both
        TreasuryVault.Leg[] memory tmp = new TreasuryVault.Leg[](8);
        uint256 n;
        if (which != 1) n = _hedgeLegs(tmp, n, address(weth), seed);
        if (which != 0) n = _hedgeLegs(tmp, n, address(wbtc), seed >> 8);
        if (n == 0) return;
        TreasuryVault.Leg[] memory legs = new TreasuryVault.Leg[](n);
        for (uint256 i; i < n; ++i) {
            legs[i] = tmp[i];
        }
        ++validCalls;
        if (_submit(legs, vault.epoch())) ++validSuccesses;
    }

    /// @notice A hostile bundle: 1-3 legs of random kind, venue (including a non-allowed address),
    /// underlying, size and bound; sometimes a wrong epoch.
    function keeperHostile(uint256 seed, int256 amountSeed, uint256 boundSeed) external synced {
        uint256 n = 1 + seed % 3;
        TreasuryVault.Leg[] memory legs = new TreasuryVault.Leg[](n);
        for (uint256 i; i < n; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            legs[i] = _hostileLeg(s, amountSeed, boundSeed);
            amountSeed = int256(uint256(keccak256(abi.encode(amountSeed))));
        }
        uint64 e = vault.epoch();
        if (seed % 7 == 0) e += uint64(1 + (seed >> 16) % 3);
        if (_submit(legs, e)) ++hostileSuccesses;
    }

    function _hostileLeg(uint256 s, int256 amountSeed, uint256 boundSeed) internal view returns (TreasuryVault.Leg memory leg) {
        leg.kind = TreasuryVault.LegKind(s % 6);
        uint256 v = (s >> 8) % 6;
        leg.adapter = v == 0 ? optAdapter : v == 1 ? perpAdapter : v == 2 ? spotAdapter : v == 3 ? NOT_ALLOWED : _kindAdapter(leg.kind);
        uint256 u = (s >> 16) % 7;
        leg.underlying = u < 4 ? address(weth) : u < 6 ? address(wbtc) : address(usdc);
        leg.id = (s >> 24) % 9 == 0 ? (s >> 32) : _series[(s >> 32) % _series.length];
        uint256 sizeMode = (s >> 40) % 5;
        if (sizeMode == 0) leg.amount = amountSeed; // anything at all
        else if (sizeMode == 1) leg.amount = boundInt(amountSeed, -3_000e18, 3_000e18);
        else if (sizeMode == 2) leg.amount = boundInt(amountSeed, -50e18, 50e18);
        else if (sizeMode == 3) leg.amount = boundInt(amountSeed, -20e18, 20e18);
        else leg.amount = boundInt(amountSeed, -2_000_000e6, 2_000_000e6);
        uint256 boundMode = (s >> 48) % 4;
        leg.bound = boundMode == 0 ? 0 : boundMode == 1 ? type(uint256).max : boundMode == 2 ? boundSeed : boundSeed % 10_000e18;
    }

    function _kindAdapter(TreasuryVault.LegKind k) internal view returns (address) {
        if (k == TreasuryVault.LegKind.Option || k == TreasuryVault.LegKind.OptionRedeem) return optAdapter;
        if (k == TreasuryVault.LegKind.Spot) return spotAdapter;
        return perpAdapter;
    }

    function _hedgeLegs(TreasuryVault.Leg[] memory legs, uint256 n, address u, uint256 seed) internal view returns (uint256) {
        TreasuryVault.Exposure memory e = vault.exposure(u);
        uint256 bal = usdc.balanceOf(address(vault));
        uint256 marginAmt = bal / 8 > 200_000e6 ? 200_000e6 : bal / 8;
        if (marginAmt > 0) {
            legs[n++] = TreasuryVault.Leg(TreasuryVault.LegKind.MarginDeposit, perpAdapter, u, 0, int256(marginAmt), 0);
        }
        int256 optDelta;
        if (u == address(weth) && seed % 3 == 0) {
            uint256 id = _series[(seed >> 4) % _series.length];
            int256 size = int256(bound(seed >> 12, 10, 100)) * 1e18;
            if ((seed >> 20) % 2 == 0) size = -size;
            optDelta = amm.quote(id, size).delta * size / 1e18;
            legs[n++] = TreasuryVault.Leg(
                TreasuryVault.LegKind.Option, optAdapter, u, id, size, size > 0 ? uint256(size) * e.price / 1e18 : 0
            );
        }
        int256 gap = e.net + optDelta - e.target;
        uint256 absGap = gap >= 0 ? uint256(gap) : uint256(-gap);
        uint256 keep = absGap / 10 < e.band / 5 ? absGap / 10 : e.band / 5;
        int256 size = gap >= 0 ? -int256(absGap - keep) : int256(absGap - keep);
        if (size != 0) {
            legs[n++] = TreasuryVault.Leg(
                TreasuryVault.LegKind.Perp, perpAdapter, u, 0, size, size < 0 ? e.price * 98 / 100 : e.price * 102 / 100
            );
        }
        return n;
    }

    struct Before {
        bool paused;
        uint64 epoch;
        bytes32 state;
        int256 nav;
    }

    /// @dev Submits as the keeper; on success checks the band and NAV ghosts; while paused checks
    /// that nothing happened.
    function _submit(TreasuryVault.Leg[] memory legs, uint64 e) internal returns (bool ok) {
        ++keeperCalls;
        Before memory b;
        b.paused = vault.isPaused();
        b.epoch = vault.epoch();
        b.state = _stateHash();
        (b.nav,,) = vault.nav();
        vm.recordLogs();
        vm.prank(keeper);
        (ok,) = address(vault).call(
            abi.encodeCall(TreasuryVault.rebalance, (legs, keccak256(abi.encode(calls)), e, now_ + 60))
        );
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (b.paused) {
            ++pausedKeeperCalls;
            if (ok) ++pausedKeeperSuccesses;
            if (vault.epoch() != b.epoch || _stateHash() != b.state) ++pausedStateChanges;
        }
        if (!ok) return false;
        ++keeperSuccesses;
        _checkAfterSuccess(logs, b.nav);
    }

    function _checkAfterSuccess(Vm.Log[] memory logs, int256 navBefore) internal {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(vault) || logs[i].topics[0] != TreasuryVault.Rebalanced.selector) continue;
            (,, TreasuryVault.DeltaRecord[] memory deltas, TreasuryVault.LegRecord[] memory recs) =
                abi.decode(logs[i].data, (uint8, uint256, TreasuryVault.DeltaRecord[], TreasuryVault.LegRecord[]));
            // (1) in band right after the call, for every underlying the bundle touched.
            for (uint256 k; k < deltas.length; ++k) {
                TreasuryVault.Exposure memory x = vault.exposure(deltas[k].underlying);
                uint256 tol = uint256(vault.optionBook(deltas[k].underlying).absSize) * CACHE_TOL_PER_UNIT / 1e18 + 1e12;
                int256 dev = x.net - x.target;
                if ((dev >= 0 ? uint256(dev) : uint256(-dev)) > x.band + tol) ++bandViolations;
            }
            // (2) NAV drop within the declared costs of the legs.
            uint256 allowed = NAV_TOL;
            for (uint256 j; j < recs.length; ++j) {
                TreasuryVault.LegRecord memory r = recs[j];
                allowed += r.fee;
                if (r.kind == TreasuryVault.LegKind.Perp || r.kind == TreasuryVault.LegKind.Spot) {
                    uint256 diff = r.executionPrice > r.oraclePrice ? r.executionPrice - r.oraclePrice : r.oraclePrice - r.executionPrice;
                    uint256 size = r.sizeChange >= 0 ? uint256(r.sizeChange) : uint256(-r.sizeChange);
                    allowed += diff * size / 1e18 + 1;
                }
            }
            (int256 navAfter,,) = vault.nav();
            int256 slack = int256(allowed) - (navBefore - navAfter);
            if (slack < worstNavSlack) worstNavSlack = slack;
            if (slack < 0) ++navViolations;
        }
    }

    function _stateHash() internal view returns (bytes32) {
        (uint64 ws, uint128 wt) = vault.window();
        return keccak256(
            abi.encode(
                vault.epoch(),
                vault.lastRebalanceAt(),
                weth.balanceOf(address(vault)),
                wbtc.balanceOf(address(vault)),
                usdc.balanceOf(address(vault)),
                vault.perpVenues(address(weth)).length,
                vault.perpVenues(address(wbtc)).length,
                keccak256(abi.encode(vault.heldSeries(address(weth)))),
                keccak256(abi.encode(vault.optionBook(address(weth)))),
                ws,
                wt
            )
        );
    }

    function _token(uint256 seed) internal view returns (TestToken) {
        uint256 k = seed % 3;
        return k == 0 ? weth : k == 1 ? wbtc : usdc;
    }

    function _tokenAmount(uint256 seed, uint256 amountSeed) internal view returns (TestToken t, uint256 amount) {
        t = _token(seed);
        if (t == weth) amount = bound(amountSeed, 1, 200e18);
        else if (t == wbtc) amount = bound(amountSeed, 1, 5e8);
        else amount = bound(amountSeed, 1, 1_000_000e6);
    }
}

/// @notice The vault's invariant campaign (CI: 24 runs x depth 40; DEEP=1 for big campaigns).
contract VaultInvariantTest is VaultFixture {
    VaultHandler internal handler;

    function setUp() public {
        _deploySystem();
        // Tiers are tested on their own (VaultTiers.t.sol): here every bundle runs without approvals,
        // so hostile bundles reach the per-leg and post-trade checks.
        RiskPolicy.GlobalLimits memory g = _globalLimits();
        g.tier1Notional = 1e33;
        g.tier2Notional = 1e34;
        _setGlobal(g);

        uint256[] memory series = new uint256[](3);
        series[0] = putAtm;
        series[1] = callAtm;
        series[2] = put90;
        handler = new VaultHandler(
            HandlerSetup({
                vault: vault,
                usdc: usdc,
                weth: weth,
                wbtc: wbtc,
                ethFeed: ethFeed,
                btcFeed: btcFeed,
                amm: amm,
                optAdapter: address(optAdapter),
                perpAdapter: address(perpAdapter),
                spotAdapter: address(spotAdapter),
                series: series,
                keeper: KEEPER,
                guardian: GUARDIAN,
                gov: GOV,
                treasurer: TREASURER,
                trader: TRADER
            })
        );
        usdc.grantRole(usdc.MINTER_ROLE(), address(handler));
        weth.grantRole(weth.MINTER_ROLE(), address(handler));
        wbtc.grantRole(wbtc.MINTER_ROLE(), address(handler));
        ethFeed.grantRole(ethFeed.ORACLE_ROLE(), address(handler));
        btcFeed.grantRole(btcFeed.ORACLE_ROLE(), address(handler));
        usdc.mint(TRADER, 100_000_000e6);
        vm.prank(TRADER);
        usdc.approve(address(amm), type(uint256).max);

        targetContract(address(handler));
        bytes4[] memory sels = new bytes4[](9);
        sels[0] = VaultHandler.deposit.selector;
        sels[1] = VaultHandler.withdraw.selector;
        sels[2] = VaultHandler.movePrice.selector;
        sels[3] = VaultHandler.warp.selector;
        sels[4] = VaultHandler.traderOption.selector;
        sels[5] = VaultHandler.togglePause.selector;
        sels[6] = VaultHandler.keeperValid.selector;
        sels[7] = VaultHandler.keeperHostile.selector;
        sels[8] = VaultHandler.keeperValid.selector; // twice: valid hedges are the interesting path
        targetSelector(FuzzSelector({addr: address(handler), selectors: sels}));
    }

    /// @notice (1) After every successful keeper call every touched underlying was inside its band.
    function invariant_inBandAfterEveryKeeperCall() public view {
        assertEq(handler.bandViolations(), 0, "band violations");
    }

    /// @notice (2) NAV never drops across a keeper call by more than the legs' declared fees and
    /// slippage (plus one cent of rounding).
    function invariant_navDropBoundedByDeclaredCosts() public view {
        assertEq(handler.navViolations(), 0, "NAV drops beyond declared costs");
    }

    /// @notice (3) While paused every keeper call reverts and changes nothing.
    function invariant_pausedKeepersChangeNothing() public view {
        assertEq(handler.pausedKeeperSuccesses(), 0, "keeper succeeded while paused");
        assertEq(handler.pausedStateChanges(), 0, "state changed while paused");
    }

    /// @notice (4) A USDC withdrawal never leaves less than the margin reserve in the vault.
    function invariant_withdrawalsKeepMarginReserve() public view {
        assertEq(handler.marginViolations(), 0, "withdrawal stripped margin");
    }

    /// @notice The epoch counts exactly the successful keeper calls (idempotency under random races).
    function invariant_epochCountsSuccesses() public view {
        assertEq(uint256(vault.epoch()), handler.keeperSuccesses(), "epoch");
    }

    /// @notice A deterministic walk through the handler: the ghosts see real successes, refusals
    /// and paused calls, so the invariants above are not vacuous.
    function testHandlerWalkExercisesEveryPath() public {
        handler.keeperValid(0); // WETH hedge with an option leg
        assertEq(handler.validSuccesses(), 1, "valid WETH hedge executes");
        handler.keeperValid(1); // WBTC hedge
        assertEq(handler.validSuccesses(), 2, "valid WBTC hedge executes");
        handler.movePrice(0, 300);
        handler.warp(1800);
        handler.traderOption(0, 50e18);
        handler.keeperValid(2); // both
        assertEq(handler.validSuccesses(), 3, "valid two-underlying hedge executes");
        handler.keeperHostile(3, 1e30, 0); // absurd sizes
        handler.keeperHostile(1, -5e18, type(uint256).max);
        handler.withdraw(2, 500); // half the USDC
        handler.withdraw(2, 1); // 0.1% of USDC
        handler.withdraw(0, 10);
        handler.deposit(2, 500_000e6);
        handler.togglePause(0);
        assertTrue(vault.isPaused(), "paused");
        handler.keeperValid(0);
        handler.keeperHostile(5, 1e18, 1e18);
        assertEq(handler.pausedKeeperCalls(), 2, "keeper calls while paused");
        handler.togglePause(0);
        assertFalse(vault.isPaused(), "unpaused by governance");
        handler.movePrice(0, -200);
        handler.keeperValid(0);
        assertEq(handler.validSuccesses(), 4, "valid hedge after unpause");
        assertEq(handler.bandViolations(), 0, "band");
        assertEq(handler.navViolations(), 0, "nav");
        assertEq(handler.pausedKeeperSuccesses(), 0, "paused");
        assertEq(handler.marginViolations(), 0, "margin");
        assertGe(handler.worstNavSlack(), int256(0), "NAV slack non-negative");
        assertEq(handler.withdrawals(), 3, "withdrawals");
        assertEq(uint256(vault.epoch()), handler.keeperSuccesses(), "epoch");
    }
}
