"""``GET /v1/consortium``: the consortium trust file `xietong deploy` wrote, with its
fingerprint, to anyone without a key (docs/API.md); problem JSON when the gateway has no
usable trust file or cannot reach its node."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.portal.i18n import Translator
from ledger.chain.node import free_port
from ledger.paths import PROJECT_ROOT
from ledger.trust import ConsortiumTrust, check_node, load_trust
from tests.api._support import Api, World, assert_problem

AGAIN = (
    "put the consortium's trust file there (its founders publish it with the manifest; "
    "where the contracts were deployed, `xietong deploy --reuse` writes it again)"
)


def documented() -> tuple[str, dict[str, Any]]:
    """The request and the answer docs/API.md shows for the consortium trust file."""
    text = (PROJECT_ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    section = text.split("## The consortium trust file", 1)[1].split("\n## ", 1)[0]
    request = section.split("```sh\n", 1)[1].split("```", 1)[0].strip()
    answer: dict[str, Any] = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    return request, answer


@pytest.fixture
def sqlite_world(worlds: dict[str, World]) -> World:
    """The answer does not depend on the database: the SQLite world is enough."""
    return worlds["sqlite"]


@pytest.fixture
def gateway(sqlite_world: World, make_api: Callable[..., Api]) -> Api:
    return make_api(sqlite_world.settings())


def test_the_documented_request_answers_the_trust_file(gateway: Api, sqlite_world: World) -> None:
    request, example = documented()
    assert request == "curl -s http://127.0.0.1:8000/v1/consortium"  # no key
    response = gateway.client.get(request.split("8000", 1)[1])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    trust = load_trust(sqlite_world.manifest.with_name("deployment.consortium.json"))
    assert body == {**trust.as_dict(), "fingerprint": trust.fingerprint}
    assert trust == gateway.state.gateway.deployment.trust()
    # The shape docs/API.md shows, whose example is a valid trust file with its fingerprint.
    assert set(body) == set(example) and set(body["contracts"]) == set(example["contracts"])
    assert ConsortiumTrust.from_dict(example).fingerprint == example["fingerprint"]
    # The answer is itself a trust file, and the gateway's node matches it.
    check_node(ConsortiumTrust.from_dict(body), sqlite_world.client.w3)  # raises on any difference


def test_the_answer_is_documented_in_the_openapi_document(gateway: Api) -> None:
    spec = gateway.client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/consortium"]["get"]
    assert "security" not in operation
    content = operation["responses"]["200"]["content"]["application/json"]
    schema = spec["components"]["schemas"][content["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(schema["required"]) == {
        "format",
        "chain_id",
        "genesis_hash",
        "deployment_block",
        "deployment_block_hash",
        "contracts",
        "fingerprint",
    }
    ConsortiumTrust.from_dict(content["example"])  # the example is a valid answer
    assert {"429", "500", "503"} <= set(operation["responses"])


def gateway_with_trust_file(
    world: World, make_api: Callable[..., Api], folder: Path, content: bytes | None
) -> Api:
    """A gateway whose manifest is a copy of ``world``'s, its trust file ``content`` (None: no
    trust file)."""
    manifest = folder / "gateway.json"
    shutil.copyfile(world.manifest, manifest)
    if content is not None:
        (folder / "gateway.consortium.json").write_bytes(content)
    return make_api(world.settings(deployment=manifest))


def test_a_missing_trust_file_is_a_deployment_problem(
    sqlite_world: World, make_api: Callable[..., Api], tmp_path: Path
) -> None:
    api = gateway_with_trust_file(sqlite_world, make_api, tmp_path, None)
    body = assert_problem(api.client.get("/v1/consortium"), 500, "deployment")
    path = tmp_path / "gateway.consortium.json"
    assert body["detail"] == f"there is no consortium trust file at {path}: {AGAIN}."


def test_a_damaged_trust_file_is_a_deployment_problem(
    sqlite_world: World, make_api: Callable[..., Api], tmp_path: Path
) -> None:
    api = gateway_with_trust_file(sqlite_world, make_api, tmp_path, b'{"format": "x"}')
    body = assert_problem(api.client.get("/v1/consortium"), 500, "deployment")
    path = tmp_path / "gateway.consortium.json"
    assert body["detail"] == (
        f"the consortium trust file {path} is damaged (`xietong consortium show` says how): "
        f"{AGAIN}."
    )


def test_a_trust_file_of_another_deployment_is_not_served(
    worlds: dict[str, World], make_api: Callable[..., Api], tmp_path: Path
) -> None:
    """The PostgreSQL world's trust file beside the SQLite world's manifest: both valid, both
    of this chain, but not the gateway's contracts."""
    other = worlds["postgresql"].manifest.with_name("deployment.consortium.json").read_bytes()
    api = gateway_with_trust_file(worlds["sqlite"], make_api, tmp_path, other)
    body = assert_problem(api.client.get("/v1/consortium"), 500, "deployment")
    path = tmp_path / "gateway.consortium.json"
    assert body["detail"] == (
        f"the consortium trust file {path} does not match the deployment manifest: {AGAIN}."
    )


