"""PostgreSQL restarted under load: a real ``xietong serve`` (background indexer running) over a
private PostgreSQL cluster, steady verify and list traffic, and the cluster crashed
(``pg_ctl stop -m immediate``), then started again. While it is down every answer is 503
problem JSON ``database-unavailable`` within a bound (never a 500, never a hang) and
``/readyz`` says the database is unreachable; afterwards the API answers again by itself and
the indexer resumes from its checkpoint: chain activity of the outage and after is indexed,
the checkpoint never went backwards, no event was indexed twice or rewritten.

The cluster is the test's own (tests/pgcluster.py): the shared server is never stopped."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from eth_utils import keccak
from sqlmodel import Session

from ledger.anchoring import prepare_hashes
from ledger.apikeys import create_api_key
from ledger.db.engine import PG_CONNECT_TIMEOUT
from ledger.gateway import Gateway
from ledger.ids import code_hash
from ledger.keys import dev_account
from tests.api._serving import Served
from tests.api._support import (
    CIVIL,
    CIVIL_DEV,
    DIBAO,
    PROBLEM,
    Api,
    World,
    assert_problem,
    dataset_of,
    keep_demo_descriptions,
)
from tests.netfault import TcpProxy
from tests.pgcluster import PgCluster, private_cluster
from tests.support import fresh_database

pytestmark = pytest.mark.timeout(150)

ANSWER_BOUND = 5.0  # seconds any request may take, database up or down
RECOVERY_BOUND = 20.0  # seconds after the database is back before the API answers 200 again
OUTAGE = 3.0  # seconds the database stays down under load
WORKERS = 3  # threads sending requests


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    """A private PostgreSQL cluster, stopped and removed after the test whatever happens."""
    with private_cluster() as started:
        yield started


@dataclass
class Answer:
    route: str
    began: float
    ended: float
    status: int | None  # None: no HTTP answer (transport error)
    content_type: str
    problem: str | None  # problem ``type`` of an error answer
    error: str | None = None


class Load:
    """Threads asking GET /v1/verify?hash=… and GET /v1/datasets steadily, every answer kept."""

    def __init__(self, url: str, key: str, digest: str) -> None:
        self.url, self.key, self.digest = url, key, digest
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(WORKERS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=ANSWER_BOUND * 3)

    def _run(self, worker: int) -> None:
        routes = [("/v1/verify", {"hash": self.digest}), ("/v1/datasets", {"limit": "5"})]
        with httpx.Client(
            base_url=self.url, headers={"X-API-Key": self.key}, timeout=ANSWER_BOUND * 2
        ) as http:
            turn = worker
            while not self._stop.is_set():
                route, params = routes[turn % len(routes)]
                turn += 1
                began = time.monotonic()
                try:
                    response = http.get(route, params=params)
                except httpx.TransportError as exc:
                    answer = Answer(route, began, time.monotonic(), None, "", None, repr(exc))
                else:
                    kind = None
                    if response.status_code != 200:
                        try:
                            kind = response.json().get("type")
                        except ValueError:
                            kind = f"not JSON: {response.text[:200]}"
                    answer = Answer(
                        route,
                        began,
                        time.monotonic(),
                        response.status_code,
                        response.headers.get("content-type", ""),
                        kind,
                    )
                with self._lock:
                    self.answers.append(answer)
                time.sleep(0.02)

    def between(self, start: float, end: float) -> list[Answer]:
        """Answers to requests sent at or after ``start`` and answered by ``end``."""
        with self._lock:
            return [a for a in self.answers if a.began >= start and a.ended <= end]


def _events(url: str) -> list[tuple[int, int, int, str]]:
    """(id, block, log index, tx hash) of every indexed event, in chain order."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT id, block_number, log_index, tx_hash FROM chain_event "
            "ORDER BY block_number, log_index"
        ).fetchall()
    return [(int(i), int(b), int(x), str(t)) for i, b, x, t in rows]


def _checkpoint(url: str) -> tuple[int, str]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT block_number, block_hash FROM indexer_checkpoint").fetchone()
    assert row is not None, "no checkpoint"
    return int(row[0]), str(row[1])


def _chain_logs(chain: World, from_block: int, to_block: int) -> list[tuple[int, int, str]]:
    """(block, log index, tx hash) of every log of the deployment's contracts in the range."""
    client = chain.client
    logs = client.w3.eth.get_logs(
        {
            "fromBlock": from_block,
            "toBlock": to_block,
            "address": [c.address for c in client.contracts.values()],
        }
    )
    return sorted(
        (int(log["blockNumber"]), int(log["logIndex"]), log["transactionHash"].to_0x_hex())
        for log in logs
    )


def _register(chain: World, code: str) -> int:
    """Register dataset ``code`` as 杭州市民政局 on the chain; the block it was mined in."""
    sent = chain.client.transact(
        "DatasetRegistry",
        "registerDataset",
        code_hash(code),
        keccak(text=code),
        sender=dev_account(CIVIL_DEV),
    )
    return sent.block_number


