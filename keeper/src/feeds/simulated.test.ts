import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import {
  BTC_DEFAULTS,
  DAY_MS,
  ETH_DEFAULTS,
  HOUR_MS,
  YEAR_MS,
  demoMarketConfig,
  nextExpiry,
  parseSimConfig,
  simulateMarket,
  type MarketTick,
  type SimConfigInput,
} from "./simulated.ts";
import { DatumSchema, type Datum, type Underlying } from "./types.ts";

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const std = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};
const corr = (a: number[], b: number[]) => {
  const ma = mean(a);
  const mb = mean(b);
  let c = 0;
  for (let i = 0; i < a.length; i++) c += ((a[i] as number) - ma) * ((b[i] as number) - mb);
  return c / (a.length - 1) / (std(a) * std(b));
};
const logReturns = (ticks: MarketTick[], u: Underlying) =>
  ticks.slice(1).map((t, i) => Math.log(t.spot[u] / (ticks[i] as MarketTick).spot[u]));
const annualise = (sdPerStep: number, stepMs: number) => sdPerStep * Math.sqrt(YEAR_MS / stepMs);

/** Diffusion only: constant variance, no jumps — realised statistics must match the config tightly. */
const flat = (u: typeof ETH_DEFAULTS) => ({ v0: u.theta, xi: 0, idioJumpIntensity: 0 });

