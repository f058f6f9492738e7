/**
 * The plan stage: turns a hedge decision into the legs of one atomic rebalance, from quotes the
 * caller read (a pure function: no chain, no clock — `market.now` is the clock).
 *
 * 1. Options overlay, when the regime is stressed or an event window is open: buy ~25-delta OTM
 *    puts (calls when the book is short) at the nearest expiry ≥ minDaysToExpiry, or a collar
 *    (also sell the opposite 25-delta option at that expiry), sized to `overlay.fraction` of the gap,
 *    cut to the remaining premium budget and the free series slots.
 * 2. The rest of the gap is split across perp venues — and, for a sale of delta, spot venues selling
 *    held spot (never more than held: never short spot) — by marginal all-in cost per unit: price
 *    impact vs the oracle + fees, plus expected funding over `fundingHorizonHours` for perps. Spot is
 *    thus used exactly when (and as far as) it is cheaper than the perp.
 * 3. Per-leg caps split a venue's size into equal legs; a perp venue whose post-trade leverage
 *    would exceed `targetLeverage` gets a margin deposit first.
 * 4. Bounds from the quotes with tolerance tol = min(config, policy.maxSlippageBps): perp acceptable
 *    price = leg's quoted average × (1 ± tol); option max premium = quoted premium × (1 + tol), min
 *    proceeds × (1 − tol); spot min out = quoted out × (1 − tol). Rounded to the strict side.
 * 5. The expected net after the legs must lie inside the decision's band (or as close to the target
 *    as the decision aimed, when the hedge-ratio margin kept it short of the band) and, when the gap exceeds
 *    the policy band, the hedge ratio inside the policy's bounds; at most MAX_LEGS legs. Otherwise the
 *    plan is `infeasible` with the reason and no legs.
 */
import type { Address } from "viem";
import type { Decision, HedgePolicy } from "../decide/types.ts";
import { fmt } from "../decide/decide.ts";
import { allocate, ladderAt, makeLadder, type Ladder, type Source } from "./ladder.ts";
import { fromUnits, toUnits, WAD_DECIMALS } from "./units.ts";
import {
  LegKind,
  type Leg,
  type OptionQuote,
  type PerpVenueQuote,
  type Plan,
  type PlanConfig,
  type PlanMarket,
  type SpotVenueQuote,
} from "./types.ts";

export const MAX_LEGS = 8;
const DAY_MS = 86_400_000;

export const DEFAULT_PLAN_CONFIG: PlanConfig = {
  slippageToleranceBps: 30,
  targetLeverage: 5,
  fundingHorizonHours: 24,
  overlay: { structure: "put", fraction: 0.5, targetDelta: 0.25, minDaysToExpiry: 14 },
  eventWindows: [],
  deadlineSeconds: 300,
  maxQuoteAgeMs: 30_000,
};

const short = (a: Address) => `${a.slice(0, 6)}…${a.slice(-4)}`;
const seriesKey = (adapter: Address, id: bigint) => `${adapter.toLowerCase()}|${id}`;

type Overlay = { legs: Leg[]; delta: number; premium: number; notes: string[] };

function splitCount(size: number, cap: number): number {
  return Math.max(1, Math.ceil(size / cap - 1e-12));
}

