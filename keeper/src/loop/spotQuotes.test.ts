import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { formatAbiItem } from "viem/utils";
import type { Abi, Address } from "viem";
import { uniswapAbis } from "../chain/abis.ts";
import { DEFAULT_ETH_SPOT, spotSellOut } from "../backtest/model/spot.ts";
import type { Decision, HedgePolicy } from "../decide/types.ts";
import { DEFAULT_PLAN_CONFIG, LegKind, plan, toUnits, type PlanMarket } from "../plan/index.ts";
import { LADDER_FRACTIONS } from "./perpModel.ts";
import { spotSellAmounts, spotSellLadder } from "./spotQuotes.ts";

const WAD = 10n ** 18n;
const S = 3000;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;

/** A fake QuoterV2: the backtest's constant-product Uniswap model at S, output truncated to USDC units. */
const fakeQuote = (amountIn: bigint, decimals = 18): bigint =>
  toUnits(spotSellOut(DEFAULT_ETH_SPOT, S, Number(amountIn) / 10 ** decimals), 6, "floor");

describe("spot sell ladder sizes", () => {
  it("are the perp ladder's fractions of |gap| in token units while holdings allow", () => {
    expect(spotSellAmounts(-100, 1_000n * WAD, 18)).toEqual(
      LADDER_FRACTIONS.map((f) => toUnits(100 * f, 18, "trunc")),
    );
    expect(spotSellAmounts(-100, 1_000n * WAD, 18)).toEqual(
      [25n, 50n, 75n, 100n, 125n, 150n, 200n].map((x) => x * WAD),
    );
  });

  it("are capped at the holdings, which end the ladder when the cap bites", () => {
    expect(spotSellAmounts(-100, 60n * WAD, 18)).toEqual([25n * WAD, 50n * WAD, 60n * WAD]);
    expect(spotSellAmounts(-100, 50n * WAD, 18)).toEqual([25n * WAD, 50n * WAD]);
    expect(spotSellAmounts(-100, 10n * WAD, 18)).toEqual([10n * WAD]);
    expect(spotSellAmounts(-100, 1n, 18)).toEqual([1n]);
  });

  it("truncate to the token's decimals (WBTC: 8) and drop sizes that round to nothing", () => {
    expect(spotSellAmounts(-0.5, 100n * 10n ** 8n, 8)).toEqual([
      12_500_000n,
      25_000_000n,
      37_500_000n,
      50_000_000n,
      62_500_000n,
      75_000_000n,
      100_000_000n,
    ]);
    expect(spotSellAmounts(-0.5, 40_000_000n, 8)).toEqual([
      12_500_000n,
      25_000_000n,
      37_500_000n,
      40_000_000n,
    ]);
    expect(spotSellAmounts(-1.5e-8, 10n ** 8n, 8)).toEqual([1n, 2n, 3n]);
    expect(spotSellAmounts(-1e-12, 10n ** 8n, 8)).toEqual([]);
  });

  it("are empty for a gap that buys delta, no gap, nothing held or a non-finite gap", () => {
    expect(spotSellAmounts(100, 1_000n * WAD, 18)).toEqual([]);
    expect(spotSellAmounts(0, 1_000n * WAD, 18)).toEqual([]);
    expect(spotSellAmounts(-100, 0n, 18)).toEqual([]);
    expect(spotSellAmounts(Number.NEGATIVE_INFINITY, 1_000n * WAD, 18)).toEqual([]);
    expect(spotSellAmounts(Number.NaN, 1_000n * WAD, 18)).toEqual([]);
  });
});

