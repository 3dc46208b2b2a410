"""CSV injection (issue 12, item 6), end to end: a member department named
``=HYPERLINK("http://evil.example","x")`` (or ``+…``, ``-…``, ``@…``) is admitted through the
contract; the audit CSV of ``GET /v1/audit/events?format=csv`` and of ``xietong audit export``
(a real process) holds its name with a ``'`` in front, so a spreadsheet shows it as text; a
CSV reader reads the neutralised name back, and no cell of the file starts a formula.

Tabs and carriage returns, which the contract refuses in names, are covered at the CSV
function (``tests/ledger/db/test_csv_injection.py``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.db.queries import EVENT_CSV_FIELDS
from ledger.ids import department_id
from ledger.settings import Settings
from ledger.spreadsheet import FORMULA_SIGNS, safe_cell
from tests.api._support import Api
from tests.ledger._gateway_process import run_cli
from tests.support import FOUNDERS, Consortium, admit_department

HYPERLINK = '=HYPERLINK("http://evil.example","x")'
#: Departments a hostile member could get admitted: code -> name.
HOSTILE = {
    "TEST-CSV-EQUALS": HYPERLINK,
    "TEST-CSV-PLUS": "+SUM(1,2)",
    "TEST-CSV-MINUS": "-2+3+cmd|' /C calc'!A0",
    "TEST-CSV-AT": "@SUM(1,2)",
    "TEST-CSV-SPACE": " =1+1",
    "TEST-CSV-FULLWIDTH": "＝1+1",
}


def admit_all(consortium: Consortium) -> dict[str, str]:
    """Admit every HOSTILE department (each with a fresh operator, dev 10…), voted in by every
    active department; returns department id (0x-hex) -> name."""
    voters = [consortium.ops[k] for k in FOUNDERS]
    admitted: dict[str, str] = {}
    for index, (code, name) in enumerate(HOSTILE.items(), start=10):
        operator = Consortium.spare(index)
        dep = admit_department(consortium.client, voters, code, name, operator)
        voters.append(operator)
        admitted["0x" + dep.hex()] = name
    return admitted


def rows_of(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    assert tuple(reader.fieldnames or ()) == EVENT_CSV_FIELDS
    return list(reader)


def assert_no_formula(text: str) -> None:
    """No cell of the CSV starts a formula (also after leading whitespace)."""
    for row in csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")):
        for cell in row:
            assert cell[:1] not in ("\t", "\r"), cell
            assert cell.lstrip()[:1] not in FORMULA_SIGNS, cell


def test_a_department_named_like_a_formula_is_text_in_the_audit_csv(
    consortium: Consortium,
    database_url: str,
    make_api: Callable[..., Api],
    tmp_path: Path,
) -> None:
    admitted = admit_all(consortium)
    manifest = tmp_path / "deployment.json"
    manifest.write_text(json.dumps(consortium.deployment.as_dict()), encoding="utf-8")
    values: dict[str, Any] = {
        "env": "local",
        "rpc_url": str(consortium.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
        "database_url": database_url,
        "deployment": manifest,
        "dev_account": FOUNDERS["B"][2],
    }
    writer = make_api(Settings(_env_file=None, **values))  # type: ignore[call-arg]
    writer.sync()
    events = writer.walk("/v1/audit/events")

    response = writer.get("/v1/audit/events", params={"format": "csv"})
    assert response.status_code == 200, response.text
    text = response.text
    rows = rows_of(text)
    assert len(rows) == len(events)  # no value started a row of its own
    assert_no_formula(text)
    hostile_rows = 0
    for row, event in zip(rows, events, strict=True):
        assert row["transaction"] == event["transaction"]
        assert row["department"] == safe_cell(event["department"])
        if row["department_id"] in admitted:
            hostile_rows += 1
            # The name as the API gives it, with a ' in front: a spreadsheet shows it as text.
            assert event["department"].lstrip()[:1] in FORMULA_SIGNS
            assert row["department"] == "'" + event["department"]
    assert hostile_rows >= 2 * len(HOSTILE)  # DepartmentAdmitted and OperatorAdded at least
    assert '"\'=HYPERLINK(""http://evil.example"",""x"")"' in text

    # `xietong audit export`, a real process over the same gateway database: the same file.
    env = {
        "XIETONG_ENV": "local",
        "XIETONG_RPC_URL": values["rpc_url"],
        "XIETONG_DATABASE_URL": database_url,
        "XIETONG_DEPLOYMENT": str(manifest),
        "XIETONG_DEV_ACCOUNT": str(values["dev_account"]),
    }
    out = tmp_path / "audit.csv"
    exported = run_cli(env, tmp_path / "cli", "audit", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == f"exported {len(events)} events to {out}\n"
    with out.open(encoding="utf-8", newline="") as handle:
        written = handle.read()
    assert written == text
    assert_no_formula(written)
    by_id = {r["department_id"]: r["department"] for r in rows_of(written)}
    assert by_id["0x" + department_id("TEST-CSV-EQUALS").hex()] == "'" + HYPERLINK
