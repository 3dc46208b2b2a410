"""``xietong verify FILE|HASH`` and ``xietong verify-proof BUNDLE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlmodel import Session

from .. import hashing
from ..catalogue import verified_texts
from ..chain.client import connect
from ..chain.transport import node_errors
from ..display import display_name
from ..errors import CheckpointError, InputError
from ..gateway import Gateway
from ..refs import parse_hash
from ..trust import load_trust
from ..verify import (
    MAX_BUNDLE_SIZE,
    Verification,
    Verifier,
    check_bundle_offline,
    load_bundle,
    verify_bundle,
)
from ..verify.offline import check_text_size, verify_bundle_offline
from ._output import (
    console,
    emit_json,
    fail,
    guarded,
    load_settings,
    must_exist,
    named,
    safe,
)
from .dataset import RecordOption, SaltsOption, record_leaf

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _catalogue_names(gateway: Gateway, answer: Verification) -> dict[str, str]:
    """What the catalogue says of the datasets, purposes and legal bases the answer names."""
    hashes: list[str] = []
    for match in answer.matches:
        hashes += [match.version.dataset_id, *(v.dataset_id for v in match.lineage)]
        hashes += [h for auth in match.authorizations for h in (auth.purpose, auth.legal_basis)]
    with Session(gateway.engine) as session:
        return verified_texts(session=session, hashes=hashes)


def _show(answer: Verification, names: dict[str, str]) -> None:
    if not answer.matches:
        return
    for match in answer.matches:
        v = match.version
        where = match.path if match.path is not None else f"record {match.record_index}"
        # Every value below is data (the leaf store, the index, the chain): safe() shows it
        # literally, on this one line.
        console.print(f"[bold]{safe(match.status.upper())}[/]  {safe(where)}", highlight=False)
        console.print(f"  dataset        {named(v.dataset_id, names)}", highlight=False)
        console.print(f"  version root   {safe(v.root)}  ({v.leaf_count} leaves)")
        console.print(f"  version id     {safe(v.id)}")
        console.print(
            f"  published by   {safe(v.owner.name or '?')} ({safe(v.owner.id)})", highlight=False
        )
        if v.anchored_by.id != v.owner.id:
            console.print(
                f"  anchored by    {safe(v.anchored_by.name or '?')} ({safe(v.anchored_by.id)})",
                highlight=False,
            )
        console.print(
            f"  anchored       {safe(v.anchored_at)}, block {v.block_number}, "
            f"{v.confirmations} confirmation(s)"
        )
        console.print(f"  transaction    {safe(v.transaction)}")
        if v.revoked_at:
            console.print(f"  [red]revoked[/]        {safe(v.revoked_at)}")
        if match.erasure is not None:
            e = match.erasure
            console.print(
                f"  [red]erased[/]         {safe(e.erased_at)} by {safe(e.erased_by.name or e.erased_by.id)}"
                f" ({e.count} record(s), transaction {safe(e.transaction)})",
                highlight=False,
            )
        if match.unattributed_erasures:
            console.print(
                f"  [yellow]erasures[/]       its owner erased {match.unattributed_erasures} "
                "record(s) of this version that this gateway cannot name: whether this is one "
                "of them, the gateway that erased them answers"
            )
        for parent in match.lineage:
            console.print(
                f"  derived from   {safe(parent.root)} (dataset "
                f"{named(parent.dataset_id, names)}, block {parent.block_number})",
                highlight=False,
            )
        if not match.authorizations:
            console.print("  may be shared  with no department under an active agreement now")
        for auth in match.authorizations:
            console.print(
                f"  may be shared  with {safe(auth.consumer.name or auth.consumer.id)} under "
                f"agreement {safe(auth.agreement_id)} until {safe(auth.valid_until)} "
                f"({len(auth.receipts)} access receipt(s))",
                highlight=False,
            )
            console.print(f"    purpose      {named(auth.purpose, names)}", highlight=False)
            console.print(f"    legal basis  {named(auth.legal_basis, names)}", highlight=False)


def verify_command(
    target: Annotated[
        str,
        typer.Argument(
            help="A file, its SHA-256 (64 hex digits), or a records file with --record."
        ),
    ],
    record: RecordOption = None,
    salts: SaltsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Is this file or record anchored? By whom, when, and who may receive it now?"""
    settings = load_settings(json_output)

    gateways: list[Gateway] = []  # the one run() used, for the catalogue's names

    def run() -> Verification:
        # What to ask is worked out here first (files read, a typo said) before the node is.
        path = Path(target)
        if record is not None:
            must_exist(path)
            query = f"record {record} of {path.name}"
            try:
                hashes, salt = record_leaf(path, record, salts, settings)
            except hashing.RecordErasedError:
                # The owner's own sidecar, its salt destroyed: this gateway kept the leaf.
                assert salts is not None  # record_leaf asks for it first
                kept = Gateway(settings).eraser().erased_leaf(salts, record)
                if kept is None:
                    raise
                return _gateway_verifier().verify_leaf(kept, query=query)
            return _gateway_verifier().verify_record(hashes, salt, query=query)
        if path.is_file():
            digests = hashing.file_digests(path)  # SHA-256 and SM3 from one read
            answer = _gateway_verifier().file_verification(list(digests.values()))
            answer.query = str(path)
            return answer
        if len(target.strip().removeprefix("0x")) == 64:
            digest = parse_hash(target, what="SHA-256")
            return _gateway_verifier().verify_content_hash(digest)
        must_exist(path)
        raise InputError(f"{target} is neither a file nor a SHA-256 (64 hex digits).")

    def _gateway_verifier() -> Verifier:
        gw = Gateway(settings)
        gateways.append(gw)
        gw.indexer().sync()
        return gw.verifier()

    answer = guarded(json_output, run)
    if json_output and answer.anchored:
        emit_json({"ok": True, **answer.as_dict()})
        return
    if not json_output and answer.matches:
        _show(answer, guarded(json_output, lambda: _catalogue_names(gateways[0], answer)))
    try:
        answer.raise_for_status()
    except Exception as exc:
        if json_output:
            emit_json(
                {
                    "ok": False,
                    **answer.as_dict(),
                    "error": {"type": getattr(exc, "kind", "verification"), "message": str(exc)},
                }
            )
            raise typer.Exit(1) from None
        fail(str(exc), kind=getattr(exc, "kind", "verification"), as_json=False)


