"""The API against its own OpenAPI document (Schemathesis, in process over ASGI).

For every operation, requests generated from the document — valid ones and, for the
parameters, ones that break it — over the demo world with a read key (write routes answer
403 to it; their bodies are fuzzed in tests/api/test_writes.py and by the unit tests of the
parsers). Checked: no 5xx, status codes and content types as documented, answers that
conform to their schema, and every 4xx/5xx an RFC 9457 problem with our ``type``.

Bounded: a few examples per operation, no shrinking and no example database, so the whole
run is about a minute on a loaded machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis.core.result import Ok

from tests.api._support import PROBLEM, Api, World

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

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    documented = api.app.openapi()["paths"]
    assert operations == sum(len(item) for item in documented.values())
    assert len(calls) >= operations * 4, len(calls)
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
