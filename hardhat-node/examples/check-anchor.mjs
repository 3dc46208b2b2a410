#!/usr/bin/env node
// check-anchor.mjs — ask a Xietong consortium's contracts two questions with ethers v6, trusting
// no gateway:
//
//   1. Does this proof bundle's leaf belong to an anchored dataset version?
//      (DatasetRegistry.verifyLeaf, with the version's record from DatasetRegistry.version)
//   2. May this provider share this dataset with this consumer for this purpose now?
//      (SharingAgreements.isAuthorized)
//
// It is an example for integrators: read it as documentation (examples/README.md shows it run).
// `ethers` is found from this file's folder (hardhat-node/node_modules, installed by `npm ci`),
// so it runs from any folder; from the checkout, against what `make run` starts:
//
//   node hardhat-node/examples/check-anchor.mjs --manifest deployments/31337.json \
//       --rpc http://127.0.0.1:8545 --bundle proof.json \
//       --provider 11330100MB1A00002K --consumer 11330100MB1A00001P \
//       --purpose "eligibility-check 低保资格核查" [--dataset HZ-MZ-DIBAO] [--abis DIR]
//
// Inputs
//   --manifest  the deployment manifest `xietong deploy` writes (deployments/<chain-id>.json):
//               chain id, genesis and deployment block hashes, each contract's address and the
//               SHA-256 of the artifact (ABI + bytecode) it was deployed from. Get it from your
//               consortium, not from a bundle: a bundle's addresses are never believed.
//   --rpc       any JSON-RPC node of that chain (http:// or https://).
//   --bundle    a `xietong-proof/3` bundle, as `xietong dataset proof` or
//               `GET /v1/proofs/{leaf}` writes it (docs/CLI.md).
//   --provider, --consumer
//               departments: a 0x id (32 bytes), or a department code such as a unified social
//               credit code, whose id is keccak256 of its UTF-8 text (ledger/ids.py).
//   --purpose   the purpose code of the agreement, as text (hashed the same way).
//   --dataset   optional: a 0x dataset id, or a catalogue code of the provider's (its id is asked
//               of the contract: computeDatasetId). Default: the bundle's dataset.
//   --abis      optional: the folder of the contracts' artifacts, default ../../ledger/artifacts
//               from this file (the committed ledger/artifacts/*.json).
//
// Output: one JSON document on stdout, every call made at one block (`block`):
//   {"chain_id": 31337, "block": {"number": 42, "hash": "0x…"},
//    "bundle": {"leaf": "0x…", "kind": "file", "dataset_id": "0x…", "root": "0x…"},
//    "verifyLeaf": true,
//    "version": {"leaf_count": 3, "anchored_at": "2026-…+00:00", "block_number": 12,
//                "revoked_at": null},
//    "isAuthorized": true,
//    "authorization": {"provider": "0x…", "consumer": "0x…", "dataset_id": "0x…",
//                      "purpose": "0x…"}}
// `verifyLeaf` is the contract's answer; when the dataset holds no version of the bundle's root
// the contract reverts (DatasetRegistryUnknownVersion): then `verifyLeaf` is false and `version`
// null. The contract still answers true for a revoked version: read `version.revoked_at`.
//
// Before any call it checks the files (the bundle's form, its leaf values against its leaf hash,
// each ABI against the manifest's artifact_sha256), that the bundle's chain_id and contract are
// the manifest's, and that the node serves the manifest's chain. Of the bundle's other claims
// (version id, transaction, block, time, publisher) it checks none: `xietong verify-proof`
// checks every one against the consortium trust file.
//
// Exit status: 0 when both questions were answered (whatever the answers), 1 when they could not
// be (one sentence on stderr: a missing or malformed file, a node that does not answer or serves
// another chain), 2 for wrong arguments (the usage line on stderr).

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import {
  AbiCoder,
  Contract,
  FetchRequest,
  JsonRpcProvider,
  Network,
  getAddress,
  id as keccakOfText,
  isAddress,
  isHexString,
  keccak256,
} from "ethers";

const USAGE =
  "usage: node hardhat-node/examples/check-anchor.mjs --manifest FILE --rpc URL --bundle FILE " +
  "--provider DEPARTMENT --consumer DEPARTMENT --purpose TEXT [--dataset DATASET] [--abis DIR]";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_ABIS = path.resolve(HERE, "..", "..", "ledger", "artifacts");