def test_postgresql_restarted_under_load(chain: World, cluster: PgCluster, tmp_path: Path) -> None:
    url = cluster.create_database(f"xt_restart_{uuid.uuid4().hex[:8]}")
    # The demo chain indexed into the private cluster, and a read key, before serving.
    gateway = Gateway(chain.settings(database_url=url))
    gateway.indexer().sync()
    # A version anchored by this gateway, so its leaf store answers /v1/verify.
    digest = "0x" + hashlib.sha256(f"restart {uuid.uuid4()}".encode()).hexdigest()
    leaves = [(bytes.fromhex(digest[2:]), "restart/notice.pdf")]
    batch = gateway.anchorer().anchor(
        prepare_hashes(leaves, dataset_of(CIVIL, DIBAO), source="restart")
    )
    assert batch.status == "confirmed", batch
    gateway.indexer().sync()
    deployed_at = gateway.deployment.block_number
    with Session(gateway.engine) as session:
        _, key = create_api_key(session=session, name="restart test", scope="read")
    gateway.engine.dispose()
    during, after = f"HZ-MZ-OUTAGE-{uuid.uuid4().hex[:6]}", f"HZ-MZ-AFTER-{uuid.uuid4().hex[:6]}"

    served = Served(chain, url, tmp_path)
    try:
        http = httpx.Client(base_url=served.url, headers={"X-API-Key": key}, timeout=ANSWER_BOUND)
        served.eventually("/readyz", lambda: http.get("/readyz").status_code == 200)
        before_events = _events(url)
        before_checkpoint = _checkpoint(url)
        indexed_blocks: list[int] = []

        def ready() -> httpx.Response:
            response = http.get("/readyz")
            block = response.json()["index"]["block_number"]
            if block is not None:
                indexed_blocks.append(block)
            return response

        with Load(served.url, key, digest) as load:
            time.sleep(1.5)
            warm = load.between(0, time.monotonic())
            assert warm and all(a.status == 200 for a in warm), warm[:5]
            assert ready().status_code == 200

            crashed = time.monotonic()
            cluster.stop("immediate")  # a crash: no checkpoint, clients cut off
            down = time.monotonic()
            # Chain activity while the index cannot be written: indexed once it is back.
            outage_block = _register(chain, during)
            not_ready = ready()
            assert not_ready.status_code == 503, not_ready.text
            body = not_ready.json()
            assert body["ready"] is False
            assert body["database"] == {"reachable": False, "error": "OperationalError"}
            assert body["node"]["reachable"] is True
            time.sleep(OUTAGE)
            restarting = time.monotonic()
            cluster.start()
            back = time.monotonic()

            def answering() -> bool:
                recent = load.between(time.monotonic() - 1.0, time.monotonic())
                return bool(recent) and all(a.status == 200 for a in recent)

            served.eventually("answers again", answering, patience=RECOVERY_BOUND)
            recovered = time.monotonic()
            time.sleep(0.5)
        finished = time.monotonic()

        answers = load.between(0, finished)
        # Never a 500 or a hang, database up or down: 200, or 503 database-unavailable.
        for answer in answers:
            assert answer.ended - answer.began < ANSWER_BOUND, answer
            assert answer.status in (200, 503), answer
            if answer.status == 503:
                assert answer.content_type == PROBLEM, answer
                assert answer.problem == "urn:xietong:problem:database-unavailable", answer
        outage = load.between(down, restarting)
        assert len(outage) >= 2 * WORKERS, f"too little load during the outage: {outage}"
        assert {a.status for a in outage} == {503}, outage
        assert {a.route for a in outage} == {"/v1/verify", "/v1/datasets"}
        assert any(a.status == 503 for a in load.between(crashed, finished))
        assert recovered - back < RECOVERY_BOUND
        settled = load.between(recovered, finished)
        assert settled and all(a.status == 200 for a in settled), settled

        assert ready().status_code == 200
        # The indexer thread survived the outage and resumes from its checkpoint: the block of
        # the outage, then one sent now.
        after_block = _register(chain, after)
        for code in (during, after):
            served.eventually(
                f"dataset {code} indexed",
                lambda c=code: http.get(f"/v1/datasets/{c}").status_code == 200,  # type: ignore[misc]
            )
        checkpoint = _checkpoint(url)
        assert checkpoint[0] >= after_block > outage_block > before_checkpoint[0]
        ready()
        assert indexed_blocks == sorted(indexed_blocks), "the checkpoint went backwards"
        events = _events(url)
        # Every log of the chain up to the checkpoint exactly once, the rows indexed before the
        # outage untouched (same ids: resumed, not reindexed), the new ones after them.
        assert [(b, x, t) for _, b, x, t in events] == _chain_logs(
            chain, deployed_at, checkpoint[0]
        )
        assert events[: len(before_events)] == before_events
        new = events[len(before_events) :]
        assert {b for _, b, _, _ in new} >= {outage_block, after_block}
        assert min(i for i, _, _, _ in new) > max(i for i, _, _, _ in before_events)
        http.close()
    finally:
        code = served.stop()
    log = served.text()
    assert code == 0, log
    assert "Traceback" not in log and "Exception in thread" not in log, log


