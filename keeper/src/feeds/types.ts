/**
 * Datum types shared by every feed (simulated, CSV replay, HTTP, chain) and by the validate stage.
 *
 * Every datum carries its `source` (a stable id such as "binance-spot" or "sim"), its `eventTime`
 * (when the value was true in the market, ms since the Unix epoch, UTC) and its `receiveTime`
 * (when the keeper got it, same clock). Payloads are flat, per kind:
 *
 * - spot:    `price`         USD per whole unit of the underlying
 * - ivPoint: `expiry` (ms), `strike` (USD), `iv` (annualised, as a fraction: 0.65 = 65 vol points),
 *            optional `mark` (option premium in USD)
 * - funding: `ratePerHour`   perp funding as a fraction per hour (positive = longs pay), and
 *            `intervalMs`    the venue's funding interval the rate was quoted for
 * - etfFlow: `netFlowUsd`    daily net creation (+) / redemption (−) across spot ETFs, in USD
 *
 * The schemas are the boundary check: a value that parses is finite, in range and well-typed.
 */
import { z } from "zod";

export const UNDERLYINGS = ["ETH", "BTC"] as const;
export const DATUM_KINDS = ["spot", "ivPoint", "funding", "etfFlow"] as const;

export const UnderlyingSchema = z.enum(UNDERLYINGS);
export const DatumKindSchema = z.enum(DATUM_KINDS);
export type Underlying = z.infer<typeof UnderlyingSchema>;
export type DatumKind = z.infer<typeof DatumKindSchema>;

/** Milliseconds since the Unix epoch (safe integer, non-negative). */
export const EpochMsSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

// zod 4 numbers reject NaN and ±Infinity.
const finite = () => z.number();
const positive = () => z.number().positive();

const base = {
  underlying: UnderlyingSchema,
  source: z.string().min(1).max(128),
  eventTime: EpochMsSchema,
  receiveTime: EpochMsSchema,
};

export const SpotDatumSchema = z.strictObject({
  kind: z.literal("spot"),
  ...base,
  price: positive(),
});

export const IvPointDatumSchema = z.strictObject({
  kind: z.literal("ivPoint"),
  ...base,
  expiry: EpochMsSchema,
  strike: positive(),
  iv: positive(),
  mark: z.number().nonnegative().optional(),
});

export const FundingDatumSchema = z.strictObject({
  kind: z.literal("funding"),
  ...base,
  ratePerHour: finite(),
  intervalMs: z.number().int().positive(),
});

export const EtfFlowDatumSchema = z.strictObject({
  kind: z.literal("etfFlow"),
  ...base,
  netFlowUsd: finite(),
});

export const DatumSchema = z.discriminatedUnion("kind", [
  SpotDatumSchema,
  IvPointDatumSchema,
  FundingDatumSchema,
  EtfFlowDatumSchema,
]);

export type AnyDatum = z.infer<typeof DatumSchema>;

const PROVIDED_BY_FEED = { source: true, receiveTime: true } as const;

/**
 * A datum as a provider sends it: any kind, without `source` and `receiveTime` (the feed adds them:
 * its configured source id and the time it received the payload). Strict, like {@link DatumSchema}.
 */
export const ProviderDatumSchema = z.discriminatedUnion("kind", [
  SpotDatumSchema.omit(PROVIDED_BY_FEED),
  IvPointDatumSchema.omit(PROVIDED_BY_FEED),
  FundingDatumSchema.omit(PROVIDED_BY_FEED),
  EtfFlowDatumSchema.omit(PROVIDED_BY_FEED),
]);
export type ProviderDatum = z.infer<typeof ProviderDatumSchema>;

/** The datum of a provider's payload item, as received from `source` at `receiveTime`. */
export function fromProvider(p: ProviderDatum, source: string, receiveTime: number): Datum {
  return { ...p, source, receiveTime };
}
/** A datum of kind K (defaults to any kind). */
export type Datum<K extends DatumKind = DatumKind> = Extract<AnyDatum, { kind: K }>;

/**
 * The keeper's view of the market: the latest datum per (kind, underlying, source) — and, for
 * `ivPoint`, the latest surface per (underlying, source): all points sharing that source's newest
 * eventTime, one entry per (expiry, strike). Keys come from {@link snapshotKey}. A plain object so it
 * can be hashed/journalled canonically.
 */
export type MarketSnapshot = Readonly<Record<string, Datum>>;
export const MarketSnapshotSchema = z.record(z.string(), DatumSchema);

/** The snapshot key of a datum. */
export function snapshotKey(d: Datum): string {
  const head = `${d.kind}|${d.underlying}|${d.source}`;
  return d.kind === "ivPoint" ? `${head}|${d.expiry}|${d.strike}` : head;
}

function newer(a: Datum, b: Datum): boolean {
  return a.eventTime > b.eventTime || (a.eventTime === b.eventTime && a.receiveTime >= b.receiveTime);
}

/**
 * Returns a new snapshot with `data` applied in order. An incoming datum replaces the stored one of
 * the same key only if it is not older (eventTime, then receiveTime); out-of-order arrivals are
 * ignored. An IV point newer than a source's current surface drops that surface's older points.
 */
export function applyData(snapshot: MarketSnapshot, data: Iterable<Datum>): MarketSnapshot {
  const next: Record<string, Datum> = { ...snapshot };
  for (const d of data) {
    const key = snapshotKey(d);
    const cur = next[key];
    if (cur !== undefined && !newer(d, cur)) continue;
    if (d.kind === "ivPoint") {
      let stale = false;
      for (const [k, v] of Object.entries(next)) {
        if (v.kind !== "ivPoint" || v.underlying !== d.underlying || v.source !== d.source) continue;
        if (v.eventTime < d.eventTime) delete next[k];
        else if (v.eventTime > d.eventTime) stale = true;
      }
      if (stale) continue; // belongs to a surface older than the one held
    }
    next[key] = d;
  }
  return next;
}

/** The snapshot's data of one kind (optionally for one underlying), in key order. */
export function snapshotData<K extends DatumKind>(
  snapshot: MarketSnapshot,
  kind: K,
  underlying?: Underlying,
): Datum<K>[] {
  const out: Datum<K>[] = [];
  for (const key of Object.keys(snapshot).sort()) {
    const d = snapshot[key];
    if (d === undefined || d.kind !== kind) continue;
    if (underlying !== undefined && d.underlying !== underlying) continue;
    out.push(d as Datum<K>);
  }
  return out;
}
