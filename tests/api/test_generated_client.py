"""A client generated from the gateway's ``/openapi.json`` knows its answers.

``openapi-python-client`` makes a Python package from the document (offline: no project
metadata, no post hooks, any warning fails), which is imported and used against a real
``xietong serve`` over the demo chain (undone afterwards) and a fresh database indexed from it,
on SQLite and PostgreSQL. Every answer comes back as the generated model of its route, with
each member typed and set: nothing unset, no unknown member kept as a loose dict.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api import create_app
from ledger.apikeys import create_api_key
from ledger.gateway import Gateway
from ledger.settings import Settings
from tests.api._serving import Served
from tests.api._support import (
    CIVIL,
    DIBAO,
    ELIGIBILITY,
    NAMES,
    PSB,
    World,
    dataset_of,
    keep_demo_descriptions,
)

PACKAGE = "xietong_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
#: Generated models whose members are free-form by design (an event's decoded arguments, the
#: PROV-JSON maps): their ``additional_properties`` is the answer.
FREE_FORM = ("AuditEventArgs", "Provenance")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The OpenAPI document as an app serves it (no chain needed)."""
    database = tmp_path_factory.mktemp("document") / "xietong.db"
    settings = Settings(_env_file=None, env="local", database_url=f"sqlite:///{database}")  # type: ignore[call-arg]
    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    app.state.xietong.gateway.engine.dispose()
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def generated(
    document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """The client package generated from ``document``, imported."""
    folder = tmp_path_factory.mktemp("generated")
    source = folder / "openapi.json"
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    config = folder / "config.json"
    # No post hooks: the default ones run ruff over the package, which adds nothing here.
    config.write_text(json.dumps({"post_hooks": []}), encoding="utf-8")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(source),
            "--meta",
            "none",  # the package alone: no pyproject.toml, nothing to install
            "--output-path",
            str(folder / PACKAGE),
            "--config",
            str(config),
            "--fail-on-warning",  # an operation or model it cannot make fails the test
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation(tag: str, name: str) -> Any:
    """The generated module of one operation (``api/<tag>/<operation id>.py``)."""
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def assert_complete(value: Any, where: str = "answer", optional: tuple[str, ...] = ()) -> None:
    """Every member of a generated model, nested ones too, is set and of a generated type:
    nothing Unset (but the members named in ``optional``), and no member the document did not
    declare kept in ``additional_properties`` (but in the free-form models)."""
    unset = importlib.import_module(f"{PACKAGE}.types").Unset
    if isinstance(value, list):
        for i, item in enumerate(value):
            assert_complete(item, f"{where}[{i}]", optional)
        return
    if not attrs.has(type(value)):
        assert isinstance(value, str | int | bool | Enum | type(None)), (where, value)
        return
    assert type(value).__module__.startswith(PACKAGE + ".models."), (where, type(value))
    for member in attrs.fields(type(value)):
        inner = getattr(value, member.name)
        if member.name == "additional_properties":
            if type(value).__name__.startswith(FREE_FORM):
                continue
            assert inner == {}, (where, inner)
            continue
        if isinstance(inner, unset):
            assert member.name in optional, f"{where}.{member.name} is unset"
            continue
        assert_complete(inner, f"{where}.{member.name}", optional)


@pytest.mark.parametrize("node", ["anvil"], indirect=True)  # the API does not depend on the engine
def test_a_generated_client_reads_every_answer_as_its_model(
    chain: World, database_url: str, tmp_path: Path, generated: ModuleType, document: Any
) -> None:
    gateway = Gateway(chain.settings(database_url=database_url))
    gateway.indexer().sync()
    keep_demo_descriptions(gateway.engine)
    with Session(gateway.engine) as session:
        _, read_key = create_api_key(session=session, name="generated client", scope="read")
        _, anchor_key = create_api_key(session=session, name="generated anchor", scope="anchor")
    gateway.engine.dispose()
    served = Served(chain, database_url, tmp_path, XIETONG_ANCHOR_BATCH_SECONDS="0.2")
    try:
        served.wait_until_up()
        # The client was generated from the document this server serves.
        assert httpx.get(served.url + "/openapi.json").json() == document
        reader = generated.AuthenticatedClient(base_url=served.url, token=read_key, timeout=30.0)
        anchorer = generated.AuthenticatedClient(
            base_url=served.url, token=anchor_key, timeout=30.0
        )
        public = generated.Client(base_url=served.url, timeout=30.0)
        report = chain.report

        # Datasets: a list, then one with its versions, lineage and agreements.
        datasets = operation("datasets", "list_datasets_v1_datasets_get").sync(client=reader)
        assert isinstance(datasets, model("DatasetList")), datasets
        assert_complete(datasets)
        assert datasets.next_cursor is None
        by_id = {d.id: d for d in datasets.items}
        dibao_id = "0x" + dataset_of(CIVIL, DIBAO).hex()
        summary = by_id[dibao_id]
        assert isinstance(summary, model("DatasetSummary"))
        assert isinstance(summary.owner, model("DepartmentRef"))
        assert summary.owner.name == NAMES[CIVIL] and summary.owner.name_flags == []
        assert summary.version_count == 2
        assert summary.latest_root == report.versions["dibao-2026-11"]

        dataset = operation("datasets", "get_dataset_v1_datasets_dataset_get").sync(
            dataset=DIBAO, client=reader
        )
        assert isinstance(dataset, model("Dataset")), dataset
        assert_complete(dataset)
        assert dataset.id == dibao_id and isinstance(dataset.block_number, int)
        versions = [report.versions["dibao-2026-10"], report.versions["dibao-2026-11"]]
        assert [v.root for v in dataset.versions] == versions
        assert [v.status.value for v in dataset.versions] == ["anchored", "anchored"]
        assert dataset.versions[1].department.name == NAMES[CIVIL]
        [edge] = dataset.lineage
        assert isinstance(edge, model("LineageEdge"))
        assert (edge.from_, edge.to) == (dataset.versions[0].id, dataset.versions[1].id)
        assert {a.id for a in dataset.agreements} == set(report.agreements.values())
        assert all(isinstance(a, model("Agreement")) for a in dataset.agreements)

        provenance = operation("datasets", "provenance_v1_datasets_dataset_provenance_get").sync(
            dataset=DIBAO, client=reader
        )
        assert isinstance(provenance, model("Provenance")), provenance
        assert f"xt:dataset/{dibao_id}" in provenance.entity.additional_properties

        # A batch of hashes (one file): submitted, polled until the server's batcher anchored it.
        digest = "0x" + hashlib.sha256(f"generated client {uuid.uuid4()}".encode()).hexdigest()
        name = "通知/generated-client.txt"
        submission = model("Submission")(
            dataset=DIBAO, leaves=[model("Leaf")(content_hash=digest, name=name)]
        )
        queued = operation("anchoring", "submit_v1_anchors_post").sync(
            client=anchorer, body=submission
        )
        assert isinstance(queued, model("Batch")), queued
        assert_complete(queued)
        assert queued.leaf_count == 1 and queued.status.value == "collecting"
        assert queued.dataset_id == dibao_id and queued.root is None
        poll = operation("anchoring", "status_v1_anchors_batch_id_get")

        def confirmed() -> Any:
            batch = poll.sync(batch_id=queued.batch_id, client=anchorer)
            assert isinstance(batch, model("Batch")), batch
            return batch if batch.status.value == "confirmed" else None

        batch = served.eventually("the batch confirmed", confirmed)
        assert_complete(batch)
        assert batch.batch_id == queued.batch_id and batch.error is None
        assert isinstance(batch.root, str) and isinstance(batch.transaction, str)
        assert isinstance(batch.block_number, int)

        # Its verification, with its proof bundle (once the server's indexer has read it).
        verify = operation("verify", "verify_hash_v1_verify_get")

        def indexed() -> Any:
            answer = verify.sync(client=reader, hash_=digest, with_proof=True)
            return answer if isinstance(answer, model("VerifyAnswer")) else None

        verified = served.eventually("the file verified", indexed)
        assert_complete(verified, optional=("checkpoint",))  # none cosigned: no peer here
        assert verified.anchored is True and verified.status.value == "anchored"
        [match] = verified.matches
        assert isinstance(match, model("VerifyMatch"))
        assert (match.kind.value, match.path, match.content_hash) == ("file", name, digest)
        assert match.record_index is None and match.lineage == []
        assert match.version.root == batch.root and match.version.transaction == batch.transaction
        assert match.version.dataset_id == dibao_id
        assert match.version.owner.name == NAMES[CIVIL]
        assert match.version.owner.status.value == "active"
        assert match.version.final is True and match.version.confirmations >= 1
        [allowed] = match.authorizations  # the active agreement covering the dataset
        assert isinstance(allowed, model("VerifiedAuthorization"))
        assert allowed.agreement_id == report.agreements["dibao-to-psb"]
        assert allowed.consumer.name == NAMES[PSB] and allowed.receipts
        assert isinstance(allowed.receipts[0], model("VerifiedReceipt"))
        assert isinstance(match.proof, model("ProofBundle"))
        assert match.proof.format_ == "xietong-proof/3"
        assert match.proof.leaf.values == [digest, name]
        assert match.proof.chain_id == chain.client.chain_id
        assert verified.index.node_reachable is True
        without = verify.sync(client=reader, hash_=digest)
        assert isinstance(without, model("VerifyAnswer"))
        assert_complete(without, optional=("proof",))  # absent unless asked for

        bundle = operation("proofs", "proof_v1_proofs_leaf_get").sync(
            leaf=match.leaf_hash, client=reader
        )
        assert isinstance(bundle, model("ProofBundle")), bundle
        assert_complete(bundle, optional=("checkpoint",))
        assert (bundle.root, bundle.version_id) == (batch.root, match.version.id)
        assert bundle.publisher.id == match.version.anchored_by.id

        # An agreement with its access receipts, and the authorization it gives.
        active = report.agreements["dibao-to-psb"]
        agreement = operation("agreements", "get_agreement_v1_agreements_agreement_get").sync(
            agreement=active, client=reader
        )
        assert isinstance(agreement, model("AgreementWithReceipts")), agreement
        assert_complete(agreement)
        assert agreement.id == active and agreement.status.value == "active"
        assert (agreement.provider.name, agreement.consumer.name) == (NAMES[CIVIL], NAMES[PSB])
        assert agreement.datasets == [dibao_id]
        assert agreement.closed_at is None and agreement.accepted_at is not None
        assert agreement.access_receipts
        receipt = agreement.access_receipts[0]
        assert isinstance(receipt, model("AccessReceipt"))
        assert receipt.index == 0 and receipt.entry_count > 0

        check = operation("agreements", "check_v1_authorizations_check_get").sync(
            client=reader, provider=CIVIL, consumer=PSB, dataset=DIBAO, purpose=ELIGIBILITY
        )
        assert isinstance(check, model("Authorization")), check
        assert_complete(check)
        assert check.authorized is True and check.source.value == "chain"
        assert check.agreement_id == active and check.agreement.id == active
        assert check.index.chain_id == chain.client.chain_id

        # Commitments, departments and the audit trail.
        commitments = operation("commitments", "list_commitments_v1_commitments_get").sync(
            client=reader
        )
        assert isinstance(commitments, model("CommitmentList")), commitments
        assert_complete(commitments)
        [commitment] = commitments.items
        assert commitment.id == report.commitment
        assert all(isinstance(p, model("CommitmentParticipant")) for p in commitment.participants)
        department = operation("departments", "get_department_v1_departments_department_get").sync(
            department=CIVIL, client=reader
        )
        assert isinstance(department, model("Department")), department
        assert_complete(department)
        assert department.display_name == NAMES[CIVIL] and department.status.value == "active"
        events = operation("audit", "events_v1_audit_events_get").sync(client=reader, limit=500)
        assert isinstance(events, model("AuditEventList")), events
        assert_complete(events)
        assert events.items and events.items[0].event == "DepartmentAdmitted"
        assert events.items[0].args.additional_properties["name"] == NAMES[PSB]
        assert {e.contract.value for e in events.items} >= {"DatasetRegistry", "SharingAgreements"}

        # Public and health answers.
        consortium = operation("consortium", "consortium_v1_consortium_get").sync(client=public)
        assert isinstance(consortium, model("ConsortiumAnswer")), consortium
        assert_complete(consortium, optional=("clique",))  # on a Clique network only
        trust = chain.trust()
        assert consortium.fingerprint == trust.fingerprint
        assert consortium.contracts.dataset_registry == trust.contracts["DatasetRegistry"]
        health = operation("health", "healthz_healthz_get").sync(client=public)
        assert isinstance(health, model("Health")) and health.status == "ok"
        ready = operation("health", "readyz_readyz_get").sync(client=public)
        assert isinstance(ready, model("Readiness")), ready
        assert_complete(ready, optional=("error",))
        assert ready.node.reachable is True and ready.index.indexer.running is True
    finally:
        served.stop()
