"""CSV that a spreadsheet opens as text, never as formulas: every CSV the project writes from
data (the audit trail of ``xietong audit export`` and ``GET /v1/audit/events?format=csv``)
goes through :func:`csv_text`.

The rule (OWASP, "CSV Injection"): a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is written with a single quote ``'`` in front, so Excel, LibreOffice
and Google Sheets show it as text instead of evaluating it (``=HYPERLINK(…)``, ``=cmd|…``).
Also neutralised, as a precaution: those four signs after leading whitespace (``" =1+1"``,
``"\\n=1+1"``) and their full-width forms (``＝ ＋ － ＠``). Nothing else changes: no column of
ours holds a number that can be negative, so a legitimate cell never starts with ``-``.

Cells holding a comma, a double quote, a carriage return or a line feed are quoted, with
double quotes doubled (RFC 4180), so no value can end a row or start a new one; rows end
with a line feed. Any CSV reader reads the cells back, the neutralised ones with their
``'``.

The text starts with a byte order mark (:data:`BOM`, U+FEFF): Excel on Chinese Windows reads
a CSV without one in the system's code page (GBK) and shows the names garbled; with it, as
UTF-8. A reader drops it (Python: ``encoding="utf-8-sig"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["BOM", "FORMULA_SIGNS", "csv_text", "safe_cell"]

#: What every CSV of ours starts with, so that spreadsheets read it as UTF-8.
BOM = "\ufeff"

#: What makes a spreadsheet read a cell as a formula (with their full-width forms).
FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_LEADING_CONTROLS = ("\t", "\r")
_QUOTED_IF_PRESENT = frozenset(',"\r\n')


def safe_cell(value: Any) -> str:
    """``value`` as the text of a CSV cell no spreadsheet evaluates (``None`` is empty)."""
    text = "" if value is None else str(value)
    if text.startswith(_LEADING_CONTROLS) or text.lstrip()[:1] in FORMULA_SIGNS:
        return "'" + text
    return text


def _field(text: str) -> str:
    if _QUOTED_IF_PRESENT.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_text(fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """:data:`BOM`, a header line and one line per row (the values of ``fieldnames``, missing
    ones empty), every cell through :func:`safe_cell`."""
    lines = [BOM + ",".join(_field(safe_cell(name)) for name in fieldnames)]
    lines.extend(",".join(_field(safe_cell(row.get(name))) for name in fieldnames) for row in rows)
    return "\n".join(lines) + "\n"
