#!/usr/bin/env node
/**
 * deltavault — the keeper's operator CLI.
 *
 *   deltavault keeper run --config <file> [--live]    run the keeper (dry run unless --live)
 *   deltavault keeper status --config <file>          chain state, exposure and pending intents
 *   deltavault keeper journal --config <file> [--limit n] [--status s]
 *   deltavault keeper simulate-once --config <file>   one full tick, simulated, nothing sent
 *   deltavault keeper init-config --deployment <file> --rpc-url <url> --out <file>
 *   deltavault backtest [flags]                       the policy backtest (keeper/src/backtest/cli.ts)
 *
 * The signing key comes from DELTAVAULT_KEEPER_KEY or, with --key-source keystore, from Hardhat's
 * encrypted keystore (never from the config file, never logged).
 * Exit codes: 0 ok, 1 runtime failure, 2 usage / configuration / preflight refusal.
 */
import { parseArgs } from "node:util";
import { createPublicClient, http } from "viem";
import { loadAbis } from "../chain/abis.ts";
import { PreflightError, checkKeeperRoles, resolveAddresses } from "../chain/resolve.ts";
import { modeName, readVaultState } from "../chain/state.ts";
import type { Client } from "../chain/multicall.ts";
import { ConfigError, loadConfig } from "../config/index.ts";
import { INTENT_STATUSES, openJournal, type IntentStatus } from "../journal/index.ts";
import { startKeeper } from "../loop/keeper.ts";
import { createLogger, scrub } from "../report/logger.ts";
import { createMetrics } from "../report/metrics.ts";
import { startServer } from "../report/server.ts";
import type { LocalAccount } from "viem";
import { InitConfigError, initConfig } from "./initConfig.ts";
import { KEY_ENV, KEY_SOURCES, KEYSTORE_PASSWORD_ENV, KeyError, loadSigner, type KeySource } from "./keys.ts";

export const USAGE = `usage: deltavault keeper <command> --config <file> [options]
       deltavault keeper init-config --deployment <file> --rpc-url <url> --out <file> [options]
       deltavault backtest [flags]     the hedging-policy backtest (deltavault backtest --help)

commands:
  run             run the keeper loop (dry run: simulates, never sends)
                    --live        actually send transactions
  status          vault epoch, mode, exposure per underlying, journal summary
  journal         print journal entries (newest first)
                    --limit <n>   how many (default 20)
                    --status <s>  only this status (${INTENT_STATUSES.join(", ")})
  simulate-once   run one full tick in dry-run mode and print what it would do
  init-config     write a keeper config from a deployment file (npm run deploy -- --network <name>)
                    --deployment <file>   deployments/<network>.json
                    --rpc-url <url>       the node's JSON-RPC URL
                    --out <file>          the config to write (an existing file is kept unless --force)
                    --journal <path>      SQLite journal (default keeper-journal.sqlite)

signing key (run, simulate-once, status):
  --key-source env|keystore   where the key comes from (default env)
  --keystore-key <name>       the Hardhat keystore key (default ${KEY_ENV})
  --keystore-file <path>      the keystore file (default Hardhat's: npx hardhat keystore path)

environment:
  ${KEY_ENV}          the keeper's private key (0x + 64 hex); never put it in the config file
  ${KEYSTORE_PASSWORD_ENV}   the keystore password (else asked on the terminal, not echoed)
`;

export class UsageError extends Error {}

const json = (x: unknown) =>
  JSON.stringify(x, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);

type Out = { out: (s: string) => void; err: (s: string) => void };

const KEEPER_COMMANDS = ["run", "status", "journal", "simulate-once", "init-config"];

/**
 * `deltavault backtest …`: the backtest CLI (loaded on demand, so the keeper commands never load
 * it), its newline-terminated chunks as lines of `io`.
 */
async function backtestCmd(argv: string[], io: Out): Promise<number> {
  const { USAGE: BACKTEST_USAGE, runBacktestCli } = await import("../backtest/cli.ts");
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(BACKTEST_USAGE.replace(/^usage: backtest/u, "usage: deltavault backtest"));
    return 0;
  }
  const line = (write: (s: string) => void) => (s: string) => write(s.replace(/\n$/u, ""));
  return runBacktestCli(argv, { stdout: line(io.out), stderr: line(io.err) });
}

