"""``GET /v1/verify`` answers kept per process (api/answer_cache.py) are served again only
while the index's checkpoint, the chain's head and its time stay where they were: a version
revoked, or the same file anchored in a new version, shows in the very next answer once a real
indexer pass has committed it, on SQLite and PostgreSQL (the checkpoint read over psycopg's
asynchronous connection there)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ledger.db.engine import CHECKPOINT_TRIGGERS, CHECKPOINT_TRIGGERS_PRESENT, init_db
from ledger.gateway import Gateway
from ledger.verify._generation import WATCHER_NAME, PostgresGeneration
from tests.api._support import CIVIL, DIBAO, POLICY, Api, World, dataset_of, wait_until
from tests.api.test_reads import RULES, file_leaf, policy_file
from tests.api.test_writes import flush
from tests.support import fresh_database


def _anchor(writer: Api, dataset: str, leaves: list[dict[str, str]]) -> None:
    submitted = writer.post(
        "/v1/anchors", scope="anchor", json={"dataset": dataset, "leaves": leaves}
    )
    assert submitted.status_code == 202, submitted.text
    assert flush(writer) == [submitted.json()["batch_id"]]


def test_kept_answers_follow_the_index_at_once(writer: Api, chain: World) -> None:
    state = writer.state
    # The chain's head kept for an hour: from here on only the index's checkpoint can tell
    # a kept answer from a new one.
    state.__dict__["verifier"] = state.gateway.verifier(head_ttl=3600.0)
    digest = "0x" + hashlib.sha256(b"%PDF notice kept").hexdigest()
    leaf = {"content_hash": digest, "name": "2026/11/通知-kept.pdf"}
    _anchor(writer, POLICY, [leaf])
    writer.sync()
    query = {"hash": digest, "with_proof": "true"}

    first = writer.get("/v1/verify", params=query)
    assert first.status_code == 200 and first.json()["status"] == "anchored"
    # The first answer finds the version final on chain; from the second on it is kept.
    second = writer.get("/v1/verify", params=query)
    assert second.content == first.content
    key = (bytes.fromhex(digest[2:]), True)
    kept = state.answers.get(key)
    assert kept is not None and kept[1] == second.content
    # What is kept is what is served while the stamp holds (the same bytes, no new answer).
    marked = kept[1].replace(b'"anchored":true', b'"anchored":true ', 1)
    state.answers.put(key, kept[0], marked)
    assert writer.get("/v1/verify", params=query).content == marked
    # Another question is another entry.
    assert writer.ok("/v1/verify", params={"hash": digest})["status"] == "anchored"

    # A revocation indexed: the next answer shows it.
    root = first.json()["matches"][0]["version"]["root"]
    chain.revoke_policy_version(root)
    writer.sync()
    revoked = writer.ok("/v1/verify", params=query)
    assert revoked["status"] == "revoked" and revoked["anchored"] is False
    assert revoked["matches"][0]["version"]["revoked_at"] is not None
    assert writer.ok("/v1/verify", params=query) == revoked  # kept again, as revoked

    # The same file in a new version (another dataset) indexed: the next answer has it.
    _anchor(writer, DIBAO, [{**leaf, "name": "附件/通知-kept.pdf"}])
    writer.sync()
    again = writer.ok("/v1/verify", params=query)
    assert again["status"] == "anchored" and again["anchored"] is True
    assert [m["version"]["dataset_id"] for m in again["matches"]] == [
        "0x" + dataset_of(CIVIL, DIBAO).hex(),
        "0x" + dataset_of(CIVIL, POLICY).hex(),
    ]
    assert again["index"]["block_number"] > revoked["index"]["block_number"]


def test_no_answer_is_kept_when_the_cache_is_off(world: World, make_api: Any) -> None:
    api = make_api(world.settings(api_answer_cache_mib=0))
    digest, _leaf = file_leaf(policy_file(world), RULES)
    answers = [api.get("/v1/verify", params={"hash": digest}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["status"] == "anchored"
    assert len(api.state.answers) == 0


# ---------------------------------------------------------------- PostgreSQL: the generation kept
# On PostgreSQL each API process keeps the index's generation while a connection LISTENs for
# the checkpoint's moves (ledger/verify/_generation.py): a kept answer then costs no round
# trip. Another gateway's indexer (its own engine: as another process) is learnt from the
# announcement; this gateway's own indexer makes it forget at once.


@pytest.fixture
def pg_writer(chain: World, tmp_path: Path, make_api: Any) -> Iterator[Api]:
    """The writer's gateway over a fresh PostgreSQL database."""
    with fresh_database("postgresql", tmp_path) as url:
        api = make_api(chain.settings(database_url=url))
        api.sync()
        yield api


