/**
 * Accuracy of contracts/libraries/BlackScholes.sol against the 60-digit reference
 * (test/ts/helpers/bsReference.ts), plus its revert paths.
 *
 * Error metric (defined in bsReference.ts, shared with scripts/bench/blackScholes.ts):
 *   err = max(0, |x - ref| - 1 wei) / max(|ref|, floor)
 * where x is the contract's integer output, ref the exact real value (WAD-scaled, unrounded) and
 * floor = 1e-8 of the greek's natural scale (price: spot; delta: 1; gamma: 1/(spot vol sqrt(tau));
 * vega: spot sqrt(tau); theta: spot vol / (2 sqrt(tau)) + rate strike). Above the floor err is the
 * relative error; below it, err <= MAX_ERR bounds the absolute error by MAX_ERR * floor.
 * Every output of every point must satisfy err <= MAX_ERR = 1e-11 (the accuracy goal).
 */
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { network } from "hardhat";
import {
  Dec,
  GREEK_NAMES,
  bsDomainGrid,
  bsGreeksWad,
  bsGreeksWadPair,
  errorFloors,
  greeksErrors,
  toWad,
  type BsInputWad,
  type GreekName,
  type GreeksWad,
} from "../helpers/bsReference.ts";

const MAX_ERR = new Dec("1e-11");
const WAD = 10n ** 18n;
const FUZZ_RUNS = process.env.DEEP === "1" ? 20_000 : 2_000;
const FUZZ_SEED = Number(process.env.FC_SEED ?? 20240611);
const CHUNK = 300;

const { viem } = await network.connect();
type Harness = Awaited<ReturnType<typeof viem.deployContract<"BlackScholesHarness">>>;
let harness: Harness;

beforeAll(async () => {
  harness = await viem.deployContract("BlackScholesHarness");
});

async function evaluate(inputs: BsInputWad[]): Promise<GreeksWad[]> {
  const out: GreeksWad[] = [];
  for (let i = 0; i < inputs.length; i += CHUNK) {
    const [res] = await harness.read.batchGreeks([inputs.slice(i, i + CHUNK)]);
    out.push(...res);
  }
  return out;
}

interface Worst {
  err: Dec;
  input?: BsInputWad;
  got?: bigint;
}

function describeInput(x: BsInputWad): string {
  return `spot=${x.spot} strike=${x.strike} tau=${x.tau} vol=${x.vol} rate=${x.rate} ${x.isCall ? "call" : "put"}`;
}

/** Checks every point, returns the worst error per greek; fails with the first offending point. */
function checkAll(inputs: BsInputWad[], results: GreeksWad[], pairs: boolean): Record<GreekName, Worst> {
  const worst = Object.fromEntries(GREEK_NAMES.map((n) => [n, { err: new Dec(0) }])) as Record<
    GreekName,
    Worst
  >;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const got = results[i]!;
    let ref;
    // Grid points come in (call, put) pairs with identical market inputs: share the reference.
    if (pairs && input.isCall && inputs[i + 1] !== undefined && !inputs[i + 1]!.isCall) {
      const pair = bsGreeksWadPair(input);
      ref = pair.call;
      const put = inputs[i + 1]!;
      record(put, results[i + 1]!, greeksErrors(put, results[i + 1]!, pair.put), worst);
      i++;
    } else {
      ref = bsGreeksWad(input);
    }
    record(input, got, greeksErrors(input, got, ref), worst);
  }
  return worst;
}

function record(
  input: BsInputWad,
  got: GreeksWad,
  errs: Record<GreekName, Dec>,
  worst: Record<GreekName, Worst>,
): void {
  for (const name of GREEK_NAMES) {
    const e = errs[name];
    if (e.gt(MAX_ERR)) {
      const ref = bsGreeksWad(input)[name];
      expect.fail(
        `${name} error ${e.toExponential(3)} > ${MAX_ERR.toExponential()} at ${describeInput(input)}: got ${got[name]}, ref ${ref.toFixed(3)}, floor ${errorFloors(input)[name].toFixed(0)}`,
      );
    }
    if (e.gt(worst[name].err)) worst[name] = { err: e, input, got: got[name] };
  }
}

function summarize(worst: Record<GreekName, Worst>): string {
  return GREEK_NAMES.map((n) => `${n}: ${worst[n].err.toExponential(2)}`).join(", ");
}

