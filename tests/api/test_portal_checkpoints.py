"""The portal's page of cosigned checkpoints (``/audit/checkpoints``) without a browser: it
needs a read key as the other audit pages do, answers 503 with one sentence when this gateway
cannot build its witness (no node), says why a gateway signs no checkpoint (its key is not a
cosigner; a trust file without cosigners), shows a peer's words escaped, and is served with
the portal's headers. The page with a real conflict is tests/browser/test_portal.py's."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api import create_app
from api.portal.routes import PAGE_HEADERS
from ledger.apikeys import create_api_key
from ledger.chain.node import free_port
from ledger.db.tables import CheckpointPeer, IndexerCheckpoint
from ledger.settings import Settings
from tests.api._support import Api, World

ONE_WORLD = [
    pytest.mark.parametrize("node", ["hardhat"], indirect=True),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def assert_portal_page(response: httpx.Response, status: int) -> None:
    """An HTML page of the portal with ``status`` and every one of its headers."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value, name


@pytest.fixture
def nodeless(tmp_path: Path) -> Iterator[tuple[TestClient, str, str]]:
    """The app over an empty SQLite database and a node that is not there: the client, a read
    key and the node's URL."""
    rpc_url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(
        _env_file=None,
        env="local",
        rpc_url=rpc_url,
        database_url=f"sqlite:///{tmp_path / 'xietong.db'}",  # type: ignore[call-arg]
        api_open_reads=False,
    )
    app = create_app(settings)
    with Session(app.state.xietong.gateway.engine) as session:
        _, key = create_api_key(session=session, name="portal test", scope="read")
    with TestClient(app) as client:
        yield client, key, rpc_url
    app.state.xietong.gateway.engine.dispose()


