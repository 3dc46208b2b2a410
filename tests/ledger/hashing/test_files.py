"""Anchored folders under hostile layouts and paths: links (outside the root, loops), special
files, NUL characters, crafted relative paths — each refused with its typed error.
(Links to files and directories, dangling links, FIFOs and sockets inside a walked tree are in
tests/ledger/test_hashing.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.hashing import (
    HashingError,
    NotARegularFileError,
    PathEscapesRootError,
    PathNameError,
    SymlinkRefusedError,
    UnreadableFileError,
    file_entry,
    hash_records,
    sha256_file,
    walk_directory,
)
from tests.ledger._fuzz import assert_short_one_line, attempt


def tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True, exist_ok=True)
    (root / "a.txt").write_bytes(b"a")
    (root / "sub" / "b.txt").write_bytes(b"b")
    return root


def test_a_link_to_a_file_outside_the_root_is_refused(tmp_path: Path) -> None:
    root = tree(tmp_path / "data")
    (tmp_path / "secret.txt").write_bytes(b"outside")
    (root / "sub" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(SymlinkRefusedError, match=r"sub/leak\.txt"):
        walk_directory(root)
    with pytest.raises(SymlinkRefusedError, match=r"sub/leak\.txt"):
        file_entry(root, "sub/leak.txt")


def test_a_link_to_a_directory_outside_the_root_is_refused(tmp_path: Path) -> None:
    root = tree(tmp_path / "data")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_bytes(b"x")
    (root / "etc").symlink_to(tmp_path / "etc", target_is_directory=True)
    with pytest.raises(SymlinkRefusedError, match="etc"):
        walk_directory(root)
    with pytest.raises(SymlinkRefusedError, match="etc"):
        file_entry(root, "etc/passwd")


@pytest.mark.parametrize("loop", ["self", "pair", "parent"])
def test_link_loops_are_refused_without_following_them(tmp_path: Path, loop: str) -> None:
    root = tree(tmp_path / "data")
    if loop == "self":
        (root / "x").symlink_to(root / "x")
    elif loop == "pair":
        (root / "x").symlink_to(root / "y")
        (root / "y").symlink_to(root / "x")
    else:
        (root / "sub" / "x").symlink_to(root, target_is_directory=True)
    with pytest.raises(SymlinkRefusedError):
        walk_directory(root)
    name = "sub/x/a.txt" if loop == "parent" else "x"
    with pytest.raises(SymlinkRefusedError):
        file_entry(root, name)


def test_a_fifo_named_directly_is_refused_without_blocking(tmp_path: Path) -> None:
    root = tree(tmp_path / "data")
    os.mkfifo(root / "sub" / "pipe")
    with pytest.raises(NotARegularFileError, match="FIFO"):
        file_entry(root, "sub/pipe")
    with pytest.raises(NotARegularFileError, match="FIFO"):
        sha256_file(root / "sub" / "pipe")
    fifo_records = tmp_path / "rows.csv"
    os.mkfifo(fifo_records)
    with pytest.raises(NotARegularFileError, match="FIFO"):
        hash_records(fifo_records)


def test_paths_with_a_nul_character_are_refused(tmp_path: Path) -> None:
    # os.* raised a plain ValueError ("embedded null byte").
    root = tree(tmp_path / "data")
    with pytest.raises(PathNameError, match="NUL"):
        file_entry(root, "a.txt\x00.png")
    with pytest.raises(PathNameError, match="NUL"):
        walk_directory(f"{root}\x00")
    with pytest.raises(PathNameError, match="NUL"):
        sha256_file(f"{root}/a.txt\x00")
    with pytest.raises(PathNameError, match="NUL"):
        hash_records(f"{root}/a\x00.csv")


relative = st.lists(
    st.sampled_from(
        ["..", ".", "", "a.txt", "sub", "b.txt", "/", "\\", "\x00", "~", "%2e%2e", "…", "\udcff"]
    ),
    max_size=6,
).map("".join) | st.text(max_size=30)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(relative)
@example("../data/a.txt")
@example("sub/../../data/a.txt")
@example("/etc/passwd")
@example("sub/\x00")
@example("C:/Windows")
def test_a_relative_path_finds_a_file_under_the_root_or_is_refused(
    tmp_path: Path, path: str
) -> None:
    root = tree(tmp_path / "data")
    entry, error = attempt(lambda: file_entry(root, path))
    if error is not None:
        assert isinstance(error, HashingError), repr(error)
        assert isinstance(
            error, PathEscapesRootError | PathNameError | UnreadableFileError | NotARegularFileError
        )
        assert_short_one_line(error)
    else:
        assert entry is not None and entry.path in ("a.txt", "sub/b.txt")
        assert ".." not in path.split("/")


def test_a_file_name_with_a_line_break_stays_on_one_line_in_the_message(tmp_path: Path) -> None:
    root = tree(tmp_path / "data")
    (root / "sub" / "evil\nINFO forged log line").symlink_to(root / "a.txt")
    with pytest.raises(SymlinkRefusedError, match=r"evil\\x0aINFO forged") as info:
        walk_directory(root)
    assert_short_one_line(info.value)
