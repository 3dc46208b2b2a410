/* The offline verifier of xietong-proof/3 bundles, for the browser portal and node: the rules
 * of docs/OFFLINE_PROOFS.md in their order, then those of the bundle's cosigned checkpoint
 * (docs/CHECKPOINTS.md, checkpoint.js), with the reason codes the Python verifier
 * (ledger/verify/offline.py) gives. Pure: no network, no storage.
 *
 *   await verifyBundle(bundle, trust, options)      a parsed bundle and trust file
 *   await verifyBundleText(text, trust, options)    the bundle's JSON text, read as Python reads it
 *
 * Both resolve to {valid: true, report} or {valid: false, reason, message}, and never reject:
 * an unexpected error is a `bundle-form` refusal. They are async because @ethereumjs/mpt's
 * proof check is, and because a long history (each seal about 1.5 ms to recover) is followed
 * in slices that give the page back its event loop; `options.onProgress(done, total)` hears
 * of each slice. */
import { checkAnchorEvent, checkTransaction, provenValue, receiptLogs } from "./anchor.js";
import { checkBundleForm, SEALED_FORMAT } from "./bundle-form.js";
import { toHex } from "./bytes.js";
import { bundleCheckpoint, NO_COSIGNERS } from "./checkpoint.js";
import { SignerSet } from "./clique.js";
import { checkLinks, decodeAll } from "./headers.js";
import { isoInstant, isoOfSeconds } from "./iso-time.js";
import { leafHash, processProof } from "./merkle-path.js";
import { Refusal, REASONS, refuse } from "./refusal.js";
import { JsonTextError, parseStrictJson } from "./strict-json.js";
import { checksumAddress, trustFingerprint, trustProblem } from "./trust.js";

export { REASONS };

/** What no offline check can say (ledger/verify/offline.py `_REVOCATION`, word for word). */
const REVOCATION =
  "whether the version was revoked after it was anchored: a revocation is a later transaction; ask a node (verify-proof without --offline).";

/** Largest bundle text read: with a history of headers, and without (docs/OFFLINE_PROOFS.md). */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
export const MAX_BUNDLE_BYTES_WITHOUT_HISTORY = 1024 * 1024;
/** Deepest nesting of a bundle's JSON text read (as ledger/verify/bundles.py). */
const MAX_BUNDLE_DEPTH = 16;
/** Largest trust file, and its deepest nesting (as ledger/trust.py). */
export const MAX_TRUST_BYTES = 64 * 1024;
const MAX_TRUST_DEPTH = 4;

/** Check a parsed bundle against a parsed trust file. */
export async function verifyBundle(bundle, trust, options = {}) {
  try {
    return { valid: true, report: await checkBundle(bundle, trust, options.onProgress ?? (() => {})) };
  } catch (error) {
    if (error instanceof Refusal) return { valid: false, reason: error.reason, message: error.message };
    return { valid: false, reason: "bundle-form", message: `The bundle could not be read (${describe(error)}).` };
  }
}

/** Check a bundle's JSON text (a string, or its UTF-8 bytes): parsed strictly (no duplicate
 * names, integers kept exact), within the size limits, then as verifyBundle. */
export async function verifyBundleText(text, trust, options = {}) {
  const size = typeof text === "string" ? new TextEncoder().encode(text).length : text.length;
  if (size > MAX_BUNDLE_BYTES) {
    return refusal("bundle-form", `The bundle is larger than ${MAX_BUNDLE_BYTES} bytes.`);
  }
  let bundle;
  try {
    bundle = parseStrictJson(decodeUtf8(text), MAX_BUNDLE_DEPTH);
  } catch (error) {
    return refusal("bundle-form", `The bundle is not strict JSON (${describe(error)}).`);
  }
  const history = bundle?.sealed?.history;
  if (size > MAX_BUNDLE_BYTES_WITHOUT_HISTORY && !Array.isArray(history)) {
    return refusal("bundle-form", `A bundle without history is at most ${MAX_BUNDLE_BYTES_WITHOUT_HISTORY} bytes.`);
  }
  return verifyBundle(bundle, trust, options);
}

/** A trust file's JSON text (string or UTF-8 bytes) parsed and checked as ledger/trust.py
 * load_trust does: {trust} or {problem} (one clause). */
export function readTrustText(text) {
  const size = typeof text === "string" ? new TextEncoder().encode(text).length : text.length;
  if (size > MAX_TRUST_BYTES) return { problem: `it is larger than ${MAX_TRUST_BYTES} bytes` };
  let data;
  try {
    data = parseStrictJson(decodeUtf8(text), MAX_TRUST_DEPTH);
  } catch (error) {
    return { problem: `it is not strict JSON (${describe(error)})` };
  }
  const problem = trustProblem(data);
  return problem === null ? { trust: data } : { problem };
}

