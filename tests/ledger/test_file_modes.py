"""Owner-only directories and files whatever the umask, and how a file open to others is told."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger.file_modes import create_private_file, exposure, make_private_dir
from tests.support import file_mode


@pytest.mark.usefixtures("open_umask")
def test_directories_made_are_owner_only_and_existing_ones_are_left(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    make_private_dir(tmp_path / "var" / "node")
    assert file_mode(tmp_path / "var") == file_mode(tmp_path / "var" / "node") == 0o700
    assert file_mode(tmp_path) == 0o755  # the operator's
    (tmp_path / "var").chmod(0o750)
    make_private_dir(tmp_path / "var" / "node")  # exists: nothing changes
    assert file_mode(tmp_path / "var") == 0o750


@pytest.mark.usefixtures("open_umask")
def test_a_file_made_is_owner_only_and_an_existing_one_is_left(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    assert create_private_file(path) is True
    assert file_mode(path) == 0o600 and path.read_bytes() == b""
    path.write_bytes(b"data")
    path.chmod(0o644)
    assert create_private_file(path) is False
    assert file_mode(path) == 0o644 and path.read_bytes() == b"data"


def test_exposure_names_the_access_and_the_command(tmp_path: Path) -> None:
    path = tmp_path / "a b"
    path.write_text("secret")
    for private in (0o600, 0o400, 0o700):
        path.chmod(private)
        assert exposure(path) is None
    for bits, access in (
        (0o604, "readable"),
        (0o640, "readable"),
        (0o602, "writable"),
        (0o620, "writable"),
        (0o601, "executable"),
    ):
        path.chmod(bits)
        assert exposure(path) == (
            f"is {access} by other users (mode {bits:04o}): run `chmod 600 '{path}'`"
        )
    link = tmp_path / "link"
    link.symlink_to(path)
    path.chmod(0o644)
    assert exposure(link) == f"is readable by other users (mode 0644): run `chmod 600 {link}`"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_of_another_user_is_exposed_whatever_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("secret")
    path.chmod(0o600)
    os.chown(path, 65534, -1)
    assert exposure(path) == (
        f"belongs to another user (uid 65534) than the gateway's (root): run `chown root {path}` "
        f"and `chmod 600 {path}`"
    )
