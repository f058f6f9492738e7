/**
 * Pieces shared by the runs of the live keeper on the embedded chain (the demo's month and the
 * chain backtest engine): the keeper's key among the chain's test accounts, oracle moves posted as
 * rounds the router's jump guard accepts, a text progress bar, what a rebalance receipt cost, and
 * the unhedged baseline.
 */
import {
  formatUnits,
  parseEventLogs,
  type Abi,
  type Address,
  type Hash,
  type TransactionReceipt,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { confirmStep } from "../deploy/system.ts";
import type { BacktestResult, Rebalance, Tier } from "../../keeper/src/backtest/engine.ts";

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

/** What one confirmed `rebalance` cost and did, read from its receipt's events. */
export type RebalanceReceipt = {
  fees: number;
  /** |execution − oracle| × size over the linear (perp, spot) legs, USD. */
  slippage: number;
  /** Units traded on the linear legs. */
  turnover: number;
  /** Funding the perp DEX settled on the bundle's fills, USD. */
  fundingSettled: number;
  gasUsd: number;
  tier: number;
  rebalance: Rebalance;
};

/**
 * Reads a rebalance receipt: the vault's Rebalanced event (per-leg fee, execution vs oracle price,
 * tier, notional), the perp DEX's settled funding, and gas valued at `gasPriceGwei` and the ETH
 * price. Null when the receipt holds no Rebalanced event.
 */
export function readRebalanceReceipt(
  receipt: TransactionReceipt,
  abis: { vault: Abi; perpDex: Abi },
  o: { gasPriceGwei: number; ethUsd: number; time: number },
): RebalanceReceipt | null {
  const [ev] = parseEventLogs({
    abi: abis.vault,
    eventName: "Rebalanced",
    logs: receipt.logs,
  }) as unknown as {
    args: RebalancedArgs;
  }[];
  if (ev === undefined) return null;
  let fees = 0;
  let slippage = 0;
  let turnover = 0;
  for (const l of ev.args.legs) {
    fees += f18(l.fee);
    // Perp and spot legs are priced trades; an option leg's price is a premium.
    if (l.kind === 1 || l.kind === 2) {
      const size = Math.abs(f18(l.sizeChange));
      slippage += Math.abs(f18(l.executionPrice) - f18(l.oraclePrice)) * size;
      turnover += size;
    }
  }
  let fundingSettled = 0;
  for (const p of parseEventLogs({
    abi: abis.perpDex,
    eventName: "PositionModified",
    logs: receipt.logs,
  }) as unknown as { args: { fundingSettled: bigint } }[])
    fundingSettled += f18(p.args.fundingSettled);
  const gas = Number(receipt.gasUsed);
  const tier = ev.args.tier;
  return {
    fees,
    slippage,
    turnover,
    fundingSettled,
    gasUsd: gas * o.gasPriceGwei * 1e-9 * o.ethUsd,
    tier,
    rebalance: {
      time: o.time,
      tier: TIERS[Math.min(2, tier)] as Tier,
      notionalUsd: f18(ev.args.notionalUsd),
      legs: ev.args.legs.length,
      gas,
      overlay: ev.args.legs.some((l) => l.kind === 0),
    },
  };
}

/** The unhedged baseline of an embedded run: the book's value and net delta, no costs, no trades. */
export function unhedgedResult(
  base: Pick<BacktestResult, "underlying" | "times" | "prices" | "cumFlow" | "target">,
  value: Float64Array,
  net: Float64Array,
): BacktestResult {
  const n = base.times.length;
  const zero = () => new Float64Array(n);
  return {
    ...base,
    bars: n,
    policy: { name: "unhedged", kind: "unhedged", overlay: false },
    value,
    netPre: net,
    netPost: net,
    band: new Float64Array(n).fill(Number.NaN),
    cumCost: { fees: zero(), slippage: zero(), funding: zero(), gas: zero() },
    costs: { fees: 0, slippage: 0, funding: 0, gas: 0, total: 0 },
    bookCostUsd: 0,
    overlay: { buys: 0, premiumUsd: 0, feesUsd: 0, spreadUsd: 0 },
    rebalances: { auto: 0, oneApproval: 0, twoApprovals: 0, total: 0 },
    rebalanceLog: [],
    decisions: { hold: 0, hedge: 0, standDown: 0, rejected: 0 },
    standDowns: [],
    rejections: [],
    turnoverUnits: 0,
    peakMarginUsd: 0,
    minCashUsd: 0,
  };
}

type RebalancedArgs = {
  tier: number;
  notionalUsd: bigint;
  legs: readonly {
    kind: number;
    fee: bigint;
    sizeChange: bigint;
    executionPrice: bigint;
    oraclePrice: bigint;
  }[];
};
const TIERS: Tier[] = ["auto", "oneApproval", "twoApprovals"];
const f18 = (x: bigint) => Number(formatUnits(x, 18));
