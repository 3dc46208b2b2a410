"""Prometheus metrics of one API process (its own registry, so apps never collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]


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
        self.index_block = Gauge(
            "xietong_index_block", "Newest block the index has read.", registry=self.registry
        )
        self.chain_head = Gauge(
            "xietong_chain_head_block", "Newest block of the chain node.", registry=self.registry
        )
        self.index_lag = Gauge(
            "xietong_index_lag_blocks",
            "Blocks the index is behind the node.",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
