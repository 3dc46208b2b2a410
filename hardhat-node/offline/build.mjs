/* Build the portal's offline verifier: hardhat-node/offline/*.js and the npm packages they
 * import (pinned in hardhat-node/package-lock.json) bundled by esbuild into one IIFE,
 * api/portal/static/offline-proof.js, which sets globalThis.XietongOffline; beside it,
 * offline-proof.LICENSES.txt holds the licence of every bundled package.
 *
 *   node offline/build.mjs [OUT_DIR]     (from hardhat-node/; `make portal-js`)
 *
 * The output depends only on the sources and the installed packages: paths are relative to
 * hardhat-node/, and nothing else (time, machine) goes in, so a test can rebuild it and
 * compare it byte for byte with the committed file. */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const NODE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const STATIC_DIR = resolve(NODE_DIR, "..", "api", "portal", "static");
const SCRIPT = "offline-proof.js";
const LICENSES = "offline-proof.LICENSES.txt";
const BANNER = `/* Xietong: offline verifier of xietong-proof/3 bundles (docs/OFFLINE_PROOFS.md).
 * Built by \`make portal-js\` from hardhat-node/offline/ with esbuild and the npm packages pinned
 * in hardhat-node/package-lock.json; do not edit. Licences: ${LICENSES}. */`;

async function build(outDir) {
  const result = await esbuild.build({
    absWorkingDir: NODE_DIR,
    entryPoints: ["offline/entry.js"],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["es2020"], // BigInt
    minify: true,
    legalComments: "inline", // the packages' own licence comments stay in the file
    banner: { js: BANNER },
    metafile: true,
    write: false,
    logLevel: "warning",
  });
  const [script] = result.outputFiles;
  writeFileSync(join(outDir, SCRIPT), script.contents);
  writeFileSync(join(outDir, LICENSES), licences(Object.keys(result.metafile.inputs)));
  return script.contents.length;
}

/** The package directory of each bundled input under node_modules (nested ones included). */
function packageDirs(inputs) {
  const dirs = new Set();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) dirs.add(match[1]);
  }
  return [...dirs];
}

function licenceText(dir) {
  const file = readdirSync(join(NODE_DIR, dir))
    .filter((name) => /^licen[cs]e/i.test(name))
    .sort()[0];
  return file ? readFileSync(join(NODE_DIR, dir, file), "utf8").trim() : "(the package ships no licence file)";
}

/** One section per bundled package, sorted by name and version: its licence and text. */
function licences(inputs) {
  const sections = packageDirs(inputs).map((dir) => {
    const meta = JSON.parse(readFileSync(join(NODE_DIR, dir, "package.json"), "utf8"));
    return { key: `${meta.name}@${meta.version}`, meta, text: licenceText(dir) };
  });
  sections.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const header =
    `The npm packages bundled into ${SCRIPT} (see its first lines), with their licences.\n` +
    "Their sources are in hardhat-node/node_modules after `npm ci` in hardhat-node/.\n";
  const body = sections.map(
    ({ key, meta, text }) =>
      `${"=".repeat(78)}\n${key} (${meta.license ?? "no licence named"})\n${meta.repository?.url ?? meta.homepage ?? ""}\n\n${text}\n`,
  );
  return [header, ...body].join("\n");
}

const outDir = resolve(process.argv[2] ?? STATIC_DIR);
const bytes = await build(outDir);
console.log(`${join(outDir, SCRIPT)}: ${bytes} bytes`);
