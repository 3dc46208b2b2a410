// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";

/**
 * @title DepartmentRegistry
 * @notice Consortium membership with threshold approval. See {IDepartmentRegistry}.
 *
 * The electorate of a proposal is the set of active departments at the time of each
 * approval, less the target of a suspension (who may not vote on it). Its approvals are
 * those of its approvers that are active when they are counted (at each approval and at
 * execution), so the vote of a department suspended since does not count. A proposal
 * executes on the approval (or role acceptance) that brings it to `approvalsFor(electorate)`.
 */
contract DepartmentRegistry is IDepartmentRegistry, EIP712, Nonces {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @dev keccak256("AcceptOperator(bytes32 departmentId,address account,uint256 nonce,uint256 deadline)")
    bytes32 private constant _ACCEPT_OPERATOR_TYPEHASH =
        0x8c2e56417e3114ace7afd64f6c2760917dccf884dd3b4ee210a906670744cafb;
    /// @dev keccak256("AcceptRole(uint256 proposalId,address account,uint256 nonce,uint256 deadline)")
    bytes32 private constant _ACCEPT_ROLE_TYPEHASH = 0x0f3e91f344fbacef7e2a9d23a584b3fe1d627184b5f7d116c3b5393620f01007;

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
    mapping(bytes32 departmentId => mapping(address account => address nominatedBy)) private _nominations;

    /// @dev `approvals` of a stored proposal stays 0: the count depends on who is active now.
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => bytes32[] departmentIds) private _approvers;
    uint256 private _proposalCount;

    /**
     * @param founders The founding departments, each with its first operator.
     * @param auditors The founding auditor accounts.
     * @param thresholdBps_ Share of the electorate whose approval executes a proposal, in
     * basis points (e.g. 5001 for a simple majority, 6667 for two thirds).
     * @param proposalLifetime_ Seconds a proposal stays open.
     *
     * The founders' first operators and the founding auditors take their roles without an
     * on-chain acceptance: the founders file is agreed by all founding departments before
     * deployment, when no member exists yet that could enrol an account against its will.
     */
    constructor(
        FoundingDepartment[] memory founders,
        address[] memory auditors,
        uint16 thresholdBps_,
        uint64 proposalLifetime_
    ) EIP712("Xietong DepartmentRegistry", "1") {
        if (thresholdBps_ == 0 || thresholdBps_ > 10_000) revert DepartmentRegistryInvalidThreshold(thresholdBps_);
        if (proposalLifetime_ < _MIN_PROPOSAL_LIFETIME) {
            revert DepartmentRegistryInvalidProposalLifetime(proposalLifetime_);
        }
        if (founders.length == 0) revert DepartmentRegistryNoFounders();
        _thresholdBps = thresholdBps_;
        _proposalLifetime = proposalLifetime_;
        for (uint256 i = 0; i < founders.length; i++) {
            _checkName(bytes(founders[i].name));
            _checkNewDepartment(founders[i].id, founders[i].operator);
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
        // The name is the only string on chain: an admission's is checked, others have none.
        if (kind == ProposalKind.Admit) _checkName(bytes(name));
        else if (bytes(name).length != 0) revert DepartmentRegistryUnexpectedName(kind, bytes(name).length);
        _checkProposal(kind, departmentId, account);
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
        if (_hasApproved(proposalId, approver)) revert DepartmentRegistryAlreadyApproved(proposalId, approver);
        if (p.kind == ProposalKind.Suspend && p.departmentId == approver) {
            revert DepartmentRegistryOwnSuspension(approver);
        }
        _approve(proposalId, p, approver);
    }

    /// @inheritdoc IDepartmentRegistry
    function execute(uint256 proposalId) external {
        requireActiveOperator(msg.sender);
        Proposal storage p = _openProposal(proposalId);
        uint32 approvals = _countApprovals(proposalId);
        uint32 required = approvalsFor(_electorate(p));
        if (approvals < required) revert DepartmentRegistryThresholdNotMet(proposalId, approvals, required);
        if (!_roleReady(p)) revert DepartmentRegistryRoleNotAccepted(proposalId, p.account);
        _execute(proposalId, p, approvals, required);
    }

    /// @inheritdoc IDepartmentRegistry
    function acceptRole(uint256 proposalId) external {
        _acceptRole(proposalId, msg.sender);
    }

    /// @inheritdoc IDepartmentRegistry
    function acceptRoleBySig(
        uint256 proposalId,
        address account,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useSignature(_acceptRoleDigest(proposalId, account, nonce, deadline), account, nonce, deadline, signature);
        _acceptRole(proposalId, account);
    }

    // ------------------------------------------------------------------------- operators

    /// @inheritdoc IDepartmentRegistry
    function nominateOperator(address account) external {
        bytes32 departmentId = requireActiveOperator(msg.sender);
        _checkFreeAccount(account);
        if (_nominations[departmentId][account] != address(0)) {
            revert DepartmentRegistryAlreadyNominated(departmentId, account);
        }
        _nominations[departmentId][account] = msg.sender;
        emit OperatorNominated(departmentId, account, msg.sender);
    }

    /// @inheritdoc IDepartmentRegistry
    function withdrawNomination(address account) external {
        bytes32 departmentId = requireActiveOperator(msg.sender);
        if (_nominations[departmentId][account] == address(0)) {
            revert DepartmentRegistryNotNominated(departmentId, account);
        }
        delete _nominations[departmentId][account];
        emit OperatorNominationWithdrawn(departmentId, account, msg.sender);
    }

    /// @inheritdoc IDepartmentRegistry
    function acceptNomination(bytes32 departmentId) external {
        _acceptNomination(departmentId, msg.sender);
    }

    /// @inheritdoc IDepartmentRegistry
    function acceptNominationBySig(
        bytes32 departmentId,
        address account,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useSignature(
            _acceptOperatorDigest(departmentId, account, nonce, deadline), account, nonce, deadline, signature
        );
        _acceptNomination(departmentId, account);
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
    function proposal(uint256 proposalId) external view returns (Proposal memory result) {
        Proposal storage p = _proposals[proposalId];
        if (p.status == ProposalStatus.None) revert DepartmentRegistryUnknownProposal(proposalId);
        result = p;
        result.approvals = _countApprovals(proposalId);
    }

    /// @inheritdoc IDepartmentRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IDepartmentRegistry
    function hasApproved(uint256 proposalId, bytes32 departmentId) external view returns (bool) {
        return _hasApproved(proposalId, departmentId);
    }

    /// @inheritdoc IDepartmentRegistry
    function approvers(uint256 proposalId) external view returns (bytes32[] memory) {
        return _approvers[proposalId];
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

    /// @inheritdoc IDepartmentRegistry
    function nomination(bytes32 departmentId, address account) external view returns (address) {
        return _nominations[departmentId][account];
    }

    /// @inheritdoc IDepartmentRegistry
    function acceptOperatorDigest(bytes32 departmentId, address account, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _acceptOperatorDigest(departmentId, account, nonce, deadline);
    }

    /// @inheritdoc IDepartmentRegistry
    function acceptRoleDigest(uint256 proposalId, address account, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _acceptRoleDigest(proposalId, account, nonce, deadline);
    }

    /// @inheritdoc IDepartmentRegistry
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IDepartmentRegistry
    function acceptOperatorTypehash() external pure returns (bytes32) {
        return _ACCEPT_OPERATOR_TYPEHASH;
    }

    /// @inheritdoc IDepartmentRegistry
    function acceptRoleTypehash() external pure returns (bytes32) {
        return _ACCEPT_ROLE_TYPEHASH;
    }

    // ------------------------------------------------------------------------- internals

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.status == ProposalStatus.None) revert DepartmentRegistryUnknownProposal(proposalId);
        if (p.status == ProposalStatus.Executed) revert DepartmentRegistryProposalExecuted(proposalId);
        if (block.timestamp >= p.expiresAt) revert DepartmentRegistryProposalExpired(proposalId, p.expiresAt);
    }

    function _approve(uint256 proposalId, Proposal storage p, bytes32 approver) private {
        _approvers[proposalId].push(approver);
        uint32 approvals = _countApprovals(proposalId);
        uint32 required = approvalsFor(_electorate(p));
        emit ProposalApproved(proposalId, approver, msg.sender, approvals, required);
        if (approvals >= required && _roleReady(p)) _execute(proposalId, p, approvals, required);
    }

    /// @dev The approvals of `proposalId` that count now: those of departments active now.
    /// Bounded by the number of departments (each approves at most once).
    function _countApprovals(uint256 proposalId) private view returns (uint32 count) {
        bytes32[] storage ids = _approvers[proposalId];
        uint256 length = ids.length;
        for (uint256 i = 0; i < length; i++) {
            if (_departments[ids[i]].status == DepartmentStatus.Active) count++;
        }
    }

    function _hasApproved(uint256 proposalId, bytes32 departmentId) private view returns (bool) {
        bytes32[] storage ids = _approvers[proposalId];
        uint256 length = ids.length;
        for (uint256 i = 0; i < length; i++) {
            if (ids[i] == departmentId) return true;
        }
        return false;
    }

    /// @dev True unless `p` offers a role (Admit, GrantAuditor) its account has not accepted.
    function _roleReady(Proposal storage p) private view returns (bool) {
        return p.roleAcceptedAt != 0 || (p.kind != ProposalKind.Admit && p.kind != ProposalKind.GrantAuditor);
    }

    function _acceptRole(uint256 proposalId, address account) private {
        Proposal storage p = _openProposal(proposalId);
        if ((p.kind != ProposalKind.Admit && p.kind != ProposalKind.GrantAuditor) || p.account != account) {
            revert DepartmentRegistryNotRoleAccount(proposalId, account);
        }
        if (p.roleAcceptedAt != 0) revert DepartmentRegistryRoleAlreadyAccepted(proposalId, account);
        _checkFreeAccount(account);
        p.roleAcceptedAt = uint64(block.timestamp);
        emit ProposalRoleAccepted(proposalId, account);
        uint32 approvals = _countApprovals(proposalId);
        uint32 required = approvalsFor(_electorate(p));
        if (approvals >= required) _execute(proposalId, p, approvals, required);
    }

    function _acceptNomination(bytes32 departmentId, address account) private {
        address nominatedBy = _nominations[departmentId][account];
        if (nominatedBy == address(0)) revert DepartmentRegistryNotNominated(departmentId, account);
        requireActive(departmentId);
        _checkFreeAccount(account);
        delete _nominations[departmentId][account];
        _addOperator(departmentId, account);
        emit OperatorAdded(departmentId, account, nominatedBy);
    }

    /// @dev Checks `signature` by `signer` over `digest` and its deadline, and uses `nonce`.
    function _useSignature(
        bytes32 digest,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private {
        if (block.timestamp > deadline) revert DepartmentRegistrySignatureExpired(deadline, block.timestamp);
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert DepartmentRegistryInvalidSignature(signer);
        _useCheckedNonce(signer, nonce);
    }

    function _acceptOperatorDigest(bytes32 departmentId, address account, uint256 nonce, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(_ACCEPT_OPERATOR_TYPEHASH, departmentId, account, nonce, deadline))
        );
    }

    function _acceptRoleDigest(uint256 proposalId, address account, uint256 nonce, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(_ACCEPT_ROLE_TYPEHASH, proposalId, account, nonce, deadline)));
    }

    /// @dev Active departments that may vote on `p`: all of them, less a suspension's target.
    function _electorate(Proposal storage p) private view returns (uint256) {
        if (p.kind == ProposalKind.Suspend && _departments[p.departmentId].status == DepartmentStatus.Active) {
            return _activeCount - 1;
        }
        return _activeCount;
    }

    function _execute(uint256 proposalId, Proposal storage p, uint32 approvals, uint32 required) private {
        // Re-check against the state now: it may have changed since the proposal was made.
        _checkProposal(p.kind, p.departmentId, p.account);
        p.status = ProposalStatus.Executed;
        emit ProposalExecuted(proposalId, p.kind, approvals, required);
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

    /// @dev The checks of a proposal that depend on the state (made again at execution); the
    /// name of an admission is checked once, when it is proposed.
    function _checkProposal(ProposalKind kind, bytes32 departmentId, address account) private view {
        if (kind == ProposalKind.Admit) {
            _checkNewDepartment(departmentId, account);
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

    function _checkNewDepartment(bytes32 departmentId, address firstOperator) private view {
        if (departmentId == bytes32(0)) revert DepartmentRegistryZeroDepartmentId();
        if (_departments[departmentId].status != DepartmentStatus.None) {
            revert DepartmentRegistryDepartmentExists(departmentId);
        }
        _checkFreeAccount(firstOperator);
    }

    /**
     * @dev Reverts unless `name` is 1 to 256 bytes of well-formed UTF-8 (RFC 3629, the
     * well-formed sequences of Unicode's table 3-7: no overlong form, no surrogate, nothing
     * above U+10FFFF) free of C0 and C1 control characters, DEL, U+2028–U+202E (line and
     * paragraph separators, bidirectional embeddings and overrides) and U+2066–U+2069
     * (bidirectional isolates). The first problem met, left to right, is reported.
     */
    function _checkName(bytes memory name) private pure {
        uint256 length = name.length;
        if (length == 0 || length > _MAX_NAME_LENGTH) revert DepartmentRegistryInvalidName(length, _MAX_NAME_LENGTH);
        uint256 problem; // 0: none, 1: not UTF-8 at `offset`, 2: `codePoint` forbidden at `offset`
        uint256 offset;
        uint256 codePoint;
        // One pass over the bytes in assembly, the common cases first (a Solidity loop cost
        // ~80,000 gas for a 256-byte Chinese name, more than 32 founders can afford under the
        // EIP-7825 cap). `mload` reads the byte at `p` and the 31 after it, which may lie past
        // the end: a sequence is only taken when it ends inside the name.
        assembly ("memory-safe") {
            let start := add(name, 0x20)
            let end := add(start, length)
            let highBits := 0x8080808080808080808080808080808080808080808080808080808080808080
            let plus60 := 0x6060606060606060606060606060606060606060606060606060606060606060
            let plus01 := 0x0101010101010101010101010101010101010101010101010101010101010101
            for { let p := start } lt(p, end) {} {
                let word := mload(p)
                let lead := shr(248, word)
                if lt(lead, 0x80) {
                    // 32 printable ASCII bytes at once: no high bit, none below 0x20 (adding
                    // 0x60 sets each high bit), no 0x7F (adding 0x01 sets none).
                    if iszero(gt(add(p, 32), end)) {
                        if iszero(
                            or(
                                and(word, highBits),
                                or(
                                    xor(and(add(word, plus60), highBits), highBits),
                                    and(add(word, plus01), highBits)
                                )
                            )
                        ) {
                            p := add(p, 32)
                            continue
                        }
                    }
                    if or(lt(lead, 0x20), eq(lead, 0x7f)) {
                        problem := 2
                        offset := sub(p, start)
                        codePoint := lead
                        break
                    }
                    p := add(p, 1)
                    continue
                }
                // The common sequences first: 3 bytes led by E1, E3..EC, EE, EF (CJK among
                // them) and 2 bytes led by C3..DF, any continuation bytes 80..BF, wholly inside
                // the name (bit `lead` of each constant marks the leads).
                if and(
                    and(shr(lead, 0xdffa00000000000000000000000000000000000000000000000000000000), 1),
                    eq(and(shr(232, word), 0xc0c0), 0x8080)
                ) {
                    if iszero(gt(add(p, 3), end)) {
                        p := add(p, 3)
                        continue
                    }
                }
                if and(
                    and(shr(lead, 0xfffffff8000000000000000000000000000000000000000000000000), 1),
                    eq(and(shr(240, word), 0xc0), 0x80)
                ) {
                    if iszero(gt(add(p, 2), end)) {
                        p := add(p, 2)
                        continue
                    }
                }
                // Any other multi-byte sequence (Unicode's table 3-7): `size` stays 0 for a stray
                // continuation byte, a bad lead (C0, C1, F5..FF), a bad continuation, an
                // overlong form, a surrogate or a code point above U+10FFFF.
                let size := 0
                let forbidden := 0
                let second := byte(1, word)
                switch shr(5, lead)
                case 6 {
                    // C2..DF 80..BF: U+0080..U+07FF; C2 80..C2 9F are the C1 controls.
                    if and(gt(lead, 0xc1), eq(and(second, 0xc0), 0x80)) { size := 2 }
                    forbidden := and(eq(lead, 0xc2), lt(second, 0xa0))
                }
                case 7 {
                    switch lt(lead, 0xf0)
                    case 1 {
                        // E0 A0..BF, E1..EC 80..BF, ED 80..9F, EE..EF 80..BF; then 80..BF.
                        if eq(and(shr(232, word), 0xc0c0), 0x8080) { size := 3 }
                        if and(eq(lead, 0xe0), lt(second, 0xa0)) { size := 0 }
                        if and(eq(lead, 0xed), gt(second, 0x9f)) { size := 0 }
                        if eq(lead, 0xe2) {
                            // E2 80 A8..AE: U+2028..U+202E; E2 81 A6..A9: U+2066..U+2069.
                            let third := byte(2, word)
                            forbidden :=
                                or(
                                    and(eq(second, 0x80), and(gt(third, 0xa7), lt(third, 0xaf))),
                                    and(eq(second, 0x81), and(gt(third, 0xa5), lt(third, 0xaa)))
                                )
                        }
                    }
                    default {
                        // F0 90..BF, F1..F3 80..BF, F4 80..8F; then 80..BF 80..BF.
                        if and(lt(lead, 0xf5), eq(and(shr(224, word), 0xc0c0c0), 0x808080)) { size := 4 }
                        if and(eq(lead, 0xf0), lt(second, 0x90)) { size := 0 }
                        if and(eq(lead, 0xf4), gt(second, 0x8f)) { size := 0 }
                    }
                }
                // Ill-formed, or cut short by the end of the name.
                if or(iszero(size), gt(add(p, size), end)) {
                    problem := 1
                    offset := sub(p, start)
                    break
                }
                if forbidden {
                    problem := 2
                    offset := sub(p, start)
                    codePoint := or(shl(6, and(lead, 0x1f)), and(second, 0x3f))
                    if eq(size, 3) { codePoint := or(shl(6, and(codePoint, 0x3ff)), and(byte(2, word), 0x3f)) }
                    break
                }
                p := add(p, size)
            }
        }
        if (problem == 1) revert DepartmentRegistryNameNotUtf8(offset);
        if (problem == 2) revert DepartmentRegistryNameForbiddenCharacter(offset, uint32(codePoint));
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
