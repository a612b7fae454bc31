/**
 * The one place that reaches inside the SDK's loaded policy (`@open-policy-agent/opa-wasm` keeps the
 * instance, its memory and the data addresses as plain fields but has no API for them). Two jobs need it:
 * reading the built-in names a module imports (to refuse modules nobody can serve), and evaluating with
 * an input given as Rego text through OPA's classic ABI (`opa_value_parse`), which keeps sets as sets
 * and returns the result set as Rego text (`opa_value_dump`) — the conformance cases need both.
 */

/** The shared memory as the SDK holds it (typed structurally: tsconfig has no DOM/wasm lib). */
interface Mem {
  buffer: ArrayBuffer;
}

interface Exports {
  builtins(): number;
  opa_malloc(n: number): number;
  opa_json_dump(addr: number): number;
  opa_value_parse(addr: number, len: number): number;
  opa_value_dump(addr: number): number;
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(p: number): void;
  opa_eval_ctx_new(): number;
  opa_eval_ctx_set_input(ctx: number, v: number): void;
  opa_eval_ctx_set_data(ctx: number, v: number): void;
  opa_eval_ctx_set_entrypoint(ctx: number, ep: number): void;
  opa_eval_ctx_get_result(ctx: number): number;
  eval(ctx: number): number;
}

/** The SDK LoadedPolicy fields this module reads. */
interface SdkInternals {
  wasmInstance: { exports: unknown };
  mem: Mem;
  dataAddr: number;
  dataHeapPtr: number;
}

function internals(sdk: unknown): { ex: Exports; p: SdkInternals } {
  const p = sdk as SdkInternals;
  return { ex: p.wasmInstance.exports as Exports, p };
}

function readCString(mem: Mem, addr: number): string {
  const b = new Uint8Array(mem.buffer);
  let end = addr;
  while (b[end] !== 0) end++;
  return Buffer.from(b.subarray(addr, end)).toString('utf8');
}

/** The module's `builtins()` answer (name → id): the SDK keeps it to itself, so ask the module again. */
export function importedBuiltinNames(sdk: unknown): string[] {
  const { ex, p } = internals(sdk);
  const saved = ex.opa_heap_ptr_get();
  try {
    const parsed = JSON.parse(readCString(p.mem, ex.opa_json_dump(ex.builtins())));
    return parsed && typeof parsed === 'object' ? Object.keys(parsed) : [];
  } finally {
    ex.opa_heap_ptr_set(saved);
  }
}

/**
 * Evaluate entrypoint `id` with an input in Rego syntax (sets allowed; undefined = no input) against the
 * data last set, and return the result set as Rego text. Throws what the module or a host built-in throws.
 */
export function evaluateRegoText(sdk: unknown, id: number, inputText: string | undefined): string {
  const { ex, p } = internals(sdk);
  ex.opa_heap_ptr_set(p.dataHeapPtr);
  let inputAddr = 0;
  if (inputText !== undefined) {
    const buf = new TextEncoder().encode(inputText);
    const addr = ex.opa_malloc(buf.length);
    new Uint8Array(p.mem.buffer).set(buf, addr);
    inputAddr = ex.opa_value_parse(addr, buf.length);
    if (!inputAddr) throw new Error('the module could not parse the input');
  }
  const ctx = ex.opa_eval_ctx_new();
  if (inputText !== undefined) ex.opa_eval_ctx_set_input(ctx, inputAddr);
  ex.opa_eval_ctx_set_data(ctx, p.dataAddr);
  ex.opa_eval_ctx_set_entrypoint(ctx, id);
  ex.eval(ctx);
  return readCString(p.mem, ex.opa_value_dump(ex.opa_eval_ctx_get_result(ctx)));
}

/**
 * Our runtime's `pdp_set_now_ns` export (outside OPA's ABI; modules built by others lack it): it hands
 * the evaluation's instant to the module so `time.now_ns()` needs no host call. Undefined when absent.
 */
export function runtimeClock(sdk: unknown): ((ns: bigint) => void) | undefined {
  const fn = (internals(sdk).ex as unknown as Record<string, unknown>).pdp_set_now_ns;
  return typeof fn === 'function' ? (fn as (ns: bigint) => void) : undefined;
}

/**
 * Switch a module of ours to exact host values (pdp_host_exact, see src/builtins/rego-text.ts); false
 * for modules without it (built by OPA), whose host built-ins keep the SDK's JSON.
 */
export function enableExactHostValues(sdk: unknown): boolean {
  const fn = (internals(sdk).ex as unknown as Record<string, unknown>).pdp_host_exact;
  if (typeof fn !== 'function') return false;
  (fn as () => void)();
  return true;
}
