/* Rule 2 (`merkle-path`): OpenZeppelin's standard Merkle tree, as ledger/merkle.py builds it.
 * leaf = keccak256(keccak256(abi.encode(types, values))); a node is keccak256 of its two
 * children in ascending order. An SM3 dataset's leaf (docs/SM3.md) has the string "sm3" as
 * its first value, encoded as ledger/merkle.py `_sm3_file_encoded` and `_sm3_record_encoded`. */
import { utf8ToBytes } from "@noble/hashes/utils.js";

import { concatBytes, fromHex, keccak256, toHex, word } from "./bytes.js";

/** `data` zero-padded to a whole number of 32-byte words. */
function padded(data) {
  const out = new Uint8Array(Math.ceil(data.length / 32) * 32);
  out.set(data);
  return out;
}

/** The tail of abi.encode("sm3", …): the tag's length (3), then its bytes padded to a word. */
const SM3_TAIL = concatBytes(word(3), padded(utf8ToBytes("sm3")));

/** abi.encode(bytes32 hash, string path): the head (hash, offset 0x40), then the string's
 * length and its UTF-8 bytes zero-padded to a whole word. */
function encodeFileLeaf(contentHash, path) {
  const data = utf8ToBytes(path);
  return concatBytes(contentHash, word(0x40), word(data.length), padded(data));
}

/** abi.encode(string "sm3", bytes32 hash, string path): the head (the tag's offset 0x60, the
 * hash, the path's offset 0xa0), the tag, then the path's length and padded bytes. */
function encodeSm3FileLeaf(contentHash, path) {
  const data = utf8ToBytes(path);
  return concatBytes(word(0x60), contentHash, word(0xa0), SM3_TAIL, word(data.length), padded(data));
}

/** abi.encode(string "sm3", bytes32 hash, bytes32 salt): the head (the tag's offset 0x60, the
 * hash, the salt), then the tag. */
function encodeSm3RecordLeaf(recordHash, salt) {
  return concatBytes(word(0x60), recordHash, salt, SM3_TAIL);
}

/** The leaf hash of a bundle's `leaf` (values already checked by rule 1). */
export function leafHash(leaf) {
  const tagged = leaf.types[0] === "string"; // an SM3 leaf: values ("sm3", hash, path or salt)
  const [first, second] = leaf.values.slice(tagged ? 1 : 0);
  const file = leaf.types[leaf.types.length - 1] === "string";
  let encoded;
  if (tagged) {
    encoded = file ? encodeSm3FileLeaf(fromHex(first), second) : encodeSm3RecordLeaf(fromHex(first), fromHex(second));
  } else {
    encoded = file ? encodeFileLeaf(fromHex(first), second) : concatBytes(fromHex(first), fromHex(second)); // abi.encode(bytes32, bytes32)
  }
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
