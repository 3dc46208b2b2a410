"""The gateway's settings: one object, read once from ``XIETONG_*`` variables and ``.env``."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from ._urls import is_loopback
from .db.urls import sqlite_file
from .errors import InputError
from .home import HomeSource, find_home, under_home
from .localtime import BEIJING, time_zone

__all__ = ["Network", "Settings", "parse_networks", "trust_file_beside"]


class Settings(BaseSettings):
    """Configuration of a Xietong gateway.

    Build it once at the edge (CLI, API) and pass it in; library code never reads the
    environment itself. The ``.env`` read is the home's (:mod:`ledger.home`), never the current
    folder's, and every relative path is made absolute inside the home, so a command finds the
    same state from any folder.
    """

    model_config = SettingsConfigDict(
        env_prefix="XIETONG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    def __init__(self, **values: Any) -> None:
        # The home is found once (ledger/home.py: XIETONG_HOME, the checkout, the user's data
        # folder), never read again from the environment by field: its .env is the one read.
        if values.get("home") is None:
            found = find_home()
            values["home"], source = found.path, found.source
        else:
            values["home"], source = Path(values["home"]).expanduser().absolute(), "settings"
        values.setdefault("_env_file", values["home"] / ".env")
        super().__init__(**values)
        self._home_source = source

    home: Path = Field(
        description="The gateway's state folder (ledger/home.py); relative paths are inside it."
    )
    _home_source: HomeSource = PrivateAttr(default="settings")

    @property
    def home_source(self) -> HomeSource:
        """How the home was found: ``XIETONG_HOME``, ``checkout``, ``user data``, or
        ``settings`` (given in code)."""
        return self._home_source

    env: Literal["local", "production"] = Field(
        default="production",
        description="`local` accepts the public development keys; anything else refuses them.",
    )
    rpc_url: str = Field(default="http://127.0.0.1:8545", description="JSON-RPC endpoint.")
    rpc_fallback_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Comma-separated JSON-RPC endpoints of other nodes of the same chain (other "
            "departments' validators), read in order while `rpc_url` does not answer."
        ),
    )
    database_url: str = Field(default="sqlite:///var/xietong.db", description="SQLAlchemy URL.")
    deployment: Path | None = Field(
        default=None, description="Deployment manifest; default deployments/<chain-id>.json."
    )
    deployments_dir: Path = Field(default=Path("deployments"))
    confirmations: int = Field(default=1, ge=1, description="Blocks (inclusive) before final.")
    timezone: str = Field(
        default=BEIJING, description="IANA time zone of the times the portal shows (UTC on hover)."
    )
    keystore: Path | None = Field(default=None, description="Encrypted key of this department.")
    keystore_password: SecretStr | None = None
    keystore_password_file: Path | None = None
    dev_account: int = Field(default=0, ge=0, lt=20, description="Dev key index (local mode).")
    node_engine: Literal["hardhat", "anvil"] = "hardhat"
    node_port: int = Field(default=8545, ge=1, le=65535)
    node_dir: Path = Field(default=Path("var/node"), description="Pid and log files of the node.")
    network_dir: Path = Field(
        default=Path("var/network"),
        description="The local consortium network: one geth Clique validator per department.",
    )
    subject_keys: Path = Field(
        default=Path("var/subject-keys.json"),
        description="The department's subject key store: each data subject's salts under a "
        "key of its own (`dataset anchor --subject-column`, `dataset erase --subject`).",
    )
    geth: Path | None = Field(
        default=None,
        description="The geth binary of the network; default: the one `make geth` built.",
    )
    network_period: int = Field(default=2, ge=1, le=60, description="Seconds between blocks.")
    network_first_host: str = Field(
        default="127.0.0.2",
        description="Loopback address of the network's first validator; the next ones follow.",
    )
    network_rpc_port: int = Field(default=8545, ge=1, le=65535)
    network_p2p_port: int = Field(default=30303, ge=1, le=65535)
    network_authrpc_port: int = Field(default=8551, ge=1, le=65535)
    tx_timeout: float = Field(default=120.0, gt=0, description="Seconds to wait for a receipt.")
    rpc_timeout: float = Field(
        default=10.0, gt=0, description="Seconds one JSON-RPC request may take before it fails."
    )

    # HTTP API and portal (`xietong serve`)
    api_host: str = Field(default="127.0.0.1", description="Address `serve` binds.")
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_open_reads: bool = Field(
        default=False, description="Serve read routes without an API key (public verification)."
    )
    api_rate_limit: float = Field(
        default=200.0, ge=0, description="Requests per second per API key (0: unlimited)."
    )
    api_rate_burst: int = Field(default=400, ge=1, description="Requests allowed in a burst.")
    api_max_upload: int = Field(
        default=256 * 1024 * 1024,
        ge=1,
        description="Largest file accepted by POST /v1/verify/file.",
    )
    anchor_batch_size: int = Field(
        default=1_000, ge=1, description="Submitted hashes that seal a batch at once."
    )
    anchor_batch_seconds: float = Field(
        default=5.0, ge=0, description="Seconds after which a batch is sealed anyway."
    )
    index_interval: float = Field(
        default=1.0, gt=0, description="Seconds between the indexer's passes under `serve`."
    )
    webhook_interval: float = Field(
        default=2.0, gt=0, description="Seconds between the webhook passes under `serve`."
    )
    webhook_retry_base: float = Field(
        default=5.0,
        ge=0,
        description="Seconds before a failed webhook's second attempt; each next wait is 4 "
        "times longer, at most 10 hours.",
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=100, description="Attempts before a webhook is dead (a dead letter)."
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds a receiver has to answer a webhook."
    )
    checkpoint_interval: int = Field(
        default=16,
        ge=1,
        le=1_000_000,
        description="Blocks between the checkpoints a gateway cosigns (docs/CHECKPOINTS.md): "
        "every block number that is a multiple of it.",
    )
    checkpoint_poll: float = Field(
        default=10.0, gt=0, description="Seconds between the checkpoint passes under `serve`."
    )
    checkpoint_peers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated base URLs of the other departments' gateways whose "
        "checkpoint signatures this gateway collects.",
    )
    index_max_lag_blocks: int = Field(
        default=20,
        ge=0,
        description="Confirmed blocks the index may miss before `/readyz` fails.",
    )
    chain_max_head_age_seconds: float = Field(
        default=0,
        ge=0,
        description=(
            "Seconds the chain's head block may be old before `/readyz` says the chain has "
            "stopped (`chain-halted`); 0: not judged (a development node seals only on demand). "
            "On a consortium network, a few block periods (docs/CONSORTIUM.md)."
        ),
    )
    index_max_lag_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Seconds the index may go without catching up with the chain before `/readyz` "
            "fails; also the oldest index that may answer an authorization check when the "
            "node cannot be asked."
        ),
    )

    # Request bodies and slow clients under `xietong serve` (api/_guard.py, api/_protocol.py)
    api_max_body: int = Field(
        default=1024 * 1024,
        ge=1,
        description="Largest request body of any route but the file upload (413 beyond it).",
    )
    api_body_timeout: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds a request body may pause between two pieces; a body other than a file "
            "upload must also arrive whole within this time (408 otherwise)."
        ),
    )
    api_header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a connection has to send a complete request head (408, closed).",
    )
    api_keep_alive: int = Field(
        default=5, ge=1, description="Seconds an idle keep-alive connection stays open."
    )
    api_max_connections: int = Field(
        default=1000,
        ge=1,
        description="Connections (or requests in progress) per worker beyond which requests get 503.",
    )

    # /metrics: who may read it, on which address, how old its chain and index numbers may be
    metrics_scope: Literal["none", "read", "anchor", "admin"] = Field(
        default="read",
        description="API key scope `/metrics` needs (`none`: anyone who reaches the port).",
    )
    metrics_address: str | None = Field(
        default=None,
        pattern=(
            r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):"
            r"(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})$"
        ),
        description="host:port serving the metrics, without a key, instead of `/metrics`.",
    )
    metrics_refresh_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Seconds the chain head and index block the metrics show may be old.",
    )

    def metrics_listen(self) -> tuple[str, int] | None:
        """``metrics_address`` as (host, port), an IPv6 host without its brackets."""
        if self.metrics_address is None:
            return None
        host, _, port = self.metrics_address.rpartition(":")
        return host.removeprefix("[").removesuffix("]"), int(port)

    # Failed authentication and portal sessions (issue 13: guessing keys, portal sessions)
    api_auth_failures_per_minute: float = Field(
        default=30.0,
        ge=0,
        description="Failed authentications per minute per client address (0: unlimited).",
    )
    api_auth_failures_burst: int = Field(
        default=30, ge=1, description="Failed authentications a client address may burst."
    )
    trusted_proxies: str = Field(
        default="",
        pattern=r"^[0-9A-Fa-f:.,/ ]*$",
        description="Comma-separated proxy IPs/CIDRs whose X-Forwarded-For/-Proto count.",
    )

    @field_validator("timezone")
    @classmethod
    def _a_known_zone(cls, value: str) -> str:
        """A zone of the IANA database, checked when the settings load."""
        try:
            time_zone(value)
        except InputError as exc:
            raise ValueError(str(exc).rstrip(".")) from None
        return value

    @field_validator("rpc_fallback_urls", mode="before")
    @classmethod
    def _fallbacks_from_a_list(cls, value: Any) -> Any:
        """``XIETONG_RPC_FALLBACK_URLS`` is comma-separated (blank entries ignored)."""
        if isinstance(value, str):
            return [entry.strip() for entry in value.split(",") if entry.strip()]
        return value

    @field_validator("rpc_fallback_urls")
    @classmethod
    def _fallbacks_are_other_http_urls(cls, value: list[str], info: ValidationInfo) -> list[str]:
        """Every fallback an http(s) URL with a host, named once and not ``rpc_url`` again,
        checked when the settings load."""
        primary = info.data.get("rpc_url")
        for at, url in enumerate(value):
            parts = urlsplit(url)
            # Named without its user, password, path or query, where a provider's key may be.
            shown = repr(
                f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else url
            )
            try:
                parts.port  # noqa: B018 - raises ValueError for a port that is not one
            except ValueError:
                raise ValueError(f"{shown} has no valid port") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{shown} is not an http:// or https:// URL with a host")
            if url == primary:
                raise ValueError(f"{shown} is XIETONG_RPC_URL itself, not another node")
            if url in value[:at]:
                raise ValueError(f"{shown} is named twice")
        return value

    @field_validator("checkpoint_peers", mode="before")
    @classmethod
    def _peers_from_a_list(cls, value: Any) -> Any:
        """``XIETONG_CHECKPOINT_PEERS`` is comma-separated (blank entries ignored)."""
        if isinstance(value, str):
            return [entry.strip().rstrip("/") for entry in value.split(",") if entry.strip()]
        return value

    @field_validator("checkpoint_peers")
    @classmethod
    def _peers_are_gateways(cls, value: list[str], info: ValidationInfo) -> list[str]:
        """Every peer an https URL with a host (http to loopback, or anywhere in local mode),
        no user or password, named once: checked when the settings load."""
        local = info.data.get("env") == "local"
        for at, url in enumerate(value):
            parts = urlsplit(url)
            shown = repr(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")
            try:
                parts.port  # noqa: B018 - raises ValueError for a port that is not one
            except ValueError:
                raise ValueError(f"the checkpoint peer {shown} has no valid port") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"the checkpoint peer {url[:80]!r} is not an http(s) URL")
            if parts.username is not None or parts.password is not None:
                raise ValueError(f"the checkpoint peer {shown} has a user or password in it")
            if parts.query or parts.fragment:
                raise ValueError(f"the checkpoint peer {shown} has a query or fragment")
            if parts.scheme == "http" and not local and not is_loopback(parts.hostname):
                raise ValueError(
                    f"the checkpoint peer {shown} is plain http to another host: use https"
                )
            if url in value[:at]:
                raise ValueError(f"the checkpoint peer {shown} is named twice")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        """Every entry an IP or CIDR network, checked when the settings load (not at the first
        request that needs a client's address)."""
        parse_networks(value)
        return value

    portal_session_idle_seconds: int = Field(
        default=1800, ge=1, description="Seconds a portal session lives without a request."
    )
    portal_session_max_seconds: int = Field(
        default=8 * 3600, ge=1, description="Seconds a portal session lives at most."
    )
    # Verification answers kept per API process (GET /v1/verify), valid while the index's
    # checkpoint, the chain's head and its time stay where they were.
    api_answer_cache_mib: int = Field(
        default=64, ge=0, description="MiB of verification answers kept per process (0: off)."
    )

    @model_validator(mode="after")
    def _paths_inside_home(self) -> Settings:
        """Every relative path (and a relative SQLite database) made absolute in the home."""
        self.deployments_dir = under_home(self.home, self.deployments_dir)
        self.node_dir = under_home(self.home, self.node_dir)
        self.network_dir = under_home(self.home, self.network_dir)
        self.subject_keys = under_home(self.home, self.subject_keys)
        for name in ("deployment", "keystore", "keystore_password_file"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, under_home(self.home, value))
        self.database_url = _sqlite_inside(self.home, self.database_url)
        return self

    def deployment_path(self, chain_id: int) -> Path:
        """The manifest path for ``chain_id``."""
        if self.deployment is not None:
            return self.deployment
        return self.deployments_dir / f"{chain_id}.json"

    def trust_path(self, chain_id: int) -> Path:
        """The consortium trust file for ``chain_id``, beside its manifest
        (``deployments/<chain-id>.consortium.json``; see :func:`trust_file_beside`)."""
        return trust_file_beside(self.deployment_path(chain_id))


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """The networks of a comma-separated list of IPs or CIDRs (``XIETONG_TRUSTED_PROXIES``);
    ValueError naming the first entry that is neither."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def _sqlite_inside(home: Path, url: str) -> str:
    """``url`` with a relative SQLite database file made absolute inside ``home``; any other
    URL (PostgreSQL, an absolute or in-memory SQLite, one that does not parse) as it is."""
    database = sqlite_file(url)
    if database is None or database.is_absolute():
        return url
    return (
        make_url(url)
        .set(database=str(under_home(home, database)))
        .render_as_string(hide_password=False)
    )


def trust_file_beside(manifest: Path) -> Path:
    """Where ``xietong deploy`` writes the consortium trust file of the deployment whose
    manifest is ``manifest``: beside it, ``<manifest's stem>.consortium.json``."""
    return manifest.with_name(f"{manifest.stem}.consortium.json")
