"""The consortium network on real geth Clique validators (docs/CONSORTIUM.md): one per
founding department, faults included — a validator killed, a majority stopped, a split that
heals, a validator voted in and one voted out.

One network for the module (block period 1 s, so the faults take seconds), on loopback
addresses of its own (127.0.0.61 and up) and free ports; the tests run in order, each leaving
every validator running and sealing for the next.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_utils import keccak
from fastapi.testclient import TestClient
from hexbytes import HexBytes
from sqlmodel import Session, select

from api.app import create_app
from ledger.chain._ipc import ipc_call
from ledger.chain.client import ChainClient, connect
from ledger.chain.deploy import load_deployment, load_founders
from ledger.chain.network import (
    Member,
    Network,
    _begin_sealing,
    init_network,
    load_network,
    member_status,
    plan_network,
    rpc,
    sealer,
    signers,
    start_member,
    start_network,
    stop_member,
    stop_network,
)
from ledger.chain.node import free_port
from ledger.db.engine import create_db_engine
from ledger.db.tables import ChainEvent, VersionRow
from ledger.errors import NodeError, NodeStartError
from ledger.events import event_topics
from ledger.ids import dataset_id, department_id
from ledger.indexer import Indexer
from ledger.keys import dev_account
from ledger.paths import PROJECT_ROOT
from ledger.settings import Settings
from tests.support import gateway_environment, reply_json
from tests.support_sealed import eventually

FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"
BIN = Path(sys.executable).parent
CIVIL = "11330100MB1A00002K"  # 民政局, dev account 2
NEWCOMER = "11330100MB1A00009X"  # 杭州市医疗保障局, admitted during the tests
HOSTS = [f"127.0.0.{61 + i}" for i in range(4)]  # the fourth for the department voted in


def head(member: Member) -> int:
    return int(rpc(member.rpc_url, "eth_blockNumber"), 16)


def block_hash(member: Member, number: int) -> str:
    return str(rpc(member.rpc_url, "eth_getBlockByNumber", [hex(number), False])["hash"])


@dataclass
class Consortium:
    network: Network
    home: Path
    env: dict[str, str]

    def xietong(self, *args: str, member: Member, account: int, **extra: str) -> Any:
        """``xietong ARGS --json`` as department ``account``'s gateway on ``member``'s node."""
        env = {
            **self.env,
            "XIETONG_RPC_URL": member.rpc_url,
            "XIETONG_DEV_ACCOUNT": str(account),
            **extra,
        }
        done = subprocess.run(
            [str(BIN / "xietong"), *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    def client(self, member: Member) -> ChainClient:
        deployment = load_deployment(self.home / "deployments" / f"{self.network.chain_id}.json")
        return ChainClient(connect(member.rpc_url), deployment.addresses)

    def all_sealing(self) -> None:
        """Every validator runs, has its peers and agrees on the chain's head hash."""
        members = self.network.members

        def agreed() -> bool:
            tops = [head(m) for m in members]
            common = min(tops)
            return len({block_hash(m, common) for m in members}) == 1 and all(
                member_status(self.network, m).peers == len(members) - 1 for m in members
            )

        eventually(agreed, what="every validator connected, on one chain")


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    home = tmp_path_factory.mktemp("consortium")
    founders = load_founders(FOUNDERS, allow_dev=True)
    network = plan_network(
        founders.departments,
        home=home / "network",
        period=1,
        hosts=HOSTS[:3],
        rpc_port=free_port(HOSTS[0]),
        p2p_port=free_port(HOSTS[0]),
        authrpc_port=free_port(HOSTS[0]),
    )
    init_network(network)
    env = {
        **gateway_environment(home),
        "XIETONG_ENV": "local",
        "XIETONG_TX_TIMEOUT": "300",
        "XIETONG_NETWORK_DIR": str(network.home),
    }
    try:
        start_network(network)
        consortium = Consortium(network, home, env)
        consortium.all_sealing()
        consortium.xietong(
            "deploy", "--founders", str(FOUNDERS), member=network.members[0], account=0
        )
        yield consortium
    finally:
        stop_network(load_network(network.home))


