"""The consortium trust file: what an outsider needs to recognise the consortium's chain.

A proof bundle names a chain and a contract address, and anyone can deploy look-alike contracts
or run a second chain with the same chain id. The trust file is the anchor a verifier holds
instead: the chain id, the hash of the genesis block (block 0), the block in which the
contracts were deployed and its hash, and the four contracts' addresses. ``xietong deploy``
writes it beside the deployment manifest (``deployments/<chain-id>.consortium.json``), the API
serves it (``GET /v1/consortium``), and :func:`check_node` tells whether a node serves that
chain. Only :func:`check_node` talks to a node; the rest is pure (:func:`load_trust` and
:meth:`ConsortiumTrust.write` read and write one file).

The file (``xietong-consortium/1``) is one JSON object::

    {"format": "xietong-consortium/1", "chain_id": 31337,
     "genesis_hash": "0x…", "deployment_block": 1, "deployment_block_hash": "0x…",
     "contracts": {"DepartmentRegistry": "0x…", "DatasetRegistry": "0x…",
                   "SharingAgreements": "0x…", "JointCommitments": "0x…"}}

Hashes are ``0x`` and 64 lowercase hex digits; addresses are written in their EIP-55
checksummed form; every member is required and no other is allowed, except ``fingerprint``
(as the API answers it), which must then be the fingerprint of the rest, and ``clique``.

**Clique** (a consortium network of geth signers, docs/CONSORTIUM.md): the optional member
``clique`` names what checks a sealed proof bundle offline (docs/OFFLINE_PROOFS.md)::

    "clique": {"epoch": 30000, "period": 2,
               "signers": [{"address": "0x…", "department": "0x…", "code": "HZ-CIVIL"}, …]}

``signers`` is the genesis block's signer set in ascending address order, each with the
department holding the key (``department`` and ``code`` are ``null`` for a key no founder
named). A chain without seals (Hardhat, Anvil) has no ``clique``.

**Checkpoints** (docs/CHECKPOINTS.md): the optional member ``checkpoints`` names the
departments' operator keys that cosign checkpoints of the chain, and how many departments a
checkpoint needs::

    "checkpoints": {"threshold": 2,
                    "cosigners": [{"address": "0x…", "department": "0x…", "code": "HZ-CIVIL"}, …]}

**Fingerprint**, to compare out of band (read aloud, on paper): the SHA-256 of the
canonical JSON text of the object without ``fingerprint`` (keys sorted, no whitespace,
non-ASCII escaped: ``json.dumps(d, sort_keys=True, separators=(",", ":"),
ensure_ascii=True)``), its first 16 bytes as 32 lowercase hex digits in 8 groups of 4 joined
by ``-`` (``3f2a-91c0-…``). With jq and coreutils::

    jq -jcS 'del(.fingerprint)' 31337.consortium.json | sha256sum | cut -c1-32 \\
        | sed 's/..../&-/g; s/-$//'
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import is_hex_address, to_checksum_address
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3RPCError

from .chain.artifacts import CONTRACT_NAMES
from .chain.transport import node_errors
from .errors import ChainError, DeploymentError, TrustFileError, TrustMismatchError
from .file_modes import replace_file
from .hashing import loads_strict

if TYPE_CHECKING:
    from .chain.deploy import Deployment

__all__ = [
    "MAX_TRUST_SIZE",
    "TRUST_FORMAT",
    "CheckpointTrust",
    "CliqueSigner",
    "CliqueTrust",
    "ConsortiumTrust",
    "check_node",
    "checkpoints_problem",
    "clique_problem",
    "deployment_trust",
    "fingerprint_of",
    "load_trust",
]

TRUST_FORMAT = "xietong-consortium/1"
#: Largest trust file read (a real one is about 500 bytes).
MAX_TRUST_SIZE = 64 * 1024
_MAX_DEPTH = 4  # a trust file nests 4 levels (clique.signers[i].address)
#: Integers a trust file may hold: those every JSON reader keeps exact (jq included).
_MAX_INT = 2**53 - 1
_HASH = re.compile(r"0x[0-9a-f]{64}")
_MEMBERS = ("format", "chain_id", "genesis_hash", "deployment_block", "deployment_block_hash")
_OPTIONAL = "fingerprint"
_CLIQUE = "clique"
_CHECKPOINTS = "checkpoints"
_CLIQUE_MEMBERS = ("epoch", "period", "signers")
_SIGNER_MEMBERS = ("address", "department", "code")
#: The most signers a trust file names (a consortium of departments, not a public chain).
MAX_SIGNERS = 64
_NAMES = ", ".join(CONTRACT_NAMES[:-1]) + f" and {CONTRACT_NAMES[-1]}"


def fingerprint_of(document: Mapping[str, Any]) -> str:
    """The fingerprint of a trust file's object (``fingerprint`` member, if any, left out):
    SHA-256 of its canonical JSON text, first 16 bytes as 8 groups of 4 lowercase hex digits
    joined by ``-``."""
    text = json.dumps(
        {k: v for k, v in document.items() if k != _OPTIONAL},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()[:32]
    return "-".join(digest[i : i + 4] for i in range(0, 32, 4))


def _shown(value: Any) -> str:
    """A value from the file for a message: its JSON when short, else only its JSON type."""
    if value is None or isinstance(value, bool | int | float | str):
        text = json.dumps(value)
        if len(text) <= 80:
            return text
    if isinstance(value, str):
        return "a long string"
    if isinstance(value, int | float):
        return "a long number"
    return "an array" if isinstance(value, list) else "an object"


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= _MAX_INT


def _problem(data: Any) -> str | None:
    """The first thing wrong with ``data`` as a trust file's object, as a clause naming the
    member (``None`` when it is a valid one)."""
    if not isinstance(data, dict):
        return f"a trust file is a JSON object, not {_shown(data)}"
    if "format" not in data:
        return f'the `format` member is missing (a consortium trust file has "format": "{TRUST_FORMAT}")'
    if data["format"] != TRUST_FORMAT:
        return (
            f"`format` is {_shown(data['format'])}, which this version cannot read "
            f"(it reads {TRUST_FORMAT})"
        )
    for name in (*_MEMBERS, "contracts"):
        if name not in data:
            return f"the `{name}` member is missing"
    unknown = sorted(set(data) - {*_MEMBERS, "contracts", _OPTIONAL, _CLIQUE, _CHECKPOINTS})
    if unknown:
        return f"the member {_shown(unknown[0])} is unknown"
    if not _is_int(data["chain_id"], 1):
        return f"`chain_id` must be an integer from 1 to {_MAX_INT}, not {_shown(data['chain_id'])}"
    for name in ("genesis_hash", "deployment_block_hash"):
        value = data[name]
        if not isinstance(value, str) or not _HASH.fullmatch(value):
            return f"`{name}` must be 0x and 64 lowercase hex digits, not {_shown(value)}"
    if not _is_int(data["deployment_block"], 0):
        return (
            f"`deployment_block` must be an integer from 0 to {_MAX_INT}, "
            f"not {_shown(data['deployment_block'])}"
        )
    if data["deployment_block"] == 0 and data["deployment_block_hash"] != data["genesis_hash"]:
        return "`deployment_block_hash` must equal `genesis_hash` when `deployment_block` is 0"
    contracts = data["contracts"]
    if not isinstance(contracts, dict):
        return (
            f"`contracts` must be an object of {_NAMES} to their addresses, not {_shown(contracts)}"
        )
    if set(contracts) != set(CONTRACT_NAMES):
        missing = [n for n in CONTRACT_NAMES if n not in contracts]
        extra = sorted(set(contracts) - set(CONTRACT_NAMES))
        which = f"lacks {missing[0]}" if missing else f"has the unknown name {_shown(extra[0])}"
        return f"`contracts` must name exactly {_NAMES}, but it {which}"
    for name in CONTRACT_NAMES:
        address = contracts[name]
        if not isinstance(address, str) or not is_hex_address(address):
            return (
                f"`contracts.{name}` must be an account address (0x and 40 hex digits), "
                f"not {_shown(address)}"
            )
        if address != to_checksum_address(address):
            return (
                f"`contracts.{name}` must be written in its EIP-55 checksummed form, "
                f"{to_checksum_address(address)}"
            )
    if len(set(contracts.values())) != len(CONTRACT_NAMES):
        return "`contracts` gives one address to two contracts"
    if _CLIQUE in data:
        problem = clique_problem(data[_CLIQUE])
        if problem is not None:
            return problem
    if _CHECKPOINTS in data:
        problem = checkpoints_problem(data[_CHECKPOINTS])
        if problem is not None:
            return problem
    if _OPTIONAL in data:
        expected = fingerprint_of(data)
        if data[_OPTIONAL] != expected:
            return (
                f"`fingerprint` is {_shown(data[_OPTIONAL])}, but the other members' "
                f"fingerprint is {expected}"
            )
    return None


def clique_problem(clique: Any) -> str | None:
    """The first thing wrong with a trust file's ``clique`` member, as a clause."""
    if not isinstance(clique, dict):
        return f"`clique` must be an object of epoch, period and signers, not {_shown(clique)}"
    for name in _CLIQUE_MEMBERS:
        if name not in clique:
            return f"the `clique.{name}` member is missing"
    unknown = sorted(set(clique) - set(_CLIQUE_MEMBERS))
    if unknown:
        return f"the member `clique.{unknown[0]}` is unknown"
    if not _is_int(clique["epoch"], 1):
        return (
            f"`clique.epoch` must be an integer from 1 to {_MAX_INT}, not {_shown(clique['epoch'])}"
        )
    if not _is_int(clique["period"], 0):
        return f"`clique.period` must be an integer from 0 to {_MAX_INT}, not {_shown(clique['period'])}"
    return _keys_problem(clique["signers"], "clique.signers", "signer", named=False)


