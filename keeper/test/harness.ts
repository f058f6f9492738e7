/**
 * Test harness for the keeper's chain tests: a real `hardhat node` child process on a free port, a
 * TCP proxy (node:net) that can cut and restore the keeper's connection, the full system deployed
 * with scripts/deploy/system.ts, and a hedged starting book (WETH puts + perp short) so that a price
 * move drives net delta out of band.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { realpathSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { network } from "hardhat";
import { parseUnits, toHex, type Address, type Hex, type LocalAccount } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import {
  defaultLocalConfig,
  deploySystem,
  fundTreasury,
  type HardhatViem,
  type SystemDeployment,
} from "../../scripts/deploy/system.ts";
import type { KeeperConfigInput } from "../src/config/index.ts";
import { parseConfig } from "../src/config/index.ts";
import { createLogger } from "../src/report/logger.ts";

const WAD = 10n ** 18n;
export const MNEMONIC = "test test test test test test test test test test test junk";

/** The private key of Hardhat's default account `i` (derived from the public test mnemonic). */
export function hardhatKey(i: number): Hex {
  const pk = mnemonicToAccount(MNEMONIC, { addressIndex: i }).getHdKey().privateKey;
  if (pk === null) throw new Error("no private key");
  return toHex(pk);
}
export const keeperAccount = (i = 1): LocalAccount => privateKeyToAccount(hardhatKey(i));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export type Node = {
  url: string;
  port: number;
  proc: ChildProcess;
  stop: () => Promise<void>;
  rpc: (method: string, params?: unknown[]) => Promise<unknown>;
};

/** Starts `hardhat node --port <free>` and waits until it answers eth_chainId. */
export async function startHardhatNode(): Promise<Node> {
  const port = await freePort();
  const cli = realpathSync(join(process.cwd(), "node_modules", ".bin", "hardhat"));
  const proc = spawn(process.execPath, [cli, "node", "--port", String(port), "--hostname", "127.0.0.1"], {
    cwd: process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env },
  });
  let output = "";
  proc.stdout?.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-20_000)));
  proc.stderr?.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`hardhat node exited (${proc.exitCode}):\n${output}`);
    if (output.includes("Started HTTP")) {
      try {
        await rpc(url, "eth_chainId");
        break;
      } catch {
        /* not yet */
      }
    }
    if (Date.now() > deadline) throw new Error(`hardhat node did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    proc,
    rpc: (method, params) => rpc(url, method, params),
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
        setTimeout(() => proc.kill("SIGKILL"), 3_000).unref();
      }),
  };
}

export type Proxy = {
  url: string;
  cut: () => Promise<void>;
  restore: () => Promise<void>;
  close: () => Promise<void>;
};

/** A TCP proxy to `targetPort` that can drop every connection and refuse new ones, then come back. */
export async function startProxy(targetPort: number): Promise<Proxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, "127.0.0.1");
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        server = s;
        resolve();
      });
    });
  const cut = async () => {
    const s = server;
    server = null;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s !== null) await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();
  return { url: `http://127.0.0.1:${port}`, cut, restore: listen, close: cut };
}

export type World = {
  node: Node;
  viem: HardhatViem;
  d: SystemDeployment;
  close: () => Promise<void>;
};

/** Deploys the system on `node` with tiers high enough that the setup bundles are automatic. */
export async function deployWorld(node: Node): Promise<World> {
  const conn = await network.create({ network: "localhost", override: { url: node.url } });
  const viem = conn.viem as unknown as HardhatViem;
  const cfg = defaultLocalConfig();
  cfg.policy.global.tier1Usd = 50_000_000;
  cfg.policy.global.tier2Usd = 100_000_000;
  const d = await deploySystem(viem, cfg);
  await fundTreasury(viem, d, { weth: 1_000, wbtc: 0, usdc: 5_000_000, creatorPayoutsOwedWeth: 300 });
  return { node, viem, d, close: () => conn.close() };
}

const LegKind = { Option: 0, Perp: 1, MarginDeposit: 3 } as const;

/** The ATM 30-day WETH put of the listed strip. */
export function atmPut(d: SystemDeployment) {
  const s = d.series.find(
    (x) => x.underlying === d.tokens.weth.address && !x.isCall && x.strike === d.prices.weth,
  );
  if (s === undefined) throw new Error("no ATM WETH put");
  return s;
}

/**
 * Builds the starting book through the keeper account: 300 WETH perp short (with margin), then
 * 700 ATM puts and a perp adjustment, each bundle ending inside the band. Returns the vault's net.
 */
