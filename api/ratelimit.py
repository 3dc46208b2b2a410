"""Token buckets (in process: each gateway instance limits on its own): requests per caller,
and failed authentications per client address."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ledger import LedgerError

__all__ = ["FailureLimiter", "RateLimitedError", "RateLimiter"]


class RateLimitedError(LedgerError):
    """The caller sent more requests than its rate allows."""

    kind = "rate-limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter:
    """``rate`` requests per second per caller, with bursts up to ``burst``; 0 disables it."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, caller: str) -> None:
        """Take one token for ``caller``; RateLimitedError when none is left."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(caller, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimitedError(
                    f"more than {self.rate:g} requests per second; retry in {wait:.2f} s.",
                    retry_after=wait,
                )
            self._buckets[caller] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # forget idle callers
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}


class FailureLimiter:
    """Failed authentications per client address: ``per_minute`` with bursts up to ``burst``
    (0 per minute disables it).

    Each failure takes a token; an address without a token left is refused (429) every
    authentication, a correct key included, until a token has come back: otherwise guessing
    would go on, each lucky guess undistinguishable from a user. ``clock`` is injectable so
    that tests need not wait.
    """

    def __init__(
        self, per_minute: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, address: str, now: float) -> float:
        tokens, last = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate)

    def check(self, address: str) -> None:
        """RateLimitedError if ``address`` has used up its failures."""
        if self.rate <= 0:
            return
        with self._lock:
            tokens = self._tokens(address, self.clock())
        if tokens < 1.0:
            wait = (1.0 - tokens) / self.rate
            raise RateLimitedError(
                f"too many failed authentications from this address; retry in {wait:.0f} s.",
                retry_after=wait,
            )

    def failed(self, address: str) -> None:
        """Count one failed authentication of ``address``."""
        if self.rate <= 0:
            return
        now = self.clock()
        with self._lock:
            self._buckets[address] = (max(0.0, self._tokens(address, now) - 1.0), now)
            if len(self._buckets) > 100_000:  # forget addresses whose bucket is full again
                full = self.burst / self.rate
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}
