"""Prometheus metrics of one API process (its own registry, so apps never collide)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector

__all__ = ["IndexPosition", "Metrics", "Position", "metrics_listener"]


@dataclass(frozen=True)
class Position:
    """The chain node's newest block and the newest block of the index (None: not known)."""

    head: int | None
    indexed: int | None


class IndexPosition(Collector):
    """The ``xietong_chain_head_block``, ``xietong_index_block`` and
    ``xietong_index_lag_blocks`` gauges, read when they are collected but at most once every
    ``every`` seconds: a burst of scrapes costs one read (a node call and a database query),
    and a scrape arriving while another one reads answers with the numbers it has instead of
    waiting. Whoever learns the position anyway (``/readyz``) records it."""

    def __init__(self) -> None:
        self._read: Callable[[], Position] | None = None
        self._every = 5.0
        self._reading = threading.Lock()
        self._read_at = -math.inf  # monotonic time of the last read or record
        self._head: int | None = None
        self._indexed: int | None = None

    def follow(self, read: Callable[[], Position], *, every: float) -> None:
        """Read the position with ``read``, at most once every ``every`` seconds."""
        self._read, self._every = read, every

    def record(self, position: Position) -> None:
        """Keep what is known of ``position`` (an unknown part keeps its last value)."""
        if position.head is not None:
            self._head = position.head
        if position.indexed is not None:
            self._indexed = position.indexed
        self._read_at = time.monotonic()

    def refresh(self) -> None:
        """Read the position if it is older than the interval and nobody is reading it."""
        if self._read is None or time.monotonic() - self._read_at < self._every:
            return
        if not self._reading.acquire(blocking=False):
            return  # another scrape is reading it: answer with what is known
        try:
            if time.monotonic() - self._read_at >= self._every:
                self._read_at = time.monotonic()  # a failed read is not retried at once
                self.record(self._read())
        finally:
            self._reading.release()

    def describe(self) -> Iterable[Metric]:
        return self._families(None, None)

    def collect(self) -> Iterable[Metric]:
        self.refresh()
        return self._families(self._head, self._indexed)

    @staticmethod
    def _families(head: int | None, indexed: int | None) -> list[Metric]:
        head_family = GaugeMetricFamily(
            "xietong_chain_head_block", "Newest block of the chain node."
        )
        index_family = GaugeMetricFamily("xietong_index_block", "Newest block the index has read.")
        lag_family = GaugeMetricFamily(
            "xietong_index_lag_blocks", "Blocks the index is behind the node."
        )
        if head is not None:
            head_family.add_metric([], head)
        if indexed is not None:
            index_family.add_metric([], indexed)
        if head is not None and indexed is not None:
            lag_family.add_metric([], max(0, head - indexed))
        return [head_family, index_family, lag_family]


class Metrics:
    """Request counts and latencies, and the index's position."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "xietong_http_requests",
            "HTTP requests answered.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "xietong_http_request_seconds",
            "Time to answer a request.",
            ("route",),
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        answers = Counter(
            "xietong_verify_answers",
            "GET /v1/verify answers by how they were made: kept (the bytes kept, their stamp"
            " checked), loop (made on the event loop), thread (made on a worker thread).",
            ("made",),
            registry=self.registry,
        )
        #: One child per way (``labels`` costs a lookup per answer otherwise).
        self.answers = {made: answers.labels(made) for made in ("kept", "loop", "thread")}
        self.position = IndexPosition()
        self.registry.register(self.position)
        #: Set by each checkpoint pass under ``serve`` (docs/CHECKPOINTS.md).
        self.checkpoint_conflicts = Gauge(
            "xietong_checkpoint_conflicts",
            "Block numbers with two different hashes signed that no operator acknowledged.",
            registry=self.registry,
        )
        self.checkpoint_cosigned = Gauge(
            "xietong_checkpoint_cosigned_block",
            "Highest block the trust file's threshold of departments cosigned (0: none yet).",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


@contextmanager
def metrics_listener(metrics: Metrics, host: str, port: int) -> Iterator[None]:
    """Serve ``metrics`` over HTTP on ``host``:``port`` (every path; no key) while inside."""
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
