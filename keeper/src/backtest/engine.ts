/**
 * The model backtest engine: replays one market path bar by bar through the keeper's own decide and
 * plan stages (keeper/src/decide, keeper/src/plan) and executes the planned legs against fast
 * TypeScript models of the reference venues (./model) instead of the chain.
 *
 * Per bar: mark the perp to the new index and charge funding; book the treasury's flows (proceeds
 * in, creators' share owed, daily payout); settle expired options and roll the covered calls; build
 * the exposure and greeks; ask the policy for a decision (decide() for the band policies, a clock for
 * the time policies); if it says hedge, plan() the bundle from venue quotes, then execute the legs
 * atomically (any leg beyond its bound reverts the whole bundle, as in the vault) and charge gas.
 *
 * Value = spot·S + cash + perp equity + Σ options at mid − liabilities·S. P&L excludes the external
 * flows (proceeds net of the creators' share, valued when they arrive).
 */
import type { Address } from "viem";
import {
  decide,
  regimeLabel,
  regimeScore,
  DEFAULT_REGIME_SCALES,
  DEFAULT_REGIME_WEIGHTS,
} from "../decide/index.ts";
import type { Decision, Exposure, HedgePolicy, RegimeInputs, ValidationView } from "../decide/types.ts";
import { decideByPolicy, type KeeperPolicy } from "../decide/policy.ts";
import { createRng } from "../feeds/rng.ts";
import { plan, WAD_DECIMALS } from "../plan/index.ts";
import { LegKind, type Leg, type OptionQuote, type PlanMarket } from "../plan/types.ts";
import type { BacktestConfig, PolicySpec } from "./config.ts";
import {
  bundleGas,
  createSeriesRegistry,
  fridayExpiries,
  gasUsd,
  listedStrike,
  optionPayoff,
  perpFundingRatePerDay,
  perpQuoteLadder,
  perpTrade,
  quoteOption,
  spotSellLadder,
  spotSellOut,
  unitGreeks,
  type OptionSeries,
  type Smile,
} from "./model/index.ts";
import { DAY_MS, HOUR_MS, type MarketPath } from "./path.ts";

const PERP: Address = "0x00000000000000000000000000000000000000a1";
const SPOT: Address = "0x00000000000000000000000000000000000000a2";
const OPTIONS: Address = "0x00000000000000000000000000000000000000a3";
const UNDERLYING: Address = "0x00000000000000000000000000000000000000e1";
const QUOTE: Address = "0x00000000000000000000000000000000000000c1";
const QUOTE_DECIMALS = 6;

export const COST_KINDS = ["fees", "slippage", "funding", "gas"] as const;
export type CostKind = (typeof COST_KINDS)[number];
export type Tier = "auto" | "oneApproval" | "twoApprovals";

export type Rebalance = {
  time: number;
  tier: Tier;
  notionalUsd: number;
  legs: number;
  gas: number;
  overlay: boolean;
};

export type ReasonCount = { reason: string; count: number; first: number; example: string };

export type BacktestResult = {
  policy: PolicySpec;
  underlying: string;
  bars: number;
  times: Float64Array;
  prices: Float64Array;
  /** Treasury value, USD. */
  value: Float64Array;
  /** Cumulative external flows, USD (value added by proceeds net of creators' share). */
  cumFlow: Float64Array;
  /** Net delta before this bar's action, after it, the target and the band in force (NaN: none). */
  netPre: Float64Array;
  netPost: Float64Array;
  target: number;
  band: Float64Array;
  cumCost: Record<CostKind, Float64Array>;
  costs: Record<CostKind, number> & { total: number };
  /** Costs of the treasury's own option programme (covered-call sales): not hedging costs. */
  bookCostUsd: number;
  overlay: { buys: number; premiumUsd: number; feesUsd: number; spreadUsd: number };
  rebalances: Record<Tier, number> & { total: number };
  rebalanceLog: Rebalance[];
  decisions: { hold: number; hedge: number; standDown: number; rejected: number };
  standDowns: ReasonCount[];
  rejections: ReasonCount[];
  turnoverUnits: number;
  peakMarginUsd: number;
  minCashUsd: number;
};

/** Groups reasons by their text with numbers and hex (addresses, hashes) masked. */
export function reasonTally() {
  const map = new Map<string, ReasonCount>();
  return {
    add(reason: string, time: number, count = 1) {
      const key = reason.replace(/0x[0-9a-f]+/gi, "0x…").replace(/-?\d[\d,.e+-]*/g, "#");
      const r = map.get(key);
      if (r === undefined) map.set(key, { reason: key, count, first: time, example: reason });
      else r.count += count;
    },
    list: () => [...map.values()].sort((a, b) => b.count - a.count),
  };
}

