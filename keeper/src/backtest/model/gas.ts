/**
 * Gas per rebalance bundle, from the measured figures of `npm run -s bench -- gas --json`
 * (scripts/bench/vault.ts, the full system on the embedded chain): a perp-only bundle
 * (rebalancePerpOnlyGas ≈ 203k), option + perp (rebalanceOptionPlusPerpGas ≈ 459k) and option + perp
 * + spot (rebalanceThreeLegGas ≈ 470k). A spot sale without an option leg is charged the perp-only
 * figure plus the three-leg bundle's spot increment; each further leg beyond the measured bundles
 * adds the option-leg increment (a conservative upper bound).
 */
import { LegKind, type Leg } from "../../plan/types.ts";

export type GasModel = {
  perpOnly: number;
  optionPlusPerp: number;
  threeLeg: number;
  /** Gas price, gwei. */
  gasPriceGwei: number;
};

export const DEFAULT_GAS_MODEL: GasModel = {
  perpOnly: 203_000,
  optionPlusPerp: 459_000,
  threeLeg: 470_000,
  gasPriceGwei: 10,
};

/** Gas units of one bundle. */
export function bundleGas(g: GasModel, legs: readonly Leg[]): number {
  if (legs.length === 0) return 0;
  const options = legs.filter((l) => l.kind === LegKind.Option).length;
  const spot = legs.some((l) => l.kind === LegKind.Spot);
  const spotInc = g.threeLeg - g.optionPlusPerp;
  const optionInc = g.optionPlusPerp - g.perpOnly;
  const trading = legs.filter(
    (l) => l.kind === LegKind.Option || l.kind === LegKind.Perp || l.kind === LegKind.Spot,
  ).length;
  let gas = options > 0 ? g.optionPlusPerp : g.perpOnly;
  if (spot) gas += spotInc;
  const measured = (options > 0 ? 2 : 1) + (spot ? 1 : 0);
  if (trading > measured) gas += (trading - measured) * optionInc;
  return gas;
}

/** USD cost of `gas` units at the model's gas price and an ETH price in USD. */
export function gasUsd(g: GasModel, gas: number, ethUsd: number): number {
  return gas * g.gasPriceGwei * 1e-9 * ethUsd;
}
