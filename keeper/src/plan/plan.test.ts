import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Address } from "viem";
import type { Decision, HedgePolicy } from "../decide/types.ts";
import {
  DEFAULT_PLAN_CONFIG,
  LegKind,
  MAX_LEGS,
  plan,
  toUnits,
  type Leg,
  type OptionQuote,
  type PerpVenueQuote,
  type PlanConfig,
  type PlanMarket,
  type SpotVenueQuote,
} from "./index.ts";

const WAD = 10n ** 18n;
const S = 3000;
const NOW = Date.UTC(2025, 5, 1, 12);
const DAY = 86_400_000;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const WETH = addr(0xe1);
const USDC = addr(0xc0);
const PERP_A = addr(0xa1);
const PERP_B = addr(0xb1);
const SPOT = addr(0x51);
const OPT = addr(0x0f);

/** Ladder points every `step` units up to `depth`: avg price S(1 ± k s), fee feeBps of notional. */
function perpLadder(k: number, feeBps: number, side: 1 | -1, depth = 2000, step = 50) {
  const pts = [];
  for (let s = step; s <= depth; s += step)
    pts.push({ size: s, avgPrice: S * (1 + side * k * s), feeUsd: (feeBps / 1e4) * S * s });
  return pts;
}
const perp = (
  adapter: Address,
  k: number,
  feeBps: number,
  over: Partial<PerpVenueQuote> = {},
): PerpVenueQuote => ({
  adapter,
  quotedAt: NOW - 1000,
  buy: perpLadder(k, feeBps, 1),
  sell: perpLadder(k, feeBps, -1),
  position: 0,
  equityUsd: 10_000_000,
  maintenanceUsd: 0,
  ...over,
});
/** Selling s units yields S s (1 − costBps/1e4 − k s) quote tokens. */
const spot = (costBps: number, k: number, over: Partial<SpotVenueQuote> = {}): SpotVenueQuote => {
  const sell = [];
  for (let s = 50; s <= 2000; s += 50) sell.push({ size: s, amountOut: S * s * (1 - costBps / 1e4 - k * s) });
  return { adapter: SPOT, quotedAt: NOW - 1000, sell, ...over };
};
const option = (
  seriesId: bigint,
  type: "put" | "call",
  strike: number,
  days: number,
  delta: number,
  ask: number,
  bid: number | null = ask * 0.95,
): OptionQuote => ({
  adapter: OPT,
  seriesId,
  type,
  strike,
  expiry: NOW + days * DAY,
  ask,
  bid,
  delta,
  gamma: 0.0005,
  quotedAt: NOW - 1000,
});
const chain: OptionQuote[] = [
  option(1n, "put", 2700, 7, -0.25, 40), // too short
  option(2n, "put", 2600, 21, -0.24, 80), // chosen put: nearest eligible expiry, closest to 25-delta
  option(3n, "put", 2800, 21, -0.35, 120),
  option(4n, "put", 3200, 21, -0.7, 300), // ITM
  option(5n, "put", 2500, 45, -0.25, 100), // later expiry
  option(6n, "call", 3400, 21, 0.26, 70), // chosen call for a collar
  option(7n, "call", 3200, 21, 0.4, 130),
];

const market = (over: Partial<PlanMarket> = {}): PlanMarket => ({
  now: NOW,
  underlying: { symbol: "ETH", address: WETH, decimals: 18 },
  quoteToken: { address: USDC, decimals: 6 },
  oraclePrice: S,
  spotBalance: 0,
  quoteBalance: 5_000_000,
  perpPosition: 0,
  fundingRatePerHour: 0,
  perps: [perp(PERP_A, 1e-6, 5)],
  spots: [],
  options: chain,
  heldSeries: [],
  ...over,
});
const policy = (over: Partial<HedgePolicy> = {}): HedgePolicy => ({
  enabled: true,
  band: 25,
  minHedgeRatio: 0.5,
  maxHedgeRatio: 1.1,
  maxOptionLegSize: 1000,
  maxPerpLegSize: 400,
  maxSpotLegSize: 400,
  maxPerpPosition: 5000,
  premiumBudgetRemaining: 1e6,
  maxOpenSeries: 4,
  maxSlippageBps: 50,
  ...over,
});
const config = (over: Partial<PlanConfig> = {}): PlanConfig => ({
  ...DEFAULT_PLAN_CONFIG,
  slippageToleranceBps: 30,
  ...over,
});
const decision = (
  net: number,
  targetNet = 0,
  label: "stressed" | "neutral" | "calm" = "neutral",
  band = 20,
): Decision => ({
  underlying: "ETH",
  action: "hedge",
  reasons: ["test"],
  net,
  target: 0,
  targetNet,
  gap: targetNet - net,
  band,
  wwBand: band,
  regime: { score: label === "stressed" ? -0.6 : label === "calm" ? 0.6 : 0, label, multiplier: 1 },
});

