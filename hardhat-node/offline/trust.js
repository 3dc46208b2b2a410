/* The consortium trust file (xietong-consortium/1, ledger/trust.py): checked as strictly as
 * Python's `_problem` (its `checkpoints` member with the very clauses of `checkpoints_problem`),
 * and its fingerprint (SHA-256 of the canonical JSON, first 16 bytes). */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

import { isAddress, keccak256 } from "./bytes.js";
import { JsonFloat } from "./strict-json.js";
import { hasExactly, isInteger, isObject, member, shown } from "./values.js";

export const TRUST_FORMAT = "xietong-consortium/1";
export const CONTRACT_NAMES = ["DepartmentRegistry", "DatasetRegistry", "SharingAgreements", "JointCommitments"];
const MEMBERS = ["format", "chain_id", "genesis_hash", "deployment_block", "deployment_block_hash", "contracts"];
const OPTIONAL = ["fingerprint", "clique", "checkpoints"];
const SIGNER_MEMBERS = ["address", "department", "code"];
const MAX_INT = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_SIGNERS = 64;
const LOWER_HASH = /^0x[0-9a-f]{64}$/;
/** eth_utils' is_hex_address: 40 hex digits, with or without a 0x (or 0X) prefix. */
const HEX_ADDRESS = /^(?:0[xX])?[0-9a-fA-F]{40}$/;

/** `address` (0x and 40 hex digits) in its EIP-55 checksummed form. */
export function checksumAddress(address) {
  const lower = address.slice(2).toLowerCase();
  const hash = bytesToHex(keccak256(utf8ToBytes(lower)));
  let out = "0x";
  for (let i = 0; i < 40; i++) out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  return out;
}

function isIntFrom(value, low) {
  return isInteger(value) && BigInt(value) >= BigInt(low) && BigInt(value) <= MAX_INT;
}

const isChecksummed = (value) => isAddress(value) && value === checksumAddress(value);

/** The first thing wrong with `data` as a trust file's object, as a clause; null when it is
 * a valid one. */
export function trustProblem(data) {
  if (!isObject(data)) return `a trust file is a JSON object, not ${shown(data)}`;
  if (member(data, "format") !== TRUST_FORMAT) {
    return `\`format\` is ${shown(member(data, "format"))}, not "${TRUST_FORMAT}"`;
  }
  const missing = MEMBERS.find((name) => !Object.hasOwn(data, name));
  if (missing) return `the \`${missing}\` member is missing`;
  const unknown = Object.keys(data).filter((k) => !MEMBERS.includes(k) && !OPTIONAL.includes(k)).sort();
  if (unknown.length) return `the member ${shown(unknown[0])} is unknown`;
  if (!isIntFrom(data.chain_id, 1)) return `\`chain_id\` must be an integer from 1 to ${MAX_INT}`;
  for (const name of ["genesis_hash", "deployment_block_hash"]) {
    if (typeof data[name] !== "string" || !LOWER_HASH.test(data[name])) {
      return `\`${name}\` must be 0x and 64 lowercase hex digits`;
    }
  }
  if (!isIntFrom(data.deployment_block, 0)) return `\`deployment_block\` must be an integer from 0 to ${MAX_INT}`;
  if (BigInt(data.deployment_block) === 0n && data.deployment_block_hash !== data.genesis_hash) {
    return "`deployment_block_hash` must equal `genesis_hash` when `deployment_block` is 0";
  }
  const problem =
    contractsProblem(data.contracts) ??
    (Object.hasOwn(data, "clique") ? cliqueProblem(data.clique) : null) ??
    (Object.hasOwn(data, "checkpoints") ? checkpointsProblem(data.checkpoints) : null);
  if (problem) return problem;
  if (Object.hasOwn(data, "fingerprint") && data.fingerprint !== trustFingerprint(data)) {
    return "`fingerprint` is not the fingerprint of the other members";
  }
  return null;
}

function contractsProblem(contracts) {
  if (!isObject(contracts) || !hasExactly(contracts, CONTRACT_NAMES)) {
    return `\`contracts\` must name exactly ${CONTRACT_NAMES.join(", ")}`;
  }
  const bad = CONTRACT_NAMES.find((name) => !isChecksummed(contracts[name]));
  if (bad) return `\`contracts.${bad}\` must be an address in its EIP-55 checksummed form`;
  if (new Set(CONTRACT_NAMES.map((name) => contracts[name])).size !== CONTRACT_NAMES.length) {
    return "`contracts` gives one address to two contracts";
  }
  return null;
}

