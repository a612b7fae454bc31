// JSON and Rego-value text <-> values.
//
// Numbers: an integer literal is an INT when it fits 64 bits, a BIG (its exact digits) beyond that; any
// other number is parsed as a double (AssemblyScript's strtod). Numbers beyond the double range such as
// 1e400 abort the evaluation with
// "eval_internal_error: number out of supported range" instead of being approximated silently.
import { alloc, abortLit, bStart, bByte, bBytes, bLit, bI64, bEnd, bPtr, bLen } from "./mem";
import { strtod } from "util/string";
import {
  T_NULL, T_BOOL, T_INT, T_FLOAT, T_BIG, mkBig, bigNeg, bigLen, bigData, T_STR, T_ARR, T_OBJ, T_SET, NULLV, TRUEV, FALSEV, EMPTY_STR,
  tag, boolOf, intOf, mkInt, mkDec, decNeg, decLen, decData, decExp, mkStr, strLen, strData, mkArr, arrPush, arrLen, arrGet,
  mkObj, objPut, objCount, entKey, entVal, sortedIdx, sortedAt,
} from "./value";

let p: usize = 0;
let end: usize = 0;
let ok = true;
let regoSyntax = false;

/** Parses JSON (or, with rego = true, Rego value syntax with sets). Returns 0 on a syntax error. */
export function parseText(addr: usize, len: usize, rego: bool): usize {
  p = addr;
  end = addr + len;
  ok = true;
  regoSyntax = rego;
  skipWs();
  let v = parseValue(0);
  skipWs();
  if (!ok || p != end) return 0;
  return v;
}

@inline function peek(): u32 { return p < end ? <u32>load<u8>(p) : 0; }

function skipWs(): void {
  while (p < end) {
    let c = load<u8>(p);
    if (c == 32 || c == 9 || c == 10 || c == 13) p++; else break;
  }
}

function lit(s: string): bool {
  let n = <usize>s.length;
  if (p + n > end) return false;
  for (let i: usize = 0; i < n; i++) if (load<u8>(p + i) != <u8>s.charCodeAt(<i32>i)) return false;
  p += n;
  return true;
}

function parseValue(depth: i32): usize {
  if (depth > 1000) { ok = false; return 0; }
  let c = peek();
  if (c == 123) return parseObject(depth); // {
  if (c == 91) { // [
    p++;
    let a = mkArr(4);
    skipWs();
    if (peek() == 93) { p++; return a; }
    while (ok) {
      skipWs();
      let v = parseValue(depth + 1);
      if (!ok) return 0;
      arrPush(a, v);
      skipWs();
      let d = peek();
      if (d == 44) { p++; continue; }
      if (d == 93) { p++; return a; }
      ok = false;
    }
    return 0;
  }
  if (c == 34) return parseString();
  if (c == 116) { if (lit("true")) return TRUEV; ok = false; return 0; }
  if (c == 102) { if (lit("false")) return FALSEV; ok = false; return 0; }
  if (c == 110) { if (lit("null")) return NULLV; ok = false; return 0; }
  if (c == 115 && regoSyntax) { if (lit("set()")) return mkObj(T_SET, 0); ok = false; return 0; }
  if (c == 45 || (c >= 48 && c <= 57)) return parseNumber();
  ok = false;
  return 0;
}

function parseObject(depth: i32): usize {
  p++;
  skipWs();
  if (peek() == 125) { p++; return mkObj(T_OBJ, 0); }
  let first = parseValue(depth + 1);
  if (!ok) return 0;
  skipWs();
  if (peek() == 58) {
    if (!regoSyntax && tag(first) != T_STR) { ok = false; return 0; }
    let o = mkObj(T_OBJ, 4);
    let k = first;
    while (true) {
      // at ':'
      p++;
      skipWs();
      let v = parseValue(depth + 1);
      if (!ok) return 0;
      objPut(o, k, v, 0);
      skipWs();
      let d = peek();
      if (d == 125) { p++; return o; }
      if (d != 44) { ok = false; return 0; }
      p++;
      skipWs();
      k = parseValue(depth + 1);
      if (!ok) return 0;
      if (!regoSyntax && tag(k) != T_STR) { ok = false; return 0; }
      skipWs();
      if (peek() != 58) { ok = false; return 0; }
    }
  }
  if (!regoSyntax) { ok = false; return 0; }
  let s = mkObj(T_SET, 4);
  objPut(s, first, first, 0);
  while (true) {
    skipWs();
    let d = peek();
    if (d == 125) { p++; return s; }
    if (d != 44) { ok = false; return 0; }
    p++;
    skipWs();
    let v = parseValue(depth + 1);
    if (!ok) return 0;
    objPut(s, v, v, 0);
  }
  return 0;
}

