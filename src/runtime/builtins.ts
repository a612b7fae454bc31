// Native built-ins. The ids are the positions in NATIVE_BUILTINS of src/compiler/emit/natives.ts:
// keep both lists in the same order.
//
// A built-in returns a value address, 0 for undefined (an error in non-strict mode), or FALLBACK to ask
// the interpreter to call the host implementation instead (lower/upper on non-ASCII text).
import { alloc, abortLit, bStart, bLit, bByte, bBytes, abortBuilt, bPtr, bLen, bEnd, opa_println } from "./mem";
import {
  T_NULL, T_BOOL, T_INT, T_FLOAT, T_BIG, bigSeen, bigNeg, bigLen, bigData, T_STR, T_ARR, T_OBJ, T_SET, tag, mkBool, boolOf, mkInt, intOf, floatOf, decNeg, decLen, decData, decExp,
  isNum, asInt, intScratch, mkStr, strLen, strData, mkLit, mkArr, arrPush, arrLen, arrGet, mkObj,
  objPut, objGet, objFind, objCount, entKey, entVal, sortedIdx, sortedAt, setAdd, equalV, compareV,
  sortValues, EMPTY_STR,
} from "./value";
import { isStrict, dotV } from "./interp";
import { numberFromText, putUtf8, jsonString, dumpDecimal, dumpSpaced, setInHostCall } from "./json";

export const FALLBACK: usize = 1;

let curName: i32 = 0;
let argBase: usize = 0;
let frame: usize = 0;

@inline function arg(i: i32): usize { return load<usize>(frame + (<usize>load<i32>(argBase + (<usize>i << 2)) << 2)); }

// the names, "|"-separated, in id order (a managed array would allocate)
const NAMES = "equal|neq|lt|lte|gt|gte|plus|minus|mul|div|rem|and|or|count|sum|product|max|min|is_number|is_string|is_boolean|is_array|is_set|is_object|is_null|type_name|internal.member_2|internal.member_3|object.get|concat|startswith|endswith|contains|lower|upper|split|replace|trim|trim_left|trim_right|trim_prefix|trim_suffix|trim_space|indexof|substring|array.concat|array.slice|abs|round|ceil|floor|intersection|union|object.keys|array.reverse|sort|strings.reverse|to_number|json.marshal|object.subset|sprintf|time.parse_rfc3339_ns|glob.match|time.now_ns|regex.match|internal.print|walk|internal.template_string";

function putName(): void {
  let idx = 0;
  for (let i = 0; i < NAMES.length; i++) {
    let c = NAMES.charCodeAt(i);
    if (c == 124) { idx++; continue; }
    if (idx == curName) bByte(c);
  }
}

function typeName(v: usize): string {
  switch (tag(v)) {
    case T_NULL: return "null";
    case T_BOOL: return "boolean";
    case T_INT: case T_FLOAT: case T_BIG: return "number";
    case T_STR: return "string";
    case T_ARR: return "array";
    case T_OBJ: return "object";
    case T_SET: return "set";
  }
  return "unknown";
}

/** A type error: aborts in strict mode, else makes the call undefined. */
function typeErr(operand: i32, expected: string, got: usize): usize {
  if (!isStrict()) return 0;
  bStart(96);
  bLit("eval_type_error: ");
  putName();
  bLit(": operand ");
  bByte(48 + operand);
  bLit(" must be ");
  bLit(expected);
  bLit(" but got ");
  bLit(typeName(got));
  abortBuilt();
  return 0;
}

/** Any other built-in error. */
function bErr(msg: string): usize {
  if (!isStrict()) return 0;
  bStart(96);
  bLit("eval_builtin_error: ");
  putName();
  bLit(": ");
  bLit(msg);
  abortBuilt();
  return 0;
}

/** Conditions we refuse to approximate abort even in non-strict mode (fail closed). */
function overflow(): usize {
  bStart(96);
  bLit("eval_builtin_error: ");
  putName();
  bLit(": integer overflow (numbers beyond 64 bits are not supported)");
  abortBuilt();
  return 0;
}

// ---------- decimals: OPA's big.Float arithmetic, done by the host ----------
//
// Non-integers are exact decimals (value.ts). OPA computes with them as binary floats with a 64-bit
// mantissa and hands back the shortest decimal that identifies the result; the host built-in
// internal.pdp_decimal_arith (src/builtins/decimal.ts) does exactly that with BigInt. Operands and
// result travel as strings: a JSON number would be re-read as a double by the SDK. Integers beyond 64
// bits (or overflowing them) go to the same built-in's exact big-integer operations (intArith). The emitter passes
// its host id with every arithmetic call (-1 when the module has no host for it: then we refuse).

@external("env", "opa_builtin3") declare function hostBuiltin3(id: i32, ctx: i32, a: usize, b: usize, c: usize): usize;

let decHost: i32 = -1;
/** Set by the interpreter before each native call: the decimal host built-in's id, or -1. */
export function setDecHost(h: i32): void { decHost = h; }

/** The exact text of a number as a string value. */
function numText(v: usize): usize {
  let t = tag(v);
  if (t == T_INT) { bStart(24); bDecimal(intOf(v)); return mkStr(bPtr, bLen); }
  if (t == T_BIG) {
    bStart(<usize>bigLen(v) + 2);
    if (bigNeg(v)) bByte(45);
    bBytes(bigData(v), <usize>bigLen(v));
    return mkStr(bPtr, bLen);
  }
  bStart(<usize>decLen(v) + 32);
  dumpDecimal(v);
  return mkStr(bPtr, bLen);
}

/** op(a, b) with OPA's 64-bit float semantics, via the host; never a rounded double. */
function decArith(op: string, a: usize, b: usize): usize {
  if (decHost < 0) {
    bStart(128);
    bLit("eval_unsupported: ");
    putName();
    bLit(": arithmetic on non-integer numbers needs the host built-in internal.pdp_decimal_arith");
    abortBuilt();
    return 0;
  }
  let opv = mkLit(op);
  let x = numText(a);
  let y = numText(b);
  setInHostCall(true); // the same transport as every host call (json.ts hostExact)
  let r = hostBuiltin3(decHost, 0, opv, x, y);
  setInHostCall(false);
  if (r == 0 || tag(r) != T_STR || strLen(r) == 0 || !validNumber(strData(r), strLen(r))) {
    abortLit("eval_internal_error: internal.pdp_decimal_arith returned no number");
    return 0;
  }
  return numberFromText(strData(r), strLen(r));
}

/** A decimal's digits are few enough (<= 15) that native exact handling matches OPA's 64-bit rounding. */
@inline function shortDec(v: usize): bool { return decLen(v) <= 15; }

/** floor (mode 0), ceil (1) or round half away from zero (2) of a decimal, exactly. */
function decToInt(v: usize, mode: i32): usize {
  let neg = decNeg(v);
  let nd = decLen(v), e = decExp(v), d = decData(v);
  let intLen = nd + e;
  let mag: i64 = 0;
  for (let k = 0; k < intLen; k++) mag = mag * 10 + <i64>(load<u8>(d + <usize>k) - 48);
  // the fraction is never zero (decimals are non-integral)
  let away: bool;
  let fi: i32 = intLen > 0 ? intLen : 0;
  if (mode == 2) away = intLen >= 0 && load<u8>(d + <usize>fi) >= 53;
  else away = (mode == 0) == neg; // floor of a negative, ceil of a positive: away from zero
  if (away) mag++;
  return mkInt(neg ? -mag : mag);
}

// ---------- arithmetic ----------

