/**
 * Chain state for one tick, read in ONE round trip in the steady state: the latest block header
 * and one deployless multicall (sent together in one JSON-RPC batch) carrying
 *
 * - vault epoch / mode / cooldown clock / turnover window, global limits, the vault's quote balance,
 *   the AMM's pricing rate;
 * - per underlying: the vault's own `exposure` view, the oracle's latest round, the governed limits,
 *   held series, perp venues, token balance, liabilities, the option premium spent in the vault's
 *   premium window, the configured perp venue's position and market state, the smile of the nearest
 *   listed expiry (ATM vol);
 * - per held series (as held at the previous read): the vault's position greeks and the smile of
 *   its expiry — the keeper computes the surface vol at any spot from the smile exactly as
 *   VolatilitySurface.volFromSmile does, so nothing depends on the price read in the same call;
 * - per registered perp venue (as at the previous read): the position size;
 * - the configured perp market's parameters and state (skew), from which the plan's quotes are
 *   computed locally (loop/perpModel.ts) instead of executing PerpDEX.quote on chain.
 *
 * Execution cost matters more than round trips on a local node: the vault's `exposure` view prices
 * every held series on chain, so series sizes are read with the AMM's cheap `positionOf` (the
 * adapter's `positionGreeks`, which prices again, only for series of another adapter).
 *
 * When the fresh held-series or venue lists differ from the previous read, a second multicall at the
 * same block reads what was missing. Values stay raw (bigint) except vols.
 */
import { getAddress, type Address, type Block } from "viem";
import type { Abis } from "./abis.ts";
import type { ChainAddresses, SeriesInfo, SurfaceBounds, UnderlyingInfo } from "./resolve.ts";
import {
  call,
  multiRead,
  need,
  type Call,
  type CallResult,
  type Client,
  type ReadMode,
} from "./multicall.ts";

export const Mode = { Normal: 0, ReduceOnly: 1, Paused: 2 } as const;
export type ModeName = "Normal" | "ReduceOnly" | "Paused";
export const modeName = (m: number): ModeName => (m === 0 ? "Normal" : m === 1 ? "ReduceOnly" : "Paused");

export type GlobalLimitsRaw = {
  maxSlippageBps: number;
  oracleMaxDeviationBps: number;
  oracleMaxAge: number;
  keeperCooldown: number;
  window: number;
  approvalExpiry: number;
  greeksCacheMaxAge: number;
  greeksCacheMaxMoveBps: number;
  turnoverCapPerWindow: bigint;
  tier1Notional: bigint;
  tier2Notional: bigint;
};

export type UnderlyingLimitsRaw = {
  enabled: boolean;
  targetDelta: bigint;
  band: bigint;
  minHedgeRatio: bigint;
  maxHedgeRatio: bigint;
  maxOptionLegSize: bigint;
  maxPerpLegSize: bigint;
  maxSpotLegSize: bigint;
  maxPerpPosition: bigint;
  premiumBudgetPerWindow: bigint;
  maxOpenSeries: number;
};

export type VaultExposureRaw = {
  spot: bigint;
  options: bigint;
  perps: bigint;
  liabilities: bigint;
  net: bigint;
  target: bigint;
  band: bigint;
  rebalanceDue: boolean;
  price: bigint;
  priceUpdatedAt: bigint;
};

/** The vault's `premiumSpent(underlying)`, raw: premium paid (USD WAD) in the window begun at `windowStart` (s). */
export type PremiumWindowRaw = { spentUsd: bigint; windowStart: bigint };

/** The premium window with what remains of the budget at the block read (see `premiumBudgetRemaining`). */
export type PremiumWindowState = PremiumWindowRaw & { remainingUsd: bigint };

/**
 * Option premium (USD WAD) the vault still accepts on an underlying, as its `_checkWindows` counts:
 * `budget − spent` while `now < windowStart + windowSeconds`; the full budget once the window has run
 * out (the next option buy opens a new window at zero). Never negative (governance may have lowered
 * the budget below what was already spent). `now` is the latest block's timestamp: a transaction
 * lands no earlier, so a window seen open may have closed by then (the keeper then plans within less
 * than it could), never the reverse.
 */
export function premiumBudgetRemaining(
  budget: bigint,
  p: PremiumWindowRaw,
  windowSeconds: number,
  now: bigint,
): bigint {
  if (now >= p.windowStart + BigInt(windowSeconds)) return budget;
  return p.spentUsd >= budget ? 0n : budget - p.spentUsd;
}

export type Smile = { atmVol: bigint; skew: bigint; curvature: bigint; set: boolean };

