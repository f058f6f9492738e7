/**
 * The operator commands on top of a deployment (`npm run deploy -- --network <name>`), as functions
 * of explicit inputs (cli.ts passes Hardhat's runtime and process.argv; tests call them the same way):
 *
 *   propose --network <n> "<description>" [--dry-run] [--note <text>]
 *   governance --network <n> status|vote|queue|execute <proposalId | description> [--support for|against|abstain]
 *   guardian --network <n> pause|reduce-only|unwind [--adapter <addr> --underlying <WETH|WBTC|addr>
 *            --acceptable-price <usd> [--deadline <seconds>]] [--signers <addr,addr>]
 *
 * A description is the grammar of limits.ts ("set WETH band to 25 ETH; set slippage to 40 bps") or
 * "unpause vault" (the governance proposal that returns a paused / reduce-only vault to Normal).
 * Exit codes: 0 done, 1 refused or failed (the reason is printed), 2 usage or unreadable description.
 */
import { parseArgs } from "node:util";
import { formatUnits, getAddress, isAddress, parseAbi, parseUnits, type Address } from "viem";
import { GovernanceError } from "./errors.ts";
import {
  castVote,
  execute,
  proposalIdOf,
  proposalStatus,
  propose,
  queue,
  type ProposalStatus,
  type VoteSupport,
} from "./governor.ts";
import { ASSETS, nearest, parseLimitChanges, type AssetSymbol, type LimitParseError } from "./limits.ts";
import {
  buildLimitProposal,
  renderDiff,
  unpauseProposal,
  type DiffLine,
  type GovernorProposal,
} from "./proposal.ts";
import { guardianAction, vaultMode, type GuardianAction } from "./safe.ts";
import {
  CliError,
  listProposals,
  loadDeployment,
  operatorWallet,
  safeSigners,
  selfDelegateIfNeeded,
  votesTokenAbi,
  type Deployment,
  type OperatorEnv,
  type RecordedProposal,
} from "./deployment.ts";
import { governorAbi } from "./abis.ts";

export const GRAMMAR = `descriptions:
  set <WETH|WBTC> <field> to <value> [unit]   e.g. "set WETH band to 25 ETH"
  set <field> to <value> [unit]               e.g. "set slippage to 40 bps"
  enable <WETH|WBTC> | disable <WETH|WBTC>
  allow venue <address> | disallow venue <address>
  unpause vault
  several limit changes may be joined with ";"`;

export const USAGE = `usage:
  npm run propose -- --network <name> "<description>" [--dry-run] [--note <text>]
  npm run governance -- --network <name> status|vote|queue|execute <proposalId | description>
                        [--support for|against|abstain]
  npm run guardian -- --network <name> pause|reduce-only|unwind [--signers <owner,owner>]
                      unwind: --adapter <address> --underlying <WETH|WBTC|address>
                              --acceptable-price <usd> [--deadline <seconds from now, default 600>]

${GRAMMAR}

environment:
  DEPLOYMENTS_DIR              directory of deployments/<network>.json (default deployments)
  DELTAVAULT_SAFE_OWNER_KEYS   Safe owners' private keys, comma-separated (real networks; never printed)`;

export type OperatorCommand = "propose" | "governance" | "guardian";

