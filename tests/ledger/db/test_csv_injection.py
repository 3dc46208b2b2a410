"""CSV injection (issue 12, item 6): the audit CSV never hands a spreadsheet a formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (OWASP, "CSV
Injection"; also those signs after leading whitespace and their full-width forms) is written
with a ``'`` in front, and a cell holding a separator, a quote or a line break is quoted, so
no value can start a row of its own. Any CSV reader reads the neutralised text back.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from ledger.db import queries
from ledger.spreadsheet import BOM, csv_text, safe_cell

HYPERLINK = '=HYPERLINK("http://evil.example","x")'


def read(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))


def event(department: str | None, **overrides: Any) -> dict[str, Any]:
    return {
        "block_number": 7,
        "log_index": 2,
        "time": "2026-11-20T08:00:00+00:00",
        "transaction": "0x" + "7c" * 32,
        "contract": "DepartmentRegistry",
        "event": "DepartmentAdmitted",
        "department_id": "0x" + "5e" * 32,
        "department": department,
        "subject_id": "0x" + "ae" * 32,
        "args": {"name": department, "proposalId": 4},
        **overrides,
    }


@pytest.mark.parametrize(
    "formula",
    [
        pytest.param(HYPERLINK, id="equals-hyperlink"),
        pytest.param("=cmd|' /C calc'!A0", id="equals-dde"),
        pytest.param("+SUM(1,2)", id="plus"),
        pytest.param("-2+3+cmd|' /C calc'!A0", id="minus"),
        pytest.param("@SUM(1,2)", id="at"),
        pytest.param("\t=1+1", id="tab"),
        pytest.param("\r=1+1", id="carriage-return"),
        pytest.param("\tplain", id="tab-then-text"),
        pytest.param("\rplain", id="carriage-return-then-text"),
        pytest.param(" =1+1", id="space-then-equals"),
        pytest.param("\n=1+1", id="line-feed-then-equals"),
        pytest.param("\u3000=1+1", id="ideographic-space-then-equals"),
        pytest.param("＝1+1", id="fullwidth-equals"),
        pytest.param("＋1", id="fullwidth-plus"),
        pytest.param("－1", id="fullwidth-minus"),
        pytest.param("＠SUM(1)", id="fullwidth-at"),
    ],
)
def test_a_department_named_like_a_formula_is_written_as_text(formula: str) -> None:
    assert safe_cell(formula) == "'" + formula
    text = queries.events_csv([event(formula)])
    header, row = read(text)
    assert header == list(queries.EVENT_CSV_FIELDS)
    assert row[header.index("department")] == "'" + formula  # read back, neutralised
    assert all(cell[:1] not in "=+-@\t\r＝＋－＠" for cell in row)


@pytest.mark.parametrize(
    "value",
    [
        "杭州市公安局",
        "0x" + "ab" * 32,
        "2026-11-20T08:00:00+00:00",
        '{"name": "=x", "z": -1}',
        "DepartmentAdmitted",
        "a=b",
        "a-b",
        "'quoted",
        "",
    ],
)
def test_ordinary_cells_are_unchanged(value: str) -> None:
    assert safe_cell(value) == value


def test_numbers_and_missing_values_are_written_as_before() -> None:
    assert [safe_cell(v) for v in (0, 7, None)] == ["0", "7", ""]
    row = read(queries.events_csv([event(None)]))[1]
    assert row[:2] == ["7", "2"] and row[7] == ""


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a\rb", id="lone-carriage-return"),
        pytest.param("a\nb", id="line-feed"),
        pytest.param("a\r\n=1+1,b", id="crlf-then-formula"),
        pytest.param('a","=1+1', id="quote-and-comma"),
        pytest.param("a,b", id="comma"),
    ],
)
def test_a_line_break_or_separator_in_a_cell_cannot_start_a_row(value: str) -> None:
    """Python's csv module leaves a lone CR unquoted when rows end in LF: a spreadsheet would
    start a row there. Every such cell is quoted."""
    text = csv_text(("first", "second"), [{"first": value, "second": HYPERLINK}])
    rows = read(text)
    assert rows == [["first", "second"], [value, "'" + HYPERLINK]]
    assert text.count("\n") - value.count("\n") == 2  # header and one row
    quoted = "\"'" + HYPERLINK.replace('"', '""') + '"'
    assert text.endswith(quoted + "\n")


def test_the_csv_is_the_same_as_before_for_ordinary_events() -> None:
    """Neutralising changes nothing else: the output is what ``csv.DictWriter`` wrote."""
    items = [event("杭州市民政局"), event("杭州市公安局", log_index=3, args={"r": '用途, "变更"'})]
    buffer = io.StringIO(BOM)
    buffer.seek(len(BOM))
    writer = csv.DictWriter(buffer, fieldnames=queries.EVENT_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(
            {**item, "args": json.dumps(item["args"], ensure_ascii=False, sort_keys=True)}
        )
    assert queries.events_csv(items) == buffer.getvalue()
