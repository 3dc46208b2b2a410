"""The catalogue: what people typed, under the hash the chain holds for it.

Only hashes go on chain: a dataset's code and description, an agreement's purpose and legal
basis, a commitment's matter reference and duties, reasons and evidence references. A
gateway keeps the texts it hashed itself (``remember`` at each write), and any department may
hand its texts to another (``export_texts`` / ``import_texts``, ``xietong catalogue``,
``/v1/catalogue``).

The catalogue is content-addressed, so it cannot lie: a text is stored under the hash its
rule (:data:`RULES`) gives, and every text is hashed again before it is shown (``names_for``).
A hash the catalogue does not know is shown as a hash, marked unknown; a stored text that no
longer gives its hash (the database was edited) is marked as differing and not shown. A
hostile department can therefore publish any catalogue it likes: at worst its texts name
nothing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from eth_utils import keccak
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from .db.tables import CatalogueText, DatasetRow, DepartmentRow
from .errors import InputError
from .hashing import Digest
from .ids import code_hash
from .metadata import digest_of

__all__ = [
    "CATALOGUE_FORMAT",
    "MAX_TEXTS",
    "MAX_TEXT_LENGTH",
    "RULES",
    "UnknownDigestError",
    "dataset_digest",
    "export_texts",
    "hash_of",
    "import_texts",
    "is_hash",
    "names_for",
    "parse_catalogue",
    "parse_hashes",
    "remember",
    "verified_texts",
]

CATALOGUE_FORMAT = "xietong-catalogue/1"
#: Longest text kept (characters): codes, citations and references, not documents.
MAX_TEXT_LENGTH = 4096
#: Most texts in one import.
MAX_TEXTS = 10_000

#: How a text becomes the hash the chain holds. ``code``: keccak256 of the trimmed UTF-8
#: text (codes, purposes, legal bases, matter references, duties, reasons, evidence:
#: :func:`ledger.ids.code_hash`); ``text``: keccak256 of the exact UTF-8 text (a dataset's
#: description, ``dataset register --metadata``).
RULES: Mapping[str, Callable[[str], bytes]] = {
    "code": code_hash,
    "text": lambda text: keccak(text.encode("utf-8")),
}

_HASH = re.compile(r"^0x[0-9a-f]{64}$")


def is_hash(value: str) -> bool:
    """``value`` is a 0x hash (or id) as the catalogue keys them: 64 lowercase hex digits."""
    return bool(_HASH.match(value))


def hash_of(text: str, rule: str) -> str:
    """The 0x hash ``rule`` gives ``text``; an InputError for a text no rule can hash."""
    if rule not in RULES:
        raise InputError(f"a catalogue rule is code or text, not {rule!r}.")
    if not isinstance(text, str) or not text.strip():
        raise InputError("a catalogue text must not be empty.")
    if len(text) > MAX_TEXT_LENGTH:
        raise InputError(
            f"a catalogue text holds at most {MAX_TEXT_LENGTH} characters, not {len(text)}."
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            "a catalogue text is not valid Unicode (it holds a lone surrogate)."
        ) from None
    return "0x" + RULES[rule](text).hex()


def remember(
    *, session: Session, texts: Iterable[tuple[str, str]], source: str, commit: bool = True
) -> list[str]:
    """Keep each (rule, text) under its hash; returns the hashes. A hash already held keeps
    its text unless that text no longer gives it (then the new one replaces it). Every text is
    checked before any is kept. Two processes keeping the same new text at once both succeed:
    the insert does nothing when the row came meanwhile."""
    pairs = [(hash_of(text, rule), rule, text) for rule, text in texts]
    now = int(time.time())
    for digest, rule, text in pairs:
        held = session.get(CatalogueText, digest)
        if held is None:
            values = {"hash": digest, "text": text, "rule": rule, "source": source, "added_at": now}
            session.execute(_insert_new(session, values))
        elif not _gives(held):
            held.text, held.rule, held.source, held.added_at = text, rule, source, now
            session.add(held)
            session.flush()
    if commit:
        session.commit()
    return [digest for digest, _, _ in pairs]


def _insert_new(session: Session, values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT (hash) DO NOTHING, in the database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(CatalogueText).values(values).on_conflict_do_nothing()
    return sqlite_insert(CatalogueText).values(values).on_conflict_do_nothing()


def _gives(row: CatalogueText) -> bool:
    """The row's text still gives its hash by its rule."""
    try:
        return hash_of(row.text, row.rule) == row.hash
    except InputError:
        return False


