"""The gateway's settings: one object, read once from ``XIETONG_*`` variables and ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


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

    def deployment_path(self, chain_id: int) -> Path:
        """The manifest path for ``chain_id``."""
        if self.deployment is not None:
            return self.deployment
        return self.deployments_dir / f"{chain_id}.json"
