"""The compiled contracts committed under ``ledger/artifacts/`` (ABI, bytecode, compiler)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import CompilerError
from ..paths import ARTIFACTS_DIR

__all__ = ["CONTRACT_NAMES", "Artifact", "load_artifact", "load_artifacts"]

#: Deployable contracts, in deployment order.
CONTRACT_NAMES = ("DepartmentRegistry", "DatasetRegistry", "SharingAgreements", "JointCommitments")


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    sha256: str


@cache
def load_artifact(name: str) -> Artifact:
    """Load the committed artifact of contract ``name``."""
    path = ARTIFACTS_DIR / f"{name}.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CompilerError(f"no compiled artifact for {name}: run `make artifacts`") from None
    data = json.loads(raw)
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler_version=data["compiler"]["version"],
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def load_artifacts() -> dict[str, Artifact]:
    """All deployable artifacts by name."""
    return {name: load_artifact(name) for name in CONTRACT_NAMES}
