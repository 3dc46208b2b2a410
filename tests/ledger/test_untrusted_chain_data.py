"""Chain data is untrusted input (issue 12): no bytes in an event — invalid UTF-8, NUL, lone
surrogates, terminal escapes, bidi and zero-width characters, confusable letters, the longest
names — stop or corrupt the index, on Hardhat and Anvil, SQLite and PostgreSQL.

The contract refuses the worst names on chain (not UTF-8, control characters, bidi overrides);
what it still accepts is sent through real contract calls, and what it refuses is fed to the
decoder and the indexer as raw ``eth_getLogs`` entries (and sent anyway, through a proposal
kind whose name the contract does not check, when it lets it through)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger.db.engine import create_db_engine
from ledger.db.tables import ApiKey, DepartmentRow, IndexerCheckpoint, ProposalRow
from ledger.display import (
    decode_text,
    display_name,
    raw_hex,
    skeleton,
    split_flags,
    text_flags,
    visible,
)
from ledger.errors import ContractRevertError
from ledger.events import LogDecoder, UndecodableLogError, canonical_type
from ledger.indexer import Indexer
from tests.hostile import (
    ACCEPTED_HOSTILE_NAMES,
    ADMIT,
    GRANT_AUDITOR,
    HOSTILE_BYTES,
    NAME_REFUSALS,
    Members,
    admit_names,
    assert_index_matches_chain,
    fresh_account,
)
from tests.ledger.test_indexer import activity, dump
from tests.support import Consortium

LONG_NAME = ("杭州市" * 1200).encode() + b"\xff"  # 10 KB and one bad byte
ADDRESS = "0x" + "ab" * 20


# --------------------------------------------------------------------------- display


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        ("杭州市公安局", []),
        ("杭州市公安局（西湖分局）", []),
        ("Hangzhou Public Security Bureau", []),
        ("杭州市公安局\u200b", ["zero-width"]),
        ("\u200f杭州市民政局", ["bidi"]),
        ("abc\u202edcba", ["bidi"]),
        ("a\x1b[31mb", ["control"]),
        ("a\u2028b", ["control"]),
        ("Pаypal", ["confusable"]),  # Cyrillic а
        ("⼈民政府", ["confusable"]),  # Kangxi radical ⼈
        ("ＩＴ局", ["confusable"]),  # fullwidth letters
        ("e\u0301", ["confusable"]),  # decomposed é
        ("\ue000局", ["confusable"]),  # private use
        ("\u3164", ["zero-width", "confusable"]),  # blank letter, nothing readable
    ],
)
def test_name_flags_say_what_a_reader_must_be_warned_of(name: str, flags: list[str]) -> None:
    assert text_flags(name) == flags


def test_invalid_utf8_and_nul_are_flagged_from_the_bytes_kept() -> None:
    raw = b"\xff\x00ok"
    name = decode_text(raw)
    assert name == "\ufffd\ufffdok"
    assert text_flags(name, raw_hex(raw, name))[:2] == ["invalid-utf8", "control"]


def test_visible_text_escapes_what_cannot_be_seen_and_cannot_be_faked() -> None:
    assert visible("杭州市公安局") == "杭州市公安局"
    assert visible("a\u202eb\u200bc\x00") == "a\\u202eb\\u200bc\\u0000"
    assert visible("\U000e0041") == "\\U000e0041"  # a tag character
    assert visible("a\\u202e") == "a\\\\u202e"  # a typed escape is not an escape
    assert display_name("x\u200b", ["zero-width"], "0x" + "11" * 32) == (
        "x\\u200b [0x" + "11" * 32 + "]"
    )
    assert display_name("杭州市公安局", [], "0x" + "11" * 32) == "杭州市公安局"


def test_lookalike_names_share_a_skeleton() -> None:
    founder = skeleton("杭州市公安局")
    for lookalike in (
        "杭州市公安局\u200b",
        " 杭州市公安局 ",
        "杭州市公安局\u200f",
        "杭州市公安局。",
    ):
        assert skeleton(lookalike) == founder
    assert skeleton("Pаypal") == skeleton("PAYPAL")
    assert skeleton("杭州市民政局") != founder


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_to_text_every_database_stores(raw: bytes) -> None:
    name = decode_text(raw)
    assert "\0" not in name
    assert not any(unicodedata.category(ch) == "Cs" for ch in name)  # no lone surrogate
    name.encode("utf-8")
    kept = raw_hex(raw, name)
    assert (bytes.fromhex(kept[2:]) if kept else name.encode()) == raw
    text_flags(name, kept)
    shown = visible(name)
    assert not any(
        unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in shown
    )


# --------------------------------------------------------------------------- raw logs


def _value(kind: str, name: str, overrides: dict[str, Any]) -> Any:
    if name in overrides:
        return overrides[name]
    if kind in ("string", "bytes"):
        return b""
    if kind == "address":
        return ADDRESS
    if kind.startswith(("uint", "int")):
        return 1
    if kind == "bool":
        return False
    if kind.startswith("bytes"):
        return b"\x01" * int(kind[5:])
    raise AssertionError(f"no test value for {kind}")


def raw_log(
    c: Consortium,
    event: str,
    *,
    block: tuple[int, str] = (1, "0x" + "00" * 32),
    log_index: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    """An ``eth_getLogs`` entry of DepartmentRegistry's ``event``, its arguments from the ABI
    (``overrides`` by name: a string may be given as raw bytes, encoded as the ABI encodes a
    ``string``)."""
    contract = c.client.contract("DepartmentRegistry")
    entry = next(e for e in contract.abi if e.get("type") == "event" and e["name"] == event)
    inputs = [dict(i) for i in entry["inputs"]]
    signature = f"{event}({','.join(canonical_type(i) for i in inputs)})"
    topics = ["0x" + keccak(text=signature).hex()]
    for i in (i for i in inputs if i.get("indexed")):
        kind = canonical_type(i)
        topics.append("0x" + abi_encode([kind], [_value(kind, i["name"], overrides)]).hex())
    data = [i for i in inputs if not i.get("indexed")]
    types = [canonical_type(i).replace("string", "bytes") for i in data]
    values = [_value(canonical_type(i), i["name"], overrides) for i in data]
    return {
        "address": contract.address.lower(),
        "topics": topics,
        "data": "0x" + abi_encode(types, values).hex(),
        "blockNumber": hex(block[0]),
        "blockHash": block[1],
        "logIndex": hex(log_index),
        "transactionHash": "0x" + keccak(text=f"fake {event} {log_index}").hex(),
    }


NAMES = (*HOSTILE_BYTES, LONG_NAME, "杭州市公安局\u202e".encode(), b"ok")


@pytest.mark.parametrize("raw", NAMES, ids=lambda raw: raw[:12].hex())
def test_a_name_of_any_bytes_decodes_with_its_bytes_kept(
    consortium: Consortium, raw: bytes
) -> None:
    decoder = LogDecoder(consortium.client.contracts)
    department = keccak(raw)
    for event in ("DepartmentAdmitted", "ProposalCreated"):
        decoded = decoder.decode(raw_log(consortium, event, departmentId=department, name=raw))
        assert decoded is not None
        args = decoded.args
        assert args["name"] == decode_text(raw)
        assert "\0" not in args["name"]
        exact = raw.decode("utf-8", errors="replace").encode() == raw and b"\0" not in raw
        assert ("name_hex" in args) is not exact
        kept = bytes.fromhex(args["name_hex"][2:]) if "name_hex" in args else args["name"].encode()
        assert kept == raw
        assert json.loads(json.dumps(args, ensure_ascii=False)) == args


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda log: {**log, "data": log["data"][:-64]}, id="data-too-short"),
        pytest.param(lambda log: {**log, "data": log["data"] + "zz"}, id="data-not-hex"),
        pytest.param(lambda log: {**log, "topics": log["topics"][:2]}, id="topic-missing"),
        pytest.param(
            lambda log: {**log, "topics": [log["topics"][0], "0x12", *log["topics"][2:]]},
            id="topic-short",
        ),
        pytest.param(
            lambda log: {**log, "data": "0x" + "00" * 31 + "ff" + log["data"][66:]},
            id="offset-out-of-data",
        ),
        pytest.param(lambda log: {k: v for k, v in log.items() if k != "data"}, id="no-data"),
    ],
)
def test_a_malformed_log_is_an_undecodable_log_error(
    consortium: Consortium, corrupt: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    decoder = LogDecoder(consortium.client.contracts)
    log = raw_log(consortium, "DepartmentAdmitted", name=b"ok")
    assert decoder.decode(log) is not None
    with pytest.raises(UndecodableLogError, match="cannot be decoded"):
        decoder.decode(corrupt(log))


# --------------------------------------------------------------------------- the indexer


def _inject(
    c: Consortium, monkeypatch: pytest.MonkeyPatch, extra: Callable[[int, int], list[Any]]
) -> None:
    """Let the node's eth_getLogs answer also hold ``extra(from, to)`` (logs of hostile bytes the
    contract would refuse, or malformed ones)."""
    real = c.client.request

    def request(method: str, params: list[Any]) -> Any:
        result = real(method, params)
        if method == "eth_getLogs":
            result = [
                *result,
                *extra(int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)),
            ]
        return result

    monkeypatch.setattr(c.client, "request", request)


def test_names_the_contract_refuses_are_still_indexed_safely(
    consortium: Consortium, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DepartmentAdmitted logs holding invalid UTF-8, NUL, an escape and a 10 KB name, in a real
    block: indexed on both databases, the bytes kept, the names flagged; a reindex and a replay
    of the stored events give the same tables; the index then keeps advancing."""
    c = consortium
    sent = c.transact(
        "DatasetRegistry",
        "registerDataset",
        keccak(text="host"),
        keccak(text="m"),
        sender=c.ops["A"],
    )
    block = (sent.block_number, sent.receipt["blockHash"].to_0x_hex())
    hostile = [
        raw_log(
            c,
            "DepartmentAdmitted",
            block=block,
            log_index=100 + i,
            departmentId=keccak(raw),
            name=raw,
        )
        for i, raw in enumerate(NAMES)
    ]
    _inject(c, monkeypatch, lambda start, end: [log for log in hostile if start <= block[0] <= end])
    indexer = Indexer(c.client, c.deployment, engine, chunk=4)
    indexer.sync()
    with Session(engine) as session:
        for raw in NAMES:
            row = session.get(DepartmentRow, "0x" + keccak(raw).hex())
            assert row is not None
            assert row.name == decode_text(raw)
            kept = bytes.fromhex(row.name_hex[2:]) if row.name_hex else row.name.encode()
            assert kept == raw
        bad = session.get(DepartmentRow, "0x" + keccak(b"\xff\xfe\xfd").hex())
        assert bad is not None and split_flags(bad.name_flags)[0] == "invalid-utf8"
        nul = session.get(DepartmentRow, "0x" + keccak(b"\x00").hex())
        assert nul is not None and "control" in split_flags(nul.name_flags)
    once = dump(engine)
    indexer.reindex()
    assert dump(engine) == once
    with Session(engine) as session:  # the replay of a reorg: from the stored events' args
        indexer._rebuild_state(session)
        session.commit()
    assert dump(engine) == once
    activity(c)
    result = indexer.sync()
    assert result.caught_up and result.to_block == c.w3.eth.block_number


