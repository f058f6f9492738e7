/**
 * Simulated market for demos, tests and backtests: ETH and BTC with correlated Heston-type
 * stochastic variance, Merton jumps (common and idiosyncratic, lognormal sizes), an optional
 * scenario (crash, volatility-regime shift, feed faults), ETF daily net flows that respond to
 * returns with persistent swings, perp funding that follows momentum and stress, and an implied
 * volatility surface (term structure from the expected variance, a vol-risk premium, skew and smile).
 *
 * `simulateMarket(config)` is a pure generator: the same config (seed included) yields the same
 * ticks, byte for byte. Two independent random streams are used — one for the price/variance path,
 * one for what the feeds report (quote noise, latency) — so changing what is emitted never changes
 * the path. Nothing here reads files or the clock; default parameters are calibrated to crypto
 * (ETH ≈ 65–70 % and BTC ≈ 50 % annualised vol, vol-of-vol and level informed by Deribit DVOL
 * 2021–2026: mean 75 / 61 vol points, log-DVOL vol ≈ 0.85–0.9 per year).
 *
 * Discretisation: log-Euler for the price, full-truncation Euler for the variance (v⁺ = max(v, 0) in
 * drift and diffusion), jump compensator in the drift so that E[S_t] = S_0·e^{μt}.
 */
import { z } from "zod";
import { createRng } from "./rng.ts";
import { UNDERLYINGS, type Datum, type Underlying } from "./types.ts";

export const YEAR_MS = 365.25 * 86_400_000;
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

const num = z.number();
const nonNeg = z.number().nonnegative();
const pos = z.number().positive();
const corr = z.number().min(-0.999).max(0.999);

function assetSchema(d: AssetParams) {
  return z.strictObject({
    /** Initial spot, USD. */
    s0: pos.default(d.s0),
    /** Drift of the price, per year (E[S_t] = S_0·e^{μt}). */
    mu: num.default(d.mu),
    /** Initial instantaneous variance (annualised). */
    v0: nonNeg.default(d.v0),
    /** Mean-reversion speed of the variance, per year. */
    kappa: nonNeg.default(d.kappa),
    /** Long-run variance (annualised; 0.49 = 70 % vol). */
    theta: nonNeg.default(d.theta),
    /** Volatility of variance. */
    xi: nonNeg.default(d.xi),
    /** Correlation between price and variance shocks (leverage effect; negative = vol up when price down). */
    rho: corr.default(d.rho),
    /** Log jump size mean and std (common jumps and idiosyncratic jumps share them). */
    jumpMean: num.default(d.jumpMean),
    jumpStd: nonNeg.default(d.jumpStd),
    /** Idiosyncratic jump intensity, per year. */
    idioJumpIntensity: nonNeg.default(d.idioJumpIntensity),
    /** Vol-risk premium: ATM IV = sqrt(expected average variance) × (1 + ivPremium). */
    ivPremium: num.default(d.ivPremium),
    /** IV slope per unit of standardised log-moneyness ln(K/S)/(σ√T); negative = put skew. */
    ivSkew: num.default(d.ivSkew),
    /** IV curvature per unit of squared standardised log-moneyness. */
    ivSmile: nonNeg.default(d.ivSmile),
    /** Relative noise on reported IV points (0.005 = 0.5 % of the IV). */
    ivNoise: nonNeg.default(d.ivNoise),
    /** Strike grid spacing for the reported surface, USD. */
    strikeStep: pos.default(d.strikeStep),
    /** Funding: resting level (fraction per hour), response to 1-day momentum (per unit of daily log
     *  return), response to variance stress ((v − θ)/θ), mean reversion per day, noise per √hour. */
    fundingBase: num.default(d.fundingBase),
    fundingMomentum: num.default(d.fundingMomentum),
    fundingStress: num.default(d.fundingStress),
    fundingReversion: nonNeg.default(d.fundingReversion),
    fundingNoise: nonNeg.default(d.fundingNoise),
    /** Funding cap (absolute, per hour), like a venue's clamp. */
    fundingCap: pos.default(d.fundingCap),
    /** ETF daily net flow: mean, beta to the day's log return, AR(1) persistence, noise, swing
     *  amplitude (a two-state sentiment regime adds ±swing), all USD. */
    etfMean: num.default(d.etfMean),
    etfBeta: num.default(d.etfBeta),
    etfPersistence: z.number().min(0).max(0.99).default(d.etfPersistence),
    etfNoise: nonNeg.default(d.etfNoise),
    etfSwing: nonNeg.default(d.etfSwing),
  });
}

