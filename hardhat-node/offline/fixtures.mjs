/* Deterministic test bundles for the offline verifier, made here without a node: a Clique
 * chain sealed by Hardhat's first development keys, a block holding an anchor transaction
 * with its receipt (real Merkle-Patricia tries, @ethereumjs/mpt), an OpenZeppelin Merkle tree
 * (@openzeppelin/merkle-tree), and one tampered bundle per reason code, each re-sealed where
 * the tampering is inside a header, so that only the rule under test is broken.
 *
 *   node offline/fixtures.mjs > OUT.json     (the shape of tests/vectors/offline_bundles.json)
 *
 * The real bundles come from a geth network (tests/vectors/offline_bundles.json); these add
 * what a short real chain does not show: votes that change the signer set, epoch checkpoints,
 * and each refusal with every other rule kept, and the leaves of an SM3 dataset (docs/SM3.md).
 * Signatures are RFC 6979 (deterministic), so the output is the same on every run. */
import { createMerkleProof, createMPT } from "@ethereumjs/mpt";
import { encode as rlp } from "@ethereumjs/rlp";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 as keccak } from "@noble/hashes/sha3.js";
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

import { checksumAddress, trustFingerprint } from "./trust.js";

/** Hardhat's development keys (mnemonic "test test … junk"), accounts 0 to 5. */
const KEYS = [
  "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
].map(hexToBytes);

const hex = (bytes) => "0x" + bytesToHex(bytes);
const addressOf = (key) => hex(keccak(secp256k1.getPublicKey(key, false).subarray(1)).subarray(12));
/** A header integer: big-endian without leading zeros (0 is empty). */
function int(n) {
  const digits = BigInt(n).toString(16);
  return n === 0 || n === 0n ? new Uint8Array() : hexToBytes(digits.length % 2 ? "0" + digits : digits);
}
const word = (n) => hexToBytes(BigInt(n).toString(16).padStart(64, "0"));
const zeros = (n) => new Uint8Array(n);
const clone = (value) => JSON.parse(JSON.stringify(value));

const CHAIN_ID = 31337;
const PERIOD = 2;
const GENESIS_TIME = 1_767_225_600; // 2026-01-01T00:00:00Z
const REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const CONTRACTS = {
  DepartmentRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  DatasetRegistry: REGISTRY,
  SharingAgreements: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  JointCommitments: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
};
const UNCLES = keccak(rlp([]));
const NONCE_ADD = new Uint8Array(8).fill(0xff);
const ANCHORED = keccak(utf8ToBytes("VersionAnchored(bytes32,bytes32,bytes32,uint64,bytes32,bytes32[])"));
const DEPARTMENTS = ["HZ-CIVIL", "HZ-PSB", "HZ-HEALTH", "HZ-EDU"];
const departmentId = (code) => hex(keccak(utf8ToBytes(code)));

/* ------------------------------------------------------------------ headers and seals */

/** The 16 fields of a London header, from a description; sealed by `key`. */
function sealedHeader(h, key) {
  const fields = [
    h.parentHash, UNCLES, h.coinbase ?? zeros(20), keccak(int(h.number)), h.transactionsRoot ?? keccak(rlp(int(h.number))),
    h.receiptsRoot ?? keccak(rlp([int(h.number)])), zeros(256), int(h.difficulty), int(h.number), int(30_000_000),
    int(h.gasUsed ?? 21_000), int(h.timestamp), concatBytes(zeros(32), h.signerList ?? new Uint8Array(), zeros(65)),
    h.mixHash ?? zeros(32), h.nonce ?? zeros(8), int(1_000_000_000),
  ];
  if (h.edit) h.edit(fields);
  const extra = fields[12];
  const unsealed = fields.slice();
  unsealed[12] = extra.subarray(0, extra.length - 65);
  const signature = secp256k1.sign(keccak(rlp(unsealed)), key, { prehash: false, format: "recovered" });
  // geth's seal: r, s, v (the recovered format puts v first).
  extra.set(concatBytes(signature.subarray(1), signature.subarray(0, 1)), extra.length - 65);
  if (h.editSeal) h.editSeal(extra.subarray(extra.length - 65));
  if (h.mangle) h.mangle(fields); // after sealing: the seal no longer fits
  return rlp(fields);
}

