"""A consortium network on one machine: one geth Clique signer per department.

The development chain (``ledger.chain.node``) is one process whoever runs it can rewrite. A
consortium network is what the design promises instead: each department runs a validator
that seals blocks with its own key, and no single department controls the ledger. The engine
is go-ethereum v1.13.15 with Clique proof of authority (the last release whose signers seal),
built from the Go module proxy by ``make geth`` into ``build/geth-v1.13.15/bin/geth``.

A network is planned from the founders file (each department's ``signer``), written once into
its home (``var/network/`` by default) and then started, stopped and inspected:

``network.json``
    the plan, no secret: chain id, block period, and per department its code, name, signer
    address, host, ports and enode.
``genesis.json``
    Clique genesis: the signers in ``extraData``, funds for the development accounts.
``<code>/``
    the department's geth data directory (``geth init`` of the genesis), its signer's
    keystore and password file (mode 0600), its node key, its TOML config (static peers:
    geth 1.13 ignores ``static-nodes.json``), pid and log files; while it runs, how it was
    started. Its IPC socket (mode 0600) is in ``$TMPDIR/xietong-<uid>/`` (mode 0700), named
    after the data folder: a Unix socket's path holds at most 107 bytes.

Each validator binds 127.0.0.x (one address per department, so every node can keep the usual
ports), RPC on loopback only with the ``eth,net,web3,clique,txpool`` namespaces (no
``personal``, no ``admin``, no pprof), discovery off, full transaction history kept
(``--history.transactions 0``). What manages the node goes through its IPC socket. A
validator begins sealing only once it is connected with the running validators and holds
their chain (:func:`start_member`). Development keys only in local mode, as everywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_keys.datatypes import PrivateKey
from eth_utils import to_checksum_address

from ..errors import (
    ContractRevertError,
    DependenciesMissingError,
    InputError,
    NodeError,
    NodeStartError,
)
from ..file_modes import create_private_file, make_private_dir, replace_file
from ..ids import department_id
from ..keys import DEV_ACCOUNT_COUNT, dev_account
from ..paths import PROJECT_ROOT
from ._ipc import MAX_IPC_PATH, ensure_ipc_folder, ipc_call, ipc_folder
from ._process import alive, log_tail, port_taken, read_pid, terminate
from .client import ChainClient, wait_for_rpc
from .deploy import Founder
from .enums import DepartmentStatus
from .reads import read_department

__all__ = [
    "CONSORTIUM_CHAIN_ID",
    "GETH_BINARY",
    "GETH_VERSION",
    "Member",
    "MemberStatus",
    "Network",
    "SignerVote",
    "add_member",
    "cast_votes",
    "geth_binary",
    "load_network",
    "member_status",
    "network_status",
    "plan_network",
    "propose_signer",
    "rpc",
    "sealer",
    "signers",
    "start_member",
    "start_network",
    "stop_member",
    "stop_network",
]

#: The one geth release the network runs (v1.14 removed Clique sealing).
GETH_VERSION = "v1.13.15"
#: Where ``make geth`` installs it.
GETH_BINARY = PROJECT_ROOT / "build" / f"geth-{GETH_VERSION}" / "bin" / "geth"
#: Chain id of a local consortium network (the development chain is 31337).
CONSORTIUM_CHAIN_ID = 31338
#: Seconds between blocks.
DEFAULT_PERIOD = 2
#: Blocks between Clique checkpoints (geth's default), where votes reset.
CLIQUE_EPOCH = 30000
#: Balance of each development account in the genesis (10,000 ether, as Anvil's).
DEV_BALANCE = 10_000 * 10**18
#: The RPC namespaces a validator serves: reads, transactions and Clique votes; nothing that
#: manages keys or the node (no personal, admin, debug, miner).
RPC_APIS = "eth,net,web3,clique,txpool"
_EXTRA_VANITY = 32
_EXTRA_SEAL = 65


@dataclass(frozen=True)
class Member:
    """One department's validator in the network."""

    code: str
    name: str
    signer: str  # checksum address whose key seals this node's blocks
    host: str
    rpc_port: int
    p2p_port: int
    authrpc_port: int
    node_key: str  # hex; the node's p2p identity (not a secret of the ledger: it signs nothing)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.rpc_port}"

    @property
    def enode(self) -> str:
        public = PrivateKey(bytes.fromhex(self.node_key)).public_key.to_hex()[2:]
        return f"enode://{public}@{self.host}:{self.p2p_port}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "signer": self.signer,
            "host": self.host,
            "rpc_port": self.rpc_port,
            "p2p_port": self.p2p_port,
            "authrpc_port": self.authrpc_port,
            "node_key": self.node_key,
        }


