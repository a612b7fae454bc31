/**
 * internal.pdp_decimal_arith(op, a, b): OPA's arithmetic on non-integer numbers, exactly.
 *
 * OPA keeps numbers as decimal text and computes with non-integers as binary floats with a 64-bit
 * mantissa (round half to even), handing back the shortest decimal that reads back as the same 64-bit
 * value, in Go's %g layout. A double cannot reproduce that (0.1 + 0.2 is 0.3 there), so the wasm
 * runtime sends the operands here as exact decimal strings and parses the string we return.
 * Operations: plus, minus, mul, div (b nonzero: the runtime checks), abs, round (half away from zero),
 * ceil, floor (b ignored); iplus, iminus, imul, irem on two integers, exactly (no float rounding).
 */
import type { Impls } from './types';
import { BuiltinError } from './errors';

const MANT_BITS = 64n;
const MIN_MANT = 1n << (MANT_BITS - 1n);
const MAX_MANT = 1n << MANT_BITS;
const MAX_EXP10 = 100000;

/** ±mant × 2^exp, mant 0 or in [2^63, 2^64). */
interface Bin { neg: boolean; mant: bigint; exp: bigint }

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const bitLen = (x: bigint): bigint => BigInt(x.toString(2).length);

/** The decimal text as an exact rational p/q (q > 0). */
function parseDecimal(s: string): { neg: boolean; p: bigint; q: bigint } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) throw new BuiltinError('eval_builtin_error', `internal.pdp_decimal_arith: not a number: ${s.slice(0, 40)}`);
  const frac = m[3] ?? '';
  const e = Number(m[4] ?? '0') - frac.length;
  if (!Number.isSafeInteger(e) || Math.abs(e) > MAX_EXP10) {
    throw new BuiltinError('eval_builtin_error', 'internal.pdp_decimal_arith: exponent out of range');
  }
  const digits = BigInt(m[2] + frac);
  return e >= 0 ? { neg: m[1] === '-', p: digits * pow10(e), q: 1n } : { neg: m[1] === '-', p: digits, q: pow10(-e) };
}

/** p/q (p >= 0, q > 0) rounded to a 64-bit mantissa, half to even. */
function roundRat(neg: boolean, p: bigint, q: bigint): Bin {
  if (p === 0n) return { neg, mant: 0n, exp: 0n };
  let e = bitLen(p) - bitLen(q) - MANT_BITS;
  for (;;) {
    const num = e >= 0n ? p : p << -e;
    const den = e >= 0n ? q << e : q;
    let m = num / den;
    if (m >= MAX_MANT) { e += 1n; continue; }
    if (m < MIN_MANT) { e -= 1n; continue; }
    const r2 = (num - m * den) * 2n;
    if (r2 > den || (r2 === den && (m & 1n) === 1n)) m += 1n;
    if (m === MAX_MANT) return { neg, mant: MIN_MANT, exp: e + 1n };
    return { neg, mant: m, exp: e };
  }
}

/** A binary value as an exact rational. */
function toRat(x: Bin): { p: bigint; q: bigint } {
  return x.exp >= 0n ? { p: x.mant << x.exp, q: 1n } : { p: x.mant, q: 1n << -x.exp };
}

function read(s: string): Bin {
  const d = parseDecimal(s);
  return roundRat(d.neg, d.p, d.q);
}

/** Signed exact sum of two rationals, rounded. */
function addBin(a: Bin, b: Bin, negateB: boolean): Bin {
  const x = toRat(a), y = toRat(b);
  const sx = a.neg ? -1n : 1n, sy = (b.neg !== negateB) ? -1n : 1n;
  const p = sx * x.p * y.q + sy * y.p * x.q;
  const q = x.q * y.q;
  if (p === 0n) return { neg: false, mant: 0n, exp: 0n };
  return roundRat(p < 0n, p < 0n ? -p : p, q);
}

/** The integer toward zero of x (exact: x is binary). */
function trunc(x: Bin): bigint {
  const r = toRat(x);
  const t = r.p / r.q;
  return x.neg ? -t : t;
}

function isInteger(x: Bin): boolean {
  const r = toRat(x);
  return r.p % r.q === 0n;
}

const HALF: Bin = { neg: false, mant: MIN_MANT, exp: -MANT_BITS };

function fromInt(i: bigint): Bin {
  return i < 0n ? roundRat(true, -i, 1n) : roundRat(false, i, 1n);
}