function refusal(reason, message) {
  return { valid: false, reason, message };
}

function decodeUtf8(text) {
  return typeof text === "string" ? text : new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(text);
}

function describe(error) {
  return error instanceof JsonTextError || error instanceof Error ? error.message : String(error);
}

/** The rules, in order; returns the report of a valid bundle, throws a Refusal. */
async function checkBundle(bundle, trust, onProgress) {
  const trustIssue = trustProblem(trust);
  if (trustIssue !== null) refuse("trust-form", `The consortium trust file is malformed: ${trustIssue}.`);
  // 1, 2: form, then the Merkle path from the leaf to the root.
  const form = checkBundleForm(bundle);
  const leaf = checkMerklePath(bundle);
  // 3, 4, 5: seals to check, signers to check them with, and the consortium's chain.
  if (form.sealed === null) {
    refuse("no-seals", "The bundle carries no sealed headers (it was made on a chain without seals, or before xietong-proof/3): check it against a node.");
  }
  if (!Object.hasOwn(trust, "clique")) {
    refuse("trust-no-signers", "The consortium trust file names no Clique signers, so nothing sealed can be checked against it.");
  }
  checkConsortium(bundle, trust);
  // 6, 7: the headers, decoded and linked from the genesis block (with a history).
  const { history, headers } = decodeAll(form.sealed);
  const fromGenesis = form.sealed.history !== null;
  checkLinks([...history, ...headers], trust.genesis_hash, fromGenesis);
  const anchor = headers[0];
  // 8: the block and time claimed are the anchor header's.
  checkBlockClaims(bundle, anchor);
  // 9, 10: every seal, then a majority of the signers on the anchor block.
  const seals = await followSeals(trust.clique, history, headers, onProgress);
  // 11, 12, 13: the transaction, its receipt and the anchor event under the header's roots.
  const rawTransaction = await provenValue(anchor.transactionsRoot, form.sealed.index, form.sealed.transactionProof, "transaction");
  const transaction = checkTransaction(rawTransaction, bundle.transaction);
  const receipt = await provenValue(anchor.receiptsRoot, form.sealed.index, form.sealed.receiptProof, "receipt");
  const event = checkAnchorEvent(receiptLogs(receipt), {
    registry: trust.contracts.DatasetRegistry,
    datasetId: bundle.dataset_id,
    root: bundle.root,
    publisherId: bundle.publisher.id,
    leafCount: bundle.leaf_count,
    versionId: bundle.version_id,
  });
  // Docs/CHECKPOINTS.md's rules: the cosigned checkpoint is one of the sealed headers.
  const { checkpoint, unchecked } = checkCheckpointOf(bundle, trust, anchor, headers);
  return report({ bundle, trust, form, leaf, anchor, seals, transaction, event, fromGenesis, checkpoint, unchecked });
}

/** The bundle's `checkpoint` (absent or null: none) checked by docs/CHECKPOINTS.md's rules
 * against the sealed headers: {checkpoint, unchecked}, `checkpoint` null when there is none or
 * when the trust file names no cosigners (then `unchecked` says so), as ledger/verify/offline.py. */
function checkCheckpointOf(bundle, trust, anchor, headers) {
  const unchecked = [REVOCATION];
  if (!Object.hasOwn(bundle, "checkpoint") || bundle.checkpoint === null) return { checkpoint: null, unchecked };
  try {
    return { checkpoint: bundleCheckpoint(bundle.checkpoint, trust, anchor.number, headers), unchecked };
  } catch (error) {
    if (!(error instanceof Refusal) || error.reason !== "trust-no-cosigners") throw error;
    return { checkpoint: null, unchecked: [...unchecked, NO_COSIGNERS] };
  }
}

/** Rule 2: the leaf values hash to `leaf.hash`, and the path leads to `root`. */
function checkMerklePath(bundle) {
  const leaf = leafHash(bundle.leaf);
  if (toHex(leaf) !== bundle.leaf.hash.toLowerCase()) {
    refuse("merkle-path", "The leaf values in the bundle do not hash to its leaf hash.");
  }
  if (processProof(leaf, bundle.proof) !== bundle.root.toLowerCase()) {
    refuse("merkle-path", `The proof does not lead from leaf ${toHex(leaf)} to root ${bundle.root}.`);
  }
  return toHex(leaf);
}

