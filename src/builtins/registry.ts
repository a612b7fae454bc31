/**
 * The one registry of Rego built-ins, shared by the type checker, the wasm emitter, the engine and the
 * `pdp capabilities` command.
 *
 * - `lookupBuiltin(name)`: declaration (arity, types, native or host, category) of every built-in we know,
 *   operators included. Unknown ⇒ undefined: the compiler reports "unknown built-in <name>".
 * - `hostBuiltins(ctx)`: the SDK's `customBuiltins` map (name → function) for one loaded policy.
 * - `checkHostImports(names)`: the names a module imports that we cannot serve (fail at load, not at the
 *   first decision).
 *
 * Host calling convention (how `@open-policy-agent/opa-wasm` calls the functions `hostBuiltins` returns):
 * each argument is the JSON of the value (sets as sorted arrays, object keys as strings, numbers as JS
 * doubles). The function returns
 * - a JSON-able value, or an `ArrayBuffer` of JSON text when the result holds an integer beyond 2^53 (the
 *   SDK parses an ArrayBuffer as raw JSON, so big integers such as nanosecond timestamps stay exact);
 * - `undefined` for "undefined" (the SDK turns it into a 0 address, which the module treats as undefined).
 * Errors: with `ctx.strict === false` (OPA's default) a built-in error makes the call undefined, so the
 * function returns undefined; with `ctx.strict === true` it throws the `BuiltinError` (`code` is OPA's
 * class, `eval_builtin_error` or `eval_type_error`, `message` OPA's text). The throw unwinds through the
 * wasm frames out of `evaluate()`; the engine reports it as the decision's evaluation error.
 * Unexpected JS exceptions (bugs) are always rethrown so the engine fails the decision closed.
 *
 * Results whose declared type is 'set' come back as JSON arrays; the runtime must turn them into sets.
 *
 * With our runtime the engine switches a policy to exact values (`ctx.exactValues`, rego-text.ts):
 * each argument then arrives as a string of Rego text and is parsed here (sets marked, non-string keys
 * kept, big integers as bigint), and the result goes back as Rego text.
 */
import { BuiltinError, isBuiltinError } from './errors';
import { ROWS, NATIVE, NATIVE_WITH_HOST_FALLBACK } from './catalog';
import { beginEvaluation, EvalContext, newEvalContext } from './context';
import type { BuiltinDecl, HostFn, Impls, TypeName } from './types';
import type { Value } from './values';
import { coreImpls } from './core';
import { stringImpls } from './strings';
import { sprintfImpls } from './sprintf';
import { regexImpls } from './regex';
import { globImpls } from './glob';
import { objectImpls } from './objects';
import { encodingImpls } from './encoding';
import { timeImpls } from './time';
import { netImpls } from './net';
import { unitsImpls } from './units';
import { miscImpls } from './misc';
import { jwtImpls } from './jwt';
import { decimalImpls } from './decimal';
import { explainImpls } from './explain';
import { uuidImpls } from './uuid';
import { jwtSignImpls } from './jwt-sign';
import { awsImpls } from './aws';
import { jsonSchemaImpls } from './json-schema';
import { x509Impls } from './x509';
import { globsMatchImpls } from './globs-match';
import { marshal } from './encoding';
import { parseRegoText, regoText } from './rego-text';

export type { BuiltinDecl, HostFn, TypeName, BasicType } from './types';
export { typeAccepts } from './types';
export { BuiltinError, isBuiltinError } from './errors';
export type { BuiltinErrorCode } from './errors';
export { newEvalContext, beginEvaluation } from './context';
export type { EvalContext } from './context';
export type { Value } from './values';

const IMPLS: Impls = Object.assign(
  {},
  coreImpls, stringImpls, sprintfImpls, regexImpls, globImpls, objectImpls, encodingImpls,
  timeImpls, netImpls, unitsImpls, miscImpls, jwtImpls, decimalImpls, uuidImpls, globsMatchImpls, jwtSignImpls, awsImpls, jsonSchemaImpls, x509Impls,
  explainImpls,
);

const REGISTRY = new Map<string, BuiltinDecl>();
for (const [category, rows] of Object.entries(ROWS)) {
  for (const [name, args, result, opts] of rows) {
    REGISTRY.set(name, {
      name, arity: args.length, args, result, category,
      native: NATIVE.has(name) || NATIVE_WITH_HOST_FALLBACK.has(name),
      ...(NATIVE_WITH_HOST_FALLBACK.has(name) ? { hostFallback: true } : {}),
      host: IMPLS[name],
      ...opts,
    });
  }
}

