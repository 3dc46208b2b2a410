"""The gateway's settings: one object, read once from ``XIETONG_*`` variables and ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "trust_file_beside"]


class Settings(BaseSettings):
    """Configuration of a Xietong gateway.

    Build it once at the edge (CLI, API) and pass it in; library code never reads the
    environment itself.
    """

    model_config = SettingsConfigDict(
        env_prefix="XIETONG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["local", "production"] = Field(
        default="production",
        description="`local` accepts the public development keys; anything else refuses them.",
    )
    rpc_url: str = Field(default="http://127.0.0.1:8545", description="JSON-RPC endpoint.")
    database_url: str = Field(default="sqlite:///var/xietong.db", description="SQLAlchemy URL.")
    deployment: Path | None = Field(
        default=None, description="Deployment manifest; default deployments/<chain-id>.json."
    )
    deployments_dir: Path = Field(default=Path("deployments"))
    confirmations: int = Field(default=1, ge=1, description="Blocks (inclusive) before final.")
    keystore: Path | None = Field(default=None, description="Encrypted key of this department.")
    keystore_password: SecretStr | None = None
    keystore_password_file: Path | None = None
    dev_account: int = Field(default=0, ge=0, lt=20, description="Dev key index (local mode).")
    node_engine: Literal["hardhat", "anvil"] = "hardhat"
    node_port: int = Field(default=8545, ge=1, le=65535)
    node_dir: Path = Field(default=Path("var/node"), description="Pid and log files of the node.")
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
    index_max_lag_blocks: int = Field(
        default=20,
        ge=0,
        description="Confirmed blocks the index may miss before `/readyz` fails.",
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

    def deployment_path(self, chain_id: int) -> Path:
        """The manifest path for ``chain_id``."""
        if self.deployment is not None:
            return self.deployment
        return self.deployments_dir / f"{chain_id}.json"

    def trust_path(self, chain_id: int) -> Path:
        """The consortium trust file for ``chain_id``, beside its manifest
        (``deployments/<chain-id>.consortium.json``; see :func:`trust_file_beside`)."""
        return trust_file_beside(self.deployment_path(chain_id))


def trust_file_beside(manifest: Path) -> Path:
    """Where ``xietong deploy`` writes the consortium trust file of the deployment whose
    manifest is ``manifest``: beside it, ``<manifest's stem>.consortium.json``."""
    return manifest.with_name(f"{manifest.stem}.consortium.json")
