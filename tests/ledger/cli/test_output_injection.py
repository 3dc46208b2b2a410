"""Output injection (issue 12, item 6): nothing data carries is interpreted by the terminal.

A leaf name, a department name, a path or an error sentence quoting one is printed by the
``xietong`` command as literal text on one line (:func:`ledger.cli._output.safe`): Rich
markup in it (``[/oops]``, ``[link=…]``) is shown, not parsed (and cannot crash the command
with a ``MarkupError``); control, bidirectional and invisible characters (a line break, ESC,
U+200F, U+200B …) are shown as escapes, so a name cannot forge a line of output, colour the
terminal or reorder what is shown. ``--json`` output stays JSON, unchanged.

The commands run as real processes (:func:`tests.ledger._gateway_process.run_cli`, or
``python -m ledger.cli`` where the terminal width matters) against a real node (Hardhat 2
and Anvil) and a real database.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from ledger.anchoring import Anchorer, prepare_hashes, prepare_path
from ledger.cli import app
from ledger.cli._output import guarded, safe
from ledger.display import visible
from ledger.gateway import Gateway
from ledger.hashing import SymlinkRefusedError
from ledger.ids import code_hash, dataset_id
from ledger.settings import Settings
from tests.ledger._gateway_process import CliRun, run_cli
from tests.support import FOUNDERS, Consortium, admit_department, dataset_of, gateway_environment

DS_CODE = "OUTPUT-INJECTION"
OWNER = "B"  # 杭州市民政局 (dev 2) anchors; 杭州市公安局 (A) is the name a forger would claim
DS = dataset_of(OWNER, DS_CODE)


def no_traceback(run: CliRun | subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert "MarkupError" not in run.stdout + run.stderr, run.stderr


@pytest.fixture
def settings(consortium: Consortium, tmp_path: Path) -> Settings:
    """杭州市民政局's gateway over the test consortium, with DS registered to it, and the
    consortium trust file beside its manifest (where `xietong deploy` writes it)."""
    consortium.register_dataset(OWNER, DS_CODE, b"\x00" * 32)  # no description: a SHA-256 dataset
    manifest = tmp_path / "deployment.json"
    manifest.write_text(json.dumps(consortium.deployment.as_dict()), encoding="utf-8")
    consortium.deployment.trust().write(tmp_path / "deployment.consortium.json")
    values: dict[str, Any] = {
        "env": "local",
        "rpc_url": str(consortium.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
        "database_url": f"sqlite:///{tmp_path / 'xietong.db'}",
        "deployment": manifest,
        "dev_account": FOUNDERS[OWNER][2],
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    """The same gateway's ``XIETONG_*`` environment, for the command's own process."""
    return {
        "XIETONG_ENV": "local",
        "XIETONG_RPC_URL": settings.rpc_url,
        "XIETONG_DATABASE_URL": settings.database_url,
        "XIETONG_DEPLOYMENT": str(settings.deployment),
        "XIETONG_DEV_ACCOUNT": str(settings.dev_account),
    }


def anchor_names(settings: Settings, content: bytes, names: list[str]) -> str:
    """Anchor leaves of one content under ``names`` (as ``POST /v1/anchors`` takes any name up
    to 1024 characters, which a folder walk would refuse); returns the root."""
    digest = hashlib.sha256(content).digest()
    gateway = Gateway(settings)
    try:
        prepared = prepare_hashes([(digest, name) for name in names], DS, source="test")
        return gateway.anchorer().anchor(prepared).root
    finally:
        gateway.engine.dispose()


# ------------------------------------------------------------------- the safe-text function


@pytest.mark.parametrize(
    "hidden",
    [
        pytest.param("\n", id="line-feed"),
        pytest.param("\r", id="carriage-return"),
        pytest.param("\t", id="tab"),
        pytest.param("\x00", id="nul"),
        pytest.param("\x07", id="bell"),
        pytest.param("\x1b[31m", id="ansi-csi"),
        pytest.param("\x1b]8;;https://evil.example\x1b\\", id="osc-8-hyperlink"),
        pytest.param("\x7f", id="del"),
        pytest.param("\x85", id="c1-next-line"),
        pytest.param("\x9b31m", id="c1-csi"),
        pytest.param("\u2028", id="line-separator"),
        pytest.param("\u2029", id="paragraph-separator"),
        pytest.param("\u202a", id="lre"),
        pytest.param("\u202e", id="rlo"),
        pytest.param("\u2066", id="lri"),
        pytest.param("\u2069", id="pdi"),
        pytest.param("\u200e", id="lrm"),
        pytest.param("\u200f", id="rlm"),
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param("\u200d", id="zero-width-joiner"),
        pytest.param("\u2060", id="word-joiner"),
        pytest.param("\ufeff", id="bom"),
    ],
)
def test_control_and_invisible_characters_are_printed_as_escapes(hidden: str) -> None:
    value = f"杭州市{hidden}公安局"
    shown = safe(value)
    assert shown.startswith("杭州市\\") and shown.endswith("公安局")
    assert hidden[0] not in shown
    console = Console(file=io.StringIO(), width=200, emoji=False, soft_wrap=True)
    console.print(f"[bold]name[/] {shown}")
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert printed == f"name {shown}\n"  # one line, every character visible


@pytest.mark.parametrize(
    "markup",
    [
        "[/oops]",
        "[link=https://evil.example]x[/link]",
        "[bold red]alarm",
        "[/]",
        "\\[b]x",
        ":warning: done",
    ],
)
def test_markup_in_data_is_printed_literally(markup: str) -> None:
    from ledger.cli import _output

    with _output.console.capture() as captured:
        _output.console.print(f"[green]ok[/] {safe(markup)}", highlight=False)
    assert captured.get() == f"ok {visible(markup)}\n"


def test_an_error_sentence_quoting_markup_and_a_line_break_is_one_literal_line(
    tmp_path: Path,
) -> None:
    """``error: <sentence>``: a hostile path in the sentence neither crashes the command
    (``[/oops]`` was a MarkupError traceback) nor adds a line."""
    hostile = tmp_path / "[" / "oops]\nerror: forged [link=https://evil.example]x[/link]"
    result = CliRunner().invoke(app, ["verify-proof", str(hostile)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: cannot read {visible(str(hostile))} (No such file or directory)."
    ]
    # --json is JSON, with the sentence as it is.
    as_json = CliRunner().invoke(app, ["verify-proof", str(hostile), "--json"])
    assert json.loads(as_json.stdout)["error"]["message"] == (
        f"cannot read {hostile} (No such file or directory)."
    )


# --------------------------------------------------------------------- on a real node


@pytest.mark.timeout(180)
def test_a_line_break_in_a_leaf_name_forges_no_line_of_verify(
    consortium: Consortium, settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    """A leaf name carrying a line break and "published by 杭州市公安局 (…)" would print a
    second "published by" line under the genuine publisher's; an ESC sequence would colour
    the terminal. Both are printed escaped, on the leaf's own line."""
    psb, civil = "0x" + consortium.ids["A"].hex(), "0x" + consortium.ids[OWNER].hex()
    forged = f"notice.pdf\n  published by   杭州市公安局 ({psb})"
    coloured = "\x1b[31mnotice\x1b[0m.pdf"
    content = "第一号通知\n".encode()
    root = anchor_names(settings, content, [forged, coloured])
    mine = tmp_path / "notice.pdf"
    mine.write_bytes(content)

    run = run_cli(env, tmp_path / "gateway", "verify", str(mine))
    no_traceback(run)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert f"ANCHORED  {visible(forged)}" in lines
    assert f"ANCHORED  {visible(coloured)}" in lines
    assert "\x1b" not in run.stdout
    published = [line for line in lines if "published by" in line and "ANCHORED" not in line]
    assert published == [f"  published by   杭州市民政局 ({civil})"] * 2
    assert sum(line == f"  version root   {root}  (2 leaves)" for line in lines) == 2
    # Every line is one the command writes: a match's head or one of its indented fields.
    assert all(line.startswith(("ANCHORED  ", "  ")) for line in lines), lines

    # --json is unchanged: the names as they are.
    document = json.loads(run_cli(env, tmp_path / "gateway", "verify", str(mine), "--json").stdout)
    assert {m["path"] for m in document["matches"]} == {forged, coloured}


