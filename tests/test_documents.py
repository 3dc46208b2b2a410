"""The documents name files that exist: a path to a module, test or script written in
README.md or docs/*.md is checked, so a move or a rename cannot leave a document pointing at
nothing (the commands themselves are run by the tests of each document)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.paths import PROJECT_ROOT

#: Historical text that names what a file was called when it was written is left out.
HISTORICAL = {"BENCH_API.md"}
DOCUMENTS = sorted(
    [
        PROJECT_ROOT / "README.md",
        *(d for d in (PROJECT_ROOT / "docs").glob("*.md") if d.name not in HISTORICAL),
    ]
)
#: A project path as documents write it, with an optional ``::test`` or ``:line`` after it.
PATH = re.compile(
    r"(?<![\w./-])((?:ledger|api|tests|scripts|contracts|hardhat-node|docs)/[\w./-]*\.(?:py|sol|sh|md|js|json|yaml))\b"
)


def _named_paths(document: Path) -> set[str]:
    return {m.group(1) for m in PATH.finditer(document.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(PROJECT_ROOT)))
def test_every_path_a_document_names_exists(document: Path) -> None:
    missing = sorted(p for p in _named_paths(document) if not (PROJECT_ROOT / p).exists())
    assert missing == [], f"{document.name} names files that do not exist: {missing}"


def test_the_path_pattern_finds_paths() -> None:
    found = _named_paths(PROJECT_ROOT / "README.md")
    assert "docs/CLI.md" in found or "docs/API.md" in found, found
