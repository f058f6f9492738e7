import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { http, parseEventLogs, type Address, type Hex } from "viem";
import { perpFill, startKeeper, type Keeper } from "../src/loop/index.ts";
import type { KeeperConfigInput } from "../src/config/index.ts";
import { createMetrics } from "../src/report/metrics.ts";
import { loadAbis, uniswapAbis } from "../src/chain/abis.ts";
import { chainSource } from "../src/chain/feed.ts";
import { KEEPER_ROLE, PreflightError, resolveAddresses } from "../src/chain/resolve.ts";
import { createStateReader, type VaultState } from "../src/chain/state.ts";
import { exposureOf, type ExposureResult } from "../src/exposure/index.ts";
import { createSender } from "../src/execute/index.ts";
import type { Client } from "../src/chain/multicall.ts";
import { createPublicClient, decodeFunctionData } from "viem";
import {
  captureLogger,
  hardhatKey,
  startProxy,
  deployWorld,
  keeperAccount,
  keeperConfig,
  setEthPrice,
  setupBook,
  startHardhatNode,
  WAD,
  type Node,
  type World,
} from "./harness.ts";

let node: Node;
let w: World;
let base: string;
const dir = mkdtempSync(join(tmpdir(), "keeper-e2e-"));
let n = 0;
const journalPath = () => join(dir, `journal-${++n}.sqlite`);

beforeAll(async () => {
  node = await startHardhatNode();
  w = await deployWorld(node);
  const net = await setupBook(w);
  expect(net < 25n * WAD && net > -25n * WAD).toBe(true);
  base = (await node.rpc("evm_snapshot")) as string;
}, 120_000);

afterAll(async () => {
  await w?.close();
  await node?.stop();
});

beforeEach(async () => {
  await node.rpc("evm_revert", [base]);
  base = (await node.rpc("evm_snapshot")) as string;
});

type KOpts = {
  live?: boolean;
  journal?: string;
  lines?: string[];
  account?: number;
  metrics?: ReturnType<typeof createMetrics>;
  over?: Partial<KeeperConfigInput>;
  hooks?: Parameters<typeof startKeeper>[0]["hooks"];
};
async function keeper(opts: KOpts = {}): Promise<Keeper> {
  const lines = opts.lines ?? [];
  return startKeeper({
    config: keeperConfig(w, { journal: opts.journal ?? journalPath(), ...opts.over }),
    account: keeperAccount(opts.account ?? 1),
    logger: captureLogger(lines),
    metrics: opts.metrics ?? createMetrics(),
    live: opts.live ?? true,
    ...(opts.hooks === undefined ? {} : { hooks: opts.hooks }),
  });
}