function cliqueProblem(clique) {
  if (!isObject(clique) || !hasExactly(clique, ["epoch", "period", "signers"])) {
    return "`clique` must be an object of exactly epoch, period and signers";
  }
  if (!isIntFrom(clique.epoch, 1)) return `\`clique.epoch\` must be an integer from 1 to ${MAX_INT}`;
  if (!isIntFrom(clique.period, 0)) return `\`clique.period\` must be an integer from 0 to ${MAX_INT}`;
  const signers = clique.signers;
  if (!Array.isArray(signers) || signers.length < 1 || signers.length > MAX_SIGNERS) {
    return `\`clique.signers\` must be a list of 1 to ${MAX_SIGNERS} signers`;
  }
  let previous = "";
  for (const [i, signer] of signers.entries()) {
    const where = `\`clique.signers[${i}]\``;
    if (!isObject(signer) || !hasExactly(signer, SIGNER_MEMBERS)) {
      return `${where} must be an object of exactly address, department and code`;
    }
    if (!isChecksummed(signer.address)) return `${where}.address must be an address in its EIP-55 checksummed form`;
    if (signer.address.toLowerCase() <= previous) return "`clique.signers` must be in ascending address order, each once";
    previous = signer.address.toLowerCase();
    const { department, code } = signer;
    if (department !== null && (typeof department !== "string" || !LOWER_HASH.test(department))) {
      return `${where}.department must be null or 0x and 64 lowercase hex digits`;
    }
    // Python counts characters by code point.
    if (code !== null && (typeof code !== "string" || [...code].length < 1 || [...code].length > 64)) {
      return `${where}.code must be null or a department code (1 to 64 characters)`;
    }
    if ((code === null) !== (department === null)) return `${where} must give both department and code, or neither`;
  }
  return null;
}

/** The first thing wrong with a trust file's `checkpoints` member (docs/CHECKPOINTS.md), as
 * ledger/trust.py `checkpoints_problem` says it; null when it is a valid one. */
export function checkpointsProblem(checkpoints) {
  if (!isObject(checkpoints) || !hasExactly(checkpoints, ["threshold", "cosigners"])) {
    return "`checkpoints` must be an object of exactly threshold and cosigners";
  }
  const cosigners = checkpoints.cosigners;
  if (!Array.isArray(cosigners) || cosigners.length < 1 || cosigners.length > MAX_SIGNERS) {
    return `\`checkpoints.cosigners\` must be a list of 1 to ${MAX_SIGNERS} cosigners`;
  }
  let previous = "";
  for (const [i, cosigner] of cosigners.entries()) {
    const where = `\`checkpoints.cosigners[${i}]\``;
    if (!isObject(cosigner) || !hasExactly(cosigner, SIGNER_MEMBERS)) {
      return `${where} must be an object of exactly address, department and code`;
    }
    const address = cosigner.address;
    if (typeof address !== "string" || !HEX_ADDRESS.test(address)) {
      return `${where}.address must be an account address, not ${pythonShown(address)}`;
    }
    if (!isChecksummed(address)) return `${where}.address must be written in its EIP-55 checksummed form`;
    if (address.toLowerCase() <= previous) return "`checkpoints.cosigners` must be in ascending address order, each once";
    previous = cosigner.address.toLowerCase();
    const { department, code } = cosigner;
    if (typeof department !== "string" || !LOWER_HASH.test(department)) {
      return `${where}.department must be 0x and 64 lowercase hex digits`;
    }
    // Python counts characters by code point.
    if (typeof code !== "string" || [...code].length < 1 || [...code].length > 64) {
      return `${where}.code must be a department code (1 to 64 characters)`;
    }
  }
  const departments = new Set(cosigners.map((c) => c.department)).size;
  const threshold = checkpoints.threshold;
  if (!isIntFrom(threshold, 1) || BigInt(threshold) > BigInt(departments)) {
    return `\`checkpoints.threshold\` must be an integer from 1 to ${departments} (the departments named), not ${pythonShown(threshold)}`;
  }
  return null;
}

/** A value for a problem's clause as ledger/trust.py `_shown` writes it: its JSON (non-ASCII
 * escaped) when at most 80 characters, else only what kind of value it is. */
function pythonShown(value) {
  let text = null;
  if (value === null || typeof value === "boolean") text = String(value);
  else if (isInteger(value)) text = BigInt(value).toString();
  else if (typeof value === "string") text = asciiString(value);
  else if (value instanceof JsonFloat) text = value.text;
  if (text !== null && text.length <= 80) return text;
  if (typeof value === "string") return "a long string";
  if (isInteger(value) || value instanceof JsonFloat) return "a long number";
  return Array.isArray(value) ? "an array" : "an object";
}

/** The trust file's fingerprint: SHA-256 of its canonical JSON text without `fingerprint`
 * (keys sorted, no whitespace, non-ASCII escaped, as Python's json.dumps(sort_keys=True,
 * separators=(",", ":"), ensure_ascii=True)), first 16 bytes as 8 groups of 4 hex digits. */
export function trustFingerprint(data) {
  const { fingerprint: _ignored, ...rest } = data;
  const digest = bytesToHex(sha256(utf8ToBytes(canonicalJson(rest)))).slice(0, 32);
  return digest.match(/.{4}/g).join("-");
}

function canonicalJson(value) {
  if (value === null) return "null";
  if (typeof value === "boolean") return String(value);
  if (isInteger(value)) return BigInt(value).toString();
  if (typeof value === "string") return asciiString(value);
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  // The member names of a valid trust file are ASCII: code-unit order is code-point order.
  const keys = Object.keys(value).sort();
  return "{" + keys.map((k) => asciiString(k) + ":" + canonicalJson(value[k])).join(",") + "}";
}

const SHORT_ESCAPES = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

function asciiString(text) {
  let out = '"';
  for (const unit of text.split("")) {
    const code = unit.charCodeAt(0);
    if (Object.hasOwn(SHORT_ESCAPES, unit)) out += SHORT_ESCAPES[unit];
    else if (code < 0x20 || code > 0x7e) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += unit;
  }
  return out + '"';
}
