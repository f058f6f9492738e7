import { afterEach, describe, expect, it } from "vitest";
import { getAddress } from "viem";
import { abiOf, ArtifactError } from "./abis.ts";
import { chainData, chainSource, SURFACE_SOURCE } from "./feed.ts";
import { scale, volFromSmile, type UnderlyingState, type VaultState } from "./state.ts";
import { validateSnapshot, parsePolicy } from "../validate/index.ts";
import { applyData } from "../feeds/types.ts";

const W = 10n ** 18n;
const B = { minVol: 0.01, maxVol: 5, maxAbsMoneyness: 3 };
const feed = getAddress("0x00000000000000000000000000000000000000fe");

describe("chain: surface vol replica", () => {
  it("atm + skew·k + curvature·k², k = ln(K/S) clamped to ±3, vol clamped to [0.01, 5]", () => {
    const s = { atmVol: 65n * 10n ** 16n, skew: -(10n ** 17n), curvature: 5n * 10n ** 17n };
    expect(volFromSmile(s, 3_000, 3_000, B)).toBeCloseTo(0.65, 15);
    const k = Math.log(2_400 / 3_000);
    expect(volFromSmile(s, 2_400, 3_000, B)).toBeCloseTo(0.65 - 0.1 * k + 0.5 * k * k, 15);
    expect(volFromSmile(s, 1e9, 1, B)).toBeCloseTo(0.65 - 0.3 + 4.5, 12);
    expect(volFromSmile({ atmVol: 0n, skew: 0n, curvature: 0n }, 3_000, 3_000, B)).toBe(0.01);
    expect(volFromSmile({ atmVol: 9n * W, skew: 0n, curvature: 0n }, 3_000, 3_000, B)).toBe(5);
    expect(volFromSmile(s, 0, 3_000, B)).toBeNaN();
  });

  it("scale: feed answers to WAD", () => {
    expect(scale(3_000n * 10n ** 8n, 8)).toBe(3_000n * W);
    expect(scale(5n * 10n ** 20n, 20)).toBe(5n * W);
  });
});

describe("chain: feed adapter", () => {
  const u = {
    info: { symbol: "ETH", token: feed, decimals: 18, feed, feedDecimals: 8 },
    exposure: { price: 3_000n * W },
    round: { roundId: 7n, answer: 3_000n * 10n ** 8n, updatedAt: 1_000n },
    held: [{ vol: 0.7, strike: 2_700n * W, expiry: 1_000n + 30n * 86_400n }],
    atm: { expiry: 1_000n + 30n * 86_400n, vol: 0.65 },
  } as unknown as UnderlyingState;
  const state = { timestamp: 1_100n, underlyings: [u] } as unknown as VaultState;

  it("emits the oracle round (source chain:<feed>) and surface vols, ages mapped onto the keeper clock", () => {
    const now = 5_000_000;
    const data = chainData(state, now);
    const spot = data.find((d) => d.kind === "spot");
    expect(spot).toEqual({
      kind: "spot",
      underlying: "ETH",
      source: chainSource(feed),
      eventTime: now - 100_000, // 100 s old on the chain's clock
      receiveTime: now,
      price: 3_000,
    });
    const ivs = data.filter((d) => d.kind === "ivPoint");
    expect(ivs.map((d) => d.kind === "ivPoint" && [d.source, d.strike, d.iv])).toEqual([
      [SURFACE_SOURCE, 3_000, 0.65],
      [SURFACE_SOURCE, 2_700, 0.7],
    ]);
    const v = validateSnapshot(applyData({}, data), parsePolicy({ underlyings: ["ETH"] }), now);
    // 100 s > the default 60 s spot SLA: the chain datum is stale on the chain's own clock
    expect(v.usable.ETH).toBe(false);
    expect(v.alerts.some((a) => a.reason === "stale" && a.source === chainSource(feed))).toBe(true);
    const ok = validateSnapshot(
      applyData({}, data),
      parsePolicy({ underlyings: ["ETH"], sourceMaxAgeMs: { [chainSource(feed)]: 3_600_000 } }),
      now,
    );
    expect(ok.usable.ETH).toBe(true);
  });
});

describe("chain: artifacts", () => {
  const saved = process.env.DELTAVAULT_ARTIFACTS;
  afterEach(() => {
    if (saved === undefined) delete process.env.DELTAVAULT_ARTIFACTS;
    else process.env.DELTAVAULT_ARTIFACTS = saved;
  });
  it("reads ABIs from the Hardhat artifacts; a missing artifact says to build", () => {
    const abi = abiOf("TreasuryVault");
    expect(abi.some((x) => x.type === "function" && x.name === "rebalance")).toBe(true);
    process.env.DELTAVAULT_ARTIFACTS = "/nonexistent-artifacts";
    expect(() => abiOf("PerpDEX")).toThrow(ArtifactError);
    expect(() => abiOf("PerpDEX")).toThrow(/run `npx hardhat build`/);
  });
});