const BUNDLE_FORMAT = "xietong-proof/3";
const FILE_LEAF = ["bytes32", "string"]; // (content SHA-256, relative path)
const RECORD_LEAF = ["bytes32", "bytes32"]; // (SHA-256 of the record's canonical JSON, salt)
const MAX_FILE_BYTES = 1 << 20; // a real bundle is a few KB; a manifest smaller still
const MAX_PROOF_STEPS = 256;
const RPC_TIMEOUT_MS = 15_000;

/** A refusal: its message is the one sentence the user sees (exit status 1). */
class Refusal extends Error {}

/** Wrong arguments: the sentence, then the usage line (exit status 2). */
class UsageError extends Error {}

// ------------------------------------------------------------------------------ arguments

function readArguments(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        manifest: { type: "string" },
        rpc: { type: "string" },
        bundle: { type: "string" },
        provider: { type: "string" },
        consumer: { type: "string" },
        purpose: { type: "string" },
        dataset: { type: "string" },
        abis: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(`${error.message.split(/\.\s|\n/)[0].replace(/\.$/, "")}.`);
  }
  const options = parsed.values;
  if (options.help) return { help: true };
  const required = ["manifest", "rpc", "bundle", "provider", "consumer", "purpose"];
  const missing = required.filter((name) => options[name] === undefined || options[name] === "");
  if (missing.length > 0) {
    throw new UsageError(`missing --${missing.join(", --")}.`);
  }
  let url;
  try {
    url = new URL(options.rpc);
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError("--rpc must be an http:// or https:// URL.");
  }
  // Sentences name the node by its origin only: a provider's URL may carry a key in its path.
  return { ...options, node: url.origin, abis: options.abis ?? DEFAULT_ABIS };
}

// ------------------------------------------------------------------------------ files

/** The JSON value of the file at `file`; `what` names it in the sentence of a refusal. */
async function readJson(file, what) {
  let bytes;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if (error.code === "ENOENT") throw new Refusal(`no ${what} at ${file}.`);
    if (error.code === "EISDIR") throw new Refusal(`the ${what} ${file} is a folder, not a file.`);
    throw new Refusal(`cannot read the ${what} ${file} (${error.code ?? error.message}).`);
  }
  if (bytes.length > MAX_FILE_BYTES) {
    throw new Refusal(`the ${what} ${file} is larger than ${MAX_FILE_BYTES} bytes.`);
  }
  try {
    return { value: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)), bytes };
  } catch {
    throw new Refusal(`the ${what} ${file} is not valid JSON.`);
  }
}

const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const isBytes32 = (value) => typeof value === "string" && isHexString(value, 32);
const sameHex = (a, b) => a.toLowerCase() === b.toLowerCase();

/** A value for a sentence: JSON, cut to 60 characters (never a whole object). */
function shown(value) {
  const text = typeof value === "object" && value !== null ? "an object" : JSON.stringify(value);
  return text === undefined ? "nothing" : text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

/**
 * The parts of the manifest this example needs, checked: the chain it describes and the two
 * contracts it calls (address, and the SHA-256 of the artifact they were deployed from).
 */
function checkManifest(manifest, file) {
  const bad = (member) => new Refusal(`the manifest ${file} has no valid \`${member}\`.`);
  if (!isObject(manifest)) throw new Refusal(`the manifest ${file} is not a JSON object.`);
  if (!Number.isSafeInteger(manifest.chain_id) || manifest.chain_id <= 0) throw bad("chain_id");
  for (const member of ["genesis_hash", "block_hash"]) {
    if (!isBytes32(manifest[member])) throw bad(member);
  }
  if (!Number.isSafeInteger(manifest.block_number) || manifest.block_number < 0) {
    throw bad("block_number");
  }
  const contracts = {};
  for (const name of ["DatasetRegistry", "SharingAgreements"]) {
    const entry = isObject(manifest.contracts) ? manifest.contracts[name] : undefined;
    if (!isObject(entry) || typeof entry.address !== "string" || !isAddress(entry.address)) {
      throw bad(`contracts.${name}.address`);
    }
    const sha256 = entry.artifact_sha256;
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw bad(`contracts.${name}.artifact_sha256`);
    }
    contracts[name] = { address: getAddress(entry.address), sha256 };
  }
  return {
    chainId: manifest.chain_id,
    genesisHash: manifest.genesis_hash,
    deploymentBlock: manifest.block_number,
    deploymentBlockHash: manifest.block_hash,
    contracts,
  };
}