def _keys_problem(keys: Any, name: str, noun: str, *, named: bool) -> str | None:
    """The first thing wrong with a list of keys (``clique.signers``, ``checkpoints.cosigners``):
    1 to :data:`MAX_SIGNERS` objects of address (EIP-55, ascending, each once), department and
    code; ``named``: each names its department, else both may be null."""
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_SIGNERS:
        return f"`{name}` must be a list of 1 to {MAX_SIGNERS} {noun}s"
    null = "" if named else "null or "
    previous = ""
    for i, key in enumerate(keys):
        where = f"`{name}[{i}]`"
        if not isinstance(key, dict) or set(key) != set(_SIGNER_MEMBERS):
            return f"{where} must be an object of exactly address, department and code"
        address = key["address"]
        if not isinstance(address, str) or not is_hex_address(address):
            return f"{where}.address must be an account address, not {_shown(address)}"
        if address != to_checksum_address(address):
            return f"{where}.address must be written in its EIP-55 checksummed form"
        if address.lower() <= previous:
            return f"`{name}` must be in ascending address order, each once"
        previous = address.lower()
        department, code = key["department"], key["code"]
        if (named or department is not None) and (
            not isinstance(department, str) or not _HASH.fullmatch(department)
        ):
            return f"{where}.department must be {null}0x and 64 lowercase hex digits"
        if (named or code is not None) and (not isinstance(code, str) or not 1 <= len(code) <= 64):
            return f"{where}.code must be {null}a department code (1 to 64 characters)"
        if (code is None) != (department is None):
            return f"{where} must give both department and code, or neither"
    return None