/** A chain from a genesis block whose signers are `signerKeys`: blocks 1… sealed as `plan`
 * says (each {signer: key index, vote?, difficulty?, …}); each block in turn gets difficulty
 * 2 unless the plan says otherwise. Returns {genesisHash, raw: [block 1, …]}. */
function makeChain({ signerKeys, epoch, plan }) {
  let set = signerKeys.map((k) => addressOf(KEYS[k])).sort();
  const genesisFields = [
    zeros(32), UNCLES, zeros(20), zeros(32), keccak(rlp(new Uint8Array())), keccak(rlp(new Uint8Array())), zeros(256),
    int(1), int(0), int(30_000_000), int(0), int(GENESIS_TIME),
    concatBytes(zeros(32), ...set.map(hexToBytesOf), zeros(65)), zeros(32), zeros(8), int(1_000_000_000),
  ];
  let parent = keccak(rlp(genesisFields));
  const genesisHash = hex(parent);
  let time = GENESIS_TIME;
  const raw = [];
  plan.forEach((step, i) => {
    const number = i + 1;
    if (step.set) set = step.set.map((k) => addressOf(KEYS[k])).sort(); // a vote passed before this block
    const signer = addressOf(KEYS[step.signer]);
    const inTurn = set.indexOf(signer) === number % set.length;
    time += step.gap ?? PERIOD;
    const checkpoint = number % epoch === 0;
    const header = {
      ...step,
      parentHash: parent,
      number,
      timestamp: time,
      difficulty: step.difficulty ?? (inTurn ? 2 : 1),
      signerList: step.signerList ?? (checkpoint ? concatBytes(...set.map(hexToBytesOf)) : undefined),
    };
    const encoded = sealedHeader(header, KEYS[step.signer]);
    raw.push(encoded);
    parent = keccak(encoded);
  });
  return { genesisHash, raw, times: raw.map((_, i) => GENESIS_TIME + plan.slice(0, i + 1).reduce((t, s) => t + (s.gap ?? PERIOD), 0)) };
}

function hexToBytesOf(address) {
  return hexToBytes(address.slice(2));
}

/** The in-turn signer of each block for a fixed set (key indexes), as a plan. */
function roundRobin(keyIndexes, from, to) {
  const sorted = keyIndexes.slice().sort((a, b) => (addressOf(KEYS[a]) < addressOf(KEYS[b]) ? -1 : 1));
  const plan = [];
  for (let n = from; n <= to; n++) plan.push({ signer: sorted[n % sorted.length] });
  return plan;
}

/* ------------------------------------------------------------------ the anchor block's tries */

const SHA = "0x" + "ab".repeat(32);
const PATH = "policy/低保资格核查流程.md";
const FILES = [[SHA, PATH], ["0x" + "cd".repeat(32), "policy/b.md"], ["0x" + "ef".repeat(32), "c.txt"]];
const TREE = StandardMerkleTree.of(FILES, ["bytes32", "string"]);
const DATASET = departmentId("dataset:HZ-MZ-DIBAO");
const PUBLISHER = departmentId(DEPARTMENTS[0]);

/** A version's tree, the dataset it is anchored in, and the leaf its bundles prove. */
const treeLeaf = (tree, types, kind, dataset, values) => ({ tree, types, kind, dataset, values, count: tree.length });
const FILE_LEAF = treeLeaf(TREE, ["bytes32", "string"], "file", DATASET, FILES[0]);

/* An SM3 dataset's versions (docs/SM3.md): the same values after the tag "sm3", files (tag,
 * SM3 digest, path) and records (tag, SM3 digest of the canonical JSON, salt). */
