"""``xietong demo``: a realistic scenario played against the local chain (development keys).

杭州市民政局 (civil affairs) publishes its subsistence-allowance (低保) list as salted record
leaves, month by month (the second version derives from the first); it shares the list with
杭州市公安局 (public security) for eligibility checks under an agreement that public security
accepts with an EIP-712 signature relayed by civil affairs' gateway; public security records
access receipts. A second agreement, with 杭州市卫生健康委员会 (health commission), is
accepted and then revoked. The health commission leads a joint "newborn one-thing"
(出生一件事) commitment with public security and civil affairs, carried to completion.
杭州市审计局's account holds the auditor role. Everything is then indexed.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from .anchoring import Anchorer, prepare_path
from .chain.client import ChainClient
from .consent import (
    accept_agreement,
    document_hash,
    make_consent,
    propose_agreement,
    propose_commitment,
    relay_consent,
)
from .errors import ConfigurationError, LedgerError
from .gateway import Gateway
from .ids import (
    AgreementTerms,
    CommitmentProposal,
    code_hash,
    dataset_id,
    department_id,
    version_id,
)
from .keys import dev_account
from .receipts import hash_access_log, record_access

__all__ = ["DATASET_DESCRIPTIONS", "DemoAlreadyRunError", "DemoReport", "run_demo"]

PSB = ("11330100MB1A00001P", 1)  # 杭州市公安局
CIVIL = ("11330100MB1A00002K", 2)  # 杭州市民政局
HEALTH = ("11330100MB1A00003F", 3)  # 杭州市卫生健康委员会
DIBAO = "HZ-MZ-DIBAO"  # 低保名单
POLICY = "HZ-MZ-POLICY"  # 民政政策文件
#: The metadata texts the demo registers its datasets with (SHA-256 datasets; code rule).
DATASET_DESCRIPTIONS = {DIBAO: "低保名单 · 杭州市民政局", POLICY: "民政政策文件"}
DAY = 86_400

_STREETS = ("湖滨街道", "小营街道", "清波街道", "望江街道", "南星街道", "紫阳街道")
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


class DemoAlreadyRunError(LedgerError):
    """The demo's datasets already exist on this chain."""

    kind = "demo-already-run"


@dataclass
class DemoReport:
    """What the demo created, for people and for tests."""

    workdir: str
    datasets: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    agreements: dict[str, str] = field(default_factory=dict)
    commitment: str = ""
    receipts: int = 0
    events: int = 0
    files: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _write_dibao(path: Path, month: str, rows: int, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "姓名", "街道", "家庭人口", "月保障金", "月份"])
        for i in range(rows):
            name = rng.choice(_SURNAMES) + rng.choice("明华丽强芳军敏静磊洋")
            writer.writerow(
                [
                    f"DB{i:05d}",
                    name,
                    rng.choice(_STREETS),
                    rng.randint(1, 5),
                    rng.choice([1130, 1250, 1380]),
                    month,
                ]
            )


