/**
 * Validation policy: freshness SLAs, cross-source deviation, clock skew, sanity bounds and which
 * input kinds each underlying needs before the keeper may act on it. Parsed with zod so a config
 * file can supply any subset; everything else takes the defaults below.
 */
import { z } from "zod";
import { DATUM_KINDS, DatumKindSchema, UNDERLYINGS, UnderlyingSchema } from "../feeds/types.ts";

const ms = z.number().int().nonnegative();

export const ValidationPolicySchema = z.strictObject({
  /** Underlyings the keeper trades; each gets a usable/unusable verdict. */
  underlyings: z
    .array(UnderlyingSchema)
    .min(1)
    .default([...UNDERLYINGS]),
  /** Maximum age (now − eventTime) per kind. */
  maxAgeMs: z
    .strictObject({
      spot: ms.default(60_000),
      ivPoint: ms.default(15 * 60_000),
      funding: ms.default(2 * 3_600_000),
      // Daily ETF flows skip weekends and holidays: a long weekend must not stand the keeper down.
      etfFlow: ms.default(5 * 86_400_000),
    })
    .prefault({}),
  /** Per-source overrides of maxAgeMs (e.g. an 8-hourly funding file replayed: 9 h). */
  sourceMaxAgeMs: z.record(z.string(), ms).default({}),
  /** Kinds that must be present (and fresh) for an underlying to be usable. */
  required: z
    .strictObject({
      ETH: z.array(DatumKindSchema).default(["spot", "ivPoint"]),
      BTC: z.array(DatumKindSchema).default(["spot", "ivPoint"]),
    })
    .prefault({}),
  /** Two spot sources of one underlying further apart than this (max/min − 1, in bps) → stand down. */
  maxDeviationBps: z.number().nonnegative().default(50),
  /** Allowed clock skew: eventTime or receiveTime later than now + skew, or receiveTime earlier than
   *  eventTime − skew, is inconsistent. */
  clockSkewMs: ms.default(5_000),
  /** Sanity bounds beyond the schema. */
  bounds: z
    .strictObject({
      ivMin: z.number().nonnegative().default(0.01),
      ivMax: z.number().positive().default(5),
      fundingAbsMaxPerHour: z.number().positive().default(0.01),
      etfFlowAbsMaxUsd: z.number().positive().default(50e9),
    })
    .prefault({}),
});

export type ValidationPolicyInput = z.input<typeof ValidationPolicySchema>;
export type ValidationPolicy = z.output<typeof ValidationPolicySchema>;

/** Resolves defaults (throws a ZodError on an invalid policy: misconfiguration must not start). */
export function parsePolicy(input: ValidationPolicyInput = {}): ValidationPolicy {
  return ValidationPolicySchema.parse(input);
}

export const DEFAULT_POLICY: ValidationPolicy = parsePolicy();

/** Kinds in a stable order (for deterministic reports). */
export const KINDS = DATUM_KINDS;
