"""A gateway's witness: it cosigns checkpoints of the chain it sees, collects the other
departments' gateways' signatures, and records conflicts (docs/CHECKPOINTS.md).

One :meth:`Witness.run` pass:

1. **collects** from each peer (``XIETONG_CHECKPOINT_PEERS``) the signatures it holds after
   the last one seen (``GET /v1/checkpoints?after=SEQ``, at most :data:`PAGES` pages of
   :data:`PAGE` per peer), keeps those that verify against the trust file's cosigners at a
   multiple of the interval, and counts the rest as refused, with the last reason;
2. **signs**, with this gateway's operator key when the trust file names it, every multiple of
   the interval up to the confirmed head it has not signed (the newest only, on the first
   pass), every such number a peer signed and this gateway has confirmed, and again each of
   its last few numbers whose block its node now names differently (a reorganisation deeper
   than the confirmations: both signatures are kept, and that is a conflict);
3. **records conflicts**: a number with two hashes signed, by anyone. A conflict stays until
   :meth:`Witness.acknowledge`; one more hash for that number raises it again.

Each step commits what it did; a failed peer changes nothing but its own row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from eth_account.signers.local import LocalAccount
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..chain.client import ChainClient
from ..db.queries import iso, open_conflicts
from ..db.tables import CheckpointConflict, CheckpointPeer, CheckpointSignature
from ..errors import CheckpointError, InputError, LedgerError
from ..hashing import loads_strict
from ..trust import ConsortiumTrust
from .checkpoint import check_signed, cosign

__all__ = [
    "PAGE",
    "PAGES",
    "NotCheckpointedError",
    "PassReport",
    "Witness",
]

#: Signatures asked of a peer per request, and requests per peer per pass.
PAGE = 100
PAGES = 10
#: Largest answer read from a peer (a page of 100 signatures is about 40 KB).
MAX_ANSWER = 1 << 20
#: Numbers signed per pass, at most (a gateway back after a long stop catches up over passes).
MAX_SIGNED = 64
#: This gateway's last numbers looked at again each pass for a deeper reorganisation.
RECHECKED = 4
_SEQ_LIMIT = 2**53 - 1


class NotCheckpointedError(LedgerError):
    """No signature is held for that block number."""

    kind = "unknown-checkpoint"


@dataclass
class PassReport:
    """What one pass did: numbers signed, signatures accepted and refused per peer, peers
    that did not answer (with why), and the conflicts now unacknowledged."""

    signed: list[int] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    conflicts: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _PeerError(Exception):
    """A peer's answer that is refused whole (its text names no secret)."""


