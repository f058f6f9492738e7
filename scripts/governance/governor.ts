/**
 * The Governor lifecycle as four checked steps: propose → castVote → queue → execute. Each step
 * reads the proposal's state first and refuses with a clear GovernanceError (code "state",
 * "threshold", ...) when the step cannot succeed yet, saying when it can; each step then sends one
 * transaction and waits for it.
 */
import {
  getAddress,
  parseEventLogs,
  zeroHash,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Transport,
  type WalletClient,
} from "viem";
import { governorAbi, riskPolicyAbi, timelockAbi, accessControlAbi, vaultGuardianAbi } from "./abis.ts";
import { GovernanceError, describeRevert } from "./errors.ts";
import type { AnyPublicClient, GovernorProposal } from "./proposal.ts";

/** A wallet client with an account (hardhat-viem's wallet clients satisfy it). */
export type SigningWallet = WalletClient<Transport, Chain, Account>;

/** IGovernor.ProposalState, in enum order. */
export const PROPOSAL_STATES = [
  "Pending",
  "Active",
  "Canceled",
  "Defeated",
  "Succeeded",
  "Queued",
  "Expired",
  "Executed",
] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];

export type VoteSupport = "against" | "for" | "abstain";
const SUPPORT: Record<VoteSupport, number> = { against: 0, for: 1, abstain: 2 };

export interface ProposalStatus {
  proposalId: bigint;
  state: ProposalState;
  /** Governor clock (seconds) now, at the snapshot, and at the vote deadline. */
  clock: bigint;
  snapshot: bigint;
  deadline: bigint;
  /** Timelock eta (0 until queued). */
  eta: bigint;
  votes: { for: bigint; against: bigint; abstain: bigint };
  /** Votes needed (For + Abstain) — quorum at the snapshot. */
  quorum: bigint;
}

/** Reverts any contract in the flow may raise, for decoding. */
const flowErrorsAbi: Abi = [
  ...governorAbi,
  ...timelockAbi,
  ...riskPolicyAbi,
  ...accessControlAbi,
  ...vaultGuardianAbi,
];

/** The id the Governor gives `proposal` (hashProposal on chain). */
export async function proposalIdOf(
  publicClient: AnyPublicClient,
  governor: Address,
  proposal: GovernorProposal,
): Promise<bigint> {
  return publicClient.readContract({
    address: governor,
    abi: governorAbi,
    functionName: "hashProposal",
    args: [proposal.targets, proposal.values, proposal.calldatas, proposal.descriptionHash],
  });
}

/** State, timing, tally and quorum of a proposal. Throws "state" for an unknown id. */
export async function proposalStatus(
  publicClient: AnyPublicClient,
  governor: Address,
  proposalId: bigint,
): Promise<ProposalStatus> {
  const base = { address: governor, abi: governorAbi, args: [proposalId] } as const;
  let stateIndex: number;
  try {
    stateIndex = await publicClient.readContract({ ...base, functionName: "state" });
  } catch (err) {
    throw new GovernanceError(
      "state",
      `proposal ${proposalId} does not exist (${describeRevert(err, flowErrorsAbi)})`,
      {
        cause: err,
      },
    );
  }
  const [snapshot, deadline, eta, [against, forVotes, abstain], clock] = await Promise.all([
    publicClient.readContract({ ...base, functionName: "proposalSnapshot" }),
    publicClient.readContract({ ...base, functionName: "proposalDeadline" }),
    publicClient.readContract({ ...base, functionName: "proposalEta" }),
    publicClient.readContract({ ...base, functionName: "proposalVotes" }),
    publicClient.readContract({ address: governor, abi: governorAbi, functionName: "clock" }),
  ]);
  // Quorum is defined at the snapshot, which must be in the past to be read.
  const quorumAt = BigInt(clock) > snapshot ? snapshot : BigInt(clock) - 1n;
  const quorum = await publicClient.readContract({
    address: governor,
    abi: governorAbi,
    functionName: "quorum",
    args: [quorumAt],
  });
  return {
    proposalId,
    state: PROPOSAL_STATES[stateIndex] ?? "Pending",
    clock: BigInt(clock),
    snapshot,
    deadline,
    eta,
    votes: { for: forVotes, against, abstain },
    quorum,
  };
}

