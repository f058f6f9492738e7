/**
 * The keeper: start-up (preflight, nonce, reconcile) and one pipeline tick —
 * feeds (chain + HTTP) → validate → price (keeper greeks) → exposure (vs the vault's view) → decide →
 * plan → gate (tier, approvals, simulate) → execute → journal → metrics — plus `run`, the tick loop
 * with graceful shutdown through an AbortSignal.
 *
 * Never fights the guardian: Paused → stand down with nothing sent; ReduceOnly → only plans whose
 * every leg reduces the gap. Never resends blindly: pending journal intents are reconciled with the
 * chain before a tick plans anything new.
 */
import {
  createPublicClient,
  encodeFunctionData,
  getAddress,
  zeroAddress,
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
  type Transport,
} from "viem";
import type { Logger } from "pino";
import { z } from "zod";
import { loadAbis, type Abis } from "../chain/abis.ts";
import { errorAbi, shortReason, classifyError } from "../chain/errors.ts";
import { chainData, chainSource } from "../chain/feed.ts";
import { immediateBatchHttp, type Client } from "../chain/multicall.ts";
import { checkKeeperRoles, resolveAddresses, type ChainAddresses } from "../chain/resolve.ts";
import {
  Mode,
  createStateReader,
  modeName,
  readEpochAndMode,
  type UnderlyingState,
  type VaultState,
} from "../chain/state.ts";
import { inputsHash as hashInputs } from "../canonical/index.ts";
import type { KeeperConfig } from "../config/index.ts";
import {
  acceptBackfill,
  DEFAULT_DECIDE_CONFIG,
  decideByPolicy,
  emptyRegimeHistory,
  regimeInputsFromFeeds,
  type Decision,
  type HedgePolicy,
  type RegimeInputs,
} from "../decide/index.ts";
import { exposureOf, type ExposureResult } from "../exposure/index.ts";
import {
  createGasCache,
  createSender,
  executeRebalance,
  gasShape,
  simulate,
  type ExecuteHooks,
  type ExecuteResult,
  type Sender,
} from "../execute/index.ts";
import {
  applyData,
  fromProvider,
  ProviderDatumSchema,
  snapshotKey,
  type Datum,
  type Underlying,
} from "../feeds/types.ts";
import { fetchJson } from "../feeds/http.ts";
import {
  approvedFor,
  awaitApprovals,
  bundleHashOf,
  bundleNotionalWad,
  readProposal,
  tierOf,
  type Tier,
} from "../gate/index.ts";
import {
  openJournal,
  reconcile,
  type ChainView,
  type Journal,
  type ReconcileOutcome,
} from "../journal/index.ts";
import {
  DEFAULT_PLAN_CONFIG,
  plan as planLegs,
  LegKind,
  MAX_LEGS,
  type Leg,
  type Plan,
  type PlanConfig,
} from "../plan/index.ts";
import { timed, type Metrics } from "../report/metrics.ts";
import { validateSnapshot, type Alert } from "../validate/index.ts";
import { perpQuoteOf, readOptionQuotes } from "./quotes.ts";
import { readSpotQuote } from "./spotQuotes.ts";

const n = (x: bigint, d = 18) => Number(x) / 10 ** d;

export type KeeperDeps = {
  config: KeeperConfig;
  account: LocalAccount;
  logger: Logger;
  metrics: Metrics;
  /** Send transactions (default false: dry run). */
  live: boolean;
  /** Default: immediateBatchHttp(config.rpcUrl) without viem-level retries (the keeper retries itself). */
  transport?: Transport;
  journal?: Journal;
  hooks?: ExecuteHooks;
  /**
   * Regime inputs the chain cannot provide (ETF-flow momentum, DVOL level and change, skew), from
   * an in-process market-data provider at the tick's chain time (the chain backtest); an absent
   * field falls back to the keeper's HTTP feeds (decide/regimeInputs.ts), then to the chain (IV
   * level from the venue's surface, funding from the perp), else null ("unknown").
   */
  regimeInputs?: (underlying: Underlying, chainTimeMs: number) => Partial<RegimeInputs>;
};

export type TickOutcome =
  "hold" | "standDown" | "hedged" | "noop" | "error" | ExecuteResult["status"] | "awaitingApproval";