/**
 * The ABI of contract `name` from its artifact in `folder` (ledger/artifacts/<name>.json), which
 * must be the very file the deployment was made from: its SHA-256 is in the manifest.
 */
async function loadAbi(folder, name, expectedSha256) {
  const file = path.join(folder, `${name}.json`);
  const { value, bytes } = await readJson(file, `${name} artifact`);
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== expectedSha256) {
    throw new Refusal(
      `the artifact ${file} is not the one the deployment was made from ` +
        "(its SHA-256 differs from the manifest's artifact_sha256).",
    );
  }
  if (!isObject(value) || !Array.isArray(value.abi)) {
    throw new Refusal(`the artifact ${file} has no \`abi\` list.`);
  }
  return value.abi;
}

/**
 * The bundle's own form, checked before any node is asked: every member this example reads is
 * there with its type, and the leaf values hash to the leaf. The Merkle path itself is left to
 * the contract (verifyLeaf), which is the authority on it.
 */
function checkBundle(bundle) {
  const bad = (sentence) => new Refusal(`the proof bundle is malformed: ${sentence}`);
  if (!isObject(bundle)) throw new Refusal("the proof bundle is not a JSON object.");
  if (bundle.format !== BUNDLE_FORMAT) {
    const format = shown(bundle.format);
    throw new Refusal(`this is not a ${BUNDLE_FORMAT} proof bundle (format ${format}).`);
  }
  const leaf = bundle.leaf;
  if (!isObject(leaf)) throw bad("`leaf` must be an object.");
  const types = JSON.stringify(leaf.types);
  const kind =
    types === JSON.stringify(FILE_LEAF)
      ? "file"
      : types === JSON.stringify(RECORD_LEAF)
        ? "record"
        : null;
  if (kind === null) throw bad("`leaf.types` must be [bytes32, string] or [bytes32, bytes32].");
  if ("kind" in leaf && leaf.kind !== kind) {
    throw bad(`\`leaf.kind\` is ${shown(leaf.kind)}, but the leaf's types are a ${kind}'s.`);
  }
  const values = leaf.values;
  if (!Array.isArray(values) || values.length !== 2 || !isBytes32(values[0])) {
    throw bad("`leaf.values` must be a 0x-hex hash and a " + (kind === "file" ? "path." : "salt."));
  }
  if (kind === "file" ? typeof values[1] !== "string" : !isBytes32(values[1])) {
    const second = kind === "file" ? "string (the path)" : "0x-hex salt";
    throw bad(`\`leaf.values[1]\` must be a ${second}.`);
  }
  if (!isBytes32(leaf.hash)) throw bad("`leaf.hash` must be 0x and 64 hex digits.");
  // OpenZeppelin's standard leaf: keccak256(keccak256(abi.encode(values))). The contract never
  // sees the values, only the leaf hash: this is what ties the file (or record) to the leaf.
  const recomputed = keccak256(keccak256(AbiCoder.defaultAbiCoder().encode(leaf.types, values)));
  if (!sameHex(recomputed, leaf.hash)) {
    throw new Refusal("the leaf values in the bundle do not hash to its leaf hash.");
  }
  if (!Array.isArray(bundle.proof) || bundle.proof.length > MAX_PROOF_STEPS) {
    throw bad(`\`proof\` must be a list of at most ${MAX_PROOF_STEPS} hashes.`);
  }
  if (!bundle.proof.every(isBytes32)) {
    throw bad("every step of `proof` must be 0x and 64 hex digits.");
  }
  for (const member of ["root", "dataset_id"]) {
    if (!isBytes32(bundle[member])) throw bad(`\`${member}\` must be 0x and 64 hex digits.`);
  }
  if (!Number.isSafeInteger(bundle.chain_id)) throw bad("`chain_id` must be an integer.");
  if (typeof bundle.contract !== "string" || !isAddress(bundle.contract)) {
    throw bad("`contract` must be an address.");
  }
  return {
    kind,
    leaf: leaf.hash.toLowerCase(),
    proof: bundle.proof.map((step) => step.toLowerCase()),
    root: bundle.root.toLowerCase(),
    datasetId: bundle.dataset_id.toLowerCase(),
    chainId: bundle.chain_id,
    contract: getAddress(bundle.contract),
  };
}

