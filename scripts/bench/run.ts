/**
 * Benchmark entry point: `npm run -s bench -- <suite> [--json]`.
 *
 * Suites: `gas` (contracts on the embedded chain), `keeper` (the keeper's pricing stage, pure
 * TypeScript, then its live tick-to-broadcast latency against a `hardhat node` child process).
 * Without --json a readable table is printed; with
 * --json the last stdout line is one JSON object holding every figure (progress goes to stderr).
 */
import { parseArgs } from "node:util";
import { network } from "hardhat";
import { z } from "zod";
import { benchBlackScholes } from "./blackScholes.ts";
import { benchOptions } from "./options.ts";
import { benchPerp } from "./perp.ts";
import { benchUniswap } from "./uniswap.ts";
import { benchVault } from "./vault.ts";
import { benchKeeperPricing } from "./keeperPricing.ts";
import { benchKeeper } from "./keeper.ts";

type Figures = Record<string, number | string>;
type Suite = () => Promise<Figures>;

async function fresh<T>(
  run: (viem: Awaited<ReturnType<typeof network.connect>>["viem"]) => Promise<T>,
): Promise<T> {
  const connection = await network.connect();
  try {
    return await run(connection.viem);
  } finally {
    await connection.close();
  }
}

const suites: Record<string, Suite> = {
  keeper: async () => {
    process.stderr.write("bench keeper: pricing (implied vol, greeks)...\n");
    const pricing = await benchKeeperPricing();
    process.stderr.write("bench keeper: tick to broadcast (hardhat node child process)...\n");
    const latency = await benchKeeper();
    return { ...pricing, ...latency };
  },
  gas: async () => {
    const parts: Array<[string, () => Promise<object>]> = [
      ["black-scholes", () => fresh((viem) => benchBlackScholes(viem))],
      ["options AMM", () => fresh((viem) => benchOptions(viem))],
      ["perp DEX", () => fresh((viem) => benchPerp(viem))],
      ["uniswap v3", () => fresh((viem) => benchUniswap(viem))],
      // The vault's figures include its own swap measurement (bundleToSwapRatio uses it), which
      // replaces the standalone one above: both are the same 10 WETH exactInputSingle.
      ["treasury vault", () => fresh((viem) => benchVault(viem))],
    ];
    const out: Figures = {};
    for (const [name, run] of parts) {
      process.stderr.write(`bench gas: ${name}...\n`);
      Object.assign(out, await run());
    }
    return out;
  },
};

const argsSchema = z.object({
  suite: z.enum(Object.keys(suites) as [string, ...string[]], {
    error: (issue) =>
      `unknown suite ${JSON.stringify(issue.input)}; expected one of: ${Object.keys(suites).join(", ")}`,
  }),
  json: z.boolean(),
});

function parseCli(argv: string[]): z.infer<typeof argsSchema> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new Error(`usage: bench <${Object.keys(suites).join("|")}> [--json]`);
  const parsed = argsSchema.safeParse({ suite: positionals[0], json: values.json });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join("; "));
  return parsed.data;
}

function printTable(figures: Figures): void {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [key, value] of Object.entries(figures)) {
    const shown =
      typeof value === "number" && Number.isInteger(value) ? value.toLocaleString("en-US") : String(value);
    console.log(`${key.padEnd(width)}  ${shown}`);
  }
}

async function main(): Promise<void> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(2);
  }
  const suite = suites[cli.suite];
  if (!suite) throw new Error(`unknown suite ${cli.suite}`);
  const figures = await suite();
  if (cli.json) console.log(JSON.stringify(figures));
  else printTable(figures);
}

await main();