export type TickReport = {
  outcome: TickOutcome;
  reasons: string[];
  epoch: bigint | null;
  mode: string | null;
  decisions: Decision[];
  legs: Leg[];
  tier: Tier | null;
  inputsHash: Hex | null;
  execute: ExecuteResult | null;
  /** Tick start → broadcast returned, ms (null when nothing was broadcast). */
  tickToBroadcastMs: number | null;
  reconciled: ReconcileOutcome[];
};

export type Keeper = {
  readonly address: Address;
  readonly addresses: ChainAddresses;
  readonly journal: Journal;
  readonly client: Client;
  readonly sender: Sender;
  tick(signal?: AbortSignal): Promise<TickReport>;
  run(signal: AbortSignal): Promise<void>;
  reconcileNow(): Promise<ReconcileOutcome[]>;
  health(): { lastSuccessAt: number | null; lastError: string | null; mode: string; live: boolean };
  close(): void;
};

/** An HTTP feed's payload: data of any kind without source/receiveTime (the feed adds them). */
const HttpPayloadSchema = z.array(ProviderDatumSchema);

function emptyReport(over: Partial<TickReport>): TickReport {
  return {
    outcome: "noop",
    reasons: [],
    epoch: null,
    mode: null,
    decisions: [],
    legs: [],
    tier: null,
    inputsHash: null,
    execute: null,
    tickToBroadcastMs: null,
    reconciled: [],
    ...over,
  };
}

/** Chain view for journal reconciliation. */
export function chainViewOf(client: Client, abis: Abis, vault: Address): ChainView {
  return {
    currentEpoch: async () => (await readEpochAndMode(client, abis, vault)).epoch,
    receipt: async (hash) => {
      try {
        const r = await client.getTransactionReceipt({ hash });
        return { status: r.status, blockNumber: r.blockNumber };
      } catch (e) {
        if (classifyError(e) === "transient") throw e;
        return null;
      }
    },
    rebalanceEventFor: async (epoch) => {
      const logs = await client.getContractEvents({
        address: vault,
        abi: abis.vault,
        eventName: "Rebalanced",
        args: { epoch },
        fromBlock: 0n,
        toBlock: "latest",
      });
      const l = logs[0];
      if (l === undefined || l.transactionHash === null) return null;
      return { txHash: l.transactionHash, inputsHash: l.args.inputsHash as Hex };
    },
  };
}

/** The reduce-only rule, conservatively: every trade leg moves delta toward the target, no overshoot. */
export function reduceOnlyOk(legs: readonly Leg[], plans: { decision: Decision; plan: Plan }[]): boolean {
  for (const { decision, plan } of plans) {
    const pre = decision.net - decision.target;
    const post = plan.expectedNetAfter - decision.target;
    if (Math.abs(post) > Math.abs(pre) || (post !== 0 && Math.sign(post) !== Math.sign(pre))) return false;
  }
  for (const l of legs) {
    const p = plans.find((x) => x.plan.legs.includes(l));
    if (p === undefined) return false;
    const dir = Math.sign(p.decision.gap);
    if (l.kind === LegKind.Perp && Math.sign(Number(l.amount)) !== dir) return false;
    if (l.kind === LegKind.Spot && dir > 0) return false;
  }
  return true;
}

