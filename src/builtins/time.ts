/**
 * time.* built-ins. Instants are nanoseconds since the Unix epoch, computed with BigInt and returned
 * exactly (as bigint when beyond 2^53). Input instants are exact with our runtime (exact host values,
 * rego-text.ts); from a module built by OPA they arrive as doubles (about 256 ns precision today).
 * `time.now_ns()` is read once per evaluation from the EvalContext.
 */
import { evalNowNs } from './context';
import type { Impls } from './types';
import { builtinErr, int, num, str, typeErr, Value } from './values';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NS_PER_MS = 1_000_000n;

function inRange(ns: bigint): boolean {
  return ns >= INT64_MIN && ns <= INT64_MAX;
}

function exact(ns: bigint): Value {
  const n = Number(ns);
  return Number.isSafeInteger(n) ? n : ns;
}

// ---- time zones (Intl) ----

const dtfCache = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(fn: string, tz: string): Intl.DateTimeFormat {
  let f = dtfCache.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz === 'Local' ? undefined : tz, hourCycle: 'h23',
        year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
      });
    } catch {
      throw builtinErr(fn, `unknown time zone ${tz}`);
    }
    dtfCache.set(tz, f);
  }
  return f;
}

/** Offset of `tz` from UTC at the instant (ms since epoch), in ms. */
function zoneOffsetMs(fn: string, tz: string, epochMs: number): number {
  if (tz === '' || tz === 'UTC') return 0;
  const parts = zoneFormatter(fn, tz).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  let year = get('year');
  if (parts.find((p) => p.type === 'era')?.value === 'BC') year = 1 - year;
  const wall = utcMs(year, get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(epochMs / 1000) * 1000;
}

interface Instant { ns: bigint; tz: string }

/** A time argument: ns, or [ns, tz] (tz "" = UTC, "Local", or an IANA name). */
function instantArg(fn: string, v: Value, pos: number): Instant {
  let nsv: Value = v;
  let tz = '';
  if (Array.isArray(v)) {
    if (v.length < 1 || v.length > 2) throw typeErr(fn, pos, 'one of {number, array[number, string]}', v);
    nsv = v[0];
    if (v.length === 2) tz = str(fn, v[1], pos);
  }
  // exact when the runtime hands exact values (an integer beyond 2^53 arrives as bigint)
  let ns: bigint;
  if (typeof nsv === 'bigint') ns = nsv;
  else {
    const n = num(fn, nsv, pos);
    if (!Number.isFinite(n)) throw typeErr(fn, pos, 'number', nsv);
    ns = BigInt(Math.trunc(n));
  }
  if (!inRange(ns)) throw builtinErr(fn, 'timestamp too big');
  return { ns, tz };
}

/** Broken-down wall-clock fields of an instant in its zone. */
function fields(fn: string, t: Instant) {
  const ms = Number(t.ns / NS_PER_MS) - (t.ns % NS_PER_MS < 0n ? 1 : 0);
  const nsInMs = ((t.ns % NS_PER_MS) + NS_PER_MS) % NS_PER_MS;
  const off = zoneOffsetMs(fn, t.tz, ms);
  const d = new Date(ms + off);
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(),
    nanos: d.getUTCMilliseconds() * 1_000_000 + Number(nsInMs), weekday: d.getUTCDay(),
    yday: Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - utcMs(d.getUTCFullYear(), 0, 1)) / 86400000) + 1,
    offsetSec: Math.round(off / 1000),
  };
}

