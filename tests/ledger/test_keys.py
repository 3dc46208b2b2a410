"""Signing keys: keystores, passwords, the development keys' local-only rule, and what a
keystore must be in production (eth-account's default cost, a password, files of this user
only); local mode warns instead.

Keystores at eth-account's default cost take a quarter of a second (PBKDF2, 1,000,000
iterations) to a second (scrypt n=2**18, 256 MiB) to make and as long to open: the PBKDF2 ones
are made once per session, and tests whose keystore is never decrypted or only in local mode
use a cheap one."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from ledger.errors import (
    ConfigurationError,
    KeyFileExposedError,
    KeyRefusedError,
    WeakKeystoreError,
)
from ledger.keys import (
    DEV_ACCOUNT_COUNT,
    PBKDF2_MIN_ITERATIONS,
    SCRYPT_MIN_N,
    check_keystore,
    dev_account,
    dev_addresses,
    load_signer,
)
from ledger.paths import PROJECT_ROOT
from ledger.settings import Settings

# The well-known first addresses of the public test mnemonic (Hardhat and Anvil print them).
HARDHAT_ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
HARDHAT_ACCOUNT_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PASSWORD = "s3cret-電池-horse"
OTHER_UID = 65534  # nobody


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def write_keystore(path: Path, keyfile: dict[str, Any], mode: int = 0o600) -> Path:
    """``keyfile`` written to ``path`` with ``mode`` (whatever the umask)."""
    path.write_text(json.dumps(keyfile))
    path.chmod(mode)
    return path


def keystore(tmp_path: Path, key: bytes, password: str) -> Path:
    """A cheap keystore (2 PBKDF2 iterations) of mode 0600: for local mode, or for checks made
    before decrypting."""
    return write_keystore(tmp_path / "key.json", Account.encrypt(key, password, iterations=2))


def with_params(keyfile: dict[str, Any], **params: object) -> dict[str, Any]:
    """``keyfile`` with its key derivation parameters changed (not decryptable any more)."""
    changed = copy.deepcopy(keyfile)
    changed["crypto"]["kdfparams"].update(params)
    return changed


@pytest.fixture(scope="session")
def strong() -> tuple[str, dict[str, Any]]:
    """A fresh account's address and its keystore at eth-account's default PBKDF2 cost."""
    account = Account.create()
    return account.address, Account.encrypt(account.key, PASSWORD, kdf="pbkdf2")


@pytest.fixture(scope="session")
def strong_dev() -> dict[str, Any]:
    """Development key 2 in a keystore at eth-account's default PBKDF2 cost."""
    return Account.encrypt(dev_account(2).key, "pw", kdf="pbkdf2")


def test_dev_accounts_match_the_nodes() -> None:
    assert dev_account(0).address == HARDHAT_ACCOUNT_0
    assert dev_account(1).address == HARDHAT_ACCOUNT_1
    assert len(dev_addresses()) == DEV_ACCOUNT_COUNT


def test_dev_account_index_out_of_range() -> None:
    with pytest.raises(ConfigurationError, match="0 to 19"):
        dev_account(20)


def test_dev_key_accepted_in_local_mode() -> None:
    assert load_signer(settings(env="local", dev_account=3)).address == dev_account(3).address


def test_dev_key_refused_outside_local_mode() -> None:
    with pytest.raises(KeyRefusedError, match="only when XIETONG_ENV=local"):
        load_signer(settings(env="production"))


def test_keystore_with_password(tmp_path: Path, strong: tuple[str, dict[str, Any]]) -> None:
    address, keyfile = strong
    path = write_keystore(tmp_path / "key.json", keyfile)
    signer = load_signer(settings(env="production", keystore=path, keystore_password=PASSWORD))
    assert signer.address == address


def test_keystore_with_password_file(tmp_path: Path, strong: tuple[str, dict[str, Any]]) -> None:
    address, keyfile = strong
    path = write_keystore(tmp_path / "key.json", keyfile)
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o400)
    signer = load_signer(settings(keystore=path, keystore_password_file=password_file))
    assert signer.address == address