export type HeldSeriesState = SeriesInfo & {
  adapter: Address;
  /** The vault's size in the series (WAD). */
  size: bigint;
  smile: Smile | null;
  /** Surface vols at the strike and, for capped calls, at strike + cap (at the vault's oracle price). */
  vol: number | null;
  capVol: number | null;
};

export type UnderlyingState = {
  info: UnderlyingInfo;
  /** The vault's own view (reverts when the oracle is unsure: then `exposureError` says why). */
  exposure: VaultExposureRaw | null;
  exposureError: string | null;
  round: { roundId: bigint; answer: bigint; updatedAt: bigint } | null;
  limits: UnderlyingLimitsRaw;
  /** The vault's premium window and the budget left in it (always set by the reader; absent in hand-built states). */
  premium?: PremiumWindowState;
  balance: bigint;
  liabilities: bigint;
  held: HeldSeriesState[];
  perpVenues: Address[];
  /** Sum of positionSize over the registered perp venues (WAD units). */
  perpSizeSum: bigint;
  /** The configured perp venue: the vault's position, equity and maintenance margin (WAD). */
  perp: { size: bigint; equity: bigint; maintenance: bigint } | null;
  fundingRatePerDay: bigint | null;
  /** ATM vol of the nearest listed expiry (more than a day out), with that expiry (s). */
  atm: { expiry: bigint; vol: number } | null;
  /** The configured perp market: skew (long − short OI), skew scale and fees (raw). */
  perpMarket: { skew: bigint; skewScale: bigint; makerFeeBps: number; takerFeeBps: number } | null;
};

export type VaultState = {
  blockNumber: bigint;
  /** Block timestamp, seconds. */
  timestamp: bigint;
  baseFeePerGas: bigint | null;
  epoch: bigint;
  mode: number;
  lastRebalanceAt: bigint;
  window: { start: bigint; turnoverUsd: bigint };
  global: GlobalLimitsRaw;
  quoteBalance: bigint;
  /** The AMM's annual rate (WAD) used in its pricing; 0 without options. */
  ammRate: bigint;
  underlyings: UnderlyingState[];
  /** Multicall round trips this read needed (1 in the steady state). */
  rounds: number;
};

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const WADN = 1e18;

/** VolatilitySurface.volFromSmile in floating point: atm + skew·k + curvature·k², k = ln(K/S) clamped. */
export function volFromSmile(
  s: Pick<Smile, "atmVol" | "skew" | "curvature">,
  strike: number,
  spot: number,
  b: SurfaceBounds,
): number {
  if (!(strike > 0 && spot > 0)) return NaN;
  let k = Math.log(strike / spot);
  if (k > b.maxAbsMoneyness) k = b.maxAbsMoneyness;
  if (k < -b.maxAbsMoneyness) k = -b.maxAbsMoneyness;
  const v = Number(s.atmVol) / WADN + (Number(s.skew) / WADN) * k + (Number(s.curvature) / WADN) * k * k;
  return Math.min(b.maxVol, Math.max(b.minVol, v));
}

/** A feed answer with `decimals` to WAD. */
export function scale(answer: bigint, decimals: number): bigint {
  return decimals <= 18 ? answer * 10n ** BigInt(18 - decimals) : answer / 10n ** BigInt(decimals - 18);
}

function premiumOf(
  r: CallResult<readonly [bigint, bigint]>,
  symbol: string,
  budget: bigint,
  windowSeconds: number,
  now: bigint,
): PremiumWindowState {
  const [spentUsd, windowStart] = need(r, `vault.premiumSpent(${symbol})`);
  const raw = { spentUsd, windowStart };
  return { ...raw, remainingUsd: premiumBudgetRemaining(budget, raw, windowSeconds, now) };
}

export type StateReader = { read(): Promise<VaultState>; readonly addresses: ChainAddresses };

type Ref = { adapter: Address; seriesId: bigint };

