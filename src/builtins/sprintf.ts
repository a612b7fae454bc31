/**
 * OPA's `sprintf`: Go's fmt.Sprintf applied to arguments converted the way OPA converts them —
 * integers become Go ints (or *big.Int beyond int64), other numbers float64, strings stay strings, and
 * every other value (booleans, null, arrays, sets, objects) becomes its Rego text, a *string*. So
 * `sprintf("%t", [true])` is "%!t(string=true)" in OPA too. Floats are formatted from their exact binary
 * value with Go's rounding (ties to even), not with JS's toFixed.
 */
import { builtinErr, arr, str, Value, isObject, cmpStr, compare } from './values';
import { isRegoSet, keyValue } from './rego-text';
import type { Impls } from './types';

type GoArg =
  | { k: 'int'; v: bigint }
  | { k: 'big'; v: bigint }
  | { k: 'float'; v: number }
  | { k: 'string'; v: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Rego's text for a value (ast.Term.String): strings quoted, composites with ", " separators. */
export function regoText(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return numberText(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    // sets print as sets (OPA: {1, 2}, set()); they are known as sets when the runtime hands exact values
    if (!isRegoSet(v)) return '[' + v.map(regoText).join(', ') + ']';
    return v.length === 0 ? 'set()' : '{' + v.map(regoText).join(', ') + '}';
  }
  const keys = Object.keys(v).map((k) => [keyValue(k), k] as const).sort((a, b) => compare(a[0], b[0]));
  return '{' + keys.map(([kv, k]) => regoText(kv) + ': ' + regoText(v[k])).join(', ') + '}';
}

function numberText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return String(n);
}

function toGoArg(v: Value): GoArg {
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX ? { k: 'int', v } : { k: 'big', v };
  if (typeof v === 'number') {
    if (Number.isInteger(v)) {
      if (!Number.isSafeInteger(v)) {
        // the digits OPA would print were lost when the number was parsed as a double
        throw builtinErr('sprintf', `integer ${v} is beyond 2^53 and cannot be formatted exactly`);
      }
      return { k: 'int', v: BigInt(v) };
    }
    return { k: 'float', v };
  }
  if (typeof v === 'string') return { k: 'string', v };
  return { k: 'string', v: regoText(v) };
}

// ---------- exact decimal digits of a double ----------

interface Digits { d: string; dp: number } // value = 0.d × 10^dp, d without leading/trailing zeros ('' = 0)

function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (expBits === 0) e = -1074;
  else { mant |= 1n << 52n; e = expBits - 1075; }
  let s: string;
  let dp: number;
  if (e >= 0) { s = (mant << BigInt(e)).toString(); dp = s.length; }
  else { s = (mant * 5n ** BigInt(-e)).toString(); dp = s.length + e; }
  return trimZeros(s, dp);
}

function trimZeros(s: string, dp: number): Digits {
  let i = 0;
  while (i < s.length && s[i] === '0') i++;
  s = s.slice(i);
  dp -= i;
  s = s.replace(/0+$/, '');
  return s === '' ? { d: '', dp: 0 } : { d: s, dp };
}

/** Round to `nd` significant digits, ties to even (the digits are exact, so a tie is a real tie). */
function roundDigits(x: Digits, nd: number): Digits {
  if (nd < 0) return { d: '', dp: 0 };
  if (x.d.length <= nd) return x;
  const rest = x.d.slice(nd);
  const keep = x.d.slice(0, nd);
  let up: boolean;
  if (rest[0] > '5') up = true;
  else if (rest[0] < '5') up = false;
  else if (/[1-9]/.test(rest.slice(1))) up = true;
  else up = nd > 0 && (Number(keep[nd - 1]) % 2 === 1);
  if (!up) return trimZeros(keep, x.dp);
  if (keep === '') return { d: '1', dp: x.dp + 1 };
  const bumped = (BigInt(keep) + 1n).toString();
  return trimZeros(bumped, x.dp + (bumped.length - keep.length));
}

/** Shortest digits that round-trip (what Go's 'g' with precision -1 and JS's toString both use). */
function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const [m, ex] = Math.abs(x).toExponential().split('e');
  const d = m.replace('.', '');
  return trimZeros(d, Number(ex) + 1);
}

