/* Rule 9: Clique, as go-ethereum v1.13.15 checks a header (consensus/clique clique.go
 * verifyHeader, verifyCascadingFields, verifySeal) and follows the signer set's votes
 * (snapshot.go Snapshot.apply), in the order docs/OFFLINE_PROOFS.md gives. */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { encode as rlpEncode } from "@ethereumjs/rlp";

import { equalBytes, isZero, keccak256, toBigInt, toHex } from "./bytes.js";
import { ADDRESS_SIZE, SEAL, VANITY, sealHash } from "./headers.js";
import { refuse } from "./refusal.js";
import { checksumAddress } from "./trust.js";

const NONCE_ADD = new Uint8Array(8).fill(0xff);
const NONCE_DROP = new Uint8Array(8);
/** keccak256(rlp([])): the only uncle hash a Clique header may have. */
const EMPTY_UNCLES = keccak256(rlpEncode([]));
const IN_TURN = 2n;
const NO_TURN = 1n;

/** verifyHeader's rules on the header alone (`header-field`). */
function checkFields(header, epoch) {
  const where = `Block ${header.number}`;
  const checkpoint = header.number % epoch === 0n;
  const field = (message) => refuse("header-field", `${where} ${message}.`);
  if (checkpoint && !isZero(header.coinbase)) field("is a checkpoint with a beneficiary");
  if (!equalBytes(header.nonce, NONCE_ADD) && !equalBytes(header.nonce, NONCE_DROP)) field("has a nonce that is not a vote");
  if (checkpoint && !equalBytes(header.nonce, NONCE_DROP)) field("is a checkpoint with a vote");
  const extra = header.extraData;
  if (extra.length < VANITY + SEAL) field("has no room for vanity and seal in its extraData");
  const listed = extra.length - VANITY - SEAL;
  if (!checkpoint && listed !== 0) field("lists signers but is no checkpoint");
  if (checkpoint && listed % ADDRESS_SIZE !== 0) field("lists a part of an address");
  if (!isZero(header.mixHash)) field("has a mix digest");
  if (!equalBytes(header.uncleHash, EMPTY_UNCLES)) field("has uncles");
  if (header.difficulty !== IN_TURN && header.difficulty !== NO_TURN) field(`has difficulty ${header.difficulty}`);
  if (header.gasUsed > header.gasLimit) field("uses more gas than its limit");
}

/** The address (lowercase 0x-hex) whose key sealed `header` (`seal-invalid` when none): the
 * seal is r, s, v with v 0 or 1, over the seal hash. */
export function recoverSigner(header) {
  const seal = header.extraData.subarray(header.extraData.length - SEAL);
  const v = seal[64];
  let publicKey;
  try {
    if (v > 1) throw new Error("recovery id");
    // r and s in [1, n): as libsecp256k1's recovery, which geth calls.
    const signature = new secp256k1.Signature(toBigInt(seal.subarray(0, 32)), toBigInt(seal.subarray(32, 64)), v);
    publicKey = signature.recoverPublicKey(sealHash(header)).toBytes(false);
  } catch {
    refuse("seal-invalid", `The seal of block ${header.number} recovers no key.`);
  }
  return toHex(keccak256(publicKey.subarray(1)).subarray(12));
}

/** Clique's snapshot: the signers (lowercase 0x addresses), who sealed recently, the votes
 * cast and their tally (geth's Snapshot), advanced one header at a time by apply(). */
export class SignerSet {
  constructor({ epoch, period, signers }) {
    this.epoch = BigInt(epoch);
    this.period = BigInt(period);
    this.signers = new Set(signers.map((address) => address.toLowerCase()));
    this.recents = new Map(); // block number (BigInt) -> signer
    this.votes = []; // {signer, address, authorize}, in the order cast
    this.tally = new Map(); // address -> {authorize, votes}
  }

  sorted() {
    return [...this.signers].sort();
  }

