"""``xietong dataset register|anchor|proof|revoke|erase|resume``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_utils import keccak
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from .. import hashing
from .. import refs as _refs
from ..anchoring import PreparedVersion, prepare_path
from ..catalogue import UnknownDigestError
from ..db.tables import VersionAnchoring
from ..erasure import record_leaves
from ..errors import InputError
from ..gateway import Gateway
from ..ids import code_hash, version_id
from ..metadata import metadata_text
from ..settings import Settings
from ._output import (
    command_name,
    console,
    emit_json,
    err_console,
    guarded,
    load_settings,
    must_exist,
    respond,
    safe,
)

app = typer.Typer(help="Register datasets, anchor versions, make proofs.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _batch_dict(batch: VersionAnchoring) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        "dataset_id": batch.dataset_id,
        "root": batch.root,
        "version_id": "0x"
        + version_id(bytes.fromhex(batch.dataset_id[2:]), bytes.fromhex(batch.root[2:])).hex(),
        "leaf_count": batch.leaf_count,
        "leaf_kind": batch.leaf_kind,
        "parents": json.loads(batch.parents),
        "status": batch.status,
        "transaction": batch.tx_hash,
        "block_number": batch.block_number,
        "sender": batch.sender,
        "error": batch.error,
    }


@app.command()
def register(
    dataset: Annotated[str, typer.Argument(help="Catalogue code of the dataset.")],
    metadata: Annotated[
        str, typer.Option("--metadata", help="Description; only its hash goes on chain.")
    ] = "",
    digest: Annotated[
        str,
        typer.Option(
            "--digest", help="Content digest of its versions: sha256 or sm3 (GM/T 0004-2012)."
        ),
    ] = "sha256",
    json_output: JsonOption = False,
) -> None:
    """Register a dataset of this gateway's department: its id derives from the department
    and the code, so no other department can take the code from it."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        if dataset.strip().startswith(("0x", "0X")):
            raise InputError(
                "a dataset is registered by its catalogue code (its id derives from the "
                "department and the code), not by a 0x id."
            )
        code = code_hash(dataset)
        text = metadata_text(metadata, hashing.check_digest(digest))
        gw = Gateway(settings)
        gw.remember(("code", dataset), ("text", text))
        tx = gw.client.transact(
            "DatasetRegistry",
            "registerDataset",
            code,
            keccak(text=text),
            sender=gw.signer,
        )
        event = tx.event("DatasetRegistered")
        return {
            "dataset_id": "0x" + event["datasetId"].hex(),
            "digest": digest,
            "code_hash": "0x" + code.hex(),
            "owner_department": "0x" + event["ownerDepartment"].hex(),
            "transaction": tx.tx_hash,
            "block_number": tx.block_number,
        }

    respond(
        json_output,
        run,
        lambda result: (
            f"[green]registered[/] dataset {safe(result['dataset_id'])} "
            f"in block {result['block_number']}"
        ),
    )


