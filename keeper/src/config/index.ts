/**
 * The keeper's configuration file (JSON), validated with zod; every error names the bad field's
 * path ("config.contracts.vault: expected a 20-byte hex address"). The signing key NEVER comes from
 * the config: a field that looks like a key or secret is refused with a pointer to
 * DELTAVAULT_KEEPER_KEY.
 */
import { readFileSync } from "node:fs";
import { getAddress, parseGwei, type Address } from "viem";
import { z } from "zod";
import { UnderlyingSchema } from "../feeds/types.ts";
import { ValidationPolicySchema } from "../validate/index.ts";

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/u, "expected a 20-byte hex address (0x + 40 hex digits)")
  .transform((a) => getAddress(a) as Address);
const ms = (def: number, min = 0) => z.number().int().min(min).default(def);
const gwei = (def: number) =>
  z
    .number()
    .nonnegative()
    .default(def)
    .transform((g) => parseGwei(g.toString()));

export const KeeperConfigSchema = z.strictObject({
  /** JSON-RPC endpoint (http/https). */
  rpcUrl: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
  /** The chain the keeper must be on; a different chain refuses to start. */
  chainId: z.number().int().positive(),
  /** How the tick's state is read: one deployless multicall eth_call, or a JSON-RPC batch of eth_calls. */
  readMode: z.enum(["multicall", "batch"]).default("multicall"),
  contracts: z
    .strictObject({
      vault: address,
      perpAdapter: address,
      optionsAdapter: address.optional(),
      /** Uniswap V3 spot adapter and the QuoterV2 its sell ladders are read from (both or neither: no spot legs). */
      spotAdapter: address.optional(),
      spotQuoter: address.optional(),
    })
    .refine((c) => (c.spotAdapter === undefined) === (c.spotQuoter === undefined), {
      message: "spotAdapter and spotQuoter go together (set both for spot legs, or neither)",
    }),
  underlyings: z
    .array(z.strictObject({ symbol: UnderlyingSchema, token: address }))
    .min(1)
    .refine((us) => new Set(us.map((u) => u.symbol)).size === us.length, "each symbol at most once"),
  /** SQLite journal file. */
  journal: z.string().min(1).default("keeper-journal.sqlite"),
  tickIntervalMs: ms(5_000, 10),
  feeds: z
    .strictObject({
      /** Extra JSON-over-HTTP market-data sources (payload: an array of spot, ivPoint, funding or etfFlow data; see keeper/README.md). */
      http: z
        .array(
          z.strictObject({
            source: z.string().min(1).max(64),
            url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
            timeoutMs: ms(2_000, 1),
          }),
        )
        .default([]),
    })
    .prefault({}),
  validation: ValidationPolicySchema.prefault({}),
  decide: z
    .strictObject({
      /** Floor of the effective band as a fraction of the governed band (a linear book's band). */
      minBandOfPolicy: z.number().min(0).max(1).default(0.5),
      costPerUnit: z.number().nonnegative().default(0.0005),
      riskAversion: z.number().positive().default(1e-4),
      hedgeTo: z.enum(["target", "edge"]).default("target"),
      /** Use the perp funding rate in the regime score. */
      useFunding: z.boolean().default(true),
      /**
       * The hedging policy (keeper/src/decide/policy.ts): regime-band (default), ww-band,
       * fixed-band (`band` units) or time (`intervalHours`).
       */
      policy: z
        .discriminatedUnion("kind", [
          z.strictObject({ kind: z.literal("regime-band") }),
          z.strictObject({ kind: z.literal("ww-band") }),
          z.strictObject({ kind: z.literal("fixed-band"), band: z.number().positive() }),
          z.strictObject({
            kind: z.literal("time"),
            intervalHours: z
              .number()
              .positive()
              .max(24 * 365),
          }),
        ])
        .default({ kind: "regime-band" }),
      /** Hedges smaller than this many underlying units are not sent. */
      minTradeUnits: z.number().nonnegative().default(0.001),
    })
    .prefault({}),
  plan: z
    .strictObject({
      slippageToleranceBps: z.number().nonnegative().default(30),
      targetLeverage: z.number().positive().default(5),
      deadlineSeconds: z.number().int().positive().default(300),
      maxQuoteAgeMs: ms(30_000),
      overlayFraction: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  exposure: z
    .strictObject({
      relTolerance: z.number().positive().default(1e-6),
      absTolerance: z.number().nonnegative().default(1e-9),
    })
    .prefault({}),
  execute: z
    .strictObject({
      priorityFeeGwei: gwei(1),
      maxPriorityFeeGwei: gwei(5),
      maxFeeGwei: gwei(300),
      baseFeeMultiplier: z.number().min(1).default(2),
      feeBumpPct: z.number().min(12.5, "must be ≥ 12.5 (nodes need 10% to replace)").default(12.5),
      replaceAfterMs: ms(30_000, 1),
      confirmTimeoutMs: ms(120_000, 1),
      pollMs: ms(250, 1),
      gasMultiplier: z.number().min(1).default(1.25),
      retry: z
        .strictObject({
          maxAttempts: z.number().int().min(1).default(6),
          initialMs: ms(100, 1),
          maxMs: ms(5_000, 1),
        })
        .prefault({}),
    })
    .prefault({}),
  gate: z
    .strictObject({
      approvalWaitMs: ms(120_000),
      approvalPollMs: ms(2_000, 1),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** 0 = any free port; null = no HTTP server. */
      port: z.number().int().min(0).max(65_535).nullable().default(9464),
      host: z.string().default("127.0.0.1"),
      healthyWithinMs: ms(60_000, 1),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .prefault({}),
});

export type KeeperConfigInput = z.input<typeof KeeperConfigSchema>;
export type KeeperConfig = z.output<typeof KeeperConfigSchema>;

/** A refused configuration: `issues` are "config.<path>: <message>" lines. */
export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[], source = "config") {
    super(`invalid ${source}:\n  ${issues.join("\n  ")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

const SECRET_FIELD = /(^|_)(private_?key|key|secret|mnemonic|password|seed|pk)$/i;

function findSecrets(x: unknown, path: string, out: string[]): void {
  if (Array.isArray(x)) {
    x.forEach((v, i) => findSecrets(v, `${path}.${i}`, out));
    return;
  }
  if (typeof x !== "object" || x === null) return;
  for (const [k, v] of Object.entries(x)) {
    const p = `${path}.${k}`;
    if (SECRET_FIELD.test(k) || /privatekey|mnemonic|secret/i.test(k)) {
      out.push(
        `${p}: signing keys and secrets never come from the config file; set DELTAVAULT_KEEPER_KEY in the environment`,
      );
    } else findSecrets(v, p, out);
  }
}

/** Validates a parsed JSON value; throws ConfigError naming every bad field. */
export function parseConfig(raw: unknown, source = "config"): KeeperConfig {
  const secrets: string[] = [];
  findSecrets(raw, "config", secrets);
  if (secrets.length > 0) throw new ConfigError(secrets, source);
  const r = KeeperConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => {
        const path = ["config", ...i.path.map(String)].join(".");
        const extra = i.code === "unrecognized_keys" ? ` (${i.keys.join(", ")})` : "";
        return `${path}: ${i.message}${extra}`;
      }),
      source,
    );
  }
  return r.data;
}

/** Reads and validates the config file at `path`. */
export function loadConfig(path: string): KeeperConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError([`cannot read ${path}: ${(e as Error).message}`], `config file ${path}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`not valid JSON: ${(e as Error).message}`], `config file ${path}`);
  }
  return parseConfig(raw, `config file ${path}`);
}
