/**
 * Gas and accuracy benchmark of contracts/libraries/BlackScholes.sol.
 *
 * - bsAllGreeksCallGas: MAX over the reference grid (bsDomainGrid: 5670 points, calls and puts, spot
 *   levels 1 / 3000 / 60000) of the gasleft() difference around `BlackScholes.greeks` (price, delta,
 *   gamma, vega and theta in one call), measured by BlackScholesHarness.measureGreeks, one call each.
 * - bsPriceDeltaGammaVegaCallGas: the same figure (greeks() is the cheapest way to get price, delta,
 *   gamma and vega together; there is no separate entry point without theta).
 * - bsMaxRelError: max over the same grid and all five outputs of the test metric
 *   err = max(0, |x - ref| - 1 wei) / max(|ref|, 1e-8 * natural scale) (see bsReference.ts).
 */
import type { network } from "hardhat";
import {
  GREEK_NAMES,
  bsDomainGrid,
  bsGreeksWadPair,
  greeksErrors,
  type BsInputWad,
  type GreeksWad,
} from "../../test/ts/helpers/bsReference.ts";

type Viem = Awaited<ReturnType<typeof network.connect>>["viem"];

export interface BlackScholesBench {
  bsAllGreeksCallGas: number;
  bsPriceDeltaGammaVegaCallGas?: number;
  bsMaxRelError: number;
  /** Median gas over the grid (context for the max). */
  bsAllGreeksMedianGas: number;
  /** Where the max error occurred. */
  bsMaxRelErrorAt: string;
}

export async function benchBlackScholes(viem: Viem): Promise<BlackScholesBench> {
  const harness = await viem.deployContract("BlackScholesHarness");
  const inputs = bsDomainGrid();
  const results: GreeksWad[] = [];
  const gas: number[] = [];
  // One eth_call per point: measureGreeks runs each library call in a fresh frame, so the figure is
  // exactly what an integrating contract pays for BlackScholes.greeks (incl. the result struct).
  for (const x of inputs) {
    const [g, used] = await harness.read.measureGreeks([x.spot, x.strike, x.tau, x.vol, x.rate, x.isCall]);
    results.push(g);
    gas.push(Number(used));
  }
  let maxErr = 0;
  let at = "";
  const consider = (input: BsInputWad, got: GreeksWad, errs: ReturnType<typeof greeksErrors>): void => {
    for (const name of GREEK_NAMES) {
      const e = errs[name].toNumber();
      if (e > maxErr) {
        maxErr = e;
        at = `${name} at spot=${input.spot} strike=${input.strike} tau=${input.tau} vol=${input.vol} rate=${input.rate} ${input.isCall ? "call" : "put"} (got ${got[name]})`;
      }
    }
  };
  // The grid lists each market point as a (call, put) pair: one reference evaluation per pair.
  for (let i = 0; i + 1 < inputs.length; i += 2) {
    const call = inputs[i]!;
    const put = inputs[i + 1]!;
    if (!call.isCall || put.isCall) throw new Error("grid is not in (call, put) pairs");
    const ref = bsGreeksWadPair(call);
    consider(call, results[i]!, greeksErrors(call, results[i]!, ref.call));
    consider(put, results[i + 1]!, greeksErrors(put, results[i + 1]!, ref.put));
  }
  const sorted = [...gas].sort((a, b) => a - b);
  const maxGas = sorted[sorted.length - 1]!;
  return {
    bsAllGreeksCallGas: maxGas,
    bsPriceDeltaGammaVegaCallGas: maxGas,
    bsMaxRelError: maxErr,
    bsAllGreeksMedianGas: sorted[Math.floor(sorted.length / 2)]!,
    bsMaxRelErrorAt: at,
  };
}
