// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IJointCommitments
 * @notice Joint-handling commitments (联办承诺): a lead department and the participants (the
 * lead among them) each promise a duty, identified by its hash, on a matter identified by a
 * reference hash, before a deadline.
 *
 * Proposed -> Active once every participant has signed (by transaction, or by an EIP-712
 * signature anyone may relay) -> Completed when every participant has reported its duty done
 * and the lead closes it. The lead may cancel before it is Active. A commitment still open
 * after its deadline is overdue (`isOverdue`); progress reports carry evidence hashes.
 */
interface IJointCommitments {
    /// @notice Lifecycle of a commitment. Overdue is not a status: see `isOverdue`.
    enum CommitmentStatus {
        None,
        Proposed,
        Active,
        Completed,
        Cancelled
    }

    /// @notice A commitment as stored on chain.
    struct Commitment {
        bytes32 matterRef;
        bytes32 lead;
        uint64 deadline;
        uint64 proposedAt;
        uint64 activatedAt;
        uint64 closedAt;
        CommitmentStatus status;
        uint32 participantCount;
        uint32 signedCount;
        uint32 doneCount;
    }

    /// @notice One participant's duty and progress.
    struct Participant {
        bytes32 departmentId;
        bytes32 dutyHash;
        bytes32 lastEvidenceHash;
        uint64 signedAt;
        uint64 doneAt;
        uint32 reportCount;
    }

    // ----------------------------------------------------------------------------- errors

    /// @dev No commitment has this id.
    error JointCommitmentsUnknownCommitment(bytes32 commitmentId);
    /// @dev The commitment is not in a status that allows this operation.
    error JointCommitmentsInvalidStatus(bytes32 commitmentId, CommitmentStatus status);
    /// @dev The department is not a participant.
    error JointCommitmentsNotParticipant(bytes32 commitmentId, bytes32 departmentId);
    /// @dev Only the lead department may do this.
    error JointCommitmentsNotLead(bytes32 commitmentId, bytes32 departmentId);
    /// @dev The participant already signed.
    error JointCommitmentsAlreadySigned(bytes32 commitmentId, bytes32 departmentId);
    /// @dev The participant already reported its duty done.
    error JointCommitmentsAlreadyDone(bytes32 commitmentId, bytes32 departmentId);
    /// @dev A joint commitment needs between `min` and `max` participants.
    error JointCommitmentsParticipantCount(uint256 count, uint256 min, uint256 max);
    /// @dev Participants and duty hashes differ in length.
    error JointCommitmentsLengthMismatch(uint256 participants, uint256 dutyHashes);
    /// @dev A department is listed twice.
    error JointCommitmentsDuplicateParticipant(bytes32 departmentId);
    /// @dev The lead (the proposer's department) must be among the participants.
    error JointCommitmentsLeadNotParticipant(bytes32 lead);
    /// @dev A duty hash is zero.
    error JointCommitmentsZeroDutyHash(bytes32 departmentId);
    /// @dev The matter reference is zero.
    error JointCommitmentsZeroMatterRef();
    /// @dev An evidence hash is zero.
    error JointCommitmentsZeroEvidence();
    /// @dev The deadline is not in the future.
    error JointCommitmentsDeadlineInPast(uint64 deadline, uint64 currentTime);
    /// @dev The commitment's deadline passed before every participant signed.
    error JointCommitmentsDeadlinePassed(bytes32 commitmentId, uint64 deadline);
    /// @dev `remaining` participants have not reported their duty done.
    error JointCommitmentsParticipantsNotDone(bytes32 commitmentId, uint256 remaining);
    /// @dev The signature's deadline has passed.
    error JointCommitmentsSignatureExpired(uint256 deadline, uint256 currentTime);
    /// @dev The signature was not made by `signer` over this contract, chain and message.
    error JointCommitmentsInvalidSignature(address signer);

    // ----------------------------------------------------------------------------- events