def verify_proof_command(
    bundle: Annotated[
        Path, typer.Argument(help="A proof bundle (JSON) made by `xietong dataset proof`.")
    ],
    rpc: Annotated[
        str | None, typer.Option("--rpc", help="Any node of the chain (default XIETONG_RPC_URL).")
    ] = None,
    trust: Annotated[
        Path | None,
        typer.Option(
            "--trust",
            help="The consortium trust file (compare its fingerprint out of band); default: "
            "the one `xietong deploy` wrote for the node's chain.",
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Ask no node: check the sealed headers and receipt proof of a bundle made on "
            "the consortium network against the trust file alone (docs/OFFLINE_PROOFS.md).",
        ),
    ] = False,
    cosigned: Annotated[
        bool,
        typer.Option(
            "--cosigned",
            help="Refuse a bundle that carries no checkpoint cosigned by the trust file's "
            "threshold of departments (docs/CHECKPOINTS.md).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Check a proof bundle: the Merkle path offline, then every claim of it on the
    consortium's chain, whose addresses come from the trust file alone. Trusts no gateway.
    With --offline, trusts no node either: a majority of the consortium's signers vouch.
    A cosigned checkpoint the bundle carries is checked too."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        try:
            with bundle.open("rb") as handle:
                text = handle.read(MAX_BUNDLE_SIZE + 1)  # more is refused unread
        except OSError as exc:
            raise InputError(f"cannot read {bundle} ({exc.strerror}).") from None
        data = load_bundle(text)  # BundleFormatError when it is not a JSON bundle
        if offline:
            check_text_size(len(text), data)
            return _required(_offline(data))
        check_bundle_offline(data)  # a bad bundle is refused before any node is asked
        w3 = connect(rpc or settings.rpc_url)
        if trust is not None:
            consortium = load_trust(trust)
        else:
            with node_errors():
                chain_id = int(w3.eth.chain_id)
            path = settings.trust_path(chain_id)
            if not path.exists():
                raise InputError(
                    f"no consortium trust file for chain {chain_id} at {path}: pass the one "
                    "your consortium published with --trust."
                )
            consortium = load_trust(path)
        return _required(
            verify_bundle(
                data, w3, trust=consortium, confirmations=settings.confirmations
            ).as_dict()
        )

    def _required(result: dict[str, Any]) -> dict[str, Any]:
        if cosigned and result["checkpoint"] is None:
            raise CheckpointError(
                "checkpoint-missing",
                "the bundle carries no checkpoint cosigned by the trust file's departments "
                "(--cosigned asks for one): ask its gateway for a new bundle a few blocks later.",
            )
        return result

    def _offline(data: Any) -> dict[str, Any]:
        if trust is not None:
            consortium = load_trust(trust)
        else:
            chain_id = data.get("chain_id") if isinstance(data, dict) else None
            path = settings.trust_path(chain_id) if isinstance(chain_id, int) else None
            if path is None or not path.exists():
                raise InputError(
                    "no consortium trust file for the bundle's chain here: pass the one your "
                    "consortium published with --trust."
                )
            consortium = load_trust(path)
        return verify_bundle_offline(data, consortium).as_dict()

    result = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "valid": True, "offline": offline, **result})
        return
    if offline:
        _show_offline(result)
        return
    # The values come from a bundle someone handed over, and names from the chain: shown
    # literally, like any data.
    owner, publisher = result["owner"], result["publisher"]
    console.print(f"[green]VALID[/] leaf {safe(result['leaf'])} ({safe(result['kind'])})")
    console.print(f"  root {safe(result['root'])} of dataset {safe(result['dataset_id'])}")
    console.print(f"  version id {safe(result['version_id'])}")
    console.print(
        f"  published by {_named(publisher)}; dataset owned by {_named(owner)}",
        highlight=False,
    )
    console.print(
        f"  anchored {safe(result['anchored_at'])}, block {safe(result['block_number'])}, "
        f"transaction {safe(result['transaction'])}"
    )
    console.print(
        f"  {safe(result['confirmations'])} confirmation(s), chain {safe(result['chain_id'])}, "
        f"consortium {safe(result['consortium'])}"
    )
    _show_checkpoint(result["checkpoint"])
    for sentence in result["unchecked"]:
        console.print(f"  [yellow]not checked[/] {safe(sentence)}", highlight=False)


def _show_checkpoint(checkpoint: dict[str, Any] | None) -> None:
    """The bundle's cosigned checkpoint: its block and the departments that signed it."""
    if checkpoint is None:
        return
    codes = ", ".join(safe(c["code"]) for c in checkpoint["cosigners"])
    console.print(
        f"  checkpoint block {safe(checkpoint['number'])} {safe(checkpoint['hash'])} cosigned "
        f"by {len(checkpoint['cosigners'])} ({checkpoint['threshold']} required): {codes}",
        highlight=False,
    )


def _named(department: dict[str, Any]) -> str:
    """A department as the chain names it, with its id beside a flagged or missing name,
    ready for Rich markup: made visible once (by display_name; safe() would double its
    escapes' backslashes), with markup escaped."""
    return escape(display_name(department["name"], department["name_flags"], department["id"]))


def _show_offline(result: dict[str, Any]) -> None:
    """An offline check, for people: what is proven and which departments vouch for it."""
    console.print(
        f"[green]VALID OFFLINE[/] leaf {safe(result['leaf'])} ({safe(result['kind'])})",
        highlight=False,
    )
    console.print(f"  root {safe(result['root'])} of dataset {safe(result['dataset_id'])}")
    publisher = result["publisher"]
    console.print(
        f"  published by department {safe(publisher['id'])}"
        + (f" ({safe(publisher['code'])})" if publisher["code"] else ""),
        highlight=False,
    )
    console.print(
        f"  anchored {safe(result['anchored_at'])}, block {safe(result['block_number'])}, "
        f"transaction {safe(result['transaction'])}",
        highlight=False,
    )
    console.print(f"  sealed by {_signer(result['sealed_by'])}", highlight=False)
    for signer in result["confirmed_by"]:
        console.print(f"  sealed on top by {_signer(signer)}", highlight=False)
    history = "followed from genesis" if result["from_genesis"] else "the trust file's"
    console.print(
        f"  {len(result['confirmed_by']) + 1} of {result['signers']} signers "
        f"({result['required']} required; signer set {history}), chain "
        f"{safe(result['chain_id'])}, consortium {safe(result['consortium'])}",
        highlight=False,
    )
    _show_checkpoint(result["checkpoint"])
    for sentence in result["unchecked"]:
        console.print(f"  [yellow]not checked[/] {safe(sentence)}", highlight=False)


def _signer(signer: dict[str, Any]) -> str:
    code = signer["code"]
    return safe(signer["address"]) + (f" ({safe(code)})" if code else " (no founder named it)")
