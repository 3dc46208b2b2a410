"""``xietong agreement propose|accept|consent|reject|revoke|show|check``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import receipts
from .. import refs as _refs
from ..chain import open_client
from ..chain.reads import read_agreement, read_department
from ..consent import amend_agreement, amended_terms, propose_agreement
from ..db.queries import iso
from ..errors import InputError
from ..file_modes import replace_file
from ..gateway import Gateway
from ..ids import code_hash
from ..proposals import agreement_terms, amendment
from ._consent import consent_or_relay, write_consent
from ._output import (
    console,
    emit_json,
    guarded,
    load_settings,
    must_exist,
    named,
    respond,
    safe,
)
from ._output import hexstr as h

app = typer.Typer(help="Data-sharing agreements (数据共享授权).", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def agreement_dict(gw: Gateway, agreement_id: bytes) -> dict[str, Any]:
    """An agreement as the chain records it, with department names from the chain; its status
    at the latest block's time as the API shows it (``pending``, ``expired``)."""
    a = read_agreement(gw.client, agreement_id)
    terms = a.terms
    now = int(gw.client.w3.eth.get_block("latest")["timestamp"])
    receipts = int(gw.client.call("SharingAgreements", "accessReceiptCount", agreement_id))

    def name(dept: bytes) -> str:
        return read_department(gw.client, dept).name

    return {
        "id": h(agreement_id),
        "status": a.status_at(now),
        "provider": {"id": h(terms.provider), "name": name(terms.provider)},
        "consumer": {"id": h(terms.consumer), "name": name(terms.consumer)},
        "datasets": [h(d) for d in terms.dataset_ids],
        "purpose": h(terms.purpose),
        "legal_basis": h(terms.legal_basis),
        "terms_hash": h(terms.terms_hash),
        "valid_from": terms.valid_from,
        "effective_from": a.effective_from,
        "valid_until": terms.valid_until,
        "proposer": h(a.proposer),
        "supersedes": h(a.supersedes) if any(a.supersedes) else None,
        "superseded_by": h(a.superseded_by) if any(a.superseded_by) else None,
        "proposed_at": a.proposed_at,
        "accepted_at": a.accepted_at or None,
        "closed_at": a.closed_at or None,
        "access_receipts": receipts,
    }


def _print(a: dict[str, Any], names: dict[str, str]) -> None:
    # Department names are chain data (any bytes a member chose): safe() shows them literally;
    # catalogue texts were typed by people and checked against the hash: safe() too.
    console.print(f"agreement {safe(a['id'])}  [bold]{safe(a['status'])}[/]")
    for role in ("provider", "consumer"):
        party = a[role]
        console.print(f"  {role}  {safe(party['name'])} ({safe(party['id'])})", highlight=False)
    console.print(
        f"  datasets  {', '.join(named(d, names) for d in a['datasets'])}", highlight=False
    )
    console.print(f"  purpose   {named(a['purpose'], names)}", highlight=False)
    console.print(f"  basis     {named(a['legal_basis'], names)}", highlight=False)
    console.print(f"  valid     {safe(a['valid_from'])} – {safe(a['valid_until'])}")
    console.print(f"  receipts  {safe(a['access_receipts'])}")


