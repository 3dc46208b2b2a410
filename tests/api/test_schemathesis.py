"""The API against its own OpenAPI document (Schemathesis, in process over ASGI).

For every operation, requests generated from the document — valid ones and, for the
parameters, ones that break it — over the demo world with a read key (write routes answer
403 to it; their bodies are fuzzed in tests/api/test_writes.py and by the unit tests of the
parsers). Checked: no 5xx, status codes and content types as documented, answers that
conform to their schema (the models of api/schemas.py: every member typed, none undeclared),
and every 4xx/5xx an RFC 9457 problem with our ``type``. Routes whose generated requests name
nothing the demo holds (a random hash is not anchored) are asked once more about what it
holds, so that their answers are checked against their models too.

Bounded: a few examples per operation, no shrinking and no example database, so the whole
run is about a minute on a loaded machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis.core.result import Ok

from ledger.ids import code_hash
from ledger.receipts import access_entry_proof
from tests.api._support import DIBAO, PROBLEM, Api, World
from tests.api.test_reads import RULES, file_leaf, november_row, policy_file

EXAMPLES = 25
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


def assert_problem_json(response: Any) -> None:
    status = response.status_code
    if status < 400:
        return
    assert response.headers["content-type"][0].split(";")[0] == PROBLEM, response.headers
    body = response.json()
    assert body["type"].startswith("urn:xietong:problem:"), body
    assert body["status"] == status and body["title"] and body["detail"], body


# The API does not depend on the engine: one node is enough.
@pytest.mark.parametrize("node", ["anvil"], indirect=True)
def test_every_operation_answers_as_documented(
    worlds: dict[str, World], make_api: Callable[..., Api]
) -> None:
    api = make_api(worlds["sqlite"].settings())
    key = api.key("read")
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    failures: dict[str, str] = {}
    operations, calls = 0, []
    #: Operations that gave a 2xx JSON answer: checked against the model the document names.
    conformed: set[str] = set()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()  # the document itself is broken
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            response = case.call(headers={"X-API-Key": key})
            calls.append(response.status_code)
            case.validate_response(response, checks=CHECKS)
            assert_problem_json(response)
            content_type = response.headers.get("content-type", [""])[0]
            if response.status_code < 300 and content_type.startswith("application/json"):
                conformed.add(case.operation.label)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    documented = api.app.openapi()["paths"]
    assert operations == sum(len(item) for item in documented.values())
    assert len(calls) >= operations * 4, len(calls)
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())

    # What the demo holds, asked of the routes whose generated requests find nothing.
    world = worlds["sqlite"]
    digest, leaf = file_leaf(policy_file(world), RULES)
    row, salt = november_row(world, 3)
    sharing = world.report.agreements["dibao-to-psb"]
    log = Path(world.report.files["access_log_a"])
    real: dict[str, dict[str, Any]] = {
        "GET /v1/verify": {"query": {"hash": digest, "with_proof": "true"}},
        "POST /v1/verify/file": {
            "body": policy_file(world).read_bytes(),
            "media_type": "application/octet-stream",
            "query": {"with_proof": "true"},
        },
        "POST /v1/verify/record": {
            "body": {"record": row, "salt": salt, "with_proof": True},
            "media_type": "application/json",
        },
        "GET /v1/proofs/{leaf}": {"path_parameters": {"leaf": leaf}},
        "GET /v1/agreements/{agreement}": {
            "path_parameters": {"agreement": world.report.agreements["dibao-to-psb"]}
        },
        "GET /v1/commitments/{commitment}": {
            "path_parameters": {"commitment": world.report.commitment}
        },
        "GET /v1/catalogue/names": {"query": {"hash": "0x" + code_hash(DIBAO).hex()}},
        "POST /v1/agreements/{agreement}/receipts/{index}/verify": {
            "path_parameters": {"agreement": sharing, "index": 0},
            "body": access_entry_proof(
                log,
                salts_path=Path(str(log) + ".salts.json"),
                entry=0,
                agreement_id=bytes.fromhex(sharing[2:]),
                receipt_index=0,
            ),
            "media_type": "application/json",
        },
    }
    for label, parts in real.items():
        method, path = label.split(" ")
        case = schema[path][method].Case(**parts)
        response = case.call(headers={"X-API-Key": key})
        assert response.status_code == 200, (label, response.text)
        case.validate_response(response, checks=CHECKS)
        conformed.add(label)
    # Every read answer was checked against its model (writes: tests/api/test_writes.py and
    # the generated client of tests/api/test_generated_client.py).
    reads = {
        f"{method.upper()} {path}"
        for path, item in documented.items()
        for method, documented_operation in item.items()
        if "application/json" in documented_operation["responses"].get("200", {}).get("content", {})
        and "403" not in documented_operation["responses"]  # a read key may call it
    }
    # The demo makes no membership proposal: tests/api/test_governance.py reads one (FastAPI
    # validates it against its model on the way out).
    # Nor any checkpoint a threshold of departments cosigned: tests/api/test_checkpoints.py.
    elsewhere = {
        "GET /v1/proposals/{proposal}",
        "GET /v1/checkpoints/latest",
        "GET /v1/checkpoints/{number}",
    }
    assert reads - elsewhere <= conformed, sorted(reads - elsewhere - conformed)
