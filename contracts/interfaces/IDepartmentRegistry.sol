// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IDepartmentRegistry
 * @notice Consortium membership: departments, their operator accounts, auditors, and the
 * threshold-approved proposals that admit, suspend and readmit departments or grant and
 * revoke the auditor role.
 *
 * A department is identified by a `bytes32` id (keccak256 of a stable code, e.g. a unified
 * social credit code) and carries a UTF-8 name (well-formed, without control characters). An
 * account is the operator of at most one department; auditor accounts form a separate role and
 * are never operators.
 *
 * Every member may be hostile, so an account takes a role only with its own consent: a
 * department nominates an operator and the account accepts the nomination; the account a
 * proposal names (an admission's first operator, a granted auditor) accepts that proposal
 * before it can execute. Consent is the account's own transaction or its EIP-712 signature,
 * relayed by anyone. Only the approvals of departments active when they are counted count.
 */
interface IDepartmentRegistry {
    /// @notice Membership status of a department. `None` means the id is unknown.
    enum DepartmentStatus {
        None,
        Active,
        Suspended
    }

    /// @notice What an executed proposal does.
    enum ProposalKind {
        Admit,
        Suspend,
        Readmit,
        GrantAuditor,
        RevokeAuditor
    }

    /// @notice Lifecycle of a proposal. An open proposal past its `expiresAt` is expired.
    enum ProposalStatus {
        None,
        Open,
        Executed
    }

    /// @notice A department as stored on chain.
    struct Department {
        bytes32 id;
        DepartmentStatus status;
        uint64 admittedAt;
        uint64 statusChangedAt;
        uint32 operatorCount;
        string name;
    }

    /// @notice A department admitted at deployment, with its first operator account.
    struct FoundingDepartment {
        bytes32 id;
        string name;
        address operator;
    }

    /// @notice A membership proposal. `departmentId`/`name` are used by Admit, Suspend and
    /// Readmit; `account` is the first operator (Admit) or the auditor account. As returned by
    /// `proposal`, `approvals` counts the approving departments that are active at the call;
    /// `roleAcceptedAt` is when `account` accepted the role (Admit and GrantAuditor; 0 before).
    struct Proposal {
        ProposalKind kind;
        ProposalStatus status;
        bytes32 proposerDepartment;
        bytes32 departmentId;
        address account;
        uint64 createdAt;
        uint64 expiresAt;
        uint32 approvals;
        uint64 roleAcceptedAt;
        string name;
    }

    // ----------------------------------------------------------------------------- errors

    /// @dev `account` is not an operator of any department.
    error DepartmentRegistryNotOperator(address account);
    /// @dev The department exists but is not active.
    error DepartmentRegistryDepartmentNotActive(bytes32 departmentId, DepartmentStatus status);
    /// @dev No department has this id.
    error DepartmentRegistryUnknownDepartment(bytes32 departmentId);
    /// @dev A department with this id already exists.
    error DepartmentRegistryDepartmentExists(bytes32 departmentId);
    /// @dev The department id is zero.
    error DepartmentRegistryZeroDepartmentId();
    /// @dev The name is empty or longer than `maxLength` bytes of UTF-8.
    error DepartmentRegistryInvalidName(uint256 length, uint256 maxLength);
    /// @dev The name is not well-formed UTF-8: the ill-formed sequence starts at byte `offset`
    /// (a stray or invalid byte, an overlong form, a surrogate, a code point above U+10FFFF,
    /// or a sequence cut short by the end of the name).
    error DepartmentRegistryNameNotUtf8(uint256 offset);
    /// @dev The name holds a forbidden character at byte `offset`: a C0 or C1 control
    /// character, DEL, a line or paragraph separator (U+2028, U+2029) or a bidirectional
    /// embedding, override or isolate control (U+202A–U+202E, U+2066–U+2069).
    error DepartmentRegistryNameForbiddenCharacter(uint256 offset, uint32 codePoint);
    /// @dev Only an admission carries a name; a proposal of another `kind` must leave it empty.
    error DepartmentRegistryUnexpectedName(ProposalKind kind, uint256 length);
    /// @dev The account is the zero address.
    error DepartmentRegistryZeroAddress();
    /// @dev The account already operates a department.
    error DepartmentRegistryAccountIsOperator(address account, bytes32 departmentId);
    /// @dev The account holds the auditor role, which is kept apart from operators.
    error DepartmentRegistryAccountIsAuditor(address account);
    /// @dev The account is not an operator of the caller's department.
    error DepartmentRegistryNotOperatorOf(address account, bytes32 departmentId);
    /// @dev Removing the department's last operator would lock it out.
    error DepartmentRegistryLastOperator(bytes32 departmentId);
    /// @dev Suspending the last active department would leave nobody able to write.
    error DepartmentRegistryLastActiveDepartment(bytes32 departmentId);
    /// @dev Only a suspended department can be readmitted.
    error DepartmentRegistryDepartmentNotSuspended(bytes32 departmentId, DepartmentStatus status);
    /// @dev The account does not hold the auditor role.
    error DepartmentRegistryNotAuditor(address account);
    /// @dev No proposal has this id.
    error DepartmentRegistryUnknownProposal(uint256 proposalId);
    /// @dev The proposal was already executed.
    error DepartmentRegistryProposalExecuted(uint256 proposalId);
    /// @dev The proposal expired before reaching the threshold.
    error DepartmentRegistryProposalExpired(uint256 proposalId, uint64 expiresAt);
    /// @dev The department already approved this proposal.
    error DepartmentRegistryAlreadyApproved(uint256 proposalId, bytes32 departmentId);
    /// @dev The department has already nominated this account.
    error DepartmentRegistryAlreadyNominated(bytes32 departmentId, address account);
    /// @dev The department has not nominated this account (or withdrew the nomination).
    error DepartmentRegistryNotNominated(bytes32 departmentId, address account);
    /// @dev The proposal offers no role to `account` (it names another account, or its kind
    /// is not Admit or GrantAuditor).
    error DepartmentRegistryNotRoleAccount(uint256 proposalId, address account);
    /// @dev `account` already accepted the role the proposal offers it.
    error DepartmentRegistryRoleAlreadyAccepted(uint256 proposalId, address account);
    /// @dev The proposal meets the threshold, but `account` has not accepted its role yet.
    error DepartmentRegistryRoleNotAccepted(uint256 proposalId, address account);
    /// @dev The signature's deadline has passed.
    error DepartmentRegistrySignatureExpired(uint256 deadline, uint256 currentTime);
    /// @dev The signature was not made by `signer` over this contract, chain and message.
    error DepartmentRegistryInvalidSignature(address signer);
    /// @dev A department cannot propose or approve its own suspension.
    error DepartmentRegistryOwnSuspension(bytes32 departmentId);
    /// @dev The proposal has `approvals` of the `required` approvals.
    error DepartmentRegistryThresholdNotMet(uint256 proposalId, uint32 approvals, uint32 required);
    /// @dev The threshold must be in (0, 10000] basis points.
    error DepartmentRegistryInvalidThreshold(uint16 thresholdBps);
    /// @dev The proposal lifetime must be at least one hour.
    error DepartmentRegistryInvalidProposalLifetime(uint64 lifetime);
    /// @dev A consortium needs at least one founding department.
    error DepartmentRegistryNoFounders();

    // ----------------------------------------------------------------------------- events

    /// @notice A department was admitted (by a founding list when `proposalId` is 0).
    event DepartmentAdmitted(
        bytes32 indexed departmentId, uint256 indexed proposalId, string name, address firstOperator
    );
    /// @notice A department was suspended; its operators can no longer write.
    event DepartmentSuspended(bytes32 indexed departmentId, uint256 indexed proposalId);
    /// @notice A suspended department was readmitted.
    event DepartmentReadmitted(bytes32 indexed departmentId, uint256 indexed proposalId);
    /// @notice A department's operator nominated `account` as an operator; the account becomes
    /// one only when it accepts.
    event OperatorNominated(bytes32 indexed departmentId, address indexed account, address indexed nominatedBy);
    /// @notice A department's operator withdrew its department's nomination of `account`.
    event OperatorNominationWithdrawn(
        bytes32 indexed departmentId, address indexed account, address indexed withdrawnBy
    );
    /// @notice `account` became an operator of the department, with its consent. `addedBy` is
    /// the operator who nominated it; for a founder the deployer, for an admission's first
    /// operator the sender of the transaction that executed the admission.
    event OperatorAdded(bytes32 indexed departmentId, address indexed account, address indexed addedBy);
    /// @notice A department removed one of its operator accounts.
    event OperatorRemoved(bytes32 indexed departmentId, address indexed account, address indexed removedBy);
    /// @notice An account received the auditor role (at deployment when `proposalId` is 0).
    event AuditorGranted(address indexed account, uint256 indexed proposalId);
    /// @notice An account lost the auditor role.
    event AuditorRevoked(address indexed account, uint256 indexed proposalId);
    /// @notice A proposal was created; the proposer's department approved it at once.
    event ProposalCreated(
        uint256 indexed proposalId,
        bytes32 indexed proposerDepartment,
        bytes32 indexed departmentId,
        ProposalKind kind,
        address account,
        string name,
        uint64 expiresAt
    );
    /// @notice A department approved a proposal. `approvals` counts the approving departments
    /// active now (this one included); `required` is the threshold of the current electorate.
    event ProposalApproved(
        uint256 indexed proposalId, bytes32 indexed departmentId, address approver, uint32 approvals, uint32 required
    );
    /// @notice The account a proposal names (an admission's first operator, a granted auditor)
    /// accepted the role it offers.
    event ProposalRoleAccepted(uint256 indexed proposalId, address indexed account);
    /// @notice A proposal reached the threshold and was carried out, with `approvals` of the
    /// `required` approvals of departments active at execution.
    event ProposalExecuted(uint256 indexed proposalId, ProposalKind kind, uint32 approvals, uint32 required);

    // ----------------------------------------------------------------------------- writes

    /**
     * @notice Propose a membership change; the caller's department approves it at once,
     * and it executes immediately when that already meets the threshold (and, for Admit and
     * GrantAuditor, once `account` has accepted the role: see `acceptRole`).
     * @param kind Admit, Suspend, Readmit, GrantAuditor or RevokeAuditor.
     * @param departmentId The department to admit, suspend or readmit (zero for auditor kinds).
     * @param name The name of the department to admit (empty for other kinds): 1 to 256 bytes of
     * well-formed UTF-8 without control characters (see `DepartmentRegistryNameNotUtf8`,
     * `DepartmentRegistryNameForbiddenCharacter`).
     * @param account The first operator (Admit) or the auditor account (auditor kinds).
     * @return proposalId The new proposal's id (sequential, starting at 1).
     */
    function propose(ProposalKind kind, bytes32 departmentId, string calldata name, address account)
        external
        returns (uint256 proposalId);

    /**
     * @notice Approve an open proposal on behalf of the caller's department; executes it when
     * the approvals of active departments reach the threshold of the current electorate and
     * the role it offers (if any) was accepted.
     * @param proposalId The proposal to approve.
     */
    function approve(uint256 proposalId) external;

    /**
     * @notice Execute an open proposal whose approvals (of departments active now) already
     * meet the threshold of the current electorate (e.g. after the electorate shrank); any
     * active department may call it.
     * @param proposalId The proposal to execute.
     */
    function execute(uint256 proposalId) external;

    /**
     * @notice As the account an open Admit or GrantAuditor proposal names, accept the role it
     * offers (first operator of the admitted department, or auditor); executes the proposal
     * when its approvals already meet the threshold.
     * @param proposalId The proposal that names the caller.
     */
    function acceptRole(uint256 proposalId) external;

    /**
     * @notice Accept the role a proposal offers `account` with its EIP-712 `AcceptRole`
     * signature; anyone may relay it.
     * @param proposalId The proposal that names `account`.
     * @param account The account the proposal names.
     * @param nonce The account's current nonce (see `nonces`).
     * @param deadline Last timestamp at which the signature is valid.
     * @param signature The 65-byte ECDSA signature.
     */
    function acceptRoleBySig(
        uint256 proposalId,
        address account,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Nominate `account` as an operator of the caller's (active) department; it
     * becomes one when it accepts (`acceptNomination` or `acceptNominationBySig`).
     * @param account The account to nominate; it must not operate a department or be an auditor.
     */
    function nominateOperator(address account) external;

    /**
     * @notice Withdraw the caller's department's pending nomination of `account`.
     * @param account The nominated account.
     */
    function withdrawNomination(address account) external;

    /**
     * @notice As a nominated account, accept the nomination of the (active) department
     * `departmentId` and become one of its operators.
     * @param departmentId The department that nominated the caller.
     */
    function acceptNomination(bytes32 departmentId) external;

    /**
     * @notice Accept `departmentId`'s nomination of `account` with its EIP-712
     * `AcceptOperator` signature; anyone may relay it.
     * @param departmentId The department that nominated `account`.
     * @param account The nominated account.
     * @param nonce The account's current nonce (see `nonces`).
     * @param deadline Last timestamp at which the signature is valid.
     * @param signature The 65-byte ECDSA signature.
     */
    function acceptNominationBySig(
        bytes32 departmentId,
        address account,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Remove an operator account from the caller's (active) department.
     * @param account The account to remove; the last operator cannot be removed.
     */
    function removeOperator(address account) external;

    // ----------------------------------------------------------------------------- views

    /// @notice The department with `departmentId`; reverts when unknown.
    function department(bytes32 departmentId) external view returns (Department memory);

    /// @notice Status of `departmentId` (`None` when unknown).
    function statusOf(bytes32 departmentId) external view returns (DepartmentStatus);

    /// @notice True when `departmentId` is a member in good standing.
    function isActive(bytes32 departmentId) external view returns (bool);

    /// @notice Reverts unless `departmentId` is known and active.
    function requireActive(bytes32 departmentId) external view;

    /// @notice The department `account` operates (zero when none).
    function departmentOf(address account) external view returns (bytes32);

    /// @notice The active department `account` operates; reverts when it operates none or
    /// its department is not active.
    function requireActiveOperator(address account) external view returns (bytes32);

    /// @notice The operator accounts of `departmentId`.
    function operators(bytes32 departmentId) external view returns (address[] memory);

    /// @notice True when `account` holds the auditor role.
    function isAuditor(address account) external view returns (bool);

    /// @notice Number of departments ever admitted.
    function departmentCount() external view returns (uint256);

    /// @notice The id of the `index`-th admitted department (admission order).
    function departmentIdAt(uint256 index) external view returns (bytes32);

    /// @notice Number of active departments.
    function activeDepartmentCount() external view returns (uint256);

    /// @notice The proposal with `proposalId`; reverts when unknown.
    function proposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice Number of proposals ever created (the last proposal id).
    function proposalCount() external view returns (uint256);

    /// @notice True when `departmentId` approved `proposalId` (whether or not it is active now).
    function hasApproved(uint256 proposalId, bytes32 departmentId) external view returns (bool);

    /// @notice Every department that approved `proposalId`, in order, active now or not.
    function approvers(uint256 proposalId) external view returns (bytes32[] memory);

    /// @notice Approvals needed to execute `proposalId` now.
    function requiredApprovals(uint256 proposalId) external view returns (uint32);

    /// @notice Approvals needed out of an electorate of `electorate` active departments:
    /// ceil(electorate * thresholdBps / 10000), and at least one.
    function approvalsFor(uint256 electorate) external view returns (uint32);

    /// @notice The approval threshold in basis points of the electorate.
    function thresholdBps() external view returns (uint16);

    /// @notice How long a proposal stays open, in seconds.
    function proposalLifetime() external view returns (uint64);

    /// @notice Maximum length of a department name in bytes of UTF-8.
    function maxNameLength() external pure returns (uint256);

    /// @notice The operator who nominated `account` for `departmentId` (zero when there is no
    /// pending nomination).
    function nomination(bytes32 departmentId, address account) external view returns (address);

    /// @notice The EIP-712 digest `account` signs to accept `departmentId`'s nomination.
    function acceptOperatorDigest(bytes32 departmentId, address account, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest `account` signs to accept the role `proposalId` offers it.
    function acceptRoleDigest(uint256 proposalId, address account, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 domain separator of this contract on this chain.
    function domainSeparator() external view returns (bytes32);

    /// @notice The EIP-712 type hash of `AcceptOperator`.
    function acceptOperatorTypehash() external pure returns (bytes32);

    /// @notice The EIP-712 type hash of `AcceptRole`.
    function acceptRoleTypehash() external pure returns (bytes32);
}