def test_a_keystore_at_the_scrypt_default_cost_is_accepted_in_production(tmp_path: Path) -> None:
    account = Account.create()
    keyfile = Account.encrypt(account.key, PASSWORD)  # eth-account's default: scrypt
    assert keyfile["crypto"]["kdf"] == "scrypt"
    assert keyfile["crypto"]["kdfparams"]["n"] == SCRYPT_MIN_N
    path = write_keystore(tmp_path / "key.json", keyfile)
    signer = load_signer(settings(env="production", keystore=path, keystore_password=PASSWORD))
    assert signer.address == account.address


def test_wrong_password(tmp_path: Path, strong: tuple[str, dict[str, Any]]) -> None:
    path = write_keystore(tmp_path / "key.json", strong[1])
    with pytest.raises(ConfigurationError, match="wrong password or damaged file") as info:
        load_signer(settings(keystore=path, keystore_password="guess-XYZZY"))
    assert PASSWORD not in str(info.value) and "XYZZY" not in str(info.value)


def test_missing_password(tmp_path: Path) -> None:
    path = keystore(tmp_path, Account.create().key, "s3cret")
    with pytest.raises(ConfigurationError, match="XIETONG_KEYSTORE_PASSWORD"):
        load_signer(settings(env="local", keystore=path))


def test_unreadable_password_file(tmp_path: Path) -> None:
    path = keystore(tmp_path, Account.create().key, "s3cret")
    with pytest.raises(ConfigurationError, match="cannot read the keystore password file"):
        load_signer(
            settings(env="local", keystore=path, keystore_password_file=tmp_path / "missing")
        )


