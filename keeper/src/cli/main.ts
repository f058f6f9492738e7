#!/usr/bin/env node
/**
 * deltavault — the keeper's operator CLI.
 *
 *   deltavault keeper run --config <file> [--live]    run the keeper (dry run unless --live)
 *   deltavault keeper status --config <file>          chain state, exposure and pending intents
 *   deltavault keeper journal --config <file> [--limit n] [--status s]
 *   deltavault keeper simulate-once --config <file>   one full tick, simulated, nothing sent
 *
 * The signing key comes from DELTAVAULT_KEEPER_KEY (never from the config file, never logged).
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
import { KEY_ENV, KeyError, signerFromEnv } from "./keys.ts";

export const USAGE = `usage: deltavault keeper <command> --config <file> [options]

commands:
  run             run the keeper loop (dry run: simulates, never sends)
                    --live        actually send transactions
  status          vault epoch, mode, exposure per underlying, journal summary
  journal         print journal entries (newest first)
                    --limit <n>   how many (default 20)
                    --status <s>  only this status (${INTENT_STATUSES.join(", ")})
  simulate-once   run one full tick in dry-run mode and print what it would do

environment:
  ${KEY_ENV}   the keeper's private key (0x + 64 hex); never put it in the config file
`;

export class UsageError extends Error {}

const json = (x: unknown) =>
  JSON.stringify(x, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);

type Out = { out: (s: string) => void; err: (s: string) => void };

export async function main(
  argv: string[],
  io: Out = { out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n") },
): Promise<number> {
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
  if (!["run", "status", "journal", "simulate-once"].includes(command)) {
    io.err(`deltavault: unknown keeper command "${command}"\n\n${USAGE}`);
    return 2;
  }
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
        return await statusCmd(config, io);
      case "simulate-once":
        return await simulateOnce(config, io);
      default:
        return await runCmd(config, values.live === true, io);
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

async function statusCmd(config: ReturnType<typeof loadConfig>, io: Out): Promise<number> {
  const abis = loadAbis();
  const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 1 }) }) as Client;
  const a = await resolveAddresses(client, abis, {
    chainId: config.chainId,
    vault: config.contracts.vault,
    perpAdapter: config.contracts.perpAdapter,
    optionsAdapter: config.contracts.optionsAdapter,
    underlyings: config.underlyings,
  });
  let keeper: { address: string; keeperRole: boolean; proposerRole: boolean } | null = null;
  if (process.env[KEY_ENV] !== undefined) {
    const acct = signerFromEnv();
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

async function simulateOnce(config: ReturnType<typeof loadConfig>, io: Out): Promise<number> {
  const account = signerFromEnv();
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

async function runCmd(config: ReturnType<typeof loadConfig>, live: boolean, io: Out): Promise<number> {
  const account = signerFromEnv();
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
