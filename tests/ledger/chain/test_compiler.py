"""The committed artifacts are exactly what the pinned compiler makes of contracts/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.chain import compiler
from ledger.chain.artifacts import CONTRACT_NAMES, load_artifact
from ledger.errors import CompilerError
from ledger.paths import ARTIFACTS_DIR


@pytest.fixture(scope="module")
def fresh() -> dict[str, dict[str, object]]:
    return compiler.compile_contracts()


def test_pinned_version_is_exact() -> None:
    version = compiler.pinned_solc_version()
    assert version.count(".") == 2
    assert all(part.isdigit() for part in version.split("."))


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_committed_artifact_matches_sources(name: str, fresh: dict[str, dict[str, object]]) -> None:
    committed = (ARTIFACTS_DIR / f"{name}.json").read_text(encoding="utf-8")
    assert committed == compiler.artifact_text(fresh[name]), (
        f"ledger/artifacts/{name}.json is stale: run `make artifacts` and commit the result"
    )


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_artifact_records_compiler_and_settings(name: str) -> None:
    data = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert data["compiler"]["version"].startswith(compiler.pinned_solc_version() + "+commit.")
    assert data["compiler"]["settings"]["evmVersion"] == compiler.EVM_VERSION
    # The CBOR metadata trailer names the compiler: "solc" followed by the version bytes.
    major, minor, patch = (int(x) for x in compiler.pinned_solc_version().split("."))
    trailer = "64736f6c6343" + f"{major:02x}{minor:02x}{patch:02x}" + "0033"
    assert load_artifact(name).deployed_bytecode.endswith(trailer)
    assert f"contracts/{name}.sol" in data["sources"]


def test_broken_source_is_a_compiler_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "Broken.sol").write_text(
        "pragma solidity 0.8.28; contract Broken { function f( }\n"
    )
    monkeypatch.setattr(compiler, "CONTRACTS_DIR", contracts)
    with pytest.raises(CompilerError, match="do not compile"):
        compiler.compile_contracts()


def test_missing_compiler_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiler, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CompilerError, match="make setup"):
        compiler.compile_contracts()


#: Opcodes after Paris that geth's Clique, which refuses Shanghai, would not run.
_LATER_OPCODES = {0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY", 0x5F: "PUSH0"}


def _opcodes(code: bytes) -> list[int]:
    """The opcodes of ``code`` (push data skipped), without the CBOR metadata trailer."""
    code = code[: -(int.from_bytes(code[-2:], "big") + 2)]
    found, at = [], 0
    while at < len(code):
        op = code[at]
        found.append(op)
        at += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return found


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_no_opcode_after_paris(name: str) -> None:
    """docs/CONTRACTS.md: every engine runs the code, Clique included (no PUSH0, no MCOPY)."""
    artifact = load_artifact(name)
    for code in (artifact.bytecode, artifact.deployed_bytecode):
        ops = _opcodes(bytes.fromhex(code.removeprefix("0x")))
        assert len(ops) > 100
        assert not [_LATER_OPCODES[op] for op in ops if op in _LATER_OPCODES], name


def test_the_opcode_scan_sees_push0() -> None:
    """The scan above can fail: PUSH0 as an opcode is seen, as push data it is not."""
    trailer = bytes.fromhex("a1") + b"\x00\x01"  # a one-byte trailer, its length 1
    assert 0x5F in _opcodes(bytes([0x60, 0x01, 0x5F, 0x00]) + trailer)
    assert 0x5F not in _opcodes(bytes([0x60, 0x5F, 0x00]) + trailer)
