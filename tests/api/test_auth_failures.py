"""Guessing keys: failed authentications are limited per client address (429 with
Retry-After, logged without the key), and X-Forwarded-For counts only from trusted proxies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.requests import Request

from api._client import came_over_tls, client_address, trusted_networks
from api.ratelimit import FailureLimiter, RateLimitedError
from ledger.errors import ConfigurationError
from ledger.settings import Settings
from tests.api._serving import Served
from tests.api._support import Api, World, assert_problem
from tests.support import mistype

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Clock:
    """A clock the test moves by hand (the limiter's time, not the test's)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def peers() -> Iterator[Callable[[Api, str], TestClient]]:
    """TestClients over an already open app, each as a different TCP peer."""
    opened: list[TestClient] = []

    def peer(api: Api, address: str) -> TestClient:
        client = TestClient(api.app, client=(address, 40_000))
        opened.append(client)
        return client

    yield peer
    for client in opened:
        client.close()


def _limited(world: World, make_api: Callable[..., Api], **settings: object) -> Api:
    # One failure back per minute: nothing comes back during a test unless the clock moves.
    return make_api(
        world.settings(api_auth_failures_per_minute=1, api_auth_failures_burst=3, **settings)
    )


def test_wrong_keys_are_limited_per_address_with_retry_after_and_logged_without_the_key(
    world: World, make_api: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    api = _limited(world, make_api)
    good = api.key("read")
    guesses = [mistype(good), "xt_0123456789ab_" + "A" * 43, "not-a-key"]
    with caplog.at_level(logging.WARNING, logger="xietong.api"):
        for guess in guesses:
            assert_problem(
                api.get("/v1/departments", headers={"X-API-Key": guess}), 401, "unauthorized"
            )
        refused = api.get("/v1/departments", headers={"X-API-Key": mistype(good)})
        body = assert_problem(refused, 429, "rate-limited")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "failed authentications" in body["detail"]
        # Over its budget, the address is refused even with the right key: guessing stops.
        assert_problem(api.get("/v1/departments", headers={"X-API-Key": good}), 429, "rate-limited")
    failed = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
    refusals = [
        r.getMessage() for r in caplog.records if "authentication refused" in r.getMessage()
    ]
    assert len(failed) == 3 and len(refusals) == 2
    assert all(
        r.levelno == logging.WARNING for r in caplog.records if "authentication" in r.message
    )
    assert all("testclient" in m and "GET /v1/departments" in m for m in failed + refusals)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in [good, *guesses[:2]]:
        assert secret not in logged


def test_another_address_keeps_its_budget(
    world: World, make_api: Callable[..., Api], peers: Callable[[Api, str], TestClient]
) -> None:
    api = _limited(world, make_api)
    for _ in range(3):
        assert_problem(api.get("/v1/departments", scope=None), 401, "unauthorized")
    assert_problem(api.get("/v1/departments"), 429, "rate-limited")
    other = peers(api, "192.0.2.44")
    assert other.get("/v1/departments", headers=api.headers("read")).status_code == 200


def test_missing_keys_count_and_the_budget_comes_back_with_time(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = _limited(world, make_api)
    clock = Clock()
    api.state.auth_failures.clock = clock
    for _ in range(3):
        assert_problem(api.post("/v1/anchors", scope=None, json={}), 401, "unauthorized")
    refused = api.post("/v1/anchors", scope=None, json={})
    assert_problem(refused, 429, "rate-limited")
    assert refused.headers["Retry-After"] == "60"  # one failure per minute comes back
    clock.now += 30
    assert_problem(api.get("/v1/departments"), 429, "rate-limited")
    clock.now += 30  # a minute: one failure's worth
    assert api.get("/v1/departments").status_code == 200
    assert_problem(api.get("/v1/departments", scope=None), 401, "unauthorized")
    assert_problem(api.get("/v1/departments"), 429, "rate-limited")


def test_a_key_below_the_scope_is_not_a_failed_authentication(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = _limited(world, make_api)
    for _ in range(5):
        assert_problem(api.post("/v1/anchors", scope="read", json={}), 403, "forbidden")
    assert api.get("/v1/departments").status_code == 200


def test_portal_sign_in_failures_are_limited_too(
    world: World, make_api: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    api = _limited(world, make_api)
    good = api.key("read")
    with caplog.at_level(logging.WARNING, logger="xietong.api"):
        for _ in range(3):
            failed = api.client.post(
                "/login", content=f"key={mistype(good)}".encode(), headers=FORM
            )
            assert failed.status_code == 401
        refused = api.client.post("/login", content=f"key={good}".encode(), headers=FORM)
    assert_problem(refused, 429, "rate-limited")
    assert int(refused.headers["Retry-After"]) >= 1
    assert "xietong_session" not in refused.headers.get("set-cookie", "")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("authentication failed from testclient on POST /login" in m for m in messages) == 3
    assert any("authentication refused" in m and "POST /login" in m for m in messages)
    assert good not in "\n".join(messages) and mistype(good) not in "\n".join(messages)


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    world: World, make_api: Callable[..., Api], peers: Callable[[Api, str], TestClient]
) -> None:
    api = _limited(world, make_api, trusted_proxies="10.0.0.0/8, 2001:db8::1")
    # An untrusted peer cannot pick its address: its made-up X-Forwarded-For is ignored.
    spoofer = peers(api, "192.0.2.9")
    for n in range(3):
        forged = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert_problem(spoofer.get("/v1/departments", headers=forged), 401, "unauthorized")
    assert_problem(
        spoofer.get("/v1/departments", headers={"X-Forwarded-For": "198.51.100.200"}),
        429,
        "rate-limited",
    )
    # Through the trusted proxy, the client's address is the first untrusted one from the
    # right; what the client wrote further left proves nothing.
    proxy = peers(api, "10.1.2.3")
    through = {"X-Forwarded-For": "6.6.6.6, 203.0.113.5, 10.9.9.9"}
    for _ in range(3):
        assert_problem(proxy.get("/v1/departments", headers=through), 401, "unauthorized")
    assert_problem(proxy.get("/v1/departments", headers=through), 429, "rate-limited")
    # Another client behind the same proxy is not the guesser.
    neighbour = {"X-Forwarded-For": "6.6.6.6, 203.0.113.6", **api.headers("read")}
    assert proxy.get("/v1/departments", headers=neighbour).status_code == 200


def test_the_client_address_and_tls_helpers() -> None:
    def request(peer: str, headers: dict[str, str], scheme: str = "http") -> Request:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "query_string": b"",
            "headers": raw,
            "client": (peer, 1),
            "scheme": scheme,
            "server": ("testserver", 80),
        }
        return Request(scope)

    trusted = "10.0.0.1,10.0.0.2"
    xff = {"X-Forwarded-For": "1.1.1.1, 2.2.2.2, 10.0.0.2", "X-Forwarded-Proto": "https"}
    assert client_address(request("10.0.0.1", xff), trusted) == "2.2.2.2"
    assert client_address(request("10.0.0.1", xff), "") == "10.0.0.1"
    assert client_address(request("9.9.9.9", xff), trusted) == "9.9.9.9"
    all_proxies = {"X-Forwarded-For": "10.0.0.2"}
    assert client_address(request("10.0.0.1", all_proxies), trusted) == "10.0.0.2"
    assert client_address(request("10.0.0.1", {}), trusted) == "10.0.0.1"
    assert came_over_tls(request("10.0.0.1", xff), trusted)
    assert not came_over_tls(request("9.9.9.9", xff), trusted)
    assert not came_over_tls(request("10.0.0.1", {"X-Forwarded-Proto": "http"}), trusted)
    assert came_over_tls(request("9.9.9.9", {}, scheme="https"), "")
    with pytest.raises(ConfigurationError, match=r"'10\.0\.0\.300' is not an IP address"):
        trusted_networks("10.0.0.1, 10.0.0.300")
    # A client appending its own values to the headers a trusted proxy forwards gains
    # nothing: the nearest proxy's values count.
    appended = {"X-Forwarded-For": "6.6.6.6, 3.3.3.3", "X-Forwarded-Proto": "https, http"}
    assert client_address(request("10.0.0.1", appended), trusted) == "3.3.3.3"
    assert not came_over_tls(request("10.0.0.1", appended), trusted)
    # Hops written with a port (as some proxies do): the address alone, so that the client's
    # changing source port is not a new budget.
    for hop, address in [
        ("3.3.3.3:51234", "3.3.3.3"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
        ("unknown", "unknown"),
    ]:
        forwarded = {"X-Forwarded-For": f"{hop}, 10.0.0.2"}
        assert client_address(request("10.0.0.1", forwarded), trusted) == address


def test_untrusted_proxies_are_refused_when_the_settings_load() -> None:
    with pytest.raises(ValidationError, match=r"'10\.0\.0\.1/99' is not an IP address or CIDR"):
        Settings(_env_file=None, trusted_proxies="10.0.0.1/99")  # type: ignore[call-arg]
    loaded = Settings(_env_file=None, trusted_proxies=" 10.0.0.0/8, ::1 ")  # type: ignore[call-arg]
    assert [str(n) for n in trusted_networks(loaded.trusted_proxies)] == ["10.0.0.0/8", "::1/128"]


def test_the_failure_limiter_on_its_own() -> None:
    clock = Clock()
    limiter = FailureLimiter(6, 2, clock=clock)  # one back every 10 s
    limiter.check("a")
    limiter.failed("a")
    limiter.failed("a")
    with pytest.raises(RateLimitedError) as refused:
        limiter.check("a")
    assert refused.value.retry_after == pytest.approx(10)
    limiter.check("b")
    clock.now += 10
    limiter.check("a")
    off = FailureLimiter(0, 1, clock=clock)  # 0 per minute: off
    for _ in range(5):
        off.failed("a")
    off.check("a")


def test_a_real_server_limits_guessing_and_logs_it(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    served = Served.on(
        worlds["sqlite"],
        tmp_path,
        XIETONG_API_AUTH_FAILURES_PER_MINUTE="1",
        XIETONG_API_AUTH_FAILURES_BURST="5",
    )
    guess = "xt_0123456789ab_" + "Q" * 43
    try:
        served.wait_until_up()
        with httpx.Client(base_url=served.url, timeout=30) as http:
            answers = [http.get("/v1/departments", headers={"X-API-Key": guess}) for _ in range(8)]
            sign_in = http.post("/login", content=f"key={guess}".encode(), headers=FORM)
        served.alive()
    finally:
        served.stop()
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 3
    for answer in answers[5:]:
        assert_problem(answer, 429, "rate-limited")
        assert int(answer.headers["Retry-After"]) >= 1
    assert_problem(sign_in, 429, "rate-limited")
    log = served.text()
    assert log.count("authentication failed from 127.0.0.1 on GET /v1/departments") == 5
    assert log.count("authentication refused: too many failures from 127.0.0.1") == 4
    assert guess not in log
