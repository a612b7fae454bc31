/**
 * The one way this project loads and evaluates a policy.wasm: the PDP, `pdp test`, the conformance
 * runner and the benchmarks all go through WasmPolicy, so they evaluate policies exactly alike.
 *
 * A thin typed wrapper over `@open-policy-agent/opa-wasm` that makes the SDK call our host built-ins
 * (not its bundled JS ones), sizes the memory from the module's own import, refuses modules whose
 * built-ins no one implements, resets per-evaluation built-in state before each evaluation, and
 * normalises the SDK's thrown strings into Errors.
 */
import { loadPolicy, loadPolicySync } from '@open-policy-agent/opa-wasm';
import { importedMemoryMinimum } from './wasm-imports';
import { hostBuiltins, newEvalContext, beginEvaluation, type EvalContext } from '../builtins/registry';
import { preferOurBuiltinsOverSdk, sdkBundledBuiltins } from '../builtins/sdk';
import { importedBuiltinNames, evaluateRegoText, runtimeClock, enableExactHostValues } from './sdk-abi';
import { evalNowNs } from '../builtins/context';
import { errorMessage } from './error-message';

/** The SDK's result set: `[{result: value}]`, `[]` when undefined. */
export type ResultSet = Array<{ result: unknown }>;

export class PolicyLoadError extends Error {
  readonly code = 'policy_load_error';
}

export class EvaluationError extends Error {
  readonly code = 'evaluation_error';
  /**
   * OPA's error class when the failure has one (`eval_type_error`, `eval_builtin_error`,
   * `eval_conflict_error`, …): from a host built-in's error or the module's abort message.
   */
  readonly errorClass: string | undefined;
  constructor(message: string, errorClass?: string) {
    super(message);
    this.errorClass = errorClass;
  }
}

export interface LoadOptions {
  /** built-in errors raise (OPA's strict-builtin-errors) instead of making the call undefined */
  strictBuiltinErrors?: boolean;
  /** initial memory in 64 KiB pages; never below what the module imports (the SDK's default is 5) */
  memoryPages?: number;
  /** where the policy's `print` output goes, one call per line (default: stderr); see WasmPolicy.printSink */
  print?: (line: string) => void;
}

/** `print` output of a policy by default: stderr, a line each, as `opa eval` writes it. */
const printToStderr = (line: string): void => {
  process.stderr.write(line + '\n');
};

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

const encoder = new TextEncoder();

/** A fresh ArrayBuffer holding exactly the n UTF-8 bytes of `json`. */
function exactBytes(json: string, n: number): ArrayBuffer {
  const ab = new ArrayBuffer(n);
  Buffer.from(ab).write(json, 0, n, 'utf8');
  return ab;
}
const ERROR_CLASS = /^((?:eval|rego)_\w+_error)\b/;

function toEvaluationError(thrown: unknown): EvaluationError {
  const message = errorMessage(thrown);
  const code = thrown && typeof thrown === 'object' ? (thrown as { code?: unknown }).code : undefined;
  const errorClass = typeof code === 'string' && ERROR_CLASS.test(code) ? code : ERROR_CLASS.exec(message)?.[1];
  return new EvaluationError(message, errorClass);
}

/**
 * The built-ins a module imports that nobody implements (neither the SDK's remaining bundled ones nor
 * ours): loading such a module must fail, naming them, rather than fail later at the first decision.
 */
function missingBuiltins(names: readonly string[], provided: Record<string, unknown>): string[] {
  const sdk = sdkBundledBuiltins();
  return names.filter((n) => typeof sdk[n] !== 'function' && typeof provided[n] !== 'function');
}

/** What a load needs before the SDK instantiates the module. */
interface Prepared {
  initial: number;
  ctx: EvalContext;
  custom: ReturnType<typeof hostBuiltins>;
}

/**
 * Undoes the SDK's decoding of a printed line. @open-policy-agent/opa-wasm's `opa_println` reads the
 * C string byte by byte through an Int8Array (`String.fromCharCode(i8[addr++])`), so every UTF-8 byte
 * >= 0x80 arrives as U+FF80..U+FFFF and `print("héllo")` showed as "hￃﾩllo"; `opa test` prints the UTF-8
 * text. A line with such code units and no other non-ASCII one is SDK output: re-read its bytes as UTF-8.
 */
