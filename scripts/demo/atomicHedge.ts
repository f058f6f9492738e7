/**
 * One atomic hedge through the real contracts: the keeper bundles a margin deposit, a put purchase
 * on the options AMM and a perp short into one `rebalance`. Its notional is above the automatic
 * tier, so the keeper proposes the exact bundle hash and FINANCE approves it first. Returns the
 * vault's exposure before and after and the audit record the vault emitted.
 */
import {
  formatUnits,
  keccak256,
  parseEventLogs,
  parseUnits,
  stringToBytes,
  type Address,
  type Hex,
} from "viem";
import { confirmStep, walletFor, type HardhatViem, type SystemDeployment } from "../deploy/system.ts";

const WAD = 10n ** 18n;
const LegKind = { Option: 0, Perp: 1, Spot: 2, MarginDeposit: 3 } as const;
type Leg = { kind: number; adapter: Address; underlying: Address; id: bigint; amount: bigint; bound: bigint };

export type ExposureLine = {
  spot: number;
  options: number;
  perps: number;
  liabilities: number;
  net: number;
  band: number;
};

export type AtomicHedgeSummary = {
  tier: number;
  notionalUsd: number;
  legs: Array<{
    kind: string;
    sizeChange: number;
    deltaChange: number;
    executionPrice: number;
    oraclePrice: number;
    fee: number;
  }>;
  before: ExposureLine;
  after: ExposureLine;
  epoch: number;
  inputsHash: Hex;
  txHash: Hex;
  gasUsed: number;
  approvedBy: Address;
};

const num = (v: bigint): number => Number(formatUnits(v, 18));
const KIND_NAMES = ["option", "perp", "spot", "margin deposit", "margin withdraw", "option redeem"];

/** Hedges the WETH net delta of a funded treasury with puts + a perp short in one transaction. */
export async function runAtomicHedge(viem: HardhatViem, d: SystemDeployment): Promise<AtomicHedgeSummary> {
  const publicClient = await viem.getPublicClient();
  const keeper = await walletFor(viem, d.accounts.keeper);
  const finance = await walletFor(viem, d.accounts.finance);
  const vault = await viem.getContractAt("TreasuryVault", d.vault);
  const approvals = await viem.getContractAt("HedgeApprovals", d.approvals);
  const amm = await viem.getContractAt("OptionsAMM", d.optionsAmm);
  const weth = d.tokens.weth.address;
  const exposure = async (): Promise<ExposureLine> => {
    const e = await vault.read.exposure([weth]);
    return {
      spot: num(e.spot),
      options: num(e.options),
      perps: num(e.perps),
      liabilities: num(e.liabilities),
      net: num(e.net),
      band: num(e.band),
    };
  };

  const put = d.series.find((s) => s.underlying === weth && !s.isCall && s.strike === d.prices.weth);
  if (!put) throw new Error("atomic hedge: no ATM WETH put listed");
  const before = await exposure();
  const netWad = (await vault.read.exposure([weth])).net;
  const puts = 200n * WAD;
  const quote = await amm.read.quote([put.id, puts]);
  const optionDelta = (quote.delta * puts) / WAD;
  const perpSize = -(netWad + optionDelta); // the perp takes the rest of the gap
  const legs: Leg[] = [
    {
      kind: LegKind.MarginDeposit,
      adapter: d.adapters.perp,
      underlying: weth,
      id: 0n,
      amount: parseUnits("1500000", 6),
      bound: 0n,
    },
    // Premium bound: the quote plus 1% (the vault also caps fee + spread at the policy's slippage).
    {
      kind: LegKind.Option,
      adapter: d.adapters.options,
      underlying: weth,
      id: put.id,
      amount: puts,
      bound: (quote.premium * 101n) / 100n,
    },
    {
      kind: LegKind.Perp,
      adapter: d.adapters.perp,
      underlying: weth,
      id: 0n,
      amount: perpSize,
      bound: (d.prices.weth * 99n) / 100n,
    },
  ];

  const epoch = await vault.read.epoch();
  const block = await publicClient.getBlock();
  const deadline = block.timestamp + 900n;
  // In production this is the hash of the keeper's journaled input snapshot.
  const inputsHash = keccak256(
    stringToBytes(
      JSON.stringify({ demo: "atomic hedge", epoch: epoch.toString(), netWad: netWad.toString() }),
    ),
  );
  const bundleHash = await vault.read.bundleHash([legs, inputsHash, epoch, deadline]);
  await confirmStep(publicClient, "keeper proposes the bundle", () =>
    approvals.write.propose([bundleHash, epoch], { account: keeper.account }),
  );
  await confirmStep(publicClient, "FINANCE approves the bundle", () =>
    approvals.write.approve([bundleHash, 0], { account: finance.account }),
  );
  const receipt = await confirmStep(publicClient, "keeper executes the rebalance", () =>
    vault.write.rebalance([legs, inputsHash, epoch, deadline], { account: keeper.account }),
  );
  const [event] = parseEventLogs({ abi: vault.abi, eventName: "Rebalanced", logs: receipt.logs });
  if (!event) throw new Error("atomic hedge: no Rebalanced event");
  return {
    tier: event.args.tier,
    notionalUsd: num(event.args.notionalUsd),
    legs: event.args.legs.map((l) => ({
      kind: KIND_NAMES[l.kind] ?? String(l.kind),
      sizeChange: l.kind === LegKind.MarginDeposit ? Number(formatUnits(l.sizeChange, 6)) : num(l.sizeChange),
      deltaChange: num(l.deltaChange),
      executionPrice: num(l.executionPrice),
      oraclePrice: num(l.oraclePrice),
      fee: num(l.fee),
    })),
    before,
    after: await exposure(),
    epoch: Number(event.args.epoch),
    inputsHash: event.args.inputsHash,
    txHash: receipt.transactionHash,
    gasUsed: Number(receipt.gasUsed),
    approvedBy: finance.account.address,
  };
}

const f = (x: number, digits = 2): string =>
  (Math.abs(x) < 0.5 * 10 ** -digits ? 0 : x).toLocaleString("en-US", { maximumFractionDigits: digits });

/** Readable lines for the demo output. */
export function formatAtomicHedge(h: AtomicHedgeSummary): string[] {
  const line = (label: string, e: ExposureLine) =>
    `  ${label.padEnd(7)} spot ${f(e.spot)}  options ${f(e.options)}  perps ${f(e.perps)}  liabilities ${f(e.liabilities)}  net ${f(e.net)} (band ±${f(e.band)})`;
  return [
    `Atomic hedge (one transaction, epoch ${h.epoch}, tier ${h.tier}: proposed by the keeper, approved by FINANCE ${h.approvedBy})`,
    line("before", h.before),
    ...h.legs.map(
      (l, i) =>
        `  leg ${i + 1} ${l.kind.padEnd(14)} size ${f(l.sizeChange, 4)}  delta ${f(l.deltaChange, 2)}  price ${f(l.executionPrice, 4)}  oracle ${f(l.oraclePrice)}  fee ${f(l.fee)}`,
    ),
    line("after", h.after),
    `  notional ${f(h.notionalUsd, 0)} USD  gas ${h.gasUsed.toLocaleString("en-US")}  tx ${h.txHash}`,
    `  inputsHash ${h.inputsHash}`,
  ];
}
