"""``xietong commitment propose|sign|consent|report|complete|cancel|show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .. import refs as _refs
from ..chain.reads import read_commitment, read_department
from ..consent import propose_commitment
from ..errors import InputError
from ..gateway import Gateway
from ..ids import code_hash
from ..proposals import commitment_proposal
from ._consent import consent_or_relay, write_consent
from ._output import console, emit_json, guarded, load_settings, named, respond, safe
from ._output import hexstr as h

app = typer.Typer(help="Joint-handling commitments (联办承诺).", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def commitment_dict(gw: Gateway, commitment_id: bytes) -> dict[str, Any]:
    """A commitment and its participants as the chain records them."""
    c = read_commitment(gw.client, commitment_id)
    overdue = bool(gw.client.call("JointCommitments", "isOverdue", commitment_id))

    def name(dept: bytes) -> str:
        return read_department(gw.client, dept).name

    return {
        "id": h(commitment_id),
        "status": c.status.label,
        "overdue": overdue,
        "matter_ref": h(c.matter_ref),
        "lead": {"id": h(c.lead), "name": name(c.lead)},
        "deadline": c.deadline,
        "proposed_at": c.proposed_at,
        "activated_at": c.activated_at or None,
        "closed_at": c.closed_at or None,
        "participants": [
            {
                "id": h(p.department_id),
                "name": name(p.department_id),
                "duty_hash": h(p.duty_hash),
                "last_evidence_hash": h(p.last_evidence_hash)
                if any(p.last_evidence_hash)
                else None,
                "signed_at": p.signed_at or None,
                "done_at": p.done_at or None,
                "reports": p.report_count,
            }
            for p in c.participants
        ],
    }


def _commitment_id(text: str) -> bytes:
    return _refs.subject_id(text, what="commitment id")


def _transact(
    json_output: bool, function: str, *args: Any, verb: str, commitment: str, text: str
) -> None:
    """Send ``function`` for the commitment; ``text`` (the evidence or reason whose hash is
    among ``args``) is kept in the catalogue first."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        gw.remember(("code", text))
        tx = gw.client.transact("JointCommitments", function, *args, sender=gw.signer)
        return {
            "commitment_id": commitment,
            "transaction": tx.tx_hash,
            "block_number": tx.block_number,
            "events": [name for name, _ in tx.events],
        }

    respond(
        json_output,
        run,
        lambda result: (
            f"{verb} commitment {safe(commitment)} in block {result['block_number']} "
            f"({safe(', '.join(result['events']))})"
        ),
    )


@app.command()
def propose(
    matter: Annotated[
        str, typer.Option("--matter", help="Matter reference (only its hash goes on chain).")
    ],
    participant: Annotated[
        list[str],
        typer.Option(
            "--participant",
            help="DEPT=DUTY (code or 0x id = duty text); repeat, the lead included.",
        ),
    ],
    deadline: Annotated[str, typer.Option("--deadline", help="ISO 8601 date or date-time.")],
    json_output: JsonOption = False,
) -> None:
    """Propose a joint commitment led by this gateway's department."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        pairs = []
        for item in participant:
            dept, sep, duty = item.partition("=")
            if not sep or not duty.strip():
                raise InputError(f"--participant {item!r} must be DEPT=DUTY.")
            pairs.append((dept, duty))
        proposal = commitment_proposal(matter=matter, participants=pairs, deadline=deadline)
        gw = Gateway(settings)
        gw.remember(("code", matter), *(("code", duty) for _, duty in pairs))
        commitment_id, tx = propose_commitment(gw.client, gw.signer, proposal)
        return {"commitment_id": "0x" + commitment_id.hex(), "transaction": tx.tx_hash}

    respond(
        json_output,
        run,
        lambda result: (
            f"[green]proposed[/] commitment {safe(result['commitment_id'])}; "
            "every participant must sign it."
        ),
    )


@app.command()
def sign(
    commitment: Annotated[str, typer.Argument(help="Commitment id.")],
    signature: Annotated[
        Path | None, typer.Option("--signature", help="Relay another department's consent file.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Sign a proposed commitment (as a participant, or by relaying a participant's consent)."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        commitment_id = _commitment_id(commitment)
        tx = consent_or_relay(gw, "SignCommitment", commitment_id, signature)
        return {
            "commitment_id": commitment,
            "transaction": tx.tx_hash,
            "events": [n for n, _ in tx.events],
        }

    respond(
        json_output,
        run,
        lambda result: (
            f"[green]signed[/] commitment {safe(commitment)} ({safe(', '.join(result['events']))})"
        ),
    )


@app.command()
def consent(
    commitment: Annotated[str, typer.Argument(help="Commitment id.")],
    out: Annotated[
        Path, typer.Option("--out", help="Consent file to hand to the relaying gateway.")
    ],
    valid_for: Annotated[int, typer.Option("--valid-for", min=60)] = 86_400,
    json_output: JsonOption = False,
) -> None:
    """Sign the commitment (EIP-712) with this department's key, for another gateway to relay."""
    settings = load_settings(json_output)

    write_consent(
        settings, "SignCommitment", lambda: _commitment_id(commitment), out, valid_for, json_output
    )


