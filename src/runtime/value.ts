// The value model: tagged structs in linear memory. A value is an address; 0 means "undefined".
//
// Layouts (byte offsets):
//   all      +0 tag (i32)
//   BOOL     +4 0/1
//   INT      +8 i64           integers that fit 64 bits exactly
//   FLOAT    exact non-integral decimals (never integral: integral numbers are INT or BIG):
//            +4 negative (0/1), +8 f64 nearest double (cache for ordering and hashing),
//            +16 significant digit count, +20 address of ASCII digits (no leading or trailing zeros),
//            +24 base-10 exponent (< 0): value = ±digits × 10^exponent. Kept exactly like OPA's
//            json.Number text; arithmetic on them goes to the host (internal.pdp_decimal_arith).
//   BIG      +4 negative (0/1), +8 digit count, +12 address of ASCII digits (no leading zeros):
//            integers beyond 64 bits, held exactly. They compare, hash and print exactly; + - * % and
//            sum/product compute them exactly on the host (builtins.ts intArith); other built-ins that
//            compute refuse them, never round them.
//   STR      +4 byte length, +8 address of UTF-8 bytes, +12 cached hash (0 = not yet)
//   ARR      +4 length, +8 capacity, +12 address of i32 element addresses
//   OBJ/SET  +4 count, +8 table capacity (power of two), +12 table address (i32 entry index + 1, 0 empty),
//            +16 entries address (12 bytes each: key, value, hash; a set stores the element as both),
//            +20 entries capacity, +24 sorted order (i32 entry indices) or 0 when stale,
//            +32 heap generation (u64) the sorted order was built in (0: built while loading, permanent);
//            64 bits so the counter never wraps around to a stale generation in a long-lived server
// Objects and sets are hash tables for O(1) lookup; their iteration order is the sorted order
// (Rego's total order over values), computed lazily and cached until the next insert.
//
// Why the generation: values that outlive an evaluation (constants, data, builtins/entrypoints tables)
// sit below the heap pointer the SDK resets to. A sorted order cached on them during an evaluation is
// allocated above that pointer, so the next evaluation overwrites it and the stale pointer would give
// garbage entry indices (wrong answers, or traps). A cache is trusted only when it was built in the
// current heap generation (mem.ts bumps it on every heap reset) or while loading (see freezeValue).
import { alloc, allocZ, memEq, heapGen } from "./mem";

export const T_NULL: i32 = 1;
export const T_BOOL: i32 = 2;
export const T_INT: i32 = 3;
export const T_FLOAT: i32 = 4;
export const T_STR: i32 = 5;
export const T_ARR: i32 = 6;
export const T_OBJ: i32 = 7;
export const T_SET: i32 = 8;
export const T_BIG: i32 = 9;

/**
 * Set while a value the host cannot receive faithfully exists (a BIG, or a decimal with more than 15
 * significant digits): only then do built-in calls scan their arguments for them. Cleared when a heap
 * reset frees every such value (exoticLow: the lowest address of one), so a hostile input slows only
 * its own evaluation, while data or constants holding one keep it set as long as they live.
 */
export let bigSeen = false;
let exoticLow: usize = usize.MAX_VALUE;
function markExotic(p: usize): void { bigSeen = true; if (p < exoticLow) exoticLow = p; }
/** Called on every heap reset to p (index.ts). */
export function onHeapReset(p: usize): void {
  if (exoticLow >= p) { bigSeen = false; exoticLow = usize.MAX_VALUE; }
}

export let NULLV: usize = 0;
export let TRUEV: usize = 0;
export let FALSEV: usize = 0;
export let EMPTY_STR: usize = 0;

/** Allocates the shared singletons; called once from the start function. */
export function initValues(): void {
  NULLV = alloc(8); store<i32>(NULLV, T_NULL);
  TRUEV = alloc(8); store<i32>(TRUEV, T_BOOL); store<i32>(TRUEV, 1, 4);
  FALSEV = alloc(8); store<i32>(FALSEV, T_BOOL); store<i32>(FALSEV, 0, 4);
  EMPTY_STR = mkStr(0, 0);
  intDigits = alloc(24); // scratch, below the heap the SDK resets
}

