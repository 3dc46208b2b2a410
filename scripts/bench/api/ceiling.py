"""The ceiling of scripts/bench_api.py: a bare FastAPI app answering
``GET /v1/verify`` with the bytes of a real answer of the gateway's verify route, captured
before the run, served by uvicorn with the settings ``xietong serve`` gives it (same workers,
same HTTP protocol class and keep-alive time, same loop, no access log). What FastAPI and uvicorn cost for
that request and that answer on this machine, with no work behind it: the most the gateway
could serve.

    python scripts/bench/api/ceiling.py --answer answer.json --port 8001 [--workers 2]

The app ignores the query string and the API key (the load generator sends the same
requests as to the gateway).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response

#: The answer's file, passed to the worker processes (uvicorn imports the factory in each).
ANSWER_ENV = "XT_BENCH_CEILING_ANSWER"
#: "dict" (default): the route returns the answer as a dict, serialised by FastAPI as the
#: gateway's route does (the same bytes); "bytes": the bytes as they are (no serialisation).
MODE_ENV = "XT_BENCH_CEILING_MODE"


def create_app() -> FastAPI:
    """The bare app: one route, the captured answer's bytes as they are."""
    body = Path(os.environ[ANSWER_ENV]).read_bytes()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    if os.environ.get(MODE_ENV, "dict") == "bytes":

        @app.get("/v1/verify")
        async def verify_bytes() -> Response:
            return Response(content=body, media_type="application/json")

    else:
        answer: dict[str, Any] = json.loads(body)

        @app.get("/v1/verify")
        async def verify() -> dict[str, Any]:
            return answer

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(content=b'{"status":"ok"}', media_type="application/json")

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answer", type=Path, required=True, help="The captured answer.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--mode", choices=("dict", "bytes"), default="dict")
    args = parser.parse_args(argv)
    os.environ[ANSWER_ENV] = str(args.answer.resolve())
    os.environ[MODE_ENV] = args.mode
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:  # uvicorn's workers import "ceiling" (spawn passes sys.path on)
        sys.path.insert(0, here)
    import uvicorn

    from ledger.settings import Settings

    # As ledger/cli/serve.py runs the gateway (keep the two in step): its HTTP protocol
    # (request-head deadlines, connection limit) and keep-alive time from the same XIETONG_*
    # settings the bench gives the gateway.
    uvicorn.run(
        "ceiling:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        http="api.server:HttpProtocol",
        timeout_keep_alive=Settings().api_keep_alive,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