def test_hostile_names_through_real_contract_calls_keep_the_index_equal_to_the_chain(
    consortium: Consortium, engine: Engine
) -> None:
    """Departments admitted with every name of ACCEPTED_HOSTILE_NAMES; names of any bytes sent
    through raw ABI calls, refused by the contract's name check for an admission and sent
    anyway in an auditor proposal (whose name the contract does not check)."""
    c = consortium
    members = Members(c.client, [c.ops["A"], c.ops["B"], c.ops["C"]])
    admitted = admit_names(members, ACCEPTED_HOSTILE_NAMES, "real")
    assert len(admitted) == len(ACCEPTED_HOSTILE_NAMES)  # the contract takes all of these
    auditor = fresh_account("auditor").address
    for index, raw in enumerate(HOSTILE_BYTES):
        assert admit_names(members, [raw], f"refused-{index}") == []  # refused on chain
        try:
            members.propose(GRANT_AUDITOR, b"\0" * 32, raw, auditor)
        except ContractRevertError as exc:  # a contract that checks every name refuses it too
            if exc.error_name not in NAME_REFUSALS:
                raise
    indexer = Indexer(c.client, c.deployment, engine, chunk=5)
    result = indexer.sync()
    assert result.caught_up
    assert (
        assert_index_matches_chain(c.client, c.deployment.block_number, engine) == result.to_block
    )
    with Session(engine) as session:
        rows = {row.name: row for row in session.exec(select(DepartmentRow)).all()}
        flags = {name: split_flags(row.name_flags) for name, row in rows.items()}
        assert flags["杭州市公安局\u200b"] == ["zero-width", "lookalike"]
        assert flags["杭州市公安局"] == ["lookalike"]  # the founder is flagged too
        assert flags["\u200f杭州市民政局"] == ["bidi", "lookalike"]
        assert flags["杭州市民政局"] == ["lookalike"]
        assert flags["Pаypal 数据局"] == ["confusable"]
        assert flags["⼈民政府办公厅"] == ["confusable"]
        assert flags["杭" * 85 + "a"] == []
        assert flags["杭州市\u2060卫生\ufeff健康委员会"] == ["zero-width", "lookalike"]
        assert flags["杭州市卫生健康委员会"] == ["lookalike"]
        proposals = session.exec(select(ProposalRow)).all()
        raw_names = [p for p in proposals if p.name_hex is not None]
        assert all("\0" not in (p.name or "") for p in proposals)
        if raw_names:  # the contract let the unchecked name through
            assert {bytes.fromhex(p.name_hex[2:]) for p in raw_names if p.name_hex} <= set(
                HOSTILE_BYTES
            )


