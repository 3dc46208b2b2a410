"""``/v1/verify``: is this file, hash or record anchored, by whom, when, and who may receive it?"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from ledger import InputError, LedgerError, hashing
from ledger.refs import parse_hash
from ledger.verify import NotAnchoredError, Verification, WouldBlockError

from .._client import client_address
from ..deps import StateDep, require
from ..examples import ok, problems
from ..schemas import FileVerifyAnswer, VerifyAnswer
from ..state import ApiState


class UploadTooLargeError(LedgerError):
    """The uploaded file exceeds the gateway's limit."""

    kind = "payload-too-large"


router = APIRouter(prefix="/v1/verify", tags=["verify"], dependencies=[Depends(require("read"))])

log = logging.getLogger("xietong.api")

#: The status an upload whose client hung up is counted with (nobody receives it).
CLIENT_CLOSED_REQUEST = 499

HashQuery = Annotated[
    str,
    Query(
        description="SHA-256 of a file's content, or a leaf hash (0x and 64 hex digits).",
        examples=["0x" + "3f" * 32],
    ),
]


def answer(state: ApiState, verification: Verification, *, with_proof: bool) -> dict[str, Any]:
    """The verification as JSON; NotAnchoredError when nothing matched."""
    if not verification.matches:
        raise NotAnchoredError(
            f"{verification.query} is not anchored in any dataset version known here."
        )
    body = verification.as_dict()
    body["status"] = verification.matches[0].status
    for match, raw in zip(verification.matches, body["matches"], strict=True):
        raw["proof_url"] = f"/v1/proofs/{match.leaf_hash}?version={match.version.id}"
        if with_proof and match.kind == "file" and match.content_hash is not None:
            raw["proof"] = state.verifier.match_bundle(match)
    return body


@router.get(
    "",
    summary="Verify a file hash or leaf hash",
    response_model=VerifyAnswer,
    responses={**ok("verification"), **problems(400, 404)},
)
async def verify_hash(
    state: StateDep,
    hash: HashQuery,
    with_proof: Annotated[
        bool, Query(description="Include the proof bundle of each file match.")
    ] = False,
) -> Response:
    """The anchored versions holding a file with this content SHA-256 (or this leaf)."""
    digest = parse_hash(hash, what="hash")
    # Most answers come from memory and the embedded database: on the event loop they cost
    # less than the hop to a worker thread; anything that waits (node, database server,
    # a tree to rebuild) is done on a worker thread.
    if "verifier" in vars(state):  # built (it reads the deployment from the node) on a thread
        verifier = state.verifier
        # An answer kept, if made at the stamp of now (the index's checkpoint, the chain's
        # head and time): the same bytes again, read without a thread.
        kept = state.answers.get((digest, with_proof))
        if kept is not None and kept[0] == await verifier.stamp_async():
            state.metrics.answers["kept"].inc()
            return _json(kept[1])
        try:
            if verifier.embedded:  # SQLite: the leaves read here, at once
                with verifier.in_memory():
                    made = _answered(state, digest, verifier.verify_hash(digest), with_proof)
            else:  # PostgreSQL: the leaves read over the loop's connection (one round trip)
                verification = await verifier.verify_hash_async(digest)
                with verifier.in_memory():
                    made = _answered(state, digest, verification, with_proof)
            state.metrics.answers["loop"].inc()
            return made
        except WouldBlockError:
            pass
    made = await run_in_threadpool(_verify_hash, state, digest, with_proof)
    state.metrics.answers["thread"].inc()
    return made


def _verify_hash(state: ApiState, digest: bytes, with_proof: bool) -> Response:
    return _answered(state, digest, state.verifier.verify_hash(digest), with_proof)


def _answered(
    state: ApiState, digest: bytes, verification: Verification, with_proof: bool
) -> Response:
    """The answer's bytes, kept when the verification is stable."""
    body = _dumps(answer(state, verification, with_proof=with_proof))
    if verification.stamp is not None:
        state.answers.put((digest, with_proof), verification.stamp, body)
    return _json(body)