export type AssetParams = {
  s0: number;
  mu: number;
  v0: number;
  kappa: number;
  theta: number;
  xi: number;
  rho: number;
  jumpMean: number;
  jumpStd: number;
  idioJumpIntensity: number;
  ivPremium: number;
  ivSkew: number;
  ivSmile: number;
  ivNoise: number;
  strikeStep: number;
  fundingBase: number;
  fundingMomentum: number;
  fundingStress: number;
  fundingReversion: number;
  fundingNoise: number;
  fundingCap: number;
  etfMean: number;
  etfBeta: number;
  etfPersistence: number;
  etfNoise: number;
  etfSwing: number;
};

/** ETH defaults: diffusive vol ≈ 65 %, with jumps ≈ 67 %; vol-of-vol so that log-vol moves ≈ 1.0/yr. */
export const ETH_DEFAULTS: AssetParams = {
  s0: 3000,
  mu: 0,
  v0: 0.42,
  kappa: 6,
  theta: 0.42,
  xi: 1.3,
  rho: -0.35,
  jumpMean: -0.01,
  jumpStd: 0.04,
  idioJumpIntensity: 2,
  ivPremium: 0.08,
  ivSkew: -0.06,
  ivSmile: 0.03,
  ivNoise: 0.005,
  strikeStep: 50,
  fundingBase: 1.25e-5,
  fundingMomentum: 2e-3,
  fundingStress: -1e-5,
  fundingReversion: 4,
  fundingNoise: 4e-6,
  fundingCap: 3e-3,
  etfMean: 20e6,
  etfBeta: 1.5e9,
  etfPersistence: 0.3,
  etfNoise: 40e6,
  etfSwing: 50e6,
};

/** BTC defaults: diffusive vol = 50 %, with jumps ≈ 51 %; ETF flows sized to the 2024–25 US spot ETFs. */
export const BTC_DEFAULTS: AssetParams = {
  s0: 60000,
  mu: 0,
  v0: 0.25,
  kappa: 6,
  theta: 0.25,
  xi: 0.9,
  rho: -0.3,
  jumpMean: -0.008,
  jumpStd: 0.03,
  idioJumpIntensity: 1,
  ivPremium: 0.08,
  ivSkew: -0.05,
  ivSmile: 0.03,
  ivNoise: 0.005,
  strikeStep: 1000,
  fundingBase: 1.25e-5,
  fundingMomentum: 2e-3,
  fundingStress: -1e-5,
  fundingReversion: 4,
  fundingNoise: 3e-6,
  fundingCap: 3e-3,
  etfMean: 110e6,
  etfBeta: 5e9,
  etfPersistence: 0.3,
  etfNoise: 150e6,
  etfSwing: 150e6,
};

const FeedFaultSchema = z.strictObject({
  /** Source id the fault hits (as emitted, e.g. "sim-spot-b"). */
  source: z.string().min(1),
  underlying: z.enum(UNDERLYINGS).optional(),
  from: z.number(),
  to: z.number(),
  /** freeze: the source emits nothing in [from, to). offset: its spot prices are off by offsetBps. */
  mode: z.enum(["freeze", "offset"]),
  offsetBps: z.number().default(0),
});

const ScenarioSchema = z.strictObject({
  crash: z
    .strictObject({
      /** Crash instant (ms); applied at the first step at or after it. */
      time: z.number(),
      /** Log return of the crash jump per underlying (−0.25 ≈ −22 %). */
      logReturn: z
        .strictObject({ ETH: z.number().default(-0.3), BTC: z.number().default(-0.2) })
        .prefault({}),
      /** The instantaneous variance is multiplied by this at the crash. */
      varianceMultiplier: z.number().min(1).default(4),
      /** Extra ETF flow added on the crash day, USD (negative = outflow). */
      etfShockUsd: z.strictObject({ ETH: z.number().default(0), BTC: z.number().default(0) }).prefault({}),
    })
    .optional(),
  regimeShift: z
    .strictObject({
      time: z.number(),
      /** Long-run variance θ is multiplied by this from `time` on (2.25 = vol level × 1.5). */
      thetaMultiplier: z.number().positive(),
    })
    .optional(),
  feedFaults: z.array(FeedFaultSchema).default([]),
});

