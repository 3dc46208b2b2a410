// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {DepartmentGated} from "./DepartmentGated.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {IJointCommitments} from "./interfaces/IJointCommitments.sol";

/**
 * @title JointCommitments
 * @notice Joint-handling commitments across departments. See {IJointCommitments}.
 */
contract JointCommitments is IJointCommitments, DepartmentGated, EIP712, Nonces {
    /// @dev keccak256("SignCommitment(bytes32 commitmentId,address signer,uint256 nonce,uint256 deadline)")
    bytes32 private constant _SIGN_TYPEHASH = 0x5bca9cfa31bf86f4baa6ba6f1dcbd0299350e78d3bc32446ee8b33135007d315;

    uint256 private constant _MIN_PARTICIPANTS = 2;
    uint256 private constant _MAX_PARTICIPANTS = 32;

    mapping(bytes32 commitmentId => Commitment) private _commitments;
    mapping(bytes32 commitmentId => Participant[]) private _participants;
    /// @dev 1-based index into `_participants`, 0 when not a participant.
    mapping(bytes32 commitmentId => mapping(bytes32 departmentId => uint256)) private _slot;
    mapping(uint256 sequence => bytes32 commitmentId) private _commitmentIds;
    uint256 private _commitmentCount;

    /// @param registry The consortium membership registry.
    constructor(IDepartmentRegistry registry) DepartmentGated(registry) EIP712("Xietong JointCommitments", "1") {}

    // ------------------------------------------------------------------------- writes

    /// @inheritdoc IJointCommitments
    function propose(
        bytes32 matterRef,
        bytes32[] calldata participants_,
        bytes32[] calldata dutyHashes,
        uint64 deadline
    ) external returns (bytes32 commitmentId) {
        bytes32 lead = _activeDepartmentOf(msg.sender);
        if (matterRef == bytes32(0)) revert JointCommitmentsZeroMatterRef();
        uint256 count = participants_.length;
        if (count < _MIN_PARTICIPANTS || count > _MAX_PARTICIPANTS) {
            revert JointCommitmentsParticipantCount(count, _MIN_PARTICIPANTS, _MAX_PARTICIPANTS);
        }
        if (dutyHashes.length != count) revert JointCommitmentsLengthMismatch(count, dutyHashes.length);
        if (deadline <= block.timestamp) revert JointCommitmentsDeadlineInPast(deadline, uint64(block.timestamp));

        uint256 sequence = ++_commitmentCount;
        commitmentId = computeCommitmentId(lead, matterRef, participants_, dutyHashes, deadline, sequence);
        _commitmentIds[sequence] = commitmentId;

        Participant[] storage list = _participants[commitmentId];
        for (uint256 i = 0; i < count; i++) {
            bytes32 departmentId = participants_[i];
            if (_slot[commitmentId][departmentId] != 0) revert JointCommitmentsDuplicateParticipant(departmentId);
            if (dutyHashes[i] == bytes32(0)) revert JointCommitmentsZeroDutyHash(departmentId);
            _requireActive(departmentId);
            list.push(
                Participant({
                    departmentId: departmentId,
                    dutyHash: dutyHashes[i],
                    lastEvidenceHash: bytes32(0),
                    signedAt: 0,
                    doneAt: 0,
                    reportCount: 0
                })
            );
            _slot[commitmentId][departmentId] = i + 1;
        }
        if (_slot[commitmentId][lead] == 0) revert JointCommitmentsLeadNotParticipant(lead);

        Commitment storage c = _commitments[commitmentId];
        c.matterRef = matterRef;
        c.lead = lead;
        c.deadline = deadline;
        c.proposedAt = uint64(block.timestamp);
        c.status = CommitmentStatus.Proposed;
        c.participantCount = uint32(count);
        emit CommitmentProposed(commitmentId, lead, matterRef, participants_, dutyHashes, deadline);

        _sign(commitmentId, c, lead, msg.sender);
    }

    /// @inheritdoc IJointCommitments
    function sign(bytes32 commitmentId) external {
        _signAs(commitmentId, msg.sender);
    }

    /// @inheritdoc IJointCommitments
    function signBySig(
        bytes32 commitmentId,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert JointCommitmentsSignatureExpired(deadline, block.timestamp);
        bytes32 digest = _signDigest(commitmentId, signer, nonce, deadline);
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert JointCommitmentsInvalidSignature(signer);
        _useCheckedNonce(signer, nonce);
        _signAs(commitmentId, signer);
    }

    /// @inheritdoc IJointCommitments
    function reportProgress(bytes32 commitmentId, bytes32 evidenceHash, bool done) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Commitment storage c = _existing(commitmentId);
        if (c.status != CommitmentStatus.Active) revert JointCommitmentsInvalidStatus(commitmentId, c.status);
        Participant storage p = _participant(commitmentId, departmentId);
        if (evidenceHash == bytes32(0)) revert JointCommitmentsZeroEvidence();
        if (p.doneAt != 0) revert JointCommitmentsAlreadyDone(commitmentId, departmentId);
        p.lastEvidenceHash = evidenceHash;
        p.reportCount += 1;
        if (done) {
            p.doneAt = uint64(block.timestamp);
            c.doneCount += 1;
        }
        emit ProgressReported(commitmentId, departmentId, evidenceHash, done);
    }

    /// @inheritdoc IJointCommitments
    function complete(bytes32 commitmentId, bytes32 evidenceHash) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Commitment storage c = _existing(commitmentId);
        if (c.lead != departmentId) revert JointCommitmentsNotLead(commitmentId, departmentId);
        if (c.status != CommitmentStatus.Active) revert JointCommitmentsInvalidStatus(commitmentId, c.status);
        if (evidenceHash == bytes32(0)) revert JointCommitmentsZeroEvidence();
        if (c.doneCount < c.participantCount) {
            revert JointCommitmentsParticipantsNotDone(commitmentId, c.participantCount - c.doneCount);
        }
        c.status = CommitmentStatus.Completed;
        c.closedAt = uint64(block.timestamp);
        emit CommitmentCompleted(commitmentId, departmentId, evidenceHash);
    }

    /// @inheritdoc IJointCommitments
    function cancel(bytes32 commitmentId, bytes32 reasonHash) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Commitment storage c = _existing(commitmentId);
        if (c.lead != departmentId) revert JointCommitmentsNotLead(commitmentId, departmentId);
        if (c.status != CommitmentStatus.Proposed) revert JointCommitmentsInvalidStatus(commitmentId, c.status);
        c.status = CommitmentStatus.Cancelled;
        c.closedAt = uint64(block.timestamp);
        emit CommitmentCancelled(commitmentId, departmentId, reasonHash);
    }

    // ------------------------------------------------------------------------- views

    /// @inheritdoc IJointCommitments
    function commitment(bytes32 commitmentId) external view returns (Commitment memory) {
        return _existing(commitmentId);
    }

    /// @inheritdoc IJointCommitments
    function participants(bytes32 commitmentId) external view returns (Participant[] memory) {
        _existing(commitmentId);
        return _participants[commitmentId];
    }

    /// @inheritdoc IJointCommitments
    function isOverdue(bytes32 commitmentId) external view returns (bool) {
        Commitment storage c = _existing(commitmentId);
        bool open = c.status == CommitmentStatus.Proposed || c.status == CommitmentStatus.Active;
        return open && block.timestamp > c.deadline;
    }

    /// @inheritdoc IJointCommitments
    function commitmentCount() external view returns (uint256) {
        return _commitmentCount;
    }

    /// @inheritdoc IJointCommitments
    function commitmentIdAt(uint256 sequence) external view returns (bytes32) {
        bytes32 id = _commitmentIds[sequence];
        if (id == bytes32(0)) revert JointCommitmentsUnknownCommitment(id);
        return id;
    }

    /// @inheritdoc IJointCommitments
    function computeCommitmentId(
        bytes32 lead,
        bytes32 matterRef,
        bytes32[] calldata participants_,
        bytes32[] calldata dutyHashes,
        uint64 deadline,
        uint256 sequence
    ) public view returns (bytes32) {
        return keccak256(
            abi.encode(
                block.chainid,
                address(this),
                sequence,
                lead,
                matterRef,
                keccak256(abi.encode(participants_)),
                keccak256(abi.encode(dutyHashes)),
                deadline
            )
        );
    }

    /// @inheritdoc IJointCommitments
    function signDigest(bytes32 commitmentId, address signer, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _signDigest(commitmentId, signer, nonce, deadline);
    }

    /// @inheritdoc IJointCommitments
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IJointCommitments
    function signTypehash() external pure returns (bytes32) {
        return _SIGN_TYPEHASH;
    }

    /// @inheritdoc IJointCommitments
    function maxParticipants() external pure returns (uint256) {
        return _MAX_PARTICIPANTS;
    }

    // ------------------------------------------------------------------------- internals

    function _signAs(bytes32 commitmentId, address signer) private {
        bytes32 departmentId = _activeDepartmentOf(signer);
        Commitment storage c = _existing(commitmentId);
        if (c.status != CommitmentStatus.Proposed) revert JointCommitmentsInvalidStatus(commitmentId, c.status);
        if (block.timestamp > c.deadline) revert JointCommitmentsDeadlinePassed(commitmentId, c.deadline);
        _sign(commitmentId, c, departmentId, signer);
    }

    function _sign(bytes32 commitmentId, Commitment storage c, bytes32 departmentId, address signer) private {
        Participant storage p = _participant(commitmentId, departmentId);
        if (p.signedAt != 0) revert JointCommitmentsAlreadySigned(commitmentId, departmentId);
        p.signedAt = uint64(block.timestamp);
        c.signedCount += 1;
        emit CommitmentSigned(commitmentId, departmentId, signer);
        if (c.signedCount == c.participantCount) {
            c.status = CommitmentStatus.Active;
            c.activatedAt = uint64(block.timestamp);
            emit CommitmentActivated(commitmentId);
        }
    }

    function _existing(bytes32 commitmentId) private view returns (Commitment storage c) {
        c = _commitments[commitmentId];
        if (c.status == CommitmentStatus.None) revert JointCommitmentsUnknownCommitment(commitmentId);
    }

    function _participant(bytes32 commitmentId, bytes32 departmentId) private view returns (Participant storage) {
        uint256 slot = _slot[commitmentId][departmentId];
        if (slot == 0) revert JointCommitmentsNotParticipant(commitmentId, departmentId);
        return _participants[commitmentId][slot - 1];
    }

    function _signDigest(bytes32 commitmentId, address signer, uint256 nonce, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(_SIGN_TYPEHASH, commitmentId, signer, nonce, deadline)));
    }
}
