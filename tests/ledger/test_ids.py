"""Pure id derivations, and the dataset, version and erasure ids against their on-chain twins
(``computeDatasetId``, ``computeVersionId``, ``computeErasureId`` by ``eth_call``, on both
engines).

The vectors (tests/vectors/ids.json) were made independently of ``ledger.ids`` (js-sha3, no ABI
library); the agreement and commitment twins are checked in tests/contracts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_utils import keccak

from ledger.errors import InputError
from ledger.ids import code_hash, dataset_id, department_id, erasure_id, version_id
from ledger.paths import PROJECT_ROOT
from tests.support import Consortium

VECTORS = json.loads((PROJECT_ROOT / "tests" / "vectors" / "ids.json").read_text(encoding="utf-8"))
DATASET_CASES = VECTORS["dataset_id"]
VERSION_CASES = VECTORS["version_id"]
ERASURE_CASES = VECTORS["erasure_id"]
OWNER = department_id("TEST-PSB-001")


def word(text: str) -> bytes:
    """A 0x-hex 32-byte value of the vectors."""
    value = bytes.fromhex(text.removeprefix("0x"))
    assert len(value) == 32, text
    return value


def by_desc(cases: list[dict[str, Any]]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[case["desc"][:40] for case in cases])


# ------------------------------------------------------------------ codes and departments


def test_department_id_is_keccak_of_the_code() -> None:
    assert department_id("91330100MA27XYZ12K") == keccak(b"91330100MA27XYZ12K")


def test_surrounding_whitespace_is_ignored() -> None:
    assert department_id("  X-1\n") == department_id("X-1")
    assert dataset_id(OWNER, "\tDS-1 ") == dataset_id(OWNER, "DS-1")


def test_utf8_codes() -> None:
    assert code_hash("低保名单") == keccak("低保名单".encode())
    assert dataset_id(OWNER, "低保名单") == keccak(OWNER + keccak("低保名单".encode()))


@pytest.mark.parametrize("code", ["", "   ", "\n"])
def test_empty_code_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        code_hash(code)
    with pytest.raises(ValueError, match="must not be empty"):
        dataset_id(OWNER, code)


def test_code_with_a_lone_surrogate_is_an_input_error() -> None:
    with pytest.raises(InputError, match="lone surrogate"):
        code_hash("民政\ud800局")
    with pytest.raises(InputError, match="lone surrogate"):
        dataset_id(OWNER, "民政\ud800局")


# ------------------------------------------------------------------ dataset and version ids


@by_desc(DATASET_CASES)
def test_dataset_id_matches_the_vectors(case: dict[str, Any]) -> None:
    assert code_hash(case["code"]) == word(case["code_hash"])
    assert dataset_id(word(case["owner"]), case["code"]) == word(case["expected"])


@by_desc(VERSION_CASES)
def test_version_id_matches_the_vectors(case: dict[str, Any]) -> None:
    assert version_id(word(case["dataset"]), word(case["root"])) == word(case["expected"])


@by_desc(ERASURE_CASES)
def test_erasure_id_matches_the_vectors(case: dict[str, Any]) -> None:
    dataset, root = word(case["dataset"]), word(case["root"])
    assert erasure_id(dataset, root, word(case["erased_root"])) == word(case["expected"])


def test_erasure_id_is_keyed_by_the_version_and_the_erased_root() -> None:
    """keccak256(abi.encode(version id, erased root)): per version, per erased root, and the
    words are not interchangeable."""
    dataset, root, erased = dataset_id(OWNER, "DS-1"), keccak(b"root"), keccak(b"erased")
    assert erasure_id(dataset, root, erased) == keccak(version_id(dataset, root) + erased)
    other_dataset = dataset_id(department_id("TEST-CAB-002"), "DS-1")
    assert erasure_id(dataset, root, erased) != erasure_id(other_dataset, root, erased)
    assert erasure_id(dataset, root, erased) != erasure_id(dataset, keccak(b"root 2"), erased)
    assert erasure_id(dataset, root, erased) != erasure_id(dataset, root, keccak(b"erased 2"))
    assert erasure_id(dataset, root, erased) != erasure_id(dataset, erased, root)


def test_dataset_id_depends_on_the_owner_and_version_id_on_the_dataset() -> None:
    other = department_id("TEST-CAB-002")
    assert dataset_id(OWNER, "DS-1") != dataset_id(other, "DS-1")
    assert dataset_id(OWNER, "DS-1") != dataset_id(OWNER, "DS-2")
    # The old scheme (the code's hash alone) is none of the new ids.
    assert dataset_id(OWNER, "DS-1") != code_hash("DS-1")
    root = keccak(b"root")
    assert version_id(dataset_id(OWNER, "DS-1"), root) != version_id(
        dataset_id(other, "DS-1"), root
    )
    # The words are not interchangeable.
    a, b = keccak(b"a"), keccak(b"b")
    assert version_id(a, b) != version_id(b, a)


def test_vectors_cover_the_required_cases() -> None:
    """The committed vectors hold the cases they are meant to (as their desc says)."""
    codes = [case["code"] for case in DATASET_CASES]
    assert any(code != code.strip() for code in codes)
    assert any(not code.isascii() for code in codes)
    assert any(len(ch.encode("utf-8")) == 4 for code in codes for ch in code)
    same_code = {}
    for case in DATASET_CASES:
        same_code.setdefault(case["code"].strip(), set()).add(case["owner"])
    assert any(len(owners) > 1 for owners in same_code.values())
    roots = [case["root"] for case in VERSION_CASES]
    assert len(set(roots)) < len(roots)  # one root in two datasets
    erasures = [(case["dataset"], case["root"]) for case in ERASURE_CASES]
    erased = [case["erased_root"] for case in ERASURE_CASES]
    assert len(set(erasures)) < len(erasures)  # two erasures of one version
    assert len(set(erased)) < len(erased)  # one erased root in two versions
    assert len({case["expected"] for case in ERASURE_CASES}) == len(ERASURE_CASES)


@by_desc(DATASET_CASES)
def test_dataset_id_equals_compute_dataset_id_on_chain(
    deployed: Consortium, case: dict[str, Any]
) -> None:
    owner, code = word(case["owner"]), case["code"]
    on_chain = deployed.call("DatasetRegistry", "computeDatasetId", owner, code_hash(code))
    assert on_chain == dataset_id(owner, code) == word(case["expected"])


@by_desc(VERSION_CASES)
def test_version_id_equals_compute_version_id_on_chain(
    deployed: Consortium, case: dict[str, Any]
) -> None:
    dataset, root = word(case["dataset"]), word(case["root"])
    on_chain = deployed.call("DatasetRegistry", "computeVersionId", dataset, root)
    assert on_chain == version_id(dataset, root) == word(case["expected"])


@by_desc(ERASURE_CASES)
def test_erasure_id_equals_compute_erasure_id_on_chain(
    deployed: Consortium, case: dict[str, Any]
) -> None:
    dataset, root, erased = word(case["dataset"]), word(case["root"]), word(case["erased_root"])
    on_chain = deployed.call("DatasetRegistry", "computeErasureId", dataset, root, erased)
    assert on_chain == erasure_id(dataset, root, erased) == word(case["expected"])


def test_registered_dataset_has_the_python_id(consortium: Consortium) -> None:
    """The id in ``DatasetRegistered`` (what the contract stores) is the twin's, per owner."""
    c = consortium
    for key in ("A", "B"):
        tx = c.transact(
            "DatasetRegistry", "registerDataset", code_hash("DS-1"), b"\x11" * 32, sender=c.ops[key]
        )
        assert tx.event("DatasetRegistered")["datasetId"] == dataset_id(c.ids[key], "DS-1")
        assert c.call("DatasetRegistry", "ownerOf", dataset_id(c.ids[key], "DS-1")) == c.ids[key]


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (b"\x01" * 31, b"\x02" * 32, "a dataset id is 32 bytes, not 31."),
        (b"\x01" * 32, b"\x02" * 33, "a root is 32 bytes, not 33."),
    ],
    ids=["dataset-id-too-short", "root-too-long"],
)
def test_a_version_id_of_values_that_are_not_32_bytes_is_refused(
    first: bytes, second: bytes, message: str
) -> None:
    """abi.encode would pad a short value into another id: the twin refuses it instead."""
    with pytest.raises(InputError) as info:
        version_id(first, second)
    assert str(info.value) == message


def test_a_dataset_id_of_an_owner_that_is_not_32_bytes_is_refused() -> None:
    with pytest.raises(InputError) as info:
        dataset_id(b"\x05" * 20, "HZ-MZ-DIBAO")
    assert str(info.value) == "an owner department id is 32 bytes, not 20."


@pytest.mark.parametrize(
    ("dataset", "root", "erased", "message"),
    [
        (b"\x01" * 31, b"\x02" * 32, b"\x03" * 32, "a dataset id is 32 bytes, not 31."),
        (b"\x01" * 32, b"\x02" * 31, b"\x03" * 32, "a root is 32 bytes, not 31."),
        (b"\x01" * 32, b"\x02" * 32, b"\x03" * 31, "an erased root is 32 bytes, not 31."),
    ],
    ids=["dataset-id-too-short", "root-too-short", "erased-root-too-short"],
)
def test_an_erasure_id_of_values_that_are_not_32_bytes_is_refused(
    dataset: bytes, root: bytes, erased: bytes, message: str
) -> None:
    """A 31-byte erased root would be padded by abi.encode into another erasure's id."""
    with pytest.raises(InputError) as info:
        erasure_id(dataset, root, erased)
    assert str(info.value) == message