export const SimConfigSchema = z.strictObject({
  seed: z.union([z.number(), z.string()]).default(1),
  /** Time of the first tick, ms since epoch. */
  startTime: z
    .number()
    .int()
    .nonnegative()
    .default(Date.UTC(2025, 0, 6)),
  stepMs: z.number().int().positive().default(HOUR_MS),
  /** Number of ticks (tick 0 is the initial state). */
  steps: z.number().int().positive().max(10_000_000),
  /** Correlation of the ETH and BTC diffusive price shocks. */
  correlation: corr.default(0.8),
  /** Intensity of jumps hitting both assets at once, per year, and the correlation of their sizes. */
  /** Correlation of the ETH and BTC variance shocks (their implied-vol indices co-move strongly). */
  volCorrelation: corr.default(0.8),
  commonJumpIntensity: nonNeg.default(10),
  jumpSizeCorrelation: corr.default(0.8),
  assets: z
    .strictObject({
      ETH: assetSchema(ETH_DEFAULTS).prefault({}),
      BTC: assetSchema(BTC_DEFAULTS).prefault({}),
    })
    .prefault({}),
  /** Per-day probability that the ETF sentiment regime flips sign. */
  etfSwitchProbability: z.number().min(0).max(1).default(0.15),
  scenario: ScenarioSchema.prefault({}),
  emit: z
    .strictObject({
      /** Spot sources and their quote noise (bps std); a second source enables deviation checks. */
      spotSources: z
        .array(z.strictObject({ id: z.string().min(1), noiseBps: nonNeg.default(0) }))
        .min(1)
        .default([{ id: "sim-spot", noiseBps: 0 }]),
      ivSource: z.string().min(1).default("sim-options"),
      fundingSource: z.string().min(1).default("sim-perp"),
      etfSource: z.string().min(1).default("sim-etf"),
      /** Cadences, aligned to multiples of the interval since the epoch (a datum is emitted at the
       *  first tick at or after each boundary, and at tick 0). */
      spotEveryMs: pos.default(60_000),
      ivEveryMs: pos.default(15 * 60_000),
      fundingEveryMs: pos.default(HOUR_MS),
      /** Which underlyings report ETF flows (each UTC day, at the first tick after midnight). */
      etfUnderlyings: z.array(z.enum(UNDERLYINGS)).default(["ETH", "BTC"]),
      ivTenorsDays: z.array(pos).min(1).default([7, 30, 90]),
      ivMoneyness: z.array(pos).min(1).default([0.8, 0.9, 1, 1.1, 1.25]),
      /** receiveTime = eventTime + latencyMs + U(0, latencyJitterMs). */
      latencyMs: nonNeg.default(200),
      latencyJitterMs: nonNeg.default(300),
    })
    .prefault({}),
});

export type SimConfigInput = z.input<typeof SimConfigSchema>;
export type SimConfig = z.output<typeof SimConfigSchema>;

export type SimEvent =
  | { type: "crash"; time: number; logReturn: Record<Underlying, number> }
  | { type: "regimeShift"; time: number; thetaMultiplier: number }
  | { type: "jump"; underlying: Underlying; logReturn: number; common: boolean };

export type MarketTick = {
  step: number;
  /** Simulated time of the tick, ms. */
  time: number;
  /** True model spot per underlying (what the sources quote before noise/faults). */
  spot: Record<Underlying, number>;
  /** Instantaneous volatility sqrt(max(v, 0)), annualised. */
  vol: Record<Underlying, number>;
  /** Perp funding per hour currently in force. */
  funding: Record<Underlying, number>;
  /** What happened during the step that ended at this tick. */
  events: SimEvent[];
  /** Data the feeds report at this tick (eventTime = `time`; ETF flows carry their day's end). */
  data: Datum[];
};

/** Resolves defaults and validates a config (throws a ZodError on a bad one). */
export function parseSimConfig(input: SimConfigInput): SimConfig {
  return SimConfigSchema.parse(input);
}

type AssetState = {
  logS: number;
  v: number;
  momentum: number;
  funding: number;
  etfPrev: number;
  lastMidnightLogS: number;
};

/** Next Deribit-style expiry: the first 08:00 UTC at or after `t`. */
export function nextExpiry(t: number): number {
  const day = Math.floor(t / DAY_MS) * DAY_MS;
  const e = day + 8 * HOUR_MS;
  return e >= t ? e : e + DAY_MS;
}

/**
 * Model implied vol for strike K and time to expiry T (years) given spot and variance state:
 * ATM = sqrt(E[average variance over T] + jump variance) × (1 + premium), shaped by skew and smile
 * in standardised moneyness, floored at 5 %.
 */