function arith(op: i32): usize {
  let a = arg(0), b = arg(1);
  if (op == 7) { // minus: numbers or sets
    if (tag(a) == T_SET && tag(b) == T_SET) {
      let r = mkObj(T_SET, objCount(a));
      let n = objCount(a);
      for (let i = 0; i < n; i++) { let k = entKey(a, i); if (objFind(b, k) < 0) setAdd(r, k); }
      return r;
    }
    if (tag(a) == T_SET) return typeErr(2, "set", b);
    if (!isNumB(a)) return typeErr(1, "one of {number, set}", a);
    if (!isNumB(b)) return typeErr(2, "number", b);
  } else {
    if (!isNumB(a)) return typeErr(1, "number", a);
    if (!isNumB(b)) return typeErr(2, "number", b);
  }
  if (tag(a) == T_INT && tag(b) == T_INT) {
    let x = intOf(a), y = intOf(b);
    switch (op) {
      case 9: {
        if (y == 0) return bErr("divide by zero");
        if (y == -1 && x == -9223372036854775807 - 1) return decArithOr("div", a, b); // 2^63
        if (x % y == 0 && x != 0) return mkInt(x / y);
        if (x == 0) return mkInt(0);
        return decArith("div", a, b);
      }
      case 10: {
        if (y == 0) return bErr("modulo by zero");
        if (y == -1) return mkInt(0);
        return mkInt(x % y);
      }
    }
    return intArith(op, a, b);
  }
  if (isIntV(a) && isIntV(b)) { // at least one BIG: OPA's exact big.Int branch (division: its float one)
    if (op == 9) {
      if (tag(b) == T_INT && intOf(b) == 0) return bErr("divide by zero");
      return decArith("div", a, b);
    }
    if (op == 10 && tag(b) == T_INT && intOf(b) == 0) return bErr("modulo by zero");
    return intArith(op, a, b);
  }
  if (op == 10) return bErr("modulo on floating-point number");
  return arithNum(op, a, b);
}

@inline function isNumB(v: usize): bool { let t = tag(v); return t == T_INT || t == T_FLOAT || t == T_BIG; }
@inline function isIntV(v: usize): bool { let t = tag(v); return t == T_INT || t == T_BIG; }

/** decArith, or the 64-bit overflow error when the module has no host for it. */
function decArithOr(op: string, a: usize, b: usize): usize {
  if (decHost < 0) return overflow();
  return decArith(op, a, b);
}

/**
 * a op b (6 plus, 7 minus, 8 mul, 10 rem) for two integers, exactly: natively while the result fits
 * 64 bits, else with the host's big integers (OPA computes integers of any size exactly).
 */
function intArith(op: i32, a: usize, b: usize): usize {
  if (tag(a) == T_INT && tag(b) == T_INT) {
    let x = intOf(a), y = intOf(b);
    switch (op) {
      case 6: { let r = x + y; if (((x ^ r) & (y ^ r)) >= 0) return mkInt(r); break; }
      case 7: { let r = x - y; if (((x ^ y) & (x ^ r)) >= 0) return mkInt(r); break; }
      case 8: {
        if (x == 0 || y == 0) return mkInt(0);
        let r = x * y;
        if (!((x == -1 && y == -9223372036854775807 - 1) || (y == -1 && x == -9223372036854775807 - 1) || r / y != x)) return mkInt(r);
        break;
      }
    }
  }
  return decArithOr(op == 6 ? "iplus" : op == 7 ? "iminus" : op == 8 ? "imul" : "irem", a, b);
}

/** a op b for numbers, at least one a decimal (or from the float fold of sum/product). */
function arithNum(op: i32, a: usize, b: usize): usize {
  if (tag(a) == T_INT && tag(b) == T_INT) {
    // only from sum/product folds: the int fast path is exact while the result fits 64 bits (a 64-bit
    // mantissa holds it); beyond, OPA's float step
    let x = intOf(a), y = intOf(b);
    if (op == 6) { let r = x + y; if (((x ^ r) & (y ^ r)) < 0) return decArithOr("plus", a, b); return mkInt(r); }
    if (x == 0 || y == 0) return mkInt(0);
    let r = x * y;
    if ((x == -1 && y == -9223372036854775807 - 1) || (y == -1 && x == -9223372036854775807 - 1) || r / y != x) return decArithOr("mul", a, b);
    return mkInt(r);
  }
  if (op == 9 && tag(b) == T_INT && intOf(b) == 0) return bErr("divide by zero");
  return decArith(op == 6 ? "plus" : op == 7 ? "minus" : op == 8 ? "mul" : "div", a, b);
}

function setOp(isAnd: bool): usize {
  let a = arg(0), b = arg(1);
  if (tag(a) != T_SET) return typeErr(1, "set", a);
  if (tag(b) != T_SET) return typeErr(2, "set", b);
  let r = mkObj(T_SET, objCount(a));
  let n = objCount(a);
  for (let i = 0; i < n; i++) { let k = entKey(a, i); if (!isAnd || objFind(b, k) >= 0) setAdd(r, k); }
  if (!isAnd) { n = objCount(b); for (let i = 0; i < n; i++) setAdd(r, entKey(b, i)); }
  return r;
}

/** Elements of an array or set as (address, count) in a scratch array; false if neither. */
let elems: usize = 0;
let nElems: i32 = 0;
function collect(v: usize, sorted: bool): bool {
  let t = tag(v);
  if (t == T_ARR) { elems = load<usize>(v, 12); nElems = arrLen(v); return true; }
  if (t == T_SET) {
    let n = objCount(v);
    elems = alloc(<usize>n << 2);
    let s = sorted ? sortedIdx(v) : 0;
    for (let i = 0; i < n; i++) store<usize>(elems + (<usize>i << 2), entKey(v, sorted ? sortedAt(s, i) : i));
    nElems = n;
    return true;
  }
  return false;
}
@inline function el(i: i32): usize { return load<usize>(elems + (<usize>i << 2)); }

function aggregate(id: i32): usize {
  let v = arg(0);
  if (id == 13) { // count
    let t = tag(v);
    if (t == T_ARR) return mkInt(arrLen(v));
    if (t == T_OBJ || t == T_SET) return mkInt(objCount(v));
    if (t == T_STR) return mkInt(cpCount(strData(v), strLen(v)));
    return typeErr(1, "one of {array, object, set, string}", v);
  }
  if (!collect(v, false)) return typeErr(1, "one of {array, set}", v);
  if (id == 14 || id == 15) {
    let isSum = id == 14;
    let allInt = true;
    let ai: i64 = isSum ? 0 : 1;
    for (let i = 0; i < nElems; i++) {
      let e = el(i);
      if (!isNumB(e)) return typeErr(1, isSum ? "one of {array[number], set[number]}" : "one of {array[number], set[number]}", v);
      if (tag(e) == T_FLOAT) allInt = false;
    }
    if (!allInt) {
      // OPA accumulates in a 64-bit big.Float starting from 0 (or 1): the host folds step by step,
      // each step's shortest text reading back as the same 64-bit value
      let acc = mkInt(isSum ? 0 : 1);
      for (let i = 0; i < nElems; i++) acc = arithNum(isSum ? 6 : 8, acc, el(i));
      return acc;
    }
    // all integers: OPA accumulates exact big integers; natively while 64 bits hold the total
    let i = 0;
    for (; i < nElems; i++) {
      let e = el(i);
      if (tag(e) != T_INT) break;
      let x = intOf(e);
      if (isSum) { let r = ai + x; if (((ai ^ r) & (x ^ r)) < 0) break; ai = r; }
      else {
        if (ai != 0 && x != 0) { let r = ai * x; if (r / x != ai || (x == -1 && ai == -9223372036854775807 - 1)) break; ai = r; }
        else ai = 0;
      }
    }
    if (i == nElems) return mkInt(ai);
    let acc = mkInt(ai);
    for (; i < nElems; i++) acc = intArith(isSum ? 6 : 8, acc, el(i));
    return acc;
  }
  // max / min
  if (nElems == 0) return 0;
  let best = el(0);
  for (let i = 1; i < nElems; i++) {
    let c = compareV(el(i), best);
    if ((id == 16 && c > 0) || (id == 17 && c < 0)) best = el(i);
  }
  return best;
}

// ---------- strings ----------

function cpCount(d: usize, n: usize): i32 {
  let c = 0;
  for (let i: usize = 0; i < n; i++) if ((load<u8>(d + i) & 0xc0) != 0x80) c++;
  return c;
}