describe("spot sell ladder from quotes", () => {
  const amounts = spotSellAmounts(-100, 1_000n * WAD, 18);

  it("is the quoted size and output per point, in whole tokens", () => {
    const outs = amounts.map((a) => fakeQuote(a));
    const ladder = spotSellLadder(amounts, outs, 18, 6);
    expect(ladder.map((p) => p.size)).toEqual([25, 50, 75, 100, 125, 150, 200]);
    ladder.forEach((p, i) => expect(p.amountOut).toBe(Number(outs[i]) / 1e6));
    // Fee and impact: the average price falls with size, below the pool price by more than the fee.
    const avg = ladder.map((p) => p.amountOut / p.size);
    for (let i = 1; i < avg.length; i++) expect(avg[i]).toBeLessThan(avg[i - 1] as number);
    expect(avg[0]).toBeLessThan(S * (1 - DEFAULT_ETH_SPOT.fee));
  });

  it("ends at the first failed, non-positive or non-increasing quote (the venue's depth)", () => {
    const outs: (bigint | null)[] = amounts.map((a) => fakeQuote(a));
    expect(spotSellLadder(amounts, outs.with(3, null), 18, 6)).toHaveLength(3);
    expect(spotSellLadder(amounts, outs.with(0, null), 18, 6)).toEqual([]);
    expect(spotSellLadder(amounts, outs.with(0, 0n), 18, 6)).toEqual([]);
    expect(spotSellLadder(amounts, outs.with(2, outs[1] as bigint), 18, 6)).toHaveLength(2);
    expect(spotSellLadder(amounts, outs.slice(0, 4), 18, 6)).toHaveLength(4);
  });

  it("feeds the plan: a sale priced off the ladder, min out = quoted output minus the tolerance", () => {
    const holdings = 1_000n * WAD;
    const gap = -100;
    const sizes = spotSellAmounts(gap, holdings, 18);
    const sell = spotSellLadder(
      sizes,
      sizes.map((a) => fakeQuote(a)),
      18,
      6,
    );
    const NOW = 1_750_000_000_000;
    const market: PlanMarket = {
      now: NOW,
      underlying: { symbol: "ETH", address: addr(0xe1), decimals: 18 },
      quoteToken: { address: addr(0xc0), decimals: 6 },
      oraclePrice: S,
      spotBalance: 1_000,
      quoteBalance: 5_000_000,
      perpPosition: 0,
      fundingRatePerHour: 0,
      // A perp at 80 bps all-in: dearer than the pool over the whole gap.
      perps: [
        {
          adapter: addr(0xa1),
          quotedAt: NOW,
          buy: [],
          sell: [50, 100, 200].map((size) => ({ size, avgPrice: S * (1 - 0.003), feeUsd: 0.005 * S * size })),
          position: 0,
          equityUsd: 10_000_000,
          maintenanceUsd: 0,
        },
      ],
      spots: [{ adapter: addr(0x51), quotedAt: NOW, sell }],
      options: [],
      heldSeries: [],
    };
    const policy: HedgePolicy = {
      enabled: true,
      band: 25,
      minHedgeRatio: 0.5,
      maxHedgeRatio: 1,
      maxOptionLegSize: 0,
      maxPerpLegSize: 400,
      maxSpotLegSize: 1_000,
      maxPerpPosition: 5_000,
      premiumBudgetRemaining: 0,
      maxOpenSeries: 0,
      maxSlippageBps: 100,
    };
    const decision: Decision = {
      underlying: "ETH",
      action: "hedge",
      reasons: ["test"],
      net: 100,
      target: 0,
      targetNet: 0,
      gap,
      band: 25,
      wwBand: 25,
      regime: null,
    };
    const p = plan(decision, market, policy, { ...DEFAULT_PLAN_CONFIG, slippageToleranceBps: 40 });
    expect(p.status, p.rationale.join("; ")).toBe("ok");
    expect(p.legs).toHaveLength(1);
    const leg = p.legs[0];
    expect(leg?.kind).toBe(LegKind.Spot);
    expect(leg?.amount).toBe(-100n * WAD); // a ladder point: the quote is exact there
    expect(leg?.bound).toBe(toUnits((Number(fakeQuote(100n * WAD)) / 1e6) * (1 - 0.004), 6, "ceil"));
  });
});

describe("Uniswap ABI fragments", () => {
  const req = createRequire(import.meta.url);
  const published = (specifier: string): Abi =>
    (JSON.parse(readFileSync(req.resolve(specifier), "utf8")) as { abi: Abi }).abi;
  const key = (item: Abi[number]) =>
    item.type === "function" ? `${formatAbiItem(item)}->(${item.outputs.map((o) => o.type).join(",")})` : "";

  it("match the published artifacts (signature and outputs)", () => {
    const P = "@uniswap/v3-periphery/artifacts/contracts";
    const C = "@uniswap/v3-core/artifacts/contracts";
    for (const [fragment, spec] of [
      [uniswapAbis.quoterV2, `${P}/lens/QuoterV2.sol/QuoterV2.json`],
      [uniswapAbis.swapRouter, `${P}/SwapRouter.sol/SwapRouter.json`],
      [uniswapAbis.uniswapFactory, `${C}/UniswapV3Factory.sol/UniswapV3Factory.json`],
    ] as const) {
      const keys = new Set(published(spec).map(key));
      for (const item of fragment as Abi) if (item.type === "function") expect(keys).toContain(key(item));
    }
    // The quoter is the non-view function the keeper reads only through eth_call.
    const q = published(`${P}/lens/QuoterV2.sol/QuoterV2.json`).find(
      (i) => i.type === "function" && i.name === "quoteExactInputSingle",
    );
    expect(q?.type === "function" && q.stateMutability).toBe("nonpayable");
  });
});
