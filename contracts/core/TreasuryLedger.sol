// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title TreasuryLedger
/// @notice The treasury's books beside its holdings: what it owes in each asset (creator payouts owed
/// in ETH, pending settlements) and how its holdings are earmarked (operating, reserve, creator funds,
/// pending settlements). The vault nets liabilities against assets: exposure = assets - liabilities.
contract TreasuryLedger is AccessControl {
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");

    enum Bucket {
        Operating,
        Reserve,
        CreatorFunds,
        PendingSettlements
    }

    uint256 public constant MAX_AMOUNT = 1e36;

    /// @dev Amount owed per asset and bucket (underlying units, WAD).
    mapping(address asset => mapping(Bucket => uint256)) public liability;
    /// @dev Sum over buckets, kept so the vault's band check reads one slot.
    mapping(address asset => uint256) public totalLiabilities;
    /// @dev Target balance earmarked per asset and bucket (underlying units, WAD).
    mapping(address asset => mapping(Bucket => uint256)) public bucketTarget;

    event LiabilitySet(address indexed asset, Bucket indexed bucket, uint256 oldAmount, uint256 newAmount, uint256 total);
    event BucketTargetSet(address indexed asset, Bucket indexed bucket, uint256 oldAmount, uint256 newAmount);

    error InvalidAmount(uint256 amount);
    error ZeroAsset();

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (governance), which grants TREASURER_ROLE.
    /// @param treasurer Initial TREASURER_ROLE holder (treasury ops); address(0) for none.
    constructor(address admin, address treasurer) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (treasurer != address(0)) _grantRole(TREASURER_ROLE, treasurer);
    }

    /// @notice Sets what the treasury owes in `asset` under `bucket` (e.g. creator payouts owed in ETH).
    /// TREASURER_ROLE only.
    function setLiability(address asset, Bucket bucket, uint256 amount) external onlyRole(TREASURER_ROLE) {
        if (asset == address(0)) revert ZeroAsset();
        if (amount > MAX_AMOUNT) revert InvalidAmount(amount);
        uint256 old = liability[asset][bucket];
        uint256 total = totalLiabilities[asset] - old + amount;
        liability[asset][bucket] = amount;
        totalLiabilities[asset] = total;
        emit LiabilitySet(asset, bucket, old, amount, total);
    }

    /// @notice Sets the balance of `asset` earmarked for `bucket`. TREASURER_ROLE only.
    function setBucketTarget(address asset, Bucket bucket, uint256 amount) external onlyRole(TREASURER_ROLE) {
        if (asset == address(0)) revert ZeroAsset();
        if (amount > MAX_AMOUNT) revert InvalidAmount(amount);
        uint256 old = bucketTarget[asset][bucket];
        bucketTarget[asset][bucket] = amount;
        emit BucketTargetSet(asset, bucket, old, amount);
    }

    /// @notice Liabilities and bucket targets of `asset`, indexed by Bucket.
    function books(address asset) external view returns (uint256[4] memory liabilities, uint256[4] memory targets) {
        for (uint256 i; i < 4; ++i) {
            liabilities[i] = liability[asset][Bucket(i)];
            targets[i] = bucketTarget[asset][Bucket(i)];
        }
    }
}
