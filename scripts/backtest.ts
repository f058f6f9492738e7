/**
 * `npm run -s backtest -- [flags]`: replays a price history (or a simulated path) through the
 * keeper's decide/plan stages and the model venues, for every hedging policy, and writes the
 * report (table, JSON, PNG charts). See keeper/src/backtest/cli.ts for the flags.
 */
import { runBacktestCli } from "../keeper/src/backtest/cli.ts";

const code = await runBacktestCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
process.exitCode = code;
