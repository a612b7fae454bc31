/**
 * The host built-ins handed to the SDK as `customBuiltins`, and the check that a module's built-ins
 * can all be served. The implementations live in src/builtins (registry.ts: `hostBuiltins(ctx)`,
 * `checkHostImports(names)`); this adapter keeps the engine working (and refusing clearly) while that
 * module is absent or evolving.
 */
import * as path from 'path';

export type BuiltinImpl = (...args: unknown[]) => unknown;

interface Registry {
  hostBuiltins(ctx: Record<string, unknown>): Record<string, BuiltinImpl>;
  checkHostImports?(names: string[]): unknown;
}

let registry: Registry | null | undefined;

function loadRegistry(): Registry | null {
  if (registry !== undefined) return registry;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    registry = require('../builtins/registry') as Registry;
    if (typeof registry.hostBuiltins !== 'function') registry = null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    registry = null;
  }
  return registry;
}

interface ContextModule {
  newEvalContext(opts?: { strict?: boolean }): Record<string, unknown>;
  beginEvaluation(ctx: Record<string, unknown>, opts?: { strict?: boolean }): void;
}

let contextModule: ContextModule | null | undefined;

function loadContextModule(): ContextModule | null {
  if (contextModule !== undefined) return contextModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    contextModule = require('../builtins/context') as ContextModule;
    if (typeof contextModule.newEvalContext !== 'function') contextModule = null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    contextModule = null;
  }
  return contextModule;
}

/** A per-instance evaluation context (src/builtins/context.ts: EvalContext). */
export function newEvalContext(strict = false): Record<string, unknown> {
  const m = loadContextModule();
  return m ? m.newEvalContext({ strict }) : { strict };
}

/** Reset per-evaluation state (the evaluation's clock, caches) right before an evaluation. */
export function beginEvaluation(ctx: Record<string, unknown>): void {
  const m = loadContextModule();
  if (m) m.beginEvaluation(ctx);
  else for (const k of Object.keys(ctx)) if (k !== 'strict') delete ctx[k];
}

let sdkNames: Set<string> | undefined;

/** Names the SDK implements itself (it prefers its own over customBuiltins). */
export function sdkBuiltinNames(): Set<string> {
  if (!sdkNames) {
    const main = require.resolve('@open-policy-agent/opa-wasm');
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require(path.join(path.dirname(main), 'builtins', 'index.js')) as Record<string, unknown>;
    sdkNames = new Set(Object.keys(mod));
  }
  return sdkNames;
}

/**
 * Host built-ins for one policy instance. `ctx` is shared by every call of one instance; the engine
 * calls beginEvaluation(ctx) before each evaluation so per-evaluation state (e.g. the fixed
 * `time.now_ns`) never leaks from one decision into the next.
 */
export function hostBuiltinsFor(ctx: Record<string, unknown>): Record<string, BuiltinImpl> {
  const reg = loadRegistry();
  return reg ? reg.hostBuiltins(ctx) : {};
}

/**
 * The built-ins a module needs that nobody implements: an activation with a non-empty answer must
 * fail, naming them, rather than fail later at evaluation time.
 */
export function missingBuiltins(names: string[], provided: Record<string, BuiltinImpl>): string[] {
  const sdk = sdkBuiltinNames();
  const missing = new Set(names.filter((n) => !sdk.has(n) && typeof provided[n] !== 'function'));
  const reg = loadRegistry();
  if (reg && typeof reg.checkHostImports === 'function') {
    // the registry may also refuse names it knows but will not serve (unsupported semantics)
    const res = reg.checkHostImports(names);
    const list = Array.isArray(res)
      ? res
      : res && typeof res === 'object' && Array.isArray((res as { missing?: unknown }).missing)
        ? (res as { missing: unknown[] }).missing
        : [];
    for (const n of list) if (!sdk.has(String(n))) missing.add(String(n));
  }
  return [...missing];
}