/** Date.UTC that also handles years 0..99 (Date.UTC maps them to 1900+). */
function utcMs(y: number, m0: number, d: number, h = 0, mi = 0, s = 0): number {
  const dt = new Date(0);
  dt.setUTCFullYear(y, m0, d);
  dt.setUTCHours(h, mi, s, 0);
  return dt.getTime();
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function daysIn(y: number, m: number): number {
  return new Date(utcMs(y, m, 0)).getUTCDate(); // m is 1-based here: day 0 of next month
}

// ---- RFC 3339 ----

function parseRfc3339(fn: string, s: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw builtinErr(fn, `parsing time ${JSON.stringify(s)} as RFC 3339 failed`);
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || se > 59) {
    throw builtinErr(fn, `parsing time ${JSON.stringify(s)}: value out of range`);
  }
  let offSec = 0;
  if (!/^[Zz]$/.test(m[8])) {
    const sign = m[8][0] === '-' ? -1 : 1;
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(4, 6));
    if (oh > 23 || om > 59) throw builtinErr(fn, `parsing time ${JSON.stringify(s)}: time zone offset out of range`);
    offSec = sign * (oh * 3600 + om * 60);
  }
  const frac = BigInt((m[7] ?? '').padEnd(9, '0') || '0');
  const ns = BigInt(utcMs(y, mo - 1, d, h, mi, se)) * NS_PER_MS + frac - BigInt(offSec) * 1_000_000_000n;
  if (!inRange(ns)) throw builtinErr(fn, 'time outside of valid range');
  return ns;
}

function pad(n: number, w: number): string {
  const s = String(Math.abs(n)).padStart(w, '0');
  return n < 0 ? '-' + s : s;
}

function fmtOffset(sec: number, colon: boolean, zulu: boolean, withSeconds = false): string {
  if (sec === 0 && zulu) return 'Z';
  const sign = sec < 0 ? '-' : '+';
  const a = Math.abs(sec);
  const hh = pad(Math.floor(a / 3600), 2);
  const mm = pad(Math.floor((a % 3600) / 60), 2);
  const ss = pad(a % 60, 2);
  return sign + hh + (colon ? ':' : '') + mm + (withSeconds ? (colon ? ':' : '') + ss : '');
}

// ---- Go layouts (formatting and parsing share the tokenizer) ----

const TOKENS = [
  'January', 'Jan', 'Monday', 'Mon', 'MST',
  '2006', '-070000', '-07:00:00', 'Z070000', 'Z07:00:00', '-07:00', 'Z07:00', '-0700', 'Z0700', '-07', 'Z07',
  '002', '__2', '01', '02', '_2', '03', '04', '05', '06', '15', '1', '2', '3', '4', '5',
  'PM', 'pm',
];

type Tok = { lit: string } | { tok: string } | { frac: string };

function tokenize(layout: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let lit = '';
  while (i < layout.length) {
    // fractional seconds: ".000", ",999" etc. following a seconds field
    const fm = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (fm && out.length > 0 && 'tok' in out[out.length - 1] && ['05', '5'].includes((out[out.length - 1] as { tok: string }).tok) && lit === '') {
      out.push({ frac: fm[0] });
      i += fm[0].length;
      continue;
    }
    const t = TOKENS.find((k) => layout.startsWith(k, i));
    if (t) {
      if (lit) { out.push({ lit }); lit = ''; }
      out.push({ tok: t });
      i += t.length;
    } else {
      lit += layout[i];
      i++;
    }
  }
  if (lit) out.push({ lit });
  return out;
}

