"""A dataset's metadata text: what ``registerDataset`` puts on chain as a hash, and which
content digest the dataset is anchored with (docs/SM3.md).

A SHA-256 dataset's metadata is its description as typed, as it always was. An SM3 dataset's
is one JSON document, ``{"description": …, "digest": "sm3", "format": "xietong-dataset/1"}``
(keys sorted, no spaces, UTF-8), so the choice is recorded with the dataset: its hash is on
chain, and the text in the catalogue of the gateway that registered it.

Pure: no I/O.
"""

from __future__ import annotations

import json

from .hashing import Digest, loads_strict

__all__ = ["DATASET_FORMAT", "digest_of", "metadata_text"]

#: Version tag of an SM3 dataset's metadata document.
DATASET_FORMAT = "xietong-dataset/1"


def metadata_text(description: str, digest: Digest) -> str:
    """The metadata text of a dataset described by ``description`` anchored with ``digest``."""
    if digest == "sha256":
        return description
    document = {"description": description, "digest": digest, "format": DATASET_FORMAT}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest_of(text: str) -> Digest:
    """The digest a dataset whose metadata text is ``text`` is anchored with: the document's,
    else SHA-256 (a description that is no such document)."""
    try:
        document = loads_strict(text, error=ValueError)
    except ValueError:
        return "sha256"
    if (
        isinstance(document, dict)
        and document.get("format") == DATASET_FORMAT
        and set(document) == {"description", "digest", "format"}
        and document["digest"] == "sm3"
        and metadata_text(str(document["description"]), "sm3") == text
    ):
        return "sm3"
    return "sha256"
