/**
 * units.parse / units.parse_bytes with exact decimal arithmetic (BigInt rationals), so "1.1Ki" is
 * 1126.4 exactly as OPA's big-float arithmetic gives, not 1126.4000000000001.
 */
import type { Impls } from './types';
import { builtinErr, str, Value } from './values';

interface Rat { n: bigint; d: bigint }

const EXP_LIMIT = 1000;

/** Parse a decimal with optional exponent exactly. Returns undefined when malformed. */
function parseDecimal(fn: string, s: string): Rat | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  let n = BigInt((m[2] || '0') + frac);
  let d = 10n ** BigInt(frac.length);
  if (m[4]) {
    const e = Number(m[4]);
    if (!Number.isSafeInteger(e) || Math.abs(e) > EXP_LIMIT) throw builtinErr(fn, 'exponent too large');
    if (e >= 0) n *= 10n ** BigInt(e); else d *= 10n ** BigInt(-e);
  }
  if (m[1] === '-') n = -n;
  return { n, d };
}

/** A rational as the closest double (or an exact integer, as bigint beyond 2^53). */
function ratToValue(fn: string, r: Rat): Value {
  if (r.n % r.d === 0n) {
    const q = r.n / r.d;
    const x = Number(q);
    return Number.isSafeInteger(x) ? x : q;
  }
  // 30 significant digits, then the platform's correctly-rounded decimal parse
  const neg = r.n < 0n;
  const an = neg ? -r.n : r.n;
  const intPart = an / r.d;
  let rem = an % r.d;
  let digits = '';
  for (let i = 0; i < 30; i++) { rem *= 10n; digits += String(rem / r.d); rem %= r.d; }
  const x = Number((neg ? '-' : '') + intPart.toString() + '.' + digits);
  if (!Number.isFinite(x)) throw builtinErr(fn, 'number out of range');
  return x;
}

function roundHalfEven(r: Rat): bigint {
  const neg = r.n < 0n;
  const an = neg ? -r.n : r.n;
  let q = an / r.d;
  const rem2 = (an % r.d) * 2n;
  if (rem2 > r.d || (rem2 === r.d && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

const DECIMAL: Record<string, bigint> = { k: 10n ** 3n, m: 10n ** 6n, g: 10n ** 9n, t: 10n ** 12n, p: 10n ** 15n, e: 10n ** 18n };
const BINARY: Record<string, bigint> = { ki: 2n ** 10n, mi: 2n ** 20n, gi: 2n ** 30n, ti: 2n ** 40n, pi: 2n ** 50n, ei: 2n ** 60n };

/** Split "<amount><unit>": the amount is the longest prefix of digits, dots, an exponent and a sign. */
function split(s: string, signed: boolean): [string, string] {
  const re = signed ? /^[+-]?[0-9.]*(?:[eE][+-]?[0-9]+)?/ : /^[0-9.]*(?:[eE][+-]?[0-9]+)?/;
  const m = re.exec(s)!;
  return [m[0], s.slice(m[0].length)];
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/**
 * The shared front of both parsers: "<amount><unit>" (quotes allowed, no spaces) as an exact amount and
 * the unit text. `what` names the amount in OPA's messages ("amount", "byte amount").
 */
function amountAndUnit(fn: string, s: string, signed: boolean, what: string): { amount: Rat; unit: string } {
  const text = unquote(s);
  if (/\s/.test(text)) throw builtinErr(fn, 'spaces not allowed in resource strings');
  const [amountText, unit] = split(text, signed);
  if (!/\d/.test(amountText)) throw builtinErr(fn, `no ${what} provided`);
  const amount = parseDecimal(fn, amountText);
  if (!amount) throw builtinErr(fn, `could not parse ${what} to a number`);
  return { amount, unit };
}

function unitsParse(s: string): Value {
  const fn = 'units.parse';
  const { amount: r, unit } = amountAndUnit(fn, s, true, 'amount');
  let mul: Rat;
  if (unit === '') mul = { n: 1n, d: 1n };
  else if (unit === 'm') mul = { n: 1n, d: 1000n };
  else if (unit === 'M') mul = { n: DECIMAL.m, d: 1n };
  else {
    const u = unit.toLowerCase();
    if (u in BINARY) mul = { n: BINARY[u], d: 1n };
    else if (u in DECIMAL && u !== 'm') mul = { n: DECIMAL[u], d: 1n };
    else throw builtinErr(fn, `unit ${JSON.stringify(unit)} not recognized`);
  }
  return ratToValue(fn, { n: r.n * mul.n, d: r.d * mul.d });
}

function unitsParseBytes(s: string): Value {
  const fn = 'units.parse_bytes';
  const { amount: r, unit: unitRaw } = amountAndUnit(fn, s, false, 'byte amount');
  let u = unitRaw.toLowerCase();
  if (u.endsWith('b')) u = u.slice(0, -1);
  let mul: bigint;
  if (u === '') mul = 1n;
  else if (u in BINARY) mul = BINARY[u];
  else if (u in DECIMAL) mul = DECIMAL[u];
  else throw builtinErr(fn, `byte unit ${JSON.stringify(unitRaw)} not recognized`);
  const q = roundHalfEven({ n: r.n * mul, d: r.d });
  const x = Number(q);
  return Number.isSafeInteger(x) ? x : q;
}

export const unitsImpls: Impls = {
  'units.parse': ([s]) => unitsParse(str('units.parse', s, 1)),
  'units.parse_bytes': ([s]) => unitsParseBytes(str('units.parse_bytes', s, 1)),
};
