/**
 * Small seedable PRNG for the simulated market: xoshiro128** (32-bit state words, `Math.imul`
 * arithmetic only, no bigint), seeded through splitmix32 so that any 32-bit seed or string gives a
 * well-mixed state. Identical seeds give identical streams on every platform and Node version,
 * because only 32-bit integer operations are involved (no Math.random, no transcendental
 * functions in the integer core).
 *
 * Normal deviates use the Marsaglia polar method (exactly two uniforms consumed per accepted pair;
 * the spare is cached), Poisson counts use Knuth's multiplication method (fine for the small means
 * of per-step jump counts).
 */

export type Rng = {
  /** Next raw 32-bit output as an unsigned integer in [0, 2^32). */
  readonly nextUint32: () => number;
  /** Uniform double in [0, 1) with 53 random bits. */
  readonly nextFloat: () => number;
  /** Standard normal deviate N(0, 1). */
  readonly nextNormal: () => number;
  /** Poisson(mean) count; mean must be finite and >= 0 (intended for small means, < ~30). */
  readonly nextPoisson: (mean: number) => number;
  /** An independent generator derived from this one's seed and a label (does not advance this one). */
  readonly fork: (label: string) => Rng;
};

/** 32-bit FNV-1a hash of a string (used to turn string seeds and fork labels into numbers). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Creates a deterministic generator. `seed` may be any finite number (its integer part modulo 2^32
 * is used, after mixing in the high part) or a string (hashed).
 */
export function createRng(seed: number | string): Rng {
  const seed32 =
    typeof seed === "string"
      ? hashString(seed)
      : Number.isFinite(seed)
        ? (Math.trunc(seed) ^ Math.trunc(seed / 4294967296)) >>> 0
        : (() => {
            throw new RangeError(`rng seed must be finite, got ${seed}`);
          })();
  const init = splitmix32(seed32);
  let s0 = init();
  let s1 = init();
  let s2 = init();
  let s3 = init();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  };

  const nextFloat = (): number => {
    const hi = nextUint32() >>> 5; // 27 bits
    const lo = nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  };

  let spare: number | undefined;
  const nextNormal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    for (;;) {
      const u = 2 * nextFloat() - 1;
      const v = 2 * nextFloat() - 1;
      const q = u * u + v * v;
      if (q > 0 && q < 1) {
        const f = Math.sqrt((-2 * Math.log(q)) / q);
        spare = v * f;
        return u * f;
      }
    }
  };

  const nextPoisson = (mean: number): number => {
    if (!Number.isFinite(mean) || mean < 0)
      throw new RangeError(`poisson mean must be finite and >= 0, got ${mean}`);
    if (mean === 0) return 0;
    const limit = Math.exp(-mean);
    let k = 0;
    let p = nextFloat();
    while (p > limit) {
      k++;
      p *= nextFloat();
    }
    return k;
  };

  const fork = (label: string): Rng => createRng((seed32 ^ hashString(label)) >>> 0 || 0x6d2b79f5);

  return { nextUint32, nextFloat, nextNormal, nextPoisson, fork };
}
