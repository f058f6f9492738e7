/**
 * `npm run verify-roles -- --network <name>` (= `hardhat run scripts/deploy/verifyRolesCli.ts
 * --network <name>`): prints the role table read from the chain; exit code 1 on any difference from
 * the intended wiring. DEPLOYMENTS_DIR overrides the directory of deployments/<name>.json.
 */
import hre from "hardhat";
import { runVerifyRoles } from "./commands.ts";
import { hardhatEnv } from "./hardhatEnv.ts";

process.exitCode = (await runVerifyRoles(hardhatEnv(hre))).code;
