/**
 * Minimal human-readable ABIs of the contracts the governance helpers talk to. They are kept small
 * on purpose (only what the helpers call) and test/ts/governance/abis.test.ts checks every item
 * against the compiled artifacts and the published Safe artifacts, so drift fails CI.
 */
import { parseAbi } from "viem";

/** OpenZeppelin AccessControl (every role-holding contract of the system). */
export const accessControlAbi = parseAbi([
  "function DEFAULT_ADMIN_ROLE() view returns (bytes32)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function getRoleAdmin(bytes32 role) view returns (bytes32)",
  "function grantRole(bytes32 role, address account)",
  "function renounceRole(bytes32 role, address callerConfirmation)",
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
  "error AccessControlBadConfirmation()",
]);

/** contracts/core/RiskPolicy.sol (struct field order is the contract's). */
export const riskPolicyAbi = parseAbi([
  "struct UnderlyingLimits { bool enabled; int128 targetDelta; uint128 band; uint64 minHedgeRatio; uint64 maxHedgeRatio; uint128 maxOptionLegSize; uint128 maxPerpLegSize; uint128 maxSpotLegSize; uint128 maxPerpPosition; uint128 premiumBudgetPerWindow; uint8 maxOpenSeries; }",
  "struct GlobalLimits { uint16 maxSlippageBps; uint16 oracleMaxDeviationBps; uint32 oracleMaxAge; uint32 keeperCooldown; uint32 window; uint32 approvalExpiry; uint32 greeksCacheMaxAge; uint16 greeksCacheMaxMoveBps; uint128 turnoverCapPerWindow; uint128 tier1Notional; uint128 tier2Notional; }",
  "function GOVERNANCE_ROLE() view returns (bytes32)",
  "function globalLimits() view returns (GlobalLimits)",
  "function rawUnderlyingLimits(address underlying) view returns (UnderlyingLimits)",
  "function venueAllowed(address adapter) view returns (bool)",
  "function setGlobalLimits(GlobalLimits limits)",
  "function setUnderlyingLimits(address underlying, UnderlyingLimits limits)",
  "function setVenueAllowed(address adapter, bool allowed)",
  "event GlobalLimitsSet(GlobalLimits oldLimits, GlobalLimits newLimits)",
  "event UnderlyingLimitsSet(address indexed underlying, UnderlyingLimits oldLimits, UnderlyingLimits newLimits)",
  "event VenueAllowedSet(address indexed adapter, bool oldAllowed, bool newAllowed)",
  "error InvalidLimit(string field)",
  "error UnknownUnderlying(address underlying)",
]);

/** The guardian / governance surface of contracts/core/TreasuryVault.sol. */
export const vaultGuardianAbi = parseAbi([
  "function GOVERNANCE_ROLE() view returns (bytes32)",
  "function GUARDIAN_ROLE() view returns (bytes32)",
  "function mode() view returns (uint8)",
  "function pause()",
  "function setReduceOnly()",
  "function unpause()",
  "function emergencyUnwind(address adapter, address underlying, uint256 acceptablePrice, uint256 deadline)",
  "function policy() view returns (address)",
  "function oracle() view returns (address)",
  "function ledger() view returns (address)",
  "function approvals() view returns (address)",
  "event ModeChanged(uint8 oldMode, uint8 newMode, address indexed by)",
  "error InvalidMode()",
  "error NotRegisteredPerpVenue(address adapter)",
  "error InvalidAmount()",
  "error SlippageTooHigh(uint256 legIndex, uint256 executionPrice, uint256 oraclePrice, uint256 fee)",
]);

/** contracts/core/HedgeApprovals.sol, the one view the handover checks. */
export const approvalsAbi = parseAbi(["function vault() view returns (address)"]);

