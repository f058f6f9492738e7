// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../utils/TestBase.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {TestToken} from "../../../contracts/tokens/TestToken.sol";
import {ManagedPriceFeed} from "../../../contracts/oracles/ManagedPriceFeed.sol";
import {OracleRouter} from "../../../contracts/oracles/OracleRouter.sol";
import {IOracleRouter} from "../../../contracts/interfaces/IOracleRouter.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {VolatilitySurface} from "../../../contracts/venues/options/VolatilitySurface.sol";
import {OptionsPool} from "../../../contracts/venues/options/OptionsPool.sol";
import {OptionsAMM} from "../../../contracts/venues/options/OptionsAMM.sol";
import {PerpDEX} from "../../../contracts/venues/perp/PerpDEX.sol";
import {OptionsAMMAdapter} from "../../../contracts/adapters/OptionsAMMAdapter.sol";
import {PerpDEXAdapter} from "../../../contracts/adapters/PerpDEXAdapter.sol";
import {UniswapV3SpotAdapter} from "../../../contracts/adapters/UniswapV3SpotAdapter.sol";
import {RiskPolicy} from "../../../contracts/core/RiskPolicy.sol";
import {TreasuryLedger} from "../../../contracts/core/TreasuryLedger.sol";
import {HedgeApprovals} from "../../../contracts/core/HedgeApprovals.sol";
import {TreasuryVault} from "../../../contracts/core/TreasuryVault.sol";

interface IUniV3Factory {
    function createPool(address tokenA, address tokenB, uint24 fee) external returns (address pool);
}

interface IUniV3Pool {
    function initialize(uint160 sqrtPriceX96) external;
    function token0() external view returns (address);
    function token1() external view returns (address);
    function mint(address recipient, int24 tickLower, int24 tickUpper, uint128 amount, bytes calldata data)
        external
        returns (uint256 amount0, uint256 amount1);
}