/** Submits `proposal`. Refuses if the proposer lacks the threshold or the same proposal exists. */
export async function propose(
  publicClient: AnyPublicClient,
  wallet: SigningWallet,
  params: { governor: Address; proposal: GovernorProposal },
): Promise<{ proposalId: bigint; hash: Hash; status: ProposalStatus }> {
  const governor = getAddress(params.governor);
  const { proposal } = params;
  const proposalId = await proposalIdOf(publicClient, governor, proposal);
  const existing = await tryState(publicClient, governor, proposalId);
  if (existing !== undefined) {
    throw new GovernanceError(
      "state",
      `an identical proposal ${proposalId} already exists (${existing}); add a note to the description to propose it again`,
    );
  }
  const proposer = getAddress(wallet.account.address);
  const [threshold, clock] = await Promise.all([
    publicClient.readContract({ address: governor, abi: governorAbi, functionName: "proposalThreshold" }),
    publicClient.readContract({ address: governor, abi: governorAbi, functionName: "clock" }),
  ]);
  if (threshold > 0n) {
    const votes = await publicClient.readContract({
      address: governor,
      abi: governorAbi,
      functionName: "getVotes",
      args: [proposer, BigInt(clock) - 1n],
    });
    if (votes < threshold) {
      throw new GovernanceError(
        "threshold",
        `${proposer} has ${votes} votes, the proposal threshold is ${threshold} (delegate votes to yourself first)`,
      );
    }
  }
  const hash = await send(publicClient, () =>
    wallet.writeContract({
      address: governor,
      abi: governorAbi,
      functionName: "propose",
      args: [proposal.targets, proposal.values, proposal.calldatas, proposal.description],
    }),
  );
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  const created = parseEventLogs({ abi: governorAbi, eventName: "ProposalCreated", logs: receipt.logs });
  const id = created[0]?.args.proposalId;
  if (id !== proposalId)
    throw new GovernanceError("reverted", `propose: expected ProposalCreated(${proposalId})`);
  return { proposalId, hash, status: await proposalStatus(publicClient, governor, proposalId) };
}

/** Casts `support` on an Active proposal; refuses (saying when voting opens or closed) otherwise. */
export async function castVote(
  publicClient: AnyPublicClient,
  wallet: SigningWallet,
  params: { governor: Address; proposalId: bigint; support: VoteSupport; reason?: string },
): Promise<{ hash: Hash; weight: bigint }> {
  const governor = getAddress(params.governor);
  const status = await proposalStatus(publicClient, governor, params.proposalId);
  if (status.state === "Pending") {
    throw new GovernanceError(
      "state",
      `proposal ${params.proposalId} is Pending: voting opens after ${status.snapshot} (now ${status.clock})`,
    );
  }
  if (status.state !== "Active") {
    throw new GovernanceError("state", `proposal ${params.proposalId} is ${status.state}: voting is closed`);
  }
  const voter = getAddress(wallet.account.address);
  const already = await publicClient.readContract({
    address: governor,
    abi: governorAbi,
    functionName: "hasVoted",
    args: [params.proposalId, voter],
  });
  if (already)
    throw new GovernanceError("state", `${voter} has already voted on proposal ${params.proposalId}`);
  const support = SUPPORT[params.support];
  const hash = await send(publicClient, () =>
    params.reason !== undefined
      ? wallet.writeContract({
          address: governor,
          abi: governorAbi,
          functionName: "castVoteWithReason",
          args: [params.proposalId, support, params.reason],
        })
      : wallet.writeContract({
          address: governor,
          abi: governorAbi,
          functionName: "castVote",
          args: [params.proposalId, support],
        }),
  );
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  const cast = parseEventLogs({ abi: governorAbi, eventName: "VoteCast", logs: receipt.logs });
  return { hash, weight: cast[0]?.args.weight ?? 0n };
}

