"""Settings come from XIETONG_* variables, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ledger import home as home_module
from ledger.home import Home, find_home
from ledger.paths import PROJECT_ROOT
from ledger.settings import Settings


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("XIETONG_ENV", "XIETONG_RPC_URL", "XIETONG_DEPLOYMENT", "XIETONG_DEPLOYMENTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XIETONG_HOME", str(tmp_path))
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.env == "production"
    assert s.rpc_url == "http://127.0.0.1:8545"
    assert s.deployment_path(31337) == tmp_path / "deployments" / "31337.json"
    assert s.trust_path(31337) == tmp_path / "deployments" / "31337.consortium.json"


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


# ---------------------------------------------------------------- the home (ledger/home.py)


def test_every_relative_path_is_inside_the_home_whatever_the_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("XIETONG_HOME", str(home))
    for name, value in {
        "XIETONG_DEPLOYMENT": "deployments/chain.json",
        "XIETONG_NODE_DIR": "state/node",
        "XIETONG_KEYSTORE": "department.keystore.json",
        "XIETONG_KEYSTORE_PASSWORD_FILE": "department.password",
        "XIETONG_DATABASE_URL": "sqlite:///data/x.db?mode=rwc",
    }.items():
        monkeypatch.setenv(name, value)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.home == home
    assert s.deployment == home / "deployments" / "chain.json"
    assert s.trust_path(1) == home / "deployments" / "chain.consortium.json"
    assert s.node_dir == home / "state" / "node"
    assert s.keystore == home / "department.keystore.json"
    assert s.keystore_password_file == home / "department.password"
    assert s.database_url == f"sqlite:///{home}/data/x.db?mode=rwc"
    assert s.deployments_dir == home / "deployments"  # the default, in the home too


def test_absolute_paths_and_other_databases_are_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XIETONG_HOME", str(tmp_path / "home"))
    for url in (
        "postgresql://gateway:s3cret@db.example/xietong",
        "sqlite:////srv/xietong/x.db",
        "sqlite:///:memory:",
        "sqlite://",
        "not a url",
    ):
        assert Settings(_env_file=None, database_url=url).database_url == url  # type: ignore[call-arg]
    assert Settings(_env_file=None, keystore="/etc/k.json").keystore == Path("/etc/k.json")  # type: ignore[call-arg]


def test_a_relative_home_is_taken_from_the_folder_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XIETONG_HOME", "gateway")
    assert find_home() == Home(tmp_path / "gateway", "XIETONG_HOME")
    assert Settings(_env_file=None).home == tmp_path / "gateway"  # type: ignore[call-arg]


def test_without_xietong_home_the_checkout_then_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert find_home({}) == Home(PROJECT_ROOT, "checkout")  # this package runs from one
    # A blank XIETONG_HOME is not set, for the settings too (not the current folder).
    monkeypatch.setenv("XIETONG_HOME", "  ")
    monkeypatch.chdir(tmp_path)
    blank = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (blank.home, blank.home_source) == (PROJECT_ROOT, "checkout")
    assert blank.node_dir == PROJECT_ROOT / "var" / "node"
    given = Settings(_env_file=None, home=tmp_path / "given")  # type: ignore[call-arg]
    assert (given.home, given.home_source) == (tmp_path / "given", "settings")
    monkeypatch.delenv("XIETONG_HOME")
    installed = tmp_path / "site-packages"
    installed.mkdir()
    monkeypatch.setattr(home_module, "PROJECT_ROOT", installed)  # an installed package
    assert find_home({"XDG_DATA_HOME": str(tmp_path / "data")}) == Home(
        tmp_path / "data" / "xietong", "user data"
    )
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert find_home({"XDG_DATA_HOME": "relative/ignored"}) == Home(
        tmp_path / "user" / ".local" / "share" / "xietong", "user data"
    )
    assert find_home({"XIETONG_HOME": "  "}).source == "user data"  # blank: not set


def test_the_env_file_read_is_the_homes_not_the_current_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / ".env").write_text("XIETONG_CONFIRMATIONS=7\n", encoding="utf-8")
    (elsewhere / ".env").write_text("XIETONG_CONFIRMATIONS=3\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("XIETONG_CONFIRMATIONS", raising=False)
    monkeypatch.setenv("XIETONG_HOME", str(home))
    assert Settings().confirmations == 7
    assert Settings(home=elsewhere).confirmations == 3  # a home given in code: its .env
    assert Settings(_env_file=None).confirmations == 1  # type: ignore[call-arg]


# ---------------------------------------------------------------- fallback nodes


def test_fallback_urls_are_comma_separated_and_none_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XIETONG_RPC_FALLBACK_URLS", raising=False)
    assert Settings(_env_file=None).rpc_fallback_urls == []  # type: ignore[call-arg]
    monkeypatch.setenv(
        "XIETONG_RPC_FALLBACK_URLS", " http://127.0.0.3:8545, ,https://node.example/rpc "
    )
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert loaded.rpc_fallback_urls == ["http://127.0.0.3:8545", "https://node.example/rpc"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("127.0.0.3:8545", "'127.0.0.3:8545' is not an http:// or https:// URL with a host"),
        (
            "ws://127.0.0.3:8546",
            "'ws://127.0.0.3:8546' is not an http:// or https:// URL with a host",
        ),
        ("http://:8545", "'http://:8545' is not an http:// or https:// URL with a host"),
        ("http://127.0.0.3:99999", "'http://127.0.0.3:99999' has no valid port"),
        (
            "http://127.0.0.1:8545",
            "'http://127.0.0.1:8545' is XIETONG_RPC_URL itself, not another node",
        ),
        ("http://127.0.0.3:8545,http://127.0.0.3:8545", "'http://127.0.0.3:8545' is named twice"),
    ],
)
def test_a_bad_fallback_url_is_refused_when_the_settings_load(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("XIETONG_RPC_URL", "http://127.0.0.1:8545")
    monkeypatch.setenv("XIETONG_RPC_FALLBACK_URLS", value)
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)  # type: ignore[call-arg]
    (error,) = info.value.errors()
    assert error["loc"] == ("rpc_fallback_urls",)
    assert error["msg"] == f"Value error, {reason}"


def test_a_refused_fallback_url_is_named_without_its_credentials() -> None:
    """A fallback URL may carry a key (user info, path): the sentence (what the CLI prints of
    a setting refused, ledger.cli._output.load_settings) names its origin only."""
    with pytest.raises(ValidationError) as refused:
        Settings(
            rpc_url="http://127.0.0.2:8545",
            rpc_fallback_urls="https://user:s3cret@node.example:99999/v3/KEY123",
        )
    message = str(refused.value.errors()[0]["msg"])
    assert message.endswith("'https://node.example:99999' has no valid port")
    assert "s3cret" not in message and "KEY123" not in message


# ---------------------------------------------------------------- checkpoint peers


def test_checkpoint_peers_are_comma_separated_without_a_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XIETONG_CHECKPOINT_PEERS", raising=False)
    assert Settings(_env_file=None).checkpoint_peers == []  # type: ignore[call-arg]
    monkeypatch.setenv("XIETONG_ENV", "production")
    monkeypatch.setenv(
        "XIETONG_CHECKPOINT_PEERS", " https://gw.psb.example/, ,http://127.0.0.5:8000 "
    )
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert loaded.checkpoint_peers == ["https://gw.psb.example", "http://127.0.0.5:8000"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("gw.psb.example", "the checkpoint peer 'gw.psb.example' is not an http(s) URL"),
        (
            "https://gw.psb.example:99999",
            "the checkpoint peer 'https://gw.psb.example:99999' has no valid port",
        ),
        (
            "https://user:s3cret@gw.psb.example",
            "the checkpoint peer 'https://gw.psb.example' has a user or password in it",
        ),
        (
            "https://gw.psb.example/?key=K",
            "the checkpoint peer 'https://gw.psb.example' has a query or fragment",
        ),
        (
            "http://gw.psb.example",
            "the checkpoint peer 'http://gw.psb.example' is plain http to another host: use https",
        ),
        (
            "https://gw.psb.example,https://gw.psb.example/",
            "the checkpoint peer 'https://gw.psb.example' is named twice",
        ),
    ],
)
def test_a_bad_checkpoint_peer_is_refused_when_the_settings_load(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("XIETONG_ENV", "production")
    monkeypatch.setenv("XIETONG_CHECKPOINT_PEERS", value)
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)  # type: ignore[call-arg]
    (error,) = info.value.errors()
    assert error["loc"] == ("checkpoint_peers",)
    assert error["msg"] == f"Value error, {reason}"
    assert "s3cret" not in error["msg"]


def test_plain_http_peers_are_allowed_anywhere_in_local_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XIETONG_ENV", "local")
    monkeypatch.setenv("XIETONG_CHECKPOINT_PEERS", "http://gw.psb.example:8000")
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert loaded.checkpoint_peers == ["http://gw.psb.example:8000"]
