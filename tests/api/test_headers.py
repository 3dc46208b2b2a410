"""Response headers of the whole app: API answers never cached, static files cacheable, and
``/docs`` as our own page under a strict Content Security Policy, its assets from the pinned
Swagger UI package (api/docs.py)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import re
import tomllib
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.testclient import TestClient

from api import create_app
from api.app import DOCUMENT_POLICIES
from api.docs import ASSETS, SWAGGER_UI_PACKAGE
from ledger.chain.node import free_port
from ledger.paths import PROJECT_ROOT
from ledger.settings import Settings
from tests.api._support import CIVIL, Api, assert_problem

# The headers do not depend on the chain engine or the database: one of each.
ONE_WORLD = (
    pytest.mark.parametrize("node", ["hardhat"], indirect=True),
    pytest.mark.parametrize("world", ["sqlite"], indirect=True),
)


def one_world(test: Callable[..., None]) -> Callable[..., None]:
    for mark in ONE_WORLD:
        test = mark(test)
    return test


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[TestClient]:
    """The app over an empty SQLite database and a node that is not there: enough for docs,
    static files and problems."""
    settings = Settings(
        _env_file=None,
        env="local",
        rpc_url=f"http://127.0.0.1:{free_port()}",
        database_url=f"sqlite:///{tmp_path / 'xietong.db'}",  # type: ignore[call-arg]
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.xietong.gateway.engine.dispose()


def assert_never_cached(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store", (response, response.headers)
    assert response.headers["x-content-type-options"] == "nosniff"


# --------------------------------------------------------------------- API answers: no-store


@one_world
def test_api_answers_problems_health_and_metrics_are_never_cached(api: Api) -> None:
    answers = {
        "a /v1 answer": api.get(f"/v1/departments/{CIVIL}"),
        "a /v1 list": api.get("/v1/departments"),
        "/healthz": api.get("/healthz", scope=None),
        "/readyz": api.get("/readyz", scope=None),
        "/metrics": api.get("/metrics"),
        "/openapi.json": api.get("/openapi.json", scope=None),
    }
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.text)
        assert_never_cached(response)
    for response, status, kind in (
        (api.get("/v1/departments", scope=None), 401, "unauthorized"),
        (api.get("/v1/departments/NO-SUCH-CODE"), 404, "unknown-department"),
        (api.get("/v1/verify", params={"hash": "0x12"}), 400, "bad-hash"),
        (api.client.delete("/v1/departments"), 405, "method-not-allowed"),
    ):
        assert_problem(response, status, kind)
        assert_never_cached(response)


@one_world
def test_head_answers_as_get_would_without_the_body(api: Api) -> None:
    # RFC 9110 §9.3.2: the same status and headers, Content-Length included; no body.
    digest = "0x" + hashlib.sha256(b"never anchored").hexdigest()
    for path, params, scope in (
        ("/", None, None),
        ("/healthz", None, None),
        ("/v1/verify", {"hash": digest}, "read"),
        ("/v1/verify", {"hash": "0x12"}, "read"),  # a problem too
        ("/v1/verify", {"hash": digest}, None),  # and a refusal
    ):
        got = api.get(path, params=params, scope=scope)
        head = api.client.head(path, params=params, headers=api.headers(scope))
        assert head.status_code == got.status_code, (path, params, head.status_code)
        assert head.content == b"", path
        assert int(head.headers["content-length"]) == len(got.content), path
        for name in ("content-type", "cache-control", "content-security-policy"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
    # A route with no GET answers HEAD as it answers GET: 405, naming what it allows.
    head = api.client.head("/v1/verify/record", headers=api.headers("read"))
    assert head.status_code == 405 and head.content == b""
    assert head.headers["allow"] == "POST"
    metrics = api.get("/metrics").text
    assert 'xietong_http_requests_total{method="HEAD",route="/healthz",status="200"}' in metrics


@one_world
def test_every_answer_declares_the_document_policies(api: Api) -> None:
    for response in (
        api.get("/", scope=None),
        api.get("/docs", scope=None),
        api.get("/v1/departments"),
        api.get("/v1/departments", scope=None),
        api.get("/static/portal.css", scope=None),
    ):
        for name, value in DOCUMENT_POLICIES.items():
            assert response.headers[name] == value, (response.url, name)
    policy = DOCUMENT_POLICIES["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy
    assert DOCUMENT_POLICIES["Cross-Origin-Opener-Policy"] == "same-origin"


def test_problems_without_a_route_are_never_cached(bare: TestClient) -> None:
    for response in (
        bare.get("/v1/no-such-route"),
        bare.get("/no-such-page"),
        bare.get("/v1/consortium"),  # 503: the node is not there
    ):
        assert response.headers["content-type"] == "application/problem+json"
        assert response.status_code in (404, 503), response.text
        assert_never_cached(response)


def test_an_internal_error_is_never_cached(bare: TestClient) -> None:
    # Starlette answers an escaped exception outside every middleware of the app, _Observe
    # included: the problem carries the headers itself (api.problems.internal_error).
    app = bare.app
    assert isinstance(app, FastAPI)

    @app.get("/fails", include_in_schema=False)
    def fails() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/fails")
    assert_problem(response, 500, "internal")
    assert_never_cached(response)


def test_a_route_that_sets_its_own_cache_control_keeps_it(bare: TestClient) -> None:
    app = bare.app
    assert isinstance(app, FastAPI)

    @app.get("/own-cache-control", include_in_schema=False)
    def own() -> Response:
        return Response(b"same for all", headers={"Cache-Control": "public, max-age=60"})

    response = bare.get("/own-cache-control")
    assert response.status_code == 200
    assert response.headers.get_list("cache-control") == ["public, max-age=60"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/static/portal.css", f"{ASSETS}/swagger-ui-bundle.js", f"{ASSETS}/docs.js"]
)
def test_static_files_keep_their_validators_and_caching(bare: TestClient, path: str) -> None:
    response = bare.get(path)
    assert response.status_code == 200
    assert "cache-control" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    etag = response.headers["etag"]
    again = bare.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # A static file that is not there is a problem like any other: never cached.
    missing = bare.get(path.rsplit("/", 1)[0] + "/no-such-file.css")
    assert_problem(missing, 404, "not-found")
    assert_never_cached(missing)


# --------------------------------------------------------------------- /docs


class _Page(HTMLParser):
    """What a page loads and runs: element sources, inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.links += [value for name, value in attrs if name in ("src", "href") and value]
        if "style" in named or tag == "style" or any(n.startswith("on") for n in named):
            self.inline_styles.append(self.get_starttag_text() or tag)
        self._in_script = tag == "script"
        if tag == "script" and "src" not in named:
            self.inline_scripts.append(self.get_starttag_text() or tag)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_docs_is_our_page_under_a_strict_content_security_policy(bare: TestClient) -> None:
    response = bare.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_never_cached(response)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert "script-src" not in csp and "style-src" not in csp  # default-src 'self' for both
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["img-src"] == ["'self'", "data:"]  # Swagger UI's style sheet draws data: icons
    assert not [v for values in csp.values() for v in values if "unsafe" in v or "*" in v]

    html = response.text
    assert not re.findall(r"https?://", html), "the page names another host"
    page = _Page()
    page.feed(html)
    assert page.inline_scripts == [] and page.inline_styles == []
    assert f"{ASSETS}/swagger-ui-bundle.js" in page.links
    assert f"{ASSETS}/docs.js" in page.links
    assert f"{ASSETS}/LICENSE" in page.links  # Swagger UI's license, linked from the page
    assert all(link.startswith("/") and not link.startswith("//") for link in page.links)
    assert 'data-openapi-url="/openapi.json"' in html