export function sdkPrintLine(line: string): string {
  if (!/[\uFF80-\uFFFF]/.test(line) || /[\u0080-\uFF7F]/.test(line)) return line;
  return new TextDecoder().decode(Uint8Array.from(line, (c) => c.charCodeAt(0) & 0xff));
}

export class WasmPolicy {
  private constructor(
    private readonly sdk: LoadedPolicy,
    private readonly ctx: EvalContext,
    /** entrypoint name → id, as the module reports them */
    readonly entrypoints: Readonly<Record<string, number>>,
    /** the built-in names the module imports */
    readonly builtins: readonly string[],
    print: ((line: string) => void) | undefined,
  ) {
    this.setNow = runtimeClock(sdk);
    this.printSink = print ?? printToStderr;
  }

  /** Receives each line the policy prints (`print(…)`) during evaluate(); may be replaced between evaluations. */
  printSink: (line: string) => void;

  /**
   * Runs one SDK call with its prints going to printSink. The SDK's `opa_println` import (which
   * `print` reaches) writes with console.log, so it would land on stdout among a CLI's results; an
   * evaluation is synchronous, so pointing console.log at the sink for its duration catches exactly
   * this evaluation's lines (of our modules and of modules built by OPA alike).
   */
  private withPrints<T>(fn: () => T): T {
    const saved = console.log;
    const sink = this.printSink;
    console.log = (...args: unknown[]) => sink(sdkPrintLine(args.map(String).join(' ')));
    try {
      return fn();
    } finally {
      console.log = saved;
    }
  }

  /** our runtime's clock hand-off, when the module has it (see sdk-abi.ts runtimeClock) */
  private readonly setNow: ((ns: bigint) => void) | undefined;

  /**
   * Fresh per-evaluation built-in state; a module of ours gets the instant up front, the same one the
   * host time built-ins will use (time.now_ns is one instant per evaluation, native or not).
   */
  private begin(): void {
    beginEvaluation(this.ctx);
    if (this.setNow) this.setNow(evalNowNs(this.ctx));
  }

  /**
   * Instantiate a module. Fails with PolicyLoadError when it is not an OPA-ABI module, or when it needs
   * built-ins that neither the SDK nor src/builtins implements (named in the message).
   */
  static async load(wasm: Uint8Array, opts: LoadOptions = {}): Promise<WasmPolicy> {
    const prep = WasmPolicy.prepare(wasm, opts);
    let sdk: LoadedPolicy;
    try {
      sdk = await loadPolicy(wasm, { initial: prep.initial }, prep.custom as never);
    } catch (err) {
      throw new PolicyLoadError(`policy.wasm does not load: ${errorMessage(err)}`);
    }
    return WasmPolicy.finish(sdk, prep, opts);
  }

  /** load(), synchronously (for runners that are synchronous end to end). */
  static loadSync(wasm: Uint8Array, opts: LoadOptions = {}): WasmPolicy {
    const prep = WasmPolicy.prepare(wasm, opts);
    let sdk: LoadedPolicy;
    try {
      sdk = loadPolicySync(wasm, { initial: prep.initial }, prep.custom as never) as LoadedPolicy;
    } catch (err) {
      throw new PolicyLoadError(`policy.wasm does not load: ${errorMessage(err)}`);
    }
    return WasmPolicy.finish(sdk, prep, opts);
  }

  private static prepare(wasm: Uint8Array, opts: LoadOptions): Prepared {
    // the SDK would otherwise answer sprintf, json.is_valid, yaml.* with its bundled JS versions
    // (sprintf-js is not Go's fmt); idempotent, and it must happen before the SDK binds built-ins
    preferOurBuiltinsOverSdk();
    let initial: number;
    try {
      initial = Math.max(5, importedMemoryMinimum(wasm) ?? 5, opts.memoryPages ?? 0);
    } catch (err) {
      throw new PolicyLoadError(`policy.wasm: ${errorMessage(err)}`);
    }
    const ctx = newEvalContext({ strict: !!opts.strictBuiltinErrors });
    return { initial, ctx, custom: hostBuiltins(ctx) };
  }

  private static finish(sdk: LoadedPolicy, prep: Prepared, opts: LoadOptions): WasmPolicy {
    const builtins = importedBuiltinNames(sdk);
    const missing = missingBuiltins(builtins, prep.custom);
    if (missing.length > 0) {
      throw new PolicyLoadError(`policy.wasm needs built-ins this PDP does not implement: ${missing.sort().join(', ')}`);
    }
    prep.ctx.exactValues = enableExactHostValues(sdk);
    return new WasmPolicy(sdk, prep.ctx, { ...(sdk.entrypoints as Record<string, number>) }, builtins, opts.print);
  }

