/**
 * Host versions of the "core" built-ins: comparison, arithmetic, aggregates, arrays, sets, types, bits and
 * membership. Most are native in the wasm runtime; these are fallbacks and the reference the tests check.
 * Arithmetic is on doubles: results that are not exactly representable as a double raise an error rather
 * than return a silently rounded value.
 */
import { BuiltinError } from './errors';
import type { Impls } from './types';
import {
  arr, bigIntArg, builtinErr, coll, compare, deepEqual, exactInt, int, isObject, num, obj, toSet, typeErr, typeOf, Value,
} from './values';

/** Integer operands: compute exactly with BigInt (results beyond 2^53 stay exact as bigint). */
function intOp(fn: string, a: Value, b: Value, op: (x: bigint, y: bigint) => bigint, fop: (x: number, y: number) => number): Value {
  const x = num(fn, a, 1);
  const y = num(fn, b, 2);
  if (typeof a === 'bigint' || typeof b === 'bigint' || (Number.isInteger(x) && Number.isInteger(y))) {
    const bx = typeof a === 'bigint' ? a : BigInt(x);
    const by = typeof b === 'bigint' ? b : BigInt(y);
    const r = op(bx, by);
    const n = Number(r);
    return Number.isSafeInteger(n) ? n : r;
  }
  return exactNumber(fn, fop(x, y));
}

function exactNumber(fn: string, n: number): number {
  if (!Number.isFinite(n)) throw builtinErr(fn, 'result is not a finite number');
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) {
    throw builtinErr(fn, 'integer result beyond 2^53 cannot be represented exactly');
  }
  return n;
}

/** Go's math.Round: halves away from zero (JS Math.round rounds -2.5 to -2). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function numbersOf(fn: string, v: Value, pos: number): number[] {
  const xs = coll(fn, v, pos, 'one of {array, set}');
  return xs.map((x) => {
    if (typeof x !== 'number' && typeof x !== 'bigint') throw new BuiltinError('eval_type_error', `${fn}: operand ${pos} must be one of {array, set} of numbers but got ${typeOf(v)} containing ${typeOf(x)}`);
    return num(fn, x, pos);
  });
}

function member2(x: Value, c: Value): boolean {
  if (Array.isArray(c)) return c.some((e) => deepEqual(e, x));
  if (isObject(c)) return Object.values(c).some((e) => deepEqual(e, x));
  return false;
}

function member3(k: Value, v: Value, c: Value): boolean {
  if (Array.isArray(c)) {
    return typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < c.length && deepEqual(c[k], v);
  }
  if (isObject(c)) return typeof k === 'string' && Object.prototype.hasOwnProperty.call(c, k) && deepEqual(c[k], v);
  return false;
}

function bitsArgs(fn: string, a: Value, b: Value): [bigint, bigint] {
  return [bigIntArg(fn, a, 1), bigIntArg(fn, b, 2)];
}

/** Shifts beyond this many bits are refused: a policy must not make one call allocate megabytes. */
const MAX_SHIFT = 4096n;

function shiftAmount(fn: string, y: bigint): bigint {
  if (y < 0n) throw typeErr(fn, 2, 'unsigned integer number', -1);
  if (y > MAX_SHIFT) throw builtinErr(fn, `shift by more than ${MAX_SHIFT} bits is not supported`);
  return y;
}

