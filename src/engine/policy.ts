/**
 * One instantiated policy module: a thin typed wrapper over `@open-policy-agent/opa-wasm` that sizes
 * the memory from the module's own import, wires host built-ins, refuses modules whose built-ins no
 * one implements, and normalises the SDK's thrown strings into Errors.
 */
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { importedMemoryMinimum } from './wasm-imports';
import { hostBuiltinsFor, missingBuiltins, newEvalContext, beginEvaluation } from './host-builtins';

/** The SDK's result set: `[{result: value}]`, `[]` when undefined. */
export type ResultSet = Array<{ result: unknown }>;

export class PolicyLoadError extends Error {
  readonly code = 'policy_load_error';
}

export class EvaluationError extends Error {
  readonly code = 'evaluation_error';
}

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

const encoder = new TextEncoder();

function toError(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'string') return thrown;
  if (thrown && typeof thrown === 'object' && typeof (thrown as { message?: unknown }).message === 'string') {
    return (thrown as { message: string }).message;
  }
  return String(thrown);
}

export class WasmPolicy {
  private constructor(
    private readonly sdk: LoadedPolicy,
    private readonly ctx: Record<string, unknown>,
    /** entrypoint name → id, as the module reports them */
    readonly entrypoints: Readonly<Record<string, number>>,
    /** the built-in names the module imports */
    readonly builtins: readonly string[],
  ) {}

  /**
   * Instantiate a module. Fails with PolicyLoadError when it is not an OPA-ABI module, or when it needs
   * built-ins that neither the SDK nor src/builtins implements (named in the message).
   */
  static async load(wasm: Uint8Array): Promise<WasmPolicy> {
    let initial: number;
    try {
      initial = Math.max(5, importedMemoryMinimum(wasm) ?? 5);
    } catch (err) {
      throw new PolicyLoadError(`policy.wasm: ${toError(err)}`);
    }
    const ctx = newEvalContext();
    const custom = hostBuiltinsFor(ctx);
    let sdk: LoadedPolicy;
    try {
      sdk = await loadPolicy(wasm, { initial }, custom as never);
    } catch (err) {
      throw new PolicyLoadError(`policy.wasm does not load: ${toError(err)}`);
    }
    const builtins = Object.keys(builtinMap(sdk));
    const missing = missingBuiltins(builtins, custom);
    if (missing.length > 0) {
      throw new PolicyLoadError(`policy.wasm needs built-ins this PDP does not implement: ${missing.sort().join(', ')}`);
    }
    return new WasmPolicy(sdk, ctx, { ...(sdk.entrypoints as Record<string, number>) }, builtins);
  }

  /** Set the data document (once per activation: every evaluation after this sees it). */
  setData(data: unknown): void {
    try {
      this.sdk.setData(encoder.encode(JSON.stringify(data ?? {})).buffer as ArrayBuffer);
    } catch (err) {
      throw new PolicyLoadError(`setting data failed: ${toError(err)}`);
    }
  }

  /**
   * Evaluate an entrypoint. The input is passed as JSON bytes so that falsy inputs (false, 0, "",
   * null) reach the policy; the SDK would otherwise treat them as "no input".
   */
  evaluate(entrypoint: string, input: unknown): ResultSet {
    const id = this.entrypoints[entrypoint];
    if (id === undefined) throw new EvaluationError(`unknown entrypoint ${entrypoint}`);
    beginEvaluation(this.ctx);
    const bytes = input === undefined ? undefined : (encoder.encode(JSON.stringify(input)).buffer as ArrayBuffer);
    let rs: unknown;
    try {
      rs = this.sdk.evaluate(bytes, id);
    } catch (err) {
      throw new EvaluationError(toError(err));
    }
    if (!Array.isArray(rs)) throw new EvaluationError('policy returned a malformed result set');
    return rs as ResultSet;
  }
}

/** The SDK keeps the module's builtins() answer as id → name on its env; recover the names. */
function builtinMap(sdk: LoadedPolicy): Record<string, number> {
  // The SDK does not expose the map, so ask the module directly (same call the SDK made at load).
  const inst = sdk as unknown as { wasmInstance: { exports: Record<string, unknown> }; mem: { buffer: ArrayBuffer } };
  const exp = inst.wasmInstance.exports as Record<string, unknown>;
  const builtinsFn = exp.builtins as () => number;
  const dump = exp.opa_json_dump as (addr: number) => number;
  const heapGet = exp.opa_heap_ptr_get as () => number;
  const heapSet = exp.opa_heap_ptr_set as (p: number) => void;
  const saved = heapGet();
  try {
    const addr = dump(builtinsFn());
    const bytes = new Uint8Array(inst.mem.buffer);
    let end = addr;
    while (bytes[end] !== 0) end++;
    const parsed = JSON.parse(Buffer.from(bytes.subarray(addr, end)).toString('utf8'));
    return parsed && typeof parsed === 'object' ? parsed : {};
  } finally {
    heapSet(saved);
  }
}
