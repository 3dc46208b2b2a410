"""Helpers of the API tests: the demo world under test, API keys, problem assertions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger import catalogue
from ledger.apikeys import create_api_key
from ledger.chain.client import ChainClient
from ledger.db.engine import create_db_engine
from ledger.demo import DATASET_DESCRIPTIONS, DemoReport
from ledger.ids import code_hash, dataset_id, department_id
from ledger.keys import dev_account
from ledger.settings import Settings, trust_file_beside
from ledger.trust import ConsortiumTrust, load_trust

PROBLEM = "application/problem+json"
# The departments of scripts/founders.local.yaml, which the demo scenario plays.
PSB, CIVIL, HEALTH = "11330100MB1A00001P", "11330100MB1A00002K", "11330100MB1A00003F"
NAMES = {PSB: "杭州市公安局", CIVIL: "杭州市民政局", HEALTH: "杭州市卫生健康委员会"}
PSB_DEV, CIVIL_DEV, HEALTH_DEV = 1, 2, 3  # their operators' development account indexes
DIBAO, POLICY = "HZ-MZ-DIBAO", "HZ-MZ-POLICY"
ELIGIBILITY = "eligibility-check 低保资格核查"  # the purpose of the demo's active agreement
STATISTICS = "statistics 统计分析"  # the purpose of the demo's revoked agreement


def dataset_of(department: str, code: str) -> bytes:
    """The id of ``department``'s dataset of catalogue code ``code`` (a dataset id derives
    from its owner and its code; the demo's datasets are 杭州市民政局's, ``CIVIL``)."""
    return dataset_id(department_id(department), code)


def keep_demo_descriptions(engine: Engine) -> None:
    """The demo's dataset descriptions in the catalogue of the database ``engine`` opens, as
    the gateway that registered them keeps them: a gateway whose catalogue lacks a dataset's
    metadata text cannot tell its digest, and refuses to anchor to it (docs/SM3.md)."""
    texts = [("code", text) for text in DATASET_DESCRIPTIONS.values()]
    with Session(engine) as session:
        catalogue.remember(session=session, texts=texts, source="the demo")


@dataclass
class World:
    """A deployment of the local founders on the session node, with the demo played on it."""

    manifest: Path
    rpc_url: str
    client: ChainClient
    report: DemoReport
    database_url: str

    def settings(self, **overrides: Any) -> Settings:
        """The settings of 杭州市民政局's gateway (dev account 2) over this world."""
        values: dict[str, Any] = {
            "env": "local",
            "rpc_url": self.rpc_url,
            "database_url": self.database_url,
            "deployment": self.manifest,
            "dev_account": CIVIL_DEV,
            **overrides,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    def trust(self) -> ConsortiumTrust:
        """The consortium trust file the deployment wrote beside its manifest."""
        return load_trust(trust_file_beside(self.manifest))

    def api_key(self, scope: str, name: str) -> str:
        """A fresh API key of ``scope``, stored in this world's database."""
        engine = create_db_engine(self.database_url)
        with Session(engine) as session:
            _, key = create_api_key(session=session, name=name, scope=scope)
        engine.dispose()
        return key

    def revoke_policy_version(self, root: str) -> None:
        """Revoke the version of root ``root`` (0x hex) of 杭州市民政局's ``POLICY`` dataset
        on chain, as its operator (reason 撤回)."""
        self.client.transact(
            "DatasetRegistry",
            "revokeVersion",
            dataset_of(CIVIL, POLICY),
            bytes.fromhex(root[2:]),
            code_hash("撤回"),
            sender=dev_account(CIVIL_DEV),
        )


class Api:
    """A TestClient over the real app (lifespan included), with keys of each scope."""

    def __init__(self, app: FastAPI, client: TestClient) -> None:
        self.app, self.client = app, client
        self._keys: dict[str, str] = {}

    @property
    def state(self) -> Any:
        return self.app.state.xietong

    def new_key(self, scope: str, name: str = "test client") -> tuple[str, str]:
        """A fresh key of ``scope``: (its id, the key)."""
        with Session(self.state.gateway.engine) as session:
            row, key = create_api_key(session=session, name=name, scope=scope)
        return row.id, key

    def key(self, scope: str) -> str:
        """One key per scope, made on first use."""
        if scope not in self._keys:
            self._keys[scope] = self.new_key(scope)[1]
        return self._keys[scope]

    def headers(self, scope: str | None) -> dict[str, str]:
        return {} if scope is None else {"X-API-Key": self.key(scope)}

    def get(
        self,
        url: str,
        *,
        scope: str | None = "read",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return self.client.get(url, headers={**self.headers(scope), **(headers or {})}, **kwargs)

    def post(
        self,
        url: str,
        *,
        scope: str | None = "admin",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return self.client.post(url, headers={**self.headers(scope), **(headers or {})}, **kwargs)

    def sync(self) -> None:
        """Index the chain into this gateway's database (tests run without the indexer thread)."""
        self.state.gateway.indexer().sync()

    def ok(self, url: str, **kwargs: Any) -> Any:
        """GET ``url`` with a read key; asserts 200 JSON and returns the body."""
        response = self.get(url, **kwargs)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        return response.json()

    def walk(self, url: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paginated list, following next_cursor."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.ok(url, params={**params, **({"cursor": cursor} if cursor else {})})
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """The response is problem JSON of ``kind`` with ``status``; returns its body."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"] == PROBLEM, response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:xietong:problem:{kind}", body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["instance"] == response.request.url.path
    return body


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still not {what} after {seconds} s"
        time.sleep(0.02)