def test_missing_keystore(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the keystore"):
        load_signer(settings(keystore=tmp_path / "missing.json", keystore_password="x"))


def test_keystore_not_json(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text("not json")
    (tmp_path / "k.json").chmod(0o600)
    with pytest.raises(ConfigurationError, match="is not a JSON keyfile"):
        load_signer(settings(keystore=tmp_path / "k.json", keystore_password="x"))


def test_dev_key_in_keystore_refused_outside_local(
    tmp_path: Path, strong_dev: dict[str, Any]
) -> None:
    path = write_keystore(tmp_path / "key.json", strong_dev)
    with pytest.raises(KeyRefusedError, match="public development key"):
        load_signer(settings(env="production", keystore=path, keystore_password="pw"))
    assert (
        load_signer(settings(env="local", keystore=path, keystore_password="pw")).address
        == dev_account(2).address
    )


PLAIN_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


@pytest.mark.parametrize(
    "content",
    [
        PLAIN_KEY,  # a bare hex key
        "0x" + PLAIN_KEY,
        json.dumps("0x" + PLAIN_KEY),  # a JSON string
        json.dumps(
            {"address": "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", "private_key": PLAIN_KEY}
        ),
        json.dumps({"version": 3, "crypto": {"kdf": "none", "ciphertext": PLAIN_KEY}}),  # fake
        json.dumps([PLAIN_KEY]),
    ],
)
def test_a_plain_key_file_is_refused_without_quoting_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(content)
    path.chmod(0o600)
    for env in ("local", "production"):
        with pytest.raises(ConfigurationError) as refused:
            load_signer(settings(env=env, keystore=path, keystore_password="pw"))
        message = str(refused.value)
        assert "plain private key is refused" in message or "damaged file" in message, message
        assert PLAIN_KEY[:16] not in message


def test_a_keyfile_without_crypto_or_version_is_refused(tmp_path: Path) -> None:
    good = Account.encrypt(Account.create().key, "pw", iterations=2)
    for broken in ({k: v for k, v in good.items() if k != "crypto"}, {**good, "version": 1}):
        path = write_keystore(tmp_path / "key.json", broken)
        with pytest.raises(ConfigurationError, match="not an encrypted keyfile"):
            load_signer(settings(env="local", keystore=path, keystore_password="pw"))


# ---------------------------------------------------------------- weak keystores (production)


def test_an_empty_password_is_refused_in_production(
    tmp_path: Path, strong: tuple[str, dict[str, Any]]
) -> None:
    path = write_keystore(tmp_path / "key.json", strong[1])  # refused before it is decrypted
    with pytest.raises(WeakKeystoreError) as refused:
        load_signer(settings(env="production", keystore=path, keystore_password=""))
    assert str(refused.value) == (
        f"the password of the keystore {path} (XIETONG_KEYSTORE_PASSWORD) is empty: re-encrypt "
        "the keystore with a strong password, e.g. "
        "`Account.encrypt(Account.decrypt(keyfile, ''), new_password)` of eth_account, and "
        "configure that one."
    )
    assert refused.value.kind == "key-refused"
    password_file = tmp_path / "pw"
    password_file.write_text("\n")
    password_file.chmod(0o600)
    with pytest.raises(WeakKeystoreError, match=re.escape(f"file {password_file}) is empty")):
        load_signer(settings(keystore=path, keystore_password_file=password_file))
    with pytest.raises(WeakKeystoreError, match="is empty"):
        check_keystore(settings(keystore=path, keystore_password="  "))


@pytest.mark.parametrize(
    ("params", "weakness"),
    [
        (
            {"n": 2**14},
            "scrypt n=16384, r=8, p=1, below eth-account's default n=262144, r=8, p=1",
        ),
        ({"r": 1}, "scrypt n=262144, r=1, p=1, below eth-account's default n=262144, r=8, p=1"),
        ({"p": 0}, "scrypt n=262144, r=8, p=0, below eth-account's default n=262144, r=8, p=1"),
    ],
)
def test_a_scrypt_keystore_below_the_default_cost_is_refused_in_production(
    tmp_path: Path, params: dict[str, int], weakness: str
) -> None:
    # A keystore of the default scrypt cost, its parameters lowered (never decrypted: the
    # cost is checked first, without spending a second per case).
    keyfile = {
        "version": 3,
        "crypto": {
            "kdf": "scrypt",
            "kdfparams": {"dklen": 32, "n": SCRYPT_MIN_N, "r": 8, "p": 1, "salt": "00" * 16},
            "ciphertext": "00" * 32,
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": "00" * 16},
            "mac": "00" * 32,
        },
    }
    path = write_keystore(tmp_path / "key.json", with_params(keyfile, **params))
    with pytest.raises(WeakKeystoreError) as refused:
        load_signer(settings(env="production", keystore=path, keystore_password="pw"))
    assert str(refused.value) == (
        f"the keystore {path} is encrypted with {weakness}: re-encrypt it with "
        "`Account.encrypt(Account.decrypt(keyfile, password), password)` of eth_account (its "
        "default cost), written to a file of mode 0600."
    )


def test_a_scrypt_keystore_made_cheap_is_refused_in_production(tmp_path: Path) -> None:
    cheap = Account.encrypt(Account.create().key, "pw", kdf="scrypt", iterations=2**14)
    path = write_keystore(tmp_path / "key.json", cheap)
    with pytest.raises(WeakKeystoreError, match=r"scrypt n=16384, r=8, p=1, below"):
        load_signer(settings(env="production", keystore=path, keystore_password="pw"))


def test_a_pbkdf2_keystore_below_the_default_cost_is_refused_in_production(
    tmp_path: Path, strong: tuple[str, dict[str, Any]]
) -> None:
    path = tmp_path / "key.json"
    for iterations, said in ((1, "1 iteration"), (PBKDF2_MIN_ITERATIONS - 1, "999,999 iterations")):
        write_keystore(path, with_params(strong[1], c=iterations))
        with pytest.raises(WeakKeystoreError) as refused:
            load_signer(settings(env="production", keystore=path, keystore_password="pw"))
        assert str(refused.value).startswith(
            f"the keystore {path} is encrypted with PBKDF2 at {said}, below eth-account's "
            "default 1,000,000: re-encrypt it with `Account.encrypt(Account.decrypt("
        )
    write_keystore(path, with_params(strong[1], prf="hmac-md5"))
    with pytest.raises(WeakKeystoreError, match="PBKDF2 with another function than eth-account's"):
        load_signer(settings(env="production", keystore=path, keystore_password="pw"))


def test_a_key_derivation_eth_account_cannot_run_is_a_damaged_file(
    tmp_path: Path, strong: tuple[str, dict[str, Any]]
) -> None:
    path = tmp_path / "key.json"
    for broken in (
        with_params(strong[1], c="1000000"),
        {**strong[1], "crypto": {**strong[1]["crypto"], "kdf": "argon2"}},
        {**strong[1], "crypto": {**strong[1]["crypto"], "kdfparams": None}},
    ):
        write_keystore(path, broken)
        for env in ("local", "production"):
            with pytest.raises(ConfigurationError, match="damaged file") as refused:
                load_signer(settings(env=env, keystore=path, keystore_password="pw"))
            assert not isinstance(refused.value, KeyRefusedError)


# ---------------------------------------------------------- files open to others (production)


def test_a_keystore_readable_by_others_is_refused_in_production(
    tmp_path: Path, strong: tuple[str, dict[str, Any]]
) -> None:
    path = write_keystore(tmp_path / "my key.json", strong[1], mode=0o644)
    with pytest.raises(KeyFileExposedError) as refused:
        load_signer(settings(env="production", keystore=path, keystore_password=PASSWORD))
    assert str(refused.value) == (
        f"the keystore {path} is readable by other users (mode 0644): run `chmod 600 '{path}'`."
    )
    assert refused.value.kind == "key-refused"
    for mode, access in ((0o640, "readable"), (0o620, "writable"), (0o610, "executable")):
        path.chmod(mode)
        with pytest.raises(KeyFileExposedError, match=f"is {access} by other users"):
            check_keystore(settings(keystore=path, keystore_password=PASSWORD))
    path.chmod(0o600)
    check_keystore(settings(keystore=path, keystore_password=PASSWORD))


def test_a_password_file_readable_by_others_is_refused_in_production(
    tmp_path: Path, strong: tuple[str, dict[str, Any]]
) -> None:
    path = write_keystore(tmp_path / "key.json", strong[1])
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD)
    password_file.chmod(0o666)
    with pytest.raises(KeyFileExposedError) as refused:
        load_signer(settings(keystore=path, keystore_password_file=password_file))
    assert str(refused.value) == (
        f"the keystore password file {password_file} is readable by other users (mode 0666): "
        f"run `chmod 600 {password_file}`."
    )
    assert PASSWORD not in str(refused.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_keystore_of_another_user_is_refused_in_production(
    tmp_path: Path, strong: tuple[str, dict[str, Any]]
) -> None:
    path = write_keystore(tmp_path / "key.json", strong[1])
    os.chown(path, OTHER_UID, -1)
    with pytest.raises(KeyFileExposedError) as refused:
        check_keystore(settings(keystore=path, keystore_password=PASSWORD))
    assert str(refused.value) == (
        f"the keystore {path} belongs to another user (uid {OTHER_UID}) than the gateway's "
        f"(root): run `chown root {path}` and `chmod 600 {path}`."
    )


# --------------------------------------------------------------------- local mode: warnings


def test_local_mode_warns_and_loads_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    account = Account.create()
    path = write_keystore(
        tmp_path / "key.json",
        Account.encrypt(account.key, "", kdf="pbkdf2", iterations=1),
        mode=0o644,
    )
    password_file = tmp_path / "pw"
    password_file.write_text("")
    password_file.chmod(0o666)
    with caplog.at_level(logging.WARNING, logger="xietong.keys"):
        signer = load_signer(
            settings(env="local", keystore=path, keystore_password_file=password_file)
        )
    assert signer.address == account.address
    warnings = [record.getMessage() for record in caplog.records]
    assert warnings == [
        f"the keystore {path} is readable by other users (mode 0644): run `chmod 600 {path}`. "
        "XIETONG_ENV=production refuses it.",
        f"the keystore {path} is encrypted with PBKDF2 at 1 iteration, below eth-account's "
        "default 1,000,000: re-encrypt it with `Account.encrypt(Account.decrypt(keyfile, "
        "password), password)` of eth_account (its default cost), written to a file of mode "
        "0600. XIETONG_ENV=production refuses it.",
        f"the keystore password file {password_file} is readable by other users (mode 0666): "
        f"run `chmod 600 {password_file}`. XIETONG_ENV=production refuses it.",
        f"the password of the keystore {path} (the keystore password file {password_file}) is "
        "empty: re-encrypt the keystore with a strong password, e.g. "
        "`Account.encrypt(Account.decrypt(keyfile, ''), new_password)` of eth_account, and "
        "configure that one. XIETONG_ENV=production refuses it.",
    ]
    assert all(record.levelno == logging.WARNING for record in caplog.records)


def test_a_keystore_that_passes_warns_of_nothing(
    tmp_path: Path, strong: tuple[str, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    path = write_keystore(tmp_path / "key.json", strong[1], mode=0o400)
    with caplog.at_level(logging.DEBUG, logger="xietong.keys"):
        for env in ("local", "production"):
            load_signer(settings(env=env, keystore=path, keystore_password=PASSWORD))
    assert caplog.records == []


def test_check_keystore_refuses_before_decrypting(
    tmp_path: Path, strong: tuple[str, dict[str, Any]]
) -> None:
    # Nothing configured: nothing to check (serving reads needs no key).
    check_keystore(settings(env="production"))
    # Checked without decrypting: a wrong password is only found when the key is loaded.
    path = write_keystore(tmp_path / "key.json", strong[1])
    check_keystore(settings(keystore=path, keystore_password="wrong"))
    with pytest.raises(ConfigurationError, match="wrong password"):
        load_signer(settings(keystore=path, keystore_password="wrong"))
    with pytest.raises(ConfigurationError, match="XIETONG_KEYSTORE_PASSWORD"):
        check_keystore(settings(keystore=path))


def _readme_keystore_scripts() -> list[str]:
    """The ``sh`` blocks of the README's Keystores section, with this interpreter."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Keystores\n", 1)[1].split("\n## ", 1)[0]
    blocks = [part.split("```", 1)[0] for part in section.split("```sh\n")[1:]]
    return [b.replace(".venv/bin/python", shlex.quote(sys.executable)) for b in blocks]


def _run_readme_script(script: str, folder: Path, stdin: str = "") -> None:
    subprocess.run(
        ["bash", "-c", script],
        input=stdin,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def _settings_as_the_readme_says(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Production settings with the README's two variables, ``folder`` the gateway's home
    and the command run from another folder (relative paths are the home's)."""
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("XIETONG_HOME", str(folder))
    monkeypatch.setenv("XIETONG_KEYSTORE", "department.keystore.json")
    monkeypatch.setenv("XIETONG_KEYSTORE_PASSWORD_FILE", "department.password")
    return settings(env="production")


def test_the_readme_makes_a_keystore_production_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, _reencrypt = _readme_keystore_scripts()
    _run_readme_script(make, tmp_path, stdin="correct horse battery staple\n")
    keystore, password_file = (
        tmp_path / "department.keystore.json",
        tmp_path / "department.password",
    )
    assert keystore.stat().st_mode & 0o777 == password_file.stat().st_mode & 0o777 == 0o600
    assert password_file.read_text() == "correct horse battery staple\n"
    signer = load_signer(_settings_as_the_readme_says(tmp_path, monkeypatch))
    assert signer.address[2:].lower() == json.loads(keystore.read_text())["address"].lower()


def test_the_readme_reencrypts_a_keystore_refused_for_its_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make, reencrypt = _readme_keystore_scripts()
    key = Account.create().key
    weak = write_keystore(
        tmp_path / "department.keystore.json", Account.encrypt(key, "pw", iterations=2)
    )
    (tmp_path / "department.password").write_text("pw\n")
    (tmp_path / "department.password").chmod(0o600)
    with pytest.raises(WeakKeystoreError):
        load_signer(_settings_as_the_readme_says(tmp_path, monkeypatch))
    weak.rename(tmp_path / "old.keystore.json")
    _run_readme_script(reencrypt, tmp_path)
    assert (tmp_path / "department.keystore.json").stat().st_mode & 0o777 == 0o600
    signer = load_signer(_settings_as_the_readme_says(tmp_path, monkeypatch))
    assert signer.key == key
