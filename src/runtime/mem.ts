// Linear-memory allocator and byte helpers for the runtime.
//
// Why a bump allocator: the OPA SDK resets the heap pointer (opa_heap_ptr_set / opa_eval's heap_ptr
// argument) before every evaluation, so everything an evaluation allocates is reclaimed wholesale.
// Individual frees would buy nothing. This file never uses AssemblyScript's managed heap: no `new`,
// no string concatenation anywhere in the runtime (the stub runtime's allocator would write over
// our heap). String literals are only read with charCodeAt.

@external("env", "opa_abort")
export declare function opa_abort(addr: usize): void;
@external("env", "opa_println")
export declare function opa_println(addr: usize): void;

/** Next free byte. Everything below it is live. */
export let heapTop: usize = 0;

/**
 * Heap generation: bumped whenever the heap pointer is set back (the host's opa_heap_ptr_set, opa_eval),
 * after which every address above the new pointer may be reused. Caches kept on long-lived values record
 * the generation they were allocated in (value.ts sortedIdx); 0 is reserved for "permanent".
 */
export let heapGen: u64 = 1;

/** Sets the heap pointer back to p (a reset by the host); invalidates generation-tagged caches. */
export function heapReset(p: usize): void {
  heapTop = p;
  heapGen++; // 64 bits: never wraps in practice (0 stays reserved)
}

export function alloc(n: usize): usize {
  let p = (heapTop + 7) & ~(<usize>7);
  let end = p + n;
  if (end > (<usize>memory.size() << 16)) growTo(end);
  heapTop = end;
  return p;
}

export function allocZ(n: usize): usize {
  let p = alloc(n);
  memory.fill(p, 0, n);
  return p;
}

function growTo(end: usize): void {
  let have = <usize>memory.size();
  let want = (end + 0xffff) >> 16;
  let extra = want - have;
  // Grow a little ahead to avoid one memory.grow per page, but fall back to the exact need.
  let ahead = extra + (have >> 3);
  if (memory.grow(<i32>ahead) < 0) {
    if (memory.grow(<i32>extra) < 0) {
      abortLit("eval_internal_error: out of memory");
    }
  }
}

// ---------- a growable byte builder (one active at a time; output stays in the heap) ----------

export let bPtr: usize = 0;
export let bLen: usize = 0;
let bCap: usize = 0;

export function bStart(cap: usize): void {
  bPtr = alloc(cap);
  bLen = 0;
  bCap = cap;
}

function bGrow(extra: usize): void {
  let ncap = bCap * 2;
  if (ncap < bLen + extra) ncap = bLen + extra + 64;
  // The builder is usually the newest allocation: extend in place when it is.
  if (bPtr + bCap == heapTop) {
    alloc(ncap - bCap);
    bCap = ncap;
    return;
  }
  let np = alloc(ncap);
  memory.copy(np, bPtr, bLen);
  bPtr = np;
  bCap = ncap;
}

@inline
export function bByte(c: u32): void {
  if (bLen + 1 > bCap) bGrow(1);
  store<u8>(bPtr + bLen, <u8>c);
  bLen++;
}

export function bBytes(p: usize, n: usize): void {
  if (bLen + n > bCap) bGrow(n);
  memory.copy(bPtr + bLen, p, n);
  bLen += n;
}

/** Appends an ASCII string literal. */
export function bLit(s: string): void {
  let n = s.length;
  if (bLen + <usize>n > bCap) bGrow(<usize>n);
  for (let i = 0; i < n; i++) store<u8>(bPtr + bLen + <usize>i, <u8>s.charCodeAt(i));
  bLen += <usize>n;
}

export function bI64(v: i64): void {
  if (v == 0) { bByte(48); return; }
  let neg = v < 0;
  // work on the negative range so i64.MIN is representable
  let n: i64 = neg ? v : -v;
  let tmp = alloc(24);
  let i = 0;
  while (n != 0) {
    store<u8>(tmp + <usize>i, <u8>(48 - <i32>(n % 10)));
    n /= 10;
    i++;
  }
  if (neg) bByte(45);
  while (i > 0) { i--; bByte(load<u8>(tmp + <usize>i)); }
}

/** NUL-terminates the builder and returns its address. */
export function bEnd(): usize {
  bByte(0);
  return bPtr;
}

// ---------- aborting ----------

/** Aborts evaluation with an ASCII message (the SDK throws it as a string). */
export function abortLit(msg: string): void {
  let n = msg.length;
  let p = alloc(<usize>n + 1);
  for (let i = 0; i < n; i++) store<u8>(p + <usize>i, <u8>msg.charCodeAt(i));
  store<u8>(p + <usize>n, 0);
  opa_abort(p);
  unreachable();
}

/** Aborts with the builder's content (built with bStart/bLit/...). Non-ASCII bytes become '?'. */
export function abortBuilt(): void {
  for (let i: usize = 0; i < bLen; i++) {
    if (load<u8>(bPtr + i) >= 0x80) store<u8>(bPtr + i, 63);
  }
  opa_abort(bEnd());
  unreachable();
}

/** Target of asc's `--use abort=...`: AssemblyScript's own assertion failures. */
export function asAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  abortLit("eval_internal_error: runtime assertion failed");
}

@inline
export function memEq(a: usize, b: usize, n: usize): bool {
  return memory.compare(a, b, n) == 0;
}
