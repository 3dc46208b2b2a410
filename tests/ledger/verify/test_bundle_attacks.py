"""Proof bundles handed over by someone who lies (issue 12, item 2), on real nodes (Hardhat 2
and Anvil): each attack a test named after it, checked with the consortium trust file.

A bundle is checked against the chain the consortium trust file describes (its chain id,
genesis and deployment block, addresses), never against the addresses the bundle names; every
claim it makes is compared with the chain (tampered claims one by one:
tests/ledger/verify/test_verifier.py); the answer names the dataset's owner and the anchoring
department as the chain names them; an old ``xietong-proof/1`` bundle is read, saying what it
could not check.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from sqlalchemy.engine import Engine

from ledger import hashing
from ledger.anchoring import Anchorer, prepare_path
from ledger.chain.client import ChainClient, connect
from ledger.chain.deploy import Deployment, Founder, FoundersFile, deploy
from ledger.chain.node import NodeSpec, free_port, start_node, stop_node
from ledger.db.engine import create_db_engine
from ledger.errors import TrustMismatchError
from ledger.ids import code_hash, dataset_id
from ledger.indexer import Indexer
from ledger.keys import dev_account
from ledger.verify import (
    BUNDLE_FORMAT,
    LEGACY_BUNDLE_FORMAT,
    BundleClaimError,
    UnknownRootError,
    Verifier,
    verify_bundle,
)
from tests.support import (
    AUDITOR_INDEX,
    FOUNDERS,
    PROPOSAL_LIFETIME,
    THRESHOLD_BPS,
    Consortium,
    admit_department,
)

CODE = "HZ-XZXK-2026"  # 民政局's dataset of licensing decisions
CIVIL = "B"  # 杭州市民政局
GENUINE = "准予行政许可决定书\n"
FORGED = "不予行政许可决定书\n"


@pytest.fixture
def gateway_db(tmp_path: Path) -> Iterator[Engine]:
    """The real gateway's index (SQLite: which database holds it is beside the point here)."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def forger_db(tmp_path: Path) -> Iterator[Engine]:
    """The index of the forger's own gateway."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'forger.db'}")
    yield engine
    engine.dispose()


def decision(folder: Path, text: str) -> Path:
    """A folder holding one decision, ``决定书.txt``, of ``text``."""
    folder.mkdir(parents=True)
    (folder / "决定书.txt").write_text(text, encoding="utf-8")
    return folder


def anchored_bundle(
    client: ChainClient,
    deployment: Deployment,
    engine: Engine,
    signer: LocalAccount,
    folder: Path,
    dataset: bytes,
) -> dict[str, Any]:
    """Anchor ``folder`` in ``dataset`` with ``signer``'s gateway on ``engine``, index it, and
    return the bundle of its decision that gateway hands out."""
    Anchorer(client, engine, signer).anchor(prepare_path(folder, dataset))
    Indexer(client, deployment, engine).sync()
    return Verifier(engine, client).file_bundle(
        hashing.sha256_file(folder / "决定书.txt"), name="决定书.txt"
    )


def founders(*departments: Founder, auditors: tuple[str, ...] = ()) -> FoundersFile:
    return FoundersFile(
        departments=departments,
        auditors=auditors,
        threshold_bps=THRESHOLD_BPS,
        proposal_lifetime=PROPOSAL_LIFETIME,
    )


def the_test_consortium() -> FoundersFile:
    """The founders of the test consortium (tests/conftest.py deploys the same)."""
    return founders(
        *(
            Founder(code=code, name=name, operator=dev_account(index).address)
            for code, name, index in FOUNDERS.values()
        ),
        auditors=(dev_account(AUDITOR_INDEX).address,),
    )


def hx(value: bytes) -> str:
    return "0x" + value.hex()


# ---------------------------------------------------------------------------- look-alikes


def test_outsider_lookalike_registry_forged_bundle_is_refused(
    consortium: Consortium, gateway_db: Engine, forger_db: Engine, tmp_path: Path
) -> None:
    """An outsider deploys its own DepartmentRegistry and DatasetRegistry on the consortium's
    chain, founding itself as 杭州市民政局 under 民政局's very code (so the same department id,
    and with the same catalogue code the same dataset id), anchors a forged decision and
    hands out a bundle naming its registry. Before the trust file `verify-proof` believed the
    bundle's `contract` and printed VALID; now the registry is the trust file's alone."""
    c = consortium
    trust = c.deployment.trust()
    real = c.register_dataset(CIVIL, CODE, keccak(text="行政许可决定"))
    genuine = anchored_bundle(
        c.client,
        c.deployment,
        gateway_db,
        c.ops[CIVIL],
        decision(tmp_path / "genuine", GENUINE),
        real,
    )

    operator, deployer = Consortium.spare(5), Consortium.spare(6)
    lookalike = deploy(
        c.w3,
        founders(Founder(code=FOUNDERS[CIVIL][0], name="杭州市民政局", operator=operator.address)),
        deployer=deployer,
        manifest_path=tmp_path / "outsider" / "manifest.json",
    )
    assert lookalike.addresses["DatasetRegistry"] != c.deployment.addresses["DatasetRegistry"]
    forger = ChainClient(c.w3, lookalike.addresses)
    registered = forger.transact(
        "DatasetRegistry", "registerDataset", code_hash(CODE), keccak(text="x"), sender=operator
    )
    assert bytes(registered.event("DatasetRegistered")["datasetId"]) == real  # the same id
    forged = anchored_bundle(
        forger,
        lookalike,
        forger_db,
        operator,
        decision(tmp_path / "forged", FORGED),
        real,
    )
    assert forged["contract"] == lookalike.addresses["DatasetRegistry"]
    assert forged["chain_id"] == trust.chain_id and forged["dataset_id"] == hx(real)
    assert forged["publisher"] == genuine["publisher"] == {"id": hx(c.ids[CIVIL])}
    # Believed on the forger's word (its own trust file), it is a sound bundle, published by
    # "杭州市民政局": what `verify-proof` printed before.
    fooled = verify_bundle(forged, c.w3, trust=lookalike.trust())
    assert fooled.publisher == {"id": hx(c.ids[CIVIL]), "name": "杭州市民政局", "name_flags": []}

    # With the consortium's trust file: the contract is not the consortium's registry.
    with pytest.raises(
        BundleClaimError, match=r"names registry .*this consortium's DatasetRegistry"
    ):
        verify_bundle(forged, c.w3, trust=trust)
    # Edited to name the real registry: that registry never anchored the forged decision.
    renamed = {**forged, "contract": trust.contracts["DatasetRegistry"]}
    with pytest.raises(UnknownRootError, match="holds no version of root"):
        verify_bundle(renamed, c.w3, trust=trust)
    # Made to look like an old bundle, whose contract is not believed: the same.
    legacy = legacy_of(forged)
    with pytest.raises(UnknownRootError, match="holds no version of root"):
        verify_bundle(legacy, c.w3, trust=trust)
    # The genuine decision verifies, published by the real 民政局.
    check = verify_bundle(genuine, c.w3, trust=trust)
    assert check.publisher["name"] == check.owner["name"] == c.names[CIVIL]


def _set_nonce(engine: str, w3: Any, account: str, nonce: int) -> None:
    method = "hardhat_setNonce" if engine == "hardhat" else "anvil_setNonce"
    answer = w3.provider.make_request(method, [account, hex(nonce)])
    assert "error" not in answer, answer


def test_second_chain_with_same_chain_id_and_addresses_is_told_apart(
    consortium: Consortium, node: NodeSpec, gateway_db: Engine, tmp_path: Path
) -> None:
    """A second node of the same engine: the same chain id, and the same deployer deploying
    the same founders at the same nonces, so the same contract addresses; a forged decision
    anchored there by "杭州市民政局" gives a bundle whose every claim (chain id, contract,
    dataset, publisher) reads like the consortium's. The trust file's genesis and deployment
    block tell the chains apart. The second chain's blocks are made to differ on purpose (a
    first block of its own, far in the future, holding a transfer the consortium never made),
    so the check does not depend on when either node started."""
    c = consortium
    trust = c.deployment.trust()
    first_tx = c.w3.eth.get_transaction(c.deployment.transactions["DepartmentRegistry"])
    spec = NodeSpec(engine=node.engine, port=free_port(), state_dir=tmp_path / "second-node")
    start_node(spec)
    try:
        w3 = connect(spec.rpc_url)
        assert int(w3.eth.chain_id) == trust.chain_id
        later = int(w3.eth.get_block("latest")["timestamp"]) + 12_345
        w3.provider.make_request("evm_setNextBlockTimestamp", [later])  # type: ignore[arg-type]
        stranger = dev_account(19)
        client = ChainClient(w3, {})
        signed = stranger.sign_transaction(
            {
                "to": to_checksum_address(
                    keccak(text="a transfer only the second chain holds")[:20]
                ),
                "value": 1,
                "gas": 21_000,
                "gasPrice": w3.eth.gas_price,
                "nonce": w3.eth.get_transaction_count(stranger.address),
                "chainId": client.chain_id,
            }
        )
        w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
        _set_nonce(node.engine, w3, dev_account(0).address, int(first_tx["nonce"]))
        twin = deploy(
            w3,
            the_test_consortium(),
            deployer=dev_account(0),
            manifest_path=tmp_path / "second" / "manifest.json",
        )
        assert twin.addresses == c.deployment.addresses
        assert twin.chain_id == trust.chain_id

        twin_client = ChainClient(w3, twin.addresses)
        operator = c.ops[CIVIL]
        twin_client.transact(
            "DatasetRegistry", "registerDataset", code_hash(CODE), keccak(text="x"), sender=operator
        )
        ds = dataset_id(c.ids[CIVIL], CODE)
        bundle = anchored_bundle(
            twin_client, twin, gateway_db, operator, decision(tmp_path / "forged", FORGED), ds
        )
        assert bundle["chain_id"] == trust.chain_id
        assert bundle["contract"] == trust.contracts["DatasetRegistry"]
        # On its own chain the bundle is sound (its own trust file says so)...
        assert verify_bundle(bundle, w3, trust=twin.trust()).publisher["name"] == c.names[CIVIL]
        # ... and the consortium's trust file tells that chain from the consortium's.
        with pytest.raises(TrustMismatchError, match=r"genesis|block"):
            verify_bundle(bundle, w3, trust=trust)
        # On the consortium's chain, nothing of it was anchored.
        with pytest.raises(UnknownRootError, match="holds no version of root"):
            verify_bundle(bundle, c.w3, trust=trust)
    finally:
        stop_node(spec)


# ---------------------------------------------------------------------------- who published


def test_the_answer_names_the_owner_and_publisher_as_the_chain_does(
    consortium: Consortium, gateway_db: Engine, tmp_path: Path
) -> None:
    """Before, a bundle's answer named no department (`department_id` was always null). Now
    it names the dataset's owner and the anchoring department, id and on-chain name; a name
    carrying a right-to-left mark and a zero-width space (which the contract accepts) comes
    with its flags, so whoever shows it shows the id beside it."""
    c = consortium
    name = "\u200f杭州市民政局\u200b"
    operator = Consortium.spare(8)
    voters = [c.ops[k] for k in FOUNDERS]
    hostile = admit_department(c.client, voters, "TEST-HOSTILE-901", name, operator)
    c.transact(
        "DatasetRegistry", "registerDataset", code_hash(CODE), keccak(text="x"), sender=operator
    )
    ds = dataset_id(hostile, CODE)
    bundle = anchored_bundle(
        c.client, c.deployment, gateway_db, operator, decision(tmp_path / "d", GENUINE), ds
    )
    check = verify_bundle(bundle, c.w3, trust=c.deployment.trust())
    shown = {"id": hx(hostile), "name": name, "name_flags": ["bidi", "zero-width"]}
    assert check.owner == check.publisher == shown
    assert check.as_dict()["publisher"] == shown


# ---------------------------------------------------------------------------- old bundles


def legacy_of(bundle: dict[str, Any]) -> dict[str, Any]:
    """``bundle`` (xietong-proof/2) as a xietong-proof/1 bundle said it: no version id, no
    publisher; its chain id and contract kept."""
    old = copy.deepcopy(bundle)
    del old["version_id"], old["publisher"]
    old["format"] = LEGACY_BUNDLE_FORMAT
    return old


def test_an_old_bundle_is_read_and_says_what_it_could_not_check(
    consortium: Consortium, gateway_db: Engine, tmp_path: Path
) -> None:
    c = consortium
    trust = c.deployment.trust()
    ds = c.register_dataset(CIVIL, CODE, keccak(text="x"))
    bundle = anchored_bundle(
        c.client, c.deployment, gateway_db, c.ops[CIVIL], decision(tmp_path / "d", GENUINE), ds
    )
    assert bundle["format"] == BUNDLE_FORMAT
    current = verify_bundle(bundle, c.w3, trust=trust)
    assert current.unchecked == []

    old = legacy_of(bundle)
    check = verify_bundle(old, c.w3, trust=trust)
    assert check.format == LEGACY_BUNDLE_FORMAT
    # The chain's facts, as for the current bundle: owner and publisher included.
    assert {**check.as_dict(), "format": BUNDLE_FORMAT, "unchecked": []} == current.as_dict()
    assert len(check.unchecked) == 2
    assert "`chain_id` and `contract` were not believed" in check.unchecked[0]
    assert "names no publisher and no version id" in check.unchecked[1]

    # A claim it does not make is said too; the claims it makes are still checked.
    del old["transaction"]
    check = verify_bundle(old, c.w3, trust=trust)
    assert check.transaction == bundle["transaction"]
    assert check.unchecked[2:] == [
        "the bundle does not say its `transaction`: nothing to compare with the chain's."
    ]
    with pytest.raises(BundleClaimError, match="block number"):
        verify_bundle({**old, "block_number": bundle["block_number"] - 1}, c.w3, trust=trust)
