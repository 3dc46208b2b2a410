/* Block headers: rule 6 (`header-form`: geth's 16 London fields, of their sizes) and rule 7
 * (`wrong-genesis`, `header-link`: a chain from the trust file's genesis block). */
import { decode as rlpDecode, encode as rlpEncode } from "@ethereumjs/rlp";

import { keccak256, toBigInt, toHex } from "./bytes.js";
import { refuse } from "./refusal.js";

export const VANITY = 32;
export const SEAL = 65;
export const ADDRESS_SIZE = 20;
/** Most headers on top of the anchor block and most of history (docs/OFFLINE_PROOFS.md). */
export const MAX_HEADERS = 64;
export const MAX_HISTORY = 65_536;
/** Longest extraData: vanity, a checkpoint's list of at most 64 signers, seal (as the Python
 * verifier). */
const MAX_EXTRA = VANITY + 64 * ADDRESS_SIZE + SEAL;
const MAX_INTEGER_SIZE = 32;

/** The 16 fields of a London header: the size of a fixed-size one, "int" for an integer,
 * "extra" for extraData. */
const FIELDS = [
  ["parentHash", 32],
  ["uncleHash", 32],
  ["coinbase", ADDRESS_SIZE],
  ["stateRoot", 32],
  ["transactionsRoot", 32],
  ["receiptsRoot", 32],
  ["logsBloom", 256],
  ["difficulty", "int"],
  ["number", "int"],
  ["gasLimit", "int"],
  ["gasUsed", "int"],
  ["timestamp", "int"],
  ["extraData", "extra"],
  ["mixHash", 32],
  ["nonce", 8],
  ["baseFee", "int"],
];
const EXTRA_INDEX = FIELDS.findIndex(([name]) => name === "extraData");

/** A decoded header: its fields by name (bytes; integers as BigInt too), its hash, and the
 * raw fields the seal hash is built from. */
function makeHeader(items, raw) {
  const header = { items, hash: keccak256(raw) };
  FIELDS.forEach(([name, size], i) => {
    header[name] = size === "int" ? toBigInt(items[i]) : items[i];
  });
  return header;
}

/** The header whose RLP is `raw`; `header-form` when it is not a London header's 16 fields
 * of their sizes (`where` names it in the message). */
export function decodeHeader(raw, where) {
  let items;
  try {
    items = rlpDecode(raw);
  } catch {
    refuse("header-form", `${where} is not RLP.`);
  }
  if (!Array.isArray(items) || items.length !== FIELDS.length) {
    refuse("header-form", `${where} is not a list of the ${FIELDS.length} fields of a header.`);
  }
  FIELDS.forEach(([name, size], i) => {
    const value = items[i];
    if (!(value instanceof Uint8Array)) refuse("header-form", `${where}: \`${name}\` is a list.`);
    if (size === "int" && (value.length > MAX_INTEGER_SIZE || value[0] === 0)) {
      refuse("header-form", `${where}: \`${name}\` is not an integer (leading zero or too long).`);
    }
    if (typeof size === "number" && value.length !== size) {
      refuse("header-form", `${where}: \`${name}\` is ${value.length} bytes, not ${size}.`);
    }
    if (size === "extra" && value.length > MAX_EXTRA) refuse("header-form", `${where}: \`extraData\` is too long.`);
  });
  return makeHeader(items, raw);
}

/** Rule 6 for all of `sealed`: history then headers, decoded, not too many. */
export function decodeAll(sealed) {
  if (sealed.headers.length > MAX_HEADERS) {
    refuse("header-form", `The bundle has ${sealed.headers.length} headers on the anchor; at most ${MAX_HEADERS}.`);
  }
  if (sealed.history !== null && sealed.history.length > MAX_HISTORY) {
    refuse("header-form", `The bundle's history has ${sealed.history.length} headers; at most ${MAX_HISTORY}.`);
  }
  const history = (sealed.history ?? []).map((raw, i) => decodeHeader(raw, `History header ${i}`));
  const headers = sealed.headers.map((raw, i) => decodeHeader(raw, `Header ${i}`));
  return { history, headers };
}

/** Rule 7: a history starts on the trust file's genesis block (block 1, its parent the
 * genesis hash); every header is the child of the one before it. */
export function checkLinks(chain, genesisHash, fromGenesis) {
  const first = chain[0];
  if (fromGenesis && (first.number !== 1n || toHex(first.parentHash) !== genesisHash.toLowerCase())) {
    refuse(
      "wrong-genesis",
      `The history starts at block ${first.number} on parent ${toHex(first.parentHash)}, not on the consortium's genesis block ${genesisHash}.`,
    );
  }
  for (let i = 1; i < chain.length; i++) {
    const before = chain[i - 1];
    const after = chain[i];
    if (after.number !== before.number + 1n || toHex(after.parentHash) !== toHex(before.hash)) {
      refuse("header-link", `Block ${after.number} is not the child of block ${before.number} before it in the bundle.`);
    }
  }
}

/** Keccak-256 of what the signer signed: the fields with the seal cut from extraData. */
export function sealHash(header) {
  const items = header.items.slice();
  items[EXTRA_INDEX] = header.extraData.subarray(0, header.extraData.length - SEAL);
  return keccak256(rlpEncode(items));
}
