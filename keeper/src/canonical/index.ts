/**
 * Canonical encoding of the keeper's input snapshot and its hash (the `inputsHash` sent on-chain
 * with every rebalance and stored in the journal).
 *
 * Encoding (deterministic JSON, close to RFC 8785 "JCS" for the JSON subset):
 * - object keys sorted by UTF-16 code units (`Array.prototype.sort` order), no whitespace;
 * - only plain objects (prototype `Object.prototype` or `null`) and arrays; Map, Set, Date, class
 *   instances, functions and symbols are rejected (convert them first: dates to epoch ms, ...);
 * - strings as `JSON.stringify` writes them; booleans and `null` as themselves;
 * - numbers must be finite (NaN and ±Infinity are rejected) and are written in ECMAScript's
 *   shortest round-trip form (`JSON.stringify`), `-0` as `0`;
 * - a bigint is written as the tagged object `{"$bigint":"<decimal>"}`; the key `$bigint` is
 *   therefore reserved and rejected in input objects, which keeps the encoding injective;
 * - `undefined` is rejected everywhere (also as an object property: omit the key instead), as are
 *   sparse-array holes and cycles.
 *
 * {@link parseCanonical} reads an encoding back (tags revived to bigints), so an auditor can
 * re-hash a journalled snapshot: `inputsHash(parseCanonical(json)) === journalled hash`.
 */
import { keccak256, stringToBytes, type Hex } from "viem";

export const BIGINT_TAG = "$bigint";

/** Thrown for values the canonical encoding does not accept; `path` locates the value ("$.a[2]"). */
export class CanonicalEncodingError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`canonical encoding: ${path}: ${message}`);
    this.name = "CanonicalEncodingError";
    this.path = path;
  }
}

function isPlainObject(x: object): x is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function encode(value: unknown, path: string, stack: Set<object>): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value))
        throw new CanonicalEncodingError(path, `non-finite number ${String(value)}`);
      return JSON.stringify(value); // -0 → "0"
    case "bigint":
      return `{"${BIGINT_TAG}":"${value.toString(10)}"}`;
    case "undefined":
      throw new CanonicalEncodingError(path, "undefined is not encodable (omit the key)");
    case "function":
    case "symbol":
      throw new CanonicalEncodingError(path, `${typeof value} is not encodable`);
    case "object":
      break;
  }
  if (value === null) return "null";
  const obj = value as object;
  if (stack.has(obj)) throw new CanonicalEncodingError(path, "cycle");
  stack.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    const parts: string[] = [];
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) throw new CanonicalEncodingError(`${path}[${i}]`, "sparse array hole");
      parts.push(encode(obj[i], `${path}[${i}]`, stack));
    }
    out = `[${parts.join(",")}]`;
  } else {
    if (!isPlainObject(obj)) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? "unknown";
      throw new CanonicalEncodingError(path, `only plain objects and arrays are encodable (got ${name})`);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) {
      throw new CanonicalEncodingError(path, "symbol keys are not encodable");
    }
    const keys = Object.keys(obj).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const p = `${path}.${k}`;
      if (k === BIGINT_TAG)
        throw new CanonicalEncodingError(p, `key "${BIGINT_TAG}" is reserved for bigints`);
      parts.push(`${JSON.stringify(k)}:${encode(obj[k], p, stack)}`);
    }
    out = `{${parts.join(",")}}`;
  }
  stack.delete(obj);
  return out;
}

/** The canonical encoding of `value` (see the module comment); throws {@link CanonicalEncodingError}. */
export function canonicalize(value: unknown): string {
  return encode(value, "$", new Set());
}

/** keccak256 of the UTF-8 bytes of `canonicalize(snapshot)`: the rebalance's `inputsHash`. */
export function inputsHash(snapshot: unknown): Hex {
  return keccak256(stringToBytes(canonicalize(snapshot)));
}

/** Parses a canonical encoding back into a value, reviving `{"$bigint":"…"}` tags as bigints. */
export function parseCanonical(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const tag = (v as Record<string, unknown>)[BIGINT_TAG];
      if (keys.length === 1 && typeof tag === "string" && /^-?\d+$/.test(tag)) return BigInt(tag);
    }
    return v;
  });
}