@inline export function tag(v: usize): i32 { return load<i32>(v); }
@inline export function mkBool(b: bool): usize { return b ? TRUEV : FALSEV; }
@inline export function boolOf(v: usize): bool { return load<i32>(v, 4) != 0; }

export function mkInt(i: i64): usize {
  let p = alloc(16);
  store<i32>(p, T_INT);
  store<i64>(p, i, 8);
  return p;
}

/** A non-integral decimal ±digits × 10^exp (digits copied; no leading/trailing zeros; exp < 0). */
export function mkDec(neg: bool, digits: usize, nd: i32, exp: i32, f: f64): usize {
  let d = alloc(<usize>nd);
  memory.copy(d, digits, <usize>nd);
  let p = alloc(32);
  store<i32>(p, T_FLOAT);
  store<i32>(p, neg ? 1 : 0, 4);
  store<f64>(p, f, 8);
  store<i32>(p, nd, 16);
  store<usize>(p, d, 20);
  store<i32>(p, exp, 24);
  if (nd > 15) markExotic(d);
  return p;
}
@inline export function decNeg(v: usize): bool { return load<i32>(v, 4) != 0; }
@inline export function decLen(v: usize): i32 { return load<i32>(v, 16); }
@inline export function decData(v: usize): usize { return load<usize>(v, 20); }
@inline export function decExp(v: usize): i32 { return load<i32>(v, 24); }

@inline export function intOf(v: usize): i64 { return load<i64>(v, 8); }
@inline export function floatOf(v: usize): f64 { return load<f64>(v, 8); }
@inline export function isNum(v: usize): bool { let t = tag(v); return t == T_INT || t == T_FLOAT; }

/** An integer beyond 64 bits from its digits (copied; leading zeros must already be stripped). */
export function mkBig(neg: bool, digits: usize, len: i32): usize {
  let d = alloc(<usize>len);
  memory.copy(d, digits, <usize>len);
  let p = alloc(16);
  store<i32>(p, T_BIG);
  store<i32>(p, neg ? 1 : 0, 4);
  store<i32>(p, len, 8);
  store<usize>(p, d, 12);
  markExotic(d);
  return p;
}
@inline export function bigNeg(v: usize): bool { return load<i32>(v, 4) != 0; }
@inline export function bigLen(v: usize): i32 { return load<i32>(v, 8); }
@inline export function bigData(v: usize): usize { return load<usize>(v, 12); }