/**
 * `text` without the whitespace Python's str.strip() removes, as ledger/ids.py's code_hash
 * trims a code before hashing it. Not String.prototype.trim: that one also removes U+FEFF and
 * keeps U+001C to U+001F and U+0085, so a code holding them would name another id.
 */
const PYTHON_WHITESPACE =
  "[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PYTHON_STRIP = new RegExp(`^${PYTHON_WHITESPACE}+|${PYTHON_WHITESPACE}+$`, "g");
function pythonStrip(text) {
  return text.replace(PYTHON_STRIP, "");
}

/** A department: its 0x id as given, else keccak256 of its code's UTF-8 (ledger/ids.py). */
function departmentId(text, option) {
  const value = pythonStrip(text);
  if (/^0[xX]/.test(value)) {
    if (!isBytes32(value)) throw new UsageError(`--${option} is 0x and 64 hex digits, or a code.`);
    return value.toLowerCase();
  }
  if (value === "") throw new UsageError(`--${option} must not be empty.`);
  return keccakOfText(value);
}

/**
 * The dataset of the authorization question: `{id}` for a 0x id (or, without --dataset, the
 * bundle's dataset), `{code}` for a catalogue code, whose id the contract derives.
 */
function datasetArgument(text, bundleDataset) {
  if (text === undefined) return { id: bundleDataset };
  const value = pythonStrip(text);
  if (/^0[xX]/.test(value)) {
    if (!isBytes32(value)) throw new UsageError("--dataset is 0x and 64 hex digits, or a code.");
    return { id: value.toLowerCase() };
  }
  if (value === "") throw new UsageError("--dataset must not be empty.");
  return { code: value };
}

// ------------------------------------------------------------------------------ the chain

/**
 * A provider for `url` that asks nothing by itself. The network is given (the manifest's) so
 * ethers does not probe the node in a retry loop; the node's actual chain is checked next.
 */
function connect(url, chainId) {
  const request = new FetchRequest(url);
  request.timeout = RPC_TIMEOUT_MS;
  const network = Network.from(chainId);
  return new JsonRpcProvider(request, network, { staticNetwork: network, batchMaxCount: 1 });
}

/**
 * The node must serve the manifest's chain: the same chain id, the same genesis block, and the
 * deployment block the manifest names (a development chain started again may reuse the id, the
 * genesis and even the addresses). Returns the block every later call is made at.
 */
async function checkNode(provider, url, manifest) {
  let chainId;
  try {
    chainId = Number(BigInt(await provider.send("eth_chainId", [])));
  } catch (error) {
    throw new Refusal(`the node at ${url} does not answer (${error.code ?? error.message}).`);
  }
  if (chainId !== manifest.chainId) {
    throw new Refusal(
      `the node at ${url} serves chain ${chainId}, ` +
        `but the manifest is for chain ${manifest.chainId}.`,
    );
  }
  const genesis = await provider.getBlock(0);
  if (genesis === null || !sameHex(genesis.hash, manifest.genesisHash)) {
    throw new Refusal(
      `the node at ${url} serves another chain with id ${chainId} ` +
        "(its genesis block differs from the manifest's).",
    );
  }
  const deployment = await provider.getBlock(manifest.deploymentBlock);
  if (deployment === null || !sameHex(deployment.hash, manifest.deploymentBlockHash)) {
    throw new Refusal(
      `the node at ${url} does not hold the manifest's deployment block ` +
        `${manifest.deploymentBlock}: this chain was started again, ` +
        "or the manifest is another deployment's.",
    );
  }
  const head = await provider.getBlock("latest");
  return { number: head.number, hash: head.hash };
}

/** The revert's custom error name when `error` is a decoded contract revert, else null. */
const revertName = (error) =>
  error?.code === "CALL_EXCEPTION" && error.revert ? error.revert.name : null;

/** A chain time (seconds since 1970, 0 for "never") as the gateway writes times: ISO 8601, UTC. */
const isoTime = (seconds) =>
  seconds === 0n ? null : new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "+00:00");