@app.command()
def anchor(
    path: Annotated[
        Path,
        typer.Argument(help="A folder (file leaves), a file, or a CSV/JSON Lines file (records)."),
    ],
    dataset: Annotated[
        str, typer.Option("--dataset", help="Dataset code (of this department) or 0x id.")
    ],
    parent: Annotated[
        list[str] | None,
        typer.Option(
            "--parent",
            help="A version this one derives from: its root (a version of the same dataset) "
            "or DATASET:ROOT (a 0x dataset id, or a code of this department).",
        ),
    ] = None,
    records: Annotated[
        bool | None, typer.Option("--records/--files", help="Force records or files.")
    ] = None,
    salts: Annotated[
        Path | None, typer.Option("--salts", help="Salts sidecar (default PATH.salts.json).")
    ] = None,
    subject_column: Annotated[
        str | None,
        typer.Option(
            "--subject-column",
            help="Records: the column (CSV) or field (JSON Lines) naming each record's data "
            "subject; its salts then come from the subject's key (XIETONG_SUBJECT_KEYS), "
            "destroyed by `dataset erase --subject`.",
        ),
    ] = None,
    digest: Annotated[
        str | None,
        typer.Option(
            "--digest",
            help="sha256 or sm3 (default: what the dataset was registered for, else sha256).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Hash PATH, build the tree, persist it and anchor its root."""
    settings = load_settings(json_output)

    def run() -> tuple[PreparedVersion, VersionAnchoring]:
        must_exist(path)  # said before the node is asked for anything
        asked = hashing.check_digest(digest) if digest is not None else None
        gw = Gateway(settings)
        owner = gw.department_of_signer()
        dataset_id = _refs.dataset(dataset, owner=owner)
        parents = [_refs.version(p, of_dataset=dataset_id, owner=owner) for p in parent or []]
        chosen = _digest_for(gw, dataset_id, asked)
        anchorer = gw.anchorer()
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err_console,
            disable=json_output,
            transient=True,
        ) as progress:
            # The description is Rich markup: the file name in it is data.
            task = progress.add_task(f"hashing {safe(path.name)}", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            prepared = prepare_path(
                path,
                dataset_id,
                parents=parents,
                records=records,
                salts_path=salts,
                digest=chosen,
                on_progress=on_progress,
                subject_column=subject_column,
                subject_keys=settings.subject_keys,
            )
        return prepared, anchorer.anchor(prepared)

    prepared, batch = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, **_batch_dict(batch), "digest": prepared.digest})
        return
    console.print(
        f"[green]anchored[/] {batch.leaf_count} {safe(batch.leaf_kind)} leaves of {safe(path)}",
        highlight=False,
    )
    console.print(f"  root        {safe(batch.root)}")
    console.print(f"  dataset     {safe(batch.dataset_id)}")
    console.print(f"  version id  {safe(_batch_dict(batch)['version_id'])}")
    console.print(f"  transaction {safe(batch.tx_hash)} (block {batch.block_number})")
    if prepared.kind == "record":
        console.print("  keep the salts file with the data: it is needed to prove a record later.")


def _digest_for(gw: Gateway, dataset_id: bytes, asked: hashing.Digest | None) -> hashing.Digest:
    """The digest to anchor a version of ``dataset_id`` with: the one it was registered for
    (its metadata), which ``asked`` may repeat but not contradict; else ``asked`` or SHA-256.
    When this gateway's catalogue lacks the metadata text, ``asked`` (refused without it)."""
    try:
        registered = gw.dataset_digest(dataset_id)
        if registered is None:  # perhaps registered a moment ago: its row not indexed yet
            gw.indexer().sync()
            registered = gw.dataset_digest(dataset_id)
    except UnknownDigestError as unknown:
        if asked is None:
            raise InputError(
                f"{str(unknown).removesuffix('.')}; or name it with --digest."
            ) from None
        return asked  # the operator says which
    if registered is not None and asked is not None and asked != registered:
        raise InputError(
            f"dataset 0x{dataset_id.hex()} was registered for {registered} digests; anchor its versions with {registered}."
        )
    return registered or asked or "sha256"


@app.command()
def resume(
    abandon: Annotated[
        list[str] | None,
        typer.Option(
            "--abandon",
            help="Give up this failed anchoring (its batch id); may be repeated.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Finish anchoring batches interrupted by a crash or an outage, and list those the chain
    refused (anchor the same version again to retry one, or abandon it)."""
    settings = load_settings(json_output)

    def run() -> tuple[list[VersionAnchoring], list[VersionAnchoring], list[VersionAnchoring]]:
        anchorer = Gateway(settings).anchorer()
        # Every id checked before any is given up: a typo in the second abandons nothing.
        chosen = list(dict.fromkeys(abandon or []))  # one id named twice is given up once
        refused = {b.id for b in anchorer.failed()}
        for batch_id in chosen:
            if batch_id not in refused:
                anchorer.abandon(batch_id)  # raises the reason it cannot be (no change made)
        abandoned = [anchorer.abandon(batch_id) for batch_id in chosen]
        return anchorer.resume(), anchorer.failed(), abandoned

    batches, failed, abandoned = guarded(json_output, run)
    if json_output:
        emit_json(
            {
                "ok": True,
                "batches": [_batch_dict(b) for b in batches],
                "failed": [_batch_dict(b) for b in failed],
                "abandoned": [_batch_dict(b) for b in abandoned],
            }
        )
        return
    for b in abandoned:
        console.print(f"abandoned {safe(b.id)}: version {safe(b.root)} of {safe(b.dataset_id)}")
    if not batches and not failed:
        console.print("nothing to resume.")
    for b in batches:
        console.print(f"{safe(b.root)}: {safe(b.status)} (transaction {safe(b.tx_hash)})")
    for b in failed:
        console.print(
            f"[red]refused[/] {safe(b.id)}: version {safe(b.root)} of {safe(b.dataset_id)}: "
            f"{safe(b.error)}",
            highlight=False,
        )
    if failed:
        console.print(
            "anchor the same version again to retry it, or give it up with "
            f"`{safe(command_name())} dataset resume --abandon BATCH_ID`.",
            highlight=False,
        )


@app.command()
def revoke(
    root: Annotated[str, typer.Argument(help="Root of the version to revoke.")],
    dataset: Annotated[
        str, typer.Option("--dataset", help="Its dataset: code (of this department) or 0x id.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why; only its hash goes on chain.")],
    json_output: JsonOption = False,
) -> None:
    """Revoke a version this gateway's department anchored."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        dataset_id = _refs.dataset(dataset, owner=gw.department_of_signer())
        gw.remember(("code", reason))
        tx = gw.client.transact(
            "DatasetRegistry",
            "revokeVersion",
            dataset_id,
            _refs.root(root),
            code_hash(reason),
            sender=gw.signer,
        )
        return {
            "root": "0x" + _refs.root(root).hex(),
            "dataset_id": "0x" + dataset_id.hex(),
            "transaction": tx.tx_hash,
            "block_number": tx.block_number,
        }

    respond(
        json_output,
        run,
        lambda result: (
            f"[yellow]revoked[/] {safe(result['root'])} in block {result['block_number']}"
        ),
    )


@app.command()
def erase(
    data: Annotated[Path, typer.Argument(help="The records file (CSV or JSON Lines) anchored.")],
    salts: Annotated[Path, typer.Option("--salts", help="Its salts sidecar.")],
    dataset: Annotated[
        str, typer.Option("--dataset", help="Its dataset: code (of this department) or 0x id.")
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why (a request number, never a name); only its hash goes on chain."
        ),
    ],
    record: Annotated[
        list[int] | None,
        typer.Option("--record", min=0, help="Row number (from 0) of a record to erase; repeat."),
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject",
            help="Erase every record of this data subject (the value of the subject column) "
            "and destroy the subject's key (unless --keep-key): their salts in every sidecar "
            "are lost.",
        ),
    ] = None,
    root: Annotated[
        str | None,
        typer.Option("--root", help="The version, when several of the dataset hold the records."),
    ] = None,
    keep_key: Annotated[
        bool,
        typer.Option(
            "--keep-key",
            help="With --subject: keep the subject's key, to erase their records of other "
            "versions next (the last of those runs, without it, destroys the key).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Erase records this department anchored: destroy their salts, record it on chain."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        must_exist(data)
        must_exist(salts)
        if (record is None) == (subject is None):
            raise InputError(
                "say which records to erase: --record ROW (repeat), or --subject VALUE."
            )
        if keep_key and subject is None:
            raise InputError("--keep-key keeps a subject's key: it goes with --subject.")
        store = None
        if subject is None:
            kept = read_sidecar(salts, settings)
            rows = list(dict.fromkeys(record or []))  # in order, once each
        else:
            store = hashing.SubjectKeys.open(settings.subject_keys)  # read once, used twice
            kept = hashing.read_salts(salts, subject_keys=store)
            if kept.subject_keys_id != store.id:
                raise InputError(
                    f"{salts} does not take its salts from the subject key store "
                    f"{settings.subject_keys}: erase its records with --record."
                )
            rows = kept.rows_of(store.tag(subject))
            if not rows:  # erased already (a crash after it, say), or never in this version
                said = _end_subject_key(store, subject, keep=keep_key)
                return {"ok": True, "count": 0, "salts": str(salts), "subject_key": said}
        for row in rows:  # an erased or missing row refused before the node is asked
            kept.salt(row, name=str(data))
        gw = Gateway(settings)
        dataset_id = _refs.dataset(dataset, owner=gw.department_of_signer())
        gw.indexer().sync()  # the version must be indexed to be found
        leaves = record_leaves(data, rows, kept, digest=gw.dataset_digest(dataset_id) or "sha256")
        erased = gw.eraser().erase(
            dataset=dataset_id,
            leaves=leaves,
            reason=reason,
            root=_refs.root(root) if root else None,
            rows=rows,
            salts_path=salts.resolve(),
            subject_keys=settings.subject_keys,
        )
        gw.indexer().sync()
        result = erased.as_dict()
        if store is not None and subject is not None:
            # After the erasure is on chain: a crash before it is redone by running again.
            result["subject_key"] = _end_subject_key(store, subject, keep=keep_key)
        return result

    respond(
        json_output,
        run,
        lambda result: (
            f"[yellow]the subject's key is {result['subject_key']}[/]; no record of theirs was "
            f"left in {safe(result['salts'])}"
            if "root" not in result
            else f"[yellow]erased[/] {result['count']} record(s) of version {safe(result['root'])}"
            + (
                f" in block {result['block_number']}"
                if result["block_number"] is not None
                else " (the chain held the erasure already)"
            )
            + f"; their salts are destroyed in {safe(result['salts'])}"
            + (f"; the subject's key is {result['subject_key']}" if "subject_key" in result else "")
        ),
    )


def _end_subject_key(store: hashing.SubjectKeys, subject: str, *, keep: bool) -> str:
    """What becomes of ``subject``'s key once their records of a version are erased: destroyed
    (and the store saved), or with ``keep`` left for their records of other versions; what it
    now is ("kept", or "destroyed" by this or an earlier run). SubjectKeysError when the store
    never held the subject."""
    if not keep:
        store.destroy(subject)
        store.save()
        return "destroyed"
    return "kept" if store.subjects[store.held_tag(subject)] is not None else "destroyed"


RecordOption = Annotated[
    int | None, typer.Option("--record", min=0, help="Row number (from 0) of a record.")
]
SaltsOption = Annotated[Path | None, typer.Option("--salts", help="Salts sidecar of the records.")]


def read_sidecar(salts: Path, settings: Settings) -> hashing.Salts:
    """The salts sidecar ``salts``, its subjects' salts from the department's subject key
    store when it takes them from there."""
    return hashing.read_salts(salts, subject_keys=settings.subject_keys)


def record_leaf(
    data: Path, record: int, salts: Path | None, settings: Settings
) -> tuple[dict[str, bytes], bytes]:
    """The digests (SHA-256 and SM3: its dataset's is one of them) of row ``record`` of a
    records file, and its salt, from its salts sidecar (whose other records may have been
    erased)."""
    if salts is None:
        raise InputError(
            "--record needs --salts: the salts sidecar made when the records were anchored."
        )
    entries = hashing.record_at_digests(data, record, salts=read_sidecar(salts, settings))
    hashes: dict[str, bytes] = {d: e.record_hash for d, e in entries.items()}
    return hashes, entries["sha256"].salt


@app.command()
def proof(
    target: Annotated[
        str, typer.Argument(help="An anchored file, or a CSV/JSON Lines file with --record.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the bundle (JSON).")],
    record: RecordOption = None,
    salts: SaltsOption = None,
    root: Annotated[
        str | None,
        typer.Option(
            "--root",
            help="Version to prove against: its root, or DATASET:ROOT when several datasets "
            "hold that root (default: the latest).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Write a self-contained proof bundle that anyone can check against any node."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        verifier = gw.verifier()
        version = chosen_root = None
        if root and ":" in root:  # DATASET:ROOT, the dataset a code of this department or an id
            dataset, _, _ = root.rpartition(":")
            owner = b"" if dataset.strip().startswith(("0x", "0X")) else gw.department_of_signer()
            version = _refs.version(root, of_dataset=b"", owner=owner)
        elif root:
            chosen_root = _refs.root(root)
        if record is not None:
            hashes, salt = record_leaf(Path(target), record, salts, settings)
            return verifier.record_bundle(hashes, salt, version=version, root=chosen_root)
        path = Path(target)
        if not path.is_file():
            raise InputError(f"{target} is not a file.")
        return verifier.file_bundle(
            list(hashing.file_digests(path).values()),  # SHA-256 and SM3, one read
            version=version,
            root=chosen_root,
            name=path.name,
        )

    bundle = guarded(json_output, run)

    def write() -> None:
        try:
            out.write_text(
                json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            raise InputError(f"cannot write {out} ({exc.strerror}).") from None

    guarded(json_output, write)
    if json_output:
        emit_json(
            {"ok": True, "bundle": str(out), "root": bundle["root"], "leaf": bundle["leaf"]["hash"]}
        )
    else:
        console.print(
            f"[green]wrote[/] proof bundle {safe(out)} (root {safe(bundle['root'])})",
            highlight=False,
        )
