/* The browser bundle's entry: the verifier as globalThis.XietongOffline (an IIFE built by
 * build.mjs into api/portal/static/offline-proof.js). */
import { checkCheckpoint, CHECKPOINT_REASONS, NO_COSIGNERS } from "./checkpoint.js";
import { parseStrictJson } from "./strict-json.js";
import { trustFingerprint } from "./trust.js";
import { MAX_BUNDLE_BYTES, readTrustText, REASONS, verifyBundle, verifyBundleText } from "./verify.js";

globalThis.XietongOffline = Object.freeze({
  verifyBundle,
  verifyBundleText,
  readTrustText,
  /** A cosigned checkpoint (its JSON form) checked alone against a trust file
   * (docs/CHECKPOINTS.md, ledger/witness/checkpoint.py check_checkpoint). */
  checkCheckpoint,
  /** The fingerprint of a checked trust file's object (ledger/trust.py fingerprint_of). */
  trustFingerprint,
  /** JSON text parsed as the verifier reads bundles (exact integers, no duplicate names). */
  parseJson: (text, maxDepth = 64) => parseStrictJson(text, maxDepth),
  REASONS,
  CHECKPOINT_REASONS,
  /** The sentence a valid bundle's `unchecked` holds when its checkpoint was not checked. */
  NO_COSIGNERS,
  MAX_BUNDLE_BYTES,
});