function digitAt(x: Digits, i: number): string {
  return i >= 0 && i < x.d.length ? x.d[i] : '0';
}

function fmtE(x: Digits, prec: number, upper: boolean): string {
  let s = x.d === '' ? '0' : x.d[0];
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(x, i);
  }
  const exp = x.d === '' ? 0 : x.dp - 1;
  const ae = Math.abs(exp);
  return s + (upper ? 'E' : 'e') + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' : '') + ae;
}

function fmtF(x: Digits, prec: number): string {
  let s = '';
  if (x.dp > 0) for (let i = 0; i < x.dp; i++) s += digitAt(x, i);
  else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(x, x.dp + i);
  }
  return s;
}

/** strconv.FormatFloat(|x|, verb, prec, 64) without the sign. prec -1 = shortest. */
export function formatFloatAbs(x: number, verb: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  const shortest = prec < 0;
  let digs: Digits;
  if (shortest) {
    digs = shortestDigits(x);
    if (verb === 'e' || verb === 'E') prec = Math.max(digs.d.length - 1, 0);
    else if (verb === 'f') prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  } else {
    const exact = exactDigits(x);
    if (verb === 'e' || verb === 'E') digs = roundDigits(exact, prec + 1);
    else if (verb === 'f') digs = roundDigits(exact, exact.dp + prec);
    else { if (prec === 0) prec = 1; digs = roundDigits(exact, prec); }
  }
  if (verb === 'e' || verb === 'E') return fmtE(digs, prec, verb === 'E');
  if (verb === 'f') return fmtF(digs, prec);
  // %g
  const nd = digs.d === '' ? 1 : digs.d.length;
  const dp = digs.d === '' ? 1 : digs.dp;
  let eprec = prec;
  if (eprec > nd && nd >= dp) eprec = nd;
  if (shortest) eprec = 6;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd;
    return fmtE(digs, prec - 1, verb === 'G');
  }
  if (prec > dp) prec = nd;
  return fmtF(digs, Math.max(prec - dp, 0));
}

// ---------- Go's strconv.Quote ----------

export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (/\p{Cc}|\p{Cf}|\p{Zl}|\p{Zp}|\p{Co}|\p{Cn}/u.test(ch) || (/\p{Zs}/u.test(ch) && c !== 0x20)) {
      out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

// ---------- the formatter ----------

interface Spec { minus: boolean; plus: boolean; sharp: boolean; space: boolean; zero: boolean; width?: number; prec?: number }

function goTypeName(a: GoArg): string {
  return a.k === 'int' ? 'int' : a.k === 'big' ? '*big.Int' : a.k === 'float' ? 'float64' : 'string';
}

function plainV(a: GoArg): string {
  if (a.k === 'int' || a.k === 'big') return a.v.toString();
  if (a.k === 'float') return (a.v < 0 || Object.is(a.v, -0) ? '-' : '') + formatFloatAbs(Math.abs(a.v), 'g', -1);
  return a.v;
}

function bad(verb: string, a: GoArg): string {
  return `%!${verb}(${goTypeName(a)}=${plainV(a)})`;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  const w = spec.width ?? 0;
  if (s.length >= w) return s;
  if (spec.minus) return s + ' '.repeat(w - s.length);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0] : '';
    const body = s.slice(sign.length);
    const prefix = /^0[xXbo]/.test(body) && spec.sharp ? body.slice(0, 2) : '';
    return sign + prefix + '0'.repeat(w - s.length) + body.slice(prefix.length);
  }
  return ' '.repeat(w - s.length) + s;
}

function signed(neg: boolean, body: string, spec: Spec): string {
  if (neg) return '-' + body;
  if (spec.plus) return '+' + body;
  if (spec.space) return ' ' + body;
  return body;
}

function fmtInteger(v: bigint, verb: string, spec: Spec): string {
  const neg = v < 0n;
  const abs = neg ? -v : v;
  let body: string;
  switch (verb) {
    case 'd': case 'v': body = abs.toString(); break;
    case 'x': body = abs.toString(16); if (spec.sharp) body = '0x' + body; break;
    case 'X': body = abs.toString(16).toUpperCase(); if (spec.sharp) body = '0X' + body; break;
    case 'o': body = abs.toString(8); if (spec.sharp) body = '0' + body; break;
    case 'O': body = '0o' + abs.toString(8); break;
    case 'b': body = abs.toString(2); break;
    default: return '';
  }
  if (spec.prec !== undefined) {
    // precision for integers = minimum digits
    const digits = body.replace(/^0[xXo]/, '');
    const prefix = body.slice(0, body.length - digits.length);
    body = prefix + digits.padStart(spec.prec, '0');
  }
  const s = signed(neg, body, spec);
  return pad(s, spec.prec !== undefined ? { ...spec, zero: false } : spec, true);
}

