/* Run the BUILT offline verifier (api/portal/static/offline-proof.js, what the portal serves)
 * under node, one JSON line per answer:
 *
 *   node offline/cli.mjs BUNDLE.json TRUST.json
 *       {"valid": true, "report": {…}}  or  {"valid": false, "reason": "…", "message": "…"}
 *   node offline/cli.mjs --vectors tests/vectors/offline_bundles.json
 *       one line per case: {"case": i, "desc": "…", "valid": …, "reason": …, "message": …}
 *
 * A bundle file is read as the portal reads a dropped one (verifyBundleText: strict JSON,
 * size limits). A vectors file is {"trust": {…}, "cases": [{"desc", "bundle", "trust"?, …}]};
 * each case's bundle is checked as parsed (verifyBundle), its own trust overriding the file's.
 * Exit status 0 when every answer could be given, whatever it says; 2 on a usage error. */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const BUILT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "api", "portal", "static", "offline-proof.js");

/** globalThis.XietongOffline of the built file, evaluated in this realm (so that its
 * Uint8Arrays are node's own). */
function loadVerifier(path = process.env.XIETONG_OFFLINE_JS ?? BUILT) {
  vm.runInThisContext(readFileSync(path, "utf8"), { filename: path });
  return globalThis.XietongOffline;
}

const line = (value) =>
  process.stdout.write(JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v)) + "\n");

async function checkFiles(verifier, bundlePath, trustPath) {
  const { trust, problem } = verifier.readTrustText(readFileSync(trustPath));
  if (problem) {
    line({ valid: false, reason: "trust-form", message: `The trust file ${trustPath}: ${problem}.` });
    return;
  }
  line(await verifier.verifyBundleText(readFileSync(bundlePath), trust));
}

async function checkVectors(verifier, vectorsPath) {
  const vectors = verifier.parseJson(readFileSync(vectorsPath, "utf8"));
  for (const [index, entry] of vectors.cases.entries()) {
    const trust = Object.hasOwn(entry, "trust") ? entry.trust : vectors.trust;
    const answer = await verifier.verifyBundle(entry.bundle, trust);
    line({ case: index, desc: entry.desc, ...answer });
  }
}

async function main(args) {
  const verifier = loadVerifier();
  if (args.length === 2 && args[0] === "--vectors") return checkVectors(verifier, args[1]);
  if (args.length === 2 && !args[0].startsWith("--")) return checkFiles(verifier, args[0], args[1]);
  process.stderr.write("usage: cli.mjs BUNDLE.json TRUST.json | cli.mjs --vectors VECTORS.json\n");
  process.exitCode = 2;
}

await main(process.argv.slice(2));
