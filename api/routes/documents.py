"""``/v1/documents``: what else a hash is on the chain than a leaf: an agreement's terms
document, a purpose, a legal basis, a matter, a duty, evidence, a reason, a dataset's code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ledger import catalogue
from ledger.db import queries
from ledger.refs import parse_hash

from ..deps import SessionDep, require
from ..examples import ok, problems
from ..schemas import DocumentsAnswer

router = APIRouter(
    prefix="/v1/documents", tags=["verification"], dependencies=[Depends(require("read"))]
)


@router.get(
    "",
    summary="What a hash is, besides a leaf",
    response_model=DocumentsAnswer,
    response_model_exclude_unset=True,  # a name's owner only for a dataset id
    responses={**ok("documents"), **problems(400)},
)
def documents(
    session: SessionDep,
    hash: Annotated[
        str,
        Query(
            description="The SHA-256 of a file (a terms document), or the keccak256 of a "
            "trimmed text (a purpose, legal basis, matter, duty, evidence, reason, code).",
            examples=["0x" + "7c" * 32],
        ),
    ],
) -> dict[str, Any]:
    """Every place the chain holds the hash outside a Merkle tree, with the subject's status
    now, and the catalogue's text for it when it has one that gives the hash. An empty list
    when it holds it nowhere (200: the hash was well formed and looked for)."""
    digest = "0x" + parse_hash(hash, what="hash").hex()
    named = catalogue.names_for(session=session, hashes=[digest]).get(digest)
    return {
        "hash": digest,
        "named": named,
        "documents": queries.documents_for(session=session, digest=digest),
    }
