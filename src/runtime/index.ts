// The wasm runtime every compiled policy links into: OPA's wasm ABI 1.3 on top of our value model
// (value.ts), JSON (json.ts), the plan interpreter (interp.ts) and native built-ins (builtins.ts).
// Built once by scripts/build-runtime.js; src/compiler/emit links a plan into a copy of it.
import { alloc, allocZ, heapTop, abortLit } from "./mem";
import * as M from "./mem";
import { T_OBJ, T_ARR, tag, initValues, mkObj, objGet, objPut, objRemove, arrLen, arrGet, mkArr, arrPush, objCount, entKey, sortedIdx, sortedAt, freezeValue, onHeapReset } from "./value";
import { parseText, dumpToString, dumpValue, initJson, hostExactNow, setHostExact, setInHostCall, dumpRegoAsJsonString } from "./json";
import { initPlan, evalPlan } from "./interp";
import { MAGIC } from "./plan";
import { setNow, clearNow } from "./builtins";

export { asAbort } from "./mem";

/** Set by the linker (src/compiler/emit/link.ts) to the address of the plan's data segment. */
export let __pdp_plan: i32 = 0;

export const opa_wasm_abi_version: i32 = 1;
export const opa_wasm_abi_minor_version: i32 = 3;

let builtinsV: usize = 0;
let entrypointsV: usize = 0;
/** True while opa_eval / eval run (host built-ins call back into opa_json_parse then). */
let inEval = false;

// ---------- start function: runs at instantiation, before the SDK records its base heap pointer ----------
function init(): void {
  let top: usize = __heap_base;
  let plan = <usize>__pdp_plan;
  if (plan != 0) {
    if (load<i32>(plan) != MAGIC) abortLit("internal: bad plan");
    let end = plan + <usize>load<i32>(plan, 4);
    if (end > top) top = end;
  }
  M.heapTop = (top + 15) & ~(<usize>15);
  initValues();
  initJson();
  if (plan == 0) {
    builtinsV = mkObj(T_OBJ, 0);
    entrypointsV = mkObj(T_OBJ, 0);
    freezeValue(builtinsV);
    freezeValue(entrypointsV);
    initPlan(0, 0);
    return;
  }
  // constants: one Rego array literal, decoded once so they live below the heap the SDK resets
  let cv = parseText(plan + <usize>load<i32>(plan, 8), <usize>load<i32>(plan, 12), true);
  if (cv == 0 || tag(cv) != T_ARR) abortLit("internal: bad constants table");
  let n = arrLen(cv);
  let consts = alloc(<usize>(n + 1) << 2);
  for (let i = 0; i < n; i++) store<usize>(consts + (<usize>i << 2), arrGet(cv, i));
  builtinsV = parseText(plan + <usize>load<i32>(plan, 36), <usize>load<i32>(plan, 40), false);
  entrypointsV = parseText(plan + <usize>load<i32>(plan, 44), <usize>load<i32>(plan, 48), false);
  if (builtinsV == 0 || entrypointsV == 0) abortLit("internal: bad plan tables");
  // every cache on a long-lived value is built now, below the base heap pointer: evaluations must
  // never attach anything to these values (see value.ts sortedIdx)
  freezeValue(cv);
  freezeValue(builtinsV);
  freezeValue(entrypointsV);
  initPlan(plan, consts);
}
init();

// ---------- ABI 1.0 ----------

export function builtins(): usize { return builtinsV; }
export function entrypoints(): usize { return entrypointsV; }

export function opa_eval_ctx_new(): usize { return allocZ(16); }
export function opa_eval_ctx_set_input(ctx: usize, v: usize): void { store<usize>(ctx, v); }
export function opa_eval_ctx_set_data(ctx: usize, v: usize): void { store<usize>(ctx, v, 4); }
export function opa_eval_ctx_set_entrypoint(ctx: usize, ep: i32): void { store<i32>(ctx, ep, 12); }
export function opa_eval_ctx_get_result(ctx: usize): usize { return load<usize>(ctx, 8); }

export function eval(ctx: usize): i32 {
  inEval = true;
  setInHostCall(false); // a host call that threw never reached its end
  let rs = evalPlan(load<i32>(ctx, 12), load<usize>(ctx), load<usize>(ctx, 4));
  inEval = false;
  clearNow();
  store<usize>(ctx, rs, 8);
  return 0;
}

