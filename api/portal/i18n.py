"""The portal's words in Chinese and English: one dict, one lookup.

Every string the portal shows comes from :data:`STRINGS` (key → (中文, English)); a key that
is not there is a bug and raises ``KeyError`` when the page renders. Data (department names,
hashes, times) is shown as the index holds it and never translated.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULT_LANG",
    "HTML_LANG",
    "LANGS",
    "STRINGS",
    "Translator",
    "pick_lang",
]

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"
#: The ``lang`` attribute of the page for each language.
HTML_LANG: Final = {"zh": "zh-CN", "en": "en"}

STRINGS: dict[str, tuple[str, str]] = {
    # --- frame
    "app.name": ("协同", "Xietong"),
    "app.portal": ("审计门户", "Auditor portal"),
    "app.tagline": (
        "跨部门数据共享与协同办理的可信存证",
        "Trusted records of inter-agency data sharing and joint handling",
    ),
    "nav.label": ("主导航", "Main navigation"),
    "nav.verify": ("文件核验", "Verify"),
    "nav.datasets": ("数据集", "Datasets"),
    "nav.agreements": ("共享协议", "Agreements"),
    "nav.commitments": ("联办承诺", "Commitments"),
    "nav.audit": ("审计追踪", "Audit trail"),
    "nav.skip": ("跳到正文", "Skip to content"),
    "lang.switch": ("切换语言", "Switch language"),
    "auth.signout": ("退出登录", "Sign out"),
    "footer.index": (
        "索引位置：区块 #{block}（{time}），链 ID {chain}",
        "Index at block #{block} ({time}), chain {chain}",
    ),
    "footer.index_empty": ("索引尚未读取任何区块", "The index has not read any block yet"),
    "footer.zone": (
        "时间均为{zone}（{offset}），鼠标悬停可查看 UTC 时间",
        "Times are {zone} ({offset}); hover over one for UTC",
    ),
    "footer.beijing": ("北京时间", "Beijing time"),
    "footer.about": (
        "协同 {version} · 链上存证为准，本门户仅作展示",
        "Xietong {version} · the chain is the source of truth; this portal only presents it",
    ),
    "common.none": ("—", "—"),
    "catalogue.verified": (
        "已核对：此文本的哈希与链上记录 {hash} 一致",
        "Checked: this text hashes to {hash}, as on chain",
    ),
    "catalogue.unknown": ("未登记", "not catalogued"),
    "catalogue.unknown_title": (
        "目录中没有此哈希对应的原文，只能显示哈希",
        "The catalogue holds no text for this hash: only the hash can be shown",
    ),
    "catalogue.differs": ("与链上不符", "differs"),
    "catalogue.differs_title": (
        "目录中的原文与链上哈希不一致，未予显示",
        "The catalogue's text does not give this hash on chain, so it is not shown",
    ),
    "common.details": ("详情", "Details"),
    "common.status": ("状态", "Status"),
    "common.all": ("全部", "All"),
    "common.filter": ("筛选", "Filter"),
    "common.reset": ("清除筛选", "Clear filters"),
    "common.next": ("下一页", "Next page"),
    "common.first": ("第一页", "First page"),
    "common.pagination": ("分页", "Pagination"),
    "common.department": ("部门", "Department"),
    "common.transaction": ("交易", "Transaction"),
    "common.block": ("区块", "Block"),
    "common.time": ("时间", "Time"),
    "common.datasets": ("数据集", "Datasets"),
    "common.history": ("历史记录", "History"),
    "common.empty": ("没有符合条件的记录。", "No records match."),
    "common.forever": ("长期", "no end"),
    "common.name_flagged": (
        "名称需核对（{flags}）：以旁边的部门 ID 为准",
        "Check this name ({flags}): the department id beside it is what counts",
    ),
    # --- errors
    "error.title": ("出错了", "Something went wrong"),
    "error.not_found": ("未找到", "Not found"),
    "error.back": ("返回首页", "Back to the start page"),
    "error.unknown_dataset": (
        "本网关的索引中没有这个数据集。",
        "This gateway's index holds no such dataset.",
    ),
    "error.unknown_agreement": (
        "本网关的索引中没有这个共享协议。",
        "This gateway's index holds no such agreement.",
    ),
    "error.unknown_commitment": (
        "本网关的索引中没有这个联办承诺。",
        "This gateway's index holds no such commitment.",
    ),
    "error.bad_input": ("输入有误：{detail}", "Invalid input: {detail}"),
    # --- sign-in
    "login.title": ("登录", "Sign in"),
    "login.intro": (
        "本网关的查询需要一个只读（read）API 密钥。登录后本浏览器只保存一个会话标识（不是密钥），闲置 {idle} 分钟或登录 {hours} 小时后失效。",
        "This gateway answers queries for holders of a read API key. Signing in keeps only a session id (not the key) in this browser, ending after {idle} minutes idle or {hours} hours.",
    ),
    "login.key": ("API 密钥", "API key"),
    "login.key_hint": (
        "形如 xt_…，由网关管理员用 xietong apikey create --scope read 创建",
        "Looks like xt_…; the gateway's administrator creates it with xietong apikey create --scope read",
    ),
    "login.submit": ("登录", "Sign in"),
    "login.failed": (
        "登录失败：密钥无效、已撤销或权限不足。",
        "Sign-in failed: the key is invalid, revoked or lacks the read scope.",
    ),
    "login.signed_out": ("您已退出登录。", "You are signed out."),
    "login.read_only": (
        "只有只读（read）密钥可以登录门户；anchor 与 admin 密钥只用于 API。",
        "Only read keys sign in to the portal; anchor and admin keys are for the API only.",
    ),
    "login.refused": (
        "请求被拒绝（来源或表单令牌不符），请重新操作。",
        "The request was refused (wrong origin or form token); please try again.",
    ),
    "login.open": ("本网关的查询无需登录。", "This gateway answers queries without signing in."),
    # --- verify
    "verify.title": ("文件核验", "Verify a file"),
    "verify.intro": (
        "核验一个文件是否已在联盟链上存证：由谁、何时存证，以及谁被授权接收。",
        "Check whether a file is anchored on the consortium chain: by whom, when, and who may receive it.",
    ),
    "verify.privacy": (
        "文件不会离开您的电脑：浏览器在本地计算 SHA-256，只把哈希值发送给网关。",
        "The file never leaves your computer: the browser computes its SHA-256 locally and sends only the hash.",
    ),
    "verify.drop": ("将文件拖放到此处", "Drop a file here"),
    "verify.or": ("或", "or"),
    "verify.choose": ("选择文件", "Choose a file"),
    "verify.hash_label": ("或粘贴 SHA-256 / 叶子哈希", "Or paste a SHA-256 or leaf hash"),
    "verify.hash_placeholder": ("0x 开头的 64 位十六进制", "0x followed by 64 hex digits"),
    "verify.hash_submit": ("核验哈希", "Verify hash"),
    "verify.noscript": (
        "文件核验需要启用 JavaScript（哈希在浏览器中计算）。",
        "Verifying a file needs JavaScript (the hash is computed in the browser).",
    ),
    # strings the page's script uses (js.*)
    "js.hashing": (
        "正在本地计算 SHA-256：{name}（{size}）…",
        "Computing SHA-256 locally: {name} ({size})…",
    ),
    "js.querying": ("正在查询网关…", "Asking the gateway…"),
    "js.file": ("文件", "File"),
    "js.sha256": ("SHA-256", "SHA-256"),
    "js.hash": ("哈希", "Hash"),
    "js.anchored": ("已存证", "Anchored"),
    "js.anchored_text": (
        "该文件与联盟链上已存证的数据集版本一致。",
        "This file matches a dataset version anchored on the consortium chain.",
    ),
    "js.unconfirmed": ("待确认", "Not yet final"),
    "js.unconfirmed_text": (
        "该文件已存证，但确认数尚不足。",
        "This file is anchored, but the anchor has fewer confirmations than required.",
    ),
    "js.revoked": ("版本已撤销", "Version revoked"),
    "js.revoked_text": (
        "该文件所在的数据集版本已被其所有者撤销。",
        "The dataset version holding this file was revoked by its owner.",
    ),
    "js.not_anchored": ("未存证", "Not anchored"),
    "js.not_anchored_text": (
        "没有任何已存证的数据集版本包含此文件。文件可能被修改过，或从未存证。",
        "No anchored dataset version contains this file. It may have been altered, or it was never anchored.",
    ),
    "js.error": ("核验失败", "Verification failed"),
    "js.bad_hash": (
        "哈希格式不正确：应为 64 位十六进制（可带 0x）。",
        "Malformed hash: give 64 hex digits (0x optional).",
    ),
    "js.signin": ("请先登录。", "Please sign in first."),
    "js.signin_link": ("登录", "Sign in"),
    "js.match": ("匹配 {n}", "Match {n}"),
    "js.department": ("存证部门", "Anchored by"),
    "js.anchored_at": ("存证时间", "Anchored at"),
    "js.transaction": ("交易", "Transaction"),
    "js.block": ("区块", "Block"),
    "js.confirmations": ("确认数", "Confirmations"),
    "js.final": ("已最终确认", "final"),
    "js.not_final": ("未最终确认", "not final"),
    "js.stale": (
        "链节点暂时无法访问：此结果仅依据本网关的索引（截至区块 #{block}），确认数按该区块计算。",
        "The chain node cannot be reached: this answer comes from this gateway's index alone "
        "(as of block #{block}), confirmations counted up to that block.",
    ),
    "js.dataset": ("数据集", "Dataset"),
    "js.root": ("版本根哈希", "Version root"),
    "js.leaves": ("叶子数", "Leaves"),
    "js.path": ("文件路径", "Path"),
    "js.record": ("记录序号", "Record"),
    "js.leaf": ("叶子哈希", "Leaf hash"),
    "js.lineage": ("数据沿袭", "Lineage"),
    "js.lineage_none": (
        "这是原始版本，没有上游版本。",
        "An original version: it derives from no earlier version.",
    ),
    "js.authorizations": ("共享授权", "Agreements"),
    "js.authorizations_none": (
        "目前没有协议授权共享这个数据集。",
        "No agreement currently authorizes sharing this dataset.",
    ),
    "js.provider": ("提供方", "Provider"),
    "js.consumer": ("使用方", "Consumer"),
    "js.purpose": ("用途（哈希）", "Purpose (hash)"),
    "js.legal_basis": ("法律依据（哈希）", "Legal basis (hash)"),
    "js.validity": ("有效期", "Valid"),
    "js.receipts": ("访问回执", "Access receipts"),
    "js.agreement": ("协议", "Agreement"),
    "js.proof": ("下载证明包（JSON）", "Download the proof bundle (JSON)"),
    "js.proof_hint": (
        "证明包可在联盟任一节点上独立核验：xietong verify-proof 文件名 --trust 联盟信任文件"
        "（/v1/consortium，核对其指纹）",
        "Anyone can check the bundle against any node of the consortium: xietong verify-proof "
        "FILE --trust TRUST-FILE (from /v1/consortium; compare its fingerprint)",
    ),
    "js.proof_failed": ("下载证明包失败", "Downloading the proof bundle failed"),
    # --- datasets
    "datasets.title": ("数据集", "Datasets"),
    "datasets.intro": (
        "各部门登记的数据集及其存证版本。",
        "Datasets registered by the departments, and their anchored versions.",
    ),
    "datasets.find": ("按编码或 ID 查找数据集", "Find a dataset by code or id"),
    "datasets.find_placeholder": ("如 HZ-MZ-DIBAO 或 0x…", "e.g. HZ-MZ-DIBAO or 0x…"),
    "datasets.find_submit": ("查找", "Find"),
    "datasets.id": ("数据集 ID", "Dataset id"),
    "datasets.owner": ("所有部门", "Owner"),
    "datasets.versions": ("版本数", "Versions"),
    "datasets.latest": ("最新版本", "Latest version"),
    "datasets.latest_at": ("最新存证时间", "Latest anchor"),
    "datasets.registered": ("登记时间", "Registered"),
    "dataset.title": ("数据集", "Dataset"),
    "dataset.code": ("目录编码", "Catalogue code"),
    "dataset.metadata": ("描述", "Description"),
    "dataset.registered_tx": ("登记交易", "Registration transaction"),
    "dataset.lineage": ("数据沿袭图", "Lineage"),
    "dataset.lineage_desc": (
        "各版本按区块顺序从左到右排列，箭头从上游版本指向派生版本。",
        "Versions from left to right in block order; arrows lead from a version to the versions derived from it.",
    ),
    "dataset.lineage_external": ("其他数据集的版本", "a version of another dataset"),
    "dataset.lineage_empty": ("尚无存证版本。", "No version anchored yet."),
    "dataset.versions": ("版本记录", "Versions"),
    "dataset.version_n": ("版本 {n}", "Version {n}"),
    "dataset.number": ("#", "#"),
    "dataset.root": ("版本根哈希", "Root"),
    "dataset.leaves": ("叶子数", "Leaves"),
    "dataset.parents": ("上游版本", "Derived from"),
    "dataset.anchored_at": ("存证时间", "Anchored"),
    "dataset.anchored_by": ("存证部门", "Anchored by"),
    "dataset.agreements": ("涉及此数据集的共享协议", "Agreements covering this dataset"),
    "dataset.provenance": ("W3C PROV-JSON 溯源文档", "W3C PROV-JSON provenance"),
    # --- agreements
    "agreements.title": ("共享协议", "Sharing agreements"),
    "agreements.intro": (
        "谁可以与谁、为何目的、在何期限内共享哪些数据集（数据共享授权）。",
        "Who may share which datasets with whom, for what purpose and until when.",
    ),
    "agreement.title": ("共享协议", "Sharing agreement"),
    "agreement.provider": ("提供方", "Provider"),
    "agreement.consumer": ("使用方", "Consumer"),
    "agreement.proposer": ("发起方", "Proposed by"),
    "agreement.parties": ("提供方 → 使用方", "Provider → consumer"),
    "agreement.purpose": ("用途（哈希）", "Purpose (hash)"),
    "agreement.legal_basis": ("法律依据（哈希）", "Legal basis (hash)"),
    "agreement.terms": ("协议文本哈希", "Terms document hash"),
    "agreement.validity": ("有效期", "Validity"),
    "agreement.valid_from": ("生效时间", "Valid from"),
    "agreement.effective_from": (
        "实际生效时间（不早于接受时间）",
        "In effect from (never before acceptance)",
    ),
    "agreement.valid_until": ("失效时间", "Valid until"),
    "agreement.proposed_at": ("发起时间", "Proposed"),
    "agreement.accepted_at": ("接受时间", "Accepted"),
    "agreement.accepted_by": ("接受账户", "Accepted by"),
    "agreement.closed_at": ("终止时间", "Closed"),
    "agreement.reason": ("终止原因（哈希）", "Reason (hash)"),
    "agreement.supersedes": ("取代的协议", "Supersedes"),
    "agreement.superseded_by": ("被以下协议取代", "Superseded by"),
    "agreement.receipts": ("访问回执", "Access receipts"),
    "agreement.receipts_intro": (
        "使用方就其访问日志登记的 Merkle 根与条数，用于核查使用是否在授权范围和期限内。",
        "Merkle roots and entry counts of the consumer's access logs, to check that use stayed within scope and validity.",
    ),
    "agreement.receipts_none": ("尚无访问回执。", "No access receipt yet."),
    "agreement.receipt_index": ("序号", "No."),
    "agreement.log_root": ("日志根哈希", "Log root"),
    "agreement.entries": ("条数", "Entries"),
    "agreement.period": ("访问期间", "Period"),
    "agreement.recorded_at": ("登记时间", "Recorded"),
    "agreement.status.proposed": ("待接受", "Proposed"),
    "agreement.status.pending": ("未生效", "Pending"),
    "agreement.status.active": ("生效中", "Active"),
    "agreement.status.expired": ("已过期", "Expired"),
    "agreement.status.rejected": ("已拒绝", "Rejected"),
    "agreement.status.withdrawn": ("已撤回", "Withdrawn"),
    "agreement.status.revoked": ("已撤销", "Revoked"),
    "agreement.status.superseded": ("已被取代", "Superseded"),
    # --- commitments
    "commitments.title": ("联办承诺", "Joint-handling commitments"),
    "commitments.intro": (
        "牵头部门与参与部门共同承诺办理的事项（联办），及各方的签署与完成情况。",
        "Matters that a lead department and its participants promised to handle together, with each party's signature and completion.",
    ),
    "commitment.title": ("联办承诺", "Joint-handling commitment"),
    "commitment.matter": ("事项编号（哈希）", "Matter reference (hash)"),
    "commitment.lead": ("牵头部门", "Lead department"),
    "commitment.participants": ("参与部门", "Participants"),
    "commitment.deadline": ("办结期限", "Deadline"),
    "commitment.proposed_at": ("发起时间", "Proposed"),
    "commitment.activated_at": ("生效时间", "Active since"),
    "commitment.closed_at": ("关闭时间", "Closed"),
    "commitment.closing": ("办结凭证（哈希）", "Closing evidence (hash)"),
    "commitment.duty": ("职责（哈希）", "Duty (hash)"),
    "commitment.signed_at": ("签署时间", "Signed"),
    "commitment.signer": ("签署账户", "Signed by"),
    "commitment.done_at": ("完成时间", "Done"),
    "commitment.reports": ("进展报告数", "Reports"),
    "commitment.evidence": ("最近凭证（哈希）", "Latest evidence (hash)"),
    "commitment.progress": ("进度", "Progress"),
    "commitment.progress_value": (
        "已签署 {signed}/{total} · 已完成 {done}/{total}",
        "signed {signed}/{total} · done {done}/{total}",
    ),
    "commitment.status.proposed": ("待签署", "Proposed"),
    "commitment.status.active": ("办理中", "Active"),
    "commitment.status.overdue": ("已逾期", "Overdue"),
    "commitment.status.completed": ("已办结", "Completed"),
    "commitment.status.cancelled": ("已取消", "Cancelled"),
    # --- versions
    "version.status.anchored": ("已存证", "Anchored"),
    "version.status.revoked": ("已撤销", "Revoked"),
    # --- audit
    "audit.title": ("审计追踪", "Audit trail"),
    "audit.intro": (
        "链上合约的全部事件，按链上顺序排列；每条记录都可在任一节点上复核。",
        "Every contract event, in chain order; each can be checked on any node.",
    ),
    "audit.event_type": ("事件类型", "Event type"),
    "audit.since": ("起始日期（含）", "Since (inclusive)"),
    "audit.until": ("截止日期（不含）", "Until (exclusive)"),
    "audit.csv": ("导出 CSV（全部符合条件的事件）", "Export CSV (every matching event)"),
    "audit.event": ("事件", "Event"),
    "audit.subject": ("对象", "Subject"),
    "audit.args": ("参数", "Arguments"),
    "audit.show_args": ("查看参数", "Show arguments"),
    "audit.position": ("区块 / 序号", "Block / log"),
    # --- event arguments (as the contracts name them; the name is shown beside the label)
    "arg.account": ("账户", "Account"),
    "arg.addedBy": ("添加人", "Added by"),
    "arg.agreementId": ("协议 ID", "Agreement id"),
    "arg.approvals": ("已批准数", "Approvals"),
    "arg.approver": ("批准人", "Approver"),
    "arg.codeHash": ("编码哈希", "Code hash"),
    "arg.commitmentId": ("承诺 ID", "Commitment id"),
    "arg.consumer": ("数据使用方", "Consumer"),
    "arg.datasetId": ("数据集 ID", "Dataset id"),
    "arg.datasetIds": ("数据集 ID 列表", "Dataset ids"),
    "arg.deadline": ("截止时间", "Deadline"),
    "arg.departmentId": ("部门 ID", "Department id"),
    "arg.done": ("已完成", "Done"),
    "arg.dutyHashes": ("职责哈希", "Duty hashes"),
    "arg.entryCount": ("条目数", "Entry count"),
    "arg.evidenceHash": ("佐证材料哈希", "Evidence hash"),
    "arg.expiresAt": ("到期时间", "Expires at"),
    "arg.firstOperator": ("首个操作账户", "First operator"),
    "arg.kind": ("类型", "Kind"),
    "arg.lead": ("牵头部门", "Lead department"),
    "arg.leafCount": ("叶子数", "Leaf count"),
    "arg.legalBasis": ("法律依据", "Legal basis"),
    "arg.logRoot": ("访问日志根", "Access log root"),
    "arg.matterRef": ("事项编号", "Matter reference"),
    "arg.metadataHash": ("元数据哈希", "Metadata hash"),
    "arg.name": ("名称", "Name"),
    "arg.nominatedBy": ("提名人", "Nominated by"),
    "arg.ownerDepartment": ("所属部门", "Owner department"),
    "arg.parents": ("上级版本", "Parent versions"),
    "arg.participants": ("参与部门", "Participants"),
    "arg.periodEnd": ("期间结束", "Period end"),
    "arg.periodStart": ("期间开始", "Period start"),
    "arg.proposalId": ("提案 ID", "Proposal id"),
    "arg.proposer": ("提议账户", "Proposer"),
    "arg.proposerDepartment": ("提议部门", "Proposing department"),
    "arg.provider": ("数据提供方", "Provider"),
    "arg.purpose": ("用途", "Purpose"),
    "arg.reasonHash": ("原因哈希", "Reason hash"),
    "arg.receiptIndex": ("回执序号", "Receipt index"),
    "arg.removedBy": ("移除人", "Removed by"),
    "arg.required": ("所需批准数", "Approvals required"),
    "arg.root": ("默克尔根", "Merkle root"),
    "arg.signer": ("签署账户", "Signer"),
    "arg.supersededBy": ("被替代为", "Superseded by"),
    "arg.supersedes": ("替代协议", "Supersedes"),
    "arg.terms": ("协议条款", "Terms"),
    "arg.termsHash": ("条款哈希", "Terms hash"),
    "arg.validFrom": ("有效期自", "Valid from"),
    "arg.validUntil": ("有效期至", "Valid until"),
    "arg.withdrawnBy": ("撤回人", "Withdrawn by"),
    # --- events (contract event names)
    "event.AuditorGranted": ("授予审计角色", "Auditor granted"),
    "event.AuditorRevoked": ("撤销审计角色", "Auditor revoked"),
    "event.DepartmentAdmitted": ("部门加入", "Department admitted"),
    "event.DepartmentReadmitted": ("部门恢复", "Department readmitted"),
    "event.DepartmentSuspended": ("部门暂停", "Department suspended"),
    "event.OperatorNominated": ("提名操作员", "Operator nominated"),
    "event.OperatorNominationWithdrawn": ("撤回操作员提名", "Operator nomination withdrawn"),
    "event.OperatorAdded": ("添加操作员", "Operator added"),
    "event.OperatorRemoved": ("移除操作员", "Operator removed"),
    "event.ProposalApproved": ("批准提案", "Proposal approved"),
    "event.ProposalCreated": ("提出提案", "Proposal created"),
    "event.ProposalRoleAccepted": ("接受提案角色", "Role accepted"),
    "event.ProposalExecuted": ("执行提案", "Proposal executed"),
    "event.DatasetRegistered": ("登记数据集", "Dataset registered"),
    "event.VersionAnchored": ("版本存证", "Version anchored"),
    "event.VersionRevoked": ("撤销版本", "Version revoked"),
    "event.AccessRecorded": ("登记访问回执", "Access recorded"),
    "event.AgreementProposed": ("发起协议", "Agreement proposed"),
    "event.AgreementAccepted": ("接受协议", "Agreement accepted"),
    "event.AgreementRejected": ("拒绝协议", "Agreement rejected"),
    "event.AgreementRevoked": ("撤销协议", "Agreement revoked"),
    "event.AgreementSuperseded": ("协议被取代", "Agreement superseded"),
    "event.AgreementWithdrawn": ("撤回协议", "Agreement withdrawn"),
    "event.EIP712DomainChanged": ("签名域变更", "EIP-712 domain changed"),
    "event.CommitmentProposed": ("发起承诺", "Commitment proposed"),
    "event.CommitmentSigned": ("签署承诺", "Commitment signed"),
    "event.CommitmentActivated": ("承诺生效", "Commitment activated"),
    "event.ProgressReported": ("报告进展", "Progress reported"),
    "event.CommitmentCompleted": ("承诺办结", "Commitment completed"),
    "event.CommitmentCancelled": ("取消承诺", "Commitment cancelled"),
}


def pick_lang(*candidates: str | None) -> str:
    """The first supported language among ``candidates`` (query, then cookie), else zh."""
    for candidate in candidates:
        if candidate in LANGS:
            return candidate
    return DEFAULT_LANG


class Translator:
    """``t(key, **values)``: the string ``key`` in one language, formatted with ``values``."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        self._column = LANGS.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = STRINGS[key][self._column]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in STRINGS

    def event(self, name: str) -> str:
        """A contract event's label; the name itself for events this portal does not know."""
        key = f"event.{name}"
        return self(key) if key in STRINGS else name

    def arg(self, name: str) -> str:
        """A contract event argument's label; the name itself for arguments not known here."""
        key = f"arg.{name}"
        return self(key) if key in STRINGS else name

    def script_strings(self) -> dict[str, str]:
        """The ``js.*`` strings (without the prefix), for the page's script."""
        return {key[3:]: self(key) for key in STRINGS if key.startswith("js.")}
