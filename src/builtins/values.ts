/**
 * JSON values as host built-ins see them, plus the helpers every family needs: OPA's type names,
 * OPA's total order over values, deep equality, and argument checks that raise OPA's messages.
 *
 * How values arrive: the SDK hands each argument over as parsed JSON. Sets therefore arrive as
 * arrays (already sorted and deduplicated by the runtime), object keys as strings, and numbers as JS
 * doubles (integers beyond 2^53 are already rounded by the time we see them). Results may contain
 * `bigint` for integers that a double cannot hold exactly; the registry's adapters serialise them
 * losslessly (see registry.ts).
 */
import { BuiltinError } from './errors';

export type Value = null | boolean | number | bigint | string | Value[] | { [key: string]: Value };
export type Obj = { [key: string]: Value };

export type RegoTypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'set' | 'object';

/** OPA's name for a value's type as used in error messages. Sets are indistinguishable from arrays here. */
export function typeOf(v: unknown): RegoTypeName {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Rego object keys are data: objects a built-in builds key by key start from dataObject() and keys
// are looked up with hasKey/getKey (src/util/own-keys.ts says why)
export { dataObject, getKey, hasKey } from '../util/own-keys';

const TYPE_RANK: Record<RegoTypeName, number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, set: 5, object: 6 };

function cmpNum(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    // mixed compare: bigint vs double compares exactly in JS
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compare strings by Unicode code point, as Go compares UTF-8 bytes (JS `<` compares UTF-16 units). */
export function cmpStr(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** OPA's total order: null < booleans < numbers < strings < arrays < sets < objects; composites compare element-wise. */
export function compare(a: Value, b: Value): number {
  const ta = TYPE_RANK[typeOf(a)];
  const tb = TYPE_RANK[typeOf(b)];
  if (ta !== tb) return ta < tb ? -1 : 1;
  switch (typeOf(a)) {
    case 'null':
      return 0;
    case 'boolean':
      return a === b ? 0 : a ? 1 : -1;
    case 'number':
      return cmpNum(a as number, b as number);
    case 'string':
      return cmpStr(a as string, b as string);
    case 'array': {
      const x = a as Value[];
      const y = b as Value[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compare(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length < 0 ? -1 : x.length > y.length ? 1 : 0;
    }
    default: {
      // objects: compare sorted keys pairwise, then values
      const x = a as Obj;
      const y = b as Obj;
      const kx = Object.keys(x).sort(cmpStr);
      const ky = Object.keys(y).sort(cmpStr);
      for (let i = 0; i < Math.min(kx.length, ky.length); i++) {
        const c = cmpStr(kx[i], ky[i]);
        if (c !== 0) return c;
        const d = compare(x[kx[i]], y[ky[i]]);
        if (d !== 0) return d;
      }
      return kx.length < ky.length ? -1 : kx.length > ky.length ? 1 : 0;
    }
  }
}

export function deepEqual(a: Value, b: Value): boolean {
  return compare(a, b) === 0;
}

/** Sort and deduplicate: what a set looks like once serialised. */
export function toSet(items: Value[]): Value[] {
  const sorted = [...items].sort(compare);
  const out: Value[] = [];
  for (const v of sorted) if (out.length === 0 || compare(out[out.length - 1], v) !== 0) out.push(v);
  return out;
}

// ---- argument checks (each throws OPA's eval_type_error message) ----

export function typeErr(fn: string, pos: number, want: string, got: unknown): BuiltinError {
  return new BuiltinError('eval_type_error', `${fn}: operand ${pos} must be ${want} but got ${typeOf(got)}`);
}

export function str(fn: string, v: unknown, pos: number): string {
  if (typeof v !== 'string') throw typeErr(fn, pos, 'string', v);
  return v;
}

const INT64_LIMIT = 2n ** 63n;

/**
 * A number argument as a double. An integer beyond 64 bits stops the evaluation (not a built-in error,
 * which non-strict mode would turn into undefined): answering from its rounded double could be wrong,
 * and it reached here only because the runtime hands host built-ins exact values.
 */
export function num(fn: string, v: unknown, pos: number): number {
  if (typeof v === 'bigint') {
    if (v >= INT64_LIMIT || v < -INT64_LIMIT) {
      throw new Error(`eval_internal_error: number out of supported range (integers beyond 64 bits are only compared, not computed with): ${fn} operand ${pos}`);
    }
    return Number(v);
  }
  if (typeof v !== 'number') throw typeErr(fn, pos, 'number', v);
  return v;
}

/**
 * An integer argument. Rejects fractions like OPA ("integer number but got floating-point number") and
 * refuses integers beyond 2^53: they were already rounded on the way in, so any answer could be wrong.
 */
export function int(fn: string, v: unknown, pos: number): number {
  const n = num(fn, v, pos);
  if (!Number.isInteger(n)) {
    throw new BuiltinError('eval_type_error', `${fn}: operand ${pos} must be integer number but got floating-point number`);
  }
  if (!Number.isSafeInteger(n)) {
    throw new BuiltinError('eval_builtin_error', `${fn}: operand ${pos} is too large to be handled exactly (beyond 2^53)`);
  }
  return n;
}

/**
 * An exact integer argument as bigint (OPA's big.Int operands): a bigint as it came (exact host values),
 * a double only when it is a safe integer (beyond 2^53 its digits were lost on the way in).
 */
export function bigIntArg(fn: string, v: unknown, pos: number): bigint {
  if (typeof v === 'bigint') return v;
  return BigInt(int(fn, v, pos));
}

/** An integer result: a number when a double holds it exactly, else a bigint (serialised with every digit). */
export function exactInt(x: bigint): number | bigint {
  const n = Number(x);
  return Number.isSafeInteger(n) ? n : x;
}

export function bool(fn: string, v: unknown, pos: number): boolean {
  if (typeof v !== 'boolean') throw typeErr(fn, pos, 'boolean', v);
  return v;
}

export function arr(fn: string, v: unknown, pos: number): Value[] {
  if (!Array.isArray(v)) throw typeErr(fn, pos, 'array', v);
  return v;
}

export function obj(fn: string, v: unknown, pos: number): Obj {
  if (!isObject(v)) throw typeErr(fn, pos, 'object', v);
  return v;
}

/** An array or set argument (both arrive as arrays). */
export function coll(fn: string, v: unknown, pos: number, want = 'one of {array, set}'): Value[] {
  if (!Array.isArray(v)) throw typeErr(fn, pos, want, v);
  return v;
}

export function builtinErr(fn: string, msg: string): BuiltinError {
  return new BuiltinError('eval_builtin_error', `${fn}: ${msg}`);
}
