/**
 * Encoding built-ins: base64, base64url, hex, json.*, yaml.*, urlquery.*.
 * json.unmarshal keeps large integers exact (as bigint) instead of rounding them through JSON.parse;
 * json.marshal writes keys sorted and escapes <, >, & like Go's encoding/json.
 */
import YAML from 'yaml';
import type { Impls } from './types';
import { builtinErr, cmpStr, coll, dataObject, isObject, obj, str, typeErr, Value } from './values';
import { YAML_AS_OPA } from '../bundles/data-tree';

// ---- base64 ----

/** The bytes of base64 text, checked as strictly as Go's decoder (OPA's base64*.decode). */
export function b64decodeBytes(fn: string, s: string, alphabet: 'std' | 'url'): Buffer {
  const t = s.replace(/[\r\n]/g, '');
  const re = alphabet === 'std' ? /^[A-Za-z0-9+/]*={0,2}$/ : /^[A-Za-z0-9_-]*={0,2}$/;
  const padded = t.includes('=');
  if (!re.test(t) || (padded && t.length % 4 !== 0) || (!padded && t.length % 4 === 1) || (alphabet === 'std' && !padded && t.length % 4 !== 0)) {
    throw builtinErr(fn, `illegal base64 data`);
  }
  return Buffer.from(t, alphabet === 'std' ? 'base64' : 'base64url');
}

function b64decode(fn: string, s: string, alphabet: 'std' | 'url'): string {
  return b64decodeBytes(fn, s, alphabet).toString('utf8');
}

// ---- JSON ----

/** JSON.stringify with sorted keys, Go's HTML escaping, bigint support and refusal of non-finite numbers. */
export function marshal(v: Value, indent = '', prefix = '', level = 0): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('non-finite number');
    return JSON.stringify(v);
  }
  if (typeof v === 'string') {
    return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  }
  const nl = indent ? '\n' + prefix + indent.repeat(level + 1) : '';
  const end = indent ? '\n' + prefix + indent.repeat(level) : '';
  const colon = indent ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + v.map((x) => nl + marshal(x, indent, prefix, level + 1)).join(',') + end + ']';
  }
  const keys = Object.keys(v).sort(cmpStr);
  if (keys.length === 0) return '{}';
  return '{' + keys.map((k) => nl + marshal(k) + colon + marshal(v[k], indent, prefix, level + 1)).join(',') + end + '}';
}

/** A strict JSON parser that keeps integers beyond 2^53 exact (as bigint). Throws SyntaxError. */
export function parseJsonExact(text: string): Value {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const fail = (): never => { throw new SyntaxError(`invalid JSON at offset ${i}`); };
  const value = (): Value => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const o: { [k: string]: Value } = dataObject(); ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws(); if (text[i] !== '"') fail();
        const k = string(); ws(); if (text[i] !== ':') fail(); i++;
        o[k] = value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return o; }
        fail();
      }
    }
    if (c === '[') {
      i++; const a: Value[] = []; ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        fail();
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) return fail();
    i += m[0].length;
    if (!m[2] && !m[3]) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    const f = Number(m[0]);
    if (!Number.isFinite(f)) fail();
    return f;
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const v = value();
  ws();
  if (i !== text.length) fail();
  return v;
}

// ---- YAML (OPA: YAML → JSON; multi-document input is accepted when every document parses) ----

function yamlParse(s: string): { ok: true; value: Value } | { ok: false; error: string } {
  try {
    const docs = YAML.parseAllDocuments(s, { ...YAML_AS_OPA, uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const d of list) if (d.errors.length) return { ok: false, error: d.errors[0].message };
    const first = list[0];
    const v = first ? (first.toJS({ maxAliasCount: 100 }) as unknown) : null;
    return { ok: true, value: normaliseYaml(v) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function normaliseYaml(v: unknown): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('non-finite number in YAML');
    return v;
  }
  if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(normaliseYaml);
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), normaliseYaml(x)]));
  if (v instanceof Set) return [...v].map(normaliseYaml);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, normaliseYaml(x)]));
  return String(v);
}

// ---- urlquery (Go's url.QueryEscape / QueryUnescape) ----

