"""Wiring: the services of one gateway built once from its :class:`Settings`."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from . import catalogue
from .anchoring import Anchorer
from .chain import open_client
from .chain.client import ChainClient
from .chain.deploy import Deployment, load_deployment
from .db.engine import create_db_engine
from .db.tables import IndexerCheckpoint
from .erasure import Eraser
from .errors import ChainUnavailableError, LedgerError
from .hashing import Digest
from .indexer import Indexer
from .keys import load_signer
from .settings import Settings
from .verify import Verifier
from .watch import Watchers
from .witness import Witness

__all__ = ["Gateway"]

log = logging.getLogger("xietong.gateway")


def _catalogable(rule: str, text: str) -> bool:
    """A text the catalogue can keep (not blank, not too long, valid Unicode): others are
    left out of it, never refused for it."""
    try:
        catalogue.hash_of(text, rule)
    except LedgerError:
        return False
    return True


class Gateway:
    """Lazily opened chain client, database, signer and the services over them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: The verifiers made here, told when this gateway's indexers move the checkpoint.
        self._verifiers: weakref.WeakSet[Verifier] = weakref.WeakSet()

    @cached_property
    def _chain(self) -> tuple[ChainClient, Deployment]:
        return open_client(self.settings)

    @property
    def client(self) -> ChainClient:
        return self._chain[0]

    @property
    def deployment(self) -> Deployment:
        return self._chain[1]

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(self.settings.database_url)

    @cached_property
    def signer(self) -> LocalAccount:
        return load_signer(self.settings)

    def remember(self, *texts: tuple[str, str]) -> None:
        """Keep the (rule, text) pairs this gateway is about to put on chain as hashes in its
        catalogue (:mod:`ledger.catalogue`), so its pages and answers can name them. Called
        before the transaction: a text kept for a transaction that failed names nothing."""
        kept = [(rule, text) for rule, text in texts if _catalogable(rule, text)]
        if not kept:
            return
        try:
            with Session(self.engine) as session:
                catalogue.remember(session=session, texts=kept, source="this gateway")
        except (LedgerError, DBAPIError) as exc:
            # The catalogue only names hashes: its failure never stops the transaction.
            log.warning("the catalogue did not keep %d text(s): %s", len(kept), type(exc).__name__)

    def catalogued(self, hashes: Iterable[str]) -> dict[str, str]:
        """The texts the catalogue names ``hashes`` with, each hashed again first (a text that
        no longer gives its hash is left out); {} when the database does not answer: the
        hashes are shown then, nothing else is lost."""
        try:
            with Session(self.engine) as session:
                return catalogue.verified_texts(session=session, hashes=hashes)
        except (LedgerError, DBAPIError):  # the database does not answer: hashes are shown
            return {}

    def indexer(self) -> Indexer:
        return Indexer(
            self.client,
            self.deployment,
            self.engine,
            confirmations=self.settings.confirmations,
            on_moved=self._standing_moved,
        )

    def anchorer(self) -> Anchorer:
        return Anchorer(
            self.client,
            self.engine,
            self.signer,
            confirmations=self.settings.confirmations,
            confirmation_timeout=self.settings.tx_timeout,
        )

    def eraser(self) -> Eraser:
        """Erasing records of this department's versions (docs/ERASURE.md)."""
        return Eraser(self.client, self.engine, self.signer)

    def watchers(self) -> Watchers:
        """The watchers of this gateway's department (the signer's), webhooks as configured."""
        return Watchers(
            self.engine,
            department="0x" + self.department_of_signer().hex(),
            allow_http=self.settings.env == "local",
            retry_base=self.settings.webhook_retry_base,
            max_attempts=self.settings.webhook_max_attempts,
            timeout=self.settings.webhook_timeout,
        )

    def witness(self, *, sign: bool = True) -> Witness:
        """This gateway's checkpoints (docs/CHECKPOINTS.md): cosigned with its key when
        ``sign`` and the trust file names the key, collected from the configured peers."""
        return self._witness(self.client, self.deployment, sign=sign)

    def witness_without_node(self) -> Witness:
        """A witness over what this gateway holds (its signatures, conflicts and peers) while
        the node does not answer: the trust file of the chain its index was read from, no
        client, so it signs and compares nothing. ChainUnavailableError when nothing was
        indexed (which chain, only the node would say) or the manifest is another chain's."""
        return self._witness(None, self.indexed_deployment(), sign=True)

    def _witness(
        self, client: ChainClient | None, deployment: Deployment, *, sign: bool
    ) -> Witness:
        return Witness(
            self.engine,
            client,
            deployment.trust(),
            signer=self.signer if sign and self._holds_key() else None,
            interval=self.settings.checkpoint_interval,
            confirmations=self.settings.confirmations,
            peers=self.settings.checkpoint_peers,
            on_moved=self._standing_moved,
        )

    def indexed_deployment(self) -> Deployment:
        """The deployment: the node's chain's; while the node does not answer, the manifest of
        the chain the index was read from (its chain id and registry, as the index's
        checkpoint records them). ChainUnavailableError when neither can be had."""
        try:
            return self.deployment
        except ChainUnavailableError as unavailable:
            with Session(self.engine) as session:
                checkpoint = session.get(IndexerCheckpoint, 1)
            if checkpoint is None:
                raise
            try:
                deployment = load_deployment(self.settings.deployment_path(checkpoint.chain_id))
            except LedgerError:
                raise unavailable from None
            registry = deployment.addresses.get("DepartmentRegistry", "")
            if (
                deployment.chain_id != checkpoint.chain_id
                or registry.lower() != checkpoint.registry_address.lower()
            ):
                raise unavailable from None
            return deployment

    def _holds_key(self) -> bool:
        """Whether this gateway is configured to sign (a keystore, or local mode's key)."""
        return self.settings.keystore is not None or self.settings.env == "local"

    def verifier(self, *, head_ttl: float = 0.0) -> Verifier:
        verifier = Verifier(
            self.engine,
            self.client,
            confirmations=self.settings.confirmations,
            head_ttl=head_ttl,
            checkpoints=self._cosigned_checkpoint,
        )
        self._verifiers.add(verifier)
        return verifier

    @cached_property
    def _reader(self) -> Witness:
        return self.witness(sign=False)

    def _cosigned_checkpoint(self, at_least: int, at_most: int | None) -> dict[str, Any] | None:
        """The lowest cosigned checkpoint a proof bundle of a block from ``at_least`` carries."""
        return self._reader.cosigned(at_least=at_least, at_most=at_most)

    def _standing_moved(self) -> None:
        """An indexer or witness of this gateway ended a pass: its verifiers forget the index
        generation and signatures' mark they keep (their next answers read them)."""
        for verifier in list(self._verifiers):
            verifier.index.forget_standing()

    def dataset_digest(self, dataset_id: bytes) -> Digest | None:
        """The content digest the dataset was registered for (its metadata, docs/SM3.md);
        None when this gateway's index or catalogue does not know its metadata text."""
        with Session(self.engine) as session:
            return catalogue.dataset_digest(session=session, dataset_id="0x" + dataset_id.hex())

    def department_of_signer(self) -> bytes:
        """The department the signer operates (reverts decoded when it operates none)."""
        return bytes(
            self.client.call("DepartmentRegistry", "requireActiveOperator", self.signer.address)
        )