export async function main(
  argv: string[],
  io: Out = { out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n") },
): Promise<number> {
  if (argv[0] === "backtest") return backtestCmd(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        live: { type: "boolean", default: false },
        limit: { type: "string" },
        status: { type: "string" },
        "key-source": { type: "string" },
        "keystore-key": { type: "string" },
        "keystore-file": { type: "string" },
        deployment: { type: "string" },
        "rpc-url": { type: "string" },
        out: { type: "string" },
        journal: { type: "string" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    io.err(`deltavault: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals.length === 0) {
    io.out(USAGE);
    return values.help === true ? 0 : 2;
  }
  const [group, command, ...rest] = positionals;
  if (group !== "keeper" || command === undefined || rest.length > 0) {
    io.err(`deltavault: unknown command "${positionals.join(" ")}"\n\n${USAGE}`);
    return 2;
  }
  if (!KEEPER_COMMANDS.includes(command)) {
    io.err(`deltavault: unknown keeper command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (command === "init-config") return initConfigCmd(values, io);
  const keySource = values["key-source"] ?? "env";
  if (!(KEY_SOURCES as readonly string[]).includes(keySource)) {
    io.err(
      `deltavault keeper ${command}: --key-source must be one of ${KEY_SOURCES.join(", ")} (got ${keySource})`,
    );
    return 2;
  }
  const keys: Keys = {
    source: keySource as KeySource,
    signer: () =>
      loadSigner({
        source: keySource as KeySource,
        ...(values["keystore-key"] === undefined ? {} : { keyName: values["keystore-key"] }),
        ...(values["keystore-file"] === undefined ? {} : { file: values["keystore-file"] }),
      }),
  };
  if (values.config === undefined) {
    io.err(`deltavault keeper ${command}: --config <file> is required`);
    return 2;
  }
  try {
    const config = loadConfig(values.config);
    switch (command) {
      case "journal":
        return journalCmd(config.journal, values.limit, values.status, io);
      case "status":
        return await statusCmd(config, keys, io);
      case "simulate-once":
        return await simulateOnce(config, keys, io);
      default:
        return await runCmd(config, keys, values.live === true, io);
    }
  } catch (e) {
    // Last line of defence: whatever the error says, the key never reaches the terminal.
    const message = scrub((e as Error).message, process.env[KEY_ENV] ?? null);
    if (
      e instanceof ConfigError ||
      e instanceof KeyError ||
      e instanceof PreflightError ||
      e instanceof UsageError
    ) {
      io.err(`deltavault keeper ${command}: ${message}`);
      return 2;
    }
    io.err(`deltavault keeper ${command}: ${message}`);
    return 1;
  }
}

/** How the commands that sign get the key: `signer()` reads it from the chosen source. */
type Keys = { source: KeySource; signer: () => Promise<LocalAccount> };

function initConfigCmd(
  values: { deployment?: string; "rpc-url"?: string; out?: string; journal?: string; force?: boolean },
  io: Out,
): number {
  const missing = (["deployment", "rpc-url", "out"] as const).filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    io.err(
      `deltavault keeper init-config: ${missing.map((k) => `--${k}`).join(", ")} required\n` +
        `usage: deltavault keeper init-config --deployment <file> --rpc-url <url> --out <file> [--journal <path>] [--force]`,
    );
    return 2;
  }
  try {
    const c = initConfig({
      deployment: values.deployment as string,
      rpcUrl: values["rpc-url"] as string,
      out: values.out as string,
      force: values.force === true,
      ...(values.journal === undefined ? {} : { journal: values.journal }),
    });
    io.out(
      `wrote ${values.out}: chain ${c.chainId}, vault ${c.contracts.vault}, underlyings ${c.underlyings.map((u) => u.symbol).join(", ")}`,
    );
    return 0;
  } catch (e) {
    if (e instanceof InitConfigError || e instanceof ConfigError) {
      io.err(`deltavault keeper init-config: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
}

function journalCmd(
  path: string,
  limitArg: string | undefined,
  statusArg: string | undefined,
  io: Out,
): number {
  const limit = limitArg === undefined ? 20 : Number(limitArg);
  if (!(Number.isSafeInteger(limit) && limit > 0))
    throw new UsageError(`--limit must be a positive integer (got ${limitArg})`);
  if (statusArg !== undefined && !(INTENT_STATUSES as readonly string[]).includes(statusArg)) {
    throw new UsageError(`--status must be one of ${INTENT_STATUSES.join(", ")} (got ${statusArg})`);
  }
  const j = openJournal(path);
  try {
    const rows = j.list({ limit, ...(statusArg === undefined ? {} : { status: statusArg as IntentStatus }) });
    for (const r of rows) {
      io.out(
        JSON.stringify({
          id: r.id,
          status: r.status,
          epoch: r.epoch.toString(),
          inputsHash: r.inputsHash,
          txHash: r.txHash,
          nonce: r.nonce,
          block: r.blockNumber?.toString() ?? null,
          error: r.error,
          createdAt: new Date(r.createdAt).toISOString(),
        }),
      );
    }
  } finally {
    j.close();
  }
  return 0;
}

async function statusCmd(config: ReturnType<typeof loadConfig>, keys: Keys, io: Out): Promise<number> {
  const abis = loadAbis();
  const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 1 }) }) as Client;
  const a = await resolveAddresses(client, abis, {
    chainId: config.chainId,
    vault: config.contracts.vault,
    perpAdapter: config.contracts.perpAdapter,
    optionsAdapter: config.contracts.optionsAdapter,
    spotAdapter: config.contracts.spotAdapter,
    spotQuoter: config.contracts.spotQuoter,
    underlyings: config.underlyings,
  });
  let keeper: { address: string; keeperRole: boolean; proposerRole: boolean } | null = null;
  // The keeper's roles are shown when a key is at hand: an explicit keystore, or the env variable.
  if (keys.source === "keystore" || process.env[KEY_ENV] !== undefined) {
    const acct = await keys.signer();
    try {
      const r = await checkKeeperRoles(client, abis, a, acct.address);
      keeper = { address: acct.address, keeperRole: true, proposerRole: r.proposer };
    } catch (e) {
      if (!(e instanceof PreflightError)) throw e;
      keeper = { address: acct.address, keeperRole: false, proposerRole: false };
    }
  }
  const s = await readVaultState(client, abis, a);
  const j = openJournal(config.journal);
  const pending = j.pending();
  const last = j.list({ limit: 5 });
  j.close();
  io.out(
    json({
      chainId: a.chainId,
      vault: a.vault,
      block: s.blockNumber,
      epoch: s.epoch,
      mode: modeName(s.mode),
      keeper,
      underlyings: s.underlyings.map((u) => ({
        symbol: u.info.symbol,
        net: u.exposure === null ? null : Number(u.exposure.net) / 1e18,
        target: u.exposure === null ? null : Number(u.exposure.target) / 1e18,
        band: u.exposure === null ? null : Number(u.exposure.band) / 1e18,
        rebalanceDue: u.exposure?.rebalanceDue ?? null,
        price: u.exposure === null ? null : Number(u.exposure.price) / 1e18,
        error: u.exposureError,
        heldSeries: u.held.length,
      })),
      journal: {
        path: config.journal,
        pending: pending.map((r) => ({ id: r.id, status: r.status, epoch: r.epoch, txHash: r.txHash })),
        latest: last.map((r) => ({ id: r.id, status: r.status, epoch: r.epoch, txHash: r.txHash })),
      },
    }),
  );
  return 0;
}

async function simulateOnce(config: ReturnType<typeof loadConfig>, keys: Keys, io: Out): Promise<number> {
  const account = await keys.signer();
  const logger = createLogger({ level: config.log.level === "info" ? "warn" : config.log.level });
  const keeper = await startKeeper({ config, account, logger, metrics: createMetrics(), live: false });
  try {
    const r = await keeper.tick();
    io.out(
      json({
        outcome: r.outcome,
        reasons: r.reasons,
        epoch: r.epoch,
        mode: r.mode,
        tier: r.tier,
        inputsHash: r.inputsHash,
        decisions: r.decisions,
        legs: r.legs,
      }),
    );
    return r.outcome === "error" ? 1 : 0;
  } finally {
    keeper.close();
  }
}

async function runCmd(
  config: ReturnType<typeof loadConfig>,
  keys: Keys,
  live: boolean,
  io: Out,
): Promise<number> {
  const account = await keys.signer();
  const logger = createLogger({ level: config.log.level });
  const metrics = createMetrics();
  const keeper = await startKeeper({ config, account, logger, metrics, live });
  const server =
    config.metrics.port === null
      ? null
      : await startServer({
          metrics,
          health: keeper.health,
          healthyWithinMs: config.metrics.healthyWithinMs,
          port: config.metrics.port,
          host: config.metrics.host,
        });
  if (server !== null) logger.info({ port: server.port }, "serving /metrics and /healthz");
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      logger.warn({ signal: sig }, "shutdown requested: finishing in-flight work (again to force)");
      ac.abort();
    } else {
      logger.error({ signal: sig }, "forced exit: pending intents will be reconciled on the next start");
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await keeper.run(ac.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await server?.close();
    keeper.close();
  }
  io.out("keeper stopped cleanly");
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/deltavault") === true) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`deltavault: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
