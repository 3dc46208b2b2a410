"""``xietong serve``'s checks of ``XIETONG_METRICS_ADDRESS``, before uvicorn starts."""

from __future__ import annotations

import socket

from ..settings import Settings
from ._output import console, fail, safe

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_metrics_address(settings: Settings, workers: int) -> None:
    """Exit with one sentence when the metrics' own address cannot work: with several workers
    (each process has its own counters, and only one could bind it) or when it cannot be
    bound; warn when it is reachable from other machines (it answers without a key)."""
    listen = settings.metrics_listen()
    if listen is None:
        return
    address = settings.metrics_address or ""
    if workers > 1:
        fail(
            f"XIETONG_METRICS_ADDRESS ({safe(address)}) serves the metrics of one process: "
            f"use it with one worker, or unset it to scrape /metrics (each answer is then "
            f"one of the {workers} workers' counters).",
            kind="configuration",
            as_json=False,
        )
    host, port = listen
    try:
        with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the listener will
            probe.bind((host, port))
    except OSError as exc:
        fail(
            f"XIETONG_METRICS_ADDRESS ({safe(address)}) cannot be bound: "
            f"{exc.strerror or type(exc).__name__}.",
            kind="configuration",
            as_json=False,
        )
    if host not in LOOPBACK:
        console.print(
            f"[yellow]warning:[/] metrics on {safe(address)} are served without a key "
            "to anyone who reaches that address.",
            highlight=False,
        )


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