const SM3_DATASET = departmentId("dataset:HZ-MZ-SM3");
const SM3_FILES = [["sm3", "0x" + "a1".repeat(32), PATH], ["sm3", "0x" + "b2".repeat(32), "policy/b.md"]];
const SM3_RECORDS = [1, 2, 3, 4, 5].map((i) => ["sm3", hex(keccak(utf8ToBytes(`record ${i}`))), hex(keccak(utf8ToBytes(`salt ${i}`)))]);
const SM3_FILE_LEAF = treeLeaf(StandardMerkleTree.of(SM3_FILES, ["string", "bytes32", "string"]), ["string", "bytes32", "string"], "file", SM3_DATASET, SM3_FILES[0]);
const SM3_RECORD_LEAF = treeLeaf(
  StandardMerkleTree.of(SM3_RECORDS, ["string", "bytes32", "bytes32"]), ["string", "bytes32", "bytes32"], "record", SM3_DATASET, SM3_RECORDS[2],
);

function anchorLog({ registry = REGISTRY, leafCount = FILES.length, root = TREE.root, dataset = DATASET } = {}) {
  const data = concatBytes(word(leafCount), keccak(utf8ToBytes("metadata")), word(0x60), word(0));
  return [hexToBytes(registry.slice(2)), [ANCHORED, hexToBytes(dataset.slice(2)), hexToBytes(root.slice(2)), hexToBytes(PUBLISHER.slice(2))], data];
}

const typed = (type, body) => concatBytes(Uint8Array.of(type), body);
const receipt = (status, logs, gas = 50_000) => typed(2, rlp([int(status), int(gas), zeros(256), logs]));
const TRANSACTIONS = [0, 1, 2].map((i) => typed(2, rlp([int(CHAIN_ID), int(i), utf8ToBytes(`transaction ${i} `.repeat(8))])));
const ANCHOR_INDEX = 1;

/** The anchor block's transactions and receipts tries: roots and the proofs at the index. */
async function tries({ anchorReceipt = receipt(1, [[zeros(20), [], new Uint8Array()], anchorLog()]) } = {}) {
  const receipts = [receipt(1, []), anchorReceipt, receipt(1, [])];
  const out = {};
  for (const [name, values] of [["transactions", TRANSACTIONS], ["receipts", receipts]]) {
    const trie = await createMPT({});
    for (const [i, value] of values.entries()) await trie.put(rlp(i), value);
    out[name] = {
      root: trie.root(),
      proof: (await createMerkleProof(trie, rlp(ANCHOR_INDEX))).map(hex),
      otherProof: (await createMerkleProof(trie, rlp(2))).map(hex),
    };
  }
  return out;
}

/* ------------------------------------------------------------------ bundles */

function trustFile({ signerKeys = [0, 1, 2, 3], epoch = 30_000, genesisHash, clique = true }) {
  const signers = signerKeys
    .map((k) => ({ address: checksumAddress(addressOf(KEYS[k])), department: departmentId(DEPARTMENTS[k] ?? "x"), code: DEPARTMENTS[k] ?? null }))
    .map((s) => (s.code === null ? { ...s, department: null } : s))
    .sort((a, b) => (a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1));
  const trust = {
    format: "xietong-consortium/1",
    chain_id: CHAIN_ID,
    genesis_hash: genesisHash,
    deployment_block: 0,
    deployment_block_hash: genesisHash,
    contracts: CONTRACTS,
    ...(clique ? { clique: { epoch, period: PERIOD, signers } } : {}),
  };
  return { ...trust, fingerprint: trustFingerprint(trust) };
}

const iso = (seconds) => new Date(seconds * 1000).toISOString().replace(".000Z", "+00:00");

/** A bundle of the anchor at block `anchor` of `chain` (history from block 1 if asked), proving
 * `leaf` (a treeLeaf: by default FILES[0] of TREE). */
