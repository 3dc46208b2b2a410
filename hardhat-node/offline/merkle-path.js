/* Rule 2 (`merkle-path`): OpenZeppelin's standard Merkle tree, as ledger/merkle.py builds it.
 * leaf = keccak256(keccak256(abi.encode(types, values))); a node is keccak256 of its two
 * children in ascending order. */
import { utf8ToBytes } from "@noble/hashes/utils.js";

import { concatBytes, fromHex, keccak256, toHex, word } from "./bytes.js";

/** abi.encode(bytes32 hash, string path): the head (hash, offset 0x40), then the string's
 * length and its UTF-8 bytes zero-padded to a whole word. */
function encodeFileLeaf(contentHash, path) {
  const data = utf8ToBytes(path);
  const padded = new Uint8Array(Math.ceil(data.length / 32) * 32);
  padded.set(data);
  return concatBytes(contentHash, word(0x40), word(data.length), padded);
}

/** The leaf hash of a bundle's `leaf` (values already checked by rule 1). */
export function leafHash(leaf) {
  const [first, second] = leaf.values;
  const encoded =
    leaf.types[1] === "string"
      ? encodeFileLeaf(fromHex(first), second)
      : concatBytes(fromHex(first), fromHex(second)); // abi.encode(bytes32, bytes32)
  return keccak256(keccak256(encoded));
}

function hashPair(a, b) {
  return keccak256(compare(a, b) <= 0 ? concatBytes(a, b) : concatBytes(b, a));
}

function compare(a, b) {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** The root the proof's steps lead to from `leaf` (MerkleProof.processProof). */
export function processProof(leaf, proof) {
  return toHex(proof.reduce((node, step) => hashPair(node, fromHex(step)), leaf));
}