def test_without_a_node_the_page_says_so_in_a_sentence_after_sign_in(
    nodeless: tuple[TestClient, str, str],
) -> None:
    client, key, rpc_url = nodeless
    # No key: the sign-in page, coming back here after it (as every audit page).
    anonymous = client.get("/audit/checkpoints", follow_redirects=False)
    assert anonymous.status_code == 303
    location = urlsplit(anonymous.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/audit/checkpoints"]}

    english = client.get("/audit/checkpoints?lang=en", headers={"X-API-Key": key})
    assert_portal_page(english, 503)
    assert (
        f"This gateway cannot show its checkpoints: the chain node at {rpc_url} does not answer"
        in english.text
    )
    assert 'data-testid="error"' in english.text
    assert "Traceback" not in english.text and "latest-checkpoint" not in english.text
    chinese = client.get("/audit/checkpoints?lang=zh", headers={"X-API-Key": key})
    assert_portal_page(chinese, 503)
    assert "本网关无法读取联署检查点：the chain node at" in chinese.text
    # The API says the same of its checkpoints (problem JSON, 503).
    assert client.get("/v1/checkpoints").status_code == 503


def one_world(test: Callable[..., None]) -> Callable[..., None]:
    for mark in ONE_WORLD:
        test = mark(test)
    return test


@one_world
def test_a_gateway_whose_key_is_no_cosigner_says_it_signs_none(
    chain: World, database_url: str, make_api: Callable[..., Api]
) -> None:
    """Its key (development account 9) operates no founding department: it would collect its
    peers' checkpoints, but signs none; none is held, and none conflicts."""
    api = make_api(chain.settings(database_url=database_url, dev_account=9))
    page = api.get("/audit/checkpoints?lang=en")
    assert_portal_page(page, 200)
    assert 'data-why="not-cosigner"' in page.text
    assert "This gateway&#39;s key is not one of the trust file&#39;s checkpoint cosigners" in (
        page.text
    )
    assert 'data-empty="latest"' in page.text
    assert "No checkpoint is cosigned by the threshold yet: 2 departments" in page.text
    assert 'data-empty="conflicts"' in page.text and "open-conflicts" not in page.text
    assert "No peer is configured (XIETONG_CHECKPOINT_PEERS)" in page.text
    assert '<a href="/audit/checkpoints" aria-current="page">' in page.text  # its tab
    # 杭州市民政局's own gateway (account 2) signs: no such sentence, its department's code.
    civil = make_api(chain.settings(database_url=database_url))
    signing = civil.get("/audit/checkpoints?lang=en")
    assert_portal_page(signing, 200)
    assert "data-why" not in signing.text and "11330100MB1A00002K" in signing.text


@one_world
def test_a_trust_file_without_cosigners_means_no_checkpoint(
    chain: World, database_url: str, make_api: Callable[..., Api], tmp_path: Path
) -> None:
    """A deployment made before checkpoints (its manifest names no cosigners)."""
    manifest = json.loads(chain.manifest.read_text(encoding="utf-8"))
    assert manifest.pop("checkpoints")["threshold"] == 2
    older = tmp_path / "older.json"
    older.write_text(json.dumps(manifest), encoding="utf-8")
    api = make_api(chain.settings(database_url=database_url, deployment=older))
    page = api.get("/audit/checkpoints")
    assert_portal_page(page, 200)
    assert 'data-why="no-cosigners"' in page.text
    assert "联盟信任文件未列出检查点联署者" in page.text
    assert "没有联署检查点。" in page.text and "信任文件未规定" in page.text


@one_world
def test_what_a_peer_said_is_shown_escaped(
    chain: World, database_url: str, make_api: Callable[..., Api]
) -> None:
    """Whatever a peer's row holds (its last error and refusal are built from its answers):
    markup is text, invisible and reordering characters are shown as escapes."""
    url = "https://peer.example:8443"
    api = make_api(chain.settings(database_url=database_url, checkpoint_peers=url))
    hostile = '<img src=x onerror="alert(1)">\u202egnp.exe'
    with Session(api.state.gateway.engine) as session:
        session.add(
            CheckpointPeer(url=url, accepted=3, refused=1, last_error=hostile, last_refusal=hostile)
        )
        session.commit()
    page = api.get("/audit/checkpoints?lang=en")
    assert_portal_page(page, 200)
    assert '<tr data-peer="https://peer.example:8443">' in page.text
    assert "<img" not in page.text and "\u202e" not in page.text
    assert page.text.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") == 2


@one_world
def test_a_gateway_started_while_its_node_is_down_shows_what_it_holds(
    chain: World, database_url: str, make_api: Callable[..., Api]
) -> None:
    """Started while its node does not answer, over a database indexed from the chain: the
    checkpoints it holds are served and shown (the trust file of the indexed chain, from its
    manifest), with a notice that it signs nothing until the node is back; with a manifest of
    another chain than the index's, the page says the node does not answer, as before."""
    live = make_api(chain.settings(database_url=database_url))
    live.sync()
    w3 = chain.client.w3
    while w3.eth.block_number % 16 or w3.eth.block_number == 0:  # XIETONG_CHECKPOINT_INTERVAL
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    [number] = live.state.checkpoint_pass().signed
    dead = f"http://127.0.0.1:{free_port()}"
    down = make_api(chain.settings(database_url=database_url, rpc_url=dead))
    held = down.ok("/v1/checkpoints")
    assert [item["number"] for item in held["items"]] == [number]
    assert down.ok(f"/v1/checkpoints/{number}")["hashes"][0]["departments"] == 1
    page = down.get("/audit/checkpoints?lang=en")
    assert_portal_page(page, 200)
    assert 'data-notice="node-down"' in page.text
    assert "The chain node does not answer: below is what this gateway holds" in page.text
    assert "11330100MB1A00002K" in page.text  # it would sign as its department
    assert 'data-notice="node-down"' not in live.get("/audit/checkpoints").text

    # The index read from another deployment than the manifest names: nothing is guessed.
    with Session(down.state.gateway.engine) as session:
        row = session.get(IndexerCheckpoint, 1)
        assert row is not None
        row.registry_address = "0x" + "00" * 20
        session.add(row)
        session.commit()
    other = make_api(chain.settings(database_url=database_url, rpc_url=dead))
    refused = other.get("/audit/checkpoints?lang=en")
    assert_portal_page(refused, 503)
    assert f"the chain node at {dead} does not answer" in refused.text
    assert other.client.get("/v1/checkpoints").status_code == 503
