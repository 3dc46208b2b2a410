"""Signing keys: the department's encrypted keystore, or the public development keys.

The development keys are derived from Hardhat's public test mnemonic (also Anvil's). Anyone
can sign with them, so they are accepted only when ``XIETONG_ENV=local``; a keystore whose
key is one of them is refused outside local mode too.

A keystore must hold up when its file is stolen, and its files must not be open to other
users. Outside local mode the gateway refuses (:class:`~ledger.errors.WeakKeystoreError`) a
keystore whose password is empty or whose key derivation costs less than eth-account's
default (what ``Account.encrypt`` writes unless told otherwise: scrypt n=2**18, r=8, p=1, or
PBKDF2-HMAC-SHA256 with 1,000,000 iterations), and
(:class:`~ledger.errors.KeyFileExposedError`) a keystore or password file that belongs to
another user or whose mode gives the group or others any access, naming the command that
fixes it. With ``XIETONG_ENV=local`` (a developer's machine, throwaway keys) each of these is
a warning logged on ``xietong.keys`` instead.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import ConfigurationError, KeyFileExposedError, KeyRefusedError, WeakKeystoreError
from .file_modes import exposure
from .settings import Settings

__all__ = [
    "DEV_ACCOUNT_COUNT",
    "DEV_MNEMONIC",
    "PBKDF2_MIN_ITERATIONS",
    "SCRYPT_MIN_N",
    "SCRYPT_MIN_P",
    "SCRYPT_MIN_R",
    "check_keystore",
    "dev_account",
    "dev_addresses",
    "load_signer",
]

log = logging.getLogger("xietong.keys")

#: eth-account's default key derivation cost (eth_keyfile's defaults for ``Account.encrypt``):
#: the least a keystore may cost outside local mode.
SCRYPT_MIN_N = 2**18
SCRYPT_MIN_R = 8
SCRYPT_MIN_P = 1
PBKDF2_MIN_ITERATIONS = 1_000_000
_PBKDF2_PRF = "hmac-sha256"
#: How to re-encrypt a keystore at the default cost (eth_account, in Python).
_REENCRYPT = (
    "`Account.encrypt(Account.decrypt(keyfile, password), password)` of eth_account "
    "(its default cost), written to a file of mode 0600"
)

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


def _refuse(settings: Settings, error: KeyRefusedError) -> None:
    """Raise ``error`` outside local mode; in local mode, log it as a warning."""
    if settings.env != "local":
        raise error
    log.warning("%s XIETONG_ENV=production refuses it.", error)


def _check_private(settings: Settings, path: Path, what: str) -> None:
    """Refuse (warn in local mode) the secret file ``path`` when others can get at it."""
    try:
        problem = exposure(path)
    except OSError:  # read a moment ago; gone since: reading it again reports it
        return
    if problem is not None:
        _refuse(settings, KeyFileExposedError(f"the {what} {path} {problem}."))


def _password(settings: Settings) -> str:
    if settings.keystore_password is not None:
        password = settings.keystore_password.get_secret_value()
        source = "XIETONG_KEYSTORE_PASSWORD"
    elif settings.keystore_password_file is not None:
        try:
            password = settings.keystore_password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the keystore password file {settings.keystore_password_file} ({exc.strerror})."
            ) from None
        _check_private(settings, settings.keystore_password_file, "keystore password file")
        source = f"the keystore password file {settings.keystore_password_file}"
    else:
        raise ConfigurationError(
            "the keystore is encrypted: set XIETONG_KEYSTORE_PASSWORD or XIETONG_KEYSTORE_PASSWORD_FILE."
        )
    if not password.strip():
        _refuse(
            settings,
            WeakKeystoreError(
                f"the password of the keystore {settings.keystore} ({source}) is empty: "
                "re-encrypt the keystore with a strong password, e.g. "
                "`Account.encrypt(Account.decrypt(keyfile, ''), new_password)` of eth_account, "
                "and configure that one."
            ),
        )
    return password


def _encrypted(keyfile: object) -> bool:
    """Whether ``keyfile`` has the shape of an encrypted Web3 Secret Storage (v3) keyfile."""
    if not isinstance(keyfile, dict) or keyfile.get("version") != 3:
        return False
    crypto = keyfile.get("crypto", keyfile.get("Crypto"))
    return isinstance(crypto, dict) and isinstance(crypto.get("ciphertext"), str)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _weakness(path: Path, crypto: dict[str, Any]) -> str | None:
    """What makes the key derivation of a keystore cheaper than eth-account's default (None:
    nothing). Raises ConfigurationError for a derivation eth-account cannot run."""
    kdf = crypto.get("kdf")
    params = crypto.get("kdfparams")
    params = {str(k).lower(): v for k, v in params.items()} if isinstance(params, dict) else {}
    if kdf == "scrypt" and all(_whole(params.get(name)) for name in ("n", "r", "p")):
        n, r, p = params["n"], params["r"], params["p"]
        if n >= SCRYPT_MIN_N and r >= SCRYPT_MIN_R and p >= SCRYPT_MIN_P:
            return None
        return (
            f"scrypt n={n}, r={r}, p={p}, below eth-account's default "
            f"n={SCRYPT_MIN_N}, r={SCRYPT_MIN_R}, p={SCRYPT_MIN_P}"
        )
    if kdf == "pbkdf2" and _whole(params.get("c")):
        iterations = params["c"]
        if params.get("prf") != _PBKDF2_PRF:
            return f"PBKDF2 with another function than eth-account's {_PBKDF2_PRF}"
        if iterations >= PBKDF2_MIN_ITERATIONS:
            return None
        plural = "" if iterations == 1 else "s"
        return (
            f"PBKDF2 at {iterations:,} iteration{plural}, below eth-account's default "
            f"{PBKDF2_MIN_ITERATIONS:,}"
        )
    raise ConfigurationError(
        f"cannot decrypt the keystore {path}: damaged file (its key derivation is not scrypt or "
        "PBKDF2 with whole-number parameters)."
    )


def _read_keystore(settings: Settings, path: Path) -> dict[str, Any]:
    """The keyfile at ``path``, refused when it is not an encrypted keyfile, when other users
    can get at it, or when it is cheaper to break than eth-account's default (outside local
    mode; a warning in local mode)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the keystore {path} ({exc.strerror}).") from None
    except UnicodeDecodeError:
        text = ""  # not text: refused below as not JSON
    _check_private(settings, path, "keystore")
    try:
        keyfile = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigurationError(
            f"the keystore {path} is not a JSON keyfile (an encrypted keystore; "
            "a plain private key is refused)."
        ) from None
    if not _encrypted(keyfile):
        raise ConfigurationError(
            f"the keystore {path} is not an encrypted keyfile (Web3 Secret Storage "
            "version 3, e.g. from eth_account's Account.encrypt or geth); a plain private key is "
            "refused."
        )
    weakness = _weakness(path, keyfile.get("crypto", keyfile.get("Crypto")))
    if weakness is not None:
        _refuse(
            settings,
            WeakKeystoreError(
                f"the keystore {path} is encrypted with {weakness}: re-encrypt it with "
                f"{_REENCRYPT}."
            ),
        )
    return dict(keyfile)