function pickOverlay(
  decision: Decision,
  market: PlanMarket,
  policy: HedgePolicy,
  config: PlanConfig,
  tol: number,
): Overlay {
  const notes: string[] = [];
  const none = (why: string): Overlay => ({
    legs: [],
    delta: 0,
    premium: 0,
    notes: [...notes, `overlay skipped: ${why}`],
  });
  const ov = config.overlay;
  if (policy.maxOptionLegSize <= 0) return none("option legs disabled by the policy (cap 0)");
  if (!(ov.fraction > 0 && ov.fraction <= 1)) return none(`overlay fraction ${ov.fraction} not in (0, 1]`);
  const g = decision.gap;
  const protType = g < 0 ? "put" : "call";
  const finType = g < 0 ? "call" : "put";
  const S = market.oraclePrice;
  const minExpiry = market.now + ov.minDaysToExpiry * DAY_MS;
  const fresh = (q: OptionQuote) =>
    market.now - q.quotedAt <= config.maxQuoteAgeMs && q.quotedAt <= market.now;
  const otm = (q: OptionQuote) =>
    q.type === "put" ? q.strike < S && q.delta < 0 : q.strike > S && q.delta > 0;
  const usable = market.options.filter(
    (q) =>
      fresh(q) &&
      otm(q) &&
      q.expiry >= minExpiry &&
      Number.isFinite(q.ask) &&
      q.ask > 0 &&
      Number.isFinite(q.delta),
  );
  const prots = usable.filter((q) => q.type === protType);
  if (prots.length === 0) return none(`no fresh OTM ${protType} expiring in ≥ ${ov.minDaysToExpiry} days`);
  const expiry = Math.min(...prots.map((q) => q.expiry));
  const closest = (qs: OptionQuote[]) =>
    [...qs].sort(
      (a, b) =>
        Math.abs(Math.abs(a.delta) - ov.targetDelta) - Math.abs(Math.abs(b.delta) - ov.targetDelta) ||
        (a.seriesId < b.seriesId ? -1 : a.seriesId > b.seriesId ? 1 : 0),
    )[0];
  const prot = closest(prots.filter((q) => q.expiry === expiry)) as OptionQuote;
  let fin: OptionQuote | undefined;
  if (ov.structure === "collar") {
    fin = closest(
      usable.filter((q) => q.type === finType && q.expiry === expiry && q.bid !== null && q.bid > 0),
    );
    if (fin === undefined)
      notes.push(`collar: no ${finType} to sell at that expiry, buying the ${protType} only`);
  }
  const held = new Set(market.heldSeries.map((h) => seriesKey(h.adapter, h.seriesId)));
  const slots = policy.maxOpenSeries - market.heldSeries.length;
  const newSeries = (qs: OptionQuote[]) =>
    qs.filter((q) => !held.has(seriesKey(q.adapter, q.seriesId))).length;
  if (fin !== undefined && newSeries([prot, fin]) > slots) {
    notes.push(
      `collar needs ${newSeries([prot, fin])} new series, ${slots} free: buying the ${protType} only`,
    );
    fin = undefined;
  }
  if (newSeries([prot]) > slots)
    return none(`no free series slot (${market.heldSeries.length}/${policy.maxOpenSeries} held)`);

  const unitDelta = prot.delta - (fin?.delta ?? 0);
  let n = (ov.fraction * g) / unitDelta;
  const maxByBudget = policy.premiumBudgetRemaining / (prot.ask * (1 + tol));
  if (n > maxByBudget) {
    notes.push(
      `overlay cut from ${fmt(n)} to ${fmt(maxByBudget)} by the premium budget ${fmt(policy.premiumBudgetRemaining)} USD`,
    );
    n = maxByBudget;
  }
  if (!(n > 0)) return none("nothing left of the premium budget");
  const k = splitCount(n, policy.maxOptionLegSize);
  const chunk = toUnits(n / k, WAD_DECIMALS, "trunc");
  if (chunk <= 0n) return none("overlay size rounds to zero");
  const legs: Leg[] = [];
  let premium = 0;
  const u = market.underlying.address;
  for (let i = 0; i < k; i++) {
    const units = fromUnits(chunk, WAD_DECIMALS);
    const bound = toUnits(units * prot.ask * (1 + tol), WAD_DECIMALS, "floor");
    premium += fromUnits(bound, WAD_DECIMALS);
    legs.push({
      kind: LegKind.Option,
      adapter: prot.adapter,
      underlying: u,
      id: prot.seriesId,
      amount: chunk,
      bound,
    });
    if (fin !== undefined) {
      const proceeds = toUnits(units * (fin.bid as number) * (1 - tol), WAD_DECIMALS, "ceil");
      legs.push({
        kind: LegKind.Option,
        adapter: fin.adapter,
        underlying: u,
        id: fin.seriesId,
        amount: -chunk,
        bound: proceeds,
      });
    }
  }
  const size = fromUnits(chunk, WAD_DECIMALS) * k;
  const delta = size * unitDelta;
  const days = ((expiry - market.now) / DAY_MS).toFixed(1);
  const what =
    fin === undefined
      ? `buy ${fmt(size)} ${protType} #${prot.seriesId} (K ${prot.strike}, Δ ${prot.delta.toFixed(2)}, ${days} d) @ ${prot.ask.toFixed(2)}`
      : `collar ${fmt(size)}: buy ${protType} #${prot.seriesId} (K ${prot.strike}) @ ${prot.ask.toFixed(2)}, sell ${finType} #${fin.seriesId} (K ${fin.strike}) @ ${(fin.bid as number).toFixed(2)}, ${days} d`;
  notes.push(
    `overlay: ${what}; delta ${fmt(delta)} (${Math.round(ov.fraction * 100)}% of gap), max premium ${fmt(premium)} USD in ${legs.length} legs`,
  );
  return { legs, delta, premium, notes };
}

