"""Portal sessions: an opaque id in the cookie (stored hashed), only read keys sign in, idle
and absolute expiry, a CSRF-protected POST to sign out, revocation of the key ends the
session, and the cookie's attributes (Secure when the request came over TLS)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.deps import SECURE_SESSION_COOKIE, SESSION_COOKIE
from ledger.db.tables import PortalSession
from ledger.portal_sessions import (
    SessionExpiredError,
    csrf_token,
    end_sessions_of_key,
    open_session,
    resolve_session,
)
from tests.api._support import Api, World, assert_problem
from tests.support import gateway_environment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _sign_in(client: TestClient, key: str, **headers: str) -> httpx.Response:
    return client.post(
        "/login",
        content=f"key={key}&next=/datasets".encode(),
        headers={**FORM, **headers},
        follow_redirects=False,
    )


def _cookie(response: httpx.Response) -> SimpleCookie:
    """The session cookie the response sets, with its attributes."""
    header = response.headers.get("set-cookie", "")
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    assert SESSION_COOKIE in jar, header
    return jar


def _session_rows(api: Api) -> list[PortalSession]:
    with Session(api.state.gateway.engine) as session:
        return list(session.exec(select(PortalSession)).all())


def _reads(api: Api, session_id: str) -> httpx.Response:
    """A read of the API with nothing but the portal's cookie."""
    api.client.cookies.clear()
    return api.client.get("/v1/departments", headers={"Cookie": f"{SESSION_COOKIE}={session_id}"})


def _signed_in(api: Api) -> tuple[str, str]:
    """(the read key's id, the session id) of a fresh sign-in."""
    key_id, key = api.new_key("read")
    response = _sign_in(api.client, key)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/datasets"
    return key_id, _cookie(response)[SESSION_COOKIE].value


def test_signing_in_opens_a_session_whose_id_is_stored_hashed(api: Api) -> None:
    key_id, key = api.new_key("read")
    response = _sign_in(api.client, key)
    assert response.status_code == 303, response.text
    morsel = _cookie(response)[SESSION_COOKIE]
    session_id = morsel.value
    assert key not in response.headers["set-cookie"]
    assert len(session_id) >= 43 and session_id != key
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict" and morsel["path"] == "/"
    assert not morsel["secure"]  # plain HTTP, no trusted proxy
    [row] = [r for r in _session_rows(api) if r.key_id == key_id]
    assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert session_id not in {r.id_hash for r in _session_rows(api)}
    assert _reads(api, session_id).status_code == 200
    # Pages render the sign-out form with the session's CSRF token.
    page = api.client.get("/datasets", headers={"Cookie": f"{SESSION_COOKIE}={session_id}"})
    assert page.status_code == 200
    assert f'name="csrf" value="{csrf_token(session_id)}"' in page.text


@pytest.mark.parametrize("scope", ["anchor", "watch", "admin"])
def test_only_read_keys_sign_in(api: Api, scope: str) -> None:
    response = _sign_in(api.client, api.key(scope))
    assert response.status_code == 403
    assert 'data-testid="login-read-only"' in response.text
    assert "只有只读（read）密钥可以登录门户" in response.text  # the default language
    assert "闲置 30 分钟或登录 8 小时后失效" in response.text  # the session's lifetimes
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    key_id = api.key(scope).split("_")[1]  # xt_<id>_<secret>
    assert key_id not in {r.key_id for r in _session_rows(api)}


def test_each_sign_in_gets_a_new_session_and_ends_the_old_one(api: Api) -> None:
    _, first = _signed_in(api)
    api.client.cookies.clear()
    again = _sign_in(api.client, api.key("read"), Cookie=f"{SESSION_COOKIE}={first}")
    second = _cookie(again)[SESSION_COOKIE].value
    assert second != first
    assert_problem(_reads(api, first), 401, "unauthorized")
    assert _reads(api, second).status_code == 200


def test_get_logout_ends_nothing(api: Api) -> None:
    _, session_id = _signed_in(api)
    api.client.cookies.clear()
    response = api.client.get(
        "/logout", headers={"Cookie": f"{SESSION_COOKIE}={session_id}"}, follow_redirects=False
    )
    assert_problem(response, 405, "method-not-allowed")
    assert _reads(api, session_id).status_code == 200


