/** Keeper `journal` stage: durable intents (node:sqlite, WAL) and restart reconciliation with the chain. */
export * from "./journal.ts";
export * from "./reconcile.ts";
