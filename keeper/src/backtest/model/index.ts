/** Fast TypeScript models of the reference venues and of gas, for the model backtest engine. */
export * from "./perp.ts";
export * from "./spot.ts";
export * from "./options.ts";
export * from "./gas.ts";
