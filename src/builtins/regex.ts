/**
 * Regex built-ins with Go/RE2 semantics through re2js (a port of RE2): the same syntax OPA accepts
 * (no backreferences, no lookaround) and linear-time matching, so policies cannot be made to hang.
 * The "all matches" loops follow Go's regexp package: an empty match right after the previous match
 * is skipped, and replacement templates use Go's `$1` / `${name}` expansion.
 */
import { RE2JS } from 're2js';
import type { Impls } from './types';
import { builtinErr, int, str, Value } from './values';

const CACHE_LIMIT = 500;
const cache = new Map<string, RE2JS>();

/** Compile (cached) or raise OPA's eval_builtin_error naming the built-in. */
export function compileRe(fn: string, pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (re) return re;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw builtinErr(fn, (e as Error).message);
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, re);
  return re;
}

/** Go's allMatches: up to n matches (n < 0: all), each as [start, end, g1s, g1e, ...] in UTF-16 offsets. */
export function allMatches(re: RE2JS, s: string, n: number): number[][] {
  const out: number[][] = [];
  const m = re.matcher(s);
  const groups = re.groupCount();
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length) {
    if (!m.find(pos)) break;
    const start = m.start();
    const end = m.end();
    let accept = true;
    if (end === pos) {
      // empty match: skip it if it abuts the previous match, then step one code point
      if (start === prevEnd) accept = false;
      pos += pos < s.length ? (s.codePointAt(pos)! > 0xffff ? 2 : 1) : 1;
    } else {
      pos = end;
    }
    prevEnd = end;
    if (accept) {
      const row = [start, end];
      for (let g = 1; g <= groups; g++) row.push(m.start(g), m.end(g));
      out.push(row);
    }
  }
  return out;
}

/** Go's Regexp.Expand for ReplaceAllString templates. */
function expand(template: string, s: string, match: number[], names: Record<string, number>): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c !== '$') { out += c; i++; continue; }
    if (template[i + 1] === '$') { out += '$'; i += 2; continue; }
    let name: string | undefined;
    let next = i + 1;
    if (template[i + 1] === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close >= 0 && /^[A-Za-z0-9_]+$/.test(inner)) { name = inner; next = close + 1; }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (m) { name = m[0]; next = i + 1 + m[0].length; }
    }
    if (name === undefined) { out += '$'; i++; continue; } // malformed: keep the '$' as text
    let g = -1;
    if (/^\d+$/.test(name)) g = Number(name);
    else if (names[name] !== undefined) g = names[name];
    if (g >= 0 && 2 * g + 1 < match.length && match[2 * g] >= 0) out += s.slice(match[2 * g], match[2 * g + 1]);
    i = next;
  }
  return out;
}

/** Go's ReplaceAllString. */
function replaceAll(re: RE2JS, s: string, repl: string): string {
  const m = re.matcher(s);
  const groups = re.groupCount();
  const names = re.namedGroups();
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= s.length) {
    if (!m.find(searchPos)) break;
    const a = [m.start(), m.end()];
    for (let g = 1; g <= groups; g++) a.push(m.start(g), m.end(g));
    out += s.slice(lastEnd, a[0]);
    if (a[1] > lastEnd || a[0] === 0) out += expand(repl, s, a, names);
    lastEnd = a[1];
    const width = searchPos < s.length ? (s.codePointAt(searchPos)! > 0xffff ? 2 : 1) : 1;
    if (searchPos + width > a[1]) searchPos += width;
    else if (searchPos + 1 > a[1]) searchPos++;
    else searchPos = a[1];
  }
  return out + s.slice(lastEnd);
}

/** Go's Regexp.Split(s, -1). */
function split(re: RE2JS, pattern: string, s: string): string[] {
  if (pattern.length > 0 && s.length === 0) return [''];
  const matches = allMatches(re, s, -1);
  const parts: string[] = [];
  let beg = 0;
  let end = 0;
  for (const mt of matches) {
    end = mt[0];
    if (mt[1] !== 0) parts.push(s.slice(beg, end));
    beg = mt[1];
  }
  if (end !== s.length) parts.push(s.slice(beg));
  return parts;
}

/**
 * regex.template_match: text outside the delimiters is literal, text inside is a regex; the whole
 * value must match. Delimiters may nest inside a pattern (counted like OPA's template parser).
 */
function templateMatch(template: string, value: string, open: string, close: string): boolean {
  const fn = 'regex.template_match';
  if (open.length === 0 || close.length === 0) throw builtinErr(fn, 'delimiters must not be empty');
  let re = '^';
  let i = 0;
  while (i < template.length) {
    const o = template.indexOf(open, i);
    if (o < 0) { re += RE2JS.quote(template.slice(i)); break; }
    re += RE2JS.quote(template.slice(i, o));
    let depth = 1;
    let j = o + open.length;
    const start = j;
    while (j < template.length && depth > 0) {
      if (template.startsWith(open, j)) { depth++; j += open.length; }
      else if (template.startsWith(close, j)) { depth--; if (depth === 0) break; j += close.length; }
      else j++;
    }
    if (depth !== 0) throw builtinErr(fn, `unbalanced braces in template ${JSON.stringify(template)}`);
    const inner = template.slice(start, j);
    compileRe(fn, inner); // validate on its own, as OPA does
    re += '(?:' + inner + ')';
    i = j + close.length;
  }
  re += '$';
  return compileRe(fn, re).matcher(value).find();
}

export const regexImpls: Impls = {
  'regex.match': ([p, v]) => compileRe('regex.match', str('regex.match', p, 1)).matcher(str('regex.match', v, 2)).find(),
  re_match: ([p, v]) => compileRe('re_match', str('re_match', p, 1)).matcher(str('re_match', v, 2)).find(),
  'regex.is_valid': ([p]) => {
    if (typeof p !== 'string') return false;
    try { compileRe('regex.is_valid', p); return true; } catch { return false; }
  },
  'regex.split': ([p, v]) => {
    const pattern = str('regex.split', p, 1);
    return split(compileRe('regex.split', pattern), pattern, str('regex.split', v, 2));
  },
  'regex.replace': ([s, p, v]) => {
    const text = str('regex.replace', s, 1);
    const re = compileRe('regex.replace', str('regex.replace', p, 2));
    return replaceAll(re, text, str('regex.replace', v, 3));
  },
  'regex.find_n': ([p, v, n]) => {
    const s = str('regex.find_n', v, 2);
    const re = compileRe('regex.find_n', str('regex.find_n', p, 1));
    return allMatches(re, s, int('regex.find_n', n, 3)).map((m) => s.slice(m[0], m[1]));
  },
  'regex.find_all_string_submatch_n': ([p, v, n]) => {
    const fn = 'regex.find_all_string_submatch_n';
    const s = str(fn, v, 2);
    const re = compileRe(fn, str(fn, p, 1));
    return allMatches(re, s, int(fn, n, 3)).map((m) => {
      const row: Value[] = [];
      for (let k = 0; k < m.length; k += 2) row.push(m[k] >= 0 ? s.slice(m[k], m[k + 1]) : '');
      return row;
    });
  },
  'regex.template_match': ([t, v, o, c]) => {
    const fn = 'regex.template_match';
    return templateMatch(str(fn, t, 1), str(fn, v, 2), str(fn, o, 3), str(fn, c, 4));
  },
};