type LinearRef =
  { kind: "perp"; q: PerpVenueQuote; ladder: Ladder } | { kind: "spot"; q: SpotVenueQuote; ladder: Ladder };

function infeasible(decision: Decision, reason: string, rationale: string[]): Plan {
  return {
    status: "infeasible",
    legs: [],
    rationale: [...rationale, `infeasible: ${reason}`],
    expectedNetAfter: decision.net,
    notionalUsd: 0,
    premiumUsd: 0,
    deadline: 0n,
    infeasible: reason,
  };
}

function checkMarket(m: PlanMarket, p: HedgePolicy, c: PlanConfig): string | null {
  const nums: [string, number][] = [
    ["market.oraclePrice", m.oraclePrice],
    ["market.spotBalance", m.spotBalance],
    ["market.quoteBalance", m.quoteBalance],
    ["market.perpPosition", m.perpPosition],
    ["market.fundingRatePerHour", m.fundingRatePerHour],
    ["market.now", m.now],
  ];
  for (const [n, v] of nums) if (!Number.isFinite(v)) return `${n} is not finite (${v})`;
  if (m.oraclePrice <= 0) return "market.oraclePrice must be > 0";
  if (!(p.maxSlippageBps > 0)) return "policy.maxSlippageBps must be > 0";
  if (!(c.slippageToleranceBps >= 0)) return "config.slippageToleranceBps must be ≥ 0";
  if (!(c.targetLeverage > 0)) return "config.targetLeverage must be > 0";
  return null;
}

