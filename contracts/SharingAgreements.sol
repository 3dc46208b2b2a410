// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {DepartmentGated} from "./DepartmentGated.sol";
import {IDatasetRegistry} from "./interfaces/IDatasetRegistry.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {ISharingAgreements} from "./interfaces/ISharingAgreements.sol";

/**
 * @title SharingAgreements
 * @notice Data-sharing agreements between departments. See {ISharingAgreements}.
 *
 * `isAuthorized` looks up the agreements ever activated for the exact
 * (provider, consumer, dataset, purpose) scope and answers from the first one that is active
 * and inside its effective window `[max(validFrom, acceptedAt), validUntil)` now.
 */
contract SharingAgreements is ISharingAgreements, DepartmentGated, EIP712, Nonces {
    /// @dev keccak256("AcceptAgreement(bytes32 agreementId,address signer,uint256 nonce,uint256 deadline)")
    bytes32 private constant _ACCEPT_TYPEHASH = 0x02f7c0de44bd47a698d8f6defeb99f01ec496fccfe5492d6c8f93f8f339b77ce;

    uint256 private constant _MAX_DATASETS = 32;

    IDatasetRegistry private immutable _datasets;

    mapping(bytes32 agreementId => Agreement) private _agreements;
    mapping(uint256 sequence => bytes32 agreementId) private _agreementIds;
    uint256 private _agreementCount;
    mapping(bytes32 scope => bytes32[] agreementIds) private _scopes;
    mapping(bytes32 agreementId => AccessReceipt[]) private _receipts;

    /// @param registry The consortium membership registry.
    /// @param datasets The dataset registry that records which department owns which dataset.
    constructor(IDepartmentRegistry registry, IDatasetRegistry datasets)
        DepartmentGated(registry)
        EIP712("Xietong SharingAgreements", "1")
    {
        _datasets = datasets;
    }

    // ------------------------------------------------------------------------- writes

    /// @inheritdoc ISharingAgreements
    function propose(AgreementTerms calldata terms) external returns (bytes32 agreementId) {
        bytes32 proposer = _activeDepartmentOf(msg.sender);
        return _propose(terms, proposer, bytes32(0));
    }

    /// @inheritdoc ISharingAgreements
    function amend(bytes32 agreementId, AgreementTerms calldata terms) external returns (bytes32 amendmentId) {
        bytes32 proposer = _activeDepartmentOf(msg.sender);
        Agreement storage a = _existing(agreementId);
        if (a.status != AgreementStatus.Active) revert SharingAgreementsInvalidStatus(agreementId, a.status);
        if (terms.provider != a.terms.provider || terms.consumer != a.terms.consumer) {
            revert SharingAgreementsPartiesChanged(agreementId);
        }
        return _propose(terms, proposer, agreementId);
    }

    /// @inheritdoc ISharingAgreements
    function accept(bytes32 agreementId) external {
        _accept(agreementId, msg.sender);
    }

    /// @inheritdoc ISharingAgreements
    function acceptBySig(
        bytes32 agreementId,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert SharingAgreementsSignatureExpired(deadline, block.timestamp);
        bytes32 digest = _acceptDigest(agreementId, signer, nonce, deadline);
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert SharingAgreementsInvalidSignature(signer);
        _useCheckedNonce(signer, nonce);
        _accept(agreementId, signer);
    }

    /// @inheritdoc ISharingAgreements
    function reject(bytes32 agreementId, bytes32 reasonHash) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Agreement storage a = _proposed(agreementId);
        _requireCounterparty(agreementId, a, departmentId);
        a.status = AgreementStatus.Rejected;
        a.closedAt = uint64(block.timestamp);
        emit AgreementRejected(agreementId, departmentId, reasonHash);
    }

    /// @inheritdoc ISharingAgreements
    function withdraw(bytes32 agreementId) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Agreement storage a = _proposed(agreementId);
        if (a.proposer != departmentId) revert SharingAgreementsNotProposer(agreementId, departmentId);
        a.status = AgreementStatus.Withdrawn;
        a.closedAt = uint64(block.timestamp);
        emit AgreementWithdrawn(agreementId, departmentId);
    }

    /// @inheritdoc ISharingAgreements
    function revoke(bytes32 agreementId, bytes32 reasonHash) external {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Agreement storage a = _existing(agreementId);
        if (departmentId != a.terms.provider && departmentId != a.terms.consumer) {
            revert SharingAgreementsNotParty(departmentId);
        }
        if (a.status != AgreementStatus.Active) revert SharingAgreementsInvalidStatus(agreementId, a.status);
        a.status = AgreementStatus.Revoked;
        a.closedAt = uint64(block.timestamp);
        emit AgreementRevoked(agreementId, departmentId, reasonHash);
    }

    /// @inheritdoc ISharingAgreements
    function recordAccess(
        bytes32 agreementId,
        bytes32 logRoot,
        uint64 entryCount,
        uint64 periodStart,
        uint64 periodEnd
    ) external returns (uint256 receiptIndex) {
        bytes32 departmentId = _activeDepartmentOf(msg.sender);
        Agreement storage a = _existing(agreementId);
        if (departmentId != a.terms.consumer) revert SharingAgreementsNotConsumer(agreementId, departmentId);
        if (a.status != AgreementStatus.Active) revert SharingAgreementsInvalidStatus(agreementId, a.status);
        if (logRoot == bytes32(0)) revert SharingAgreementsZeroLogRoot();
        if (entryCount == 0) revert SharingAgreementsZeroEntryCount();
        uint64 start = _effectiveFrom(a);
        uint64 validUntil = a.terms.validUntil;
        if (
            periodStart > periodEnd || periodEnd > block.timestamp || periodStart < start
                || periodEnd >= validUntil
        ) {
            revert SharingAgreementsInvalidReceiptPeriod(periodStart, periodEnd, start, validUntil);
        }
        AccessReceipt[] storage receipts = _receipts[agreementId];
        receiptIndex = receipts.length;
        receipts.push(
            AccessReceipt({
                logRoot: logRoot,
                entryCount: entryCount,
                periodStart: periodStart,
                periodEnd: periodEnd,
                recordedAt: uint64(block.timestamp)
            })
        );
        emit AccessRecorded(agreementId, departmentId, receiptIndex, logRoot, entryCount, periodStart, periodEnd);
    }

    // ------------------------------------------------------------------------- views

    /// @inheritdoc ISharingAgreements
    function isAuthorized(bytes32 provider, bytes32 consumer, bytes32 datasetId, bytes32 purpose)
        external
        view
        returns (bool)
    {
        return authorizingAgreement(provider, consumer, datasetId, purpose) != bytes32(0);
    }

    /// @inheritdoc ISharingAgreements
    function authorizingAgreement(bytes32 provider, bytes32 consumer, bytes32 datasetId, bytes32 purpose)
        public
        view
        returns (bytes32)
    {
        if (!_isActive(provider) || !_isActive(consumer)) return bytes32(0);
        bytes32[] storage ids = _scopes[_scopeKey(provider, consumer, datasetId, purpose)];
        for (uint256 i = ids.length; i > 0; i--) {
            bytes32 id = ids[i - 1];
            Agreement storage a = _agreements[id];
            if (
                a.status == AgreementStatus.Active && block.timestamp >= _effectiveFrom(a)
                    && block.timestamp < a.terms.validUntil
            ) return id;
        }
        return bytes32(0);
    }

    /// @inheritdoc ISharingAgreements
    function agreement(bytes32 agreementId) external view returns (Agreement memory) {
        return _existing(agreementId);
    }

    /// @inheritdoc ISharingAgreements
    function effectiveFrom(bytes32 agreementId) external view returns (uint64) {
        Agreement storage a = _existing(agreementId);
        return a.acceptedAt == 0 ? 0 : _effectiveFrom(a);
    }

    /// @inheritdoc ISharingAgreements
    function agreementCount() external view returns (uint256) {
        return _agreementCount;
    }

    /// @inheritdoc ISharingAgreements
    function agreementIdAt(uint256 sequence) external view returns (bytes32) {
        bytes32 id = _agreementIds[sequence];
        if (id == bytes32(0)) revert SharingAgreementsUnknownAgreement(id);
        return id;
    }

    /// @inheritdoc ISharingAgreements
    function computeAgreementId(AgreementTerms calldata terms, uint256 sequence) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), sequence, keccak256(abi.encode(terms))));
    }

    /// @inheritdoc ISharingAgreements
    function accessReceiptCount(bytes32 agreementId) external view returns (uint256) {
        return _receipts[agreementId].length;
    }

    /// @inheritdoc ISharingAgreements
    function accessReceipt(bytes32 agreementId, uint256 index) external view returns (AccessReceipt memory) {
        AccessReceipt[] storage receipts = _receipts[agreementId];
        if (index >= receipts.length) revert SharingAgreementsUnknownReceipt(agreementId, index);
        return receipts[index];
    }

    /// @inheritdoc ISharingAgreements
    function acceptDigest(bytes32 agreementId, address signer, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _acceptDigest(agreementId, signer, nonce, deadline);
    }

    /// @inheritdoc ISharingAgreements
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc ISharingAgreements
    function acceptTypehash() external pure returns (bytes32) {
        return _ACCEPT_TYPEHASH;
    }

    /// @inheritdoc ISharingAgreements
    function maxDatasets() external pure returns (uint256) {
        return _MAX_DATASETS;
    }

    // ------------------------------------------------------------------------- internals

    function _propose(AgreementTerms calldata terms, bytes32 proposer, bytes32 supersedes)
        private
        returns (bytes32 agreementId)
    {
        _checkTerms(terms, proposer);
        uint256 sequence = ++_agreementCount;
        agreementId = computeAgreementId(terms, sequence);
        _agreementIds[sequence] = agreementId;
        Agreement storage a = _agreements[agreementId];
        a.terms = terms;
        a.status = AgreementStatus.Proposed;
        a.proposer = proposer;
        a.supersedes = supersedes;
        a.proposedAt = uint64(block.timestamp);
        emit AgreementProposed(agreementId, terms.provider, terms.consumer, proposer, supersedes, terms);
    }

    function _checkTerms(AgreementTerms calldata terms, bytes32 proposer) private view {
        if (proposer != terms.provider && proposer != terms.consumer) revert SharingAgreementsNotParty(proposer);
        if (terms.provider == terms.consumer) revert SharingAgreementsSameDepartment(terms.provider);
        _requireActive(proposer == terms.provider ? terms.consumer : terms.provider);
        uint256 count = terms.datasetIds.length;
        if (count == 0) revert SharingAgreementsNoDatasets();
        if (count > _MAX_DATASETS) revert SharingAgreementsTooManyDatasets(count, _MAX_DATASETS);
        for (uint256 i = 0; i < count; i++) {
            bytes32 datasetId = terms.datasetIds[i];
            for (uint256 j = 0; j < i; j++) {
                if (terms.datasetIds[j] == datasetId) revert SharingAgreementsDuplicateDataset(datasetId);
            }
            bytes32 owner = _datasets.ownerOf(datasetId);
            if (owner != terms.provider) {
                revert SharingAgreementsDatasetNotOwnedByProvider(datasetId, terms.provider, owner);
            }
        }
        if (terms.purpose == bytes32(0)) revert SharingAgreementsZeroPurpose();
        if (terms.validFrom >= terms.validUntil || terms.validUntil <= block.timestamp) {
            revert SharingAgreementsInvalidValidity(terms.validFrom, terms.validUntil, uint64(block.timestamp));
        }
    }

    function _accept(bytes32 agreementId, address signer) private {
        bytes32 departmentId = _activeDepartmentOf(signer);
        Agreement storage a = _proposed(agreementId);
        _requireCounterparty(agreementId, a, departmentId);
        if (block.timestamp >= a.terms.validUntil) revert SharingAgreementsExpired(agreementId, a.terms.validUntil);
        // Both parties must still be members in good standing when consent completes.
        _requireActive(a.proposer);
        bytes32 supersedes = a.supersedes;
        if (supersedes != bytes32(0)) {
            Agreement storage previous = _agreements[supersedes];
            if (previous.status != AgreementStatus.Active) {
                revert SharingAgreementsInvalidStatus(supersedes, previous.status);
            }
            previous.status = AgreementStatus.Superseded;
            previous.supersededBy = agreementId;
            previous.closedAt = uint64(block.timestamp);
            emit AgreementSuperseded(supersedes, agreementId);
        }
        a.status = AgreementStatus.Active;
        a.acceptedAt = uint64(block.timestamp);
        bytes32 provider = a.terms.provider;
        bytes32 consumer = a.terms.consumer;
        bytes32 purpose = a.terms.purpose;
        bytes32[] storage datasetIds = a.terms.datasetIds;
        for (uint256 i = 0; i < datasetIds.length; i++) {
            _scopes[_scopeKey(provider, consumer, datasetIds[i], purpose)].push(agreementId);
        }
        emit AgreementAccepted(agreementId, departmentId, signer);
    }

    /// @dev The start of `a`'s effective window: the signed `validFrom`, or the acceptance
    /// when that came later (nothing is authorized or receipted before the agreement was active).
    function _effectiveFrom(Agreement storage a) private view returns (uint64) {
        uint64 validFrom = a.terms.validFrom;
        uint64 acceptedAt = a.acceptedAt;
        return acceptedAt > validFrom ? acceptedAt : validFrom;
    }

    function _existing(bytes32 agreementId) private view returns (Agreement storage a) {
        a = _agreements[agreementId];
        if (a.status == AgreementStatus.None) revert SharingAgreementsUnknownAgreement(agreementId);
    }

    function _proposed(bytes32 agreementId) private view returns (Agreement storage a) {
        a = _existing(agreementId);
        if (a.status != AgreementStatus.Proposed) revert SharingAgreementsInvalidStatus(agreementId, a.status);
    }

    function _requireCounterparty(bytes32 agreementId, Agreement storage a, bytes32 departmentId) private view {
        bytes32 counterparty = a.proposer == a.terms.provider ? a.terms.consumer : a.terms.provider;
        if (departmentId != counterparty) revert SharingAgreementsNotCounterparty(agreementId, departmentId);
    }

    function _acceptDigest(bytes32 agreementId, address signer, uint256 nonce, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(_ACCEPT_TYPEHASH, agreementId, signer, nonce, deadline)));
    }

    function _scopeKey(bytes32 provider, bytes32 consumer, bytes32 datasetId, bytes32 purpose)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(provider, consumer, datasetId, purpose));
    }
}