export const coreImpls: Impls = {
  // ---- comparison ----
  equal: ([a, b]) => deepEqual(a, b),
  neq: ([a, b]) => !deepEqual(a, b),
  lt: ([a, b]) => compare(a, b) < 0,
  lte: ([a, b]) => compare(a, b) <= 0,
  gt: ([a, b]) => compare(a, b) > 0,
  gte: ([a, b]) => compare(a, b) >= 0,

  // ---- arithmetic ----
  plus: ([a, b]) => intOp('plus', a, b, (x, y) => x + y, (x, y) => x + y),
  mul: ([a, b]) => intOp('mul', a, b, (x, y) => x * y, (x, y) => x * y),
  minus: ([a, b]) => {
    if (Array.isArray(a) || Array.isArray(b)) {
      // set difference (sets arrive as arrays)
      // an array operand here can only be a set (arrays are rejected by the type checker), so say "set"
      if (!Array.isArray(a)) throw new BuiltinError('eval_type_error', 'minus: operand 2 must be number but got set');
      if (!Array.isArray(b)) throw typeErr('minus', 2, 'set', b);
      return toSet(a.filter((x) => !b.some((y) => deepEqual(x, y))));
    }
    return intOp('minus', a, b, (x, y) => x - y, (x, y) => x - y);
  },
  div: ([a, b]) => {
    const x = num('div', a, 1);
    const y = num('div', b, 2);
    if (y === 0) throw builtinErr('div', 'divide by zero');
    return exactNumber('div', x / y);
  },
  rem: ([a, b]) => {
    const x = num('rem', a, 1);
    const y = num('rem', b, 2);
    if (!Number.isInteger(x) || !Number.isInteger(y)) throw builtinErr('rem', 'modulo on floating-point number');
    if (y === 0) throw builtinErr('rem', 'modulo by zero');
    return exactNumber('rem', x % y);
  },
  abs: ([a]) => Math.abs(num('abs', a, 1)),
  round: ([a]) => roundHalfAway(num('round', a, 1)),
  ceil: ([a]) => Math.ceil(num('ceil', a, 1)),
  floor: ([a]) => Math.floor(num('floor', a, 1)),
  'numbers.range': ([a, b]) => {
    const x = int('numbers.range', a, 1);
    const y = int('numbers.range', b, 2);
    if (Math.abs(y - x) > 10_000_000) throw builtinErr('numbers.range', 'range too large');
    const out: number[] = [];
    if (x <= y) for (let i = x; i <= y; i++) out.push(i);
    else for (let i = x; i >= y; i--) out.push(i);
    return out;
  },
  'numbers.range_step': ([a, b, s]) => {
    const fn = 'numbers.range_step';
    const x = bigIntArg(fn, a, 1);
    const y = bigIntArg(fn, b, 2);
    const step = bigIntArg(fn, s, 3);
    if (step <= 0n) throw builtinErr(fn, 'step must be a positive integer');
    const span = y >= x ? y - x : x - y;
    if (span / step > 10_000_000n) throw builtinErr(fn, 'range too large');
    // exact: the bounds and the step may be beyond 2^53 (a huge step gives just [x])
    const out: Value[] = [];
    if (x <= y) for (let i = x; i <= y; i += step) out.push(exactInt(i));
    else for (let i = x; i >= y; i -= step) out.push(exactInt(i));
    return out;
  },

  // ---- aggregates ----
  count: ([c]) => {
    if (typeof c === 'string') return Array.from(c).length;
    if (Array.isArray(c)) return c.length;
    if (isObject(c)) return Object.keys(c).length;
    throw typeErr('count', 1, 'one of {array, object, set, string}', c);
  },
  sum: ([c]) => exactNumber('sum', numbersOf('sum', c, 1).reduce((s, x) => s + x, 0)),
  product: ([c]) => exactNumber('product', numbersOf('product', c, 1).reduce((s, x) => s * x, 1)),
  max: ([c]) => {
    const xs = coll('max', c, 1);
    if (xs.length === 0) return undefined;
    return xs.reduce((m, x) => (compare(x, m) > 0 ? x : m));
  },
  min: ([c]) => {
    const xs = coll('min', c, 1);
    if (xs.length === 0) return undefined;
    return xs.reduce((m, x) => (compare(x, m) < 0 ? x : m));
  },
  sort: ([c]) => [...coll('sort', c, 1)].sort(compare),
  all: ([c]) => coll('all', c, 1).every((x) => x === true),
  any: ([c]) => coll('any', c, 1).some((x) => x === true),

  // ---- arrays ----
  'array.concat': ([a, b]) => [...arr('array.concat', a, 1), ...arr('array.concat', b, 2)],
  'array.slice': ([a, s, e]) => {
    const xs = arr('array.slice', a, 1);
    let start = int('array.slice', s, 2);
    let stop = int('array.slice', e, 3);
    // OPA clamps: negative start → 0, stop beyond length → length, start > stop → empty
    if (start < 0) start = 0;
    if (stop > xs.length) stop = xs.length;
    if (start >= stop) return [];
    return xs.slice(start, stop);
  },
  'array.reverse': ([a]) => [...arr('array.reverse', a, 1)].reverse(),

  // ---- sets (arrive and leave as sorted arrays) ----
  and: ([a, b]) => {
    const x = coll('and', a, 1, 'set');
    const y = coll('and', b, 2, 'set');
    return toSet(x.filter((v) => y.some((w) => deepEqual(v, w))));
  },
  or: ([a, b]) => toSet([...coll('or', a, 1, 'set'), ...coll('or', b, 2, 'set')]),
  union: ([a]) => {
    const sets = coll('union', a, 1, 'set');
    const all: Value[] = [];
    for (const s of sets) all.push(...coll('union', s, 1, 'set of sets'));
    return toSet(all);
  },
  intersection: ([a]) => {
    const sets = coll('intersection', a, 1, 'set').map((s) => coll('intersection', s, 1, 'set of sets'));
    if (sets.length === 0) return [];
    return toSet(sets[0].filter((v) => sets.every((s) => s.some((w) => deepEqual(v, w)))));
  },
  set_diff: ([a, b]) => {
    const x = coll('set_diff', a, 1, 'set');
    const y = coll('set_diff', b, 2, 'set');
    return toSet(x.filter((v) => !y.some((w) => deepEqual(v, w))));
  },

  // ---- types ----
  is_number: ([a]) => typeof a === 'number',
  is_string: ([a]) => typeof a === 'string',
  is_boolean: ([a]) => typeof a === 'boolean',
  is_array: ([a]) => Array.isArray(a),
  is_object: ([a]) => isObject(a),
  is_null: ([a]) => a === null,
  // sets arrive as arrays: the host cannot tell them apart, so is_set/type_name are native-only in truth
  type_name: ([a]) => typeOf(a),

  // ---- bits (integers) ----
  // exact at any size, as OPA's big.Int arithmetic
  'bits.and': ([a, b]) => { const [x, y] = bitsArgs('bits.and', a, b); return exactInt(x & y); },
  'bits.or': ([a, b]) => { const [x, y] = bitsArgs('bits.or', a, b); return exactInt(x | y); },
  'bits.xor': ([a, b]) => { const [x, y] = bitsArgs('bits.xor', a, b); return exactInt(x ^ y); },
  'bits.negate': ([a]) => exactInt(~bigIntArg('bits.negate', a, 1)),
  'bits.lsh': ([a, b]) => {
    const [x, y] = bitsArgs('bits.lsh', a, b);
    return exactInt(x << shiftAmount('bits.lsh', y));
  },
  'bits.rsh': ([a, b]) => {
    const [x, y] = bitsArgs('bits.rsh', a, b);
    return exactInt(y > MAX_SHIFT ? (x < 0n ? -1n : 0n) : x >> shiftAmount('bits.rsh', y));
  },

  // ---- membership (`in`) ----
  'internal.member_2': ([x, c]) => member2(x, c),
  'internal.member_3': ([k, v, c]) => member3(k, v, c),

  // ---- objects that are simple enough to live here ----
  'object.keys': ([o]) => toSet(Object.keys(obj('object.keys', o, 1))),
};
