export * from "./policy.ts";
export * from "./validate.ts";
