"""Signing keys: the department's encrypted keystore, or the public development keys.

The development keys are derived from Hardhat's public test mnemonic (also Anvil's). Anyone
can sign with them, so they are accepted only when ``XIETONG_ENV=local``; a keystore whose
key is one of them is refused outside local mode too.
"""

from __future__ import annotations

import json
from functools import cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import ConfigurationError, KeyRefusedError
from .settings import Settings

__all__ = ["DEV_ACCOUNT_COUNT", "DEV_MNEMONIC", "dev_account", "dev_addresses", "load_signer"]

#: Hardhat's and Anvil's public test mnemonic. DEVELOPMENT ONLY.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 20

Account.enable_unaudited_hdwallet_features()


@cache
def dev_account(index: int) -> LocalAccount:
    """Development account ``index`` (m/44'/60'/0'/0/index of the public test mnemonic)."""
    if not 0 <= index < DEV_ACCOUNT_COUNT:
        raise ConfigurationError(
            f"development account index must be 0 to {DEV_ACCOUNT_COUNT - 1}, not {index}."
        )
    account: LocalAccount = Account.from_mnemonic(
        DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}"
    )
    return account


@cache
def dev_addresses() -> frozenset[str]:
    """Addresses of all development accounts."""
    return frozenset(dev_account(i).address for i in range(DEV_ACCOUNT_COUNT))


def _password(settings: Settings) -> str:
    if settings.keystore_password is not None:
        return settings.keystore_password.get_secret_value()
    if settings.keystore_password_file is not None:
        try:
            return settings.keystore_password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the keystore password file {settings.keystore_password_file} ({exc.strerror})."
            ) from None
    raise ConfigurationError(
        "the keystore is encrypted: set XIETONG_KEYSTORE_PASSWORD or XIETONG_KEYSTORE_PASSWORD_FILE."
    )


def _encrypted(keyfile: object) -> bool:
    """Whether ``keyfile`` has the shape of an encrypted Web3 Secret Storage (v3) keyfile."""
    if not isinstance(keyfile, dict) or keyfile.get("version") != 3:
        return False
    crypto = keyfile.get("crypto", keyfile.get("Crypto"))
    return isinstance(crypto, dict) and isinstance(crypto.get("ciphertext"), str)


def load_signer(settings: Settings) -> LocalAccount:
    """The account this gateway signs with.

    Raises:
        ConfigurationError: no key is configured, or the keystore cannot be read or decrypted.
        KeyRefusedError: a development key outside local mode.
    """
    if settings.keystore is None:
        if settings.env != "local":
            raise KeyRefusedError(
                "no keystore is configured (XIETONG_KEYSTORE); the public development keys are "
                "accepted only when XIETONG_ENV=local."
            )
        return dev_account(settings.dev_account)
    try:
        keyfile = json.loads(settings.keystore.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the keystore {settings.keystore} ({exc.strerror})."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigurationError(
            f"the keystore {settings.keystore} is not a JSON keyfile (an encrypted keystore; "
            "a plain private key is refused)."
        ) from None
    if not _encrypted(keyfile):
        raise ConfigurationError(
            f"the keystore {settings.keystore} is not an encrypted keyfile (Web3 Secret Storage "
            "version 3, e.g. from eth_account's Account.encrypt or geth); a plain private key is "
            "refused."
        )
    try:
        key = Account.decrypt(keyfile, _password(settings))
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"cannot decrypt the keystore {settings.keystore}: wrong password or damaged file."
        ) from None
    account: LocalAccount = Account.from_key(key)
    if settings.env != "local" and account.address in dev_addresses():
        raise KeyRefusedError(
            f"the keystore holds public development key {account.address}; it is accepted only "
            "when XIETONG_ENV=local."
        )
    return account