/** Byte offset of code point index `idx` (clamped to n). */
function cpOffset(d: usize, n: usize, idx: i32): usize {
  let c = 0;
  for (let i: usize = 0; i < n; i++) {
    if ((load<u8>(d + i) & 0xc0) != 0x80) { if (c == idx) return i; c++; }
  }
  return n;
}

/** Decodes the code point at d[i]; its byte length goes to cpLen. */
let cpLen: usize = 1;
function decodeAt(d: usize, n: usize, i: usize): u32 {
  let c = <u32>load<u8>(d + i);
  if (c < 0x80) { cpLen = 1; return c; }
  let len: usize = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
  if (i + len > n) { cpLen = 1; return 0xfffd; }
  let cp: u32 = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
  for (let j: usize = 1; j < len; j++) cp = (cp << 6) | (<u32>load<u8>(d + i + j) & 63);
  cpLen = len;
  return cp;
}

/** Start of the code point that ends just before byte `i`. */
function prevStart(d: usize, i: usize): usize {
  let j = i - 1;
  while (j > 0 && (load<u8>(d + j) & 0xc0) == 0x80) j--;
  return j;
}

function find(h: usize, hn: usize, nd: usize, nn: usize, from: usize): isize {
  if (nn == 0) return <isize>from;
  if (nn > hn) return -1;
  let first = load<u8>(nd);
  for (let i = from; i + nn <= hn; i++) {
    if (load<u8>(h + i) == first && memory.compare(h + i, nd, nn) == 0) return <isize>i;
  }
  return -1;
}

function isSpaceCp(c: u32): bool {
  if (c == 32 || (c >= 9 && c <= 13)) return true;
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
    c == 0x202f || c == 0x205f || c == 0x3000;
}

/** In cutset string (d, n)? */
function inCutset(cs: usize, csn: usize, c: u32): bool {
  let i: usize = 0;
  while (i < csn) {
    let x = decodeAt(cs, csn, i);
    if (x == c) return true;
    i += cpLen;
  }
  return false;
}

/** mode: 0 both, 1 left, 2 right; cutset 0 = whitespace */
function trimImpl(s: usize, cs: usize, mode: i32): usize {
  let d = strData(s), n = strLen(s);
  let a: usize = 0, b = n;
  let csd: usize = cs == 0 ? 0 : strData(cs);
  let csn: usize = cs == 0 ? 0 : strLen(cs);
  if (mode != 2) {
    while (a < b) {
      let c = decodeAt(d, n, a);
      if (cs == 0 ? !isSpaceCp(c) : !inCutset(csd, csn, c)) break;
      a += cpLen;
    }
  }
  if (mode != 1) {
    while (b > a) {
      let st = prevStart(d, b);
      let c = decodeAt(d, n, st);
      if (cs == 0 ? !isSpaceCp(c) : !inCutset(csd, csn, c)) break;
      b = st;
    }
  }
  if (a == 0 && b == n) return s;
  return mkStr(d + a, b - a);
}

function caseMap(s: usize, upper: bool): usize {
  let d = strData(s), n = strLen(s);
  for (let i: usize = 0; i < n; i++) if (load<u8>(d + i) >= 0x80) return FALLBACK;
  let r = alloc(n);
  for (let i: usize = 0; i < n; i++) {
    let c = load<u8>(d + i);
    if (upper && c >= 97 && c <= 122) c -= 32;
    else if (!upper && c >= 65 && c <= 90) c += 32;
    store<u8>(r + i, c);
  }
  return mkStr(r, n);
}

function concatStr(a: usize, an: usize, b: usize, bn: usize): usize {
  let r = alloc(an + bn);
  memory.copy(r, a, an);
  memory.copy(r + an, b, bn);
  return mkStr(r, an + bn);
}

function strings(id: i32): usize {
  let a = arg(0);
  switch (id) {
    case 29: { // concat(delimiter, collection)
      if (tag(a) != T_STR) return typeErr(1, "string", a);
      let c = arg(1);
      if (!collect(c, true)) return typeErr(2, "one of {array[string], set[string]}", c);
      bStart(64);
      for (let i = 0; i < nElems; i++) {
        let e = el(i);
        if (tag(e) != T_STR) return typeErr(2, "one of {array[string], set[string]}", c);
        if (i > 0) bBytes(strData(a), strLen(a));
        bBytes(strData(e), strLen(e));
      }
      return mkStr(bPtr, bLen);
    }
    case 33: case 34: case 42: case 56: {
      if (tag(a) != T_STR) return typeErr(1, "string", a);
      if (id == 33) return caseMap(a, false);
      if (id == 34) return caseMap(a, true);
      if (id == 42) return trimImpl(a, 0, 0);
      // strings.reverse
      let d = strData(a), n = strLen(a);
      let r = alloc(n);
      let i: usize = 0;
      while (i < n) {
        decodeAt(d, n, i);
        memory.copy(r + n - i - cpLen, d + i, cpLen);
        i += cpLen;
      }
      return mkStr(r, n);
    }
  }
  let b = arg(1);
  if (tag(a) != T_STR) return typeErr(1, "string", a);
  if (tag(b) != T_STR) return typeErr(2, "string", b);
  let d = strData(a), n = strLen(a), bd = strData(b), bn = strLen(b);
  switch (id) {
    case 30: return mkBool(bn <= n && memory.compare(d, bd, bn) == 0);
    case 31: return mkBool(bn <= n && memory.compare(d + n - bn, bd, bn) == 0);
    case 32: return mkBool(find(d, n, bd, bn, 0) >= 0);
    case 35: { // split
      let r = mkArr(4);
      if (bn == 0) {
        let i: usize = 0;
        while (i < n) { decodeAt(d, n, i); arrPush(r, mkStr(d + i, cpLen)); i += cpLen; }
        return r;
      }
      let from: usize = 0;
      while (true) {
        let at = find(d, n, bd, bn, from);
        if (at < 0) { arrPush(r, mkStr(d + from, n - from)); return r; }
        arrPush(r, mkStr(d + from, <usize>at - from));
        from = <usize>at + bn;
      }
      return r;
    }
    case 36: { // replace(s, old, new)
      let c = arg(2);
      if (tag(c) != T_STR) return typeErr(3, "string", c);
      let cd = strData(c), cn = strLen(c);
      bStart(n + 16);
      if (bn == 0) {
        let i: usize = 0;
        bBytes(cd, cn);
        while (i < n) { decodeAt(d, n, i); bBytes(d + i, cpLen); bBytes(cd, cn); i += cpLen; }
        return mkStr(bPtr, bLen);
      }
      let from: usize = 0;
      while (true) {
        let at = find(d, n, bd, bn, from);
        if (at < 0) { bBytes(d + from, n - from); break; }
        bBytes(d + from, <usize>at - from);
        bBytes(cd, cn);
        from = <usize>at + bn;
      }
      return mkStr(bPtr, bLen);
    }
    case 37: return trimImpl(a, b, 0);
    case 38: return trimImpl(a, b, 1);
    case 39: return trimImpl(a, b, 2);
    case 40: return bn <= n && memory.compare(d, bd, bn) == 0 ? mkStr(d + bn, n - bn) : a;
    case 41: return bn <= n && memory.compare(d + n - bn, bd, bn) == 0 ? mkStr(d, n - bn) : a;
    case 43: { // indexof: code point index
      let at = find(d, n, bd, bn, 0);
      if (at < 0) return mkInt(-1);
      return mkInt(cpCount(d, <usize>at));
    }
  }
  return 0;
}

function intArg(i: i32, v: usize): bool {
  if (!isNum(v)) { typeErr(i, "number", v); return false; }
  if (!asInt(v)) { bErr("operand must be an integer"); return false; }
  return true;
}

function substring(): usize {
  let s = arg(0), st = arg(1), ln = arg(2);
  if (tag(s) != T_STR) return typeErr(1, "string", s);
  if (!intArg(2, st)) return 0;
  let start = intScratch;
  if (!intArg(3, ln)) return 0;
  let len = intScratch;
  let d = strData(s), n = strLen(s);
  let count = <i64>cpCount(d, n);
  if (start >= count) return EMPTY_STR;
  if (start < 0) return bErr("negative offset");
  let a = cpOffset(d, n, <i32>start);
  let b: usize = n;
  if (len >= 0 && start + len < count) b = cpOffset(d, n, <i32>(start + len));
  return mkStr(d + a, b - a);
}