function queryEscape(s: string): string {
  return Array.from(Buffer.from(s, 'utf8')).map((b) => {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
    if (c === ' ') return '+';
    return '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }).join('');
}

function queryUnescape(fn: string, s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) throw builtinErr(fn, `invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c === '+') bytes.push(0x20);
    else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

export const encodingImpls: Impls = {
  'base64.encode': ([s]) => Buffer.from(str('base64.encode', s, 1), 'utf8').toString('base64'),
  'base64.decode': ([s]) => b64decode('base64.decode', str('base64.decode', s, 1), 'std'),
  'base64.is_valid': ([s]) => {
    try { b64decode('base64.is_valid', str('base64.is_valid', s, 1), 'std'); return true; } catch { return false; }
  },
  'base64url.encode': ([s]) => {
    const b = Buffer.from(str('base64url.encode', s, 1), 'utf8').toString('base64url');
    return b + '='.repeat((4 - (b.length % 4)) % 4);
  },
  'base64url.encode_no_pad': ([s]) => Buffer.from(str('base64url.encode_no_pad', s, 1), 'utf8').toString('base64url'),
  'base64url.decode': ([s]) => b64decode('base64url.decode', str('base64url.decode', s, 1), 'url'),
  'hex.encode': ([s]) => Buffer.from(str('hex.encode', s, 1), 'utf8').toString('hex'),
  'hex.decode': ([s]) => {
    const t = str('hex.decode', s, 1);
    if (!/^([0-9a-fA-F]{2})*$/.test(t)) throw builtinErr('hex.decode', `invalid hex string ${JSON.stringify(t)}`);
    return Buffer.from(t, 'hex').toString('utf8');
  },
  'json.marshal': ([v]) => marshal(v),
  'json.marshal_with_options': ([v, o]) => {
    const opts = obj('json.marshal_with_options', o, 2);
    for (const k of Object.keys(opts)) {
      if (!['pretty', 'indent', 'prefix'].includes(k)) throw builtinErr('json.marshal_with_options', `object operand must only contain keys pretty, indent, prefix; got ${k}`);
    }
    const indentGiven = typeof opts.indent === 'string';
    const prefixGiven = typeof opts.prefix === 'string';
    const pretty = opts.pretty === undefined ? indentGiven || prefixGiven : opts.pretty === true;
    if (!pretty) return marshal(v);
    const indent = indentGiven ? (opts.indent as string) : '\t';
    const prefix = prefixGiven ? (opts.prefix as string) : '';
    return prefix + marshal(v, indent, prefix);
  },
  'json.unmarshal': ([s]) => {
    try { return parseJsonExact(str('json.unmarshal', s, 1)); } catch (e) {
      if (e instanceof SyntaxError) throw builtinErr('json.unmarshal', e.message);
      throw e;
    }
  },
  'json.is_valid': ([s]) => {
    if (typeof s !== 'string') return false;
    try { parseJsonExact(s); return true; } catch { return false; }
  },
  'yaml.marshal': ([v]) => YAML.stringify(v, { sortMapEntries: true }),
  'yaml.unmarshal': ([s]) => {
    const r = yamlParse(str('yaml.unmarshal', s, 1));
    if (!r.ok) throw builtinErr('yaml.unmarshal', r.error);
    return r.value;
  },
  'yaml.is_valid': ([s]) => (typeof s === 'string' ? yamlParse(s).ok : false),
  'urlquery.encode': ([s]) => queryEscape(str('urlquery.encode', s, 1)),
  'urlquery.decode': ([s]) => queryUnescape('urlquery.decode', str('urlquery.decode', s, 1)),
  'urlquery.encode_object': ([o]) => {
    const ob = obj('urlquery.encode_object', o, 1);
    const parts: string[] = [];
    for (const k of Object.keys(ob).sort()) {
      const v = ob[k];
      const vals = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null;
      if (!vals || vals.some((x) => typeof x !== 'string')) throw typeErr('urlquery.encode_object', 1, 'object[string: string|array[string]|set[string]]', v);
      for (const x of vals) parts.push(queryEscape(k) + '=' + queryEscape(x as string));
    }
    return parts.join('&');
  },
  'urlquery.decode_object': ([s]) => {
    const text = str('urlquery.decode_object', s, 1);
    const out: { [k: string]: Value[] } = dataObject<Value[]>();
    for (const part of text.split('&')) {
      if (part === '') continue;
      if (part.includes(';')) throw builtinErr('urlquery.decode_object', 'invalid semicolon separator in query');
      const eq = part.indexOf('=');
      const k = queryUnescape('urlquery.decode_object', eq < 0 ? part : part.slice(0, eq));
      const v = eq < 0 ? '' : queryUnescape('urlquery.decode_object', part.slice(eq + 1));
      (out[k] ??= []).push(v);
    }
    return out;
  },
};

export { coll, isObject };
