#!/usr/bin/env node
// A `solc`-compatible front end for the npm `solc` package (the compiler pinned in
// package.json), for py-solc-x and scripts/compile.
//
// The `solcjs` CLI prints a ">>> Cannot retry compilation with SMT..." line on stdout
// before its JSON, and does not speak `--standard-json` the way native solc does, so
// this script drives the compiler through its JS API and behaves like:
//
//   solc --version                         -> "Version: 0.8.x+commit.<hash>...."
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths P,...]
//                                          -> standard JSON in on stdin, out on stdout
//
// Imports are resolved relative to the base path, then each include path, and must
// stay inside the base path, an include path or an allowed path.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function usage(message) {
  process.stderr.write(`solc.js: ${message}\n`);
  process.stderr.write('usage: solc.js --version | --standard-json [--base-path P] [--include-path P]... [--allow-paths P,...]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const options = { version: false, standardJson: false, basePath: process.cwd(), includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--version') options.version = true;
    else if (arg === '--standard-json') options.standardJson = true;
    else if (arg === '--base-path') options.basePath = value();
    else if (arg === '--include-path') options.includePaths.push(value());
    else if (arg === '--allow-paths') options.allowPaths.push(...value().split(',').filter(Boolean));
    else if (arg === '--no-color' || arg === '--pretty-json') { /* accepted for compatibility */ }
    else usage(`unsupported argument ${arg}`);
  }
  return options;
}

function readStdin() {
  return fs.readFileSync(0, 'utf8');
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!options.standardJson) usage('nothing to do');
  const roots = [options.basePath, ...options.includePaths].map((p) => path.resolve(p));
  const allowed = [...roots, ...options.allowPaths.map((p) => path.resolve(p))];
  const findImports = (unitName) => {
    for (const root of roots) {
      const candidate = path.resolve(root, unitName);
      if (!allowed.some((a) => candidate === a || candidate.startsWith(a + path.sep))) continue;
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      }
    }
    return { error: `File not found: ${unitName} (searched ${roots.join(', ')})` };
  };
  const output = solc.compile(readStdin(), { import: findImports });
  process.stdout.write(output);
}

main();