/** Compares two non-negative digit strings without leading zeros. */
function cmpDigits(a: usize, na: i32, b: usize, nb: i32): i32 {
  if (na != nb) return na < nb ? -1 : 1;
  let c = memory.compare(a, b, <usize>na);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/** Exact order of a BIG against any number (INT, FLOAT or BIG). */
function bigCmp(big: usize, o: usize): i32 {
  let s: i32 = bigNeg(big) ? -1 : 1;
  let to = tag(o);
  if (to == T_BIG) {
    if (bigNeg(big) != bigNeg(o)) return s;
    return s * cmpDigits(bigData(big), bigLen(big), bigData(o), bigLen(o));
  }
  // an INT is strictly smaller in magnitude than any BIG
  if (to == T_INT) return s;
  return -decCmpInt(o, bigNeg(big), bigData(big), bigLen(big));
}

/** Digits of |i| (none for 0) at intDigits; returns the count. */
let intDigits: usize = 0;
function i64Digits(i: i64): i32 {
  let u: u64 = i < 0 ? <u64>(-(i + 1)) + 1 : <u64>i;
  let n = 0;
  let buf = intDigits + 20;
  while (u > 0) { store<u8>(buf - <usize>n, <u8>(48 + <i32>(u % 10))); u /= 10; n++; }
  memory.copy(intDigits, buf - <usize>n + 1, <usize>n);
  return n;
}

/**
 * Exact order of a decimal against an integer given by sign and magnitude digits (none for zero):
 * the decimal is never integral, so equal integer parts mean the decimal is further from zero.
 */
function decCmpInt(dec: usize, ineg: bool, id: usize, nid: i32): i32 {
  let dneg = decNeg(dec);
  if (nid == 0) return dneg ? -1 : 1;
  if (dneg != ineg) return dneg ? -1 : 1;
  let s: i32 = dneg ? -1 : 1;
  let intLen = decLen(dec) + decExp(dec);
  if (intLen < nid) return -s;
  if (intLen > nid) return s;
  let c = memory.compare(decData(dec), id, <usize>intLen);
  if (c != 0) return c < 0 ? -s : s;
  return s;
}

/** FNV-1a over sign and digits: BIG values and doubles >= 2^63 in magnitude that are equal hash alike. */
function hashDigits(neg: bool, d: usize, n: i32): u32 {
  let h: u32 = neg ? 0x811c9dc5 ^ 45 : 0x811c9dc5;
  for (let i = 0; i < n; i++) { h ^= load<u8>(d + <usize>i); h *= 16777619; }
  return mix(<u64>h | (<u64>n << 32));
}

/** Whether a number is an INT (decimals are never integral); if so it is stored in intScratch. */
export let intScratch: i64 = 0;
export function asInt(v: usize): bool {
  if (tag(v) == T_INT) { intScratch = intOf(v); return true; }
  return false;
}

export function mkStr(data: usize, len: usize): usize {
  let p = alloc(16);
  store<i32>(p, T_STR);
  store<i32>(p, <i32>len, 4);
  store<usize>(p, data, 8);
  store<u32>(p, 0, 12);
  return p;
}
@inline export function strLen(v: usize): usize { return <usize>load<i32>(v, 4); }
@inline export function strData(v: usize): usize { return load<usize>(v, 8); }

/** A string value holding a copy of an ASCII literal. */
export function mkLit(s: string): usize {
  let n = s.length;
  let d = alloc(<usize>n);
  for (let i = 0; i < n; i++) store<u8>(d + <usize>i, <u8>s.charCodeAt(i));
  return mkStr(d, <usize>n);
}

// ---------- arrays ----------

export function mkArr(cap: i32): usize {
  if (cap < 4) cap = 4;
  let p = alloc(16);
  store<i32>(p, T_ARR);
  store<i32>(p, 0, 4);
  store<i32>(p, cap, 8);
  store<usize>(p, alloc(<usize>cap << 2), 12);
  return p;
}
@inline export function arrLen(a: usize): i32 { return load<i32>(a, 4); }
@inline export function arrGet(a: usize, i: i32): usize { return load<usize>(load<usize>(a, 12) + (<usize>i << 2)); }

export function arrPush(a: usize, v: usize): void {
  let n = load<i32>(a, 4);
  let cap = load<i32>(a, 8);
  let els = load<usize>(a, 12);
  if (n == cap) {
    let ncap = cap * 2;
    let ne = alloc(<usize>ncap << 2);
    memory.copy(ne, els, <usize>n << 2);
    els = ne;
    store<usize>(a, ne, 12);
    store<i32>(a, ncap, 8);
  }
  store<usize>(els + (<usize>n << 2), v);
  store<i32>(a, n + 1, 4);
}

// ---------- objects and sets (shared hash table) ----------

export function mkObj(t: i32, cap: i32): usize {
  let tcap = 8;
  while (tcap < cap * 2) tcap <<= 1;
  let ecap = tcap >> 1;
  let p = alloc(40);
  store<i32>(p, t);
  store<i32>(p, 0, 4);
  store<i32>(p, tcap, 8);
  store<usize>(p, allocZ(<usize>tcap << 2), 12);
  store<usize>(p, alloc(<usize>ecap * 12), 16);
  store<i32>(p, ecap, 20);
  store<usize>(p, 0, 24);
  store<u64>(p, 0, 32);
  return p;
}
@inline export function objCount(o: usize): i32 { return load<i32>(o, 4); }
@inline export function entKey(o: usize, i: i32): usize { return load<usize>(load<usize>(o, 16) + <usize>i * 12); }
@inline export function entVal(o: usize, i: i32): usize { return load<usize>(load<usize>(o, 16) + <usize>i * 12, 4); }
@inline function entHash(o: usize, i: i32): u32 { return load<u32>(load<usize>(o, 16) + <usize>i * 12, 8); }

/** Entry index of key k in object/set o, or -1. */
export function objFind(o: usize, k: usize): i32 {
  let n = load<i32>(o, 4);
  if (n == 0) return -1;
  let h = hashOf(k);
  let mask = <u32>load<i32>(o, 8) - 1;
  let tab = load<usize>(o, 12);
  let i = h & mask;
  while (true) {
    let e = load<i32>(tab + (<usize>i << 2));
    if (e == 0) return -1;
    if (entHash(o, e - 1) == h && equalV(entKey(o, e - 1), k)) return e - 1;
    i = (i + 1) & mask;
  }
  return -1;
}

export function objGet(o: usize, k: usize): usize {
  let e = objFind(o, k);
  return e < 0 ? 0 : entVal(o, e);
}

function rehash(o: usize, tcap: i32): void {
  let tab = allocZ(<usize>tcap << 2);
  let mask = <u32>tcap - 1;
  let n = load<i32>(o, 4);
  for (let e = 0; e < n; e++) {
    let i = entHash(o, e) & mask;
    while (load<i32>(tab + (<usize>i << 2)) != 0) i = (i + 1) & mask;
    store<i32>(tab + (<usize>i << 2), e + 1);
  }
  store<i32>(o, tcap, 8);
  store<usize>(o, tab, 12);
}

/**
 * Inserts or replaces. mode 0: replace the value; mode 1: keep an existing equal entry and report
 * a conflict (returns -2) if the existing value differs. Returns the entry index.
 */
export function objPut(o: usize, k: usize, v: usize, mode: i32): i32 {
  let h = hashOf(k);
  let tcap = load<i32>(o, 8);
  let mask = <u32>tcap - 1;
  let tab = load<usize>(o, 12);
  let i = h & mask;
  while (true) {
    let e = load<i32>(tab + (<usize>i << 2));
    if (e == 0) break;
    if (entHash(o, e - 1) == h && equalV(entKey(o, e - 1), k)) {
      let ea = load<usize>(o, 16) + <usize>(e - 1) * 12;
      if (mode == 1) {
        if (!equalV(load<usize>(ea, 4), v)) return -2;
        return e - 1;
      }
      store<usize>(ea, v, 4);
      return e - 1;
    }
    i = (i + 1) & mask;
  }
  let n = load<i32>(o, 4);
  let ecap = load<i32>(o, 20);
  if (n == ecap) {
    let ncap = ecap * 2;
    let ne = alloc(<usize>ncap * 12);
    memory.copy(ne, load<usize>(o, 16), <usize>n * 12);
    store<usize>(o, ne, 16);
    store<i32>(o, ncap, 20);
  }
  let ea = load<usize>(o, 16) + <usize>n * 12;
  store<usize>(ea, k);
  store<usize>(ea, v, 4);
  store<u32>(ea, h, 8);
  store<i32>(tab + (<usize>i << 2), n + 1);
  store<i32>(o, n + 1, 4);
  store<usize>(o, 0, 24);
  if ((n + 1) * 2 > tcap) rehash(o, tcap * 2);
  return n;
}

@inline export function setAdd(s: usize, v: usize): void { objPut(s, v, v, 0); }
@inline export function setHas(s: usize, v: usize): bool { return objFind(s, v) >= 0; }

/** Removes key k (rebuilding the table); returns whether it was present. */
export function objRemove(o: usize, k: usize): bool {
  let idx = objFind(o, k);
  if (idx < 0) return false;
  let n = load<i32>(o, 4);
  let ents = load<usize>(o, 16);
  memory.copy(ents + <usize>idx * 12, ents + <usize>(idx + 1) * 12, <usize>(n - idx - 1) * 12);
  store<i32>(o, n - 1, 4);
  store<usize>(o, 0, 24);
  rehash(o, load<i32>(o, 8));
  return true;
}

/** A shallow copy of an object or set (entries shared, table fresh). */
export function objCopy(o: usize): usize {
  let n = objCount(o);
  let c = mkObj(tag(o), n + 1);
  for (let i = 0; i < n; i++) objPut(c, entKey(o, i), entVal(o, i), 0);
  return c;
}

/** Entry indices of o in ascending key order (cached until the next insert or heap reset). */
export function sortedIdx(o: usize): usize {
  let s = load<usize>(o, 24);
  if (s != 0) {
    let g = load<u64>(o, 32);
    if (g == 0 || g == heapGen) return s;
  }
  let n = objCount(o);
  s = alloc(<usize>n << 2);
  for (let i = 0; i < n; i++) store<i32>(s + (<usize>i << 2), i);
  if (n > 1) {
    let tmp = alloc(<usize>n << 2);
    mergeSort(o, s, tmp, 0, n);
  }
  store<usize>(o, s, 24);
  store<u64>(o, heapGen, 32);
  return s;
}

/**
 * Builds the sorted order of every object and set inside v and marks it permanent. Only for values
 * built outside any evaluation whose caches are allocated right after them (so they live exactly as
 * long as the value): constants at instantiation, and data loaded by the SDK (opa_json_parse between
 * evaluations).
 */
export function freezeValue(v: usize): void {
  let t = tag(v);
  if (t == T_ARR) {
    let n = arrLen(v);
    for (let i = 0; i < n; i++) freezeValue(arrGet(v, i));
    return;
  }
  if (t != T_OBJ && t != T_SET) return;
  let n = objCount(v);
  for (let i = 0; i < n; i++) {
    freezeValue(entKey(v, i));
    if (t == T_OBJ) freezeValue(entVal(v, i));
  }
  store<usize>(v, 0, 24);
  sortedIdx(v);
  store<u64>(v, 0, 32);
}

@inline export function sortedAt(s: usize, i: i32): i32 { return load<i32>(s + (<usize>i << 2)); }

function mergeSort(o: usize, a: usize, tmp: usize, lo: i32, hi: i32): void {
  if (hi - lo < 2) return;
  if (hi - lo <= 8) {
    for (let i = lo + 1; i < hi; i++) {
      let x = load<i32>(a + (<usize>i << 2));
      let kx = entKey(o, x);
      let j = i - 1;
      while (j >= lo && compareV(entKey(o, load<i32>(a + (<usize>j << 2))), kx) > 0) {
        store<i32>(a + (<usize>(j + 1) << 2), load<i32>(a + (<usize>j << 2)));
        j--;
      }
      store<i32>(a + (<usize>(j + 1) << 2), x);
    }
    return;
  }
  let mid = (lo + hi) >> 1;
  mergeSort(o, a, tmp, lo, mid);
  mergeSort(o, a, tmp, mid, hi);
  let i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    let x = load<i32>(a + (<usize>i << 2));
    let y = load<i32>(a + (<usize>j << 2));
    if (compareV(entKey(o, y), entKey(o, x)) < 0) { store<i32>(tmp + (<usize>k << 2), y); j++; }
    else { store<i32>(tmp + (<usize>k << 2), x); i++; }
    k++;
  }
  while (i < mid) { store<i32>(tmp + (<usize>k << 2), load<i32>(a + (<usize>i << 2))); i++; k++; }
  while (j < hi) { store<i32>(tmp + (<usize>k << 2), load<i32>(a + (<usize>j << 2))); j++; k++; }
  memory.copy(a + (<usize>lo << 2), tmp + (<usize>lo << 2), <usize>(hi - lo) << 2);
}

