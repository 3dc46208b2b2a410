"""A JSON-RPC provider with fallback nodes: the department's own node first, then other
departments' nodes of the same chain, in order, while it does not answer.

:class:`FallbackProvider` is web3's :class:`~web3.providers.rpc.HTTPProvider` sending each
request (one, or a batch) to the first node that answers. A node that fails with a transport
failure (one of :data:`~ledger.chain.transport.UNREACHABLE`: refused, dropped, silent) is
tried only after the others for :data:`RETRY_FAILED_NODE_AFTER` seconds, so a gateway whose
own node is down does not wait for it on every request, and returns to it once it answers
again. The provider never signs anything: the gateway signs its transactions itself and sends
them raw (``eth_sendRawTransaction``), which any node of the chain accepts.

Every node is asked its chain id before it serves its first request, and again after it
failed (it may come back as another node): the first node that answers sets the chain, and a
node of another chain is refused. When no node serves a request, the error is
:class:`~ledger.errors.ChainUnavailableError` naming every node tried (by its origin:
scheme, host and port, never a password, path or query that may hold a key).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from eth_typing import URI
from web3 import HTTPProvider
from web3._utils.batching import sort_batch_response_by_response_ids
from web3.types import RPCEndpoint, RPCResponse

from ..errors import ChainUnavailableError, ConfigurationError
from .transport import UNREACHABLE

__all__ = ["RETRY_FAILED_NODE_AFTER", "FallbackProvider", "ServingNode", "node_origin"]

log = logging.getLogger("xietong.chain")

#: Seconds a node that failed is tried only after the others (then first again, in order).
RETRY_FAILED_NODE_AFTER = 5.0

_UNREACHABLE = tuple(UNREACHABLE)


@dataclass(frozen=True)
class ServingNode:
    """The node that served the last request."""

    #: Its origin (:func:`node_origin`).
    url: str
    #: Whether it is a fallback (``XIETONG_RPC_FALLBACK_URLS``), not the gateway's own node.
    fallback: bool


def node_origin(url: str) -> str:
    """``url`` fit to show: scheme, host and port only (no user, password, path or query,
    where a provider's key may be)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class _ForeignNodeError(Exception):
    """A node that answers for another chain, or does not say which chain it serves."""


class FallbackProvider(HTTPProvider):
    """Each request to ``primary``, or, while it does not answer, to the first of
    ``fallbacks`` that does.

    Args:
        primary: The department's own node (``XIETONG_RPC_URL``).
        fallbacks: Other nodes of the same chain, in the order they are tried.
        timeout: Seconds one request to one node may take.
        retry_failed_after: Seconds a node that failed is tried only after the others.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        primary: str,
        fallbacks: Sequence[str],
        *,
        timeout: float,
        retry_failed_after: float = RETRY_FAILED_NODE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # No retries inside web3: a node that does not answer costs one timeout, then the next.
        super().__init__(
            primary, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
        )
        self.urls: tuple[str, ...] = (primary, *fallbacks)
        self.retry_failed_after = retry_failed_after
        self._clock = clock
        self._lock = threading.Lock()
        self._failed_until = dict.fromkeys(self.urls, -math.inf)
        self._checked: set[str] = set()  # nodes whose chain id was checked since they failed
        self._serving = primary
        #: The chain every node must serve: the chain id of the first node that answered.
        self.chain_id: int | None = None

    def __str__(self) -> str:
        fallbacks = ", ".join(node_origin(url) for url in self.urls[1:])
        return f"RPC connection {node_origin(self.urls[0])} (fallbacks {fallbacks})"

    # ------------------------------------------------------------------ what serves

    def serving(self) -> ServingNode:
        """The node that served the last request (the primary until one did)."""
        url = self._serving
        return ServingNode(url=node_origin(url), fallback=url != self.urls[0])

    def check_fallbacks(self) -> None:
        """Ask each fallback that answers now for its chain id: ConfigurationError for one of
        another chain (the settings name a node that must never serve this gateway). A
        fallback that does not answer is checked when it first serves."""
        for url in self.urls[1:]:
            try:
                self._check_chain(url)
            except _UNREACHABLE:
                self._failed(url)
            except _ForeignNodeError as exc:
                raise ConfigurationError(
                    f"the fallback node {node_origin(url)} {exc}: XIETONG_RPC_FALLBACK_URLS "
                    "must name nodes of the chain XIETONG_RPC_URL serves."
                ) from None

    # ------------------------------------------------------------------ web3's entry points

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        """One encoded request (``make_request``, with web3's caching), to the first node that
        answers."""
        return self._post(request_data)

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        """A batch of requests, whole, to the first node that answers; the answers sorted by
        id (as :meth:`HTTPProvider.make_batch_request` does), or the node's one error answer."""
        response = self.decode_rpc_response(
            self._post(self.encode_batch_rpc_request(batch_requests))
        )
        if not isinstance(response, list):
            return response
        return cast(list[RPCResponse], sort_batch_response_by_response_ids(response))

    # ------------------------------------------------------------------ internals

    def _post(self, request_data: bytes) -> bytes:
        """Send ``request_data`` to each node in turn (those that have not failed lately
        first) until one answers; ChainUnavailableError naming them all when none does."""
        unreachable: list[tuple[str, Exception]] = []
        refused: list[tuple[str, _ForeignNodeError]] = []
        for url in self._order():
            try:
                self._check_chain(url)
                answer = self._request_session_manager.make_post_request(
                    URI(url), request_data, **self.get_request_kwargs()
                )
            except _UNREACHABLE as exc:
                self._failed(url)
                unreachable.append((url, exc))
                continue
            except _ForeignNodeError as exc:
                self._failed(url)  # asked again only after the others
                refused.append((url, exc))
                continue
            self._served(url)
            return answer
        cause = unreachable[-1][1] if unreachable else None
        raise _no_node_answers(unreachable, refused) from cause

    def _order(self) -> list[str]:
        """The nodes in the order to try them: those that have not failed in the last
        ``retry_failed_after`` seconds (the primary first), then the others."""
        now = self._clock()
        with self._lock:
            resting = {url for url, until in self._failed_until.items() if until > now}
        return [u for u in self.urls if u not in resting] + [u for u in self.urls if u in resting]

    def _check_chain(self, url: str) -> None:
        """Ask ``url`` its chain id unless it was asked since it last failed; the first
        answer sets :attr:`chain_id`, and another one raises _ForeignNodeError."""
        with self._lock:
            if url in self._checked:
                return
        raw = self._request_session_manager.make_post_request(
            URI(url),
            self.encode_rpc_request(RPCEndpoint("eth_chainId"), []),
            **self.get_request_kwargs(),
        )
        try:
            chain_id = int(self.decode_rpc_response(raw)["result"], 16)
        except (KeyError, TypeError, ValueError):
            raise _ForeignNodeError("does not say which chain it serves") from None
        with self._lock:
            if self.chain_id is None:
                self.chain_id = chain_id
            if chain_id != self.chain_id:
                log.warning(
                    "refused the chain node %s: chain %d, not %d",
                    node_origin(url),
                    chain_id,
                    self.chain_id,
                )
                raise _ForeignNodeError(f"serves chain {chain_id}, not chain {self.chain_id}")
            self._checked.add(url)

    def _failed(self, url: str) -> None:
        with self._lock:
            self._failed_until[url] = self._clock() + self.retry_failed_after
            self._checked.discard(url)

    def _served(self, url: str) -> None:
        with self._lock:
            self._failed_until[url] = -math.inf
            switched, self._serving = self._serving != url, url
        if switched:
            which = "a fallback" if url != self.urls[0] else "its own node again"
            log.warning("chain reads now come from %s, %s", which, node_origin(url))


def _no_node_answers(
    unreachable: list[tuple[str, Exception]], refused: list[tuple[str, _ForeignNodeError]]
) -> ChainUnavailableError:
    """The error of a request no node served: the nodes that did not answer (with each
    failure's kind), then those refused (with why)."""
    parts = []
    if unreachable:
        urls = ", ".join(node_origin(url) for url, _ in unreachable)
        kinds = ", ".join(dict.fromkeys(type(exc).__name__ for _, exc in unreachable))
        subject = "node at" if len(unreachable) == 1 else "nodes at"
        verb = "does" if len(unreachable) == 1 else "do"
        parts.append(f"the chain {subject} {urls} {verb} not answer ({kinds})")
    parts.extend(f"the chain node {node_origin(url)} is refused: it {exc}" for url, exc in refused)
    return ChainUnavailableError("; ".join(parts) + ".")
