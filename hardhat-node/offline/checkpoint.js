/* Cosigned checkpoints (docs/CHECKPOINTS.md), as ledger/witness/checkpoint.py checks them,
 * with its reason codes in its order: the JSON form (`checkpoint-form`), each cosignature's
 * key among the trust file's cosigners (`cosigner-unknown`) and its EIP-191 signature over the
 * signed text (`cosignature-invalid`), enough distinct departments (`cosigners-too-few`);
 * in a sealed bundle, at or above the anchor's block (`checkpoint-below-anchor`) and one of
 * the bundle's sealed headers (`checkpoint-unlinked`). A trust file without `checkpoints`
 * checks none (`trust-no-cosigners`: the bundle's answer says it was not checked). */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

import { concatBytes, fromHex, keccak256, toBigInt, toHex } from "./bytes.js";
import { Refusal, refuse } from "./refusal.js";
import { checksumAddress, trustProblem } from "./trust.js";
import { hasExactly, isInteger, isObject } from "./values.js";

/** The reasons of docs/CHECKPOINTS.md a checkpoint alone is refused for, in their order
 * (`trust-no-cosigners`: the trust file names no cosigners, so nothing is checked). */
export const CHECKPOINT_REASONS = Object.freeze([
  "checkpoint-form",
  "trust-no-cosigners",
  "cosigner-unknown",
  "cosignature-invalid",
  "cosigners-too-few",
]);
/** Most cosignatures one checkpoint carries. */
export const MAX_COSIGNATURES = 64;
/** What a verifier says of a bundle's checkpoint when its trust file names no cosigners
 * (ledger/witness/checkpoint.py NO_COSIGNERS, word for word). */
export const NO_COSIGNERS =
  "the bundle's cosigned checkpoint: the trust file names no checkpoint cosigners (it was made before them).";
const MAX_INT = BigInt(Number.MAX_SAFE_INTEGER);
const HASH = /^0x[0-9a-f]{64}$/;
const SIGNATURE = /^0x[0-9a-f]{130}$/;
/** secp256k1's order, and half of it: a signature's `s` is at most the half (EIP-2). */
const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_ORDER = ORDER / 2n;
const MEMBERS = ["number", "hash", "cosignatures"];
const COSIGNATURE_MEMBERS = ["address", "time", "signature"];

/** An integer from 0 to 2^53 − 1 (never a boolean, never a JSON float). */
const isInt = (value) => isInteger(value) && BigInt(value) >= 0n && BigInt(value) <= MAX_INT;

const isChecksummed = (value) => typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value) && value === checksumAddress(value);

/** The checkpoint's first line: the chain, as `xietong/<chain id>/<genesis hash>`. */
export function origin(chainId, genesisHash) {
  return `xietong/${BigInt(chainId)}/${genesisHash.toLowerCase()}`;
}

/** The five lines a cosigner signs, each ended by a line feed. */
export function signedText(chainId, genesisHash, number, blockHash, time) {
  return `cosignature/v1\ntime ${BigInt(time)}\n${origin(chainId, genesisHash)}\n${BigInt(number)}\n${blockHash.toLowerCase()}\n`;
}

/** EIP-191's personal-message hash: keccak256("\x19Ethereum Signed Message:\n" + the byte
 * length in decimal + the UTF-8 text). */
export function personalMessageHash(text) {
  const bytes = utf8ToBytes(text);
  return keccak256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${bytes.length}`), bytes));
}

/** The address (EIP-55) whose key made `signature` (65 bytes r ‖ s ‖ v) over `text`, or null
 * when it is not one signature of this form: v 27 or 28, 0 < r < n, 0 < s ≤ n/2. */
export function signerOf(text, signature) {
  if (signature.length !== 65 || (signature[64] !== 27 && signature[64] !== 28)) return null;
  const r = toBigInt(signature.subarray(0, 32));
  const s = toBigInt(signature.subarray(32, 64));
  if (!(r > 0n && r < ORDER && s > 0n && s <= HALF_ORDER)) return null;
  try {
    const point = new secp256k1.Signature(r, s, signature[64] - 27).recoverPublicKey(personalMessageHash(text));
    return checksumAddress(toHex(keccak256(point.toBytes(false).subarray(1)).subarray(12)));
  } catch {
    return null;
  }
}

/** Rule 1 (`checkpoint-form`): exactly the JSON form's members, of their types. */
function checkForm(checkpoint) {
  const bad = (message) => refuse("checkpoint-form", message);
  if (!isObject(checkpoint) || !hasExactly(checkpoint, MEMBERS)) {
    bad("A checkpoint is an object of exactly number, hash and cosignatures.");
  }
  const { number, hash, cosignatures: items } = checkpoint;
  if (!isInt(number)) bad(`The checkpoint's \`number\` must be an integer from 0 to ${MAX_INT}.`);
  if (typeof hash !== "string" || !HASH.test(hash)) bad("The checkpoint's `hash` must be 0x and 64 lowercase hex digits.");
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_COSIGNATURES) {
    bad(`The checkpoint's \`cosignatures\` must be a list of 1 to ${MAX_COSIGNATURES}.`);
  }
  const cosignatures = [];
  for (const [i, item] of items.entries()) {
    const where = `\`cosignatures[${i}]\``;
    if (!isObject(item) || !hasExactly(item, COSIGNATURE_MEMBERS)) {
      bad(`${where} must be an object of exactly address, time and signature.`);
    }
    const { address, time, signature } = item;
    if (!isChecksummed(address)) bad(`${where}.address must be an account address in its EIP-55 form.`);
    if (!isInt(time)) bad(`${where}.time must be an integer from 0 to ${MAX_INT}.`);
    if (typeof signature !== "string" || !SIGNATURE.test(signature)) {
      bad(`${where}.signature must be 0x and 130 lowercase hex digits.`);
    }
    if (cosignatures.length && address.toLowerCase() <= cosignatures[cosignatures.length - 1].address.toLowerCase()) {
      bad("The cosignatures must be in ascending address order, each address once.");
    }
    cosignatures.push({ address, time: Number(time), signature });
  }
  return { number: Number(number), hash, cosignatures };
}

