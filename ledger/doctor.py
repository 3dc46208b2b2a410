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

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session
from web3 import Web3

from .chain.client import ChainClient, connect
from .chain.deploy import Deployment, existing_deployment, load_deployment
from .chain.node import NodeSpec, node_status
from .chain.reads import read_department_name
from .db.engine import create_db_engine
from .db.queries import indexed_chain
from .errors import LedgerError
from .home import find_home
from .keys import check_keystore, load_signer
from .settings import Settings
from .trust import deployment_trust

__all__ = ["Diagnosis", "Finding", "diagnose", "masked_url"]

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


def masked_url(url: str) -> str:
    """A database URL fit to show: its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return None if parsed.database == ":memory:" else Path(parsed.database)


def diagnose(settings: Settings) -> Diagnosis:
    """Every check, in order: home, node, deployment, trust file, database, key."""
    home = find_home()
    source = home.source if home.path == settings.home else "settings"
    diagnosis = Diagnosis(
        paths={
            "home": str(settings.home),
            "home_from": source,
            "env_file": str(settings.home / ".env"),
            "env_file_present": (settings.home / ".env").is_file(),
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
    w3 = _node(diagnosis, settings)
    deployment = _deployment(diagnosis, settings, w3)
    _trust(diagnosis, settings, deployment)
    _database(diagnosis, settings, w3, deployment)
    _key(diagnosis, settings, w3, deployment)
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


def _node(diagnosis: Diagnosis, settings: Settings) -> Web3 | None:
    local = node_status(
        NodeSpec(engine=settings.node_engine, port=settings.node_port, state_dir=settings.node_dir)
    )
    started = (
        f"; the local {settings.node_engine} node of this home runs (pid {local.pid})"
        if local.running
        else ""
    )
    try:
        w3 = connect(settings.rpc_url, timeout=_PROBE_TIMEOUT)
        chain_id, head = int(w3.eth.chain_id), int(w3.eth.block_number)
    except (LedgerError, OSError, ValueError) as exc:
        diagnosis.add("node", "failed", f"{_sentence(exc)}{started}".rstrip(".") + ".")
        return None
    diagnosis.paths["chain_id"] = chain_id
    diagnosis.add(
        "node", "ok", f"{settings.rpc_url} answers: chain {chain_id}, block {head}{started}."
    )
    return w3


def _deployment(diagnosis: Diagnosis, settings: Settings, w3: Web3 | None) -> Deployment | None:
    if w3 is None:
        diagnosis.add("deployment", "skipped", "no node to read the chain id from.")
        return None
    path = settings.deployment_path(int(w3.eth.chain_id))
    diagnosis.paths["deployment"] = str(path)
    try:
        manifest = load_deployment(path)
    except LedgerError as exc:
        diagnosis.add("deployment", "failed", _sentence(exc))
        return None
    if existing_deployment(w3, path) is None:
        diagnosis.add(
            "deployment",
            "failed",
            f"the manifest {path} names contracts this node's chain does not have "
            f"(DepartmentRegistry {manifest.addresses['DepartmentRegistry']}): the node is "
            "another chain, or was restarted empty.",
        )
        return None
    diagnosis.add(
        "deployment",
        "ok",
        f"{path}: the contracts are on this chain (deployed at block {manifest.block_number}).",
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
    diagnosis: Diagnosis, settings: Settings, w3: Web3 | None, deployment: Deployment | None
) -> None:
    sqlite = _sqlite_file(settings.database_url)
    if sqlite is not None and not sqlite.exists():
        diagnosis.add(
            "database",
            "warning",
            f"{sqlite} does not exist yet: the first command that needs it makes it "
            "(`xietong index` fills it from the chain).",
        )
        return
    try:
        engine = create_db_engine(settings.database_url, create_tables=False)
        try:
            with Session(engine) as session:
                indexed = indexed_chain(session=session)
        finally:
            engine.dispose()
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
    if indexed is None:
        diagnosis.add(
            "database", "warning", "answers, but nothing is indexed yet (`xietong index`)."
        )
        return
    chain_id, registry, block = indexed
    if deployment is not None and (
        chain_id != deployment.chain_id
        or registry.lower() != deployment.addresses["DepartmentRegistry"].lower()
    ):
        diagnosis.add(
            "database",
            "failed",
            f"it indexes chain {chain_id} at {registry}, not the deployment's chain "
            f"{deployment.chain_id} at {deployment.addresses['DepartmentRegistry']}: this "
            "gateway would answer from another consortium's index.",
        )
        return
    behind = ""
    if w3 is not None and deployment is not None:
        lag = max(0, int(w3.eth.block_number) - block)
        behind = f", {lag} blocks behind the node's head" if lag else ", at the node's head"
    diagnosis.add("database", "ok", f"indexes chain {chain_id} up to block {block}{behind}.")


def _key(
    diagnosis: Diagnosis, settings: Settings, w3: Web3 | None, deployment: Deployment | None
) -> None:
    if settings.keystore is None and settings.env != "local":
        diagnosis.add(
            "key",
            "warning",
            "no XIETONG_KEYSTORE: this gateway can verify, index and serve, but not sign.",
        )
        return
    try:
        check_keystore(settings)
        account = load_signer(settings)
    except LedgerError as exc:
        diagnosis.add("key", "failed", _sentence(exc))
        return
    diagnosis.paths["signer"] = account.address
    if w3 is None or deployment is None:
        diagnosis.add("key", "ok", f"signs as {account.address} (operator not checked).")
        return
    client = ChainClient(w3, deployment.addresses)
    try:
        department_id = bytes(client.call("DepartmentRegistry", "departmentOf", account.address))
        raw_name = read_department_name(client, department_id) if any(department_id) else None
        active = bool(client.call("DepartmentRegistry", "isActive", department_id))
    except LedgerError as exc:
        diagnosis.add("key", "failed", _sentence(exc))
        return
    if raw_name is None:
        diagnosis.add(
            "key",
            "warning",
            f"{account.address} operates no department: it can read, not anchor or sign.",
        )
        return
    name = raw_name.decode("utf-8", errors="replace")  # a member's text: shown, never trusted
    diagnosis.paths["department"] = {"id": "0x" + department_id.hex(), "name": name}
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
