/**
 * The finance and risk desks of the embedded-chain runs (the demo's month, the chain backtest):
 * while a keeper tick waits on a tier-1/2 bundle, they approve every proposal the keeper made, each
 * as its own role, in order FINANCE then RISK, and stop as soon as the keeper consumed it (a tier-1
 * bundle executes after the first approval).
 */
import type { Hex } from "viem";
import { confirmStep, type HardhatViem } from "../deploy/system.ts";

export type ApprovalDesk = {
  /** Runs `work` while the desks poll for proposals every `pollMs`; returns its result. */
  during<T>(work: () => Promise<T>): Promise<T>;
  /** Proposals approved so far (bundle hashes). */
  readonly approved: Hex[];
};

export async function createApprovalDesk(
  viem: HardhatViem,
  o: { approvals: Hex; finance: Hex; risk: Hex; pollMs?: number },
): Promise<ApprovalDesk> {
  const pc = await viem.getPublicClient();
  const approvals = await viem.getContractAt("HedgeApprovals", o.approvals);
  const finance = await viem.getWalletClient(o.finance);
  const risk = await viem.getWalletClient(o.risk);
  const approved: Hex[] = [];
  let nextBlock = 0n;

  const sweep = async () => {
    const to = await pc.getBlockNumber();
    if (to < nextBlock) return;
    const logs = await pc.getContractEvents({
      address: o.approvals,
      abi: approvals.abi,
      eventName: "BundleProposed",
      fromBlock: nextBlock,
      toBlock: to,
    });
    nextBlock = to + 1n;
    for (const l of logs) {
      const hash = l.args.bundleHash as Hex;
      for (const [role, wallet, name] of [
        [0, finance, "FINANCE"],
        [1, risk, "RISK"],
      ] as const) {
        if ((await approvals.read.proposal([hash])).consumed) break;
        try {
          await confirmStep(pc, `${name} approves`, () =>
            approvals.write.approve([hash, role], { account: wallet.account }),
          );
        } catch (e) {
          // The keeper executed in between (one approval was enough): nothing left to approve.
          if ((await approvals.read.proposal([hash])).consumed) break;
          throw e;
        }
      }
      approved.push(hash);
    }
  };

  return {
    approved,
    async during<T>(work: () => Promise<T>): Promise<T> {
      // Only proposals made during `work` (blocks before it hold none the desk still owes).
      nextBlock = (await pc.getBlockNumber()) + 1n;
      let running = true;
      const desk = (async () => {
        while (running) {
          await sweep();
          await new Promise((r) => setTimeout(r, o.pollMs ?? 5));
        }
      })();
      try {
        return await work();
      } finally {
        running = false;
        await desk;
      }
    },
  };
}
