// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IDatasetRegistry
 * @notice Datasets and their anchored versions. A dataset id derives from its owner department
 * and its catalogue code (`computeDatasetId`), so no department can register a code for another.
 * Each version is the root of an OpenZeppelin standard Merkle tree over the version's leaves
 * (files or salted records), anchored with its leaf count, a metadata hash and the parent
 * versions it was derived from. A version is keyed by its dataset and root
 * (`computeVersionId`): two departments anchoring the same content both succeed, each in its own
 * dataset, and nobody can anchor a root first to block or claim another department's version.
 *
 * Anchoring costs the same whatever the leaf count: one storage slot per version; the metadata
 * hash and parents are carried by the {VersionAnchored} event.
 *
 * Erasure (personal information protection): the owner records that some records of a version
 * were erased, their salts destroyed. An erasure is keyed by its version and the root of the
 * erased leaves (an OpenZeppelin standard Merkle tree of `(bytes32 leaf)` values,
 * `computeErasureId`) and holds their count and time; the reason goes on chain as a hash, and
 * nothing on chain names a record. The rest of the version stays anchored and provable.
 */
interface IDatasetRegistry {
    /// @notice A registered dataset.
    struct Dataset {
        bytes32 ownerDepartment;
        uint64 registeredAt;
    }

    /// @notice An anchored version (one storage slot), keyed by its version id.
    struct Version {
        uint64 leafCount;
        uint64 anchoredAt;
        uint64 blockNumber;
        uint64 revokedAt;
    }

    /// @notice An erasure of records of one version (one storage slot), keyed by its erasure id.
    struct Erasure {
        uint64 count;
        uint64 erasedAt;
        uint64 blockNumber;
    }

    // ----------------------------------------------------------------------------- errors

    /// @dev The code hash is zero.
    error DatasetRegistryZeroCode();
    /// @dev The caller's department already registered this dataset.
    error DatasetRegistryDatasetExists(bytes32 datasetId, bytes32 ownerDepartment);
    /// @dev No dataset has this id.
    error DatasetRegistryUnknownDataset(bytes32 datasetId);
    /// @dev The caller's department does not own the dataset.
    error DatasetRegistryNotDatasetOwner(bytes32 datasetId, bytes32 departmentId);
    /// @dev The root is zero.
    error DatasetRegistryZeroRoot();
    /// @dev A version must have at least one leaf.
    error DatasetRegistryEmptyVersion(bytes32 root);
    /// @dev The dataset already holds a version with this root.
    error DatasetRegistryVersionExists(bytes32 datasetId, bytes32 root);
    /// @dev More parent versions than `max`.
    error DatasetRegistryTooManyParents(uint256 count, uint256 max);
    /// @dev A parent version id is not anchored.
    error DatasetRegistryUnknownParent(bytes32 parentVersionId);
    /// @dev A parent version id is listed twice.
    error DatasetRegistryDuplicateParent(bytes32 parentVersionId);
    /// @dev The dataset holds no version with this root.
    error DatasetRegistryUnknownVersion(bytes32 datasetId, bytes32 root);
    /// @dev The version was already revoked at `revokedAt`.
    error DatasetRegistryVersionRevoked(bytes32 datasetId, bytes32 root, uint64 revokedAt);
    /// @dev An erasure must name at least one record.
    error DatasetRegistryEmptyErasure(bytes32 erasedRoot);
    /// @dev The version already records an erasure of these leaves.
    error DatasetRegistryErasureExists(bytes32 datasetId, bytes32 root, bytes32 erasedRoot);
    /// @dev The erasures of the version would count `erased` records, more than its `leafCount`.
    error DatasetRegistryTooManyErased(bytes32 datasetId, bytes32 root, uint256 erased, uint64 leafCount);

    // ----------------------------------------------------------------------------- events

    /// @notice `ownerDepartment` registered the dataset of catalogue code hash `codeHash`.
    event DatasetRegistered(
        bytes32 indexed datasetId, bytes32 indexed ownerDepartment, bytes32 codeHash, bytes32 metadataHash
    );
    /// @notice A version was anchored; `parents` are version ids (`computeVersionId`).
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

    /// @notice The owner erased `count` records of a version: the leaves under `erasedRoot`.
    event RecordsErased(
        bytes32 indexed datasetId,
        bytes32 indexed root,
        bytes32 indexed departmentId,
        bytes32 erasedRoot,
        uint64 count,
        bytes32 reasonHash
    );