async function as(i: number) {
  const wallets = await w.viem.getWalletClients();
  const x = wallets[i];
  if (x === undefined) throw new Error(`no wallet ${i}`);
  return { account: x.account };
}
async function mined(h: Hex) {
  const pc = await w.viem.getPublicClient();
  const r = await pc.waitForTransactionReceipt({ hash: h });
  expect(r.status).toBe("success");
}
const vaultC = () => w.viem.getContractAt("TreasuryVault", w.d.vault);
const epochNow = async () => (await vaultC()).read.epoch();
async function rebalancedEvents(): Promise<{ epoch: bigint; inputsHash: Hex; keeper: Address }[]> {
  const pc = await w.viem.getPublicClient();
  const logs = await pc.getContractEvents({
    address: w.d.vault,
    abi: loadAbis().vault,
    eventName: "Rebalanced",
    fromBlock: 0n,
  });
  return logs.map((l) => ({
    epoch: l.args.epoch as bigint,
    inputsHash: l.args.inputsHash as Hex,
    keeper: l.args.keeper as Address,
  }));
}
async function until(cond: () => Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const inBand = async () => {
  const e = await ethExposure();
  return !e.rebalanceDue;
};

/** The keeper's own chain read (state reader over a fresh client), as a tick would see it now. */
async function readState(): Promise<VaultState> {
  const client = createPublicClient({ transport: http(node.url, { retryCount: 0 }) }) as Client;
  const abis = loadAbis();
  const a = await resolveAddresses(client, abis, {
    chainId: w.d.chainId,
    vault: w.d.vault,
    perpAdapter: w.d.adapters.perp,
    optionsAdapter: w.d.adapters.options,
    underlyings: [
      { symbol: "ETH", token: w.d.tokens.weth.address },
      { symbol: "BTC", token: w.d.tokens.wbtc.address },
    ],
  });
  return createStateReader(client, abis, a).read();
}
const underlyingOf = (s: VaultState, symbol: string) => {
  const u = s.underlyings.find((x) => x.info.symbol === symbol);
  if (u === undefined) throw new Error(`no ${symbol} in the state`);
  return u;
};
/** Parsed JSON log lines with message `msg`. */
const logged = (lines: string[], msg: string) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

async function ethExposure() {
  const vault = await w.viem.getContractAt("TreasuryVault", w.d.vault);
  return vault.read.exposure([w.d.tokens.weth.address]);
}

describe("keeper end to end (hardhat node child process)", () => {
  it("a price move drives net delta out of band → one live tick hedges back into band; journal hash = event inputsHash", async () => {
    await setEthPrice(w, 2_760);
    const before = await ethExposure();
    expect(before.rebalanceDue).toBe(true);
    const k = await keeper();
    const r = await k.tick();
    expect(r.reasons).toEqual(expect.any(Array));
    expect(r.outcome, r.reasons.join("; ")).toBe("hedged");
    const after = await ethExposure();
    expect(after.rebalanceDue).toBe(false);
    const abs = after.net < 0n ? -after.net : after.net;
    expect(abs <= after.band).toBe(true);
    const row = r.execute?.intent;
    expect(row?.status).toBe("confirmed");
    const pc = await w.viem.getPublicClient();
    const receipt = await pc.getTransactionReceipt({ hash: row?.txHash as Hex });
    const [ev] = parseEventLogs({ abi: loadAbis().vault, eventName: "Rebalanced", logs: receipt.logs });
    expect(ev?.args.inputsHash).toBe(row?.inputsHash);
    expect(ev?.args.keeper).toBe(k.address);
    k.close();
  });

  it("the local perp quote model matches PerpDEX.quote on chain (both sides, with and against the skew)", async () => {
    const dex = await w.viem.getContractAt("PerpDEX", w.d.perpDex);
    const weth = w.d.tokens.weth.address;
    const st = await dex.read.marketState([weth]);
    const p = await dex.read.marketParams([weth]);
    expect(st.skew < 0n).toBe(true); // the vault's short
    const m = {
      index: Number(st.indexPrice) / 1e18,
      skew: Number(st.skew) / 1e18,
      skewScale: Number(p.skewScale) / 1e18,
      makerFeeBps: p.makerFeeBps,
      takerFeeBps: p.takerFeeBps,
    };
    for (const size of [1, 50, 150, 400, 1_000]) {
      for (const side of [1, -1]) {
        const [fill, fee] = await dex.read.quote([weth, BigInt(side * size) * WAD]);
        const local = perpFill(m, side * size);
        expect(local.avgPrice).toBeCloseTo(Number(fill) / 1e18, 6);
        expect(Math.abs(local.feeUsd - Number(fee) / 1e18)).toBeLessThan(
          1e-6 * Math.max(1, Number(fee) / 1e18),
        );
      }
    }
  });

  it("two keepers on the same epoch: exactly one succeeds, the other records a lost race", async () => {
    const vault = await vaultC();
    const gov = await as(0);
    const second = (await w.viem.getWalletClients())[6]?.account.address as Address;
    await mined(await vault.write.grantRole([KEEPER_ROLE, second], gov));
    await setEthPrice(w, 2_760);
    const start = await epochNow();
    const a = await keeper({ account: 1 });
    const b = await keeper({ account: 6 });
    await node.rpc("evm_setAutomine", [false]);
    try {
      const ticks = Promise.all([a.tick(), b.tick()]);
      // Both broadcast for the same epoch before either is mined.
      await until(
        async () =>
          a.journal.list({ status: "sent" }).length + b.journal.list({ status: "sent" }).length === 2,
        10_000,
        "both sent",
      );
      await node.rpc("evm_mine");
      const [ra, rb] = await ticks;
      const outcomes = [ra.outcome, rb.outcome].sort();
      expect(outcomes).toEqual(["hedged", "lost-race"]);
      const loser = ra.outcome === "lost-race" ? a : b;
      const lost = loser.journal.list({ limit: 5 });
      expect(lost.map((r) => r.status)).toEqual(["lost-race"]);
      expect(lost[0]?.error).toMatch(/epoch/);
    } finally {
      await node.rpc("evm_setAutomine", [true]);
    }
    expect(await epochNow()).toBe(start + 1n);
    const evs = (await rebalancedEvents()).filter((e) => e.epoch === start);
    expect(evs).toHaveLength(1);
    expect(await inBand()).toBe(true);
    // Next tick of the loser: nothing to do (in band), no second hedge.
    expect((await b.tick()).outcome).toBe("hold");
    a.close();
    b.close();
  });

  it("guardian pause mid-run: the keeper stands down, then hedges once after unpause", async () => {
    const lines: string[] = [];
    const k = await keeper({ lines });
    const ac = new AbortController();
    const running = k.run(ac.signal);
    const start = await epochNow();
    const vault = await vaultC();
    await mined(await vault.write.pause(await as(2)));
    await setEthPrice(w, 2_760);
    await until(
      async () => lines.some((l) => l.includes("vault paused by the guardian")),
      5_000,
      "paused stand-down",
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await epochNow()).toBe(start);
    expect(k.journal.list().length).toBe(0);
    await mined(await vault.write.unpause(await as(0)));
    await until(async () => (await epochNow()) === start + 1n, 5_000, "hedge after unpause");
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    await running;
    expect(await epochNow()).toBe(start + 1n);
    expect(await inBand()).toBe(true);
    expect(k.journal.list().map((r) => r.status)).toEqual(["confirmed"]);
    k.close();
  });

  it("guardian reduce-only: the keeper still sends a hedge whose every leg reduces risk", async () => {
    const vault = await vaultC();
    await mined(await vault.write.setReduceOnly(await as(2)));
    await setEthPrice(w, 2_760);
    const start = await epochNow();
    const k = await keeper();
    const r = await k.tick();
    expect(r.mode).toBe("ReduceOnly");
    expect(r.outcome, r.reasons.join("; ")).toBe("hedged");
    expect(r.legs.every((l) => l.kind === 1 && l.amount > 0n)).toBe(true); // buys back part of the perp short
    expect(await epochNow()).toBe(start + 1n);
    k.close();
  });

  it("stale chain feed: stands down (counted), hedges once the oracle reports again", async () => {
    await setEthPrice(w, 2_760);
    const metrics = createMetrics();
    const src = chainSource(w.d.feeds.weth);
    const k = await keeper({ metrics, over: { validation: { sourceMaxAgeMs: { [src]: 600_000 } } } });
    await node.rpc("evm_increaseTime", [700]);
    await node.rpc("evm_mine");
    const start = await epochNow();
    const r = await k.tick();
    expect(r.outcome).toBe("standDown");
    const eth = r.decisions.find((d) => d.underlying === "ETH");
    expect(eth?.action).toBe("standDown");
    expect(eth?.reasons.join(" ")).toMatch(/stale/);
    expect(await metrics.registry.getSingleMetricAsString("keeper_stale_inputs_total")).toMatch(
      /underlying="ETH",kind="spot"} 1/,
    );
    expect(k.journal.list()).toHaveLength(0);
    expect(await epochNow()).toBe(start);
    await setEthPrice(w, 2_765);
    expect((await k.tick()).outcome).toBe("hedged");
    expect(await epochNow()).toBe(start + 1n);
    k.close();
  });

  it("deviating and malformed HTTP feeds: stand down with the reason, no trade; agreeing feed: hedge", async () => {
    await setEthPrice(w, 2_760);
    let body = "";
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const spot = (price: number) =>
      JSON.stringify([{ kind: "spot", underlying: "ETH", price, eventTime: Date.now() }]);
    try {
      const k = await keeper({
        over: { feeds: { http: [{ source: "cex", url: `http://127.0.0.1:${port}/eth` }] } },
      });
      const start = await epochNow();
      body = spot(2_760 * 1.02);
      const r1 = await k.tick();
      expect(r1.outcome).toBe("standDown");
      expect(r1.decisions.find((d) => d.underlying === "ETH")?.reasons.join(" ")).toMatch(/deviation/);
      body = JSON.stringify([{ kind: "spot", underlying: "ETH", price: "high", eventTime: Date.now() }]);
      const r2 = await k.tick();
      expect(r2.outcome).toBe("standDown");
      expect(r2.decisions.find((d) => d.underlying === "ETH")?.reasons.join(" ")).toMatch(
        /feed cex: .*0\.price/,
      );
      body = "not json";
      expect((await k.tick()).outcome).toBe("standDown");
      expect(await epochNow()).toBe(start);
      expect(k.journal.list()).toHaveLength(0);
      body = spot(2_760.5);
      expect((await k.tick()).outcome).toBe("hedged");
      expect(await epochNow()).toBe(start + 1n);
      k.close();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("a venue leg that reverts: simulation catches it, nothing is sent; hedges once the venue accepts", async () => {
    const dex = await w.viem.getContractAt("PerpDEX", w.d.perpDex);
    const weth = w.d.tokens.weth.address;
    const params = await dex.read.marketParams([weth]);
    await mined(await dex.write.setMarketParams([weth, { ...params, paused: true }], await as(0)));
    await setEthPrice(w, 3_240); // puts lose delta: net long → the hedge adds to the perp short (risk-increasing)
    const k = await keeper();
    const nonce0 = await k.sender.nonce();
    const start = await epochNow();
    const r = await k.tick();
    expect(r.outcome).toBe("sim-failed");
    expect(r.reasons[0]).toMatch(/MarketPaused/);
    expect(k.journal.list().map((x) => x.status)).toEqual(["failed"]);
    expect(await k.sender.resync("test")).toBe(nonce0);
    expect(await epochNow()).toBe(start);
    await mined(await dex.write.setMarketParams([weth, { ...params, paused: false }], await as(0)));
    expect((await k.tick()).outcome).toBe("hedged");
    expect(await epochNow()).toBe(start + 1n);
    expect(await inBand()).toBe(true);
    k.close();
  });

  it("killed after broadcasting, before journaling: restart reconciles, no second hedge", async () => {
    await setEthPrice(w, 2_760);
    const path = journalPath();
    const start = await epochNow();
    const k1 = await keeper({
      journal: path,
      hooks: {
        afterBroadcast: () => {
          throw new Error("simulated crash after broadcast");
        },
      },
    });
    const r1 = await k1.tick();
    expect(r1.outcome).toBe("error");
    expect(k1.journal.list().map((x) => x.status)).toEqual(["intent"]);
    k1.close();
    expect(await epochNow()).toBe(start + 1n); // the transaction did land
    const k2 = await keeper({ journal: path });
    const rows = k2.journal.list();
    expect(rows.map((x) => x.status)).toEqual(["confirmed"]);
    const ev = (await rebalancedEvents()).find((e) => e.epoch === start);
    expect(rows[0]?.inputsHash).toBe(ev?.inputsHash);
    expect(rows[0]?.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await k2.tick()).outcome).toBe("hold");
    expect(await epochNow()).toBe(start + 1n);
    k2.close();
  });

  it("RPC endpoint cut and restored mid-run (TCP proxy): no double hedge, nothing lost", async () => {
    const proxy = await startProxy(node.port);
    try {
      await setEthPrice(w, 2_760);
      const start = await epochNow();
      const k = await keeper({
        over: { rpcUrl: proxy.url },
        hooks: {
          afterBroadcast: async () => {
            await proxy.cut();
            setTimeout(() => void proxy.restore(), 600);
          },
        },
      });
      const r = await k.tick();
      expect(r.outcome, r.reasons.join("; ")).toBe("hedged");
      expect(k.journal.list().map((x) => x.status)).toEqual(["confirmed"]);
      // Cut before a tick: the tick fails cleanly (no intent), health reports the error.
      await setEthPrice(w, 2_560);
      await proxy.cut();
      const down = await k.tick();
      expect(down.outcome).toBe("error");
      expect(k.health().lastError).not.toBeNull();
      expect(k.journal.list()).toHaveLength(1);
      await proxy.restore();
      expect((await k.tick()).outcome).toBe("hedged");
      expect(await epochNow()).toBe(start + 2n);
      expect(k.journal.list().map((x) => x.status)).toEqual(["confirmed", "confirmed"]);
      k.close();
    } finally {
      await proxy.close();
    }
  });

  it("tier 1 bundle: proposed, waits, notices the FINANCE approval, then executes", async () => {
    const policy = await w.viem.getContractAt("RiskPolicy", w.d.policy);
    const g = await policy.read.globalLimits();
    await mined(
      await policy.write.setGlobalLimits(
        [{ ...g, tier1Notional: 100_000n * WAD, tier2Notional: 100_000_000n * WAD }],
        await as(0),
      ),
    );
    await setEthPrice(w, 2_760);
    const lines: string[] = [];
    const metrics = createMetrics();
    const k = await keeper({ lines, metrics });
    const approvals = await w.viem.getContractAt("HedgeApprovals", w.d.approvals);
    const ticking = k.tick();
    const pc = await w.viem.getPublicClient();
    let hash: Hex | undefined;
    await until(
      async () => {
        const logs = await pc.getContractEvents({
          address: w.d.approvals,
          abi: approvals.abi,
          eventName: "BundleProposed",
          fromBlock: 0n,
        });
        hash = logs[0]?.args.bundleHash;
        return hash !== undefined;
      },
      5_000,
      "proposal",
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(k.journal.list()).toHaveLength(0); // nothing recorded or sent before approval
    await mined(await approvals.write.approve([hash as Hex, 0], await as(4)));
    const r = await ticking;
    expect(r.outcome, r.reasons.join("; ")).toBe("hedged");
    expect(r.tier).toBe(1);
    expect(lines.some((l) => l.includes("approval arrived"))).toBe(true);
    expect(await metrics.registry.getSingleMetricAsString("keeper_hedges_total")).toMatch(/tier="1"} 1/);
    expect(await inBand()).toBe(true);
    k.close();
  });

  it("tier 2 bundle: proposed, waits through the FINANCE approval, executes only once RISK approves too", async () => {
    const policy = await w.viem.getContractAt("RiskPolicy", w.d.policy);
    const g = await policy.read.globalLimits();
    await mined(
      await policy.write.setGlobalLimits(
        [{ ...g, tier1Notional: 50_000n * WAD, tier2Notional: 100_000n * WAD }],
        await as(0),
      ),
    );
    await setEthPrice(w, 2_760);
    const lines: string[] = [];
    const metrics = createMetrics();
    const k = await keeper({ lines, metrics });
    const start = await epochNow();
    const approvals = await w.viem.getContractAt("HedgeApprovals", w.d.approvals);
    const pc = await w.viem.getPublicClient();
    let settled = false;
    const ticking = k.tick().finally(() => {
      settled = true;
    });
    let hash: Hex | undefined;
    await until(
      async () => {
        const logs = await pc.getContractEvents({
          address: w.d.approvals,
          abi: approvals.abi,
          eventName: "BundleProposed",
          fromBlock: 0n,
        });
        hash = logs[0]?.args.bundleHash;
        return hash !== undefined;
      },
      5_000,
      "proposal",
    );
    const bundle = hash as Hex;
    // FINANCE (account 4) approves: enough for tier 1, not for tier 2.
    await mined(await approvals.write.approve([bundle, 0], await as(4)));
    await until(
      async () => logged(lines, "approval arrived").some((l) => l.who === "finance"),
      5_000,
      "the keeper noticing the FINANCE approval",
    );
    await new Promise((r) => setTimeout(r, 400)); // several 100 ms polls with one approval of two
    expect(settled).toBe(false);
    expect(await epochNow()).toBe(start);
    expect(k.journal.list()).toHaveLength(0);
    const half = await approvals.read.proposal([bundle]);
    expect(half.financeApprover).toBe(w.d.accounts.finance);
    expect(half.riskApprover).toBe("0x0000000000000000000000000000000000000000");
    expect(half.consumed).toBe(false);
    // RISK (account 5) approves: the keeper notices and executes.
    await mined(await approvals.write.approve([bundle, 1], await as(5)));
    const r = await ticking;
    expect(r.outcome, r.reasons.join("; ")).toBe("hedged");
    expect(r.tier).toBe(2);
    expect(await epochNow()).toBe(start + 1n);
    const arrived = logged(lines, "approval arrived");
    expect(arrived.map((l) => [l.who, l.approver, l.bundleHash])).toEqual([
      ["finance", w.d.accounts.finance, bundle],
      ["risk", w.d.accounts.risk, bundle],
    ]);
    const done = await approvals.read.proposal([bundle]);
    expect(done.consumed).toBe(true);
    const consumed = await pc.getContractEvents({
      address: w.d.approvals,
      abi: approvals.abi,
      eventName: "BundleConsumed",
      fromBlock: 0n,
    });
    expect(consumed.map((e) => [e.args.bundleHash, e.args.tier])).toEqual([[bundle, 2]]);
    expect(k.journal.list().map((x) => x.status)).toEqual(["confirmed"]);
    expect(await metrics.registry.getSingleMetricAsString("keeper_hedges_total")).toMatch(/tier="2"} 1/);
    expect(await inBand()).toBe(true);
    k.close();
  });

  it("exposure mismatch: keeper and vault disagree beyond the tolerance → that underlying stands down (alert, counted), nothing sent", async () => {
    // The keeper's float Black-Scholes against the vault's fixed point, at the block the tick will read:
    // they agree to rounding (about an ulp of net), so find a price where that rounding is not zero.
    let agree: Extract<ExposureResult, { ok: true }> | null = null;
    for (let px = 2_760; px < 2_770 && agree === null; px++) {
      await setEthPrice(w, px);
      const s = await readState();
      const e = exposureOf(s, underlyingOf(s, "ETH"));
      if (!e.ok) throw new Error(e.reason);
      if (e.diff > 0) agree = e;
    }
    if (agree === null) throw new Error("keeper and vault agreed exactly at every price tried");
    expect(agree.keeper.book).toBeGreaterThan(1_000);
    expect((await ethExposure()).rebalanceDue).toBe(true); // a hedge would be due
    // A keeper configured to tolerate less than that disagreement: allowed = rel × book = diff / 4.
    const relTolerance = agree.diff / agree.keeper.book / 4;
    const lines: string[] = [];
    const metrics = createMetrics();
    const k = await keeper({ lines, metrics, over: { exposure: { relTolerance, absTolerance: 0 } } });
    const pc = await w.viem.getPublicClient();
    const nonce = await pc.getTransactionCount({ address: k.address });
    const start = await epochNow();
    const r = await k.tick();
    expect(r.outcome).toBe("standDown");
    const eth = r.decisions.find((d) => d.underlying === "ETH");
    expect(eth?.action).toBe("standDown");
    expect(eth?.reasons[0]).toMatch(
      /^stand down: exposure mismatch on ETH: keeper net \S+ vs vault net \S+ \(\|diff\| \S+ > tolerance \S+\)$/,
    );
    // Only ETH: BTC (an empty book on both sides) agrees exactly and holds.
    expect(r.decisions.find((d) => d.underlying === "BTC")?.action).toBe("hold");
    expect(await metrics.registry.getSingleMetricAsString("keeper_failures_total")).toMatch(
      /reason="exposureMismatch"} 1/,
    );
    expect(await metrics.registry.getSingleMetricAsString("keeper_stand_downs_total")).toMatch(
      /underlying="ETH",reason="stand down: exposure mismatch on ETH[^"]*"} 1/,
    );
    const alerts = logged(lines, "ALERT: keeper and vault disagree on exposure: standing down");
    expect(alerts.map((l) => l.underlying)).toEqual(["ETH"]);
    expect(await epochNow()).toBe(start);
    expect(k.journal.list()).toHaveLength(0);
    expect(await pc.getTransactionCount({ address: k.address })).toBe(nonce);
    k.close();
    // The same chain state under the default tolerance hedges: the stand-down was the mismatch alone.
    const k2 = await keeper();
    expect((await k2.tick()).outcome).toBe("hedged");
    expect(await epochNow()).toBe(start + 1n);
    k2.close();
  });

  it("state reader: the vault's premium window in the tick's read; remaining = budget − spent, the full budget after the window", async () => {
    const vault = await vaultC();
    const policy = await w.viem.getContractAt("RiskPolicy", w.d.policy);
    const weth = w.d.tokens.weth.address;
    const budget = (await policy.read.rawUnderlyingLimits([weth])).premiumBudgetPerWindow;
    const [spent, windowStart] = await vault.read.premiumSpent([weth]);
    expect(spent).toBeGreaterThan(0n); // the setup bought 700 puts
    const s1 = await readState();
    const eth = underlyingOf(s1, "ETH");
    expect(eth.premium).toEqual({ spentUsd: spent, windowStart, remainingUsd: budget - spent });
    const btc = underlyingOf(s1, "BTC");
    expect(btc.premium?.remainingUsd).toBe(btc.limits.premiumBudgetPerWindow);
    // The vault starts a new window at windowStart + window: one second before, the spend still counts.
    const end = windowStart + BigInt(s1.global.window);
    expect(s1.timestamp).toBeLessThan(end - 1n);
    const at = async (t: bigint) => {
      await node.rpc("evm_setNextBlockTimestamp", [Number(t)]);
      await node.rpc("evm_mine");
      const s = await readState();
      expect(s.timestamp).toBe(t);
      return underlyingOf(s, "ETH").premium;
    };
    expect(await at(end - 1n)).toEqual({ spentUsd: spent, windowStart, remainingUsd: budget - spent });
    expect(await at(end)).toEqual({ spentUsd: spent, windowStart, remainingUsd: budget });
  });

  it("stuck transaction: replaced at the same nonce with fees bumped ≥ 12.5%; the replacement is mined", async () => {
    const client = createPublicClient({ transport: http(node.url, { retryCount: 0 }) }) as Client;
    const replaced: Hex[] = [];
    const sender = createSender(
      client,
      keeperAccount(1),
      w.d.chainId,
      {
        fees: {
          priorityFee: 1_000_000_000n,
          maxPriorityFeeCap: 10_000_000_000n,
          maxFeeCap: 500_000_000_000n,
          baseFeeMultiplier: 2,
          bumpPct: 12.5,
        },
        retry: { maxAttempts: 3, initialMs: 20, maxMs: 100, factor: 2 },
        replaceAfterMs: 150,
        pollMs: 20,
      },
      { onReplace: (_n, _o, h) => replaced.push(h) },
    );
    const block = await client.getBlock();
    await node.rpc("evm_setAutomine", [false]);
    try {
      const tx = await sender.broadcast(
        { to: w.d.vault, data: "0x900cf0cf", gas: 100_000n },
        block.baseFeePerGas ?? 0n,
      );
      const first = tx.fees;
      const waiting = sender.waitMined(tx, 10_000);
      await until(async () => replaced.length >= 1, 5_000, "replacement");
      await node.rpc("evm_mine");
      const m = await waiting;
      expect(m).not.toBeNull();
      expect(tx.hashes.length).toBeGreaterThanOrEqual(2);
      expect(m?.hash).not.toBe(tx.hashes[0]);
      expect(tx.fees.maxPriorityFeePerGas * 1000n).toBeGreaterThanOrEqual(first.maxPriorityFeePerGas * 1125n);
      expect(tx.fees.maxFeePerGas * 1000n).toBeGreaterThanOrEqual(first.maxFeePerGas * 1125n);
      const pc = await w.viem.getPublicClient();
      const t = await pc.getTransaction({ hash: m?.hash as Hex });
      expect(t.nonce).toBe(tx.nonce);
    } finally {
      await node.rpc("evm_setAutomine", [true]);
    }
  });

  it("bad input: wrong chain id, missing contracts, an unlisted underlying and a key without KEEPER_ROLE refuse to start", async () => {
    const go = (over: Parameters<typeof keeperConfig>[1], account = 1) =>
      startKeeper({
        config: keeperConfig(w, over),
        account: keeperAccount(account),
        logger: captureLogger([]),
        metrics: createMetrics(),
        live: true,
      });
    await expect(go({ journal: journalPath(), chainId: 1 })).rejects.toThrow(
      /chain id mismatch: the RPC endpoint is on chain 31337, the config says 1/,
    );
    const noCode = "0x00000000000000000000000000000000000000aa";
    const c = { vault: w.d.vault, perpAdapter: w.d.adapters.perp, optionsAdapter: w.d.adapters.options };
    await expect(go({ journal: journalPath(), contracts: { ...c, vault: noCode } })).rejects.toThrow(
      /contracts.vault at 0x0+aA? has no contract code/i,
    );
    await expect(go({ journal: journalPath(), contracts: { ...c, perpAdapter: noCode } })).rejects.toThrow(
      /contracts.perpAdapter .* has no contract code/,
    );
    await expect(
      go({ journal: journalPath(), underlyings: [{ symbol: "ETH", token: w.d.tokens.usdc.address }] }),
    ).rejects.toThrow(/not listed by the vault/);
    const err = await go({ journal: journalPath() }, 7).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreflightError);
    expect((err as PreflightError).message).toMatch(/lacks KEEPER_ROLE/);
  });

  it("CLI: run --live hedges, serves /metrics and /healthz, never logs the key, stops cleanly on SIGTERM; journal/status/simulate-once", async () => {
    await setEthPrice(w, 2_760);
    const journal = journalPath();
    const cfgPath = join(dir, `cli-${n}.json`);
    const cfg = {
      rpcUrl: node.url,
      chainId: w.d.chainId,
      contracts: { vault: w.d.vault, perpAdapter: w.d.adapters.perp, optionsAdapter: w.d.adapters.options },
      underlyings: [
        { symbol: "ETH", token: w.d.tokens.weth.address },
        { symbol: "BTC", token: w.d.tokens.wbtc.address },
      ],
      journal,
      tickIntervalMs: 100,
      decide: { useFunding: false },
      metrics: { port: 0 },
    };
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const key = hardhatKey(1);
    const env = { ...process.env, DELTAVAULT_KEEPER_KEY: key };
    const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = env) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(process.execPath, ["keeper/src/cli/main.ts", ...args], { env: extraEnv });
        let out = "";
        let err = "";
        p.stdout.on("data", (b: Buffer) => (out += b.toString()));
        p.stderr.on("data", (b: Buffer) => (err += b.toString()));
        p.on("exit", (code) => resolve({ code, out, err }));
      });

    // simulate-once: the full tick in dry-run, nothing sent
    const start = await epochNow();
    const sim = await cli(["keeper", "simulate-once", "--config", cfgPath]);
    expect(sim.code, sim.err).toBe(0);
    expect(sim.out).toMatch(/"outcome": "dry-run"/);
    expect(await epochNow()).toBe(start);

    const proc = spawn(
      process.execPath,
      ["keeper/src/cli/main.ts", "keeper", "run", "--config", cfgPath, "--live"],
      { env },
    );
    let out = "";
    let err = "";
    proc.stdout.on("data", (b: Buffer) => (out += b.toString()));
    proc.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => proc.on("exit", (c) => r(c)));
    await until(async () => /"port":(\d+)/.test(out), 15_000, "metrics server");
    const port = Number(/"port":(\d+)/.exec(out)?.[1]);
    await until(async () => (await epochNow()) === start + 1n, 15_000, "CLI hedge");
    await until(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200,
      5_000,
      "healthz 200",
    );
    const metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metricsText).toMatch(/keeper_hedges_total\{tier="0"\} 1/);
    expect(metricsText).toMatch(/keeper_net_delta\{underlying="ETH"\}/);
    expect(metricsText).toMatch(/keeper_stage_seconds_bucket\{le="[^"]+",stage="execute"\}/);
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toMatch(/keeper stopped cleanly/);
    expect(out).toMatch(/shutdown requested/);
    const bare = key.slice(2).toLowerCase();
    expect((out + err).toLowerCase()).not.toContain(bare);
    expect(await epochNow()).toBe(start + 1n);

    const j = await cli(["keeper", "journal", "--config", cfgPath, "--limit", "5"]);
    expect(j.code).toBe(0);
    const rows = j.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { status: string; inputsHash: string });
    expect(rows.map((r) => r.status)).toEqual(["confirmed"]);
    const ev = (await rebalancedEvents()).find((e) => e.epoch === start);
    expect(rows[0]?.inputsHash).toBe(ev?.inputsHash);

    const st = await cli(["keeper", "status", "--config", cfgPath]);
    expect(st.code, st.err).toBe(0);
    expect(JSON.parse(st.out)).toMatchObject({
      epoch: String(start + 1n),
      mode: "Normal",
      keeper: { keeperRole: true },
    });

    // bad input: malformed config names the field; missing key; wrong chain id
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ ...cfg, contracts: { ...cfg.contracts, vault: "0x123" } }));
    const b1 = await cli(["keeper", "run", "--config", bad]);
    expect(b1.code).toBe(2);
    expect(b1.err).toMatch(/config\.contracts\.vault: expected a 20-byte hex address/);
    const { DELTAVAULT_KEEPER_KEY: _k, ...noKey } = env;
    const b2 = await cli(["keeper", "run", "--config", cfgPath], noKey);
    expect(b2.code).toBe(2);
    expect(b2.err).toMatch(/DELTAVAULT_KEEPER_KEY is not set/);
    writeFileSync(bad, JSON.stringify({ ...cfg, chainId: 10 }));
    const b3 = await cli(["keeper", "run", "--config", bad]);
    expect(b3.code).toBe(2);
    expect(b3.err).toMatch(/chain id mismatch/);
    writeFileSync(bad, JSON.stringify({ ...cfg, privateKey: key }));
    const b4 = await cli(["keeper", "run", "--config", bad]);
    expect(b4.code).toBe(2);
    expect(b4.err).toMatch(/config\.privateKey: signing keys and secrets never come from the config file/);
    expect(b4.err.toLowerCase()).not.toContain(bare);
  });
  it("spot venue configured, perp made dear: a live tick sells held WETH on Uniswap through the vault, min out = fresh quote − tolerance, ends in band", async () => {
    const weth = w.d.tokens.weth.address;
    const spotAdapter = w.d.adapters.spot;
    const quoter = w.d.uniswap.quoterV2;
    const pc = await w.viem.getPublicClient();
    // The perp dear (60 bps taker fee), the book net long ~100 WETH (fewer creator payouts owed).
    const dex = await w.viem.getContractAt("PerpDEX", w.d.perpDex);
    const params = await dex.read.marketParams([weth]);
    await mined(await dex.write.setMarketParams([weth, { ...params, takerFeeBps: 60 }], await as(0)));
    const ledger = await w.viem.getContractAt("TreasuryLedger", w.d.ledger);
    const treasurer = (await w.viem.getWalletClients()).find(
      (x) => x.account.address.toLowerCase() === w.d.accounts.treasurer.toLowerCase(),
    );
    if (treasurer === undefined) throw new Error("no treasurer wallet");
    await mined(await ledger.write.setLiability([weth, 2, 200n * WAD], { account: treasurer.account }));
    const before = await ethExposure();
    expect(before.rebalanceDue).toBe(true);
    expect(before.net > 50n * WAD).toBe(true);
    const withSpot = {
      vault: w.d.vault,
      perpAdapter: w.d.adapters.perp,
      optionsAdapter: w.d.adapters.options,
      spotAdapter,
      spotQuoter: quoter,
    };
    const over = { plan: { slippageToleranceBps: 40, overlayFraction: 0 } };

    // Without the spot venue (today's config), or with it no longer allow-listed: perps only (dry run).
    const plain = await keeper({ live: false, over });
    const r0 = await plain.tick();
    expect(r0.outcome, r0.reasons.join("; ")).toBe("dry-run");
    expect(r0.legs.length).toBeGreaterThan(0);
    expect(r0.legs.every((l) => l.kind !== 2)).toBe(true);
    plain.close();
    const policy = await w.viem.getContractAt("RiskPolicy", w.d.policy);
    await mined(await policy.write.setVenueAllowed([spotAdapter, false], await as(0)));
    const barred = await keeper({ live: false, over: { ...over, contracts: withSpot } });
    const r1 = await barred.tick();
    expect(r1.outcome, r1.reasons.join("; ")).toBe("dry-run");
    expect(r1.legs.some((l) => l.kind === 1)).toBe(true);
    expect(r1.legs.every((l) => l.kind !== 2)).toBe(true);
    barred.close();
    await mined(await policy.write.setVenueAllowed([spotAdapter, true], await as(0)));

    // With it: the sale goes to the pool, live.
    const start = await epochNow();
    const k = await keeper({ over: { ...over, contracts: withSpot } });
    expect(k.addresses.spot?.adapter).toBe(spotAdapter);
    expect(k.addresses.spot?.poolFee).toBe(w.d.poolFee);
    expect(k.addresses.spot?.pools.get(weth)).toBe(w.d.pools.weth);
    const r = await k.tick();
    expect(r.outcome, r.reasons.join("; ")).toBe("hedged");
    expect(await epochNow()).toBe(start + 1n);
    expect(await inBand()).toBe(true);
    const spotLegs = r.legs.filter((l) => l.kind === 2);
    expect(spotLegs.length).toBeGreaterThan(0);
    for (const l of spotLegs) {
      expect(l.adapter).toBe(spotAdapter);
      expect(l.underlying).toBe(weth);
      expect(l.amount < 0n).toBe(true); // sells held WETH
    }

    // The bundle as mined: the legs sent are the planned ones; the event records the spot sale.
    const txHash = r.execute?.txHash as Hex;
    const receipt = await pc.getTransactionReceipt({ hash: txHash });
    const tx = await pc.getTransaction({ hash: txHash });
    const sent = decodeFunctionData({ abi: loadAbis().vault, data: tx.input });
    if (sent.functionName !== "rebalance") throw new Error(`sent ${sent.functionName}, not rebalance`);
    const sentLegs = sent.args[0];
    expect(sentLegs.filter((l) => l.kind === 2).map((l) => [l.amount, l.bound])).toEqual(
      spotLegs.map((l) => [l.amount, l.bound]),
    );
    const [ev] = parseEventLogs({ abi: loadAbis().vault, eventName: "Rebalanced", logs: receipt.logs });
    const evSpot = (ev?.args.legs ?? []).filter((l) => l.kind === 2);
    expect(evSpot).toHaveLength(spotLegs.length);
    const first = spotLegs[0] as (typeof spotLegs)[number];
    expect(evSpot[0]?.adapter).toBe(spotAdapter);
    expect(evSpot[0]?.sizeChange).toBe(first.amount); // WETH has 18 decimals: token units = WAD

    // The first spot leg's min out: the quote at the block the keeper read (the one before the
    // bundle) for exactly that amount, minus the 40 bps tolerance (the ladder interpolates between
    // its points, which can only lower it, by far less than 1 bp here).
    const sold = -first.amount;
    const [quoted] = await pc.readContract({
      address: quoter,
      abi: uniswapAbis.quoterV2,
      functionName: "quoteExactInputSingle",
      args: [
        {
          tokenIn: weth,
          tokenOut: w.d.tokens.usdc.address,
          amountIn: sold,
          fee: w.d.poolFee,
          sqrtPriceLimitX96: 0n,
        },
      ],
      blockNumber: receipt.blockNumber - 1n,
    });
    const minOut = (quoted * 9_960n + 9_999n) / 10_000n; // ceil(quote × (1 − 0.004))
    expect(first.bound <= minOut).toBe(true);
    expect(first.bound * 10_000n >= minOut * 9_999n).toBe(true);
    expect(first.bound < quoted).toBe(true);
    // The pool paid exactly the fresh quote for that sale (nothing moved the pool in between).
    const paid = parseEventLogs({ abi: loadAbis().erc20, eventName: "Transfer", logs: receipt.logs }).filter(
      (t) =>
        t.address.toLowerCase() === w.d.tokens.usdc.address.toLowerCase() && t.args.from === w.d.pools.weth,
    );
    expect(paid[0]?.args.to).toBe(w.d.vault);
    expect(paid[0]?.args.value).toBe(quoted);
    // The event's execution price is that sale's average (USD WAD per unit).
    expect(evSpot[0]?.executionPrice).toBe((quoted * 10n ** 12n * WAD) / sold);
    k.close();
  });

  it("bad spot venue config refuses to start: not a spot adapter, a quoter that is not a QuoterV2, no code", async () => {
    const go = (contracts: Record<string, Address>) =>
      startKeeper({
        config: keeperConfig(w, {
          journal: journalPath(),
          contracts: { vault: w.d.vault, perpAdapter: w.d.adapters.perp, ...contracts },
        }),
        account: keeperAccount(1),
        logger: captureLogger([]),
        metrics: createMetrics(),
        live: false,
      });
    const quoter = w.d.uniswap.quoterV2;
    await expect(go({ spotAdapter: w.d.adapters.perp, spotQuoter: quoter })).rejects.toThrow(
      /contracts.spotAdapter 0x[0-9a-fA-F]{40} is not a Uniswap V3 spot venue adapter/,
    );
    await expect(go({ spotAdapter: w.d.adapters.spot, spotQuoter: w.d.vault })).rejects.toThrow(
      /contracts.spotQuoter 0x[0-9a-fA-F]{40} is not a QuoterV2/,
    );
    await expect(
      go({ spotAdapter: w.d.adapters.spot, spotQuoter: "0x00000000000000000000000000000000000000aa" }),
    ).rejects.toThrow(/contracts.spotQuoter at 0x0+aA? has no contract code/i);
    const ok = await go({ spotAdapter: w.d.adapters.spot, spotQuoter: quoter });
    expect(ok.addresses.spot?.factory).toBe(w.d.uniswap.factory);
    expect(ok.addresses.spot?.pools.get(w.d.tokens.wbtc.address)).toBe(w.d.pools.wbtc);
    ok.close();
  });
});