class Witness:
    """Checkpoints of one gateway: its own signatures, its peers', and their conflicts."""

    def __init__(
        self,
        engine: Engine,
        client: ChainClient | None,
        trust: ConsortiumTrust,
        *,
        signer: LocalAccount | None,
        interval: int,
        confirmations: int,
        peers: Sequence[str] = (),
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        on_moved: Callable[[], None] | None = None,
    ) -> None:
        """``on_moved``: called when a pass ends having added signatures, or failing (it
        may have added some)."""
        self.engine = engine
        self.on_moved = on_moved
        self.client = client
        self.trust = trust
        self.interval = interval
        self.confirmations = max(1, confirmations)
        self.peers = list(peers)
        self.timeout = timeout
        self.transport = transport
        self.clock = clock
        cosigner = (
            trust.checkpoints.cosigner(signer.address)
            if trust.checkpoints is not None and signer is not None
            else None
        )
        #: The key this gateway cosigns with: None when the trust file does not name it.
        self.signer = signer if cosigner is not None else None
        self.department = cosigner.department if cosigner is not None else None

    @property
    def threshold(self) -> int | None:
        """How many departments a checkpoint needs (None: the trust file names no cosigners)."""
        return None if self.trust.checkpoints is None else self.trust.checkpoints.threshold

    def why_not_signing(self) -> str | None:
        """One sentence saying why this gateway signs no checkpoint, None when it signs."""
        if self.trust.checkpoints is None:
            return (
                "the consortium's trust file names no checkpoint cosigners (it was made before "
                "them): no checkpoint is signed or collected."
            )
        if self.signer is None:
            return (
                "this gateway's key is not one of the trust file's checkpoint cosigners: it "
                "collects its peers' checkpoints but signs none."
            )
        return None

    # ------------------------------------------------------------------ a pass

    def run(self) -> PassReport:
        """Collect from the peers, sign, then record conflicts (the module's docstring)."""
        report = PassReport()
        if self.trust.checkpoints is None:
            return report
        touched: set[int] = set()
        moved = True  # unless the pass ends having added no signature
        try:
            for peer in self.peers:
                touched |= self._collect(peer, report)
            touched |= self._sign(report)
            self._record_conflicts(touched)
            with Session(self.engine) as session:
                report.conflicts = open_conflicts(session=session)
            moved = bool(touched)
        finally:
            if moved and self.on_moved is not None:
                self.on_moved()
        return report

    def _confirmed(self) -> int | None:
        if self.client is None:
            return None
        return self.client.block_number() - self.confirmations + 1

    def _hash_at(self, number: int) -> str | None:
        assert self.client is not None
        block = self.client.block(number)
        return None if block is None else "0x" + bytes(block["hash"]).hex()

    def _sign(self, report: PassReport) -> set[int]:
        """Step 2: this gateway's own signatures."""
        if self.signer is None or self.department is None or self.client is None:
            return set()
        confirmed = self._confirmed()
        if confirmed is None or confirmed < self.interval:
            return set()
        newest = confirmed - confirmed % self.interval
        with Session(self.engine) as session:
            own = dict(
                session.exec(
                    select(CheckpointSignature.number, CheckpointSignature.block_hash)
                    .where(CheckpointSignature.address == self.signer.address)
                    .order_by(col(CheckpointSignature.number).desc())
                    .limit(RECHECKED)
                ).all()
            )
            last = max(own, default=None)
            start = newest if last is None else last + self.interval
            wanted = list(range(start, newest + 1, self.interval))[-MAX_SIGNED:]
            signed_by_us = select(CheckpointSignature.number).where(
                CheckpointSignature.address == self.signer.address
            )
            theirs = session.exec(
                select(CheckpointSignature.number)
                .where(col(CheckpointSignature.number) <= confirmed)
                .where(col(CheckpointSignature.number).not_in(signed_by_us))
                .distinct()
                .order_by(col(CheckpointSignature.number).desc())
                .limit(MAX_SIGNED)
            ).all()
        numbers = sorted({*wanted, *theirs, *own})[-(MAX_SIGNED + RECHECKED) :]
        touched: set[int] = set()
        for number in numbers:
            block_hash = self._hash_at(number)
            if block_hash is None or own.get(number) == block_hash:
                continue
            signature = cosign(
                self.signer.key,
                chain_id=self.trust.chain_id,
                genesis_hash=self.trust.genesis_hash,
                number=number,
                block_hash=block_hash,
                time=int(self.clock()),
            )
            if self._store(
                number, block_hash, signature.address, signature.time, signature.signature,
                self.department, "own",
            ):  # fmt: skip
                report.signed.append(number)
                touched.add(number)
        return touched

    def _store(
        self,
        number: int,
        block_hash: str,
        address: str,
        signed_at: int,
        signature: str,
        department: str,
        source: str,
    ) -> bool:
        """Keep one verified signature; False when it was held already."""
        row = CheckpointSignature(
            number=number,
            block_hash=block_hash,
            address=address,
            department_id=department,
            signed_at=signed_at,
            signature=signature,
            source=source,
            received_at=int(self.clock()),
        )
        with Session(self.engine) as session:
            held = session.exec(
                select(CheckpointSignature.id).where(
                    CheckpointSignature.number == number,
                    CheckpointSignature.address == address,
                    CheckpointSignature.block_hash == block_hash,
                )
            ).first()
            if held is not None:
                return False
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # another process kept it first
                session.rollback()
                return False
        return True

    # ------------------------------------------------------------------ collecting

    def _collect(self, peer: str, report: PassReport) -> set[int]:
        """Step 1 for one peer; its row records how far, what was refused and any failure."""
        now = int(self.clock())
        with Session(self.engine) as session:
            row = session.get(CheckpointPeer, peer) or CheckpointPeer(url=peer)
            after = int(row.cursor or 0)
        accepted = refused = 0
        last_refusal: str | None = None
        touched: set[int] = set()
        error: str | None = None
        try:
            with httpx.Client(
                timeout=self.timeout, transport=self.transport, follow_redirects=False
            ) as http:
                for _ in range(PAGES):
                    items, after_page = self._page(http, peer, after)
                    if after_page < after:  # the peer's store starts again: so do we
                        after = after_page
                        continue
                    for item in items:
                        try:
                            kept = self._accept(item, peer)
                        except CheckpointError as exc:
                            refused += 1
                            last_refusal = f"{exc.reason}: {exc}"
                            continue
                        if kept is not None:
                            accepted += 1
                            touched.add(kept)
                    after = after_page
                    if len(items) < PAGE:
                        break
        except _PeerError as exc:
            error = str(exc)
        except httpx.TimeoutException:
            error = f"no answer within {self.timeout:g} s"
        except httpx.TransportError as exc:
            error = f"could not reach it ({type(exc).__name__})"
        with Session(self.engine) as session:
            row = session.get(CheckpointPeer, peer) or CheckpointPeer(url=peer)
            row.cursor = str(after)
            row.accepted += accepted
            row.refused += refused
            row.last_refusal = last_refusal or row.last_refusal
            row.last_attempt_at = now
            row.last_error = error
            if error is None:
                row.last_success_at = now
            session.add(row)
            session.commit()
        report.accepted[peer] = accepted
        report.refused[peer] = refused
        if error is not None:
            report.failed[peer] = error
        return touched

    def _page(self, http: httpx.Client, peer: str, after: int) -> tuple[list[Any], int]:
        """One page of a peer's signatures after ``after``, and the sequence number to ask
        from next: 0 when the peer's newest (``last_seq``) is below ``after`` and it sent
        nothing (its database started again, from a backup or anew: what it holds is asked for
        from the start; what is held here already is not kept twice). The answer is read up
        to :data:`MAX_ANSWER` bytes and refused whole when it is not the form of
        ``GET /v1/checkpoints``."""
        url = f"{peer}/v1/checkpoints"
        # The timeout bounds each read; a peer trickling a byte at a time would hold the pass
        # for ever without this deadline on the whole answer.
        deadline = time.monotonic() + self.timeout
        with http.stream("GET", url, params={"after": after, "limit": PAGE}) as answer:
            if answer.status_code != 200:
                raise _PeerError(f"it answered HTTP {answer.status_code}")
            body = b""
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER:
                    raise _PeerError(f"its answer is larger than {MAX_ANSWER} bytes")
                if time.monotonic() > deadline:
                    raise _PeerError(f"its answer took longer than {self.timeout:g} s")
        try:
            data = loads_strict(body, max_depth=4, error=lambda reason: _PeerError(reason))
        except _PeerError as exc:
            raise _PeerError(f"its answer is not JSON ({exc})") from None
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) > PAGE:
            raise _PeerError(f"its answer is not a page of at most {PAGE} signatures")
        newest = data.get("last_seq")
        restarted = isinstance(newest, int) and not isinstance(newest, bool) and newest < after
        if not items and restarted and newest >= 0:
            return [], 0
        last = after
        for item in items:
            seq = item.get("seq") if isinstance(item, dict) else None
            if not isinstance(seq, int) or isinstance(seq, bool) or not last < seq <= _SEQ_LIMIT:
                raise _PeerError("its signatures are not in ascending `seq` order after ours")
            last = seq
        return items, last

    def _accept(self, item: dict[str, Any], peer: str) -> int | None:
        """Keep one of a peer's signatures if it verifies: its number, or None when it was held
        already. CheckpointError when it is refused."""
        number = item.get("number")
        cosignature = {k: item.get(k) for k in ("address", "time", "signature")}
        signed, cosigner = check_signed(
            self.trust, number=number, block_hash=item.get("hash"), cosignature=cosignature
        )
        assert isinstance(number, int)
        if number % self.interval or number == 0:
            raise CheckpointError(
                "checkpoint-form",
                f"block {number} is not a multiple of this consortium's checkpoint interval "
                f"{self.interval}.",
            )
        stored = self._store(
            number, str(item["hash"]), signed.address, signed.time, signed.signature,
            str(cosigner["department"]), peer,
        )  # fmt: skip
        return number if stored else None

    # ------------------------------------------------------------------ conflicts

    def _record_conflicts(self, numbers: Iterable[int]) -> None:
        """Step 3: each of ``numbers`` signed with two hashes or more becomes (or stays) a
        conflict; one more hash than before makes an acknowledged one new again."""
        numbers = sorted(set(numbers))
        if not numbers:
            return
        now = int(self.clock())
        with Session(self.engine) as session:
            counts = session.exec(
                select(
                    CheckpointSignature.number,
                    func.count(func.distinct(CheckpointSignature.block_hash)),
                )
                .where(col(CheckpointSignature.number).in_(numbers))
                .group_by(col(CheckpointSignature.number))
            ).all()
            for number, hashes in counts:
                if hashes < 2:
                    continue
                row = session.get(CheckpointConflict, number)
                if row is None:
                    session.add(CheckpointConflict(number=number, hashes=hashes, seen_at=now))
                elif hashes > row.hashes:
                    row.hashes, row.seen_at, row.acknowledged_at = hashes, now, None
                    session.add(row)
            session.commit()

    def conflicts(self, *, acknowledged: bool | None = None) -> list[dict[str, Any]]:
        """The conflicts, newest number first, each with who signed which hash
        (``acknowledged``: only those, or only the others)."""
        with Session(self.engine) as session:
            query = select(CheckpointConflict).order_by(col(CheckpointConflict.number).desc())
            if acknowledged is True:
                query = query.where(col(CheckpointConflict.acknowledged_at).is_not(None))
            elif acknowledged is False:
                query = query.where(col(CheckpointConflict.acknowledged_at).is_(None))
            rows = session.exec(query).all()
            return [
                {
                    "number": row.number,
                    "seen_at": iso(row.seen_at),
                    "acknowledged_at": iso(row.acknowledged_at),
                    "hashes": self._grouped(session, row.number),
                }
                for row in rows
            ]

    def acknowledge(self, number: int) -> dict[str, Any]:
        """Mark the conflict at ``number`` as read (``/readyz`` passes again, unless another
        is open). InputError when there is none at that number."""
        with Session(self.engine) as session:
            row = session.get(CheckpointConflict, number)
            if row is None:
                raise InputError(f"there is no checkpoint conflict at block {number}.")
            if row.acknowledged_at is None:
                row.acknowledged_at = int(self.clock())
                session.add(row)
                session.commit()
                session.refresh(row)
            return {
                "number": row.number,
                "seen_at": iso(row.seen_at),
                "acknowledged_at": iso(row.acknowledged_at),
                "hashes": self._grouped(session, row.number),
            }

    # ------------------------------------------------------------------ reading

    def signatures(self, *, after: int = 0, limit: int = PAGE) -> dict[str, Any]:
        """The signatures held, in the order they were kept, after sequence number ``after``,
        and the newest's sequence number (``last_seq``; 0 when none): what peers collect
        (``GET /v1/checkpoints``)."""
        if not 1 <= limit <= 1000:
            raise InputError("limit must be from 1 to 1000.")
        if not 0 <= after <= _SEQ_LIMIT:
            raise InputError(f"after must be a sequence number from 0 to {_SEQ_LIMIT}.")
        with Session(self.engine) as session:
            rows = session.exec(
                select(CheckpointSignature)
                .where(col(CheckpointSignature.id) > after)
                .order_by(col(CheckpointSignature.id))
                .limit(limit)
            ).all()
            items = [self._item(row) for row in rows]
            newest = session.exec(select(func.max(CheckpointSignature.id))).one()
        return {
            "items": items,
            "next_after": items[-1]["seq"] if items else after,
            "last_seq": newest or 0,
        }

    def _item(self, row: CheckpointSignature) -> dict[str, Any]:
        cosigner = self.trust.checkpoints.cosigner(row.address) if self.trust.checkpoints else None
        return {
            "seq": row.id,
            "number": row.number,
            "hash": row.block_hash,
            "address": row.address,
            "department": row.department_id,
            "code": cosigner.code if cosigner else None,
            "time": row.signed_at,
            "signature": row.signature,
        }

    def _grouped(self, session: Session, number: int) -> list[dict[str, Any]]:
        """The signatures for ``number`` grouped by hash: each hash with its cosignatures
        (the JSON form's, by address) and the departments that signed it."""
        rows = session.exec(
            select(CheckpointSignature)
            .where(CheckpointSignature.number == number)
            .order_by(col(CheckpointSignature.block_hash), col(CheckpointSignature.address))
        ).all()
        groups: dict[str, list[CheckpointSignature]] = {}
        for row in rows:
            groups.setdefault(row.block_hash, []).append(row)
        answer = []
        for block_hash, signed in groups.items():
            signed.sort(key=lambda r: r.address.lower())
            answer.append(
                {
                    "hash": block_hash,
                    "departments": len({r.department_id for r in signed}),
                    "cosigners": [self._item(r) for r in signed],
                }
            )
        return answer

    def checkpoint(self, number: int) -> dict[str, Any]:
        """What is held for block ``number``: each hash signed, by whom, and whether it reaches
        the threshold. NotCheckpointedError when nothing is."""
        with Session(self.engine) as session:
            groups = self._grouped(session, number)
        if not groups:
            raise NotCheckpointedError(f"no checkpoint signature is held for block {number}.")
        threshold = self.threshold or 0
        return {
            "number": number,
            "threshold": threshold,
            "conflict": len(groups) > 1,
            "hashes": [{**g, "cosigned": g["departments"] >= threshold} for g in groups],
        }

    def cosigned(self, *, at_least: int = 0, at_most: int | None = None) -> dict[str, Any] | None:
        """The checkpoint (its JSON form, docs/CHECKPOINTS.md) of the lowest number from
        ``at_least`` (to ``at_most``) whose one hash the threshold of departments signed, with
        no other hash signed for it; None when there is none."""
        threshold = self.threshold
        if threshold is None:
            return None
        with Session(self.engine) as session:
            query = (
                select(CheckpointSignature.number)
                .where(col(CheckpointSignature.number) >= at_least)
                .group_by(col(CheckpointSignature.number))
                .having(func.count(func.distinct(CheckpointSignature.block_hash)) == 1)
                .having(func.count(func.distinct(CheckpointSignature.department_id)) >= threshold)
                .order_by(col(CheckpointSignature.number))
                .limit(1)
            )
            if at_most is not None:
                query = query.where(col(CheckpointSignature.number) <= at_most)
            number = session.exec(query).first()
            if number is None:
                return None
            return self._json_form(session, number)

    def latest(self) -> dict[str, Any] | None:
        """The highest checkpoint cosigned by the threshold with no conflict (JSON form)."""
        threshold = self.threshold
        if threshold is None:
            return None
        with Session(self.engine) as session:
            number = session.exec(
                select(CheckpointSignature.number)
                .group_by(col(CheckpointSignature.number))
                .having(func.count(func.distinct(CheckpointSignature.block_hash)) == 1)
                .having(func.count(func.distinct(CheckpointSignature.department_id)) >= threshold)
                .order_by(col(CheckpointSignature.number).desc())
                .limit(1)
            ).first()
            return None if number is None else self._json_form(session, number)

    def require_latest(self) -> dict[str, Any]:
        """:meth:`latest`, or NotCheckpointedError while there is none."""
        found = self.latest()
        if found is None:
            raise NotCheckpointedError(
                "no checkpoint is cosigned by the trust file's threshold of departments yet."
            )
        return found

    def _json_form(self, session: Session, number: int) -> dict[str, Any]:
        (group,) = self._grouped(session, number)
        return {
            "number": number,
            "hash": group["hash"],
            "cosignatures": [
                {"address": c["address"], "time": c["time"], "signature": c["signature"]}
                for c in group["cosigners"]
            ],
        }

    def peer_status(self) -> list[dict[str, Any]]:
        """Each configured peer: shown by its origin (scheme, host, port), how many signatures
        were accepted and refused, the last refusal, when it last answered, the last error."""
        with Session(self.engine) as session:
            rows = {r.url: r for r in session.exec(select(CheckpointPeer)).all()}
        answer = []
        for url in self.peers:
            row = rows.get(url)
            parts = urlsplit(url)
            answer.append(
                {
                    "peer": f"{parts.scheme}://{parts.netloc}",
                    "accepted": row.accepted if row else 0,
                    "refused": row.refused if row else 0,
                    "last_refusal": row.last_refusal if row else None,
                    "last_success_at": iso(row.last_success_at) if row else None,
                    "last_error": row.last_error if row else None,
                }
            )
        return answer