def run_demo(gateway: Gateway, workdir: Path, *, echo: Callable[[str], None] = print) -> DemoReport:
    """Play the scenario; raises DemoAlreadyRunError when it ran on this chain before."""
    if gateway.settings.env != "local":
        raise ConfigurationError(
            "the demo signs with the public development keys: set XIETONG_ENV=local."
        )
    client: ChainClient = gateway.client
    psb, civil, health = (dev_account(i) for _, i in (PSB, CIVIL, HEALTH))
    civil_id = department_id(CIVIL[0])
    dibao_id, policy_id = dataset_id(civil_id, DIBAO), dataset_id(civil_id, POLICY)
    if any(bytes(client.call("DatasetRegistry", "ownerOf", dibao_id))):
        raise DemoAlreadyRunError(
            "the demo already ran on this chain (dataset HZ-MZ-DIBAO exists); restart the node for a fresh run."
        )
    workdir.mkdir(parents=True, exist_ok=True)
    report = DemoReport(workdir=str(workdir))

    def tx(contract: str, function: str, *args: Any, sender: LocalAccount) -> Any:
        return client.transact(contract, function, *args, sender=sender)

    def named(text: str) -> bytes:
        """The hash a text goes on chain as, the text kept in the catalogue so the pages
        name it (one gateway plays every department here: one catalogue)."""
        gateway.remember(("code", text))
        return code_hash(text)

    echo("1. 杭州市民政局 registers its datasets: 低保名单 (records) and 民政政策文件 (files)")
    tx(
        "DatasetRegistry",
        "registerDataset",
        named(DIBAO),
        named(DATASET_DESCRIPTIONS[DIBAO]),
        sender=civil,
    )
    tx(
        "DatasetRegistry",
        "registerDataset",
        named(POLICY),
        named(DATASET_DESCRIPTIONS[POLICY]),
        sender=civil,
    )
    report.datasets = {DIBAO: "0x" + dibao_id.hex(), POLICY: "0x" + policy_id.hex()}

    anchorer = Anchorer(client, gateway.engine, civil, confirmations=gateway.settings.confirmations)
    october, november = workdir / "dibao-2026-10.csv", workdir / "dibao-2026-11.csv"
    _write_dibao(october, "2026-10", 240, seed=10)
    _write_dibao(november, "2026-11", 252, seed=11)
    echo("2. it anchors the October list, then the November list derived from it (lineage)")
    v1 = anchorer.anchor(prepare_path(october, dibao_id))
    parent = version_id(dibao_id, bytes.fromhex(v1.root[2:]))
    v2 = anchorer.anchor(prepare_path(november, dibao_id, parents=[parent]))
    policy_dir = workdir / "policy"
    policy_dir.mkdir(exist_ok=True)
    (policy_dir / "杭州市最低生活保障实施办法.txt").write_text(
        "第一条 为规范最低生活保障工作……\n", encoding="utf-8"
    )
    (policy_dir / "低保资格核查流程.md").write_text(
        "# 资格核查\n1. 民政局发起核查请求\n2. 公安局比对户籍信息\n", encoding="utf-8"
    )
    v3 = anchorer.anchor(prepare_path(policy_dir, policy_id))
    report.versions = {"dibao-2026-10": v1.root, "dibao-2026-11": v2.root, "policy": v3.root}
    report.files = {
        "october": str(october),
        "november": str(november),
        "policy": str(policy_dir),
        "november_salts": str(november) + ".salts.json",
    }

    now = int(client.w3.eth.get_block("latest")["timestamp"])
    terms_doc = workdir / "低保数据共享协议.txt"
    terms_doc.write_text(
        "杭州市民政局与杭州市公安局低保对象资格核查数据共享协议（示例）\n", encoding="utf-8"
    )
    echo(
        "3. 民政局 proposes sharing 低保名单 with 公安局 for eligibility checks; 公安局 signs (EIP-712), 民政局 relays"
    )
    terms = AgreementTerms(
        provider=department_id(CIVIL[0]),
        consumer=department_id(PSB[0]),
        dataset_ids=(dibao_id,),
        purpose=named("eligibility-check 低保资格核查"),
        legal_basis=named("《社会救助暂行办法》第十一条"),
        terms_hash=document_hash(str(terms_doc)),
        valid_from=now - DAY,
        valid_until=now + 365 * DAY,
    )
    sharing_id, _ = propose_agreement(client, civil, terms)
    consent = make_consent(client, psb, "AcceptAgreement", sharing_id)
    accepted = relay_consent(client, civil, consent)
    # validFrom is a day back, but the agreement is in effect only from its acceptance.
    accepted_at = int(client.w3.eth.get_block(accepted.block_number)["timestamp"])
    report.agreements["dibao-to-psb"] = "0x" + sharing_id.hex()
    report.files["terms"] = str(terms_doc)

    echo("4. 公安局 records access receipts for its eligibility lookups")
    # Two receipts splitting the time since the acceptance (none may start before it), each of
    # its own log: the entries as salted leaves (ledger.receipts), their root and count on chain.
    latest = int(client.w3.eth.get_block("latest")["timestamp"])
    middle = (accepted_at + latest) // 2
    periods = {"a": (accepted_at, middle, 0, 30), "b": (middle, latest, 30, 45)}
    for part, (period_start, period_end, first, last) in periods.items():
        log = workdir / ("psb-access-2026-11.jsonl" if part == "a" else "psb-access-2026-11b.jsonl")
        log.write_text(
            "".join(
                json.dumps(
                    {"lookup": f"DB{i:05d}", "officer": f"P{i % 7:03d}", "result": "match"},
                    ensure_ascii=False,
                )
                + "\n"
                for i in range(first, last)
            ),
            encoding="utf-8",
        )
        hashed = hash_access_log(log)
        record_access(
            client,
            psb,
            sharing_id,
            log_root=hashed.root,
            entry_count=hashed.entry_count,
            period_start=period_start,
            period_end=period_end,
        )
        report.files[f"access_log_{part}"] = str(log)
        report.receipts += 1

    echo(
        "5. a second agreement, with 卫健委 for statistics, is accepted and then revoked by 民政局"
    )
    stats = AgreementTerms(
        provider=department_id(CIVIL[0]),
        consumer=department_id(HEALTH[0]),
        dataset_ids=(dibao_id,),
        purpose=named("statistics 统计分析"),
        legal_basis=named("《统计法》"),
        terms_hash=document_hash(str(terms_doc)),
        valid_from=now - DAY,
        valid_until=now + 90 * DAY,
    )
    stats_id, _ = propose_agreement(client, civil, stats)
    accept_agreement(client, health, stats_id)
    tx("SharingAgreements", "revoke", stats_id, named("用途超出约定范围"), sender=civil)
    report.agreements["dibao-to-health-revoked"] = "0x" + stats_id.hex()

    echo("6. 卫健委 leads the 出生一件事 joint commitment with 公安局 and 民政局")
    birth = CommitmentProposal(
        matter_ref=named("出生一件事-2026-000123"),
        participants=(department_id(HEALTH[0]), department_id(PSB[0]), department_id(CIVIL[0])),
        duty_hashes=(
            named("签发出生医学证明"),
            named("办理户口登记"),
            named("核定生育相关救助"),
        ),
        deadline=now + 15 * DAY,
    )
    commitment_id, _ = propose_commitment(client, health, birth)
    tx("JointCommitments", "sign", commitment_id, sender=psb)
    relay_consent(client, health, make_consent(client, civil, "SignCommitment", commitment_id))
    for who, evidence in (
        (health, "出生医学证明 No. Q330100123"),
        (psb, "户口登记 完成"),
        (civil, "救助核定 完成"),
    ):
        tx(
            "JointCommitments",
            "reportProgress",
            commitment_id,
            named(evidence),
            True,
            sender=who,
        )
    tx("JointCommitments", "complete", commitment_id, named("一件事办结"), sender=health)
    report.commitment = "0x" + commitment_id.hex()

    echo("7. the gateway indexes the chain")
    report.events = gateway.indexer().sync().events
    return report
