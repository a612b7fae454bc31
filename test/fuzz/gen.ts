/**
 * Generators of hostile JSON for the fuzz tests: random values of every type and depth, and raw JSON
 * texts no JSON.stringify would produce (duplicate keys, 1e400, lone surrogates, 20-digit decimals).
 * Everything is driven by a seeded PRNG, so a failure reproduces from its seed and case number.
 */
export type Rand = () => number;

export const int = (r: Rand, n: number) => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

const ODD_STRINGS = [
  '', ' ', '\u0000', '\ud800', '\udfff', '\ud83d\ude00', '\u202e', '..', '../..', '%2e%2e', '__proto__', 'constructor',
  'prototype', 'toString', 'hasOwnProperty', 'null', 'true', '{"a":1}', '\r\n', 'a'.repeat(1025), 'é', '\ufeff',
];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', '', 'token', 'allow', 'tool', 'user', 'input', 'name', 'a'];
const ODD_NUMBERS = [0, -0, 1, -1, 0.1, 1e21, -1e21, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, 123456789.123456789];

export function randString(r: Rand): string {
  const k = int(r, 6);
  if (k === 0) return pick(r, ODD_STRINGS);
  if (k === 1) return 'x'.repeat(int(r, 3) === 0 ? 70_000 : int(r, 300));
  let s = '';
  const n = int(r, 12);
  for (let i = 0; i < n; i++) s += String.fromCharCode(int(r, 4) === 0 ? int(r, 0x10000) : 32 + int(r, 95));
  return s;
}

/** A random JSON-able value (as a JS value). */
export function randValue(r: Rand, depth = 0): unknown {
  const k = int(r, depth > 4 ? 5 : 8);
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return int(r, 2) ? pick(r, ODD_NUMBERS) : (r() - 0.5) * 10 ** int(r, 30);
    case 3: case 4: return randString(r);
    case 5: return Array.from({ length: int(r, 5) }, () => randValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = int(r, 5);
      for (let i = 0; i < n; i++) {
        const key = int(r, 3) === 0 ? pick(r, ODD_KEYS) : randString(r).slice(0, 20);
        Object.defineProperty(o, key, { value: randValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
}

/** JSON text of a random value, sometimes with raw tokens JSON.stringify never writes. */
export function randJsonText(r: Rand, depth = 0): string {
  const k = int(r, depth > 4 ? 6 : 10);
  switch (k) {
    case 0: return pick(r, ['1e400', '-1e400', '1e-400', '-0', '-0.0', '12345678901234567890', '0.12345678901234567890123', '1E+2', '-9223372036854775809']);
    case 1: return pick(r, ['"\\ud800"', '"\\udc00x"', '"\\u0000"', '"\\ud83d\\ude00"', '"\\uFFFF"', '"\\/"']);
    case 2: case 3: case 4: case 5: return JSON.stringify(randValue(r, depth + 2));
    case 6: return `[${Array.from({ length: int(r, 4) }, () => randJsonText(r, depth + 1)).join(',')}]`;
    default: {
      const n = int(r, 4);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) {
        const key = int(r, 2) === 0 ? pick(r, ODD_KEYS) : randString(r).slice(0, 10);
        parts.push(`${JSON.stringify(key)}:${randJsonText(r, depth + 1)}`);
        if (int(r, 4) === 0) parts.push(`${JSON.stringify(key)}:${randJsonText(r, depth + 1)}`); // duplicate key
      }
      return `{${parts.join(',')}}`;
    }
  }
}

export function deepNest(n: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n);
}

/** Byte-level damage to a text: truncation, a flipped char, an inserted brace. */
export function mangleText(r: Rand, s: string): string {
  if (s.length === 0) return '{';
  const i = int(r, s.length);
  switch (int(r, 4)) {
    case 0: return s.slice(0, i);
    case 1: return s.slice(0, i) + String.fromCharCode(int(r, 128)) + s.slice(i + 1);
    case 2: return s.slice(0, i) + pick(r, ['{', '}', '"', ',', ':', '\\']) + s.slice(i);
    default: return s + pick(r, ['', ' ', 'x', '}', ',{}']);
  }
}

/** Replace a random place inside a value (an object/array tree) with another random value. */
export function mutate(r: Rand, v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== 'object' || int(r, 4) === 0 || depth > 3) return int(r, 3) === 0 ? undefined : randValue(r, 3);
  if (Array.isArray(v)) {
    if (v.length === 0) return [randValue(r, 3)];
    const out = [...v];
    const i = int(r, out.length);
    out[i] = mutate(r, out[i], depth + 1);
    return out;
  }
  const o = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(o);
  if (keys.length === 0 || int(r, 5) === 0) {
    Object.defineProperty(o, int(r, 2) ? pick(r, ODD_KEYS) : randString(r).slice(0, 10), { value: randValue(r, 3), enumerable: true, writable: true, configurable: true });
    return o;
  }
  const k = pick(r, keys);
  const m = mutate(r, o[k], depth + 1);
  if (m === undefined) delete o[k];
  else o[k] = m;
  return o;
}