def _kept_answer(api: Api) -> tuple[dict[str, str], str]:
    """A file anchored and indexed, its answer kept; (query, root of its version)."""
    state = api.state
    state.__dict__["verifier"] = state.gateway.verifier(head_ttl=3600.0)
    digest = "0x" + hashlib.sha256(b"%PDF notice watched").hexdigest()
    _anchor(api, POLICY, [{"content_hash": digest, "name": "2026/12/通知-watched.pdf"}])
    api.sync()
    query = {"hash": digest, "with_proof": "true"}
    first = api.ok("/v1/verify", params=query)
    assert first["status"] == "anchored"
    # The first answer finds the version final; the second is kept; the third is the kept
    # one, whose stamp is checked (the first look at the generation starts the watcher).
    assert api.ok("/v1/verify", params=query) == first
    assert api.ok("/v1/verify", params=query) == first
    return query, first["matches"][0]["version"]["root"]


def _generation_of(api: Api) -> PostgresGeneration:
    return api.state.verifier.index._postgres


def _counting_reads(watched: PostgresGeneration, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The statements ``watched`` sends to the database from here on (the list grows)."""
    reads: list[object] = []
    fetch = watched.fetch

    async def counted(*args: Any, **kwargs: Any) -> list[Any]:
        reads.append(args)
        return await fetch(*args, **kwargs)

    monkeypatch.setattr(watched, "fetch", counted)
    return reads


def test_a_lost_announcement_costs_at_most_the_kept_interval(pg_writer: Api, chain: World) -> None:
    """Announcements that never arrive (a trigger disabled after the watch began, a pooler
    dropping notifications): the kept generation is read again within KEPT_AT_MOST seconds,
    so a revocation shows all the same."""
    query, root = _kept_answer(pg_writer)
    watched = _generation_of(pg_writer)
    wait_until(lambda: watched.watching, "watching the checkpoint")
    with pg_writer.state.gateway.engine.begin() as connection:  # silenced under the watch
        for name, table in CHECKPOINT_TRIGGERS.items():
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {name}"))
    chain.revoke_policy_version(root)
    Gateway(pg_writer.state.settings).indexer().sync()  # another gateway's: no forgetting
    moved_at = time.monotonic()

    def revoked() -> bool:
        return pg_writer.ok("/v1/verify", params=query)["status"] == "revoked"

    wait_until(revoked, "revoked in the answer", seconds=PostgresGeneration.KEPT_AT_MOST + 10)
    # Bounded by the interval (and the time a read takes), not by chance: a generous margin.
    assert time.monotonic() - moved_at < PostgresGeneration.KEPT_AT_MOST + 5


def test_projections_dropped_by_another_gateways_start_are_announced(
    pg_writer: Api, chain: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release that changed a projection's columns drops them all at its start (DROP TABLE
    fires no trigger): the drop is announced, so no answer is kept from the index that was."""
    monkeypatch.setattr(PostgresGeneration, "KEPT_AT_MOST", 3600.0)  # only an announcement
    query, _root = _kept_answer(pg_writer)
    watched = _generation_of(pg_writer)
    wait_until(lambda: watched.watching, "watching the checkpoint")
    engine = pg_writer.state.gateway.engine
    with engine.begin() as connection:  # what an older release's table looks like
        connection.execute(text("ALTER TABLE chain_event ADD COLUMN from_another_release int"))
    another = Gateway(pg_writer.state.settings).engine  # its start: init_db drops, remakes
    another.dispose()

    def not_kept() -> bool:  # the emptied index knows no version
        return pg_writer.get("/v1/verify", params=query).status_code == 404

    wait_until(not_kept, "an answer from the emptied index")
    pg_writer.sync()  # indexed again: anchored again
    assert pg_writer.ok("/v1/verify", params=query)["status"] == "anchored"


def test_another_indexers_move_reaches_kept_answers_when_announced(
    pg_writer: Api, chain: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PostgresGeneration, "KEPT_AT_MOST", 3600.0)  # only an announcement
    query, root = _kept_answer(pg_writer)
    watched = _generation_of(pg_writer)
    wait_until(lambda: watched.watching, "watching the checkpoint")
    reads = _counting_reads(watched, monkeypatch)
    assert pg_writer.ok("/v1/verify", params=query)["status"] == "anchored"  # kept, no read
    assert reads == []  # the stamp checked against the generation kept: no round trip

    chain.revoke_policy_version(root)
    Gateway(pg_writer.state.settings).indexer().sync()  # not this gateway's: no forgetting

    def revoked() -> bool:
        return pg_writer.ok("/v1/verify", params=query)["status"] == "revoked"

    wait_until(revoked, "revoked in the answer (the announcement did not arrive)")
    wait_until(lambda: watched.watching, "watching again")


def test_this_gateways_indexer_is_followed_at_once_without_announcements(
    pg_writer: Api, chain: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The watcher hears no announcement: only this gateway's own indexer makes it forget.
    async def until_forgotten(self: PostgresGeneration, connection: Any) -> bool:
        while self.watching:
            await asyncio.sleep(0.01)
        return True

    monkeypatch.setattr(PostgresGeneration, "_until_moved", until_forgotten)
    query, root = _kept_answer(pg_writer)
    wait_until(lambda: _generation_of(pg_writer).watching, "watching the checkpoint")
    chain.revoke_policy_version(root)
    pg_writer.sync()
    assert pg_writer.ok("/v1/verify", params=query)["status"] == "revoked"


@pytest.mark.parametrize("how", ["DROP TRIGGER {} ON", "ALTER TABLE {} DISABLE TRIGGER"])
@pytest.mark.parametrize("missing", CHECKPOINT_TRIGGERS)
def test_nothing_is_kept_where_moves_are_not_announced(
    pg_writer: Api, chain: World, missing: str, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One trigger gone or disabled is enough: some moves (an update, a reindex's delete, a
    # truncate) would go unannounced.
    engine = pg_writer.state.gateway.engine
    table = CHECKPOINT_TRIGGERS[missing]
    statement = (
        f"DROP TRIGGER {missing} ON {table}"
        if how.startswith("DROP")
        else f"ALTER TABLE {table} DISABLE TRIGGER {missing}"
    )
    with engine.begin() as connection:
        connection.execute(text(statement))
    query, root = _kept_answer(pg_writer)
    watched = _generation_of(pg_writer)
    # The watcher looked, found a trigger missing and stopped (not merely not started yet).
    wait_until(lambda: watched._watcher is not None and watched._watcher.done(), "stopped")
    reads = _counting_reads(watched, monkeypatch)
    for _ in range(20):  # reads ask the database, each time
        assert pg_writer.ok("/v1/verify", params=query)["status"] == "anchored"
        assert not watched.watching
    assert len(reads) >= 20
    chain.revoke_policy_version(root)
    Gateway(pg_writer.state.settings).indexer().sync()
    assert pg_writer.ok("/v1/verify", params=query)["status"] == "revoked"  # at once


def test_a_broken_watch_forgets_and_watches_again(
    pg_writer: Api, chain: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    query, root = _kept_answer(pg_writer)
    monkeypatch.setattr(PostgresGeneration, "KEPT_AT_MOST", 3600.0)  # only an announcement
    watched = _generation_of(pg_writer)
    wait_until(lambda: watched.watching, "watching the checkpoint")
    with pg_writer.state.gateway.engine.begin() as connection:
        ended = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": WATCHER_NAME},
        ).all()
    assert [row[0] for row in ended] == [True]
    wait_until(lambda: not watched.watching, "forgotten after the watch broke", seconds=5.0)
    with pytest.MonkeyPatch.context() as counting:
        reads = _counting_reads(watched, counting)
        assert pg_writer.ok("/v1/verify", params=query)["status"] == "anchored"  # read meanwhile
        assert reads != []  # from the database: nothing kept while the watch is down
    wait_until(lambda: watched.watching, "watching again")

    chain.revoke_policy_version(root)
    Gateway(pg_writer.state.settings).indexer().sync()

    def revoked() -> bool:
        return pg_writer.ok("/v1/verify", params=query)["status"] == "revoked"

    wait_until(revoked, "revoked in the answer after the watch came back")


def _answers_made(api: Api) -> dict[str, int]:
    counts = {}
    for line in api.get("/metrics", scope="read").text.splitlines():
        if line.startswith('xietong_verify_answers_total{made="'):
            labels, _, value = line.rpartition(" ")
            counts[labels.split('"')[1]] = int(float(value))
    return counts


def test_metrics_count_how_answers_were_made(world: World, make_api: Any) -> None:
    api = make_api(world.settings())
    digest, _leaf = file_leaf(policy_file(world), RULES)
    before = _answers_made(api)
    assert set(before) == {"kept", "loop", "thread"}
    for _ in range(5):
        assert api.ok("/v1/verify", params={"hash": digest})["status"] == "anchored"
    after = _answers_made(api)
    made = {way: after[way] - before[way] for way in after}
    # The first answers are made (the verifier built on a thread, the version found final),
    # then the one kept is served.
    assert sum(made.values()) == 5
    assert made["kept"] >= 2
    assert made["thread"] >= 1


def test_a_gateway_starting_makes_a_missing_trigger_again(pg_writer: Api) -> None:
    engine = pg_writer.state.gateway.engine

    def present() -> int:
        with engine.connect() as connection:
            count = connection.exec_driver_sql(
                CHECKPOINT_TRIGGERS_PRESENT, {"names": list(CHECKPOINT_TRIGGERS)}
            ).scalar()
        return int(count or 0)

    assert present() == len(CHECKPOINT_TRIGGERS) == 5
    for name, table in CHECKPOINT_TRIGGERS.items():  # each table's, one at a time
        with engine.begin() as connection:
            connection.execute(text(f"DROP TRIGGER {name} ON {table}"))
        assert present() == 4
        init_db(engine)
        assert present() == 5