@dataclass(frozen=True)
class Network:
    """A planned network and its home folder."""

    home: Path
    chain_id: int
    period: int
    members: tuple[Member, ...]
    genesis_signers: tuple[str, ...] = field(default=())
    #: The geth binary that runs the validators (``XIETONG_GETH``; not part of the plan).
    geth: Path = field(default=GETH_BINARY, compare=False)

    def member(self, code: str) -> Member:
        for member in self.members:
            if member.code == code:
                return member
        raise InputError(f"no department {code!r} runs a validator in the network at {self.home}.")

    def data_dir(self, member: Member) -> Path:
        return self.home / member.code

    def pid_file(self, member: Member) -> Path:
        return self.data_dir(member) / "geth.pid"

    def log_file(self, member: Member) -> Path:
        return self.data_dir(member) / "geth.log"

    def ipc_path(self, member: Member) -> Path:
        """The validator's IPC socket, in this user's private folder for them (a Unix socket's
        path holds at most 107 bytes, which a network's folder may exceed), named after the
        validator's data folder."""
        data = os.path.abspath(self.data_dir(member))
        return ipc_folder() / f"{hashlib.sha256(data.encode()).hexdigest()[:24]}.ipc"

    def start_file(self, member: Member) -> Path:
        """How the running validator was started (isolated, reach), for its peers' start."""
        return self.data_dir(member) / "geth.start.json"

    @property
    def rpc_urls(self) -> list[str]:
        return [m.rpc_url for m in self.members]


