"""The Python twins of the contracts' enums match the Solidity declarations, member by member,
so the two cannot drift apart."""

from __future__ import annotations

import re

import pytest

from ledger.chain.enums import (
    SOLIDITY_ENUMS,
    AgreementStatus,
    CommitmentStatus,
    DepartmentStatus,
    ProposalKind,
    label_of,
)
from ledger.paths import PROJECT_ROOT

CONTRACTS = PROJECT_ROOT / "contracts"
_ENUM = re.compile(r"\benum\s+(\w+)\s*\{([^}]*)\}")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def solidity_enums() -> dict[str, tuple[str, ...]]:
    """Every ``enum X { A, B }`` of the contracts' sources: name -> members in order."""
    found: dict[str, tuple[str, ...]] = {}
    for source in sorted(CONTRACTS.glob("**/*.sol")):
        text = _COMMENT.sub("", source.read_text(encoding="utf-8"))
        for name, body in _ENUM.findall(text):
            assert name not in found, f"enum {name} is declared twice"
            found[name] = tuple(m.strip() for m in body.split(",") if m.strip())
    return found


def upper_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def test_the_contracts_declare_enums() -> None:
    assert set(solidity_enums()) >= {"DepartmentStatus", "AgreementStatus", "CommitmentStatus"}


def test_every_solidity_enum_has_its_python_twin() -> None:
    assert set(SOLIDITY_ENUMS) == set(solidity_enums())


@pytest.mark.parametrize("name", sorted(SOLIDITY_ENUMS))
def test_members_match_the_solidity_declaration(name: str) -> None:
    members = solidity_enums()[name]
    enum = SOLIDITY_ENUMS[name]
    assert [(m.name, m.value) for m in enum] == [
        (upper_snake(member), value) for value, member in enumerate(members)
    ]


def test_labels_are_what_xietong_shows() -> None:
    assert DepartmentStatus.labels() == ("unknown", "active", "suspended")
    assert AgreementStatus.labels() == (
        "unknown",
        "proposed",
        "active",
        "rejected",
        "withdrawn",
        "revoked",
        "superseded",
    )
    assert CommitmentStatus.labels() == ("unknown", "proposed", "active", "completed", "cancelled")
    assert ProposalKind.labels() == (
        "admit",
        "suspend",
        "readmit",
        "grant-auditor",
        "revoke-auditor",
    )


@pytest.mark.parametrize("value", [-1, 7, 255, 2**256])
def test_a_value_without_a_member_is_shown_as_its_number(value: int) -> None:
    assert label_of(AgreementStatus, value) == str(value)
    assert label_of(AgreementStatus, 6) == "superseded"
