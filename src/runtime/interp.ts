// The interpreter for the plan (see src/compiler/ir.ts for the semantics of every statement).
//
// execBlock returns DONE when the block ran to its end, FAIL when a statement failed (leaving the
// block), or k >= 0 when a `break` left the block and k more enclosing blocks must still be left.
import { alloc, allocZ, abortLit, bStart, bLit, abortBuilt, heapTop } from "./mem";
import {
  T_ARR, T_OBJ, T_SET, T_BOOL, tag, boolOf, mkInt, mkArr, arrPush, arrLen, arrGet, mkObj, objPut, objGet,
  objCount, entKey, entVal, sortedIdx, sortedAt, objFind, objCopy, setAdd, equalV, asInt, intScratch, bigSeen,
} from "./value";
import * as P from "./plan";
import { callNative, FALLBACK, hasBig, hasLongDecimal, refuseBig, setDecHost, SPRINTF_ID, sprintfHostArgOk } from "./builtins";
import { hostExact, setInHostCall } from "./json";

const DONE: i32 = -1;
const FAIL: i32 = -2;

export let planBase: usize = 0;
export let consts: usize = 0; // i32 array of constant value addresses
export let strict = false;

let funcTable: usize = 0;
let nFuncs: i32 = 0;
let planTable: usize = 0;
export let nPlans: i32 = 0;

// per-evaluation state
let evInput: usize = 0;
let evData: usize = 0;
let memo: usize = 0;
let results: usize = 0;
/**
 * The heap pointer when the evaluation started. Everything below it (constants, data, input) is shared
 * with later evaluations and must never be mutated: a growing array or table would keep a pointer into
 * this evaluation's heap, which the next one overwrites.
 */
let evalFloor: usize = 0;

/** Fails closed when a plan statement would mutate a value it did not create in this evaluation. */
@inline function ownedOrAbort(v: usize): void {
  if (v < evalFloor) abortLit("eval_internal_error: plan mutates a shared value");
}

@external("env", "opa_builtin0") declare function opa_builtin0(id: i32, ctx: i32): usize;
@external("env", "opa_builtin1") declare function opa_builtin1(id: i32, ctx: i32, a: usize): usize;
@external("env", "opa_builtin2") declare function opa_builtin2(id: i32, ctx: i32, a: usize, b: usize): usize;
@external("env", "opa_builtin3") declare function opa_builtin3(id: i32, ctx: i32, a: usize, b: usize, c: usize): usize;
@external("env", "opa_builtin4") declare function opa_builtin4(id: i32, ctx: i32, a: usize, b: usize, c: usize, d: usize): usize;

export function initPlan(base: usize, constArr: usize): void {
  planBase = base;
  consts = constArr;
  nFuncs = load<i32>(base, 16);
  funcTable = base + <usize>load<i32>(base, 20);
  nPlans = load<i32>(base, 24);
  planTable = base + <usize>load<i32>(base, 28);
  strict = load<i32>(base, 32) != 0;
}

@inline function w(pc: usize, i: i32): i32 { return load<i32>(pc + (<usize>i << 2)); }
@inline function getL(fr: usize, i: i32): usize { return load<usize>(fr + (<usize>i << 2)); }
@inline function setL(fr: usize, i: i32, v: usize): void { store<usize>(fr + (<usize>i << 2), v); }

/** Runs entrypoint `ep`; returns the result set. */
export function evalPlan(ep: i32, input: usize, data: usize): usize {
  if (ep < 0 || ep >= nPlans) abortLit("internal: illegal entrypoint id");
  evInput = input;
  evData = data;
  evalFloor = heapTop;
  memo = allocZ(<usize>(nFuncs + 1) << 2);
  results = mkObj(T_SET, 1);
  let e = planTable + <usize>ep * 12;
  let locals = load<i32>(e);
  let fr = allocZ(<usize>(locals < 2 ? 2 : locals) << 2);
  setL(fr, 0, input);
  setL(fr, 1, data);
  execBlock(fr, planBase + <usize>load<i32>(e, 4), planBase + <usize>load<i32>(e, 8));
  return results;
}

function conflict(kind: i32): void {
  if (kind == 0) abortLit("eval_conflict_error: complete rules must not produce multiple outputs");
  if (kind == 1) abortLit("eval_conflict_error: functions must not produce multiple outputs for same inputs");
  abortLit("eval_conflict_error: object keys must be unique");
}

