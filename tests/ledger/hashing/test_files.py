"""ledger.hashing._files: file and directory hashing with every refusal, one file of a tree,
and anchored folders under hostile layouts and paths: links (outside the root, loops),
special files, NUL characters, crafted relative paths — each refused with its typed error."""

from __future__ import annotations

import os
import socket
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.hashing import (
    CHUNK_SIZE,
    DuplicatePathError,
    EmptyDatasetError,
    FileChangedError,
    FileEntry,
    HashingError,
    NotARegularFileError,
    PathEscapesRootError,
    PathNameError,
    RootNotADirectoryError,
    SymlinkRefusedError,
    UnreadableFileError,
    file_entry,
    hash_records,
    leaf_path,
    sha256_file,
    walk_directory,
)
from tests.ledger._fuzz import assert_short_one_line, attempt
from tests.ledger.hashing._support import sha


@pytest.mark.parametrize(
    "size", [0, 1, 4095, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17]
)
def test_sha256_file_equals_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    calls: list[tuple[int, int]] = []
    assert sha256_file(path, on_progress=lambda done, total: calls.append((done, total))) == sha(
        data
    )
    assert sha256_file(str(path)) == sha(data)
    if size:
        assert calls[-1] == (size, size)
        assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    else:
        assert calls == []


def test_sha256_file_follows_a_link_given_by_the_caller(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"content")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert sha256_file(tmp_path / "link") == sha(b"content")


def test_sha256_file_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(NotARegularFileError, match="FIFO"):
        sha256_file(tmp_path / "fifo")  # refused, never blocks waiting for a writer
    with pytest.raises(NotARegularFileError, match="directory"):
        sha256_file(tmp_path)
    with pytest.raises(UnreadableFileError, match="does not exist"):
        sha256_file(tmp_path / "missing")


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


TREE = {
    "b.txt": b"b",
    "a/b": b"a/b",
    "a-b": b"a-b",
    "a0": b"a0",
    "B": b"upper",
    ".hidden": b"dot",
    "sub/.env": b"SECRET=1",
    "sub/deeper/empty.bin": b"",
    "é.txt": "é".encode(),
    "z/說明.md": "說明".encode(),
}


def test_walk_order_is_utf8_byte_order_with_hidden_and_empty_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", TREE)
    (root / "empty-dir" / "inner").mkdir(parents=True)  # directories alone are not leaves
    entries = walk_directory(root)
    paths = [e.path for e in entries]
    assert paths == sorted(TREE, key=lambda p: p.encode("utf-8"))
    assert paths[:5] == [".hidden", "B", "a-b", "a/b", "a0"]  # "-" < "/" < "0" bytewise
    for entry in entries:
        assert entry == FileEntry(
            content_hash=sha(TREE[entry.path]), path=entry.path, size=len(TREE[entry.path])
        )


def test_walk_is_independent_of_creation_order(tmp_path: Path) -> None:
    one = make_tree(tmp_path / "one", TREE)
    two = make_tree(tmp_path / "two", dict(reversed(list(TREE.items()))))
    assert walk_directory(one) == walk_directory(two)
    assert walk_directory(one) == walk_directory(str(one))


def test_walk_reports_progress_over_all_bytes(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"big": os.urandom(2 * CHUNK_SIZE + 5), "small": b"x"})
    calls: list[tuple[int, int]] = []
    walk_directory(root, on_progress=lambda done, total: calls.append((done, total)))
    total = 2 * CHUNK_SIZE + 6
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_paths_are_nfc_normalized(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "café.txt")
    assert decomposed != "café.txt"
    root = make_tree(tmp_path / "data", {decomposed: b"x"})
    [entry] = walk_directory(root)
    assert entry.path == "café.txt" == unicodedata.normalize("NFC", entry.path)


def test_names_equal_after_nfc_are_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"café": b"1", unicodedata.normalize("NFD", "café"): b"2"})
    with pytest.raises(DuplicatePathError, match="café"):
        walk_directory(root)


def test_names_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"ok.txt": b"x"})
    fd = os.open(os.fsencode(root) + b"/caf\xe9.txt", os.O_WRONLY | os.O_CREAT, 0o644)
    os.close(fd)
    with pytest.raises(PathNameError, match="not valid UTF-8"):
        walk_directory(root)


def test_symlink_to_a_file_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real.txt": b"x"})
    (root / "link.txt").symlink_to(root / "real.txt")
    with pytest.raises(SymlinkRefusedError, match=r"link\.txt"):
        walk_directory(root)


def test_symlink_to_a_directory_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"sub/real.txt": b"x"})
    outside = make_tree(tmp_path / "outside", {"secret.txt": b"s"})
    (root / "sub" / "escape").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SymlinkRefusedError, match="sub/escape"):
        walk_directory(root)


def test_dangling_symlink_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real.txt": b"x"})
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(SymlinkRefusedError):
        walk_directory(root)


def test_root_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real.txt": b"x"})
    (tmp_path / "alias").symlink_to(root, target_is_directory=True)
    with pytest.raises(SymlinkRefusedError, match="alias"):
        walk_directory(tmp_path / "alias")


def test_fifo_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real.txt": b"x"})
    os.mkfifo(root / "pipe")
    with pytest.raises(NotARegularFileError, match=r"pipe under .* is a FIFO"):
        walk_directory(root)


def test_socket_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"real.txt": b"x"})
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(root / "s"))
        with pytest.raises(NotARegularFileError, match=r"s under .* is a socket"):
            walk_directory(root)
    finally:
        server.close()


