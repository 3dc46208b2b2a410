/* Bytes as the verifier handles them: 0x-hex in the bundle, Uint8Array inside, Keccak-256
 * from @noble/hashes. */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

/** 0x and an even number of hex digits of either case: every hex string a bundle holds. */
const HEX = /^0x(?:[0-9a-fA-F]{2})*$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export const isHex = (value) => typeof value === "string" && HEX.test(value);
export const isHash = (value) => typeof value === "string" && HASH.test(value);
export const isAddress = (value) => typeof value === "string" && ADDRESS.test(value);

/** The bytes of a string isHex() accepted. */
export const fromHex = (text) => hexToBytes(text.slice(2));

/** "0x" and lowercase hex digits. */
export const toHex = (bytes) => "0x" + bytesToHex(bytes);

export const keccak256 = (bytes) => keccak_256(bytes);

export function equalBytes(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The unsigned big-endian integer of `bytes` (empty: 0). */
export function toBigInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt("0x" + bytesToHex(bytes));
}

/** `value` (a non-negative integer) as a 32-byte big-endian word. */
export function word(value) {
  return hexToBytes(BigInt(value).toString(16).padStart(64, "0"));
}

export const isZero = (bytes) => bytes.every((b) => b === 0);
