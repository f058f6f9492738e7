/**
 * A small grammar for risk-limit changes written the way people say them, parsed into exact
 * contract units (no floating point anywhere):
 *
 *   set <WETH|WBTC> <field> to <number> [unit]     per-underlying limit
 *   set <field> to <number> [unit]                 global limit
 *   enable <WETH|WBTC> | disable <WETH|WBTC>       hedging on/off for an underlying
 *   allow venue <address> | disallow venue <address>
 *
 * Several changes may be joined with ";" or new lines (`parseLimitChanges`). Keywords, assets, field
 * names and units are case-insensitive; numbers may use "_" or "," as digit group separators and an
 * exponent ("1e6"); a unit may be attached ("30ETH", "0.5%", "2h"). Units: ETH/WETH, BTC/WBTC (WAD
 * of the underlying), USD/USDC/"$" (WAD), bps and % (for bps fields and ratios), s/min/h/d/w.
 *
 * Parsing never throws: every failure is a typed `LimitParseError` naming the offending token and,
 * for a misspelling, the nearest valid word.
 */
import { formatUnits, getAddress, isAddress, type Address } from "viem";
import { z } from "zod";

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

export const ASSETS = ["WETH", "WBTC"] as const;
export type AssetSymbol = (typeof ASSETS)[number];

const ASSET_ALIASES: Record<string, AssetSymbol> = { weth: "WETH", eth: "WETH", wbtc: "WBTC", btc: "WBTC" };

/** How a field's number is written and scaled. */
export type UnitKind =
  | "asset" // WAD units of the underlying (ETH, BTC)
  | "usd" // WAD USD
  | "ratio" // WAD fraction (0.5 = 50% = 5000 bps)
  | "bps" // integer basis points
  | "seconds" // integer seconds
  | "count"; // plain integer

/** Solidity integer type of the field: bits and signedness (range checks before any call). */
interface IntType {
  bits: number;
  signed: boolean;
}

interface FieldSpec<F extends string> {
  field: F;
  aliases: readonly string[];
  unit: UnitKind;
  type: IntType;
  doc: string;
}

export type UnderlyingNumericField =
  | "targetDelta"
  | "band"
  | "minHedgeRatio"
  | "maxHedgeRatio"
  | "maxOptionLegSize"
  | "maxPerpLegSize"
  | "maxSpotLegSize"
  | "maxPerpPosition"
  | "premiumBudgetPerWindow"
  | "maxOpenSeries";

export type GlobalField =
  | "maxSlippageBps"
  | "oracleMaxDeviationBps"
  | "oracleMaxAge"
  | "keeperCooldown"
  | "window"
  | "approvalExpiry"
  | "greeksCacheMaxAge"
  | "greeksCacheMaxMoveBps"
  | "turnoverCapPerWindow"
  | "tier1Notional"
  | "tier2Notional";

const u = (bits: number): IntType => ({ bits, signed: false });

export const UNDERLYING_FIELDS: readonly FieldSpec<UnderlyingNumericField>[] = [
  {
    field: "targetDelta",
    aliases: ["target", "targetdelta"],
    unit: "asset",
    type: { bits: 128, signed: true },
    doc: "net delta the vault aims for",
  },
  {
    field: "band",
    aliases: ["band"],
    unit: "asset",
    type: u(128),
    doc: "allowed |net delta - target| after a rebalance",
  },
  {
    field: "minHedgeRatio",
    aliases: ["minhedgeratio"],
    unit: "ratio",
    type: u(64),
    doc: "least fraction of the gap a hedge closes",
  },
  {
    field: "maxHedgeRatio",
    aliases: ["maxhedgeratio"],
    unit: "ratio",
    type: u(64),
    doc: "most fraction of the gap a hedge closes",
  },
  {
    field: "maxOptionLegSize",
    aliases: ["maxoptionlegsize", "optionleg"],
    unit: "asset",
    type: u(128),
    doc: "per option leg",
  },
  {
    field: "maxPerpLegSize",
    aliases: ["maxperplegsize", "perpleg"],
    unit: "asset",
    type: u(128),
    doc: "per perp leg",
  },
  {
    field: "maxSpotLegSize",
    aliases: ["maxspotlegsize", "spotleg"],
    unit: "asset",
    type: u(128),
    doc: "per spot leg",
  },
  {
    field: "maxPerpPosition",
    aliases: ["maxperpposition", "perpposition"],
    unit: "asset",
    type: u(128),
    doc: "|perp size| after a rebalance",
  },
  {
    field: "premiumBudgetPerWindow",
    aliases: ["premiumbudgetperwindow", "premiumbudget"],
    unit: "usd",
    type: u(128),
    doc: "option premium per window",
  },
  {
    field: "maxOpenSeries",
    aliases: ["maxopenseries", "openseries"],
    unit: "count",
    type: u(8),
    doc: "option series held at once",
  },
];

