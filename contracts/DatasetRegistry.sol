// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {DepartmentGated} from "./DepartmentGated.sol";
import {IDatasetRegistry} from "./interfaces/IDatasetRegistry.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";

/**
 * @title DatasetRegistry
 * @notice Dataset ids and their anchored Merkle roots. See {IDatasetRegistry}.
 */
contract DatasetRegistry is IDatasetRegistry, DepartmentGated {
    uint256 private constant _MAX_PARENTS = 8;

    mapping(bytes32 datasetId => Dataset) private _datasets;
    mapping(bytes32 versionId => Version) private _versions;
    mapping(bytes32 erasureId => Erasure) private _erasures;
    mapping(bytes32 versionId => uint256) private _erasedCounts;

    /// @param registry The consortium membership registry.
    constructor(IDepartmentRegistry registry) DepartmentGated(registry) {}

    /// @inheritdoc IDatasetRegistry
    function registerDataset(bytes32 codeHash, bytes32 metadataHash) external returns (bytes32 datasetId) {
        bytes32 owner = _activeDepartmentOf(msg.sender);
        if (codeHash == bytes32(0)) revert DatasetRegistryZeroCode();
        datasetId = _datasetId(owner, codeHash);
        Dataset storage d = _datasets[datasetId];
        if (d.ownerDepartment != bytes32(0)) revert DatasetRegistryDatasetExists(datasetId, owner);
        d.ownerDepartment = owner;
        d.registeredAt = uint64(block.timestamp);
        emit DatasetRegistered(datasetId, owner, codeHash, metadataHash);
    }

    /// @inheritdoc IDatasetRegistry
    function anchor(
        bytes32 datasetId,
        bytes32 root,
        uint64 leafCount,
        bytes32 metadataHash,
        bytes32[] calldata parents
    ) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        _requireOwner(datasetId, departmentId);
        if (root == bytes32(0)) revert DatasetRegistryZeroRoot();
        if (leafCount == 0) revert DatasetRegistryEmptyVersion(root);
        bytes32 versionId = _versionId(datasetId, root);
        if (_versions[versionId].anchoredAt != 0) revert DatasetRegistryVersionExists(datasetId, root);
        uint256 parentCount = parents.length;
        if (parentCount > _MAX_PARENTS) revert DatasetRegistryTooManyParents(parentCount, _MAX_PARENTS);
        for (uint256 i = 0; i < parentCount; i++) {
            bytes32 parent = parents[i];
            if (_versions[parent].anchoredAt == 0) revert DatasetRegistryUnknownParent(parent);
            for (uint256 j = 0; j < i; j++) {
                if (parents[j] == parent) revert DatasetRegistryDuplicateParent(parent);
            }
        }
        // One slot: written whole, so a single SSTORE.
        _versions[versionId] = Version({
            leafCount: leafCount,
            anchoredAt: uint64(block.timestamp),
            blockNumber: uint64(block.number),
            revokedAt: 0
        });
        emit VersionAnchored(datasetId, root, departmentId, leafCount, metadataHash, parents);
    }

    /// @inheritdoc IDatasetRegistry
    function revokeVersion(bytes32 datasetId, bytes32 root, bytes32 reasonHash) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Version storage v = _versions[_versionId(datasetId, root)];
        if (v.anchoredAt == 0) revert DatasetRegistryUnknownVersion(datasetId, root);
        _requireOwner(datasetId, departmentId);
        if (v.revokedAt != 0) revert DatasetRegistryVersionRevoked(datasetId, root, v.revokedAt);
        v.revokedAt = uint64(block.timestamp);
        emit VersionRevoked(datasetId, root, departmentId, reasonHash);
    }

    /// @inheritdoc IDatasetRegistry
    function eraseRecords(bytes32 datasetId, bytes32 root, bytes32 erasedRoot, uint64 count, bytes32 reasonHash)
        external
    {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        bytes32 versionId = _versionId(datasetId, root);
        Version storage v = _versions[versionId];
        if (v.anchoredAt == 0) revert DatasetRegistryUnknownVersion(datasetId, root);
        _requireOwner(datasetId, departmentId);
        if (erasedRoot == bytes32(0)) revert DatasetRegistryZeroRoot();
        if (count == 0) revert DatasetRegistryEmptyErasure(erasedRoot);
        bytes32 erasureId = _erasureId(versionId, erasedRoot);
        if (_erasures[erasureId].erasedAt != 0) revert DatasetRegistryErasureExists(datasetId, root, erasedRoot);
        uint256 erased = _erasedCounts[versionId] + count;
        if (erased > v.leafCount) revert DatasetRegistryTooManyErased(datasetId, root, erased, v.leafCount);
        _erasedCounts[versionId] = erased;
        _erasures[erasureId] =
            Erasure({count: count, erasedAt: uint64(block.timestamp), blockNumber: uint64(block.number)});
        emit RecordsErased(datasetId, root, departmentId, erasedRoot, count, reasonHash);
    }

    /// @inheritdoc IDatasetRegistry
    function dataset(bytes32 datasetId) external view returns (Dataset memory) {
        Dataset storage d = _datasets[datasetId];
        if (d.ownerDepartment == bytes32(0)) revert DatasetRegistryUnknownDataset(datasetId);
        return d;
    }

    /// @inheritdoc IDatasetRegistry
    function ownerOf(bytes32 datasetId) external view returns (bytes32) {
        return _datasets[datasetId].ownerDepartment;
    }

    /// @inheritdoc IDatasetRegistry
    function version(bytes32 datasetId, bytes32 root) external view returns (Version memory) {
        return _knownVersion(datasetId, root);
    }

    /// @inheritdoc IDatasetRegistry
    function isAnchored(bytes32 datasetId, bytes32 root) external view returns (bool) {
        return _versions[_versionId(datasetId, root)].anchoredAt != 0;
    }

    /// @inheritdoc IDatasetRegistry
    function verifyLeaf(bytes32 datasetId, bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        _knownVersion(datasetId, root);
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IDatasetRegistry
    function computeDatasetId(bytes32 departmentId, bytes32 codeHash) external pure returns (bytes32) {
        return _datasetId(departmentId, codeHash);
    }

    /// @inheritdoc IDatasetRegistry
    function computeVersionId(bytes32 datasetId, bytes32 root) external pure returns (bytes32) {
        return _versionId(datasetId, root);
    }

    /// @inheritdoc IDatasetRegistry
    function erasure(bytes32 datasetId, bytes32 root, bytes32 erasedRoot) external view returns (Erasure memory) {
        return _erasures[_erasureId(_versionId(datasetId, root), erasedRoot)];
    }

    /// @inheritdoc IDatasetRegistry
    function erasedCount(bytes32 datasetId, bytes32 root) external view returns (uint256) {
        return _erasedCounts[_versionId(datasetId, root)];
    }

    /// @inheritdoc IDatasetRegistry
    function computeErasureId(bytes32 datasetId, bytes32 root, bytes32 erasedRoot) external pure returns (bytes32) {
        return _erasureId(_versionId(datasetId, root), erasedRoot);
    }

    /// @inheritdoc IDatasetRegistry
    function maxParents() external pure returns (uint256) {
        return _MAX_PARENTS;
    }

    function _knownVersion(bytes32 datasetId, bytes32 root) private view returns (Version storage v) {
        v = _versions[_versionId(datasetId, root)];
        if (v.anchoredAt == 0) revert DatasetRegistryUnknownVersion(datasetId, root);
    }

    function _requireOwner(bytes32 datasetId, bytes32 departmentId) private view {
        bytes32 owner = _datasets[datasetId].ownerDepartment;
        if (owner == bytes32(0)) revert DatasetRegistryUnknownDataset(datasetId);
        if (owner != departmentId) revert DatasetRegistryNotDatasetOwner(datasetId, departmentId);
    }

    /// @dev keccak256(abi.encode(departmentId, codeHash)).
    function _datasetId(bytes32 departmentId, bytes32 codeHash) private pure returns (bytes32 id) {
        assembly ("memory-safe") {
            mstore(0x00, departmentId)
            mstore(0x20, codeHash)
            id := keccak256(0x00, 0x40)
        }
    }

    /// @dev keccak256(abi.encode(datasetId, root)).
    function _versionId(bytes32 datasetId, bytes32 root) private pure returns (bytes32 id) {
        assembly ("memory-safe") {
            mstore(0x00, datasetId)
            mstore(0x20, root)
            id := keccak256(0x00, 0x40)
        }
    }

    /// @dev keccak256(abi.encode(versionId, erasedRoot)).
    function _erasureId(bytes32 versionId, bytes32 erasedRoot) private pure returns (bytes32 id) {
        assembly ("memory-safe") {
            mstore(0x00, versionId)
            mstore(0x20, erasedRoot)
            id := keccak256(0x00, 0x40)
        }
    }
}