@app.command()
def propose(
    provider: Annotated[
        str, typer.Option("--provider", help="Provider department (code or 0x id).")
    ],
    consumer: Annotated[
        str, typer.Option("--consumer", help="Consumer department (code or 0x id).")
    ],
    dataset: Annotated[
        list[str], typer.Option("--dataset", help="Dataset (code or 0x id); repeat for several.")
    ],
    purpose: Annotated[
        str, typer.Option("--purpose", help="Purpose code, e.g. eligibility-check.")
    ],
    legal_basis: Annotated[
        str, typer.Option("--legal-basis", help="Legal basis (code or citation).")
    ],
    terms: Annotated[
        str, typer.Option("--terms", help="Terms document (file, or its 0x SHA-256).")
    ],
    valid_from: Annotated[str, typer.Option("--from", help="ISO 8601 date or date-time.")],
    valid_until: Annotated[
        str, typer.Option("--until", help="ISO 8601 date or date-time (exclusive).")
    ],
    json_output: JsonOption = False,
) -> None:
    """Propose an agreement on behalf of this gateway's department (provider or consumer)."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        terms_proposed = agreement_terms(
            provider=provider,
            consumer=consumer,
            datasets=dataset,
            purpose=purpose,
            legal_basis=legal_basis,
            terms_document=terms,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        gw = Gateway(settings)
        gw.remember(("code", purpose), ("code", legal_basis))
        agreement_id, tx = propose_agreement(gw.client, gw.signer, terms_proposed)
        return {
            "agreement_id": "0x" + agreement_id.hex(),
            "transaction": tx.tx_hash,
            "block_number": tx.block_number,
        }

    respond(
        json_output,
        run,
        lambda result: (
            f"[green]proposed[/] agreement {safe(result['agreement_id'])}; "
            "the other party must accept it."
        ),
    )


@app.command()
def accept(
    agreement: Annotated[str, typer.Argument(help="Agreement id.")],
    signature: Annotated[
        Path | None, typer.Option("--signature", help="Relay another department's consent file.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Accept a proposed agreement (as the counterparty, or by relaying its signed consent)."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        agreement_id = _refs.subject_id(agreement, what="agreement id")
        tx = consent_or_relay(gw, "AcceptAgreement", agreement_id, signature)
        return {
            "agreement_id": agreement,
            "signer": tx.event("AgreementAccepted")["signer"],
            "transaction": tx.tx_hash,
        }

    respond(
        json_output,
        run,
        lambda result: (
            f"[green]accepted[/] agreement {safe(result['agreement_id'])} "
            f"(signed by {safe(result['signer'])})"
        ),
    )


@app.command()
def consent(
    agreement: Annotated[str, typer.Argument(help="Agreement id.")],
    out: Annotated[
        Path, typer.Option("--out", help="Consent file to hand to the relaying gateway.")
    ],
    valid_for: Annotated[
        int, typer.Option("--valid-for", min=60, help="Seconds the signature stays valid.")
    ] = 86_400,
    json_output: JsonOption = False,
) -> None:
    """Sign acceptance (EIP-712) with this department's key, for another gateway to relay."""
    settings = load_settings(json_output)

    write_consent(
        settings,
        "AcceptAgreement",
        lambda: _refs.subject_id(agreement, what="agreement id"),
        out,
        valid_for,
        json_output,
    )


def _close(function: str, agreement: str, reason: str | None, json_output: bool) -> None:
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        args: list[Any] = [_refs.subject_id(agreement, what="agreement id")]
        if reason is not None:
            args.append(code_hash(reason))
            gw.remember(("code", reason))
        tx = gw.client.transact("SharingAgreements", function, *args, sender=gw.signer)
        return {
            "agreement_id": agreement,
            "transaction": tx.tx_hash,
            "block_number": tx.block_number,
        }

    respond(
        json_output,
        run,
        lambda result: f"{function}: agreement {safe(agreement)} in block {result['block_number']}",
    )


@app.command()
def revoke(
    agreement: Annotated[str, typer.Argument(help="Agreement id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (only its hash goes on chain).")],
    json_output: JsonOption = False,
) -> None:
    """Revoke an active agreement (either party)."""
    _close("revoke", agreement, reason, json_output)


@app.command()
def withdraw(
    agreement: Annotated[str, typer.Argument(help="Agreement id.")],
    json_output: JsonOption = False,
) -> None:
    """Withdraw a proposal this gateway's department made, before the counterparty answers."""
    _close("withdraw", agreement, None, json_output)