/** Sorts an array of value addresses in place (stable), by the total order. */
export function sortValues(els: usize, n: i32): void {
  if (n < 2) return;
  let tmp = alloc(<usize>n << 2);
  msortV(els, tmp, 0, n);
}
function msortV(a: usize, tmp: usize, lo: i32, hi: i32): void {
  if (hi - lo < 2) return;
  let mid = (lo + hi) >> 1;
  msortV(a, tmp, lo, mid);
  msortV(a, tmp, mid, hi);
  let i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    let x = load<usize>(a + (<usize>i << 2));
    let y = load<usize>(a + (<usize>j << 2));
    if (compareV(y, x) < 0) { store<usize>(tmp + (<usize>k << 2), y); j++; }
    else { store<usize>(tmp + (<usize>k << 2), x); i++; }
    k++;
  }
  while (i < mid) { store<usize>(tmp + (<usize>k << 2), load<usize>(a + (<usize>i << 2))); i++; k++; }
  while (j < hi) { store<usize>(tmp + (<usize>k << 2), load<usize>(a + (<usize>j << 2))); j++; k++; }
  memory.copy(a + (<usize>lo << 2), tmp + (<usize>lo << 2), <usize>(hi - lo) << 2);
}

// ---------- hashing (consistent with equalV: 1 and 1.0 hash alike) ----------