/** Rule 5: the chain and the registry are the trust file's. */
function checkConsortium(bundle, trust) {
  if (BigInt(bundle.chain_id) !== BigInt(trust.chain_id)) {
    refuse("claim-chain", `The bundle was made on chain ${bundle.chain_id}, not on the consortium's chain ${trust.chain_id}.`);
  }
  const registry = trust.contracts.DatasetRegistry;
  if (bundle.contract.toLowerCase() !== registry.toLowerCase()) {
    refuse("claim-contract", `The bundle names registry ${bundle.contract}; the consortium's is ${registry}.`);
  }
}

/** Rule 8: `block_number` and `anchored_at` are the anchor header's number and time. */
function checkBlockClaims(bundle, anchor) {
  if (anchor.number !== BigInt(bundle.block_number)) {
    refuse("claim-block", `The bundle says block ${bundle.block_number}; its header is block ${anchor.number}.`);
  }
  if (!sameInstant(isoInstant(bundle.anchored_at), anchor.timestamp)) {
    const sealedAt = isoOfSeconds(anchor.timestamp) ?? `${anchor.timestamp} (unix time)`;
    refuse("claim-time", `The bundle says it was anchored at ${bundle.anchored_at}; the block was sealed at ${sealedAt}.`);
  }
}

/** Whether an instant (microseconds) is the unix time `seconds`, compared as Python compares
 * `datetime.timestamp()` (a float: microseconds / 10^6, rounded once) with an int. */
function sameInstant(micros, seconds) {
  const timestamp = Number(micros) / 1e6;
  return Number.isInteger(timestamp) && BigInt(timestamp) === seconds;
}

/** Headers checked between two returns to the event loop. */
const SLICE = 256;

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Rules 9 and 10: every header through history then headers, from the trust file's
 * signers; then enough distinct signers on the anchor block. Returns {sealers, size, required}. */
async function followSeals(clique, history, headers, onProgress) {
  const set = new SignerSet({
    epoch: clique.epoch,
    period: clique.period,
    signers: clique.signers.map((s) => s.address),
  });
  let parent = null;
  const total = history.length + headers.length;
  for (const [i, header] of history.entries()) {
    if (i % SLICE === SLICE - 1) {
      onProgress(i, total);
      await nextTask();
    }
    set.apply(header, parent);
    parent = header;
  }
  const size = set.signers.size; // the set that seals the anchor block
  const sealers = [];
  for (const header of headers) {
    const signer = set.apply(header, parent);
    parent = header;
    if (!sealers.includes(signer)) sealers.push(signer);
  }
  const required = (size >> 1) + 1;
  if (sealers.length < required) {
    refuse(
      "too-few-signers",
      `${sealers.length} distinct signer(s) sealed the anchor block and the blocks on top of it; a majority of the ${size} signers is ${required}.`,
    );
  }
  return { sealers, size, required };
}

/** A BigInt as a JSON number when it is exact as one, else as its decimal digits. */
function jsonInteger(value) {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/** What a valid bundle says, with who vouched for it (named as the trust file names them). */
function report({ bundle, trust, form, leaf, anchor, seals, transaction, event, fromGenesis, checkpoint, unchecked }) {
  const named = (address) => {
    const known = trust.clique.signers.find((s) => s.address.toLowerCase() === address);
    return { address: checksumAddress(address), department: known?.department ?? null, code: known?.code ?? null };
  };
  const publisherSigner = trust.clique.signers.find((s) => s.department === event.publisher);
  return {
    format: SEALED_FORMAT,
    kind: form.kind,
    leaf,
    root: bundle.root.toLowerCase(),
    dataset_id: bundle.dataset_id.toLowerCase(),
    version_id: event.versionId,
    publisher: { id: event.publisher, code: publisherSigner?.code ?? null },
    leaf_count: jsonInteger(event.leafCount),
    transaction,
    block_number: jsonInteger(anchor.number),
    anchored_at: isoOfSeconds(anchor.timestamp),
    chain_id: trust.chain_id,
    contract: trust.contracts.DatasetRegistry,
    consortium: trustFingerprint(trust),
    sealed_by: named(seals.sealers[0]),
    confirmed_by: seals.sealers.slice(1).map(named),
    signers: seals.size,
    required: seals.required,
    from_genesis: fromGenesis,
    // What the check cannot say, as sentences (ledger/verify/offline.py OfflineCheck.unchecked).
    unchecked,
    // The cosigned checkpoint: {number, hash, threshold, cosigners: [{address, department,
    // code, time}]}, or null (none, or not checked: `unchecked` says so).
    checkpoint,
  };
}
