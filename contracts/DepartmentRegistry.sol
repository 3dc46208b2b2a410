// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";

/**
 * @title DepartmentRegistry
 * @notice Consortium membership with threshold approval. See {IDepartmentRegistry}.
 *
 * The electorate of a proposal is the set of active departments at the time of each
 * approval, less the target of a suspension (who may not vote on it). A proposal executes
 * on the approval that brings it to `approvalsFor(electorate)`.
 */
contract DepartmentRegistry is IDepartmentRegistry {
    using EnumerableSet for EnumerableSet.AddressSet;

    uint256 private constant _MAX_NAME_LENGTH = 256;
    uint64 private constant _MIN_PROPOSAL_LIFETIME = 1 hours;

    uint16 private immutable _thresholdBps;
    uint64 private immutable _proposalLifetime;

    mapping(bytes32 departmentId => Department) private _departments;
    bytes32[] private _departmentIds;
    uint256 private _activeCount;

    mapping(bytes32 departmentId => EnumerableSet.AddressSet) private _operators;
    mapping(address account => bytes32 departmentId) private _operatorDepartment;
    mapping(address account => bool) private _auditors;

    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(bytes32 departmentId => bool)) private _approved;
    uint256 private _proposalCount;

    /**
     * @param founders The founding departments, each with its first operator.
     * @param auditors The founding auditor accounts.
     * @param thresholdBps_ Share of the electorate whose approval executes a proposal, in
     * basis points (e.g. 5001 for a simple majority, 6667 for two thirds).
     * @param proposalLifetime_ Seconds a proposal stays open.
     */
    constructor(
        FoundingDepartment[] memory founders,
        address[] memory auditors,
        uint16 thresholdBps_,
        uint64 proposalLifetime_
    ) {
        if (thresholdBps_ == 0 || thresholdBps_ > 10_000) revert DepartmentRegistryInvalidThreshold(thresholdBps_);
        if (proposalLifetime_ < _MIN_PROPOSAL_LIFETIME) {
            revert DepartmentRegistryInvalidProposalLifetime(proposalLifetime_);
        }
        if (founders.length == 0) revert DepartmentRegistryNoFounders();
        _thresholdBps = thresholdBps_;
        _proposalLifetime = proposalLifetime_;
        for (uint256 i = 0; i < founders.length; i++) {
            _checkNewDepartment(founders[i].id, founders[i].name, founders[i].operator);
            _admit(founders[i].id, founders[i].name, founders[i].operator, 0);
        }
        for (uint256 i = 0; i < auditors.length; i++) {
            _checkFreeAccount(auditors[i]);
            _grantAuditor(auditors[i], 0);
        }
    }

    // ------------------------------------------------------------------------- proposals

    /// @inheritdoc IDepartmentRegistry
    function propose(ProposalKind kind, bytes32 departmentId, string calldata name, address account)
        external
        returns (uint256 proposalId)
    {
        bytes32 proposer = requireActiveOperator(msg.sender);
        _checkProposal(kind, departmentId, name, account);
        if (kind == ProposalKind.Suspend && departmentId == proposer) revert DepartmentRegistryOwnSuspension(proposer);

        proposalId = ++_proposalCount;
        uint64 expiresAt = uint64(block.timestamp) + _proposalLifetime;
        Proposal storage p = _proposals[proposalId];
        p.kind = kind;
        p.status = ProposalStatus.Open;
        p.proposerDepartment = proposer;
        p.departmentId = departmentId;
        p.account = account;
        p.createdAt = uint64(block.timestamp);
        p.expiresAt = expiresAt;
        p.name = name;
        emit ProposalCreated(proposalId, proposer, departmentId, kind, account, name, expiresAt);

        _approve(proposalId, p, proposer);
    }

    /// @inheritdoc IDepartmentRegistry
    function approve(uint256 proposalId) external {
        bytes32 approver = requireActiveOperator(msg.sender);
        Proposal storage p = _openProposal(proposalId);
        if (_approved[proposalId][approver]) revert DepartmentRegistryAlreadyApproved(proposalId, approver);
        if (p.kind == ProposalKind.Suspend && p.departmentId == approver) {
            revert DepartmentRegistryOwnSuspension(approver);
        }
        _approve(proposalId, p, approver);
    }

    /// @inheritdoc IDepartmentRegistry
    function execute(uint256 proposalId) external {
        requireActiveOperator(msg.sender);
        Proposal storage p = _openProposal(proposalId);
        uint32 required = approvalsFor(_electorate(p));
        if (p.approvals < required) revert DepartmentRegistryThresholdNotMet(proposalId, p.approvals, required);
        _execute(proposalId, p);
    }

    // ------------------------------------------------------------------------- operators

    /// @inheritdoc IDepartmentRegistry
    function addOperator(address account) external {
        bytes32 departmentId = requireActiveOperator(msg.sender);
        _checkFreeAccount(account);
        _addOperator(departmentId, account);
        emit OperatorAdded(departmentId, account, msg.sender);
    }

    /// @inheritdoc IDepartmentRegistry
    function removeOperator(address account) external {
        bytes32 departmentId = requireActiveOperator(msg.sender);
        if (_operatorDepartment[account] != departmentId) revert DepartmentRegistryNotOperatorOf(account, departmentId);
        Department storage d = _departments[departmentId];
        if (d.operatorCount == 1) revert DepartmentRegistryLastOperator(departmentId);
        _operators[departmentId].remove(account);
        delete _operatorDepartment[account];
        d.operatorCount -= 1;
        emit OperatorRemoved(departmentId, account, msg.sender);
    }

    // ------------------------------------------------------------------------- views

    /// @inheritdoc IDepartmentRegistry
    function department(bytes32 departmentId) external view returns (Department memory) {
        Department storage d = _departments[departmentId];
        if (d.status == DepartmentStatus.None) revert DepartmentRegistryUnknownDepartment(departmentId);
        return d;
    }

    /// @inheritdoc IDepartmentRegistry
    function statusOf(bytes32 departmentId) external view returns (DepartmentStatus) {
        return _departments[departmentId].status;
    }

    /// @inheritdoc IDepartmentRegistry
    function isActive(bytes32 departmentId) external view returns (bool) {
        return _departments[departmentId].status == DepartmentStatus.Active;
    }

    /// @inheritdoc IDepartmentRegistry
    function requireActive(bytes32 departmentId) public view {
        DepartmentStatus status = _departments[departmentId].status;
        if (status == DepartmentStatus.None) revert DepartmentRegistryUnknownDepartment(departmentId);
        if (status != DepartmentStatus.Active) revert DepartmentRegistryDepartmentNotActive(departmentId, status);
    }

    /// @inheritdoc IDepartmentRegistry
    function departmentOf(address account) external view returns (bytes32) {
        return _operatorDepartment[account];
    }

    /// @inheritdoc IDepartmentRegistry
    function requireActiveOperator(address account) public view returns (bytes32 departmentId) {
        departmentId = _operatorDepartment[account];
        if (departmentId == bytes32(0)) revert DepartmentRegistryNotOperator(account);
        DepartmentStatus status = _departments[departmentId].status;
        if (status != DepartmentStatus.Active) revert DepartmentRegistryDepartmentNotActive(departmentId, status);
    }

    /// @inheritdoc IDepartmentRegistry
    function operators(bytes32 departmentId) external view returns (address[] memory) {
        return _operators[departmentId].values();
    }

    /// @inheritdoc IDepartmentRegistry
    function isAuditor(address account) external view returns (bool) {
        return _auditors[account];
    }

    /// @inheritdoc IDepartmentRegistry
    function departmentCount() external view returns (uint256) {
        return _departmentIds.length;
    }

    /// @inheritdoc IDepartmentRegistry
    function departmentIdAt(uint256 index) external view returns (bytes32) {
        return _departmentIds[index];
    }

    /// @inheritdoc IDepartmentRegistry
    function activeDepartmentCount() external view returns (uint256) {
        return _activeCount;
    }

    /// @inheritdoc IDepartmentRegistry
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        Proposal storage p = _proposals[proposalId];
        if (p.status == ProposalStatus.None) revert DepartmentRegistryUnknownProposal(proposalId);
        return p;
    }

    /// @inheritdoc IDepartmentRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IDepartmentRegistry
    function hasApproved(uint256 proposalId, bytes32 departmentId) external view returns (bool) {
        return _approved[proposalId][departmentId];
    }

    /// @inheritdoc IDepartmentRegistry
    function requiredApprovals(uint256 proposalId) external view returns (uint32) {
        Proposal storage p = _proposals[proposalId];
        if (p.status == ProposalStatus.None) revert DepartmentRegistryUnknownProposal(proposalId);
        return approvalsFor(_electorate(p));
    }

    /// @inheritdoc IDepartmentRegistry
    function approvalsFor(uint256 electorate) public view returns (uint32) {
        uint256 required = (electorate * _thresholdBps + 9_999) / 10_000;
        return required == 0 ? 1 : uint32(required);
    }

    /// @inheritdoc IDepartmentRegistry
    function thresholdBps() external view returns (uint16) {
        return _thresholdBps;
    }

    /// @inheritdoc IDepartmentRegistry
    function proposalLifetime() external view returns (uint64) {
        return _proposalLifetime;
    }

    /// @inheritdoc IDepartmentRegistry
    function maxNameLength() external pure returns (uint256) {
        return _MAX_NAME_LENGTH;
    }

    // ------------------------------------------------------------------------- internals

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.status == ProposalStatus.None) revert DepartmentRegistryUnknownProposal(proposalId);
        if (p.status == ProposalStatus.Executed) revert DepartmentRegistryProposalExecuted(proposalId);
        if (block.timestamp >= p.expiresAt) revert DepartmentRegistryProposalExpired(proposalId, p.expiresAt);
    }

    function _approve(uint256 proposalId, Proposal storage p, bytes32 approver) private {
        _approved[proposalId][approver] = true;
        uint32 approvals = p.approvals + 1;
        p.approvals = approvals;
        uint32 required = approvalsFor(_electorate(p));
        emit ProposalApproved(proposalId, approver, msg.sender, approvals, required);
        if (approvals >= required) _execute(proposalId, p);
    }

    /// @dev Active departments that may vote on `p`: all of them, less a suspension's target.
    function _electorate(Proposal storage p) private view returns (uint256) {
        if (p.kind == ProposalKind.Suspend && _departments[p.departmentId].status == DepartmentStatus.Active) {
            return _activeCount - 1;
        }
        return _activeCount;
    }

    function _execute(uint256 proposalId, Proposal storage p) private {
        // Re-check against the state now: it may have changed since the proposal was made.
        _checkProposal(p.kind, p.departmentId, p.name, p.account);
        p.status = ProposalStatus.Executed;
        emit ProposalExecuted(proposalId, p.kind);
        if (p.kind == ProposalKind.Admit) {
            _admit(p.departmentId, p.name, p.account, proposalId);
        } else if (p.kind == ProposalKind.Suspend) {
            Department storage d = _departments[p.departmentId];
            d.status = DepartmentStatus.Suspended;
            d.statusChangedAt = uint64(block.timestamp);
            _activeCount -= 1;
            emit DepartmentSuspended(p.departmentId, proposalId);
        } else if (p.kind == ProposalKind.Readmit) {
            Department storage d = _departments[p.departmentId];
            d.status = DepartmentStatus.Active;
            d.statusChangedAt = uint64(block.timestamp);
            _activeCount += 1;
            emit DepartmentReadmitted(p.departmentId, proposalId);
        } else if (p.kind == ProposalKind.GrantAuditor) {
            _grantAuditor(p.account, proposalId);
        } else {
            _auditors[p.account] = false;
            emit AuditorRevoked(p.account, proposalId);
        }
    }

    function _checkProposal(ProposalKind kind, bytes32 departmentId, string memory name, address account)
        private
        view
    {
        if (kind == ProposalKind.Admit) {
            _checkNewDepartment(departmentId, name, account);
        } else if (kind == ProposalKind.Suspend) {
            requireActive(departmentId);
            if (_activeCount == 1) revert DepartmentRegistryLastActiveDepartment(departmentId);
        } else if (kind == ProposalKind.Readmit) {
            DepartmentStatus status = _departments[departmentId].status;
            if (status == DepartmentStatus.None) revert DepartmentRegistryUnknownDepartment(departmentId);
            if (status != DepartmentStatus.Suspended) {
                revert DepartmentRegistryDepartmentNotSuspended(departmentId, status);
            }
        } else if (kind == ProposalKind.GrantAuditor) {
            _checkFreeAccount(account);
        } else if (!_auditors[account]) {
            revert DepartmentRegistryNotAuditor(account);
        }
    }

    function _checkNewDepartment(bytes32 departmentId, string memory name, address firstOperator) private view {
        if (departmentId == bytes32(0)) revert DepartmentRegistryZeroDepartmentId();
        if (_departments[departmentId].status != DepartmentStatus.None) {
            revert DepartmentRegistryDepartmentExists(departmentId);
        }
        uint256 length = bytes(name).length;
        if (length == 0 || length > _MAX_NAME_LENGTH) revert DepartmentRegistryInvalidName(length, _MAX_NAME_LENGTH);
        _checkFreeAccount(firstOperator);
    }

    /// @dev An account may hold one role: operator of one department, or auditor.
    function _checkFreeAccount(address account) private view {
        if (account == address(0)) revert DepartmentRegistryZeroAddress();
        bytes32 current = _operatorDepartment[account];
        if (current != bytes32(0)) revert DepartmentRegistryAccountIsOperator(account, current);
        if (_auditors[account]) revert DepartmentRegistryAccountIsAuditor(account);
    }

    function _admit(bytes32 departmentId, string memory name, address firstOperator, uint256 proposalId) private {
        Department storage d = _departments[departmentId];
        d.id = departmentId;
        d.status = DepartmentStatus.Active;
        d.admittedAt = uint64(block.timestamp);
        d.statusChangedAt = uint64(block.timestamp);
        d.name = name;
        _departmentIds.push(departmentId);
        _activeCount += 1;
        _addOperator(departmentId, firstOperator);
        emit DepartmentAdmitted(departmentId, proposalId, name, firstOperator);
        emit OperatorAdded(departmentId, firstOperator, msg.sender);
    }

    function _addOperator(bytes32 departmentId, address account) private {
        _operators[departmentId].add(account);
        _operatorDepartment[account] = departmentId;
        _departments[departmentId].operatorCount += 1;
    }

    function _grantAuditor(address account, uint256 proposalId) private {
        _auditors[account] = true;
        emit AuditorGranted(account, proposalId);
    }
}