@inline function mix(h: u64): u32 {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 33;
  return <u32>h;
}

export function hashOf(v: usize): u32 {
  let t = tag(v);
  switch (t) {
    case T_NULL: return 0x9e3779b9;
    case T_BOOL: return boolOf(v) ? 0x85ebca6b : 0xc2b2ae35;
    case T_INT: return mix(<u64>intOf(v));
    // decimals equal exactly when their doubles are equal (OPA's rule for two non-integers), and
    // never equal an integer: the double's bits hash consistently with equalV
    case T_FLOAT: return mix(reinterpret<u64>(floatOf(v)) ^ 0x5bd1e995);
    case T_BIG: return hashDigits(bigNeg(v), bigData(v), bigLen(v));
    case T_STR: {
      let c = load<u32>(v, 12);
      if (c != 0) return c;
      let h: u32 = 2166136261;
      let d = strData(v);
      let n = strLen(v);
      for (let i: usize = 0; i < n; i++) { h ^= load<u8>(d + i); h *= 16777619; }
      if (h == 0) h = 1;
      store<u32>(v, h, 12);
      return h;
    }
    case T_ARR: {
      let h: u32 = 0x27d4eb2f;
      let n = arrLen(v);
      for (let i = 0; i < n; i++) h = (h * 31) ^ hashOf(arrGet(v, i));
      return h;
    }
    case T_OBJ: {
      let h: u32 = 0x165667b1;
      let n = objCount(v);
      for (let i = 0; i < n; i++) h += mix((<u64>entHash(v, i) << 32) | <u64>hashOf(entVal(v, i)));
      return h;
    }
    case T_SET: {
      let h: u32 = 0xd3a2646c;
      let n = objCount(v);
      for (let i = 0; i < n; i++) h += mix(<u64>entHash(v, i));
      return h;
    }
  }
  return 0;
}

