"""What the verifier keeps of the index between answers, per index generation, and the
database reads of one answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session


class Reads:
    """The connection of one answer, and an ORM session over it, opened only when facts
    not kept yet must be read."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


Dept = tuple[str, str | None, str | None]  # id, name, status


@dataclass(frozen=True)
class VersionFacts:
    """What the index says about one version (all of :class:`Version` but the depth)."""

    root: str
    dataset_id: str
    owner: Dept
    leaf_count: int
    block_number: int
    anchored_at: str | None
    transaction: str
    revoked_at: str | None
    parents: tuple[str, ...]


@dataclass(frozen=True)
class AgreementFacts:
    """An active agreement covering a dataset, its parties and receipts (as index rows say)."""

    agreement_id: str
    provider: Dept
    consumer: Dept
    purpose: str
    legal_basis: str
    terms_hash: str
    valid_from: int
    valid_until: int
    receipts: tuple[tuple[Any, ...], ...]


class IndexFacts:
    """Facts read from one generation of the index (checkpoint block number and hash); a
    generation of None (nothing indexed, or a reindex under way) keeps nothing."""

    _LIMIT = 50_000  # entries per kind before a kind is forgotten and read again

    def __init__(self, generation: tuple[int, str] | None) -> None:
        self.generation = generation
        self.departments: dict[str, Dept] = {}
        self.versions: dict[str, VersionFacts] = {}
        self.lineages: dict[str, list[VersionFacts]] = {}
        self.agreements: dict[str, list[AgreementFacts]] = {}

    def keep(self, kind: dict[str, Any], key: str, value: Any) -> None:
        if self.generation is None:
            return
        if len(kind) >= self._LIMIT:
            kind.clear()
        kind[key] = value