function callFunc(fr: usize, fid: i32, n: i32, argp: usize): usize {
  let f = funcTable + <usize>fid * 24;
  let useMemo = load<i32>(f, 12) != 0 && getL(fr, w(argp, 0)) == evInput && getL(fr, w(argp, 1)) == evData;
  if (useMemo) {
    let m = load<usize>(memo + (<usize>fid << 2));
    if (m != 0) return m == 1 ? 0 : m;
  }
  let locals = load<i32>(f, 4);
  let nf = allocZ(<usize>locals << 2);
  for (let i = 0; i < n; i++) setL(nf, i, getL(fr, w(argp, i)));
  execBlock(nf, planBase + <usize>load<i32>(f, 16), planBase + <usize>load<i32>(f, 20));
  let r = getL(nf, load<i32>(f, 8));
  if (useMemo) store<usize>(memo + (<usize>fid << 2), r == 0 ? 1 : r);
  return r;
}

function callHost(id: i32, n: i32, fr: usize, argp: usize, sprintf: bool = false): usize {
  for (let i = 0; i < n; i++) if (getL(fr, w(argp, i)) == 0) return 0;
  // with plain JSON (no pdp_host_exact) the SDK hands arguments over parsed as doubles: a BIG would
  // arrive rounded. With exact values integers keep their digits; long decimals still have no JS form,
  // except as sprintf's values, which OPA itself formats as doubles (sprintfHostArgOk).
  if (bigSeen) for (let i = 0; i < n; i++) {
    let a = getL(fr, w(argp, i));
    if (hostExact ? (sprintf && i == 1 ? !sprintfHostArgOk(a) : hasLongDecimal(a)) : hasBig(a)) refuseBig(id);
  }
  setInHostCall(true);
  let r: usize = 0;
  switch (n) {
    case 0: r = opa_builtin0(id, 0); break;
    case 1: r = opa_builtin1(id, 0, getL(fr, w(argp, 0))); break;
    case 2: r = opa_builtin2(id, 0, getL(fr, w(argp, 0)), getL(fr, w(argp, 1))); break;
    case 3: r = opa_builtin3(id, 0, getL(fr, w(argp, 0)), getL(fr, w(argp, 1)), getL(fr, w(argp, 2))); break;
    case 4: r = opa_builtin4(id, 0, getL(fr, w(argp, 0)), getL(fr, w(argp, 1)), getL(fr, w(argp, 2)), getL(fr, w(argp, 3))); break;
    default: abortLit("internal: too many built-in call arguments");
  }
  setInHostCall(false);
  return r;
}

function toSet(v: usize): usize {
  if (tag(v) != T_ARR) return v;
  let n = arrLen(v);
  let s = mkObj(T_SET, n);
  for (let i = 0; i < n; i++) setAdd(s, arrGet(v, i));
  return s;
}

/** Deep merge for object_merge (undefined sides are ignored). */
function merge(a: usize, b: usize): usize {
  if (a == 0) return b;
  if (b == 0) return a;
  if (tag(a) == T_OBJ && tag(b) == T_OBJ) {
    let r = objCopy(a);
    let n = objCount(b);
    for (let i = 0; i < n; i++) {
      let k = entKey(b, i);
      let e = objFind(r, k);
      if (e < 0) objPut(r, k, entVal(b, i), 0);
      else objPut(r, k, merge(entVal(r, e), entVal(b, i)), 0);
    }
    return r;
  }
  if (!equalV(a, b)) conflict(2);
  return a;
}

function upsert(src: usize, fr: usize, path: usize, n: i32, val: usize): usize {
  if (n == 0) return val;
  let base = src != 0 && tag(src) == T_OBJ ? objCopy(src) : mkObj(T_OBJ, 1);
  let k = getL(fr, w(path, 0));
  let child = objGet(base, k);
  objPut(base, k, upsert(child, fr, path + 4, n - 1, val), 0);
  return base;
}

/** dst := src[key] per the `dot` statement; 0 when undefined. */
export function dotV(src: usize, key: usize): usize {
  let t = tag(src);
  if (t == T_OBJ) return objGet(src, key);
  if (t == T_ARR) {
    let kt = tag(key);
    if (kt != 3 && kt != 4) return 0;
    if (!asInt(key)) return 0;
    let i = intScratch;
    if (i < 0 || i >= <i64>arrLen(src)) return 0;
    return arrGet(src, <i32>i);
  }
  if (t == T_SET) {
    let e = objFind(src, key);
    return e < 0 ? 0 : entKey(src, e);
  }
  return 0;
}