function formatLayout(fn: string, t: Instant, layout: string): string {
  const f = fields(fn, t);
  let s = '';
  for (const k of tokenize(layout)) {
    if ('lit' in k) { s += k.lit; continue; }
    if ('frac' in k) {
      const digits = pad(f.nanos, 9).slice(0, k.frac.length - 1);
      if (k.frac[1] === '9') { const tr = digits.replace(/0+$/, ''); s += tr ? k.frac[0] + tr : ''; } else s += k.frac[0] + digits;
      continue;
    }
    const h12 = f.hour % 12 === 0 ? 12 : f.hour % 12;
    switch (k.tok) {
      case 'January': s += MONTHS[f.month - 1]; break;
      case 'Jan': s += MONTHS[f.month - 1].slice(0, 3); break;
      case 'Monday': s += WEEKDAYS[f.weekday]; break;
      case 'Mon': s += WEEKDAYS[f.weekday].slice(0, 3); break;
      case 'MST': s += t.tz === '' || t.tz === 'UTC' ? 'UTC' : fmtOffset(f.offsetSec, false, false); break;
      case '2006': s += pad(f.year, 4); break;
      case '06': s += pad(f.year % 100, 2); break;
      case '01': s += pad(f.month, 2); break;
      case '1': s += f.month; break;
      case '02': s += pad(f.day, 2); break;
      case '2': s += f.day; break;
      case '_2': s += String(f.day).padStart(2, ' '); break;
      case '002': s += pad(f.yday, 3); break;
      case '__2': s += String(f.yday).padStart(3, ' '); break;
      case '15': s += pad(f.hour, 2); break;
      case '03': s += pad(h12, 2); break;
      case '3': s += h12; break;
      case '04': s += pad(f.minute, 2); break;
      case '4': s += f.minute; break;
      case '05': s += pad(f.second, 2); break;
      case '5': s += f.second; break;
      case 'PM': s += f.hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': s += f.hour >= 12 ? 'pm' : 'am'; break;
      case '-07:00': s += fmtOffset(f.offsetSec, true, false); break;
      case 'Z07:00': s += fmtOffset(f.offsetSec, true, true); break;
      case '-0700': s += fmtOffset(f.offsetSec, false, false); break;
      case 'Z0700': s += fmtOffset(f.offsetSec, false, true); break;
      case '-07': s += fmtOffset(f.offsetSec, false, false).slice(0, 3); break;
      case 'Z07': s += f.offsetSec === 0 ? 'Z' : fmtOffset(f.offsetSec, false, false).slice(0, 3); break;
      case '-07:00:00': s += fmtOffset(f.offsetSec, true, false, true); break;
      case 'Z07:00:00': s += f.offsetSec === 0 ? 'Z' : fmtOffset(f.offsetSec, true, false, true); break;
      case '-070000': s += fmtOffset(f.offsetSec, false, false, true); break;
      case 'Z070000': s += f.offsetSec === 0 ? 'Z' : fmtOffset(f.offsetSec, false, false, true); break;
      default: s += k.tok;
    }
  }
  return s;
}

const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006', UnixDate: 'Mon Jan _2 15:04:05 MST 2006', RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST', RFC822Z: '02 Jan 06 15:04 -0700', RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST', RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700', RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00', Kitchen: '3:04PM', Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000', StampMicro: 'Jan _2 15:04:05.000000', StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05', DateOnly: '2006-01-02', TimeOnly: '15:04:05',
};

