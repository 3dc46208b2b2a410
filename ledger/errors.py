"""Errors raised by the ledger library.

Every error the library raises on purpose derives from :class:`LedgerError`; only the edges
(the CLI, the HTTP API) turn them into messages for people. Each error's ``str()`` is one
clear sentence.

Hierarchy (the module that defines each error in brackets, when it is not this one)::

    LedgerError
    ├── InputError               bad input from a user or a file (hex, founders file, …)
    │   ├── BadHashError         a hash or id that is not 32 bytes of hex
    │   ├── EmptyCodeError       an empty code, reason or reference            [ids]
    │   ├── HashingError         files and records that cannot be hashed       [hashing]
    │   │   ├── SymlinkRefusedError, PathEscapesRootError, NotARegularFileError,
    │   │   │   RootNotADirectoryError, UnreadableFileError, FileChangedError,
    │   │   │   PathNameError, DuplicatePathError, EmptyDatasetError
    │   │   ├── RecordFormatError, CanonicalJsonError      a record file's rows
    │   │   ├── SaltsFileError, SaltsMismatchError, SaltsExistError   the salts sidecar
    │   │   └── RecordErasedError   a record whose salt its owner destroyed      [erasure]
    │   ├── ExportTooLargeError  a CSV export of more rows than one may hold      [db.queries]
    │   └── TrustFileError       a consortium trust file that cannot be read, or is malformed
    ├── ConfigurationError       settings, keys or manifests that cannot be used
    │   └── KeyRefusedError      a key the current mode does not accept (dev key outside local)
    │       ├── WeakKeystoreError    a keystore below eth-account's default cost, or with an
    │       │                        empty password (production)
    │       └── KeyFileExposedError  a keystore or password file other users can get at
    │                                (production)
    ├── CompilerError            the Solidity compiler is missing or the sources do not compile
    ├── NodeError                managing the local chain node
    │   ├── PortInUseError       the port is taken by another process
    │   ├── DependenciesMissingError  npm dependencies are not installed
    │   └── NodeStartError       the node exited or did not answer in time
    ├── DeploymentError          deploying or finding the contracts
    │   └── AlreadyDeployedError a live deployment exists on this chain
    ├── ChainError               talking to the chain
    │   ├── ChainUnavailableError  the node does not answer
    │   ├── ContractRevertError    a contract rejected the call (custom error decoded)
    │   ├── TransactionFailedError a transaction was mined but failed, or never mined
    │   ├── UndecodableLogError    a log of our events the node garbled           [events]
    │   └── NotSealedError         too few signers sealed on an anchor yet   [chain.sealed]
    ├── TrustMismatchError       a node that is not the chain the consortium trust file describes
    ├── DatabaseUnavailableError the database does not answer                   [db.engine]
    ├── NotFoundError            UnknownDepartment/Dataset/Agreement/CommitmentError [db.queries]
    ├── MerkleError              MerkleInputError, EmptyTreeError, LeafNotInTreeError,
    │                            LeafIndexError                                  [merkle]
    ├── AnchorError              a version that cannot be anchored               [anchoring]
    ├── UnknownBatchError, NotOwnerError  API anchoring batches                  [submissions]
    ├── IndexerError             the index cannot follow the chain               [indexer]
    ├── VerificationError        NotAnchoredError, RootMismatchError, UnknownRootError,
    │                            RevokedVersionError, RecordErasedError, NotConfirmedError,
    │                            BundleFormatError (also an InputError),
    │                            BundleClaimError                                [verify]
    ├── OfflineProofError        a sealed bundle refused offline, with the rule's ``reason``
    │                            code (docs/OFFLINE_PROOFS.md)          [clique, verify.offline]
    ├── CheckpointError          a cosigned checkpoint refused, with the rule's ``reason`` code
    │                            (docs/CHECKPOINTS.md)                             [witness]
    ├── ApiKeyError, InsufficientScopeError  API keys and their scopes           [apikeys]
    └── DemoAlreadyRunError      the demo was played on this deployment already  [demo]

The HTTP API adds RateLimitedError and UploadTooLargeError (``api``). Each error's ``kind``
is the last part of the API's problem ``type`` (``urn:xietong:problem:<kind>``) and of the
CLI's ``--json`` errors.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AlreadyDeployedError",
    "BadHashError",
    "ChainError",
    "ChainUnavailableError",
    "CheckpointError",
    "CompilerError",
    "ConfigurationError",
    "ContractRevertError",
    "DependenciesMissingError",
    "DeploymentError",
    "InputError",
    "KeyFileExposedError",
    "KeyRefusedError",
    "LedgerError",
    "NodeError",
    "NodeStartError",
    "PortInUseError",
    "TransactionFailedError",
    "TrustFileError",
    "TrustMismatchError",
    "WeakKeystoreError",
]


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""

    #: Stable machine-readable kind, used by ``--json`` output and problem JSON.
    kind = "ledger-error"


class InputError(LedgerError):
    """Input from a user or a file is malformed."""

    kind = "bad-input"


class BadHashError(InputError):
    """A hash, root or id is not 32 bytes written as 64 hex digits."""

    kind = "bad-hash"


class ConfigurationError(LedgerError):
    """Settings, keys or manifests cannot be used as given."""

    kind = "configuration"


class KeyRefusedError(ConfigurationError):
    """A signing key is refused in the current mode."""

    kind = "key-refused"


class WeakKeystoreError(KeyRefusedError):
    """A keystore whose password is empty, or whose key derivation costs less than
    eth-account's default (scrypt n=2**18, r=8, p=1; PBKDF2 1,000,000 iterations), refused
    in production: a stolen copy would give up its key to a quick guess. Its ``kind`` is its
    parent's, ``key-refused``."""


