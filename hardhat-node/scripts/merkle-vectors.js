#!/usr/bin/env node
// Test vectors for ledger/merkle.py, made by the reference implementation:
// `StandardMerkleTree.of(values, types)` of @openzeppelin/merkle-tree (the version pinned in
// package.json).
//
//   node scripts/merkle-vectors.js            write ../tests/vectors/merkle.json
//   node scripts/merkle-vectors.js --stdout   print the same JSON instead (the test suite
//                                             checks that the committed file is current)
//
// Output (deterministic: every value derives from a fixed label):
//   cases[]:    { desc, types, values, leaves, root, proofs, tree }
//               values as JSON (bytes32 as 0x-hex, strings as-is, uint256 as a decimal
//               string); leaves[i] and proofs[i] belong to values[i]; tree is dump().tree,
//               the flat node array (tree[0] is the root).
//   negative[]: { desc, case, types, value, leaf, root, proof } — a proof that must NOT
//               verify; `desc` names what is wrong, `case` the tree it was taken from.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const FILE = ['bytes32', 'string'];
const RECORD = ['bytes32', 'bytes32'];
const OUTPUT = path.resolve(__dirname, '..', '..', 'tests', 'vectors', 'merkle.json');

/** A fixed 32-byte value for `label` (SHA-256, like a file's content hash). */
const h = label => '0x' + crypto.createHash('sha256').update(label, 'utf8').digest('hex');

const fileValues = (count, label = 'file') =>
  Array.from({ length: count }, (_, i) => [h(`${label}-${i}-content`), `data/${label}/${String(i).padStart(4, '0')}.csv`]);

const recordValues = (count, label = 'record') =>
  Array.from({ length: count }, (_, i) => [h(`${label}-${i}-json`), h(`${label}-${i}-salt`)]);

/** Flip the lowest bit of the last byte of a 0x-hex hash. */
const flip = hex => hex.slice(0, -2) + (parseInt(hex.slice(-2), 16) ^ 1).toString(16).padStart(2, '0');

const cases = [];
const trees = {};

function addCase(desc, types, values) {
  const tree = StandardMerkleTree.of(values, types);
  trees[desc] = tree;
  cases.push({
    desc,
    types,
    values,
    leaves: values.map(v => tree.leafHash(v)),
    root: tree.root,
    proofs: values.map((_, i) => tree.getProof(i)),
    tree: tree.dump().tree,
  });
}

// -- file leaves (content SHA-256, relative path)
addCase('file-1-leaf', FILE, fileValues(1));
addCase('file-2-leaves', FILE, fileValues(2));
addCase('file-3-leaves', FILE, fileValues(3));
addCase('file-4-leaves', FILE, fileValues(4));
addCase('file-5-leaves', FILE, fileValues(5));
addCase('file-7-leaves', FILE, fileValues(7));
addCase('file-8-leaves', FILE, fileValues(8));
addCase('file-33-leaves', FILE, fileValues(33));
{
  const [a, b, c] = fileValues(3, 'dup');
  addCase('file-duplicate-values', FILE, [a, b, a, c, a, b]);
}
addCase('file-unicode-paths', FILE, [
  [h('u-0'), '杭州市/公安局/户籍人口.csv'],
  [h('u-1'), '杭州市卫生健康委员会/2024年/报告 📄.pdf'],
  [h('u-2'), 'café/menu.txt'], // NFC: U+00E9
  [h('u-3'), 'cafe\u0301/menu.txt'], // NFD: e + U+0301, a different leaf
  [h('u-4'), 'العربية/ملف.txt'],
  [h('u-5'), 'emoji/👩‍👩‍👧‍👦/🇨🇳.json'],
  [h('u-6'), 'nul\u0000inside'],
  [h('u-7'), ''],
]);
// Paths of 0..300 UTF-8 bytes: the ABI encoding is 96 + ceil(len/32)*32 bytes, so these
// cross the 136-byte Keccak block boundary (1, 2 and 3 blocks).
addCase(
  'file-path-lengths',
  FILE,
  [0, 1, 31, 32, 33, 40, 64, 65, 96, 128, 129, 135, 136, 137, 160, 161, 200, 300].map(n => [
    h(`len-${n}`),
    'p'.repeat(n),
  ]),
);
addCase('file-long-unicode-path', FILE, [
  [h('long-0'), '数据/'.repeat(60) + 'end.csv'],
  [h('long-1'), 'x/'.repeat(150)],
  [h('long-2'), 'short.csv'],
]);