function parseLayout(fn: string, layout: string, value: string): bigint {
  const fail = (why: string): never => { throw builtinErr(fn, `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: ${why}`); };
  let year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0n, pm: boolean | undefined, offSec = 0, yday = -1;
  let i = 0;
  const digits = (min: number, max: number): number => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(value.slice(i));
    if (!m) fail('cannot parse number');
    i += m![0].length;
    return Number(m![0]);
  };
  const word = (list: string[], len?: number): number => {
    for (let k = 0; k < list.length; k++) {
      const w = len ? list[k].slice(0, len) : list[k];
      if (value.slice(i, i + w.length).toLowerCase() === w.toLowerCase()) { i += w.length; return k; }
    }
    return fail('unknown name');
  };
  const offset = (zulu: boolean, colon: boolean, hoursOnly: boolean, secs: boolean) => {
    if (zulu && value[i] === 'Z') { i++; offSec = 0; return; }
    const sign = value[i] === '-' ? -1 : value[i] === '+' ? 1 : fail('bad time zone offset');
    i++;
    const hh = digits(2, 2);
    let mm = 0, ss = 0;
    if (!hoursOnly) { if (colon) { if (value[i] !== ':') fail('bad offset'); i++; } mm = digits(2, 2); }
    if (secs) { if (colon) { if (value[i] !== ':') fail('bad offset'); i++; } ss = digits(2, 2); }
    offSec = sign * (hh * 3600 + mm * 60 + ss);
  };
  for (const k of tokenize(layout)) {
    if ('lit' in k) {
      if (!value.startsWith(k.lit, i)) fail(`expected ${JSON.stringify(k.lit)}`);
      i += k.lit.length;
      continue;
    }
    if ('frac' in k) {
      const m = /^[.,](\d+)/.exec(value.slice(i));
      if (m) { nanos = BigInt(m[1].slice(0, 9).padEnd(9, '0')); i += m[0].length; } else if (k.frac[1] === '0') fail('missing fractional seconds');
      continue;
    }
    switch (k.tok) {
      case 'January': month = word(MONTHS) + 1; break;
      case 'Jan': month = word(MONTHS, 3) + 1; break;
      case 'Monday': word(WEEKDAYS); break;
      case 'Mon': word(WEEKDAYS, 3); break;
      case 'MST': { const m = /^[A-Z]{3,5}/.exec(value.slice(i)); if (!m) fail('bad zone name'); i += m![0].length; if (m![0] !== 'UTC' && m![0] !== 'GMT') fail(`unsupported zone abbreviation ${m![0]}`); break; }
      case '2006': year = digits(4, 4); break;
      case '06': { const y = digits(2, 2); year = y >= 69 ? 1900 + y : 2000 + y; break; }
      case '01': month = digits(2, 2); break;
      case '1': month = digits(1, 2); break;
      case '02': day = digits(2, 2); break;
      case '2': day = digits(1, 2); break;
      case '_2': if (value[i] === ' ') i++; day = digits(1, 2); break;
      case '002': yday = digits(3, 3); break;
      case '__2': while (value[i] === ' ') i++; yday = digits(1, 3); break;
      case '15': hour = digits(1, 2); break;
      case '03': hour = digits(2, 2); break;
      case '3': hour = digits(1, 2); break;
      case '04': minute = digits(2, 2); break;
      case '4': minute = digits(1, 2); break;
      case '05': case '5': {
        second = digits(k.tok === '05' ? 2 : 1, 2);
        const m = /^\.(\d+)/.exec(value.slice(i)); // Go accepts fractional seconds after a seconds field
        if (m) { nanos = BigInt(m[1].slice(0, 9).padEnd(9, '0')); i += m[0].length; }
        break;
      }
      case 'PM': case 'pm': { const w = value.slice(i, i + 2).toUpperCase(); if (w !== 'AM' && w !== 'PM') fail('bad AM/PM'); pm = w === 'PM'; i += 2; break; }
      case '-07:00': offset(false, true, false, false); break;
      case 'Z07:00': offset(true, true, false, false); break;
      case '-0700': offset(false, false, false, false); break;
      case 'Z0700': offset(true, false, false, false); break;
      case '-07': offset(false, false, true, false); break;
      case 'Z07': offset(true, false, true, false); break;
      case '-07:00:00': offset(false, true, false, true); break;
      case 'Z07:00:00': offset(true, true, false, true); break;
      case '-070000': offset(false, false, false, true); break;
      case 'Z070000': offset(true, false, false, true); break;
      default: fail('unsupported layout element');
    }
  }
  if (i !== value.length) fail(`extra text ${JSON.stringify(value.slice(i))}`);
  if (pm !== undefined) { if (hour < 1 || hour > 12) fail('hour out of range'); if (pm && hour < 12) hour += 12; if (!pm && hour === 12) hour = 0; }
  if (yday >= 0) { const d = new Date(utcMs(year, 0, yday)); month = d.getUTCMonth() + 1; day = d.getUTCDate(); }
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) fail('value out of range');
  const ns = BigInt(utcMs(year, month - 1, day, hour, minute, second)) * NS_PER_MS + nanos - BigInt(offSec) * 1_000_000_000n;
  if (!inRange(ns)) throw builtinErr(fn, 'time outside of valid range');
  return ns;
}

// ---- durations ----

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};