    // ----------------------------------------------------------------------------- writes

    /**
     * @notice Register the caller's department's dataset of catalogue code hash `codeHash`.
     * @param codeHash keccak256 of the dataset's catalogue code (UTF-8).
     * @param metadataHash Hash of the dataset's off-chain description.
     * @return datasetId `computeDatasetId(callerDepartment, codeHash)`.
     */
    function registerDataset(bytes32 codeHash, bytes32 metadataHash) external returns (bytes32 datasetId);

    /**
     * @notice Anchor a version of a dataset the caller's department owns.
     * @param datasetId The dataset.
     * @param root The OpenZeppelin standard Merkle tree root of the version's leaves.
     * @param leafCount Number of leaves in the tree.
     * @param metadataHash Hash of the version's off-chain description.
     * @param parents Version ids this version was derived from (lineage, any dataset), at most
     * `maxParents()`.
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
     * @param datasetId The dataset.
     * @param root The version's root.
     * @param reasonHash Hash of the reason (kept off chain).
     */
    function revokeVersion(bytes32 datasetId, bytes32 root, bytes32 reasonHash) external;

    /**
     * @notice Record that records of a version of a dataset the caller's department owns were
     * erased (their salts destroyed). A revoked version's records can be erased too.
     * @param datasetId The dataset.
     * @param root The version's root.
     * @param erasedRoot The OpenZeppelin standard Merkle tree root of the erased leaves, each a
     * `(bytes32)` leaf value; non-zero.
     * @param count Number of erased leaves, at least one; all erasures of a version count at
     * most its leaf count.
     * @param reasonHash Hash of the reason (kept off chain).
     */
    function eraseRecords(bytes32 datasetId, bytes32 root, bytes32 erasedRoot, uint64 count, bytes32 reasonHash)
        external;

    // ----------------------------------------------------------------------------- views

    /// @notice The dataset `datasetId`; reverts when unknown.
    function dataset(bytes32 datasetId) external view returns (Dataset memory);

    /// @notice The owner department of `datasetId` (zero when unknown).
    function ownerOf(bytes32 datasetId) external view returns (bytes32);

    /// @notice The version of `datasetId` anchored as `root`; reverts when unknown.
    function version(bytes32 datasetId, bytes32 root) external view returns (Version memory);

    /// @notice True when `datasetId` holds a version anchored as `root` (revoked or not).
    function isAnchored(bytes32 datasetId, bytes32 root) external view returns (bool);

    /**
     * @notice Check a leaf against an anchored version with OpenZeppelin's `MerkleProof`.
     * @param datasetId The dataset.
     * @param root The anchored root; reverts with `DatasetRegistryUnknownVersion` when the
     * dataset holds no such version.
     * @param leaf The leaf hash (double keccak256 of the ABI-encoded leaf values).
     * @param proof The sibling hashes from leaf to root.
     * @return True when the proof links `leaf` to `root`.
     */
    function verifyLeaf(bytes32 datasetId, bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice The id of the dataset of catalogue code hash `codeHash` owned by `departmentId`:
    /// keccak256(abi.encode(departmentId, codeHash)).
    function computeDatasetId(bytes32 departmentId, bytes32 codeHash) external pure returns (bytes32);

    /// @notice The id of the version of `datasetId` anchored as `root`:
    /// keccak256(abi.encode(datasetId, root)).
    function computeVersionId(bytes32 datasetId, bytes32 root) external pure returns (bytes32);

    /// @notice The erasure of the leaves under `erasedRoot` from the version of `datasetId`
    /// anchored as `root`; all zero when there is none.
    function erasure(bytes32 datasetId, bytes32 root, bytes32 erasedRoot) external view returns (Erasure memory);

    /// @notice How many records of the version of `datasetId` anchored as `root` were erased.
    function erasedCount(bytes32 datasetId, bytes32 root) external view returns (uint256);

    /// @notice The id of the erasure of the leaves under `erasedRoot` from the version of
    /// `datasetId` anchored as `root`: keccak256(abi.encode(computeVersionId(datasetId, root), erasedRoot)).
    function computeErasureId(bytes32 datasetId, bytes32 root, bytes32 erasedRoot) external pure returns (bytes32);

    /// @notice Maximum number of parent versions per anchor.
    function maxParents() external pure returns (uint256);
}