def checkpoints_problem(checkpoints: Any) -> str | None:
    """The first thing wrong with a trust file's ``checkpoints`` member, as a clause."""
    if not isinstance(checkpoints, dict) or set(checkpoints) != {"threshold", "cosigners"}:
        return "`checkpoints` must be an object of exactly threshold and cosigners"
    cosigners = checkpoints["cosigners"]
    problem = _keys_problem(cosigners, "checkpoints.cosigners", "cosigner", named=True)
    if problem is not None:
        return problem
    departments = len({c["department"] for c in cosigners})
    threshold = checkpoints["threshold"]
    if not _is_int(threshold, 1) or threshold > departments:
        return (
            f"`checkpoints.threshold` must be an integer from 1 to {departments} (the "
            f"departments named), not {_shown(threshold)}"
        )
    return None


@dataclass(frozen=True)
class CliqueSigner:
    """A signer of the genesis block and the department holding its key (None: no founder
    named the key)."""

    address: str
    department: str | None
    code: str | None


@dataclass(frozen=True)
class CliqueTrust:
    """The Clique parameters and genesis signers of a consortium network."""

    epoch: int
    period: int
    signers: tuple[CliqueSigner, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "period": self.period,
            "signers": [
                {"address": s.address, "department": s.department, "code": s.code}
                for s in self.signers
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CliqueTrust:
        """From a checked ``clique`` member (see :func:`clique_problem`)."""
        return cls(
            epoch=data["epoch"],
            period=data["period"],
            signers=tuple(
                CliqueSigner(s["address"], s["department"], s["code"]) for s in data["signers"]
            ),
        )

    def signer(self, address: str) -> CliqueSigner | None:
        """The genesis signer of ``address`` (any case), None when it is none."""
        return next((s for s in self.signers if s.address.lower() == address.lower()), None)


@dataclass(frozen=True)
class CheckpointTrust:
    """The departments' keys that cosign checkpoints, and how many departments one needs."""

    threshold: int
    cosigners: tuple[CliqueSigner, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "cosigners": [
                {"address": c.address, "department": c.department, "code": c.code}
                for c in self.cosigners
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointTrust:
        """From a checked ``checkpoints`` member (see :func:`checkpoints_problem`)."""
        return cls(
            threshold=data["threshold"],
            cosigners=tuple(
                CliqueSigner(c["address"], c["department"], c["code"]) for c in data["cosigners"]
            ),
        )

    def cosigner(self, address: str) -> CliqueSigner | None:
        """The cosigner holding ``address`` (any case), None when it is none."""
        return next((c for c in self.cosigners if c.address.lower() == address.lower()), None)


@dataclass(frozen=True)
class ConsortiumTrust:
    """What identifies the consortium's chain and contracts (see the module's docstring).

    Every instance is a valid trust file's content: the constructor refuses anything else
    with :class:`TrustFileError`.
    """

    chain_id: int
    genesis_hash: str
    deployment_block: int
    deployment_block_hash: str
    contracts: dict[str, str]
    #: The network's Clique parameters and genesis signers; None for a chain without seals.
    clique: CliqueTrust | None = None
    #: Who cosigns checkpoints of the chain; None for a trust file made before them.
    checkpoints: CheckpointTrust | None = None

    def __post_init__(self) -> None:
        problem = _problem(self._members(self.contracts))
        if problem is not None:
            raise TrustFileError(f"the consortium trust: {problem}.")
        # A copy in deployment order: the caller's dict may change, this one does not.
        object.__setattr__(self, "contracts", {n: self.contracts[n] for n in CONTRACT_NAMES})

    def _members(self, contracts: Any) -> dict[str, Any]:
        return {
            "format": TRUST_FORMAT,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "deployment_block": self.deployment_block,
            "deployment_block_hash": self.deployment_block_hash,
            "contracts": contracts,
            **({} if self.clique is None else {_CLIQUE: self.clique.as_dict()}),
            **({} if self.checkpoints is None else {_CHECKPOINTS: self.checkpoints.as_dict()}),
        }

    def as_dict(self) -> dict[str, Any]:
        """The trust file's object (without the fingerprint)."""
        return self._members(dict(self.contracts))

    @property
    def fingerprint(self) -> str:
        """The short string people compare out of band (:func:`fingerprint_of`)."""
        return fingerprint_of(self.as_dict())

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "the trust file") -> ConsortiumTrust:
        """The trust in ``data`` (a parsed trust file), checked strictly: every member present
        with its type (a boolean is no integer), hashes and addresses well formed, exactly the
        four contracts, a known format, and a ``fingerprint`` (optional) that matches.

        Raises:
            TrustFileError: one sentence naming the member, ``where`` first.
        """
        problem = _problem(data)
        if problem is not None:
            raise TrustFileError(f"{where}: {problem}.")
        return cls(
            chain_id=data["chain_id"],
            genesis_hash=data["genesis_hash"],
            deployment_block=data["deployment_block"],
            deployment_block_hash=data["deployment_block_hash"],
            contracts={name: data["contracts"][name] for name in CONTRACT_NAMES},
            clique=None if _CLIQUE not in data else CliqueTrust.from_dict(data[_CLIQUE]),
            checkpoints=None
            if _CHECKPOINTS not in data
            else CheckpointTrust.from_dict(data[_CHECKPOINTS]),
        )

    def write(self, path: Path) -> None:
        """Write the trust file at ``path`` atomically (a temporary file, then renamed)."""
        replace_file(path, json.dumps(self.as_dict(), indent=2) + "\n")


def load_trust(path: Path) -> ConsortiumTrust:
    """Read and check the trust file at ``path`` (at most :data:`MAX_TRUST_SIZE` bytes, strict
    JSON: no duplicate names, NaN or overflow).

    Raises:
        TrustFileError: the file is missing, unreadable, too large, not JSON, or malformed.
    """
    where = f"the trust file {path}"
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_TRUST_SIZE + 1)  # more is refused unread
    except FileNotFoundError:
        raise TrustFileError(
            f"there is no trust file at {path} (the consortium's founders publish it beside "
            "the deployment manifest)."
        ) from None
    except OSError as exc:
        raise TrustFileError(f"cannot read {where} ({exc.strerror}).") from None
    if len(raw) > MAX_TRUST_SIZE:
        raise TrustFileError(
            f"{where} is larger than {MAX_TRUST_SIZE} bytes; a real one is about 500."
        )
    data = loads_strict(
        raw,
        max_depth=_MAX_DEPTH,
        error=lambda reason: TrustFileError(f"{where} is refused: {reason}."),
    )
    return ConsortiumTrust.from_dict(data, where=where)


def deployment_trust(deployment: Deployment, path: Path) -> ConsortiumTrust:
    """The trust file a gateway serves: the one at ``path``, which must say what its
    deployment manifest says.

    Raises:
        DeploymentError: the file is missing or malformed, or differs from ``deployment``
            (``xietong deploy --reuse`` writes it again from the manifest).
    """
    again = (
        "put the consortium's trust file there (its founders publish it with the manifest; "
        "where the contracts were deployed, `xietong deploy --reuse` writes it again)"
    )
    if not path.exists():
        raise DeploymentError(f"there is no consortium trust file at {path}: {again}.")
    try:
        trust = load_trust(path)
    except TrustFileError:
        raise DeploymentError(
            f"the consortium trust file {path} is damaged (`xietong consortium show` says how): "
            f"{again}."
        ) from None
    try:
        expected = deployment.trust()
    except TrustFileError as exc:
        raise DeploymentError(
            f"the deployment manifest does not describe a consortium: {str(exc).rstrip('.')}."
        ) from None
    if trust != expected:
        raise DeploymentError(
            f"the consortium trust file {path} does not match the deployment manifest: {again}."
        )
    return trust


def _block_hash(w3: Web3, number: int) -> str | None:
    """0x-hex hash of block ``number`` on the node, None when it has no such block."""
    try:
        block = w3.eth.get_block(number)
    except BlockNotFound:
        return None
    return "0x" + bytes(block["hash"]).hex()


def check_node(trust: ConsortiumTrust, w3: Web3) -> None:
    """Check that the node behind ``w3`` serves the chain ``trust`` describes: its chain id,
    its genesis block's hash, the hash of its block ``deployment_block``, and contract code
    at each of the four addresses (in that order; the first difference is reported).

    Raises:
        TrustMismatchError: one sentence saying what differs.
        ChainUnavailableError: the node does not answer.
        ChainError: the node answered a request with an error.
    """
    try:
        with node_errors():
            chain_id = int(w3.eth.chain_id)
            if chain_id != trust.chain_id:
                raise TrustMismatchError(
                    f"the node serves chain {chain_id}, not the consortium's chain "
                    f"{trust.chain_id}."
                )
            genesis = _block_hash(w3, 0)
            if genesis != trust.genesis_hash:
                raise TrustMismatchError(
                    f"the node's genesis block is {genesis}, not the consortium's "
                    f"{trust.genesis_hash}: it is another chain with the same chain id."
                )
            number = trust.deployment_block
            deployed = _block_hash(w3, number)
            if deployed is None:
                raise TrustMismatchError(
                    f"the node has no block {number}, in which the consortium's contracts were "
                    "deployed: it is another chain with the same genesis, or it has not synced "
                    "that far."
                )
            if deployed != trust.deployment_block_hash:
                raise TrustMismatchError(
                    f"the node's block {number} is {deployed}, not the block "
                    f"{trust.deployment_block_hash} in which the consortium's contracts were "
                    "deployed: it is another chain with the same genesis."
                )
            for name in CONTRACT_NAMES:
                address = trust.contracts[name]
                if not w3.eth.get_code(Web3.to_checksum_address(address)):
                    raise TrustMismatchError(
                        f"the node holds no contract code at the consortium's {name} address "
                        f"{address}."
                    )
    except Web3RPCError as exc:
        raise ChainError(
            "the chain node answered a request with an error while it was checked against "
            f"the trust file ({type(exc).__name__})."
        ) from exc