def test_a_gateway_that_never_reached_its_node_is_unavailable(
    sqlite_world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(sqlite_world.settings(rpc_url=f"http://127.0.0.1:{free_port()}"))
    assert_problem(api.client.get("/v1/consortium"), 503, "node-unavailable")


def test_the_route_is_rate_limited_per_client(
    sqlite_world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(sqlite_world.settings(api_rate_limit=0.001, api_rate_burst=2))
    for _ in range(2):
        assert api.client.get("/v1/consortium").status_code == 200
    response = api.client.get("/v1/consortium")
    assert_problem(response, 429, "rate-limited")
    assert int(response.headers["Retry-After"]) >= 1


def embedded_trust(page: str) -> Any:
    """The trust file the verify page embeds for its offline check (null when none)."""
    found = re.search(r'<script type="application/json" id="consortium-trust">(.*?)</script>', page)
    assert found, "the verify page embeds no trust file element"
    return json.loads(found.group(1))


def test_the_verify_page_embeds_the_trust_file_read_once(
    sqlite_world: World, make_api: Callable[..., Api], tmp_path: Path
) -> None:
    """The page's offline check gets what /v1/consortium answers; the file is read once it has
    matched the manifest (a later change on disk does not reach a running gateway)."""
    content = sqlite_world.manifest.with_name("deployment.consortium.json").read_bytes()
    api = gateway_with_trust_file(sqlite_world, make_api, tmp_path, content)
    served = api.client.get("/v1/consortium").json()
    page = api.get("/?lang=en").text
    assert embedded_trust(page) == served and 'data-notice="no-trust"' not in page
    (tmp_path / "gateway.consortium.json").write_bytes(b"damaged")
    assert embedded_trust(api.get("/?lang=en").text) == served
    assert api.client.get("/v1/consortium").json() == served


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_verify_page_says_why_it_has_no_trust_file(
    sqlite_world: World, make_api: Callable[..., Api], tmp_path: Path, lang: str
) -> None:
    """A damaged trust file is named as damaged, not as missing; the page asks for a file. A
    repaired file is read on the next request."""
    api = gateway_with_trust_file(sqlite_world, make_api, tmp_path, b'{"format": "x"}')
    page = api.get(f"/?lang={lang}").text
    assert embedded_trust(page) is None
    notice = re.search(r'<p class="notice" data-notice="no-trust">(.*?)</p>', page, re.S)
    assert notice, "no notice on a page without a trust file"
    path = tmp_path / "gateway.consortium.json"
    assert html.unescape(notice.group(1)) == Translator(lang)(
        "offline.no_trust",
        detail=f"the consortium trust file {path} is damaged (`xietong consortium show` says "
        f"how): {AGAIN}.",
    )
    content = sqlite_world.manifest.with_name("deployment.consortium.json").read_bytes()
    path.write_bytes(content)
    assert embedded_trust(api.get(f"/?lang={lang}").text) == api.client.get("/v1/consortium").json()