@app.command()
def amend(
    agreement: Annotated[str, typer.Argument(help="The active agreement to amend.")],
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", help="New datasets (code or 0x id); repeat for several."),
    ] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="New purpose code.")] = None,
    legal_basis: Annotated[
        str | None, typer.Option("--legal-basis", help="New legal basis.")
    ] = None,
    terms: Annotated[
        str | None, typer.Option("--terms", help="New terms document (file, or its 0x SHA-256).")
    ] = None,
    valid_from: Annotated[str | None, typer.Option("--from", help="New start.")] = None,
    valid_until: Annotated[str | None, typer.Option("--until", help="New end (exclusive).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Propose new terms for an active agreement (what is not given stays as it is); once the
    counterparty accepts the amendment, it supersedes the agreement."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        agreement_id = _refs.subject_id(agreement, what="agreement id")
        gw = Gateway(settings)
        current = read_agreement(gw.client, agreement_id)
        changes = amendment(
            provider=current.terms.provider,
            datasets=dataset,
            purpose=purpose,
            legal_basis=legal_basis,
            terms_document=terms,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        gw.remember(*(("code", text) for text in (purpose, legal_basis) if text is not None))
        new_terms = amended_terms(current.terms, **changes)
        amendment_id, tx = amend_agreement(gw.client, gw.signer, agreement_id, new_terms)
        return {
            "agreement_id": "0x" + amendment_id.hex(),
            "supersedes": "0x" + agreement_id.hex(),
            "transaction": tx.tx_hash,
            "block_number": tx.block_number,
        }

    respond(
        json_output,
        run,
        lambda r: (
            f"[green]proposed[/] amendment {safe(r['agreement_id'])} of "
            f"{safe(r['supersedes'])}: it supersedes it once accepted"
        ),
    )


@app.command("record-access")
def record_access_command(
    agreement: Annotated[str, typer.Argument(help="The active agreement (its consumer records).")],
    log: Annotated[Path, typer.Option("--log", help="The access log (CSV or JSON Lines).")],
    period_from: Annotated[str, typer.Option("--from", help="Period start (ISO 8601).")],
    period_until: Annotated[
        str | None,
        typer.Option("--until", help="Period end (ISO 8601; default: the chain's latest block)."),
    ] = None,
    salts: Annotated[
        Path | None, typer.Option("--salts", help="Salts sidecar (default LOG.salts.json).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Record an access receipt: the log's entries as salted leaves, their Merkle root and
    count on chain (nothing of an entry); keep the log and its salts to prove an entry."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        agreement_id = _refs.subject_id(agreement, what="agreement id")
        start = _refs.timestamp(period_from, what="period start")
        end = None if period_until is None else _refs.timestamp(period_until, what="period end")
        must_exist(log)
        hashed = receipts.hash_access_log(log, salts_path=salts)
        gw = Gateway(settings)
        index, tx = receipts.record_access(
            gw.client,
            gw.signer,
            agreement_id,
            log_root=hashed.root,
            entry_count=hashed.entry_count,
            period_start=start,
            period_end=end,
        )
        return {
            "agreement_id": "0x" + agreement_id.hex(),
            "receipt_index": index,
            "log_root": "0x" + hashed.root.hex(),
            "entry_count": hashed.entry_count,
            "salts": str(hashed.salts_path),
            "transaction": tx.tx_hash,
            "block_number": tx.block_number,
        }

    respond(
        json_output,
        run,
        lambda r: (
            f"[green]recorded[/] receipt {r['receipt_index']} of agreement "
            f"{safe(r['agreement_id'])}: {r['entry_count']} entries, root {safe(r['log_root'])}\n"
            f"  keep {safe(r['salts'])} with the log: it is needed to prove an entry."
        ),
    )


@app.command("prove-access")
def prove_access_command(
    agreement: Annotated[str, typer.Argument(help="Agreement id.")],
    receipt: Annotated[int, typer.Option("--receipt", min=0, help="The receipt's index.")],
    log: Annotated[Path, typer.Option("--log", help="The access log the receipt was made of.")],
    entry: Annotated[int, typer.Option("--entry", min=0, help="The entry (from 0) to prove.")],
    out: Annotated[Path, typer.Option("--out", help="Proof file to write.")],
    salts: Annotated[
        Path | None, typer.Option("--salts", help="Salts sidecar (default LOG.salts.json).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Prove one entry of an access log against its receipt on chain: an
    xietong-access-proof/1 file that anyone checks with `agreement verify-access`."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        agreement_id = _refs.subject_id(agreement, what="agreement id")
        must_exist(log)
        sidecar = salts or log.with_name(log.name + ".salts.json")
        must_exist(sidecar)
        proof = receipts.access_entry_proof(
            log, salts_path=sidecar, entry=entry, agreement_id=agreement_id, receipt_index=receipt
        )
        gw = Gateway(settings)
        held = receipts.read_receipt(gw.client, agreement_id, receipt)
        receipts.check_access_proof(
            proof, log_root=held["log_root"], entry_count=held["entry_count"]
        )  # this log is the receipt's: nothing else is written
        try:
            replace_file(out, json.dumps(proof, indent=1) + "\n")
        except OSError as exc:
            raise InputError(f"cannot write {out} ({exc.strerror}).") from None
        return {
            "file": str(out),
            "entry": entry,
            "leaf": proof["leaf"],
            "log_root": proof["log_root"],
        }

    respond(
        json_output,
        run,
        lambda r: (
            f"[green]proved[/] entry {r['entry']} against receipt {receipt}: {safe(r['file'])}"
        ),
    )


@app.command("verify-access")
def verify_access_command(
    proof: Annotated[Path, typer.Argument(help="An xietong-access-proof/1 file.")],
    json_output: JsonOption = False,
) -> None:
    """Check an access proof against the receipt the chain holds."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        must_exist(proof)
        try:
            with proof.open("rb") as handle:
                raw = handle.read((1 << 20) + 1)
            if len(raw) > 1 << 20:
                raise InputError(f"{proof} is larger than an access proof may be (1 MiB).")
            document = json.loads(raw)
        except (ValueError, RecursionError):
            raise InputError(f"{proof} is not a JSON document.") from None
        except OSError as exc:
            raise InputError(f"cannot read {proof} ({exc.strerror}).") from None
        client, _ = open_client(settings)
        return {"valid": True, **receipts.verify_access_proof(client, document)}

    respond(
        json_output,
        run,
        lambda r: (
            f"[green]VALID[/] the entry of record hash {safe(r['record_hash'])} is in receipt "
            f"{r['receipt_index']} of agreement {safe(r['agreement_id'])} "
            f"({r['entry_count']} entries, {iso(r['period_start'])} – {iso(r['period_end'])})"
        ),
    )


@app.command()
def reject(
    agreement: Annotated[str, typer.Argument(help="Agreement id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (only its hash goes on chain).")],
    json_output: JsonOption = False,
) -> None:
    """Reject a proposed agreement (the counterparty)."""
    _close("reject", agreement, reason, json_output)


@app.command()
def show(
    agreement: Annotated[str, typer.Argument(help="Agreement id.")], json_output: JsonOption = False
) -> None:
    """Show an agreement as the chain records it."""
    settings = load_settings(json_output)

    def run() -> tuple[dict[str, Any], dict[str, str]]:
        gw = Gateway(settings)
        found = agreement_dict(gw, _refs.subject_id(agreement, what="agreement id"))
        texts = [found["purpose"], found["legal_basis"], *found["datasets"]]
        return found, gw.catalogued(texts)

    result, names = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "agreement": result, "names": names})
    else:
        _print(result, names)


@app.command()
def check(
    provider: Annotated[str, typer.Option("--provider")],
    consumer: Annotated[str, typer.Option("--consumer")],
    dataset: Annotated[str, typer.Option("--dataset")],
    purpose: Annotated[str, typer.Option("--purpose")],
    json_output: JsonOption = False,
) -> None:
    """May PROVIDER share DATASET with CONSUMER for PURPOSE right now? Exits 1 when not."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        provider_id = _refs.id_or_code(provider, what="provider")
        args = (
            provider_id,
            _refs.id_or_code(consumer, what="consumer"),
            _refs.dataset(dataset, owner=provider_id),
            _refs.id_or_code(purpose, what="purpose"),  # its code, or its 0x hash
        )
        gw = Gateway(settings)
        agreement_id = bytes(gw.client.call("SharingAgreements", "authorizingAgreement", *args))
        return {
            "authorized": any(agreement_id),
            "agreement_id": "0x" + agreement_id.hex() if any(agreement_id) else None,
        }

    result = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, **result})
    elif result["authorized"]:
        console.print(f"[green]authorized[/] by agreement {safe(result['agreement_id'])}")
    else:
        console.print(
            "[red]not authorized[/]: no active agreement covers this provider, consumer, dataset and purpose now."
        )
    if not result["authorized"]:
        raise typer.Exit(1)
