/* Rules 11 to 13: the anchor transaction and its receipt under the anchor header's roots
 * (Merkle-Patricia proofs, checked by @ethereumjs/mpt), and the registry's VersionAnchored
 * event in that receipt. */
import { verifyMerkleProof } from "@ethereumjs/mpt";
import { decode as rlpDecode, encode as rlpEncode } from "@ethereumjs/rlp";
import { utf8ToBytes } from "@noble/hashes/utils.js";

import { equalBytes, fromHex, keccak256, toBigInt, toHex } from "./bytes.js";
import { refuse } from "./refusal.js";

/** topic 0 of DatasetRegistry's VersionAnchored event. */
const VERSION_ANCHORED = keccak256(
  utf8ToBytes("VersionAnchored(bytes32,bytes32,bytes32,uint64,bytes32,bytes32[])"),
);
/** The type bytes of typed receipts (EIP-2718): access list, dynamic fee, blob. */
const TYPED_RECEIPTS = [1, 2, 3];

/** The value at key RLP(index) of the trie whose root is `root`, from `proof`
 * (`transaction-proof` or `receipt-proof` when the proof is not one, or shows no value). */
export async function provenValue(root, index, proof, what) {
  const reason = `${what}-proof`;
  let value;
  try {
    value = await verifyMerkleProof(rlpEncode(index), proof, { root });
  } catch {
    refuse(reason, `The ${what} proof does not lead to the block's ${what}s root.`);
  }
  if (value === null || value === undefined || value.length === 0) {
    refuse(reason, `The ${what} proof shows no ${what} at index ${index}.`);
  }
  return value;
}

/** Rule 11's claim: the proven transaction is the bundle's. */
export function checkTransaction(rawTransaction, claimed) {
  const hash = toHex(keccak256(rawTransaction));
  if (hash !== claimed.toLowerCase()) {
    refuse("claim-transaction", `The proven transaction is ${hash}, not ${claimed}.`);
  }
  return hash;
}

const isBytes = (value) => value instanceof Uint8Array;
const isLog = (log) => Array.isArray(log) && log.length === 3 && isBytes(log[0]) && Array.isArray(log[1]) && isBytes(log[2]);

/** Rule 12: the logs of a successful receipt's consensus encoding (type byte, then
 * RLP([status, cumulativeGasUsed, logsBloom, logs]), a log being [address, topics, data]). */
export function receiptLogs(value) {
  const body = TYPED_RECEIPTS.includes(value[0]) ? value.subarray(1) : value;
  let items;
  try {
    items = rlpDecode(body);
  } catch {
    items = null;
  }
  const isReceipt =
    Array.isArray(items) && items.length === 4 && items.slice(0, 3).every(isBytes) && Array.isArray(items[3]) && items[3].every(isLog);
  if (!isReceipt) refuse("receipt-form", "The proven receipt is not a receipt's encoding.");
  if (!equalBytes(items[0], Uint8Array.of(1))) refuse("receipt-failed", "The anchor transaction failed (its receipt's status is not 1).");
  return items[3];
}

/** Rule 13: the registry's VersionAnchored log of (dataset, root); then the claims it
 * settles. Returns {publisher (0x id), leafCount (BigInt), versionId (0x)}. */
export function checkAnchorEvent(logs, { registry, datasetId, root, publisherId, leafCount, versionId }) {
  const [registryBytes, datasetBytes, rootBytes] = [registry, datasetId, root].map(fromHex);
  const anchor = logs.find(
    ([address, topics, data]) =>
      equalBytes(address, registryBytes) &&
      topics.length === 4 &&
      equalBytes(topics[0], VERSION_ANCHORED) &&
      equalBytes(topics[1], datasetBytes) &&
      equalBytes(topics[2], rootBytes) &&
      data.length >= 32,
  );
  if (anchor === undefined) {
    refuse(
      "anchor-missing",
      `The receipt holds no VersionAnchored event of the consortium's registry for root ${root} of dataset ${datasetId}.`,
    );
  }
  const [, topics, data] = anchor;
  const publisher = topics[3] instanceof Uint8Array ? toHex(topics[3]) : "";
  if (publisher !== publisherId.toLowerCase()) {
    refuse("claim-publisher", `The bundle says department ${publisherId} anchored it; the event says ${publisher || "another"}.`);
  }
  const leaves = toBigInt(data.subarray(0, 32)); // the event's first data word: uint64 leafCount
  if (leaves !== BigInt(leafCount)) {
    refuse("claim-leaf-count", `The bundle says ${leafCount} leaves; the event says ${leaves}.`);
  }
  const version = toHex(keccak256(new Uint8Array([...datasetBytes, ...rootBytes])));
  if (version !== versionId.toLowerCase()) {
    refuse("claim-version", `The bundle's version id is ${versionId}, not ${version}.`);
  }
  return { publisher, leafCount: leaves, versionId: version };
}
