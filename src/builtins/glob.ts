/**
 * glob.match with the semantics of the Go glob library OPA uses: `*` matches a run of non-delimiter
 * characters, `**` any run, `?` one non-delimiter character, `[...]`/`[!...]` one character from/not
 * from a list or range, `{a,b}` alternatives (nestable), `\` escapes. Delimiters: `null` means none;
 * an empty array means the default ["."]. Patterns are translated to RE2 and matched in linear time.
 */
import { RE2JS } from 're2js';
import type { Impls } from './types';
import { builtinErr, str, typeErr } from './values';

const cache = new Map<string, RE2JS>();

function classEscape(ch: string): string {
  return /[\\\]\[^-]/.test(ch) ? '\\' + ch : ch;
}

/** Translate a glob to an anchored RE2 pattern; throws on malformed globs. */
export function globToRegex(pattern: string, delimiters: string[]): string {
  const notDelim = delimiters.length ? '[^' + delimiters.map(classEscape).join('') + ']' : '(?s:.)';
  const cps = Array.from(pattern);
  let i = 0;
  let depth = 0;
  let out = '';
  while (i < cps.length) {
    const c = cps[i];
    if (c === '\\') {
      if (i + 1 >= cps.length) throw new Error('unexpected end of pattern after escape');
      out += RE2JS.quote(cps[i + 1]);
      i += 2;
    } else if (c === '*') {
      if (cps[i + 1] === '*') { out += '(?s:.*)'; i += 2; } else { out += notDelim + '*'; i++; }
    } else if (c === '?') {
      out += notDelim; i++;
    } else if (c === '[') {
      let j = i + 1;
      let neg = false;
      if (cps[j] === '!') { neg = true; j++; }
      let cls = '';
      let closed = false;
      while (j < cps.length) {
        if (cps[j] === ']') { closed = true; break; }
        if (cps[j + 1] === '-' && j + 2 < cps.length && cps[j + 2] !== ']') {
          if (cps[j] > cps[j + 2]) throw new Error(`invalid range ${cps[j]}-${cps[j + 2]}`);
          cls += classEscape(cps[j]) + '-' + classEscape(cps[j + 2]);
          j += 3;
        } else { cls += classEscape(cps[j]); j++; }
      }
      if (!closed || cls === '') throw new Error('unclosed or empty character list');
      out += (neg ? '[^' : '[') + cls + ']';
      i = j + 1;
    } else if (c === '{') {
      out += '(?:'; depth++; i++;
    } else if (c === '}' && depth > 0) {
      out += ')'; depth--; i++;
    } else if (c === ',' && depth > 0) {
      out += '|'; i++;
    } else {
      out += RE2JS.quote(c); i++;
    }
  }
  if (depth !== 0) throw new Error('unclosed alternatives');
  return '^(?:' + out + ')$';
}

function delimitersArg(v: unknown): string[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw typeErr('glob.match', 2, 'one of {array, null}', v);
  if (v.length === 0) return ['.'];
  return v.map((d) => {
    if (typeof d !== 'string' || Array.from(d).length !== 1) {
      throw typeErr('glob.match', 2, 'array of single-character strings', d);
    }
    return d;
  });
}

export const globImpls: Impls = {
  'glob.match': ([p, d, m]) => {
    const pattern = str('glob.match', p, 1);
    const delims = delimitersArg(d);
    const value = str('glob.match', m, 3);
    const key = pattern + '\u0000' + delims.join('');
    let re = cache.get(key);
    if (!re) {
      try {
        re = RE2JS.compile(globToRegex(pattern, delims));
      } catch (e) {
        throw builtinErr('glob.match', (e as Error).message);
      }
      if (cache.size > 500) cache.clear();
      cache.set(key, re);
    }
    return re.matcher(value).find();
  },
  'glob.quote_meta': ([p]) => str('glob.quote_meta', p, 1).replace(/[*?\\[\]{}]/g, (c) => '\\' + c),
};
