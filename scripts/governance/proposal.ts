/**
 * Builds a Governor proposal that changes RiskPolicy limits from parsed (or readable) changes: reads
 * the limits in force, produces the new structs (every other field kept as it is), a readable diff
 * (current → proposed, with units), the proposal itself (targets, values, calldatas, description),
 * and optionally a preflight that simulates every call as the Timelock would make it, so a value
 * RiskPolicy's sanity bounds would refuse fails now instead of after a week of voting.
 */
import {
  encodeFunctionData,
  getAddress,
  keccak256,
  stringToHex,
  type Abi,
  type Address,
  type Chain,
  type ContractFunctionReturnType,
  type Hex,
  type PublicClient,
  type Transport,
} from "viem";
import { accessControlAbi, riskPolicyAbi, vaultGuardianAbi } from "./abis.ts";
import { GovernanceError, describeRevert } from "./errors.ts";
import {
  fieldUnit,
  formatLimitValue,
  parseLimitChanges,
  type AssetSymbol,
  type GlobalField,
  type LimitChange,
  type UnderlyingNumericField,
} from "./limits.ts";

/** Any viem public client (hardhat-viem's satisfies it). */
export type AnyPublicClient = PublicClient<Transport, Chain | undefined>;

export type UnderlyingLimits = ContractFunctionReturnType<
  typeof riskPolicyAbi,
  "view",
  "rawUnderlyingLimits"
>;
export type GlobalLimits = ContractFunctionReturnType<typeof riskPolicyAbi, "view", "globalLimits">;

/** What a Governor proposal is made of (`descriptionHash` = keccak256(description)). */
export interface GovernorProposal {
  targets: Address[];
  values: bigint[];
  calldatas: Hex[];
  description: string;
  descriptionHash: Hex;
}

/** One line of the diff: a field of one scope (an underlying, "global" or a venue). */
export interface DiffLine {
  scope: string;
  field: string;
  current: string;
  proposed: string;
  changed: boolean;
}

export interface LimitProposal {
  changes: LimitChange[];
  diff: DiffLine[];
  proposal: GovernorProposal;
  /** The diff as aligned text lines, for a terminal. */
  summary: string;
  /** New structs per call, for callers that want the raw values. */
  calls: Array<
    | {
        fn: "setUnderlyingLimits";
        asset: AssetSymbol;
        underlying: Address;
        current: UnderlyingLimits;
        proposed: UnderlyingLimits;
      }
    | { fn: "setGlobalLimits"; current: GlobalLimits; proposed: GlobalLimits }
    | { fn: "setVenueAllowed"; adapter: Address; current: boolean; proposed: boolean }
  >;
}

export interface BuildLimitProposalParams {
  /** The RiskPolicy address. */
  policy: Address;
  /** Parsed changes, or a readable description ("set WETH band to 30 ETH; set slippage to 40 bps"). */
  change: string | LimitChange | LimitChange[];
  /** Addresses of the underlyings the changes may name. */
  underlyings: Partial<Record<AssetSymbol, Address>>;
  /** When given (the Timelock), every call is simulated from it and a revert throws "preflight". */
  executor?: Address;
  /** Optional extra text appended to the description (also makes an otherwise identical proposal new). */
  note?: string;
}

const policyErrorsAbi: Abi = [...riskPolicyAbi, ...accessControlAbi];

