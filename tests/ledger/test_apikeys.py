"""API keys on real SQLite and PostgreSQL: created once, stored only hashed, scoped, revocable."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger.apikeys import (
    SCOPES,
    ApiKeyError,
    authenticate,
    create_api_key,
    list_api_keys,
    revoke_api_key,
    scope_allows,
)
from ledger.db.engine import create_db_engine
from ledger.errors import InputError
from tests.support import mistype


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine: Engine = create_db_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_a_created_key_authenticates_as_its_row(session: Session) -> None:
    row, key = create_api_key(session=session, name="  审计局 portal  ", scope="read")
    assert re.fullmatch(r"xt_[0-9a-f]{12}_[0-9A-Za-z_-]{43}", key)
    assert key.split("_")[1] == row.id
    assert (row.name, row.scope, row.revoked_at) == ("审计局 portal", "read", None)
    assert row.created_at > 0
    found = authenticate(session=session, key=key)
    assert (found.id, found.scope) == (row.id, "read")
    assert authenticate(session=session, key=f"  {key}\n").id == row.id


def test_only_the_sha256_of_a_key_is_stored(session: Session) -> None:
    row, key = create_api_key(session=session, name="archive", scope="anchor")
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    secret = key.split("_", 2)[2]
    stored = session.execute(text("SELECT id, name, scope, key_hash FROM api_key")).all()
    assert len(stored) == 1
    assert all(secret not in str(value) and key not in str(value) for value in stored[0])


def test_keys_are_unique(session: Session) -> None:
    keys = {create_api_key(session=session, name=f"k{i}", scope="read")[1] for i in range(5)}
    assert len(keys) == 5
    assert len({k.split("_")[1] for k in keys}) == 5


@pytest.mark.parametrize(
    "key",
    [
        "",
        "xt_",
        "nonsense",
        "xt_0123456789AB_" + "a" * 43,
        "xt_0123456789ab_" + "a" * 42,
        "xt_0123456789ab_" + "a" * 43 + "!",
        "yt_0123456789ab_" + "a" * 43,
    ],
)
def test_malformed_keys_are_refused(session: Session, key: str) -> None:
    with pytest.raises(ApiKeyError, match="malformed") as info:
        authenticate(session=session, key=key)
    assert info.value.kind == "unauthorized"


def test_unknown_keys_and_wrong_secrets_are_refused(session: Session) -> None:
    row, key = create_api_key(session=session, name="x", scope="admin")
    with pytest.raises(ApiKeyError, match="not known"):
        authenticate(session=session, key="xt_" + "0" * 12 + "_" + "a" * 43)
    changed = mistype(key)
    with pytest.raises(ApiKeyError, match="not known") as info:
        authenticate(session=session, key=changed)
    assert changed not in str(info.value) and row.id  # the key is never echoed


def test_a_revoked_key_is_refused_and_revoking_again_changes_nothing(session: Session) -> None:
    row, key = create_api_key(session=session, name="old", scope="admin")
    revoked = revoke_api_key(session=session, key_id=row.id)
    assert revoked.revoked_at is not None
    with pytest.raises(ApiKeyError, match="revoked"):
        authenticate(session=session, key=key)
    assert revoke_api_key(session=session, key_id=row.id).revoked_at == revoked.revoked_at
    with pytest.raises(InputError, match="no API key has the id"):
        revoke_api_key(session=session, key_id="ffffffffffff")


def test_list_shows_every_key_oldest_first(session: Session) -> None:
    assert list_api_keys(session=session) == []
    made = [
        create_api_key(session=session, name=f"k{i}", scope=s)[0].id for i, s in enumerate(SCOPES)
    ]
    listed = list_api_keys(session=session)
    assert {k.id for k in listed} == set(made)
    assert [k.created_at for k in listed] == sorted(k.created_at for k in listed)
    revoke_api_key(session=session, key_id=made[0])
    assert {k.id for k in list_api_keys(session=session)} == set(made)  # revoked keys stay listed


@pytest.mark.parametrize(
    ("granted", "needed", "allowed"),
    [
        ("read", "read", True),
        ("read", "anchor", False),
        ("read", "admin", False),
        ("anchor", "read", True),
        ("anchor", "anchor", True),
        ("anchor", "admin", False),
        ("admin", "read", True),
        ("admin", "anchor", True),
        ("admin", "admin", True),
        ("watch", "read", True),
        ("watch", "watch", True),
        ("watch", "anchor", False),
        ("watch", "admin", False),
        ("anchor", "watch", False),
        ("read", "watch", False),
        ("admin", "watch", True),
        ("", "read", False),
        ("root", "read", False),
        ("ADMIN", "read", False),
    ],
)
def test_anchor_and_watch_cover_read_and_admin_covers_all(
    granted: str, needed: str, allowed: bool
) -> None:
    assert scope_allows(granted, needed) is allowed  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "scope", "message"),
    [
        ("x", "write", "scope must be one of read, anchor, watch, admin"),
        ("x", "", "scope must be one of"),
        ("", "read", "name of 1 to 200 characters"),
        ("   ", "read", "name of 1 to 200 characters"),
        ("n" * 201, "read", "name of 1 to 200 characters"),
    ],
)
def test_bad_scopes_and_names_are_refused(
    session: Session, name: str, scope: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        create_api_key(session=session, name=name, scope=scope)
    assert list_api_keys(session=session) == []


def test_a_name_of_200_characters_is_accepted(session: Session) -> None:
    row, _ = create_api_key(session=session, name="名" * 200, scope="read")
    assert row.name == "名" * 200
