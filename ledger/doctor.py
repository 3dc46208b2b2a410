"""``xietong doctor``: where the gateway's state is, and whether its node, deployment
manifest, trust file, database and key agree.

Each check gives a :class:`Finding` (``ok``, ``warning``, ``failed`` or ``skipped`` when an
earlier failure leaves nothing to check). Nothing is created or changed: a SQLite database
that does not exist yet is reported, not made; the keystore is decrypted only to name its
account. No secret is reported (a database URL's password is masked, a key never shown).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import create_engine, inspect
from sqlmodel import Session

from .chain.client import ChainClient, connect
from .chain.deploy import Deployment, load_deployment
from .chain.node import NodeSpec, running_pid
from .chain.reads import named_department
from .db.engine import create_db_engine, database_errors
from .db.queries import indexed_chain
from .db.urls import masked_url, sqlite_file
from .display import display_name
from .errors import LedgerError
from .keys import load_signer
from .settings import Settings
from .trust import check_node, deployment_trust

__all__ = ["Diagnosis", "Finding", "diagnose"]

State = Literal["ok", "warning", "failed", "skipped"]

#: Seconds the doctor waits for the node: a configuration check, not a long call.
_PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Finding:
    """One check: what was checked, how it went, and one sentence saying why."""

    subject: str
    state: State
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "state": self.state, "detail": self.detail}


@dataclass
class Diagnosis:
    """Where everything is, and each check's finding."""

    paths: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(f.state != "failed" for f in self.findings)

    def add(self, subject: str, state: State, detail: str) -> None:
        self.findings.append(Finding(subject, state, detail))

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.ok,
            "paths": self.paths,
            "checks": [f.as_dict() for f in self.findings],
        }


@dataclass
class _Chain:
    """What the node said once, passed to the checks that need it."""

    client: ChainClient
    chain_id: int
    head: int


def diagnose(settings: Settings) -> Diagnosis:
    """Every check, in order: home, node, deployment, trust file, database, key."""
    home_file = settings.home / ".env"
    diagnosis = Diagnosis(
        paths={
            "home": str(settings.home),
            "home_from": settings.home_source,
            "env_file": str(home_file),
            "env_file_present": home_file.is_file(),
            "rpc_url": settings.rpc_url,
            "deployments_dir": str(settings.deployments_dir),
            "deployment": str(settings.deployment) if settings.deployment else None,
            "database_url": masked_url(settings.database_url),
            "node_dir": str(settings.node_dir),
            "keystore": str(settings.keystore) if settings.keystore else None,
            "env": settings.env,
        }
    )
    _home(diagnosis, settings.home)
    chain = _node(diagnosis, settings)
    deployment = _deployment(diagnosis, settings, chain)
    _trust(diagnosis, settings, deployment)
    _database(diagnosis, settings, chain, deployment)
    _key(diagnosis, settings, chain, deployment)
    return diagnosis


def _home(diagnosis: Diagnosis, home: Path) -> None:
    if not home.exists():
        diagnosis.add("home", "warning", f"{home} does not exist yet; it is made at first use.")
    elif not home.is_dir():
        diagnosis.add("home", "failed", f"{home} is not a folder.")
    elif not os.access(home, os.W_OK | os.X_OK):
        diagnosis.add("home", "failed", f"{home} is not writable by this user.")
    else:
        diagnosis.add("home", "ok", f"{home} ({diagnosis.paths['home_from']}).")


def _node(diagnosis: Diagnosis, settings: Settings) -> _Chain | None:
    pid = running_pid(
        NodeSpec(engine=settings.node_engine, port=settings.node_port, state_dir=settings.node_dir)
    )
    started = (
        f"; the local {settings.node_engine} node of this home runs (pid {pid})" if pid else ""
    )
    try:
        client = ChainClient(connect(settings.rpc_url, timeout=_PROBE_TIMEOUT), {})
        chain = _Chain(client, client.chain_id, client.block_number())
    except (LedgerError, OSError, ValueError) as exc:
        diagnosis.add("node", "failed", f"{_sentence(exc).rstrip('.')}{started}.")
        return None
    diagnosis.paths["chain_id"] = chain.chain_id
    diagnosis.add(
        "node",
        "ok",
        f"{settings.rpc_url} answers: chain {chain.chain_id}, block {chain.head}{started}.",
    )
    return chain


def _deployment(
    diagnosis: Diagnosis, settings: Settings, chain: _Chain | None
) -> Deployment | None:
    if chain is None:
        diagnosis.add("deployment", "skipped", "no node to read the chain id from.")
        return None
    path = settings.deployment_path(chain.chain_id)
    diagnosis.paths["deployment"] = str(path)
    try:
        manifest = load_deployment(path)
    except LedgerError as exc:
        diagnosis.add("deployment", "failed", _sentence(exc))
        return None
    try:
        # The node must be the manifest's very chain (genesis, deployment block, code at each
        # address), not only one with the same id and code at the same addresses.
        check_node(manifest.trust(), chain.client.w3)
    except LedgerError as exc:
        diagnosis.add(
            "deployment", "failed", f"the manifest {path} is not the node's: {_sentence(exc)}"
        )
        return None
    diagnosis.add(
        "deployment",
        "ok",
        f"{path}: the node serves its chain (contracts deployed at block {manifest.block_number}).",
    )
    return manifest