describe("keeper regime inputs from HTTP feeds (hardhat node child process)", () => {
  it("ETF outflows + high, rising IV from an HTTP feed → stressed regime; the same state without the feed is not", async () => {
    const DAY = 86_400_000;
    const spot = Number((await ethExposure()).price) / 1e18;
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY; // end of yesterday: the newest ETF day, fresh
    // 25 ordinary days, then 5 days of heavy redemptions; plus today's surface (ATM 100 vol, puts bid)
    // and yesterday's (15 vol points lower) as history.
    const flows = Array.from({ length: 30 }, (_, i) => ({
      kind: "etfFlow",
      underlying: "ETH",
      eventTime: today - (29 - i) * DAY,
      netFlowUsd: i < 25 ? (i % 2 === 0 ? 1.2e8 : -0.4e8) : -9e8,
    }));
    const surface = (eventTime: number, shift: number) =>
      [0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.4, 1.5].map((m) => ({
        kind: "ivPoint",
        underlying: "ETH",
        eventTime,
        expiry: now + 30 * DAY,
        strike: spot * m,
        iv: 1 + 0.6 * (1 - m) + shift,
      }));
    let body = JSON.stringify([...flows, ...surface(now - DAY, -0.15), ...surface(now, 0)]);
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const plain = await keeper({ live: false });
      const r0 = await plain.tick();
      plain.close();
      const eth0 = r0.decisions.find((d) => d.underlying === "ETH");
      expect(eth0?.action, r0.reasons.join("; ")).toBe("hold");
      expect(eth0?.regime?.label).not.toBe("stressed");
      expect(eth0?.regime?.score).toBeGreaterThan(-0.25);

      const lines: string[] = [];
      const fed = await keeper({
        live: false,
        lines,
        over: { feeds: { http: [{ source: "market", url: `http://127.0.0.1:${port}/eth` }] } },
      });
      const r1 = await fed.tick();
      fed.close();
      // The same feed, but yesterday's surface 15 points higher (falling IV): much less stressed.
      body = JSON.stringify([...flows, ...surface(now - DAY, 0.15), ...surface(now, 0)]);
      const falling = await keeper({
        live: false,
        over: { feeds: { http: [{ source: "market", url: `http://127.0.0.1:${port}/eth` }] } },
      });
      const r2 = await falling.tick();
      falling.close();
      const eth2 = r2.decisions.find((d) => d.underlying === "ETH");
      const eth1 = r1.decisions.find((d) => d.underlying === "ETH");
      expect(r1.outcome, r1.reasons.join("; ")).not.toBe("error");
      expect(eth1?.action, eth1?.reasons.join("; ")).not.toBe("standDown");
      expect(eth1?.regime?.label).toBe("stressed");
      // Four strongly stressed inputs (momentum ≈ −5σ, IV 1.0, +15 vol points, puts bid): near −1.
      expect(eth1?.regime?.score).toBeLessThan(-0.8);
      expect(eth1?.regime?.multiplier).toBeLessThan(eth0?.regime?.multiplier ?? 0);
      // ivChange came from the served history: −0.15 instead of +0.15 moves the score by ≈ 2 × ¼.
      expect(eth2?.regime?.score).toBeGreaterThan((eth1?.regime?.score ?? 0) + 0.4);
      // The BTC book saw no feed data: its regime is the plain keeper's.
      const btc0 = r0.decisions.find((d) => d.underlying === "BTC");
      const btc1 = r1.decisions.find((d) => d.underlying === "BTC");
      expect(btc1?.regime?.score).toBe(btc0?.regime?.score);
      expect(logged(lines, "feed history rejected")).toHaveLength(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