  /** reusable input buffers by padded size (see inputBytes) */
  private readonly inputBuffers = new Map<number, Buffer>();

  /**
   * The input's JSON bytes as the ArrayBuffer the SDK copies into the module's memory (synchronously,
   * within evaluate). Instead of a fresh buffer per evaluation, one buffer per size rounded up to 64
   * bytes is reused, the text followed by spaces: JSON allows trailing whitespace, so the module parses
   * the same value. Only small sizes are kept, and at most 64 of them.
   */
  private inputBytes(json: string): ArrayBuffer {
    const n = Buffer.byteLength(json, 'utf8');
    const size = (n + 63) & ~63;
    if (size > 64 * 1024) return exactBytes(json, n);
    let buf = this.inputBuffers.get(size);
    if (!buf) {
      if (this.inputBuffers.size >= 64) this.inputBuffers.clear();
      buf = Buffer.from(new ArrayBuffer(size));
      this.inputBuffers.set(size, buf);
    }
    buf.write(json, 0, n, 'utf8');
    if (n < size) buf.fill(0x20, n);
    return buf.buffer as ArrayBuffer;
  }

  /** Set the data document (once per activation: every evaluation after this sees it). */
  setData(data: unknown): void {
    try {
      this.sdk.setData(encoder.encode(JSON.stringify(data ?? {})).buffer as ArrayBuffer);
    } catch (err) {
      throw new PolicyLoadError(`setting data failed: ${errorMessage(err)}`);
    }
  }

  /** The id of an entrypoint given by name or id; EvaluationError when the module has no such entrypoint. */
  entrypointId(entrypoint: string | number): number {
    if (typeof entrypoint === 'number') {
      if (Object.values(this.entrypoints).includes(entrypoint)) return entrypoint;
    } else if (Object.prototype.hasOwnProperty.call(this.entrypoints, entrypoint)) {
      return this.entrypoints[entrypoint];
    }
    throw new EvaluationError(`unknown entrypoint ${entrypoint}`);
  }

  /**
   * Evaluate an entrypoint (by name or id). The input is passed as JSON bytes so that falsy inputs
   * (false, 0, "", null) reach the policy; the SDK would otherwise treat them as "no input".
   * `undefined` means no input at all.
   */
  evaluate(entrypoint: string | number, input: unknown): ResultSet {
    return this.evaluateJson(entrypoint, input === undefined ? undefined : JSON.stringify(input));
  }

  /**
   * evaluate() with the input already serialised (the PDP serialises it once, for the policy and its
   * decision log). `json` must be the JSON text of a value; undefined means no input at all.
   */
  evaluateJson(entrypoint: string | number, json: string | undefined): ResultSet {
    const id = this.entrypointId(entrypoint);
    this.begin();
    const bytes = json === undefined ? undefined : this.inputBytes(json);
    let rs: unknown;
    try {
      rs = this.withPrints(() => this.sdk.evaluate(bytes, id));
    } catch (err) {
      throw toEvaluationError(err);
    }
    if (!Array.isArray(rs)) throw new EvaluationError('policy returned a malformed result set');
    return rs as ResultSet;
  }

  /**
   * evaluateJson() of a module compiled with `explain` (src/compiler/plan/explain.ts), also returning
   * the notes its rule bodies reported, in evaluation order: `[site JSON, value JSON]`.
   */
  evaluateJsonWithNotes(entrypoint: string | number, json: string | undefined): { resultSet: ResultSet; notes: Array<[string, string]> } {
    const notes: Array<[string, string]> = [];
    this.ctx.notes = notes;
    try {
      return { resultSet: this.evaluateJson(entrypoint, json), notes };
    } finally {
      this.ctx.notes = undefined;
    }
  }

  /**
   * Evaluate with an input written in Rego syntax (so it may hold sets), through OPA's classic ABI;
   * returns the result set as Rego text (sets stay sets). For conformance cases, which need both.
   */
  evaluateRegoText(entrypoint: string | number, inputText: string | undefined): string {
    const id = this.entrypointId(entrypoint);
    this.begin();
    try {
      return this.withPrints(() => evaluateRegoText(this.sdk, id, inputText));
    } catch (err) {
      throw toEvaluationError(err);
    }
  }
}
