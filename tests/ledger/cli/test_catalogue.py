"""``xietong catalogue``: real processes over a real database, no chain needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.ids import code_hash
from tests.support import gateway_environment


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "catalogue", *args],
        capture_output=True,
        text=True,
        env={**gateway_environment(home), "XIETONG_ENV": "local"},
        cwd=home,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def ok_json(home: Path, *args: str) -> Any:
    result = run(home, *args, "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def hx(text: str) -> str:
    return "0x" + code_hash(text).hex()


def test_add_show_export_and_import_into_another_gateway(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir(), theirs.mkdir()
    added = ok_json(ours, "add", "eligibility-check", "《统计法》")
    assert added["texts"] == [
        {"text": "eligibility-check", "hash": hx("eligibility-check")},
        {"text": "《统计法》", "hash": hx("《统计法》")},
    ]
    unknown = "0x" + "ab" * 32
    shown = ok_json(ours, "show", hx("eligibility-check"), unknown.upper().replace("0X", "0x"))
    assert shown["names"] == {
        hx("eligibility-check"): {"text": "eligibility-check", "verified": True, "known": True},
        unknown: {"text": None, "verified": False, "known": False},
    }
    people = run(ours, "show", hx("《统计法》"), unknown)
    assert people.stdout.splitlines() == [
        f"{hx('《统计法》')}  《统计法》",
        f"{unknown}  unknown to the catalogue",
    ]
    out = tmp_path / "catalogue.json"
    assert ok_json(ours, "export", "--out", str(out)) == {"ok": True, "file": str(out), "texts": 2}
    assert ok_json(theirs, "import", str(out)) == {"ok": True, "file": str(out), "texts": 2}
    again = ok_json(theirs, "show", hx("《统计法》"))["names"][hx("《统计法》")]
    assert again == {"text": "《统计法》", "verified": True, "known": True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "x", "--rule", "sha3"), "a catalogue rule is code or text, not 'sha3'."),
        (("add", "fine", "  "), "a catalogue text must not be empty."),
        (("show", "0x12"), "'0x12' is not a 0x hash of 64 hex digits."),
        (("import", "missing.json"), "missing.json does not exist."),
        (("import", "junk.json"), "a catalogue is a JSON document; this one does not parse."),
        (
            ("import", "lie.json"),
            f"text 1 of the catalogue does not give the hash it names "
            f"({hx('eligibility-check')[:20]}…): its code hash is {hx('发放补贴')}.",
        ),
    ],
)
def test_bad_input_is_one_sentence_and_keeps_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    lie = {
        "format": "xietong-catalogue/1",
        "texts": [{"rule": "code", "text": "发放补贴", "hash": hx("eligibility-check")}],
    }
    (tmp_path / "lie.json").write_text(json.dumps(lie), encoding="utf-8")
    result = run(tmp_path, *args)
    assert (result.returncode, result.stderr) == (1, f"error: {message}\n")
    as_json = run(tmp_path, *args, "--json")
    assert json.loads(as_json.stdout)["error"] == {"type": "bad-input", "message": message}
    # Nothing was kept: "fine" was checked with "  " before either was added.
    export = ok_json(tmp_path, "export", "--out", str(tmp_path / "out.json"))
    assert export["texts"] == 0