def _checked_keystore(settings: Settings, path: Path) -> tuple[dict[str, Any], str]:
    """The keyfile and its password, every check short of decrypting it passed."""
    keyfile = _read_keystore(settings, path)
    return keyfile, _password(settings)


def check_keystore(settings: Settings) -> None:
    """Refuse the configured keystore now if :func:`load_signer` would refuse it before
    decrypting it (unreadable, not an encrypted keyfile, cheaper than eth-account's default,
    an empty or missing password, files open to other users): ``xietong serve`` calls it
    before it starts serving, where the signer is only loaded at the first write. Nothing is
    checked when no keystore is configured.

    Raises:
        ConfigurationError: the keystore or its password cannot be read, or is not usable.
        WeakKeystoreError: an empty password or a cheap key derivation, outside local mode.
        KeyFileExposedError: a keystore or password file open to others, outside local mode.
    """
    if settings.keystore is not None:
        _checked_keystore(settings, settings.keystore)


def load_signer(settings: Settings) -> LocalAccount:
    """The account this gateway signs with.

    Raises:
        ConfigurationError: no key is configured, or the keystore cannot be read or decrypted.
        KeyRefusedError: a development key outside local mode.
        WeakKeystoreError: an empty password or a cheap key derivation, outside local mode.
        KeyFileExposedError: a keystore or password file open to others, outside local mode.
    """
    if settings.keystore is None:
        if settings.env != "local":
            raise KeyRefusedError(
                "no keystore is configured (XIETONG_KEYSTORE); the public development keys are "
                "accepted only when XIETONG_ENV=local."
            )
        return dev_account(settings.dev_account)
    keyfile, password = _checked_keystore(settings, settings.keystore)
    try:
        key = Account.decrypt(keyfile, password)
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
