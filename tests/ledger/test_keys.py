"""Signing keys: keystores, passwords, and the development keys' local-only rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from ledger.errors import ConfigurationError, KeyRefusedError
from ledger.keys import DEV_ACCOUNT_COUNT, dev_account, dev_addresses, load_signer
from ledger.settings import Settings

# The well-known first addresses of the public test mnemonic (Hardhat and Anvil print them).
HARDHAT_ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
HARDHAT_ACCOUNT_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def keystore(tmp_path: Path, key: bytes, password: str) -> Path:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(Account.encrypt(key, password, iterations=2)))
    return path


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


def test_keystore_with_password(tmp_path: Path) -> None:
    account = Account.create()
    path = keystore(tmp_path, account.key, "s3cret")
    signer = load_signer(settings(env="production", keystore=path, keystore_password="s3cret"))
    assert signer.address == account.address


def test_keystore_with_password_file(tmp_path: Path) -> None:
    account = Account.create()
    path = keystore(tmp_path, account.key, "s3cret")
    (tmp_path / "pw").write_text("s3cret\n")
    signer = load_signer(settings(keystore=path, keystore_password_file=tmp_path / "pw"))
    assert signer.address == account.address


def test_wrong_password(tmp_path: Path) -> None:
    path = keystore(tmp_path, Account.create().key, "s3cret")
    with pytest.raises(ConfigurationError, match="wrong password or damaged file") as info:
        load_signer(settings(keystore=path, keystore_password="guess-XYZZY"))
    assert "s3cret" not in str(info.value) and "XYZZY" not in str(info.value)


def test_missing_password(tmp_path: Path) -> None:
    path = keystore(tmp_path, Account.create().key, "s3cret")
    with pytest.raises(ConfigurationError, match="XIETONG_KEYSTORE_PASSWORD"):
        load_signer(settings(keystore=path))


def test_unreadable_password_file(tmp_path: Path) -> None:
    path = keystore(tmp_path, Account.create().key, "s3cret")
    with pytest.raises(ConfigurationError, match="cannot read the keystore password file"):
        load_signer(settings(keystore=path, keystore_password_file=tmp_path / "missing"))


def test_missing_keystore(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the keystore"):
        load_signer(settings(keystore=tmp_path / "missing.json", keystore_password="x"))


def test_keystore_not_json(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text("not json")
    with pytest.raises(ConfigurationError, match="is not a JSON keyfile"):
        load_signer(settings(keystore=tmp_path / "k.json", keystore_password="x"))


def test_dev_key_in_keystore_refused_outside_local(tmp_path: Path) -> None:
    path = keystore(tmp_path, dev_account(2).key, "pw")
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
    with pytest.raises(ConfigurationError) as refused:
        load_signer(settings(env="local", keystore=path, keystore_password="pw"))
    message = str(refused.value)
    assert "plain private key is refused" in message or "damaged file" in message, message
    assert PLAIN_KEY[:16] not in message


def test_a_keyfile_without_crypto_or_version_is_refused(tmp_path: Path) -> None:
    good = Account.encrypt(Account.create().key, "pw", iterations=2)
    for broken in ({k: v for k, v in good.items() if k != "crypto"}, {**good, "version": 1}):
        path = tmp_path / "key.json"
        path.write_text(json.dumps(broken))
        with pytest.raises(ConfigurationError, match="not an encrypted keyfile"):
            load_signer(settings(env="local", keystore=path, keystore_password="pw"))
