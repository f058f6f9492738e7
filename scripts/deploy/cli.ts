/**
 * `npm run deploy -- --network <name>` (= `hardhat run scripts/deploy/cli.ts --network <name>`):
 * deploys the whole system idempotently and writes deployments/<name>.json. DEPLOYMENTS_DIR
 * overrides the output directory.
 */
import hre from "hardhat";
import { runDeploy } from "./commands.ts";
import { hardhatEnv } from "./hardhatEnv.ts";

process.exitCode = await runDeploy(hardhatEnv(hre));
