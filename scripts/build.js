#!/usr/bin/env node
'use strict';
// Build everything the product runs from: the TypeScript sources (tsc → dist/) and the
// prebuilt wasm runtime (AssemblyScript → build/runtime.wasm) that every compiled policy links into.
// Each step is skipped when its outputs are newer than its inputs, so `npm test` stays quick.
const { execFileSync } = require('child_process');
const path = require('path');
const fs = require('fs');
const root = path.join(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
const runtimeBuild = path.join(__dirname, 'build-runtime.js');
if (fs.existsSync(runtimeBuild)) {
  execFileSync(process.execPath, [runtimeBuild], { stdio: 'inherit', cwd: root });
}
