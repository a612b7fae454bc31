/**
 * regex.globs_match(a, b): whether two glob-style patterns match at least one common non-empty string
 * (OPA's documentation of the built-in). The pattern language is the one OPA accepts there: literals,
 * `\` escapes, `.` for any character, `[...]` classes (ranges, `^` negation) and the quantifiers `*`,
 * `+`, `?` after a character or class. Each pattern becomes a small automaton; the answer is whether
 * their product reaches an accepting pair after at least one character. Linear in the product size,
 * so hostile patterns cannot make it backtrack.
 */
import type { Impls } from './types';
import { builtinErr, str } from './values';

type Ranges = Array<[number, number]>;

const MAX_CP = 0x10ffff;

function complement(rs: Ranges): Ranges {
  const sorted = [...rs].sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

function overlaps(a: Ranges, b: Ranges): boolean {
  return a.some(([lo, hi]) => b.some(([lo2, hi2]) => lo <= hi2 && lo2 <= hi));
}

interface Token { set: Ranges; q: '' | '*' | '?' }

function parseGlob(fn: string, pattern: string): Token[] {
  const cps = Array.from(pattern);
  const toks: Token[] = [];
  let i = 0;
  const cp = (c: string) => c.codePointAt(0)!;
  while (i < cps.length) {
    const c = cps[i];
    let set: Ranges;
    if (c === '\\') {
      if (i + 1 >= cps.length) throw builtinErr(fn, `trailing backslash in ${JSON.stringify(pattern)}`);
      set = [[cp(cps[i + 1]), cp(cps[i + 1])]];
      i += 2;
    } else if (c === '.') {
      set = [[0, MAX_CP]];
      i++;
    } else if (c === '[') {
      i++;
      const negate = cps[i] === '^';
      if (negate) i++;
      const rs: Ranges = [];
      let closed = false;
      while (i < cps.length) {
        if (cps[i] === ']' && rs.length > 0) { closed = true; i++; break; }
        let lo = cps[i];
        if (lo === '\\') { i++; lo = cps[i]; }
        if (lo === undefined) break;
        i++;
        let hi = lo;
        if (cps[i] === '-' && i + 1 < cps.length && cps[i + 1] !== ']') {
          hi = cps[i + 1] === '\\' ? cps[i + 2] : cps[i + 1];
          i += cps[i + 1] === '\\' ? 3 : 2;
          if (hi === undefined || cp(hi) < cp(lo)) throw builtinErr(fn, `invalid range in ${JSON.stringify(pattern)}`);
        }
        rs.push([cp(lo), cp(hi)]);
      }
      if (!closed) throw builtinErr(fn, `unterminated character class in ${JSON.stringify(pattern)}`);
      set = negate ? complement(rs) : rs;
    } else if (c === '*' || c === '+' || c === '?') {
      throw builtinErr(fn, `quantifier ${c} without a preceding character in ${JSON.stringify(pattern)}`);
    } else {
      set = [[cp(c), cp(c)]];
      i++;
    }
    const q = cps[i];
    if (q === '*' || q === '?') { toks.push({ set, q }); i++; }
    else if (q === '+') { toks.push({ set, q: '' }, { set, q: '*' }); i++; }
    else toks.push({ set, q: '' });
  }
  return toks;
}

/** States reachable from state s without reading: past optional and starred tokens. */
function closure(toks: Token[], s: number): number[] {
  const out = [s];
  while (s < toks.length && toks[s].q !== '') out.push(++s);
  return out;
}

/** Moves from state s reading a character in `set`'s overlap: [next state, set read]. */
function moves(toks: Token[], s: number): Array<[number, Ranges]> {
  if (s >= toks.length) return [];
  const t = toks[s];
  return [[t.q === '*' ? s : s + 1, t.set]];
}

export function globsIntersect(fn: string, a: string, b: string): boolean {
  const ta = parseGlob(fn, a);
  const tb = parseGlob(fn, b);
  // breadth-first over (state in a, state in b, read at least one character)
  const seen = new Set<string>();
  const todo: Array<[number, number, boolean]> = [];
  const push = (x: number, y: number, read: boolean) => {
    for (const cx of closure(ta, x)) {
      for (const cy of closure(tb, y)) {
        const key = `${cx},${cy},${read}`;
        if (!seen.has(key)) { seen.add(key); todo.push([cx, cy, read]); }
      }
    }
  };
  push(0, 0, false);
  while (todo.length) {
    const [x, y, read] = todo.shift()!;
    if (read && x === ta.length && y === tb.length) return true;
    for (const [nx, sx] of moves(ta, x)) for (const [ny, sy] of moves(tb, y)) if (overlaps(sx, sy)) push(nx, ny, true);
  }
  return false;
}

export const globsMatchImpls: Impls = {
  'regex.globs_match': ([a, b]) => globsIntersect('regex.globs_match', str('regex.globs_match', a, 1), str('regex.globs_match', b, 2)),
};