/** Preflight, nonce and reconciliation; throws PreflightError / ConfigError-like errors with clear text. */
export async function startKeeper(deps: KeeperDeps): Promise<Keeper> {
  const { config, account, logger: log, metrics } = deps;
  const abis = loadAbis();
  const errors: Abi = errorAbi(abis);
  const transport = deps.transport ?? immediateBatchHttp(config.rpcUrl, { retryCount: 0, timeout: 10_000 });
  const client = createPublicClient({ transport }) as Client;
  const addresses = await resolveAddresses(client, abis, {
    chainId: config.chainId,
    vault: config.contracts.vault,
    perpAdapter: config.contracts.perpAdapter,
    optionsAdapter: config.contracts.optionsAdapter,
    spotAdapter: config.contracts.spotAdapter,
    spotQuoter: config.contracts.spotQuoter,
    underlyings: config.underlyings,
  });
  const roles = await checkKeeperRoles(client, abis, addresses, account.address);
  const journal = deps.journal ?? openJournal(config.journal);
  const ex = config.execute;
  const sender = createSender(
    client,
    account,
    addresses.chainId,
    {
      fees: {
        priorityFee: ex.priorityFeeGwei,
        maxPriorityFeeCap: ex.maxPriorityFeeGwei,
        maxFeeCap: ex.maxFeeGwei,
        baseFeeMultiplier: ex.baseFeeMultiplier,
        bumpPct: ex.feeBumpPct,
      },
      retry: { ...ex.retry, factor: 2 },
      replaceAfterMs: ex.replaceAfterMs,
      pollMs: ex.pollMs,
    },
    {
      onRetry: (what, e, attempt, delayMs) =>
        log.warn({ what, attempt, delayMs, err: shortReason(e) }, "transient RPC failure: retrying"),
      onReplace: (nonce, oldHash, newHash, fees) =>
        log.warn(
          {
            nonce,
            oldHash,
            newHash,
            maxFeePerGas: fees.maxFeePerGas.toString(),
            maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
          },
          "stuck transaction replaced with bumped fees",
        ),
      onResync: (nonce, why) => log.info({ nonce, why }, "nonce synchronised from chain"),
    },
  );
  const scope = { chainId: addresses.chainId, vault: addresses.vault };
  const reader = createStateReader(client, abis, addresses, { mode: config.readMode });
  const gasCache = createGasCache();
  const view = chainViewOf(client, abis, addresses.vault);
  const health = {
    lastSuccessAt: null as number | null,
    lastError: null as string | null,
    mode: "unknown",
    live: deps.live,
  };

  const reconcileNow = async (): Promise<ReconcileOutcome[]> => {
    const out = await reconcile(journal, view, scope);
    for (const o of out) {
      log.info(
        { intent: o.id, epoch: o.epoch.toString(), from: o.from, to: o.to, reason: o.reason },
        "journal reconciled",
      );
      if (o.to === "lost-race") metrics.lostRaces.inc();
    }
    if (out.some((o) => o.from !== o.to)) await sender.resync("after reconciliation");
    return out;
  };

  const startup = await reconcileNow();
  await sender.nonce();
  log.info(
    {
      keeper: account.address,
      vault: addresses.vault,
      chainId: addresses.chainId,
      live: deps.live,
      proposerRole: roles.proposer,
      underlyings: addresses.underlyings.map((u) => u.symbol),
      reconciled: startup.length,
    },
    deps.live
      ? "keeper started (LIVE: transactions will be sent)"
      : "keeper started (dry run: nothing is sent)",
  );

  /** The time policy's last clock bucket per underlying (in memory: a restart hedges at once). */
  const policyClock = new Map<Underlying, number>();
  /** Buckets of this tick's hedge decisions, committed to policyClock when the bundle confirms. */
  const pendingClock = new Map<Underlying, number>();
  /** Daily ETF flows and ATM IV readings per underlying for the regime inputs (bounded, in memory). */
  let regimeHistory = emptyRegimeHistory();
  const httpSources = new Set(config.feeds.http.map((f) => f.source));
  const standDown = (u: Underlying, reason: string) => metrics.standDowns.inc({ underlying: u, reason });

  async function readHttpFeeds(): Promise<{ data: Datum[]; errors: string[] }> {
    const data: Datum[] = [];
    const errs: string[] = [];
    await Promise.all(
      config.feeds.http.map(async (f) => {
        try {
          const payload = await fetchJson(f.url, HttpPayloadSchema, f.timeoutMs);
          const receiveTime = Date.now();
          for (const p of payload) data.push(fromProvider(p, f.source, receiveTime));
        } catch (e) {
          errs.push(`feed ${f.source}: ${shortReason(e)}`);
        }
      }),
    );
    return { data, errors: errs };
  }

  function hedgePolicy(u: UnderlyingState, state: VaultState): HedgePolicy {
    const l = u.limits;
    return {
      enabled: l.enabled,
      band: n(l.band),
      minHedgeRatio: n(l.minHedgeRatio),
      maxHedgeRatio: n(l.maxHedgeRatio),
      maxOptionLegSize: config.contracts.optionsAdapter === undefined ? 0 : n(l.maxOptionLegSize),
      maxPerpLegSize: n(l.maxPerpLegSize),
      maxSpotLegSize: addresses.spot === null ? 0 : n(l.maxSpotLegSize), // no spot venue: no spot legs
      maxPerpPosition: n(l.maxPerpPosition),
      // What the vault still accepts in its premium window (chain/state.ts premiumBudgetRemaining); none if unread.
      premiumBudgetRemaining: n(u.premium?.remainingUsd ?? 0n),
      maxOpenSeries: l.maxOpenSeries,
      maxSlippageBps: state.global.maxSlippageBps,
    };
  }

  function snapshotOf(state: VaultState, accepted: Record<string, Datum>, exps: ExposureResult[]) {
    return {
      v: 2,
      chainId: addresses.chainId,
      vault: addresses.vault,
      epoch: state.epoch,
      block: { number: state.blockNumber, timestamp: state.timestamp },
      mode: state.mode,
      global: { ...state.global },
      market: accepted,
      underlyings: state.underlyings.map((u, k) => {
        const e = exps[k];
        return {
          symbol: u.info.symbol,
          token: u.info.token,
          exposure: u.exposure === null ? null : { ...u.exposure },
          round: u.round === null ? null : { ...u.round },
          limits: { ...u.limits },
          premium: u.premium === undefined ? null : { ...u.premium },
          balance: u.balance,
          liabilities: u.liabilities,
          perpSizeSum: u.perpSizeSum,
          fundingRatePerDay: u.fundingRatePerDay,
          held: u.held.map((h) => ({
            id: h.id,
            size: h.size,
            strike: h.strike,
            cap: h.cap,
            expiry: h.expiry,
            isCall: h.isCall,
            vol: h.vol,
            capVol: h.capVol,
          })),
          keeper:
            e === undefined || e.keeper === null
              ? null
              : {
                  net: e.keeper.net,
                  options: e.keeper.options,
                  gamma: e.keeper.greeks.gamma,
                  vega: e.keeper.greeks.vega,
                },
        };
      }),
    };
  }

  async function tickInner(signal: AbortSignal | undefined, t0: number): Promise<TickReport> {
    pendingClock.clear();
    // ---- reconcile pending intents first: never plan over an unknown outcome
    let reconciled: ReconcileOutcome[] = [];
    if (journal.pending().some((r) => r.chainId === scope.chainId && r.vault === scope.vault)) {
      reconciled = await timed(metrics, "reconcile", reconcileNow);
      const still = journal.pending().filter((r) => r.chainId === scope.chainId && r.vault === scope.vault);
      if (still.length > 0) {
        return emptyReport({
          outcome: "standDown",
          reasons: [
            `awaiting the outcome of intent #${still[0]?.id} (${still[0]?.status}, tx ${still[0]?.txHash ?? "none"})`,
          ],
          reconciled,
        });
      }
    }

    // ---- feeds
    const [state, httpFeeds] = await timed(metrics, "feeds", () =>
      Promise.all([reader.read(), readHttpFeeds()]),
    );
    health.mode = modeName(state.mode);
    const receive = Date.now();
    const snapshot = applyData({}, [...chainData(state, receive), ...httpFeeds.data]);

    // ---- validate (chain spot sources default to the vault's own oracle max age)
    const validation = await timed(metrics, "validate", () => {
      const sourceMaxAgeMs: Record<string, number> = {};
      for (const u of addresses.underlyings)
        sourceMaxAgeMs[chainSource(u.feed)] = state.global.oracleMaxAge * 1000;
      const policy = {
        ...config.validation,
        sourceMaxAgeMs: { ...sourceMaxAgeMs, ...config.validation.sourceMaxAgeMs },
      };
      const v = validateSnapshot(snapshot, policy, Date.now());
      if (httpFeeds.errors.length > 0) {
        for (const u of Object.keys(v.usable) as Underlying[]) v.usable[u] = false;
        for (const err of httpFeeds.errors) {
          const a: Alert = { underlying: "*", kind: "snapshot", reason: "malformed", detail: err };
          v.alerts.push(a);
          v.reasons.push(`* snapshot malformed: ${err}`);
        }
      }
      return v;
    });
    for (const a of validation.alerts) {
      if (a.reason === "stale") metrics.stale.inc({ underlying: a.underlying, kind: a.kind });
    }
    if (httpFeeds.errors.length > 0) metrics.failures.inc({ reason: "feed" }, httpFeeds.errors.length);
    if (validation.alerts.length > 0) log.warn({ alerts: validation.reasons }, "validate: inputs rejected");

    // ---- price + exposure
    const tol = config.exposure;
    const exps = await timed(metrics, "exposure", () =>
      state.underlyings.map((u) => exposureOf(state, u, tol)),
    );

    // ---- decide
    // Regime inputs from the HTTP feeds' validated data and history (older data a feed serves — earlier
    // ETF days, earlier IV surfaces — goes into the history once it passes every check but freshness);
    // the chain surface's ATM vol and the perp's funding when no feed provides them.
    const regimeNow = Date.now();
    const backfill = acceptBackfill(
      httpFeeds.data.filter((d) => snapshot[snapshotKey(d)] !== d),
      config.validation,
      regimeNow,
    );
    if (backfill.rejected.length > 0) log.warn({ rejected: backfill.rejected }, "feed history rejected");
    const feedRegime = regimeInputsFromFeeds(regimeHistory, {
      now: regimeNow,
      underlyings: state.underlyings.map((u) => u.info.symbol),
      accepted: Object.fromEntries(
        Object.entries(validation.accepted).filter(([, d]) => httpSources.has(d.source)),
      ),
      backfill: backfill.accepted,
      spot: Object.fromEntries(
        state.underlyings.map((u) => [
          u.info.symbol,
          validation.spot[u.info.symbol] ?? (u.exposure === null ? Number.NaN : n(u.exposure.price)),
        ]),
      ),
      chain: Object.fromEntries(
        state.underlyings.map((u) => [
          u.info.symbol,
          {
            ivLevel: u.atm === null ? null : u.atm.vol,
            fundingRate: u.fundingRatePerDay === null ? null : n(u.fundingRatePerDay) / 24,
          },
        ]),
      ),
    });
    regimeHistory = feedRegime.history;
    const decisions: Decision[] = await timed(metrics, "decide", () =>
      state.underlyings.map((u, k) => {
        const e = exps[k] as ExposureResult;
        const sym = u.info.symbol;
        const pol = hedgePolicy(u, state);
        if (!e.ok) {
          metrics.failures.inc({
            reason: e.reason.startsWith("exposure mismatch") ? "exposureMismatch" : "exposure",
          });
          if (e.reason.startsWith("exposure mismatch"))
            log.error(
              { underlying: sym, reason: e.reason },
              "ALERT: keeper and vault disagree on exposure: standing down",
            );
          return {
            underlying: sym,
            action: "standDown",
            reasons: [`stand down: ${e.reason}`],
            net: e.vault?.net ?? 0,
            target: e.vault?.target ?? 0,
            targetNet: e.vault?.net ?? 0,
            gap: 0,
            band: null,
            wwBand: null,
            regime: null,
          } satisfies Decision;
        }
        metrics.netDelta.set({ underlying: sym }, e.vault.net);
        metrics.policyBand.set({ underlying: sym }, e.vault.band);
        // A provider's value wins, null included ("unknown"); an absent field falls back to the
        // feeds (which fall back to the chain); funding only with decide.useFunding.
        const external = deps.regimeInputs?.(sym, Number(state.timestamp) * 1000) ?? {};
        const fed = feedRegime.inputs[sym];
        const pick = (x: number | null | undefined, feed: number | null | undefined) =>
          x === undefined ? (feed ?? null) : x;
        const regime: RegimeInputs = {
          etfFlowMomentum: pick(external.etfFlowMomentum, fed?.etfFlowMomentum),
          ivLevel: pick(external.ivLevel, fed?.ivLevel),
          ivChange: pick(external.ivChange, fed?.ivChange),
          skew: pick(external.skew, fed?.skew),
          fundingRate: pick(external.fundingRate, config.decide.useFunding ? fed?.fundingRate : null),
        };
        const { decision: d, clock } = decideByPolicy(
          config.decide.policy,
          e.vault,
          {
            greeks: e.keeper.greeks,
            regime,
            policy: pol,
            validation,
            config: {
              ...DEFAULT_DECIDE_CONFIG,
              minBand: config.decide.minBandOfPolicy * pol.band,
              costPerUnit: config.decide.costPerUnit,
              riskAversion: config.decide.riskAversion,
              hedgeTo: config.decide.hedgeTo,
            },
          },
          {
            nowMs: Number(state.timestamp) * 1000,
            clock: policyClock.get(sym) ?? Number.NEGATIVE_INFINITY,
            minTradeUnits: config.decide.minTradeUnits,
          },
        );
        // The time policy's clock advances on a hold, or once the hedge is confirmed (below): a
        // failed or unapproved hedge retries at the next tick instead of waiting a whole interval.
        if (d.action === "hold") policyClock.set(sym, clock);
        else if (d.action === "hedge") pendingClock.set(sym, clock);
        if (d.band !== null) metrics.band.set({ underlying: sym }, d.band);
        return d;
      }),
    );
    for (const d of decisions)
      if (d.action === "standDown") standDown(d.underlying, d.reasons[0] ?? "standDown");
    const base = { epoch: state.epoch, mode: modeName(state.mode), decisions, reconciled };
    const hedges = decisions
      .map((d, k) => ({ d, u: state.underlyings[k] as UnderlyingState }))
      .filter((x) => x.d.action === "hedge");
    if (hedges.length === 0) {
      const out = decisions.some((d) => d.action === "standDown") ? "standDown" : "hold";
      return emptyReport({
        ...base,
        outcome: out,
        reasons: decisions.map((d) => `${d.underlying}: ${d.reasons[0] ?? d.action}`),
      });
    }
    if (state.mode === Mode.Paused) {
      for (const h of hedges) standDown(h.d.underlying, "paused");
      log.warn({ epoch: state.epoch.toString() }, "vault paused by the guardian: standing down");
      return emptyReport({
        ...base,
        outcome: "paused",
        reasons: ["vault paused by the guardian: standing down, nothing sent"],
      });
    }
    const readyAt = state.lastRebalanceAt + BigInt(state.global.keeperCooldown);
    if (state.timestamp < readyAt) {
      return emptyReport({ ...base, outcome: "standDown", reasons: [`keeper cooldown until ${readyAt}`] });
    }

    // ---- plan
    const planCfg: PlanConfig = {
      ...DEFAULT_PLAN_CONFIG,
      slippageToleranceBps: config.plan.slippageToleranceBps,
      targetLeverage: config.plan.targetLeverage,
      deadlineSeconds: config.plan.deadlineSeconds,
      maxQuoteAgeMs: config.plan.maxQuoteAgeMs,
      overlay: { ...DEFAULT_PLAN_CONFIG.overlay, fraction: config.plan.overlayFraction },
    };
    const plans = await timed(metrics, "plan", async () => {
      const optionQuotes = await Promise.all(
        hedges.map((h) =>
          h.d.regime?.label === "stressed"
            ? readOptionQuotes(client, abis, addresses, state, h.u)
            : Promise.resolve([]),
        ),
      );
      const spotQuotes = await Promise.all(
        hedges.map(async (h) => {
          const q = await readSpotQuote(client, abis, addresses, state, h.u, h.d.gap);
          return q === null ? [] : [q];
        }),
      );
      return hedges.map((h, i) => {
        const exp = exps[state.underlyings.indexOf(h.u)];
        const spot = exp !== undefined && exp.ok ? exp.keeper.spot : 0;
        const perp = perpQuoteOf(addresses, state, h.u, h.d.gap);
        const p = planLegs(
          h.d,
          {
            now: Number(state.timestamp) * 1000,
            underlying: { symbol: h.u.info.symbol, address: h.u.info.token, decimals: h.u.info.decimals },
            quoteToken: { address: addresses.quoteToken, decimals: addresses.quoteDecimals },
            oraclePrice: exp !== undefined && exp.ok ? exp.vault.price : 0,
            spotBalance: spot,
            quoteBalance: n(state.quoteBalance, addresses.quoteDecimals),
            perpPosition: n(h.u.perpSizeSum),
            fundingRatePerHour: h.u.fundingRatePerDay === null ? 0 : n(h.u.fundingRatePerDay) / 24,
            perps: perp === null ? [] : [perp],
            spots: spotQuotes[i] ?? [],
            options: optionQuotes[i] ?? [],
            heldSeries: h.u.held.map((s) => ({ adapter: s.adapter, seriesId: s.id })),
          },
          hedgePolicy(h.u, state),
          planCfg,
        );
        return { decision: h.d, plan: p, u: h.u };
      });
    });
    const ok = plans.filter((p) => p.plan.status === "ok");
    for (const p of plans) {
      if (p.plan.status !== "ok") {
        metrics.failures.inc({ reason: "planInfeasible" });
        log.warn({ underlying: p.decision.underlying, rationale: p.plan.rationale }, "plan infeasible");
      }
    }
    if (ok.length === 0) {
      return emptyReport({
        ...base,
        outcome: "standDown",
        reasons: plans.map((p) => `${p.decision.underlying}: ${p.plan.infeasible ?? p.plan.status}`),
      });
    }
    // One bundle: every feasible plan if it fits MAX_LEGS, else the one furthest outside its band.
    let chosen = ok;
    if (ok.reduce((s, p) => s + p.plan.legs.length, 0) > MAX_LEGS) {
      const worst = [...ok].sort(
        (a, b) =>
          Math.abs(b.decision.gap) / (b.decision.band ?? 1) -
          Math.abs(a.decision.gap) / (a.decision.band ?? 1),
      )[0];
      chosen = worst === undefined ? [] : [worst];
    }
    const legs = chosen.flatMap((p) => p.plan.legs);
    const deadline = chosen.reduce(
      (m, p) => (p.plan.deadline < m ? p.plan.deadline : m),
      chosen[0]?.plan.deadline ?? 0n,
    );
    const roOk = reduceOnlyOk(legs, chosen);
    if (state.mode === Mode.ReduceOnly && !roOk) {
      return emptyReport({
        ...base,
        outcome: "reduce-only",
        legs,
        reasons: ["vault is reduce-only and the plan is not: nothing sent"],
      });
    }

    // ---- gate
    const snap = snapshotOf(state, validation.accepted as Record<string, Datum>, exps);
    const ih = hashInputs(snap);
    const priceOf = (t: Address) =>
      state.underlyings.find((u) => u.info.token === getAddress(t))?.exposure?.price ?? 0n;
    const decOf = (t: Address) =>
      state.underlyings.find((u) => u.info.token === getAddress(t))?.info.decimals ?? 18;
    const notional = bundleNotionalWad(legs, priceOf, decOf, addresses.quoteDecimals);
    const tier = tierOf(notional, state.global);
    const decisionRecord = {
      tier,
      notionalWad: notional,
      decisions: chosen.map((p) => p.decision),
      plans: chosen.map((p) => ({
        underlying: p.decision.underlying,
        rationale: p.plan.rationale,
        expectedNetAfter: p.plan.expectedNetAfter,
        notionalUsd: p.plan.notionalUsd,
        premiumUsd: p.plan.premiumUsd,
      })),
    };
    const gateReport = { ...base, legs, tier, inputsHash: ih };
    if (tier > 0) {
      const gated = await timed(metrics, "gate", async () => {
        const hash = await bundleHashOf(client, abis, addresses.vault, legs, ih, state.epoch, deadline);
        let prop = await readProposal(client, abis, addresses.approvals, hash);
        if (!deps.live)
          return {
            ok: false as const,
            reason: `dry run: tier ${tier} bundle ${hash} would be proposed for approval`,
          };
        if (!roles.proposer)
          return {
            ok: false as const,
            reason: `tier ${tier} needs approval but ${account.address} lacks PROPOSER_ROLE`,
          };
        const block = await client.getBlock({ blockTag: "latest" });
        const proposable =
          prop.proposer === zeroAddress || (!prop.consumed && prop.expiresAt < block.timestamp);
        if (proposable) {
          const data = encodeFunctionData({
            abi: abis.approvals,
            functionName: "propose",
            args: [hash, state.epoch],
          });
          const sim = await simulate(client, errors, account.address, addresses.approvals, data);
          if (!sim.ok) return { ok: false as const, reason: `propose simulation reverted: ${sim.revert}` };
          const sent = await sender.broadcast(
            { to: addresses.approvals, data, gas: (sim.gas * 5n) / 4n },
            state.baseFeePerGas ?? 0n,
          );
          const mined = await sender.waitMined(sent, config.execute.confirmTimeoutMs);
          if (mined === null || mined.receipt.status !== "success")
            return { ok: false as const, reason: `propose tx ${sent.hashes[0]} not confirmed` };
          log.info(
            { bundleHash: hash, tier, epoch: state.epoch.toString(), tx: mined.hash },
            "bundle proposed for approval",
          );
          prop = await readProposal(client, abis, addresses.approvals, hash);
        }
        if (approvedFor(prop, tier)) return { ok: true as const };
        const waited = await awaitApprovals({
          client,
          abis,
          approvals: addresses.approvals,
          vault: addresses.vault,
          hash,
          tier,
          epoch: state.epoch,
          waitMs: config.gate.approvalWaitMs,
          pollMs: config.gate.approvalPollMs,
          signal,
          onArrival: (who, approver) => log.info({ bundleHash: hash, who, approver }, "approval arrived"),
        });
        return waited.status === "approved"
          ? { ok: true as const }
          : { ok: false as const, reason: `approval ${waited.status}: ${waited.reason}` };
      });
      if (!gated.ok) {
        log.warn({ tier, reason: gated.reason }, "gate: not executing");
        return emptyReport({ ...gateReport, outcome: "awaitingApproval", reasons: [gated.reason] });
      }
    }

    // ---- execute (+ journal)
    const t1 = performance.now();
    const res = await timed(metrics, "execute", () =>
      executeRebalance({
        client,
        abis,
        errors,
        journal,
        sender,
        chainId: addresses.chainId,
        vault: addresses.vault,
        epoch: state.epoch,
        inputsHash: ih,
        snapshot: snap,
        decision: decisionRecord,
        legs,
        deadline,
        baseFee: state.baseFeePerGas ?? 0n,
        reduceOnlyOk: roOk,
        gasMultiplier: config.execute.gasMultiplier,
        confirmTimeoutMs: config.execute.confirmTimeoutMs,
        dryRun: !deps.live,
        gasCache,
        shape: gasShape(
          legs,
          state.underlyings.reduce((s, u) => s + u.held.length, 0),
        ),
        signal,
        hooks: deps.hooks,
      }),
    );
    const tickToBroadcastMs = res.broadcastAt === null ? null : t1 - t0 + res.broadcastAt;
    if (tickToBroadcastMs !== null) metrics.tickToBroadcast.observe(tickToBroadcastMs / 1000);
    if (res.status === "confirmed") metrics.hedges.inc({ tier: String(tier) });
    else if (res.status === "lost-race") metrics.lostRaces.inc();
    else if (res.status !== "dry-run") metrics.failures.inc({ reason: res.status });
    const logFields = {
      status: res.status,
      reason: res.reason,
      epoch: state.epoch.toString(),
      tier,
      legs: legs.length,
      inputsHash: ih,
      tx: res.txHash,
      intent: res.intent?.id ?? null,
      tickToBroadcastMs,
    };
    if (res.status === "confirmed") for (const [sym, clock] of pendingClock) policyClock.set(sym, clock);
    if (res.status === "confirmed" || res.status === "dry-run") log.info(logFields, "rebalance");
    else log.warn(logFields, "rebalance not confirmed");
    return emptyReport({
      ...gateReport,
      outcome: res.status === "confirmed" ? "hedged" : res.status,
      reasons: [res.reason],
      execute: res,
      tickToBroadcastMs,
    });
  }

  async function tick(signal?: AbortSignal): Promise<TickReport> {
    const t0 = performance.now();
    const end = metrics.stage.startTimer({ stage: "tick" });
    try {
      const r = await tickInner(signal, t0);
      health.lastSuccessAt = Date.now();
      health.lastError = null;
      metrics.lastSuccess.set(Date.now() / 1000);
      return r;
    } catch (e) {
      const reason = shortReason(e);
      const kind = classifyError(e);
      health.lastError = reason;
      metrics.failures.inc({ reason: kind === "transient" ? "rpc" : "tick" });
      log.error({ err: reason, kind }, "tick failed: standing down");
      return emptyReport({ outcome: "error", reasons: [reason] });
    } finally {
      end();
    }
  }

  return {
    address: account.address,
    addresses,
    journal,
    client,
    sender,
    tick,
    reconcileNow,
    health: () => ({ ...health }),
    async run(signal) {
      while (!signal.aborted) {
        const started = Date.now();
        await tick(signal);
        const wait = config.tickIntervalMs - (Date.now() - started);
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, wait);
            signal.addEventListener(
              "abort",
              () => {
                clearTimeout(t);
                resolve();
              },
              { once: true },
            );
          });
        }
      }
      log.info("keeper stopped");
    },
    close() {
      if (deps.journal === undefined) journal.close();
    },
  };
}
