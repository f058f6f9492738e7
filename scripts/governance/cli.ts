/**
 * Entry of the operator commands (see commands.ts):
 *
 *   npm run propose -- --network <name> "<description>" [--dry-run]   (= node scripts/governance/cli.ts propose …)
 *   npm run governance -- --network <name> status|vote|queue|execute <proposalId | description>
 *   npm run guardian -- --network <name> pause|reduce-only|unwind …
 *
 * A plain Node entry rather than `hardhat run`: `hardhat run` takes the script as its only positional
 * argument (a description or a subcommand after it is refused), so this script imports Hardhat's
 * runtime itself, parses process.argv, and opens the connection with `network.create(<--network>)`
 * (hardhatEnv.ts: the same network table and DEPLOYMENTS_DIR handling as `npm run deploy`).
 */
import hre from "hardhat";
import { hardhatEnv } from "../deploy/hardhatEnv.ts";
import { runOperatorCommand } from "./commands.ts";

const { artifacts: _artifacts, networkName: _networkName, ...env } = hardhatEnv(hre);
process.exitCode = await runOperatorCommand({ ...env, vars: process.env }, process.argv.slice(2));
