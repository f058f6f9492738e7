import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DEFAULT_DECIDE_CONFIG,
  decide,
  decideByPolicy,
  policyContext,
  type DecideContext,
  type Exposure,
  type KeeperPolicy,
} from "./index.ts";

const HOUR = 3_600_000;
const exposure = (net: number): Exposure => ({
  underlying: "ETH",
  spot: net,
  options: 0,
  perps: 0,
  liabilities: 0,
  net,
  target: 0,
  band: 25,
  price: 3_000,
});
const stressed = { etfFlowMomentum: -3, ivLevel: 1.0, ivChange: 0.1, skew: 0.08, fundingRate: 3e-4 };
const ctx = (over: Partial<DecideContext> = {}): DecideContext => ({
  greeks: { gamma: 2, vega: 0 },
  regime: stressed,
  policy: { enabled: true, band: 25, minHedgeRatio: 0.5, maxHedgeRatio: 1 },
  validation: { usable: { ETH: true, BTC: true }, alerts: [] },
  config: { ...DEFAULT_DECIDE_CONFIG, minBand: 2 },
  ...over,
});
const at = (nowMs: number, clock = Number.NEGATIVE_INFINITY) => ({ nowMs, clock, minTradeUnits: 1e-3 });

describe("decideByPolicy", () => {
  it("regime-band is decide() itself; ww-band ignores the regime; fixed-band ignores gamma and regime", () => {
    const c = ctx();
    const e = exposure(14);
    const regime = decideByPolicy({ kind: "regime-band" }, e, c, at(0)).decision;
    expect(regime).toEqual(decide(e, c));
    const ww = decideByPolicy({ kind: "ww-band" }, e, c, at(0)).decision;
    expect(ww.regime?.score).toBe(0);
    expect(ww.band).not.toBe(regime.band);
    const fixed = decideByPolicy({ kind: "fixed-band", band: 10 }, e, c, at(0)).decision;
    expect(fixed.band).toBe(10);
    expect(fixed.wwBand).toBe(0);
    expect(fixed.action).toBe("hedge");
    expect(decideByPolicy({ kind: "fixed-band", band: 20 }, e, c, at(0)).decision.action).toBe("hold");
    expect(policyContext({ kind: "fixed-band" }, c).config.minBand).toBe(2);
  });

  it("time: hedges to target once per clock bucket, whatever the band, and holds in between", () => {
    const p: KeeperPolicy = { kind: "time", intervalHours: 24 };
    const day = 24 * HOUR;
    const first = decideByPolicy(p, exposure(0.5), ctx(), at(3 * day + HOUR));
    expect(first.fired).toBe(true);
    expect(first.decision.action).toBe("hedge");
    expect(first.decision.gap).toBeCloseTo(-0.5, 12);
    expect(first.decision.band).toBeNull();
    expect(first.decision.reasons[0]).toMatch(/clock: every 24 h/);
    const later = decideByPolicy(p, exposure(0.5), ctx(), at(3 * day + 23 * HOUR, first.clock));
    expect(later.fired).toBe(false);
    expect(later.decision.action).toBe("hold");
    expect(later.decision.gap).toBe(0);
    expect(later.clock).toBe(first.clock);
    const next = decideByPolicy(p, exposure(0.5), ctx(), at(4 * day, first.clock));
    expect(next.fired).toBe(true);
    expect(next.clock).toBe(first.clock + 1);
  });

  it("time: a gap beyond the governed band keeps the hedge-ratio margin (the vault re-checks the ratio)", () => {
    const d = decideByPolicy({ kind: "time", intervalHours: 1 }, exposure(800), ctx(), at(0)).decision;
    expect(d.action).toBe("hedge");
    expect(d.gap).toBeCloseTo(-800 * 0.99, 9);
  });

  it("every policy stands down on unusable inputs and on a disabled policy, and never fires the clock", () => {
    const bad = ctx({
      validation: {
        usable: { ETH: false, BTC: true },
        alerts: [{ underlying: "ETH", kind: "spot", reason: "stale", detail: "old" }],
      },
    });
    const off = ctx({ policy: { enabled: false, band: 25, minHedgeRatio: 0.5, maxHedgeRatio: 1 } });
    const all: KeeperPolicy[] = [
      { kind: "regime-band" },
      { kind: "ww-band" },
      { kind: "fixed-band", band: 5 },
      { kind: "time", intervalHours: 1 },
    ];
    for (const p of all) {
      expect(decideByPolicy(p, exposure(100), bad, at(0)).decision.action).toBe("standDown");
      expect(decideByPolicy(p, exposure(100), off, at(0)).decision.action).toBe("standDown");
    }
  });

  it("hedges below the minimum trade become holds, with the reason", () => {
    const d = decideByPolicy({ kind: "time", intervalHours: 1 }, exposure(1e-4), ctx(), at(0)).decision;
    expect(d.action).toBe("hold");
    expect(d.gap).toBe(0);
    expect(d.reasons.at(-1)).toMatch(/below the minimum trade/);
  });

  it("a non-positive interval is refused", () => {
    expect(() => decideByPolicy({ kind: "time", intervalHours: 0 }, exposure(1), ctx(), at(0))).toThrow(
      /intervalHours must be > 0/,
    );
  });

  it("property: a band policy's hedge always lands inside its band or the governed ratio bounds", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5_000, max: 5_000, noNaN: true }),
        fc.constantFrom<KeeperPolicy>(
          { kind: "regime-band" },
          { kind: "ww-band" },
          { kind: "fixed-band", band: 7 },
        ),
        (net, p) => {
          const d = decideByPolicy(p, exposure(net), ctx(), at(0)).decision;
          if (d.action !== "hedge") return Math.abs(net) <= (d.band ?? 0) + 1e-9;
          const after = Math.abs(d.targetNet);
          const ratio = 1 - d.targetNet / net;
          return after <= (d.band ?? 0) + 1e-9 || (ratio >= 0.5 && ratio <= 1);
        },
      ),
    );
  });
});