class KeyFileExposedError(KeyRefusedError):
    """A keystore or keystore password file that belongs to another user, or whose mode lets
    the group or anyone else read or change it, refused in production. Its ``kind`` is its
    parent's, ``key-refused``."""


class CompilerError(LedgerError):
    """The Solidity compiler is unavailable or compilation failed."""

    kind = "compiler"


class NodeError(LedgerError):
    """Starting, stopping or inspecting the local chain node failed."""

    kind = "node"


class PortInUseError(NodeError):
    """The node's port is already taken."""

    kind = "port-in-use"


class DependenciesMissingError(NodeError):
    """The npm packages of ``hardhat-node/`` are not installed."""

    kind = "dependencies-missing"


class NodeStartError(NodeError):
    """The node exited during start-up or did not answer in time."""

    kind = "node-start"


class DeploymentError(LedgerError):
    """Deploying the contracts or reading the deployment failed."""

    kind = "deployment"


class AlreadyDeployedError(DeploymentError):
    """A live deployment already exists on this chain."""

    kind = "already-deployed"


class ChainError(LedgerError):
    """Talking to the chain failed."""

    kind = "chain"


class ChainUnavailableError(ChainError):
    """The chain node cannot be reached."""

    kind = "node-unavailable"


class ContractRevertError(ChainError):
    """A contract rejected a call or transaction with a (decoded) error.

    Attributes:
        error_name: The Solidity error name, e.g. ``DepartmentRegistryNotOperator``
            (``Error`` for a plain ``revert("…")``, ``Panic`` for a panic, ``Unknown`` when
            the revert data matches no known error).
        error_args: The error's arguments by name.
    """

    kind = "contract-revert"

    def __init__(self, message: str, *, error_name: str, args: dict[str, Any]) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = args


class TransactionFailedError(ChainError):
    """A transaction was mined with a failure status, or not mined in time."""

    kind = "transaction-failed"


class TrustFileError(InputError):
    """A consortium trust file cannot be read, or a member of it is missing or malformed."""

    kind = "bad-trust-file"


class TrustMismatchError(LedgerError):
    """A chain node is not the chain a consortium trust file describes (another chain id,
    genesis block or deployment block, or no contract code at one of its addresses)."""

    kind = "trust-mismatch"


class OfflineProofError(LedgerError):
    """A sealed proof bundle checked offline broke one of the rules of docs/OFFLINE_PROOFS.md;
    ``reason`` is that rule's code (the browser's verifier gives the same)."""

    kind = "offline-refused"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CheckpointError(LedgerError):
    """A cosigned checkpoint broke one of the rules of docs/CHECKPOINTS.md; ``reason`` is that
    rule's code (the browser's verifier gives the same)."""

    kind = "checkpoint-refused"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotSealedError(ChainError):
    """A majority of a Clique network's signers has not sealed on top of an anchor yet: its
    offline proof cannot be made (ledger.chain.sealed)."""

    kind = "not-sealed"
