/**
 * The validate stage: decides, per underlying, whether the keeper may act on the current market
 * snapshot. Fails closed — anything malformed, stale, from the future, out of bounds, missing or
 * inconsistent across sources makes the keeper stand down for that underlying (or for all of them
 * when the problem cannot be attributed) and yields a structured alert for the metrics/log stage.
 *
 * The input is `unknown` on purpose: snapshots may come from a journal, a file or another process,
 * and this function must never throw on bad data nor let bad data through.
 */
import {
  DatumSchema,
  UNDERLYINGS,
  UnderlyingSchema,
  DatumKindSchema,
  snapshotKey,
  type Datum,
  type DatumKind,
  type MarketSnapshot,
  type Underlying,
} from "../feeds/types.ts";
import { KINDS, type ValidationPolicy } from "./policy.ts";

export type AlertReason =
  | "malformedSnapshot"
  | "malformed"
  | "missing"
  | "stale"
  | "futureEvent"
  | "clockInconsistent"
  | "outOfBounds"
  | "deviation";

export type Alert = {
  /** "*" when the problem cannot be attributed to one underlying (then all stand down). */
  underlying: Underlying | "*";
  kind: DatumKind | "snapshot";
  reason: AlertReason;
  detail: string;
  source?: string;
  key?: string;
};

export type ValidationResult = {
  /** Verdict per underlying; false for underlyings the policy does not trade. */
  usable: Record<Underlying, boolean>;
  /** One human-readable line per alert, e.g. "ETH spot stale: binance age 75000 ms > 60000 ms". */
  reasons: string[];
  alerts: Alert[];
  /** The data that passed every per-datum check (schema, time, bounds), keyed as in the input. */
  accepted: MarketSnapshot;
  /** Median spot across accepted sources, for usable underlyings only. */
  spot: Partial<Record<Underlying, number>>;
};

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Per-datum checks beyond the schema; returns the problems found. */
function checkDatum(
  d: Datum,
  policy: ValidationPolicy,
  now: number,
): { reason: AlertReason; detail: string }[] {
  const out: { reason: AlertReason; detail: string }[] = [];
  const skew = policy.clockSkewMs;
  if (d.eventTime > now + skew) {
    out.push({
      reason: "futureEvent",
      detail: `${d.source} eventTime ${d.eventTime} is ${d.eventTime - now} ms ahead of now`,
    });
  }
  if (d.receiveTime > now + skew) {
    out.push({
      reason: "clockInconsistent",
      detail: `${d.source} receiveTime ${d.receiveTime} is ${d.receiveTime - now} ms ahead of now`,
    });
  }
  if (d.receiveTime < d.eventTime - skew) {
    out.push({
      reason: "clockInconsistent",
      detail: `${d.source} received ${d.eventTime - d.receiveTime} ms before its eventTime`,
    });
  }
  const maxAge = policy.sourceMaxAgeMs[d.source] ?? policy.maxAgeMs[d.kind];
  const age = now - d.eventTime;
  if (age > maxAge) out.push({ reason: "stale", detail: `${d.source} age ${age} ms > ${maxAge} ms` });
  const b = policy.bounds;
  switch (d.kind) {
    case "ivPoint":
      if (d.iv < b.ivMin || d.iv > b.ivMax)
        out.push({
          reason: "outOfBounds",
          detail: `${d.source} iv ${d.iv} outside [${b.ivMin}, ${b.ivMax}]`,
        });
      if (d.expiry <= now)
        out.push({
          reason: "outOfBounds",
          detail: `${d.source} option expired at ${d.expiry} (strike ${d.strike})`,
        });
      break;
    case "funding":
      if (Math.abs(d.ratePerHour) > b.fundingAbsMaxPerHour) {
        out.push({
          reason: "outOfBounds",
          detail: `${d.source} funding ${d.ratePerHour}/h beyond ±${b.fundingAbsMaxPerHour}`,
        });
      }
      break;
    case "etfFlow":
      if (Math.abs(d.netFlowUsd) > b.etfFlowAbsMaxUsd) {
        out.push({
          reason: "outOfBounds",
          detail: `${d.source} ETF flow ${d.netFlowUsd} USD beyond ±${b.etfFlowAbsMaxUsd}`,
        });
      }
      break;
    case "spot":
      break;
  }
  return out;
}

/**
 * Validates a snapshot (see {@link MarketSnapshot}; keys must be {@link snapshotKey} of their datum)
 * against `policy` at time `now` (ms). Never throws for any `snapshot` value.
 */