export const GLOBAL_FIELDS: readonly FieldSpec<GlobalField>[] = [
  {
    field: "maxSlippageBps",
    aliases: ["slippage", "maxslippage", "maxslippagebps"],
    unit: "bps",
    type: u(16),
    doc: "every leg's price vs the oracle",
  },
  {
    field: "oracleMaxDeviationBps",
    aliases: ["oracledeviation", "oraclemaxdeviation", "oraclemaxdeviationbps", "deviation"],
    unit: "bps",
    type: u(16),
    doc: "venue mark vs oracle",
  },
  {
    field: "oracleMaxAge",
    aliases: ["oracleage", "oraclemaxage", "staleness"],
    unit: "seconds",
    type: u(32),
    doc: "oldest accepted oracle answer",
  },
  {
    field: "keeperCooldown",
    aliases: ["cooldown", "keepercooldown"],
    unit: "seconds",
    type: u(32),
    doc: "between rebalances",
  },
  {
    field: "window",
    aliases: ["window"],
    unit: "seconds",
    type: u(32),
    doc: "turnover and premium budget window",
  },
  {
    field: "approvalExpiry",
    aliases: ["approvalexpiry"],
    unit: "seconds",
    type: u(32),
    doc: "how long an approval stays valid",
  },
  {
    field: "greeksCacheMaxAge",
    aliases: ["greekscacheage", "greekscachemaxage"],
    unit: "seconds",
    type: u(32),
    doc: "oldest usable greeks cache",
  },
  {
    field: "greeksCacheMaxMoveBps",
    aliases: ["greekscachemove", "greekscachemaxmove", "greekscachemaxmovebps"],
    unit: "bps",
    type: u(16),
    doc: "price move before the greeks cache is rebuilt",
  },
  {
    field: "turnoverCapPerWindow",
    aliases: ["turnovercap", "turnovercapperwindow", "turnover"],
    unit: "usd",
    type: u(128),
    doc: "USD traded per window",
  },
  {
    field: "tier1Notional",
    aliases: ["tier1", "tier1notional"],
    unit: "usd",
    type: u(128),
    doc: "one approval at or above",
  },
  {
    field: "tier2Notional",
    aliases: ["tier2", "tier2notional"],
    unit: "usd",
    type: u(128),
    doc: "two approvals at or above",
  },
];

// ---------------------------------------------------------------------------------------------
// Output types
// ---------------------------------------------------------------------------------------------

export type LimitChange =
  | {
      kind: "underlying";
      asset: AssetSymbol;
      field: UnderlyingNumericField;
      value: bigint;
      unit: UnitKind;
      text: string;
    }
  | { kind: "enabled"; asset: AssetSymbol; value: boolean; text: string }
  | { kind: "global"; field: GlobalField; value: bigint; unit: UnitKind; text: string }
  | { kind: "venue"; adapter: Address; allowed: boolean; text: string };

export type LimitParseErrorCode =
  | "invalid-input"
  | "empty"
  | "unknown-verb"
  | "unknown-asset"
  | "unknown-field"
  | "wrong-scope"
  | "syntax"
  | "bad-number"
  | "bad-unit"
  | "not-exact"
  | "out-of-range"
  | "bad-address";

export interface LimitParseError {
  code: LimitParseErrorCode;
  message: string;
  /** The offending token, when there is one. */
  token?: string;
  /** The nearest valid word for a misspelling. */
  suggestion?: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: LimitParseError };

const fail = <T>(error: LimitParseError): ParseResult<T> => ({ ok: false, error });

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

const inputSchema = z.string().max(2_000, "description longer than 2000 characters");