# A name that is readable text but hostile: bidi marks, invisible characters, confusable
# letters, escapes and markup, and the odd valid character anywhere in Unicode.
_HOSTILE_CHARS = (
    "\u200e\u200f\u061c\u202e\u2066\u200b\u200c\u200d\u2060\ufeff\u3164\u00ad\x00\x1b\x7f\x85"
    "\u2028аοＩ⼈\ue000\U0010ffff\ufffd\\<&\"'=杭州局 \u0301"
)
hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(_HOSTILE_CHARS), st.characters(codec="utf-8")),
    min_size=1,
    max_size=90,
)
hostile_name = st.one_of(
    hostile_text,
    st.binary(min_size=1, max_size=40),
    st.sampled_from(HOSTILE_BYTES),
    st.just("杭" * 85 + "a"),  # 256 bytes
    st.just("杭" * 86),  # 258 bytes: too long
)


@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=st.lists(hostile_name, min_size=1, max_size=3))
@example(names=["杭州市公安局\u200b", b"\xff\xfe\xfd\x00"])
def test_generated_hostile_names_never_stop_the_index(
    consortium: Consortium, engine: Engine, members: Members, names: list[str | bytes]
) -> None:
    """Property: whatever names are sent through real contract calls (an admission of the first,
    admission proposals and auditor proposals of all), the index keeps up with the chain and
    equals its eth_getLogs, strings byte for byte. Hypothesis, derandomized, a few examples
    (they share one chain, undone after the test, and one database)."""
    c = consortium
    label = members.label()
    admit_names(members, names[:1], label)
    account = fresh_account(label).address
    for index, name in enumerate(names):
        opened = keccak(text=f"{label}-{index}-open")
        for kind, department in ((ADMIT, opened), (GRANT_AUDITOR, b"\0" * 32)):
            try:
                members.propose(kind, department, name, account)
            except ContractRevertError as exc:
                if exc.error_name not in NAME_REFUSALS:
                    raise
    indexer = Indexer(c.client, c.deployment, engine, chunk=7)
    result = indexer.sync()
    assert result.caught_up and result.to_block == c.w3.eth.block_number
    assert (
        assert_index_matches_chain(c.client, c.deployment.block_number, engine) == result.to_block
    )


