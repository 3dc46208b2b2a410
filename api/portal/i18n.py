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
    "nav.proposals": ("成员治理", "Governance"),
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
    "error.unknown_proposal": (
        "本网关的索引中没有这个成员治理提案。",
        "This gateway's index holds no such membership proposal.",
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
        "只有只读（read）密钥可以登录门户；anchor、watch 与 admin 密钥只用于 API。",
        "Only read keys sign in to the portal; anchor, watch and admin keys are for the API only.",
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
        "文件不会离开您的电脑：浏览器在本地计算哈希，只把哈希值发送给网关；记录内容和盐值都不会发送。",
        "Your files never leave your computer: the browser computes their hashes locally and sends "
        "only hashes; neither record contents nor salts are ever sent.",
    ),
    "verify.drop": ("将文件拖放到此处（可一次多个）", "Drop files here (several at once)"),
    "verify.or": ("或", "or"),
    "verify.choose": ("选择文件", "Choose files"),
    "verify.records_hint": (
        "记录数据（CSV、JSONL）请连同其盐值文件 文件名.salts.json 一起放入：浏览器逐条核验每一条记录。",
        "Drop records data (CSV, JSONL) together with its salts file NAME.salts.json: the browser "
        "checks every record.",
    ),
    "verify.hash_label": (
        "或粘贴 SHA-256 / SM3 / 叶子哈希",
        "Or paste a SHA-256, SM3 or leaf hash",
    ),
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
    # SM3 (GM/T 0004-2012) datasets, docs/SM3.md: the page computes SM3 too (sm-crypto, vendored)
    "js.sm3": ("SM3", "SM3"),
    "js.hashing_sm3": (
        "正在本地计算 SM3：{name}（{size}）…",
        "Computing SM3 locally: {name} ({size})…",
    ),
    "js.digest": ("摘要算法", "Digest"),
    "js.digest_sha256_title": (
        "叶子中的内容摘要为 SHA-256（FIPS 180-4）",
        "The leaf holds a SHA-256 digest (FIPS 180-4)",
    ),
    "js.digest_sm3_title": (
        "叶子中的内容摘要为国密 SM3（GM/T 0004-2012）",
        "The leaf holds an SM3 digest, the Chinese national standard (GM/T 0004-2012)",
    ),
    "js.sm3_unavailable": (
        "SM3 实现未能加载，没有查询以 SM3 存证的数据集。",
        "The SM3 implementation did not load: datasets anchored with SM3 were not searched.",
    ),
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
    "js.erased": ("记录已删除", "Record erased"),
    "js.erased_text": (
        "此记录已由 {department} 于 {time} 删除（个人信息保护：其盐值已销毁，任何人都无法再把链上的叶子与记录对应起来）。"
        "删除记录在链上，可用下方的信息核验；它所在的数据集版本仍然有效。",
        "This record was erased on {time} by {department} (personal information protection: its "
        "salt was destroyed, so no one can link the leaf on chain to the record any more). The "
        "erasure is on chain, checkable with what follows; the dataset version holding it stands.",
    ),
    "js.erased_at": ("删除时间", "Erased at"),
    "js.erased_by": ("删除部门", "Erased by"),
    "js.erasure_transaction": ("删除交易", "Erasure transaction"),
    "js.erasure_count": ("本次删除的记录数", "Records in this erasure"),
    "js.erased_root": ("已删除叶子的 Merkle 根", "Root of the erased leaves"),
    "js.not_anchored": ("未存证", "Not anchored"),
    "js.not_anchored_text": (
        "本网关已知的数据集版本中没有这个哈希，它也不是本网关已知的文档（协议条款、用途、法律依据、凭证等）。"
        "没有找到可以比对的存证。",
        "This hash is not anchored in any dataset version this gateway knows, and it is no document "
        "this gateway knows of (agreement terms, a purpose, a legal basis, evidence …). Nothing on "
        "record could be compared with it.",
    ),
    "js.name_flagged": (
        "名称需核对（{flags}）：以部门 ID 为准",
        "check this name ({flags}): the department id is what counts",
    ),
    # documents (GET /v1/documents)
    "js.document": ("已识别：链上文档", "Recognised: a document on chain"),
    "js.document_text": (
        "此文件没有作为数据集版本的一部分存证，但链上记录了它的哈希：",
        "This file is not anchored in a dataset version, but the chain records its hash:",
    ),
    "js.document_text_hash": (
        "这个哈希没有作为数据集版本的一部分存证，但链上记录了它：",
        "This hash is not anchored in a dataset version, but the chain records it:",
    ),
    "js.documents_also": ("它也是链上文档", "It is also a document on chain"),
    "js.documents_by_sha": ("文件的 SHA-256", "The file's SHA-256"),
    "js.documents_by_text": (
        "文件文本（去除首尾空白）的 keccak256",
        "The keccak256 of the file's text (trimmed)",
    ),
    "js.documents_by_hash": ("哈希", "The hash"),
    "js.documents_named": ("目录登记的原文：", "The catalogue's text:"),
    "js.documents_failed": (
        "未能查询它是否为链上文档（{status}）。",
        "Could not ask whether it is a document on chain ({status}).",
    ),
    "js.doc_status": ("（状态：{status}）", " (status: {status})"),
    "js.doc_agreement_terms": (
        "这是共享协议 {subject} 的条款文件",
        "The terms document of agreement {subject}",
    ),
    "js.doc_agreement_purpose": (
        "这是共享协议 {subject} 的用途",
        "The purpose of agreement {subject}",
    ),
    "js.doc_agreement_legal_basis": (
        "这是共享协议 {subject} 的法律依据",
        "The legal basis of agreement {subject}",
    ),
    "js.doc_agreement_reason": (
        "这是共享协议 {subject} 被拒绝或撤销的原因",
        "The reason agreement {subject} was rejected or revoked",
    ),
    "js.doc_commitment_matter": (
        "这是联办承诺 {subject} 的事项编号",
        "The matter reference of commitment {subject}",
    ),
    "js.doc_commitment_duty": (
        "这是联办承诺 {subject} 中 {department} 的职责",
        "The duty of {department} in commitment {subject}",
    ),
    "js.doc_commitment_evidence": (
        "这是 {department} 在联办承诺 {subject} 中报告的凭证",
        "Evidence {department} reported in commitment {subject}",
    ),
    "js.doc_commitment_closing": (
        "这是联办承诺 {subject} 的办结凭证",
        "The closing evidence of commitment {subject}",
    ),
    "js.doc_commitment_reason": (
        "这是联办承诺 {subject} 的取消原因",
        "The reason commitment {subject} was cancelled",
    ),
    "js.doc_dataset_code": (
        "这是 {department} 的数据集 {subject} 的目录编码",
        "The catalogue code of dataset {subject} of {department}",
    ),
    "js.doc_dataset_description": (
        "这是 {department} 的数据集 {subject} 的描述",
        "The description of dataset {subject} of {department}",
    ),
    "js.doc_other": (
        "链上记录了此哈希（{kind}）：{subject}",
        "Recorded on chain ({kind}): {subject}",
    ),
    # records checked row by row with their salts (records.js)
    "js.needs_salts": ("需要盐值文件", "Its salts file is needed"),
    "js.needs_salts_text": (
        "这看起来是记录数据（{format}，{rows} 条记录）。记录是逐条加盐存证的，整个文件的哈希不在链上："
        "请把它和盐值文件 {name}.salts.json 一起放入，以逐条核验（记录内容和盐值都不会离开本页）。",
        "This looks like records data ({format}, {rows} records). Records are anchored row by row, "
        "salted, so the hash of the whole file is not on chain: drop it together with its salts "
        "file {name}.salts.json to check every record (neither records nor salts leave this page).",
    ),
    "js.needs_salts_unreadable": (
        "这看起来是记录数据（{format}），但无法按行读取：{reason}",
        "This looks like records data ({format}), but its rows cannot be read: {reason}",
    ),
    "js.salts_only": ("盐值文件", "A salts file"),
    "js.salts_only_text": (
        "这是记录文件 {source} 的盐值文件（{rows} 条记录）。请把它和 {source} 一起放入；盐值不会发送到任何地方。",
        "This is the salts file of the records file {source} ({rows} records). Drop it together "
        "with {source}; salts are never sent anywhere.",
    ),
    "js.salts_file": ("盐值文件", "Salts file"),
    "js.salts_only_erased": (
        "其中 {count} 条记录的盐值已销毁（记录已删除）。",
        "The salts of {count} of its records were destroyed (the records erased).",
    ),
    "js.salts_erased_rows_differ": (
        "盐值文件 {salts} 含已删除的记录，因此按记录数与数据文件配对：它是为 {source} 生成的（{rows} 条记录），"
        "而 {name} 读出 {count} 条，无法配对。已删除的记录应在数据文件中留空保留原位，而不是移除。",
        "The salts file {salts} holds erased records, so it is paired with its data file by the "
        "number of records: it was made for {source} ({rows} records), but {count} are read from "
        "{name}; they cannot be paired. Erased records are blanked in place in the data file, "
        "not removed.",
    ),
    "js.computed_root": ("按盐值重算的根哈希", "Root recomputed with the salts"),
    "js.computed_root_sm3": (
        "按盐值以 SM3 重算的根哈希",
        "Root recomputed with the salts (SM3)",
    ),
    "js.bad_salts": ("盐值文件无法使用", "The salts file cannot be used"),
    "js.salts_not_utf8": ("{name} 不是 UTF-8 文本。", "{name} is not UTF-8 text."),
    "js.salts_not_json": (
        "{name} 不是有效的 JSON 文档：{reason}。",
        "{name} is not a valid JSON document: {reason}.",
    ),
    "js.salts_format": (
        "{name} 不是盐值文件：格式应为 xietong-salts/1 或 /2，而它的 format 是 {found}。",
        "{name} is not a salts file: its format should be xietong-salts/1 or /2, not {found}.",
    ),
    "js.salts_keys": (
        "{name} 的字段不符合盐值文件的格式（缺少或多出：{keys}）。",
        "{name} does not have the fields of a salts file (missing or unknown: {keys}).",
    ),
    "js.salts_entry": (
        "{name} 中的 salts[{row}] 既不是盐值、null，也不是主体及其随机数。",
        "In {name}, salts[{row}] is not a salt, null, or a subject and its nonce.",
    ),
    "js.salts_needs_keys": (
        "{name} 的记录盐值由主体密钥生成：请将本部门的主体密钥库（subject-keys.json）与它一同选择。",
        "{name} derives its records' salts from subject keys: choose the department's subject "
        "key store (subject-keys.json) with it.",
    ),
    "js.salts_other_keys": (
        "{name} 是用另一个主体密钥库生成的，不是所选的那个。",
        "{name} was made with another subject key store than the one chosen.",
    ),
    "js.salts_unknown_subject": (
        "所选的主体密钥库中没有 {name} 中 salts[{row}] 的主体的密钥。",
        "The subject key store chosen holds no key for the subject of salts[{row}] in {name}.",
    ),
    "js.bad_subject_keys": ("主体密钥库无法使用", "The subject key store cannot be used"),
    "js.keys_bad": (
        "{name} 不是可用的主体密钥库（{what} 无效）。",
        "{name} is not a usable subject key store (its {what} is not valid).",
    ),
    "js.salts_field": ("{name} 的 {field} 字段无效。", "{name} has an invalid {field}."),
    "js.salts_count": (
        "{name} 声明 {rows} 条记录，却有 {count} 个盐值。",
        "{name} declares {rows} rows but holds {count} salts.",
    ),
    "js.salts_hex": (
        "{name} 中的 {what} 不是 64 位小写十六进制数。",
        "In {name}, {what} is not 64 lower-case hex digits.",
    ),
    "js.salts_repeat": (
        "{name} 中有重复的盐值（盐值是随机生成的，说明这个文件被编辑过）。",
        "A salt appears twice in {name} (salts are drawn at random, so the file was edited).",
    ),
    "js.salts_format_mismatch": (
        "盐值文件是为 {expected} 记录生成的，而 {name} 按 {found} 读取。",
        "The salts file was made for {expected} records, but {name} is read as {found}.",
    ),
    "js.salts_other_file": (
        "盐值文件 {salts} 是为 {source} 生成的（{rows} 条记录，SHA-256 {sha}），不是为 {name}"
        "（{count} 条记录，SHA-256 {own}）生成的，其盐值无法与这些记录配对。请使用与此文件一同生成的盐值文件。",
        "The salts file {salts} was made for {source} ({rows} records, SHA-256 {sha}), not for "
        "{name} ({count} records, SHA-256 {own}): its salts cannot be paired with these records. "
        "Use the salts file made with this file.",
    ),
    "js.salts_rows_differ": (
        "盐值文件 {salts} 声明 {rows} 条记录，而 {name} 读出 {count} 条，无法配对。",
        "The salts file {salts} declares {rows} records, but {count} are read from {name}: they "
        "cannot be paired.",
    ),
    "js.salts_other_bytes": (
        "盐值文件 {salts} 是为另一份内容生成的（{source}，SHA-256 {sha}），此文件的 SHA-256 是 {own}，"
        "两者字节不同。记录数相同，因此仍按位置把第 n 条记录与第 n 个盐值配对逐条核验：一致的记录与存证相同；"
        "不一致的记录在存证之后有了变动，或者记录被增删、调换了位置（这会使其后各条的盐值错位）。",
        "The salts file {salts} was made for other bytes ({source}, SHA-256 {sha}); this file's "
        "SHA-256 is {own}. As the record counts are equal, the records are still checked, record "
        "n with salt n: a record that matches is as anchored; one that does not differs from "
        "what was anchored, or records were added, removed or moved (which shifts the salts of "
        "every later record).",
    ),
    "js.rec_unreadable": ("无法读取记录", "The records cannot be read"),
    "js.rec_not_utf8": (
        "第 {line} 行不是有效的 UTF-8 文本。",
        "Line {line} is not valid UTF-8 text.",
    ),
    "js.rec_csv": (
        "第 {line} 行不是有效的 CSV：{reason}。",
        "Line {line} is not valid CSV: {reason}.",
    ),
    "js.csv_quote": (
        "引号字段结束后应紧跟逗号或换行",
        "a quoted field must be followed by a comma or a line end",
    ),
    "js.csv_newline": (
        "未加引号的字段中出现了回车符",
        "a carriage return stands inside an unquoted field",
    ),
    "js.csv_eof": ("引号字段尚未结束，文件就结束了", "the file ends inside a quoted field"),
    "js.csv_field_limit": (
        "某个字段超过 131072 个字符",
        "a field is longer than 131072 characters",
    ),
    "js.rec_empty_csv": (
        "文件是空的：CSV 需要表头行和至少一条记录。",
        "The file is empty: a CSV needs a header row and at least one record.",
    ),
    "js.rec_duplicate_header": (
        "第 {line} 行的表头两次出现字段 {field}。",
        "The header on line {line} names the field {field} twice.",
    ),
    "js.rec_width": (
        "第 {line} 行的记录有 {found} 个字段，而表头有 {expected} 个。",
        "The record on line {line} has {found} fields but the header has {expected}.",
    ),
    "js.rec_no_records": ("文件中没有任何记录。", "The file holds no record."),
    "js.rec_jsonl": ("第 {line} 行不能作为记录：{reason}。", "Line {line} is refused: {reason}."),
    "js.json_syntax": (
        "不是有效的 JSON（第 {column} 列）",
        "it is not valid JSON (at column {column})",
    ),
    "js.json_duplicate": (
        "成员名 {name} 在同一个对象中出现了两次",
        "the member name {name} appears twice in one object",
    ),
    "js.json_not_finite": (
        "有数字不是有限值（NaN、Infinity 和溢出的数字都不是 JSON）",
        "a number is not finite (NaN, Infinity and overflowing numbers are not JSON)",
    ),
    "js.json_big_int": (
        "有整数超出 ±2^53，JSON 数字无法精确表示它，请写成字符串",
        "an integer is beyond ±2^53, which JSON numbers cannot hold exactly; write it as a string",
    ),
    "js.json_surrogate": (
        "有字符串含孤立的代理字符，它没有 UTF-8 形式",
        "a string holds a lone surrogate, which has no UTF-8 form",
    ),
    "js.json_deep": ("嵌套超过 200 层", "it is nested more than 200 levels deep"),
    "js.json_not_object": ("它是 JSON {kind}，不是对象", "it is a JSON {kind}, not an object"),
    "js.rec_hashing": (
        "正在本地逐条计算记录哈希：{name}（{rows} 条）…",
        "Hashing the records locally: {name} ({rows} records)…",
    ),
    "js.rec_hashing_sm3": (
        "正在本地逐条计算记录的 SM3：{name}（{rows} 条）…",
        "Hashing the records with SM3 locally: {name} ({rows} records)…",
    ),
    "js.rec_checking": ("正在逐条核验：{done} / {total}", "Checking records: {done} / {total}"),
    "js.rec_all": ("全部记录均已存证", "Every record is anchored"),
    "js.rec_all_unconfirmed": (
        "全部记录均已存证，待确认",
        "Every record is anchored, not yet final",
    ),
    "js.rec_all_text": (
        "这 {rows} 条记录与 {department} 于 {time} 存证的数据集版本完全一致（按盐值重算的 Merkle 根相同）。",
        "These {rows} records are exactly the dataset version {department} anchored at {time} "
        "(the Merkle root recomputed with the salts is the same).",
    ),
    "js.version_card": ("存证版本", "The anchored version"),
    "js.rec_found": ("已核验的记录均已存证", "Every record checked is anchored"),
    "js.rec_found_text": (
        "已核验的 {checked} 条记录都在已存证的数据集版本中，但此文件不是一个完整的版本（重算的根哈希与这些版本都不同）。",
        "Every one of the {checked} records checked is in an anchored dataset version, but this "
        "file is not one whole version (the recomputed root differs from theirs).",
    ),
    "js.rec_partial": (
        "已核验的记录均已存证，但并非每条都已核验",
        "Every record checked is anchored, but not every record was checked",
    ),
    "js.rec_partial_text": (
        "已核验的 {matched} 条记录都在已存证的数据集版本中。",
        "Every one of the {matched} records checked is in an anchored dataset version.",
    ),
    "js.rec_differ": ("部分记录与存证不符", "Some records differ from what was anchored"),
    "js.rec_differ_text": (
        "{missing} 条记录不在本网关已知的任何数据集版本中，另有 {matched} 条记录与存证一致。见下表。",
        "Records in no dataset version this gateway knows: {missing}. Records that match what "
        "was anchored: {matched}. See the table below.",
    ),
    "js.rec_none": (
        "已核验的 {checked} 条记录都不在本网关已知的任何数据集版本中。没有找到可以比对的存证。",
        "None of the {checked} records checked is in a dataset version this gateway knows. "
        "Nothing on record could be compared with them.",
    ),
    "js.rec_none_other_salts": (
        "按这个盐值文件计算，已核验的 {checked} 条记录都不在本网关已知的任何数据集版本中；"
        "盐值文件与此文件的字节不同，它很可能属于另一个文件。",
        "Hashed with this salts file, none of the {checked} records checked is in a dataset "
        "version this gateway knows; the salts file was made for other bytes, so it most likely "
        "belongs to another file.",
    ),
    "js.rec_unchecked": (
        "另有 {count} 条记录未核验（每次最多发送 {limit} 个查询）。",
        "Records not checked: {count} (at most {limit} queries are sent per check).",
    ),
    "js.rec_errors": (
        "{count} 条记录的查询失败，未能核验。",
        "Records that could not be checked (the query failed): {count}.",
    ),
    "js.rec_table_missing": ("不在任何已存证版本中的记录", "Records in no anchored version"),
    "js.rec_table_matched": ("与存证一致的记录（{count} 条）", "Records that match ({count})"),
    "js.rec_row": ("记录", "Record"),
    "js.rec_line": ("起始行", "Line"),
    "js.rec_result": ("结果", "Result"),
    "js.rec_version": ("所在版本（根哈希）", "Version (root)"),
    "js.rec_state_match": ("一致", "matches"),
    "js.rec_state_missing": ("未找到", "not found"),
    "js.rec_state_error": ("查询失败", "query failed"),
    "js.rec_erased_notice": (
        "盐值文件中有 {count} 条记录（记录 {rows}）的盐值已销毁：这些记录已被其所有者删除，无法再核验，"
        "也不会为它们发送查询。没有这些盐值就无法重算整个文件的根哈希，因此其余记录逐条核验。",
        "The salts of {count} records (record {rows}) were destroyed in the salts file: their "
        "owner erased them, so they cannot be checked and nothing is asked about them. Without "
        "those salts the root of the whole file cannot be recomputed, so the other records are "
        "checked one by one.",
    ),
    "js.version_erasures": (
        "此版本中有 {count} 条记录已被其所有者删除（链上有删除记录），因此逐条核验了每条记录。",
        "Its owner erased {count} records of this version (the erasures are on chain), so every "
        "record was checked one by one.",
    ),
    "js.unattributed_erasures": (
        "此版本中有 {count} 条记录已被其所有者删除（链上有删除记录），本网关不知道是哪几条："
        "此记录是否在其中，由执行删除的网关回答。",
        "Its owner erased {count} records of this version (the erasures are on chain) that "
        "this gateway cannot name: whether this record is one of them, the gateway that erased "
        "them answers.",
    ),
    "js.version_erasures_unknown": (
        "此版本中有 {count} 条记录已被其所有者删除（链上有删除记录）；本网关不知道是哪几条。",
        "Its owner erased {count} records of this version (the erasures are on chain); this "
        "gateway does not know which.",
    ),
    "js.rec_erased": ("部分记录已被删除", "Some records were erased"),
    "js.rec_erased_text": (
        "{matched} 条记录在已存证的数据集版本中；另有 {erased} 条记录已被其所有者删除，见下表。",
        "Records in an anchored dataset version: {matched}. Records their owner erased: "
        "{erased} (see the table below).",
    ),
    "js.rec_erased_all_text": (
        "这些记录（{erased} 条）都已被其所有者删除，没有可以核验的记录。",
        "Every one of these records ({erased}) was erased by its owner: none is left to check.",
    ),
    "js.rec_table_erased": ("已删除的记录", "Erased records"),
    "js.rec_state_erased": ("已删除", "erased"),
    "js.rec_state_shredded": (
        "已删除（盐值已销毁，未核验）",
        "erased (salt destroyed, not checked)",
    ),
    "js.rec_erased_on": ("{time} 由 {department} 删除", "on {time} by {department}"),
    "js.file_also_anchored": (
        "此文件本身也作为文件存证",
        "The file itself is also anchored, as a file",
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
    "js.purpose": ("用途", "Purpose"),
    "js.legal_basis": ("法律依据", "Legal basis"),
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
    # --- verify: a proof bundle checked offline (offline-page.js, docs/OFFLINE_PROOFS.md)
    "offline.title": ("离线核验证明包", "Check a proof bundle offline"),
    "offline.intro": (
        "在浏览器中核验证明包（xietong-proof/3）：区块头的签封、交易与收据的默克尔证明，只依据联盟信任文件，"
        "不向网关或节点发送任何请求，断网亦可。",
        "Check a proof bundle (xietong-proof/3) in this browser: the seals of its block headers and "
        "the Merkle proofs of its transaction and receipt, against the consortium trust file alone, "
        "with no request to the gateway or any node; it works with the network cut.",
    ),
    "offline.drop": ("将证明包（JSON）拖放到此处", "Drop a proof bundle (JSON) here"),
    "offline.choose": ("选择证明包", "Choose a proof bundle"),
    "offline.trust_label": (
        "使用其他联盟信任文件（可选）",
        "Use another consortium trust file (optional)",
    ),
    "offline.no_trust": (
        "本网关没有可用的联盟信任文件（{detail}）：请在下方选择一个信任文件后再核验。",
        "This gateway has no usable consortium trust file ({detail}): choose one below to "
        "check a bundle.",
    ),
    "offline.noscript": (
        "离线核验需要启用 JavaScript。",
        "Checking a bundle offline needs JavaScript.",
    ),
    "js.offline_checking": ("正在本地核验证明包…", "Checking the bundle locally…"),
    "js.offline_progress": (
        "正在本地核对区块头：{done} / {total}…",
        "Checking the block headers locally: {done} of {total}…",
    ),
    "js.offline_trust_gateway": (
        "依据本网关的联盟信任文件：链 ID {chain}，{signers} 个签封者，指纹 {fingerprint}（请与联盟公布的指纹核对）。",
        "Checked against this gateway's consortium trust file: chain {chain}, {signers} signers, "
        "fingerprint {fingerprint} (compare it with the consortium's).",
    ),
    "js.offline_trust_file": (
        "依据信任文件 {name}：链 ID {chain}，{signers} 个签封者，指纹 {fingerprint}。",
        "Checked against the trust file {name}: chain {chain}, {signers} signers, "
        "fingerprint {fingerprint}.",
    ),
    "js.offline_trust_no_signers": (
        "该信任文件未列出 Clique 签封者（链没有签封，如 Hardhat、Anvil）：无法据此离线核验，请选择联盟网络的信任文件。",
        "This trust file names no Clique signers (its chain has no seals, as Hardhat or Anvil): "
        "nothing can be checked offline against it; choose a consortium network's trust file.",
    ),
    "js.offline_trust_none": ("尚未选择信任文件。", "No trust file chosen yet."),
    "js.offline_trust_refused": (
        "信任文件 {name} 未被采用：{problem}。",
        "The trust file {name} is refused: {problem}.",
    ),
    "js.offline_too_large": (
        "文件过大（{size}）：证明包最大 64 MiB。",
        "The file is too large ({size}): a proof bundle is at most 64 MiB.",
    ),
    "js.offline_valid": ("离线核验通过", "Valid offline"),
    "js.offline_valid_text": (
        "联盟多数签封者为存证区块签封：该版本于此区块存证。",
        "A majority of the consortium's signers sealed the anchor block: the version was anchored in it.",
    ),
    "js.offline_refused": ("未通过离线核验", "Refused offline"),
    "js.offline_reason": ("原因代码", "Reason code"),
    "js.offline_detail": ("技术细节（英文）", "Technical detail"),
    "js.offline_sealed_by": ("存证区块签封者", "Anchor block sealed by"),
    "js.offline_confirmed_by": ("其后签封者", "Sealed on top by"),
    "js.offline_signers": ("签封者", "Signers"),
    "js.offline_signers_value": (
        "{signers} 个中至少需 {required} 个，已有 {count} 个",
        "{count} of {signers}; {required} required",
    ),
    "js.offline_history": ("区块头来源", "Headers"),
    "js.offline_from_genesis": ("自创世区块逐一核对", "followed from the genesis block"),
    "js.offline_not_from_genesis": (
        "自存证区块起（签封者集合取自信任文件）",
        "from the anchor block (the signer set is the trust file's)",
    ),
    "js.offline_publisher": ("存证部门", "Anchored by"),
    "js.offline_chain": ("链 ID", "Chain id"),
    "js.offline_fingerprint": ("信任文件指纹", "Trust file fingerprint"),
    "js.offline_unchecked": (
        "离线核验不能说明该版本此后是否被撤销：撤销是之后的交易，请向节点查询。",
        "Checked offline, a bundle cannot say whether the version was revoked later: a revocation "
        "is a later transaction; ask a node.",
    ),
    "js.offline_unknown_key": ("未登记的密钥", "a key no founder named"),
    "js.offline_checkpoint": ("联署检查点", "Cosigned checkpoint"),
    "js.offline_checkpoint_none": (
        "证明包不含联署检查点。",
        "The bundle carries no cosigned checkpoint.",
    ),
    "js.offline_checkpoint_unchecked": (
        "证明包含联署检查点，但信任文件未列出检查点联署者（生成于此功能之前），故未核验。",
        "The bundle carries a cosigned checkpoint, but the trust file names no checkpoint "
        "cosigners (it was made before them): not checked.",
    ),
    "js.offline_cosigners": ("联署部门", "Cosigned by"),
    "js.offline_cosigned": ("联署部门数", "Cosigning departments"),
    "js.offline_cosigned_value": (
        "{count} 个部门联署，至少需 {threshold} 个",
        "{count} departments; {threshold} required",
    ),
    "js.offline_reason.trust-form": (
        "联盟信任文件格式有误。",
        "The consortium trust file is malformed.",
    ),
    "js.offline_reason.bundle-form": (
        "该文件不是格式正确的证明包（xietong-proof/3）。",
        "The file is not a well-formed proof bundle (xietong-proof/3).",
    ),
    "js.offline_reason.merkle-path": (
        "证明包中的叶子经其默克尔路径得不到其根哈希。",
        "The bundle's leaf does not lead to its root by its Merkle path.",
    ),
    "js.offline_reason.no-seals": (
        "证明包不含签封的区块头（生成于没有签封的链，或为旧格式）：请改为向节点核验。",
        "The bundle carries no sealed block headers (it was made on a chain without seals, or in "
        "an older format): check it against a node instead.",
    ),
    "js.offline_reason.trust-no-signers": (
        "信任文件未列出 Clique 签封者，无法据此核验签封。",
        "The trust file names no Clique signers, so no seal can be checked against it.",
    ),
    "js.offline_reason.claim-chain": (
        "证明包生成于另一条链，不是本联盟的链。",
        "The bundle was made on another chain than the consortium's.",
    ),
    "js.offline_reason.claim-contract": (
        "证明包指明的登记合约不是本联盟的合约。",
        "The bundle names another registry contract than the consortium's.",
    ),
    "js.offline_reason.header-form": (
        "证明包中的区块头格式有误，或数量过多。",
        "A block header of the bundle is malformed, or there are too many.",
    ),
    "js.offline_reason.wrong-genesis": (
        "区块头并非始于本联盟的创世区块。",
        "The headers do not start on the consortium's genesis block.",
    ),
    "js.offline_reason.header-link": (
        "区块头未能首尾相连：某个区块不是前一个区块的子区块。",
        "The headers do not form a chain: a block is not the child of the one before it.",
    ),
    "js.offline_reason.claim-block": (
        "证明包所称的区块号与存证区块不符。",
        "The bundle's block number is not its anchor block's.",
    ),
    "js.offline_reason.claim-time": (
        "证明包所称的存证时间与存证区块的时间不符。",
        "The bundle's anchoring time is not its anchor block's time.",
    ),
    "js.offline_reason.header-field": (
        "某个区块头的字段不符合 Clique 的规则。",
        "A block header's fields break Clique's rules.",
    ),
    "js.offline_reason.header-time": (
        "某个区块与其父区块的间隔短于链的出块周期。",
        "A block was sealed sooner after its parent than the chain's period allows.",
    ),
    "js.offline_reason.seal-invalid": (
        "某个区块的签封不是有效的签名。",
        "A block's seal is not a valid signature.",
    ),
    "js.offline_reason.signer-outside-set": (
        "某个区块由不在签封者集合中的密钥签封。",
        "A block was sealed by a key outside the signer set.",
    ),
    "js.offline_reason.signer-repeated": (
        "某个签封者在其上一个区块之后过早再次签封。",
        "A signer sealed again too soon after its previous block.",
    ),
    "js.offline_reason.header-difficulty": (
        "某个区块的难度值与其签封者是否轮值不符。",
        "A block's difficulty does not match whether its signer was in turn.",
    ),
    "js.offline_reason.checkpoint-signers": (
        "某个检查点区块列出的签封者与当时的签封者集合不符。",
        "A checkpoint block lists other signers than the signer set.",
    ),
    "js.offline_reason.too-few-signers": (
        "为存证区块及其后续区块签封的签封者未达多数。",
        "Fewer than a majority of the signers sealed the anchor block and the blocks on top of it.",
    ),
    "js.offline_reason.transaction-proof": (
        "交易证明无法对应到存证区块的交易树根。",
        "The transaction proof does not lead to the anchor block's transactions root.",
    ),
    "js.offline_reason.claim-transaction": (
        "经证明的交易与证明包所称的交易不符。",
        "The proven transaction is not the one the bundle names.",
    ),
    "js.offline_reason.receipt-proof": (
        "收据证明无法对应到存证区块的收据树根。",
        "The receipt proof does not lead to the anchor block's receipts root.",
    ),
    "js.offline_reason.receipt-form": (
        "经证明的收据不是有效的收据编码。",
        "The proven receipt is not a receipt's encoding.",
    ),
    "js.offline_reason.receipt-failed": ("存证交易执行失败。", "The anchor transaction failed."),
    "js.offline_reason.anchor-missing": (
        "收据中没有本联盟登记合约为该数据集和根哈希发出的存证事件。",
        "The receipt holds no anchoring event of the consortium's registry for this dataset and root.",
    ),
    "js.offline_reason.claim-publisher": (
        "存证部门与证明包所称的部门不符。",
        "The anchoring department is not the one the bundle names.",
    ),
    "js.offline_reason.claim-leaf-count": (
        "叶子数与存证事件中的叶子数不符。",
        "The bundle's leaf count is not the anchored one.",
    ),
    "js.offline_reason.claim-version": (
        "证明包的版本 ID 与其数据集和根哈希不符。",
        "The bundle's version id is not its dataset's and root's.",
    ),
    "js.offline_reason.checkpoint-form": (
        "证明包中的联署检查点格式有误。",
        "The bundle's cosigned checkpoint is malformed.",
    ),
    "js.offline_reason.cosigner-unknown": (
        "联署检查点含有信任文件未列出的联署者的签名。",
        "The cosigned checkpoint carries a signature by a key the trust file does not name as a "
        "cosigner.",
    ),
    "js.offline_reason.cosignature-invalid": (
        "联署检查点中的某个签名无效。",
        "A signature of the cosigned checkpoint does not verify.",
    ),
    "js.offline_reason.cosigners-too-few": (
        "联署检查点的部门数少于信任文件要求的数量。",
        "Fewer departments cosigned the checkpoint than the trust file asks for.",
    ),
    "js.offline_reason.checkpoint-below-anchor": (
        "联署检查点的区块低于存证区块，无法说明存证。",
        "The cosigned checkpoint is of a block below the anchor block: it says nothing about the "
        "anchor.",
    ),
    "js.offline_reason.checkpoint-unlinked": (
        "联署检查点的区块哈希与证明包中签封的区块头不符。",
        "The cosigned checkpoint's block hash is not that of the bundle's sealed header.",
    ),
    "js.offline_reason.unknown": ("未知原因。", "An unknown reason."),
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
    "dataset.erasures": ("删除记录", "Erasures"),
    "dataset.erased_count": ("删除 {count} 条记录", "{count} record(s) erased"),
    "dataset.erased_by": ("删除部门", "by"),
    "dataset.erasures_note": (
        "所有者按个人信息保护要求删除了版本中的部分记录（销毁其盐值）：链上只记录条数、时间和部门，不指明任何记录；版本仍然有效。",
        "Owners erased records of their versions for personal information protection (their "
        "salts destroyed): the chain keeps the count, the time and the department, naming no "
        "record; the versions stand.",
    ),
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
    "agreement.purpose": ("用途", "Purpose"),
    "agreement.legal_basis": ("法律依据", "Legal basis"),
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
    "agreement.reason": ("终止原因", "Reason"),
    "agreement.supersedes": ("取代的协议", "Supersedes"),
    "agreement.superseded_by": ("被以下协议取代", "Superseded by"),
    "agreement.amendments": ("修订提案（含未接受的）", "Amendments proposed (accepted or not)"),
    "agreement.receipts_review": (
        "在访问回执审查中查看 →",
        "See them in the access receipts review →",
    ),
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
    "commitment.matter": ("事项编号", "Matter reference"),
    "commitment.lead": ("牵头部门", "Lead department"),
    "commitment.participants": ("参与部门", "Participants"),
    "commitment.deadline": ("办结期限", "Deadline"),
    "commitment.proposed_at": ("发起时间", "Proposed"),
    "commitment.activated_at": ("生效时间", "Active since"),
    "commitment.closed_at": ("关闭时间", "Closed"),
    "commitment.closing": ("办结凭证", "Closing evidence"),
    "commitment.duty": ("职责", "Duty"),
    "commitment.signed_at": ("签署时间", "Signed"),
    "commitment.signer": ("签署账户", "Signed by"),
    "commitment.done_at": ("完成时间", "Done"),
    "commitment.reports": ("进展报告数", "Reports"),
    "commitment.evidence": ("最近凭证", "Latest evidence"),
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
    # --- membership proposals (governance)
    "proposals.title": ("成员治理", "Membership governance"),
    "proposals.intro": (
        "联盟成员的变更提案：接纳、暂停、恢复部门，授予或撤销审计角色。提案经达到门槛的在册部门批准后执行；"
        "只计入批准时与执行时仍为正常状态的部门。",
        "Proposals to change the consortium's membership: to admit, suspend or readmit a "
        "department, to grant or revoke the auditor role. A proposal executes once enough active "
        "departments approve it; only departments active when counted count.",
    ),
    "proposal.title": ("成员治理提案", "Membership proposal"),
    "proposal.number": ("编号", "No."),
    "proposal.kind": ("提案类型", "Kind"),
    "proposal.kind.admit": ("接纳部门", "Admit a department"),
    "proposal.kind.suspend": ("暂停部门", "Suspend a department"),
    "proposal.kind.readmit": ("恢复部门", "Readmit a department"),
    "proposal.kind.grant-auditor": ("授予审计角色", "Grant the auditor role"),
    "proposal.kind.revoke-auditor": ("撤销审计角色", "Revoke the auditor role"),
    "proposal.status.open": ("待批准", "Open"),
    "proposal.status.expired": ("已过期", "Expired"),
    "proposal.status.executed": ("已执行", "Executed"),
    "proposal.proposer": ("发起部门", "Proposed by"),
    "proposal.concerned": ("涉及对象", "Concerning"),
    "proposal.approvals": ("批准数", "Approvals"),
    "proposal.created_at": ("发起时间", "Proposed"),
    "proposal.expires_at": ("截止时间", "Expires"),
    "proposal.executed_at": ("执行时间", "Executed"),
    "proposal.proposed_name": ("拟接纳部门的名称", "Name of the department to admit"),
    "proposal.name_bytes": ("名称的原始字节", "The name's bytes"),
    "proposal.department_id": ("部门 ID", "Department id"),
    "proposal.department": ("涉及部门", "Department"),
    "proposal.first_operator": ("首个操作账户", "First operator"),
    "proposal.account": ("账户", "Account"),
    # --- histories (the note beside an event)
    "history.note": ("说明", "Details"),
    "history.amendment": ("修订后的协议", "Amendment"),
    "history.amends": ("修订（接受后取代）", "amends (and once accepted supersedes)"),
    "history.superseded_by": ("被修订后的协议取代", "Superseded by its amendment"),
    "history.receipt": (
        "回执 #{index}：{entries} 条访问记录",
        "Receipt #{index}: {entries} entries",
    ),
    "history.approvals": ("已获批准 {approvals}/{required}", "{approvals} of {required} approvals"),
    # --- review of access receipts
    "receipts.title": ("访问回执审查", "Access receipts review"),
    "receipts.intro": (
        "每一条访问回执与其共享协议并列核对：访问期间是否在协议生效后、有效期内、终止前，回执是否由协议的使用方登记，"
        "期间内双方部门是否始终处于正常状态。",
        "Every access receipt beside its agreement: did the period fall after the agreement took "
        "effect, within its validity and before its closing, did the agreement's consumer record "
        "it, and were both departments in good standing throughout?",
    ),
    "receipts.agreement": ("协议", "Agreement"),
    "receipts.parties": ("提供方 → 使用方", "Provider → consumer"),
    "receipts.scope": ("数据集与用途", "Datasets and purpose"),
    "receipts.purpose": ("用途：", "Purpose:"),
    "receipts.window": ("协议生效期", "Agreement in effect"),
    "receipts.receipt": ("回执与访问期间", "Receipt and period"),
    "receipts.flags": ("审查标记", "Flags"),
    "receipts.no_flags": ("未发现异常", "None"),
    "receipts.show": ("显示", "Show"),
    "receipts.flagged_only": ("仅有标记的回执", "Flagged receipts only"),
    "receipts.agreement_id": ("协议 ID", "Agreement id"),
    "receipts.csv": ("导出 CSV（全部符合条件的回执）", "Export CSV (every matching receipt)"),
    "receipts.recorded_by": ("登记部门", "Recorded by"),
    "receipts.never_effective": ("从未生效", "never in effect"),
    "receipts.legend": ("审查规则", "What the review checks"),
    "receipts.legend_intro": (
        "合约在登记回执时已拒绝其中多数情形；审查仍逐条核对，因为链上数据不可盲信，而且部门状态可能在已经结束的访问期间内发生变化。"
        "访问期间包含起止两个时刻。",
        "The contract refuses most of these when a receipt is recorded; the review checks each "
        "anyway, as chain data is untrusted and a department's status can change inside a period "
        "that is already over. A period includes its first and its last second.",
    ),
    "flag.before-effective": (
        "访问期间早于协议生效（有效期起点与接受时间中较晚者）",
        "The period starts before the agreement took effect (the later of its start of "
        "validity and its acceptance)",
    ),
    "flag.after-validity": (
        "访问期间结束于协议失效时间或其后",
        "The period ends at or after the end of the agreement's validity",
    ),
    "flag.after-closure": (
        "访问期间结束于协议终止（撤销、撤回、拒绝或被取代）之后",
        "The period ends after the agreement was closed (revoked, withdrawn, rejected or "
        "superseded)",
    ),
    "flag.consumer-mismatch": (
        "登记回执的部门不是协议的使用方",
        "The department that recorded the receipt is not the agreement's consumer",
    ),
    "flag.department-inactive": (
        "访问期间内，提供方或使用方曾处于暂停状态",
        "The provider or the consumer was suspended at some moment of the period",
    ),
    "flag.future-period": (
        "访问期间结束于回执登记之后（登记了尚未发生的访问）",
        "The period ends after the receipt was recorded (access receipted before it happened)",
    ),
    "flag.empty": ("回执的访问记录条数为 0", "The receipt counts no entry"),
    "flag.period-inverted": ("访问期间的开始晚于结束", "The period starts after it ends"),
    "flag.unknown-agreement": (
        "本网关的索引中没有该回执所属的协议",
        "This gateway's index holds no agreement of the receipt",
    ),
    # --- versions
    "version.status.anchored": ("已存证", "Anchored"),
    "version.status.revoked": ("已撤销", "Revoked"),
    # --- audit
    "audit.title": ("审计追踪", "Audit trail"),
    "audit.sections": ("审计栏目", "Audit sections"),
    "audit.tab.audit": ("链上事件", "Events"),
    "audit.tab.receipts": ("访问回执审查", "Access receipts review"),
    "audit.tab.webhooks": ("推送通知", "Webhooks"),
    "webhooks.title": ("推送通知（Webhook）", "Webhooks"),
    "webhooks.intro": (
        "本部门订阅的链上动态，按标准 Webhooks 签名推送；多次推送失败的进入死信，"
        "可在命令行或 API 中重新发送。默认只显示死信。",
        "What this department watches on chain, pushed signed per Standard Webhooks; a webhook "
        "refused on every attempt is a dead letter, which the CLI or the API sends again. Dead "
        "letters are shown unless you choose otherwise.",
    ),
    "webhooks.message": ("消息", "Message"),
    "webhooks.topic": ("主题", "Topic"),
    "webhooks.event": ("事件", "Event"),
    "webhooks.receiver": ("接收方", "Receiver"),
    "webhooks.attempts": ("尝试次数", "Attempts"),
    "webhooks.last_error": ("最近错误", "Last error"),
    "webhooks.created": ("生成时间", "Made"),
    "webhooks.next": ("下次尝试", "Next attempt"),
    "webhooks.status.pending": ("待发送", "Pending"),
    "webhooks.status.delivered": ("已送达", "Delivered"),
    "webhooks.status.dead": ("死信", "Dead letter"),
    "webhooks.unavailable": (
        "本网关不代表任何部门，无法订阅链上动态：{detail}",
        "This gateway acts for no department, so it watches nothing: {detail}",
    ),
    "webhooks.none": (
        "本部门尚未订阅任何链上动态（xietong watch add，或 POST /v1/watchers）。",
        "This department watches nothing yet (xietong watch add, or POST /v1/watchers).",
    ),
    "audit.tab.checkpoints": ("联署检查点", "Checkpoints"),
    "checkpoints.title": ("联署检查点", "Cosigned checkpoints"),
    "checkpoints.intro": (
        "每隔若干区块，各部门网关用本部门操作员密钥签署其所见的链头（区块号与区块哈希），并收集"
        "其他部门网关的签名；达到信任文件门槛的检查点随证明包提供。同一区块号被签署了两个不同"
        "的哈希即为冲突：可能是分叉，也可能有部门作假。",
        "Every few blocks each department's gateway signs the chain head it sees (block number "
        "and hash) with its operator key and collects the other departments' gateways' "
        "signatures; a checkpoint the trust file's threshold of departments signed goes with "
        "proof bundles. Two different hashes signed for one block number are a conflict: a "
        "fork, or a department that lies.",
    ),
    "checkpoints.node_down": (
        "链节点未响应：以下是本网关已持有的签名与冲突（按其索引的链读取）；节点恢复前不签名、不比对。",
        "The chain node does not answer: below is what this gateway holds (for the chain its "
        "index was read from); it signs and compares nothing until the node is back.",
    ),
    "checkpoints.unavailable": (
        "本网关无法读取联署检查点：{detail}",
        "This gateway cannot show its checkpoints: {detail}",
    ),
    "checkpoints.why.no-cosigners": (
        "联盟信任文件未列出检查点联署者（生成于此功能之前）：本网关不签署、也不收集检查点。",
        "The consortium's trust file names no checkpoint cosigners (it was made before them): "
        "this gateway signs and collects no checkpoint.",
    ),
    "checkpoints.why.not-cosigner": (
        "本网关的密钥不在信任文件的检查点联署者之列：它收集对端网关的检查点，但自己不签署。",
        "This gateway's key is not one of the trust file's checkpoint cosigners: it collects "
        "its peers' checkpoints but signs none.",
    ),
    "checkpoints.why.other": (
        "本网关不签署检查点：{detail}",
        "This gateway signs no checkpoint: {detail}",
    ),
    "checkpoints.facts": ("本网关", "This gateway"),
    "checkpoints.threshold": ("联署门槛", "Threshold"),
    "checkpoints.threshold_value": (
        "{threshold} 个部门（信任文件共列出 {count} 个联署部门）",
        "{threshold} departments (of the {count} the trust file names)",
    ),
    "checkpoints.no_threshold": ("信任文件未规定", "none in the trust file"),
    "checkpoints.interval": ("检查点间隔", "Checkpoint interval"),
    "checkpoints.interval_value": ("每 {interval} 个区块", "every {interval} blocks"),
    "checkpoints.signing_as": ("本网关以此部门签署", "Signs for the department"),
    "checkpoints.signs_none": ("不签署", "signs none"),
    "checkpoints.latest": ("最新联署检查点", "Latest cosigned checkpoint"),
    "checkpoints.latest_none": (
        "尚无达到门槛的联署检查点：需 {threshold} 个部门签署同一区块的同一哈希，且该区块没有其他"
        "哈希。",
        "No checkpoint is cosigned by the threshold yet: {threshold} departments must sign one "
        "hash for a block, with no other hash signed for it.",
    ),
    "checkpoints.latest_none_untrusted": ("没有联署检查点。", "No cosigned checkpoint."),
    "checkpoints.block": ("区块号", "Block"),
    "checkpoints.block_title": ("区块 #{number}", "Block #{number}"),
    "checkpoints.hash": ("区块哈希", "Block hash"),
    "checkpoints.cosigned_by": ("联署部门数", "Cosigning departments"),
    "checkpoints.cosigned_value": (
        "{count}（门槛 {threshold}）",
        "{count} (threshold {threshold})",
    ),
    "checkpoints.code": ("部门代码", "Department code"),
    "checkpoints.address": ("签名账户", "Signing account"),
    "checkpoints.signed_at": ("签署时间", "Signed at"),
    "checkpoints.signers": ("签署部门、账户与时间", "Signed by (department, account, time)"),
    "checkpoints.open_title": ("未确认的检查点冲突", "Open checkpoint conflicts"),
    "checkpoints.open_alert": (
        "区块 {blocks} 被签署了不同的哈希：可能是分叉，也可能有部门作假。确认之前，/readyz 报告"
        "本网关未就绪。请核对每个哈希由哪些部门签署，再由运维人员确认（xietong checkpoint "
        "acknowledge 区块号，或使用管理密钥调用 POST /v1/checkpoints/conflicts/区块号/acknowledge）。",
        "Different hashes were signed for block {blocks}: a fork, or a department that lies. "
        "Until each is acknowledged, /readyz reports this gateway not ready. Read which "
        "departments signed each hash, then an operator acknowledges it (xietong checkpoint "
        "acknowledge N, or POST /v1/checkpoints/conflicts/N/acknowledge with an admin key).",
    ),
    "checkpoints.conflicts": ("冲突", "Conflicts"),
    "checkpoints.banner": (
        "检查点冲突：区块 {blocks} 被签署了不同的哈希（可能是分叉，也可能有部门作假）。"
        "确认之前，本网关报告未就绪。",
        "Checkpoint conflict: different hashes were signed for block {blocks} (a fork, or a "
        "department that lies). Until it is acknowledged, this gateway reports not ready.",
    ),
    "checkpoints.banner_link": ("查看冲突", "See the conflict"),
    "checkpoints.conflicts_none": (
        "没有冲突：没有任何区块号被签署过两个不同的哈希。",
        "No conflict: no block number has two different hashes signed.",
    ),
    "checkpoints.acknowledged_title": ("已确认的冲突", "Acknowledged conflicts"),
    "checkpoints.acknowledged_none": ("没有已确认的冲突。", "No acknowledged conflict."),
    "checkpoints.seen_at": ("发现于", "Seen"),
    "checkpoints.acknowledged_at": ("确认于", "acknowledged"),
    "checkpoints.peers": ("对端网关", "Peers"),
    "checkpoints.peers_intro": (
        "对端只显示协议、主机与端口。对端交来的签名经信任文件核验后才保留，其余计为拒绝；"
        "拒绝原因与错误原样显示，仅供参考。",
        "Peers are shown by scheme, host and port. A peer's signature is kept only when it "
        "verifies against the trust file, the others are counted as refused; refusals and "
        "errors are shown as they are, for reading only.",
    ),
    "checkpoints.peers_none": (
        "未配置对端网关（XIETONG_CHECKPOINT_PEERS）：本网关只持有自己签署的检查点。",
        "No peer is configured (XIETONG_CHECKPOINT_PEERS): this gateway holds only what it "
        "signed itself.",
    ),
    "checkpoints.peer": ("对端", "Peer"),
    "checkpoints.accepted": ("已接受", "Accepted"),
    "checkpoints.refused": ("已拒绝", "Refused"),
    "checkpoints.last_answer": ("最近应答", "Last answer"),
    "checkpoints.last_error": ("最近错误", "Last error"),
    "checkpoints.last_refusal": ("最近拒绝原因", "Last refusal"),
    "checkpoints.never": ("从未", "never"),
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
    "arg.count": ("记录数", "Count"),
    "arg.datasetId": ("数据集 ID", "Dataset id"),
    "arg.datasetIds": ("数据集 ID 列表", "Dataset ids"),
    "arg.deadline": ("截止时间", "Deadline"),
    "arg.departmentId": ("部门 ID", "Department id"),
    "arg.done": ("已完成", "Done"),
    "arg.dutyHashes": ("职责哈希", "Duty hashes"),
    "arg.erasedRoot": ("已删除叶子的根", "Erased leaves root"),
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
    "event.RecordsErased": ("删除记录", "Records erased"),
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
        """The ``js.*`` strings (without the prefix), and the statuses of agreements and
        commitments and the catalogue's marks (keys kept whole), for the page's script."""
        strings = {key[3:]: self(key) for key in STRINGS if key.startswith("js.")}
        statuses = ("agreement.status.", "commitment.status.", "catalogue.")
        strings.update({key: self(key) for key in STRINGS if key.startswith(statuses)})
        return strings
