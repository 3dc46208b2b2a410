"""Offline proofs made on a real 4-validator Clique network (docs/OFFLINE_PROOFS.md): a bundle
verifies with the trust file alone while every validator is stopped, and a signer voted in
after genesis is followed through the bundle's history.

One network for the module (period 1 s) on loopback addresses of its own (127.0.0.121 and
up); the tests run in order. The tampered bundles built from these live ones are the shared
vectors' (tests/vectors/offline_bundles.json, tests/ledger/verify/test_offline.py).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml
from eth_utils import keccak

from ledger.chain.client import ChainClient, connect
from ledger.chain.deploy import load_deployment, load_founders
from ledger.chain.network import (
    Member,
    add_member,
    rpc,
    sealer,
    start_member,
    start_network,
    stop_member,
    stop_network,
)
from ledger.chain.sealed import sealed_evidence
from ledger.db.engine import create_db_engine
from ledger.errors import NodeError, NotSealedError, OfflineProofError
from ledger.ids import dataset_id, department_id
from ledger.keys import dev_account
from ledger.trust import load_trust
from ledger.verify.offline import verify_bundle_offline
from ledger.witness import Witness, cosign
from tests.support_sealed import (
    BIN,
    CIVIL,
    DATASET,
    PUBLISHER,
    SealedNet,
    eventually,
    head,
    sealed_network,
)

HOSTS = [f"127.0.0.{121 + i}" for i in range(5)]  # the fifth for the signer voted in


@pytest.fixture(scope="module")
def sealed_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealedNet]:
    with sealed_network(tmp_path_factory.mktemp("sealed"), HOSTS[:4]) as net:
        yield net


def test_the_trust_file_names_the_genesis_signers_and_their_departments(
    sealed_net: SealedNet,
) -> None:
    trust = load_trust(sealed_net.trust_path)
    assert trust.clique is not None
    assert (trust.clique.epoch, trust.clique.period) == (30000, 1)
    by_code = {s.code: s.address for s in trust.clique.signers}
    founders = load_founders(sealed_net.founders, allow_dev=True).departments
    assert by_code == {f.code: f.signer for f in founders}
    assert [s.address.lower() for s in trust.clique.signers] == sorted(
        s.lower() for s in by_code.values()
    )


def test_a_bundle_verifies_offline_with_every_validator_stopped(
    sealed_net: SealedNet, tmp_path: Path
) -> None:
    bundle = sealed_net.anchored_bundle(tmp_path, "sealed by a majority\n")
    assert bundle["format"] == "xietong-proof/3"
    sealed = bundle["sealed"]
    assert sealed["history"] is None  # the signer set never changed
    (tmp_path / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    network = sealed_net.network
    stop_network(network)  # the network cut: no node answers any more
    try:
        for member in network.members:
            with pytest.raises(requests.ConnectionError):
                rpc(member.rpc_url, "eth_blockNumber", timeout=1)
        done = subprocess.run(
            [str(BIN / "xietong"), "verify-proof", "--offline", str(tmp_path / "bundle.json"),
             "--trust", str(sealed_net.trust_path), "--json"],
            env=sealed_net.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        start_network(network)
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["valid"] is True and answer["offline"] is True
    assert (answer["signers"], answer["required"]) == (4, 3)
    sealers = [answer["sealed_by"], *answer["confirmed_by"]]
    assert len({s["address"] for s in sealers}) >= 3
    codes = {f["code"] for f in yaml.safe_load(sealed_net.founders.read_text())["departments"]}
    assert {s["code"] for s in sealers} <= codes
    assert answer["block_number"] == bundle["block_number"]
    assert answer["publisher"]["id"] == bundle["publisher"]["id"]
    assert answer["from_genesis"] is False
    assert any("revoked" in s for s in answer["unchecked"])
    # The same check in-process, and the JSON vectors' source.
    check = verify_bundle_offline(bundle, load_trust(sealed_net.trust_path))
    assert check.sealed_by["address"] == answer["sealed_by"]["address"]


def test_a_checkpoint_the_departments_cosigned_verifies_offline_through_the_headers(
    sealed_net: SealedNet, tmp_path: Path
) -> None:
    """Three of the four founders' gateways cosign a checkpoint above the anchor (docs/
    CHECKPOINTS.md; one database stands for what each collected from the others), the sealed
    headers are carried up to it, and the bundle verifies offline with it; a checkpoint of the
    block after its last header is refused as unlinked."""
    bundle = sealed_net.anchored_bundle(tmp_path, "cosigned above\n")
    trust = load_trust(sealed_net.trust_path)
    assert trust.checkpoints is not None and trust.checkpoints.threshold == 3
    w3 = connect(sealed_net.network.members[0].rpc_url)
    client = ChainClient(w3, load_deployment(sealed_net.manifest).addresses)
    eventually(lambda: head(sealed_net.network.members[0].rpc_url) >= bundle["block_number"] + 5,
               what="five blocks on the anchor")  # fmt: skip
    engine = create_db_engine(f"sqlite:///{tmp_path / 'witness.db'}")
    try:
        witnesses = [
            Witness(engine, client, trust, signer=dev_account(n), interval=4, confirmations=1)
            for n in (1, 2, 3)  # 公安局, 民政局, 卫健委's operators
        ]
        for witness in witnesses:
            witness.run()  # the first signs the newest multiple of 4; the others sign it too
        checkpoint = witnesses[0].cosigned(at_least=bundle["block_number"])
    finally:
        engine.dispose()
    assert checkpoint is not None and len(checkpoint["cosignatures"]) == 3
    number = checkpoint["number"]
    assert number >= bundle["block_number"] + 1
    sealed = sealed_evidence(
        w3, block_number=bundle["block_number"], transaction=bundle["transaction"], through=number
    )
    assert sealed is not None and len(sealed["headers"]) == number - bundle["block_number"] + 1
    check = verify_bundle_offline({**bundle, "sealed": sealed, "checkpoint": checkpoint}, trust)
    assert check.checkpoint is not None and check.checkpoint["number"] == number
    assert {c["department"] for c in check.checkpoint["cosigners"]} == {
        "0x" + department_id(code).hex()
        for code in ("11330100MB1A00001P", "11330100MB1A00002K", "11330100MB1A00003F")
    }
    # The same three keys cosigning the block after the bundle's last header: not linked.
    other = "0x" + "ab" * 32
    beyond = {
        "number": number + 1,
        "hash": other,
        "cosignatures": sorted(
            (
                cosign(
                    dev_account(n).key,
                    chain_id=trust.chain_id,
                    genesis_hash=trust.genesis_hash,
                    number=number + 1,
                    block_hash=other,
                    time=1765000000,
                ).as_dict()
                for n in (1, 2, 3)
            ),
            key=lambda c: str(c["address"]).lower(),
        ),
    }
    with pytest.raises(OfflineProofError) as refused:
        verify_bundle_offline({**bundle, "sealed": sealed, "checkpoint": beyond}, trust)
    assert refused.value.reason == "checkpoint-unlinked"


def test_an_anchor_too_few_signers_sealed_on_has_no_offline_proof_yet(
    sealed_net: SealedNet, tmp_path: Path
) -> None:
    """A validator cut off alone seals one block of its own holding an anchor, then may not
    seal the next (one of four signers): on its node one signer of the three needed sealed
    on the anchor, and the proof cannot be made (not-sealed). The lone branch is left behind
    when it rejoins."""
    network = sealed_net.network

    def cut_off() -> Member | None:
        """The whole network stopped at once, the chain stands still; validators started
        alone, not sealing, until one is found whose last two blocks others sealed (Clique's
        recents then let it seal the next alone), the other three started again together.
        With the heads a block apart at most, one always is: those blocks were sealed by at
        most three signers, and there are four. None (the network restarted) otherwise."""
        with ThreadPoolExecutor(len(network.members)) as pool:
            list(pool.map(lambda member: stop_member(network, member), network.members))
        for member in reversed(network.members):
            start_member(network, member, isolated=True, sealing=False)
            top = head(member.rpc_url)
            if member.signer not in {sealer(member.rpc_url, n) for n in (top, top - 1)}:
                for other in network.members:
                    if other is not member:
                        start_member(network, other)
                return member
            stop_member(network, member)
        start_network(network)
        eventually(lambda: head(network.members[0].rpc_url) > top + 2, what="blocks again")
        return None

    lone = None
    try:
        lone = eventually(cut_off, what="a validator cut off, able to seal alone", within=120)
        client = ChainClient(connect(lone.rpc_url), load_deployment(sealed_net.manifest).addresses)
        anchor = client.contract("DatasetRegistry").functions.anchor(
            dataset_id(department_id(CIVIL), DATASET), keccak(text=str(tmp_path)), 1,
            keccak(text="lone"), [],
        )  # fmt: skip
        raw, tx_hash, _ = client.sign(anchor, sender=dev_account(PUBLISHER))
        rpc(lone.rpc_url, "eth_sendRawTransaction", ["0x" + raw.hex()])
        stop_member(network, lone)
        start_member(network, lone, isolated=True)
        receipt = eventually(
            lambda: rpc(lone.rpc_url, "eth_getTransactionReceipt", [tx_hash]),
            what="the anchor sealed on the lone side",
        )
        block = int(receipt["blockNumber"], 16)
        time.sleep(3 * network.period)  # it may not seal a second block alone
        assert head(lone.rpc_url) == block
        with pytest.raises(NotSealedError) as refused:
            sealed_evidence(client.w3, block_number=block, transaction=tx_hash)
        assert str(refused.value) == (
            f"1 of the 4 signers have sealed block {block} or on top of it; an offline proof "
            "needs 3: ask again after a few blocks."
        )
    finally:  # every validator back in the network, sealing
        if lone is not None:
            stop_member(network, lone)
        for member in network.members:
            with contextlib.suppress(NodeError):  # those already running
                start_member(network, member)


def test_a_signer_voted_in_is_followed_through_the_history(
    sealed_net: SealedNet, tmp_path: Path
) -> None:
    """A fifth signer, voted in after genesis, seals; with two of the first four stopped it
    seals one of any three blocks in a row, so its seal is among the bundle's headers. The
    bundle carries the headers from block 1, and the verifier follows the votes to accept it;
    without them the seal is refused."""
    network = sealed_net.network
    newcomer = dev_account(19).address
    grown = add_member(
        network, code="NEWCOMER", name="杭州市数据资源局", signer=newcomer, host=HOSTS[4],
        rpc_port=network.members[0].rpc_port, p2p_port=network.members[0].p2p_port,
        authrpc_port=network.members[0].authrpc_port,
    )  # fmt: skip
    start_member(grown, grown.members[4])
    sealed_net.network = grown
    for member in grown.members[:4]:
        rpc(member.rpc_url, "clique_propose", [newcomer, True])
    first = grown.members[0].rpc_url
    eventually(
        lambda: newcomer.lower() in [s.lower() for s in rpc(first, "clique_getSigners", [])],
        what="the newcomer voted in",
    )
    for member in grown.members[:4]:  # no vote left pending
        rpc(member.rpc_url, "clique_discard", [newcomer])
    stopped = grown.members[2:4]
    for member in stopped:
        stop_member(grown, member)
    try:
        bundle = sealed_net.anchored_bundle(tmp_path, "after the vote\n")
    finally:
        for member in stopped:
            start_member(grown, member)
    sealed = bundle["sealed"]
    assert sealed["history"] is not None
    assert len(sealed["history"]) == bundle["block_number"] - 1
    trust = load_trust(sealed_net.trust_path)
    check = verify_bundle_offline(bundle, trust)
    assert check.from_genesis is True
    assert (check.signers, check.required) == (5, 3)
    sealers = [check.sealed_by, *check.confirmed_by]
    assert newcomer in [s["address"] for s in sealers]
    assert {"address": newcomer, "department": None, "code": None} in sealers
    # Without its history the votes cannot be followed: the newcomer's seal is refused.
    cut = {**bundle, "sealed": {**sealed, "history": None}}
    with pytest.raises(OfflineProofError) as refused:
        verify_bundle_offline(cut, trust)
    # The first header the genesis set cannot explain: the newcomer's seal, or an old signer's
    # turn counted among four.
    assert refused.value.reason in ("signer-outside-set", "header-difficulty")
    assert "voted on its signers since genesis" in str(refused.value)
