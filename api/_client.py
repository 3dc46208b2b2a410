"""Who is on the other end of a request: its address and whether it came over TLS.

Behind a reverse proxy the TCP peer is the proxy. ``XIETONG_TRUSTED_PROXIES`` lists the
proxies (IPs or CIDRs) whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers count;
from any other peer those headers are ignored, so a client cannot pick its own address (and
escape a per-address limit) or claim TLS. ``X-Forwarded-For`` is walked from the right,
skipping trusted proxies: the first address no trusted proxy owns is the client's (entries
further left were written by the client and prove nothing).
"""

from __future__ import annotations

import functools
import ipaddress

from starlette.requests import Request

from ledger.errors import ConfigurationError
from ledger.settings import Network, parse_networks

__all__ = ["came_over_tls", "client_address", "trusted_networks"]

UNKNOWN = "?"


@functools.cache
@functools.lru_cache(maxsize=8)  # asked at every request: parsed once per setting
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """The networks of ``XIETONG_TRUSTED_PROXIES`` (comma-separated IPs or CIDRs)."""
    try:
        return parse_networks(setting)
    except ValueError as exc:
        raise ConfigurationError(f"XIETONG_TRUSTED_PROXIES: {exc}.") from None


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _peer(request: Request) -> str:
    return request.client.host if request.client else UNKNOWN


def _header_values(request: Request, name: str) -> list[str]:
    """Every comma-separated value of every ``name`` header, in order."""
    return [
        value.strip()
        for header in request.headers.getlist(name)
        for value in header.split(",")
        if value.strip()
    ]


def _without_port(hop: str) -> str:
    """An ``X-Forwarded-For`` hop's address: ``1.2.3.4:5678`` and ``[2001:db8::1]:443`` (as
    some proxies write them) without the port, so that a client's changing source port is
    not a new address; anything else as it is."""
    if hop.startswith("[") and "]" in hop:
        return hop[1 : hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def client_address(request: Request, trusted_proxies: str) -> str:
    """The address of the client that sent ``request`` (see the module's docstring)."""
    peer = _peer(request)
    networks = trusted_networks(trusted_proxies)
    if not _trusted(peer, networks):
        return peer
    hops = [_without_port(hop) for hop in _header_values(request, "x-forwarded-for")]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def came_over_tls(request: Request, trusted_proxies: str) -> bool:
    """Whether the client reached us over TLS: directly (``https``), or through a trusted
    proxy that says so in ``X-Forwarded-Proto`` (its last value: the nearest proxy's)."""
    if request.url.scheme == "https":
        return True
    if not _trusted(_peer(request), trusted_networks(trusted_proxies)):
        return False
    protos = _header_values(request, "x-forwarded-proto")
    return bool(protos) and protos[-1].lower() == "https"