// ---------- arrays, objects, membership, numbers ----------

function arrays(id: i32): usize {
  let a = arg(0);
  if (id == 45) {
    let b = arg(1);
    if (tag(a) != T_ARR) return typeErr(1, "array", a);
    if (tag(b) != T_ARR) return typeErr(2, "array", b);
    let r = mkArr(arrLen(a) + arrLen(b));
    for (let i = 0; i < arrLen(a); i++) arrPush(r, arrGet(a, i));
    for (let i = 0; i < arrLen(b); i++) arrPush(r, arrGet(b, i));
    return r;
  }
  if (id == 46) {
    if (tag(a) != T_ARR) return typeErr(1, "array", a);
    if (!intArg(2, arg(1))) return 0;
    let s = intScratch;
    if (!intArg(3, arg(2))) return 0;
    let e = intScratch;
    let n = <i64>arrLen(a);
    if (s < 0) s = 0;
    if (e > n) e = n;
    let r = mkArr(4);
    for (let i = s; i < e; i++) arrPush(r, arrGet(a, <i32>i));
    return r;
  }
  // array.reverse
  if (tag(a) != T_ARR) return typeErr(1, "array", a);
  let n = arrLen(a);
  let r = mkArr(n);
  for (let i = n - 1; i >= 0; i--) arrPush(r, arrGet(a, i));
  return r;
}

function member(id: i32): usize {
  if (id == 26) {
    let x = arg(0), c = arg(1);
    let t = tag(c);
    if (t == T_SET) return mkBool(objFind(c, x) >= 0);
    if (t == T_ARR) { for (let i = 0; i < arrLen(c); i++) if (equalV(arrGet(c, i), x)) return mkBool(true); }
    else if (t == T_OBJ) { for (let i = 0; i < objCount(c); i++) if (equalV(entVal(c, i), x)) return mkBool(true); }
    return mkBool(false);
  }
  let k = arg(0), v = arg(1), c = arg(2);
  let t = tag(c);
  if (t == T_ARR || t == T_OBJ) {
    let got = dotV(c, k);
    return mkBool(got != 0 && equalV(got, v));
  }
  return mkBool(false);
}

function objectGet(): usize {
  let o = arg(0), k = arg(1), dflt = arg(2);
  if (tag(o) != T_OBJ) return typeErr(1, "object", o);
  if (tag(k) == T_ARR) {
    let cur = o;
    for (let i = 0; i < arrLen(k); i++) {
      cur = dotV(cur, arrGet(k, i));
      if (cur == 0) return dflt;
    }
    return cur;
  }
  let r = objGet(o, k);
  return r == 0 ? dflt : r;
}

function rounding(id: i32): usize {
  let a = arg(0);
  if (!isNum(a)) return typeErr(1, "number", a);
  if (tag(a) == T_INT) {
    if (id == 47) {
      let x = intOf(a);
      if (x == -9223372036854775807 - 1) return overflow();
      return x < 0 ? mkInt(-x) : a;
    }
    return a;
  }
  // a decimal: exact natively when short enough that OPA's 64-bit rounding of it changes nothing
  if (!shortDec(a)) return decArith(id == 47 ? "abs" : id == 48 ? "round" : id == 49 ? "ceil" : "floor", a, mkInt(0));
  if (id == 47) {
    if (!decNeg(a)) return a;
    let p = alloc(32);
    memory.copy(p, a, 32);
    store<i32>(p, 0, 4);
    store<f64>(p, -floatOf(a), 8);
    return p;
  }
  if (decLen(a) + decExp(a) > 15) return decArith(id == 48 ? "round" : id == 49 ? "ceil" : "floor", a, mkInt(0));
  return decToInt(a, id == 48 ? 2 : id == 49 ? 1 : 0);
}

function typeChecks(id: i32): usize {
  let t = tag(arg(0));
  switch (id) {
    case 18: return mkBool(t == T_INT || t == T_FLOAT || t == T_BIG);
    case 19: return mkBool(t == T_STR);
    case 20: return mkBool(t == T_BOOL);
    case 21: return mkBool(t == T_ARR);
    case 22: return mkBool(t == T_SET);
    case 23: return mkBool(t == T_OBJ);
    case 24: return mkBool(t == T_NULL);
  }
  return mkLit(typeName(arg(0)));
}

function setsOfSets(isInter: bool): usize {
  let s = arg(0);
  if (tag(s) != T_SET) return typeErr(1, "set[set[any]]", s);
  let n = objCount(s);
  for (let i = 0; i < n; i++) if (tag(entKey(s, i)) != T_SET) return typeErr(1, "set[set[any]]", s);
  let r = mkObj(T_SET, 4);
  if (!isInter) {
    for (let i = 0; i < n; i++) { let e = entKey(s, i); for (let j = 0; j < objCount(e); j++) setAdd(r, entKey(e, j)); }
    return r;
  }
  if (n == 0) return r;
  let first = entKey(s, 0);
  for (let j = 0; j < objCount(first); j++) {
    let x = entKey(first, j);
    let all = true;
    for (let i = 1; i < n; i++) if (objFind(entKey(s, i), x) < 0) { all = false; break; }
    if (all) setAdd(r, x);
  }
  return r;
}

function misc(id: i32): usize {
  let a = arg(0);
  switch (id) {
    case 53: { // object.keys
      if (tag(a) != T_OBJ) return typeErr(1, "object", a);
      let r = mkObj(T_SET, objCount(a));
      for (let i = 0; i < objCount(a); i++) setAdd(r, entKey(a, i));
      return r;
    }
    case 55: { // sort
      if (!collect(a, true)) return typeErr(1, "one of {array, set}", a);
      let r = mkArr(nElems);
      for (let i = 0; i < nElems; i++) arrPush(r, el(i));
      if (tag(a) == T_ARR) sortValues(load<usize>(r, 12), nElems);
      return r;
    }
    case 57: { // to_number
      let t = tag(a);
      if (t == T_NULL) return mkInt(0);
      if (t == T_BOOL) return mkInt(load<i32>(a, 4) != 0 ? 1 : 0);
      if (t == T_INT || t == T_FLOAT) return a;
      if (t != T_STR) return typeErr(1, "one of {null, boolean, number, string}", a);
      let d = strData(a), n = strLen(a);
      // OPA singles out the spellings Go's ParseFloat would read as NaN/±Inf: a type error, not a syntax error
      if (isNanOrInfSpelling(d, n)) return typeErr(1, "valid number string", a);
      if (!validNumber(d, n)) return bErr("invalid syntax");
      return numberFromText(d, n);
    }
    case 58: return jsonString(a); // json.marshal
    case 59: return objectSubset(a, arg(1));
  }
  return 0;
}

// ---------- object.subset (native because the host would see sets as arrays) ----------
//
// OPA's rules: object ⊇ object key by key (equal values, or recursively for two objects, two sets
// or two arrays); set ⊇ set by membership; array ⊇ array when sub appears as a contiguous run;
// array ⊇ set when counting super's elements found in sub reaches |sub| (OPA counts repeated
// elements again, and an empty array never contains even the empty set: kept as OPA answers).

function objectSubset(sup: usize, sub: usize): usize {
  let ts = tag(sup), tb = tag(sub);
  if (ts != T_OBJ && ts != T_SET && ts != T_ARR) return typeErr(1, "one of {object, set, array}", sup);
  if (tb != T_OBJ && tb != T_SET && tb != T_ARR) return typeErr(2, "one of {object, set, array}", sub);
  if (ts == tb) return mkBool(sameKindSubset(sup, sub));
  if (ts == T_ARR && tb == T_SET) return mkBool(arrayHasSet(sup, sub));
  if (!isStrict()) return 0;
  bStart(96);
  bLit("eval_type_error: object.subset: both arguments must be of the same type or array and set");
  abortBuilt();
  return 0;
}

