"""The sealed evidence of an anchor, read from a Clique node for a ``xietong-proof/3`` bundle.

:func:`sealed_evidence` gives the ``sealed`` member of docs/OFFLINE_PROOFS.md: the anchor
block's header and the headers sealed on top of it until a majority of the signers have
sealed, the Merkle-Patricia proofs of the transaction and its receipt (the tries are rebuilt
here from every transaction and receipt of the block, and their roots compared with the
header's), and, when the signer set has changed by votes since genesis, the headers from block
1. Nothing the node answers is believed: each header is rebuilt from its fields and must hash
to the block hash asked for, and ``ledger.verify.offline`` checks the whole again.
"""

from __future__ import annotations

from typing import Any

import rlp
from trie import HexaryTrie
from web3 import Web3

from ..clique import MAX_HEADERS, MAX_HISTORY, decode_header, recover_signer
from ..errors import ChainError, NotSealedError
from .transport import node_errors

__all__ = ["clique_signers", "header_rlp", "receipt_encoding", "sealed_evidence"]

_BATCH = 256


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    with node_errors():
        answer = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    if "error" in answer:
        raise ChainError(f"the node refused {method}: {answer['error'].get('message', '?')}.")
    return answer.get("result")


def clique_signers(w3: Web3, number: int) -> list[str] | None:
    """The Clique signers at block ``number`` (lowercase 0x addresses), None when the node
    runs no Clique (Hardhat, Anvil: no ``clique`` namespace)."""
    with node_errors():
        answer = w3.provider.make_request("clique_getSigners", [hex(number)])  # type: ignore[arg-type]
    if "error" in answer:
        return None
    return [str(a).lower() for a in answer["result"]]


def _int(value: str) -> bytes:
    number = int(value, 16)
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def header_rlp(block: dict[str, Any]) -> bytes:
    """The RLP of a block's header from the node's JSON (``eth_getBlockBy*``, raw hex), checked
    against the block's hash."""
    fields = [
        bytes.fromhex(block[k][2:])
        for k in (
            "parentHash",
            "sha3Uncles",
            "miner",
            "stateRoot",
            "transactionsRoot",
            "receiptsRoot",
            "logsBloom",
        )
    ]
    fields += [_int(block[k]) for k in ("difficulty", "number", "gasLimit", "gasUsed", "timestamp")]
    fields += [bytes.fromhex(block[k][2:]) for k in ("extraData", "mixHash", "nonce")]
    if block.get("baseFeePerGas") is None:
        raise ChainError("the block has no base fee: not a London Clique chain.")
    fields.append(_int(block["baseFeePerGas"]))
    raw = bytes(rlp.encode(fields))
    if "0x" + Web3.keccak(raw).hex() != block["hash"].lower():
        raise ChainError(f"block {int(block['number'], 16)}'s header does not hash to its hash.")
    return raw


def _batched(w3: Web3, calls: list[tuple[str, list[Any]]], what: str) -> list[Any]:
    """The results of ``calls`` (method, params), asked in JSON-RPC batches; ChainError naming
    ``what`` when one has none."""
    found: list[Any] = []
    for start in range(0, len(calls), _BATCH):
        chunk = calls[start : start + _BATCH]
        with node_errors():
            answers = w3.provider.make_batch_request(chunk)  # type: ignore[attr-defined]
        for (_method, params), answer in zip(chunk, answers, strict=True):
            if not isinstance(answer, dict) or answer.get("result") is None:
                raise ChainError(f"the node has no {what} {params}.")
            found.append(answer["result"])
    return found


def receipt_encoding(receipt: dict[str, Any]) -> bytes:
    """A receipt's consensus encoding (the receipts trie's value)."""
    logs = [
        [
            bytes.fromhex(log["address"][2:]),
            [bytes.fromhex(t[2:]) for t in log["topics"]],
            bytes.fromhex(log["data"][2:]),
        ]
        for log in receipt["logs"]
    ]
    body = bytes(
        rlp.encode(
            [
                _int(receipt["status"]),
                _int(receipt["cumulativeGasUsed"]),
                bytes.fromhex(receipt["logsBloom"][2:]),
                logs,
            ]
        )
    )
    kind = int(receipt.get("type", "0x0"), 16)
    return body if kind == 0 else bytes([kind]) + body