@pytest.mark.timeout(240)
def test_markup_in_file_names_is_printed_literally_by_anchor_verify_and_proof(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    """Files whose leaf names are ``[/oops]`` and ``[link=https:/evil.example]x[/link]`` (a
    folder ``[`` holding ``oops]``, …), in a folder named ``[red]release``: every command prints
    them literally and ends normally (``[/oops]`` was a MarkupError traceback)."""
    folder = tmp_path / "[red]release"
    oops = folder / "[" / "oops]"
    link = folder / "[link=https:" / "evil.example]x[" / "link]"
    for path, text in ((oops, "oops\n"), (link, "link\n")):
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
    gateway = tmp_path / "gateway"

    anchored = run_cli(env, gateway, "dataset", "anchor", str(folder), "--dataset", DS_CODE)
    no_traceback(anchored)
    assert anchored.returncode == 0, anchored.stderr
    lines = anchored.stdout.splitlines()
    assert lines[0] == f"anchored 2 file leaves of {folder}"
    root = lines[1].split()[-1]

    for path, leaf in ((oops, "[/oops]"), (link, "[link=https:/evil.example]x[/link]")):
        verified = run_cli(env, gateway, "verify", str(path))
        no_traceback(verified)
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout.splitlines()[0] == f"ANCHORED  {leaf}"

    out = tmp_path / "bundles" / "[" / "oops].json"
    out.parent.mkdir(parents=True)
    proved = run_cli(env, gateway, "dataset", "proof", str(oops), "--out", str(out))
    no_traceback(proved)
    assert proved.returncode == 0, proved.stderr
    assert proved.stdout.splitlines() == [f"wrote proof bundle {out} (root {root})"]
    checked = run_cli(env, gateway, "verify-proof", str(out))
    no_traceback(checked)
    assert checked.returncode == 0 and checked.stdout.startswith("VALID leaf 0x"), checked.stderr

    # Not anchored: the error sentence quotes the path, literally.
    other = tmp_path / "elsewhere" / "[" / "oops]"
    other.parent.mkdir(parents=True)
    other.write_text("something else\n", encoding="utf-8")
    refused = run_cli(env, gateway, "verify", str(other))
    no_traceback(refused)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"error: {other} is not anchored in any dataset version known here."
    ]