export function modelImpliedVol(
  p: AssetParams,
  thetaEff: number,
  v: number,
  s: number,
  k: number,
  T: number,
  jumpIntensity: number,
): number {
  const vPlus = Math.max(v, 0);
  const kt = p.kappa * T;
  const weight = kt > 1e-9 ? (1 - Math.exp(-kt)) / kt : 1;
  const avgVar = thetaEff + (vPlus - thetaEff) * weight + jumpIntensity * (p.jumpMean ** 2 + p.jumpStd ** 2);
  const atm = Math.sqrt(Math.max(avgVar, 1e-6)) * (1 + p.ivPremium);
  const z = Math.log(k / s) / (atm * Math.sqrt(Math.max(T, 1e-9)));
  return Math.max(0.05, atm * (1 + p.ivSkew * z + p.ivSmile * z * z));
}

function boundaryCrossed(prev: number, t: number, every: number): boolean {
  return Math.floor(t / every) !== Math.floor(prev / every);
}

/**
 * The simulated market as a lazy, deterministic stream of ticks (`config.steps` of them, tick 0
 * being the initial state). Throws a ZodError synchronously on the first `next()` if the config
 * is invalid.
 */
export function* simulateMarket(input: SimConfigInput): Generator<MarketTick, void, undefined> {
  const cfg = parseSimConfig(input);
  const root = createRng(cfg.seed);
  const pathRng = root.fork("path");
  const emitRng = root.fork("emit");
  const dtYears = cfg.stepMs / YEAR_MS;
  const dtDays = cfg.stepMs / DAY_MS;
  const rc = cfg.correlation;
  const rcPerp = Math.sqrt(1 - rc * rc);
  const rv = cfg.volCorrelation;
  const rvPerp = Math.sqrt(1 - rv * rv);
  const rj = cfg.jumpSizeCorrelation;
  const rjPerp = Math.sqrt(1 - rj * rj);
  const momentumAlpha = 1 - Math.pow(2, -dtDays); // 1-day half-life
  const p = cfg.assets;
  const crash = cfg.scenario.crash;
  const shift = cfg.scenario.regimeShift;
  const faults = cfg.scenario.feedFaults;
  const emit = cfg.emit;

  const jumpComp = (a: AssetParams) =>
    (cfg.commonJumpIntensity + a.idioJumpIntensity) * (Math.exp(a.jumpMean + 0.5 * a.jumpStd ** 2) - 1);
  const state: Record<Underlying, AssetState> = {
    ETH: init(p.ETH),
    BTC: init(p.BTC),
  };
  function init(a: AssetParams): AssetState {
    return {
      logS: Math.log(a.s0),
      v: a.v0,
      momentum: 0,
      funding: a.fundingBase,
      etfPrev: a.etfMean,
      lastMidnightLogS: Math.log(a.s0),
    };
  }
  let sentiment = 1;
  let crashed = false;
  let shifted = false;
  let crashDay = Number.NaN;
  const thetaFactor = () => (shifted && shift !== undefined ? shift.thetaMultiplier : 1);

  const receive = (t: number) => t + emit.latencyMs + Math.floor(emitRng.nextFloat() * emit.latencyJitterMs);
  const faulted = (source: string, u: Underlying, t: number, mode: "freeze" | "offset") =>
    faults.find(
      (f) =>
        f.mode === mode &&
        f.source === source &&
        (f.underlying === undefined || f.underlying === u) &&
        t >= f.from &&
        t < f.to,
    );

  for (let step = 0; step < cfg.steps; step++) {
    const t = cfg.startTime + step * cfg.stepMs;
    const prevT = t - cfg.stepMs;
    const events: SimEvent[] = [];

    if (step > 0) {
      if (shift !== undefined && !shifted && t >= shift.time) {
        shifted = true;
        events.push({ type: "regimeShift", time: t, thetaMultiplier: shift.thetaMultiplier });
      }
      const thetaNow = thetaFactor();
      // Correlated diffusive shocks: BTC = n1, ETH = ρ n1 + √(1−ρ²) n2; each variance shock mixes the
      // leverage term (ρ_asset × price shock) with a cross-asset correlated vol shock (n3, n4).
      const n1 = pathRng.nextNormal();
      const n2 = pathRng.nextNormal();
      const n3 = pathRng.nextNormal();
      const n4 = pathRng.nextNormal();
      const zS: Record<Underlying, number> = { BTC: n1, ETH: rc * n1 + rcPerp * n2 };
      const zIndep: Record<Underlying, number> = { BTC: n3, ETH: rv * n3 + rvPerp * n4 };
      const jumps: Record<Underlying, number> = { ETH: 0, BTC: 0 };
      const nCommon = pathRng.nextPoisson(cfg.commonJumpIntensity * dtYears);
      for (let j = 0; j < nCommon; j++) {
        const a = pathRng.nextNormal();
        const b = rj * a + rjPerp * pathRng.nextNormal();
        const jb = p.BTC.jumpMean + p.BTC.jumpStd * a;
        const je = p.ETH.jumpMean + p.ETH.jumpStd * b;
        jumps.BTC += jb;
        jumps.ETH += je;
        events.push({ type: "jump", underlying: "BTC", logReturn: jb, common: true });
        events.push({ type: "jump", underlying: "ETH", logReturn: je, common: true });
      }
      for (const u of UNDERLYINGS) {
        const a = p[u];
        const n = pathRng.nextPoisson(a.idioJumpIntensity * dtYears);
        for (let j = 0; j < n; j++) {
          const jr = a.jumpMean + a.jumpStd * pathRng.nextNormal();
          jumps[u] += jr;
          events.push({ type: "jump", underlying: u, logReturn: jr, common: false });
        }
      }
      for (const u of UNDERLYINGS) {
        const a = p[u];
        const s = state[u];
        const vPlus = Math.max(s.v, 0);
        const sq = Math.sqrt(vPlus * dtYears);
        const zV = a.rho * zS[u] + Math.sqrt(1 - a.rho * a.rho) * zIndep[u];
        const prevLogS = s.logS;
        s.logS += (a.mu - jumpComp(a) - 0.5 * vPlus) * dtYears + sq * zS[u] + jumps[u];
        s.v += a.kappa * (a.theta * thetaNow - vPlus) * dtYears + a.xi * sq * zV;
        s.momentum += momentumAlpha * ((s.logS - prevLogS) / dtDays - s.momentum);
      }
      if (crash !== undefined && !crashed && t >= crash.time) {
        crashed = true;
        crashDay = Math.floor(t / DAY_MS);
        const lr: Record<Underlying, number> = { ETH: crash.logReturn.ETH, BTC: crash.logReturn.BTC };
        for (const u of UNDERLYINGS) {
          state[u].logS += lr[u];
          state[u].v = Math.max(state[u].v, 0) * crash.varianceMultiplier;
          state[u].momentum += momentumAlpha * (lr[u] / dtDays);
        }
        events.push({ type: "crash", time: t, logReturn: lr });
      }
      for (const u of UNDERLYINGS) {
        const a = p[u];
        const s = state[u];
        const stress = a.theta > 0 ? (Math.max(s.v, 0) - a.theta * thetaNow) / (a.theta * thetaNow) : 0;
        const target = a.fundingBase + a.fundingMomentum * s.momentum + a.fundingStress * stress;
        const pull = 1 - Math.exp(-a.fundingReversion * dtDays);
        const f =
          s.funding +
          (target - s.funding) * pull +
          a.fundingNoise * Math.sqrt(dtDays * 24) * pathRng.nextNormal();
        s.funding = Math.min(a.fundingCap, Math.max(-a.fundingCap, f));
      }
    }

    const spot = { ETH: Math.exp(state.ETH.logS), BTC: Math.exp(state.BTC.logS) };
    const vol = { ETH: Math.sqrt(Math.max(state.ETH.v, 0)), BTC: Math.sqrt(Math.max(state.BTC.v, 0)) };
    const data: Datum[] = [];

    // ETF flows: one per UTC day, at the first tick after midnight, for the day that just ended.
    const newDay = step === 0 || boundaryCrossed(prevT, t, DAY_MS);
    if (newDay && step > 0 && pathRng.nextFloat() < cfg.etfSwitchProbability) sentiment = -sentiment;
    for (const u of UNDERLYINGS) {
      const s = state[u];
      if (!newDay) continue;
      const a = p[u];
      const midnight = Math.floor(t / DAY_MS) * DAY_MS;
      const dayReturn = s.logS - s.lastMidnightLogS;
      s.lastMidnightLogS = s.logS;
      const shock =
        step > 0 && Math.floor((midnight - 1) / DAY_MS) === crashDay ? (crash?.etfShockUsd[u] ?? 0) : 0;
      const flow =
        a.etfMean +
        a.etfPersistence * (s.etfPrev - a.etfMean) +
        a.etfBeta * dayReturn +
        a.etfSwing * sentiment +
        a.etfNoise * pathRng.nextNormal() +
        shock;
      s.etfPrev = flow;
      if (emit.etfUnderlyings.includes(u) && !faulted(emit.etfSource, u, t, "freeze")) {
        data.push({
          kind: "etfFlow",
          underlying: u,
          source: emit.etfSource,
          eventTime: midnight,
          receiveTime: receive(t),
          netFlowUsd: flow,
        });
      }
    }

    for (const u of UNDERLYINGS) {
      if (step === 0 || boundaryCrossed(prevT, t, emit.spotEveryMs)) {
        for (const src of emit.spotSources) {
          if (faulted(src.id, u, t, "freeze")) continue;
          const off = faulted(src.id, u, t, "offset");
          const noise = src.noiseBps > 0 ? Math.exp((src.noiseBps / 1e4) * emitRng.nextNormal()) : 1;
          const price = spot[u] * noise * (off ? 1 + off.offsetBps / 1e4 : 1);
          data.push({
            kind: "spot",
            underlying: u,
            source: src.id,
            eventTime: t,
            receiveTime: receive(t),
            price,
          });
        }
      }
      if (
        (step === 0 || boundaryCrossed(prevT, t, emit.fundingEveryMs)) &&
        !faulted(emit.fundingSource, u, t, "freeze")
      ) {
        data.push({
          kind: "funding",
          underlying: u,
          source: emit.fundingSource,
          eventTime: t,
          receiveTime: receive(t),
          ratePerHour: state[u].funding,
          intervalMs: HOUR_MS,
        });
      }
      if (
        (step === 0 || boundaryCrossed(prevT, t, emit.ivEveryMs)) &&
        !faulted(emit.ivSource, u, t, "freeze")
      ) {
        const a = p[u];
        const rt = receive(t);
        const thetaEff = a.theta * thetaFactor();
        for (const tenor of emit.ivTenorsDays) {
          const expiry = nextExpiry(t + tenor * DAY_MS);
          const T = (expiry - t) / YEAR_MS;
          const strikes = new Set<number>();
          for (const m of emit.ivMoneyness) {
            const k = Math.round((spot[u] * m) / a.strikeStep) * a.strikeStep;
            if (k > 0) strikes.add(k);
          }
          for (const k of [...strikes].sort((x, y) => x - y)) {
            const iv0 = modelImpliedVol(
              a,
              thetaEff,
              state[u].v,
              spot[u],
              k,
              T,
              cfg.commonJumpIntensity + a.idioJumpIntensity,
            );
            const iv = iv0 * (1 + a.ivNoise * emitRng.nextNormal());
            data.push({
              kind: "ivPoint",
              underlying: u,
              source: emit.ivSource,
              eventTime: t,
              receiveTime: rt,
              expiry,
              strike: k,
              iv: Math.max(iv, 0.01),
            });
          }
        }
      }
    }

    yield {
      step,
      time: t,
      spot,
      vol,
      funding: { ETH: state.ETH.funding, BTC: state.BTC.funding },
      events,
      data,
    };
  }
}

/**
 * The 30-day demo market: 5-minute steps, two spot sources, a crash on day 9 at 14:00 UTC
 * (ETH −30 % / BTC −20 % in log terms, variance × 4, heavy ETF outflows), a volatility-regime shift
 * on day 18 (long-run variance × 2.25, i.e. vol level × 1.5), and the default ETF sentiment swings.
 */
export function demoMarketConfig(
  seed: number | string = 42,
  startTime: number = Date.UTC(2025, 0, 6),
): SimConfigInput {
  return {
    seed,
    startTime,
    stepMs: 5 * 60_000,
    steps: 30 * 288 + 1,
    scenario: {
      crash: {
        time: startTime + 9 * DAY_MS + 14 * HOUR_MS,
        logReturn: { ETH: -0.3, BTC: -0.2 },
        varianceMultiplier: 4,
        etfShockUsd: { ETH: -150e6, BTC: -400e6 },
      },
      regimeShift: { time: startTime + 18 * DAY_MS, thetaMultiplier: 2.25 },
    },
    emit: {
      spotSources: [
        { id: "sim-spot-a", noiseBps: 2 },
        { id: "sim-spot-b", noiseBps: 3 },
      ],
    },
  };
}