// ---------- equality and order ----------

function numCmp(a: usize, b: usize): i32 {
  let ta = tag(a), tb = tag(b);
  if (ta == T_BIG) return bigCmp(a, b);
  if (tb == T_BIG) return -bigCmp(b, a);
  if (ta == T_INT && tb == T_INT) {
    let x = intOf(a), y = intOf(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ta == T_INT) { let x = intOf(a); let n = i64Digits(x); return -decCmpInt(b, x < 0, intDigits, n); }
  if (tb == T_INT) { let y = intOf(b); let n = i64Digits(y); return decCmpInt(a, y < 0, intDigits, n); }
  // two non-integers: the doubles decide whenever they differ (rounding is monotonic); equal doubles
  // may still be different decimals (0.1 and 0.10000000000000001), which OPA tells apart exactly
  let x = floatOf(a), y = floatOf(b);
  if (x != y) return x < y ? -1 : 1;
  return decCmpDec(a, b);
}

/**
 * Exact order of two non-integral decimals (digits without leading or trailing zeros, never zero).
 * OPA compares numbers as exact rationals; its one shortcut (numbers both written with trailing zeros
 * after the point compare by their doubles) cannot be reproduced once the text is canonical.
 */
function decCmpDec(a: usize, b: usize): i32 {
  let an = decNeg(a), bn = decNeg(b);
  if (an != bn) return an ? -1 : 1;
  let s: i32 = an ? -1 : 1;
  // |v| = 0.d1d2…dn × 10^(n + exp): the position of the leading digit orders magnitudes first
  let la = decLen(a), lb = decLen(b);
  let pa = la + decExp(a), pb = lb + decExp(b);
  if (pa != pb) return pa < pb ? -s : s;
  let n = la < lb ? la : lb;
  let c = memory.compare(decData(a), decData(b), <usize>n);
  if (c != 0) return c < 0 ? -s : s;
  if (la != lb) return la < lb ? -s : s;
  return 0;
}

export function equalV(a: usize, b: usize): bool {
  if (a == b) return true;
  let ta = tag(a), tb = tag(b);
  if (ta != tb) {
    if ((ta == T_INT || ta == T_FLOAT || ta == T_BIG) && (tb == T_INT || tb == T_FLOAT || tb == T_BIG)) return numCmp(a, b) == 0;
    return false;
  }
  switch (ta) {
    case T_NULL: return true;
    case T_BOOL: return boolOf(a) == boolOf(b);
    case T_INT: return intOf(a) == intOf(b);
    case T_FLOAT: return numCmp(a, b) == 0;
    case T_BIG: return numCmp(a, b) == 0;
    case T_STR: {
      let n = strLen(a);
      return n == strLen(b) && memEq(strData(a), strData(b), n);
    }
    case T_ARR: {
      let n = arrLen(a);
      if (n != arrLen(b)) return false;
      for (let i = 0; i < n; i++) if (!equalV(arrGet(a, i), arrGet(b, i))) return false;
      return true;
    }
    case T_OBJ: {
      let n = objCount(a);
      if (n != objCount(b)) return false;
      for (let i = 0; i < n; i++) {
        let e = objFind(b, entKey(a, i));
        if (e < 0 || !equalV(entVal(a, i), entVal(b, e))) return false;
      }
      return true;
    }
    case T_SET: {
      let n = objCount(a);
      if (n != objCount(b)) return false;
      for (let i = 0; i < n; i++) if (objFind(b, entKey(a, i)) < 0) return false;
      return true;
    }
  }
  return false;
}

@inline function rank(t: i32): i32 {
  // null < boolean < number < string < array < object < set
  if (t == T_FLOAT || t == T_BIG) return T_INT;
  return t;
}

/** Rego's total order over values: negative, zero or positive. */
export function compareV(a: usize, b: usize): i32 {
  if (a == b) return 0;
  let ra = rank(tag(a)), rb = rank(tag(b));
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case T_NULL: return 0;
    case T_BOOL: return <i32>boolOf(a) - <i32>boolOf(b);
    case T_INT: return numCmp(a, b);
    case T_STR: {
      let na = strLen(a), nb = strLen(b);
      let m = na < nb ? na : nb;
      let c = memory.compare(strData(a), strData(b), m);
      if (c != 0) return c < 0 ? -1 : 1;
      return na < nb ? -1 : (na > nb ? 1 : 0);
    }
    case T_ARR: {
      let na = arrLen(a), nb = arrLen(b);
      let m = na < nb ? na : nb;
      for (let i = 0; i < m; i++) {
        let c = compareV(arrGet(a, i), arrGet(b, i));
        if (c != 0) return c;
      }
      return na < nb ? -1 : (na > nb ? 1 : 0);
    }
    case T_OBJ: {
      let na = objCount(a), nb = objCount(b);
      let sa = sortedIdx(a), sb = sortedIdx(b);
      let m = na < nb ? na : nb;
      for (let i = 0; i < m; i++) {
        let ea = sortedAt(sa, i), eb = sortedAt(sb, i);
        let c = compareV(entKey(a, ea), entKey(b, eb));
        if (c != 0) return c;
        c = compareV(entVal(a, ea), entVal(b, eb));
        if (c != 0) return c;
      }
      return na < nb ? -1 : (na > nb ? 1 : 0);
    }
    case T_SET: {
      let na = objCount(a), nb = objCount(b);
      let sa = sortedIdx(a), sb = sortedIdx(b);
      let m = na < nb ? na : nb;
      for (let i = 0; i < m; i++) {
        let c = compareV(entKey(a, sortedAt(sa, i)), entKey(b, sortedAt(sb, i)));
        if (c != 0) return c;
      }
      return na < nb ? -1 : (na > nb ? 1 : 0);
    }
  }
  return 0;
}
