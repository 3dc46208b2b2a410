"""Decoding raw logs (``ledger.events``): the result of web3's ``process_log`` + ``jsonable``."""

from __future__ import annotations

from ledger.events import LogDecoder, jsonable
from tests.ledger.test_indexer import activity, more_activity
from tests.support import Consortium


def test_decoding_matches_web3(consortium: Consortium) -> None:
    """The indexer decodes raw logs itself; the result is web3's ``process_log`` + ``jsonable``."""
    c = consortium
    activity(c)
    more_activity(c)
    decoder = LogDecoder(c.client.contracts)
    query = {"fromBlock": c.deployment.block_number, "toBlock": c.w3.eth.block_number}
    addresses = [contract.address for contract in c.client.contracts.values()]
    logs = c.w3.eth.get_logs({**query, "address": addresses})  # type: ignore[typeddict-item]
    raw = c.w3.provider.make_request(
        "eth_getLogs",  # type: ignore[arg-type]
        [
            {
                "fromBlock": hex(query["fromBlock"]),
                "toBlock": hex(query["toBlock"]),
                "address": addresses,
            }
        ],
    )["result"]
    assert len(raw) == len(logs) > 20
    by_address = {contract.address.lower(): contract for contract in c.client.contracts.values()}
    names = set()
    for log, entry in zip(logs, raw, strict=True):
        contract = by_address[str(log["address"]).lower()]
        name = c.client.event_name(contract, bytes(log["topics"][0]))
        assert name is not None
        expected = jsonable(dict(getattr(contract.events, name)().process_log(log)["args"]))
        decoded = decoder.decode(entry)
        assert decoded is not None
        assert decoded[1:] == (name, expected)
        names.add(name)
    assert {
        "AgreementProposed",
        "CommitmentProposed",
        "ProposalCreated",
        "OperatorRemoved",
    } <= names


def test_logs_of_no_known_event_are_not_decoded(consortium: Consortium) -> None:
    c = consortium
    decoder = LogDecoder(c.client.contracts)
    ours = c.client.address("DatasetRegistry")
    assert decoder.decode({"address": ours, "topics": [], "data": "0x"}) is None
    assert decoder.decode({"address": ours, "topics": ["0x" + "ab" * 32], "data": "0x"}) is None
    known = next(iter(decoder.events))[1]
    stranger = "0x" + "12" * 20
    assert decoder.decode({"address": stranger, "topics": [known], "data": "0x"}) is None
