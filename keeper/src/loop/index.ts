/** Keeper loop: start-up, one pipeline tick, the run loop. */
export * from "./keeper.ts";
export * from "./quotes.ts";
export * from "./perpModel.ts";
export * from "./spotQuotes.ts";