function fmtFloatVerb(x: number, verb: string, spec: Spec): string {
  if (Number.isNaN(x)) return pad('NaN', spec, false);
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  if (!Number.isFinite(a)) return pad(signed(neg, 'Inf', spec), spec, false);
  let body: string;
  switch (verb) {
    case 'v': body = formatFloatAbs(a, 'g', spec.prec ?? -1); break;
    case 'f': case 'F': body = formatFloatAbs(a, 'f', spec.prec ?? 6); break;
    case 'e': case 'E': body = formatFloatAbs(a, verb, spec.prec ?? 6); break;
    case 'g': case 'G': body = formatFloatAbs(a, verb, spec.prec ?? -1); break;
    default: return '';
  }
  return pad(signed(neg, body, spec), spec, true);
}

/** undefined: the verb does not apply to a string (an empty string is a legitimate answer). */
function fmtString(s: string, verb: string, spec: Spec): string | undefined {
  switch (verb) {
    case 's': case 'v':
      return pad(spec.prec !== undefined ? Array.from(s).slice(0, spec.prec).join('') : s, spec, false);
    case 'q':
      return pad(goQuote(s), spec, false);
    case 'x': case 'X': {
      const hex = Buffer.from(s, 'utf8').toString('hex');
      return pad(verb === 'X' ? hex.toUpperCase() : hex, spec, false);
    }
    default:
      return undefined;
  }
}

function formatOne(a: GoArg, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(goTypeName(a), spec, false);
  let out = '';
  if (a.k === 'int' || a.k === 'big') {
    if (verb === 's' && a.k === 'big') out = pad(a.v.toString(), spec, true);
    else if (verb === 'c' && a.k === 'int') out = pad(String.fromCodePoint(Number(a.v)), spec, false);
    else if (verb === 'q' && a.k === 'int') out = pad("'" + String.fromCodePoint(Number(a.v)) + "'", spec, false);
    else out = fmtInteger(a.v, verb, spec);
  } else if (a.k === 'float') {
    out = fmtFloatVerb(a.v, verb, spec);
  } else {
    const text = fmtString(a.v, verb, spec);
    if (text === undefined) return bad(verb, a);
    return text;
  }
  return out === '' ? bad(verb, a) : out;
}

/** Go's fmt.Sprintf over OPA-converted arguments. */
export function goSprintf(format: string, values: Value[]): string {
  const args = values.map(toGoArg);
  let argi = 0;
  let out = '';
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c !== '%') { out += c; i++; continue; }
    i++;
    if (i >= format.length) { out += '%!(NOVERB)'; break; }
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') spec.minus = true;
      else if (f === '+') spec.plus = true;
      else if (f === '#') spec.sharp = true;
      else if (f === ' ') spec.space = true;
      else if (f === '0') spec.zero = !spec.minus;
      else break;
    }
    let m = /^\d+/.exec(format.slice(i));
    if (m) { spec.width = Number(m[0]); i += m[0].length; }
    if (format[i] === '.') {
      i++;
      m = /^\d+/.exec(format.slice(i));
      if (m) { spec.prec = Number(m[0]); i += m[0].length; } else spec.prec = 0;
    }
    if (i >= format.length) { out += '%!(NOVERB)'; break; }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') { out += '%'; continue; }
    if (verb === '*' ) throw builtinErr('sprintf', 'the * width/precision form is not supported');
    if (argi >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    out += formatOne(args[argi++], verb, spec);
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => `${goTypeName(a)}=${plainV(a)}`).join(', ') + ')';
  }
  return out;
}

export const sprintfImpls: Impls = {
  sprintf: ([f, a]) => goSprintf(str('sprintf', f, 1), arr('sprintf', a, 2)),
};

export { isObject };
