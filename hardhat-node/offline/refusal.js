/* The reason codes of docs/OFFLINE_PROOFS.md, in the order of its rules, then those of a
 * bundle's cosigned checkpoint (docs/CHECKPOINTS.md), and the one way a rule refuses a bundle:
 * throwing a Refusal that names its code. */

/** Every reason code, in the order the rules are applied (docs/OFFLINE_PROOFS.md, then
 * docs/CHECKPOINTS.md's for the bundle's `checkpoint`). */
export const REASONS = Object.freeze([
  "trust-form", // not a rule of the document: the trust file itself is malformed
  "bundle-form",
  "merkle-path",
  "no-seals",
  "trust-no-signers",
  "claim-chain",
  "claim-contract",
  "header-form",
  "wrong-genesis",
  "header-link",
  "claim-block",
  "claim-time",
  "header-field",
  "header-time",
  "seal-invalid",
  "signer-outside-set",
  "signer-repeated",
  "header-difficulty",
  "checkpoint-signers",
  "too-few-signers",
  "transaction-proof",
  "claim-transaction",
  "receipt-proof",
  "receipt-form",
  "receipt-failed",
  "anchor-missing",
  "claim-publisher",
  "claim-leaf-count",
  "claim-version",
  "checkpoint-form",
  "cosigner-unknown",
  "cosignature-invalid",
  "cosigners-too-few",
  "checkpoint-below-anchor",
  "checkpoint-unlinked",
]);

/** A bundle broke a rule: `reason` is the rule's code, the message one English sentence. */
export class Refusal extends Error {
  constructor(reason, message) {
    super(message);
    this.name = "Refusal";
    this.reason = reason;
  }
}

/** Refuse with `reason`; `message` ends with a full stop. */
export function refuse(reason, message) {
  throw new Refusal(reason, message);
}