export function validateSnapshot(snapshot: unknown, policy: ValidationPolicy, now: number): ValidationResult {
  const alerts: Alert[] = [];
  const accepted: Record<string, Datum> = {};
  const traded = new Set<Underlying>(policy.underlyings);
  const alert = (a: Alert) => alerts.push(a);

  if (!Number.isFinite(now)) {
    alert({
      underlying: "*",
      kind: "snapshot",
      reason: "clockInconsistent",
      detail: `now is not finite (${String(now)})`,
    });
  } else if (!isRecord(snapshot)) {
    alert({
      underlying: "*",
      kind: "snapshot",
      reason: "malformedSnapshot",
      detail: `snapshot is ${Array.isArray(snapshot) ? "an array" : snapshot === null ? "null" : typeof snapshot}, expected an object`,
    });
  } else {
    for (const key of Object.keys(snapshot).sort()) {
      const raw = snapshot[key];
      const parsed = DatumSchema.safeParse(raw);
      if (!parsed.success) {
        const u = isRecord(raw) ? UnderlyingSchema.safeParse(raw.underlying) : undefined;
        const k = isRecord(raw) ? DatumKindSchema.safeParse(raw.kind) : undefined;
        const underlying: Underlying | "*" = u?.success === true ? u.data : "*";
        if (underlying !== "*" && !traded.has(underlying)) continue;
        const issue = parsed.error.issues[0];
        const path = issue === undefined ? "" : issue.path.map(String).join(".");
        alert({
          underlying,
          kind: k?.success === true ? k.data : "snapshot",
          reason: "malformed",
          detail: `${key}: ${path === "" ? "(root)" : path}: ${issue?.message ?? "invalid"}`,
          key,
        });
        continue;
      }
      const d = parsed.data;
      if (!traded.has(d.underlying)) continue;
      if (snapshotKey(d) !== key) {
        alert({
          underlying: d.underlying,
          kind: d.kind,
          reason: "malformed",
          detail: `key ${key} does not match its datum (${snapshotKey(d)})`,
          source: d.source,
          key,
        });
        continue;
      }
      const problems = checkDatum(d, policy, now);
      for (const p of problems)
        alert({
          underlying: d.underlying,
          kind: d.kind,
          reason: p.reason,
          detail: p.detail,
          source: d.source,
          key,
        });
      if (problems.length === 0) accepted[key] = d;
    }

    for (const u of policy.underlyings) {
      const mine = Object.values(accepted).filter((d) => d.underlying === u);
      for (const kind of KINDS) {
        if (!policy.required[u].includes(kind)) continue;
        const flagged = alerts.some((a) => a.underlying === u && a.kind === kind);
        if (!flagged && !mine.some((d) => d.kind === kind)) {
          alert({ underlying: u, kind, reason: "missing", detail: `no ${kind} data (required)` });
        }
      }
      const spots = mine.filter((d): d is Datum<"spot"> => d.kind === "spot");
      if (spots.length >= 2) {
        let lo = spots[0] as Datum<"spot">;
        let hi = lo;
        for (const s of spots) {
          if (s.price < lo.price) lo = s;
          if (s.price > hi.price) hi = s;
        }
        const bps = (hi.price / lo.price - 1) * 1e4;
        if (!(bps <= policy.maxDeviationBps)) {
          alert({
            underlying: u,
            kind: "spot",
            reason: "deviation",
            detail: `${hi.source} ${hi.price} vs ${lo.source} ${lo.price}: ${bps.toFixed(1)} bps > ${policy.maxDeviationBps} bps`,
          });
        }
      }
    }
  }

  const global = alerts.some((a) => a.underlying === "*");
  const usable = {} as Record<Underlying, boolean>;
  const spot: Partial<Record<Underlying, number>> = {};
  for (const u of UNDERLYINGS) {
    usable[u] = traded.has(u) && !global && !alerts.some((a) => a.underlying === u);
    if (usable[u]) {
      const prices = Object.values(accepted).flatMap((d) =>
        d.kind === "spot" && d.underlying === u ? [d.price] : [],
      );
      if (prices.length > 0) spot[u] = median(prices);
    }
  }
  const reasons = alerts.map((a) => `${a.underlying} ${a.kind} ${a.reason}: ${a.detail}`);
  return { usable, reasons, alerts, accepted, spot };
}
