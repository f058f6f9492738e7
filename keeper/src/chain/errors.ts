/**
 * Error classification for the execute stage:
 * - transient RPC failures (connection refused/reset, timeouts, HTTP 5xx/408/429): retry with backoff;
 * - reverts (the EVM said no): never retried; decoded by name with the custom errors of every
 *   contract a rebalance can reach (vault, approvals, policy, oracle, venues), so `WrongEpoch` is
 *   recognised as a lost race wherever it surfaces;
 * - nonce problems: resynchronise the nonce.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  RpcRequestError,
  TimeoutError,
  decodeErrorResult,
  type Abi,
  type Hex,
} from "viem";
import type { Abis } from "./abis.ts";

export type ErrorClass = "transient" | "revert" | "nonce" | "underpriced" | "known" | "other";

function messages(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur !== undefined && cur !== null; i++) {
    if (cur instanceof Error) {
      parts.push(cur.message);
      const code = (cur as { code?: unknown }).code;
      if (typeof code === "string") parts.push(code);
      cur = (cur as { cause?: unknown }).cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.join(" | ").toLowerCase();
}

/** Classifies an error thrown by a viem request (see module doc). */
export function classifyError(e: unknown): ErrorClass {
  const text = messages(e);
  if (revertData(e) !== null || e instanceof ContractFunctionRevertedError) return "revert";
  if (/execution reverted|reverted with|vm exception|transaction reverted|revert/.test(text)) return "revert";
  if (/nonce too low|nonce has already been used|invalid nonce|nonce too high/.test(text)) return "nonce";
  if (/replacement transaction underpriced|fee too low|underpriced/.test(text)) return "underpriced";
  if (/already known|known transaction|already imported/.test(text)) return "known";
  if (e instanceof BaseError) {
    const http = e.walk((x) => x instanceof HttpRequestError) as HttpRequestError | null;
    if (http !== null) {
      const s = http.status;
      if (s === undefined || s >= 500 || s === 408 || s === 429) return "transient";
    }
    if (e.walk((x) => x instanceof TimeoutError) !== null) return "transient";
  }
  if (
    /econnrefused|econnreset|epipe|socket hang up|fetch failed|other side closed|network|timed out|timeout|etimedout|und_err|socket/.test(
      text,
    )
  ) {
    return "transient";
  }
  if (e instanceof BaseError && e.walk((x) => x instanceof RpcRequestError) !== null) return "other";
  return "other";
}

/** Revert data carried by a viem error, if any. */
export function revertData(e: unknown): Hex | null {
  let cur: unknown = e;
  for (let i = 0; i < 10 && cur !== undefined && cur !== null; i++) {
    if (cur instanceof ContractFunctionRevertedError && cur.raw !== undefined) return cur.raw;
    const data = (cur as { data?: unknown }).data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]{8,}$/.test(data)) return data as Hex;
    if (typeof data === "object" && data !== null) {
      const inner = (data as { data?: unknown }).data;
      if (typeof inner === "string" && /^0x[0-9a-fA-F]{8,}$/.test(inner)) return inner as Hex;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

/** Every custom error a rebalance or a proposal can revert with (vault, approvals, policy, oracle, venues). */
export function errorAbi(abis: Abis): Abi {
  const seen = new Set<string>();
  const out: Abi[number][] = [];
  for (const abi of [
    abis.vault,
    abis.approvals,
    abis.policy,
    abis.router,
    abis.perpDex,
    abis.amm,
    abis.surface,
    abis.spotAdapter,
  ] as Abi[]) {
    for (const item of abi) {
      if (item.type !== "error") continue;
      const key = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}

export type DecodedRevert = { name: string; args: readonly unknown[]; text: string };

/** Decodes revert data with `abi` (custom errors, Error(string), Panic). */
export function decodeRevert(abi: Abi, data: Hex | null): DecodedRevert | null {
  if (data === null) return null;
  try {
    const r = decodeErrorResult({ abi, data });
    const args = (r.args ?? []) as readonly unknown[];
    return { name: r.errorName, args, text: `${r.errorName}(${args.map((a) => String(a)).join(", ")})` };
  } catch {
    return { name: "Unknown", args: [], text: `unknown revert ${data.slice(0, 10)}` };
  }
}

/** The short reason of any error (one line). */
export function shortReason(e: unknown): string {
  if (e instanceof BaseError) return e.shortMessage.split("\n")[0] ?? e.shortMessage;
  if (e instanceof Error) return e.message.split("\n")[0] ?? e.message;
  return String(e);
}
