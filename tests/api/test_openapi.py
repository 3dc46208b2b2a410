"""The OpenAPI document: a valid OpenAPI 3 document, an example for every /v1 answer, and
the problem responses each route can give documented as problem JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import create_app
from ledger.settings import Settings
from tests.api._support import PROBLEM
from tests.api.test_auth import PUBLIC, SCOPES

SUCCESS = {"200", "201", "202"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document as served (it needs no chain: the app connects to the node lazily)."""
    database = tmp_path_factory.mktemp("openapi") / "xietong.db"
    settings = Settings(_env_file=None, env="local", database_url=f"sqlite:///{database}")  # type: ignore[call-arg]
    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    app.state.xietong.gateway.engine.dispose()
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
            if key in (("POST", "/v1/agreements"), ("POST", "/v1/commitments"))
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