def test_docs_assets_are_the_pinned_packages_files_with_their_types(bare: TestClient) -> None:
    pinned = [
        line
        for line in tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
        if line.startswith(f"{SWAGGER_UI_PACKAGE}==")
    ]
    assert pinned == [f"{SWAGGER_UI_PACKAGE}=={importlib.metadata.version(SWAGGER_UI_PACKAGE)}"]
    spec = importlib.util.find_spec("swagger_ui")
    assert spec is not None and spec.origin is not None
    package = Path(spec.origin).parent / "static"
    ours = PROJECT_ROOT / "api" / "docs_static"
    expected = {
        "swagger-ui-bundle.js": ("text/javascript; charset=utf-8", package),
        "swagger-ui.css": ("text/css; charset=utf-8", package),
        "favicon-32x32.png": ("image/png", package),
        "LICENSE": ("text/plain; charset=utf-8", package),
        "docs.js": ("text/javascript; charset=utf-8", ours),
        "docs.css": ("text/css; charset=utf-8", ours),
    }
    for name, (content_type, folder) in expected.items():
        response = bare.get(f"{ASSETS}/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == content_type, name
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == (folder / name).read_bytes(), name
    assert "Apache License" in bare.get(f"{ASSETS}/LICENSE").text


@pytest.mark.parametrize(
    "path",
    [
        f"{ASSETS}/swagger-editor-bundle.js",  # in the package, not used by the page
        f"{ASSETS}/index.css",
        f"{ASSETS}/oauth2-redirect.html",  # an inline script: not served
        f"{ASSETS}/../docs.py",
        f"{ASSETS}/%2e%2e/app.py",
        f"{ASSETS}/",
        "/docs/oauth2-redirect",
        "/redoc",
    ],
)
def test_docs_serve_nothing_else(bare: TestClient, path: str) -> None:
    response = bare.get(path)
    assert_problem(response, 404, "not-found")
    assert_never_cached(response)
