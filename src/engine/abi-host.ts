/**
 * Our host side of OPA's wasm ABI: instantiates a policy module and evaluates it, speaking the same ABI
 * as `@open-policy-agent/opa-wasm` (imports `env.memory`, `opa_abort`, `opa_println`, `opa_builtin0..4`;
 * data loaded once with `opa_json_parse` after the base heap pointer; `opa_eval` for ABI ≥ 1.2, the
 * classic eval-context calls before that) but without its per-call overheads, which dominated a decision
 * of the default policy: the SDK builds a TextEncoder/TextDecoder per host call and per evaluation, scans
 * for NUL bytes in a JS loop and copies the input once more than needed. Here memory is read through one
 * Buffer view (re-taken only after the memory grew), NULs are found with the native indexOf, and the
 * input is written straight into the module's memory.
 *
 * Semantics are the SDK's: a host built-in gets each argument as the JSON of the value (sets as arrays),
 * returns a JSON-able value, an ArrayBuffer of raw JSON text (exact big integers), or undefined
 * (→ address 0, undefined); what it throws propagates out of evaluate(); `opa_abort` throws the module's
 * message as a string.
 */

// tsconfig has no DOM/wasm lib: the few WebAssembly shapes used here, typed structurally
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
type WasmModule = object;
type Imports = Record<string, Record<string, unknown>>;
interface WasmApi {
  Memory: new (d: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: Imports) => WasmInstance;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(m: WasmModule, imports: Imports): Promise<WasmInstance>;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A host built-in as the SDK calls it. */
export type HostImpl = (...args: unknown[]) => unknown;

interface OpaExports {
  opa_malloc(n: number): number;
  opa_json_parse(addr: number, len: number): number;
  opa_json_dump(addr: number): number;
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(p: number): void;
  opa_eval_ctx_new(): number;
  opa_eval_ctx_set_input(ctx: number, v: number): void;
  opa_eval_ctx_set_data(ctx: number, v: number): void;
  opa_eval_ctx_set_entrypoint(ctx: number, ep: number): void;
  opa_eval_ctx_get_result(ctx: number): number;
  eval(ctx: number): number;
  opa_eval?(reserved: number, ep: number, data: number, input: number, inputLen: number, heapPtr: number, format: number): number;
  builtins(): number;
  entrypoints(): number;
  opa_wasm_abi_version?: { value: number } | number;
  opa_wasm_abi_minor_version?: { value: number } | number;
}

const PAGE = 64 * 1024;

function globalValue(g: { value: number } | number | undefined): number | undefined {
  return g === undefined ? undefined : typeof g === 'number' ? g : g.value;
}

export class OpaModule {
  /** Field names match the SDK's LoadedPolicy: sdk-abi.ts reads them on either. */
  readonly wasmInstance: WasmInstance;
  readonly mem: WasmMemory;
  dataAddr = 0;
  readonly baseHeapPtr: number;
  dataHeapPtr: number;
  readonly entrypoints: Record<string, number>;
  /** builtin id → name, from the module's builtins() */
  readonly builtinNames: string[] = [];
  readonly minorVersion: number;
  private view: Buffer;
  private readonly ex: OpaExports;
  /** our runtime's pdp_set_now_ns (not OPA's ABI): modules built by others lack it */
  private readonly setNowExport?: (ns: bigint) => void;

  private constructor(instance: WasmInstance, mem: WasmMemory, env: { module?: OpaModule }) {
    env.module = this;
    this.wasmInstance = instance;
    this.mem = mem;
    this.ex = instance.exports as unknown as OpaExports;
    this.view = Buffer.from(mem.buffer);
    const setNow = (instance.exports as Record<string, unknown>).pdp_set_now_ns;
    if (typeof setNow === 'function') this.setNowExport = setNow as (ns: bigint) => void;
    const major = globalValue(this.ex.opa_wasm_abi_version);
    if (major !== undefined && major !== 1) throw new Error(`unsupported ABI version ${major}`);
    this.minorVersion = globalValue(this.ex.opa_wasm_abi_minor_version) ?? 0;
    const builtins = this.dumpJson(this.ex.builtins()) as Record<string, number>;
    for (const [name, id] of Object.entries(builtins ?? {})) this.builtinNames[id] = name;
    this.dataAddr = this.loadJson('{}');
    this.baseHeapPtr = this.ex.opa_heap_ptr_get();
    this.dataHeapPtr = this.baseHeapPtr;
    this.entrypoints = (this.dumpJson(this.ex.entrypoints()) ?? {}) as Record<string, number>;
  }

  static instantiateSync(wasm: Uint8Array, initialPages: number, impls: Record<string, HostImpl>): OpaModule {
    const mem = new Wasm.Memory({ initial: initialPages });
    const env: { module?: OpaModule } = {};
    const instance = new Wasm.Instance(new Wasm.Module(wasm), importObject(env, mem, impls));
    return new OpaModule(instance, mem, env);
  }