function hexVal(c: u32): i32 {
  if (c >= 48 && c <= 57) return <i32>c - 48;
  if (c >= 97 && c <= 102) return <i32>c - 87;
  if (c >= 65 && c <= 70) return <i32>c - 55;
  return -1;
}

function hex4(at: usize): i32 {
  if (at + 4 > end) return -1;
  let v = 0;
  for (let i: usize = 0; i < 4; i++) {
    let h = hexVal(load<u8>(at + i));
    if (h < 0) return -1;
    v = (v << 4) | h;
  }
  return v;
}

/** Writes code point cp as UTF-8 at d; returns bytes written. */
export function putUtf8(d: usize, cp: u32): usize {
  if (cp < 0x80) { store<u8>(d, <u8>cp); return 1; }
  if (cp < 0x800) {
    store<u8>(d, <u8>(0xc0 | (cp >> 6)));
    store<u8>(d + 1, <u8>(0x80 | (cp & 63)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(d, <u8>(0xe0 | (cp >> 12)));
    store<u8>(d + 1, <u8>(0x80 | ((cp >> 6) & 63)));
    store<u8>(d + 2, <u8>(0x80 | (cp & 63)));
    return 3;
  }
  store<u8>(d, <u8>(0xf0 | (cp >> 18)));
  store<u8>(d + 1, <u8>(0x80 | ((cp >> 12) & 63)));
  store<u8>(d + 2, <u8>(0x80 | ((cp >> 6) & 63)));
  store<u8>(d + 3, <u8>(0x80 | (cp & 63)));
  return 4;
}

function parseString(): usize {
  p++;
  let start = p;
  // fast path: no escapes → the value points into the source text (which outlives the value)
  while (p < end) {
    let c = load<u8>(p);
    if (c == 34) { let s = mkStr(start, p - start); p++; return s; }
    if (c == 92) break;
    if (c < 0x20) { ok = false; return 0; }
    p++;
  }
  if (p >= end) { ok = false; return 0; }
  // slow path: decode escapes into a fresh buffer (never longer than the source)
  let q = start;
  let scan = p;
  while (scan < end && load<u8>(scan) != 34) { if (load<u8>(scan) == 92) scan++; scan++; }
  let buf = alloc(scan - start + 4);
  let n: usize = p - start;
  memory.copy(buf, start, n);
  while (true) {
    if (p >= end) { ok = false; return 0; }
    let c = <u32>load<u8>(p);
    if (c == 34) { p++; break; }
    if (c < 0x20) { ok = false; return 0; }
    if (c != 92) { store<u8>(buf + n, <u8>c); n++; p++; continue; }
    p++;
    if (p >= end) { ok = false; return 0; }
    let e = <u32>load<u8>(p);
    p++;
    if (e == 34 || e == 92 || e == 47) { store<u8>(buf + n, <u8>e); n++; }
    else if (e == 98) { store<u8>(buf + n, 8); n++; }
    else if (e == 102) { store<u8>(buf + n, 12); n++; }
    else if (e == 110) { store<u8>(buf + n, 10); n++; }
    else if (e == 114) { store<u8>(buf + n, 13); n++; }
    else if (e == 116) { store<u8>(buf + n, 9); n++; }
    else if (e == 117) {
      let u = hex4(p);
      if (u < 0) { ok = false; return 0; }
      p += 4;
      let cp = <u32>u;
      if (cp >= 0xd800 && cp < 0xdc00) {
        // high surrogate: a low one must follow to form a pair; alone it becomes U+FFFD
        if (p + 6 <= end && load<u8>(p) == 92 && load<u8>(p + 1) == 117) {
          let lo = hex4(p + 2);
          if (lo >= 0xdc00 && lo < 0xe000) {
            p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (<u32>lo - 0xdc00);
          } else cp = 0xfffd;
        } else cp = 0xfffd;
      } else if (cp >= 0xdc00 && cp < 0xe000) cp = 0xfffd;
      n += putUtf8(buf + n, cp);
    } else { ok = false; return 0; }
  }
  q = 0;
  return mkStr(buf, n);
}

/** Scratch for strtod: a fake AssemblyScript string (UTF-16, byte length at -4). */
let numScratch: usize = 0;
/** Scratch for dtoa (UTF-16 output). */
let dtoaBuf: usize = 0;

/** Allocates the scratch buffers at instantiation, below the heap the SDK resets. */
export function initJson(): void {
  numScratch = alloc(8 + 64 * 2) + 8;
  dtoaBuf = alloc(128);
}

export function numberFromText(s: usize, n: usize): usize {
  // integer?
  let isInt = true;
  for (let i: usize = 0; i < n; i++) {
    let c = load<u8>(s + i);
    if (c == 46 || c == 101 || c == 69) { isInt = false; break; }
  }
  if (isInt) {
    let neg = load<u8>(s) == 45;
    let i: usize = neg ? 1 : 0;
    let v: i64 = 0; // accumulate negatively so i64.MIN fits
    let overflow = false;
    for (; i < n; i++) {
      let d = <i64>(load<u8>(s + i) - 48);
      if (v < (-9223372036854775807 - 1 + d) / 10) { overflow = true; break; }
      v = v * 10 - d;
    }
    if (!overflow) {
      if (!neg) {
        if (v == -9223372036854775807 - 1) overflow = true; else v = -v;
      }
    }
    if (!overflow) return mkInt(v);
    // beyond 64 bits: kept exactly as its digits (leading zeros dropped; JSON has none, Rego neither)
    let i0: usize = neg ? 1 : 0;
    while (i0 + 1 < n && load<u8>(s + i0) == 48) i0++;
    return mkBig(neg, s + i0, <i32>(n - i0));
  }
  return decimalFromText(s, n);
}

/** Largest exponent magnitude we hold exactly (OPA would too, but nothing real needs more). */
const MAX_DEC_EXP: i32 = 100000;

/**
 * A number with a fraction or exponent, kept exactly: digits without leading/trailing zeros and a
 * base-10 exponent. Integral values become INT or BIG; others a decimal (FLOAT) with its nearest
 * double cached for ordering and hashing.
 */
function decimalFromText(s: usize, n: usize): usize {
  let neg = load<u8>(s) == 45;
  let i: usize = neg ? 1 : 0;
  let digs = alloc(n + 1);
  let nd = 0;
  let exp: i64 = 0;
  let seenDot = false;
  for (; i < n; i++) {
    let c = load<u8>(s + i);
    if (c == 46) { seenDot = true; continue; }
    if (c == 101 || c == 69) break;
    if (nd == 0 && c == 48) { if (seenDot) exp--; continue; } // leading zero
    store<u8>(digs + <usize>nd, c);
    nd++;
    if (seenDot) exp--;
  }
  if (i < n) {
    i++;
    let eneg = false;
    let c = load<u8>(s + i);
    if (c == 43 || c == 45) { eneg = c == 45; i++; }
    let e: i64 = 0;
    for (; i < n; i++) { if (e < 1000000000) e = e * 10 + <i64>(load<u8>(s + i) - 48); }
    exp += eneg ? -e : e;
  }
  while (nd > 0 && load<u8>(digs + <usize>(nd - 1)) == 48) { nd--; exp++; }
  if (nd == 0) return mkInt(0);
  if (exp + <i64>nd > <i64>MAX_DEC_EXP || exp < -<i64>MAX_DEC_EXP) {
    abortLit("eval_internal_error: number out of supported range (exponent beyond 100000)");
    return 0;
  }
  if (exp >= 0) {
    // integral: append the zeros and read it as an integer
    let total = nd + <i32>exp;
    let t = alloc(<usize>total + 1);
    let o: usize = 0;
    if (neg) { store<u8>(t, 45); o = 1; }
    memory.copy(t + o, digs, <usize>nd);
    memory.fill(t + o + <usize>nd, 48, <usize>exp);
    return numberFromText(t, o + <usize>total);
  }
  // the cached double (strtod reads the original text; scratch never kept across heap resets)
  let buf = n > 64 ? alloc(8 + n * 2) + 8 : numScratch;
  for (let k: usize = 0; k < n; k++) store<u16>(buf + (k << 1), load<u8>(s + k));
  store<u32>(buf - 4, <u32>(n << 1));
  let f = strtod(changetype<string>(buf));
  if (!isFinite(f)) {
    abortLit("eval_internal_error: number out of supported range (beyond double precision)");
    return 0;
  }
  return mkDec(neg, digs, nd, <i32>exp, f);
}

function parseNumber(): usize {
  let start = p;
  if (peek() == 45) p++;
  let c = peek();
  if (c == 48) p++;
  else if (c >= 49 && c <= 57) { while (peek() >= 48 && peek() <= 57) p++; }
  else { ok = false; return 0; }
  if (peek() == 46) {
    p++;
    if (!(peek() >= 48 && peek() <= 57)) { ok = false; return 0; }
    while (peek() >= 48 && peek() <= 57) p++;
  }
  c = peek();
  if (c == 101 || c == 69) {
    p++;
    c = peek();
    if (c == 43 || c == 45) p++;
    if (!(peek() >= 48 && peek() <= 57)) { ok = false; return 0; }
    while (peek() >= 48 && peek() <= 57) p++;
  }
  // numScratch may be reallocated by numberFromText, which keeps the parser's p untouched
  return numberFromText(start, p - start);
}

// ---------------------------------------------------------------- dumping

export function dumpNumber(v: usize): void {
  if (tag(v) == T_INT) { bI64(intOf(v)); return; }
  dumpDecimal(v);
}

/**
 * A decimal's exact text: plain positional notation (0.000123, 12.5), or d.ddde-N when it would need
 * more than 6 zeros after the point. Both read back as the same decimal.
 */
export function dumpDecimal(v: usize): void {
  let nd = decLen(v), e = decExp(v), d = decData(v);
  if (decNeg(v)) bByte(45);
  let intLen = nd + e;
  if (intLen > 0) {
    bBytes(d, <usize>intLen);
    bByte(46);
    bBytes(d + <usize>intLen, <usize>(nd - intLen));
  } else if (intLen >= -6) {
    bByte(48); bByte(46);
    for (let k = 0; k < -intLen; k++) bByte(48);
    bBytes(d, <usize>nd);
  } else {
    bByte(load<u8>(d));
    if (nd > 1) { bByte(46); bBytes(d + 1, <usize>(nd - 1)); }
    bByte(101);
    bI64(<i64>(intLen - 1));
  }
}

const HEX = "0123456789abcdef";

export function dumpString(s: usize): void {
  let d = strData(s);
  let n = strLen(s);
  bByte(34);
  let run = d;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(d + i);
    if (c >= 0x20 && c != 34 && c != 92) continue;
    bBytes(run, d + i - run);
    run = d + i + 1;
    bByte(92);
    if (c == 34 || c == 92) bByte(c);
    else if (c == 10) bByte(110);
    else if (c == 13) bByte(114);
    else if (c == 9) bByte(116);
    else {
      bLit("u00");
      bByte(HEX.charCodeAt(<i32>(c >> 4)));
      bByte(HEX.charCodeAt(<i32>(c & 15)));
    }
  }
  bBytes(run, d + n - run);
  bByte(34);
}

/** Rego output with a space after "," and ":" (OPA's String() of a value, which `print` shows). */
let spaced = false;

@inline function sep(c: u32): void {
  bByte(c);
  if (spaced) bByte(32);
}

/** Appends v to the builder as OPA's String() of the value writes it: `{"a": [1, 2]}`, `{1, 2}`, `set()`. */
export function dumpSpaced(v: usize): void {
  spaced = true;
  dumpValue(v, true);
  spaced = false;
}

/** Appends v to the builder: JSON (sets as sorted arrays, non-string keys as their JSON text) or Rego syntax. */
export function dumpValue(v: usize, rego: bool): void {
  switch (tag(v)) {
    case T_NULL: bLit("null"); return;
    case T_BOOL: bLit(boolOf(v) ? "true" : "false"); return;
    case T_INT:
    case T_FLOAT: dumpNumber(v); return;
    case T_BIG: if (bigNeg(v)) bByte(45); bBytes(bigData(v), <usize>bigLen(v)); return;
    case T_STR: dumpString(v); return;
    case T_ARR: {
      bByte(91);
      let n = arrLen(v);
      for (let i = 0; i < n; i++) { if (i > 0) sep(44); dumpValue(arrGet(v, i), rego); }
      bByte(93);
      return;
    }
    case T_OBJ: {
      bByte(123);
      let n = objCount(v);
      let s = sortedIdx(v);
      for (let i = 0; i < n; i++) {
        if (i > 0) sep(44);
        let e = sortedAt(s, i);
        let k = entKey(v, e);
        if (rego || tag(k) == T_STR) dumpValue(k, rego);
        else dumpKeyAsString(k);
        sep(58);
        dumpValue(entVal(v, e), rego);
      }
      bByte(125);
      return;
    }
    case T_SET: {
      let n = objCount(v);
      if (rego && n == 0) { bLit("set()"); return; }
      bByte(rego ? 123 : 91);
      let s = sortedIdx(v);
      for (let i = 0; i < n; i++) { if (i > 0) sep(44); dumpValue(entKey(v, sortedAt(s, i)), rego); }
      bByte(rego ? 125 : 93);
      return;
    }
  }
}

/** A non-string object key in JSON output: its JSON text, as a string. */
function dumpKeyAsString(k: usize): void {
  // dump into the builder, then cut it out and re-emit it escaped
  let at = bLen;
  dumpValue(k, false);
  let n = bLen - at;
  let tmp = alloc(n);
  memory.copy(tmp, bPtr + at, n);
  bLen = at;
  dumpString(mkStr(tmp, n));
}

/**
 * Host built-in calls of a module whose host asked for exact values (pdp_host_exact): while a call is
 * under way, the SDK's opa_json_dump of an argument yields a JSON string holding the argument's Rego
 * text (sets stay sets, non-string keys stay keys, every digit of a number is kept) and its
 * opa_json_parse of the result reads Rego text. Outside calls (input, data, results) JSON is unchanged.
 */
export let hostExact = false;
export let inHostCall = false;
export function setHostExact(): void { hostExact = true; }
export function setInHostCall(on: bool): void { inHostCall = on; }
@inline export function hostExactNow(): bool { return hostExact && inHostCall; }

/** A NUL-terminated JSON string holding v's Rego text. */
export function dumpRegoAsJsonString(v: usize): usize {
  bStart(256);
  dumpValue(v, true);
  let n = bLen;
  let tmp = alloc(n);
  memory.copy(tmp, bPtr, n);
  bStart(n + 16);
  dumpString(mkStr(tmp, n));
  return bEnd();
}

/** A NUL-terminated dump of v. */
export function dumpToString(v: usize, rego: bool): usize {
  bStart(256);
  dumpValue(v, rego);
  return bEnd();
}

/** A string value holding v's JSON text (for json.marshal / sprintf-like needs). */
export function jsonString(v: usize): usize {
  bStart(64);
  dumpValue(v, false);
  return mkStr(bPtr, bLen);
}

export { EMPTY_STR };