export async function setupBook(w: World): Promise<bigint> {
  const { viem, d } = w;
  const pc = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const by = (a: Address) => {
    const x = wallets.find((k) => k.account.address.toLowerCase() === a.toLowerCase());
    if (x === undefined) throw new Error(`no wallet ${a}`);
    return x;
  };
  const keeper = by(d.accounts.keeper);
  const treasurer = by(d.accounts.treasurer);
  const vault = await viem.getContractAt("TreasuryVault", d.vault);
  const ledger = await viem.getContractAt("TreasuryLedger", d.ledger);
  const amm = await viem.getContractAt("OptionsAMM", d.optionsAmm);
  const weth = d.tokens.weth.address;
  const wait = async (h: Hex) => {
    const r = await pc.waitForTransactionReceipt({ hash: h });
    if (r.status !== "success") throw new Error("setup tx reverted");
  };
  const net = async () => (await vault.read.exposure([weth])).net;
  const deadline = async () => (await pc.getBlock()).timestamp + 600n;
  const rebalance = async (
    legs: {
      kind: number;
      adapter: Address;
      underlying: Address;
      id: bigint;
      amount: bigint;
      bound: bigint;
    }[],
  ) => {
    const epoch = await vault.read.epoch();
    await wait(
      await vault.write.rebalance(
        [legs, `0x${"ab".repeat(31)}${epoch.toString(16).padStart(2, "0")}`, epoch, await deadline()],
        {
          account: keeper.account,
        },
      ),
    );
  };
  const perp = (size: bigint) => ({
    kind: LegKind.Perp,
    adapter: d.adapters.perp,
    underlying: weth,
    id: 0n,
    amount: size,
    bound: size < 0n ? 2_900n * WAD : 3_100n * WAD,
  });
  await wait(await ledger.write.setLiability([weth, 2, 700n * WAD], { account: treasurer.account }));
  await rebalance([
    {
      kind: LegKind.MarginDeposit,
      adapter: d.adapters.perp,
      underlying: weth,
      id: 0n,
      amount: parseUnits("1500000", 6),
      bound: 0n,
    },
    perp(-(await net())),
  ]);
  await wait(await ledger.write.setLiability([weth, 2, 300n * WAD], { account: treasurer.account }));
  const put = atmPut(d);
  const size = 700n * WAD;
  const putDelta = ((await amm.read.quote([put.id, size])).delta * size) / WAD;
  await rebalance([
    {
      kind: LegKind.Option,
      adapter: d.adapters.options,
      underlying: weth,
      id: put.id,
      amount: size,
      bound: 10_000_000n * WAD,
    },
    perp(-((await net()) + putDelta)),
  ]);
  return net();
}

/** Submits a new oracle answer (8 decimals) for WETH as the deployer (market operator). */
export async function setEthPrice(w: World, usd: number): Promise<void> {
  const feed = await w.viem.getContractAt("ManagedPriceFeed", w.d.feeds.weth);
  const pc = await w.viem.getPublicClient();
  const h = await feed.write.submit([BigInt(Math.round(usd * 1e8))]);
  await pc.waitForTransactionReceipt({ hash: h });
}

/** A keeper config for the world (metrics server off, quick timings). */
export function keeperConfig(
  w: World,
  over: Partial<KeeperConfigInput> & { rpcUrl?: string; journal: string },
) {
  const d = w.d;
  const input: KeeperConfigInput = {
    rpcUrl: w.node.url,
    chainId: d.chainId,
    contracts: { vault: d.vault, perpAdapter: d.adapters.perp, optionsAdapter: d.adapters.options },
    underlyings: [
      { symbol: "ETH", token: d.tokens.weth.address },
      { symbol: "BTC", token: d.tokens.wbtc.address },
    ],
    tickIntervalMs: 50,
    decide: { useFunding: false },
    execute: {
      replaceAfterMs: 2_000,
      confirmTimeoutMs: 10_000,
      pollMs: 20,
      retry: { maxAttempts: 4, initialMs: 50, maxMs: 500 },
    },
    gate: { approvalWaitMs: 10_000, approvalPollMs: 100 },
    metrics: { port: null },
    log: { level: "silent" },
    ...over,
  };
  return parseConfig(input);
}

/** A logger writing JSON lines into `lines` (for assertions on what is logged). */
export function captureLogger(lines: string[], level: "info" | "debug" = "info") {
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(
        ...chunk
          .toString()
          .split("\n")
          .filter((l) => l !== ""),
      );
      cb();
    },
  });
  return createLogger({ level, destination: dest });
}

export { WAD };