def _trust(diagnosis: Diagnosis, settings: Settings, deployment: Deployment | None) -> None:
    if deployment is None:
        diagnosis.add("trust file", "skipped", "no deployment to compare it with.")
        return
    path = settings.trust_path(deployment.chain_id)
    diagnosis.paths["trust_file"] = str(path)
    try:
        trust = deployment_trust(deployment, path)
    except LedgerError as exc:
        diagnosis.add("trust file", "failed", _sentence(exc))
        return
    diagnosis.add(
        "trust file", "ok", f"{path} matches the manifest (fingerprint {trust.fingerprint})."
    )


def _database(
    diagnosis: Diagnosis, settings: Settings, chain: _Chain | None, deployment: Deployment | None
) -> None:
    sqlite = sqlite_file(settings.database_url)
    if sqlite is not None and not sqlite.exists():
        diagnosis.add(
            "database",
            "warning",
            f"{sqlite} does not exist yet: the first command that needs it makes it "
            "(`xietong index` fills it from the chain).",
        )
        return
    # Read only: a SQLite file is opened read-only, with no pragma (nothing of it changes).
    engine = (
        create_engine(f"sqlite:///file:{sqlite}?mode=ro&uri=true", hide_parameters=True)
        if sqlite is not None
        else create_db_engine(settings.database_url, create_tables=False)
    )
    try:
        with database_errors():
            if not inspect(engine).has_table("indexer_checkpoint"):
                diagnosis.add(
                    "database",
                    "failed",
                    f"{masked_url(settings.database_url)} holds no Xietong index (no "
                    "indexer_checkpoint table): another program's database?",
                )
                return
            with Session(engine) as session:
                indexed = indexed_chain(session=session)
    except LedgerError as exc:
        diagnosis.add("database", "failed", _sentence(exc))
        return
    except Exception as exc:  # a database of another program, or an older schema
        diagnosis.add(
            "database",
            "failed",
            f"{masked_url(settings.database_url)} cannot be read as a Xietong database "
            f"({type(exc).__name__}).",
        )
        return
    finally:
        engine.dispose()
    if indexed is None:
        diagnosis.add(
            "database", "warning", "answers, but nothing is indexed yet (`xietong index`)."
        )
        return
    chain_id, registry, block, block_hash = indexed
    if deployment is None:
        diagnosis.add(
            "database",
            "warning",
            f"indexes chain {chain_id} at {registry} (not compared: no deployment).",
        )
        return
    if (chain_id, registry.lower()) != (
        deployment.chain_id,
        deployment.addresses["DepartmentRegistry"].lower(),
    ):
        diagnosis.add(
            "database",
            "failed",
            f"it indexes chain {chain_id} at {registry}, not the deployment's chain "
            f"{deployment.chain_id} at {deployment.addresses['DepartmentRegistry']}: this "
            "gateway would answer from another consortium's index.",
        )
        return
    assert chain is not None  # a deployment was checked against the node
    if block > chain.head:
        diagnosis.add(
            "database",
            "warning",
            f"indexes chain {chain_id} up to block {block}, past the node's head {chain.head} "
            "(a node still syncing, or one started again empty).",
        )
        return
    if chain.client.w3.eth.get_block(block)["hash"].to_0x_hex() != block_hash:
        diagnosis.add(
            "database",
            "warning",
            f"its block {block} is not the node's (a reorganisation the next `xietong index` "
            "follows, or a chain started again: then `xietong reindex`).",
        )
        return
    lag = chain.head - block
    behind = f", {lag} blocks behind the node's head" if lag else ", at the node's head"
    diagnosis.add("database", "ok", f"indexes chain {chain_id} up to block {block}{behind}.")


def _key(
    diagnosis: Diagnosis, settings: Settings, chain: _Chain | None, deployment: Deployment | None
) -> None:
    if settings.keystore is None and settings.env != "local":
        diagnosis.add(
            "key",
            "warning",
            "no XIETONG_KEYSTORE: this gateway can verify, index and serve, but not sign.",
        )
        return
    try:
        account = load_signer(settings)
    except LedgerError as exc:
        diagnosis.add("key", "failed", _sentence(exc))
        return
    diagnosis.paths["signer"] = account.address
    if chain is None or deployment is None:
        diagnosis.add("key", "ok", f"signs as {account.address} (operator not checked).")
        return
    client = ChainClient(chain.client.w3, deployment.addresses)
    try:
        department_id = bytes(client.call("DepartmentRegistry", "departmentOf", account.address))
        if not any(department_id):
            diagnosis.add(
                "key",
                "warning",
                f"{account.address} operates no department: it can read, not anchor or sign.",
            )
            return
        department = named_department(client, department_id)
        active = bool(client.call("DepartmentRegistry", "isActive", department_id))
    except LedgerError as exc:
        diagnosis.add("key", "failed", _sentence(exc))
        return
    diagnosis.paths["department"] = department
    # A member's text: shown escaped, with its id when it has anything to be warned of.
    name = display_name(department["name"], department["name_flags"], department["id"])
    if active:
        diagnosis.add("key", "ok", f"signs as {account.address}, operator of {name}.")
    else:
        diagnosis.add(
            "key",
            "warning",
            f"signs as {account.address}, operator of {name}, which is suspended: it cannot "
            "anchor or sign.",
        )


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if text.endswith(".") else text + "."
