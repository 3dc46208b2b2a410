/* Rule 1 (`bundle-form`): the bundle's members and their types, as ledger/verify/bundles.py
 * `check_bundle_offline` checks a xietong-proof/2 bundle, plus `sealed` for /3 and its optional
 * `checkpoint` (whose form is docs/CHECKPOINTS.md's rule, `checkpoint-form`, checked after the
 * bundle's own rules: checkpoint.js). Only form: whether the leaf hashes to its hash and the
 * path to the root is rule 2's. A leaf is a SHA-256 dataset's, or an SM3 dataset's (docs/SM3.md),
 * whose values start with the tag "sm3": the four shapes of ledger/merkle.py `leaf_types`. */
import { fromHex, isAddress, isHash, isHex } from "./bytes.js";
import { isoInstant } from "./iso-time.js";
import { refuse } from "./refusal.js";
import { hasExactly, isInteger, isObject, isWellFormed, member, shown } from "./values.js";

export const SEALED_FORMAT = "xietong-proof/3";
export const UNSEALED_FORMAT = "xietong-proof/2";
export const LEGACY_FORMAT = "xietong-proof/1";
const FORMATS = [SEALED_FORMAT, UNSEALED_FORMAT, LEGACY_FORMAT];
export const FILE_LEAF_TYPES = ["bytes32", "string"];
export const RECORD_LEAF_TYPES = ["bytes32", "bytes32"];
/** An SM3 dataset's leaves: the same values after the tag "sm3" (ledger/merkle.py). */
export const SM3_FILE_LEAF_TYPES = ["string", "bytes32", "string"];
export const SM3_RECORD_LEAF_TYPES = ["string", "bytes32", "bytes32"];
export const SM3_TAG = "sm3";
/** [types, kind, digest] of each leaf shape. */
const LEAF_SHAPES = [
  [FILE_LEAF_TYPES, "file", "sha256"],
  [RECORD_LEAF_TYPES, "record", "sha256"],
  [SM3_FILE_LEAF_TYPES, "file", "sm3"],
  [SM3_RECORD_LEAF_TYPES, "record", "sm3"],
];
const MAX_PROOF_STEPS = 256;
/** Most nodes in a transaction or receipt proof (as the Python verifier). */
const MAX_TRIE_PROOF_NODES = 64;
const MAX_INDEX = 2n ** 32n; // a transaction index is below this (as the Python verifier)

/** Every member of a /2 bundle and of its objects: no other is allowed, so that nothing a
 * bundle says goes unchecked. A /3 bundle has `sealed` too, and may have `checkpoint` (absent
 * or null: none). */
const CLAIM_MEMBERS = [
  "format", "leaf", "proof", "root", "dataset_id", "version_id", "leaf_count", "chain_id",
  "contract", "transaction", "block_number", "anchored_at", "publisher",
];
const LEAF_MEMBERS = ["kind", "types", "values", "hash"];
const SEALED_MEMBERS = ["headers", "transaction", "receipt", "history"];

const bad = (message) => refuse("bundle-form", message);

function field(object, name, test, what, where = name) {
  if (!Object.hasOwn(object, name)) bad(`The proof bundle has no \`${where}\`.`);
  const value = object[name];
  if (!test(value)) bad(`\`${where}\` in the proof bundle must be ${what}.`);
  return value;
}

const hashField = (object, name, where = name) => field(object, name, isHash, "0x and 64 hex digits", where);

const sameList = (value, expected) =>
  Array.isArray(value) && value.length === expected.length && value.every((v, i) => v === expected[i]);

/** The bundle's form, or a `bundle-form` refusal: {format, kind, sealed} where `sealed` is
 * null (no seals) or {headers, index, transactionProof, receiptProof, history} in bytes. */
export function checkBundleForm(bundle) {
  if (!isObject(bundle)) bad("A proof bundle is a JSON object.");
  const format = member(bundle, "format");
  if (!FORMATS.includes(format)) bad(`This is not a ${SEALED_FORMAT} proof bundle (format ${shown(format)}).`);
  const kind = checkLeaf(field(bundle, "leaf", isObject, "an object"));
  const proof = field(bundle, "proof", Array.isArray, "a list");
  if (proof.length > MAX_PROOF_STEPS) bad(`The proof has more than ${MAX_PROOF_STEPS} steps.`);
  if (!proof.every(isHash)) bad("Every step of `proof` must be 0x and 64 hex digits.");
  hashField(bundle, "root");
  hashField(bundle, "dataset_id");
  if (format === LEGACY_FORMAT) return { format, kind, sealed: null }; // it makes no claims
  checkClaims(bundle, format);
  const sealed = format === SEALED_FORMAT ? checkSealed(bundle.sealed) : null;
  return { format, kind, sealed };
}

/** The leaf's types, kind, values and hash, as ledger/verify/bundles.py `check_bundle_offline`
 * (its sentences for the shapes and the SM3 tag); returns its kind ("file" or "record"). */