/** Subset for two values of the same kind (object, set or array). */
function sameKindSubset(sup: usize, sub: usize): bool {
  let t = tag(sup);
  if (t == T_SET) {
    let n = objCount(sub);
    for (let i = 0; i < n; i++) if (objFind(sup, entKey(sub, i)) < 0) return false;
    return true;
  }
  if (t == T_ARR) {
    let m = arrLen(sub), n = arrLen(sup);
    if (m > n) return false;
    for (let start = 0; start + m <= n; start++) {
      let j = 0;
      while (j < m && compareV(arrGet(sup, start + j), arrGet(sub, j)) == 0) j++;
      if (j == m) return true;
    }
    return false;
  }
  let n = objCount(sub);
  for (let i = 0; i < n; i++) {
    let e = objFind(sup, entKey(sub, i));
    if (e < 0) return false;
    let pv = entVal(sup, e), sv = entVal(sub, i);
    if (equalV(pv, sv)) continue;
    let tp = tag(pv);
    if (tp != tag(sv) || (tp != T_OBJ && tp != T_SET && tp != T_ARR)) return false;
    if (!sameKindSubset(pv, sv)) return false;
  }
  return true;
}

function arrayHasSet(sup: usize, sub: usize): bool {
  let unmatched = objCount(sub);
  let n = arrLen(sup);
  for (let i = 0; i < n; i++) {
    if (objFind(sub, arrGet(sup, i)) >= 0) unmatched--;
    if (unmatched == 0) return true;
  }
  return false;
}

/** Whether `d[0..n)` is, ignoring ASCII case and one leading sign, "nan", "inf" or "infinity". */
function isNanOrInfSpelling(d: usize, n: usize): bool {
  let i: usize = 0;
  if (n > 0 && (load<u8>(d) == 43 || load<u8>(d) == 45)) i = 1;
  let len = n - i;
  if (len != 3 && len != 8) return false;
  let word = len == 8 ? "infinity" : (((load<u8>(d + i) | 32) == 110) ? "nan" : "inf");
  for (let j: usize = 0; j < len; j++) {
    if ((load<u8>(d + i + j) | 32) != <u32>word.charCodeAt(<i32>j)) return false;
  }
  return true;
}

/** JSON number grammar (optionally with a leading '+', as Go's ParseFloat accepts). */
function validNumber(d: usize, n: usize): bool {
  let i: usize = 0;
  if (i < n && load<u8>(d) == 45) i++;
  let digits: usize = 0;
  while (i < n && load<u8>(d + i) >= 48 && load<u8>(d + i) <= 57) { i++; digits++; }
  if (digits == 0) return false;
  if (digits > 1 && load<u8>(d + (load<u8>(d) == 45 ? 1 : 0)) == 48) return false;
  if (i < n && load<u8>(d + i) == 46) {
    i++;
    let f: usize = 0;
    while (i < n && load<u8>(d + i) >= 48 && load<u8>(d + i) <= 57) { i++; f++; }
    if (f == 0) return false;
  }
  if (i < n && (load<u8>(d + i) == 101 || load<u8>(d + i) == 69)) {
    i++;
    if (i < n && (load<u8>(d + i) == 43 || load<u8>(d + i) == 45)) i++;
    let e: usize = 0;
    while (i < n && load<u8>(d + i) >= 48 && load<u8>(d + i) <= 57) { i++; e++; }
    if (e == 0) return false;
  }
  return i == n;
}

const MAX_SAFE: i64 = 9007199254740991;

/** Appends an integer's decimal digits to the builder without allocating. */
function bDecimal(i: i64): void {
  // the magnitude as u64: -i overflows for -2^63
  let v: u64 = i < 0 ? <u64>0 - <u64>i : <u64>i;
  if (i < 0) bByte(45);
  let nd: usize = 1;
  for (let t = v; t >= 10; t /= 10) nd++;
  let start = bLen;
  for (let k: usize = 0; k < nd; k++) bByte(48);
  let p = bPtr + start + nd;
  do { p--; store<u8>(p, <u8>(48 + <i32>(v % 10))); v /= 10; } while (v != 0);
}

// sprintf(format, values) for what policies write most: %s and %v of strings, booleans, null and
// integers (%s of an integer only as %v), %d of integers, and %%. Every argument is formatted the way
// the host's Go-semantics implementation would (OPA turns booleans and null into their Rego text, a
// string). Anything else — flags, width, precision, other verbs, floats, composites, missing or extra
// arguments, integers beyond 2^53 (which the host refuses) — is handed to the host: FALLBACK.
function sprintfPlain(): usize {
  let f = arg(0), a = arg(1);
  if (tag(f) != T_STR || tag(a) != T_ARR) return FALLBACK;
  let d = strData(f), n = strLen(f);
  let na = arrLen(a);
  let ai = 0;
  bStart(n + 64);
  let i: usize = 0;
  while (i < n) {
    let c = load<u8>(d + i);
    if (c != 37) { bByte(c); i++; continue; }
    if (i + 1 >= n) return FALLBACK;
    let verb = load<u8>(d + i + 1);
    i += 2;
    if (verb == 37) { bByte(37); continue; }
    if (ai >= na) return FALLBACK;
    let v = arrGet(a, ai++);
    let t = tag(v);
    if (t == T_BIG) {
      // an integer beyond 64 bits prints its exact digits for %d, %s and %v, as OPA's big integers do
      if (verb != 100 && verb != 115 && verb != 118) return FALLBACK;
      if (bigNeg(v)) bByte(45);
      bBytes(bigData(v), <usize>bigLen(v));
    } else if (t == T_INT) {
      let x = intOf(v);
      if ((verb != 100 && verb != 118) || x > MAX_SAFE || x < -MAX_SAFE) return FALLBACK;
      bDecimal(x);
    } else if (verb != 115 && verb != 118) {
      return FALLBACK;
    } else if (t == T_STR) {
      bBytes(strData(v), strLen(v));
    } else if (t == T_BOOL) {
      bLit(boolOf(v) ? "true" : "false");
    } else if (t == T_NULL) {
      bLit("null");
    } else {
      return FALLBACK;
    }
  }
  if (ai != na) return FALLBACK;
  return mkStr(bPtr, bLen);
}

// ---------- time.now_ns ----------

// The host may hand the evaluation's instant in before evaluating (pdp_set_now_ns, exported by index.ts)
// so time.now_ns() needs no host call; the host fixes the same instant for its own time built-ins. It
// holds for one evaluation only (clearNow after each); without it, time.now_ns() asks the host.
let nowNs: i64 = 0;
let nowSet = false;

export function setNow(ns: i64): void { nowNs = ns; nowSet = true; }
export function clearNow(): void { nowSet = false; }

// ---------- time.parse_rfc3339_ns ----------

@inline function digitAt(d: usize, i: usize): i32 {
  let c = <i32>load<u8>(d + i) - 48;
  return c >= 0 && c <= 9 ? c : -1000000;
}

function num2(d: usize, i: usize): i32 { return digitAt(d, i) * 10 + digitAt(d, i + 1); }