/** contracts/governance/DeltaVaultGovernor.sol (OpenZeppelin Governor 5.x). */
export const governorAbi = parseAbi([
  "function propose(address[] targets, uint256[] values, bytes[] calldatas, string description) returns (uint256)",
  "function castVote(uint256 proposalId, uint8 support) returns (uint256)",
  "function castVoteWithReason(uint256 proposalId, uint8 support, string reason) returns (uint256)",
  "function queue(address[] targets, uint256[] values, bytes[] calldatas, bytes32 descriptionHash) returns (uint256)",
  "function execute(address[] targets, uint256[] values, bytes[] calldatas, bytes32 descriptionHash) payable returns (uint256)",
  "function hashProposal(address[] targets, uint256[] values, bytes[] calldatas, bytes32 descriptionHash) pure returns (uint256)",
  "function state(uint256 proposalId) view returns (uint8)",
  "function proposalSnapshot(uint256 proposalId) view returns (uint256)",
  "function proposalDeadline(uint256 proposalId) view returns (uint256)",
  "function proposalEta(uint256 proposalId) view returns (uint256)",
  "function proposalVotes(uint256 proposalId) view returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes)",
  "function hasVoted(uint256 proposalId, address account) view returns (bool)",
  "function quorum(uint256 timepoint) view returns (uint256)",
  "function proposalThreshold() view returns (uint256)",
  "function getVotes(address account, uint256 timepoint) view returns (uint256)",
  "function clock() view returns (uint48)",
  "function timelock() view returns (address)",
  "function token() view returns (address)",
  "event ProposalCreated(uint256 proposalId, address proposer, address[] targets, uint256[] values, string[] signatures, bytes[] calldatas, uint256 voteStart, uint256 voteEnd, string description)",
  "event ProposalQueued(uint256 proposalId, uint256 etaSeconds)",
  "event ProposalExecuted(uint256 proposalId)",
  "event VoteCast(address indexed voter, uint256 proposalId, uint8 support, uint256 weight, string reason)",
  "error GovernorUnexpectedProposalState(uint256 proposalId, uint8 current, bytes32 expectedStates)",
  "error GovernorInsufficientProposerVotes(address proposer, uint256 votes, uint256 threshold)",
  "error GovernorAlreadyCastVote(address voter)",
  "error GovernorNonexistentProposal(uint256 proposalId)",
  "error TimelockUnexpectedOperationState(bytes32 operationId, bytes32 expectedStates)",
  "error FailedCall()",
]);

/** contracts/governance/DeltaVaultTimelock.sol (OpenZeppelin TimelockController 5.x). */
export const timelockAbi = parseAbi([
  "function getMinDelay() view returns (uint256)",
  "function hashOperationBatch(address[] targets, uint256[] values, bytes[] payloads, bytes32 predecessor, bytes32 salt) pure returns (bytes32)",
  "function getTimestamp(bytes32 id) view returns (uint256)",
  "function isOperationReady(bytes32 id) view returns (bool)",
  "function isOperationDone(bytes32 id) view returns (bool)",
  "function PROPOSER_ROLE() view returns (bytes32)",
  "function EXECUTOR_ROLE() view returns (bytes32)",
  "function CANCELLER_ROLE() view returns (bytes32)",
  "error TimelockUnexpectedOperationState(bytes32 operationId, bytes32 expectedStates)",
  "error FailedCall()",
]);

/** Safe 1.4.1 (`@safe-global/safe-contracts` Safe.sol) as the helpers use it. */
export const safeAbi = parseAbi([
  "function setup(address[] _owners, uint256 _threshold, address to, bytes data, address fallbackHandler, address paymentToken, uint256 payment, address paymentReceiver)",
  "function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures) payable returns (bool success)",
  "function getTransactionHash(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, uint256 _nonce) view returns (bytes32)",
  "function domainSeparator() view returns (bytes32)",
  "function nonce() view returns (uint256)",
  "function getOwners() view returns (address[])",
  "function getThreshold() view returns (uint256)",
  "function isOwner(address owner) view returns (bool)",
  "function VERSION() view returns (string)",
  "event ExecutionSuccess(bytes32 indexed txHash, uint256 payment)",
  "event ExecutionFailure(bytes32 indexed txHash, uint256 payment)",
]);

/** Safe 1.4.1 SafeProxyFactory. */
export const safeProxyFactoryAbi = parseAbi([
  "function createProxyWithNonce(address _singleton, bytes initializer, uint256 saltNonce) returns (address proxy)",
  "event ProxyCreation(address indexed proxy, address singleton)",
]);
