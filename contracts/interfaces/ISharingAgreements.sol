// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title ISharingAgreements
 * @notice Data-sharing agreements (数据共享授权) between a provider and a consumer department:
 * which datasets, for which purpose, on which legal basis and terms, valid from when until
 * when. One party proposes, the other accepts (by transaction, or by an EIP-712 signature
 * that anyone may relay) or rejects; the proposer may withdraw a pending proposal; either
 * party may revoke an active agreement with a reason; either may propose an amendment, which
 * supersedes the agreement once accepted. Consumers record access receipts (a Merkle root and
 * count of their access-log entries for a period) against an active agreement.
 *
 * Only hashes and ids are stored: the purpose and legal basis are codes hashed off chain,
 * the terms document is referenced by its hash.
 *
 * Nothing is authorized, nor receipted, before the agreement became active: its effective
 * window is `[max(validFrom, acceptedAt), validUntil)` (`effectiveFrom`). Terms with a
 * `validFrom` in the past are accepted and kept as signed (the id derives from them); the
 * start is clamped to the acceptance, so an agreement cannot be backdated.
 */
interface ISharingAgreements {
    /// @notice Lifecycle of an agreement. Expiry is not a status: an active agreement past
    /// `validUntil` no longer authorizes anything.
    enum AgreementStatus {
        None,
        Proposed,
        Active,
        Rejected,
        Withdrawn,
        Revoked,
        Superseded
    }

    /// @notice What the parties agree on.
    struct AgreementTerms {
        bytes32 provider;
        bytes32 consumer;
        bytes32[] datasetIds;
        bytes32 purpose;
        bytes32 legalBasis;
        bytes32 termsHash;
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @notice An agreement as stored on chain.
    struct Agreement {
        AgreementTerms terms;
        AgreementStatus status;
        bytes32 proposer;
        bytes32 supersedes;
        bytes32 supersededBy;
        uint64 proposedAt;
        uint64 acceptedAt;
        uint64 closedAt;
    }

    /// @notice A consumer's access receipt: the root and count of its access-log entries
    /// under the agreement during [periodStart, periodEnd].
    struct AccessReceipt {
        bytes32 logRoot;
        uint64 entryCount;
        uint64 periodStart;
        uint64 periodEnd;
        uint64 recordedAt;
    }

    // ----------------------------------------------------------------------------- errors

    /// @dev No agreement has this id.
    error SharingAgreementsUnknownAgreement(bytes32 agreementId);
    /// @dev The agreement is not in a status that allows this operation.
    error SharingAgreementsInvalidStatus(bytes32 agreementId, AgreementStatus status);
    /// @dev The caller's department is neither provider nor consumer of the terms.
    error SharingAgreementsNotParty(bytes32 departmentId);
    /// @dev Only the party that did not propose may accept or reject.
    error SharingAgreementsNotCounterparty(bytes32 agreementId, bytes32 departmentId);
    /// @dev Only the proposing party may withdraw.
    error SharingAgreementsNotProposer(bytes32 agreementId, bytes32 departmentId);
    /// @dev Only the consumer records access receipts.
    error SharingAgreementsNotConsumer(bytes32 agreementId, bytes32 departmentId);
    /// @dev Provider and consumer are the same department.
    error SharingAgreementsSameDepartment(bytes32 departmentId);
    /// @dev The terms name no dataset.
    error SharingAgreementsNoDatasets();
    /// @dev The terms name more datasets than `max`.
    error SharingAgreementsTooManyDatasets(uint256 count, uint256 max);
    /// @dev A dataset is named twice.
    error SharingAgreementsDuplicateDataset(bytes32 datasetId);
    /// @dev The dataset is not registered to the provider.
    error SharingAgreementsDatasetNotOwnedByProvider(bytes32 datasetId, bytes32 provider, bytes32 owner);
    /// @dev The purpose is zero.
    error SharingAgreementsZeroPurpose();
    /// @dev The validity window is empty or already over.
    error SharingAgreementsInvalidValidity(uint64 validFrom, uint64 validUntil, uint64 currentTime);
    /// @dev The agreement's validity window is over.
    error SharingAgreementsExpired(bytes32 agreementId, uint64 validUntil);
    /// @dev An amendment cannot change the provider or the consumer.
    error SharingAgreementsPartiesChanged(bytes32 agreementId);
    /// @dev The signature's deadline has passed.
    error SharingAgreementsSignatureExpired(uint256 deadline, uint256 currentTime);
    /// @dev The signature was not made by `signer` over this contract, chain and message.
    error SharingAgreementsInvalidSignature(address signer);
    /// @dev The receipt's log root is zero.
    error SharingAgreementsZeroLogRoot();
    /// @dev The receipt counts no entries.
    error SharingAgreementsZeroEntryCount();
    /// @dev The receipt's period is inverted, in the future, or outside the effective window
    /// `[effectiveFrom, validUntil)` (before the agreement was accepted, or after it ended).
    error SharingAgreementsInvalidReceiptPeriod(
        uint64 periodStart, uint64 periodEnd, uint64 effectiveFrom, uint64 validUntil
    );

