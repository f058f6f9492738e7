/** Keeper `decide` stage: regime inputs from the feeds, regime score, Whalley–Wilmott band, effective band and the hold/hedge decision. */
export * from "./types.ts";
export * from "./regime.ts";
export * from "./band.ts";
export * from "./decide.ts";
export * from "./policy.ts";
export * from "./regimeInputs.ts";
