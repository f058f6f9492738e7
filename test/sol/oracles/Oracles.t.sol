// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../utils/TestBase.sol";
import {ManagedPriceFeed} from "../../../contracts/oracles/ManagedPriceFeed.sol";
import {OracleRouter} from "../../../contracts/oracles/OracleRouter.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract OraclesTest is TestBase {
    ManagedPriceFeed feed;
    ManagedPriceFeed seq;
    OracleRouter router;
    address constant WETH = address(0xE7);
    address stranger = address(0xBAD);

    function setUp() public {
        vm.warp(1_700_000_000);
        feed = new ManagedPriceFeed(8, "ETH / USD", 3000e8, address(this));
        router = new OracleRouter(address(this));
        router.setFeed(WETH, address(feed), 3600, 2000);
    }

    // ---------- ManagedPriceFeed ----------

    function testFeedRoundsAreRecorded() public {
        vm.warp(block.timestamp + 10);
        feed.submit(3100e8);
        (uint80 id, int256 ans, uint256 started, uint256 upd, uint80 air) = feed.latestRoundData();
        assertEq(uint256(id), 2, "round id");
        assertEq(ans, int256(3100e8), "answer");
        assertEq(started, block.timestamp, "startedAt");
        assertEq(upd, block.timestamp, "updatedAt");
        assertEq(uint256(air), 2, "answeredInRound");
        (, int256 first,, uint256 firstUpd,) = feed.getRoundData(1);
        assertEq(first, int256(3000e8), "first answer kept");
        assertEq(firstUpd, block.timestamp - 10, "first time kept");
        assertEq(uint256(feed.decimals()), 8, "decimals");
        assertEq(feed.version(), 4, "version");
        assertEq(keccak256(bytes(feed.description())), keccak256("ETH / USD"), "description");
    }

    function testFeedUnknownRoundReverts() public {
        vm.expectRevert(abi.encodeWithSelector(ManagedPriceFeed.RoundNotFound.selector, uint80(0)));
        feed.getRoundData(0);
        vm.expectRevert(abi.encodeWithSelector(ManagedPriceFeed.RoundNotFound.selector, uint80(2)));
        feed.getRoundData(2);
    }

    function testFeedSubmitOnlyOracle() public {
        bytes32 role = feed.ORACLE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        vm.prank(stranger);
        feed.submit(1);
    }

    function testFeedAnswerOutOfRange() public {
        int256 tooBig = int256(type(int192).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(ManagedPriceFeed.AnswerOutOfRange.selector, tooBig));
        feed.submit(tooBig);
    }

    // ---------- OracleRouter: happy path and scaling ----------

    function testPriceScalesToWad() public view {
        (uint256 p, uint256 upd) = router.price(WETH);
        assertEq(p, 3000e18, "wad price");
        assertEq(upd, block.timestamp, "updatedAt");
    }

    function testPriceScalesFromMoreThan18Decimals() public {
        ManagedPriceFeed f20 = new ManagedPriceFeed(20, "X / USD", 5e20, address(this));
        router.setFeed(address(0x20), address(f20), 60, 10_000);
        (uint256 p,) = router.price(address(0x20));
        assertEq(p, 5e18, "scaled down");
    }

    // ---------- OracleRouter: every refusal ----------

    function testUnknownAssetReverts() public {
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.UnknownAsset.selector, address(0x1234)));
        router.price(address(0x1234));
    }

    function testStalePriceReverts() public {
        vm.warp(block.timestamp + 3601);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.StalePrice.selector, WETH, block.timestamp - 3601, uint256(3600)));
        router.price(WETH);
    }

    function testExactlyMaxAgeIsAccepted() public {
        vm.warp(block.timestamp + 3600);
        (uint256 p,) = router.price(WETH);
        assertEq(p, 3000e18, "still fresh at max age");
    }

    function testNonPositivePriceReverts() public {
        feed.submit(0);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.NonPositivePrice.selector, WETH, int256(0)));
        router.price(WETH);
        feed.submit(-5);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.NonPositivePrice.selector, WETH, int256(-5)));
        router.price(WETH);
    }

    function testNonPositivePreviousRoundReverts() public {
        feed.submit(-1);
        feed.submit(3000e8);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.NonPositivePrice.selector, WETH, int256(-1)));
        router.price(WETH);
    }

    function testIncompleteRoundReverts() public {
        IncompleteFeed bad = new IncompleteFeed();
        router.setFeed(address(0x77), address(bad), 3600, 10_000);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.IncompleteRound.selector, address(0x77), uint80(5), uint80(4)));
        router.price(address(0x77));
    }

    function testFutureTimestampIsStale() public {
        IncompleteFeed bad = new IncompleteFeed();
        bad.setFuture();
        router.setFeed(address(0x77), address(bad), 3600, 10_000);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.StalePrice.selector, address(0x77), block.timestamp + 1, uint256(3600)));
        router.price(address(0x77));
    }

    function testJumpAboveBoundReverts() public {
        feed.submit(3601e8); // +20.03%
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.PriceJump.selector, WETH, 3000e18, 3601e18, uint16(2000)));
        router.price(WETH);
    }

    function testJumpAtBoundAccepted() public {
        feed.submit(2400e8); // exactly -20%
        (uint256 p,) = router.price(WETH);
        assertEq(p, 2400e18, "-20% is inside a 20% bound");
    }

    function testJumpCheckDisabledAt10000() public {
        router.setFeed(WETH, address(feed), 3600, 10_000);
        feed.submit(9000e8);
        (uint256 p,) = router.price(WETH);
        assertEq(p, 9000e18, "no jump check");
    }

    /// @dev Fuzz: the router accepts a move iff it is within maxJumpBps of the previous round.
    function testFuzzJumpBound(uint256 next, uint16 jumpBps) public {
        jumpBps = uint16(bound(jumpBps, 1, 9999));
        next = bound(next, 1, 100_000e8);
        router.setFeed(WETH, address(feed), 3600, jumpBps);
        feed.submit(int256(next));
        uint256 prev = 3000e18;
        uint256 cur = next * 1e10;
        uint256 diff = cur > prev ? cur - prev : prev - cur;
        bool ok = diff * 10_000 <= prev * jumpBps;
        if (!ok) vm.expectRevert(abi.encodeWithSelector(OracleRouter.PriceJump.selector, WETH, prev, cur, jumpBps));
        (uint256 p,) = router.price(WETH);
        if (ok) assertEq(p, cur, "accepted price");
    }

    // ---------- sequencer ----------

    function testSequencerDownAndGrace() public {
        seq = new ManagedPriceFeed(0, "L2 Sequencer Uptime", 0, address(this));
        router.setSequencerFeed(address(seq), 3600);
        // Came up at deployment time: still inside the grace period.
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.SequencerGracePeriodNotOver.selector, block.timestamp, uint32(3600)));
        router.price(WETH);

        vm.warp(block.timestamp + 3601);
        feed.submit(3000e8);
        (uint256 p,) = router.price(WETH);
        assertEq(p, 3000e18, "up and past grace");

        seq.submit(1);
        vm.expectRevert(OracleRouter.SequencerDown.selector);
        router.price(WETH);

        seq.submit(0); // back up now: grace again
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.SequencerGracePeriodNotOver.selector, block.timestamp, uint32(3600)));
        router.price(WETH);

        router.setSequencerFeed(address(0), 0);
        (p,) = router.price(WETH);
        assertEq(p, 3000e18, "sequencer check off");
    }

    // ---------- governance of the router ----------

    function testSetFeedValidation() public {
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.InvalidConfig.selector, "asset"));
        router.setFeed(address(0), address(feed), 60, 100);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.InvalidConfig.selector, "feed"));
        router.setFeed(WETH, address(0), 60, 100);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.InvalidConfig.selector, "maxAge"));
        router.setFeed(WETH, address(feed), 0, 100);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.InvalidConfig.selector, "maxAge"));
        router.setFeed(WETH, address(feed), 7 days + 1, 100);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.InvalidConfig.selector, "maxJumpBps"));
        router.setFeed(WETH, address(feed), 60, 0);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.InvalidConfig.selector, "maxJumpBps"));
        router.setFeed(WETH, address(feed), 60, 10_001);
        ManagedPriceFeed f40 = new ManagedPriceFeed(40, "bad", 1, address(this));
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.InvalidConfig.selector, "decimals"));
        router.setFeed(WETH, address(f40), 60, 100);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.InvalidConfig.selector, "gracePeriod"));
        router.setSequencerFeed(address(feed), 1 days + 1);
    }

    function testSetFeedEmitsAndStores() public {
        vm.expectEmit();
        emit OracleRouter.FeedSet(WETH, address(feed), 120, 500, 8);
        router.setFeed(WETH, address(feed), 120, 500);
        OracleRouter.FeedConfig memory c = router.feedConfig(WETH);
        assertEq(address(c.feed), address(feed), "feed");
        assertEq(uint256(c.maxAge), 120, "maxAge");
        assertEq(uint256(c.maxJumpBps), 500, "jump");
        assertEq(uint256(c.decimals), 8, "decimals");
    }

    function testRemoveFeed() public {
        vm.expectEmit();
        emit OracleRouter.FeedRemoved(WETH, address(feed));
        router.removeFeed(WETH);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.UnknownAsset.selector, WETH));
        router.price(WETH);
        vm.expectRevert(abi.encodeWithSelector(OracleRouter.UnknownAsset.selector, WETH));
        router.removeFeed(WETH);
    }

    function testAdminFunctionsRejectStrangers() public {
        bytes32 role = router.ORACLE_ADMIN_ROLE();
        bytes memory err = abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role);
        vm.startPrank(stranger);
        vm.expectRevert(err);
        router.setFeed(WETH, address(feed), 60, 100);
        vm.expectRevert(err);
        router.removeFeed(WETH);
        vm.expectRevert(err);
        router.setSequencerFeed(address(feed), 60);
        vm.stopPrank();
    }
}

/// @dev A misbehaving aggregator for the paths a ManagedPriceFeed cannot produce.
contract IncompleteFeed {
    bool private future;

    function setFuture() external {
        future = true;
    }

    function decimals() external pure returns (uint8) {
        return 8;
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        if (future) return (5, 1e8, block.timestamp, block.timestamp + 1, 5);
        return (5, 1e8, block.timestamp, block.timestamp, 4);
    }
}
