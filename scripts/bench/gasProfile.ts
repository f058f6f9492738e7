/**
 * Where a transaction's gas goes: replays it with `debug_traceTransaction` (EDR and `hardhat node`
 * support it) and adds up each opcode's cost per call frame, exclusive of the gas a CALL forwards
 * to its callee. Frames are named by kind and address (`C:` call, `S:` staticcall, `D:` delegatecall;
 * the top frame is `tx`); storage reads and writes are also totalled per frame. Costs are before
 * the end-of-transaction refund, so they add up to more than the receipt's gasUsed when slots are
 * cleared.
 */
import type { Hash } from "viem";

type StructLog = { op: string; gasCost: number; depth: number; stack?: string[] };
/** Any EIP-1193 client (viem's typed `request` accepts the call through `never`). */
type Requester = { request: (args: never) => Promise<unknown> };

export type GasProfile = {
  byFrame: Array<{ frame: string; gas: number; sload: number; sstore: number }>;
  total: number;
};

const CALLS = new Set(["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"]);

export async function profileTransaction(client: Requester, hash: Hash): Promise<GasProfile> {
  const args = {
    method: "debug_traceTransaction",
    params: [hash, { disableMemory: true, disableStorage: true }],
  };
  const trace = (await client.request(args as never)) as { structLogs: StructLog[] };
  const frames: string[] = ["tx"];
  const acc = new Map<string, { gas: number; sload: number; sstore: number }>();
  let depth = 1;
  for (const log of trace.structLogs) {
    while (log.depth < depth) {
      frames.pop();
      depth--;
    }
    const frame = frames[frames.length - 1] ?? "?";
    const entry = acc.get(frame) ?? { gas: 0, sload: 0, sstore: 0 };
    // A CALL's gasCost includes the gas it forwards; count only the 100-gas warm-access base here
    // (cold-access surcharges land in the callee's first opcodes' neighbours and are ignored).
    entry.gas += CALLS.has(log.op) ? 100 : log.gasCost;
    if (log.op === "SLOAD") entry.sload += log.gasCost;
    if (log.op === "SSTORE") entry.sstore += log.gasCost;
    acc.set(frame, entry);
    if (CALLS.has(log.op) && log.stack) {
      const target = (log.stack[log.stack.length - 2] ?? "").replace(/^0x/, "").padStart(40, "0").slice(-40);
      frames.push(`${log.op[0]}:0x${target}`);
      depth = log.depth + 1;
    }
  }
  const byFrame = [...acc.entries()].map(([frame, v]) => ({ frame, ...v })).sort((a, b) => b.gas - a.gas);
  return { byFrame, total: byFrame.reduce((s, f) => s + f.gas, 0) };
}
