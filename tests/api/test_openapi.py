"""The OpenAPI document: a valid OpenAPI 3 document, an example for every /v1 answer, and
the problem responses each route can give documented as problem JSON; every JSON answer
documented by its model (api/schemas.py), which the examples and the real answers fit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api import create_app, schemas
from api.examples import EXAMPLES
from ledger.chain.node import free_port
from ledger.settings import Settings
from tests.api._support import PROBLEM, Api, World
from tests.api.test_auth import PUBLIC, SCOPES
from tests.api.test_reads import RULES, file_leaf, policy_file

SUCCESS = {"200", "201", "202"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """An app (it needs no chain: the app connects to the node lazily)."""
    database = tmp_path_factory.mktemp("openapi") / "xietong.db"
    settings = Settings(_env_file=None, env="local", database_url=f"sqlite:///{database}")  # type: ignore[call-arg]
    app = create_app(settings)
    yield app
    app.state.xietong.gateway.engine.dispose()


@pytest.fixture(scope="module")
def spec(app: FastAPI) -> dict[str, Any]:
    """The document as served."""
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = json.loads(response.text)
    return document


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if path.startswith("/v1/")
    }


def resolve(spec: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = spec
    for part in ref[2:].split("/"):
        assert part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_the_document_is_openapi_3_with_every_reference_resolved(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert set(operations(spec)) == set(SCOPES) | PUBLIC
    for path in ("/healthz", "/readyz", "/metrics"):
        assert "get" in spec["paths"][path]
    all_refs = refs(spec)
    assert all_refs
    for ref in all_refs:
        resolve(spec, ref)
    for (method, path), operation in operations(spec).items():
        assert operation.get("summary"), (method, path)
        assert operation.get("operationId"), (method, path)
        for name in [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]:
            assert "{" + name + "}" in path


def test_every_v1_route_has_an_example_of_its_answer(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        [success] = [s for s in operation["responses"] if s in SUCCESS]
        content = operation["responses"][success]["content"]
        example = content["application/json"].get("example")
        assert isinstance(example, dict) and example, key
        expected = (
            "202"
            if key == ("POST", "/v1/anchors")
            else "201"
            if key
            in (
                ("POST", "/v1/agreements"),
                ("POST", "/v1/commitments"),
                ("POST", "/v1/proposals"),
                ("POST", "/v1/agreements/{agreement}/amend"),
                ("POST", "/v1/agreements/{agreement}/receipts"),
                ("POST", "/v1/watchers"),
                ("POST", "/v1/datasets/{dataset}/erasures"),
            )
            else "200"
        )
        assert success == expected, key


def test_documented_problem_responses_are_problem_json(spec: dict[str, Any]) -> None:
    problem_schema = resolve(spec, "#/components/schemas/Problem")
    assert {"type", "title", "status", "detail"} <= set(problem_schema["properties"])
    for key, operation in operations(spec).items():
        problems = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert problems, key
        for status, response in problems.items():
            assert set(response.get("content", {})) == {PROBLEM}, (key, status, response)
            schema = response["content"][PROBLEM]["schema"]
            assert resolve(spec, schema["$ref"]) is problem_schema, (key, status)


def test_every_v1_route_documents_its_auth_and_validation_problems(
    spec: dict[str, Any],
) -> None:
    for key, operation in operations(spec).items():
        documented = set(operation["responses"])
        if key in PUBLIC:  # no key, no parameters: only the rate limit refuses
            needed = {"429"}
        else:
            needed = {"401", "422", "429"} | ({"403"} if SCOPES[key] != "read" else set())
        assert needed <= documented, (key, sorted(needed - documented))


def test_hashes_and_ids_are_documented_with_their_pattern(spec: dict[str, Any]) -> None:
    # Only in the document: at run time a malformed hash is our 400 bad-hash problem, not a 422
    # (tests/api/test_reads.py and test_schemathesis.py send malformed ones).
    found = {}
    for (method, path), operation in operations(spec).items():
        for parameter in operation.get("parameters", []):
            forms = [parameter["schema"], *parameter["schema"].get("anyOf", [])]
            patterns = {form["pattern"] for form in forms if "pattern" in form}
            if patterns and parameter["name"] != "batch_id":
                found[(method, path, parameter["name"])] = patterns.pop()
    hash_pattern, subject_pattern = "^(0[xX])?[0-9a-fA-F]{64}$", "^0[xX][0-9a-fA-F]{64}$"
    assert found[("GET", "/v1/verify", "hash")] == hash_pattern
    for name in ("leaf", "root", "record_hash", "salt"):
        assert found[("GET", "/v1/proofs/{leaf}", name)] == hash_pattern
    assert found[("GET", "/v1/agreements/{agreement}", "agreement")] == subject_pattern
    assert found[("POST", "/v1/commitments/{commitment}/sign", "commitment")] == subject_pattern
    record = resolve(spec, "#/components/schemas/RecordQuery")["properties"]
    assert record["salt"]["pattern"] == hash_pattern
    # Codes are not hashes: no pattern on dataset or department references.
    assert ("GET", "/v1/datasets/{dataset}", "dataset") not in found


# --------------------------------------------------------------------------- answers' models


def json_answers(spec: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The schema of every JSON answer of the document: (method, path, status) → schema."""
    return {
        (method.upper(), path, status): response["content"]["application/json"]["schema"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if "application/json" in response.get("content", {})
    }


def test_every_json_answer_is_documented_with_its_members(spec: dict[str, Any]) -> None:
    """The issue: 28 of the 29 success answers had a schema with no properties, so a client
    generated from the document knew nothing of them. Every JSON answer is a named model now,
    with its members (and no others)."""
    answers = json_answers(spec)
    successes = {(m, p) for (m, p, status) in answers if status.startswith("2")}
    assert successes == set(operations(spec)) | {("GET", "/healthz"), ("GET", "/readyz")}
    assert len(successes) == len(SCOPES) + len(PUBLIC) + 2
    for key, schema in answers.items():
        assert set(schema) == {"$ref"}, key  # a named model: a class in a generated client
        model = resolve(spec, schema["$ref"])
        assert model.get("type") == "object" and model.get("properties"), key
        assert model.get("additionalProperties") is False, key
    # /metrics is text only: no JSON answer without members documented beside it.
    assert set(spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}


def test_every_answer_model_forbids_members_it_does_not_declare() -> None:
    # FastAPI validates an answer through its model and serializes the model: a member the
    # model did not declare would silently vanish from the answer. Refused instead (a 500).
    models = [getattr(schemas, name) for name in schemas.__all__]
    for model in models:
        assert issubclass(model, BaseModel), model
        assert model.model_config.get("extra") == "forbid", model


def route_examples(app: FastAPI) -> list[tuple[RouteContext, int | str, Any]]:
    """(route, status, example) of every JSON example the routes document (included routers
    flattened: the route as included, with the responses of its router)."""
    return [
        (route, status, example)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for status, response in route.responses.items()
        if (example := response.get("content", {}).get("application/json", {}).get("example"))
        is not None
    ]


def test_every_example_is_an_answer_of_its_route_model(app: FastAPI) -> None:
    found = route_examples(app)
    shown = [example for _route, _status, example in found]
    assert all(any(value == example for example in shown) for value in EXAMPLES.values())
    for route, status, example in found:
        model = route.response_model
        assert isinstance(model, type) and issubclass(model, BaseModel), (route.path, status)
        parsed = model.model_validate(example)  # no member missing, none unknown, each typed
        # ... and nothing lost on the way back out (as the routes serialize).
        back = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert back == example, (route.path, status)


def fits(model: type[BaseModel], body: Any) -> None:
    """``body`` is an answer of ``model``: every member declared and typed, none lost."""
    parsed = model.model_validate(body)
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == body


def test_answers_the_routes_make_themselves_fit_their_models(
    api: Api, world: World, make_api: Callable[..., Api]
) -> None:
    """FastAPI validates the answers routes return as data; these routes answer with a Response
    of their own (GET /v1/verify its kept bytes, /readyz its status), so they are checked here,
    on both databases."""
    digest, leaf = file_leaf(policy_file(world), RULES)
    for params in ({"hash": digest}, {"hash": digest, "with_proof": "true"}, {"hash": leaf}):
        body = api.ok("/v1/verify", params=params)
        fits(schemas.VerifyAnswer, body)
        assert ("proof" in body["matches"][0]) == ("with_proof" in params)
        fits(schemas.VerifyAnswer, api.ok("/v1/verify", params=params))  # kept: the same bytes
    fits(schemas.Readiness, api.ok("/readyz", scope=None))
    unready = make_api(world.settings(rpc_url=f"http://127.0.0.1:{free_port()}"))
    response = unready.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["node"]["error"] and body["reasons"] == ["node-unreachable"]
    fits(schemas.Readiness, body)
