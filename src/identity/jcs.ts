/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): one byte-exact JSON text per JSON value, so a hash of it
 * means the same thing on every side (PDP, gateway, tool server).
 *
 * JCS is ECMAScript's own JSON serialisation with object members sorted by their names' UTF-16 code
 * units. JSON.stringify already writes strings and numbers the JCS way (RFC 8785 §3.2.2), and JS string
 * comparison is by UTF-16 code units (§3.2.3), so what is left here is the sorting and refusing what
 * JSON cannot hold: non-finite numbers, lone surrogates, undefined, functions, bigints, cycles.
 */

export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

/** Deeper values are refused: an action's parameters are shallow, and depth is a stack-exhaustion lever. */
const MAX_DEPTH = 64;

// a UTF-16 high surrogate not followed by a low one, or a low one not preceded by a high one
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The canonical JSON text of `value`. Throws CanonicalJsonError for anything that is not plain JSON. */
export function canonicalJson(value: unknown): string {
  return write(value, 0, []);
}

function write(v: unknown, depth: number, path: unknown[]): string {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError(`value is nested deeper than ${MAX_DEPTH} levels`);
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new CanonicalJsonError(`${v} is not a JSON number`);
      return JSON.stringify(v); // ECMAScript Number serialisation, -0 as 0 (RFC 8785 §3.2.2.3)
    case 'string':
      return str(v);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`a ${typeof v} is not JSON`);
  }
  if (path.includes(v)) throw new CanonicalJsonError('value is cyclic');
  path.push(v);
  let out: string;
  if (Array.isArray(v)) {
    out = `[${v.map((x) => write(x, depth + 1, path)).join(',')}]`;
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError('only plain objects are JSON objects');
    const obj = v as Record<string, unknown>;
    // default sort order is by UTF-16 code units, exactly what RFC 8785 §3.2.3 asks for
    const keys = Object.keys(obj).sort();
    out = `{${keys.map((k) => `${str(k)}:${write(obj[k], depth + 1, path)}`).join(',')}}`;
  }
  path.pop();
  return out;
}

function str(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new CanonicalJsonError('string holds a lone UTF-16 surrogate, which is not Unicode text');
  return JSON.stringify(s);
}