export function opa_malloc(n: usize): usize { return alloc(n); }
/** Memory is reclaimed by heap-pointer resets (bump allocation), so individual frees are no-ops. */
export function opa_free(p: usize): void {}
export function opa_value_free(v: usize): void {}
export function opa_heap_blocks_stash(): void {}
export function opa_heap_blocks_restore(): void {}
export function opa_heap_stash_clear(): void {}

export function opa_heap_ptr_get(): usize { return M.heapTop; }
export function opa_heap_ptr_set(p: usize): void {
  inEval = false; // an aborted evaluation never reached its end
  setInHostCall(false);
  M.heapReset(p);
  onHeapReset(p);
}

/**
 * Outside an evaluation the host parses data (setData) or, on the classic path, the input: such values
 * outlive the next heap resets' allocations only if their caches are built now, right after them.
 */
function parsed(v: usize): usize {
  if (v != 0 && !inEval) freezeValue(v);
  return v;
}
export function opa_json_parse(addr: usize, len: usize): usize { return parsed(parseText(addr, len, hostExactNow())); }
export function opa_value_parse(addr: usize, len: usize): usize { return parsed(parseText(addr, len, true)); }
export function opa_json_dump(v: usize): usize { return hostExactNow() ? dumpRegoAsJsonString(v) : dumpToString(v, false); }

/** Our engine's opt-in: host built-ins take and give Rego text (see json.ts hostExact). */
export function pdp_host_exact(): void { setHostExact(); }
export function opa_value_dump(v: usize): usize { return dumpToString(v, true); }

const ERR_OK = 0;
const ERR_INVALID_TYPE = 2;
const ERR_INVALID_PATH = 3;

/** Sets base[path...] := value, creating missing intermediate objects. */
export function opa_value_add_path(base: usize, path: usize, value: usize): i32 {
  if (base == 0 || tag(base) != T_OBJ || path == 0 || tag(path) != T_ARR) return ERR_INVALID_TYPE;
  let n = arrLen(path);
  if (n == 0) return ERR_INVALID_PATH;
  let cur = base;
  for (let i = 0; i < n - 1; i++) {
    let k = arrGet(path, i);
    let next = objGet(cur, k);
    if (next == 0) { next = mkObj(T_OBJ, 1); objPut(cur, k, next, 0); }
    else if (tag(next) != T_OBJ) return ERR_INVALID_PATH;
    cur = next;
  }
  objPut(cur, arrGet(path, n - 1), value, 0);
  return ERR_OK;
}

export function opa_value_remove_path(base: usize, path: usize): i32 {
  if (base == 0 || tag(base) != T_OBJ || path == 0 || tag(path) != T_ARR) return ERR_INVALID_TYPE;
  let n = arrLen(path);
  if (n == 0) return ERR_INVALID_PATH;
  let cur = base;
  for (let i = 0; i < n - 1; i++) {
    cur = objGet(cur, arrGet(path, i));
    if (cur == 0 || tag(cur) != T_OBJ) return ERR_INVALID_PATH;
  }
  return objRemove(cur, arrGet(path, n - 1)) ? ERR_OK : ERR_INVALID_PATH;
}

/**
 * Not OPA's ABI (an addition hosts may ignore): the instant `time.now_ns()` answers in the next
 * evaluation, so it needs no host call. Hosts that do not call it get the host built-in as usual.
 */
export function pdp_set_now_ns(ns: i64): void { setNow(ns); }

// ---------- ABI 1.2 fast path ----------

/**
 * One-shot evaluation: resets the heap to heapPtr (the SDK never calls opa_heap_ptr_set on this path),
 * parses the input in place, evaluates and returns the NUL-terminated result set
 * `[{"result": …}]` (format 0: JSON, 1: Rego value syntax).
 */
export function opa_eval(reserved: i32, ep: i32, data: usize, input: usize, inputLen: usize, heapPtr: usize, format: i32): usize {
  M.heapReset(heapPtr);
  onHeapReset(heapPtr);
  inEval = true;
  setInHostCall(false);
  let iv: usize = 0;
  if (inputLen > 0) {
    iv = parseText(input, inputLen, false);
    if (iv == 0) abortLit("eval_internal_error: input is not valid JSON");
  }
  let rs = evalPlan(ep, iv, data);
  inEval = false;
  clearNow();
  let rego = format == 1;
  // the result set is a set of bindings; it is written as a (sorted) array in both formats
  M.bStart(128);
  M.bByte(91);
  let n = objCount(rs);
  let s = sortedIdx(rs);
  for (let i = 0; i < n; i++) {
    if (i > 0) M.bByte(44);
    dumpValue(entKey(rs, sortedAt(s, i)), rego);
  }
  M.bByte(93);
  return M.bEnd();
}
