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
    mapping(bytes32 root => Version) private _versions;

    /// @param registry The consortium membership registry.
    constructor(IDepartmentRegistry registry) DepartmentGated(registry) {}

    /// @inheritdoc IDatasetRegistry
    function registerDataset(bytes32 datasetId, bytes32 metadataHash) external {
        bytes32 owner = _activeDepartmentOf(msg.sender);
        if (datasetId == bytes32(0)) revert DatasetRegistryZeroDatasetId();
        bytes32 current = _datasets[datasetId].ownerDepartment;
        if (current != bytes32(0)) revert DatasetRegistryDatasetExists(datasetId, current);
        _datasets[datasetId] = Dataset({ownerDepartment: owner, registeredAt: uint64(block.timestamp)});
        emit DatasetRegistered(datasetId, owner, metadataHash);
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
        Version storage v = _versions[root];
        if (v.datasetId != bytes32(0)) revert DatasetRegistryRootAlreadyAnchored(root, v.datasetId);
        uint256 parentCount = parents.length;
        if (parentCount > _MAX_PARENTS) revert DatasetRegistryTooManyParents(parentCount, _MAX_PARENTS);
        for (uint256 i = 0; i < parentCount; i++) {
            bytes32 parent = parents[i];
            if (_versions[parent].datasetId == bytes32(0)) revert DatasetRegistryUnknownParent(parent);
            for (uint256 j = 0; j < i; j++) {
                if (parents[j] == parent) revert DatasetRegistryDuplicateParent(parent);
            }
        }
        v.datasetId = datasetId;
        v.leafCount = leafCount;
        v.anchoredAt = uint64(block.timestamp);
        v.blockNumber = uint64(block.number);
        emit VersionAnchored(datasetId, root, departmentId, leafCount, metadataHash, parents);
    }

    /// @inheritdoc IDatasetRegistry
    function revokeVersion(bytes32 root, bytes32 reasonHash) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Version storage v = _versions[root];
        bytes32 datasetId = v.datasetId;
        if (datasetId == bytes32(0)) revert DatasetRegistryUnknownRoot(root);
        _requireOwner(datasetId, departmentId);
        if (v.revokedAt != 0) revert DatasetRegistryVersionRevoked(root, v.revokedAt);
        v.revokedAt = uint64(block.timestamp);
        emit VersionRevoked(datasetId, root, departmentId, reasonHash);
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
    function version(bytes32 root) external view returns (Version memory) {
        Version storage v = _versions[root];
        if (v.datasetId == bytes32(0)) revert DatasetRegistryUnknownRoot(root);
        return v;
    }

    /// @inheritdoc IDatasetRegistry
    function isAnchored(bytes32 root) external view returns (bool) {
        return _versions[root].datasetId != bytes32(0);
    }

    /// @inheritdoc IDatasetRegistry
    function verifyLeaf(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        if (_versions[root].datasetId == bytes32(0)) revert DatasetRegistryUnknownRoot(root);
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IDatasetRegistry
    function maxParents() external pure returns (uint256) {
        return _MAX_PARENTS;
    }

    function _requireOwner(bytes32 datasetId, bytes32 departmentId) private view {
        bytes32 owner = _datasets[datasetId].ownerDepartment;
        if (owner == bytes32(0)) revert DatasetRegistryUnknownDataset(datasetId);
        if (owner != departmentId) revert DatasetRegistryNotDatasetOwner(datasetId, departmentId);
    }
}