/** Runs one command; returns the process exit code. */
export async function runOperatorCommand(env: OperatorEnv, argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "propose":
        return await runPropose(env, rest);
      case "governance":
        return await runGovernance(env, rest);
      case "guardian":
        return await runGuardian(env, rest);
      default:
        throw new CliError(2, `unknown command "${command ?? ""}" (propose, governance or guardian)`);
    }
  } catch (err) {
    const name = command ?? "command";
    if (err instanceof CliError) {
      env.out(`${name}: ${err.message}`);
      if (err.exitCode === 2 && /^(?:usage|missing|unknown command)/u.test(err.message))
        env.out(`\n${USAGE}`);
      return err.exitCode;
    }
    if (err instanceof GovernanceError) {
      env.out(`${name} refused (${err.code}): ${err.message}`);
      return err.code === "parse" ? 2 : 1;
    }
    env.out(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

const OPTIONS = {
  network: { type: "string" },
  "dry-run": { type: "boolean" },
  note: { type: "string" },
  support: { type: "string" },
  adapter: { type: "string" },
  underlying: { type: "string" },
  "acceptable-price": { type: "string" },
  deadline: { type: "string" },
  signers: { type: "string" },
} as const;
type OptionName = keyof typeof OPTIONS;

interface Args {
  network: string;
  positionals: string[];
  values: Partial<Record<OptionName, string | boolean>>;
}

function parse(argv: readonly string[], allowed: readonly OptionName[]): Args {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(2, `usage: ${err instanceof Error ? err.message : String(err)}`);
  }
  const values = parsed.values as Partial<Record<OptionName, string | boolean>>;
  for (const key of Object.keys(values)) {
    if (key !== "network" && !allowed.includes(key as OptionName))
      throw new CliError(2, `usage: unknown option --${key} for this command`);
  }
  const network = values.network;
  if (typeof network !== "string" || network === "")
    throw new CliError(2, "missing --network <name> (the network of npm run deploy)");
  return { network, positionals: parsed.positionals, values };
}

const str = (a: Args, k: OptionName): string | undefined => {
  const v = a.values[k];
  return typeof v === "string" ? v : undefined;
};

function addressArg(value: string, what: string): Address {
  if (!isAddress(value, { strict: false })) throw new CliError(2, `${what}: "${value}" is not an address`);
  return getAddress(value);
}

// ---------------------------------------------------------------------------------------------
// Descriptions
// ---------------------------------------------------------------------------------------------

type Described =
  { kind: "limits"; title: string; text: string } | { kind: "unpause"; title: string; text: string };

const UNPAUSE_RE = /^unpause(?: the)?(?: vault)?$/u;

/** Parses a description, refusing (exit 2) with the error, the nearest valid word and the grammar. */
function readDescription(text: string): Described {
  const normalized = text.trim().replace(/\s+/gu, " ");
  if (UNPAUSE_RE.test(normalized.toLowerCase())) {
    return { kind: "unpause", title: "Unpause the vault", text: normalized };
  }
  const parsed = parseLimitChanges(normalized);
  if (parsed.ok) {
    // Same title as buildLimitProposal's description ("# Risk limits: <change texts>").
    return {
      kind: "limits",
      title: `Risk limits: ${parsed.value.map((c) => c.text).join("; ")}`,
      text: normalized,
    };
  }
  throw new CliError(2, parseProblem(normalized, parsed.error));
}

function parseProblem(text: string, error: LimitParseError): string {
  let { message, suggestion } = error;
  if (error.code === "unknown-verb" && error.token !== undefined && nearest(error.token, ["unpause"])) {
    suggestion = "unpause";
    message = `unknown verb "${error.token}" (did you mean "unpause"?)`;
  }
  const lines = [`cannot read "${text}": ${message}`];
  if (suggestion !== undefined && error.token !== undefined) {
    const fixed = suggestion === "unpause" ? "unpause vault" : replaceWord(text, error.token, suggestion);
    lines.push(`did you mean: ${fixed}`);
  }
  lines.push("", GRAMMAR);
  return lines.join("\n");
}

function replaceWord(text: string, word: string, by: string): string {
  const words = text.split(" ");
  const i = words.findIndex((w) => w === word);
  if (i < 0) return text;
  words[i] = by;
  return words.join(" ");
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

function dvg(amount: bigint): string {
  const [int = "0", frac] = formatUnits(amount, 18).split(".");
  return `${int.replace(/\B(?=(\d{3})+(?!\d))/gu, ",")}${frac ? `.${frac}` : ""} DVG`;
}

function when(t: bigint): string {
  const ms = Number(t) * 1000;
  return Number.isFinite(ms) && ms < 8.64e15 ? `${t} (${new Date(ms).toISOString()})` : `${t}`;
}

function statusLines(s: ProposalStatus, title?: string): string[] {
  const counted = s.votes.for + s.votes.abstain;
  return [
    `proposal ${s.proposalId}`,
    ...(title ? [`  title   ${title}`] : []),
    `  state   ${s.state}`,
    `  votes   for ${dvg(s.votes.for)} · against ${dvg(s.votes.against)} · abstain ${dvg(s.votes.abstain)}`,
    `  quorum  ${dvg(s.quorum)} (For + Abstain: ${dvg(counted)}, ${counted >= s.quorum ? "reached" : "not reached"})`,
    `  voting  opens after ${when(s.snapshot)}, closes at ${when(s.deadline)} (chain time ${when(s.clock)})`,
    `  eta     ${s.eta === 0n ? "not queued" : when(s.eta)}`,
  ];
}

function titleOf(p: GovernorProposal): string {
  return (p.description.split("\n")[0] ?? "").replace(/^#\s*/u, "");
}

function header(env: OperatorEnv, d: Deployment): void {
  env.out(`network ${d.network} (chain ${d.chainId}), deployment ${d.path}`);
}

// ---------------------------------------------------------------------------------------------
// propose
// ---------------------------------------------------------------------------------------------

interface Built {
  proposal: GovernorProposal;
  diff: DiffLine[];
  preflight: string;
}

async function buildFromDescription(d: Deployment, described: Described, note?: string): Promise<Built> {
  if (described.kind === "limits") {
    const built = await buildLimitProposal(d.publicClient, {
      policy: d.policy,
      change: described.text,
      underlyings: d.underlyings,
      executor: d.timelock,
      ...(note !== undefined ? { note } : {}),
    });
    return {
      proposal: built.proposal,
      diff: built.diff,
      preflight: `every call succeeds when the Timelock ${d.timelock} executes it (RiskPolicy ${d.policy})`,
    };
  }
  const mode = await vaultMode(d.publicClient, d.vault);
  if (mode === "Normal") {
    throw new GovernanceError("no-change", `vault ${d.vault} is already Normal: there is nothing to unpause`);
  }
  const proposal = unpauseProposal(d.vault, note);
  const [call] = proposal.calldatas;
  try {
    await d.publicClient.call({ account: d.timelock, to: d.vault, data: call });
  } catch (err) {
    throw new GovernanceError(
      "preflight",
      `the vault would refuse unpause() from the Timelock ${d.timelock}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return {
    proposal,
    diff: [{ scope: "vault", field: "mode", current: mode, proposed: "Normal", changed: true }],
    preflight: `unpause() succeeds when the Timelock ${d.timelock} executes it (vault ${d.vault})`,
  };
}

async function runPropose(env: OperatorEnv, argv: readonly string[]): Promise<number> {
  const args = parse(argv, ["dry-run", "note"]);
  const text = args.positionals.join(" ");
  if (text.trim() === "") throw new CliError(2, 'missing the description, e.g. "set WETH band to 25 ETH"');
  const described = readDescription(text);
  const d = await loadDeployment(env, args.network);
  header(env, d);

  const built = await buildFromDescription(d, described, str(args, "note"));
  const proposalId = await proposalIdOf(d.publicClient, d.governor, built.proposal);
  env.out(`proposal: ${titleOf(built.proposal)}`);
  env.out("");
  env.out(renderDiff(built.diff));
  env.out("");
  env.out(`preflight: ${built.preflight}`);
  env.out(`proposal id ${proposalId}`);

  if (args.values["dry-run"] === true) {
    env.out("dry run: nothing submitted");
    return 0;
  }
  const wallet = await operatorWallet(d);
  const delegated = await selfDelegateIfNeeded(d, wallet);
  if (delegated > 0n)
    env.out(`delegated the proposer's ${dvg(delegated)} to itself (votes count once delegated)`);
  const result = await propose(d.publicClient, wallet, { governor: d.governor, proposal: built.proposal });
  env.out(`submitted by ${getAddress(wallet.account.address)} in transaction ${result.hash}`);
  env.out("");
  for (const line of statusLines(result.status)) env.out(line);
  env.out("");
  env.out(`next: npm run governance -- --network ${d.network} vote ${proposalId}`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// governance status | vote | queue | execute
// ---------------------------------------------------------------------------------------------

const SUPPORTS: readonly VoteSupport[] = ["for", "against", "abstain"];

/** The proposal an argument names: an id, or the description it was made from (latest match). */
async function resolveProposal(env: OperatorEnv, d: Deployment, target: string): Promise<RecordedProposal> {
  const all = await listProposals(d);
  if (/^(?:\d+|0x[0-9a-fA-F]+)$/u.test(target)) {
    const id = BigInt(target);
    const found = all.find((p) => p.proposalId === id);
    if (!found) throw new GovernanceError("state", `no proposal ${id} on the Governor ${d.governor}`);
    return found;
  }
  const described = readDescription(target);
  const title = described.kind === "unpause" ? `${described.title} ${getAddress(d.vault)}` : described.title;
  const matches = all.filter((p) => titleOf(p.proposal) === title);
  const last = matches.at(-1);
  if (!last) {
    throw new GovernanceError(
      "state",
      `no proposal "${title}" on the Governor ${d.governor}: propose it first (npm run propose -- --network ${d.network} "${described.text}")`,
    );
  }
  if (matches.length > 1) env.out(`${matches.length} proposals match "${title}": using the latest`);
  const id = await proposalIdOf(d.publicClient, d.governor, last.proposal);
  if (id !== last.proposalId)
    throw new GovernanceError("state", `proposal ${last.proposalId}: event does not hash to its id`);
  return last;
}

async function runGovernance(env: OperatorEnv, argv: readonly string[]): Promise<number> {
  const args = parse(argv, ["support"]);
  const [action, ...targetWords] = args.positionals;
  if (action !== "status" && action !== "vote" && action !== "queue" && action !== "execute") {
    throw new CliError(2, `usage: expected status, vote, queue or execute, got "${action ?? ""}"`);
  }
  const target = targetWords.join(" ").trim();
  if (target === "") throw new CliError(2, `missing the proposal id or description after "${action}"`);
  const support = str(args, "support") ?? "for";
  if (!SUPPORTS.includes(support as VoteSupport))
    throw new CliError(2, `usage: --support must be for, against or abstain, got "${support}"`);
  if (action !== "vote" && args.values.support !== undefined)
    throw new CliError(2, "usage: --support applies to vote only");
  if (!/^(?:\d+|0x[0-9a-fA-F]+)$/u.test(target)) readDescription(target); // exit 2 before any RPC

  const d = await loadDeployment(env, args.network);
  header(env, d);
  const recorded = await resolveProposal(env, d, target);
  const { proposal, proposalId } = recorded;
  const title = titleOf(proposal);

  switch (action) {
    case "status": {
      const s = await proposalStatus(d.publicClient, d.governor, proposalId);
      for (const line of statusLines(s, title)) env.out(line);
      env.out(`  proposer ${recorded.proposer} (block ${recorded.blockNumber})`);
      return 0;
    }
    case "vote": {
      const wallet = await operatorWallet(d);
      const before = await proposalStatus(d.publicClient, d.governor, proposalId);
      if (before.state === "Active") {
        const power = await d.publicClient.readContract({
          address: d.governor,
          abi: governorAbi,
          functionName: "getVotes",
          args: [wallet.account.address, before.snapshot],
        });
        if (power === 0n) {
          const balance = await d.publicClient.readContract({
            address: d.token,
            abi: votesTokenAbi,
            functionName: "balanceOf",
            args: [wallet.account.address],
          });
          throw new GovernanceError(
            "threshold",
            `${getAddress(wallet.account.address)} had no voting power at the snapshot ${before.snapshot} (holds ${dvg(balance)}; votes count only when delegated before a proposal is made)`,
          );
        }
      }
      const r = await castVote(d.publicClient, wallet, {
        governor: d.governor,
        proposalId,
        support: support as VoteSupport,
      });
      env.out(
        `${getAddress(wallet.account.address)} voted ${support} on "${title}" with ${dvg(r.weight)} (transaction ${r.hash})`,
      );
      break;
    }
    case "queue": {
      const r = await queue(d.publicClient, await operatorWallet(d), { governor: d.governor, proposal });
      env.out(`queued "${title}" in the Timelock (transaction ${r.hash}); executable from ${when(r.eta)}`);
      break;
    }
    case "execute": {
      const r = await execute(d.publicClient, await operatorWallet(d), { governor: d.governor, proposal });
      env.out(`executed "${title}" (transaction ${r.hash})`);
      break;
    }
  }
  env.out("");
  for (const line of statusLines(await proposalStatus(d.publicClient, d.governor, proposalId), title))
    env.out(line);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// guardian pause | reduce-only | unwind
// ---------------------------------------------------------------------------------------------

const USD_RE = /^\d+(?:\.\d{1,18})?$/u;
/** TreasuryVault reverts a guardian call may raise beyond those of abis.ts (decoded in refusals). */
const vaultErrorsAbi = parseAbi([
  "error Paused()",
  "error DeadlinePassed(uint256 deadline)",
  "error StaleOracle(address asset, uint256 updatedAt, uint256 maxAge)",
  "error MarginNeeded(uint256 balanceAfter, uint256 reserve)",
]);
const DEFAULT_DEADLINE_SECONDS = 600n;

async function runGuardian(env: OperatorEnv, argv: readonly string[]): Promise<number> {
  const args = parse(argv, ["adapter", "underlying", "acceptable-price", "deadline", "signers"]);
  const [action, ...extra] = args.positionals;
  if (action !== "pause" && action !== "reduce-only" && action !== "unwind") {
    throw new CliError(2, `usage: expected pause, reduce-only or unwind, got "${action ?? ""}"`);
  }
  if (extra.length > 0) throw new CliError(2, `usage: unexpected "${extra.join(" ")}" after "${action}"`);
  const unwindOnly: OptionName[] = ["adapter", "underlying", "acceptable-price", "deadline"];
  if (action !== "unwind") {
    const given = unwindOnly.filter((k) => args.values[k] !== undefined);
    if (given.length > 0) throw new CliError(2, `usage: --${given.join(", --")} applies to unwind only`);
  }
  const signersArg = str(args, "signers");
  const only =
    signersArg === undefined
      ? undefined
      : signersArg.split(",").map((s) => addressArg(s.trim(), "--signers"));

  // Validate the unwind inputs before any RPC call.
  let unwind:
    | { adapter: Address; underlying: AssetSymbol | Address; price: bigint; deadlineSeconds: bigint }
    | undefined;
  if (action === "unwind") {
    const adapter = str(args, "adapter");
    const underlying = str(args, "underlying");
    const price = str(args, "acceptable-price");
    if (adapter === undefined || underlying === undefined || price === undefined) {
      throw new CliError(2, "usage: unwind needs --adapter, --underlying and --acceptable-price");
    }
    if (!USD_RE.test(price))
      throw new CliError(2, `--acceptable-price: "${price}" is not a USD amount (e.g. 2950.5)`);
    const deadline = str(args, "deadline") ?? String(DEFAULT_DEADLINE_SECONDS);
    if (!/^[1-9]\d{0,6}$/u.test(deadline))
      throw new CliError(2, `--deadline: "${deadline}" is not a number of seconds (1 to 9999999)`);
    unwind = {
      adapter: addressArg(adapter, "--adapter"),
      underlying: underlyingArg(underlying),
      price: parseUnits(price, 18),
      deadlineSeconds: BigInt(deadline),
    };
  }

  const d = await loadDeployment(env, args.network);
  header(env, d);
  const signers = await safeSigners(d, env.vars, only);
  for (const n of signers.notes) env.out(n);
  env.out(
    `guardian Safe ${d.safe} (${signers.threshold} of ${signers.owners.length}); signing: ${signers.signers.map((x) => `${x.address} (${x.source})`).join(", ")}`,
  );

  let guardian: GuardianAction;
  if (unwind) {
    const underlying = resolveUnderlying(d, unwind.underlying);
    const block = await d.publicClient.getBlock();
    guardian = {
      kind: "emergencyUnwind",
      adapter: unwind.adapter,
      underlying,
      acceptablePrice: unwind.price,
      deadline: block.timestamp + unwind.deadlineSeconds,
    };
    env.out(
      `unwind: adapter ${unwind.adapter}, underlying ${underlying}, acceptable price ${formatUnits(unwind.price, 18)} USD, deadline ${when(guardian.deadline)}`,
    );
  } else {
    guardian = { kind: action === "pause" ? "pause" : "reduceOnly" };
  }
  const mode = await vaultMode(d.publicClient, d.vault);
  env.out(`vault ${d.vault} mode ${mode}`);
  if (guardian.kind === "reduceOnly" && mode === "Paused") {
    throw new GovernanceError(
      "state",
      `vault ${d.vault} is Paused: the guardian cannot move it to ReduceOnly (leaving a pause is governance's call: npm run propose -- --network ${d.network} "unpause vault")`,
    );
  }
  const [submitter] = signers.wallets;
  const r = await guardianAction(d.publicClient, {
    safe: d.safe,
    owners: signers.wallets,
    ...(submitter ? { submitter } : {}),
    vault: d.vault,
    action: guardian,
    errorsAbi: vaultErrorsAbi,
  });
  env.out(`Safe transaction ${r.safeTxHash} (nonce ${r.nonce}) executed in ${r.hash}`);
  env.out(`vault mode ${r.modeBefore} → ${r.modeAfter}`);
  return 0;
}

function underlyingArg(value: string): AssetSymbol | Address {
  const asset = ASSETS.find((a) => a === value.toUpperCase());
  if (asset !== undefined) return asset;
  if (isAddress(value, { strict: false })) return getAddress(value);
  const hint = nearest(value, [...ASSETS]);
  throw new CliError(
    2,
    `--underlying: unknown asset "${value}"${hint ? ` (did you mean "${hint}"?)` : ` (expected ${ASSETS.join(" or ")} or an address)`}`,
  );
}

function resolveUnderlying(d: Deployment, value: AssetSymbol | Address): Address {
  if (isAddress(value)) return value;
  const a = d.underlyings[value];
  if (a === undefined) throw new CliError(1, `${d.path} has no ${value} address`);
  return a;
}