function checkLeaf(leaf) {
  const types = member(leaf, "types");
  const shape = LEAF_SHAPES.find(([shapeTypes]) => sameList(types, shapeTypes));
  if (!shape) {
    bad(
      "`leaf.types` must be [bytes32, string] (file) or [bytes32, bytes32] (record), " +
        "or for SM3 [string, bytes32, string] or [string, bytes32, bytes32].",
    );
  }
  const [, kind, digest] = shape;
  if (Object.hasOwn(leaf, "kind") && leaf.kind !== kind) {
    bad(`\`leaf.kind\` is ${shown(leaf.kind)}, but the leaf's types are a ${kind}'s.`);
  }
  const tagged = digest === "sm3" ? 1 : 0; // an SM3 leaf: the tag "sm3", then the two values
  const values = member(leaf, "values");
  if (!Array.isArray(values) || values.length !== 2 + tagged) {
    bad(tagged ? '`leaf.values` must hold the tag "sm3" and two values.' : "`leaf.values` must hold two values.");
  }
  if (tagged && values[0] !== SM3_TAG) bad('`leaf.values[0]` of an SM3 leaf must be "sm3".');
  const [first, second] = values.slice(tagged);
  if (!isHash(first)) bad(`\`leaf.values[${tagged}]\` must be 0x and 64 hex digits.`);
  if (kind === "file" && (typeof second !== "string" || !isWellFormed(second))) {
    bad(`\`leaf.values[${tagged + 1}]\` (the path) must be a string of valid Unicode.`);
  }
  if (kind === "record" && !isHash(second)) bad(`\`leaf.values[${tagged + 1}]\` must be 0x and 64 hex digits.`);
  hashField(leaf, "hash", "leaf.hash");
  return kind;
}

/** The claims of a /2 or /3 bundle: every member present with its type, and no other. */
function checkClaims(bundle, format) {
  const allowed = format === SEALED_FORMAT ? [...CLAIM_MEMBERS, "sealed", "checkpoint"] : CLAIM_MEMBERS;
  if (format === SEALED_FORMAT && !Object.hasOwn(bundle, "sealed")) {
    bad("The proof bundle has no `sealed` (null when it has none).");
  }
  const publisher = field(bundle, "publisher", isObject, "an object");
  for (const [object, names, prefix] of [[bundle, allowed, ""], [bundle.leaf, LEAF_MEMBERS, "leaf."], [publisher, ["id"], "publisher."]]) {
    const unknown = Object.keys(object).filter((name) => !names.includes(name)).sort();
    if (unknown.length) bad(`The proof bundle has the unknown member ${shown(prefix + unknown[0])}.`);
  }
  for (const name of ["chain_id", "leaf_count", "block_number"]) field(bundle, name, isInteger, "an integer");
  field(bundle, "contract", isAddress, "an address (0x and 40 hex digits)");
  hashField(bundle, "version_id");
  hashField(bundle, "transaction");
  hashField(publisher, "id", "publisher.id");
  field(bundle, "anchored_at", (v) => isoInstant(v) !== null, "an ISO 8601 time with its UTC offset");
}

function hexList(value, where, limit) {
  if (!Array.isArray(value) || (limit !== undefined && value.length > limit)) {
    bad(`\`${where}\` must be a list${limit === undefined ? "" : ` of at most ${limit}`}.`);
  }
  const badAt = value.findIndex((item) => !isHex(item));
  if (badAt >= 0) bad(`\`${where}[${badAt}]\` must be 0x-hex of whole bytes.`);
  return value.map(fromHex);
}

/** `sealed`: null, or exactly headers, transaction {index, proof}, receipt {proof} and
 * history (null or a list). How many headers it may hold is rule 6's. */
function checkSealed(sealed) {
  if (sealed === null) return null;
  if (!isObject(sealed) || !hasExactly(sealed, SEALED_MEMBERS)) {
    bad("`sealed` must be null or an object of headers, transaction, receipt and history.");
  }
  const headers = hexList(sealed.headers, "sealed.headers");
  if (!headers.length) bad("`sealed.headers` is empty: it has no anchor block.");
  const { transaction, receipt, history } = sealed;
  if (!isObject(transaction) || !hasExactly(transaction, ["index", "proof"])) {
    bad("`sealed.transaction` must be an object of index and proof.");
  }
  const index = transaction.index;
  if (!isInteger(index) || BigInt(index) < 0n || BigInt(index) >= MAX_INDEX) {
    bad("`sealed.transaction.index` must be a transaction's index in its block.");
  }
  if (!isObject(receipt) || !hasExactly(receipt, ["proof"])) bad("`sealed.receipt` must be an object of proof.");
  return {
    headers,
    index: BigInt(index),
    transactionProof: hexList(transaction.proof, "sealed.transaction.proof", MAX_TRIE_PROOF_NODES),
    receiptProof: hexList(receipt.proof, "sealed.receipt.proof", MAX_TRIE_PROOF_NODES),
    history: history === null ? null : hexList(history, "sealed.history"),
  };
}
