"""Compile ``contracts/`` with the Solidity compiler pinned in ``hardhat-node/package.json``.

The compiler is the npm ``solc`` package, driven through ``hardhat-node/scripts/solc.js`` (a
``solc --standard-json`` look-alike) and handed to py-solc-x as its binary. A native ``solc``
on PATH is used instead when it is exactly the pinned version. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

from ..errors import CompilerError
from ..paths import ARTIFACTS_DIR, CONTRACTS_DIR, HARDHAT_DIR, NODE_MODULES
from .artifacts import CONTRACT_NAMES

__all__ = [
    "EVM_VERSION",
    "artifact_sha256",
    "artifact_text",
    "compile_contracts",
    "compiler_settings",
    "pinned_solc_version",
    "write_artifacts",
]

#: The one EVM version every supported engine runs: Hardhat, Anvil, Besu and geth's Clique, which
#: refuses Shanghai and later (no PUSH0), hence Paris (docs/CONTRACTS.md).
EVM_VERSION = "paris"

_SOLC_JS = HARDHAT_DIR / "scripts" / "solc.js"


def pinned_solc_version() -> str:
    """The exact compiler version pinned in ``hardhat-node/package.json``."""
    package = json.loads((HARDHAT_DIR / "package.json").read_text(encoding="utf-8"))
    version = str(package["dependencies"]["solc"])
    if not version[:1].isdigit():
        raise CompilerError(
            f"the solc version in hardhat-node/package.json must be exact, not {version!r}"
        )
    return version


def compiler_settings() -> dict[str, Any]:
    """The standard-JSON settings every artifact is built with."""
    return {
        "optimizer": {"enabled": True, "runs": 200},
        "evmVersion": EVM_VERSION,
        "metadata": {"bytecodeHash": "ipfs"},
        "outputSelection": {
            "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]}
        },
    }


def _solc_binary() -> Path:
    wanted = pinned_solc_version()
    native = shutil.which("solc")
    if native is not None:
        try:
            if str(solcx.wrapper.get_solc_version(native)) == wanted:
                return Path(native)
        except (SolcError, OSError, subprocess.CalledProcessError):
            pass
    if not (NODE_MODULES / "solc" / "package.json").is_file():
        raise CompilerError(
            "the Solidity compiler is not installed: run `make setup` (npm ci in hardhat-node/)"
        )
    return _SOLC_JS


def _sources() -> dict[str, dict[str, str]]:
    root = CONTRACTS_DIR.parent
    return {
        path.relative_to(root).as_posix(): {"content": path.read_text(encoding="utf-8")}
        for path in sorted(CONTRACTS_DIR.rglob("*.sol"))
    }


def compile_contracts() -> dict[str, dict[str, Any]]:
    """Compile the sources and return one artifact per deployable contract."""
    binary = _solc_binary()
    standard_input = {
        "language": "Solidity",
        "sources": _sources(),
        "settings": compiler_settings(),
    }
    try:
        output = solcx.compile_standard(
            standard_input,
            solc_binary=str(binary),
            base_path=str(NODE_MODULES),
            allow_paths=[str(NODE_MODULES)],
        )
    except SolcError as exc:
        raise CompilerError(f"the contracts do not compile: {exc.message}") from exc
    version = str(solcx.wrapper.get_solc_version(str(binary), with_commit_hash=True))
    settings = compiler_settings()
    artifacts: dict[str, dict[str, Any]] = {}
    for name in CONTRACT_NAMES:
        source_name = f"contracts/{name}.sol"
        compiled = output["contracts"][source_name][name]
        metadata = json.loads(compiled["metadata"])
        artifacts[name] = {
            "contractName": name,
            "sourceName": source_name,
            "compiler": {"name": "solc", "version": version, "settings": settings},
            "sources": {
                unit: meta["keccak256"] for unit, meta in sorted(metadata["sources"].items())
            },
            "abi": compiled["abi"],
            "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
        }
    return artifacts


def artifact_text(artifact: dict[str, Any]) -> str:
    """The canonical text of an artifact file (stable key order, trailing newline)."""
    return json.dumps(artifact, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_artifacts(directory: Path = ARTIFACTS_DIR) -> list[Path]:
    """Compile and write ``<Name>.json`` for every deployable contract; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in compile_contracts().items():
        path = directory / f"{name}.json"
        path.write_text(artifact_text(artifact), encoding="utf-8")
        written.append(path)
    return written


def artifact_sha256(path: Path) -> str:
    """SHA-256 of an artifact file, as recorded in deployment manifests."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
