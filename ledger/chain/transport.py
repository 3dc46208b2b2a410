"""The one place where a chain node that does not answer becomes :class:`ChainUnavailableError`.

Whatever talks to the node (:class:`~ledger.chain.client.ChainClient`'s calls and
transactions, the anchorer's raw requests, the indexer's log and block reads, the verifier's
head reads, the API's readiness probe) does so inside :func:`node_errors`, which maps the
transport's failures through one table, as httpx's ``map_exceptions`` does: callers above it
catch :class:`ChainUnavailableError` and never a ``requests`` or socket exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from ..errors import ChainError, ChainUnavailableError

__all__ = ["UNREACHABLE", "node_errors"]

#: What a node that is down, refuses connections, drops them or does not answer in time
#: raises below web3 (requests over urllib3, or the socket itself), and what it becomes.
UNREACHABLE: dict[type[Exception], type[ChainError]] = {
    requests.ConnectionError: ChainUnavailableError,
    requests.Timeout: ChainUnavailableError,
    requests.exceptions.ChunkedEncodingError: ChainUnavailableError,
    ConnectionError: ChainUnavailableError,
    TimeoutError: ChainUnavailableError,
}
_CAUGHT = tuple(UNREACHABLE)


@contextmanager
def node_errors() -> Iterator[None]:
    """Run the block's requests to the node; a transport failure raises the error it maps to
    in :data:`UNREACHABLE` (one sentence naming the failure, chained to it)."""
    try:
        yield
    except _CAUGHT as exc:
        mapped = next(error for kind, error in UNREACHABLE.items() if isinstance(exc, kind))
        raise mapped(f"the chain node does not answer ({type(exc).__name__}).") from exc