@app.command()
def report(
    commitment: Annotated[str, typer.Argument(help="Commitment id.")],
    evidence: Annotated[
        str, typer.Option("--evidence", help="Evidence reference (only its hash goes on chain).")
    ],
    done: Annotated[
        bool, typer.Option("--done", help="This department's duty is fulfilled.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Report progress on this department's duty."""
    _transact(
        json_output,
        "reportProgress",
        _commitment_id(commitment),
        code_hash(evidence),
        done,
        verb="reported on",
        commitment=commitment,
        text=evidence,
    )


@app.command()
def complete(
    commitment: Annotated[str, typer.Argument(help="Commitment id.")],
    evidence: Annotated[str, typer.Option("--evidence", help="Closing evidence reference.")],
    json_output: JsonOption = False,
) -> None:
    """Close a commitment once every participant is done (the lead)."""
    _transact(
        json_output,
        "complete",
        _commitment_id(commitment),
        code_hash(evidence),
        verb="completed",
        commitment=commitment,
        text=evidence,
    )


@app.command()
def cancel(
    commitment: Annotated[str, typer.Argument(help="Commitment id.")],
    reason: Annotated[str, typer.Option("--reason")],
    json_output: JsonOption = False,
) -> None:
    """Cancel a commitment that is not active yet (the lead)."""
    _transact(
        json_output,
        "cancel",
        _commitment_id(commitment),
        code_hash(reason),
        verb="cancelled",
        commitment=commitment,
        text=reason,
    )


@app.command()
def show(
    commitment: Annotated[str, typer.Argument(help="Commitment id.")],
    json_output: JsonOption = False,
) -> None:
    """Show a commitment and its participants' progress."""
    settings = load_settings(json_output)

    def run() -> tuple[dict[str, Any], dict[str, str]]:
        gw = Gateway(settings)
        found = commitment_dict(gw, _commitment_id(commitment))
        texts = [found["matter_ref"]]
        for p in found["participants"]:
            texts += [p["duty_hash"], p["last_evidence_hash"] or ""]
        return found, gw.catalogued(texts)

    result, names = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "commitment": result, "names": names})
        return
    flag = " [red]OVERDUE[/]" if result["overdue"] else ""
    # Department names are chain data (any bytes a member chose): safe() shows them literally.
    console.print(f"commitment {safe(result['id'])}  [bold]{safe(result['status'])}[/]{flag}")
    console.print(f"  lead      {safe(result['lead']['name'])}", highlight=False)
    console.print(f"  matter    {named(result['matter_ref'], names)}", highlight=False)
    console.print(f"  deadline  {safe(result['deadline'])}")
    for p in result["participants"]:
        state = "done" if p["done_at"] else ("signed" if p["signed_at"] else "not signed")
        console.print(
            f"  - {safe(p['name'])}: {named(p['duty_hash'], names)}; {state}, "
            f"{safe(p['reports'])} report(s)",
            highlight=False,
        )