@dataclass(frozen=True)
class MemberStatus:
    """What ``network status`` reports of one validator."""

    code: str
    name: str
    signer: str
    rpc_url: str
    running: bool
    pid: int | None
    answering: bool
    block_number: int | None
    peers: int | None
    sealing: bool | None  # its signer is in the node's current signer set
    log_file: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new owner-only file (0600 from its first byte)."""
    if not create_private_file(path):
        raise NodeError(f"{path} exists already: a network's files are written once.")
    path.write_text(text, encoding="utf-8")


def geth_binary(chosen: Path = GETH_BINARY) -> Path:
    """``chosen`` (by default the geth ``make geth`` built) if it is there;
    DependenciesMissingError otherwise."""
    if not chosen.is_file():
        raise DependenciesMissingError(
            f"geth {GETH_VERSION} is not built at {chosen}: run `make geth` (go install from the "
            "Go module proxy, a few minutes once)."
        )
    return chosen


def _dev_key(address: str) -> bytes:
    """The development key of ``address`` (a dev:N account), for local networks only."""
    for index in range(DEV_ACCOUNT_COUNT):
        account = dev_account(index)
        if account.address == address:
            return bytes(account.key)
    raise InputError(
        f"signer {address} is not a development account: a local network seals with development "
        "keys only (dev:N in the founders file); a department's own key stays on its own machine "
        "(docs/CONSORTIUM.md)."
    )


#: A department code that names its validator's folder: letters, digits, ``-``, ``_``, ``.``.
_FOLDER_CODE = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._-]{1,64}$")


def _check_member(code: str, name: str) -> None:
    """A validator's code names its folder in the network's home: nothing that leaves it."""
    if not _FOLDER_CODE.match(code):
        raise InputError(
            f"department code {code!r} cannot name a validator's folder: 1 to 64 letters, digits, "
            "'-', '_' or '.'."
        )
    if not name.strip():
        raise InputError(f"department {code} needs a name for its validator.")


def _new_member(
    code: str, name: str, signer: str, host: str, *, rpc_port: int, p2p_port: int, authrpc_port: int
) -> Member:
    """A validator of department ``code`` on ``host``, with a fresh random node key."""
    return Member(
        code=code,
        name=name,
        signer=signer,
        host=host,
        rpc_port=rpc_port,
        p2p_port=p2p_port,
        authrpc_port=authrpc_port,
        node_key=secrets.token_bytes(32).hex(),
    )


def plan_network(
    founders: Sequence[Founder],
    *,
    home: Path,
    chain_id: int = CONSORTIUM_CHAIN_ID,
    period: int = DEFAULT_PERIOD,
    hosts: Sequence[str] | None = None,
    rpc_port: int = 8545,
    p2p_port: int = 30303,
    authrpc_port: int = 8551,
    geth: Path = GETH_BINARY,
) -> Network:
    """A network with one validator per founding department that names a ``signer``.

    Each member gets its own loopback address (127.0.0.2, .3, … unless ``hosts`` says), so all
    may use the same ports; a fresh random node key."""
    sealing = [f for f in founders if f.signer is not None]
    if not sealing:
        raise InputError(
            "no founding department names a `signer` in the founders file: a network needs at "
            "least one validator (docs/CONSORTIUM.md)."
        )
    if period < 1:
        raise InputError(f"a block period is a whole number of seconds from 1, not {period}.")
    for founder in sealing:
        _check_member(founder.code, founder.name)
    chosen = list(hosts) if hosts is not None else [f"127.0.0.{2 + i}" for i in range(len(sealing))]
    if len(chosen) < len(sealing):
        raise InputError(f"{len(sealing)} validators need {len(sealing)} hosts, not {len(chosen)}.")
    for host in chosen:
        if not host.startswith("127."):
            raise InputError(f"a local network binds loopback addresses only, not {host}.")
    ports = {"rpc_port": rpc_port, "p2p_port": p2p_port, "authrpc_port": authrpc_port}
    members = tuple(
        _new_member(f.code, f.name, str(f.signer), host, **ports)
        for f, host in zip(sealing, chosen, strict=False)
    )
    network = Network(
        home=home,
        chain_id=chain_id,
        period=period,
        members=members,
        genesis_signers=tuple(m.signer for m in members),
        geth=geth,
    )
    for member in members:
        _check_ipc_path(network, member)
    return network


def _check_ipc_path(network: Network, member: Member) -> None:
    """InputError when the member's IPC socket would not fit a Unix socket's path."""
    ipc = network.ipc_path(member)
    if len(str(ipc).encode()) > MAX_IPC_PATH:
        raise InputError(
            f"the folder of the validators' IPC sockets, {ipc.parent}, is too deep "
            f"({len(str(ipc).encode())} bytes in {ipc}, at most {MAX_IPC_PATH}): set TMPDIR "
            "to a shorter folder."
        )


def genesis(network: Network) -> dict[str, Any]:
    """The Clique genesis: London rules from block 0 (Clique refuses Shanghai), the genesis
    signers in ``extraData`` (32 bytes of vanity, the addresses in ascending order, 65 zero
    bytes for the seal), the development accounts funded."""
    signers = sorted(bytes.fromhex(a[2:]) for a in network.genesis_signers)
    extra = b"\0" * _EXTRA_VANITY + b"".join(signers) + b"\0" * _EXTRA_SEAL
    forks = ["homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople"]
    forks += ["petersburg", "istanbul", "berlin", "london"]
    return {
        "config": {
            "chainId": network.chain_id,
            **{f"{fork}Block": 0 for fork in forks},
            "clique": {"period": network.period, "epoch": CLIQUE_EPOCH},
        },
        "difficulty": "0x1",
        "gasLimit": hex(30_000_000),
        "extraData": "0x" + extra.hex(),
        # The development accounts funded, except the signers': a signer's key is unlocked
        # to seal, and what an RPC caller could make it sign must move nothing.
        "alloc": {
            dev_account(i).address[2:].lower(): {"balance": hex(DEV_BALANCE)}
            for i in range(DEV_ACCOUNT_COUNT)
            if dev_account(i).address not in network.genesis_signers
        },
    }


def _config_toml(network: Network, member: Member) -> str:
    """geth's TOML config: the member's p2p listen address, the other members as static peers
    (strings quoted as JSON, which is TOML's basic string for these ASCII values)."""
    peers = [json.dumps(m.enode) for m in network.members if m is not member]
    # The listen address is the member's own (--port alone would listen on every interface).
    listen = json.dumps(f"{member.host}:{member.p2p_port}")
    return f"[Node.P2P]\nListenAddr = {listen}\nStaticNodes = [" + ", ".join(peers) + "]\n"


def _save_plan(network: Network) -> None:
    plan = {
        "format": "xietong-network/1",
        "engine": f"geth {GETH_VERSION} clique",
        "chain_id": network.chain_id,
        "period": network.period,
        "genesis_signers": list(network.genesis_signers),
        "members": [m.as_dict() for m in network.members],
    }
    # Written beside and renamed over the plan: a failure leaves the old plan whole.
    pending = network.home / "network.json.tmp"
    pending.unlink(missing_ok=True)
    _write_private(pending, json.dumps(plan, indent=2, ensure_ascii=False))
    pending.replace(network.home / "network.json")


def load_network(home: Path, *, geth: Path = GETH_BINARY) -> Network:
    """The network written in ``home`` by :func:`init_network`."""
    path = home / "network.json"
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NodeError(
            f"no network at {home}: run `xietong network up` to create and start one."
        ) from None
    except (OSError, ValueError) as exc:
        raise NodeError(f"the network plan {path} cannot be read ({exc}).") from None
    return Network(
        home=home,
        chain_id=int(plan["chain_id"]),
        period=int(plan["period"]),
        members=tuple(Member(**m) for m in plan["members"]),
        genesis_signers=tuple(plan["genesis_signers"]),
        geth=geth,
    )


def init_network(network: Network) -> None:
    """Write the network into its home: plan, genesis, and per member its keystore, password,
    node key and config, then ``geth init``. Refuses a home that already holds a network."""
    geth_binary(network.geth)  # before anything is written: a missing geth says so first
    if (network.home / "network.json").exists():
        raise NodeError(
            f"a network already lives in {network.home}: `xietong network up` starts it; to "
            "begin anew, `xietong network down` and delete that folder."
        )
    for member in network.members:
        _dev_key(member.signer)  # every key found before anything is written
    if network.home.exists() and any(network.home.iterdir()):
        raise NodeError(
            f"{network.home} is not empty: a network is written into a folder of its own."
        )
    make_private_dir(network.home)
    try:
        (network.home / "genesis.json").write_text(
            json.dumps(genesis(network), indent=2) + "\n", encoding="utf-8"
        )
        for member in network.members:
            add_member_files(network, member)
        _save_plan(network)
    except BaseException:
        # Nothing half-written stays: the next `up` starts from an empty folder again.
        shutil.rmtree(network.home, ignore_errors=True)
        raise


def add_member_files(network: Network, member: Member) -> None:
    """One member's data directory: keystore of its signer (a development key), its password,
    node key, config; ``geth init`` of the network's genesis."""
    data = network.data_dir(member)
    if data.exists():
        raise NodeError(f"{data} exists already: a validator's files are written once.")
    make_private_dir(data)
    try:
        _write_member_files(network, member, data)
    except BaseException:
        shutil.rmtree(data, ignore_errors=True)  # a later attempt starts afresh
        raise


def _write_member_files(network: Network, member: Member, data: Path) -> None:
    password = secrets.token_urlsafe(24)
    _write_private(data / "password", password)
    # A light scrypt: the key is a development key, and geth decrypts any cost.
    keystore = Account.encrypt(_dev_key(member.signer), password, kdf="scrypt", iterations=2**12)
    make_private_dir(data / "keystore")
    _write_private(data / "keystore" / f"{member.signer[2:].lower()}.json", json.dumps(keystore))
    make_private_dir(data / "geth")
    _write_private(data / "geth" / "nodekey", member.node_key)
    (data / "config.toml").write_text(_config_toml(network, member), encoding="utf-8")
    done = subprocess.run(
        [
            str(geth_binary(network.geth)),
            "--datadir",
            str(data),
            "init",
            str(network.home / "genesis.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise NodeStartError(
            f"geth init failed for {member.code}: {(done.stderr or done.stdout).strip()[-500:]}"
        )


def geth_command(
    network: Network,
    member: Member,
    *,
    isolated: bool = False,
    sealing: bool = True,
    reach: Sequence[str] | None = None,
) -> list[str]:
    """The command line of ``member``'s validator; ``isolated``: with no peer at all (it seals
    alone, as one side of a network split does); not ``sealing``: a node that follows the
    chain without sealing (its key stays locked); ``reach``: the only hosts it connects with,
    either way (geth's ``--netrestrict``: one side of a split into groups)."""
    data = network.data_dir(member)
    # Not --mine: the validator begins sealing when told (miner_start on its IPC socket, by
    # start_member), once it has its peers and their chain.
    seal = [
        "--miner.etherbase", member.signer,
        "--unlock", member.signer,
        "--password", str(data / "password"),
        # geth refuses to unlock an account while HTTP RPC is on unless told. The unlocked key
        # then also signs what eth_sign, eth_signTransaction and eth_sendTransaction ask of it
        # (the eth namespace, which a gateway needs): so the RPC binds loopback only, and a
        # signer's account holds no funds and is no operator of any department (the founders
        # file refuses an account listed twice), so what it could sign moves nothing.
        "--allow-insecure-unlock",
    ]  # fmt: skip
    return [
        str(geth_binary(network.geth)),
        "--datadir", str(data),
        "--config", str(data / "config.toml"),
        "--networkid", str(network.chain_id),
        "--syncmode", "full",
        "--history.transactions", "0",
        "--nodiscover",
        "--nat", f"extip:{member.host}",
        "--http",
        "--http.addr", member.host,
        "--http.port", str(member.rpc_port),
        "--http.api", RPC_APIS,
        "--authrpc.addr", member.host,
        "--authrpc.port", str(member.authrpc_port),
        "--ipcpath", str(network.ipc_path(member)),
        *(seal if sealing else []),
        "--cache", "128",
        "--verbosity", "3",
        *(["--maxpeers", "0"] if isolated else []),
        # Inbound connections between loopback addresses come from 127.0.0.1 (the kernel's
        # source address), so it is let in; the dialer's own restriction keeps the groups apart.
        *(["--netrestrict", ",".join(f"{h}/32" for h in [*reach, "127.0.0.1"])] if reach else []),
    ]  # fmt: skip


def _running(network: Network, member: Member) -> int | None:
    pid = read_pid(network.pid_file(member))
    return pid if pid is not None and alive(pid) else None


def start_member(
    network: Network,
    member: Member,
    *,
    timeout: float = 60.0,
    isolated: bool = False,
    sealing: bool = True,
    reach: Sequence[str] | None = None,
) -> None:
    """Start ``member``'s validator, wait until its RPC answers and, if ``sealing``, until it
    has its peers and their chain, then let it seal (``isolated``: no peers, it seals at once;
    not ``sealing``: following the chain only, its key locked; ``reach``: peers on these hosts
    only). A validator that seals before it has its peers' chain seals a block the others
    also seal: right after a start every signer may seal at once (the head is old), and
    Clique's forks of equal weight can then stall the chain."""
    _launch(network, member, timeout=timeout, isolated=isolated, sealing=sealing, reach=reach)
    if sealing:
        _wait_until_caught_up(network, member, timeout=timeout)
        _begin_sealing(network, member, timeout=timeout)


def _launch(
    network: Network,
    member: Member,
    *,
    timeout: float,
    isolated: bool,
    sealing: bool,
    reach: Sequence[str] | None,
) -> None:
    """Spawn the validator (not sealing yet) and wait until its RPC answers."""
    pid = _running(network, member)
    if pid is not None:
        raise NodeError(f"{member.code}'s validator is already running (pid {pid}).")
    _check_ipc_path(network, member)  # TMPDIR may have changed since
    ensure_ipc_folder()
    for port in (member.rpc_port, member.p2p_port, member.authrpc_port):
        if port_taken(member.host, port):
            raise NodeError(
                f"port {port} on {member.host} is already in use: {member.code}'s validator "
                "cannot start there."
            )
    log_file = network.log_file(member)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            geth_command(network, member, isolated=isolated, sealing=sealing, reach=reach),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    network.pid_file(member).write_text(f"{process.pid}\n")
    network.start_file(member).write_text(
        json.dumps(
            {
                "isolated": isolated,
                "reach": list(reach) if reach is not None else None,
                "sealing": sealing,
            }
        )
    )
    try:
        wait_for_rpc(member.rpc_url, timeout=timeout, is_alive=lambda: process.poll() is None)
    except (requests.RequestException, OSError, ValueError) as exc:
        exited = process.poll() is not None
        if not exited:
            terminate(process.pid, grace=20.0)
        network.pid_file(member).unlink(missing_ok=True)
        network.start_file(member).unlink(missing_ok=True)
        tail = log_tail(log_file)
        reason = "exited during start-up" if exited else f"did not answer within {timeout:.0f} s"
        raise NodeStartError(
            f"{member.code}'s validator {reason}; see {log_file}" + (f":\n{tail}" if tail else ".")
        ) from exc


@dataclass(frozen=True)
class _StartedAs:
    """How a running validator was started, as :func:`_launch` recorded it."""

    isolated: bool = False
    reach: list[str] | None = None
    sealing: bool = True


def _started_as(network: Network, member: Member) -> _StartedAs:
    try:
        started = json.loads(network.start_file(member).read_text())
        return _StartedAs(bool(started["isolated"]), started["reach"], bool(started["sealing"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return _StartedAs()  # started before the file existed: as a full member


def _node_id(enode: str) -> str:
    return enode.removeprefix("enode://").split("@", 1)[0].lower()


@dataclass(frozen=True)
class _Head:
    """The head block a validator holds."""

    member: Member
    number: int
    hash: str
    total_difficulty: int  # Clique: 2 per in-turn block, 1 per other; the heaviest chain wins


def _head(member: Member) -> _Head:
    block = rpc(member.rpc_url, "eth_getBlockByNumber", ["latest", False], timeout=2)
    return _Head(
        member, int(block["number"], 16), str(block["hash"]), int(block["totalDifficulty"], 16)
    )


_UNANSWERED = (requests.RequestException, ValueError, NodeError, TypeError, KeyError)


def _wait_until_caught_up(network: Network, member: Member, *, timeout: float) -> None:
    """Return once ``member``'s validator is connected with every running validator it may
    reach, and its head's total difficulty is at least theirs (it holds the heaviest chain
    they hold). geth syncs from a heavier peer within about 10 s of its start (its forced sync
    cycle: blocks that peers propagate are dropped until a node synced once or seals).

    Heads of equal weight on different branches (a split healed after each side sealed as
    much) are settled by :func:`_settle_tie`: no validator syncs from a peer no heavier than
    itself, and each branch's next sealers may all be on the other. On a timeout the
    validator is stopped and NodeStartError says what it lacked."""
    started = _started_as(network, member)
    ipc = network.ipc_path(member)
    deadline = time.monotonic() + timeout
    limit = deadline + 2 * _SYNC_AFTER_START  # what settling a tie may add, at most
    while True:
        expected: dict[str, Member] = {}
        heads: list[_Head] = []
        if not started.isolated:
            for other in network.members:
                if other is member or _running(network, other) is None:
                    continue
                if started.reach is not None and other.host not in started.reach:
                    continue
                if _started_as(network, other).isolated:
                    continue  # an isolated validator takes no peer
                try:
                    heads.append(_head(other))
                except _UNANSWERED:
                    continue  # not answering (yet): not waited for
                expected[_node_id(other.enode)] = other
        try:
            peers = {_node_id(str(p["enode"])) for p in ipc_call(ipc, "admin_peers") or []}
            ours = _head(member)
        except _UNANSWERED:
            peers, ours = set(), None
        missing = [m.code for node, m in expected.items() if node not in peers]
        best = max((h.total_difficulty for h in heads), default=0)
        if not missing and ours is not None:
            if _settle_tie(network, [ours, *heads], timeout=timeout):
                deadline = min(limit, max(deadline, time.monotonic() + 2 * _SYNC_AFTER_START))
                continue
            if ours.total_difficulty >= best:
                break
        if time.monotonic() > deadline:
            stop_member(network, member)
            held = ours.total_difficulty if ours is not None else -1
            raise NodeStartError(
                f"{member.code}'s validator did not catch up with the running validators within "
                f"{timeout:.0f} s (not connected with: {', '.join(missing) or 'none'}; total "
                f"difficulty {held} of {best}), so it was stopped before sealing; see "
                f"{network.log_file(member)}."
            )
        time.sleep(0.1)


#: Seconds after its start before geth syncs from a peer however few it has (its forced sync
#: cycle).
_SYNC_AFTER_START = 10


def _settle_tie(network: Network, heads: Sequence[_Head], *, timeout: float) -> bool:
    """When the heaviest of ``heads`` are different blocks of equal total difficulty, pick
    one branch as geth's fork choice would (the lower head, then the lower hash), and move
    every validator on another branch that does not seal yet back to the block where the
    branches part (``debug_setHead`` on its IPC socket), then restart it so that it syncs
    the chosen branch. Validators already sealing are left alone: they follow once the chosen
    branch grows. Returns whether any validator was moved.

    A validator's answers are not trusted: a branch is only given up down to ⌊N/2⌋ blocks
    (N signers, as the validator moved holds them), the most a group of signers without a
    majority can seal after a split. So one that lies about its head (a heavier-looking
    branch that never meets ours) cannot make a validator drop more than a split could; a
    deeper parting is left alone."""
    tie = _tie(heads)
    if tie is None:
        return False
    chosen, others = tie
    moved = False
    for head in others:
        if _mining(head.member) is not False:
            continue
        deepest = len(signers(head.member.rpc_url)) // 2
        parted = _parting_block(head, chosen, deepest=deepest)
        if parted is None:
            continue
        ipc_call(network.ipc_path(head.member), "debug_setHead", [hex(parted)])
        started = _started_as(network, head.member)
        stop_member(network, head.member)
        _launch(
            network,
            head.member,
            timeout=timeout,
            isolated=started.isolated,
            sealing=started.sealing,
            reach=started.reach,
        )
        moved = True
    return moved


def _tie(heads: Sequence[_Head]) -> tuple[_Head, list[_Head]] | None:
    """When the heaviest of ``heads`` are different blocks of equal total difficulty: the
    head whose branch is chosen (the lower number, then the lower hash, as geth's fork choice
    prefers), and the heaviest heads on other branches. None when the heaviest agree."""
    best = max(h.total_difficulty for h in heads)
    leaders = [h for h in heads if h.total_difficulty == best]
    if len({h.hash for h in leaders}) < 2:
        return None
    chosen = min(leaders, key=lambda h: (h.number, h.hash))
    return chosen, [h for h in leaders if h.hash != chosen.hash]


def _parting_block(head: _Head, other: _Head, *, deepest: int) -> int | None:
    """The highest block number at which the validators of ``head`` and ``other`` hold the
    same block, looked for down to ``deepest`` blocks below ``head``; None when they part
    deeper (or ``other`` answers blocks that never match)."""
    number = min(head.number, other.number)
    while number >= max(0, head.number - deepest):
        ours = rpc(head.member.rpc_url, "eth_getBlockByNumber", [hex(number), False], timeout=2)
        theirs = rpc(other.member.rpc_url, "eth_getBlockByNumber", [hex(number), False], timeout=2)
        if ours["hash"] == theirs["hash"]:
            return number
        number -= 1
    return None


def _begin_sealing(network: Network, member: Member, *, timeout: float) -> None:
    """``miner_start`` on the validator's IPC socket: its signer seals from now on.

    geth unlocks the signer's key only after its RPC answers. Sealing asked for before that
    fails once ("authentication needed") and is not tried again until a new block arrives,
    which an isolated validator never gets: so first wait until the key signs (``eth_sign``
    on the socket). NodeStartError when it does not within ``timeout``."""
    ipc = network.ipc_path(member)
    deadline = time.monotonic() + timeout
    while True:
        try:
            ipc_call(ipc, "eth_sign", [member.signer, "0x00"])
            break
        except NodeError as exc:
            if time.monotonic() > deadline:
                raise NodeStartError(
                    f"{member.code}'s signer key was not unlocked within {timeout:.0f} s ({exc}); "
                    f"see {network.log_file(member)}."
                ) from None
        time.sleep(0.05)
    ipc_call(ipc, "miner_start")


def stop_member(network: Network, member: Member, *, kill: bool = False) -> bool:
    """Stop ``member``'s validator (``kill``: at once, as a crash would); False if none ran."""
    pid = _running(network, member)
    network.pid_file(member).unlink(missing_ok=True)
    network.start_file(member).unlink(missing_ok=True)
    if pid is None:
        return False
    terminate(pid, grace=20.0, sig=signal.SIGKILL if kill else signal.SIGTERM)
    return True


def start_network(network: Network, *, timeout: float = 60.0) -> None:
    """Start every validator not running yet: all of them, then each waits until it has its
    peers and their chain, and only then do they all begin sealing. One begun earlier would
    seal the next block alone, which the others, not sealing yet, drop when it is propagated
    (geth takes propagated blocks only once synced or sealing) and do not sync either (a
    block's sender is taken to hold only its parent): the one that sealed then waits for
    others, and nobody seals.

    A validator that runs, was started to seal and does not (a start that failed half-way)
    waits and begins with them. When one cannot catch up, those this call started are
    stopped again and NodeStartError says which."""
    stopped = [m for m in network.members if _running(network, m) is None]
    idle = [
        m
        for m in network.members
        if m not in stopped and _started_as(network, m).sealing and _mining(m) is False
    ]
    launched: list[Member] = []
    try:
        for member in stopped:
            _launch(network, member, timeout=timeout, isolated=False, sealing=True, reach=None)
            launched.append(member)
        for member in [*launched, *idle]:
            _wait_until_caught_up(network, member, timeout=timeout)
    except BaseException:
        for member in launched:
            stop_member(network, member)
        raise
    for member in [*launched, *idle]:
        _begin_sealing(network, member, timeout=timeout)


def _mining(member: Member) -> bool | None:
    """Whether the validator seals now (``eth_mining``); None when it does not answer."""
    try:
        return bool(rpc(member.rpc_url, "eth_mining", timeout=2))
    except _UNANSWERED:
        return None


def stop_network(network: Network) -> list[str]:
    """Stop every validator; the codes of those that ran."""
    return [m.code for m in network.members if stop_member(network, m)]


def rpc(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 5) -> Any:
    """One JSON-RPC request to a validator; NodeError when it answers an error."""
    response = requests.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []},
        timeout=timeout,
    )
    answer = response.json()
    if answer.get("error"):
        raise NodeError(f"{url} refused {method}: {answer['error'].get('message')}")
    return answer.get("result")


def member_status(network: Network, member: Member) -> MemberStatus:
    """Whether ``member``'s validator runs and answers, its head, peers and sealing right."""
    pid = _running(network, member)
    block = peers = None
    sealing = None
    try:
        block = int(rpc(member.rpc_url, "eth_blockNumber", timeout=2), 16)
        peers = int(rpc(member.rpc_url, "net_peerCount", timeout=2), 16)
        signers = rpc(member.rpc_url, "clique_getSigners", timeout=2) or []
        sealing = member.signer.lower() in {str(s).lower() for s in signers}
    except (requests.RequestException, ValueError, NodeError, TypeError):
        pass
    return MemberStatus(
        code=member.code,
        name=member.name,
        signer=member.signer,
        rpc_url=member.rpc_url,
        running=pid is not None,
        pid=pid,
        answering=block is not None,
        block_number=block,
        peers=peers,
        sealing=sealing,
        log_file=str(network.log_file(member)),
    )


def network_status(network: Network) -> list[MemberStatus]:
    return [member_status(network, m) for m in network.members]


def add_member(
    network: Network,
    *,
    code: str,
    name: str,
    signer: str,
    host: str,
    rpc_port: int = 8545,
    p2p_port: int = 30303,
    authrpc_port: int = 8551,
) -> Network:
    """A validator for a department that joined after genesis (admitted on chain): its files,
    the others as its static peers, and it among theirs (running validators learn of it when
    it dials them, the others at their next start). It seals only once
    the current signers vote it in (:func:`propose_signer`). Returns the network with it."""
    _check_member(code, name)
    if any(m.code == code for m in network.members):
        raise InputError(f"department {code} already runs a validator in the network.")
    if any(m.signer == signer for m in network.members):
        raise InputError(f"signer {signer} already seals for another validator of the network.")
    member = _new_member(
        code, name, signer, host, rpc_port=rpc_port, p2p_port=p2p_port, authrpc_port=authrpc_port
    )
    grown = replace(network, members=(*network.members, member))
    _check_ipc_path(grown, member)
    add_member_files(grown, member)
    _save_plan(grown)
    for other in network.members:  # the newcomer among their static peers from their next start
        replace_file(grown.data_dir(other) / "config.toml", _config_toml(grown, other))
    return grown


def propose_signer(network: Network, signer: str, *, authorize: bool) -> list[str]:
    """Vote on every running signer's validator to add (``authorize``) or drop ``signer``
    (``clique_propose``): each vote rides in that validator's next sealed blocks, and the change
    takes effect once a majority of the current signers voted. The codes that voted."""
    voted = []
    for status in network_status(network):
        if status.answering and status.sealing and status.signer != signer:
            rpc(status.rpc_url, "clique_propose", [signer, authorize])
            voted.append(status.code)
    return voted


@dataclass(frozen=True)
class SignerVote:
    """A vote :func:`cast_votes` cast: add or drop ``signer``, and which validators voted."""

    code: str
    signer: str
    authorize: bool
    voted_by: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "signer": self.signer,
            "vote": "add" if self.authorize else "drop",
            "voted_by": list(self.voted_by),
        }


def cast_votes(network: Network, client: ChainClient) -> list[SignerVote]:
    """Make the signer set follow the consortium's governance on chain: a member whose
    department is active (admitted, or readmitted) is voted in, one whose department is
    suspended (or was never admitted) is voted out, by every running signer's validator.

    A proposal that the signer set already satisfies is discarded on every validator: Clique
    keeps a proposal until it is discarded, and one left behind would undo a later change (an
    "add" left standing would vote a suspended department's signer back in)."""
    answering = [s for s in network_status(network) if s.answering]
    if not answering:
        raise NodeError(f"no validator of the network at {network.home} answers.")
    current = set(signers(answering[0].rpc_url))
    votes = []
    for member in network.members:
        try:
            active = read_department(client, department_id(member.code)).status == (
                DepartmentStatus.ACTIVE
            )
        except ContractRevertError:  # a department the registry does not know
            active = False
        if active != (member.signer in current):
            voters = propose_signer(network, member.signer, authorize=active)
            votes.append(SignerVote(member.code, member.signer, active, tuple(voters)))
            continue
        for status in answering:
            proposals = rpc(status.rpc_url, "clique_proposals") or {}
            if member.signer.lower() in {str(a).lower() for a in proposals}:
                rpc(status.rpc_url, "clique_discard", [member.signer])
    return votes


def signers(url: str) -> list[str]:
    """The signer set a validator holds now (checksummed, ascending)."""
    return sorted(to_checksum_address(s) for s in rpc(url, "clique_getSigners") or [])


def sealer(url: str, number: int) -> str:
    """The signer that sealed block ``number``, as the validator at ``url`` recovers it."""
    return str(to_checksum_address(rpc(url, "clique_getSigner", [hex(number)])))
