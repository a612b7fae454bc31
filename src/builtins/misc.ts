/** semver, uuid, crypto hashes/HMAC, rand, opa.runtime. */
import { createHash, createHmac, randomInt, randomUUID, timingSafeEqual } from 'crypto';
import type { Impls } from './types';
import { builtinErr, int, str, Value } from './values';

// ---- semver 2.0.0 (strict: no "v" prefix, no leading zeros in numeric identifiers) ----

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

interface SemVer { nums: bigint[]; pre: string[] }

function parseSemver(s: string): SemVer | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  return { nums: [BigInt(m[1]), BigInt(m[2]), BigInt(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

function cmpIdent(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) { const x = BigInt(a), y = BigInt(b); return x < y ? -1 : x > y ? 1 : 0; }
  if (na) return -1;
  if (nb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function semverCompare(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) if (a.nums[i] !== b.nums[i]) return a.nums[i] < b.nums[i] ? -1 : 1;
  if (a.pre.length === 0 || b.pre.length === 0) return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const c = cmpIdent(a.pre[i], b.pre[i]);
    if (c !== 0) return c;
  }
  return a.pre.length === b.pre.length ? 0 : a.pre.length < b.pre.length ? -1 : 1;
}

function semverArg(fn: string, v: Value, pos: number): SemVer {
  const s = str(fn, v, pos);
  const p = parseSemver(s);
  if (!p) throw builtinErr(fn, `operand ${pos}: string ${JSON.stringify(s)} is not a valid SemVer`);
  return p;
}

function hmac(alg: string) {
  return ([m, k]: Value[]) => createHmac(alg, Buffer.from(str(`crypto.hmac.${alg}`, k, 2), 'utf8')).update(str(`crypto.hmac.${alg}`, m, 1), 'utf8').digest('hex');
}

function hash(alg: string, name: string) {
  return ([s]: Value[]) => createHash(alg).update(str(name, s, 1), 'utf8').digest('hex');
}

export const miscImpls: Impls = {
  'semver.compare': ([a, b]) => semverCompare(semverArg('semver.compare', a, 1), semverArg('semver.compare', b, 2)),
  'semver.is_valid': ([a]) => typeof a === 'string' && parseSemver(a) !== undefined,
  'uuid.rfc4122': ([k], ctx) => {
    const key = str('uuid.rfc4122', k, 1);
    ctx.uuidCache ??= new Map();
    let u = ctx.uuidCache.get(key);
    if (!u) { u = randomUUID(); ctx.uuidCache.set(key, u); }
    return u;
  },
  'rand.intn': ([k, n], ctx) => {
    const key = str('rand.intn', k, 1);
    const max = int('rand.intn', n, 2);
    if (max === 0) return 0;
    const cacheKey = `rand.intn\u0000${key}\u0000${max}`;
    ctx.uuidCache ??= new Map();
    const hit = ctx.uuidCache.get(cacheKey);
    if (hit !== undefined) return Number(hit);
    const r = randomInt(Math.abs(max));
    ctx.uuidCache.set(cacheKey, String(r));
    return r;
  },
  'crypto.md5': hash('md5', 'crypto.md5'),
  'crypto.sha1': hash('sha1', 'crypto.sha1'),
  'crypto.sha256': hash('sha256', 'crypto.sha256'),
  'crypto.hmac.md5': hmac('md5'),
  'crypto.hmac.sha1': hmac('sha1'),
  'crypto.hmac.sha256': hmac('sha256'),
  'crypto.hmac.sha512': hmac('sha512'),
  'crypto.hmac.equal': ([a, b]) => {
    const x = Buffer.from(str('crypto.hmac.equal', a, 1), 'utf8');
    const y = Buffer.from(str('crypto.hmac.equal', b, 2), 'utf8');
    return x.length === y.length && timingSafeEqual(x, y);
  },
  'opa.runtime': () => ({}),
};