/**
 * Adds a built-in that OPA does not have (a plug-in's, see plugins.ts). Never replaces a known built-in:
 * a policy relying on OPA's `http.send` must get OPA's. Throws Error with a message for a human.
 */
export function addCustomBuiltin(decl: BuiltinDecl): void {
  if (REGISTRY.has(decl.name)) throw new Error(`built-in ${decl.name} already exists and cannot be replaced`);
  REGISTRY.set(decl.name, decl);
}

export function lookupBuiltin(name: string): BuiltinDecl | undefined {
  return REGISTRY.get(name);
}

/** Every declared built-in, sorted by name. */
export function allBuiltins(): BuiltinDecl[] {
  return [...REGISTRY.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Built-ins we can run on the host (what a module built by OPA may import). */
export function hostBuiltinNames(): string[] {
  return allBuiltins().filter((d) => d.host && !d.relation).map((d) => d.name);
}

/** Names required by a module's `builtins()` export that the host cannot provide. */
export function checkHostImports(required: string[]): string[] {
  return required.filter((n) => !lookupBuiltin(n)?.host);
}

function containsBigInt(v: Value): boolean {
  if (typeof v === 'bigint') return true;
  if (Array.isArray(v)) return v.some(containsBigInt);
  if (v !== null && typeof v === 'object') return Object.values(v).some(containsBigInt);
  return false;
}

function finiteOrThrow(name: string, v: Value): void {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new BuiltinError('eval_builtin_error', `${name}: result is not a finite number`);
  if (Array.isArray(v)) v.forEach((x) => finiteOrThrow(name, x));
  else if (v !== null && typeof v === 'object' && typeof v !== 'bigint') Object.values(v).forEach((x) => finiteOrThrow(name, x));
}

/**
 * Call a built-in's host implementation: returns its value (integers beyond 2^53 as bigint) or
 * undefined; throws BuiltinError on a built-in error regardless of mode (callers decide).
 */
export function callHost(name: string, args: Value[], ctx: EvalContext = newEvalContext()): Value | undefined {
  const decl = REGISTRY.get(name);
  if (!decl?.host) throw new Error(`no host implementation for built-in ${name}`);
  if (args.length !== decl.arity) {
    throw new BuiltinError('eval_type_error', `${name}: expects ${decl.arity} arguments, got ${args.length}`);
  }
  const out = decl.host(args, ctx);
  if (out !== undefined) finiteOrThrow(name, out);
  return out;
}

function utf8Buffer(text: string): ArrayBuffer {
  const bytes = new TextEncoder().encode(text);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** An argument in exact mode: the runtime hands each one over as a JSON string of its Rego text. */
function fromExactArg(a: unknown): Value {
  if (typeof a !== 'string') throw new Error('host built-in argument is not Rego text (exact values mode)');
  return parseRegoText(a);
}

/** Convert a host result to what the SDK loads: plain JSON, or raw JSON text for exact big integers. */
export function toSdkResult(v: Value | undefined): unknown {
  if (v === undefined) return undefined;
  if (!containsBigInt(v)) return v;
  return utf8Buffer(marshal(v));
}

/**
 * The SDK's `customBuiltins` for one loaded policy. `ctx` is that policy's EvalContext: the engine calls
 * `beginEvaluation(ctx, { strict })` before every evaluate() (fresh time.now_ns, fresh uuid cache).
 */
export function hostBuiltins(ctx: EvalContext = newEvalContext()): Record<string, (...args: any[]) => any> {
  const out: Record<string, (...args: any[]) => any> = {};
  for (const name of hostBuiltinNames()) {
    out[name] = (...args: any[]) => {
      try {
        if (!ctx.exactValues) return toSdkResult(callHost(name, args as Value[], ctx));
        const r = callHost(name, args.map(fromExactArg), ctx);
        return r === undefined ? undefined : utf8Buffer(regoText(r));
      } catch (e) {
        if (isBuiltinError(e) && !ctx.strict) return undefined;
        throw e;
      }
    };
  }
  return out;
}

/** Convenience for one-off use (tests, constant folding): a fresh context per call. */
export function evalContextFor(strict: boolean): EvalContext {
  const ctx = newEvalContext({ strict });
  beginEvaluation(ctx);
  return ctx;
}
