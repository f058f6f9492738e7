import { describe, expect, it } from "vitest";
import { Dec, normCdfPair, normPdf as refPdf } from "../../../test/ts/helpers/bsReference.ts";
import { erf, erfc, erfcx, inverseNormCdf, normCdf, normPdf } from "./normal.ts";
import { exactDec, relErr } from "./testUtil.ts";

describe("normal distribution vs the decimal.js reference", () => {
  it("normCdf is ~1e-16 relative in both tails, down to z = -37", () => {
    let worst = 0;
    for (let z = -37; z <= 8; z += 0.173) {
      const ref = normCdfPair(exactDec(z))[0];
      worst = Math.max(worst, relErr(normCdf(z), ref, 0));
    }
    expect(worst).toBeLessThan(2e-15);
  });

  it("normPdf, erfc and erfcx agree with the reference", () => {
    let worst = 0;
    for (let x = -5; x <= 25; x += 0.37) {
      const z = exactDec(x);
      // erfc(x) = 2·Φ(-x·√2), erfcx(x) = e^{x²}·erfc(x)
      const erfcRef = normCdfPair(z.mul(Dec.sqrt(2)).neg())[0].mul(2);
      worst = Math.max(worst, relErr(erfc(x), erfcRef, 0));
      if (x > -5) worst = Math.max(worst, relErr(erfcx(x), erfcRef.mul(Dec.exp(z.mul(z))), 0));
      worst = Math.max(worst, relErr(normPdf(x), refPdf(z), 0));
    }
    expect(worst).toBeLessThan(4e-15);
    expect(erf(0.3) + erfc(0.3)).toBeCloseTo(1, 15);
    expect(erf(-2)).toBe(-erf(2));
    expect(erfcx(1e9)).toBeCloseTo(1 / (1e9 * Math.sqrt(Math.PI)), 25);
    expect(erfcx(-30)).toBe(Infinity);
    expect(erfc(30)).toBe(0);
  });

  it("inverseNormCdf inverts normCdf to a few ulps, including both tails", () => {
    for (const z of [-37, -20, -8, -3, -1, -1e-3, 0, 1e-5, 0.5, 2]) {
      // (for z > 2, u = Φ(z) has itself lost the digits of 1 - u: see the upper-tail check below)
      const u = normCdf(z);
      const back = inverseNormCdf(u);
      expect(Math.abs(back - z), `z=${z}`).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(z)));
    }
    for (const z of [3, 6, 8]) {
      // upper tail through 1 - Φ(-z) loses digits in u itself; the inverse must still be consistent with u
      const u = 1 - normCdf(-z);
      expect(normCdf(-inverseNormCdf(u))).toBeCloseTo(1 - u, 15);
    }
    expect(inverseNormCdf(0)).toBe(-Infinity);
    expect(inverseNormCdf(1)).toBe(Infinity);
    expect(inverseNormCdf(1.5)).toBeNaN();
    expect(inverseNormCdf(-0.1)).toBeNaN();
  });
});