def names_for(*, session: Session, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What the catalogue says of each hash it holds, checked: ``{"text": …, "verified":
    true}``, or ``{"text": null, "verified": false}`` when the stored text no longer gives
    the hash. A dataset id is named by its code (the dataset's code hash, as the chain
    registered it, named by the catalogue). Hashes the catalogue does not know are left out.
    """
    wanted = sorted({h.lower() for h in hashes if isinstance(h, str) and is_hash(h.lower())})
    if not wanted:
        return {}
    dataset_rows = [
        row
        for chunk in _chunks(wanted)
        for row in session.exec(select(DatasetRow).where(col(DatasetRow.id).in_(chunk))).all()
    ]
    datasets = {row.id: row.code_hash for row in dataset_rows}
    # A code names a dataset only with its owner: another department may register the same
    # code (a dataset id derives from both), and the code alone would name both alike.
    owner_ids = sorted({row.owner_department for row in dataset_rows})
    owners = {
        row.id: row.name
        for chunk in _chunks(owner_ids)
        for row in session.exec(select(DepartmentRow).where(col(DepartmentRow.id).in_(chunk))).all()
    }
    looked_up = sorted(set(wanted) | set(datasets.values()))
    rows = {
        row.hash: row
        for chunk in _chunks(looked_up)
        for row in session.exec(
            select(CatalogueText).where(col(CatalogueText.hash).in_(chunk))
        ).all()
    }
    named: dict[str, dict[str, Any]] = {}
    for digest in looked_up:
        row = rows.get(digest)
        if row is not None:
            named[digest] = (
                {"text": row.text, "verified": True}
                if _gives(row)
                else {"text": None, "verified": False}
            )
    for dataset in dataset_rows:
        if dataset.code_hash in named:
            named[dataset.id] = {
                **named[dataset.code_hash],
                "owner": owners.get(dataset.owner_department, dataset.owner_department),
            }
    return named


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def verified_texts(*, session: Session, hashes: Iterable[str]) -> dict[str, str]:
    """Hash → text for each of ``hashes`` the catalogue names with a text that still gives it
    (what a page or an export may show in place of the hash)."""
    wanted = {digest.lower() for digest in hashes if isinstance(digest, str)}
    named = names_for(session=session, hashes=wanted)
    return {d: name["text"] for d, name in named.items() if name["verified"] and d in wanted}


def parse_hashes(values: Iterable[str]) -> list[str]:
    """Hashes as people give them (any case, spaces around) as the catalogue keys them; an
    InputError naming the first that is not a 0x hash of 64 hex digits."""
    wanted = [value.strip().lower() for value in values]
    for value in wanted:
        if not is_hash(value):
            raise InputError(f"{value[:70]!r} is not a 0x hash of 64 hex digits.")
    return wanted


def export_texts(*, session: Session) -> dict[str, Any]:
    """Every text the catalogue holds that still gives its hash, as a
    ``xietong-catalogue/1`` document another department can import."""
    rows = session.exec(select(CatalogueText).order_by(col(CatalogueText.hash))).all()
    return {
        "format": CATALOGUE_FORMAT,
        "texts": [{"rule": r.rule, "text": r.text, "hash": r.hash} for r in rows if _gives(r)],
    }


def _echo(value: Any) -> str:
    """The start of a value from someone else's document, safe to say back: lone surrogates
    (which no JSON answer can carry) written as escapes."""
    return str(value)[:20].encode("utf-8", "backslashreplace").decode("utf-8")


def parse_catalogue(data: Any) -> list[tuple[str, str]]:
    """The (rule, text) pairs of a ``xietong-catalogue/1`` document; an InputError naming the
    first thing wrong. A ``hash`` given beside a text must be the one its rule gives."""
    if not isinstance(data, dict) or data.get("format") != CATALOGUE_FORMAT:
        raise InputError(f'a catalogue is a JSON object with "format": "{CATALOGUE_FORMAT}".')
    texts = data.get("texts")
    if not isinstance(texts, list):
        raise InputError('a catalogue lists its texts under "texts".')
    if len(texts) > MAX_TEXTS:
        raise InputError(f"a catalogue holds at most {MAX_TEXTS} texts, not {len(texts)}.")
    pairs: list[tuple[str, str]] = []
    for number, item in enumerate(texts, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError(f'text {number} of the catalogue is not {{"rule", "text"}}.')
        rule = item.get("rule", "code")
        if not isinstance(rule, str):
            raise InputError(f"text {number} of the catalogue: a catalogue rule is code or text.")
        try:
            digest = hash_of(item["text"], rule)
        except InputError as exc:
            raise InputError(f"text {number} of the catalogue: {exc}") from None
        claimed = item.get("hash")
        if claimed is not None and str(claimed).lower() != digest:
            raise InputError(
                f"text {number} of the catalogue does not give the hash it names "
                f"({_echo(claimed)}…): its {rule} hash is {digest}."
            )
        pairs.append((rule, item["text"]))
    return pairs


def import_texts(*, session: Session, document: bytes | str, source: str) -> list[str]:
    """Import a ``xietong-catalogue/1`` document (JSON); returns the hashes now named. All or
    nothing: a document with one bad text imports none."""
    try:
        data = json.loads(document)
    except (ValueError, RecursionError):
        raise InputError("a catalogue is a JSON document; this one does not parse.") from None
    return remember(session=session, texts=parse_catalogue(data), source=source)


class UnknownDigestError(InputError):
    """A dataset's metadata text is not in this gateway's catalogue, so which digest its
    versions take (SHA-256 or SM3) is unknown (:func:`dataset_digest`)."""


#: The metadata hashes of a dataset registered without a description (zero, or the empty text's).
_NO_METADATA = frozenset({"0x" + "00" * 32, "0x" + keccak(b"").hex()})


def dataset_digest(*, session: Session, dataset_id: str) -> Digest | None:
    """The content digest dataset ``dataset_id`` (0x hex) was registered for: its metadata
    text's (:mod:`ledger.metadata`), as the catalogue holds it (hashed again first); SHA-256
    for a dataset registered without metadata; None when the index does not hold the dataset.

    UnknownDigestError when the catalogue lacks the metadata text: the dataset may be an SM3
    one, and anchoring its digests as SHA-256 leaves would make proofs of the wrong algorithm."""
    row = session.get(DatasetRow, dataset_id)
    if row is None:
        return None
    if row.metadata_hash in _NO_METADATA:
        return "sha256"
    text = verified_texts(session=session, hashes=[row.metadata_hash]).get(row.metadata_hash)
    if text is None:
        raise UnknownDigestError(
            f"dataset {dataset_id} was registered with metadata {row.metadata_hash}, whose "
            "text this gateway's catalogue does not hold, so whether it takes SHA-256 or SM3 "
            "digests is unknown: add that text to the catalogue (xietong catalogue add --rule "
            "text TEXT, or catalogue import FILE of the registering gateway's export)."
        )
    return digest_of(text)
