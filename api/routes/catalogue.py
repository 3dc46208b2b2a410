"""``/v1/catalogue``: the texts behind the chain's hashes (ledger.catalogue), to name hashes,
hand to another department, or take from one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from ledger import InputError, catalogue

from ..deps import SessionDep, require
from ..examples import ok, problems
from ..schemas import CatalogueDocument, CatalogueImport, CatalogueNames

router = APIRouter(prefix="/v1/catalogue", tags=["catalogue"])
#: The most hashes one names request may ask for.
MAX_NAMES = 500


@router.get(
    "",
    summary="This gateway's catalogue",
    response_model=CatalogueDocument,
    # Admin: matter and evidence references may name people's cases; only their hashes are
    # on chain, and the whole list goes only to who may hand it to another department.
    dependencies=[Depends(require("admin"))],
    responses={**ok("catalogue"), **problems(403)},
)
def export(session: SessionDep) -> dict[str, Any]:
    """Every text the catalogue holds that still gives its hash, as a
    ``xietong-catalogue/1`` document another gateway imports (``POST /v1/catalogue``,
    ``xietong catalogue import``)."""
    return catalogue.export_texts(session=session)


@router.get(
    "/names",
    summary="Name hashes",
    response_model=CatalogueNames,
    response_model_exclude_unset=True,  # a name's owner only for a dataset id
    dependencies=[Depends(require("read"))],
    responses={**ok("catalogue_names"), **problems(400)},
)
def names(
    session: SessionDep,
    hash: Annotated[
        list[str],
        Query(description="Hashes (or dataset ids) to name; repeat the parameter, up to 500."),
    ],
) -> dict[str, Any]:
    """The catalogue's text for each hash it knows, hashed again first; hashes it does not
    know are left out. A dataset id is named by its code."""
    if len(hash) > MAX_NAMES:
        raise InputError(f"at most {MAX_NAMES} hashes per request, not {len(hash)}.")
    wanted = catalogue.parse_hashes(hash)
    return {"names": catalogue.names_for(session=session, hashes=wanted)}


@router.post(
    "",
    summary="Import a catalogue",
    response_model=CatalogueImport,
    dependencies=[Depends(require("admin"))],
    responses={**ok("catalogue_import"), **problems(400, 403)},
)
def import_catalogue(
    session: SessionDep,
    document: Annotated[
        dict[str, Any],
        Body(
            description="A `xietong-catalogue/1` document (another gateway's `GET /v1/catalogue`).",
            examples=[
                {
                    "format": "xietong-catalogue/1",
                    "texts": [{"rule": "code", "text": "eligibility-check 低保资格核查"}],
                }
            ],
        ),
    ],
) -> dict[str, Any]:
    """All or nothing: each text is hashed again, and a ``hash`` that is not the one its text
    gives refuses the document (400, naming the text). A text names only the hash it gives,
    so a hostile department's catalogue names nothing it did not hash."""
    hashes = catalogue.remember(
        session=session, texts=catalogue.parse_catalogue(document), source="POST /v1/catalogue"
    )
    return {"imported": len(hashes), "hashes": hashes}
