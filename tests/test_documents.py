"""The documents name files that exist: a path to a module, test or script written in
README.md or docs/*.md is checked, so a move or a rename cannot leave a document pointing at
nothing (the commands themselves are run by the tests of each document)."""

from __future__ import annotations

import json
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


#: A test as docs/SECURITY.md names it: ``tests/….py::test_name``, or ``::test_name`` for one
#: more test of the file named last on the same line; ``test_name_*`` names every test whose
#: name starts so (at least one).
TEST_REFERENCE = re.compile(r"(?<![\w./-])(tests/[\w/]+\.py)?::(test_\w+\*?)")


def named_tests(text: str) -> list[tuple[str, str]]:
    """Every (file, test function) ``text`` names, line by line; ValueError for a bare
    ``::test_name`` with no file before it on its line."""
    named = []
    for number, line in enumerate(text.splitlines(), start=1):
        current: str | None = None
        for match in TEST_REFERENCE.finditer(line):
            current = match.group(1) or current
            if current is None:
                raise ValueError(f"line {number}: ::{match.group(2)} follows no test file")
            named.append((current, match.group(2)))
    return named


def test_every_test_the_security_document_names_exists() -> None:
    """The threat tables say which test fails without each defence: each must be there."""
    named = named_tests((PROJECT_ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8"))
    assert len(named) > 100, named
    missing = sorted(
        f"{path}::{name}"
        for path, name in set(named)
        if not (PROJECT_ROOT / path).exists()
        or not re.search(
            rf"^(?:async )?def {name.removesuffix('*')}"
            + (r"\w*\(" if name.endswith("*") else r"\("),
            (PROJECT_ROOT / path).read_text(),
            re.MULTILINE,
        )
    )
    assert missing == [], f"docs/SECURITY.md names tests that do not exist: {missing}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("`tests/a.py::test_x`, `::test_y`", [("tests/a.py", "test_x"), ("tests/a.py", "test_y")]),
        (
            "`tests/a.py::test_x`, `tests/b/c.py::test_y`, `::test_z`",
            [("tests/a.py", "test_x"), ("tests/b/c.py", "test_y"), ("tests/b/c.py", "test_z")],
        ),
        ("no test here, tests/a.py alone", []),
        ("`tests/a.py::test_accept_*`", [("tests/a.py", "test_accept_*")]),
    ],
    ids=["continued-file", "second-file-continued", "file-without-test", "prefix"],
)
def test_named_tests_reads_files_and_continuations(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert named_tests(text) == expected


def test_a_continuation_without_a_file_is_refused() -> None:
    with pytest.raises(ValueError, match="line 2: ::test_y follows no test file"):
        named_tests("`tests/a.py::test_x`\n`::test_y`")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(PROJECT_ROOT)))
def test_every_json_sample_of_a_document_is_json(document: Path) -> None:
    """A sample answer is JSON as written (``"…"`` stands in for a value), so a reader or a
    test can parse it (tests/ledger/cli/test_workflow.py compares fields with CLI.md's)."""
    text = document.read_text(encoding="utf-8")
    broken = []
    for block in re.finditer(r"```json\n(.*?)```", text, re.S):
        try:
            json.loads(block.group(1))
        except json.JSONDecodeError as exc:
            broken.append(
                f"line {text[: block.start()].count(chr(10)) + 2 + exc.lineno - 1}: {exc}"
            )
    assert broken == [], f"{document.name}: {broken}"