/** Reads the current limits and builds the proposal (see the module comment). */
export async function buildLimitProposal(
  publicClient: AnyPublicClient,
  params: BuildLimitProposalParams,
): Promise<LimitProposal> {
  const policy = getAddress(params.policy);
  const changes = toChanges(params.change);
  const diff: DiffLine[] = [];
  const calls: LimitProposal["calls"] = [];

  // Per-underlying changes (including enable/disable), one call per asset, in first-mention order.
  const assets = [
    ...new Set(changes.flatMap((c) => (c.kind === "underlying" || c.kind === "enabled" ? [c.asset] : []))),
  ];
  for (const asset of assets) {
    const underlying = params.underlyings[asset];
    if (underlying === undefined) {
      throw new GovernanceError("unconfigured", `no address given for ${asset} (pass underlyings.${asset})`);
    }
    const current = await publicClient.readContract({
      address: policy,
      abi: riskPolicyAbi,
      functionName: "rawUnderlyingLimits",
      args: [underlying],
    });
    if (current.band === 0n) {
      throw new GovernanceError(
        "unconfigured",
        `${asset} (${underlying}) has no limits in RiskPolicy yet (band is 0): a field-by-field change cannot configure it`,
      );
    }
    const proposed: UnderlyingLimits = { ...current };
    for (const c of changes) {
      if (c.kind === "enabled" && c.asset === asset) proposed.enabled = c.value;
      if (c.kind === "underlying" && c.asset === asset) setUnderlyingField(proposed, c.field, c.value);
    }
    if (proposed.enabled !== current.enabled) {
      diff.push(
        line(
          asset,
          "enabled",
          formatLimitValue(current.enabled, "bool"),
          formatLimitValue(proposed.enabled, "bool"),
        ),
      );
    }
    for (const field of UNDERLYING_NUMERIC) {
      const before = BigInt(current[field]);
      const after = BigInt(proposed[field]);
      const touched = changes.some((c) => c.kind === "underlying" && c.asset === asset && c.field === field);
      if (touched || before !== after) {
        diff.push(
          line(
            asset,
            field,
            formatLimitValue(before, fieldUnit(field), asset),
            formatLimitValue(after, fieldUnit(field), asset),
          ),
        );
      }
    }
    calls.push({ fn: "setUnderlyingLimits", asset, underlying: getAddress(underlying), current, proposed });
  }

  // Global changes, one call.
  const globals = changes.filter((c) => c.kind === "global");
  if (globals.length > 0) {
    const current = await publicClient.readContract({
      address: policy,
      abi: riskPolicyAbi,
      functionName: "globalLimits",
    });
    const proposed: GlobalLimits = { ...current };
    for (const c of globals) setGlobalField(proposed, c.field, c.value);
    for (const field of GLOBAL_KEYS) {
      const before = BigInt(current[field]);
      const after = BigInt(proposed[field]);
      if (globals.some((c) => c.field === field) || before !== after) {
        diff.push(
          line(
            "global",
            field,
            formatLimitValue(before, fieldUnit(field)),
            formatLimitValue(after, fieldUnit(field)),
          ),
        );
      }
    }
    calls.push({ fn: "setGlobalLimits", current, proposed });
  }

  // Venue changes, one call each (the last word on an adapter wins).
  const venues = new Map<Address, boolean>();
  for (const c of changes) if (c.kind === "venue") venues.set(c.adapter, c.allowed);
  for (const [adapter, allowed] of venues) {
    const current = await publicClient.readContract({
      address: policy,
      abi: riskPolicyAbi,
      functionName: "venueAllowed",
      args: [adapter],
    });
    diff.push(
      line(
        `venue ${adapter}`,
        "allowed",
        current ? "allowed" : "not allowed",
        allowed ? "allowed" : "not allowed",
      ),
    );
    calls.push({ fn: "setVenueAllowed", adapter, current, proposed: allowed });
  }

  if (!diff.some((d) => d.changed)) {
    throw new GovernanceError(
      "no-change",
      "the proposal would change nothing: every value is already in force",
    );
  }

  const calldatas = calls.map((c): Hex => {
    switch (c.fn) {
      case "setUnderlyingLimits":
        return encodeFunctionData({
          abi: riskPolicyAbi,
          functionName: c.fn,
          args: [c.underlying, c.proposed],
        });
      case "setGlobalLimits":
        return encodeFunctionData({ abi: riskPolicyAbi, functionName: c.fn, args: [c.proposed] });
      case "setVenueAllowed":
        return encodeFunctionData({ abi: riskPolicyAbi, functionName: c.fn, args: [c.adapter, c.proposed] });
    }
  });

  if (params.executor !== undefined) {
    for (const [i, data] of calldatas.entries()) {
      try {
        await publicClient.call({ account: getAddress(params.executor), to: policy, data });
      } catch (err) {
        throw new GovernanceError(
          "preflight",
          `RiskPolicy would reject call ${i + 1} (${calls[i]?.fn ?? "?"}) from ${params.executor}: ${describeRevert(err, policyErrorsAbi)}`,
          { cause: err },
        );
      }
    }
  }

  const summary = renderDiff(diff);
  const title = `Risk limits: ${changes.map((c) => c.text).join("; ")}`;
  const description = [
    `# ${title}`,
    "",
    ...diff.filter((d) => d.changed).map((d) => `- ${d.scope} ${d.field}: ${d.current} → ${d.proposed}`),
    ...(params.note ? ["", params.note] : []),
  ].join("\n");

  return {
    changes,
    diff,
    calls,
    summary,
    proposal: {
      targets: calls.map(() => policy),
      values: calls.map(() => 0n),
      calldatas,
      description,
      descriptionHash: keccak256(stringToHex(description)),
    },
  };
}

