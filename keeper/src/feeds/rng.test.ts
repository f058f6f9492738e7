import { describe, expect, it } from "vitest";
import { createRng, hashString } from "./rng.ts";

const take = (n: number, f: () => number) => Array.from({ length: n }, f);

describe("createRng", () => {
  it("is deterministic per seed and differs across seeds (numbers and strings)", () => {
    const a = createRng(42);
    const b = createRng(42);
    expect(take(100, a.nextUint32)).toEqual(take(100, b.nextUint32));
    expect(take(20, createRng(43).nextUint32)).not.toEqual(take(20, createRng(42).nextUint32));
    expect(take(20, createRng("demo").nextFloat)).toEqual(take(20, createRng("demo").nextFloat));
    expect(take(20, createRng("demo").nextFloat)).not.toEqual(take(20, createRng("demo2").nextFloat));
    expect(hashString("")).toBe(0x811c9dc5);
    expect(() => createRng(Number.NaN)).toThrow(RangeError);
  });

  it("pins the stream (any change to the generator changes every seeded simulation)", () => {
    const r = createRng(1);
    const first = take(4, r.nextUint32);
    expect(first.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
    expect(take(4, createRng(1).nextUint32)).toEqual(first);
    expect(new Set(take(1000, createRng(7).nextUint32)).size).toBe(1000);
  });

  it("uniforms are in [0, 1) with mean 1/2 and variance 1/12", () => {
    const r = createRng(123);
    const xs = take(200_000, r.nextFloat);
    expect(xs.reduce((m, x) => Math.min(m, x), 1)).toBeGreaterThanOrEqual(0);
    expect(xs.reduce((m, x) => Math.max(m, x), 0)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(v - 1 / 12)).toBeLessThan(0.002);
    // 10 equal bins, chi-square with 9 dof: 99.9 % quantile ≈ 27.9
    const bins = new Array<number>(10).fill(0);
    for (const x of xs) bins[Math.floor(x * 10)]! += 1;
    const chi = bins.reduce((s, c) => s + (c - 20_000) ** 2 / 20_000, 0);
    expect(chi).toBeLessThan(27.9);
  });

  it("normals have mean 0, variance 1, ~zero skew and kurtosis 3", () => {
    const r = createRng(99);
    const xs = take(200_000, r.nextNormal);
    const n = xs.length;
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const m2 = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    const m3 = xs.reduce((s, x) => s + (x - mean) ** 3, 0) / n;
    const m4 = xs.reduce((s, x) => s + (x - mean) ** 4, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.015);
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(0.03);
    expect(Math.abs(m4 / m2 ** 2 - 3)).toBeLessThan(0.06);
    const tail = xs.filter((x) => Math.abs(x) > 1.96).length / n;
    expect(Math.abs(tail - 0.05)).toBeLessThan(0.003);
  });

  it("Poisson counts have mean and variance equal to the mean; bad means throw", () => {
    for (const lambda of [0.01, 0.5, 4]) {
      const r = createRng(`p${lambda}`);
      const xs = take(100_000, () => r.nextPoisson(lambda));
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
      expect(Math.abs(mean - lambda) / lambda).toBeLessThan(0.04);
      expect(Math.abs(v - lambda) / lambda).toBeLessThan(0.06);
    }
    const r = createRng(1);
    expect(r.nextPoisson(0)).toBe(0);
    expect(() => r.nextPoisson(-1)).toThrow(RangeError);
    expect(() => r.nextPoisson(Number.NaN)).toThrow(RangeError);
  });

  it("forks are deterministic, label-dependent and do not advance the parent", () => {
    const a = createRng(5);
    const b = createRng(5);
    const fa = a.fork("path");
    expect(take(10, a.nextUint32)).toEqual(take(10, b.nextUint32));
    expect(take(10, fa.nextUint32)).toEqual(take(10, createRng(5).fork("path").nextUint32));
    expect(take(10, createRng(5).fork("path").nextUint32)).not.toEqual(
      take(10, createRng(5).fork("emit").nextUint32),
    );
  });
});