    /// @dev The agreement has no access receipt at `index`.
    error SharingAgreementsUnknownReceipt(bytes32 agreementId, uint256 index);

    // ----------------------------------------------------------------------------- events

    /// @notice An agreement (or an amendment of `supersedes`) was proposed.
    event AgreementProposed(
        bytes32 indexed agreementId,
        bytes32 indexed provider,
        bytes32 indexed consumer,
        bytes32 proposer,
        bytes32 supersedes,
        AgreementTerms terms
    );
    /// @notice The counterparty accepted; the agreement is active. `signer` signed the acceptance.
    event AgreementAccepted(bytes32 indexed agreementId, bytes32 indexed departmentId, address signer);
    /// @notice The counterparty rejected the proposal.
    event AgreementRejected(bytes32 indexed agreementId, bytes32 indexed departmentId, bytes32 reasonHash);
    /// @notice The proposer withdrew its pending proposal.
    event AgreementWithdrawn(bytes32 indexed agreementId, bytes32 indexed departmentId);
    /// @notice A party revoked the active agreement.
    event AgreementRevoked(bytes32 indexed agreementId, bytes32 indexed departmentId, bytes32 reasonHash);
    /// @notice An accepted amendment replaced the agreement.
    event AgreementSuperseded(bytes32 indexed agreementId, bytes32 indexed supersededBy);
    /// @notice The consumer recorded an access receipt.
    event AccessRecorded(
        bytes32 indexed agreementId,
        bytes32 indexed consumer,
        uint256 indexed receiptIndex,
        bytes32 logRoot,
        uint64 entryCount,
        uint64 periodStart,
        uint64 periodEnd
    );

    // ----------------------------------------------------------------------------- writes

    /**
     * @notice Propose an agreement on behalf of the caller's department, which must be the
     * provider or the consumer. The other party must be active; every dataset must be
     * registered to the provider.
     * @param terms The terms.
     * @return agreementId `computeAgreementId(terms, agreementCount() + 1)`.
     */
    function propose(AgreementTerms calldata terms) external returns (bytes32 agreementId);

    /**
     * @notice Propose new terms for an active agreement; once accepted they supersede it.
     * @param agreementId The active agreement to amend.
     * @param terms The new terms, with the same provider and consumer.
     * @return amendmentId The id of the new (proposed) agreement.
     */
    function amend(bytes32 agreementId, AgreementTerms calldata terms) external returns (bytes32 amendmentId);

    /**
     * @notice Accept a proposed agreement on behalf of the caller's department (the counterparty).
     * @param agreementId The proposed agreement.
     */
    function accept(bytes32 agreementId) external;