  /** Check `header` on top of `parent` (null: its parent is not in the bundle) against this
   * set, then count its vote; returns its signer. */
  apply(header, parent) {
    checkFields(header, this.epoch);
    const number = header.number;
    const where = `Block ${number}`;
    if (parent !== null && header.timestamp < parent.timestamp + this.period) {
      refuse("header-time", `${where} is sealed ${header.timestamp - parent.timestamp} s after its parent; the period is ${this.period} s.`);
    }
    const checkpoint = number % this.epoch === 0n;
    if (checkpoint) {
      this.votes = [];
      this.tally = new Map();
    }
    this.forgetOldest(number);
    const signer = recoverSigner(header);
    if (!this.signers.has(signer)) {
      refuse("signer-outside-set", `${where} is sealed by ${checksumAddress(signer)}, who is not among the ${this.signers.size} signers at that height.`);
    }
    if ([...this.recents.values()].includes(signer)) {
      const blocks = this.signers.size >> 1;
      refuse("signer-repeated", `${where} is sealed by ${checksumAddress(signer)}, who sealed one of the ${blocks} blocks before it.`);
    }
    const ordered = this.sorted();
    const inTurn = number % BigInt(ordered.length) === BigInt(ordered.indexOf(signer));
    if (header.difficulty !== (inTurn ? IN_TURN : NO_TURN)) {
      refuse("header-difficulty", `${where} has difficulty ${header.difficulty}, but its signer was ${inTurn ? "in" : "not in"} turn.`);
    }
    const listed = toHex(header.extraData.subarray(VANITY, header.extraData.length - SEAL));
    if (checkpoint && listed !== "0x" + ordered.map((a) => a.slice(2)).join("")) {
      refuse("checkpoint-signers", `Checkpoint block ${number} lists other signers than the set's.`);
    }
    this.recents.set(number, signer);
    this.count(header, signer);
    return signer;
  }

  /** Let the signer of block number - limit seal again (limit = ⌊N/2⌋ + 1). */
  forgetOldest(number) {
    const limit = BigInt((this.signers.size >> 1) + 1);
    if (number >= limit) this.recents.delete(number - limit);
  }

  /** Snapshot.apply's vote handling, step for step. */
  count(header, signer) {
    const address = toHex(header.coinbase);
    const authorize = equalBytes(header.nonce, NONCE_ADD);
    // A signer's earlier vote on the same address is replaced by this one.
    const earlier = this.votes.findIndex((vote) => vote.signer === signer && vote.address === address);
    if (earlier >= 0) {
      this.uncast(address, this.votes[earlier].authorize);
      this.votes.splice(earlier, 1);
    }
    if (this.cast(address, authorize)) this.votes.push({ signer, address, authorize });
    const tally = this.tally.get(address);
    if (tally === undefined || tally.votes <= this.signers.size >> 1) return;
    if (tally.authorize) {
      this.signers.add(address);
    } else {
      this.signers.delete(address);
      this.forgetOldest(header.number); // the set shrank: so did the recent window
      for (const vote of this.votes.filter((v) => v.signer === address)) this.uncast(vote.address, vote.authorize);
      this.votes = this.votes.filter((v) => v.signer !== address);
    }
    this.votes = this.votes.filter((v) => v.address !== address);
    this.tally.delete(address);
  }

  /** A vote counts when it would change the set: adding a stranger, dropping a signer. */
  cast(address, authorize) {
    if (this.signers.has(address) === authorize) return false;
    const held = this.tally.get(address);
    // As geth: a tally keeps the direction of its first vote.
    this.tally.set(address, held ? { authorize: held.authorize, votes: held.votes + 1 } : { authorize, votes: 1 });
    return true;
  }

  uncast(address, authorize) {
    const held = this.tally.get(address);
    if (held === undefined || held.authorize !== authorize) return;
    if (held.votes > 1) this.tally.set(address, { authorize, votes: held.votes - 1 });
    else this.tally.delete(address);
  }
}