function bundleOf(chain, anchor, { count, history = false, roots, leaf = FILE_LEAF }) {
  const { tree, values, dataset } = leaf;
  return {
    format: "xietong-proof/3",
    leaf: { kind: leaf.kind, types: leaf.types, values, hash: tree.leafHash(values) },
    proof: tree.getProof(tree.leafLookup(values)),
    root: tree.root,
    dataset_id: dataset,
    version_id: hex(keccak(concatBytes(hexToBytes(dataset.slice(2)), hexToBytes(tree.root.slice(2))))),
    leaf_count: leaf.count,
    chain_id: CHAIN_ID,
    contract: REGISTRY,
    transaction: hex(keccak(TRANSACTIONS[ANCHOR_INDEX])),
    block_number: anchor,
    anchored_at: iso(chain.times[anchor - 1]),
    publisher: { id: PUBLISHER },
    sealed: {
      headers: chain.raw.slice(anchor - 1, anchor - 1 + count).map(hex),
      transaction: { index: ANCHOR_INDEX, proof: roots.transactions.proof },
      receipt: { proof: roots.receipts.proof },
      history: history ? chain.raw.slice(0, anchor - 1).map(hex) : null,
    },
  };
}

/** A plan whose block `anchor` holds the tries' roots. */
const withAnchor = (plan, anchor, roots) =>
  plan.map((step, i) => (i + 1 === anchor ? { ...step, transactionsRoot: roots.transactions.root, receiptsRoot: roots.receipts.root } : step));

