"""What a membership proposal takes, checked before anything is signed (ledger.governance)."""

from __future__ import annotations

import pytest

from ledger import InputError
from ledger.chain.enums import ProposalKind
from ledger.governance import MAX_NAME_BYTES, membership_proposal
from ledger.ids import department_id

OPERATOR = "0x" + "11" * 20


def test_each_kind_takes_what_it_needs() -> None:
    admit = membership_proposal("admit", department=" HZ-NEW ", name=" 新部门 ", account=OPERATOR)
    assert (admit.kind, admit.department_id, admit.name) == (
        ProposalKind.ADMIT,
        department_id("HZ-NEW"),
        "新部门",
    )
    assert admit.account == "0x1111111111111111111111111111111111111111"
    suspend = membership_proposal("suspend", department="HZ-NEW")
    assert (suspend.kind, suspend.department_id, suspend.name) == (
        ProposalKind.SUSPEND,
        department_id("HZ-NEW"),
        "",
    )
    grant = membership_proposal("grant-auditor", account=OPERATOR)
    assert (grant.kind, grant.department_id) == (ProposalKind.GRANT_AUDITOR, bytes(32))


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        (
            "abolish",
            {},
            "a proposal is one of admit, suspend, readmit, grant-auditor, revoke-auditor, not 'abolish'.",
        ),
        ("readmit", {}, "a proposal to readmit needs the department (its code)."),
        (
            "revoke-auditor",
            {"account": OPERATOR, "name": "x"},
            "a proposal to revoke-auditor takes no department's name.",
        ),
        (
            "admit",
            {"department": "HZ", "name": "a\ud800", "account": OPERATOR},
            "a department's name is not valid Unicode (it holds a lone surrogate).",
        ),
        (
            "admit",
            {"department": "HZ", "name": "审" * 86, "account": OPERATOR},
            f"a department's name holds at most {MAX_NAME_BYTES} bytes of UTF-8.",
        ),
        (
            "admit",
            {"department": "HZ", "name": "零\u200b宽", "account": OPERATOR},
            "the name '零\\u200b宽' holds characters a name may not (zero-width).",
        ),
        (
            "grant-auditor",
            {"account": "0xAbcdef0000000000000000000000000000000000"},
            "0xAbcdef0000000000000000000000000000000000 has a wrong checksum (mixed case that does not match).",
        ),
    ],
)
def test_a_malformed_proposal_is_one_sentence(
    kind: str, fields: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError) as refused:
        membership_proposal(kind, **fields)
    assert str(refused.value) == message