/** The diff as aligned lines: "WETH band   25 ETH → 30 ETH" (unchanged lines marked "(unchanged)"). */
export function renderDiff(diff: readonly DiffLine[]): string {
  const left = diff.map((d) => `${d.scope} ${d.field}`);
  const width = Math.max(0, ...left.map((l) => l.length));
  const curWidth = Math.max(0, ...diff.map((d) => d.current.length));
  return diff
    .map(
      (d, i) =>
        `${(left[i] ?? "").padEnd(width)}  ${d.current.padStart(curWidth)} → ${d.proposed}${d.changed ? "" : "  (unchanged)"}`,
    )
    .join("\n");
}

function toChanges(change: BuildLimitProposalParams["change"]): LimitChange[] {
  if (typeof change === "string") {
    const r = parseLimitChanges(change);
    if (!r.ok) throw new GovernanceError("parse", r.error.message);
    return r.value;
  }
  const list = Array.isArray(change) ? change : [change];
  if (list.length === 0) throw new GovernanceError("no-change", "no changes given");
  return list;
}

function line(scope: string, field: string, current: string, proposed: string): DiffLine {
  return { scope, field, current, proposed, changed: current !== proposed };
}

const UNDERLYING_NUMERIC: readonly UnderlyingNumericField[] = [
  "targetDelta",
  "band",
  "minHedgeRatio",
  "maxHedgeRatio",
  "maxOptionLegSize",
  "maxPerpLegSize",
  "maxSpotLegSize",
  "maxPerpPosition",
  "premiumBudgetPerWindow",
  "maxOpenSeries",
];

const GLOBAL_KEYS: readonly GlobalField[] = [
  "maxSlippageBps",
  "oracleMaxDeviationBps",
  "oracleMaxAge",
  "keeperCooldown",
  "window",
  "approvalExpiry",
  "greeksCacheMaxAge",
  "greeksCacheMaxMoveBps",
  "turnoverCapPerWindow",
  "tier1Notional",
  "tier2Notional",
];

/** Writes a bigint into a struct field, as a number where viem types the field as one (uint8/16/32). */
function setUnderlyingField(s: UnderlyingLimits, field: UnderlyingNumericField, value: bigint): void {
  if (field === "maxOpenSeries") s.maxOpenSeries = Number(value);
  else s[field] = value;
}

function setGlobalField(s: GlobalLimits, field: GlobalField, value: bigint): void {
  switch (field) {
    case "turnoverCapPerWindow":
    case "tier1Notional":
    case "tier2Notional":
      s[field] = value;
      return;
    default:
      s[field] = Number(value);
  }
}

/** A proposal from raw calls (value 0 each) and a description. */
export function callProposal(
  calls: ReadonlyArray<{ target: Address; data: Hex }>,
  description: string,
): GovernorProposal {
  if (calls.length === 0) throw new GovernanceError("no-change", "a proposal needs at least one call");
  return {
    targets: calls.map((c) => getAddress(c.target)),
    values: calls.map(() => 0n),
    calldatas: calls.map((c) => c.data),
    description,
    descriptionHash: keccak256(stringToHex(description)),
  };
}

/** The governance proposal that returns a paused / reduce-only vault to Normal (the guardian cannot). */
export function unpauseProposal(vault: Address, note?: string): GovernorProposal {
  const description = [`# Unpause the vault ${getAddress(vault)}`, ...(note ? ["", note] : [])].join("\n");
  return callProposal(
    [{ target: vault, data: encodeFunctionData({ abi: vaultGuardianAbi, functionName: "unpause" }) }],
    description,
  );
}
