"""Reorg through the API: a real ``xietong serve`` whose background indexer follows the chain
(``XIETONG_CONFIRMATIONS`` = k), a version anchored on a branch, and the chain then replaced
by a longer other branch (``evm_snapshot`` / ``evm_revert`` and new blocks: Hardhat and Anvil).

With k confirmations the indexer takes a block once it has k (it holds back the newest k-1):

* a reorg shallower than k replaces blocks the index never took, so the API never reports the
  branch's version at all, before or after;
* a reorg of k blocks or more replaces blocks the API reported as final: the finality the
  setting assumes is broken. The API follows the chain: the served indexer rolls back on its
  next pass, and from then on no answer reports the orphaned version (it is not reported
  again once gone); at the end /v1/verify answers 404 not-anchored, the proof is gone and
  the audit trail no longer lists its event. Until that pass (a fraction of a second here,
  bounded by STALE_BOUND) the API still answers from the index it has, as it does for any
  chain activity it has not read yet.

The session's node is left as found (``chain`` reverts everything)."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from ledger.anchoring import Anchorer, prepare_hashes
from ledger.apikeys import create_api_key
from ledger.gateway import Gateway
from ledger.keys import dev_account
from tests.api._serving import Served
from tests.api._support import CIVIL, CIVIL_DEV, DIBAO, PROBLEM, World, dataset_of

pytestmark = pytest.mark.timeout(120)

CATCH_UP = 30.0  # seconds the served indexer gets to follow the chain
#: Seconds after a reorg deeper than the confirmation depth during which the API may still
#: report the orphaned version: the indexer's next pass (0.1 s apart here) and the verifier's
#: head (kept 0.5 s), with room for a loaded machine.
STALE_BOUND = 3.0


@dataclass
class Seen:
    """One answer of the API after the reorg."""

    at: float
    verify_status: int
    verify: dict[str, Any]
    audit_roots: list[str]
    index_block: int | None


def _rpc(chain: World, method: str, params: list[Any]) -> Any:
    response = chain.client.w3.provider.make_request(method, params)  # type: ignore[arg-type]
    assert response.get("error") is None, f"{method}: {response}"
    return response["result"]


def _mine(chain: World, blocks: int) -> None:
    for _ in range(blocks):
        _rpc(chain, "evm_mine", [])


def _head(chain: World) -> int:
    return int(chain.client.w3.eth.block_number)


class Reads:
    """What the served API says about one content hash and one root."""

    def __init__(self, served: Served, key: str, digest: str, root: str) -> None:
        self.served, self.digest, self.root = served, digest, root
        self.http = httpx.Client(base_url=served.url, headers={"X-API-Key": key}, timeout=10)

    def index_block(self) -> int | None:
        block: int | None = self.http.get("/readyz").json()["index"]["block_number"]
        return block

    def verify(self) -> httpx.Response:
        return self.http.get("/v1/verify", params={"hash": self.digest})

    def audit_roots(self) -> list[str]:
        """Roots of the VersionAnchored events the audit trail lists for this root."""
        page = self.http.get(
            "/v1/audit/events", params={"type": "VersionAnchored", "subject": self.root}
        )
        assert page.status_code == 200, page.text
        return [e["subject_id"] for e in page.json()["items"]]

    def seen(self) -> Seen:
        index_block = self.index_block()
        verify = self.verify()
        assert verify.status_code in (200, 404), verify.text
        return Seen(
            time.monotonic(), verify.status_code, verify.json(), self.audit_roots(), index_block
        )

    def caught_up(self, target: int) -> bool:
        block = self.index_block()
        return block is not None and block >= target


def _reported_anchored(seen: Seen, root: str) -> bool:
    """Whether the answer reports ``root`` as anchored (final) or lists its event."""
    if root in seen.audit_roots:
        return True
    if seen.verify_status != 200:
        return False
    return any(
        m["version"]["root"] == root and (m["status"] == "anchored" or m["version"]["final"])
        for m in seen.verify["matches"]
    )


@pytest.mark.parametrize(
    ("confirmations", "depth"),
    [(1, 1), (2, 2), (2, 1)],
    ids=["k1-reorg1", "k2-reorg2", "k2-reorg1-within-depth"],
)
def test_the_api_follows_a_reorg_and_drops_the_orphaned_version(
    chain: World, tmp_path: Path, confirmations: int, depth: int
) -> None:
    url = f"sqlite:///{tmp_path / 'xietong.db'}"
    gateway = Gateway(chain.settings(database_url=url, confirmations=confirmations))
    gateway.indexer().sync()
    with Session(gateway.engine) as session:
        _, key = create_api_key(session=session, name="reorg test", scope="read")
    served = Served(
        chain, url, tmp_path, XIETONG_CONFIRMATIONS=str(confirmations), XIETONG_INDEX_INTERVAL="0.1"
    )
    try:
        digest = "0x" + hashlib.sha256(f"reorg {uuid.uuid4()}".encode()).hexdigest()
        prepared = prepare_hashes(
            [(bytes.fromhex(digest[2:]), "reorg/branch.pdf")],
            dataset_of(CIVIL, DIBAO),
            source="reorg",
        )
        root = "0x" + prepared.root.hex()
        reads = Reads(served, key, digest, root)
        served.eventually("the index", lambda: reads.caught_up(_head(chain) - confirmations + 1))

        fork = _rpc(chain, "evm_snapshot", [])
        # The branch: the version anchored in block b, then depth-1 blocks on top of it.
        anchorer = Anchorer(gateway.client, gateway.engine, dev_account(CIVIL_DEV))
        batch = anchorer.anchor(prepared)
        assert batch.status == "confirmed", batch
        anchored_in = int(batch.block_number or 0)
        _mine(chain, depth - 1)
        branch_head = _head(chain)
        assert branch_head == anchored_in + depth - 1
        served.eventually(
            "the index of the branch", lambda: reads.caught_up(branch_head - confirmations + 1)
        )
        on_branch = reads.seen()
        if depth >= confirmations:  # the branch's block is k deep: indexed and final
            assert on_branch.verify_status == 200, on_branch
            [match] = on_branch.verify["matches"]
            assert match["version"]["root"] == root and match["status"] == "anchored"
            assert match["version"]["final"] is True
            assert match["version"]["confirmations"] >= confirmations
            assert on_branch.audit_roots == [root]
        else:  # too recent: the indexer holds it back, the API does not know it
            assert on_branch.index_block == anchored_in - 1, on_branch
            assert on_branch.verify_status == 404 and on_branch.audit_roots == [], on_branch

        # The other branch: back to the fork and longer than the one left.
        assert _rpc(chain, "evm_revert", [fork]) is True
        left = time.monotonic()
        _mine(chain, depth + 1)
        new_head = _head(chain)
        assert new_head == branch_head + 1
        assert chain.client.w3.eth.get_block(anchored_in)["transactions"] == []
        answers = [reads.seen()]
        deadline = time.monotonic() + CATCH_UP
        while not (
            answers[-1].index_block == new_head - confirmations + 1
            and answers[-1].verify_status == 404
        ):
            assert time.monotonic() < deadline, f"the index did not follow: {answers[-3:]}"
            served.alive()
            answers.append(reads.seen())

        reported = [a for a in answers if _reported_anchored(a, root)]
        if depth < confirmations:
            # The index never took the branch: not one answer ever reported it.
            assert not reported, f"{len(reported)} answers report the orphaned version"
        else:
            # Final by the setting, then orphaned: verification stops reporting it once its
            # head is read anew (it checks that the chain still holds the index's checkpoint
            # block, kept 0.5 s), the audit trail (the index) once the indexer's next pass
            # rolls back; then never again.
            window = max((a.at - left for a in reported), default=0.0)
            assert window < STALE_BOUND, f"reported {window:.2f} s after the reorg"
            first_gone = next(i for i, a in enumerate(answers) if not _reported_anchored(a, root))
            assert not any(_reported_anchored(a, root) for a in answers[first_gone:]), (
                "the orphaned version was reported again after it had gone"
            )
        gone = reads.verify()
        assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM
        assert gone.json()["type"] == "urn:xietong:problem:not-anchored"
        assert reads.audit_roots() == []
        events = reads.http.get("/v1/audit/events", params={"type": "VersionAnchored"}).json()
        assert all(e["transaction"] != batch.tx_hash for e in events["items"])
        leaf = "0x" + prepared.leaf_hashes[0].hex()
        assert reads.http.get(f"/v1/proofs/{leaf}", params={"root": root}).status_code == 404
        reads.http.close()
    finally:
        gateway.engine.dispose()
        code = served.stop()
    log = served.text()
    assert code == 0, log
    assert "Traceback" not in log, log