const wad = (x: bigint) => Number(x) / 1e18;
/** Bigints equal up to float noise of the two computations (1e-9 of a unit at 18 decimals). */
const near = (a: bigint, b: bigint) => expect(Number(a > b ? a - b : b - a)).toBeLessThan(1e9);
const sum = (legs: Leg[], kind: LegKind) =>
  legs.filter((l) => l.kind === kind).reduce((s, l) => s + l.amount, 0n);

describe("plan: routine perp hedge", () => {
  it("sells the gap on the perp, split by the leg cap, bounds from the quote ladder", () => {
    const p = plan(decision(700), market(), policy(), config());
    expect(p.status).toBe("ok");
    expect(p.legs.map((l) => l.kind)).toEqual([LegKind.Perp, LegKind.Perp]);
    expect(p.legs.map((l) => l.amount)).toEqual([-350n * WAD, -350n * WAD]);
    for (const l of p.legs) {
      expect(Object.keys(l)).toEqual(["kind", "adapter", "underlying", "id", "amount", "bound"]);
      expect(l).toMatchObject({ adapter: PERP_A, underlying: WETH, id: 0n });
    }
    // leg 1 fills [0, 350]: avg S(1 − 350k); leg 2 fills [350, 700]: avg S(1 − 1050k); min price = avg (1 − 30 bps)
    const avg1 = S * (1 - 350e-6);
    const avg2 = S * (1 - 1050e-6);
    expect(wad(p.legs[0]!.bound)).toBeCloseTo(avg1 * 0.997, 9);
    expect(wad(p.legs[1]!.bound)).toBeCloseTo(avg2 * 0.997, 9);
    near(p.legs[0]!.bound, toUnits(avg1 * 0.997, 18, "ceil"));
    expect(p.expectedNetAfter).toBeCloseTo(0, 9);
    expect(p.notionalUsd).toBeCloseTo(700 * S, 6);
    expect(p.premiumUsd).toBe(0);
    expect(p.deadline).toBe(BigInt(NOW / 1000 + DEFAULT_PLAN_CONFIG.deadlineSeconds));
  });

  it("buys when the book is short, with a max acceptable price above the quote", () => {
    const p = plan(decision(-300), market(), policy(), config());
    expect(p.legs).toHaveLength(1);
    expect(p.legs[0]!.amount).toBe(300n * WAD);
    near(p.legs[0]!.bound, toUnits(S * (1 + 300e-6) * 1.003, 18, "floor"));
    expect(p.expectedNetAfter).toBeCloseTo(0, 9);
  });

  it("splits across perp venues by marginal cost: the deeper venue takes more, marginal costs equalise", () => {
    const m = market({ perps: [perp(PERP_A, 1e-6, 5), perp(PERP_B, 3e-6, 5)] });
    const p = plan(decision(800), m, policy({ maxPerpLegSize: 1000 }), config());
    const a = -wad(
      sum(
        p.legs.filter((l) => l.adapter === PERP_A),
        LegKind.Perp,
      ),
    );
    const b = -wad(
      sum(
        p.legs.filter((l) => l.adapter === PERP_B),
        LegKind.Perp,
      ),
    );
    expect(a + b).toBeCloseTo(800, 9);
    // marginal impact 2 k s equal on both venues: a / b = 3 (to one 50-unit ladder step)
    expect(a).toBeGreaterThan(550);
    expect(a).toBeLessThanOrEqual(650);
    const pB = plan(
      decision(800),
      market({ perps: [perp(PERP_A, 1e-6, 20), perp(PERP_B, 1e-6, 5)] }),
      policy({ maxPerpLegSize: 1000 }),
      config(),
    );
    // equal impact, B cheaper by 15 bps of fees: B first until its impact catches up (2 k s = 15 bps → 750)
    const bOnly = -wad(
      sum(
        pB.legs.filter((l) => l.adapter === PERP_B),
        LegKind.Perp,
      ),
    );
    expect(bOnly).toBeGreaterThanOrEqual(750);
  });

  it("adds a margin deposit first when post-trade leverage would exceed the target", () => {
    const venue = perp(PERP_A, 1e-6, 5, { equityUsd: 100_000, position: -100 });
    const p = plan(decision(400), market({ perps: [venue] }), policy(), config({ targetLeverage: 5 }));
    expect(p.legs.map((l) => l.kind)).toEqual([LegKind.MarginDeposit, LegKind.Perp]);
    const fee = 5e-4 * S * 400;
    const need = (500 * S) / 5 - (100_000 - fee);
    expect(p.legs[0]).toMatchObject({ adapter: PERP_A, underlying: WETH, id: 0n, bound: 0n });
    expect(Number(p.legs[0]!.amount - toUnits(need, 6, "ceil"))).toBeOneOf([-1, 0, 1]);
    // a well-margined venue gets none
    const rich = plan(
      decision(400),
      market({ perps: [perp(PERP_A, 1e-6, 5, { equityUsd: 1e6 })] }),
      policy(),
      config(),
    );
    expect(rich.legs.some((l) => l.kind === LegKind.MarginDeposit)).toBe(false);
    // not enough quote tokens for the deposit: infeasible
    const poor = plan(decision(400), market({ perps: [venue], quoteBalance: 1000 }), policy(), config());
    expect(poor.status).toBe("infeasible");
    expect(poor.infeasible).toMatch(/margin deposits .* exceed the vault's 1000.0 USD/);
  });

  it("does nothing for hold and stand-down decisions", () => {
    const hold: Decision = { ...decision(10), action: "hold", gap: 0, targetNet: 10 };
    const p = plan(hold, market(), policy(), config());
    expect(p).toMatchObject({ status: "none", legs: [], expectedNetAfter: 10, deadline: 0n });
  });
});

describe("plan: options overlay", () => {
  it("stressed → buys ~25-delta puts at the nearest expiry ≥ 14 days for a fraction of the gap, rest on perp", () => {
    const p = plan(decision(700, 0, "stressed"), market(), policy({ maxOptionLegSize: 500 }), config());
    expect(p.status).toBe("ok");
    const opts = p.legs.filter((l) => l.kind === LegKind.Option);
    expect(opts.every((l) => l.id === 2n && l.adapter === OPT && l.amount > 0n)).toBe(true);
    // 50 % of the gap: 350 delta / 0.24 per put = 1458.3 puts, in 3 legs under the 500 cap
    const n = 350 / 0.24;
    expect(opts).toHaveLength(3);
    expect(wad(sum(opts, LegKind.Option))).toBeCloseTo(n, 9);
    for (const l of opts) {
      expect(wad(l.amount)).toBeLessThanOrEqual(500);
      near(l.bound, toUnits(wad(l.amount) * 80 * 1.003, 18, "floor"));
    }
    expect(p.premiumUsd).toBeCloseTo(n * 80 * 1.003, 3);
    expect(-wad(sum(p.legs, LegKind.Perp))).toBeCloseTo(350, 6);
    expect(p.expectedNetAfter).toBeCloseTo(0, 6);
    expect(p.rationale.some((r) => r.startsWith("overlay wanted: regime stressed"))).toBe(true);
  });

  it("an event window triggers the overlay in a neutral regime; outside it, perp only", () => {
    const win = { start: NOW - 3600_000, end: NOW + 3600_000 };
    const inWin = plan(decision(700), market(), policy(), config({ eventWindows: [win] }));
    expect(inWin.legs.some((l) => l.kind === LegKind.Option)).toBe(true);
    expect(inWin.rationale.some((r) => r.includes("event window open"))).toBe(true);
    const after = plan(
      decision(700),
      market(),
      policy(),
      config({ eventWindows: [{ start: NOW - 7200_000, end: NOW }] }),
    );
    expect(after.legs.every((l) => l.kind === LegKind.Perp)).toBe(true);
  });

  it("collar: buy the put, sell the ~25-delta call of the same expiry, equal sizes, proceeds bound below the bid", () => {
    const cfg = config({ overlay: { ...DEFAULT_PLAN_CONFIG.overlay, structure: "collar" } });
    const p = plan(decision(700, 0, "stressed"), market(), policy({ maxOptionLegSize: 500 }), cfg);
    const puts = p.legs.filter((l) => l.kind === LegKind.Option && l.id === 2n);
    const calls = p.legs.filter((l) => l.kind === LegKind.Option && l.id === 6n);
    const n = 350 / (0.24 + 0.26);
    expect(wad(sum(puts, LegKind.Option))).toBeCloseTo(n, 9);
    expect(wad(sum(calls, LegKind.Option))).toBeCloseTo(-n, 9);
    expect(puts).toHaveLength(2);
    expect(calls).toHaveLength(2);
    for (const c of calls) near(c.bound, toUnits(-wad(c.amount) * 70 * 0.95 * 0.997, 18, "ceil"));
    expect(p.expectedNetAfter).toBeCloseTo(0, 6);
  });

  it("collar falls back to puts only when the series slots run out; no slot at all → no overlay", () => {
    const cfg = config({ overlay: { ...DEFAULT_PLAN_CONFIG.overlay, structure: "collar" } });
    const held = [{ adapter: OPT, seriesId: 99n }];
    const p = plan(
      decision(700, 0, "stressed"),
      market({ heldSeries: held }),
      policy({ maxOpenSeries: 2 }),
      cfg,
    );
    expect(p.legs.filter((l) => l.kind === LegKind.Option).every((l) => l.id === 2n)).toBe(true);
    expect(p.rationale.some((r) => r.includes("collar needs 2 new series, 1 free"))).toBe(true);
    const full = plan(
      decision(700, 0, "stressed"),
      market({ heldSeries: held }),
      policy({ maxOpenSeries: 1 }),
      cfg,
    );
    expect(full.legs.every((l) => l.kind === LegKind.Perp)).toBe(true);
    expect(full.rationale.some((r) => r.startsWith("overlay skipped: no free series slot"))).toBe(true);
    // a series already held needs no new slot
    const again = plan(
      decision(700, 0, "stressed"),
      market({ heldSeries: [{ adapter: OPT, seriesId: 2n }] }),
      policy({ maxOpenSeries: 1 }),
      config(),
    );
    expect(again.legs.some((l) => l.id === 2n)).toBe(true);
  });

  it("cuts the overlay to the premium budget and never commits more than it", () => {
    const budget = 20_000;
    const p = plan(
      decision(700, 0, "stressed"),
      market(),
      policy({ premiumBudgetRemaining: budget }),
      config(),
    );
    expect(p.premiumUsd).toBeLessThanOrEqual(budget);
    expect(p.premiumUsd).toBeGreaterThan(budget * 0.999);
    const bounds = p.legs.filter((l) => l.kind === LegKind.Option).reduce((s, l) => s + l.bound, 0n);
    expect(bounds).toBeLessThanOrEqual(BigInt(budget) * WAD);
    expect(p.expectedNetAfter).toBeCloseTo(0, 6); // the perp covers the rest
    expect(p.rationale.some((r) => r.includes("by the premium budget"))).toBe(true);
  });

  it("a short book gets calls; no eligible series → perp only", () => {
    const p = plan(decision(-400, 0, "stressed"), market(), policy(), config());
    const opts = p.legs.filter((l) => l.kind === LegKind.Option);
    expect(opts.every((l) => l.id === 6n && l.amount > 0n)).toBe(true);
    expect(p.expectedNetAfter).toBeCloseTo(0, 6);
    const none = plan(
      decision(700, 0, "stressed"),
      market({ options: chain.filter((q) => q.expiry < NOW + 14 * DAY) }),
      policy(),
      config(),
    );
    expect(none.legs.every((l) => l.kind === LegKind.Perp)).toBe(true);
    expect(none.rationale.some((r) => r.includes("no fresh OTM put expiring in ≥ 14 days"))).toBe(true);
  });
});

describe("plan: spot", () => {
  it("sells held spot when it is cheaper all-in than the perp (fee + impact + funding)", () => {
    // perp costs 5 bps fee + impact; spot 2 bps: spot first until its impact reaches the perp's cost
    const p = plan(decision(300), market({ spotBalance: 1000, spots: [spot(2, 1e-7)] }), policy(), config());
    expect(p.legs.every((l) => l.kind === LegKind.Spot)).toBe(true);
    expect(sum(p.legs, LegKind.Spot)).toBe(-300n * WAD);
    const out = S * 300 * (1 - 2e-4 - 1e-7 * 300);
    expect(Number(p.legs[0]!.bound - toUnits(out * 0.997, 6, "ceil"))).toBeOneOf([-1, 0, 1]);
    expect(p.expectedNetAfter).toBeCloseTo(0, 9);
  });

  it("perp wins when shorts earn enough funding over the horizon; spot wins when they pay it", () => {
    const m = (rate: number) => market({ spotBalance: 1000, spots: [spot(8, 0)], fundingRatePerHour: rate });
    const earn = plan(decision(300), m(5e-5), policy(), config({ fundingHorizonHours: 24 })); // a short earns 12 bps
    expect(earn.legs.every((l) => l.kind === LegKind.Perp)).toBe(true);
    const pay = plan(decision(300), m(-5e-5), policy(), config({ fundingHorizonHours: 24 }));
    expect(pay.legs.every((l) => l.kind === LegKind.Spot)).toBe(true);
  });

  it("never sells more spot than held (never short spot) and never buys spot", () => {
    const p = plan(decision(300), market({ spotBalance: 100, spots: [spot(0, 0)] }), policy(), config());
    expect(sum(p.legs, LegKind.Spot)).toBe(-100n * WAD);
    expect(sum(p.legs, LegKind.Perp)).toBe(-200n * WAD);
    const buy = plan(decision(-300), market({ spotBalance: 1000, spots: [spot(0, 0)] }), policy(), config());
    expect(buy.legs.every((l) => l.kind === LegKind.Perp && l.amount > 0n)).toBe(true);
  });

  it("uses the underlying's token decimals for spot amounts (WBTC: 8)", () => {
    const m = market({
      underlying: { symbol: "BTC", address: WETH, decimals: 8 },
      spotBalance: 1000,
      spots: [spot(0, 0)],
    });
    const p = plan(decision(1.23456789123), m, policy(), config());
    expect(p.legs).toHaveLength(1);
    expect(p.legs[0]!.amount).toBe(-123456789n);
  });
});

describe("plan: caps, bounds and infeasibility", () => {
  it("splits into legs of at most the cap and refuses more than MAX_LEGS", () => {
    const p = plan(decision(700), market(), policy({ maxPerpLegSize: 100 }), config());
    expect(p.legs).toHaveLength(7);
    expect(p.legs.every((l) => l.amount === -100n * WAD)).toBe(true);
    const q = plan(decision(700), market(), policy({ maxPerpLegSize: 80 }), config());
    expect(q.status).toBe("infeasible");
    expect(q.legs).toEqual([]);
    expect(q.infeasible).toBe(`needs 9 legs > ${MAX_LEGS}: leg caps too small for the gap`);
  });

  it("infeasible when depth within the slippage limit cannot close the gap into the band", () => {
    // impact 2e-5/unit: marginal price leaves 50 bps at s = 125 → usable depth 100 (ladder step 50)
    const p = plan(decision(700), market({ perps: [perp(PERP_A, 2e-5, 5)] }), policy(), config());
    expect(p.status).toBe("infeasible");
    expect(p.infeasible).toMatch(/^expected net 600\.0 outside band 20\.0 around target 0$/);
    expect(p.rationale.some((r) => r.includes("600.0 of 700.0 ETH unfilled"))).toBe(true);
    expect(p.expectedNetAfter).toBe(700);
  });

  it("an aim short of the effective band (hedge-ratio margin) is planned, but never beyond the governed band", () => {
    // decide kept 1 % of an 800-unit gap (ratio 0.99): the plan reaches 8 units, outside band 2.
    const ok = plan(decision(800, 8, "neutral", 2), market(), policy(), config());
    expect(ok.status).toBe("ok");
    expect(ok.expectedNetAfter).toBeCloseTo(8, 6);
    // An aim of 30 units exceeds the governed band (25): the vault would revert OutsideBand.
    const no = plan(decision(600, 30, "neutral", 2), market(), policy(), config());
    expect(no.status).toBe("infeasible");
    expect(no.infeasible).toMatch(/^expected net 30\.0 outside band 2\.0 around target 0$/);
  });

  it("infeasible when the perp position cap leaves too little headroom", () => {
    const p = plan(decision(700), market({ perpPosition: -4500 }), policy(), config());
    expect(p.status).toBe("infeasible");
    expect(p.rationale.some((r) => r.includes("perp headroom 500.0 (cap 5000.0"))).toBe(true);
  });

  it("infeasible when the achievable hedge ratio falls outside the policy bounds", () => {
    // the decision asks for more than the policy's max ratio (inconsistent inputs): the plan refuses
    const d = { ...decision(700, -100), band: 200 };
    const p = plan(d, market(), policy({ band: 25, maxHedgeRatio: 1.1 }), config());
    expect(p.status).toBe("infeasible");
    expect(p.infeasible).toBe("hedge ratio 1.1429 outside policy [0.5, 1.1]");
  });

  it("ignores stale quotes (and future-dated ones)", () => {
    const m = market({
      perps: [
        perp(PERP_A, 1e-6, 5, { quotedAt: NOW - 60_000 }),
        perp(PERP_B, 1e-6, 5, { quotedAt: NOW + 5000 }),
      ],
    });
    const p = plan(decision(700), m, policy(), config());
    expect(p.status).toBe("infeasible");
    expect(p.infeasible).toBe("no usable venue for the hedge");
    expect(p.rationale.some((r) => r.includes("quote stale (60000 ms old)"))).toBe(true);
  });

  it("rejects non-finite market data instead of planning on it", () => {
    const p = plan(decision(700), market({ oraclePrice: Number.NaN }), policy(), config());
    expect(p).toMatchObject({ status: "infeasible", infeasible: "market.oraclePrice is not finite (NaN)" });
  });

  it("clamps the tolerance to the policy's maxSlippageBps", () => {
    const p = plan(
      decision(-300),
      market(),
      policy({ maxSlippageBps: 20 }),
      config({ slippageToleranceBps: 500 }),
    );
    expect(p.rationale[0]).toBe("slippage tolerance 500 bps clamped to policy 20 bps");
    near(p.legs[0]!.bound, toUnits(S * (1 + 300e-6) * 1.002, 18, "floor"));
  });

  it("no bound is ever looser than maxSlippageBps from its quote (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -900, max: 900, noNaN: true }).filter((g) => Math.abs(g) > 30),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.boolean(),
        fc.constantFrom(60, 150, 400),
        (net, maxBps, tolBps, stressed, cap) => {
          const m = market({
            spotBalance: 200,
            spots: [spot(3, 1e-7)],
            perps: [perp(PERP_A, 1e-6, 2), perp(PERP_B, 2e-6, 1)],
          });
          const pol = policy({ maxSlippageBps: maxBps, maxPerpLegSize: cap, maxSpotLegSize: cap });
          const p = plan(
            decision(net, 0, stressed ? "stressed" : "neutral"),
            m,
            pol,
            config({ slippageToleranceBps: tolBps }),
          );
          const tol = Math.min(maxBps, tolBps) / 1e4;
          const premium = new Map(chain.map((q) => [q.seriesId, q]));
          for (const l of p.legs) {
            if (l.kind === LegKind.Perp) {
              // |bound / oracle − 1| ≤ depth limit (maxBps) composed with the tolerance: the bound is
              // the leg's average (within maxBps of the oracle) × (1 ± tol)
              expect(Math.abs(wad(l.bound) / S - 1)).toBeLessThanOrEqual(
                (1 + maxBps / 1e4) * (1 + tol) - 1 + 1e-12,
              );
            } else if (l.kind === LegKind.Option) {
              const q = premium.get(l.id)!;
              const units = wad(l.amount);
              const ref = units > 0 ? units * q.ask : -units * q.bid!;
              expect(Math.abs(wad(l.bound) / ref - 1)).toBeLessThanOrEqual(tol + 1e-12);
            } else if (l.kind === LegKind.Spot) {
              const units = -wad(l.amount);
              expect(Number(l.bound) / 1e6 / (units * S)).toBeGreaterThanOrEqual(
                1 - maxBps / 1e4 - tol - 1e-9,
              );
            }
          }
          if (p.status === "ok") {
            expect(p.legs.length).toBeLessThanOrEqual(MAX_LEGS);
            expect(Math.abs(p.expectedNetAfter)).toBeLessThanOrEqual(20 + 1e-6);
            expect(-sum(p.legs, LegKind.Spot)).toBeLessThanOrEqual(200n * WAD);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