function parseDuration(fn: string, s: string): bigint {
  const fail = (): never => { throw builtinErr(fn, `time: invalid duration ${JSON.stringify(s)}`); };
  let rest = s;
  let neg = false;
  if (rest[0] === '-' || rest[0] === '+') { neg = rest[0] === '-'; rest = rest.slice(1); }
  if (rest === '0') return 0n;
  if (rest === '') fail();
  let total = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) fail();
    const unit = DURATION_UNITS[m![3]];
    const whole = BigInt(m![1] || '0') * unit;
    let frac = 0n;
    if (m![2]) frac = (BigInt(m![2]) * unit) / 10n ** BigInt(m![2].length);
    total += whole + frac;
    rest = rest.slice(m![0].length);
  }
  if (total > INT64_MAX) throw builtinErr(fn, `time: invalid duration ${JSON.stringify(s)}`);
  return neg ? -total : total;
}

function addDate(fn: string, t: Instant, years: number, months: number, days: number): bigint {
  const f = fields(fn, { ns: t.ns, tz: '' });
  const subSecond = ((t.ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const ms = utcMs(f.year + years, f.month - 1 + months, f.day + days, f.hour, f.minute, f.second);
  const ns = BigInt(ms) * NS_PER_MS + subSecond;
  if (!inRange(ns)) throw builtinErr(fn, 'time outside of valid range');
  return ns;
}

function diff(fn: string, a: Instant, b: Instant): number[] {
  const tz = a.tz;
  let x = a;
  let y = { ns: b.ns, tz };
  if (x.ns > y.ns) [x, y] = [y, x];
  const f1 = fields(fn, x);
  const f2 = fields(fn, y);
  let year = f2.year - f1.year, month = f2.month - f1.month, day = f2.day - f1.day;
  let hour = f2.hour - f1.hour, min = f2.minute - f1.minute, sec = f2.second - f1.second;
  if (sec < 0) { sec += 60; min--; }
  if (min < 0) { min += 60; hour--; }
  if (hour < 0) { hour += 24; day--; }
  if (day < 0) { day += daysIn(f1.year, f1.month); month--; }
  if (month < 0) { month += 12; year--; }
  return [year, month, day, hour, min, sec];
}

export const timeImpls: Impls = {
  'time.now_ns': (_args, ctx) => exact(evalNowNs(ctx)),
  'time.parse_rfc3339_ns': ([s]) => exact(parseRfc3339('time.parse_rfc3339_ns', str('time.parse_rfc3339_ns', s, 1))),
  'time.parse_ns': ([l, v]) => {
    const fn = 'time.parse_ns';
    const layout = str(fn, l, 1);
    return exact(parseLayout(fn, NAMED_LAYOUTS[layout] ?? layout, str(fn, v, 2)));
  },
  'time.parse_duration_ns': ([s]) => exact(parseDuration('time.parse_duration_ns', str('time.parse_duration_ns', s, 1))),
  'time.date': ([x]) => { const f = fields('time.date', instantArg('time.date', x, 1)); return [f.year, f.month, f.day]; },
  'time.clock': ([x]) => { const f = fields('time.clock', instantArg('time.clock', x, 1)); return [f.hour, f.minute, f.second]; },
  'time.weekday': ([x]) => WEEKDAYS[fields('time.weekday', instantArg('time.weekday', x, 1)).weekday],
  'time.add_date': ([x, y, m, d]) => {
    const fn = 'time.add_date';
    return exact(addDate(fn, instantArg(fn, x, 1), int(fn, y, 2), int(fn, m, 3), int(fn, d, 4)));
  },
  'time.diff': ([a, b]) => diff('time.diff', instantArg('time.diff', a, 1), instantArg('time.diff', b, 2)),
  'time.format': ([x]) => {
    const fn = 'time.format';
    let layout = NAMED_LAYOUTS.RFC3339Nano;
    let v: Value = x;
    if (Array.isArray(x) && x.length === 3) {
      layout = NAMED_LAYOUTS[str(fn, x[2], 1)] ?? (x[2] as string);
      v = [x[0], x[1]];
    }
    return formatLayout(fn, instantArg(fn, v, 1), layout);
  },
};