def test_logout_needs_the_session_csrf_token_and_the_same_origin(api: Api) -> None:
    _, session_id = _signed_in(api)
    api.client.cookies.clear()
    cookie = {"Cookie": f"{SESSION_COOKIE}={session_id}", **FORM}
    token = csrf_token(session_id)
    for body, origin in [
        (b"", None),  # a form without the token (a forged cross-site form)
        (b"csrf=" + b"0" * 64, None),
        (f"csrf={csrf_token('another session')}".encode(), None),  # another session's
        (f"csrf={token}".encode(), "null"),  # an opaque origin (a sandboxed frame)
        (f"csrf={token}".encode(), "http://evil.example"),
    ]:
        headers = {**cookie, **({"Origin": origin} if origin else {})}
        refused = api.client.post("/logout", content=body, headers=headers, follow_redirects=False)
        assert refused.status_code == 403, body
        assert 'data-testid="login-refused"' in refused.text
        assert _reads(api, session_id).status_code == 200
    ended = api.client.post(
        "/logout", content=f"csrf={token}".encode(), headers=cookie, follow_redirects=False
    )
    assert ended.status_code == 303 and ended.headers["location"] == "/login?out=1"
    assert f'{SESSION_COOKIE}=""' in ended.headers["set-cookie"]
    assert_problem(_reads(api, session_id), 401, "unauthorized")
    assert hashlib.sha256(session_id.encode()).hexdigest() not in {
        r.id_hash for r in _session_rows(api)
    }