    /**
     * @notice Accept on behalf of `signer`'s department with its EIP-712 `AcceptAgreement`
     * signature; anyone may relay it.
     * @param agreementId The proposed agreement.
     * @param signer An operator of the counterparty department.
     * @param nonce The signer's current nonce (see `nonces`).
     * @param deadline Last timestamp at which the signature is valid.
     * @param signature The 65-byte ECDSA signature.
     */
    function acceptBySig(
        bytes32 agreementId,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Reject a proposed agreement on behalf of the caller's department (the counterparty).
     * @param agreementId The proposed agreement.
     * @param reasonHash Hash of the reason (kept off chain).
     */
    function reject(bytes32 agreementId, bytes32 reasonHash) external;

    /**
     * @notice Withdraw a proposal the caller's department made and that is still pending.
     * @param agreementId The proposed agreement.
     */
    function withdraw(bytes32 agreementId) external;

    /**
     * @notice Revoke an active agreement on behalf of either party.
     * @param agreementId The active agreement.
     * @param reasonHash Hash of the reason (kept off chain).
     */
    function revoke(bytes32 agreementId, bytes32 reasonHash) external;

    /**
     * @notice Record an access receipt against an active agreement, as its consumer.
     * @param agreementId The active agreement.
     * @param logRoot Merkle root of the consumer's access-log entries for the period.
     * @param entryCount Number of entries.
     * @param periodStart Start of the period (inclusive), inside the effective window (not before
     * `effectiveFrom`: the later of `validFrom` and the acceptance).
     * @param periodEnd End of the period (inclusive), not in the future, before `validUntil`.
     * @return receiptIndex Index of the receipt among the agreement's receipts.
     */
    function recordAccess(
        bytes32 agreementId,
        bytes32 logRoot,
        uint64 entryCount,
        uint64 periodStart,
        uint64 periodEnd
    ) external returns (uint256 receiptIndex);

    // ----------------------------------------------------------------------------- views

    /// @notice True when an active agreement lets `provider` share `datasetId` with
    /// `consumer` for `purpose` at the current block time (inside its effective window
    /// `[effectiveFrom, validUntil)`), and both departments are active.
    function isAuthorized(bytes32 provider, bytes32 consumer, bytes32 datasetId, bytes32 purpose)
        external
        view
        returns (bool);

    /// @notice The agreement that authorizes the tuple now (zero when none; see `isAuthorized`).
    function authorizingAgreement(bytes32 provider, bytes32 consumer, bytes32 datasetId, bytes32 purpose)
        external
        view
        returns (bytes32);

    /// @notice The agreement `agreementId`; reverts when unknown.
    function agreement(bytes32 agreementId) external view returns (Agreement memory);

    /// @notice When `agreementId` starts to authorize: max(validFrom, acceptedAt), or 0 when it
    /// was never accepted; reverts when unknown.
    function effectiveFrom(bytes32 agreementId) external view returns (uint64);

    /// @notice Number of agreements ever proposed (amendments included).
    function agreementCount() external view returns (uint256);

    /// @notice The id of the `sequence`-th agreement (starting at 1).
    function agreementIdAt(uint256 sequence) external view returns (bytes32);

    /// @notice The id an agreement with `terms` gets as the `sequence`-th proposal:
    /// keccak256(abi.encode(chainid, this, sequence, keccak256(abi.encode(terms)))).
    function computeAgreementId(AgreementTerms calldata terms, uint256 sequence) external view returns (bytes32);

    /// @notice Number of access receipts recorded against `agreementId`.
    function accessReceiptCount(bytes32 agreementId) external view returns (uint256);

    /// @notice The `index`-th access receipt of `agreementId`; reverts when there is none.
    function accessReceipt(bytes32 agreementId, uint256 index) external view returns (AccessReceipt memory);

    /// @notice The EIP-712 digest `signer` signs to accept `agreementId` with `nonce` until `deadline`.
    function acceptDigest(bytes32 agreementId, address signer, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 domain separator of this contract on this chain.
    function domainSeparator() external view returns (bytes32);

    /// @notice The EIP-712 type hash of `AcceptAgreement`.
    function acceptTypehash() external pure returns (bytes32);

    /// @notice Maximum number of datasets in one agreement.
    function maxDatasets() external pure returns (uint256);
}
