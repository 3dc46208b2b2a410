"""Talking to the chain: compiled artifacts, the web3 client, the local node, deployment."""

from __future__ import annotations

from ..settings import Settings
from ._fallback import ServingNode
from .artifacts import CONTRACT_NAMES, Artifact, load_artifact, load_artifacts
from .client import ChainClient, SentTransaction, connect
from .deploy import Deployment, deploy, load_deployment, load_founders
from .node import NodeSpec, node_status, start_node, stop_node

__all__ = [
    "CONTRACT_NAMES",
    "Artifact",
    "ChainClient",
    "Deployment",
    "NodeSpec",
    "SentTransaction",
    "ServingNode",
    "connect",
    "deploy",
    "load_artifact",
    "load_artifacts",
    "load_deployment",
    "load_founders",
    "node_status",
    "open_client",
    "start_node",
    "stop_node",
]


def open_client(settings: Settings) -> tuple[ChainClient, Deployment]:
    """Connect to ``settings.rpc_url`` (its fallbacks ``settings.rpc_fallback_urls`` while it
    does not answer) and load this chain's deployment manifest."""
    w3 = connect(
        settings.rpc_url, timeout=settings.rpc_timeout, fallbacks=settings.rpc_fallback_urls
    )
    deployment = load_deployment(settings.deployment_path(int(w3.eth.chain_id)))
    return ChainClient(w3, deployment.addresses, tx_timeout=settings.tx_timeout), deployment