async function main() {
  const cases = [];
  const add = (desc, bundle, expected, trust) => cases.push({ desc, bundle, ...(trust ? { trust } : {}), ...expected });
  const VALID = { valid: true };
  const refused = (reason) => ({ valid: false, reason });
  const roots = await tries();
  const signers = [0, 1, 2, 3];
  const ANCHOR = 5;

  // A steady chain: each block sealed in turn; the anchor at block 5, sealed on by 6 and 7.
  const plan = withAnchor(roundRobin(signers, 1, 10), ANCHOR, roots);
  const chain = makeChain({ signerKeys: signers, epoch: 30_000, plan });
  const trust = trustFile({ genesisHash: chain.genesisHash });
  const good = bundleOf(chain, ANCHOR, { count: 3, roots });
  add("valid: the anchor block and two on top of it, three of four signers", good, VALID);
  add("valid: with the history from block 1", bundleOf(chain, ANCHOR, { count: 3, roots, history: true }), VALID);

  const edited = (edit) => {
    const bundle = clone(good);
    edit(bundle);
    return bundle;
  };
  /** The steady chain with block `n`'s step changed, re-sealed from there on. */
  const resealed = (n, change, options = {}) => {
    const changed = plan.map((step, i) => (i + 1 === n ? { ...step, ...change } : step));
    const other = makeChain({ signerKeys: signers, epoch: 30_000, plan: changed });
    return bundleOf(other, ANCHOR, { count: 3, roots, ...options });
  };

  add("bundle-form: chain_id is missing", edited((b) => delete b.chain_id), refused("bundle-form"));
  add("bundle-form: a header is not hex", edited((b) => (b.sealed.headers[1] = "0xzz")), refused("bundle-form"));
  add("bundle-form: sealed has an unknown member", edited((b) => (b.sealed.extra = null)), refused("bundle-form"));
  add("bundle-form: a xietong-proof/2 bundle may not have sealed", edited((b) => (b.format = "xietong-proof/2")), refused("bundle-form"));
  add("merkle-path: another path in the leaf", edited((b) => (b.leaf.values[1] = "policy/other.md")), refused("merkle-path"));
  add("merkle-path: a proof step changed", edited((b) => (b.proof[0] = "0x" + "00".repeat(32))), refused("merkle-path"));
  add("no-seals: sealed is null", edited((b) => (b.sealed = null)), refused("no-seals"));
  add("no-seals: a xietong-proof/2 bundle", edited((b) => {
    b.format = "xietong-proof/2";
    delete b.sealed;
  }), refused("no-seals"));
  add("trust-no-signers: a trust file without clique", good, refused("trust-no-signers"), trustFile({ genesisHash: chain.genesisHash, clique: false }));
  add("claim-chain", edited((b) => (b.chain_id = 1)), refused("claim-chain"));
  add("claim-contract", edited((b) => (b.contract = CONTRACTS.JointCommitments)), refused("claim-contract"));
  add("header-form: a header of 15 fields", resealed(6, { mangle: (f) => f.pop() }), refused("header-form"));
  add("header-form: an integer with a leading zero", resealed(6, { mangle: (f) => (f[9] = concatBytes(Uint8Array.of(0), f[9])) }), refused("header-form"));
  add("header-form: 65 headers", edited((b) => (b.sealed.headers = Array(65).fill(b.sealed.headers[0]))), refused("header-form"));
  add("wrong-genesis: a history on another genesis block", bundleOf(chain, ANCHOR, { count: 3, roots, history: true }), refused("wrong-genesis"),
    trustFile({ genesisHash: "0x" + "12".repeat(32) }));
  add("header-link: a header left out", edited((b) => b.sealed.headers.splice(1, 1)), refused("header-link"));
  add("claim-block", edited((b) => (b.block_number += 1)), refused("claim-block"));
  add("claim-time", edited((b) => (b.anchored_at = iso(chain.times[ANCHOR - 1] + 1))), refused("claim-time"));
  add("valid: the same time written with Z", edited((b) => (b.anchored_at = b.anchored_at.replace("+00:00", "Z"))), VALID);
  add("header-field: a mix digest", resealed(6, { mixHash: new Uint8Array(32).fill(1) }), refused("header-field"));
  add("header-field: a vote nonce that is neither", resealed(6, { nonce: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1) }), refused("header-field"));
  add("header-time: sealed 1 s after its parent (period 2)", resealed(6, { gap: 1 }), refused("header-time"));
  add("seal-invalid: v is 2", resealed(6, { editSeal: (seal) => (seal[64] = 2) }), refused("seal-invalid"));
  add("seal-invalid: r is 0", resealed(6, { editSeal: (seal) => seal.fill(0, 0, 32) }), refused("seal-invalid"));
  add("signer-outside-set: sealed by a key outside the set", resealed(6, { signer: 4, difficulty: 1 }), refused("signer-outside-set"));
  const sorted = signers.slice().sort((a, b) => (addressOf(KEYS[a]) < addressOf(KEYS[b]) ? -1 : 1));
  add("signer-repeated: the anchor's signer seals the next block too", resealed(6, { signer: sorted[ANCHOR % 4], difficulty: 1 }), refused("signer-repeated"));
  add("header-difficulty: in turn with difficulty 1", resealed(6, { difficulty: 1 }), refused("header-difficulty"));
  add("too-few-signers: two of four", edited((b) => b.sealed.headers.pop()), refused("too-few-signers"));
  add("transaction-proof: the proof of another index", edited((b) => (b.sealed.transaction.proof = roots.transactions.otherProof)), refused("transaction-proof"));
  add("transaction-proof: a node changed", edited((b) => (b.sealed.transaction.proof[0] = b.sealed.transaction.proof[0].slice(0, -2) + "00")), refused("transaction-proof"));
  add("claim-transaction", edited((b) => (b.transaction = "0x" + "77".repeat(32))), refused("claim-transaction"));
  add("receipt-proof: the proof of another index", edited((b) => (b.sealed.receipt.proof = roots.receipts.otherProof)), refused("receipt-proof"));
  add("claim-publisher", edited((b) => (b.publisher.id = departmentId(DEPARTMENTS[1]))), refused("claim-publisher"));
  add("claim-leaf-count", edited((b) => (b.leaf_count = 4)), refused("claim-leaf-count"));
  add("claim-version", edited((b) => (b.version_id = "0x" + "88".repeat(32))), refused("claim-version"));

  // Receipts that are not the anchor's: their own tries, in a chain sealed again.
  for (const [desc, anchorReceipt, reason] of [
    ["receipt-form: the receipt is not an RLP list", typed(2, rlp(int(5))), "receipt-form"],
    ["receipt-failed: status 0", receipt(0, [anchorLog()]), "receipt-failed"],
    ["anchor-missing: the event of another contract", receipt(1, [anchorLog({ registry: CONTRACTS.JointCommitments })]), "anchor-missing"],
  ]) {
    const own = await tries({ anchorReceipt });
    const other = makeChain({ signerKeys: signers, epoch: 30_000, plan: withAnchor(roundRobin(signers, 1, 10), ANCHOR, own) });
    add(desc, bundleOf(other, ANCHOR, { count: 3, roots: own }), refused(reason));
  }

  // An SM3 dataset's versions (docs/SM3.md), each anchored in a chain of its own: a file leaf
  // and a record leaf, valid; a leaf whose tag or shape is wrong, refused as Python refuses it.
  for (const leaf of [SM3_FILE_LEAF, SM3_RECORD_LEAF]) {
    const anchorReceipt = receipt(1, [[zeros(20), [], new Uint8Array()], anchorLog({ root: leaf.tree.root, leafCount: leaf.count, dataset: leaf.dataset })]);
    const own = await tries({ anchorReceipt });
    const sm3Chain = makeChain({ signerKeys: signers, epoch: 30_000, plan: withAnchor(roundRobin(signers, 1, 10), ANCHOR, own) });
    const sm3Good = bundleOf(sm3Chain, ANCHOR, { count: 3, roots: own, leaf });
    const sm3Edited = (edit) => {
      const bundle = clone(sm3Good);
      edit(bundle);
      return bundle;
    };
    const what = `an SM3 ${leaf.kind} leaf`;
    add(`valid: ${what} ("sm3", its SM3 digest, its ${leaf.kind === "file" ? "path" : "salt"})`, sm3Good, VALID);
    add(`valid: ${what} with the history from block 1`, bundleOf(sm3Chain, ANCHOR, { count: 3, roots: own, leaf, history: true }), VALID);
    add(`bundle-form: ${what} whose first value is not the tag "sm3"`, sm3Edited((b) => (b.leaf.values[0] = "sha256")), refused("bundle-form"));
    add(`bundle-form: ${what} without its tag`, sm3Edited((b) => b.leaf.values.shift()), refused("bundle-form"));
    add(`bundle-form: ${what} whose kind is not its types'`, sm3Edited((b) => (b.leaf.kind = leaf.kind === "file" ? "record" : "file")), refused("bundle-form"));
    add(`bundle-form: ${what} with types of no leaf shape`, sm3Edited((b) => (b.leaf.types = ["string", ...b.leaf.types])), refused("bundle-form"));
    add(`merkle-path: ${what}'s values as a SHA-256 leaf (the tag is in the leaf hash)`, sm3Edited((b) => {
      b.leaf.types = b.leaf.types.slice(1);
      b.leaf.values = b.leaf.values.slice(1);
    }), refused("merkle-path"));
    add(`merkle-path: ${what} with another digest`, sm3Edited((b) => (b.leaf.values[1] = "0x" + "c3".repeat(32))), refused("merkle-path"));
  }

  // Votes: blocks 1 to 3 vote to add key 4; it passes at block 3 (3 of 4 > 2) and key 4
  // seals the anchor block 5. Followed from genesis it is valid; without the history, key 4
  // is outside the trust file's set.
  const candidate = addressOf(KEYS[4]);
  const grown = [0, 1, 2, 3, 4];
  const votePlan = roundRobin(signers, 1, 3).map((step) => ({ ...step, coinbase: hexToBytes(candidate.slice(2)), nonce: NONCE_ADD }));
  const after = roundRobin(grown, 4, 12).map((step, i) => (i === 0 ? { ...step, set: grown } : step));
  const votedPlan = withAnchor(pickNotRecent([...votePlan, ...after], signers, grown), ANCHOR, roots);
  const voted = makeChain({ signerKeys: signers, epoch: 30_000, plan: votedPlan });
  const votedTrust = trustFile({ genesisHash: voted.genesisHash });
  add("valid: a signer voted in (history), sealing the anchor; 3 of 5", bundleOf(voted, ANCHOR, { count: 3, roots, history: true }), VALID, votedTrust);
  add("signer-outside-set: the same without history", bundleOf(voted, ANCHOR, { count: 3, roots }), refused("signer-outside-set"), votedTrust);

  // Epoch checkpoints every 4 blocks: blocks 4 and 8 list the signers.
  const epochPlan = withAnchor(roundRobin(signers, 1, 10), ANCHOR, roots);
  const epochChain = makeChain({ signerKeys: signers, epoch: 4, plan: epochPlan });
  const epochTrust = trustFile({ genesisHash: epochChain.genesisHash, epoch: 4 });
  add("valid: epoch 4, checkpoints 4 and 8 in history and on top", bundleOf(epochChain, ANCHOR, { count: 4, roots, history: true }), VALID, epochTrust);
  const wrongList = epochPlan.map((step, i) => (i + 1 === 8 ? { ...step, signerList: concatBytes(...signers.slice(0, 3).map((k) => hexToBytes(addressOf(KEYS[k]).slice(2)))) } : step));
  const wrongChain = makeChain({ signerKeys: signers, epoch: 4, plan: wrongList });
  add("checkpoint-signers: checkpoint 8 lists three of the four", bundleOf(wrongChain, ANCHOR, { count: 4, roots, history: true }), refused("checkpoint-signers"),
    trustFile({ genesisHash: wrongChain.genesisHash, epoch: 4 }));

  // A long history (the verifier follows it in slices), epoch 100, and a vote that drops a
  // signer: blocks 201 to 203 vote the first signer out (3 of 4 > 2; block 200 is a
  // checkpoint, which casts no vote); the anchor at 560 needs 2 of the 3 left.
  const [gone, ...left] = sorted;
  const dropPlan = [
    ...roundRobin(signers, 1, 200),
    ...roundRobin(signers, 201, 203).map((step) => ({ ...step, coinbase: hexToBytes(addressOf(KEYS[gone]).slice(2)) })),
    ...roundRobin(left, 204, 600).map((step, i) => (i === 0 ? { ...step, set: left } : step)),
  ];
  const dropped = makeChain({ signerKeys: signers, epoch: 100, plan: withAnchor(pickNotRecent(dropPlan, signers, left), 560, roots) });
  add("valid: 559 headers of history, a signer voted out at block 203; 2 of 3", bundleOf(dropped, 560, { count: 2, roots, history: true }), VALID,
    trustFile({ genesisHash: dropped.genesisHash, epoch: 100 }));

  return { desc: "Made by hardhat-node/offline/fixtures.mjs (deterministic; no node).", trust, cases };
}

/** A plan where a signer that sealed within the last ⌊N/2⌋ blocks is replaced by one that
 * did not (sealing out of turn): the set is `before` until a step says `set`. */
function pickNotRecent(plan, before, after) {
  let set = before;
  const recent = [];
  return plan.map((step, i) => {
    if (step.set) set = after;
    const limit = (set.length >> 1) + 1;
    const window = recent.slice(-(limit - 1));
    const signer = window.includes(step.signer) ? set.find((k) => !window.includes(k)) : step.signer;
    recent.push(signer);
    return { ...step, signer, number: i + 1 };
  });
}

process.stdout.write(JSON.stringify(await main(), null, 1) + "\n");