def _set_read_only(cluster: PgCluster, url: str, read_only: bool) -> None:
    """Make the gateway's database refuse writes (as a standby does) or accept them again, for
    new sessions and, by cutting the open ones off, for the gateway's pooled connections."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(cluster.url(), autocommit=True, connect_timeout=5) as conn:
        setting = "on" if read_only else "off"
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {setting}')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


def test_the_indexer_outlives_a_database_that_refuses_writes(
    chain: World, cluster: PgCluster, tmp_path: Path
) -> None:
    """A database that answers but refuses writes for a while (a failover onto a standby, a
    full disk): not an outage the indexer expected. Reads keep answering 200, the background
    indexer keeps trying (it logs the error's kind, no traceback) and indexes the chain
    activity of that time once writes are accepted again."""
    url = cluster.create_database(f"xt_readonly_{uuid.uuid4().hex[:8]}")
    gateway = Gateway(chain.settings(database_url=url))
    gateway.indexer().sync()
    keep_demo_descriptions(gateway.engine)
    with Session(gateway.engine) as session:
        _, key = create_api_key(session=session, name="read-only test", scope="read")
        _, anchor_key = create_api_key(session=session, name="read-only writer", scope="anchor")
    gateway.engine.dispose()
    refused, accepted = f"HZ-MZ-RO-{uuid.uuid4().hex[:6]}", f"HZ-MZ-RW-{uuid.uuid4().hex[:6]}"
    served = Served(chain, url, tmp_path)
    try:
        http = httpx.Client(base_url=served.url, headers={"X-API-Key": key}, timeout=ANSWER_BOUND)
        served.eventually("/readyz", lambda: http.get("/readyz").status_code == 200)
        _set_read_only(cluster, url, True)
        refused_block = _register(chain, refused)
        served.eventually(
            "the indexer to fail a pass", lambda: "index pass failed" in served.text(), patience=20
        )
        assert http.get("/v1/datasets", params={"limit": "5"}).status_code == 200
        assert http.get(f"/v1/datasets/{refused}").status_code == 404
        assert _checkpoint(url)[0] < refused_block
        leaf = {"content_hash": "0x" + "cd" * 32, "name": "read-only.pdf"}
        write = http.post(
            "/v1/anchors",
            headers={"X-API-Key": anchor_key},
            json={"dataset": DIBAO, "leaves": [leaf]},
        )
        assert write.status_code == 503 and write.headers["content-type"] == PROBLEM, write.text
        assert write.json()["type"] == "urn:xietong:problem:database-unavailable"
        assert write.json()["detail"] == "the database accepts no writes now."
        _set_read_only(cluster, url, False)
        accepted_block = _register(chain, accepted)
        for code in (refused, accepted):
            served.eventually(
                f"dataset {code} indexed",
                lambda c=code: http.get(f"/v1/datasets/{c}").status_code == 200,  # type: ignore[misc]
                patience=30,
            )
        assert _checkpoint(url)[0] >= accepted_block
        http.close()
    finally:
        code = served.stop()
    log = served.text()
    assert code == 0, log
    assert "Traceback" not in log and "Exception in thread" not in log, log
    assert "index pass failed: InternalError" in log, log


def test_a_silent_database_is_answered_503_within_a_bound(
    chain: World, make_api: Callable[..., Api]
) -> None:
    """A database server that accepts connections and never answers (hung, or a route
    dropped): requests answer 503 database-unavailable after the connect timeout instead of
    waiting forever, /readyz says so, and everything answers again once it is back. The
    gateway reaches the shared server through a TCP proxy cut for it alone."""
    with (
        fresh_database("postgresql", Path(), prefix="xt_silent") as direct,
        contextlib.closing(TcpProxy(5432)) as proxy,
    ):
        api = make_api(chain.settings(database_url=direct.replace(":5432/", f":{proxy.port}/")))
        api.sync()
        assert api.ok("/v1/datasets")["items"]
        proxy.blackhole()

        def timed(url: str) -> tuple[float, httpx.Response]:
            """GET ``url``; a hang fails here (the request's thread is left behind, a daemon)."""
            began, got = time.monotonic(), []
            thread = threading.Thread(target=lambda: got.append(api.get(url)), daemon=True)
            thread.start()
            thread.join(timeout=3 * PG_CONNECT_TIMEOUT)
            assert got, f"GET {url} did not answer in {3 * PG_CONNECT_TIMEOUT} s"
            return time.monotonic() - began, got[0]

        took, answer = timed("/v1/datasets")
        assert_problem(answer, 503, "database-unavailable")
        assert took < PG_CONNECT_TIMEOUT + ANSWER_BOUND, took
        took, ready = timed("/readyz")
        assert ready.status_code == 503 and ready.json()["database"]["reachable"] is False
        assert took < PG_CONNECT_TIMEOUT + ANSWER_BOUND, took
        proxy.restore()
        assert api.ok("/v1/datasets")["items"]
        assert api.client.get("/readyz").status_code == 200