/** The shortest decimal that reads back as x at 64 bits, laid out like Go's %g. */
function shortest(x: Bin): string {
  if (x.mant === 0n) return x.neg ? '-0' : '0';
  // v, lower and upper bounds as numerators over the common denominator 2^sh
  const e2 = x.exp - 2n;
  const sh = e2 < 0n ? -e2 : 0n;
  const scale = (m: bigint, e: bigint): bigint => (e + sh >= 0n ? m << (e + sh) : m >> -(e + sh));
  const V = scale(x.mant, x.exp);
  const H = scale(2n * x.mant + 1n, x.exp - 1n);
  const L = x.mant === MIN_MANT ? scale(4n * x.mant - 1n, x.exp - 2n) : scale(2n * x.mant - 1n, x.exp - 1n);
  const D = 1n << sh;
  const inclusive = (x.mant & 1n) === 0n;
  // k: 10^k <= v < 10^(k+1)
  let k = V.toString().length - D.toString().length;
  const cmpPow = (kk: number, N: bigint): number => { // sign of 10^kk - N/D
    const a = kk >= 0 ? pow10(kk) * D : D, b = kk >= 0 ? N : N * pow10(-kk);
    return a < b ? -1 : a > b ? 1 : 0;
  };
  while (cmpPow(k, V) > 0) k--;
  while (cmpPow(k + 1, V) <= 0) k++;
  for (let n = 1; ; n++) {
    const s = k - n + 1; // candidate = t × 10^s
    const num = s >= 0 ? V : V * pow10(-s);
    const den = s >= 0 ? D * pow10(s) : D;
    const t = num / den;
    // c × 10^s against L/D and H/D, both sides scaled to integers
    const inRange = (c: bigint): boolean => {
      const cN = s >= 0 ? c * pow10(s) * D : c * D;
      const lN = s >= 0 ? L : L * pow10(-s);
      const hN = s >= 0 ? H : H * pow10(-s);
      return inclusive ? cN >= lN && cN <= hN : cN > lN && cN < hN;
    };
    const downOk = inRange(t), upOk = inRange(t + 1n);
    let pick: bigint | undefined;
    if (downOk && upOk) {
      const r2 = (num - t * den) * 2n;
      pick = r2 < den ? t : r2 > den ? t + 1n : (t & 1n) === 0n ? t : t + 1n;
    } else if (downOk) pick = t;
    else if (upOk) pick = t + 1n;
    if (pick === undefined) continue;
    let ds = pick.toString();
    let dp = k + 1 + (ds.length - n); // decimal point position: value = 0.ds × 10^dp
    ds = ds.replace(/0+$/, '');
    return (x.neg ? '-' : '') + layoutG(ds, dp);
  }
}

/** Go's %g layout for the shortest digits ds with value 0.ds × 10^dp. */
function layoutG(ds: string, dp: number): string {
  const exp = dp - 1;
  if (exp < -4 || exp >= 6) {
    const mant = ds.length > 1 ? `${ds[0]}.${ds.slice(1)}` : ds;
    const a = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
  }
  if (dp <= 0) return `0.${'0'.repeat(-dp)}${ds}`;
  if (dp >= ds.length) return ds + '0'.repeat(dp - ds.length);
  return `${ds.slice(0, dp)}.${ds.slice(dp)}`;
}

/** Integer results beyond this many digits are refused (an evaluation error, not a rounded value). */
const MAX_INT_DIGITS = 100000;

function readInt(s: string): bigint {
  if (!/^-?\d+$/.test(s)) throw new BuiltinError('eval_builtin_error', `internal.pdp_decimal_arith: not an integer: ${s.slice(0, 40)}`);
  return BigInt(s);
}

/**
 * OPA's arithmetic on two integers of any size: + - * and % on exact big integers (topdown/arithmetic.go
 * takes its big.Int branch before any float), so 2^64 + 1 is 18446744073709551617, never rounded.
 * The runtime sends integers here only when they do not fit (or overflow) its native 64 bits.
 */
function intArith(op: string, a: string, b: string): string {
  const x = readInt(a), y = readInt(b);
  let r: bigint;
  switch (op) {
    case 'iplus': r = x + y; break;
    case 'iminus': r = x - y; break;
    case 'imul': r = x * y; break;
    case 'irem':
      if (y === 0n) throw new BuiltinError('eval_builtin_error', 'rem: modulo by zero');
      r = x % y; // truncated, the dividend's sign: Go's big.Int Rem
      break;
    default: throw new BuiltinError('eval_builtin_error', `internal.pdp_decimal_arith: unknown operation ${op.slice(0, 20)}`);
  }
  const t = r.toString();
  if (t.length > MAX_INT_DIGITS) throw new BuiltinError('eval_builtin_error', `internal.pdp_decimal_arith: integer result beyond ${MAX_INT_DIGITS} digits`);
  return t;
}

/** Exported for tests: the full operation on decimal strings (i-prefixed operations: exact integers). */
export function decimalArith(op: string, a: string, b: string): string {
  if (op.startsWith('i')) return intArith(op, a, b);
  const x = read(a);
  switch (op) {
    case 'plus': return shortest(addBin(x, read(b), false));
    case 'minus': return shortest(addBin(x, read(b), true));
    case 'mul': {
      const y = read(b);
      const e = x.exp + y.exp, m = x.mant * y.mant;
      return shortest(e >= 0n ? roundRat(x.neg !== y.neg, m << e, 1n) : roundRat(x.neg !== y.neg, m, 1n << -e));
    }
    case 'div': {
      const y = read(b);
      if (y.mant === 0n) throw new BuiltinError('eval_builtin_error', 'div: divide by zero');
      const rx = toRat(x), ry = toRat(y);
      return shortest(roundRat(x.neg !== y.neg, rx.p * ry.q, rx.q * ry.p));
    }
    case 'abs': return shortest({ ...x, neg: false });
    case 'round': {
      const t = addBin(x, HALF, x.neg); // x + 0.5 (x - 0.5 when negative), rounded like OPA
      return shortest(fromInt(trunc(t)));
    }
    case 'ceil': case 'floor': {
      const i = trunc(x);
      if (isInteger(x)) return shortest(fromInt(i));
      const up = op === 'ceil' ? !x.neg : x.neg; // away from zero?
      return shortest(fromInt(up ? i + (x.neg ? -1n : 1n) : i));
    }
  }
  throw new BuiltinError('eval_builtin_error', `internal.pdp_decimal_arith: unknown operation ${op.slice(0, 20)}`);
}

export const decimalImpls: Impls = {
  'internal.pdp_decimal_arith': (args) => {
    const [op, a, b] = args;
    if (typeof op !== 'string' || typeof a !== 'string' || typeof b !== 'string') {
      throw new BuiltinError('eval_type_error', 'internal.pdp_decimal_arith: operands must be strings');
    }
    return decimalArith(op, a, b);
  },
};
