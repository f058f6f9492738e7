/**
 * `npm run -s backtest -- [flags]`: replays a price history (or a simulated path) through the
 * keeper's decide/plan stages on the model venues (`--engine model`, default) or through the real
 * contracts and the live keeper on the embedded chain (`--engine chain`), for every hedging policy,
 * and writes the report (table, JSON, PNG charts). See keeper/src/backtest/cli.ts for the flags.
 */
import { runBacktestCli } from "../keeper/src/backtest/cli.ts";

const code = await runBacktestCli(
  process.argv.slice(2),
  {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  },
  {
    // Loaded only when asked for: it starts Hardhat (and compiles nothing: artifacts must exist).
    chain: async (o) => (await import("./backtest/chainEngine.ts")).runChainBacktest(o),
  },
);
process.exitCode = code;
