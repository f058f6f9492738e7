/**
 * Prometheus metrics of the keeper (prom-client, on its own registry):
 *
 * - keeper_net_delta{underlying}            vault net delta (underlying units)
 * - keeper_band{underlying}                 effective band the keeper used (units)
 * - keeper_policy_band{underlying}          governed band (units)
 * - keeper_hedges_total{tier}               confirmed rebalances by authority tier
 * - keeper_stage_seconds{stage}             latency per pipeline stage (histogram)
 * - keeper_tick_to_broadcast_seconds        tick start → broadcast returned (histogram)
 * - keeper_stale_inputs_total{underlying,kind}  inputs rejected as stale
 * - keeper_failures_total{reason}           failures and refusals by reason
 * - keeper_stand_downs_total{underlying,reason} ticks where the keeper stood down
 * - keeper_lost_races_total                 epochs another bundle used first
 * - keeper_last_tick_success_seconds        unix time of the last tick that completed
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export const STAGES = [
  "reconcile",
  "feeds",
  "validate",
  // the keeper's greeks (price stage) are computed inside "exposure"
  "exposure",
  "decide",
  "plan",
  "gate",
  "execute",
  "tick",
] as const;
export type Stage = (typeof STAGES)[number];

export function createMetrics() {
  const registry = new Registry();
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const m = {
    registry,
    netDelta: new Gauge({
      name: "keeper_net_delta",
      help: "Vault net delta per underlying (units)",
      labelNames: ["underlying"],
      registers: [registry],
    }),
    band: new Gauge({
      name: "keeper_band",
      help: "Effective band used by the keeper (units)",
      labelNames: ["underlying"],
      registers: [registry],
    }),
    policyBand: new Gauge({
      name: "keeper_policy_band",
      help: "Governed band (units)",
      labelNames: ["underlying"],
      registers: [registry],
    }),
    hedges: new Counter({
      name: "keeper_hedges_total",
      help: "Confirmed rebalances by authority tier",
      labelNames: ["tier"],
      registers: [registry],
    }),
    stage: new Histogram({
      name: "keeper_stage_seconds",
      help: "Latency per pipeline stage",
      labelNames: ["stage"],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    tickToBroadcast: new Histogram({
      name: "keeper_tick_to_broadcast_seconds",
      help: "Tick start to broadcast",
      buckets: latencyBuckets,
      registers: [registry],
    }),
    stale: new Counter({
      name: "keeper_stale_inputs_total",
      help: "Inputs rejected as stale",
      labelNames: ["underlying", "kind"],
      registers: [registry],
    }),
    failures: new Counter({
      name: "keeper_failures_total",
      help: "Failures and refusals by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
    standDowns: new Counter({
      name: "keeper_stand_downs_total",
      help: "Stand-downs by underlying and reason",
      labelNames: ["underlying", "reason"],
      registers: [registry],
    }),
    lostRaces: new Counter({
      name: "keeper_lost_races_total",
      help: "Epochs another bundle used first",
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: "keeper_last_tick_success_seconds",
      help: "Unix time of the last completed tick",
      registers: [registry],
    }),
  };
  // Pre-create the tier series so dashboards see zeros.
  for (const t of ["0", "1", "2"]) m.hedges.inc({ tier: t }, 0);
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;

/** Times `fn` into the stage histogram. */
export async function timed<T>(metrics: Metrics, stage: Stage, fn: () => Promise<T> | T): Promise<T> {
  const end = metrics.stage.startTimer({ stage });
  try {
    return await fn();
  } finally {
    end();
  }
}
