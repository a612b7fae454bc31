/**
 * net.cidr_* built-ins. Addresses are BigInts (32-bit IPv4, 128-bit IPv6); a CIDR keeps its host bits
 * for display but compares by its network. Expansion is capped so a policy cannot allocate millions of
 * strings for one decision.
 */
import type { Impls } from './types';
import { isRegoSet, keyValue } from './rego-text';
import { builtinErr, coll, isObject, str, toSet, typeErr, Value } from './values';

export const CIDR_EXPAND_LIMIT = 65536;

interface Net { v6: boolean; addr: bigint; bits: number } // bits = prefix length (32/128 for a plain IP)

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0') || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined;
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.split('::');
  if (dbl.length > 2) return undefined;
  const left = dbl[0] === '' ? [] : dbl[0].split(':');
  const right = dbl.length === 2 ? (dbl[1] === '' ? [] : dbl[1].split(':')) : [];
  const groups = dbl.length === 2 ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  if (groups.length !== 8 || (dbl.length === 2 && left.length + right.length > 7)) return undefined;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

function parseIp(s: string): Net | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v6: false, addr: v4, bits: 32 };
  const v6 = parseV6(s);
  if (v6 !== undefined) return { v6: true, addr: v6, bits: 128 };
  return undefined;
}

function parseCidr(s: string): Net | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > (ip.v6 ? 128 : 32)) return undefined;
  return { ...ip, bits };
}

function width(n: Net): number {
  return n.v6 ? 128 : 32;
}

function network(n: Net): bigint {
  const w = BigInt(width(n));
  const host = w - BigInt(n.bits);
  return (n.addr >> host) << host;
}

function lastAddr(n: Net): bigint {
  const host = BigInt(width(n) - n.bits);
  return network(n) | ((1n << host) - 1n);
}

function contains(a: Net, b: Net): boolean {
  if (a.v6 !== b.v6) return false;
  return a.bits <= b.bits && network(a) === network({ ...b, bits: a.bits });
}

function cidrArg(fn: string, v: Value, pos: number): Net {
  const s = str(fn, v, pos);
  const n = parseCidr(s);
  if (!n) throw builtinErr(fn, `invalid CIDR address: ${s}`);
  return n;
}

function cidrOrIpArg(fn: string, v: Value, pos: number): Net {
  const s = str(fn, v, pos);
  const n = s.includes('/') ? parseCidr(s) : parseIp(s);
  if (!n) throw builtinErr(fn, `invalid CIDR address or IP: ${s}`);
  return n;
}

export function formatIp(v6: boolean, addr: bigint): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((s) => String((addr >> s) & 255n)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((addr >> BigInt(i * 16)) & 0xffffn));
  // IPv4-mapped addresses print in dotted form, as Go does
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return formatIp(false, addr & 0xffffffffn);
  }
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

/** Split [start, end] into the fewest CIDR blocks. */
function rangeToCidrs(v6: boolean, start: bigint, end: bigint): string[] {
  const w = v6 ? 128 : 32;
  const out: string[] = [];
  while (start <= end) {
    let bits = w;
    while (bits > 0) {
      const host = BigInt(w - bits + 1);
      const mask = (1n << host) - 1n;
      if ((start & mask) !== 0n || (start | mask) > end) break;
      bits--;
    }
    out.push(`${formatIp(v6, start)}/${bits}`);
    start = (start | ((1n << BigInt(w - bits)) - 1n)) + 1n;
  }
  return out;
}

/** Go's net.IP.DefaultMask: the classful prefix of an IPv4 address (A: /8, B: /16, C and above: /24). */
function classfulBits(addr: bigint): number {
  const first = Number(addr >> 24n);
  return first < 0x80 ? 8 : first < 0xc0 ? 16 : 24;
}

interface MergeRange { v6: boolean; first: bigint; last: bigint; text?: string }

/** One cidr_merge element, as OPA reads it (generateIPNet): an IP first, then a CIDR. */
function mergeElement(fn: string, it: Value): MergeRange {
  if (typeof it !== 'string') throw builtinErr(fn, 'element must be string');
  const ip = parseIp(it);
  if (ip) {
    if (ip.v6) throw builtinErr(fn, 'IPv6 invalid: needs prefix length');
    // an IPv4 address gets its classful mask and keeps its host bits when printed unmerged
    const n = { ...ip, bits: classfulBits(ip.addr) };
    return { v6: false, first: network(n), last: lastAddr(n), text: `${formatIp(false, ip.addr)}/${n.bits}` };
  }
  const n = parseCidr(it);
  if (!n) throw builtinErr(fn, `invalid CIDR address: ${it}`);
  return { v6: n.v6, first: network(n), last: lastAddr(n), text: `${formatIp(n.v6, network(n))}/${n.bits}` };
}