/** Plans the legs for `decision` (see the module comment). Pure: every input is an argument. */
export function plan(decision: Decision, market: PlanMarket, policy: HedgePolicy, config: PlanConfig): Plan {
  if (decision.action !== "hedge") {
    return {
      status: "none",
      legs: [],
      rationale: [`no hedge: ${decision.action}`, ...decision.reasons.slice(0, 1)],
      expectedNetAfter: decision.net,
      notionalUsd: 0,
      premiumUsd: 0,
      deadline: 0n,
    };
  }
  const rationale: string[] = [];
  const bad = checkMarket(market, policy, config);
  if (bad !== null) return infeasible(decision, bad, rationale);
  const band = decision.band ?? policy.band;
  const S = market.oraclePrice;
  const tolBps = Math.min(config.slippageToleranceBps, policy.maxSlippageBps);
  if (tolBps < config.slippageToleranceBps) {
    rationale.push(
      `slippage tolerance ${config.slippageToleranceBps} bps clamped to policy ${policy.maxSlippageBps} bps`,
    );
  }
  const tol = tolBps / 10_000;
  const maxSlip = policy.maxSlippageBps / 10_000;
  const u = market.underlying;
  const qdec = market.quoteToken.decimals;

  // ---- options overlay
  const inEvent = config.eventWindows.some((w) => w.start <= market.now && market.now < w.end);
  const stressed = decision.regime?.label === "stressed";
  let overlay: Overlay = { legs: [], delta: 0, premium: 0, notes: [] };
  if (stressed || inEvent) {
    rationale.push(
      `overlay wanted: ${[stressed ? "regime stressed" : "", inEvent ? "event window open" : ""].filter(Boolean).join(", ")}`,
    );
    overlay = pickOverlay(decision, market, policy, config, tol);
    rationale.push(...overlay.notes);
  }

  // ---- linear remainder: perps, and spot sales of held spot
  const remaining = decision.gap - overlay.delta;
  const side: 1 | -1 = remaining >= 0 ? 1 : -1;
  const sources: Source<LinearRef>[] = [];
  const fresh = (t: number) => market.now - t <= config.maxQuoteAgeMs && t <= market.now;
  const fundingPerUnit = side * market.fundingRatePerHour * config.fundingHorizonHours * S;
  if (policy.maxPerpLegSize > 0) {
    for (const q of market.perps) {
      if (!fresh(q.quotedAt)) {
        rationale.push(`perp ${short(q.adapter)} quote stale (${market.now - q.quotedAt} ms old): not used`);
        continue;
      }
      const pts = (side > 0 ? q.buy : q.sell).map((p) => ({
        size: p.size,
        total: p.avgPrice * p.size,
        fee: p.feeUsd,
      }));
      const ladder = makeLadder(pts);
      if (typeof ladder === "string") {
        rationale.push(`perp ${short(q.adapter)} quote unusable (${ladder}): not used`);
        continue;
      }
      sources.push({
        ref: { kind: "perp", q, ladder },
        group: "perp",
        ladder,
        side,
        extraPerUnit: fundingPerUnit,
      });
    }
  }
  if (side < 0 && policy.maxSpotLegSize > 0 && market.spotBalance > 0) {
    for (const q of market.spots) {
      if (!fresh(q.quotedAt)) {
        rationale.push(`spot ${short(q.adapter)} quote stale (${market.now - q.quotedAt} ms old): not used`);
        continue;
      }
      const ladder = makeLadder(q.sell.map((p) => ({ size: p.size, total: p.amountOut, fee: 0 })));
      if (typeof ladder === "string") {
        rationale.push(`spot ${short(q.adapter)} quote unusable (${ladder}): not used`);
        continue;
      }
      sources.push({ ref: { kind: "spot", q, ladder }, group: "spot", ladder, side, extraPerUnit: 0 });
    }
  }
  const perpHeadroom = Math.max(0, policy.maxPerpPosition - side * market.perpPosition);
  const { allocations, unfilled } = allocate(sources, Math.abs(remaining), S, maxSlip, {
    perp: perpHeadroom,
    spot: market.spotBalance,
  });
  if (unfilled > 1e-9 * Math.max(1, Math.abs(remaining))) {
    const perpUsed = allocations.filter((a) => a.ref.kind === "perp").reduce((s, a) => s + a.size, 0);
    const limits = [
      `${fmt(unfilled)} of ${fmt(Math.abs(remaining))} ${u.symbol} unfilled`,
      `perp headroom ${fmt(perpHeadroom)} (cap ${fmt(policy.maxPerpPosition)}, used ${fmt(perpUsed)})`,
      `depth within ${policy.maxSlippageBps} bps: ${allocations.map((a) => `${a.ref.kind} ${short(a.ref.q.adapter)} ${fmt(a.depth)}`).join(", ") || "no venue"}`,
    ];
    if (side < 0) limits.push(`spot sellable ${fmt(market.spotBalance)}`);
    rationale.push(limits.join("; "));
  }

  const marginLegs: Leg[] = [];
  const spotLegs: Leg[] = [];
  const perpLegs: Leg[] = [];
  let linearDelta = 0;
  let deposits = 0n;
  for (const a of allocations) {
    if (a.size <= 0) continue;
    const ref = a.ref;
    const cap = ref.kind === "perp" ? policy.maxPerpLegSize : policy.maxSpotLegSize;
    const k = splitCount(a.size, cap);
    const dec = ref.kind === "perp" ? WAD_DECIMALS : u.decimals;
    const chunk = toUnits(a.size / k, dec, "trunc");
    if (chunk <= 0n) continue;
    const chunkUnits = fromUnits(chunk, dec);
    let done = 0;
    let outTotal = 0;
    let feeTotal = 0;
    for (let i = 0; i < k; i++) {
      const lo = ladderAt(ref.ladder, done);
      const hi = ladderAt(ref.ladder, done + chunkUnits);
      done += chunkUnits;
      const avg = (hi.total - lo.total) / chunkUnits;
      outTotal += hi.total - lo.total;
      feeTotal += hi.fee - lo.fee;
      if (ref.kind === "perp") {
        const bound = toUnits(avg * (1 + side * tol), WAD_DECIMALS, side > 0 ? "floor" : "ceil");
        perpLegs.push({
          kind: LegKind.Perp,
          adapter: ref.q.adapter,
          underlying: u.address,
          id: 0n,
          amount: BigInt(side) * chunk,
          bound,
        });
      } else {
        const minOut = toUnits((hi.total - lo.total) * (1 - tol), qdec, "ceil");
        spotLegs.push({
          kind: LegKind.Spot,
          adapter: ref.q.adapter,
          underlying: u.address,
          id: 0n,
          amount: -chunk,
          bound: minOut,
        });
      }
    }
    const size = chunkUnits * k;
    linearDelta += side * size;
    const avgAll = outTotal / size;
    const impactBps = (side * (avgAll - S) * 10_000) / S;
    const feeBps = (feeTotal * 10_000) / (size * S);
    if (ref.kind === "perp") {
      const fundBps = (fundingPerUnit * 10_000) / S;
      rationale.push(
        `perp ${short(ref.q.adapter)}: ${side > 0 ? "buy" : "sell"} ${fmt(size)} @ avg ${avgAll.toFixed(2)} in ${k} leg(s); cost ${(impactBps + feeBps + fundBps).toFixed(1)} bps (impact ${impactBps.toFixed(1)}, fee ${feeBps.toFixed(1)}, funding ${fundBps.toFixed(1)} over ${config.fundingHorizonHours} h)`,
      );
      const posAfter = ref.q.position + side * size;
      const equityAfter = ref.q.equityUsd - feeTotal;
      const needUsd = (Math.abs(posAfter) * S) / config.targetLeverage - equityAfter;
      if (needUsd > 0) {
        const amount = toUnits(needUsd, qdec, "ceil");
        deposits += amount;
        marginLegs.push({
          kind: LegKind.MarginDeposit,
          adapter: ref.q.adapter,
          underlying: u.address,
          id: 0n,
          amount,
          bound: 0n,
        });
        const lev = equityAfter > 0 ? ((Math.abs(posAfter) * S) / equityAfter).toFixed(1) : "∞";
        rationale.push(
          `margin ${short(ref.q.adapter)}: leverage ${lev}× > ${config.targetLeverage}× after the trade: deposit ${fmt(needUsd)} USD`,
        );
      }
    } else {
      rationale.push(
        `spot ${short(ref.q.adapter)}: sell ${fmt(size)} held ${u.symbol} @ avg ${avgAll.toFixed(2)} in ${k} leg(s); cost ${impactBps.toFixed(1)} bps (fees and impact)`,
      );
    }
  }
  if (deposits > toUnits(market.quoteBalance, qdec, "floor")) {
    return infeasible(
      decision,
      `margin deposits ${fmt(fromUnits(deposits, qdec))} USD exceed the vault's ${fmt(market.quoteBalance)} USD`,
      rationale,
    );
  }

  const legs = [...marginLegs, ...overlay.legs, ...spotLegs, ...perpLegs];
  const after = decision.net + overlay.delta + linearDelta;
  const devAfter = after - decision.target;
  const preDev = decision.net - decision.target;
  if (legs.length === 0) return infeasible(decision, "no usable venue for the hedge", rationale);
  if (legs.length > MAX_LEGS) {
    return infeasible(
      decision,
      `needs ${legs.length} legs > ${MAX_LEGS}: leg caps too small for the gap`,
      rationale,
    );
  }
  // decide() may aim outside its (effective) band: a gap beyond the policy band is closed only to
  // the hedge-ratio margin inside [minHedgeRatio, maxHedgeRatio]. The vault checks the ratio AND
  // the governed band, so the aim never exceeds the governed band.
  const aim = Math.max(band, Math.min(policy.band, Math.abs(decision.targetNet - decision.target)));
  const eps = 1e-6 * Math.max(1, aim);
  if (Math.abs(devAfter) > aim + eps) {
    return infeasible(
      decision,
      `expected net ${fmt(after)} outside band ${fmt(band)} around target ${fmt(decision.target)}`,
      rationale,
    );
  }
  if (Math.abs(preDev) > policy.band) {
    const ratio = (preDev - devAfter) / preDev;
    if (ratio < policy.minHedgeRatio - 1e-9 || ratio > policy.maxHedgeRatio + 1e-9) {
      return infeasible(
        decision,
        `hedge ratio ${ratio.toFixed(4)} outside policy [${policy.minHedgeRatio}, ${policy.maxHedgeRatio}]`,
        rationale,
      );
    }
  }

  let notionalUsd = 0;
  for (const l of legs) {
    const abs = l.amount < 0n ? -l.amount : l.amount;
    if (l.kind === LegKind.Option || l.kind === LegKind.Perp) notionalUsd += fromUnits(abs, WAD_DECIMALS) * S;
    else if (l.kind === LegKind.Spot) notionalUsd += fromUnits(abs, u.decimals) * S;
  }
  rationale.push(
    `expected net after ${fmt(after)} ${u.symbol} (target ${fmt(decision.target)}, band ${fmt(band)}); ${legs.length} legs, notional ${fmt(notionalUsd)} USD`,
  );
  return {
    status: "ok",
    legs,
    rationale,
    expectedNetAfter: after,
    notionalUsd,
    premiumUsd: overlay.premium,
    deadline: BigInt(Math.floor(market.now / 1000) + config.deadlineSeconds),
  };
}