describe("BlackScholes accuracy", () => {
  it("grid over the full domain (spot levels 1, 3000, 60000) is within 1e-11", async () => {
    const inputs = bsDomainGrid();
    expect(inputs.length).toBe(5670);
    const results = await evaluate(inputs);
    const worst = checkAll(inputs, results, true);
    console.log(`grid worst errors: ${summarize(worst)}`);
    // Sanity: the metric is live (errors are measured, not all exactly zero).
    expect(GREEK_NAMES.some((n) => worst[n].err.gt(0))).toBe(true);
  });

  it(`fast-check random points (${FUZZ_RUNS}, seed ${FUZZ_SEED}) are within 1e-11`, async () => {
    const logUniform = (lo: number, hi: number) =>
      fc.double({ min: Math.log(lo), max: Math.log(hi), noNaN: true }).map((x) => Math.exp(x));
    const arb = fc.record({
      spot: logUniform(0.01, 1e6),
      moneyness: logUniform(0.25, 4),
      tau: logUniform(1 / 8760, 2),
      vol: logUniform(0.05, 5),
      rate: fc.double({ min: 0, max: 0.2, noNaN: true }),
      isCall: fc.boolean(),
    });
    const samples = fc.sample(arb, { seed: FUZZ_SEED, numRuns: FUZZ_RUNS });
    const inputs: BsInputWad[] = samples.map((s) => ({
      spot: toWad(s.spot.toPrecision(15)),
      strike: toWad((s.spot / s.moneyness).toPrecision(15)),
      tau: toWad(s.tau.toPrecision(15)),
      vol: toWad(s.vol.toPrecision(15)),
      rate: toWad(s.rate.toPrecision(15)),
      isCall: s.isCall,
    }));
    const results = await evaluate(inputs);
    const worst = checkAll(inputs, results, false);
    console.log(`fuzz worst errors: ${summarize(worst)}`);
  });

  it("price() and delta() agree exactly with greeks()", async () => {
    const inputs = bsDomainGrid().filter((_, i) => i % 7 === 0);
    const [prices, deltas] = await harness.read.batchPriceDelta([inputs]);
    const results = await evaluate(inputs);
    for (let i = 0; i < inputs.length; i++) {
      expect(prices[i]).toBe(results[i]!.price);
      expect(deltas[i]).toBe(results[i]!.delta);
    }
  });

  it("saturates cleanly deep in and out of the money", async () => {
    const spot = 3000n * WAD;
    const tau = WAD / 8760n;
    const vol = WAD / 20n;
    const rate = WAD / 10n;
    // Deep ITM call / OTM put (strike spot/4) and deep OTM call / ITM put (strike 4 spot), 1 hour.
    for (const strike of [spot / 4n, spot * 4n]) {
      const call = await harness.read.greeks([spot, strike, tau, vol, rate, true]);
      const put = await harness.read.greeks([spot, strike, tau, vol, rate, false]);
      const itmCall = strike < spot;
      expect(call.delta).toBe(itmCall ? WAD : 0n);
      expect(put.delta).toBe(itmCall ? 0n : -WAD);
      expect(call.gamma).toBe(0n);
      expect(call.vega).toBe(0n);
      const ref = bsGreeksWad({ spot, strike, tau, vol, rate, isCall: itmCall });
      const got = itmCall ? call : put;
      // The in-the-money option is worth its discounted intrinsic value, to the wei.
      expect(new Dec(got.price.toString()).sub(ref.price).abs().lte(1)).toBe(true);
      expect((itmCall ? put : call).price).toBe(0n);
    }
  });
});

describe("BlackScholes revert paths", () => {
  const ok = {
    spot: 3000n * WAD,
    strike: 3000n * WAD,
    tau: WAD / 12n,
    vol: (8n * WAD) / 10n,
    rate: WAD / 20n,
  };
  const cases: [string, Partial<typeof ok>][] = [
    ["SpotOutOfRange", { spot: 0n }],
    ["SpotOutOfRange", { spot: 10n ** 36n + 1n }],
    ["StrikeOutOfRange", { strike: 0n }],
    ["StrikeOutOfRange", { strike: 10n ** 36n + 1n }],
    ["TimeOutOfRange", { tau: 0n }],
    ["TimeOutOfRange", { tau: 10n * WAD + 1n }],
    ["VolatilityOutOfRange", { vol: 0n }],
    ["VolatilityOutOfRange", { vol: 10n * WAD + 1n }],
    ["RateOutOfRange", { rate: WAD + 1n }],
  ];
  for (const [error, patch] of cases) {
    it(`${error} for ${JSON.stringify(patch, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`, async () => {
      const x = { ...ok, ...patch };
      const args = [x.spot, x.strike, x.tau, x.vol, x.rate, true] as const;
      await expect(harness.read.greeks([...args])).rejects.toThrow(error);
      await expect(harness.read.price([...args])).rejects.toThrow(error);
      await expect(harness.read.delta([...args])).rejects.toThrow(error);
    });
  }

  it("accepts the documented maxima", async () => {
    const g = await harness.read.greeks([10n ** 36n, 10n ** 36n, 10n * WAD, 10n * WAD, WAD, true]);
    const ref = bsGreeksWad({
      spot: 10n ** 36n,
      strike: 10n ** 36n,
      tau: 10n * WAD,
      vol: 10n * WAD,
      rate: WAD,
      isCall: true,
    });
    const errs = greeksErrors(
      { spot: 10n ** 36n, strike: 10n ** 36n, tau: 10n * WAD, vol: 10n * WAD, rate: WAD, isCall: true },
      g,
      ref,
    );
    for (const n of GREEK_NAMES) expect(errs[n].lte(MAX_ERR), `${n} ${errs[n].toExponential()}`).toBe(true);
  });
});