/**
 * OPA's merge (mergeCIDRs): sort by last then first address, then one pass from the end folding a range
 * into its predecessor when the address before its first one is not after the predecessor's last. A
 * range never merged prints as given; a merged one as the fewest CIDRs covering it.
 */
function cidrMerge(fn: string, items: Value[]): string[] {
  const all = items.map((it) => mergeElement(fn, it));
  const out: string[] = [];
  for (const fam of [false, true]) {
    const max = fam ? (1n << 128n) - 1n : (1n << 32n) - 1n;
    const rs = all.filter((r) => r.v6 === fam).sort((a, b) => (a.last !== b.last ? (a.last < b.last ? -1 : 1) : a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    for (let i = rs.length - 1; i > 0; i--) {
      const before = rs[i].first === 0n ? max : rs[i].first - 1n; // Go's GetPreviousIP wraps around
      if (before <= rs[i - 1].last) {
        rs[i - 1] = { v6: fam, first: rs[i - 1].first < rs[i].first ? rs[i - 1].first : rs[i].first, last: rs[i].last };
        rs.splice(i, 1);
      }
    }
    for (const r of rs) out.push(...(r.text !== undefined ? [r.text] : rangeToCidrs(fam, r.first, r.last)));
  }
  return out;
}

/**
 * cidr_contains_matches operands (OPA's evalNetCIDRContainsMatchesOperand): a string (its own key), an
 * array (keys are indexes), a set (keys are the elements), an object (keys are the keys); elements are a
 * CIDR string or a non-empty array whose first element is one. Any other operand matches nothing.
 */
function matchOperand(fn: string, v: Value, pos: number): [Value, Value][] {
  const pick = (x: Value): Value => {
    if (typeof x === 'string') return x;
    if (Array.isArray(x) && x.length > 0 && !isRegoSet(x)) return x[0];
    throw builtinErr(fn, `operand ${pos}: element must be string or non-empty array`);
  };
  if (typeof v === 'string') return [[v, v]];
  if (isRegoSet(v)) return (v as Value[]).map((x) => [x, pick(x)]);
  if (Array.isArray(v)) return v.map((x, i) => [i, pick(x)]);
  if (isObject(v)) return Object.entries(v).map(([k, x]) => [keyValue(k), pick(x)]);
  return [];
}

export const netImpls: Impls = {
  'net.cidr_contains': ([a, b]) => contains(cidrArg('net.cidr_contains', a, 1), cidrOrIpArg('net.cidr_contains', b, 2)),
  'net.cidr_overlap': ([a, b]) => contains(cidrArg('net.cidr_overlap', a, 1), cidrOrIpArg('net.cidr_overlap', b, 2)),
  'net.cidr_intersects': ([a, b]) => {
    const x = cidrArg('net.cidr_intersects', a, 1);
    const y = cidrArg('net.cidr_intersects', b, 2);
    return x.v6 === y.v6 && (contains(x, y) || contains(y, x));
  },
  'net.cidr_is_valid': ([a]) => typeof a === 'string' && parseCidr(a) !== undefined,
  'net.cidr_expand': ([a]) => {
    const n = cidrArg('net.cidr_expand', a, 1);
    const count = lastAddr(n) - network(n) + 1n;
    if (count > BigInt(CIDR_EXPAND_LIMIT)) throw builtinErr('net.cidr_expand', `CIDR expands to ${count} addresses, more than the limit of ${CIDR_EXPAND_LIMIT}`);
    const out: string[] = [];
    for (let x = network(n); x <= lastAddr(n); x++) out.push(formatIp(n.v6, x));
    return toSet(out);
  },
  'net.cidr_merge': ([a]) => toSet(cidrMerge('net.cidr_merge', coll('net.cidr_merge', a, 1, 'one of {array, set}'))),
  'net.cidr_contains_matches': ([a, b]) => {
    const fn = 'net.cidr_contains_matches';
    const xs = matchOperand(fn, a, 1);
    const ys = matchOperand(fn, b, 2);
    const out: Value[] = [];
    // each pair is net.cidr_contains(x, y): its errors are this call's errors
    for (const [kx, x] of xs) for (const [ky, y] of ys) if (contains(cidrArg(fn, x, 1), cidrOrIpArg(fn, y, 2))) out.push([kx, ky]);
    return toSet(out);
  },
};