function isLeap(y: i64): bool { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: i64, m: i64, d: i64): i64 {
  if (m <= 2) y -= 1;
  let era = (y >= 0 ? y : y - 399) / 400;
  let yoe = y - era * 400;
  let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// time.parse_rfc3339_ns for well-formed stamps `YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|±HH:MM)` (T/Z either case)
// with every field in range and the year in 1678..2261 (so the nanoseconds fit an int64 whatever the
// offset). Anything else, including every error, goes to the host, which words the errors: FALLBACK.
function parseRfc3339Plain(): usize {
  let s = arg(0);
  if (tag(s) != T_STR) return FALLBACK;
  let d = strData(s), n = strLen(s);
  if (n < 20) return FALLBACK;
  if (load<u8>(d + 4) != 45 || load<u8>(d + 7) != 45 || load<u8>(d + 13) != 58 || load<u8>(d + 16) != 58) return FALLBACK;
  let t = load<u8>(d + 10);
  if (t != 84 && t != 116) return FALLBACK;
  let y = num2(d, 0) * 100 + num2(d, 2), mo = num2(d, 5), dd = num2(d, 8);
  let h = num2(d, 11), mi = num2(d, 14), se = num2(d, 17);
  if (y < 1678 || y > 2261 || mo < 1 || mo > 12 || dd < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return FALLBACK;
  let dim = mo == 2 ? (isLeap(y) ? 29 : 28) : (mo == 4 || mo == 6 || mo == 9 || mo == 11 ? 30 : 31);
  if (dd > dim) return FALLBACK;
  let i: usize = 19;
  let frac: i64 = 0;
  if (load<u8>(d + i) == 46) {
    i++;
    let nd = 0;
    while (i < n && nd < 10) {
      let c = digitAt(d, i);
      if (c < 0) break;
      frac = frac * 10 + c;
      nd++;
      i++;
    }
    if (nd == 0 || nd > 9) return FALLBACK;
    for (let k = nd; k < 9; k++) frac *= 10;
  }
  if (i >= n) return FALLBACK;
  let z = load<u8>(d + i);
  let off: i64 = 0;
  if (z == 90 || z == 122) {
    if (i + 1 != n) return FALLBACK;
  } else if (z == 43 || z == 45) {
    if (i + 6 != n || load<u8>(d + i + 3) != 58) return FALLBACK;
    let oh = num2(d, i + 1), om = num2(d, i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return FALLBACK;
    off = <i64>(oh * 3600 + om * 60);
    if (z == 45) off = -off;
  } else {
    return FALLBACK;
  }
  let secs = daysFromCivil(y, mo, dd) * 86400 + <i64>(h * 3600 + mi * 60 + se) - off;
  return mkInt(secs * 1000000000 + frac);
}

// ---------- glob.match ----------

const G_STAR: i32 = -1;   // `*`: a run of non-delimiter bytes
const G_DSTAR: i32 = -2;  // `**`: any run

// glob.match(pattern, delimiters, value) for patterns made of literal characters, `*` and `**`, with
// delimiters null (none), [] (the default ".") or single ASCII characters. Matched bytewise by an NFA
// over pattern positions, O(len(value) × len(pattern)): UTF-8 continuation bytes never equal an ASCII
// delimiter, so bytes stand in for characters. `?`, `[...]`, `{...}`, `\`, other delimiters, and every
// type error go to the host's RE2 translation: FALLBACK.
function globMatchPlain(): usize {
  let p = arg(0), dl = arg(1), v = arg(2);
  if (tag(p) != T_STR || tag(v) != T_STR) return FALLBACK;
  let dt = tag(dl);
  let dels = alloc(8);
  let nd = 0;
  if (dt == T_ARR) {
    let k = arrLen(dl);
    if (k == 0) { store<u8>(dels, 46); nd = 1; }
    else {
      if (k > 8) return FALLBACK;
      for (let j = 0; j < k; j++) {
        let e = arrGet(dl, j);
        if (tag(e) != T_STR || strLen(e) != 1 || load<u8>(strData(e)) >= 0x80) return FALLBACK;
        store<u8>(dels + <usize>j, load<u8>(strData(e)));
      }
      nd = k;
    }
  } else if (dt != T_NULL) {
    return FALLBACK;
  }
  let pd = strData(p), pn = strLen(p);
  if (pn > 512) return FALLBACK;
  // tokens: a literal byte, G_STAR or G_DSTAR
  let toks = alloc((pn + 1) << 2);
  let m = 0;
  let i: usize = 0;
  while (i < pn) {
    let c = load<u8>(pd + i);
    if (c == 92 || c == 63 || c == 91 || c == 93 || c == 123 || c == 125) return FALLBACK; // \ ? [ ] { }
    if (c == 42) {
      if (i + 1 < pn && load<u8>(pd + i + 1) == 42) { store<i32>(toks + (<usize>m << 2), G_DSTAR); i += 2; }
      else { store<i32>(toks + (<usize>m << 2), G_STAR); i++; }
    } else {
      store<i32>(toks + (<usize>m << 2), <i32>c);
      i++;
    }
    m++;
  }
  let cur = alloc(<usize>m + 1), nxt = alloc(<usize>m + 1);
  memory.fill(cur, 0, <usize>m + 1);
  store<u8>(cur, 1);
  globClose(toks, m, cur);
  let vd = strData(v), vn = strLen(v);
  for (let j: usize = 0; j < vn; j++) {
    let c = <i32>load<u8>(vd + j);
    let isDel = false;
    for (let k = 0; k < nd; k++) if (<i32>load<u8>(dels + <usize>k) == c) { isDel = true; break; }
    memory.fill(nxt, 0, <usize>m + 1);
    let any = false;
    for (let q = 0; q < m; q++) {
      if (load<u8>(cur + <usize>q) == 0) continue;
      let t = load<i32>(toks + (<usize>q << 2));
      if (t == c) { store<u8>(nxt + <usize>q + 1, 1); any = true; }
      else if (t == G_DSTAR || (t == G_STAR && !isDel)) { store<u8>(nxt + <usize>q, 1); any = true; }
    }
    if (!any) return mkBool(false);
    let tmp = cur; cur = nxt; nxt = tmp;
    globClose(toks, m, cur);
  }
  return mkBool(load<u8>(cur + <usize>m) != 0);
}

/** A star may match nothing: reaching it also reaches the position after it. */
function globClose(toks: usize, m: i32, set: usize): void {
  for (let q = 0; q < m; q++) {
    if (load<u8>(set + <usize>q) != 0 && load<i32>(toks + (<usize>q << 2)) < 0) store<u8>(set + <usize>q + 1, 1);
  }
}

// ---------- regex.match ----------

// regex.match(pattern, value) for fully anchored patterns `^…$` built from ASCII literals, escaped
// punctuation, \d \w \s, positive classes `[…]` of characters, ranges and those escapes, each
// optionally repeated by ? * + {n} {n,} {n,m} (n, m ≤ 64; a trailing ? for laziness changes nothing when
// only whether the whole value matches is asked). RE2 semantics for these: ^ and $ are the ends of the
// text, classes match code points, so a non-ASCII character matches none of them, exactly as no byte
// of its UTF-8 matches. Matched by an NFA over the expanded items, linear in the value. Groups,
// alternation, `.`, negated classes, flags, other escapes, unanchored patterns, invalid patterns: the
// host's RE2 (FALLBACK).

const R_ONE: i32 = 0;  // exactly one character of the class
const R_OPT: i32 = 1;  // zero or one
const R_STAR: i32 = 2; // any number
const R_NODE: usize = 20; // kind i32, then a 128-bit class bitmap

let rxClass: usize = 0; // scratch bitmap of the atom being parsed (4 × u32)

function rxSet(c: u32): void {
  let w = rxClass + ((<usize>c >> 5) << 2);
  store<u32>(w, load<u32>(w) | (<u32>1 << (c & 31)));
}

function rxRange(a: u32, b: u32): void { for (let c = a; c <= b; c++) rxSet(c); }

/** \d \w \s into the scratch class; false for any other letter or digit escape. */
function rxEscape(c: u32): bool {
  if (c == 100) { rxRange(48, 57); return true; }
  if (c == 119) { rxRange(48, 57); rxRange(65, 90); rxRange(97, 122); rxSet(95); return true; }
  if (c == 115) { rxSet(9); rxSet(10); rxSet(12); rxSet(13); rxSet(32); return true; }
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c <= 0x20 || c >= 0x7f) return false;
  rxSet(c); // escaped punctuation is itself (RE2 refuses escaping anything else)
  return true;
}

function rxNum(d: usize, n: usize, i: usize): i32 {
  let v = 0;
  let k = i;
  while (k < n && load<u8>(d + k) >= 48 && load<u8>(d + k) <= 57 && k - i < 3) { v = v * 10 + <i32>load<u8>(d + k) - 48; k++; }
  rxLen = k - i;
  return k == i ? -1 : v;
}
let rxLen: usize = 0;

function rxEmit(nodes: usize, m: i32, kind: i32): i32 {
  let p = nodes + <usize>m * R_NODE;
  store<i32>(p, kind);
  memory.copy(p + 4, rxClass, 16);
  return m + 1;
}

function regexMatchAnchored(): usize {
  let p = arg(0), v = arg(1);
  if (tag(p) != T_STR || tag(v) != T_STR) return FALLBACK;
  let d = strData(p), n = strLen(p);
  if (n < 2 || n > 512 || load<u8>(d) != 94 || load<u8>(d + n - 1) != 36) return FALLBACK;
  if (n >= 3 && load<u8>(d + n - 2) == 92) return FALLBACK; // `\$` is a literal dollar, not the end
  n -= 1; // the closing $
  const MAXN: i32 = 512;
  let nodes = alloc(<usize>MAXN * R_NODE);
  rxClass = alloc(16);
  let m = 0;
  let i: usize = 1;
  while (i < n) {
    memory.fill(rxClass, 0, 16);
    let c = <u32>load<u8>(d + i);
    if (c >= 0x80 || c < 0x20) return FALLBACK;
    if (c == 92) {
      if (i + 1 >= n || !rxEscape(<u32>load<u8>(d + i + 1))) return FALLBACK;
      i += 2;
    } else if (c == 91) {
      i++;
      if (i >= n || load<u8>(d + i) == 94 || load<u8>(d + i) == 93) return FALLBACK; // [^…] or []…]
      let closed = false;
      while (i < n) {
        let a = <u32>load<u8>(d + i);
        if (a == 93) { closed = true; i++; break; }
        if (a >= 0x80 || a < 0x20 || a == 91) return FALLBACK;
        if (a == 92) {
          if (i + 1 >= n || !rxEscape(<u32>load<u8>(d + i + 1))) return FALLBACK;
          i += 2;
          if (i < n && load<u8>(d + i) == 45 && i + 1 < n && load<u8>(d + i + 1) != 93) return FALLBACK; // \d-x
          continue;
        }
        if (i + 2 < n && load<u8>(d + i + 1) == 45 && load<u8>(d + i + 2) != 93) {
          let b = <u32>load<u8>(d + i + 2);
          if (b >= 0x80 || b < 0x20 || b == 92 || b == 91 || b < a) return FALLBACK;
          rxRange(a, b);
          i += 3;
        } else {
          rxSet(a);
          i++;
        }
      }
      if (!closed) return FALLBACK;
    } else if (c == 46 || c == 94 || c == 36 || c == 124 || c == 40 || c == 41 || c == 93 || c == 123 || c == 125 || c == 42 || c == 43 || c == 63) {
      return FALLBACK; // . ^ $ | ( ) ] { } and a quantifier with nothing to repeat
    } else {
      rxSet(c);
      i++;
    }
    // the quantifier, if any
    let lo = 1, hi = 1; // hi < 0: unbounded
    if (i < n) {
      let q = load<u8>(d + i);
      if (q == 63) { lo = 0; hi = 1; i++; }
      else if (q == 42) { lo = 0; hi = -1; i++; }
      else if (q == 43) { lo = 1; hi = -1; i++; }
      else if (q == 123) {
        lo = rxNum(d, n, i + 1);
        if (lo < 0) return FALLBACK;
        let k = i + 1 + rxLen;
        if (k < n && load<u8>(d + k) == 125) { hi = lo; k++; }
        else if (k < n && load<u8>(d + k) == 44) {
          k++;
          if (k < n && load<u8>(d + k) == 125) { hi = -1; k++; }
          else {
            hi = rxNum(d, n, k);
            if (hi < 0) return FALLBACK;
            k += rxLen;
            if (k >= n || load<u8>(d + k) != 125) return FALLBACK;
            k++;
          }
        } else return FALLBACK;
        if (lo > 64 || hi > 64 || (hi >= 0 && hi < lo)) return FALLBACK;
        i = k;
      }
      if (i < n && load<u8>(d + i) == 63 && !(lo == 1 && hi == 1)) i++; // lazy: same answer here
      if (i < n) {
        let q2 = load<u8>(d + i);
        if (q2 == 63 || q2 == 42 || q2 == 43 || q2 == 123) return FALLBACK; // repeated repetition: RE2's call
      }
    }
    let copies = lo + (hi < 0 ? 1 : hi - lo);
    if (m + copies > MAXN) return FALLBACK;
    for (let k = 0; k < lo; k++) m = rxEmit(nodes, m, R_ONE);
    if (hi < 0) m = rxEmit(nodes, m, R_STAR);
    else for (let k = lo; k < hi; k++) m = rxEmit(nodes, m, R_OPT);
  }
  let cur = alloc(<usize>m + 1), nxt = alloc(<usize>m + 1);
  memory.fill(cur, 0, <usize>m + 1);
  store<u8>(cur, 1);
  rxClose(nodes, m, cur);
  let vd = strData(v), vn = strLen(v);
  for (let j: usize = 0; j < vn; j++) {
    let c = <u32>load<u8>(vd + j);
    if (c >= 0x80) return mkBool(false); // no item matches a non-ASCII character
    memory.fill(nxt, 0, <usize>m + 1);
    let any = false;
    for (let q = 0; q < m; q++) {
      if (load<u8>(cur + <usize>q) == 0) continue;
      let node = nodes + <usize>q * R_NODE;
      if ((load<u32>(node + 4 + ((<usize>c >> 5) << 2)) & (<u32>1 << (c & 31))) == 0) continue;
      store<u8>(nxt + <usize>q + (load<i32>(node) == R_STAR ? 0 : 1), 1);
      any = true;
    }
    if (!any) return mkBool(false);
    let tmp = cur; cur = nxt; nxt = tmp;
    rxClose(nodes, m, cur);
  }
  return mkBool(load<u8>(cur + <usize>m) != 0);
}

/** Optional and starred items may match nothing: reaching one also reaches the item after it. */
function rxClose(nodes: usize, m: i32, set: usize): void {
  for (let q = 0; q < m; q++) {
    if (load<u8>(set + <usize>q) != 0 && load<i32>(nodes + <usize>q * R_NODE) != R_ONE) store<u8>(set + <usize>q + 1, 1);
  }
}

/** Whether a value holds a BIG number anywhere (keys included). */
export function hasBig(v: usize): bool {
  let t = tag(v);
  if (t == T_BIG) return true;
  if (t == T_FLOAT) return decLen(v) > 15;
  if (t == T_ARR) {
    let n = arrLen(v);
    for (let i = 0; i < n; i++) if (hasBig(arrGet(v, i))) return true;
  } else if (t == T_OBJ || t == T_SET) {
    let n = objCount(v);
    for (let i = 0; i < n; i++) if (hasBig(entKey(v, i)) || (t == T_OBJ && hasBig(entVal(v, i)))) return true;
  }
  return false;
}

/** The native id of sprintf (its host fallback may receive long decimals: sprintfHostArgOk). */
export const SPRINTF_ID: i32 = 60;

/**
 * Whether sprintf's values array may go to the host although it holds decimals with more than 15
 * significant digits. OPA formats a number element that is not an integer as its float64
 * (ast.Number.Float64 in topdown/strings.go), so the host's double, read from the exact text (JS
 * Number() rounds correctly), is OPA's value itself. Only as direct elements: nested in a composite OPA
 * prints the exact text, which the host would lose. And only clearly non-integral normal doubles:
 * one near an integer would reach the host as an integer (a %d difference), one outside the normal
 * range as OPA's range-error text.
 */
export function sprintfHostArgOk(v: usize): bool {
  if (tag(v) != T_ARR) return !hasLongDecimal(v);
  let n = arrLen(v);
  for (let i = 0; i < n; i++) {
    let e = arrGet(v, i);
    if (tag(e) == T_FLOAT) {
      if (decLen(e) <= 15) continue;
      let f = Math.abs(floatOf(e));
      if (!(f >= 2.2250738585072014e-308 && f < 1e300)) return false;
      if (Math.abs(f - Math.round(f)) <= f * 4.5e-16) return false; // within ~2 ulps of an integer
    } else if (hasLongDecimal(e)) return false;
  }
  return true;
}

/** Whether a value holds a decimal with more than 15 significant digits (no JS double holds it exactly). */
export function hasLongDecimal(v: usize): bool {
  let t = tag(v);
  if (t == T_FLOAT) return decLen(v) > 15;
  if (t == T_ARR) {
    let n = arrLen(v);
    for (let i = 0; i < n; i++) if (hasLongDecimal(arrGet(v, i))) return true;
  } else if (t == T_OBJ || t == T_SET) {
    let n = objCount(v);
    for (let i = 0; i < n; i++) if (hasLongDecimal(entKey(v, i)) || (t == T_OBJ && hasLongDecimal(entVal(v, i)))) return true;
  }
  return false;
}

/**
 * Integers beyond 64 bits reach only what handles them exactly: comparisons, equality, type checks,
 * membership, sort, sprintf's %d/%s/%v, arithmetic and aggregates (bigSafe). Any other built-in (abs,
 * round, host calls, whose
 * arguments the SDK would parse as doubles) stops the evaluation rather than answer from a rounded value.
 */
export function refuseBig(fn: i32): void {
  abortLit("eval_internal_error: number out of supported range (integers beyond 64 bits, and decimals with more than 15 significant digits, are only compared, not computed with)");
}

/** Arithmetic, sum/product and abs/round/ceil/floor take decimals of any length (exact text to the host). */
@inline function decSafe(id: i32): bool { return (id >= 6 && id <= 9) || id == 14 || id == 15 || (id >= 47 && id <= 50); }

/** Whether a value holds a BIG integer anywhere. */
function hasBigInt(v: usize): bool {
  let t = tag(v);
  if (t == T_BIG) return true;
  if (t == T_ARR) {
    let n = arrLen(v);
    for (let i = 0; i < n; i++) if (hasBigInt(arrGet(v, i))) return true;
  } else if (t == T_SET) {
    let n = objCount(v);
    for (let i = 0; i < n; i++) if (hasBigInt(entKey(v, i))) return true;
  }
  return false;
}

// arithmetic, count, sum/product, max/min and the set operations handle BIG integers exactly (host big
// integers, comparisons, hashing) and long decimals (exact text to the host, or comparisons)
@inline function bigSafe(id: i32): bool { return id <= 17 || (id >= 18 && id <= 27) || id == 55 || id == 58 || id == 60 || id == 65 || id == 66 || id == 67; }

export function callNative(id: i32, n: i32, fr: usize, argp: usize): usize {
  frame = fr;
  argBase = argp;
  curName = id;
  for (let i = 0; i < n; i++) if (arg(i) == 0) return 0;
  if (bigSeen && !bigSafe(id)) for (let i = 0; i < n; i++) if (hasBig(arg(i)) && !(decSafe(id) && !hasBigInt(arg(i)))) refuseBig(id);
  if (id <= 5) {
    let c = compareV(arg(0), arg(1));
    switch (id) {
      case 0: return mkBool(equalV(arg(0), arg(1)));
      case 1: return mkBool(!equalV(arg(0), arg(1)));
      case 2: return mkBool(c < 0);
      case 3: return mkBool(c <= 0);
      case 4: return mkBool(c > 0);
      case 5: return mkBool(c >= 0);
    }
  }
  if (id <= 10) return arith(id);
  if (id == 11 || id == 12) return setOp(id == 11);
  if (id <= 17) return aggregate(id);
  if (id <= 25) return typeChecks(id);
  if (id <= 27) return member(id);
  if (id == 28) return objectGet();
  if (id <= 43) return strings(id);
  if (id == 44) return substring();
  if (id <= 46) return arrays(id);
  if (id <= 50) return rounding(id);
  if (id == 51 || id == 52) return setsOfSets(id == 51);
  if (id == 54) return arrays(id);
  if (id == 56) return strings(id);
  if (id == 60) return sprintfPlain();
  if (id == 61) return parseRfc3339Plain();
  if (id == 62) return globMatchPlain();
  if (id == 63) return nowSet ? mkInt(nowNs) : FALLBACK;
  if (id == 64) return regexMatchAnchored();
  if (id == 65) return printLines(arg(0));
  if (id == 66) return walkAll(arg(0));
  if (id == 67) return templateString(arg(0));
  return misc(id);
}

// ---------- internal.print and internal.template_string ----------
//
// What `print(a, b, …)` and `$"…{x}…"` compile to: an array of parts, each a value written as it is
// or a set holding every value of an expression (empty when it is undefined). As OPA does, one line is
// formed per combination of the sets' values, in sorted order: strings bare, other values as OPA's
// String() writes them, "<undefined>" for an empty set. print joins the parts with spaces and writes
// each line to the SDK's opa_println import (never undefined: print does not stop a body); a template
// joins them with nothing and must form exactly one string.

/** print (true) or template_string (false) */
let crossPrint = true;
let crossCount = 0;
let crossResult: usize = 0;

function printLines(parts: usize): usize {
  if (tag(parts) != T_ARR) return typeErr(1, "array", parts);
  crossPrint = true;
  crossFrom(parts, alloc((<usize>arrLen(parts) + 1) << 2), 0, arrLen(parts));
  return mkBool(true);
}

function templateString(parts: usize): usize {
  if (tag(parts) != T_ARR) return typeErr(1, "array", parts);
  crossPrint = false;
  crossCount = 0;
  crossResult = EMPTY_STR;
  crossFrom(parts, alloc((<usize>arrLen(parts) + 1) << 2), 0, arrLen(parts));
  return crossResult;
}

/** chosen[j] is the value picked for part j; 0 for an empty set */
function crossFrom(parts: usize, chosen: usize, i: i32, n: i32): void {
  if (i == n) {
    bStart(128);
    for (let j = 0; j < n; j++) {
      if (j > 0 && crossPrint) bByte(32);
      let v = load<usize>(chosen + (<usize>j << 2));
      if (v == 0) bLit("<undefined>");
      else if (tag(v) == T_STR) bBytes(strData(v), strLen(v));
      else dumpSpaced(v);
    }
    if (crossPrint) {
      opa_println(bEnd());
      return;
    }
    crossCount++;
    if (crossCount > 1) abortLit("eval_conflict_error: template-strings must not produce multiple outputs");
    crossResult = mkStr(bPtr, bLen);
    return;
  }
  let s = arrGet(parts, i);
  if (tag(s) != T_SET) {
    store<usize>(chosen + (<usize>i << 2), s);
    crossFrom(parts, chosen, i + 1, n);
    return;
  }
  let m = objCount(s);
  if (m == 0) {
    store<usize>(chosen + (<usize>i << 2), 0);
    crossFrom(parts, chosen, i + 1, n);
    return;
  }
  let idx = sortedIdx(s);
  for (let k = 0; k < m; k++) {
    store<usize>(chosen + (<usize>i << 2), entKey(s, sortedAt(idx, k)));
    crossFrom(parts, chosen, i + 1, n);
  }
}

// ---------- walk ----------
//
// Every [path, value] pair of a document, in OPA's order: the node itself first (path []), then its
// children: array elements by index, object entries and set elements in sorted order (a set element's
// path key is the element). The planner iterates the array this returns.

function walkAll(v: usize): usize {
  let out = mkArr(8);
  walkInto(out, mkArr(0), v);
  return out;
}

function walkInto(out: usize, path: usize, v: usize): void {
  let pair = mkArr(2);
  arrPush(pair, path);
  arrPush(pair, v);
  arrPush(out, pair);
  let t = tag(v);
  if (t == T_ARR) {
    for (let i = 0; i < arrLen(v); i++) walkInto(out, pathWith(path, mkInt(i)), arrGet(v, i));
  } else if (t == T_OBJ || t == T_SET) {
    let n = objCount(v);
    let idx = sortedIdx(v);
    for (let i = 0; i < n; i++) {
      let e = sortedAt(idx, i);
      walkInto(out, pathWith(path, entKey(v, e)), t == T_OBJ ? entVal(v, e) : entKey(v, e));
    }
  }
}

function pathWith(path: usize, key: usize): usize {
  let n = arrLen(path);
  let p = mkArr(n + 1);
  for (let i = 0; i < n; i++) arrPush(p, arrGet(path, i));
  arrPush(p, key);
  return p;
}
