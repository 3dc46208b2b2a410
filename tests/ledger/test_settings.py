"""Settings come from XIETONG_* variables, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ledger.settings import Settings


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("XIETONG_ENV", "XIETONG_RPC_URL", "XIETONG_DEPLOYMENT", "XIETONG_DEPLOYMENTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.env == "production"
    assert s.rpc_url == "http://127.0.0.1:8545"
    assert s.deployment_path(31337) == Path("deployments/31337.json")
    assert s.trust_path(31337) == Path("deployments/31337.consortium.json")


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIETONG_ENV", "local")
    monkeypatch.setenv("XIETONG_DEPLOYMENT", "/tmp/m.json")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.env == "local"
    assert s.deployment_path(1) == Path("/tmp/m.json")
    assert s.trust_path(1) == Path("/tmp/m.consortium.json")  # beside the manifest


def test_invalid_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIETONG_CONFIRMATIONS", "0")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_secret_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIETONG_KEYSTORE_PASSWORD", "hunter2")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.model_dump())