/** Parses one change (see the module comment for the grammar). Never throws. */
export function parseLimitChange(description: unknown): ParseResult<LimitChange> {
  const input = inputSchema.safeParse(description);
  if (!input.success) {
    return fail({
      code: "invalid-input",
      message: `expected a text description: ${input.error.issues[0]?.message ?? "invalid"}`,
    });
  }
  const text = input.data.trim().replace(/\s+/gu, " ");
  if (text === "") return fail({ code: "empty", message: "empty description" });
  const tokens = text.split(" ");
  const verb = (tokens[0] ?? "").toLowerCase();

  if (verb === "set") return parseSet(tokens, text);
  if (verb === "enable" || verb === "disable") return parseEnable(tokens, text, verb === "enable");
  if (verb === "allow" || verb === "disallow") return parseVenue(tokens, text, verb === "allow");
  const verbs = ["set", "enable", "disable", "allow", "disallow"];
  return unknownWord(
    "unknown-verb",
    "verb",
    tokens[0] ?? "",
    verbs,
    ` (expected one of ${verbs.join(", ")})`,
  );
}

/** Parses several changes separated by ";" or new lines. Never throws. */
export function parseLimitChanges(description: unknown): ParseResult<LimitChange[]> {
  const input = inputSchema.safeParse(description);
  if (!input.success) {
    return fail({
      code: "invalid-input",
      message: `expected a text description: ${input.error.issues[0]?.message ?? "invalid"}`,
    });
  }
  const parts = input.data
    .split(/[;\n]/u)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 0) return fail({ code: "empty", message: "empty description" });
  const out: LimitChange[] = [];
  for (const [i, part] of parts.entries()) {
    const r = parseLimitChange(part);
    if (!r.ok) {
      const where = parts.length > 1 ? `change ${i + 1} ("${part}"): ` : "";
      return fail({ ...r.error, message: where + r.error.message });
    }
    out.push(r.value);
  }
  return { ok: true, value: out };
}

function parseSet(tokens: string[], text: string): ParseResult<LimitChange> {
  // set <asset> <field> to <value> [unit]   |   set <field> to <value> [unit]
  const second = tokens[1];
  if (second === undefined)
    return fail({
      code: "syntax",
      message: 'expected "set <asset> <field> to <value>" or "set <field> to <value>"',
    });
  const asset = ASSET_ALIASES[second.toLowerCase()];
  const thirdIsTo = tokens[2]?.toLowerCase() === "to";

  if (asset === undefined && thirdIsTo) {
    const g = lookupField(GLOBAL_FIELDS, second);
    if (g) return parseAssignment(tokens, 2, text, g, undefined);
    if (lookupField(UNDERLYING_FIELDS, second)) {
      return fail({
        code: "wrong-scope",
        token: second,
        message: `"${second}" is a per-underlying limit: write "set WETH ${second} to …" or "set WBTC ${second} to …"`,
      });
    }
    return unknownWord(
      "unknown-field",
      "field",
      second,
      allNames(GLOBAL_FIELDS).concat(allNames(UNDERLYING_FIELDS)),
    );
  }
  if (asset === undefined) {
    return unknownWord("unknown-asset", "asset", second, [...ASSETS], ` (expected ${ASSETS.join(" or ")})`);
  }
  const fieldToken = tokens[2];
  if (fieldToken === undefined || fieldToken.toLowerCase() === "to") {
    return fail({
      code: "syntax",
      message: `expected a field after "${second}", e.g. "set ${asset} band to 25 ${assetUnitNames(asset)[0]}"`,
    });
  }
  const f = lookupField(UNDERLYING_FIELDS, fieldToken);
  if (f) return parseAssignment(tokens, 3, text, f, asset);
  if (lookupField(GLOBAL_FIELDS, fieldToken)) {
    return fail({
      code: "wrong-scope",
      token: fieldToken,
      message: `"${fieldToken}" is a global limit, not per underlying: write "set ${fieldToken} to …"`,
    });
  }
  return unknownWord("unknown-field", "field", fieldToken, allNames(UNDERLYING_FIELDS));
}

