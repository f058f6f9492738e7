// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {RiskPolicy} from "./RiskPolicy.sol";

/// @notice What the approval queue needs to know about the vault it serves.
interface IVaultStatus {
    function epoch() external view returns (uint64);
    function isPaused() external view returns (bool);
}

/// @title HedgeApprovals
/// @notice The on-chain approval queue for hedge bundles above the automatic tier. A keeper proposes
/// the exact bundle hash (which binds vault, chain, legs, inputsHash, epoch and deadline); FINANCE
/// approves bundles from tier 1; RISK must also approve from tier 2, and the two approvals must come
/// from two different accounts. Approvals expire after the policy's approval expiry and are used
/// once: the vault consumes them when it executes the bundle, and its post-trade checks still apply.
contract HedgeApprovals is AccessControl {
    bytes32 public constant PROPOSER_ROLE = keccak256("PROPOSER_ROLE");
    bytes32 public constant FINANCE_ROLE = keccak256("FINANCE_ROLE");
    bytes32 public constant RISK_ROLE = keccak256("RISK_ROLE");

    enum Approver {
        Finance,
        Risk
    }

    struct Proposal {
        address proposer;
        uint64 epoch;
        uint64 expiresAt;
        address financeApprover;
        address riskApprover;
        bool consumed;
    }

    RiskPolicy public immutable policy;
    IVaultStatus public vault;
    mapping(bytes32 bundleHash => Proposal) private _proposals;

    event VaultBound(address indexed vault);
    event BundleProposed(bytes32 indexed bundleHash, uint64 indexed epoch, address indexed proposer, uint64 expiresAt);
    event BundleApproved(bytes32 indexed bundleHash, Approver indexed as_, address indexed approver);
    event BundleConsumed(bytes32 indexed bundleHash, uint8 tier);

    error VaultAlreadyBound();
    error NotVault(address caller);
    error VaultPaused();
    error WrongEpoch(uint64 expected, uint64 given);
    error AlreadyProposed(bytes32 bundleHash);
    error UnknownProposal(bytes32 bundleHash);
    error ProposalExpired(bytes32 bundleHash, uint64 expiresAt);
    error AlreadyConsumed(bytes32 bundleHash);
    error SameApprover(address approver);
    error MissingApproval(bytes32 bundleHash, Approver missing);

    /// @param policy_ Source of the approval expiry.
    /// @param admin DEFAULT_ADMIN_ROLE (governance): grants PROPOSER, FINANCE and RISK.
    constructor(RiskPolicy policy_, address admin) {
        policy = policy_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Binds the vault this queue serves; once only. DEFAULT_ADMIN_ROLE.
    function bindVault(address vault_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(vault) != address(0)) revert VaultAlreadyBound();
        vault = IVaultStatus(vault_);
        emit VaultBound(vault_);
    }

    /// @notice Queues `bundleHash` (see TreasuryVault.bundleHash) for approval. PROPOSER_ROLE (keepers).
    /// @dev A hash whose earlier proposal expired unused may be proposed again.
    function propose(bytes32 bundleHash, uint64 epoch_) external onlyRole(PROPOSER_ROLE) {
        IVaultStatus v = vault;
        if (v.isPaused()) revert VaultPaused();
        uint64 current = v.epoch();
        if (epoch_ != current) revert WrongEpoch(current, epoch_);
        Proposal storage p = _proposals[bundleHash];
        if (p.proposer != address(0) && (p.consumed || p.expiresAt >= block.timestamp)) {
            revert AlreadyProposed(bundleHash);
        }
        uint64 expiresAt = uint64(block.timestamp + policy.globalLimits().approvalExpiry);
        _proposals[bundleHash] = Proposal(msg.sender, epoch_, expiresAt, address(0), address(0), false);
        emit BundleProposed(bundleHash, epoch_, msg.sender, expiresAt);
    }

    /// @notice Approves `bundleHash` as FINANCE or RISK (the caller must hold that role).
    function approve(bytes32 bundleHash, Approver as_) external {
        _checkRole(as_ == Approver.Finance ? FINANCE_ROLE : RISK_ROLE);
        Proposal storage p = _live(bundleHash);
        if (as_ == Approver.Finance) {
            if (p.riskApprover == msg.sender) revert SameApprover(msg.sender);
            p.financeApprover = msg.sender;
        } else {
            if (p.financeApprover == msg.sender) revert SameApprover(msg.sender);
            p.riskApprover = msg.sender;
        }
        emit BundleApproved(bundleHash, as_, msg.sender);
    }

    /// @notice Marks `bundleHash` used for a bundle of `tier` (1 or 2); reverts unless it carries the
    /// approvals that tier needs and is unexpired and unused. The bound vault only.
    function consume(bytes32 bundleHash, uint8 tier) external {
        if (msg.sender != address(vault)) revert NotVault(msg.sender);
        Proposal storage p = _live(bundleHash);
        if (p.financeApprover == address(0)) revert MissingApproval(bundleHash, Approver.Finance);
        if (tier >= 2 && p.riskApprover == address(0)) revert MissingApproval(bundleHash, Approver.Risk);
        p.consumed = true;
        emit BundleConsumed(bundleHash, tier);
    }

    /// @notice The proposal recorded for `bundleHash` (zero proposer if none).
    function proposal(bytes32 bundleHash) external view returns (Proposal memory) {
        return _proposals[bundleHash];
    }

    function _live(bytes32 bundleHash) private view returns (Proposal storage p) {
        p = _proposals[bundleHash];
        if (p.proposer == address(0)) revert UnknownProposal(bundleHash);
        if (p.consumed) revert AlreadyConsumed(bundleHash);
        if (block.timestamp > p.expiresAt) revert ProposalExpired(bundleHash, p.expiresAt);
    }
}
