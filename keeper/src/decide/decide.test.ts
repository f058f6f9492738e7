import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DEFAULT_BAND_CONFIG,
  DEFAULT_DECIDE_CONFIG,
  DEFAULT_REGIME_SCALES,
  DEFAULT_REGIME_WEIGHTS,
  REGIME_INPUTS,
  decide,
  effectiveBand,
  fmt,
  regimeMultiplier,
  regimeScore,
  whalleyWilmottBand,
  type DecideContext,
  type Exposure,
  type RegimeInputs,
} from "./index.ts";
import type { ValidationView } from "./types.ts";

const neutral: RegimeInputs = { etfFlowMomentum: 0, ivLevel: 0.6, ivChange: 0, skew: 0, fundingRate: null };
const stressed: RegimeInputs = {
  etfFlowMomentum: -3,
  ivLevel: 1.0,
  ivChange: 0.1,
  skew: 0.08,
  fundingRate: 3e-4,
};
const calm: RegimeInputs = {
  etfFlowMomentum: 3,
  ivLevel: 0.35,
  ivChange: -0.05,
  skew: -0.03,
  fundingRate: 0,
};

describe("regimeScore", () => {
  it("is 0 at the neutral point and each part is its weighted signal", () => {
    const r = regimeScore(neutral);
    expect(r.score).toBeCloseTo(0, 15);
    expect(r.missing).toEqual(["fundingRate"]);
    expect(r.signals.fundingRate).toBeNull();
    expect(r.parts.fundingRate).toBe(0);
  });

  it("matches the documented transforms for single inputs", () => {
    const none: RegimeInputs = {
      etfFlowMomentum: null,
      ivLevel: null,
      ivChange: null,
      skew: null,
      fundingRate: null,
    };
    const k = DEFAULT_REGIME_SCALES;
    expect(regimeScore({ ...none, ivLevel: 0.8 }).score).toBeCloseTo(-Math.tanh(0.2 / k.ivScale), 14);
    expect(regimeScore({ ...none, etfFlowMomentum: -1 }).score).toBeCloseTo(Math.tanh(-1 / k.etfFlowZ), 14);
    expect(regimeScore({ ...none, ivChange: 0.05 }).score).toBeCloseTo(-Math.tanh(1), 14);
    expect(regimeScore({ ...none, skew: -0.025 }).score).toBeCloseTo(Math.tanh(0.5), 14);
    expect(regimeScore({ ...none, fundingRate: -5e-5 }).score).toBeCloseTo(1 - 2 * Math.tanh(1), 14);
    expect(regimeScore({ ...none, fundingRate: 5e-5 }).score).toBeCloseTo(1 - 2 * Math.tanh(1), 14);
    expect(regimeScore(none)).toMatchObject({ score: 0, missing: REGIME_INPUTS });
  });

  it("labels stress negative and calm positive; parts sum to the score", () => {
    const s = regimeScore(stressed);
    const c = regimeScore(calm);
    expect(s.score).toBeLessThan(-0.8);
    expect(c.score).toBeGreaterThan(0.6);
    for (const r of [s, c]) {
      const sum = REGIME_INPUTS.reduce((acc, n) => acc + r.parts[n], 0);
      expect(sum).toBeCloseTo(r.score, 14);
    }
  });

  it("each input moves the score the documented way (monotone)", () => {
    const base = { ...neutral, fundingRate: 1e-5 };
    const s0 = regimeScore(base).score;
    expect(regimeScore({ ...base, etfFlowMomentum: -1 }).score).toBeLessThan(s0);
    expect(regimeScore({ ...base, ivLevel: 0.7 }).score).toBeLessThan(s0);
    expect(regimeScore({ ...base, ivChange: 0.02 }).score).toBeLessThan(s0);
    expect(regimeScore({ ...base, skew: 0.02 }).score).toBeLessThan(s0);
    expect(regimeScore({ ...base, fundingRate: -1e-4 }).score).toBeLessThan(s0);
    expect(regimeScore({ ...base, fundingRate: 1e-4 }).score).toBeLessThan(s0);
  });

  it("reweights over present inputs and ignores zero-weight ones", () => {
    const w = { ...DEFAULT_REGIME_WEIGHTS, skew: 0 };
    const a = regimeScore({ ...neutral, skew: 0.5 }, w);
    expect(a.score).toBeCloseTo(0, 15);
    expect(a.parts.skew).toBe(0);
  });

  it("stays in [-1, 1] for any finite inputs and weights (property)", () => {
    const x = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), {
      nil: null,
    });
    const w = fc.double({ noNaN: true, min: 0, max: 100 });
    fc.assert(
      fc.property(x, x, x, x, x, w, w, w, w, w, (a, b, c, d, e, w1, w2, w3, w4, w5) => {
        const r = regimeScore(
          { etfFlowMomentum: a, ivLevel: b, ivChange: c, skew: d, fundingRate: e },
          { etfFlowMomentum: w1, ivLevel: w2, ivChange: w3, skew: w4, fundingRate: w5 },
        );
        expect(r.score).toBeGreaterThanOrEqual(-1);
        expect(r.score).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("throws on non-finite inputs, negative weights and bad scales", () => {
    expect(() => regimeScore({ ...neutral, ivLevel: Number.NaN })).toThrow(/ivLevel is not finite/);
    expect(() => regimeScore(neutral, { ...DEFAULT_REGIME_WEIGHTS, skew: -1 })).toThrow(/weight skew/);
    expect(() => regimeScore(neutral, DEFAULT_REGIME_WEIGHTS, { ...DEFAULT_REGIME_SCALES, skew: 0 })).toThrow(
      /scale skew/,
    );
  });
});

describe("whalleyWilmottBand", () => {
  // 1000 short ATM 30-day ETH options at S = 3000, σ = 0.6: book Γ ≈ 0.77 ETH per USD.
  const ww = { gamma: 0.77, price: 3000, costPerUnit: 0.0005, riskAversion: 1e-4 };

  it("solves H³ = 3/2 · e^{-r(T-t)} · λ S Γ² / γ", () => {
    const h = whalleyWilmottBand(ww);
    expect(h ** 3).toBeCloseTo((1.5 * 0.0005 * 3000 * 0.77 ** 2) / 1e-4, 6);
    expect(h).toBeGreaterThan(23);
    expect(h).toBeLessThan(25);
    const d = whalleyWilmottBand({ ...ww, discount: 0.9 });
    expect(d ** 3).toBeCloseTo(h ** 3 * 0.9, 6);
  });

  it("scales as Γ^(2/3), λ^(1/3), S^(1/3), γ^(-1/3); the sign of Γ does not matter", () => {
    const h = whalleyWilmottBand(ww);
    expect(whalleyWilmottBand({ ...ww, gamma: 8 * ww.gamma }) / h).toBeCloseTo(4, 12);
    expect(whalleyWilmottBand({ ...ww, costPerUnit: 8 * ww.costPerUnit }) / h).toBeCloseTo(2, 12);
    expect(whalleyWilmottBand({ ...ww, price: 27 * ww.price }) / h).toBeCloseTo(3, 12);
    expect(whalleyWilmottBand({ ...ww, riskAversion: 8 * ww.riskAversion }) / h).toBeCloseTo(0.5, 12);
    expect(whalleyWilmottBand({ ...ww, gamma: -ww.gamma })).toBe(h);
  });

  it("falls back to the floor for a linear book", () => {
    expect(whalleyWilmottBand({ ...ww, gamma: 0 })).toBe(0);
    expect(whalleyWilmottBand({ ...ww, gamma: 0, minBand: 2 })).toBe(2);
    expect(whalleyWilmottBand({ ...ww, gamma: 1e-9, minBand: 2 })).toBe(2);
    expect(whalleyWilmottBand({ ...ww, minBand: 2 })).toBe(whalleyWilmottBand(ww));
  });

  it.each([
    [{ gamma: Number.NaN }, /gamma/],
    [{ price: 0 }, /price/],
    [{ costPerUnit: -0.001 }, /costPerUnit/],
    [{ riskAversion: 0 }, /riskAversion/],
    [{ discount: 1.5 }, /discount/],
    [{ minBand: -1 }, /minBand/],
  ])("rejects %o", (patch, msg) => {
    expect(() => whalleyWilmottBand({ ...ww, ...patch })).toThrow(msg);
  });
});

describe("effectiveBand", () => {
  const cfg = { ...DEFAULT_BAND_CONFIG, minBand: 2 };

  it("multiplier ×0.5 at −1, ×1 at 0, ×1.5 at +1, linear between", () => {
    expect(regimeMultiplier(-1, cfg)).toBe(0.5);
    expect(regimeMultiplier(0, cfg)).toBe(1);
    expect(regimeMultiplier(1, cfg)).toBe(1.5);
    expect(regimeMultiplier(-0.4, cfg)).toBeCloseTo(0.8, 15);
    expect(regimeMultiplier(0.5, cfg)).toBeCloseTo(1.25, 15);
  });

  it("stressed tightens, calm widens, inside the clamps", () => {
    const s = effectiveBand(20, { score: -0.6 }, { band: 25 }, cfg);
    expect(s).toMatchObject({ band: 14, label: "stressed", clamp: "none" });
    const c = effectiveBand(10, { score: 0.8 }, { band: 25 }, cfg);
    expect(c.band).toBeCloseTo(14, 12);
    expect(c.label).toBe("calm");
    expect(effectiveBand(10, { score: 0.1 }, { band: 25 }, cfg).label).toBe("neutral");
  });

  it("clamps to [minBand, policy band]; the policy wins over the floor", () => {
    expect(effectiveBand(30, { score: 0.5 }, { band: 25 }, cfg)).toMatchObject({
      band: 25,
      clamp: "policy",
      unclamped: 37.5,
    });
    expect(effectiveBand(1, { score: -1 }, { band: 25 }, cfg)).toMatchObject({ band: 2, clamp: "floor" });
    expect(effectiveBand(0, { score: 0 }, { band: 1 }, { ...cfg, minBand: 3 })).toMatchObject({
      band: 1,
      clamp: "policy",
    });
  });

  it("rejects nonsense configuration", () => {
    expect(() => effectiveBand(-1, { score: 0 }, { band: 25 }, cfg)).toThrow(/ww/);
    expect(() => effectiveBand(1, { score: 0 }, { band: 0 }, cfg)).toThrow(/policy band/);
    expect(() => effectiveBand(1, { score: 0 }, { band: 1 }, { ...cfg, stressedMultiplier: 1.2 })).toThrow(
      /stressed/,
    );
    expect(() => effectiveBand(1, { score: 0 }, { band: 1 }, { ...cfg, calmMultiplier: 0.9 })).toThrow(
      /calm/,
    );
  });
});

describe("decide", () => {
  const exposure = (net: number, over: Partial<Exposure> = {}): Exposure => {
    const e: Exposure = {
      underlying: "ETH",
      spot: net,
      options: 0,
      perps: 0,
      liabilities: 0,
      net,
      target: 0,
      band: 25,
      price: 3000,
      ...over,
    };
    return { ...e, net: e.spot + e.options + e.perps - e.liabilities };
  };
  const okValidation: ValidationView = { usable: { ETH: true, BTC: true }, alerts: [] };
  const ctx = (over: Partial<DecideContext> = {}): DecideContext => ({
    greeks: { gamma: 0.77, vega: -120_000 },
    regime: neutral,
    policy: { enabled: true, band: 25, minHedgeRatio: 0.5, maxHedgeRatio: 1.1 },
    validation: okValidation,
    config: { ...DEFAULT_DECIDE_CONFIG, minBand: 2 },
    ...over,
  });
  const wwOf = (c: DecideContext) =>
    whalleyWilmottBand({
      gamma: c.greeks.gamma,
      price: 3000,
      costPerUnit: c.config.costPerUnit,
      riskAversion: c.config.riskAversion,
    });

  it("holds inside the band, with the reason", () => {
    const d = decide(exposure(10), ctx());
    const ww = wwOf(ctx());
    expect(d.action).toBe("hold");
    expect(d.gap).toBe(0);
    expect(d.targetNet).toBe(10);
    expect(d.band).toBeCloseTo(ww, 12);
    expect(d.reasons[0]).toBe(
      `net 10.0 ETH vs target 0 inside band ${fmt(ww)} (WW ${fmt(ww)}, regime 0.00 neutral ×1.00)`,
    );
  });

  it("hedges to target outside the band and explains it", () => {
    const c = ctx({ regime: stressed });
    const d = decide(exposure(700), c);
    const r = regimeScore(stressed).score;
    const m = regimeMultiplier(r, DEFAULT_BAND_CONFIG);
    const band = wwOf(c) * m;
    expect(d.action).toBe("hedge");
    expect(d.targetNet).toBe(0);
    expect(d.gap).toBe(-700);
    expect(d.band).toBeCloseTo(band, 12);
    expect(d.regime).toEqual({ score: r, label: "stressed", multiplier: m });
    expect(d.reasons[0]).toBe(
      `net 700.0 ETH vs target 0 outside band ${fmt(band)} (WW ${fmt(wwOf(c))}, regime ${r.toFixed(2)} stressed ×${m.toFixed(2)})`,
    );
    expect(d.reasons.at(-1)).toBe("hedge to target: target net 0 (gap -700.0 ETH)");
  });

  it("the regime decides the same exposure: stressed hedges, calm holds", () => {
    const e = exposure(20, { spot: 520, liabilities: 500 });
    expect(decide(e, ctx({ regime: stressed })).action).toBe("hedge");
    expect(decide(e, ctx({ regime: calm })).action).toBe("hold");
  });

  it("hedges to the band edge when configured, from either side, around a non-zero target", () => {
    const c = ctx({
      config: { ...DEFAULT_DECIDE_CONFIG, minBand: 2, hedgeTo: "edge" },
      greeks: { gamma: 0, vega: 0 },
    });
    const up = decide(exposure(30, { target: 10 }), c);
    expect(up).toMatchObject({ action: "hedge", band: 2, targetNet: 12, gap: -18 });
    expect(up.reasons[0]).toContain("floored at min 2.0");
    const down = decide(exposure(-5, { target: 10 }), c);
    expect(down).toMatchObject({ action: "hedge", targetNet: 8, gap: 13 });
  });

  it("clamps the aim into the policy's hedge ratios when beyond the policy band", () => {
    // edge aim: ratio 1 − 2/30 ≈ 0.933 is fine; with minHedgeRatio 0.95 the aim moves inward.
    const base = {
      config: { ...DEFAULT_DECIDE_CONFIG, minBand: 2, hedgeTo: "edge" as const },
      greeks: { gamma: 0, vega: 0 },
    };
    const c = ctx({ ...base, policy: { enabled: true, band: 25, minHedgeRatio: 0.95, maxHedgeRatio: 1 } });
    const d = decide(exposure(30), c);
    // aim inside the bounds by the default 0.01 margin: ratio 0.96, net 30 × 0.04 = 1.2
    expect(d.targetNet).toBeCloseTo(1.2, 12);
    expect(
      d.reasons.some((r) =>
        r.includes("hedge ratio 0.933 kept inside policy [0.95, 1] with margin 0.01: using 0.960"),
      ),
    ).toBe(true);
    // to target with maxHedgeRatio 0.9: keeps 10 % of the gap plus the margin (11 %)
    const c2 = ctx({ policy: { enabled: true, band: 25, minHedgeRatio: 0.5, maxHedgeRatio: 0.9 } });
    expect(decide(exposure(300), c2).targetNet).toBeCloseTo(33, 9);
    // a hedge to target (ratio 1) stops 1 % short of the bound the vault checks after execution
    const c4 = ctx({ policy: { enabled: true, band: 25, minHedgeRatio: 0.5, maxHedgeRatio: 1 } });
    expect(decide(exposure(300), c4).targetNet).toBeCloseTo(3, 9);
    // margin 0 reproduces the exact bound
    const c5 = ctx({
      config: { ...DEFAULT_DECIDE_CONFIG, hedgeRatioMargin: 0 },
      policy: { enabled: true, band: 25, minHedgeRatio: 0.5, maxHedgeRatio: 0.9 },
    });
    expect(decide(exposure(300), c5).targetNet).toBeCloseTo(30, 9);
    // inside the policy band the vault checks no ratio: no clamp
    const c3 = ctx({ ...base, policy: { enabled: true, band: 25, minHedgeRatio: 0.99, maxHedgeRatio: 1 } });
    expect(decide(exposure(20), c3).targetNet).toBe(2);
  });

  it("stands down when validate flags the underlying, listing the alerts", () => {
    const validation: ValidationView = {
      usable: { ETH: false, BTC: true },
      alerts: [
        { underlying: "ETH", kind: "spot", reason: "stale", detail: "a age 75000 ms > 60000 ms" },
        { underlying: "BTC", kind: "spot", reason: "stale", detail: "not mine" },
      ],
    };
    const d = decide(exposure(700), ctx({ validation }));
    expect(d).toMatchObject({ action: "standDown", gap: 0, targetNet: 700, band: null, regime: null });
    expect(d.reasons).toEqual([
      "stand down: ETH inputs unusable (validate)",
      "ETH spot stale: a age 75000 ms > 60000 ms",
    ]);
  });

  it("stands down when hedging is disabled or the inputs are inconsistent", () => {
    expect(
      decide(
        exposure(700),
        ctx({ policy: { enabled: false, band: 25, minHedgeRatio: 0.5, maxHedgeRatio: 1 } }),
      ).action,
    ).toBe("standDown");
    const nan = decide(exposure(700, { price: Number.NaN }), ctx());
    expect(nan.action).toBe("standDown");
    expect(nan.reasons).toContain("exposure.price is not finite (NaN)");
    const badGamma = decide(exposure(700), ctx({ greeks: { gamma: Number.POSITIVE_INFINITY, vega: 0 } }));
    expect(badGamma.reasons).toContain("greeks.gamma is not finite (Infinity)");
    const badRegime = decide(exposure(700), ctx({ regime: { ...neutral, skew: Number.NaN } }));
    expect(badRegime.reasons).toContain("regime.skew is not finite (NaN)");
    const mismatch = decide({ ...exposure(700), net: 650 }, ctx());
    expect(mismatch.reasons.some((r) => r.startsWith("exposure.net 650 ≠"))).toBe(true);
    const band = decide(exposure(700, { band: 30 }), ctx());
    expect(band.reasons).toContain("exposure band 30 ≠ policy band 25 (stale read)");
    const cfg = decide(exposure(700), ctx({ config: { ...DEFAULT_DECIDE_CONFIG, riskAversion: 0 } }));
    expect(cfg.action).toBe("standDown");
    expect(cfg.reasons[0]).toMatch(/band not computable: riskAversion/);
  });
});