@pytest.mark.timeout(240)
def test_invisible_characters_and_markup_in_a_department_name_are_shown_escaped(
    consortium: Consortium, settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    """A department admitted with a right-to-left mark, zero-width characters and markup in
    its name (the contract refuses controls and bidi overrides, not these): ``dept show`` and
    ``dept list`` print the name escaped, never the raw characters, and do not crash."""
    name = "\u200f局安公市州杭\u200b[/oops][link=https://evil.example]x\ufeff\u2060"
    code = "TEST-HOSTILE-900"
    voters = [consortium.ops[k] for k in FOUNDERS]
    dep = admit_department(consortium.client, voters, code, name, Consortium.spare(7))
    shown_name = visible(name)
    assert "\\u200f" in shown_name and "\\u200b" in shown_name

    shown = run_cli(env, tmp_path / "gateway", "dept", "show", code)
    no_traceback(shown)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        f"{shown_name} (active)",
        f"  id        0x{dep.hex()}",
        f"  operators {Consortium.spare(7).address}",
    ]

    # The table, as a real process on a terminal wide enough for every column.
    listed = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "dept", "list"],
        capture_output=True,
        text=True,
        env={
            **gateway_environment(tmp_path / "gateway"),
            **env,
            "COLUMNS": "400",
        },
        timeout=120,
        check=False,
    )
    no_traceback(listed)
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if f"0x{dep.hex()}" in line]
    assert row.split("│")[1].strip() == shown_name
    for raw in "\u200f\u200b\ufeff\u2060":
        assert raw not in listed.stdout

    # --json keeps the name exactly as the chain holds it.
    document = json.loads(run_cli(env, tmp_path / "gateway", "dept", "show", code, "--json").stdout)
    assert document["department"]["name"] == name


@pytest.mark.timeout(240)
def test_verify_proof_names_a_hostile_publisher_escaped_with_its_id(
    consortium: Consortium, settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    """`verify-proof` names the dataset's owner and the anchoring department as the chain
    names them. A name with a right-to-left mark, a zero-width space and markup is printed
    escaped, once (not ``\\\\u200f``), with the department's id beside it (the name is
    flagged); ``--json`` gives the name as it is, with its flags."""
    name = "\u200f杭州市公安局\u200b[/oops]"
    operator = Consortium.spare(9)
    voters = [consortium.ops[k] for k in FOUNDERS]
    dep = admit_department(consortium.client, voters, "TEST-HOSTILE-902", name, operator)
    consortium.transact(
        "DatasetRegistry", "registerDataset", code_hash(DS_CODE), b"\x00" * 32, sender=operator
    )
    folder = tmp_path / "notice"
    folder.mkdir()
    (folder / "notice.txt").write_text("第二号通知\n", encoding="utf-8")
    gateway = Gateway(settings)
    try:
        prepared = prepare_path(folder, dataset_id(dep, DS_CODE))
        Anchorer(gateway.client, gateway.engine, operator).anchor(prepared)
        gateway.indexer().sync()
    finally:
        gateway.engine.dispose()
    out = tmp_path / "bundle.json"
    cwd = tmp_path / "gateway"
    proved = run_cli(env, cwd, "dataset", "proof", str(folder / "notice.txt"), "--out", str(out))
    assert proved.returncode == 0, proved.stderr

    checked = run_cli(env, cwd, "verify-proof", str(out))
    no_traceback(checked)
    assert checked.returncode == 0, checked.stderr
    shown = f"{visible(name)} [0x{dep.hex()}]"
    assert "\\u200f" in shown and "\\\\" not in shown
    assert f"  published by {shown}; dataset owned by {shown}" in checked.stdout.splitlines()
    for raw in "\u200f\u200b":
        assert raw not in checked.stdout
    document = json.loads(run_cli(env, cwd, "verify-proof", str(out), "--json").stdout)
    department = {"id": f"0x{dep.hex()}", "name": name, "name_flags": ["bidi", "zero-width"]}
    assert document["publisher"] == document["owner"] == department


def test_a_sentence_the_library_escaped_is_not_escaped_twice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A hashing error writes a line break in a file name as ``\\x0a``: the CLI shows that
    sentence as it is (one line), not ``\\\\x0a``; what the library left raw is still escaped."""

    def refuse() -> None:
        raise SymlinkRefusedError("evil\nINFO forged is a symbolic link\u202e")

    with pytest.raises(typer.Exit):
        guarded(False, refuse)
    assert capsys.readouterr().err.splitlines() == [
        "error: evil\\x0aINFO forged is a symbolic link\\u202e"
    ]
