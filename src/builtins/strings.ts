/**
 * String built-ins. Positions and lengths count Unicode code points (Go's runes), not UTF-16 units.
 */
import { BuiltinError } from './errors';
import type { Impls } from './types';
import { isNonStringKey } from './rego-text';
import { renderTemplate } from './go-template';
import {
  builtinErr, cmpStr, coll, getKey, hasKey, int, isObject, num, obj, str, typeErr, typeOf, Value,
} from './values';

/** A string, or an array/set of strings (strings.any_prefix_match and friends). */
function strOrStrings(fn: string, v: Value, pos: number): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw typeErr(fn, pos, 'one of {string, set, array}', v);
  return v.map((x) => {
    if (typeof x !== 'string') throw typeErr(fn, pos, 'one of {string, set, array} of strings', x);
    return x;
  });
}

/** Go's strings.Split: an empty separator splits into code points. */
export function goSplit(s: string, sep: string): string[] {
  if (sep === '') return Array.from(s);
  return s.split(sep);
}

/** Go's strings.Count: non-overlapping occurrences; an empty needle counts code points + 1. */
function goCount(s: string, sub: string): number {
  if (sub === '') return Array.from(s).length + 1;
  let n = 0;
  for (let i = s.indexOf(sub); i !== -1; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

/** Go's strings.Trim family: `cutset` is a set of code points. */
function trimLeftSet(s: string, cutset: string): string {
  const cut = new Set(Array.from(cutset));
  const cps = Array.from(s);
  let i = 0;
  while (i < cps.length && cut.has(cps[i])) i++;
  return cps.slice(i).join('');
}
function trimRightSet(s: string, cutset: string): string {
  const cut = new Set(Array.from(cutset));
  const cps = Array.from(s);
  let j = cps.length;
  while (j > 0 && cut.has(cps[j - 1])) j--;
  return cps.slice(0, j).join('');
}

/** Go's unicode.IsSpace set, used by strings.TrimSpace. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+|[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$/g;

function indexOfCodePoints(s: string, sub: string): number {
  const i = s.indexOf(sub);
  if (i < 0) return -1;
  return Array.from(s.slice(0, i)).length;
}

export function formatInt(fn: string, x: number, base: number): string {
  if (![2, 8, 10, 16].includes(base)) throw builtinErr(fn, 'operand 2 must be one of {2, 8, 10, 16}');
  const t = Math.trunc(x);
  // BigInt keeps every digit of the double exactly (toString(base) on large doubles is exact too, but explicit is clearer)
  return BigInt(t).toString(base);
}

/**
 * Go's strings.NewReplacer(old1, new1, ...) over `pairs` (OPA passes the keys in sorted order): one
 * left-to-right pass; at each position the earliest pair that matches wins and replaced text is not
 * rescanned. An empty old string ("" sorts first, so it always has the priority) matches at every code
 * point boundary, once: after it, the other pairs get their turn at the same position.
 */
function goReplacer(pairs: [string, string][], text: string): string {
  const empty = pairs.find(([k]) => k === '');
  const rest = pairs.filter(([k]) => k !== '');
  let out = '';
  let i = 0;
  let afterEmpty = false;
  for (;;) {
    if (empty && !afterEmpty) {
      out += empty[1];
      afterEmpty = true;
      continue;
    }
    afterEmpty = false;
    const hit = rest.find(([k]) => text.startsWith(k, i));
    if (hit) {
      out += hit[1];
      i += hit[0].length;
      continue;
    }
    if (i >= text.length) return out;
    const cp = String.fromCodePoint(text.codePointAt(i)!);
    out += cp;
    i += cp.length;
  }
}

export const stringImpls: Impls = {
  concat: ([d, c]) => {
    const sep = str('concat', d, 1);
    const xs = coll('concat', c, 2, 'one of {array, set}');
    return xs.map((x) => {
      if (typeof x !== 'string') throw typeErr('concat', 2, 'one of {array, set} of strings', c);
      return x;
    }).join(sep);
  },
  contains: ([s, sub]) => str('contains', s, 1).includes(str('contains', sub, 2)),
  startswith: ([s, p]) => str('startswith', s, 1).startsWith(str('startswith', p, 2)),
  endswith: ([s, p]) => str('endswith', s, 1).endsWith(str('endswith', p, 2)),
  lower: ([s]) => str('lower', s, 1).toLowerCase(),
  upper: ([s]) => str('upper', s, 1).toUpperCase(),
  indexof: ([s, sub]) => indexOfCodePoints(str('indexof', s, 1), str('indexof', sub, 2)),
  indexof_n: ([s, sub]) => {
    const hay = str('indexof_n', s, 1);
    const needle = str('indexof_n', sub, 2);
    const out: number[] = [];
    if (needle === '') return out;
    const cps = Array.from(hay);
    // positions of every (possibly overlapping) occurrence, in code points
    let offsetUnits = 0;
    for (let i = 0; i < cps.length; i++) {
      if (hay.startsWith(needle, offsetUnits)) out.push(i);
      offsetUnits += cps[i].length;
    }
    return out;
  },
  substring: ([s, o, l]) => {
    const cps = Array.from(str('substring', s, 1));
    const off = int('substring', o, 2);
    const len = int('substring', l, 3);
    if (off < 0) throw builtinErr('substring', 'negative offset');
    if (off >= cps.length) return '';
    if (len < 0) return cps.slice(off).join('');
    return cps.slice(off, off + len).join('');
  },
  split: ([s, d]) => goSplit(str('split', s, 1), str('split', d, 2)),
  'strings.split_n': ([s, d, n]) => {
    const text = str('strings.split_n', s, 1);
    const sep = str('strings.split_n', d, 2);
    const k = int('strings.split_n', n, 3);
    const parts = goSplit(text, sep);
    if (text === '' && sep !== '') return [''];
    if (k === 0) return [];
    return k > 0 ? parts.slice(0, k) : parts.slice(Math.max(0, parts.length + k));
  },
  replace: ([s, o, n]) => {
    const text = str('replace', s, 1);
    const old = str('replace', o, 2);
    const neu = str('replace', n, 3);
    if (old === '') {
      // Go inserts the replacement before every code point and at the end
      return neu + Array.from(text).map((c) => c + neu).join('');
    }
    return text.split(old).join(neu);
  },
  'strings.replace_n': ([patterns, s]) => {
    const fn = 'strings.replace_n';
    const p = obj(fn, patterns, 1);
    const text = str(fn, s, 2);
    const keys = Object.keys(p);
    for (const k of keys) {
      if (isNonStringKey(k)) throw new BuiltinError('eval_type_error', `${fn}: operand 1 non-string key found in pattern object`);
      if (typeof p[k] !== 'string') throw new BuiltinError('eval_type_error', `${fn}: operand 1 non-string value found in pattern object`);
    }
    return goReplacer(keys.sort(cmpStr).map((k) => [k, p[k] as string]), text);
  },
  'strings.reverse': ([s]) => Array.from(str('strings.reverse', s, 1)).reverse().join(''),
  'strings.count': ([s, sub]) => goCount(str('strings.count', s, 1), str('strings.count', sub, 2)),
  'strings.any_prefix_match': ([a, b]) => {
    const xs = strOrStrings('strings.any_prefix_match', a, 1);
    const ps = strOrStrings('strings.any_prefix_match', b, 2);
    return xs.some((x) => ps.some((p) => x.startsWith(p)));
  },
  'strings.any_suffix_match': ([a, b]) => {
    const xs = strOrStrings('strings.any_suffix_match', a, 1);
    const ps = strOrStrings('strings.any_suffix_match', b, 2);
    return xs.some((x) => ps.some((p) => x.endsWith(p)));
  },
  trim: ([s, c]) => trimRightSet(trimLeftSet(str('trim', s, 1), str('trim', c, 2)), c as string),
  trim_left: ([s, c]) => trimLeftSet(str('trim_left', s, 1), str('trim_left', c, 2)),
  trim_right: ([s, c]) => trimRightSet(str('trim_right', s, 1), str('trim_right', c, 2)),
  trim_prefix: ([s, p]) => {
    const t = str('trim_prefix', s, 1);
    const pre = str('trim_prefix', p, 2);
    return t.startsWith(pre) ? t.slice(pre.length) : t;
  },
  trim_suffix: ([s, p]) => {
    const t = str('trim_suffix', s, 1);
    const suf = str('trim_suffix', p, 2);
    return suf !== '' && t.endsWith(suf) ? t.slice(0, t.length - suf.length) : t;
  },
  trim_space: ([s]) => str('trim_space', s, 1).replace(GO_SPACE, ''),
  format_int: ([x, b]) => formatInt('format_int', num('format_int', x, 1), num('format_int', b, 2)),
  to_number: ([v]) => {
    if (v === null) return 0;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number' || typeof v === 'bigint') return v;
    if (typeof v !== 'string') throw typeErr('to_number', 1, 'one of {null, boolean, number, string}', v);
    if (/^[+-]?(inf|infinity|nan)$/i.test(v)) {
      throw new BuiltinError('eval_type_error', `to_number: operand 1 must be a finite number but got ${JSON.stringify(v)}`);
    }
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v)) {
      throw builtinErr('to_number', `strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
    }
    if (/^[+-]?\d+$/.test(v)) {
      const b = BigInt(v);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    const n = Number(v);
    if (!Number.isFinite(n)) throw builtinErr('to_number', `strconv.ParseFloat: parsing ${JSON.stringify(v)}: value out of range`);
    return n;
  },
  'strings.render_template': ([t, vars]) =>
    renderTemplate(str('strings.render_template', t, 1), obj('strings.render_template', vars, 2)),
};

export { isObject, typeOf };
