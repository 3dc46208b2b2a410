"""Agreement terms and commitment proposals from the text people type, the same for the CLI
and the API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ledger.errors import InputError
from ledger.ids import AgreementTerms, code_hash, dataset_id
from ledger.proposals import CommitmentProposal, agreement_terms, commitment_proposal
from ledger.refs import timestamp

PSB, CIVIL = "11330100MB1A00001P", "11330100MB1A00002K"
TERMS = "0x" + "7d" * 32


def terms(**changes: str) -> AgreementTerms:
    given = {
        "provider": CIVIL,
        "consumer": PSB,
        "purpose": "eligibility-check",
        "legal_basis": "社会救助暂行办法",
        "valid_from": "2026-12-01",
        "valid_until": "2027-12-01",
        **changes,
    }
    if "terms_document" not in given:
        given.setdefault("terms_hash", TERMS)
    return agreement_terms(datasets=["HZ-DIBAO", "0x" + "ab" * 32], **given)


def test_codes_and_ids_become_the_on_chain_terms() -> None:
    assert terms() == AgreementTerms(
        provider=code_hash(CIVIL),
        consumer=code_hash(PSB),
        dataset_ids=(dataset_id(code_hash(CIVIL), "HZ-DIBAO"), b"\xab" * 32),  # the provider's
        purpose=code_hash("eligibility-check"),
        legal_basis=code_hash("社会救助暂行办法"),
        terms_hash=b"\x7d" * 32,
        valid_from=timestamp("2026-12-01", what="start"),
        valid_until=timestamp("2027-12-01", what="end"),
    )


def test_a_dataset_code_names_the_providers_dataset_however_the_provider_is_given() -> None:
    ours = dataset_id(code_hash(CIVIL), "HZ-DIBAO")
    assert terms(provider="0x" + code_hash(CIVIL).hex()).dataset_ids[0] == ours
    assert terms(provider=PSB, consumer=CIVIL).dataset_ids[0] == dataset_id(
        code_hash(PSB), "HZ-DIBAO"
    )
    assert terms(provider=PSB, consumer=CIVIL).dataset_ids[1] == b"\xab" * 32  # an id as is


def test_a_terms_hash_may_omit_0x() -> None:
    assert terms(terms_hash="7d" * 32).terms_hash == b"\x7d" * 32


def test_a_terms_document_is_a_file_or_its_0x_hash(tmp_path: Path) -> None:
    document = tmp_path / "terms.txt"
    document.write_text("协议\n", encoding="utf-8")
    digest = hashlib.sha256(document.read_bytes()).digest()
    assert terms(terms_document=str(document)).terms_hash == digest
    assert terms(terms_document=TERMS).terms_hash == b"\x7d" * 32
    with pytest.raises(InputError, match="neither a document file nor a 0x SHA-256"):
        terms(terms_document=str(tmp_path / "missing.txt"))


def test_exactly_one_of_terms_hash_and_terms_document() -> None:
    with pytest.raises(TypeError):
        terms(terms_hash=TERMS, terms_document=TERMS)
    with pytest.raises(TypeError):
        agreement_terms(
            provider=CIVIL,
            consumer=PSB,
            datasets=["HZ-DIBAO"],
            purpose="p",
            legal_basis="l",
            valid_from="2026-12-01",
            valid_until="2027-12-01",
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"provider": "0x1234"}, "provider"),
        ({"consumer": " "}, "consumer"),
        ({"purpose": " "}, "must not be empty"),
        ({"terms_hash": "0x7d"}, "terms hash"),
        ({"valid_from": "2026-13-01"}, "start"),
        ({"valid_until": "tomorrow"}, "end"),
    ],
)
def test_the_bad_value_is_named(changes: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        terms(**changes)


def test_a_commitment_proposal() -> None:
    proposal = commitment_proposal(
        matter="出生一件事-0001",
        participants=[(CIVIL, "核定救助"), ("0x" + "cd" * 32, "办理户口登记")],
        deadline="2099-01-01",
    )
    assert proposal == CommitmentProposal(
        matter_ref=code_hash("出生一件事-0001"),
        participants=(code_hash(CIVIL), b"\xcd" * 32),
        duty_hashes=(code_hash("核定救助"), code_hash("办理户口登记")),
        deadline=timestamp("2099-01-01", what="deadline"),
    )


@pytest.mark.parametrize(
    ("matter", "participant", "deadline", "message"),
    [
        (" ", (CIVIL, "duty"), "2099-01-01", "must not be empty"),
        ("m", ("0x12", "duty"), "2099-01-01", "department"),
        ("m", (CIVIL, " "), "2099-01-01", "must not be empty"),
        ("m", (CIVIL, "duty"), "someday", "deadline"),
    ],
)
def test_a_bad_commitment_value_is_named(
    matter: str, participant: tuple[str, str], deadline: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        commitment_proposal(matter=matter, participants=[participant], deadline=deadline)