def test_the_network_seals_with_one_signer_per_department(consortium: Consortium) -> None:
    """Genesis names each founding department's signer; blocks come from all of them."""
    network = consortium.network
    first = network.members[0]
    founders = load_founders(FOUNDERS, allow_dev=True).departments
    assert signers(first.rpc_url) == sorted(str(f.signer) for f in founders)
    top = eventually(lambda: head(first) >= 9 and head(first), what="nine blocks")
    sealed_by = {sealer(first.rpc_url, n) for n in range(1, top + 1)}
    assert sealed_by == {m.signer for m in network.members}
    assert int(rpc(first.rpc_url, "eth_chainId"), 16) == network.chain_id
    # No namespace that manages keys or the node is served.
    for method in ("personal_listAccounts", "admin_peers", "debug_traceBlockByNumber"):
        with pytest.raises(NodeError, match=r"does not exist/is not available"):
            rpc(first.rpc_url, method, [])
    # They are the operator's, on the validator's IPC socket: owner-only, in its data folder.
    ipc = network.ipc_path(first)
    assert stat.S_IMODE(ipc.stat().st_mode) == 0o600
    assert {p["enode"].split("@")[0] for p in ipc_call(ipc, "admin_peers")} == {
        m.enode.split("@")[0] for m in network.members[1:]
    }
    with pytest.raises(NodeError) as unknown:
        ipc_call(ipc, "miner_nothing")
    assert str(unknown.value) == (
        f"the node at {ipc} refused miner_nothing: the method miner_nothing does not "
        "exist/is not available"
    )


def test_one_validator_killed_the_others_seal_and_it_catches_up(consortium: Consortium) -> None:
    network = consortium.network
    alive, killed = network.members[:2], network.members[2]
    assert stop_member(network, killed, kill=True)
    top = head(alive[0])
    # Two of three signers keep sealing: each may seal one block of any two in a row.
    eventually(lambda: head(alive[0]) >= top + 4, what="four blocks without the third signer")
    # The gateway of the killed validator's department keeps answering and writing: it reads
    # from a fallback (another department's validator) and still signs with its own key.
    registered = consortium.xietong(
        "dataset", "register", "NET-KILLED", member=killed, account=3,
        XIETONG_RPC_FALLBACK_URLS=alive[0].rpc_url,
    )  # fmt: skip
    assert registered["ok"] is True
    shown = consortium.xietong(
        "dept", "show", "11330100MB1A00003F", member=killed, account=3,
        XIETONG_RPC_FALLBACK_URLS=alive[0].rpc_url,
    )  # fmt: skip
    assert shown["department"]["status"] == "active"
    start_member(network, killed)
    eventually(lambda: head(killed) >= head(alive[0]) - 1, what="the restarted one caught up")
    consortium.all_sealing()


def test_a_validator_seals_only_once_it_has_the_running_validators_chain(
    consortium: Consortium,
) -> None:
    """Started, a validator follows first: it seals once connected with every running
    validator it may reach and holding a chain as heavy as theirs. One running validator
    refuses every peer (as a node whose peer slots are full would): the one started seals
    nothing, and is stopped with a sentence saying whom it lacked."""
    network = consortium.network
    late, refusing = network.members[2], network.members[1]
    stop_member(network, late)
    stop_member(network, refusing)
    start_member(network, refusing, isolated=True, sealing=False)
    # Recorded as a full member: its peers wait for it, and it takes none (geth --maxpeers 0).
    network.start_file(refusing).write_text(
        json.dumps({"isolated": False, "reach": None, "sealing": True})
    )
    logged = network.log_file(late).stat().st_size
    with pytest.raises(NodeStartError) as refused:
        start_member(network, late, timeout=5)
    assert re.fullmatch(
        re.escape(
            f"{late.code}'s validator did not catch up with the running validators within 5 s "
            f"(not connected with: {refusing.code}; total difficulty "
        )
        + r"\d+ of \d+"
        + re.escape(f"), so it was stopped before sealing; see {network.log_file(late)}."),
        str(refused.value),
    ), refused.value
    status = member_status(network, late)
    assert not status.running and not status.answering
    assert not network.start_file(late).exists()
    with network.log_file(late).open("rb") as log:
        log.seek(logged)
        this_start = log.read().decode()
    assert "Started P2P networking" in this_start and "sealed new block" not in this_start
    # The network started with it: the one that cannot catch up is named, and what this start
    # launched is stopped again (none left running that was never told to seal).
    first = network.members[0]
    stop_member(network, first)
    with pytest.raises(NodeStartError, match=rf"^{first.code}'s validator did not catch up"):
        start_network(network, timeout=5)
    assert [member_status(network, m).running for m in network.members] == [False, True, False]
    # Sealing waits for the signer's key to be unlocked (geth unlocks it after its RPC
    # answers): one never unlocked is said in one sentence, and nothing was sealed.
    with pytest.raises(NodeStartError) as locked:
        _begin_sealing(network, refusing, timeout=2)
    assert str(locked.value) == (
        f"{refusing.code}'s signer key was not unlocked within 2 s (the node at "
        f"{network.ipc_path(refusing)} refused eth_sign: authentication needed: password or "
        f"unlock); see {network.log_file(refusing)}."
    )
    assert rpc(refusing.rpc_url, "eth_mining") is False
    stop_member(network, refusing)
    start_network(network)
    consortium.all_sealing()
    assert all(rpc(m.rpc_url, "eth_mining") for m in network.members)


