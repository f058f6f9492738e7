/**
 * Pieces shared by the runs of the live keeper on the embedded chain (the demo's month and the
 * chain backtest engine): the keeper's key among the chain's test accounts, oracle moves posted as
 * rounds the router's jump guard accepts, and a text progress bar.
 */
import type { Address, Hash } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { confirmStep } from "../deploy/system.ts";

/** Hardhat's default test mnemonic: the embedded chain's accounts. */
const MNEMONIC = "test test test test test test test test test test test junk";
/** Moves beyond this are posted as several rounds (the router's jump guard is 20 % per round). */
export const MAX_ROUND_MOVE = 0.15;

/** The local account of `address` among the embedded chain's first 20 test accounts. */
export function testAccountKey(address: Address) {
  for (let i = 0; i < 20; i++) {
    const a = mnemonicToAccount(MNEMONIC, { addressIndex: i });
    if (a.address.toLowerCase() === address.toLowerCase()) return a;
  }
  throw new Error(`${address} is not one of the embedded chain's test accounts`);
}

/**
 * Posts a move from `from` to `to` (USD) as the fewest geometric steps of at most MAX_ROUND_MOVE,
 * as a deviation-triggered feed would; `submit` sends one round's answer (feed decimals applied).
 */
export async function postPriceMove(
  pc: Parameters<typeof confirmStep>[0],
  submit: (answer: bigint) => Promise<Hash>,
  decimals: number,
  from: number,
  to: number,
): Promise<void> {
  const rounds = Math.max(1, Math.ceil(Math.abs(Math.log(to / from)) / Math.log(1 + MAX_ROUND_MOVE)));
  for (let k = 1; k <= rounds; k++) {
    const p = from * (to / from) ** (k / rounds);
    const answer = BigInt(Math.round(p * 10 ** decimals));
    await confirmStep(pc, "oracle round", () => submit(answer));
  }
}

/** `[#####.......]` for a fraction done. */
export function progressBar(frac: number, width = 24): string {
  const full = Math.round(Math.min(1, Math.max(0, frac)) * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}]`;
}
