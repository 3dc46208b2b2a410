"""Deploy the four contracts, wired together, and record the deployment manifest.

The founding departments come from a YAML or JSON file::

    threshold_bps: 6666          # approvals needed: ceil(active × bps / 10000), at least 1
    proposal_lifetime: 604800    # seconds a proposal stays open
    departments:
      - code: "11330100002489567X"   # stable code; the id is keccak256 of it
        name: 杭州市公安局
        operator: "0x…"              # first operator account; "dev:N" = development key N (local only)
    auditors:
      - "0x…"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from eth_account.signers.local import LocalAccount
from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from web3 import Web3

from ..errors import AlreadyDeployedError, DeploymentError, InputError
from ..file_modes import replace_file
from ..ids import department_id
from ..keys import dev_account
from ..names import name_problem
from ..settings import trust_file_beside
from .artifacts import CONTRACT_NAMES, load_artifact
from .client import ChainClient

if TYPE_CHECKING:
    from ..trust import ConsortiumTrust

__all__ = [
    "Deployment",
    "Founder",
    "FoundersFile",
    "deploy",
    "existing_deployment",
    "load_deployment",
    "load_founders",
    "parse_account",
]

_DEV_REF = re.compile(r"^dev:(\d{1,2})$")

#: Founding departments per deployment. The constructor checks and stores each founder (name up
#: to 256 bytes), and 32 of them cost ~15.5M gas of the 16,777,216 a transaction may use
#: (EIP-7825, see docs/GAS.md); further departments join by proposal.
MAX_FOUNDERS = 32


@dataclass(frozen=True)
class Founder:
    """A founding department."""

    code: str
    name: str
    operator: str
    #: The account whose key seals blocks on the department's validator of a consortium
    #: network (ledger.chain.network); None where the founders run no network of their own.
    signer: str | None = None

    @property
    def department_id(self) -> bytes:
        return department_id(self.code)


@dataclass(frozen=True)
class FoundersFile:
    """The bootstrap of a consortium."""

    departments: tuple[Founder, ...]
    auditors: tuple[str, ...]
    threshold_bps: int
    proposal_lifetime: int


def parse_account(value: Any, where: str, *, allow_dev: bool) -> str:
    """An account as a founders file or a command gives it: ``dev:N`` (local mode only) or an
    address with a valid checksum; the checksum address."""
    text = str(value).strip()
    match = _DEV_REF.match(text)
    if match:
        if not allow_dev:
            raise InputError(
                f"{where}: development key references ({text}) are accepted only in local mode."
            )
        return str(dev_account(int(match.group(1))).address)
    if not is_hex_address(text):
        raise InputError(f"{where}: {text!r} is not an account address (0x and 40 hex digits).")
    if text != text.lower() and text[2:] != text[2:].upper() and not is_checksum_address(text):
        raise InputError(f"{where}: {text} has a wrong checksum (mixed case that does not match).")
    return str(to_checksum_address(text))


def load_founders(path: Path, *, allow_dev: bool) -> FoundersFile:
    """Read and check a founders file (YAML or JSON; names are UTF-8)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the founders file {path} ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise InputError(f"the founders file {path} is not UTF-8 text.") from None
    try:
        data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(
            f"the founders file {path} is not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"the founders file {path} must hold a mapping with a `departments` list.")
    departments = data.get("departments")
    if not isinstance(departments, list) or not departments:
        raise InputError(
            f"the founders file {path} must list at least one department under `departments`."
        )
    if len(departments) > MAX_FOUNDERS:
        raise InputError(
            f"the founders file {path} lists {len(departments)} departments; at most {MAX_FOUNDERS} "
            "can be founded in one deployment (admit the others by proposal)."
        )
    founders = []
    seen_codes: set[str] = set()
    seen_accounts: set[str] = set()
    for index, entry in enumerate(departments):
        where = f"{path}: departments[{index}]"
        if not isinstance(entry, dict) or not {"code", "name", "operator"} <= entry.keys():
            raise InputError(f"{where} needs `code`, `name` and `operator`.")
        code, name = str(entry["code"]).strip(), str(entry["name"]).strip()
        if not code:
            raise InputError(f"{where}: the code must not be empty.")
        if not name or len(name.encode("utf-8", "surrogatepass")) > 256:
            raise InputError(f"{where}: the name must be 1 to 256 bytes of UTF-8.")
        # What the registry's constructor would refuse (ledger.names, its Python twin).
        problem = name_problem(name)
        if problem is not None:
            raise InputError(f"{where}: {problem.sentence()}")
        operator = parse_account(entry["operator"], where, allow_dev=allow_dev)
        if code in seen_codes:
            raise InputError(f"{where}: code {code!r} is listed twice.")
        if operator in seen_accounts:
            raise InputError(f"{where}: account {operator} is listed twice.")
        seen_codes.add(code)
        seen_accounts.add(operator)
        signer = None
        if entry.get("signer") is not None:
            signer = parse_account(entry["signer"], f"{where}: signer", allow_dev=allow_dev)
            if signer in seen_accounts:
                raise InputError(f"{where}: account {signer} is listed twice.")
            seen_accounts.add(signer)
        founders.append(Founder(code=code, name=name, operator=operator, signer=signer))
    auditors = []
    for index, value in enumerate(data.get("auditors") or []):
        account = parse_account(value, f"{path}: auditors[{index}]", allow_dev=allow_dev)
        if account in seen_accounts:
            raise InputError(f"{path}: auditors[{index}]: account {account} is listed twice.")
        seen_accounts.add(account)
        auditors.append(account)
    threshold = data.get("threshold_bps", 6666)
    lifetime = data.get("proposal_lifetime", 7 * 24 * 3600)
    if not isinstance(threshold, int) or not 0 < threshold <= 10_000:
        raise InputError(f"{path}: threshold_bps must be an integer from 1 to 10000.")
    if not isinstance(lifetime, int) or lifetime < 3600:
        raise InputError(f"{path}: proposal_lifetime must be an integer of at least 3600 seconds.")
    return FoundersFile(tuple(founders), tuple(auditors), threshold, lifetime)


@dataclass(frozen=True)
class Deployment:
    """A deployment manifest (``deployments/<chain-id>.json``)."""

    chain_id: int
    genesis_hash: str
    block_number: int
    block_hash: str
    deployer: str
    deployed_at: str
    addresses: dict[str, str]
    transactions: dict[str, str]
    artifacts: dict[str, str]
    compiler: str
    departments: list[dict[str, str]]
    auditors: list[str]
    threshold_bps: int
    proposal_lifetime: int
    #: On a Clique network: epoch, period and the genesis signers with their departments
    #: (the trust file's ``clique``, ledger.trust); None on a chain without seals.
    clique: dict[str, Any] | None = None
    #: Who cosigns checkpoints, and how many departments one needs (the trust file's
    #: ``checkpoints``, docs/CHECKPOINTS.md); None in a manifest made before them.
    checkpoints: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "block_number": self.block_number,
            "block_hash": self.block_hash,
            "deployer": self.deployer,
            "deployed_at": self.deployed_at,
            "contracts": {
                name: {
                    "address": self.addresses[name],
                    "transaction": self.transactions[name],
                    "artifact_sha256": self.artifacts[name],
                }
                for name in CONTRACT_NAMES
            },
            "compiler": self.compiler,
            "departments": self.departments,
            "auditors": self.auditors,
            "threshold_bps": self.threshold_bps,
            "proposal_lifetime": self.proposal_lifetime,
            **({} if self.clique is None else {"clique": self.clique}),
            **({} if self.checkpoints is None else {"checkpoints": self.checkpoints}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        contracts = data["contracts"]
        return cls(
            chain_id=int(data["chain_id"]),
            genesis_hash=str(data["genesis_hash"]),
            block_number=int(data["block_number"]),
            block_hash=str(data["block_hash"]),
            deployer=str(data["deployer"]),
            deployed_at=str(data["deployed_at"]),
            addresses={name: str(contracts[name]["address"]) for name in CONTRACT_NAMES},
            transactions={name: str(contracts[name]["transaction"]) for name in CONTRACT_NAMES},
            artifacts={name: str(contracts[name]["artifact_sha256"]) for name in CONTRACT_NAMES},
            compiler=str(data["compiler"]),
            departments=list(data["departments"]),
            auditors=list(data["auditors"]),
            threshold_bps=int(data["threshold_bps"]),
            proposal_lifetime=int(data["proposal_lifetime"]),
            clique=data.get("clique"),
            checkpoints=data.get("checkpoints"),
        )

    def trust(self) -> ConsortiumTrust:
        """The consortium trust file of this deployment (ledger.trust): chain id, genesis
        hash, the DepartmentRegistry's block and its hash, the four addresses."""
        # ledger.trust imports ledger.chain: not at the top
        from ..trust import (
            CheckpointTrust,
            CliqueTrust,
            ConsortiumTrust,
            checkpoints_problem,
            clique_problem,
        )

        clique = None
        if self.clique is not None:
            problem = clique_problem(self.clique)
            if problem is not None:
                raise DeploymentError(f"the deployment manifest's clique: {problem}.")
            clique = CliqueTrust.from_dict(self.clique)
        checkpoints = None
        if self.checkpoints is not None:
            problem = checkpoints_problem(self.checkpoints)
            if problem is not None:
                raise DeploymentError(f"the deployment manifest's checkpoints: {problem}.")
            checkpoints = CheckpointTrust.from_dict(self.checkpoints)
        return ConsortiumTrust(
            chain_id=self.chain_id,
            genesis_hash=self.genesis_hash,
            deployment_block=self.block_number,
            deployment_block_hash=self.block_hash,
            contracts=dict(self.addresses),
            clique=clique,
            checkpoints=checkpoints,
        )

    def write(self, path: Path) -> None:
        """Write the manifest at ``path`` atomically."""
        replace_file(path, json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n")


def load_deployment(path: Path) -> Deployment:
    """Read a manifest; raises DeploymentError when missing or malformed."""
    try:
        return Deployment.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise DeploymentError(
            f"no deployment manifest at {path}: set XIETONG_DEPLOYMENT to your consortium's "
            "manifest, or XIETONG_HOME to the gateway's home (`xietong doctor` shows where it "
            "looks; only the founders of a new consortium run `xietong deploy`, once)."
        ) from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise DeploymentError(f"the deployment manifest {path} is damaged.") from None


def clique_of(w3: Web3, founders: FoundersFile, *, period: int | None) -> dict[str, Any] | None:
    """The trust file's ``clique`` for the chain ``w3`` talks to: its genesis signers, each
    with the founding department that named its key; None on a chain without seals.

    Raises:
        DeploymentError: a Clique chain, but no block period given.
    """
    from .network import CLIQUE_EPOCH  # ledger.chain.network imports this module
    from .sealed import clique_signers

    genesis = clique_signers(w3, 0)
    if genesis is None:
        return None
    if period is None:
        raise DeploymentError("the chain is a Clique network: give its block period.")
    holders = {str(f.signer).lower(): f for f in founders.departments if f.signer}
    signers = []
    for address in sorted(genesis):
        founder = holders.get(address)
        signers.append(
            {
                "address": Web3.to_checksum_address(address),
                "department": None if founder is None else "0x" + founder.department_id.hex(),
                "code": None if founder is None else founder.code,
            }
        )
    return {"epoch": CLIQUE_EPOCH, "period": period, "signers": signers}


def checkpoints_of(founders: FoundersFile) -> dict[str, Any]:
    """The trust file's ``checkpoints``: the founders' operator accounts cosign checkpoints,
    and a majority of the founding departments makes one (docs/CHECKPOINTS.md)."""
    cosigners = sorted(
        (
            {
                "address": Web3.to_checksum_address(f.operator),
                "department": "0x" + f.department_id.hex(),
                "code": f.code,
            }
            for f in founders.departments
        ),
        key=lambda c: c["address"].lower(),
    )
    return {"threshold": len(founders.departments) // 2 + 1, "cosigners": cosigners}


def existing_deployment(w3: Web3, path: Path) -> Deployment | None:
    """The manifest at ``path`` if its contracts are live on this chain, else None."""
    if not path.exists():
        return None
    deployment = load_deployment(path)
    if deployment.chain_id != int(w3.eth.chain_id):
        return None
    for name in CONTRACT_NAMES:
        if not w3.eth.get_code(Web3.to_checksum_address(deployment.addresses[name])):
            return None
    return deployment


def deploy(
    w3: Web3,
    founders: FoundersFile,
    *,
    deployer: LocalAccount,
    manifest_path: Path,
    trust_path: Path | None = None,
    force: bool = False,
    clique_period: int | None = None,
) -> Deployment:
    """Deploy DepartmentRegistry, DatasetRegistry, SharingAgreements and JointCommitments;
    write the manifest at ``manifest_path`` and the consortium trust file at ``trust_path``
    (default: beside the manifest, ``<manifest's stem>.consortium.json``). On a Clique
    network both name the genesis signers and their departments, with ``clique_period``
    (the network's block period).

    Raises:
        AlreadyDeployedError: the manifest names live contracts on this chain (unless ``force``).
    """
    live = existing_deployment(w3, manifest_path)
    if live is not None and not force:
        raise AlreadyDeployedError(
            f"chain {live.chain_id} already has a Xietong deployment (DepartmentRegistry at "
            f"{live.addresses['DepartmentRegistry']}, block {live.block_number}); "
            "pass --force to deploy another one."
        )
    client = ChainClient(w3, {})
    registry = client.deploy(
        "DepartmentRegistry",
        [(f.department_id, f.name, f.operator) for f in founders.departments],
        list(founders.auditors),
        founders.threshold_bps,
        founders.proposal_lifetime,
        sender=deployer,
    )
    registry_address = str(registry.receipt["contractAddress"])
    datasets = client.deploy("DatasetRegistry", registry_address, sender=deployer)
    datasets_address = str(datasets.receipt["contractAddress"])
    agreements = client.deploy(
        "SharingAgreements", registry_address, datasets_address, sender=deployer
    )
    commitments = client.deploy("JointCommitments", registry_address, sender=deployer)
    sent = {
        "DepartmentRegistry": registry,
        "DatasetRegistry": datasets,
        "SharingAgreements": agreements,
        "JointCommitments": commitments,
    }
    block = w3.eth.get_block(registry.block_number)
    genesis = w3.eth.get_block(0)
    deployment = Deployment(
        chain_id=client.chain_id,
        genesis_hash=genesis["hash"].to_0x_hex(),
        block_number=registry.block_number,
        block_hash=block["hash"].to_0x_hex(),
        deployer=deployer.address,
        deployed_at=datetime.fromtimestamp(int(block["timestamp"]), tz=UTC).isoformat(),
        addresses={name: str(tx.receipt["contractAddress"]) for name, tx in sent.items()},
        transactions={name: tx.tx_hash for name, tx in sent.items()},
        artifacts={name: load_artifact(name).sha256 for name in CONTRACT_NAMES},
        compiler=load_artifact("DepartmentRegistry").compiler_version,
        departments=[
            {
                "code": f.code,
                "id": "0x" + f.department_id.hex(),
                "name": f.name,
                "operator": f.operator,
            }
            for f in founders.departments
        ],
        auditors=list(founders.auditors),
        threshold_bps=founders.threshold_bps,
        proposal_lifetime=founders.proposal_lifetime,
        clique=clique_of(w3, founders, period=clique_period),
        checkpoints=checkpoints_of(founders),
    )
    deployment.write(manifest_path)
    deployment.trust().write(trust_path or trust_file_beside(manifest_path))
    return deployment