class LyingValidator:
    """A validator's RPC as a hostile department could serve it, on loopback: everything is
    the real node's answer but the hashes of its blocks above ``parts_at``, which name a
    branch of its own that looks as heavy, its head the lowest hash there is (the one a tie
    would choose)."""

    def __init__(self, member: Member, *, parts_at: int) -> None:
        real = member.rpc_url

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = requests.post(real, json=request, timeout=5).json()
                block = answer.get("result")
                if request["method"] == "eth_getBlockByNumber" and isinstance(block, dict):
                    number = int(block["number"], 16)
                    if request["params"][0] == "latest":
                        block["hash"] = "0x" + (1).to_bytes(32).hex()
                    elif number > parts_at:
                        block["hash"] = "0x" + (number + 2).to_bytes(32).hex()
                body = json.dumps(answer).encode()
                reply_json(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((member.host, free_port(member.host)), Handler)
        self.member = replace(member, rpc_port=self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_validator_lying_about_its_head_cannot_make_one_started_give_up_its_chain(
    consortium: Consortium,
) -> None:
    """A tie is settled by moving a validator back to where the branches part; a validator
    that claims an equally heavy head of a branch parting five blocks down would have it give
    up five blocks. A branch is given up ⌊N/2⌋ blocks deep at most (one, for three signers:
    the most a split leaves), so the one started keeps its chain, and seals."""
    network = consortium.network
    first, honest, started = network.members
    stop_member(network, started)
    stop_member(network, first)  # the one honest signer left seals one block, then halts
    liar = LyingValidator(honest, parts_at=head(honest) - 5)
    try:
        lying = replace(network, members=(first, liar.member, started))
        logged = network.log_file(started).stat().st_size
        start_member(lying, started)
        eventually(lambda: head(started) == head(honest), what="caught up with the honest one")
        with network.log_file(started).open("rb") as log:
            log.seek(logged)
            this_start = log.read().decode()
        assert "Rewinding blockchain" not in this_start
        assert rpc(started.rpc_url, "eth_mining") is True
        assert block_hash(started, head(started)) == block_hash(honest, head(honest))
    finally:
        liar.close()
    start_network(network)
    consortium.all_sealing()


def test_a_majority_stopped_halts_the_chain_and_an_anchor_lands_once_after(
    consortium: Consortium, tmp_path: Path
) -> None:
    network = consortium.network
    left, stopped = network.members[0], network.members[1:]
    consortium.xietong("dataset", "register", "NET-HALT", member=left, account=2)
    for member in stopped:
        assert stop_member(network, member)
    # One signer of three may seal at most one block of any two: the chain halts.
    top = head(left)
    time.sleep(4 * network.period)
    halted = head(left)
    assert halted <= top + 1
    time.sleep(3 * network.period)
    assert head(left) == halted, "a lone signer of three sealed two blocks in a row"
    # The gateway says so: its /readyz judges the head's age.
    settings = Settings(
        home=consortium.home,
        env="local",
        rpc_url=left.rpc_url,
        database_url=f"sqlite:///{tmp_path / 'halted.db'}",
        chain_max_head_age_seconds=3 * network.period,
    )
    with TestClient(create_app(settings)) as api:
        ready = api.get("/readyz")
    assert ready.status_code == 503 and ready.json()["reasons"] == ["chain-halted"], ready.text
    # An anchor sent now waits in the pool; it lands once the others are back, and once. The
    # gateway waits the confirmations docs/CONSORTIUM.md recommends for three signers: the
    # block first holding it may be one the heal reverts (the transaction then returns to the
    # pool and is sealed again), and only then is it where the logs are read below.
    sample = tmp_path / "halt.txt"
    sample.write_text("sealed after the halt\n", encoding="utf-8")
    env = {
        **consortium.env,
        "XIETONG_RPC_URL": left.rpc_url,
        "XIETONG_DEV_ACCOUNT": "2",
        "XIETONG_CONFIRMATIONS": "3",
    }
    anchoring = subprocess.Popen(
        [str(BIN / "xietong"), "dataset", "anchor", str(sample), "--dataset", "NET-HALT", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(5 * network.period)
        assert anchoring.poll() is None, "the anchor finished while the chain was halted"
        assert head(left) == halted
        for member in stopped:
            start_member(network, member)
        out, err = anchoring.communicate(timeout=120)
    finally:
        if anchoring.poll() is None:
            anchoring.kill()
    assert anchoring.returncode == 0, out + err
    root = json.loads(out)["root"]
    consortium.all_sealing()
    client = consortium.client(left)
    registry = client.contract("DatasetRegistry")
    [topic] = ["0x" + t.hex() for t, n in event_topics(registry).items() if n == "VersionAnchored"]
    logs = rpc(
        left.rpc_url,
        "eth_getLogs",
        [
            {
                "fromBlock": hex(halted),
                "toBlock": "latest",
                "address": registry.address,
                "topics": [topic],
            }
        ],
    )
    roots = [log["topics"][2] for log in logs]
    assert roots.count(root) == 1, roots


def test_a_split_heals_and_the_index_follows_the_winning_branch(
    consortium: Consortium, tmp_path: Path
) -> None:
    """One signer of three cut off seals a block of its own holding an anchor, while the two
    others go on. At the heal the lone branch loses (less total difficulty): the gateway
    indexing the lone validator rolls the anchor back and indexes it again where the winning
    branch holds it (the transaction returns to the pool and is sealed there): once."""
    network = consortium.network
    majority, lone = network.members[:2], network.members[2]
    consortium.xietong("dataset", "register", "NET-SPLIT", member=majority[0], account=2)
    consortium.all_sealing()

    def cut_off() -> bool:
        """The lone validator restarted with no peers and not sealing yet, its head sealed by
        another signer (a signer of three may not seal two blocks in a row, and this one must
        seal one: the anchor's)."""
        stop_member(network, lone)
        start_member(network, lone, isolated=True, sealing=False)
        if sealer(lone.rpc_url, head(lone)) != lone.signer:
            return True
        stop_member(network, lone)  # follow the others for a block, then try again
        start_member(network, lone, sealing=False)
        mark = head(lone)
        eventually(lambda: head(lone) > mark, what="the lone one synced a block")
        return False

    eventually(cut_off, what="the lone validator cut off, able to seal", within=120)
    # The anchor enters only the lone validator's pool (kept in its journal across a restart),
    # and the lone validator then seals alone: the anchor in a block of its own branch.
    client = consortium.client(lone)
    root = keccak(text=f"anchored on the lone side {tmp_path}")
    anchor = client.contract("DatasetRegistry").functions.anchor(
        dataset_id(department_id(CIVIL), "NET-SPLIT"), root, 1, keccak(text="split"), []
    )
    raw, tx_hash, _ = client.sign(anchor, sender=dev_account(2))
    rpc(lone.rpc_url, "eth_sendRawTransaction", ["0x" + raw.hex()])
    split_at = head(lone)
    stop_member(network, lone)
    start_member(network, lone, isolated=True)
    receipt = eventually(
        lambda: rpc(lone.rpc_url, "eth_getTransactionReceipt", [tx_hash]),
        what="the anchor sealed on the lone side",
    )
    anchored = {"root": "0x" + root.hex(), "transaction": tx_hash}
    lone_block = int(receipt["blockNumber"], 16)
    assert receipt["status"] == "0x1"
    assert lone_block > split_at and sealer(lone.rpc_url, lone_block) == lone.signer
    deployment = load_deployment(consortium.home / "deployments" / f"{network.chain_id}.json")
    engine = create_db_engine(f"sqlite:///{tmp_path / 'lone.db'}")
    indexer = Indexer(consortium.client(lone), deployment, engine)
    indexer.sync()

    def indexed() -> list[tuple[int, str]]:
        with Session(engine) as session:
            rows = session.exec(
                select(ChainEvent).where(ChainEvent.name == "VersionAnchored")
            ).all()
            return [(r.block_number, r.block_hash) for r in rows if anchored["root"] in r.args]

    assert indexed() == [(lone_block, block_hash(lone, lone_block))]
    # Meanwhile the majority goes on without it: its block at that height is another.
    eventually(lambda: head(majority[0]) >= lone_block + 3, what="the majority sealing on")
    assert block_hash(majority[0], lone_block) != block_hash(lone, lone_block)
    # Heal.
    stop_member(network, lone)
    start_member(network, lone)
    consortium.all_sealing()
    client = consortium.client(majority[0])

    def landed() -> int | None:
        for number in range(lone_block, head(majority[0]) + 1):
            block = client.w3.eth.get_block(number, full_transactions=False)
            if HexBytes(anchored["transaction"]) in block["transactions"]:
                return number
        return None

    winning = eventually(landed, what="the anchor sealed on the winning branch")
    eventually(lambda: head(lone) >= winning, what="the healed validator past it")
    result = indexer.sync()
    assert result.reorged_from is not None and result.reorged_from <= lone_block
    assert indexed() == [(winning, block_hash(majority[0], winning))]
    with Session(engine) as session:
        versions = session.exec(select(VersionRow).where(VersionRow.root == anchored["root"])).all()
    assert [(v.block_number, v.tx_hash) for v in versions] == [(winning, anchored["transaction"])]
    engine.dispose()


def test_a_department_admitted_on_chain_gets_its_validator_voted_in_and_it_seals(
    consortium: Consortium,
) -> None:
    """`xietong network join`, then the admission by governance on chain, then `xietong
    network votes`: the signers vote the new department's validator in (clique_propose)."""
    first = consortium.network.members[0]
    joined = consortium.xietong(
        "network", "join", NEWCOMER, "--name", "杭州市医疗保障局", "--signer", "dev:18",
        member=first, account=0,
    )["member"]  # fmt: skip
    assert joined["rpc_url"].startswith(f"http://{HOSTS[3]}:") and joined["sealing"] is False
    consortium.network = load_network(consortium.network.home)
    newcomer = consortium.network.member(NEWCOMER)
    eventually(lambda: head(newcomer) >= head(first) - 1, what="the newcomer synced")
    # Not admitted yet: nothing to vote.
    assert consortium.xietong("network", "votes", member=first, account=0)["votes"] == []
    operator = dev_account(11).address
    proposed = consortium.xietong(
        "dept", "propose", "admit", NEWCOMER, "--name", "杭州市医疗保障局", "--operator", operator,
        member=first, account=1,
    )  # fmt: skip
    number = str(proposed["proposal_id"])
    consortium.xietong("dept", "approve", number, member=first, account=2)
    accepted = consortium.xietong("dept", "accept-role", number, member=first, account=11)
    assert accepted["executed"] is True
    votes = consortium.xietong("network", "votes", member=first, account=0)["votes"]
    assert [(v["code"], v["vote"], len(v["voted_by"])) for v in votes] == [(NEWCOMER, "add", 3)]
    eventually(lambda: newcomer.signer in signers(first.rpc_url), what="voted in")
    voted_at = head(first)
    eventually(
        lambda: any(
            sealer(first.rpc_url, n) == newcomer.signer for n in range(voted_at, head(first) + 1)
        ),
        what="a block sealed by the newcomer",
    )
    # The set follows the chain now: no vote, and the proposals left are discarded.
    assert consortium.xietong("network", "votes", member=first, account=0)["votes"] == []
    assert all(rpc(m.rpc_url, "clique_proposals") == {} for m in consortium.network.members)


def test_four_signers_split_into_halves_halt_and_heal_onto_one_branch(
    consortium: Consortium, tmp_path: Path
) -> None:
    """Four signers (the newcomer voted in) split two and two: neither half holds a majority
    (three of four), so neither seals more than two blocks: the chain stops on both sides. At
    the heal every validator follows one branch, sealing goes on, and an indexer that read the
    other half's chain follows it too."""
    network = consortium.network
    assert len(signers(network.members[0].rpc_url)) == 4
    halves = (network.members[:2], network.members[2:])
    for member in network.members:
        stop_member(network, member)
    start = max(_stored_head(consortium, m) for m in network.members)
    for half in halves:
        for member in half:
            start_member(network, member, reach=[m.host for m in half])
    eventually(
        lambda: all(member_status(network, m).peers == 1 for m in network.members),
        what="each validator connected with its half only",
    )

    # Each half may seal at most two blocks (a signer of four waits two blocks after its
    # own), then stops: wait until neither has moved for five periods.
    def settled() -> list[int] | None:
        before = [head(half[0]) for half in halves]
        time.sleep(5 * network.period)
        return before if [head(half[0]) for half in halves] == before else None

    tops = eventually(settled, what="both halves stopped", within=90)
    assert all(start <= top <= start + 2 for top in tops), (start, tops)
    assert all(member_status(network, m).peers == 1 for m in network.members)
    deployment = load_deployment(consortium.home / "deployments" / f"{network.chain_id}.json")
    engine = create_db_engine(f"sqlite:///{tmp_path / 'half.db'}")
    indexer = Indexer(consortium.client(halves[1][0]), deployment, engine)
    indexer.sync()
    # Heal: the whole network started again, every validator reaching every other. When the
    # halves sealed as much (heads of equal total difficulty), no validator would sync the
    # other half's branch, and each branch's next sealers may all be on the other: the start
    # moves the validators of one branch back to where the halves parted (start_network).
    stop_network(network)
    start_network(network)
    consortium.all_sealing()
    first = network.members[0]
    eventually(lambda: head(first) >= max(tops) + 4, what="sealing again after the heal")
    indexer.sync()
    checkpoint = indexer.checkpoint()
    assert checkpoint is not None
    assert checkpoint.block_hash == block_hash(first, checkpoint.block_number)
    engine.dispose()


def _stored_head(consortium: Consortium, member: Member) -> int:
    """The head a stopped validator kept (read by starting it alone, not sealing)."""
    start_member(consortium.network, member, isolated=True, sealing=False)
    try:
        return head(member)
    finally:
        stop_member(consortium.network, member)


def test_a_suspended_departments_signer_is_voted_out(consortium: Consortium) -> None:
    network = consortium.network
    first = network.members[0]
    out = network.member(NEWCOMER)
    proposed = consortium.xietong("dept", "propose", "suspend", NEWCOMER, member=first, account=1)
    approved = consortium.xietong(
        "dept", "approve", str(proposed["proposal_id"]), member=first, account=2
    )
    assert approved["executed"] is True  # 2 of the 3 electors: a department elects not on itself
    votes = consortium.xietong("network", "votes", member=first, account=0)["votes"]
    assert [(v["code"], v["vote"]) for v in votes] == [(NEWCOMER, "drop")]
    eventually(lambda: out.signer not in signers(first.rpc_url), what="voted out")
    dropped_at = head(first)
    eventually(lambda: head(first) >= dropped_at + 6, what="six more blocks")
    assert out.signer not in {sealer(first.rpc_url, n) for n in range(dropped_at + 1, head(first))}
    assert member_status(network, out).sealing is False
    assert consortium.xietong("network", "votes", member=first, account=0)["votes"] == []
