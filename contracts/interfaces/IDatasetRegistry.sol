// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IDatasetRegistry
 * @notice Datasets and their anchored versions. A dataset id is registered by its owner
 * department; each version is the root of an OpenZeppelin standard Merkle tree over the
 * version's leaves (files or salted records), anchored with its leaf count, a metadata hash
 * and the parent versions it was derived from. Roots are unique across all datasets.
 *
 * Anchoring costs the same whatever the leaf count: only the root is stored, and the
 * metadata hash and parents are carried by the {VersionAnchored} event.
 */
interface IDatasetRegistry {
    /// @notice A registered dataset.
    struct Dataset {
        bytes32 ownerDepartment;
        uint64 registeredAt;
    }

    /// @notice An anchored version, keyed by its Merkle root.
    struct Version {
        bytes32 datasetId;
        uint64 leafCount;
        uint64 anchoredAt;
        uint64 blockNumber;
        uint64 revokedAt;
    }

    // ----------------------------------------------------------------------------- errors

    /// @dev The dataset id is zero.
    error DatasetRegistryZeroDatasetId();
    /// @dev The dataset id is already registered to `ownerDepartment`.
    error DatasetRegistryDatasetExists(bytes32 datasetId, bytes32 ownerDepartment);
    /// @dev No dataset has this id.
    error DatasetRegistryUnknownDataset(bytes32 datasetId);
    /// @dev The caller's department does not own the dataset.
    error DatasetRegistryNotDatasetOwner(bytes32 datasetId, bytes32 departmentId);
    /// @dev The root is zero.
    error DatasetRegistryZeroRoot();
    /// @dev A version must have at least one leaf.
    error DatasetRegistryEmptyVersion(bytes32 root);
    /// @dev The root was already anchored (roots are unique).
    error DatasetRegistryRootAlreadyAnchored(bytes32 root, bytes32 datasetId);
    /// @dev More parent versions than `max`.
    error DatasetRegistryTooManyParents(uint256 count, uint256 max);
    /// @dev A parent version is not anchored.
    error DatasetRegistryUnknownParent(bytes32 parent);
    /// @dev A parent version is listed twice.
    error DatasetRegistryDuplicateParent(bytes32 parent);
    /// @dev The root is not anchored.
    error DatasetRegistryUnknownRoot(bytes32 root);
    /// @dev The version was already revoked at `revokedAt`.
    error DatasetRegistryVersionRevoked(bytes32 root, uint64 revokedAt);

    // ----------------------------------------------------------------------------- events

    /// @notice A dataset id was registered to its owner department.
    event DatasetRegistered(bytes32 indexed datasetId, bytes32 indexed ownerDepartment, bytes32 metadataHash);
    /// @notice A version was anchored.
    event VersionAnchored(
        bytes32 indexed datasetId,
        bytes32 indexed root,
        bytes32 indexed departmentId,
        uint64 leafCount,
        bytes32 metadataHash,
        bytes32[] parents
    );
    /// @notice The owner withdrew a version (e.g. published in error); it stays on record.
    event VersionRevoked(
        bytes32 indexed datasetId, bytes32 indexed root, bytes32 indexed departmentId, bytes32 reasonHash
    );

    // ----------------------------------------------------------------------------- writes

    /**
     * @notice Register `datasetId` to the caller's department.
     * @param datasetId The dataset id (e.g. keccak256 of a catalogue code).
     * @param metadataHash Hash of the dataset's off-chain description.
     */
    function registerDataset(bytes32 datasetId, bytes32 metadataHash) external;

    /**
     * @notice Anchor a version of a dataset the caller's department owns.
     * @param datasetId The dataset.
     * @param root The OpenZeppelin standard Merkle tree root of the version's leaves.
     * @param leafCount Number of leaves in the tree.
     * @param metadataHash Hash of the version's off-chain description.
     * @param parents Anchored roots this version was derived from (lineage), at most `maxParents()`.
     */
    function anchor(
        bytes32 datasetId,
        bytes32 root,
        uint64 leafCount,
        bytes32 metadataHash,
        bytes32[] calldata parents
    ) external;

    /**
     * @notice Revoke an anchored version of a dataset the caller's department owns.
     * @param root The version to revoke.
     * @param reasonHash Hash of the reason (kept off chain).
     */
    function revokeVersion(bytes32 root, bytes32 reasonHash) external;

    // ----------------------------------------------------------------------------- views

    /// @notice The dataset `datasetId`; reverts when unknown.
    function dataset(bytes32 datasetId) external view returns (Dataset memory);

    /// @notice The owner department of `datasetId` (zero when unknown).
    function ownerOf(bytes32 datasetId) external view returns (bytes32);

    /// @notice The version anchored as `root`; reverts when unknown.
    function version(bytes32 root) external view returns (Version memory);

    /// @notice True when `root` is anchored (revoked or not).
    function isAnchored(bytes32 root) external view returns (bool);

    /**
     * @notice Check a leaf against an anchored version with OpenZeppelin's `MerkleProof`.
     * @param root The anchored root; reverts with `DatasetRegistryUnknownRoot` when not anchored.
     * @param leaf The leaf hash (double keccak256 of the ABI-encoded leaf values).
     * @param proof The sibling hashes from leaf to root.
     * @return True when the proof links `leaf` to `root`.
     */
    function verifyLeaf(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);

    /// @notice Maximum number of parent versions per anchor.
    function maxParents() external pure returns (uint256);
}