// -- record leaves (canonical-JSON SHA-256, salt)
addCase('record-1-leaf', RECORD, recordValues(1));
addCase('record-2-leaves', RECORD, recordValues(2));
addCase('record-3-leaves', RECORD, recordValues(3));
addCase('record-5-leaves', RECORD, recordValues(5));
addCase('record-7-leaves', RECORD, recordValues(7));
addCase('record-16-leaves', RECORD, recordValues(16));
addCase('record-100-leaves', RECORD, recordValues(100));
{
  const [a, b] = recordValues(2, 'dup');
  addCase('record-duplicate-values', RECORD, [a, a, b, a]);
}
addCase('record-extreme-values', RECORD, [
  ['0x' + '00'.repeat(32), '0x' + '00'.repeat(32)],
  ['0x' + 'ff'.repeat(32), '0x' + 'ff'.repeat(32)],
  ['0x' + '00'.repeat(32), '0x' + 'ff'.repeat(32)],
  ['0x' + '80' + '00'.repeat(31), '0x' + '00'.repeat(31) + '01'],
  ['0x' + '7f' + 'ff'.repeat(31), '0x' + '01' + '00'.repeat(31)],
]);

// -- SM3 leaves (docs/SM3.md): the same values after the tag "sm3"
const SM3_FILE = ['string', 'bytes32', 'string'];
const SM3_RECORD = ['string', 'bytes32', 'bytes32'];
addCase('sm3-file-5-leaves', SM3_FILE, fileValues(5, 'sm3file').map(v => ['sm3', ...v]));
addCase('sm3-file-unicode-and-long-paths', SM3_FILE, [
  ['sm3', h('sm3-u-0'), '杭州市/民政局/低保名单.csv'],
  ['sm3', h('sm3-u-1'), 'p'.repeat(137)],
  ['sm3', h('sm3-u-2'), ''],
]);
addCase('sm3-record-7-leaves', SM3_RECORD, recordValues(7, 'sm3record').map(v => ['sm3', ...v]));

// -- another leaf encoding (the generic eth_abi path), the example of OpenZeppelin's README
addCase('generic-address-uint256', ['address', 'uint256'], [
  ['0x1111111111111111111111111111111111111111', '5000000000000000000'],
  ['0x2222222222222222222222222222222222222222', '2500000000000000000'],
  ['0x3333333333333333333333333333333333333333', '0'],
]);

// -- proofs that must fail
const negative = [];

function addNegative(desc, caseDesc, value, proof, root) {
  const tree = trees[caseDesc];
  const types = cases.find(c => c.desc === caseDesc).types;
  const rootHex = root ?? tree.root;
  if (StandardMerkleTree.verify(rootHex, types, value, proof)) {
    throw new Error(`negative vector ${desc} verifies`);
  }
  negative.push({ desc, case: caseDesc, types, value, leaf: tree.leafHash(value), root: rootHex, proof });
}

{
  const c = 'file-7-leaves';
  const t = trees[c];
  const v0 = t.at(0);
  const p0 = t.getProof(0);
  addNegative('tampered-proof-sibling', c, v0, [flip(p0[0]), ...p0.slice(1)]);
  addNegative('tampered-proof-top-sibling', c, v0, [...p0.slice(0, -1), flip(p0[p0.length - 1])]);
  addNegative('wrong-leaf', c, [v0[0], v0[1] + '.bak'], p0);
  addNegative('wrong-leaf-content-hash', c, [flip(v0[0]), v0[1]], p0);
  addNegative('other-members-leaf', c, t.at(1), p0);
  addNegative('truncated-proof', c, v0, p0.slice(0, -1));
  addNegative('extended-proof', c, v0, [...p0, h('extra')]);
  addNegative('reordered-proof', c, v0, [...p0].reverse());
  addNegative('empty-proof', c, v0, []);
  addNegative('tampered-root', c, v0, p0, flip(t.root));
  addNegative('proof-for-other-root', c, v0, p0, trees['file-8-leaves'].root);
}
{
  const c = 'file-unicode-paths';
  const t = trees[c];
  // the NFD spelling of a path whose NFC spelling is in the tree: a different leaf
  addNegative('unicode-normalization', c, [t.at(2)[0], 'cafe\u0301/menu.txt'], t.getProof(2));
}
{
  const c = 'record-5-leaves';
  const t = trees[c];
  const v = t.at(3);
  addNegative('record-tampered-salt', c, [v[0], flip(v[1])], t.getProof(3));
  addNegative('record-swapped-values', c, [v[1], v[0]], t.getProof(3));
  addNegative('record-proof-for-other-root', c, v, t.getProof(3), trees['record-7-leaves'].root);
}
{
  const c = 'file-1-leaf';
  const t = trees[c];
  addNegative('single-leaf-nonempty-proof', c, t.at(0), [t.root]);
}
{
  const c = 'file-duplicate-values';
  const t = trees[c];
  // a proof of one copy of a duplicated value, cut short
  addNegative('duplicate-value-truncated-proof', c, t.at(2), t.getProof(2).slice(1));
}

const document = {
  generator: 'hardhat-node/scripts/merkle-vectors.js',
  library: `@openzeppelin/merkle-tree ${require('@openzeppelin/merkle-tree/package.json').version}`,
  cases,
  negative,
};
const text = JSON.stringify(document, null, 2) + '\n';
if (process.argv.includes('--stdout')) {
  process.stdout.write(text);
} else {
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  fs.writeFileSync(OUTPUT, text);
  process.stderr.write(`wrote ${path.relative(process.cwd(), OUTPUT)}: ${cases.length} cases, ${negative.length} negative\n`);
}