/// @notice The whole protocol as the vault sees it, built from the real contracts: tokens, oracle
/// feeds and router, options AMM with its LP pool, perp DEX, Uniswap V3 deployed from its published
/// artifacts, the three adapters, RiskPolicy, ledger, approval queue and the vault with every role
/// held by a distinct account. The treasury holds 1,000 WETH, 50 WBTC and 5M USDC and owes 300 WETH
/// of creator payouts.
abstract contract VaultFixture is TestBase {
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant EXPIRY = T0 + 30 days;
    uint256 internal constant ETH_PX = 3000e18;
    uint256 internal constant BTC_PX = 60_000e18;
    uint24 internal constant UNI_FEE = 500;

    address internal constant GOV = address(0x60F);
    address internal constant KEEPER = address(0x4EE9);
    address internal constant KEEPER2 = address(0x4EEA);
    address internal constant GUARDIAN = address(0x6A4D);
    address internal constant TREASURER = address(0x7EA5);
    address internal constant FINANCE = address(0xF1);
    address internal constant RISK = address(0x415C);
    address internal constant STRANGER = address(0xBAD);
    address internal constant LP = address(0x1111);
    address internal constant TRADER = address(0x7AD3);

    TestToken internal usdc;
    TestToken internal weth;
    TestToken internal wbtc;
    ManagedPriceFeed internal ethFeed;
    ManagedPriceFeed internal btcFeed;
    OracleRouter internal router;
    VolatilitySurface internal surface;
    OptionsPool internal optionsPool;
    OptionsAMM internal amm;
    PerpDEX internal dex;
    address internal uniFactory;
    address internal uniRouter;
    address internal wethPool;

    RiskPolicy internal policy;
    TreasuryLedger internal ledger;
    HedgeApprovals internal approvals;
    TreasuryVault internal vault;
    OptionsAMMAdapter internal optAdapter;
    PerpDEXAdapter internal perpAdapter;
    UniswapV3SpotAdapter internal spotAdapter;

    uint256 internal putAtm;
    uint256 internal callAtm;
    uint256 internal put90;

    function _deploySystem() internal {
        vm.warp(T0);
        usdc = new TestToken("USD Coin", "USDC", 6, address(this));
        weth = new TestToken("Wrapped Ether", "WETH", 18, address(this));
        wbtc = new TestToken("Wrapped BTC", "WBTC", 8, address(this));
        ethFeed = new ManagedPriceFeed(8, "ETH / USD", int256(ETH_PX / 1e10), address(this));
        btcFeed = new ManagedPriceFeed(8, "BTC / USD", int256(BTC_PX / 1e10), address(this));
        router = new OracleRouter(address(this));
        router.setFeed(address(weth), address(ethFeed), 3600, 2000);
        router.setFeed(address(wbtc), address(btcFeed), 3600, 2000);

        _deployOptions();
        _deployPerp();
        _deployUniswap();
        _deployCore();
        _fundTreasury();
    }

    function _deployOptions() private {
        surface = new VolatilitySurface(address(this));
        optionsPool = new OptionsPool(usdc, IOracleRouter(address(router)), address(this));
        amm = new OptionsAMM(usdc, optionsPool, surface, IOracleRouter(address(router)), address(this));
        optionsPool.setAmm(address(amm));
        amm.configureUnderlying(address(weth), 1_000_000e18);
        amm.configureUnderlying(address(wbtc), 50_000e18);
        surface.setSmile(address(weth), EXPIRY, 0.7e18, -0.1e18, 0.4e18);
        surface.setSmile(address(wbtc), EXPIRY, 0.55e18, -0.05e18, 0.3e18);
        usdc.mint(LP, 100_000_000e6);
        vm.startPrank(LP);
        usdc.approve(address(optionsPool), type(uint256).max);
        optionsPool.deposit(50_000_000e6, 0, LP);
        vm.stopPrank();
        putAtm = amm.listSeries(address(weth), 3000e18, EXPIRY, false, 1_000_000e18);
        callAtm = amm.listSeries(address(weth), 3000e18, EXPIRY, true, 1_000_000e18);
        put90 = amm.listSeries(address(weth), 2700e18, EXPIRY, false, 1_000_000e18);
    }

    function _perpParams(uint128 skewScale, uint128 maxOi) internal pure returns (PerpDEX.MarketParams memory) {
        return PerpDEX.MarketParams({
            skewScale: skewScale,
            maxOpenInterest: maxOi,
            maxFundingRatePerDay: 0.005e18,
            maintenanceMarginRatio: 0.02e18,
            liquidationFeeRatio: 0.005e18,
            makerFeeBps: 2,
            takerFeeBps: 5,
            paused: false,
            maxLeverage: 20e18,
            minLiquidationFee: 5e18
        });
    }

    function _deployPerp() private {
        dex = new PerpDEX(usdc, IOracleRouter(address(router)), address(this));
        dex.addMarket(address(weth), _perpParams(2_000_000e18, 100_000e18));
        dex.addMarket(address(wbtc), _perpParams(100_000e18, 5_000e18));
        vm.startPrank(LP);
        usdc.approve(address(dex), type(uint256).max);
        dex.depositLiquidity(20_000_000e6);
        vm.stopPrank();
    }

    function _deployUniswap() private {
        uniFactory = _deployArtifact("node_modules/@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json", "");
        uniRouter = _deployArtifact(
            "node_modules/@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
            abi.encode(uniFactory, address(weth))
        );
        wethPool = _createPool(address(weth), 18, ETH_PX, 20_000e18);
    }

    function _deployArtifact(string memory path, bytes memory args) internal returns (address deployed) {
        bytes memory code = bytes.concat(vm.parseJsonBytes(vm.readFile(path), ".bytecode"), args);
        assembly ("memory-safe") {
            deployed := create(0, add(code, 32), mload(code))
        }
        require(deployed != address(0), "artifact deploy failed");
    }

    /// @dev Full-range position at `price` with `baseAmount` of base and the matching USDC.
    function _createPool(address base, uint8 baseDecimals, uint256 price, uint256 baseAmount)
        internal
        returns (address pool)
    {
        pool = IUniV3Factory(uniFactory).createPool(base, address(usdc), UNI_FEE);
        bool baseIs0 = IUniV3Pool(pool).token0() == base;
        // Raw price token1/token0 as a Q192 ratio, then its square root as Q96.
        uint256 quoteRaw = price / 1e12; // USDC units per whole base
        uint256 baseRaw = 10 ** baseDecimals;
        uint256 ratioX192 = baseIs0 ? FixedPointMathLib.mulDiv(quoteRaw, 1 << 192, baseRaw) : FixedPointMathLib.mulDiv(baseRaw, 1 << 192, quoteRaw);
        IUniV3Pool(pool).initialize(uint160(FixedPointMathLib.sqrt(ratioX192)));
        // Full range: L = sqrt(x y) in raw units.
        uint256 quoteAmount = baseAmount * quoteRaw / baseRaw;
        uint128 liquidity = uint128(FixedPointMathLib.sqrt(baseAmount * quoteAmount));
        IUniV3Pool(pool).mint(address(this), -887270, 887270, liquidity, "");
    }

    /// @dev Uniswap V3 collects the minted liquidity's tokens through this callback.
    function uniswapV3MintCallback(uint256 amount0Owed, uint256 amount1Owed, bytes calldata) external {
        TestToken(IUniV3Pool(msg.sender).token0()).mint(msg.sender, amount0Owed);
        TestToken(IUniV3Pool(msg.sender).token1()).mint(msg.sender, amount1Owed);
    }

    function _globalLimits() internal pure returns (RiskPolicy.GlobalLimits memory) {
        return RiskPolicy.GlobalLimits({
            maxSlippageBps: 100,
            oracleMaxDeviationBps: 200,
            oracleMaxAge: 3600,
            keeperCooldown: 0,
            window: 1 days,
            approvalExpiry: 1 hours,
            greeksCacheMaxAge: 1 hours,
            greeksCacheMaxMoveBps: 100,
            turnoverCapPerWindow: 100_000_000e18,
            tier1Notional: 5_000_000e18,
            tier2Notional: 20_000_000e18
        });
    }

    function _wethLimits() internal pure returns (RiskPolicy.UnderlyingLimits memory) {
        return RiskPolicy.UnderlyingLimits({
            enabled: true,
            targetDelta: 0,
            band: 25e18,
            minHedgeRatio: 0.5e18,
            maxHedgeRatio: 1e18,
            maxOptionLegSize: 2_000e18,
            maxPerpLegSize: 5_000e18,
            maxSpotLegSize: 1_000e18,
            maxPerpPosition: 10_000e18,
            premiumBudgetPerWindow: 2_000_000e18,
            maxOpenSeries: 20
        });
    }

    function _wbtcLimits() internal pure returns (RiskPolicy.UnderlyingLimits memory l) {
        l = _wethLimits();
        l.band = 1.5e18;
        l.maxOptionLegSize = 100e18;
        l.maxPerpLegSize = 250e18;
        l.maxSpotLegSize = 50e18;
        l.maxPerpPosition = 500e18;
    }

    function _deployCore() private {
        policy = new RiskPolicy(GOV, _globalLimits());
        ledger = new TreasuryLedger(GOV, TREASURER);
        approvals = new HedgeApprovals(policy, address(this));
        address[] memory us = new address[](2);
        us[0] = address(weth);
        us[1] = address(wbtc);
        vault = new TreasuryVault(policy, IOracleRouter(address(router)), ledger, approvals, IERC20(address(usdc)), us, GOV);
        approvals.bindVault(address(vault));
        approvals.grantRole(approvals.PROPOSER_ROLE(), KEEPER);
        approvals.grantRole(approvals.PROPOSER_ROLE(), KEEPER2);
        approvals.grantRole(approvals.FINANCE_ROLE(), FINANCE);
        approvals.grantRole(approvals.RISK_ROLE(), RISK);
        approvals.grantRole(approvals.DEFAULT_ADMIN_ROLE(), GOV);
        approvals.renounceRole(approvals.DEFAULT_ADMIN_ROLE(), address(this));

        optAdapter = new OptionsAMMAdapter(amm);
        perpAdapter = new PerpDEXAdapter(dex);
        spotAdapter = new UniswapV3SpotAdapter(uniRouter, address(router), address(usdc), UNI_FEE);

        vm.startPrank(GOV);
        policy.setUnderlyingLimits(address(weth), _wethLimits());
        policy.setUnderlyingLimits(address(wbtc), _wbtcLimits());
        policy.setVenueAllowed(address(optAdapter), true);
        policy.setVenueAllowed(address(perpAdapter), true);
        policy.setVenueAllowed(address(spotAdapter), true);
        vault.grantRole(vault.KEEPER_ROLE(), KEEPER);
        vault.grantRole(vault.KEEPER_ROLE(), KEEPER2);
        vault.grantRole(vault.GUARDIAN_ROLE(), GUARDIAN);
        vault.grantRole(vault.TREASURER_ROLE(), TREASURER);
        vm.stopPrank();
    }

    function _fundTreasury() private {
        weth.mint(TREASURER, 1_000e18);
        wbtc.mint(TREASURER, 50e8);
        usdc.mint(TREASURER, 5_000_000e6);
        vm.startPrank(TREASURER);
        weth.approve(address(vault), type(uint256).max);
        wbtc.approve(address(vault), type(uint256).max);
        usdc.approve(address(vault), type(uint256).max);
        vault.deposit(address(weth), 1_000e18);
        vault.deposit(address(wbtc), 50e8);
        vault.deposit(address(usdc), 5_000_000e6);
        ledger.setLiability(address(weth), TreasuryLedger.Bucket.CreatorFunds, 300e18);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ leg builders

    function _optionLeg(uint256 seriesId, int256 size, uint256 bound) internal view returns (TreasuryVault.Leg memory) {
        return TreasuryVault.Leg(TreasuryVault.LegKind.Option, address(optAdapter), address(weth), seriesId, size, bound);
    }

    function _perpLeg(address u, int256 size, uint256 acceptablePrice) internal view returns (TreasuryVault.Leg memory) {
        return TreasuryVault.Leg(TreasuryVault.LegKind.Perp, address(perpAdapter), u, 0, size, acceptablePrice);
    }

    function _marginLeg(address u, uint256 amount) internal view returns (TreasuryVault.Leg memory) {
        return TreasuryVault.Leg(TreasuryVault.LegKind.MarginDeposit, address(perpAdapter), u, 0, int256(amount), 0);
    }

    function _spotLeg(address u, int256 amount, uint256 minOut) internal view returns (TreasuryVault.Leg memory) {
        return TreasuryVault.Leg(TreasuryVault.LegKind.Spot, address(spotAdapter), u, 0, amount, minOut);
    }

    function _legs1(TreasuryVault.Leg memory a) internal pure returns (TreasuryVault.Leg[] memory l) {
        l = new TreasuryVault.Leg[](1);
        l[0] = a;
    }

    function _legs2(TreasuryVault.Leg memory a, TreasuryVault.Leg memory b)
        internal
        pure
        returns (TreasuryVault.Leg[] memory l)
    {
        l = new TreasuryVault.Leg[](2);
        l[0] = a;
        l[1] = b;
    }

    function _legs3(TreasuryVault.Leg memory a, TreasuryVault.Leg memory b, TreasuryVault.Leg memory c)
        internal
        pure
        returns (TreasuryVault.Leg[] memory l)
    {
        l = new TreasuryVault.Leg[](3);
        l[0] = a;
        l[1] = b;
        l[2] = c;
    }

    function _rebalance(address keeper, TreasuryVault.Leg[] memory legs) internal {
        uint64 e = vault.epoch();
        vm.prank(keeper);
        vault.rebalance(legs, keccak256(abi.encode("inputs", e)), e, block.timestamp + 60);
    }

    function _net(address u) internal view returns (int256) {
        return vault.exposure(u).net;
    }

    function _setEth(uint256 pxWad) internal {
        ethFeed.submit(int256(pxWad / 1e10));
    }

    function _setBtc(uint256 pxWad) internal {
        btcFeed.submit(int256(pxWad / 1e10));
    }

    /// @dev A perp short that brings WETH net delta from `net` to about zero, with margin.
    function _perpHedgeLegs(int256 size) internal view returns (TreasuryVault.Leg[] memory) {
        return _legs2(_marginLeg(address(weth), 1_000_000e6), _perpLeg(address(weth), size, size < 0 ? 2900e18 : 3100e18));
    }

    // ------------------------------------------------------------------ helpers for the vault suites

    /// @dev Runs `rebalance` as `keeper` and returns (success, revert data), so a test can inspect
    /// the error of a call whose arguments it cannot predict exactly.
    function _tryRebalance(
        address keeper,
        TreasuryVault.Leg[] memory legs,
        bytes32 inputsHash,
        uint64 epoch_,
        uint256 deadline
    ) internal returns (bool ok, bytes memory ret) {
        vm.prank(keeper);
        (ok, ret) = address(vault).call(abi.encodeCall(TreasuryVault.rebalance, (legs, inputsHash, epoch_, deadline)));
    }

    /// @dev The current epoch's rebalance as KEEPER must revert with exactly `err` (full revert data).
    function _rebalanceReverts(TreasuryVault.Leg[] memory legs, bytes memory err) internal {
        uint64 e = vault.epoch();
        vm.expectRevert(err);
        vm.prank(KEEPER);
        vault.rebalance(legs, keccak256(abi.encode("inputs", e)), e, block.timestamp + 60);
    }

    /// @dev The current epoch's rebalance as KEEPER must revert with an error whose selector is `sel`
    /// (for errors whose arguments depend on venue arithmetic).
    function _rebalanceRevertsSel(TreasuryVault.Leg[] memory legs, bytes4 sel) internal {
        uint64 e = vault.epoch();
        (bool ok, bytes memory ret) = _tryRebalance(KEEPER, legs, keccak256(abi.encode("inputs", e)), e, block.timestamp + 60);
        assertFalse(ok, "rebalance should revert");
        _assertSelector(ret, sel);
    }

    function _assertSelector(bytes memory ret, bytes4 sel) internal pure {
        assertTrue(ret.length >= 4, "revert data too short");
        assertEq(bytes32(bytes4(ret)), bytes32(sel), "wrong revert selector");
    }

    /// @dev The ABI-encoded arguments of revert data (without its selector).
    function _args(bytes memory ret) internal pure returns (bytes memory a) {
        a = new bytes(ret.length - 4);
        for (uint256 i; i < a.length; ++i) {
            a[i] = ret[i + 4];
        }
    }

    function _setGlobal(RiskPolicy.GlobalLimits memory g) internal {
        vm.prank(GOV);
        policy.setGlobalLimits(g);
    }

    function _setLimits(address u, RiskPolicy.UnderlyingLimits memory l) internal {
        vm.prank(GOV);
        policy.setUnderlyingLimits(u, l);
    }

    /// @dev Publishes the current answers again, so the feeds are fresh after a warp.
    function _refreshFeeds() internal {
        (, int256 e,,,) = ethFeed.latestRoundData();
        (, int256 b,,,) = btcFeed.latestRoundData();
        ethFeed.submit(e);
        btcFeed.submit(b);
    }

    function _ethPx() internal view returns (uint256 px) {
        (px,) = router.price(address(weth));
    }

    /// @dev Perp leg on `u` sized to bring the exact net delta to `target` (acceptable price 1% off oracle).
    function _perpToTarget(address u, int256 target) internal view returns (TreasuryVault.Leg memory) {
        return _perpToTargetAfter(u, target, 0);
    }

    /// @dev As `_perpToTarget`, when earlier legs of the bundle add `extraDelta` first.
    function _perpToTargetAfter(address u, int256 target, int256 extraDelta) internal view returns (TreasuryVault.Leg memory) {
        TreasuryVault.Exposure memory e = vault.exposure(u);
        int256 size = target - e.net - extraDelta;
        return _perpLeg(u, size, size < 0 ? e.price * 99 / 100 : e.price * 101 / 100);
    }

    /// @dev Delta (underlying units) of buying (`size` > 0) or selling `size` options of `seriesId` now.
    function _optionDelta(uint256 seriesId, int256 size) internal view returns (int256) {
        return amm.quote(seriesId, size).delta * size / 1e18;
    }

    /// @dev Option leg with an ample bound: buys pay at most 10x spot per unit, sells accept 0.
    function _optionLegAmple(uint256 seriesId, int256 size) internal view returns (TreasuryVault.Leg memory) {
        return _optionLeg(seriesId, size, size > 0 ? uint256(size) * 30_000 : 0);
    }

    /// @dev Everything a failed bundle must leave untouched.
    struct VaultState {
        uint256 wethBal;
        uint256 wbtcBal;
        uint256 usdcBal;
        int256 perpSize;
        uint256 perpMargin;
        int256 putAtmPos;
        int256 callAtmPos;
        int256 put90Pos;
        uint64 epoch;
        uint64 lastRebalanceAt;
        bytes32 book;
        bytes32 held;
        bytes32 perpVenues;
        uint8 mode;
        bytes32 window;
    }

    function _state() internal view returns (VaultState memory s) {
        s.wethBal = weth.balanceOf(address(vault));
        s.wbtcBal = wbtc.balanceOf(address(vault));
        s.usdcBal = usdc.balanceOf(address(vault));
        PerpDEX.PositionView memory pv = dex.position(address(vault), address(weth));
        s.perpSize = pv.size;
        s.perpMargin = pv.margin;
        (s.putAtmPos,,) = amm.positionOf(address(vault), putAtm);
        (s.callAtmPos,,) = amm.positionOf(address(vault), callAtm);
        (s.put90Pos,,) = amm.positionOf(address(vault), put90);
        s.epoch = vault.epoch();
        s.lastRebalanceAt = vault.lastRebalanceAt();
        s.book = keccak256(abi.encode(vault.optionBook(address(weth))));
        s.held = keccak256(abi.encode(vault.heldSeries(address(weth))));
        s.perpVenues = keccak256(abi.encode(vault.perpVenues(address(weth))));
        s.mode = uint8(vault.mode());
        (uint64 ws, uint128 wt) = vault.window();
        s.window = keccak256(abi.encode(ws, wt));
    }

    function _assertSameState(VaultState memory a, VaultState memory b) internal pure {
        assertEq(a.wethBal, b.wethBal, "vault WETH");
        assertEq(a.wbtcBal, b.wbtcBal, "vault WBTC");
        assertEq(a.usdcBal, b.usdcBal, "vault USDC");
        assertEq(a.perpSize, b.perpSize, "perp size");
        assertEq(a.perpMargin, b.perpMargin, "perp margin");
        assertEq(a.putAtmPos, b.putAtmPos, "put ATM position");
        assertEq(a.callAtmPos, b.callAtmPos, "call ATM position");
        assertEq(a.put90Pos, b.put90Pos, "put 90 position");
        assertEq(uint256(a.epoch), uint256(b.epoch), "epoch");
        assertEq(uint256(a.lastRebalanceAt), uint256(b.lastRebalanceAt), "lastRebalanceAt");
        assertEq(a.book, b.book, "option book");
        assertEq(a.held, b.held, "held series");
        assertEq(a.perpVenues, b.perpVenues, "perp venues");
        assertEq(uint256(a.mode), uint256(b.mode), "mode");
        assertEq(a.window, b.window, "turnover window");
    }
}