    /// @notice A commitment was proposed; the lead signed it at once.
    event CommitmentProposed(
        bytes32 indexed commitmentId,
        bytes32 indexed lead,
        bytes32 indexed matterRef,
        bytes32[] participants,
        bytes32[] dutyHashes,
        uint64 deadline
    );
    /// @notice A participant signed. `signer` is the operator account that signed.
    event CommitmentSigned(bytes32 indexed commitmentId, bytes32 indexed departmentId, address signer);
    /// @notice Every participant signed; the commitment is active.
    event CommitmentActivated(bytes32 indexed commitmentId);
    /// @notice A participant reported progress (`done` when its duty is fulfilled).
    event ProgressReported(
        bytes32 indexed commitmentId, bytes32 indexed departmentId, bytes32 evidenceHash, bool done
    );
    /// @notice The lead closed the commitment after every participant was done.
    event CommitmentCompleted(bytes32 indexed commitmentId, bytes32 indexed lead, bytes32 evidenceHash);
    /// @notice The lead cancelled the commitment before it became active.
    event CommitmentCancelled(bytes32 indexed commitmentId, bytes32 indexed lead, bytes32 reasonHash);

    // ----------------------------------------------------------------------------- writes

    /**
     * @notice Propose a commitment led by the caller's department.
     * @param matterRef Hash of the matter's reference (e.g. a case number).
     * @param participants The participating departments, the lead included, all active.
     * @param dutyHashes Each participant's duty, as a hash, in the same order.
     * @param deadline When the matter must be handled (unix seconds, in the future).
     * @return commitmentId `computeCommitmentId(...)` with sequence `commitmentCount() + 1`.
     */
    function propose(
        bytes32 matterRef,
        bytes32[] calldata participants,
        bytes32[] calldata dutyHashes,
        uint64 deadline
    ) external returns (bytes32 commitmentId);

    /**
     * @notice Sign a proposed commitment on behalf of the caller's (participating) department.
     * @param commitmentId The commitment.
     */
    function sign(bytes32 commitmentId) external;

    /**
     * @notice Sign on behalf of `signer`'s department with its EIP-712 `SignCommitment`
     * signature; anyone may relay it.
     * @param commitmentId The commitment.
     * @param signer An operator of a participating department.
     * @param nonce The signer's current nonce (see `nonces`).
     * @param deadline Last timestamp at which the signature is valid.
     * @param signature The 65-byte ECDSA signature.
     */
    function signBySig(
        bytes32 commitmentId,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Report progress on the caller's department's duty in an active commitment.
     * @param commitmentId The commitment.
     * @param evidenceHash Hash of the evidence (kept off chain).
     * @param done True when the duty is fulfilled (reported once).
     */
    function reportProgress(bytes32 commitmentId, bytes32 evidenceHash, bool done) external;

    /**
     * @notice Close an active commitment once every participant reported its duty done (lead only).
     * @param commitmentId The commitment.
     * @param evidenceHash Hash of the closing evidence.
     */
    function complete(bytes32 commitmentId, bytes32 evidenceHash) external;

    /**
     * @notice Cancel a commitment that is not yet active (lead only).
     * @param commitmentId The commitment.
     * @param reasonHash Hash of the reason (kept off chain).
     */
    function cancel(bytes32 commitmentId, bytes32 reasonHash) external;

    // ----------------------------------------------------------------------------- views

    /// @notice The commitment `commitmentId`; reverts when unknown.
    function commitment(bytes32 commitmentId) external view returns (Commitment memory);

    /// @notice The participants of `commitmentId`, in proposal order.
    function participants(bytes32 commitmentId) external view returns (Participant[] memory);

    /// @notice True when the commitment is still Proposed or Active and its deadline has passed.
    function isOverdue(bytes32 commitmentId) external view returns (bool);

    /// @notice Number of commitments ever proposed.
    function commitmentCount() external view returns (uint256);

    /// @notice The id of the `sequence`-th commitment (starting at 1).
    function commitmentIdAt(uint256 sequence) external view returns (bytes32);

    /// @notice keccak256(abi.encode(chainid, this, sequence, lead, matterRef,
    /// keccak256(abi.encode(participants)), keccak256(abi.encode(dutyHashes)), deadline)).
    function computeCommitmentId(
        bytes32 lead,
        bytes32 matterRef,
        bytes32[] calldata participants,
        bytes32[] calldata dutyHashes,
        uint64 deadline,
        uint256 sequence
    ) external view returns (bytes32);

    /// @notice The EIP-712 digest `signer` signs to sign `commitmentId` with `nonce` until `deadline`.
    function signDigest(bytes32 commitmentId, address signer, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 domain separator of this contract on this chain.
    function domainSeparator() external view returns (bytes32);

    /// @notice The EIP-712 type hash of `SignCommitment`.
    function signTypehash() external pure returns (bytes32);

    /// @notice Maximum number of participants in one commitment.
    function maxParticipants() external pure returns (uint256);
}