/** Queues a Succeeded proposal in the timelock; refuses with the tally when it did not pass. */
export async function queue(
  publicClient: AnyPublicClient,
  wallet: SigningWallet,
  params: { governor: Address; proposal: GovernorProposal },
): Promise<{ hash: Hash; eta: bigint }> {
  const governor = getAddress(params.governor);
  const { proposal } = params;
  const proposalId = await proposalIdOf(publicClient, governor, proposal);
  const status = await proposalStatus(publicClient, governor, proposalId);
  if (status.state !== "Succeeded") throw new GovernanceError("state", stateProblem(status, "queued"));
  const hash = await send(publicClient, () =>
    wallet.writeContract({
      address: governor,
      abi: governorAbi,
      functionName: "queue",
      args: [proposal.targets, proposal.values, proposal.calldatas, proposal.descriptionHash],
    }),
  );
  const after = await proposalStatus(publicClient, governor, proposalId);
  return { hash, eta: after.eta };
}

/** Executes a Queued proposal whose timelock delay is over; refuses (with the eta) before that. */
export async function execute(
  publicClient: AnyPublicClient,
  wallet: SigningWallet,
  params: { governor: Address; proposal: GovernorProposal },
): Promise<{ hash: Hash }> {
  const governor = getAddress(params.governor);
  const { proposal } = params;
  const proposalId = await proposalIdOf(publicClient, governor, proposal);
  const status = await proposalStatus(publicClient, governor, proposalId);
  if (status.state !== "Queued") throw new GovernanceError("state", stateProblem(status, "executed"));
  const block = await publicClient.getBlock();
  if (block.timestamp < status.eta) {
    throw new GovernanceError(
      "state",
      `proposal ${proposalId} is Queued: the timelock delay ends at ${status.eta} (latest block ${block.timestamp}, ${status.eta - block.timestamp} s to go)`,
    );
  }
  const hash = await send(publicClient, () =>
    wallet.writeContract({
      address: governor,
      abi: governorAbi,
      functionName: "execute",
      args: [proposal.targets, proposal.values, proposal.calldatas, proposal.descriptionHash],
    }),
  );
  return { hash };
}

/** The timelock operation id of a queued proposal (GovernorTimelockControl's salt). */
export async function timelockOperationId(
  publicClient: AnyPublicClient,
  governor: Address,
  proposal: GovernorProposal,
): Promise<Hash> {
  const timelock = await publicClient.readContract({
    address: governor,
    abi: governorAbi,
    functionName: "timelock",
  });
  // GovernorTimelockControl: salt = bytes20(address(this)) ^ descriptionHash.
  const governorBits = BigInt(getAddress(governor)) << 96n;
  const saltHex =
    `0x${(governorBits ^ BigInt(proposal.descriptionHash)).toString(16).padStart(64, "0")}` as Hash;
  return publicClient.readContract({
    address: timelock,
    abi: timelockAbi,
    functionName: "hashOperationBatch",
    args: [proposal.targets, proposal.values, proposal.calldatas, zeroHash, saltHex],
  });
}

function stateProblem(status: ProposalStatus, action: string): string {
  const id = status.proposalId;
  switch (status.state) {
    case "Pending":
    case "Active":
      return `proposal ${id} is ${status.state}: it can be ${action} only after voting ends at ${status.deadline} (now ${status.clock})`;
    case "Defeated": {
      const counted = status.votes.for + status.votes.abstain;
      const why =
        counted < status.quorum
          ? `quorum not reached (${counted} of ${status.quorum} For+Abstain votes)`
          : `For ${status.votes.for} did not beat Against ${status.votes.against}`;
      return `proposal ${id} was Defeated: ${why}`;
    }
    default:
      return `proposal ${id} is ${status.state}: it cannot be ${action}`;
  }
}

async function tryState(
  publicClient: AnyPublicClient,
  governor: Address,
  proposalId: bigint,
): Promise<ProposalState | undefined> {
  try {
    const s = await publicClient.readContract({
      address: governor,
      abi: governorAbi,
      functionName: "state",
      args: [proposalId],
    });
    return PROPOSAL_STATES[s];
  } catch {
    return undefined;
  }
}

/** Sends, waits, and turns any failure into a GovernanceError with the decoded revert. */
async function send(publicClient: AnyPublicClient, write: () => Promise<Hash>): Promise<Hash> {
  let hash: Hash;
  try {
    hash = await write();
  } catch (err) {
    throw new GovernanceError("reverted", `transaction would revert: ${describeRevert(err, flowErrorsAbi)}`, {
      cause: err,
    });
  }
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new GovernanceError("reverted", `transaction ${hash} reverted`);
  return hash;
}
