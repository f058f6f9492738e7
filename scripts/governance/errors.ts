/**
 * The one error type the governance helpers throw for a refused or failed action, with a code a
 * CLI can branch on, and the decoding of contract reverts into readable text.
 */
import { BaseError, decodeErrorResult, type Abi, type Hex } from "viem";

export type GovernanceErrorCode =
  | "parse" // the description does not parse
  | "no-change" // the proposal would change nothing
  | "unconfigured" // the underlying has no limits yet / unknown asset
  | "preflight" // the call would revert when executed
  | "state" // the proposal is not in the state the action needs
  | "threshold" // not enough votes to propose / not enough signatures
  | "not-owner" // a signer is not an owner of the Safe
  | "hash-mismatch" // the local SafeTx hash differs from the Safe's own
  | "role" // the caller lacks the role the call needs
  | "reverted"; // a transaction was mined but reverted

export class GovernanceError extends Error {
  readonly code: GovernanceErrorCode;

  constructor(code: GovernanceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GovernanceError";
    this.code = code;
  }
}

/** The raw revert data inside a viem error (any depth of its cause chain), if any. */
export function revertData(err: unknown): Hex | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const isData = (v: unknown): v is Hex =>
    typeof v === "string" && /^0x[0-9a-fA-F]*$/u.test(v) && v.length >= 10;
  let found: Hex | undefined;
  err.walk((e) => {
    if (found !== undefined || typeof e !== "object" || e === null) return found !== undefined;
    const candidates: unknown[] = [];
    if ("raw" in e) candidates.push(e.raw);
    if ("data" in e) {
      candidates.push(e.data);
      if (typeof e.data === "object" && e.data !== null && "data" in e.data) candidates.push(e.data.data);
    }
    found = candidates.find(isData);
    return false;
  });
  return found;
}

/** `ErrorName(arg, …)` for a revert decodable with `abi`, Error(string)/Panic included; else viem's short message. */
export function describeRevert(err: unknown, abi: Abi): string {
  const data = revertData(err);
  if (data !== undefined) {
    try {
      const decoded = decodeErrorResult({ abi, data });
      const args = (decoded.args ?? []).map((a) => (typeof a === "string" ? JSON.stringify(a) : String(a)));
      return `${decoded.errorName}(${args.join(", ")})`;
    } catch {
      return `unknown error ${data.slice(0, 10)}`;
    }
  }
  if (err instanceof BaseError) {
    let reason: string | undefined;
    err.walk((e) => {
      if (typeof e === "object" && e !== null && "reason" in e && typeof e.reason === "string")
        reason = e.reason;
      return false;
    });
    return reason ?? err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}
