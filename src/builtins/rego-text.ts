/**
 * Exact host values: with our runtime the engine asks for host built-in arguments and results as Rego
 * text (src/runtime/json.ts hostExact), because JSON loses what Rego values are: sets become arrays,
 * non-string keys become strings and integers beyond 2^53 become rounded doubles.
 *
 * In JS a Rego value keeps the host built-ins' usual shape (see values.ts), with two additions:
 * - a set is an array (sorted, as before) remembered in a WeakSet: `isRegoSet`, `regoSet`;
 * - an object key that is not a string is the string `"\0"` + its Rego text (a string key that itself
 *   starts with NUL becomes `"\0"` + its JSON text, which starts with `"`), so keys stay unique and
 *   compare equal exactly when the Rego keys are equal: `keyOf` / `keyValue`.
 * Integers that a double cannot hold are bigint.
 */
import { compare, dataObject, Obj, Value } from './values';

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

const SETS = new WeakSet<Value[]>();

export function isRegoSet(v: unknown): boolean {
  return Array.isArray(v) && SETS.has(v as Value[]);
}

/** A set of `items` (sorted and deduplicated, as sets always reach host built-ins). */
export function regoSet(items: Value[]): Value[] {
  const sorted = [...items].sort(compare);
  const out: Value[] = [];
  for (const v of sorted) if (out.length === 0 || compare(out[out.length - 1], v) !== 0) out.push(v);
  SETS.add(out);
  return out;
}

const NUL = '\u0000';

/** The JS object key of a Rego key. */
export function keyOf(k: Value): string {
  if (typeof k === 'string') return k.startsWith(NUL) ? NUL + JSON.stringify(k) : k;
  return NUL + regoText(k);
}

/** The Rego key a JS object key stands for. */
export function keyValue(k: string): Value {
  return k.startsWith(NUL) ? parseRegoText(k.slice(1)) : k;
}

/** Whether a JS object key stands for a non-string Rego key. */
export function isNonStringKey(k: string): boolean {
  return k.startsWith(NUL) && !k.startsWith(NUL + '"');
}

/** Rego text of a value: sets in braces (`set()` when empty), keys in their own syntax, exact integers. */
export function regoText(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return JSON.stringify(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (!isRegoSet(v)) return '[' + v.map(regoText).join(',') + ']';
    if (v.length === 0) return 'set()';
    return '{' + [...v].sort(compare).map(regoText).join(',') + '}';
  }
  const keys = Object.keys(v).map((k) => [keyValue(k), k] as const).sort((a, b) => compare(a[0], b[0]));
  return '{' + keys.map(([kv, k]) => regoText(kv) + ':' + regoText(v[k])).join(',') + '}';
}

/** Reads the Rego text our runtime dumps (JSON plus sets, `set()` and non-string keys). Throws SyntaxError. */
export function parseRegoText(text: string): Value {
  let i = 0;
  const fail = (): never => { throw new SyntaxError(`invalid Rego value text at offset ${i}`); };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const value = (): Value => {
    ws();
    const c = text[i];
    if (c === '[') {
      i++;
      const a: Value[] = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        fail();
      }
    }
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') { i++; return dataObject() as Obj; }
      const first = value(); ws();
      if (text[i] === ':') {
        const o = dataObject() as Obj;
        let k = first;
        for (;;) {
          i++; // ':'
          o[keyOf(k)] = value(); ws();
          if (text[i] === '}') { i++; return o; }
          if (text[i] !== ',') fail();
          i++;
          k = value(); ws();
          if (text[i] !== ':') fail();
        }
      }
      const items = [first];
      for (;;) {
        if (text[i] === '}') { i++; return regoSet(items); }
        if (text[i] !== ',') fail();
        i++;
        items.push(value()); ws();
      }
    }
    if (c === '"') {
      const start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      if (i >= text.length) fail();
      i++;
      return JSON.parse(text.slice(start, i)) as string;
    }
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(lit, i)) { i += lit.length; return v; }
    }
    if (text.startsWith('set()', i)) { i += 5; return regoSet([]); }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail();
    i += m[0].length;
    if (!m[2] && !m[3]) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail();
  return v;
}