def _proof(values: list[bytes], index: int, root: str, what: str) -> list[str]:
    """The proof of ``values[index]`` in the trie of all ``values`` (key RLP(i)), whose root
    must be the header's ``root``."""
    trie = HexaryTrie(db={})
    for i, value in enumerate(values):
        trie[rlp.encode(i)] = value
    if "0x" + trie.root_hash.hex() != root.lower():
        raise ChainError(f"the block's {what} do not make its {what} root.")
    return ["0x" + rlp.encode(node).hex() for node in trie.get_proof(rlp.encode(index))]


def sealed_evidence(
    w3: Web3,
    *,
    block_number: int,
    transaction: str,
    from_genesis: bool = False,
    through: int | None = None,
) -> dict[str, Any] | None:
    """The ``sealed`` member of a bundle for ``transaction`` in block ``block_number``, None
    on a chain without seals. ``from_genesis``: carry the history even when the signer set
    never changed. ``through``: carry the headers up to that block too (a cosigned
    checkpoint's, docs/CHECKPOINTS.md; at most :data:`~ledger.clique.MAX_HEADERS` in all).

    Raises:
        NotSealedError: a majority of the signers has not sealed on top of the block yet.
        ChainError: the node's answers do not make the block's header or roots.
    """
    before = clique_signers(w3, max(block_number - 1, 0))
    if before is None:
        return None
    anchor = _rpc(w3, "eth_getBlockByNumber", [hex(block_number), False])
    if anchor is None:
        raise ChainError(f"the node has no block {block_number}.")
    hashes = [str(h).lower() for h in anchor["transactions"]]
    if transaction.lower() not in hashes:
        raise ChainError(f"block {block_number} does not hold transaction {transaction}.")
    index = hashes.index(transaction.lower())
    calls: list[tuple[str, list[Any]]] = [
        ("eth_getRawTransactionByBlockNumberAndIndex", [hex(block_number), hex(i)])
        for i in range(len(hashes))
    ]
    raw_transactions = [bytes.fromhex(raw[2:]) for raw in _batched(w3, calls, "transaction")]
    receipts = _rpc(w3, "eth_getBlockReceipts", [hex(block_number)])
    transaction_proof = _proof(raw_transactions, index, anchor["transactionsRoot"], "transactions")
    receipt_proof = _proof(
        [receipt_encoding(r) for r in receipts], index, anchor["receiptsRoot"], "receipts"
    )
    # Headers on top, until a majority of the signers at the anchor have sealed.
    required = len(before) // 2 + 1
    first = header_rlp(anchor)
    headers, sealers = [first], {recover_signer(decode_header(first, "the anchor block"))}
    head = int(_rpc(w3, "eth_blockNumber", []), 16)
    number = block_number
    last = block_number if through is None else min(through, block_number + MAX_HEADERS - 1)
    while (
        (len(sealers) < required or number < last) and len(headers) < MAX_HEADERS and number < head
    ):
        number += 1
        raw = header_rlp(_rpc(w3, "eth_getBlockByNumber", [hex(number), False]))
        headers.append(raw)
        sealers.add(recover_signer(decode_header(raw, f"block {number}")))
    if len(sealers) < required:
        raise NotSealedError(
            f"{len(sealers)} of the {len(before)} signers have sealed block {block_number} or on "
            f"top of it; an offline proof needs {required}: ask again after a few blocks."
        )
    history = None
    if from_genesis or _votes_since_genesis(w3, block_number):
        if block_number - 1 > MAX_HISTORY:
            raise ChainError(
                f"the signer set changed since genesis and block {block_number} is more than "
                f"{MAX_HISTORY} blocks after it: the bundle would be too large to follow the "
                "votes."
            )
        blocks: list[tuple[str, list[Any]]] = [
            ("eth_getBlockByNumber", [hex(n), False]) for n in range(1, block_number)
        ]
        history = ["0x" + header_rlp(b).hex() for b in _batched(w3, blocks, "block")]
    return {
        "headers": ["0x" + h.hex() for h in headers],
        "transaction": {"index": index, "proof": transaction_proof},
        "receipt": {"proof": receipt_proof},
        "history": history,
    }


def _votes_since_genesis(w3: Web3, block_number: int) -> bool:
    """Whether the signer set at the anchor's parent, or a vote pending on it, differs from
    the genesis block's (then the verifier must follow the votes from block 1)."""
    if block_number <= 1:
        return False
    snapshot = _rpc(w3, "clique_getSnapshot", [hex(block_number - 1)])
    genesis = clique_signers(w3, 0) or []
    signers = sorted(str(a).lower() for a in snapshot["signers"])
    return signers != sorted(genesis) or bool(snapshot.get("votes")) or bool(snapshot.get("tally"))