def test_revoking_the_key_ends_its_sessions_at_once(api: Api, world: World, tmp_path: Path) -> None:
    key_id, session_id = _signed_in(api)
    assert _reads(api, session_id).status_code == 200
    revoked = subprocess.run(
        [str(Path(sys.executable).with_name("xietong")), "apikey", "revoke", key_id],
        env={
            **gateway_environment(tmp_path),
            "XIETONG_DATABASE_URL": world.database_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert revoked.returncode == 0, revoked.stderr
    body = assert_problem(_reads(api, session_id), 401, "unauthorized")
    assert "sign in again" in body["detail"]
    page = api.client.get(
        "/datasets", headers={"Cookie": f"{SESSION_COOKIE}={session_id}"}, follow_redirects=False
    )
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert f'{SESSION_COOKIE}=""' in page.headers["set-cookie"]  # the dead cookie is dropped


def _age(api: Api, session_id: str, *, idle: int = 0, age: int = 0) -> None:
    """Move the session's last use and opening back in time (as if time had passed)."""
    digest = hashlib.sha256(session_id.encode()).hexdigest()
    with Session(api.state.gateway.engine) as session:
        row = session.get(PortalSession, digest)
        assert row is not None
        row.last_seen -= idle
        row.created_at -= age
        session.add(row)
        session.commit()


def test_an_idle_session_expires(world: World, make_api: Callable[..., Api]) -> None:
    api = make_api(world.settings(portal_session_idle_seconds=600))
    _, session_id = _signed_in(api)
    _age(api, session_id, idle=590)
    assert _reads(api, session_id).status_code == 200  # used: idle again from now
    _age(api, session_id, idle=590)  # 1,180 s after the sign-in, 590 after the last use
    assert _reads(api, session_id).status_code == 200
    _age(api, session_id, idle=600)
    assert_problem(_reads(api, session_id), 401, "unauthorized")
    digest = hashlib.sha256(session_id.encode()).hexdigest()
    assert digest not in {r.id_hash for r in _session_rows(api)}  # ended, not only refused


def test_a_session_in_use_still_ends_at_its_absolute_expiry(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(world.settings(portal_session_max_seconds=3600))
    _, session_id = _signed_in(api)
    _age(api, session_id, age=3590)
    assert _reads(api, session_id).status_code == 200
    _age(api, session_id, age=10)
    assert_problem(_reads(api, session_id), 401, "unauthorized")


def test_session_storage_on_its_own(api: Api) -> None:
    key_id, _ = api.new_key("read")
    now = int(time.time())
    with Session(api.state.gateway.engine) as session:
        opened = open_session(session=session, key_id=key_id, now=now, absolute=100)
        assert (
            resolve_session(
                session=session, session_id=opened, now=now + 50, idle=60, absolute=100
            ).id
            == key_id
        )
        with pytest.raises(SessionExpiredError, match="has ended"):
            resolve_session(
                session=session, session_id=opened, now=now + 110, idle=60, absolute=100
            )
        with pytest.raises(SessionExpiredError, match="not known"):  # ended by the expiry
            resolve_session(session=session, session_id=opened, now=now + 51, idle=60, absolute=100)
        two = [open_session(session=session, key_id=key_id, now=now, absolute=100) for _ in "ab"]
        assert end_sessions_of_key(session=session, key_id=key_id) == 2
        with pytest.raises(SessionExpiredError):
            resolve_session(session=session, session_id=two[0], now=now, idle=60, absolute=100)


@pytest.mark.parametrize(
    ("peer", "base", "proto", "secure"),
    [
        ("10.0.0.2", "http://testserver", "https", True),  # the trusted TLS proxy
        ("10.0.0.2", "http://testserver", "http", False),
        ("192.0.2.9", "http://testserver", "https", False),  # anyone can send the header
        ("192.0.2.9", "https://testserver", None, True),  # TLS to the gateway itself
    ],
)
def test_the_cookie_is_secure_when_the_request_came_over_tls(
    world: World,
    make_api: Callable[..., Api],
    peer: str,
    base: str,
    proto: str | None,
    secure: bool,
) -> None:
    api = make_api(world.settings(trusted_proxies="10.0.0.0/8"))
    client = TestClient(api.app, base_url=base, client=(peer, 40_000))  # the app is open
    try:
        headers = {"X-Forwarded-Proto": proto} if proto else {}
        response = _sign_in(client, api.key("read"), **headers)
    finally:
        client.close()
    assert response.status_code == 303, response.text
    name = SECURE_SESSION_COOKIE if secure else SESSION_COOKIE
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    assert list(jar) == [name]  # over TLS only the __Host- cookie, never the plain one
    assert bool(jar[name]["secure"]) is secure
    assert jar[name]["path"] == "/" and not jar[name]["domain"]  # what __Host- requires
    assert ("; secure" in response.headers["set-cookie"].lower()) is secure


def test_over_tls_only_the_host_prefixed_cookie_opens_the_session(
    world: World, make_api: Callable[..., Api]
) -> None:
    """A cookie without the ``__Host-`` prefix (one a plain-HTTP page or a sibling domain
    could have set) does not count over TLS; the prefixed one does, and only over TLS."""
    api = make_api(world.settings(trusted_proxies="10.0.0.0/8"))
    tls = {"X-Forwarded-Proto": "https"}
    client = TestClient(api.app, client=("10.0.0.2", 40_000))
    try:
        signed_in = _sign_in(client, api.key("read"), **tls)
        assert signed_in.status_code == 303, signed_in.text
        session_id = signed_in.cookies[SECURE_SESSION_COOKIE]
        client.cookies.clear()
        route = "/v1/departments"
        with_prefix = {"Cookie": f"{SECURE_SESSION_COOKIE}={session_id}"}
        without = {"Cookie": f"{SESSION_COOKIE}={session_id}"}
        assert client.get(route, headers={**tls, **with_prefix}).status_code == 200
        refused = client.get(route, headers={**tls, **without})
        assert refused.status_code == 401, refused.text
        assert refused.json()["type"] == "urn:xietong:problem:unauthorized"
        plain = client.get(route, headers=with_prefix)  # the same id, not over TLS
        assert plain.status_code == 401, plain.text
    finally:
        client.close()


# ------------------------------------------------------------------ failed authentications


def test_visiting_pages_before_signing_in_is_not_a_failed_authentication(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(world.settings(api_auth_failures_per_minute=0.001, api_auth_failures_burst=3))
    api.client.cookies.clear()
    pages = [api.client.get("/datasets", follow_redirects=False) for _ in range(6)]
    assert [p.status_code for p in pages] == [303] * 6
    assert all(p.headers["location"].startswith("/login") for p in pages)
    assert _sign_in(api.client, api.key("read")).status_code == 303  # not rate-limited


def test_a_forged_session_cookie_is_a_failed_authentication(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(world.settings(api_auth_failures_per_minute=0.001, api_auth_failures_burst=3))
    forged = {"Cookie": f"{SESSION_COOKIE}={'A' * 43}"}
    api.client.cookies.clear()
    answers = [api.client.get("/v1/departments", headers=forged) for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[-1].headers["retry-after"]
    # Past the budget even a correct key is refused, on the portal too.
    assert_problem(api.get("/v1/departments"), 429, "rate-limited")


def test_an_untrusted_peer_cannot_claim_tls_to_use_the_host_prefixed_cookie(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(world.settings(trusted_proxies="10.0.0.0/8"))
    tls = {"X-Forwarded-Proto": "https"}
    proxy = TestClient(api.app, client=("10.0.0.2", 40_000))
    outsider = TestClient(api.app, client=("192.0.2.7", 40_000))
    try:
        signed_in = _sign_in(proxy, api.key("read"), **tls)
        session_id = signed_in.cookies[SECURE_SESSION_COOKIE]
        with_prefix = {"Cookie": f"{SECURE_SESSION_COOKIE}={session_id}"}
        assert proxy.get("/v1/departments", headers={**tls, **with_prefix}).status_code == 200
        # The same cookie and header from a peer that is not a trusted proxy: not over TLS,
        # so the __Host- cookie does not count.
        claimed = outsider.get("/v1/departments", headers={**tls, **with_prefix})
        assert claimed.status_code == 401, claimed.text
    finally:
        proxy.close()
        outsider.close()


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_a_sign_in_from_another_origin_is_refused(api: Api, origin: str) -> None:
    """A cross-site page posting a key it phished to /login (login CSRF) opens no session."""
    before = len(_session_rows(api))
    refused = _sign_in(api.client, api.key("read"), Origin=origin)
    assert refused.status_code == 400, refused.text  # the sign-in page again, refused
    assert "set-cookie" not in refused.headers
    assert len(_session_rows(api)) == before
