"""What one API process holds: the gateway's services, built once from the settings."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ledger.anchoring import Anchorer
from ledger.errors import ChainUnavailableError
from ledger.gateway import Gateway
from ledger.indexer import IndexHealth
from ledger.settings import Settings
from ledger.submissions import SubmissionQueue
from ledger.trust import deployment_trust
from ledger.verify import Verifier
from ledger.watch import Watchers
from ledger.witness import PassReport, Witness

from .answer_cache import AnswerCache
from .metrics import Metrics
from .ratelimit import FailureLimiter, RateLimiter

__all__ = ["ApiState"]

log = logging.getLogger("xietong.api")

NODE_RETRY = 1.0  # seconds a node that did not answer is left alone


@dataclass
class ApiState:
    """Services shared by every request of one process (thread-safe where they must be)."""

    settings: Settings
    gateway: Gateway
    limiter: RateLimiter
    metrics: Metrics
    #: Failed authentications per client address (api.deps.authorize, the portal's sign-in).
    auth_failures: FailureLimiter = field(default_factory=lambda: FailureLimiter(0, 1))
    #: Serialises this process's transactions (one signer, one nonce sequence).
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    #: What this process's indexer loop did (``/readyz`` judges the index by it).
    index_health: IndexHealth = field(default_factory=IndexHealth)
    #: Until when (monotonic) a node that did not answer a route's read is left alone.
    node_down_until: float = -math.inf
    #: The consortium trust file as served, once it was read and matched the manifest.
    _trust: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> ApiState:
        return cls(
            settings=settings,
            gateway=Gateway(settings),
            limiter=RateLimiter(settings.api_rate_limit, settings.api_rate_burst),
            metrics=Metrics(),
            auth_failures=FailureLimiter(
                settings.api_auth_failures_per_minute, settings.api_auth_failures_burst
            ),
        )

    def consortium_trust(self) -> dict[str, Any]:
        """The consortium trust file with its fingerprint, as ``GET /v1/consortium`` answers
        it; read from disk once it has matched the deployment manifest (kept from then on,
        since neither changes while the gateway runs), and read again while it does not.

        Raises:
            DeploymentError: the file is missing, damaged or not this deployment's.
            ChainUnavailableError: the deployment could not be loaded (no node yet).
        """
        if self._trust is None:
            deployment = self.gateway.deployment
            trust = deployment_trust(deployment, self.settings.trust_path(deployment.chain_id))
            self._trust = {**trust.as_dict(), "fingerprint": trust.fingerprint}
        return self._trust

    @cached_property
    def answers(self) -> AnswerCache:
        """``GET /v1/verify`` answers kept, with the stamp they were made at."""
        return AnswerCache(self.settings.api_answer_cache_mib * 1024 * 1024)

    @cached_property
    def verifier(self) -> Verifier:
        return self.gateway.verifier(head_ttl=0.5)  # confirmations may lag by half a second

    @cached_property
    def queue(self) -> SubmissionQueue:
        return SubmissionQueue(
            self.gateway.engine,
            max_leaves=self.settings.anchor_batch_size,
            max_wait=self.settings.anchor_batch_seconds,
        )

    @cached_property
    def anchorer(self) -> Anchorer:
        return self.gateway.anchorer()

    def node_may_answer(self) -> bool:
        """Whether to ask the node now: after it failed to answer, it is left alone for
        ``NODE_RETRY`` seconds, so a silent node costs one timeout, not one per request."""
        return time.monotonic() >= self.node_down_until

    def node_failed(self) -> None:
        self.node_down_until = time.monotonic() + NODE_RETRY

    def fallback_node(self) -> str | None:
        """The fallback node (its origin) serving this process's chain reads while the
        gateway's own node does not answer; None while the own node serves them, or before
        anything asked the chain (the header :data:`api.app.CHAIN_NODE_HEADER` says so)."""
        if "_chain" not in vars(self.gateway):  # not opened yet: opening it here would wait
            return None
        serving = self.gateway.client.serving_node()
        return serving.url if serving.fallback else None

    def department_id(self) -> str:
        """0x id of the department whose key this gateway holds."""
        return "0x" + self.gateway.department_of_signer().hex()

    # ------------------------------------------------------------------ background work

    def index_loop(self, retry: float = 1.0) -> None:
        """Follow the chain into the index until stopping.

        The indexer retries node and database outages itself; any other failure of a pass (a
        database refusing writes, as a standby does; an error answer of the node; a log it
        cannot decode; an index of another chain) is logged by its kind — never its text, which
        may hold a URL — and the indexer starts again from its checkpoint ``retry`` seconds
        later: the thread never dies of it. Every pass, and every failure, is recorded in
        :attr:`index_health`, so that ``/readyz`` fails while the index cannot advance instead
        of the index silently stopping while the API keeps answering."""
        health = self.index_health
        health.started()
        try:
            while not self.stopping.is_set():
                try:
                    self.gateway.indexer().follow(
                        interval=self.settings.index_interval,
                        should_stop=self.stopping.is_set,
                        on_pass=health.passed,
                        on_error=health.failed,
                    )
                except Exception as exc:
                    health.failed(exc)
                    log.warning("index pass failed: %s", type(exc).__name__)
                    self.stopping.wait(max(retry, self.settings.index_interval))
        finally:
            health.stopped()

    @cached_property
    def watchers(self) -> Watchers:
        """This gateway's department's watchers (it reads the department from the chain)."""
        return self.gateway.watchers()

    def watch_loop(self) -> None:
        """Match the index into the webhook outbox and send what is due, every
        ``webhook_interval`` seconds, until stopping. A failed pass is logged by its kind and
        changes nothing (ledger.watch.outbox): the next one starts from the same cursors."""
        said = None  # the kind of failure last logged: a lasting one is logged once
        while not self.stopping.is_set():
            try:
                self.watchers.scan()
                self.watchers.deliver()
                said = None
            except Exception as exc:  # keep the loop alive; the outbox keeps every message
                kind = type(exc).__name__
                if kind != said:
                    log.warning("webhook pass failed: %s", kind)
                said = kind
            self.stopping.wait(self.settings.webhook_interval)

    @cached_property
    def witness(self) -> Witness:
        """This gateway's checkpoints: signed with its key when the trust file names it,
        collected from ``XIETONG_CHECKPOINT_PEERS``."""
        return self.gateway.witness()

    def held_witness(self) -> tuple[Witness, bool]:
        """The witness for what this gateway holds (signatures, conflicts, peers), and whether
        it is one without the node: this gateway's own, or while the node has not answered
        since the start, one over the trust file of the chain the index was read from
        (``Gateway.witness_without_node``). ChainUnavailableError when neither can be had."""
        try:
            return self.witness, False
        except ChainUnavailableError:
            return self.gateway.witness_without_node(), True

    def checkpoint_pass(self) -> PassReport:
        """One checkpoint pass (collect, sign, compare), and its figures in the metrics: open
        conflicts, the highest cosigned block."""
        report = self.witness.run()
        latest = self.witness.latest()
        self.metrics.checkpoint_conflicts.set(len(report.conflicts))
        self.metrics.checkpoint_cosigned.set(0 if latest is None else latest["number"])
        return report

    def checkpoint_loop(self) -> None:
        """Collect, sign and compare checkpoints every ``checkpoint_poll`` seconds until
        stopping (ledger.witness). Why this gateway signs none is logged once; a failed pass
        is logged by its kind (a lasting one once) and the next starts over."""
        said = None
        told = False
        while not self.stopping.is_set():
            try:
                if not told:
                    why = self.witness.why_not_signing()
                    if why is not None:
                        log.warning("checkpoints: %s", why)
                    told = True
                self.checkpoint_pass()
                said = None
            except Exception as exc:  # keep the loop alive; a pass changes nothing it did not keep
                kind = type(exc).__name__
                if kind != said:
                    log.warning("checkpoint pass failed: %s", kind)
                said = kind
            self.stopping.wait(self.settings.checkpoint_poll)

    def anchor_loop(self, interval: float = 0.5, resume_every: float = 30.0) -> None:
        """Seal and anchor due submission batches until stopping; at start and then every
        ``resume_every`` seconds, finish anchoring batches a crash or an outage left open."""
        can_sign = self.settings.keystore is not None or self.settings.env == "local"
        next_resume = 0.0
        while not self.stopping.is_set():
            try:
                if can_sign and time.monotonic() >= next_resume:
                    next_resume = time.monotonic() + resume_every
                    with self.write_lock:
                        self.anchorer.resume()
                if self.queue.due():
                    with self.write_lock:
                        self.queue.flush(self.anchorer)
            except Exception as exc:  # keep the loop alive; every batch keeps its state
                log.warning("anchoring pass failed: %s", type(exc).__name__)
            self.stopping.wait(interval)