def _dumps(body: dict[str, Any]) -> bytes:
    """JSON as FastAPI's JSONResponse writes it (UTF-8, no spaces)."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


@router.post(
    "/file",
    summary="Verify an uploaded file",
    response_model=FileVerifyAnswer,
    response_model_exclude_unset=True,  # a match's proof only when asked for
    responses={**ok("file_verification"), **problems(400, 404, 413)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def verify_file(
    request: Request, state: StateDep, with_proof: bool = False
) -> dict[str, Any] | Response:
    """Send the file's bytes as the request body; it is hashed as it streams in and never stored.

    Bodies larger than the gateway's limit (``XIETONG_API_MAX_UPLOAD``) are refused with 413
    without reading them. A client that hangs up before the end of its body costs one log
    line (no traceback) and is counted with status 499 (as nginx names it).
    """
    limit = state.settings.api_max_upload
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadTooLargeError(
            f"the file is larger than the {limit}-byte limit of this gateway."
        )
    # Both digests as the bytes arrive: the file's dataset may use either (docs/SM3.md).
    states, size = [hashing.hasher(d)() for d in hashing.DIGESTS], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise UploadTooLargeError(
                    f"the file is larger than the {limit}-byte limit of this gateway."
                )
            for state_ in states:
                state_.update(chunk)
    except ClientDisconnect:
        # Nobody is left to answer: one line, never the traceback an escaping error logs.
        log.warning(
            "client %s disconnected during an upload to %s after %d of %s bytes",
            client_address(request, state.settings.trusted_proxies),
            request.url.path,
            size,
            declared if declared is not None and declared.isdigit() else "unknown",
        )
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    verification = await run_in_threadpool(
        state.verifier.file_verification, [s.digest() for s in states]
    )
    body = await run_in_threadpool(answer, state, verification, with_proof=with_proof)
    body["size"] = size
    return body


class RecordQuery(BaseModel):
    """A record and its salt; give the record itself or the digest of its canonical JSON."""

    record: dict[str, Any] | None = Field(
        default=None,
        description="The record as a JSON object (a CSV row: column → text).",
        examples=[
            {
                "编号": "DB00000",
                "姓名": "王明",
                "街道": "湖滨街道",
                "家庭人口": "2",
                "月保障金": "1250",
                "月份": "2026-11",
            }
        ],
    )
    record_hash: str | None = Field(
        default=None,
        description="SHA-256 of the record's RFC 8785 JSON (SM3 for a dataset anchored with SM3).",
    )
    salt: str = Field(
        description="The record's salt from the owner's salts sidecar.", examples=["0x" + "5a" * 32]
    )
    with_proof: bool = Field(
        default=False,
        description="Include the proof bundle of each match (it holds the record hash and salt).",
    )


@router.post(
    "/record",
    summary="Verify a record with its salt",
    response_model=VerifyAnswer,
    response_model_exclude_unset=True,  # a match's proof only when asked for
    responses={**ok("record_verification"), **problems(400, 404)},
)
def verify_record(state: StateDep, query: RecordQuery) -> dict[str, Any]:
    """Is this record (with its salt) anchored? Only hashes reach the index.

    With ``with_proof`` each match carries its ``xietong-proof/3`` bundle. The salt never goes
    into a URL (``proof_url`` names the leaf and version only): a salt in a query string ends
    up in access logs and browser histories.
    """
    if (query.record is None) == (query.record_hash is None):
        raise InputError("give either `record` or `record_hash`, not both or neither.")
    record_hash: bytes | dict[str, bytes] = (
        {d: hashing.record_hash(query.record, digest=d) for d in hashing.DIGESTS}
        if query.record is not None
        else parse_hash(query.record_hash or "", what="record hash")
    )
    salt = parse_hash(query.salt, what="salt", secret=True)
    verification = state.verifier.verify_record(record_hash, salt)
    body = answer(state, verification, with_proof=False)
    if query.with_proof:
        for match, raw in zip(verification.matches, body["matches"], strict=True):
            raw["proof"] = state.verifier.record_bundle(
                record_hash, salt, version=bytes.fromhex(match.version.id[2:])
            )
    return body