function parseAssignment<F extends UnderlyingNumericField | GlobalField>(
  tokens: string[],
  toIndex: number,
  text: string,
  spec: FieldSpec<F>,
  asset: AssetSymbol | undefined,
): ParseResult<LimitChange> {
  const to = tokens[toIndex];
  if (to?.toLowerCase() !== "to") {
    return fail({
      code: "syntax",
      token: to,
      message: `expected "to" after "${tokens[toIndex - 1] ?? ""}"${to ? `, got "${to}"` : ""}`,
    });
  }
  const rest = tokens.slice(toIndex + 1);
  if (rest.length === 0) return fail({ code: "syntax", message: `expected a number after "to"` });
  if (rest.length > 2)
    return fail({ code: "syntax", token: rest[2], message: `unexpected "${rest[2] ?? ""}" after the value` });
  const split = splitValue(rest[0] ?? "", rest[1]);
  if (!split.ok) return split;
  const num = parseDecimal(split.value.number);
  if (!num.ok) return num;
  const scaled = scale(num.value, split.value.unit, spec, asset);
  if (!scaled.ok) return scaled;
  const value = scaled.value;
  const { bits, signed } = spec.type;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  if (value < min || value > max) {
    return fail({
      code: "out-of-range",
      token: rest.join(" "),
      message: `${spec.field} = ${value} does not fit ${signed ? "int" : "uint"}${bits}${value < 0n && !signed ? " (must not be negative)" : ""}`,
    });
  }
  if (asset === undefined) {
    return {
      ok: true,
      value: { kind: "global", field: spec.field as GlobalField, value, unit: spec.unit, text },
    };
  }
  return {
    ok: true,
    value: {
      kind: "underlying",
      asset,
      field: spec.field as UnderlyingNumericField,
      value,
      unit: spec.unit,
      text,
    },
  };
}

function parseEnable(tokens: string[], text: string, enable: boolean): ParseResult<LimitChange> {
  const a = tokens[1];
  if (a === undefined || tokens.length > 2) {
    return fail({
      code: "syntax",
      token: tokens[2],
      message: `expected "${enable ? "enable" : "disable"} <WETH|WBTC>"`,
    });
  }
  const asset = ASSET_ALIASES[a.toLowerCase()];
  if (!asset)
    return unknownWord("unknown-asset", "asset", a, [...ASSETS], ` (expected ${ASSETS.join(" or ")})`);
  return { ok: true, value: { kind: "enabled", asset, value: enable, text } };
}

function parseVenue(tokens: string[], text: string, allowed: boolean): ParseResult<LimitChange> {
  const verb = allowed ? "allow" : "disallow";
  if (tokens[1]?.toLowerCase() !== "venue") {
    return fail({ code: "syntax", token: tokens[1], message: `expected "${verb} venue <address>"` });
  }
  const a = tokens[2];
  if (a === undefined || tokens.length > 3) {
    return fail({ code: "syntax", token: tokens[3], message: `expected "${verb} venue <address>"` });
  }
  if (!/^0x[0-9a-fA-F]{40}$/u.test(a)) {
    return fail({ code: "bad-address", token: a, message: `"${a}" is not a 20-byte hex address` });
  }
  if (!isAddress(a, { strict: true }) && a !== a.toLowerCase()) {
    return fail({ code: "bad-address", token: a, message: `"${a}" has an invalid EIP-55 checksum` });
  }
  const adapter = getAddress(a);
  if (/^0x0{40}$/u.test(adapter))
    return fail({ code: "bad-address", token: a, message: "the zero address is not a venue" });
  return { ok: true, value: { kind: "venue", adapter, allowed, text } };
}

// ---------------------------------------------------------------------------------------------
// Numbers and units
// ---------------------------------------------------------------------------------------------

/** value = mantissa × 10^exponent, exactly. */
interface Decimal {
  mantissa: bigint;
  exponent: number;
}

