"""Where the project's files are (source checkout layout)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
ARTIFACTS_DIR = PACKAGE_DIR / "artifacts"
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
HARDHAT_DIR = PROJECT_ROOT / "hardhat-node"
NODE_MODULES = HARDHAT_DIR / "node_modules"