export function execBlock(fr: usize, pc: usize, end: usize): i32 {
  while (pc < end) {
    let op = load<i32>(pc);
    switch (op) {
      case P.OP_CONST: {
        setL(fr, w(pc, 1), load<usize>(consts + (<usize>w(pc, 2) << 2)));
        pc += 12; break;
      }
      case P.OP_ASSIGN: {
        let v = getL(fr, w(pc, 2));
        if (v == 0) return FAIL;
        setL(fr, w(pc, 1), v);
        pc += 12; break;
      }
      case P.OP_ASSIGN_ONCE: {
        let v = getL(fr, w(pc, 2));
        if (v == 0) return FAIL;
        let cur = getL(fr, w(pc, 1));
        if (cur == 0) setL(fr, w(pc, 1), v);
        else if (!equalV(cur, v)) conflict(w(pc, 3));
        pc += 16; break;
      }
      case P.OP_RESET: { setL(fr, w(pc, 1), 0); pc += 8; break; }
      case P.OP_DOT: {
        let s = getL(fr, w(pc, 2));
        let k = getL(fr, w(pc, 3));
        if (s == 0 || k == 0) return FAIL;
        let v = dotV(s, k);
        if (v == 0) return FAIL;
        setL(fr, w(pc, 1), v);
        pc += 16; break;
      }
      case P.OP_LEN: {
        let s = getL(fr, w(pc, 2));
        if (s == 0) return FAIL;
        let t = tag(s);
        if (t == T_ARR) setL(fr, w(pc, 1), mkInt(arrLen(s)));
        else if (t == T_OBJ || t == T_SET) setL(fr, w(pc, 1), mkInt(objCount(s)));
        else return FAIL;
        pc += 12; break;
      }
      case P.OP_EQUAL: {
        let a = getL(fr, w(pc, 1)), b = getL(fr, w(pc, 2));
        if (a == 0 || b == 0 || !equalV(a, b)) return FAIL;
        pc += 12; break;
      }
      case P.OP_NOT_EQUAL: {
        let a = getL(fr, w(pc, 1)), b = getL(fr, w(pc, 2));
        if (a == 0 || b == 0 || equalV(a, b)) return FAIL;
        pc += 12; break;
      }
      case P.OP_IS_DEFINED: { if (getL(fr, w(pc, 1)) == 0) return FAIL; pc += 8; break; }
      case P.OP_IS_UNDEFINED: { if (getL(fr, w(pc, 1)) != 0) return FAIL; pc += 8; break; }
      case P.OP_IS_ARRAY: { let a = getL(fr, w(pc, 1)); if (a == 0 || tag(a) != T_ARR) return FAIL; pc += 8; break; }
      case P.OP_IS_OBJECT: { let a = getL(fr, w(pc, 1)); if (a == 0 || tag(a) != T_OBJ) return FAIL; pc += 8; break; }
      case P.OP_IS_SET: { let a = getL(fr, w(pc, 1)); if (a == 0 || tag(a) != T_SET) return FAIL; pc += 8; break; }
      case P.OP_TRUTHY: {
        let a = getL(fr, w(pc, 1));
        if (a == 0 || (tag(a) == T_BOOL && !boolOf(a))) return FAIL;
        pc += 8; break;
      }
      case P.OP_MAKE_ARRAY: { setL(fr, w(pc, 1), mkArr(w(pc, 2))); pc += 12; break; }
      case P.OP_ARRAY_APPEND: {
        let a = getL(fr, w(pc, 1)), v = getL(fr, w(pc, 2));
        if (a == 0 || v == 0 || tag(a) != T_ARR) return FAIL;
        ownedOrAbort(a);
        arrPush(a, v);
        pc += 12; break;
      }
      case P.OP_MAKE_OBJECT: { setL(fr, w(pc, 1), mkObj(T_OBJ, 0)); pc += 8; break; }
      case P.OP_OBJECT_INSERT:
      case P.OP_OBJECT_INSERT_ONCE: {
        let o = getL(fr, w(pc, 1)), k = getL(fr, w(pc, 2)), v = getL(fr, w(pc, 3));
        if (o == 0 || k == 0 || v == 0 || tag(o) != T_OBJ) return FAIL;
        ownedOrAbort(o);
        if (objPut(o, k, v, op == P.OP_OBJECT_INSERT_ONCE ? 1 : 0) == -2) conflict(2);
        pc += 16; break;
      }
      case P.OP_MAKE_SET: { setL(fr, w(pc, 1), mkObj(T_SET, 0)); pc += 8; break; }
      case P.OP_SET_ADD: {
        let s = getL(fr, w(pc, 1)), v = getL(fr, w(pc, 2));
        if (s == 0 || v == 0 || tag(s) != T_SET) return FAIL;
        ownedOrAbort(s);
        setAdd(s, v);
        pc += 12; break;
      }
      case P.OP_OBJECT_MERGE: {
        let r = merge(getL(fr, w(pc, 2)), getL(fr, w(pc, 3)));
        if (r == 0) return FAIL;
        setL(fr, w(pc, 1), r);
        pc += 16; break;
      }
      case P.OP_CALL: {
        let n = w(pc, 3);
        let r = callFunc(fr, w(pc, 2), n, pc + 16);
        if (r == 0) return FAIL;
        setL(fr, w(pc, 1), r);
        pc += 16 + (<usize>n << 2); break;
      }
      case P.OP_CALL_NATIVE: {
        // dst, native id, fallback host id (-1: none), n, args
        let n = w(pc, 4);
        setDecHost(w(pc, 3));
        let r = callNative(w(pc, 2), n, fr, pc + 20);
        if (r == FALLBACK) {
          let h = w(pc, 3);
          if (h < 0) abortLit("eval_internal_error: built-in not supported natively for this input");
          r = callHost(h, n, fr, pc + 20, w(pc, 2) == SPRINTF_ID && n == 2);
        }
        if (r == 0) return FAIL;
        setL(fr, w(pc, 1), r);
        pc += 20 + (<usize>n << 2); break;
      }
      case P.OP_CALL_HOST: {
        // dst, host id, flags (1: result is a set), n, args
        let n = w(pc, 4);
        let r = callHost(w(pc, 2), n, fr, pc + 20);
        if (r == 0) return FAIL;
        if ((w(pc, 3) & 1) != 0) r = toSet(r);
        setL(fr, w(pc, 1), r);
        pc += 20 + (<usize>n << 2); break;
      }
      case P.OP_SCAN: {
        let len = <usize>w(pc, 4);
        let bs = pc + 20;
        let be = bs + (len << 2);
        let r = scan(fr, getL(fr, w(pc, 1)), w(pc, 2), w(pc, 3), bs, be);
        if (r > 0) return r - 1;
        pc = be; break;
      }
      case P.OP_BLOCK: {
        let bs = pc + 8;
        let be = bs + (<usize>w(pc, 1) << 2);
        let r = execBlock(fr, bs, be);
        if (r > 0) return r - 1;
        pc = be; break;
      }
      case P.OP_NOT: {
        let bs = pc + 8;
        let be = bs + (<usize>w(pc, 1) << 2);
        let r = execBlock(fr, bs, be);
        if (r == DONE) return FAIL;
        if (r > 0) return r - 1;
        pc = be; break;
      }
      case P.OP_BREAK: return w(pc, 1);
      case P.OP_UPSERT: {
        // dst, src, val, n, path...
        let v = getL(fr, w(pc, 3));
        if (v == 0) return FAIL;
        let n = w(pc, 4);
        for (let i = 0; i < n; i++) if (getL(fr, w(pc + 20, i)) == 0) return FAIL;
        setL(fr, w(pc, 1), upsert(getL(fr, w(pc, 2)), fr, pc + 20, n, v));
        pc += 20 + (<usize>n << 2); break;
      }
      case P.OP_RESULT_ADD: {
        let v = getL(fr, w(pc, 1));
        if (v == 0) return FAIL;
        setAdd(results, v);
        pc += 8; break;
      }
      default: {
        bStart(64);
        bLit("internal: bad plan opcode");
        abortBuilt();
      }
    }
  }
  return DONE;
}

/** Returns k > 0 when a break must leave enclosing blocks, else 0. */
function scan(fr: usize, src: usize, kl: i32, vl: i32, bs: usize, be: usize): i32 {
  if (src == 0) return 0;
  let t = tag(src);
  if (t == T_ARR) {
    let n = arrLen(src);
    for (let i = 0; i < n && i < arrLen(src); i++) {
      setL(fr, kl, mkInt(i));
      setL(fr, vl, arrGet(src, i));
      let r = execBlock(fr, bs, be);
      if (r >= 0) return r;
    }
    return 0;
  }
  if (t == T_OBJ || t == T_SET) {
    let n = objCount(src);
    let s = sortedIdx(src);
    for (let i = 0; i < n; i++) {
      let e = sortedAt(s, i);
      setL(fr, kl, entKey(src, e));
      setL(fr, vl, t == T_OBJ ? entVal(src, e) : entKey(src, e));
      let r = execBlock(fr, bs, be);
      if (r >= 0) return r;
    }
  }
  return 0;
}

export function isStrict(): bool { return strict; }
export { alloc };