def test_root_must_be_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(RootNotADirectoryError, match="does not exist"):
        walk_directory(tmp_path / "missing")
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(RootNotADirectoryError, match="not a directory"):
        walk_directory(tmp_path / "file")


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyDatasetError, match="nothing to anchor"):
        walk_directory(tmp_path / "empty")
    (tmp_path / "empty" / "only" / "dirs").mkdir(parents=True)
    with pytest.raises(EmptyDatasetError):
        walk_directory(tmp_path / "empty")


def run_as_unprivileged(directory: Path, action: Callable[[], object]) -> str:
    """Run ``action`` in a forked child with ``directory`` as working directory and, when the
    tests run as root, the uid/gid of ``nobody`` — root reads any file, nobody does not.
    Returns ``"<ExceptionClass>: <message>"`` (or ``"ok"``)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        result = "crashed"
        try:
            os.close(read_end)
            os.chdir(directory)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            try:
                action()
                result = "ok"
            except BaseException as exc:
                result = f"{type(exc).__name__}: {exc}"
            os.write(write_end, result.encode("utf-8"))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode("utf-8")
    os.waitpid(pid, 0)
    return output


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"public.txt": b"x", "secret.txt": b"y"})
    root.chmod(0o755)
    (root / "public.txt").chmod(0o644)
    (root / "secret.txt").chmod(0o000)
    # Sanity: the child can read what is readable, so the refusal below is about the file.
    assert run_as_unprivileged(root, lambda: sha256_file("public.txt")) == "ok"
    result = run_as_unprivileged(root, lambda: walk_directory("."))
    assert result.startswith("UnreadableFileError: cannot open secret.txt"), result
    result = run_as_unprivileged(root, lambda: sha256_file("secret.txt"))
    assert result.startswith("UnreadableFileError: cannot open secret.txt"), result


def test_unreadable_directory_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"public.txt": b"x", "locked/inner.txt": b"y"})
    root.chmod(0o755)
    (root / "public.txt").chmod(0o644)
    (root / "locked").chmod(0o000)
    result = run_as_unprivileged(root, lambda: walk_directory("."))
    assert result.startswith("UnreadableFileError: cannot list the directory locked"), result


def test_file_replaced_after_listing_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"a.txt": b"a", "b.txt": b"b"})

    def swap(done: int, total: int) -> None:
        if done == 0:  # listed, nothing hashed yet
            (root / "new").write_bytes(b"b")
            os.replace(root / "new", root / "b.txt")

    with pytest.raises(FileChangedError, match=r"b\.txt was replaced"):
        walk_directory(root, on_progress=swap)


def test_symlink_swapped_in_after_listing_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"a.txt": b"a", "b.txt": b"b"})
    (tmp_path / "elsewhere").write_bytes(b"outside")

    def swap(done: int, total: int) -> None:
        if done == 0:
            (root / "b.txt").unlink()
            (root / "b.txt").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(SymlinkRefusedError, match=r"b\.txt"):
        walk_directory(root, on_progress=swap)


def test_fifo_swapped_in_after_listing_is_refused_without_blocking(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"a.txt": b"a", "b.txt": b"b"})

    def swap(done: int, total: int) -> None:
        if done == 0:
            (root / "b.txt").unlink()
            os.mkfifo(root / "b.txt")

    with pytest.raises(NotARegularFileError, match="FIFO"):
        walk_directory(root, on_progress=swap)


def test_file_growing_while_hashed_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"log.txt": b"first line\n"})

    def grow(done: int, total: int) -> None:
        if done:
            with open(root / "log.txt", "ab") as log:
                log.write(b"more\n")

    with pytest.raises(FileChangedError, match=r"log\.txt changed while it was being hashed"):
        walk_directory(root, on_progress=grow)


def test_file_deleted_after_listing_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"a.txt": b"a", "b.txt": b"b"})

    def delete(done: int, total: int) -> None:
        if done == 0:
            (root / "b.txt").unlink()

    with pytest.raises(FileChangedError, match="disappeared"):
        walk_directory(root, on_progress=delete)


# ---------------------------------------------------------------------------- one file of a tree


def test_file_entry_equals_the_walks_entry(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", TREE)
    walked = {e.path: e for e in walk_directory(root)}
    for name in TREE:
        assert file_entry(root, name) == walked[name]
    assert file_entry(root, "./sub//.env") == walked["sub/.env"]


@pytest.mark.parametrize(
    "crafted", ["../outside.txt", "sub/../../outside.txt", "/etc/passwd", "..", "", "."]
)
def test_paths_escaping_the_root_are_refused(tmp_path: Path, crafted: str) -> None:
    root = make_tree(tmp_path / "data", {"sub/in.txt": b"in"})
    (tmp_path / "outside.txt").write_bytes(b"out")
    with pytest.raises(PathEscapesRootError):
        file_entry(root, crafted)


@pytest.mark.parametrize("parts", [("..", "x"), ("a", ""), ("a/b",), (".",), ()])
def test_leaf_path_refuses_components_that_are_not_plain_names(parts: tuple[str, ...]) -> None:
    with pytest.raises(PathEscapesRootError):
        leaf_path(parts)


def test_file_entry_refuses_links_on_the_way(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real/f.txt": b"x"})
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    (root / "real" / "g.txt").symlink_to(root / "real" / "f.txt")
    with pytest.raises(SymlinkRefusedError, match="alias"):
        file_entry(root, "alias/f.txt")
    with pytest.raises(SymlinkRefusedError, match=r"real/g\.txt"):
        file_entry(root, "real/g.txt")
    with pytest.raises(UnreadableFileError, match="does not exist"):
        file_entry(root, "real/missing.txt")
    with pytest.raises(NotARegularFileError):
        file_entry(root, "real")


# ---------------------------------------------------------------------------- hostile layouts and paths


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