/** Integer token amount → number (Number(bigint) is exact to 2^-53 relative: plenty for a model). */
const fromUnits = (x: bigint, decimals: number): number => Number(x) / 10 ** decimals;

const nn = (x: number | undefined): number | null => (x === undefined || Number.isNaN(x) ? null : x);

type Book = Map<bigint, number>;

/** Runs one policy over one path. Deterministic: the same inputs give the same result. */
export function runModelBacktest(args: {
  path: MarketPath;
  policy: PolicySpec;
  config: BacktestConfig;
}): BacktestResult {
  const { path, config } = args;
  let policy = args.policy;
  const { treasury: tr, limits, venues, keeper } = config;
  const n = path.times.length;
  if (n < 2) throw new RangeError("a backtest needs at least 2 bars");
  const times = path.times;
  const prices = path.prices;
  const u = path.underlying;
  const registry = createSeriesRegistry(venues.options.capMultiple);
  const hedged = policy.kind !== "unhedged";
  const useOverlay = hedged && policy.overlay;

  // ---- state
  let spot = tr.spot;
  let cash = tr.cash;
  let liabilities = tr.liabilities;
  let owedToCreators = 0;
  let perpPos = 0;
  let perpEquity = 0;
  const book: Book = new Map();
  let coveredCall: OptionSeries | undefined;
  let premiumWindowStart = times[0] as number;
  let premiumSpent = 0;

  // ---- outputs
  const value = new Float64Array(n);
  const cumFlow = new Float64Array(n);
  const netPre = new Float64Array(n);
  const netPost = new Float64Array(n);
  const bandSeries = new Float64Array(n).fill(Number.NaN);
  const cumCost = {
    fees: new Float64Array(n),
    slippage: new Float64Array(n),
    funding: new Float64Array(n),
    gas: new Float64Array(n),
  };
  const costs = { fees: 0, slippage: 0, funding: 0, gas: 0 };
  let bookCostUsd = 0;
  const overlay = { buys: 0, premiumUsd: 0, feesUsd: 0, spreadUsd: 0 };
  const rebalances = { auto: 0, oneApproval: 0, twoApprovals: 0, total: 0 };
  const rebalanceLog: Rebalance[] = [];
  const decisions = { hold: 0, hedge: 0, standDown: 0, rejected: 0 };
  const standDowns = reasonTally();
  const rejections = reasonTally();
  let turnoverUnits = 0;
  let peakMarginUsd = 0;
  let minCashUsd = cash;
  let flowTotal = 0;

  // ---- flows (the same for every policy: seeded by the treasury seed and the path)
  const flowRng = createRng(`${String(tr.seed)}|${path.source}|${times[0]}`);

  const smileAt = (i: number): Smile => ({
    atmVol: path.iv[i] as number,
    skew: venues.smile.skew,
    curvature: venues.smile.curvature,
  });

  const bookGreeks = (S: number, t: number, smile: Smile) => {
    let delta = 0;
    let gamma = 0;
    let vega = 0;
    let mid = 0;
    for (const [id, size] of book) {
      const s = registry.byId(id) as OptionSeries;
      const g = unitGreeks(s, S, t, smile, venues.options.rate);
      delta += size * g.delta;
      gamma += size * g.gamma;
      vega += size * g.vega;
      mid += size * g.price;
    }
    return { delta, gamma, vega, mid };
  };

  const tradeOption = (
    series: OptionSeries,
    size: number,
    S: number,
    t: number,
    smile: Smile,
    poolDelta: number,
  ) => quoteOption(series, size, S, t, smile, venues.options, poolDelta);

  const hedgePolicy = (S: number): HedgePolicy => ({
    enabled: limits.enabled,
    band: limits.band,
    minHedgeRatio: limits.minHedgeRatio,
    maxHedgeRatio: limits.maxHedgeRatio,
    maxOptionLegSize: useOverlay ? limits.maxOptionLegSize : 0,
    maxPerpLegSize: limits.maxPerpLegSize,
    maxSpotLegSize: limits.maxSpotLegSize,
    maxPerpPosition: limits.maxPerpPosition,
    premiumBudgetRemaining: Math.max(
      0,
      Math.min(limits.premiumBudgetUsdPerWindow, limits.premiumBudgetNavFraction * Math.max(spot, 0) * S) -
        premiumSpent,
    ),
    maxOpenSeries: limits.maxOpenSeries,
    maxSlippageBps: limits.maxSlippageBps,
  });
  const okValidation: ValidationView = { usable: { ETH: true, BTC: true }, alerts: [] };
  const decideCfg = {
    ...keeper.decide,
    ...(policy.riskAversion === undefined ? {} : { riskAversion: policy.riskAversion }),
  };
  // fixed-band without a width: the governed band (the keeper's decide floor would be ~0 here).
  if (policy.kind === "fixed-band" && policy.band === undefined) policy = { ...policy, band: limits.band };
  let lastClock = Number.NEGATIVE_INFINITY;

  const fundingPerHour = (i: number): number => {
    const m = path.fundingPerHour[i] as number;
    if (venues.funding === "market" && Number.isFinite(m)) return m;
    return perpFundingRatePerDay(venues.perp, perpPos + venues.backgroundSkew) / 24;
  };

  const regimeAt = (i: number): RegimeInputs => ({
    etfFlowMomentum: nn(path.etfFlowMomentum[i]),
    ivLevel: nn(path.ivLevel[i]),
    ivChange: nn(path.ivChange[i]),
    skew: nn(path.skew[i]),
    fundingRate: nn(path.fundingPerHour[i]),
  });

  // Options written at the start (options-pool scenario).
  {
    const S0 = prices[0] as number;
    const t0 = times[0] as number;
    const sm = smileAt(0);
    for (const w of tr.writtenOptions) {
      const s = registry.get(w.isCall, S0 * w.strikeFraction, w.expiry ?? (times[n - 1] as number));
      const q = tradeOption(s, w.units, S0, t0, sm, -bookGreeks(S0, t0, sm).delta);
      cash += w.units > 0 ? -q.premium : q.premium;
      bookCostUsd += q.fee + q.spread;
      book.set(s.id, (book.get(s.id) ?? 0) + w.units);
    }
  }
  const value0Offset = 0;

  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    const S = prices[i] as number;
    const smile = smileAt(i);

    // ---- carry: perp mark-to-index and funding over the elapsed time
    if (i > 0) {
      const Sp = prices[i - 1] as number;
      const dtH = (t - (times[i - 1] as number)) / HOUR_MS;
      perpEquity += perpPos * (S - Sp);
      const f = perpPos * fundingPerHour(i - 1) * Sp * dtH;
      perpEquity -= f;
      costs.funding += f;

      // ---- flows: proceeds in ETH; creators' share owed
      const mean = tr.proceedsPerHour * dtH;
      const q = Math.max(0, mean * (1 + tr.proceedsNoise * flowRng.nextNormal()));
      spot += q;
      liabilities += tr.creatorShare * q;
      owedToCreators += tr.creatorShare * q;
      flowTotal += q * (1 - tr.creatorShare) * S;
      // daily payout of what is owed to creators
      const hour = Math.floor((t % DAY_MS) / HOUR_MS);
      const prevDay = Math.floor((times[i - 1] as number) / DAY_MS);
      if (Math.floor(t / DAY_MS) !== prevDay && hour >= tr.payoutHourUtc) {
        const fromSpot = Math.min(spot, owedToCreators);
        spot -= fromSpot;
        cash -= (owedToCreators - fromSpot) * S;
        liabilities -= owedToCreators;
        owedToCreators = 0;
        // operating withdrawal: an external outflow
        const w = Math.min(Math.max(spot, 0), tr.withdrawalPerDay);
        spot -= w;
        flowTotal -= w * S;
      }
    }

    // Net delta carried into this bar: after the market moved, before any action or settlement at it.
    let g = bookGreeks(S, t, smile);
    netPre[i] = spot + g.delta + perpPos - liabilities;

    // ---- expiries: cash settlement at this bar's price
    let settled = false;
    for (const [id, size] of book) {
      const s = registry.byId(id) as OptionSeries;
      if (s.expiry <= t) {
        cash += size * optionPayoff(s, S);
        book.delete(id);
        settled = true;
        if (coveredCall !== undefined && coveredCall.id === id) coveredCall = undefined;
      }
    }
    if (settled) g = bookGreeks(S, t, smile);

    // ---- covered-call programme: sell the next series when none is open
    if (tr.coveredCalls !== null && coveredCall === undefined) {
      const cc = tr.coveredCalls;
      const expiry = fridayExpiries(t + cc.minDays * DAY_MS, 1)[0] as number;
      const s = registry.get(true, listedStrike(S, cc.moneyness), expiry);
      const q = tradeOption(s, -cc.units, S, t, smile, -g.delta);
      cash += q.premium;
      bookCostUsd += Math.min(q.mid, q.fee + q.spread);
      book.set(s.id, (book.get(s.id) ?? 0) - cc.units);
      coveredCall = s;
      g = bookGreeks(S, t, smile);
    }
    if (t - premiumWindowStart >= limits.windowMs) {
      premiumWindowStart = t;
      premiumSpent = 0;
    }

    const net = spot + g.delta + perpPos - liabilities;
    let traded = false;

    // ---- policy
    if (hedged) {
      const exposure: Exposure = {
        underlying: u,
        spot,
        options: g.delta,
        perps: perpPos,
        liabilities,
        net,
        target: limits.targetDelta,
        band: limits.band,
        price: S,
      };
      const policyView = hedgePolicy(S);
      const regime = regimeAt(i);
      // Missing bars before this one: the keeper had no fresh price and stood down.
      if (i > 0) {
        const missing = Math.round((t - (times[i - 1] as number)) / path.intervalMs) - 1;
        if (missing > 0) {
          const sd = decide(exposure, {
            greeks: { gamma: g.gamma, vega: g.vega },
            regime,
            policy: policyView,
            validation: {
              usable: { ETH: u !== "ETH", BTC: u !== "BTC" },
              alerts: [
                {
                  underlying: u,
                  kind: "spot",
                  reason: "stale",
                  detail: `no price for ${missing} bar(s) (gap in the replay)`,
                },
              ],
            },
            config: decideCfg,
          });
          decisions.standDown += missing;
          standDowns.add(sd.reasons.join("; "), t, missing);
        }
      }
      const keeperPolicy = {
        kind: policy.kind,
        intervalHours: policy.intervalHours,
        band: policy.band,
      } as const;
      const pd = decideByPolicy(
        keeperPolicy as KeeperPolicy,
        exposure,
        {
          greeks: { gamma: g.gamma, vega: g.vega },
          regime,
          policy: policyView,
          validation: okValidation,
          config: decideCfg,
        },
        { nowMs: t, clock: lastClock, minTradeUnits: keeper.minTradeUnits },
      );
      // As the keeper: the clock advances on a hold or an executed hedge (a refused one retries).
      if (pd.decision.action === "hold") lastClock = pd.clock;
      let decision: Decision | undefined = pd.fired ? pd.decision : undefined;
      if (decision !== undefined && decision.band !== null) bandSeries[i] = decision.band;
      if (decision !== undefined) {
        if (decision.action === "hold") decisions.hold++;
        else if (decision.action === "standDown") {
          decisions.standDown++;
          standDowns.add(decision.reasons.join("; "), t);
        } else {
          // The overlay follows the market regime whatever sets the band.
          if (useOverlay) {
            const r = regimeScore(
              regime,
              keeper.decide.weights ?? DEFAULT_REGIME_WEIGHTS,
              keeper.decide.scales ?? DEFAULT_REGIME_SCALES,
            );
            decision = {
              ...decision,
              regime: {
                score: r.score,
                label: regimeLabel(r.score, keeper.decide),
                multiplier: decision.regime?.multiplier ?? 1,
              },
            };
          }
          const market = buildMarket(decision, i, g.delta);
          const p = plan(decision, market, policyView, keeper.plan);
          if (p.status !== "ok") {
            decisions.rejected++;
            rejections.add(`plan ${p.status}: ${p.infeasible ?? p.rationale.at(-1) ?? ""}`, t);
          } else {
            const err = execute(p.legs, i);
            if (err !== null) {
              decisions.rejected++;
              rejections.add(`bundle reverted: ${err}`, t);
            } else {
              traded = true;
              lastClock = pd.clock;
              decisions.hedge++;
              const gas = bundleGas(venues.gas, p.legs);
              const gUsd = gasUsd(venues.gas, gas, u === "ETH" ? S : venues.gasEthUsd);
              cash -= gUsd;
              costs.gas += gUsd;
              const tier: Rebalance["tier"] =
                p.notionalUsd > limits.tier2Usd
                  ? "twoApprovals"
                  : p.notionalUsd > limits.tier1Usd
                    ? "oneApproval"
                    : "auto";
              rebalances[tier]++;
              rebalances.total++;
              const hasOption = p.legs.some((l) => l.kind === LegKind.Option);
              if (rebalanceLog.length < 100_000)
                rebalanceLog.push({
                  time: t,
                  tier,
                  notionalUsd: p.notionalUsd,
                  legs: p.legs.length,
                  gas,
                  overlay: hasOption,
                });
            }
          }
        }
      }
    }

    const g2 = traded ? bookGreeks(S, t, smile) : g;
    netPost[i] = spot + g2.delta + perpPos - liabilities;
    value[i] = spot * S + cash + perpEquity + g2.mid - liabilities * S + value0Offset;
    cumFlow[i] = flowTotal;
    cumCost.fees[i] = costs.fees;
    cumCost.slippage[i] = costs.slippage;
    cumCost.funding[i] = costs.funding;
    cumCost.gas[i] = costs.gas;
    peakMarginUsd = Math.max(peakMarginUsd, Math.abs(perpPos) * S);
    minCashUsd = Math.min(minCashUsd, cash);
  }

  // ------------------------------------------------------------------------------------------
  function buildMarket(decision: Decision, i: number, optionDelta: number): PlanMarket {
    const t = times[i] as number;
    const S = prices[i] as number;
    const skew = perpPos + venues.backgroundSkew;
    const options: OptionQuote[] = [];
    if (useOverlay) {
      const sm = smileAt(i);
      const poolDelta = -optionDelta;
      const fraction = keeper.plan.overlay.fraction;
      const wantCall = decision.gap > 0;
      const expiries = fridayExpiries(t + keeper.plan.overlay.minDaysToExpiry * DAY_MS, 2);
      const fracs = wantCall ? [1.05, 1.1, 1.15, 1.2, 1.25] : [0.75, 0.8, 0.85, 0.9, 0.95];
      const opp = wantCall ? [0.8, 0.85, 0.9, 0.95] : [1.05, 1.1, 1.15, 1.2];
      for (const e of expiries) {
        for (const [list, isCall] of [
          [fracs, wantCall],
          [opp, !wantCall],
        ] as const) {
          for (const f of list) {
            const s = registry.get(isCall, listedStrike(S, f), e);
            const unit = unitGreeks(s, S, t, sm, venues.options.rate);
            // Quote per unit at the size the overlay would trade, so the bound covers the spread.
            const size = Math.max(
              1,
              (fraction * Math.abs(decision.gap)) / Math.max(Math.abs(unit.delta), 0.05),
            );
            const buy = tradeOption(s, size, S, t, sm, poolDelta);
            const sell = tradeOption(s, -size, S, t, sm, poolDelta);
            options.push({
              adapter: OPTIONS,
              seriesId: s.id,
              type: isCall ? "call" : "put",
              strike: s.strike,
              expiry: s.expiry,
              ask: buy.premium / size,
              bid: sell.premium > 0 ? sell.premium / size : null,
              delta: unit.delta,
              gamma: unit.gamma,
              quotedAt: t,
            });
          }
        }
      }
    }
    return {
      now: t,
      underlying: { symbol: u, address: UNDERLYING, decimals: 18 },
      quoteToken: { address: QUOTE, decimals: QUOTE_DECIMALS },
      oraclePrice: S,
      spotBalance: Math.max(0, spot),
      quoteBalance: Math.max(0, cash) + keeper.creditLineUsd,
      perpPosition: perpPos,
      fundingRatePerHour: fundingPerHour(i),
      perps: [
        {
          adapter: PERP,
          quotedAt: t,
          buy: perpQuoteLadder(venues.perp, S, skew, 1, perpPos),
          sell: perpQuoteLadder(venues.perp, S, skew, -1, perpPos),
          position: perpPos,
          equityUsd: perpEquity,
          maintenanceUsd: Math.abs(perpPos) * S * venues.perp.maintenanceMarginRatio,
        },
      ],
      spots: spot > 0 ? [{ adapter: SPOT, quotedAt: t, sell: spotSellLadder(venues.spot, S, spot) }] : [],
      options,
      heldSeries: [...book.keys()].map((seriesId) => ({ adapter: OPTIONS, seriesId })),
    };
  }

  /** Executes the legs atomically; returns the revert reason or null. */
  function execute(legs: readonly Leg[], i: number): string | null {
    const t = times[i] as number;
    const S = prices[i] as number;
    const sm = smileAt(i);
    let sSpot = spot;
    let sCash = cash;
    let sPos = perpPos;
    let sEq = perpEquity;
    const sBook: Book = new Map(book);
    const c = { fees: 0, slippage: 0 };
    const ov = { buys: 0, premiumUsd: 0, feesUsd: 0, spreadUsd: 0 };
    let turnover = 0;
    for (let k = 0; k < legs.length; k++) {
      const l = legs[k] as Leg;
      if (l.kind === LegKind.MarginDeposit) {
        const x = fromUnits(l.amount, QUOTE_DECIMALS);
        sCash -= x;
        sEq += x;
      } else if (l.kind === LegKind.Perp) {
        const size = fromUnits(l.amount, WAD_DECIMALS);
        const bound = fromUnits(l.bound, WAD_DECIMALS);
        const f = perpTrade(venues.perp, S, sPos + venues.backgroundSkew, size);
        if (size > 0 ? f.fillPrice > bound : f.fillPrice < bound)
          return `leg ${k} perp fill ${f.fillPrice.toFixed(4)} beyond bound ${bound.toFixed(4)}`;
        sPos += size;
        sEq -= f.fee + f.slippage;
        c.fees += f.fee;
        c.slippage += f.slippage;
        turnover += Math.abs(size);
      } else if (l.kind === LegKind.Spot) {
        const size = -fromUnits(l.amount, 18);
        const out = spotSellOut(venues.spot, S, size);
        const minOut = fromUnits(l.bound, QUOTE_DECIMALS);
        if (out < minOut) return `leg ${k} spot out ${out.toFixed(2)} below min ${minOut.toFixed(2)}`;
        if (size > sSpot + 1e-9) return `leg ${k} spot sale ${size} exceeds holdings ${sSpot}`;
        sSpot -= size;
        sCash += out;
        const fee = size * venues.spot.fee * S;
        c.fees += fee;
        c.slippage += size * S - out - fee;
        turnover += size;
      } else if (l.kind === LegKind.Option) {
        const s = registry.byId(l.id);
        if (s === undefined) return `leg ${k} unknown series ${l.id}`;
        const size = fromUnits(l.amount, WAD_DECIMALS);
        const bound = fromUnits(l.bound, WAD_DECIMALS);
        let poolDelta = 0;
        for (const [id, sz] of sBook)
          poolDelta -=
            sz * unitGreeks(registry.byId(id) as OptionSeries, S, t, sm, venues.options.rate).delta;
        const q = tradeOption(s, size, S, t, sm, poolDelta);
        if (size > 0 ? q.premium > bound : q.premium < bound)
          return `leg ${k} option premium ${q.premium.toFixed(2)} beyond bound ${bound.toFixed(2)}`;
        sCash += size > 0 ? -q.premium : q.premium;
        sBook.set(s.id, (sBook.get(s.id) ?? 0) + size);
        const cost = Math.min(q.fee + q.spread, size > 0 ? Infinity : q.mid);
        c.fees += Math.min(q.fee, cost);
        c.slippage += cost - Math.min(q.fee, cost);
        ov.buys += size > 0 ? 1 : 0;
        ov.premiumUsd += size > 0 ? q.premium : -q.premium;
        ov.feesUsd += q.fee;
        ov.spreadUsd += q.spread;
      } else {
        return `leg ${k} kind ${l.kind} not supported by the model`;
      }
    }
    if (Math.abs(sPos) > limits.maxPerpPosition + 1e-9)
      return `perp position ${sPos} above cap ${limits.maxPerpPosition}`;
    spot = sSpot;
    cash = sCash;
    perpPos = sPos;
    perpEquity = sEq;
    book.clear();
    for (const [id, sz] of sBook) if (Math.abs(sz) > 1e-12) book.set(id, sz);
    costs.fees += c.fees;
    costs.slippage += c.slippage;
    overlay.buys += ov.buys;
    overlay.premiumUsd += ov.premiumUsd;
    overlay.feesUsd += ov.feesUsd;
    overlay.spreadUsd += ov.spreadUsd;
    premiumSpent += Math.max(0, ov.premiumUsd);
    turnoverUnits += turnover;
    return null;
  }

  return {
    policy,
    underlying: u,
    bars: n,
    times,
    prices,
    value,
    cumFlow,
    netPre,
    netPost,
    target: limits.targetDelta,
    band: bandSeries,
    cumCost,
    costs: { ...costs, total: costs.fees + costs.slippage + costs.funding + costs.gas },
    bookCostUsd,
    overlay,
    rebalances,
    rebalanceLog,
    decisions,
    standDowns: standDowns.list(),
    rejections: rejections.list(),
    turnoverUnits,
    peakMarginUsd,
    minCashUsd,
  };
}