  static async instantiate(wasm: Uint8Array, initialPages: number, impls: Record<string, HostImpl>): Promise<OpaModule> {
    const mem = new Wasm.Memory({ initial: initialPages });
    const env: { module?: OpaModule } = {};
    const instance = await Wasm.instantiate(await Wasm.compile(wasm), importObject(env, mem, impls));
    return new OpaModule(instance, mem, env);
  }

  /** The memory as a Buffer; re-taken when growth replaced the ArrayBuffer. */
  private bytes(): Buffer {
    if (this.view.buffer !== this.mem.buffer) this.view = Buffer.from(this.mem.buffer);
    return this.view;
  }

  /** The NUL-terminated UTF-8 text at addr. */
  readCString(addr: number): string {
    const b = this.bytes();
    let end = b.indexOf(0, addr);
    if (end < 0) end = b.length;
    return b.toString('utf8', addr, end);
  }

  dumpJson(addr: number): unknown {
    return JSON.parse(this.readCString(this.ex.opa_json_dump(addr)));
  }

  /** Parses JSON text (a string, or raw UTF-8 bytes) into a value in the module's heap. */
  loadJson(text: string | Uint8Array): number {
    const len = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength;
    const addr = this.ex.opa_malloc(len);
    const b = this.bytes();
    if (typeof text === 'string') b.write(text, addr, len, 'utf8');
    else b.set(text, addr);
    const v = this.ex.opa_json_parse(addr, len);
    if (v === 0) throw new Error('failed to parse json value');
    return v;
  }

  /** True when the module takes the evaluation's instant up front (then time.now_ns() makes no host call). */
  get takesNow(): boolean {
    return this.setNowExport !== undefined;
  }

  /** The instant time.now_ns() answers in the next evaluation (only for modules that take it). */
  setNow(ns: bigint): void {
    this.setNowExport?.(ns);
  }

  /** Sets the data document from its JSON text (replacing any earlier data). */
  setData(json: string): void {
    this.ex.opa_heap_ptr_set(this.baseHeapPtr);
    this.dataAddr = this.loadJson(json);
    this.dataHeapPtr = this.ex.opa_heap_ptr_get();
  }

  /**
   * Evaluates entrypoint `id` on the input's JSON text (undefined: no input) and returns the result
   * set's JSON text.
   */
  evaluate(id: number, inputJson: string | undefined): string {
    const ex = this.ex;
    if (this.minorVersion >= 2 && ex.opa_eval) {
      let inputAddr = 0;
      let inputLen = 0;
      if (inputJson !== undefined) {
        inputLen = Buffer.byteLength(inputJson);
        inputAddr = this.dataHeapPtr;
        const short = inputAddr + inputLen - this.mem.buffer.byteLength;
        if (short > 0) this.mem.grow(Math.ceil(short / PAGE));
        this.bytes().write(inputJson, inputAddr, inputLen, 'utf8');
      }
      return this.readCString(ex.opa_eval(0, id, this.dataAddr, inputAddr, inputLen, this.dataHeapPtr + inputLen, 0));
    }
    ex.opa_heap_ptr_set(this.dataHeapPtr);
    const inputAddr = inputJson === undefined ? 0 : this.loadJson(inputJson);
    const ctx = ex.opa_eval_ctx_new();
    if (inputJson !== undefined) ex.opa_eval_ctx_set_input(ctx, inputAddr);
    ex.opa_eval_ctx_set_data(ctx, this.dataAddr);
    ex.opa_eval_ctx_set_entrypoint(ctx, id);
    ex.eval(ctx);
    return this.readCString(ex.opa_json_dump(ex.opa_eval_ctx_get_result(ctx)));
  }

  /** One host built-in call: arguments are value addresses; the answer is a value address, 0 = undefined. */
  callBuiltin(impls: Record<string, HostImpl>, id: number, args: number[]): number {
    const name = this.builtinNames[id];
    const impl = name === undefined ? undefined : impls[name];
    if (impl === undefined) throw { message: `not implemented: built-in function ${id}: ${name}` };
    const values = args.map((a) => this.dumpJson(a));
    const result = impl(...values);
    if (result === undefined) return 0;
    if (result instanceof ArrayBuffer) return this.loadJson(new Uint8Array(result));
    return this.loadJson(JSON.stringify(result));
  }
}

function importObject(env: { module?: OpaModule }, memory: WasmMemory, impls: Record<string, HostImpl>): Imports {
  const call = (id: number, args: number[]): number => {
    if (!env.module) throw new Error('a built-in was called before the module finished loading');
    return env.module.callBuiltin(impls, id, args);
  };
  const text = (addr: number): string => {
    const b = Buffer.from(memory.buffer);
    let end = b.indexOf(0, addr);
    if (end < 0) end = b.length;
    return b.toString('utf8', addr, end);
  };
  return {
    env: {
      memory,
      opa_abort: (addr: number) => {
        throw text(addr);
      },
      opa_println: (addr: number) => {
        // eslint-disable-next-line no-console
        console.log(text(addr));
      },
      opa_builtin0: (id: number) => call(id, []),
      opa_builtin1: (id: number, _ctx: number, a: number) => call(id, [a]),
      opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, [a, b]),
      opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, [a, b, c]),
      opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) => call(id, [a, b, c, d]),
    },
  };
}
