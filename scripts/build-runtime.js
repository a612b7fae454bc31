#!/usr/bin/env node
'use strict';
// Builds the wasm runtime (src/runtime/*.ts, AssemblyScript) once into build/runtime.wasm.
// Every compiled policy is this binary plus a plan data segment (see src/compiler/emit/link.ts).
// Skipped when the output is newer than every runtime source file.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const srcDir = path.join(root, 'src', 'runtime');
const outDir = path.join(root, 'build');
const out = path.join(outDir, 'runtime.wasm');

function newestSource() {
  let newest = fs.statSync(__filename).mtimeMs;
  for (const f of fs.readdirSync(srcDir)) {
    if (f.endsWith('.ts')) newest = Math.max(newest, fs.statSync(path.join(srcDir, f)).mtimeMs);
  }
  return newest;
}

if (!process.argv.includes('--force') && fs.existsSync(out) && fs.statSync(out).mtimeMs > newestSource()) {
  process.exit(0);
}
fs.mkdirSync(outDir, { recursive: true });
const tmp = out + '.tmp';
const asc = require.resolve('assemblyscript/bin/asc.js');
execFileSync(process.execPath, [
  asc, path.join('src', 'runtime', 'index.ts'),
  '-O3', '--noAssert',
  // the stub runtime is never used: the runtime does not allocate managed objects (see mem.ts)
  '--runtime', 'stub',
  // OPA's ABI: the host owns the memory (env.memory, no maximum); we re-export it as `memory`
  '--importMemory',
  // AssemblyScript imports env.abort, which the OPA SDK does not provide
  '--use', 'abort=src/runtime/mem/asAbort',
  '-o', tmp,
], { stdio: 'inherit', cwd: root });
fs.renameSync(tmp, out);
console.log(`built ${path.relative(root, out)} (${fs.statSync(out).size} bytes)`);
