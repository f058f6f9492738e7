import { describe, expect, it } from "vitest";
import { Dec, normCdf as normCdfDec } from "../../../test/ts/helpers/bsReference.ts";
import { normalisedBlack, normalisedVega } from "./blackScholes.ts";
import { lowerBoundaryOverBMax, normalisedImpliedVolRaw, upperBoundaryOverBMax } from "./impliedVol.ts";
import {
  AS241_LN_LOWER_TAIL,
  erfcx,
  inverseNormCdfAs241,
  inverseNormCdfAs241LowerTailFromLog,
} from "./normal.ts";
import { exactDec, mulberry32, relErr } from "./testUtil.ts";

const EPS = 2.220446049250313e-16;
const SQRT_PI_OVER_2 = 1.2533141373155003;

/**
 * 60-digit b(x, s_l)/b_max and b(x, s_u)/b_max at x = -s_c²/2 for the exact double s_c, with
 * s_l = s_c - b(s_c)/∂b/∂s(s_c) and s_u = s_c + (b_max - b(s_c))/∂b/∂s(s_c) in exact arithmetic:
 * b(s_c) = b_max·(½ - e^{-x}·Φ(-s_c)), ∂b/∂s(s_c) = b_max/√(2π).
 */
function boundaryReference(sc: number): { lower: Dec; upper: Dec } {
  const s = exactDec(sc);
  const x = s.mul(s).div(-2);
  const sqrt2pi = Dec.sqrt(Dec.acos(-1).mul(2));
  const bcOverBMax = new Dec(0.5).sub(Dec.exp(x.neg()).mul(normCdfDec(s.neg())));
  const sl = s.sub(bcOverBMax.mul(sqrt2pi));
  const su = s.add(new Dec(1).sub(bcOverBMax).mul(sqrt2pi));
  const bOverBMax = (sv: Dec): Dec => {
    const h = x.div(sv);
    const t = sv.div(2);
    return normCdfDec(h.add(t)).sub(Dec.exp(x.neg()).mul(normCdfDec(h.sub(t))));
  };
  return { lower: bOverBMax(sl), upper: bOverBMax(su) };
}

describe("implied vol: segment boundaries from s_c (rational fits)", () => {
  it("b_l/b_max and b_u/b_max agree with a 60-digit reference for s_c in [0.25, 300]", () => {
    let worstLower = 0;
    let worstUpper = 0;
    let worstLowerFar = 0;
    let worstUpperFar = 0;
    for (let i = 0; i <= 60; i++) {
      const sc = Math.exp(Math.log(0.25) + ((Math.log(300) - Math.log(0.25)) * i) / 60);
      const ref = boundaryReference(sc);
      const el = relErr(lowerBoundaryOverBMax(sc), ref.lower, 0);
      const eu = relErr(upperBoundaryOverBMax(sc), ref.upper, 0);
      if (sc <= 40) {
        worstLower = Math.max(worstLower, el);
        worstUpper = Math.max(worstUpper, eu);
      } else {
        worstLowerFar = Math.max(worstLowerFar, el);
        worstUpperFar = Math.max(worstUpperFar, eu);
      }
    }
    expect(worstLower).toBeLessThanOrEqual(3e-14);
    expect(worstUpper).toBeLessThanOrEqual(4e-15);
    expect(worstLowerFar).toBeLessThanOrEqual(2e-13);
    expect(worstUpperFar).toBeLessThanOrEqual(4e-14);
    // Not vacuous: the fits are not exact either.
    expect(worstLower).toBeGreaterThan(0);
  });

  it("round trip at and around s_l, s_c and s_u (either side of the fitted boundary), calls and puts", () => {
    const rnd = mulberry32(7);
    let checked = 0;
    let worst = 0;
    for (let i = 0; i < 400; i++) {
      // s_c from just below the fit threshold (0.25) to deep out of the money
      const sc = Math.exp(Math.log(0.2) + (Math.log(40) - Math.log(0.2)) * rnd());
      const x = -0.5 * sc * sc;
      const ome = 1 - erfcx(sc * Math.SQRT1_2);
      const nodes = [sc - SQRT_PI_OVER_2 * ome, sc, sc + SQRT_PI_OVER_2 * (2 - ome)];
      const node = nodes[i % 3]!;
      const rel = (rnd() < 0.5 ? -1 : 1) * Math.pow(10, -3 - 13 * rnd());
      const s = node * (1 + rel);
      for (const [xx, isCall] of [
        [x, true],
        [-x, false],
      ] as const) {
        const b = normalisedBlack(xx, s, isCall);
        const bMax = Math.exp(0.5 * (isCall ? xx : -xx));
        if (!(b >= 2.2250738585072014e-308 && b < bMax)) continue;
        const A = (1 + b / (s * normalisedVega(xx, s))) * EPS;
        if (A > 1e-14) continue;
        const err = Math.abs(normalisedImpliedVolRaw(b, xx, isCall) / s - 1);
        expect(err, `x=${xx} s=${s} call=${isCall}`).toBeLessThanOrEqual(1e-13);
        worst = Math.max(worst, err);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(worst).toBeLessThanOrEqual(1e-13);
  });
});

describe("AS241 lower tail from ln u", () => {
  it("matches AS241 on u for u < 0.075, and the switch point is ln 0.075", () => {
    expect(AS241_LN_LOWER_TAIL).toBeCloseTo(Math.log(0.075), 15);
    let worst = 0;
    for (let k = 0; k <= 200; k++) {
      const lnU = Math.log(0.0749) - (700 * k) / 200;
      const u = Math.exp(lnU);
      if (!(u > 0)) continue;
      const z = inverseNormCdfAs241(u);
      worst = Math.max(worst, Math.abs(inverseNormCdfAs241LowerTailFromLog(lnU) / z - 1));
    }
    expect(worst).toBeLessThanOrEqual(4 * EPS);
  });
});
