/**
 * The end of the governance lifecycle on the full system: after the DAO votes the WETH band from
 * 25 down to 10 ETH, the keeper's next rebalance is held to 10 ETH by the vault itself.
 */
import { describe, expect, it } from "vitest";
import { network } from "hardhat";
import { deploySystem, fundTreasury } from "../../../scripts/deploy/system.ts";
import { governSystem } from "../../../scripts/demo/governance.ts";
import { buildLimitProposal } from "../../../scripts/governance/proposal.ts";
import { describeRevert } from "../../../scripts/governance/errors.ts";

const WAD = 10n ** 18n;

describe("a voted band change binds the keeper's next rebalance", () => {
  it("refuses a bundle that ends inside the old band but outside the new one", async () => {
    const connection = await network.connect();
    const { viem } = connection;
    const publicClient = await viem.getPublicClient();
    const d = await deploySystem(viem);
    await fundTreasury(viem, d, { weth: 1_000, wbtc: 50, usdc: 5_000_000, creatorPayoutsOwedWeth: 600 });
    const { dao, passAndExecute } = await governSystem(connection, d);
    const vault = await viem.getContractAt("TreasuryVault", d.vault);
    const weth = d.tokens.weth.address;

    const built = await buildLimitProposal(publicClient, {
      policy: d.policy,
      change: "set WETH band to 10 ETH",
      underlyings: { WETH: weth, WBTC: d.tokens.wbtc.address },
      executor: dao.timelock,
    });
    expect(await passAndExecute(built.proposal)).toContain("Executed");
    // The vote took longer than the oracle's max age: the feed operator posts fresh rounds.
    for (const [feed, price] of [
      [d.feeds.weth, 3_000n],
      [d.feeds.wbtc, 60_000n],
    ] as const) {
      const f = await viem.getContractAt("ManagedPriceFeed", feed);
      await publicClient.waitForTransactionReceipt({ hash: await f.write.submit([price * 10n ** 8n]) });
    }
    expect((await vault.read.exposure([weth])).band).toBe(10n * WAD);

    // Net is +400 WETH (1,000 held, 600 owed). A perp short of 380 would land at +20: fine under the
    // old 25 band, outside the new 10 band.
    expect((await vault.read.exposure([weth])).net).toBe(400n * WAD);
    const margin = {
      kind: 3,
      adapter: d.adapters.perp,
      underlying: weth,
      id: 0n,
      amount: 1_000_000n * 10n ** 6n,
      bound: 0n,
    };
    const perp = (size: bigint) => ({
      kind: 1,
      adapter: d.adapters.perp,
      underlying: weth,
      id: 0n,
      amount: size,
      bound: 2_900n * WAD,
    });
    const deadline = (await publicClient.getBlock()).timestamp + 600n;
    const inputsHash = `0x${"11".repeat(32)}` as const;
    const keeper = { account: d.accounts.keeper };
    let refused = "";
    try {
      await vault.simulate.rebalance([[margin, perp(-380n * WAD)], inputsHash, 0n, deadline], keeper);
    } catch (err) {
      refused = describeRevert(err, vault.abi);
    }
    expect(refused).toMatch(/^OutsideBand\(/);
    expect(refused).toContain("10000000000000000000"); // the new band, 10e18

    // Landing at +5 passes, and the vault ends inside the new band.
    const hash = await vault.write.rebalance([[margin, perp(-395n * WAD)], inputsHash, 0n, deadline], keeper);
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");
    const after = await vault.read.exposure([weth]);
    expect(after.net <= 10n * WAD && after.net >= -10n * WAD).toBe(true);
    await connection.close();
  });
});
