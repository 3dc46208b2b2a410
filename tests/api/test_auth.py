"""Who may call what: API keys and their scopes on every /v1 route, open reads, public
routes, and the per-key rate limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlmodel import Session

from api.deps import SESSION_COOKIE
from ledger import apikeys
from ledger.apikeys import revoke_api_key
from tests.api._support import Api, World, assert_problem
from tests.support import mistype

H = "0x" + "ab" * 32
BATCH = "0" * 32

#: The scope each /v1 route needs, written down independently of the app: a new route
#: without an entry here fails test_the_table_covers_every_v1_route.
SCOPES: dict[tuple[str, str], str] = {
    ("GET", "/v1/verify"): "read",
    ("POST", "/v1/verify/file"): "read",
    ("POST", "/v1/verify/record"): "read",
    ("GET", "/v1/proofs/{leaf}"): "read",
    ("GET", "/v1/datasets"): "read",
    ("GET", "/v1/datasets/{dataset}"): "read",
    ("GET", "/v1/datasets/{dataset}/provenance"): "read",
    ("POST", "/v1/datasets/{dataset}/erasures"): "admin",
    ("GET", "/v1/agreements"): "read",
    ("GET", "/v1/agreements/{agreement}"): "read",
    ("GET", "/v1/authorizations/check"): "read",
    ("GET", "/v1/commitments"): "read",
    ("GET", "/v1/commitments/{commitment}"): "read",
    ("GET", "/v1/departments"): "read",
    ("GET", "/v1/departments/{department}"): "read",
    ("GET", "/v1/audit/events"): "read",
    ("GET", "/v1/audit/receipts"): "read",
    ("GET", "/v1/documents"): "read",
    ("GET", "/v1/catalogue"): "admin",
    ("GET", "/v1/catalogue/names"): "read",
    ("POST", "/v1/catalogue"): "admin",
    ("GET", "/v1/proposals"): "read",
    ("GET", "/v1/proposals/{proposal}"): "read",
    ("POST", "/v1/proposals"): "admin",
    ("POST", "/v1/proposals/{proposal}/approve"): "admin",
    ("POST", "/v1/proposals/{proposal}/execute"): "admin",
    ("POST", "/v1/anchors"): "anchor",
    ("GET", "/v1/anchors/{batch_id}"): "anchor",
    ("GET", "/v1/anchors/failed"): "anchor",
    ("POST", "/v1/anchors/{batch_id}/abandon"): "anchor",
    ("POST", "/v1/agreements"): "admin",
    ("POST", "/v1/agreements/{agreement}/accept"): "admin",
    ("POST", "/v1/agreements/{agreement}/revoke"): "admin",
    ("POST", "/v1/agreements/{agreement}/reject"): "admin",
    ("POST", "/v1/agreements/{agreement}/withdraw"): "admin",
    ("POST", "/v1/agreements/{agreement}/receipts"): "admin",
    ("POST", "/v1/agreements/{agreement}/receipts/{index}/verify"): "read",
    ("POST", "/v1/agreements/{agreement}/amend"): "admin",
    ("POST", "/v1/commitments"): "admin",
    ("POST", "/v1/commitments/{commitment}/sign"): "admin",
    ("POST", "/v1/commitments/{commitment}/report"): "admin",
    ("POST", "/v1/commitments/{commitment}/complete"): "admin",
    ("POST", "/v1/commitments/{commitment}/cancel"): "admin",
    ("POST", "/v1/watchers"): "watch",
    ("GET", "/v1/watchers"): "watch",
    ("GET", "/v1/watchers/{watcher_id}"): "watch",
    ("DELETE", "/v1/watchers/{watcher_id}"): "watch",
    ("POST", "/v1/watchers/{watcher_id}/rotate"): "watch",
    ("GET", "/v1/webhooks"): "watch",
    ("POST", "/v1/webhooks/{message_id}/retry"): "watch",
    ("POST", "/v1/checkpoints/conflicts/{number}/acknowledge"): "admin",
}
#: /v1 routes anyone may call without a key (rate-limited per client address).
PUBLIC: set[tuple[str, str]] = {
    ("GET", "/v1/consortium"),
    ("GET", "/v1/checkpoints"),
    ("GET", "/v1/checkpoints/latest"),
    ("GET", "/v1/checkpoints/conflicts"),
    ("GET", "/v1/checkpoints/{number}"),
}
#: The key scopes a route of each scope refuses (written down apart from ledger.apikeys):
#: ``anchor`` and ``watch`` cover ``read`` and neither the other; ``admin`` covers all.
LOWER = {
    "read": (),
    "anchor": ("read", "watch"),
    "watch": ("read", "anchor"),
    "admin": ("read", "anchor", "watch"),
}
ALL_SCOPES = ("read", "anchor", "watch", "admin")
# Path parameters that pass validation, so that only authentication can refuse the request.
PATH_VALUES = {
    "leaf": H,
    "dataset": "HZ-MZ-DIBAO",
    "agreement": H,
    "commitment": H,
    "department": "11330100MB1A00002K",
    "batch_id": BATCH,
    "proposal": "1",
    "index": "0",
    "watcher_id": "wh_" + "0" * 32,
    "message_id": "msg_" + "0" * 32,
    "number": "16",
}


def v1_routes(api: Api) -> set[tuple[str, str]]:
    """(method, path) of every API route under /v1 (included routers flattened)."""
    return {
        (method, context.path)
        for context in iter_route_contexts(api.app.routes)
        if isinstance(context.original_route, APIRoute) and context.path.startswith("/v1/")
        for method in context.methods
    }


def url(path: str, values: dict[str, str] = PATH_VALUES) -> str:
    return path.format(**values)


def call(api: Api, method: str, path: str, headers: dict[str, str]) -> object:
    return api.client.request(method, url(path), headers=headers)


def test_the_table_covers_every_v1_route(api: Api) -> None:
    assert v1_routes(api) == set(SCOPES) | PUBLIC
    assert not PUBLIC & set(SCOPES)
    assert ALL_SCOPES == apikeys.SCOPES and set(LOWER) == set(ALL_SCOPES)  # none forgotten


def test_every_v1_route_refuses_a_request_without_a_key(
    world: World, make_api: Callable[..., Api]
) -> None:
    # One refused request per route, from one address: more than the default burst of failed
    # authentications (which test_auth_failures checks), so the burst is raised here.
    api = make_api(world.settings(api_auth_failures_burst=len(SCOPES) + 10))
    for method, path in sorted(SCOPES):
        response = api.client.request(method, url(path))
        body = assert_problem(response, 401, "unauthorized")
        assert SCOPES[method, path] in body["detail"], (method, path)
        assert response.headers["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'


def test_keys_below_the_scope_of_a_route_are_forbidden(api: Api) -> None:
    refused = 0
    for (method, path), scope in sorted(SCOPES.items()):
        for lower in LOWER[scope]:
            response = api.client.request(method, url(path), headers=api.headers(lower))
            assert_problem(response, 403, "forbidden")
            refused += 1
    assert refused == sum(len(LOWER[s]) for s in SCOPES.values()) > 0


def test_a_key_of_the_needed_scope_passes_authentication(api: Api) -> None:
    # Malformed path ids make the write routes stop at input checking: nothing is sent.
    malformed = {**PATH_VALUES, "agreement": "0x12", "commitment": "0x12"}
    for (method, path), scope in sorted(SCOPES.items()):
        for granted in (one for one in ALL_SCOPES if one not in LOWER[scope]):
            response = api.client.request(
                method, url(path, malformed), headers=api.headers(granted)
            )
            assert response.status_code not in (401, 403, 429), (method, path, response.text)


def test_a_bearer_token_counts_as_a_key(api: Api) -> None:
    key = api.key("read")
    response = api.client.get("/v1/departments", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    refused = api.client.get("/v1/departments", headers={"Authorization": "Bearer xt_nope"})
    assert_problem(refused, 401, "unauthorized")


def test_the_portal_session_cookie_counts_for_reads_only(api: Api) -> None:
    signed_in = api.client.post(
        "/login", data={"key": api.key("read"), "next": "/"}, follow_redirects=False
    )
    assert signed_in.status_code == 303, signed_in.text
    session_id = signed_in.cookies[SESSION_COOKIE]
    api.client.cookies.clear()
    cookie = {"Cookie": f"{SESSION_COOKIE}={session_id}"}
    assert api.client.get("/v1/departments", headers=cookie).status_code == 200
    for (method, path), scope in sorted(SCOPES.items()):
        if scope != "read":  # a cookie would invite cross-site request forgery
            assert_problem(
                api.client.request(method, url(path), headers=cookie), 401, "unauthorized"
            )


def test_a_raw_key_in_a_cookie_is_not_a_session(api: Api) -> None:
    for name in (SESSION_COOKIE, "xietong_key"):  # the cookie of earlier releases
        cookie = {"Cookie": f"{name}={api.key('read')}"}
        assert_problem(api.client.get("/v1/departments", headers=cookie), 401, "unauthorized")


@pytest.mark.parametrize(
    "key",
    [
        "not-a-key",
        "xt_0123456789ab_short",
        "xt_0123456789ab_" + "A" * 43,  # well-formed, unknown
    ],
)
def test_malformed_and_unknown_keys_are_unauthorized(api: Api, key: str) -> None:
    response = api.client.get("/v1/departments", headers={"X-API-Key": key})
    body = assert_problem(response, 401, "unauthorized")
    assert key not in body["detail"]


def test_a_key_with_a_changed_secret_is_unauthorized(api: Api) -> None:
    key = api.key("admin")
    forged = mistype(key)
    assert_problem(
        api.client.get("/v1/departments", headers={"X-API-Key": forged}), 401, "unauthorized"
    )


def test_a_revoked_key_is_unauthorized(api: Api) -> None:
    key_id, key = api.new_key("admin")
    with Session(api.state.gateway.engine) as session:
        revoke_api_key(session=session, key_id=key_id)
    response = api.client.get("/v1/departments", headers={"X-API-Key": key})
    body = assert_problem(response, 401, "unauthorized")
    assert "revoked" in body["detail"]


def test_open_reads_admit_anonymous_reads_but_not_writes(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(world.settings(api_open_reads=True))
    for (method, path), scope in sorted(SCOPES.items()):
        response = api.client.request(method, url(path))
        if scope == "read":
            assert response.status_code not in (401, 403), (method, path, response.text)
        else:
            assert_problem(response, 401, "unauthorized")
    assert api.get("/v1/departments", scope=None).status_code == 200


#: Public routes that answer 404 on the demo world, which signed no checkpoint.
NOTHING_YET = {"/v1/checkpoints/latest", "/v1/checkpoints/{number}"}


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/readyz", "/docs", "/openapi.json", *(p for _, p in sorted(PUBLIC))],
)
def test_health_and_docs_need_no_key(api: Api, path: str) -> None:
    # /metrics needs XIETONG_METRICS_SCOPE's key: tests/api/test_metrics.py
    response = api.client.get(url(path))
    if path in NOTHING_YET:
        assert_problem(response, 404, "unknown-checkpoint")
    else:
        assert response.status_code == 200, response.text


def test_unknown_routes_are_problem_json(api: Api) -> None:
    assert_problem(api.get("/v1/nothing-here"), 404, "not-found")
    assert_problem(api.client.delete("/v1/departments"), 405, "method-not-allowed")


def test_a_key_over_its_rate_is_limited(world: World, make_api: Callable[..., Api]) -> None:
    # One token per 1000 s: the burst of 3 is all a key gets during the test.
    api = make_api(world.settings(api_rate_limit=0.001, api_rate_burst=3))
    for _ in range(3):
        assert api.get("/v1/departments").status_code == 200
    response = api.get("/v1/departments")
    assert_problem(response, 429, "rate-limited")
    assert int(response.headers["Retry-After"]) >= 1
    # The limit is per key: another key still has its burst.
    other = api.new_key("read")[1]
    assert api.client.get("/v1/departments", headers={"X-API-Key": other}).status_code == 200


def test_anonymous_reads_are_rate_limited_too(world: World, make_api: Callable[..., Api]) -> None:
    api = make_api(world.settings(api_open_reads=True, api_rate_limit=0.001, api_rate_burst=2))
    for _ in range(2):
        assert api.get("/v1/departments", scope=None).status_code == 200
    assert_problem(api.get("/v1/departments", scope=None), 429, "rate-limited")
