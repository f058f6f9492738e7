/** Keeper `plan` stage: the legs of one atomic rebalance, sized and bounded from caller-supplied quotes. */
export * from "./types.ts";
export * from "./plan.ts";
export { toUnits, fromUnits, WAD_DECIMALS, type Rounding } from "./units.ts";
export {
  allocate,
  makeLadder,
  ladderAt,
  usableDepth,
  type Ladder,
  type Source,
  type Allocation,
} from "./ladder.ts";
