/**
 * The emitter: IR Program → an OPA-ABI WebAssembly module. The module is the prebuilt runtime
 * (build/runtime.wasm, built by scripts/build-runtime.js from src/runtime/) with the program's plan
 * linked in as a data segment; the runtime interprets it.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Program } from '../ir';
import { encodePlan, type EmitOptions } from './plan-encoder';
import { analyzeRuntime, linkPlan, type RuntimeLayout } from './link';

export { NATIVE_BUILTINS } from './natives';
export type { EmitOptions, HostBuiltinInfo } from './plan-encoder';

/** src/compiler/emit and dist/compiler/emit are both three levels below the repository root. */
export const RUNTIME_PATH = path.join(__dirname, '..', '..', '..', 'build', 'runtime.wasm');

let runtime: RuntimeLayout | undefined;
let runtimeMtime = 0;

function loadRuntime(): RuntimeLayout {
  let st: fs.Stats;
  try {
    st = fs.statSync(RUNTIME_PATH);
  } catch {
    throw new Error(`the wasm runtime ${RUNTIME_PATH} is missing: run \`npm run build\``);
  }
  if (!runtime || st.mtimeMs !== runtimeMtime) {
    runtime = analyzeRuntime(new Uint8Array(fs.readFileSync(RUNTIME_PATH)));
    runtimeMtime = st.mtimeMs;
  }
  return runtime;
}

/**
 * Compiles a program to a wasm module. Throws a plain Error naming the built-in when a built-in is
 * neither native nor known to the host (the compiler adds the source location), and for number literals
 * the runtime cannot hold (malformed, or an exponent beyond its bound: see numberRangeProblem).
 */
export function emitWasm(program: Program, opts: EmitOptions): Uint8Array {
  const rt = loadRuntime();
  const { bytes } = encodePlan(program, opts);
  return linkPlan(rt, bytes);
}
