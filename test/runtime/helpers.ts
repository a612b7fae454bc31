import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { emitWasm, type EmitOptions } from '../../src/compiler/emit';
import type { Const, Program, Stmt, Plan, Func } from '../../src/compiler/ir';

export const noHost: EmitOptions = { hostBuiltin: () => undefined };

/** IR constant helpers */
export const C = {
  null: (): Const => ({ t: 'null' }),
  bool: (v: boolean): Const => ({ t: 'bool', v }),
  num: (v: string | number): Const => ({ t: 'num', v: String(v) }),
  str: (v: string): Const => ({ t: 'str', v }),
  arr: (...v: Const[]): Const => ({ t: 'arr', v }),
  obj: (...v: Array<[Const, Const]>): Const => ({ t: 'obj', v }),
  set: (...v: Const[]): Const => ({ t: 'set', v }),
};

/** Converts a JS value to a constant (objects → obj, arrays → arr). */
export function jsConst(v: unknown): Const {
  if (v === null) return C.null();
  if (typeof v === 'boolean') return C.bool(v);
  if (typeof v === 'number') return C.num(String(v));
  if (typeof v === 'string') return C.str(v);
  if (Array.isArray(v)) return C.arr(...v.map(jsConst));
  if (v instanceof Set) return C.set(...[...v].map(jsConst));
  return C.obj(...Object.entries(v as object).map(([k, x]) => [C.str(k), jsConst(x)] as [Const, Const]));
}

/**
 * A plan body that computes `result` into local 2 via `body` and adds {"result": local 2}:
 * locals 0 input, 1 data, 2 result; more as needed. Constant 0 must be the string "result".
 */
export function resultPlan(name: string, locals: number, body: Stmt[]): Plan {
  return {
    name,
    locals,
    body: [
      { op: 'block', body },
      { op: 'is_defined', a: 2 },
      { op: 'make_object', dst: locals - 1 },
      { op: 'const', dst: locals - 2, c: 0 },
      { op: 'object_insert', obj: locals - 1, key: locals - 2, val: 2 },
      { op: 'result_add', val: locals - 1 },
    ],
  };
}

export function program(constants: Const[], plans: Plan[], funcs: Func[] = [], strict = false): Program {
  return { constants: [C.str('result'), ...constants], plans, funcs, strictBuiltinErrors: strict };
}

export async function load(p: Program, opts: EmitOptions = noHost, custom: Record<string, (...a: any[]) => unknown> = {}) {
  const wasm = emitWasm(p, opts);
  return loadPolicy(wasm, undefined, custom as any);
}

/** Evaluates through the classic ABI (eval context + json dump), as SDKs for minor < 2 do. */
export function classicEval(policy: any, input: unknown, entrypoint = 0): unknown {
  const ex = policy.wasmInstance.exports;
  const mem: WebAssembly.Memory = policy.mem;
  ex.opa_heap_ptr_set(policy.dataHeapPtr);
  let inputAddr = 0;
  if (input !== undefined) {
    const bytes = new TextEncoder().encode(JSON.stringify(input));
    const addr = ex.opa_malloc(bytes.length);
    new Uint8Array(mem.buffer).set(bytes, addr);
    inputAddr = ex.opa_json_parse(addr, bytes.length);
    if (inputAddr === 0) throw new Error('parse failed');
  }
  const ctx = ex.opa_eval_ctx_new();
  ex.opa_eval_ctx_set_input(ctx, inputAddr);
  ex.opa_eval_ctx_set_data(ctx, policy.dataAddr);
  ex.opa_eval_ctx_set_entrypoint(ctx, entrypoint);
  ex.eval(ctx);
  return JSON.parse(readStr(mem, ex.opa_json_dump(ex.opa_eval_ctx_get_result(ctx))));
}

export function readStr(mem: WebAssembly.Memory, addr: number): string {
  const b = new Uint8Array(mem.buffer);
  let e = addr;
  while (b[e] !== 0) e++;
  return new TextDecoder().decode(b.subarray(addr, e));
}

/** Writes text into the module's heap and returns [addr, len]. */
export function writeStr(policy: any, text: string): [number, number] {
  const bytes = new TextEncoder().encode(text);
  const addr = policy.wasmInstance.exports.opa_malloc(bytes.length);
  new Uint8Array(policy.mem.buffer).set(bytes, addr);
  return [addr, bytes.length];
}