/** Digit groups of three may be separated by "_" or "," ("25,000", "1_000_000"); "1,5" is refused. */
const NUMBER_RE = /^[-+]?(?:(?:\d{1,3}(?:[_,]\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?/iu;

function splitValue(
  first: string,
  second: string | undefined,
): ParseResult<{ number: string; unit: string | undefined }> {
  let token = first;
  let dollar = false;
  if (token.startsWith("$")) {
    dollar = true;
    token = token.slice(1);
  }
  const m = NUMBER_RE.exec(token);
  if (!m) return fail({ code: "bad-number", token: first, message: `"${first}" is not a number` });
  const number = m[0];
  const attached = token.slice(number.length);
  if (/^[,_.\d]/u.test(attached))
    return fail({ code: "bad-number", token: first, message: `"${first}" is not a number` });
  if (attached !== "" && second !== undefined) {
    return fail({ code: "syntax", token: second, message: `unexpected "${second}" after "${first}"` });
  }
  let unit = attached !== "" ? attached : second;
  if (dollar) {
    if (unit !== undefined)
      return fail({ code: "bad-unit", token: unit, message: `"$" and "${unit}" both given` });
    unit = "usd";
  }
  return { ok: true, value: { number, unit } };
}

function parseDecimal(text: string): ParseResult<Decimal> {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?(?:e([-+]?\d+))?$/iu.exec(text.replace(/[_,]/gu, ""));
  const intPart = m?.[2] ?? "";
  const fracPart = m?.[3] ?? "";
  if (!m || intPart + fracPart === "")
    return fail({ code: "bad-number", token: text, message: `"${text}" is not a number` });
  const exp = Number(m[4] ?? "0");
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 80) {
    return fail({ code: "bad-number", token: text, message: `exponent of "${text}" is out of range` });
  }
  if (intPart.length + fracPart.length > 90) {
    return fail({ code: "bad-number", token: text, message: `"${text}" has too many digits` });
  }
  const mantissa = BigInt(intPart + fracPart || "0") * (m[1] === "-" ? -1n : 1n);
  return { ok: true, value: { mantissa, exponent: exp - fracPart.length } };
}

/** Multiplier of a unit: value × factor × 10^pow10 gives contract units. */
interface Scale {
  factor: bigint;
  pow10: number;
  label: string;
}

const TIME_UNITS: Record<string, bigint> = {
  s: 1n,
  sec: 1n,
  secs: 1n,
  second: 1n,
  seconds: 1n,
  m: 60n,
  min: 60n,
  mins: 60n,
  minute: 60n,
  minutes: 60n,
  h: 3_600n,
  hr: 3_600n,
  hrs: 3_600n,
  hour: 3_600n,
  hours: 3_600n,
  d: 86_400n,
  day: 86_400n,
  days: 86_400n,
  w: 604_800n,
  week: 604_800n,
  weeks: 604_800n,
};

function assetUnitNames(asset: AssetSymbol): string[] {
  return asset === "WETH" ? ["ETH", "WETH"] : ["BTC", "WBTC"];
}

function unitScale(
  kind: UnitKind,
  unit: string | undefined,
  asset: AssetSymbol | undefined,
): Scale | string[] {
  const un = unit?.toLowerCase();
  switch (kind) {
    case "asset": {
      const names = assetUnitNames(asset ?? "WETH");
      if (un === undefined || names.some((n) => n.toLowerCase() === un))
        return { factor: 1n, pow10: 18, label: names[0] ?? "" };
      return names;
    }
    case "usd":
      if (un === undefined || un === "usd" || un === "usdc") return { factor: 1n, pow10: 18, label: "USD" };
      return ["USD", "USDC", "$"];
    case "ratio":
      if (un === undefined) return { factor: 1n, pow10: 18, label: "" };
      if (un === "%") return { factor: 1n, pow10: 16, label: "%" };
      if (un === "bps") return { factor: 1n, pow10: 14, label: "bps" };
      return ["%", "bps", "(none: a fraction, 0.5 = 50%)"];
    case "bps":
      if (un === undefined || un === "bps") return { factor: 1n, pow10: 0, label: "bps" };
      if (un === "%") return { factor: 1n, pow10: 2, label: "%" };
      return ["bps", "%"];
    case "seconds": {
      if (un === undefined) return { factor: 1n, pow10: 0, label: "s" };
      const f = TIME_UNITS[un];
      if (f !== undefined) return { factor: f, pow10: 0, label: un };
      return ["s", "min", "h", "d", "w"];
    }
    case "count":
      if (un === undefined || un === "series") return { factor: 1n, pow10: 0, label: "" };
      return ["(none)"];
  }
}

function scale(
  d: Decimal,
  unit: string | undefined,
  spec: FieldSpec<string>,
  asset: AssetSymbol | undefined,
): ParseResult<bigint> {
  const s = unitScale(spec.unit, unit, asset);
  if (Array.isArray(s)) {
    const where = asset ? `${asset} ${spec.field}` : spec.field;
    return fail({
      code: "bad-unit",
      token: unit,
      message: `unit "${unit ?? ""}" does not fit ${where} (use ${s.join(", ")})`,
    });
  }
  const p = d.exponent + s.pow10;
  const n = d.mantissa * s.factor;
  if (p >= 0) return { ok: true, value: n * 10n ** BigInt(p) };
  const div = 10n ** BigInt(-p);
  if (n % div !== 0n) {
    const what =
      spec.unit === "asset" || spec.unit === "usd" || spec.unit === "ratio"
        ? "a multiple of 1e-18"
        : `a whole number of ${spec.unit === "count" ? "units" : spec.unit}`;
    return fail({
      code: "not-exact",
      token: unit ? `${unit}` : undefined,
      message: `${spec.field} must be ${what}`,
    });
  }
  return { ok: true, value: n / div };
}

// ---------------------------------------------------------------------------------------------
// Names and suggestions
// ---------------------------------------------------------------------------------------------

function lookupField<F extends string>(
  specs: readonly FieldSpec<F>[],
  token: string,
): FieldSpec<F> | undefined {
  const t = token.toLowerCase();
  return specs.find((s) => s.field.toLowerCase() === t || s.aliases.includes(t));
}

function allNames(specs: readonly FieldSpec<string>[]): string[] {
  return specs.flatMap((s) => [s.field, ...s.aliases.filter((a) => a !== s.field.toLowerCase())]);
}

function unknownWord<T>(
  code: LimitParseErrorCode,
  what: string,
  token: string,
  candidates: string[],
  extra = "",
): ParseResult<T> {
  const suggestion = nearest(token, candidates);
  const hint = suggestion ? ` (did you mean "${suggestion}"?)` : extra;
  return fail({
    code,
    token,
    message: `unknown ${what} "${token}"${hint}`,
    ...(suggestion ? { suggestion } : {}),
  });
}

/** The candidate closest to `word` (case-insensitive edit distance), if close enough. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestDist) {
      best = c;
      bestDist = dist;
    }
  }
  const limit = Math.max(2, Math.floor(w.length / 3));
  return bestDist <= limit && bestDist < w.length ? best : undefined;
}

/** Damerau-Levenshtein (optimal string alignment) distance: "bnad" → "band" is 1. */
function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i];
    if (!row) continue;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      row[j] = v;
    }
  }
  return at(a.length, b.length);
}