/** The trust file's `checkpoints`, or `trust-no-cosigners`. */
function cosignersOf(trust) {
  if (!Object.hasOwn(trust, "checkpoints")) refuse("trust-no-cosigners", "The trust file names no checkpoint cosigners.");
  return trust.checkpoints;
}

/** Rules 2 and 3 for one cosignature; returns the cosigner as an answer names it. */
function checkCosignature(trust, number, hash, cosignature) {
  const cosigner = cosignersOf(trust).cosigners.find((c) => c.address.toLowerCase() === cosignature.address.toLowerCase());
  if (cosigner === undefined) {
    refuse("cosigner-unknown", `${cosignature.address} is not one of the trust file's checkpoint cosigners.`);
  }
  const text = signedText(trust.chain_id, trust.genesis_hash, number, hash, cosignature.time);
  if (signerOf(text, fromHex(cosignature.signature)) !== cosignature.address) {
    refuse("cosignature-invalid", `The cosignature of ${cosignature.address} on block ${number} does not verify.`);
  }
  return { address: cosignature.address, department: cosigner.department, code: cosigner.code, time: cosignature.time };
}

/** Rules 1 to 4 against a checked trust file: {number, hash, threshold, cosigners: [{address,
 * department, code, time}]}, or a Refusal (ledger/witness/checkpoint.py check_checkpoint). */
export function cosignedCheckpoint(checkpoint, trust) {
  const { number, hash, cosignatures } = checkForm(checkpoint);
  const threshold = Number(cosignersOf(trust).threshold);
  const cosigners = cosignatures.map((c) => checkCosignature(trust, number, hash, c));
  const departments = new Set(cosigners.map((c) => c.department)).size;
  if (departments < threshold) {
    refuse("cosigners-too-few", `${departments} department(s) cosigned block ${number}; the trust file asks for ${threshold}.`);
  }
  return { number, hash, threshold, cosigners };
}

/** Rules 1 to 6 for a sealed bundle's `checkpoint` (ledger/witness/checkpoint.py
 * check_bundle_checkpoint): cosigned, at or above the anchor's block `anchorNumber` (BigInt),
 * and the hash of the sealed header at its number (`headers`: decoded, from the anchor's). */
export function bundleCheckpoint(checkpoint, trust, anchorNumber, headers) {
  const cosigned = cosignedCheckpoint(checkpoint, trust);
  if (BigInt(cosigned.number) < anchorNumber) {
    refuse(
      "checkpoint-below-anchor",
      `The checkpoint is of block ${cosigned.number}, below the anchor's block ${anchorNumber}: it says nothing about the anchor.`,
    );
  }
  const header = headers.find((h) => h.number === BigInt(cosigned.number));
  const seen = header === undefined ? null : toHex(header.hash);
  if (seen !== cosigned.hash) {
    const where = `the bundle's sealed headers (blocks ${anchorNumber} to ${headers[headers.length - 1].number})`;
    const what = seen === null ? `has no block ${cosigned.number}` : `says ${seen}`;
    refuse("checkpoint-unlinked", `The checkpoint is ${cosigned.hash} at block ${cosigned.number}, but ${where} ${what}.`);
  }
  return cosigned;
}

/** A checkpoint (its JSON form, parsed) checked alone against a trust file, as the Python
 * checker does: {valid: true, checkpoint} or {valid: false, reason, message}; never throws.
 * A malformed trust file is `trust-form`, as for a bundle. */
export function checkCheckpoint(checkpoint, trust) {
  try {
    const problem = trustProblem(trust);
    if (problem !== null) refuse("trust-form", `The consortium trust file is malformed: ${problem}.`);
    return { valid: true, checkpoint: cosignedCheckpoint(checkpoint, trust) };
  } catch (error) {
    if (error instanceof Refusal) return { valid: false, reason: error.reason, message: error.message };
    const detail = error instanceof Error ? error.message : String(error);
    return { valid: false, reason: "checkpoint-form", message: `The checkpoint could not be read (${detail}).` };
  }
}