@pytest.fixture
def members(consortium: Consortium) -> Members:
    """The founders' operators, and those of departments the test admits."""
    c = consortium
    return Members(c.client, [c.ops["A"], c.ops["B"], c.ops["C"]])


def test_a_malformed_answer_of_the_node_stops_the_pass_until_the_node_answers_well(
    consortium: Consortium, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log the node garbles is never skipped (a skipped revocation would leave an agreement
    authorized): the pass fails with UndecodableLogError before it, the checkpoint stays, and
    the next pass with a sane answer indexes everything."""
    c = consortium
    indexer = Indexer(c.client, c.deployment, engine)
    before = indexer.sync().to_block
    sent = c.transact(
        "DatasetRegistry",
        "registerDataset",
        keccak(text="garbled"),
        keccak(text="m"),
        sender=c.ops["A"],
    )
    block = (sent.block_number, sent.receipt["blockHash"].to_0x_hex())
    garbled = raw_log(c, "DepartmentAdmitted", block=block, log_index=50, name=b"x")
    garbled["data"] = garbled["data"][:-10]
    _inject(c, monkeypatch, lambda start, end: [garbled] if start <= block[0] <= end else [])
    with pytest.raises(UndecodableLogError):
        indexer.sync()
    checkpoint = indexer.checkpoint()
    assert checkpoint is not None and checkpoint.block_number == before
    monkeypatch.undo()
    assert indexer.sync().to_block == c.w3.eth.block_number
    assert_index_matches_chain(c.client, c.deployment.block_number, engine)


def test_an_index_of_an_older_schema_is_rebuilt_from_the_chain(
    consortium: Consortium, database_url: str
) -> None:
    """A database whose department table lacks this release's columns (an upgrade): the
    projections are dropped and indexed again; the off-chain tables are kept."""
    c = consortium
    activity(c)
    engine = create_db_engine(database_url)
    Indexer(c.client, c.deployment, engine).sync()
    before = dump(engine)
    with Session(engine) as session:
        session.add(ApiKey(id="k1", name="kept", scope="read", key_hash="00", created_at=1))
        session.execute(text("ALTER TABLE department DROP COLUMN name_flags"))
        session.commit()
    engine.dispose()
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            assert session.get(IndexerCheckpoint, 1) is None  # dropped with the projections
            assert session.get(ApiKey, "k1") is not None
        Indexer(c.client, c.deployment, engine).sync()
        assert dump(engine) == before
    finally:
        engine.dispose()