async function main(argv) {
  const options = readArguments(argv);
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Every file first, so a typo costs no node round trip.
  const manifestJson = await readJson(options.manifest, "manifest");
  const manifest = checkManifest(manifestJson.value, options.manifest);
  const bundle = checkBundle((await readJson(options.bundle, "proof bundle")).value);
  const abis = {};
  for (const [name, contract] of Object.entries(manifest.contracts)) {
    abis[name] = await loadAbi(options.abis, name, contract.sha256);
  }
  const provider = departmentId(options.provider, "provider");
  const consumer = departmentId(options.consumer, "consumer");
  const purpose = pythonStrip(options.purpose);
  if (purpose === "") throw new UsageError("--purpose must not be empty.");
  const dataset = datasetArgument(options.dataset, bundle.datasetId);

  // The bundle's chain and registry are claims: they must be the manifest's, never the reverse.
  if (bundle.chainId !== manifest.chainId) {
    throw new Refusal(
      `the proof bundle is for chain ${bundle.chainId}, ` +
        `but the manifest is for chain ${manifest.chainId}.`,
    );
  }
  const registryAddress = manifest.contracts.DatasetRegistry.address;
  if (bundle.contract !== registryAddress) {
    throw new Refusal(
      `the proof bundle names the registry ${bundle.contract}, ` +
        `but the manifest's DatasetRegistry is ${registryAddress}.`,
    );
  }

  const rpc = connect(options.rpc, manifest.chainId);
  try {
    const block = await checkNode(rpc, options.node, manifest);
    const at = { blockTag: block.number }; // every answer from the same block
    const datasets = new Contract(registryAddress, abis.DatasetRegistry, rpc);
    const agreementsAddress = manifest.contracts.SharingAgreements.address;
    const agreements = new Contract(agreementsAddress, abis.SharingAgreements, rpc);

    // 1. The leaf: DatasetRegistry.verifyLeaf(datasetId, root, leaf, proof) runs OpenZeppelin's
    //    MerkleProof against the version (datasetId, root), and reverts when there is none.
    let verified = false;
    let version = null;
    try {
      const { datasetId, root, leaf, proof } = bundle;
      verified = await datasets.verifyLeaf(datasetId, root, leaf, proof, at);
      const record = await datasets.version(bundle.datasetId, bundle.root, at);
      version = {
        leaf_count: Number(record.leafCount),
        anchored_at: isoTime(record.anchoredAt),
        block_number: Number(record.blockNumber),
        revoked_at: isoTime(record.revokedAt),
      };
    } catch (error) {
      if (revertName(error) !== "DatasetRegistryUnknownVersion") throw error;
    }

    // 2. The authorization: SharingAgreements.isAuthorized(provider, consumer, datasetId,
    //    purpose), all bytes32. A dataset code is turned into the provider's dataset id by the
    //    contract itself (computeDatasetId(department, keccak256(code))).
    const datasetId =
      dataset.code === undefined
        ? dataset.id
        : await datasets.computeDatasetId(provider, keccakOfText(dataset.code));
    const purposeHash = keccakOfText(purpose);
    const authorized = await agreements.isAuthorized(
      provider,
      consumer,
      datasetId,
      purposeHash,
      at,
    );

    const answer = {
      chain_id: manifest.chainId,
      block,
      bundle: {
        leaf: bundle.leaf,
        kind: bundle.kind,
        dataset_id: bundle.datasetId,
        root: bundle.root,
      },
      verifyLeaf: verified,
      version,
      isAuthorized: authorized,
      authorization: { provider, consumer, dataset_id: datasetId, purpose: purposeHash },
    };
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  } catch (error) {
    // A node that stops answering half-way, or answers nonsense (ethers' errors, and Node's
    // network errors, carry a string `code`): one sentence as well. Anything else is a bug.
    if (error instanceof Refusal || typeof error?.code !== "string") throw error;
    const reason = error.shortMessage ?? error.code;
    throw new Refusal(`the node at ${options.node} failed to answer (${reason}).`);
  } finally {
    rpc.destroy();
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (error instanceof Refusal) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    // A bug in this example: still one line, never a stack trace.
    process.stderr.write(`error: unexpected failure: ${error?.message ?? error}\n`);
    process.exitCode = 1;
  }
}