/** A reader that remembers the held series and perp venues of the last read (see module doc). */
export function createStateReader(
  client: Client,
  abis: Abis,
  a: ChainAddresses,
  opts: { mode?: ReadMode } = {},
): StateReader {
  const readMode: ReadMode = opts.mode ?? "multicall";
  const lastHeld = new Map<Address, Ref[]>();
  const lastVenues = new Map<Address, Address[]>();
  const nearestExpiry = (token: Address, now: bigint): bigint | null => {
    let best: bigint | null = null;
    for (const s of a.series.values()) {
      if (!same(s.underlying, token) || s.expiry <= now + 86_400n) continue;
      if (best === null || s.expiry < best) best = s.expiry;
    }
    return best;
  };

  async function read(): Promise<VaultState> {
    const v = a.vault;
    // The header and the multicall travel in one JSON-RPC batch (the transport batches them).
    const guessNow = BigInt(Math.floor(Date.now() / 1000));
    type Job =
      | { kind: "common"; i: number }
      | { kind: "u"; k: number; f: number }
      | { kind: "atm"; k: number; expiry: bigint }
      | { kind: "greeks"; k: number; ref: Ref }
      | { kind: "smile"; k: number; expiry: bigint }
      | { kind: "venue"; k: number; venue: Address };
    const jobs: Job[] = [];
    const calls: Call<unknown>[] = [];
    const add = (job: Job, c: Call<unknown>) => {
      jobs.push(job);
      calls.push(c);
    };
    const common: Call<unknown>[] = [
      call(v, abis.vault, "epoch", []),
      call(v, abis.vault, "mode", []),
      call(v, abis.vault, "lastRebalanceAt", []),
      call(v, abis.vault, "window", []),
      call(a.policy, abis.policy, "globalLimits", []),
      call(a.quoteToken, abis.erc20, "balanceOf", [v]),
    ];
    if (a.amm !== null) common.push(call(a.amm, abis.amm, "params", []));
    common.forEach((c, i) => add({ kind: "common", i }, c));
    const smileKeys = new Set<string>();
    const addSmile = (k: number, token: Address, expiry: bigint) => {
      const key = `${k}|${expiry}`;
      if (a.surface === null || smileKeys.has(key)) return;
      smileKeys.add(key);
      add({ kind: "smile", k, expiry }, call(a.surface, abis.surface, "smileOf", [token, expiry]));
    };
    const sizeCall = (ref: Ref): Call<unknown> =>
      a.amm !== null && a.optionsAdapter !== null && same(ref.adapter, a.optionsAdapter)
        ? call(a.amm, abis.amm, "positionOf", [v, ref.seriesId])
        : call(ref.adapter, abis.optionAdapter, "positionGreeks", [v, ref.seriesId]);
    const addHeld = (k: number, token: Address, ref: Ref) => {
      add({ kind: "greeks", k, ref }, sizeCall(ref));
      const s = a.series.get(ref.seriesId);
      if (s !== undefined) addSmile(k, token, s.expiry);
    };
    a.underlyings.forEach((u, k) => {
      const t = u.token;
      const per: Call<unknown>[] = [
        call(v, abis.vault, "exposure", [t]),
        call(u.feed, abis.aggregator, "latestRoundData", []),
        call(a.policy, abis.policy, "rawUnderlyingLimits", [t]),
        call(v, abis.vault, "heldSeries", [t]),
        call(v, abis.vault, "perpVenues", [t]),
        call(t, abis.erc20, "balanceOf", [v]),
        call(a.ledger, abis.ledger, "totalLiabilities", [t]),
        call(a.perpAdapter, abis.perpAdapter, "position", [v, t]),
        call(a.perpDex, abis.perpDex, "marketState", [t]),
        call(a.perpDex, abis.perpDex, "marketParams", [t]),
        call(v, abis.vault, "premiumSpent", [t]),
      ];
      per.forEach((c, f) => add({ kind: "u", k, f }, c));
      const e = nearestExpiry(t, guessNow);
      if (e !== null && a.surface !== null) {
        add({ kind: "atm", k, expiry: e }, call(a.surface, abis.surface, "smileOf", [t, e]));
      }
      for (const ref of lastHeld.get(t) ?? []) addHeld(k, t, ref);
      for (const venue of lastVenues.get(t) ?? []) {
        add({ kind: "venue", k, venue }, call(venue, abis.perpAdapter, "positionSize", [v, t]));
      }
    });

    const [block, r1] = await Promise.all([
      client.getBlock({ blockTag: "latest" }) as Promise<Block>,
      multiRead(client, calls, undefined, readMode) as Promise<CallResult<unknown>[]>,
    ]);
    if (block.number === null) throw new Error("latest block has no number");
    let rounds = 1;

    const commonRes = (i: number) =>
      r1[jobs.findIndex((j) => j.kind === "common" && j.i === i)] as CallResult<unknown>;
    const epoch = need(commonRes(0) as CallResult<bigint>, "vault.epoch()");
    const mode = need(commonRes(1) as CallResult<number>, "vault.mode()");
    const lastRebalanceAt = need(commonRes(2) as CallResult<bigint>, "vault.lastRebalanceAt()");
    const [wStart, wTurnover] = need(commonRes(3) as CallResult<readonly [bigint, bigint]>, "vault.window()");
    const global = need(commonRes(4) as CallResult<GlobalLimitsRaw>, "policy.globalLimits()");
    const quoteBalance = need(commonRes(5) as CallResult<bigint>, "quoteToken.balanceOf(vault)");
    const ammRate =
      a.amm === null
        ? 0n
        : need(
            commonRes(6) as CallResult<readonly [number, bigint, bigint, bigint, number, number]>,
            "amm.params()",
          )[3];

    const uRes = a.underlyings.map(() => [] as CallResult<unknown>[]);
    const sizes = new Map<string, bigint>();
    const smiles = new Map<string, Smile>();
    const venueSize = new Map<string, bigint>();
    const atmSmile = new Map<number, { expiry: bigint; smile: Smile }>();
    const absorb = (js: Job[], rs: CallResult<unknown>[]) => {
      js.forEach((job, i) => {
        const r = rs[i] as CallResult<unknown>;
        switch (job.kind) {
          case "common":
            break;
          case "u":
            (uRes[job.k] as CallResult<unknown>[])[job.f] = r;
            break;
          case "atm":
            if (r.ok) atmSmile.set(job.k, { expiry: job.expiry, smile: r.value as Smile });
            break;
          case "greeks":
            // positionOf → (size, cash, underlying collateral); positionGreeks → (size, delta, gamma)
            if (r.ok)
              sizes.set(
                `${job.ref.adapter}|${job.ref.seriesId}`,
                (r.value as readonly [bigint, bigint, bigint])[0],
              );
            break;
          case "smile":
            if (r.ok) smiles.set(`${job.k}|${job.expiry}`, r.value as Smile);
            break;
          case "venue":
            if (r.ok) venueSize.set(`${job.k}|${job.venue}`, r.value as bigint);
            break;
        }
      });
    };
    absorb(jobs, r1);

    // ---- what the fresh lists need that the speculative calls did not cover (same block)
    const fresh = a.underlyings.map((u, k) => {
      const r = uRes[k] as CallResult<unknown>[];
      const held = need(
        r[3] as CallResult<readonly { adapter: Address; seriesId: bigint }[]>,
        `vault.heldSeries(${u.symbol})`,
      ).map((h) => ({ adapter: getAddress(h.adapter), seriesId: BigInt(h.seriesId) }));
      const venues = need(r[4] as CallResult<readonly Address[]>, `vault.perpVenues(${u.symbol})`).map((x) =>
        getAddress(x),
      );
      return { held, venues };
    });
    const jobs2: Job[] = [];
    const calls2: Call<unknown>[] = [];
    a.underlyings.forEach((u, k) => {
      const f = fresh[k] as { held: Ref[]; venues: Address[] };
      for (const ref of f.held) {
        if (!sizes.has(`${ref.adapter}|${ref.seriesId}`)) {
          jobs2.push({ kind: "greeks", k, ref });
          calls2.push(sizeCall(ref));
        }
        const s = a.series.get(ref.seriesId);
        if (s !== undefined && a.surface !== null && !smiles.has(`${k}|${s.expiry}`)) {
          smiles.set(`${k}|${s.expiry}`, { atmVol: 0n, skew: 0n, curvature: 0n, set: false }); // placeholder, dedupe
          jobs2.push({ kind: "smile", k, expiry: s.expiry });
          calls2.push(call(a.surface, abis.surface, "smileOf", [u.token, s.expiry]));
        }
      }
      for (const venue of f.venues) {
        if (!venueSize.has(`${k}|${venue}`)) {
          jobs2.push({ kind: "venue", k, venue });
          calls2.push(call(venue, abis.perpAdapter, "positionSize", [v, u.token]));
        }
      }
      const e = nearestExpiry(u.token, block.timestamp);
      if (e !== null && a.surface !== null && atmSmile.get(k)?.expiry !== e) {
        jobs2.push({ kind: "atm", k, expiry: e });
        calls2.push(call(a.surface, abis.surface, "smileOf", [u.token, e]));
      }
    });
    if (calls2.length > 0) {
      rounds++;
      absorb(jobs2, (await multiRead(client, calls2, block.number, readMode)) as CallResult<unknown>[]);
    }

    const underlyings: UnderlyingState[] = a.underlyings.map((info, k) => {
      const r = uRes[k] as CallResult<unknown>[];
      const ex = r[0] as CallResult<VaultExposureRaw>;
      const rd = r[1] as CallResult<readonly [bigint, bigint, bigint, bigint, bigint]>;
      const pos = r[7] as CallResult<readonly [bigint, bigint, bigint]>;
      const ms = r[8] as CallResult<{ fundingRatePerDay: bigint; skew: bigint }>;
      const mp = r[9] as CallResult<{ skewScale: bigint; makerFeeBps: number; takerFeeBps: number }>;
      const limits = need(
        r[2] as CallResult<UnderlyingLimitsRaw>,
        `policy.rawUnderlyingLimits(${info.symbol})`,
      );
      const f = fresh[k] as { held: Ref[]; venues: Address[] };
      lastHeld.set(info.token, f.held);
      lastVenues.set(info.token, f.venues);
      const spot = ex.ok
        ? Number(ex.value.price) / WADN
        : rd.ok
          ? Number(rd.value[1]) / 10 ** info.feedDecimals
          : NaN;
      const held: HeldSeriesState[] = f.held.map((ref) => {
        const s = a.series.get(ref.seriesId);
        if (s === undefined) {
          throw new Error(
            `held series #${ref.seriesId} is not among the listed series read at start (restart the keeper)`,
          );
        }
        const size = sizes.get(`${ref.adapter}|${ref.seriesId}`);
        if (size === undefined) throw new Error(`position in series #${ref.seriesId} unreadable`);
        const smile = smiles.get(`${k}|${s.expiry}`) ?? null;
        const usable = smile !== null && smile.set;
        const strike = Number(s.strike) / WADN;
        return {
          ...s,
          adapter: ref.adapter,
          size,
          smile: usable ? smile : null,
          vol: usable ? volFromSmile(smile, strike, spot, a.surfaceBounds) : null,
          capVol:
            usable && s.isCall && s.cap > 0n
              ? volFromSmile(smile, Number(s.strike + s.cap) / WADN, spot, a.surfaceBounds)
              : null,
        };
      });
      let perpSizeSum = 0n;
      for (const venue of f.venues) perpSizeSum += venueSize.get(`${k}|${venue}`) ?? 0n;
      const atm = atmSmile.get(k);
      return {
        info,
        exposure: ex.ok ? ex.value : null,
        exposureError: ex.ok ? null : ex.error,
        round: rd.ok ? { roundId: rd.value[0], answer: rd.value[1], updatedAt: rd.value[3] } : null,
        limits,
        premium: premiumOf(
          r[10] as CallResult<readonly [bigint, bigint]>,
          info.symbol,
          limits.premiumBudgetPerWindow,
          global.window,
          block.timestamp,
        ),
        balance: need(r[5] as CallResult<bigint>, `${info.symbol}.balanceOf(vault)`),
        liabilities: need(r[6] as CallResult<bigint>, `ledger.totalLiabilities(${info.symbol})`),
        held,
        perpVenues: f.venues,
        perpSizeSum,
        perp: pos.ok ? { size: pos.value[0], equity: pos.value[1], maintenance: pos.value[2] } : null,
        fundingRatePerDay: ms.ok ? ms.value.fundingRatePerDay : null,
        atm:
          atm !== undefined && atm.smile.set && Number.isFinite(spot)
            ? { expiry: atm.expiry, vol: volFromSmile(atm.smile, spot, spot, a.surfaceBounds) }
            : null,
        perpMarket:
          ms.ok && mp.ok && mp.value.skewScale > 0n
            ? {
                skew: ms.value.skew,
                skewScale: mp.value.skewScale,
                makerFeeBps: mp.value.makerFeeBps,
                takerFeeBps: mp.value.takerFeeBps,
              }
            : null,
      };
    });

    return {
      blockNumber: block.number,
      timestamp: block.timestamp,
      baseFeePerGas: block.baseFeePerGas ?? null,
      epoch,
      mode,
      lastRebalanceAt,
      window: { start: wStart, turnoverUsd: wTurnover },
      global,
      quoteBalance,
      ammRate,
      underlyings,
      rounds,
    };
  }
  return { read, addresses: a };
}

/** One-shot read (no memory of previous reads): usually two round trips. */
export async function readVaultState(client: Client, abis: Abis, a: ChainAddresses): Promise<VaultState> {
  return createStateReader(client, abis, a).read();
}

/** Epoch and mode only (the execute stage's pre-send check), in one call. */
export async function readEpochAndMode(
  client: Client,
  abis: Abis,
  vault: Address,
): Promise<{ epoch: bigint; mode: number }> {
  const [e, m] = await multiRead(client, [
    call(vault, abis.vault, "epoch", []),
    call(vault, abis.vault, "mode", []),
  ] as const);
  return { epoch: need(e, "vault.epoch()"), mode: need(m, "vault.mode()") };
}