describe("simulateMarket", () => {
  it("same seed → identical ticks; different seed → different path", () => {
    const cfg: SimConfigInput = { seed: 7, steps: 500, stepMs: 5 * 60_000 };
    const a = JSON.stringify([...simulateMarket(cfg)]);
    const b = JSON.stringify([...simulateMarket(cfg)]);
    expect(a).toBe(b);
    const c = [...simulateMarket({ ...cfg, seed: 8 })];
    expect(JSON.stringify(c)).not.toBe(a);
    expect(c.at(-1)?.spot.ETH).not.toBe(JSON.parse(a).at(-1).spot.ETH);
    // what is emitted never changes the path
    const d = [
      ...simulateMarket({ ...cfg, emit: { spotSources: [{ id: "x", noiseBps: 5 }], latencyJitterMs: 0 } }),
    ];
    expect(d.map((t) => t.spot)).toEqual((JSON.parse(a) as MarketTick[]).map((t) => t.spot));
  });

  it("diffusion-only: realised vol matches sqrt(theta) within 5 % and correlation matches the config", () => {
    for (const correlation of [0.8, 0.4]) {
      const ticks = [
        ...simulateMarket({
          seed: 11,
          steps: 8_767,
          correlation,
          commonJumpIntensity: 0,
          assets: { ETH: flat(ETH_DEFAULTS), BTC: flat(BTC_DEFAULTS) },
        }),
      ];
      const re = logReturns(ticks, "ETH");
      const rb = logReturns(ticks, "BTC");
      expect(annualise(std(re), HOUR_MS) / Math.sqrt(ETH_DEFAULTS.theta)).toBeGreaterThan(0.95);
      expect(annualise(std(re), HOUR_MS) / Math.sqrt(ETH_DEFAULTS.theta)).toBeLessThan(1.05);
      expect(annualise(std(rb), HOUR_MS) / Math.sqrt(BTC_DEFAULTS.theta)).toBeGreaterThan(0.95);
      expect(annualise(std(rb), HOUR_MS) / Math.sqrt(BTC_DEFAULTS.theta)).toBeLessThan(1.05);
      expect(Math.abs(corr(re, rb) - correlation)).toBeLessThan(0.03);
    }
  });

  it("full model (stochastic vol + jumps): crypto-like vol levels and ETH/BTC correlation near 0.8", () => {
    const ethVar: number[] = [];
    const btcVar: number[] = [];
    const cors: number[] = [];
    for (const seed of [1, 2, 3, 4]) {
      const ticks = [...simulateMarket({ seed, steps: 8_767 })];
      const re = logReturns(ticks, "ETH");
      const rb = logReturns(ticks, "BTC");
      const ve = annualise(std(re), HOUR_MS);
      const vb = annualise(std(rb), HOUR_MS);
      // one year of one path: within a wide band around the configured level
      expect(ve).toBeGreaterThan(0.4);
      expect(ve).toBeLessThan(1.0);
      expect(vb).toBeGreaterThan(0.3);
      expect(vb).toBeLessThan(0.75);
      ethVar.push(ve ** 2);
      btcVar.push(vb ** 2);
      cors.push(corr(re, rb));
      expect(ticks.every((t) => t.vol.ETH >= 0 && Number.isFinite(t.spot.ETH) && t.spot.BTC > 0)).toBe(true);
    }
    const jumpVar = (a: typeof ETH_DEFAULTS) =>
      (10 + a.idioJumpIntensity) * (a.jumpMean ** 2 + a.jumpStd ** 2);
    const ethLevel = ETH_DEFAULTS.theta + jumpVar(ETH_DEFAULTS);
    const btcLevel = BTC_DEFAULTS.theta + jumpVar(BTC_DEFAULTS);
    expect(Math.sqrt(ethLevel)).toBeGreaterThan(0.6);
    expect(Math.sqrt(ethLevel)).toBeLessThan(0.8);
    expect(mean(ethVar) / ethLevel).toBeGreaterThan(0.75);
    expect(mean(ethVar) / ethLevel).toBeLessThan(1.25);
    expect(mean(btcVar) / btcLevel).toBeGreaterThan(0.75);
    expect(mean(btcVar) / btcLevel).toBeLessThan(1.25);
    expect(Math.abs(mean(cors) - 0.8)).toBeLessThan(0.05);
  });

  it("crash: a large negative jump at the configured time, then a volatility spike", () => {
    const start = Date.UTC(2025, 0, 6);
    const crashAt = start + 5 * DAY_MS + 14 * HOUR_MS + 7 * 60_000; // between steps: applied at the next one
    const ticks = [
      ...simulateMarket({
        seed: 3,
        startTime: start,
        stepMs: 5 * 60_000,
        steps: 12 * 288,
        scenario: { crash: { time: crashAt, logReturn: { ETH: -0.3, BTC: -0.2 }, varianceMultiplier: 4 } },
      }),
    ];
    const idx = ticks.findIndex((t) => t.events.some((e) => e.type === "crash"));
    expect(ticks.filter((t) => t.events.some((e) => e.type === "crash")).length).toBe(1);
    const crashTick = ticks[idx] as MarketTick;
    expect(crashTick.time).toBe(start + 5 * DAY_MS + 14 * HOUR_MS + 10 * 60_000);
    const prev = ticks[idx - 1] as MarketTick;
    expect(Math.log(crashTick.spot.ETH / prev.spot.ETH)).toBeCloseTo(-0.3, 1);
    expect(Math.log(crashTick.spot.BTC / prev.spot.BTC)).toBeCloseTo(-0.2, 1);
    expect(crashTick.vol.ETH / prev.vol.ETH).toBeGreaterThan(1.9);
    expect(crashTick.vol.BTC / prev.vol.BTC).toBeGreaterThan(1.9);
    // the largest 5-minute move of the path is the crash
    const re = logReturns(ticks, "ETH");
    expect(re.indexOf(Math.min(...re))).toBe(idx - 1);
    // realised vol in the 12 h after the crash exceeds the 12 h before it
    const before = re.slice(idx - 1 - 144, idx - 1);
    const after = re.slice(idx, idx + 144);
    expect(std(after) / std(before)).toBeGreaterThan(1.4);
  });

  it("demo market: 30 days, crash day visible in prices and ETF flows, regime shift raises vol", () => {
    const cfg = demoMarketConfig(42);
    const ticks = [...simulateMarket(cfg)];
    expect(ticks.length).toBe(30 * 288 + 1);
    const start = ticks[0]?.time ?? 0;
    expect(ticks.at(-1)?.time).toBe(start + 30 * DAY_MS);
    const dailyClose = (u: Underlying) =>
      ticks.filter((t) => (t.time - start) % DAY_MS === 0).map((t) => t.spot[u]);
    const daily = dailyClose("BTC");
    const dayRet = daily.slice(1).map((p, i) => Math.log(p / (daily[i] as number)));
    expect(dayRet.indexOf(Math.min(...dayRet))).toBe(9); // day 9 (0-based) holds the crash
    expect(Math.min(...dayRet)).toBeLessThan(-0.15);
    const btcFlows = ticks.flatMap((t) =>
      t.data.filter((d): d is Datum<"etfFlow"> => d.kind === "etfFlow" && d.underlying === "BTC"),
    );
    expect(btcFlows.length).toBe(31);
    const worst = btcFlows.reduce((a, b) => (b.netFlowUsd < a.netFlowUsd ? b : a));
    expect(worst.eventTime).toBe(start + 10 * DAY_MS); // the crash day's flow, stamped at its end
    expect(worst.netFlowUsd).toBeLessThan(-800e6);
    expect(btcFlows.some((f) => f.netFlowUsd > 0)).toBe(true); // swings both ways
    const shift = ticks.findIndex((t) => t.events.some((e) => e.type === "regimeShift"));
    expect(ticks[shift]?.time).toBe(start + 18 * DAY_MS);
    // 90-day IV reprices immediately with the long-run variance (× 2.25 → × 1.5 in vol, diluted by current v)
    const atm = (t: MarketTick, pick: (expiries: number[]) => number) => {
      const pts = t.data.filter((d): d is Datum<"ivPoint"> => d.kind === "ivPoint" && d.underlying === "ETH");
      const e = pick(pts.map((p) => p.expiry));
      const atK = pts
        .filter((p) => p.expiry === e)
        .reduce((a, b) => (Math.abs(b.strike - t.spot.ETH) < Math.abs(a.strike - t.spot.ETH) ? b : a));
      return atK.iv;
    };
    const at = ticks[shift] as MarketTick;
    const before = ticks[shift - 3] as MarketTick; // previous 15-minute IV print
    const far = (es: number[]) => Math.max(...es);
    const near = (es: number[]) => Math.min(...es);
    expect(atm(at, far) / atm(before, far)).toBeGreaterThan(1.1);
    expect(atm(at, far) / atm(before, far)).toBeGreaterThan(atm(at, near) / atm(before, near));
    // and realised vol over the 12 days after the shift exceeds the 7 calm days before the crash
    const re = logReturns(ticks, "ETH");
    expect(std(re.slice(shift)) / std(re.slice(0, 7 * 288))).toBeGreaterThan(1.2);
  });

  it("emits schema-valid data on the configured cadences with event/receive times", () => {
    const start = Date.UTC(2025, 2, 1, 23);
    const ticks = [
      ...simulateMarket({
        seed: 5,
        startTime: start,
        stepMs: 5 * 60_000,
        steps: 25,
        emit: { spotSources: [{ id: "a" }, { id: "b", noiseBps: 2 }], latencyMs: 100, latencyJitterMs: 50 },
      }),
    ];
    for (const t of ticks) {
      for (const d of t.data) {
        expect(DatumSchema.safeParse(d).success).toBe(true);
        expect(d.receiveTime).toBeGreaterThanOrEqual(t.time + 100);
        expect(d.receiveTime).toBeLessThan(t.time + 150);
        if (d.kind === "etfFlow") expect(d.eventTime).toBe(Math.floor(t.time / DAY_MS) * DAY_MS);
        else expect(d.eventTime).toBe(t.time);
      }
      const spots = t.data.filter((d) => d.kind === "spot");
      expect(spots.length).toBe(4); // 2 sources × 2 underlyings, every step (spotEveryMs 60 s < step)
      const a = spots.find((d) => d.source === "a" && d.underlying === "ETH") as Datum<"spot">;
      const b = spots.find((d) => d.source === "b" && d.underlying === "ETH") as Datum<"spot">;
      expect(a.price).toBe(t.spot.ETH); // noiseless source quotes the model price
      expect(Math.abs(b.price / t.spot.ETH - 1)).toBeLessThan(10e-4); // 2 bps noise, < 5 sd
    }
    const count = (k: string) => ticks.map((t) => t.data.filter((d) => d.kind === k).length);
    // IV every 15 min (ticks 0, 3, 6, ... at :00/:15/:30/:45), 15 points (3 expiries × 5 strikes) per underlying
    expect(count("ivPoint").map((n) => n > 0)).toEqual(
      ticks.map((t, i) => i === 0 || t.time % (15 * 60_000) === 0),
    );
    expect(Math.max(...count("ivPoint"))).toBe(30);
    // funding at tick 0 and at each full hour; ETF flows at tick 0 and at midnight
    expect(count("funding")).toEqual(ticks.map((t, i) => (i === 0 || t.time % HOUR_MS === 0 ? 2 : 0)));
    expect(count("etfFlow")).toEqual(ticks.map((t, i) => (i === 0 || t.time % DAY_MS === 0 ? 2 : 0)));
  });

  it("IV surface: premium over instantaneous vol, put skew, Deribit-style expiries", () => {
    const [t0] = simulateMarket({ seed: 9, steps: 1, assets: { ETH: { ivNoise: 0 } } });
    const tick = t0 as MarketTick;
    const pts = tick.data.filter(
      (d): d is Datum<"ivPoint"> => d.kind === "ivPoint" && d.underlying === "ETH",
    );
    const expiries = [...new Set(pts.map((p) => p.expiry))].sort((a, b) => a - b);
    expect(expiries).toEqual([7, 30, 90].map((d) => nextExpiry(tick.time + d * DAY_MS)));
    for (const e of expiries) expect(new Date(e).getUTCHours()).toBe(8);
    const near = pts.filter((p) => p.expiry === expiries[0]).sort((a, b) => a.strike - b.strike);
    expect(near.map((p) => p.strike)).toEqual([2400, 2700, 3000, 3300, 3750]);
    const atm = near.find((p) => p.strike === 3000) as Datum<"ivPoint">;
    // v0 = theta: ATM ≈ sqrt(theta + jump var) × (1 + premium)
    expect(atm.iv / tick.vol.ETH).toBeGreaterThan(1.05);
    expect(atm.iv / tick.vol.ETH).toBeLessThan(1.2);
    expect((near[0] as Datum<"ivPoint">).iv).toBeGreaterThan(atm.iv); // 80 % put wing above ATM
    expect((near[0] as Datum<"ivPoint">).iv).toBeGreaterThan((near[4] as Datum<"ivPoint">).iv); // put skew
  });

  it("funding follows momentum and stays within the cap; ETF flows follow daily returns", () => {
    const ticks = [...simulateMarket({ seed: 21, steps: 2 * 8_766 })];
    const f: number[] = [];
    const mom: number[] = [];
    for (let i = 24; i < ticks.length; i++) {
      f.push((ticks[i] as MarketTick).funding.BTC);
      mom.push(Math.log((ticks[i] as MarketTick).spot.BTC / (ticks[i - 24] as MarketTick).spot.BTC));
    }
    expect(corr(f, mom)).toBeGreaterThan(0.3);
    expect(f.every((x) => Math.abs(x) <= BTC_DEFAULTS.fundingCap)).toBe(true);
    expect(mean(f)).toBeGreaterThan(0);
    const flows = ticks.flatMap((t) =>
      t.data.filter((d): d is Datum<"etfFlow"> => d.kind === "etfFlow" && d.underlying === "BTC"),
    );
    const mid = ticks.filter((t) => t.time % DAY_MS === 0 || t.step === 0).map((t) => t.spot.BTC);
    const ret = mid.slice(1).map((p, i) => Math.log(p / (mid[i] as number)));
    const x = flows.slice(1).map((d) => d.netFlowUsd);
    expect(x.length).toBe(ret.length);
    expect(corr(x, ret)).toBeGreaterThan(0.3);
    expect(Math.min(...x)).toBeLessThan(0);
    expect(Math.max(...x)).toBeGreaterThan(300e6);
  });

  it("feed faults: a frozen source goes silent, an offset source is off by the configured bps", () => {
    const start = Date.UTC(2025, 0, 1);
    const ticks = [
      ...simulateMarket({
        seed: 2,
        startTime: start,
        stepMs: 60_000,
        steps: 120,
        emit: { spotSources: [{ id: "a" }, { id: "b" }] },
        scenario: {
          feedFaults: [
            {
              source: "a",
              underlying: "ETH",
              from: start + 10 * 60_000,
              to: start + 20 * 60_000,
              mode: "freeze",
            },
            {
              source: "b",
              from: start + 60 * 60_000,
              to: start + 70 * 60_000,
              mode: "offset",
              offsetBps: 150,
            },
          ],
        },
      }),
    ];
    for (const t of ticks) {
      const inFreeze = t.time >= start + 10 * 60_000 && t.time < start + 20 * 60_000;
      const inOffset = t.time >= start + 60 * 60_000 && t.time < start + 70 * 60_000;
      const aEth = t.data.find((d) => d.kind === "spot" && d.source === "a" && d.underlying === "ETH");
      expect(aEth === undefined).toBe(inFreeze);
      for (const u of ["ETH", "BTC"] as const) {
        const b = t.data.find(
          (d): d is Datum<"spot"> => d.kind === "spot" && d.source === "b" && d.underlying === u,
        );
        expect(b?.price).toBeCloseTo(t.spot[u] * (inOffset ? 1.015 : 1), 6);
      }
    }
  });

  it("rejects invalid configs and resolves defaults", () => {
    expect(() => [...simulateMarket({ steps: 0 })]).toThrow(ZodError);
    expect(() => parseSimConfig({ steps: 10, correlation: 1.5 })).toThrow(ZodError);
    expect(() => parseSimConfig({ steps: 10, assets: { ETH: { theta: -1 } } })).toThrow(ZodError);
    expect(() => parseSimConfig({ steps: 10, emit: { spotSources: [] } })).toThrow(ZodError);
    const c = parseSimConfig({ steps: 10, assets: { ETH: { s0: 2000 } } });
    expect(c.assets.ETH.s0).toBe(2000);
    expect(c.assets.ETH.theta).toBe(ETH_DEFAULTS.theta);
    expect(c.assets.BTC).toEqual(BTC_DEFAULTS);
    expect(c.correlation).toBe(0.8);
    expect(c.scenario.feedFaults).toEqual([]);
  });
});
