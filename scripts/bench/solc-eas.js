#!/usr/bin/env node
// hardhat-node/scripts/solc.js (a `solc --standard-json` look-alike over the npm compiler),
// but with the compiler the EAS contracts pin: `require('solc')` resolves to the `solc-eas`
// alias (npm:solc@0.8.29) in hardhat-node/package.json. Used by scripts/bench_gas.py only.
'use strict';
const Module = require('module');
const path = require('path');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === 'solc' ? 'solc-eas' : request, ...rest);
};
require(path.resolve(__dirname, '..', '..', 'hardhat-node', 'scripts', 'solc.js'));