// ---------------------------------------------------------------------------------------------
// Formatting (shared with the proposal builder)
// ---------------------------------------------------------------------------------------------

/** A contract value with its unit, for people: "25 ETH", "50%", "30 bps", "3600 s (1h)". */
export function formatLimitValue(
  value: bigint | boolean,
  unit: UnitKind | "bool",
  asset?: AssetSymbol,
): string {
  if (typeof value === "boolean") return value ? "enabled" : "disabled";
  switch (unit) {
    case "asset":
      return `${formatUnits(value, 18)} ${assetUnitNames(asset ?? "WETH")[0] ?? ""}`;
    case "usd":
      return `${groupDigits(formatUnits(value, 18))} USD`;
    case "ratio":
      return `${formatUnits(value, 16)}%`;
    case "bps":
      return `${value} bps`;
    case "seconds":
      return `${value} s${humanDuration(value)}`;
    case "count":
    case "bool":
      return `${value}`;
  }
}

function groupDigits(decimal: string): string {
  const [int = "", frac] = decimal.split(".");
  const neg = int.startsWith("-");
  const digits = neg ? int.slice(1) : int;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/gu, ",");
  return `${neg ? "-" : ""}${grouped}${frac !== undefined ? `.${frac}` : ""}`;
}

function humanDuration(s: bigint): string {
  const units: Array<[bigint, string]> = [
    [86_400n, "d"],
    [3_600n, "h"],
    [60n, "min"],
  ];
  for (const [size, label] of units) {
    if (s >= size && s % size === 0n) return ` (${s / size}${label})`;
  }
  return "";
}

/** Unit kind of a RiskPolicy field, for formatting a whole struct. */
export function fieldUnit(field: UnderlyingNumericField | GlobalField): UnitKind {
  const spec = [...UNDERLYING_FIELDS, ...GLOBAL_FIELDS].find((s) => s.field === field);
  return spec?.unit ?? "count";
}
