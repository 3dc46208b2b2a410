"""A web3 client for the deployed contracts: calls, signed transactions, decoded reverts.

Transactions are always signed locally (a consortium node holds no keys) and sent raw.
Every revert, whether found while estimating gas, in an ``eth_call`` or in a mined
transaction, becomes a :class:`~ledger.errors.ContractRevertError` naming the custom error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    BlockNotFound,
    ContractLogicError,
    TransactionIndexingInProgress,
    TransactionNotFound,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import BlockData, BlockIdentifier, RPCEndpoint, TxParams, TxReceipt

from ..errors import ChainError, ChainUnavailableError, ContractRevertError, TransactionFailedError
from ..events import event_topics
from ._fallback import FallbackProvider, ServingNode, node_origin
from .artifacts import load_artifact
from .revert import decode_revert
from .transport import node_errors

__all__ = ["ChainClient", "SentTransaction", "connect"]

T = TypeVar("T")

#: Seconds between receipt polls: from the first, doubling up to the last (see ChainClient._wait_for_receipt).
_FIRST_RECEIPT_POLL = 0.005
_MAX_RECEIPT_POLL = 0.1


def connect(rpc_url: str, *, timeout: float = 10.0, fallbacks: Sequence[str] = ()) -> Web3:
    """A Web3 over HTTP to ``rpc_url``; raises :class:`ChainUnavailableError` if it does not answer.

    With ``fallbacks`` (other nodes of the same chain, ``XIETONG_RPC_FALLBACK_URLS``) each
    request goes to the first of ``rpc_url`` and the fallbacks that answers
    (:class:`~ledger.chain._fallback.FallbackProvider`): the error then names every node
    tried, and a fallback that answers now for another chain raises ConfigurationError.
    """
    provider: HTTPProvider
    if fallbacks:
        provider = FallbackProvider(rpc_url, fallbacks, timeout=timeout)
    else:
        # No retries inside web3 (by default five, with back-off, on timeouts and refused
        # connections): a node that does not answer fails in one ``timeout``, and the gateway's
        # own recovery (resume, the verifier answering from the index) takes over at once.
        provider = Web3.HTTPProvider(
            rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
        )
    w3 = Web3(provider)
    # A proof-of-authority block's extraData holds its seal (97 bytes and more, where web3's
    # block formatter expects at most 32): kept whole as ``proofOfAuthorityData``. Harmless on
    # the development chains, whose blocks carry no seal.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    try:
        with node_errors():
            w3.eth.chain_id  # noqa: B018 - a cheap liveness probe
    except ChainUnavailableError as exc:
        if isinstance(provider, FallbackProvider):
            raise  # the provider's own sentence, naming every node it tried
        raise _unanswered(rpc_url, exc.__cause__ or exc) from exc
    except (requests.RequestException, Web3RPCError) as exc:
        answered = provider.serving().url if isinstance(provider, FallbackProvider) else rpc_url
        raise _unanswered(answered, exc) from exc
    if isinstance(provider, FallbackProvider):
        provider.check_fallbacks()
    return w3


def _unanswered(rpc_url: str, cause: BaseException) -> ChainUnavailableError:
    return ChainUnavailableError(
        f"the chain node at {rpc_url} does not answer ({type(cause).__name__})."
    )


def _revert_data(exc: ContractLogicError) -> bytes | None:
    data: Any = exc.data
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes(HexBytes(data))
    return None


def _rpc_revert_data(exc: Web3RPCError) -> bytes | None:
    """Revert data carried by a JSON-RPC error (e.g. a node that rejects a failing transaction)."""
    error = (exc.rpc_response or {}).get("error")
    data: Any = error.get("data") if isinstance(error, dict) else None
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        return bytes(HexBytes(data))
    return None


def _as_revert(exc: ContractLogicError) -> ContractRevertError:
    data = _revert_data(exc)
    if data is None:
        return ContractRevertError(
            f"The contract rejected the call ({exc.message or 'no reason given'}).",
            error_name="Unknown",
            args={},
        )
    return decode_revert(data)


@dataclass(frozen=True)
class SentTransaction:
    """A mined, successful transaction and its decoded events."""

    tx_hash: str
    block_number: int
    gas_used: int
    receipt: TxReceipt
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def event(self, name: str) -> dict[str, Any]:
        """The arguments of the only event called ``name``; KeyError when absent."""
        found = [args for event_name, args in self.events if event_name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} {name} events in {self.tx_hash}")
        return found[0]


class ChainClient:
    """The deployed contracts on one chain, with typed errors.

    Args:
        w3: A connected Web3.
        addresses: Contract name -> address (from the deployment manifest).
        tx_timeout: Seconds to wait for a receipt.
    """

    def __init__(self, w3: Web3, addresses: dict[str, str], *, tx_timeout: float = 120.0) -> None:
        self.w3 = w3
        self.tx_timeout = tx_timeout
        self.chain_id = int(self._guard(lambda: w3.eth.chain_id))
        self.contracts: dict[str, Contract] = {
            name: w3.eth.contract(
                address=Web3.to_checksum_address(address), abi=load_artifact(name).abi
            )
            for name, address in addresses.items()
        }
        self._topics = {c.address.lower(): event_topics(c) for c in self.contracts.values()}

    def contract(self, name: str) -> Contract:
        """The web3 contract called ``name``."""
        return self.contracts[name]

    def serving_node(self) -> ServingNode:
        """The node that served the last request: the gateway's own node, or, while it does
        not answer, a fallback (``XIETONG_RPC_FALLBACK_URLS``)."""
        provider = self.w3.provider
        if isinstance(provider, FallbackProvider):
            return provider.serving()
        url = getattr(provider, "endpoint_uri", None)
        return ServingNode(url=node_origin(str(url)) if url else "", fallback=False)

    def address(self, name: str) -> str:
        """The checksum address of contract ``name``."""
        return str(self.contracts[name].address)

    # ------------------------------------------------------------------ reads

    def call(self, contract: str, function: str, *args: Any, block: int | str = "latest") -> Any:
        """``eth_call`` of ``contract.function(*args)``; reverts raise ContractRevertError."""
        fn = self.contracts[contract].get_function_by_name(function)(*args)
        return self._guard(lambda: fn.call(block_identifier=block))

    def call_data(self, contract: str, data: str) -> bytes:
        """``eth_call`` of ``contract`` with the encoded ``data`` (0x-hex): the raw answer, for
        outputs web3 cannot decode (a ``string`` that is not UTF-8); reverts raise
        ContractRevertError."""
        address = self.contracts[contract].address
        payload = HexStr(data)
        return bytes(self._guard(lambda: self.w3.eth.call({"to": address, "data": payload})))

    def block_number(self) -> int:
        """The number of the chain's head block."""
        return int(self._guard(lambda: self.w3.eth.block_number))

    def block(self, identifier: BlockIdentifier) -> BlockData | None:
        """The block ``identifier`` (a number, a hash or ``"latest"``); None when the chain
        has no such block (a node answers an error or null for a block beyond its head)."""
        with node_errors():
            try:
                return self.w3.eth.get_block(identifier)
            except (BlockNotFound, Web3RPCError):
                return None

    def head(self) -> BlockData:
        """The chain's latest block."""
        block = self.block("latest")
        if block is None:
            raise ChainError("the chain node has no latest block.")
        return block

    def request(self, method: str, params: list[Any]) -> Any:
        """One raw JSON-RPC request, without web3's result formatting (faster where many
        results are read): its ``result``; an error answer raises :class:`ChainError`."""
        with node_errors():
            response = self.w3.provider.make_request(RPCEndpoint(method), params)
        error = response.get("error")
        if error is not None:
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            raise ChainError(f"the chain node refused {method}: {message}")
        return response.get("result")

    # ------------------------------------------------------------------ writes

    def transact(
        self,
        contract: str,
        function: str,
        *args: Any,
        sender: LocalAccount,
        gas: int | None = None,
    ) -> SentTransaction:
        """Sign and send ``contract.function(*args)`` from ``sender``; wait for the receipt."""
        fn = self.contracts[contract].get_function_by_name(function)(*args)
        return self.send(fn, sender=sender, gas=gas)

    def send(
        self, fn: ContractFunction, *, sender: LocalAccount, gas: int | None = None
    ) -> SentTransaction:
        """Sign and send a prepared contract function call; wait for the receipt."""
        raw, _, _, tx = self._signed(fn, sender=sender, gas=gas)
        return self.send_raw(raw, call=tx)

    def sign(self, fn: ContractFunction, *, sender: LocalAccount) -> tuple[bytes, str, int]:
        """Build and sign ``fn`` without sending it: (raw bytes, tx hash, nonce).

        Gas is estimated now, so a call the contract would refuse raises ContractRevertError.
        """
        raw, tx_hash, nonce, _ = self._signed(fn, sender=sender, gas=None)
        return raw, tx_hash, nonce

    def _signed(
        self, fn: Any, *, sender: LocalAccount, gas: int | None
    ) -> tuple[bytes, str, int, dict[str, Any]]:
        """Sign ``fn`` (a contract function or constructor) with the sender's next nonce."""
        nonce = int(
            self._guard(lambda: self.w3.eth.get_transaction_count(sender.address, "pending"))
        )
        params: dict[str, Any] = {"from": sender.address, "chainId": self.chain_id, "nonce": nonce}
        if gas is not None:
            params["gas"] = gas
        # Without an explicit gas limit this estimates gas: a revert surfaces here, unsent.
        tx = dict(self._guard(lambda: fn.build_transaction(cast(TxParams, params))))
        signed = sender.sign_transaction(cast(Any, tx))
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex(), nonce, tx

    def failure_of(self, receipt: TxReceipt) -> Exception:
        """Why a mined transaction failed (its decoded revert when a replay shows one)."""
        tx = self._guard(lambda: self.w3.eth.get_transaction(receipt["transactionHash"]))
        call = {
            "from": tx["from"],
            "to": tx["to"],
            "data": tx["input"],
            "value": tx["value"],
            "gas": tx["gas"],
        }
        return self._failure(HexBytes(receipt["transactionHash"]), receipt, call)

    def deploy(self, name: str, *args: Any, sender: LocalAccount) -> SentTransaction:
        """Deploy contract ``name`` from its committed artifact."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        raw, _, _, tx = self._signed(factory.constructor(*args), sender=sender, gas=None)
        return self.send_raw(raw, call=tx)

    def send_raw(self, raw: bytes, *, call: dict[str, Any] | None = None) -> SentTransaction:
        """Send a signed transaction and wait for its receipt."""
        tx_hash = self._guard(lambda: self.w3.eth.send_raw_transaction(raw))
        with node_errors():
            receipt = self._wait_for_receipt(tx_hash)
        if receipt["status"] != 1:
            raise self._failure(tx_hash, receipt, call)
        return SentTransaction(
            tx_hash=tx_hash.to_0x_hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            receipt=receipt,
            events=self.decode_events(receipt),
        )

    def _wait_for_receipt(self, tx_hash: HexBytes) -> TxReceipt:
        """Poll for the receipt of ``tx_hash`` until ``tx_timeout``.

        The first polls come quickly and the interval doubles up to web3's default interval: a
        local node mines at once, but not always before the first poll (Anvil mines after
        answering ``eth_sendRawTransaction``), and a flat wait then dominated the latency of a
        transaction (docs/BENCH_NODES.md); a slow chain sees only a few more polls.
        """
        deadline = time.monotonic() + self.tx_timeout
        delay = _FIRST_RECEIPT_POLL
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except (TransactionNotFound, TransactionIndexingInProgress):
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransactionFailedError(
                    f"transaction {tx_hash.to_0x_hex()} was not mined within {self.tx_timeout:.0f} seconds."
                )
            time.sleep(min(delay, left))
            delay = min(delay * 2, _MAX_RECEIPT_POLL)

    def event_name(self, contract: Contract, topic0: bytes) -> str | None:
        """The name of ``contract``'s event with signature hash ``topic0`` (None if unknown)."""
        return self._topics[contract.address.lower()].get(topic0)

    def decode_events(self, receipt: TxReceipt) -> list[tuple[str, dict[str, Any]]]:
        """The events of our contracts in ``receipt``, as (name, args) in log order."""
        by_address = {c.address.lower(): c for c in self.contracts.values()}
        decoded: list[tuple[str, dict[str, Any]]] = []
        for log in receipt["logs"]:
            contract = by_address.get(str(log["address"]).lower())
            if contract is None or not log["topics"]:
                continue
            name = self._topics[contract.address.lower()].get(bytes(log["topics"][0]))
            if name is None:
                continue
            parsed = getattr(contract.events, name)().process_log(log)
            decoded.append((name, dict(parsed["args"])))
        return decoded

    # ------------------------------------------------------------------ internals

    def _failure(
        self, tx_hash: HexBytes, receipt: TxReceipt, call: dict[str, Any] | None
    ) -> Exception:
        if call is not None:
            replay = {k: v for k, v in call.items() if k in ("from", "to", "data", "value", "gas")}
            try:
                with node_errors():
                    self.w3.eth.call(replay, block_identifier=receipt["blockNumber"] - 1)  # type: ignore[arg-type]
            except ContractLogicError as exc:
                return _as_revert(exc)
            except (Web3RPCError, ChainUnavailableError):
                pass  # the failure stays undecoded
        return TransactionFailedError(
            f"transaction {tx_hash.to_0x_hex()} failed in block {receipt['blockNumber']} "
            f"after using {receipt['gasUsed']} gas."
        )

    def _guard(self, action: Callable[[], T]) -> T:
        """Run ``action`` (requests to the node): reverts raise ContractRevertError, other
        refusals ChainError, a node that does not answer ChainUnavailableError."""
        try:
            with node_errors():
                return action()
        except ContractLogicError as exc:
            raise _as_revert(exc) from None
        except Web3RPCError as exc:
            data = _rpc_revert_data(exc)
            if data is not None:
                raise decode_revert(data) from None
            raise ChainError(f"the chain node refused the request: {exc.message}") from None


def wait_for_rpc(
    rpc_url: str, *, timeout: float, is_alive: Callable[[], bool] | None = None
) -> int:
    """Poll ``rpc_url`` until it answers ``eth_chainId``; returns the chain id."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return int(Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 2})).eth.chain_id)
        except (requests.RequestException, OSError, Web3RPCError):
            if is_alive is not None and not is_alive():
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
