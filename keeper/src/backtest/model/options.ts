/**
 * Fast model of the reference options AMM (contracts/venues/options/OptionsAMM.sol and
 * VolatilitySurface.sol), in plain numbers:
 *
 * - smile:   vol(k) = atmVol + skew·k + curvature·k², k = ln(strike/spot) clamped to ±3, vol clamped
 *            to [0.01, 5];
 * - unit:    Black–Scholes on the smile (τ in 365-day years, the AMM's YEAR); calls are CAPPED at
 *            cap = strike × capMultiple and priced as the call spread C(K) − C(K + cap), each leg at
 *            its own smile vol; price clamped to [0, cap] (calls) / [0, strike] (puts);
 * - premium: buy pays mid + fee + spread, sell receives max(mid − fee − spread, 0), with
 *            fee = feeBps × spot × |size| and
 *            spread = vegaSpreadCoeff × |vega| × |size| + exposureCoeff × spot × max(0, |D′| − |D|),
 *            D / D′ the pool's net option delta before / after the trade (the pool is the
 *            counterparty: its delta is minus the traders').
 * - payoff at expiry: puts max(K − S, 0); capped calls min(max(S − K, 0), cap).
 *
 * Defaults are the AMM constructor's: 5 bps fee, half a vol point per unit of vega, 10 bps of added
 * delta notional, r = 0, calls capped at 3× strike.
 */
import { bsGreeks } from "../../price/blackScholes.ts";

export const AMM_YEAR_MS = 365 * 86_400_000;

export type Smile = { atmVol: number; skew: number; curvature: number };

export type OptionsModelParams = {
  feeBps: number;
  vegaSpreadCoeff: number;
  exposureCoeff: number;
  rate: number;
  capMultiple: number;
};

export const DEFAULT_OPTIONS_PARAMS: OptionsModelParams = {
  feeBps: 5,
  vegaSpreadCoeff: 0.005,
  exposureCoeff: 0.001,
  rate: 0,
  capMultiple: 3,
};

export type OptionSeries = {
  id: bigint;
  isCall: boolean;
  strike: number;
  /** ms */
  expiry: number;
  /** USD per unit for calls (strike × capMultiple at listing); 0 for puts. */
  cap: number;
};

export type UnitGreeks = { price: number; delta: number; gamma: number; vega: number; vol: number };

/** VolatilitySurface.volFromSmile. */
export function smileVol(s: Smile, strike: number, spot: number): number {
  const k = Math.max(-3, Math.min(3, Math.log(strike / spot)));
  const v = s.atmVol + s.skew * k + s.curvature * k * k;
  return Math.max(0.01, Math.min(5, v));
}

/** Per-unit mid price and greeks (delta per unit, gamma per USD, vega per 1.00 of vol). */
export function unitGreeks(
  series: OptionSeries,
  spot: number,
  now: number,
  smile: Smile,
  rate: number,
): UnitGreeks {
  const tau = Math.max((series.expiry - now) / AMM_YEAR_MS, 1 / (365 * 86_400));
  const vol = smileVol(smile, series.strike, spot);
  const a = bsGreeks(spot, series.strike, tau, vol, rate, series.isCall);
  if (!series.isCall)
    return { price: Math.min(a.price, series.strike), delta: a.delta, gamma: a.gamma, vega: a.vega, vol };
  let { price, delta, gamma, vega } = a;
  const k2 = series.strike + series.cap;
  const vol2 = smileVol(smile, k2, spot);
  // The AMM skips the upper leg when d1(K + cap) ≤ −7.2 (value < 3.1e-13 × S).
  const d1 = (Math.log(spot / k2) + (rate + 0.5 * vol2 * vol2) * tau) / (vol2 * Math.sqrt(tau));
  if (d1 > -7.2) {
    const b = bsGreeks(spot, k2, tau, vol2, rate, true);
    price -= b.price;
    delta -= b.delta;
    gamma -= b.gamma;
    vega -= b.vega;
  }
  return { price: Math.max(0, Math.min(price, series.cap)), delta, gamma, vega, vol };
}

export type OptionTradeQuote = {
  /** Buy: mid + fee + spread; sell: max(mid − fee − spread, 0). USD for |size|. */
  premium: number;
  mid: number;
  fee: number;
  spread: number;
  unit: UnitGreeks;
};

/**
 * Quote for trading `size` (+ buy, − sell) of `series`, given the pool's net option delta before
 * the trade `poolDeltaBefore` (underlying units).
 */
export function quoteOption(
  series: OptionSeries,
  size: number,
  spot: number,
  now: number,
  smile: Smile,
  p: OptionsModelParams,
  poolDeltaBefore: number,
): OptionTradeQuote {
  const unit = unitGreeks(series, spot, now, smile, p.rate);
  const abs = Math.abs(size);
  const mid = unit.price * abs;
  const fee = (p.feeBps / 10_000) * spot * abs;
  const after = poolDeltaBefore - size * unit.delta;
  const increase = Math.max(0, Math.abs(after) - Math.abs(poolDeltaBefore));
  const spread = p.vegaSpreadCoeff * Math.abs(unit.vega) * abs + p.exposureCoeff * increase * spot;
  const premium = size > 0 ? mid + fee + spread : Math.max(mid - fee - spread, 0);
  return { premium, mid, fee, spread, unit };
}

/** Cash payoff per unit at settlement price `spot`. */
export function optionPayoff(series: OptionSeries, spot: number): number {
  if (series.isCall) return spot > series.strike ? Math.min(spot - series.strike, series.cap) : 0;
  return series.strike > spot ? series.strike - spot : 0;
}

/** Series listing: ids are handed out in order of first use of (type, strike, expiry). */
export type SeriesRegistry = {
  get: (isCall: boolean, strike: number, expiry: number) => OptionSeries;
  byId: (id: bigint) => OptionSeries | undefined;
};

export function createSeriesRegistry(capMultiple: number): SeriesRegistry {
  const byKey = new Map<string, OptionSeries>();
  const byId = new Map<bigint, OptionSeries>();
  return {
    get(isCall, strike, expiry) {
      const key = `${isCall ? "C" : "P"}|${strike}|${expiry}`;
      let s = byKey.get(key);
      if (s === undefined) {
        s = { id: BigInt(byKey.size + 1), isCall, strike, expiry, cap: isCall ? strike * capMultiple : 0 };
        byKey.set(key, s);
        byId.set(s.id, s);
      }
      return s;
    },
    byId: (id) => byId.get(id),
  };
}

/** Strike grid step for a price level: 1, 2.5 or 5 × 10^n, about 1 % of spot. */
export function strikeStep(spot: number): number {
  const raw = spot * 0.01;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const m = raw / mag;
  return (m < 1.5 ? 1 : m < 3.5 ? 2.5 : m < 7.5 ? 5 : 10) * mag;
}

/** Nearest listed strike to `spot × fraction`. */
export function listedStrike(spot: number, fraction: number): number {
  const step = strikeStep(spot);
  return Math.max(step, Math.round((spot * fraction) / step) * step);
}

/** Friday 08:00 UTC expiries: the first at or after `from`, and the following `count − 1`. */
export function fridayExpiries(from: number, count: number): number[] {
  const DAY = 86_400_000;
  const day = Math.floor(from / DAY) * DAY;
  // 1970-01-01 was a Thursday: weekday index (0 = Thursday) → days to Friday.
  const wd = Math.floor(day / DAY) % 7;
  let first = day + ((1 - wd + 7) % 7) * DAY + 8 * 3_600_000;
  if (first < from) first += 7 * DAY;
  return Array.from({ length: count }, (_, i) => first + i * 7 * DAY);
}
