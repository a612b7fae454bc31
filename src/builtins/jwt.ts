/**
 * io.jwt.* verification and decoding, following OPA's topdown (tokens.go) step by step, because every
 * difference there is either a wrong allow or a wrong deny:
 * - a token is three base64url sections; the header must be a JSON object without `enc` (JWE is not
 *   supported: an error), and its `alg`, `kid`, `typ`, `cty` must be strings and `crit` a non-empty list;
 * - io.jwt.decode_verify treats a header without `alg`, or whose `crit` names a header parameter it
 *   does not understand (RFC 7515 §4.1.11), as an invalid token: [false, {}, {}];
 * - io.jwt.verify_<alg> only checks the signature (as in OPA it reads neither `crit` nor the claims);
 * - `cty: JWT` means a nested token: decode_verify verifies each level with the same constraints and
 *   answers the innermost header and payload; io.jwt.decode answers the innermost decoding.
 * Signature checks use node:crypto directly because the SDK calls host built-ins synchronously and
 * jose's verification API is Promise-based. Keys: a PEM certificate or PEM public key, or a JWK / JWK
 * Set as JSON (with a set, a key whose `kid` matches the header's is the only one tried; otherwise any
 * key whose `alg` is absent or equal to the header's may verify). "none" and unknown algorithms never verify.
 */
import { createHmac, createPublicKey, createSecretKey, KeyObject, timingSafeEqual, verify as cryptoVerify, X509Certificate, constants } from 'crypto';
import { evalNowNs } from './context';
import type { EvalContext } from './context';
import { b64decodeBytes, parseJsonExact } from './encoding';
import type { Impls } from './types';
import { builtinErr, isObject, obj, Obj, str, Value } from './values';

/** The algorithms OPA knows (tokenAlgorithms); a JWK naming another is ignored. */
export const JWS_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA']);

interface Sections { header: string; payload: string; signature: string }

function split(fn: string, token: string): Sections {
  if (!token.includes('.')) throw builtinErr(fn, 'encoded JWT had no period separators');
  const parts = token.split('.');
  if (parts.length !== 3) throw builtinErr(fn, `encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0], payload: parts[1], signature: parts[2] };
}

/** OPA's base64url.decode: missing padding is added first (RFC 7515 appendix C). */
function b64url(fn: string, seg: string, what: string): Buffer {
  let s = seg;
  if (!s.endsWith('=')) {
    if (s.length % 4 === 1) throw builtinErr(fn, `JWT ${what} had invalid encoding: illegal base64url string`);
    s += '='.repeat((4 - (s.length % 4)) % 4);
  }
  try {
    return b64decodeBytes(fn, s, 'url');
  } catch {
    throw builtinErr(fn, `JWT ${what} had invalid encoding: illegal base64 data`);
  }
}

function jsonObject(fn: string, bytes: Buffer | string, what: string): Obj {
  let v: Value;
  try {
    v = parseJsonExact(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (e) {
    throw builtinErr(fn, `${what}invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(v)) throw builtinErr(fn, `${what}decoded JSON type was not an Object`);
  return v;
}

function decodeHeader(fn: string, t: Sections): Obj {
  const h = jsonObject(fn, b64url(fn, t.header, 'header'), 'bad JWT header: ');
  if ('enc' in h) throw builtinErr(fn, 'JWT is a JWE object, which is not supported');
  return h;
}

interface Header { alg: string; kid: string; cty: string; crit: Set<string>; unknown: string[] }

const HEADER_STRINGS = ['alg', 'kid', 'typ', 'cty'];

/** The header parameters OPA understands, type-checked (a wrong type is an error, not an invalid token). */
function parseHeader(fn: string, h: Obj): Header {
  const out: Header = { alg: '', kid: '', cty: '', crit: new Set(), unknown: [] };
  for (const k of Object.keys(h)) {
    const v = h[k];
    if (HEADER_STRINGS.includes(k)) {
      if (typeof v !== 'string') throw builtinErr(fn, `${k}: must be a string`);
      if (k !== 'typ') out[k as 'alg' | 'kid' | 'cty'] = v;
    } else if (k === 'crit') {
      if (!Array.isArray(v)) throw builtinErr(fn, 'crit: must be a list');
      // OPA reads the names up to the first one that is not a string
      for (const n of v) {
        if (typeof n !== 'string') break;
        out.crit.add(n);
      }
      if (out.crit.size === 0) throw builtinErr(fn, 'crit: must be a nonempty list');
    } else out.unknown.push(k);
  }
  return out;
}

/** RFC 7515: `alg` must be present, and every parameter named in `crit` must be one we understand. */
function headerValid(h: Header): boolean {
  return h.alg !== '' && !h.unknown.some((u) => h.crit.has(u));
}

// ------------------------------------------------------------ keys

export interface VerificationKey { key: KeyObject; alg: string; kid: string }

/** A PEM certificate or public key (exactly one block), or a JWK / JWK Set (OPA's getKeysFromCertOrJWK). */
function keysFrom(fn: string, material: string): VerificationKey[] {
  const pem = /-----BEGIN ([^-\r\n]+)-----\r?\n[\s\S]*?-----END \1-----(\r?\n)?/.exec(material);
  if (pem) {
    if (material.length > pem.index + pem[0].length) throw builtinErr(fn, 'extra data after a PEM certificate block');
    try {
      if (pem[1] === 'CERTIFICATE') return [{ key: new X509Certificate(pem[0]).publicKey, alg: '', kid: '' }];
      if (pem[1] === 'PUBLIC KEY') return [{ key: createPublicKey(pem[0]), alg: '', kid: '' }];
    } catch (e) {
      throw builtinErr(fn, `failed to parse a PEM ${pem[1] === 'CERTIFICATE' ? 'certificate' : 'public key'}: ${(e as Error).message}`);
    }
    throw builtinErr(fn, 'failed to extract a Key from the PEM certificate');
  }
  let jwks: unknown[];
  try {
    const j = JSON.parse(material) as unknown;
    jwks = isObject(j) && Array.isArray(j.keys) ? j.keys : [j];
  } catch (e) {
    throw builtinErr(fn, `failed to parse a JWK key (set): ${(e as Error).message}`);
  }
  const out: VerificationKey[] = [];
  for (const k of jwks) {
    if (!isObject(k)) throw builtinErr(fn, 'failed to parse a JWK key (set): a key is not an object');
    const alg = typeof k.alg === 'string' ? k.alg : '';
    if (alg !== '' && !JWS_ALGORITHMS.has(alg)) continue;
    out.push({ key: jwkKey(fn, k), alg, kid: typeof k.kid === 'string' ? k.kid : '' });
  }
  return out;
}

export function jwkKey(fn: string, k: Obj): KeyObject {
  try {
    if (k.kty === 'oct') return createSecretKey(b64decodeBytes(fn, String(k.k ?? ''), 'url'));
    return createPublicKey({ key: k as unknown as import('crypto').JsonWebKey, format: 'jwk' });
  } catch (e) {
    throw builtinErr(fn, `failed to parse a JWK key (set): ${(e as Error).message}`);
  }
}

// ------------------------------------------------------------ signatures

const DIGEST: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const EC_SIZE: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 };

/** Whether `signature` is `alg`'s signature of `input` under `key`; a key of the wrong kind never verifies. */
function verifySignature(alg: string, key: KeyObject, input: string, signature: Buffer): boolean {
  const data = Buffer.from(input, 'utf8');
  const digest = DIGEST[alg.slice(2)];
  try {
    if (alg.startsWith('HS') && digest) {
      if (key.type !== 'secret') return false;
      const mac = createHmac(digest, key).update(data).digest();
      return mac.length === signature.length && timingSafeEqual(mac, signature);
    }
    if (key.type === 'secret') return false;
    if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519' && cryptoVerify(null, data, key, signature);
    if (!digest) return false;
    if (alg.startsWith('ES')) {
      if (key.asymmetricKeyType !== 'ec' || signature.length !== EC_SIZE[alg]) return false;
      return cryptoVerify(digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return false;
    if (alg.startsWith('PS')) {
      return cryptoVerify(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature);
    }
    if (alg.startsWith('RS')) return cryptoVerify(digest, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    return false;
  } catch {
    return false;
  }
}

/** The key choice OPA makes: the key whose kid matches the header's, else any key allowed for `alg`. */
function verifyWithKeys(alg: string, kid: string, keys: VerificationKey[], input: string, signature: Buffer): boolean {
  if (kid !== '') {
    const byKid = keys.find((k) => k.kid === kid);
    if (byKid) return verifySignature(alg, byKid.key, input, signature);
  }
  return keys.some((k) => (k.alg === '' || k.alg === alg) && verifySignature(alg, k.key, input, signature));
}

function verifier(alg: string) {
  const fn = `io.jwt.verify_${alg.toLowerCase()}`;
  return ([t, k]: Value[]): boolean => {
    const token = str(fn, t, 1);
    const material = str(fn, k, 2);
    const s = split(fn, token);
    if (alg.startsWith('HS')) {
      // OPA reads neither the header nor the payload here
      return verifySignature(alg, createSecretKey(Buffer.from(material, 'utf8')), `${s.header}.${s.payload}`, b64url(fn, s.signature, 'signature'));
    }
    const keys = keysFrom(fn, material);
    const signature = b64url(fn, s.signature, 'signature');
    const header = parseHeader(fn, decodeHeader(fn, s));
    return verifyWithKeys(alg, header.kid, keys, `${s.header}.${s.payload}`, signature);
  };
}

// ------------------------------------------------------------ io.jwt.decode

function decodeToken(fn: string, token: string): Value[] {
  const s = split(fn, token);
  const header = decodeHeader(fn, s);
  const payload = b64url(fn, s.payload, 'payload').toString('utf8');
  if (header.cty === 'JWT') {
    // a nested token; jwt.io quotes it, so surrounding quotes are dropped first
    return decodeToken(fn, payload.replace(/^["']+|["']+$/g, ''));
  }
  const claims = jsonObject(fn, payload, '');
  return [header, claims, b64url(fn, s.signature, 'signature').toString('hex')];
}

// ------------------------------------------------------------ io.jwt.decode_verify

interface Constraints { secret: string; alg: string; iss: string; aud: string; keys?: VerificationKey[]; timeNs?: number }

function stringConstraint(fn: string, name: string, v: Value): string {
  if (typeof v !== 'string') throw builtinErr(fn, `${name} constraint: must be a string`);
  return v;
}

function timeConstraint(fn: string, v: Value | bigint): number {
  if (typeof v !== 'number' && typeof v !== 'bigint') throw builtinErr(fn, 'token time constraint: must be a number');
  const t = Number(v);
  if (t < 0) throw builtinErr(fn, 'token time constraint: must not be negative');
  return t;
}

function parseConstraints(fn: string, c: Obj, ctx: EvalContext): Constraints {
  const out: Constraints = { secret: '', alg: '', iss: '', aud: '' };
  for (const k of Object.keys(c).sort()) {
    const v = c[k];
    switch (k) {
      case 'cert': out.keys = keysFrom(fn, typeof v === 'string' ? v : (() => { throw builtinErr(fn, 'cert constraint: must be a string'); })()); break;
      case 'secret': case 'alg': case 'iss': case 'aud': out[k] = stringConstraint(fn, k, v); break;
      case 'time': out.timeNs = timeConstraint(fn, v); break;
      default: throw builtinErr(fn, `unknown token validation constraint: ${k}`);
    }
  }
  out.timeNs ??= timeConstraint(fn, evalNowNs(ctx));
  const keyKinds = (out.keys ? 1 : 0) + (out.secret !== '' ? 1 : 0);
  if (keyKinds > 1) throw builtinErr(fn, 'duplicate key constraints');
  if (keyKinds < 1) throw builtinErr(fn, 'no key constraint');
  return out;
}

function validAudience(want: string, aud: Value): boolean {
  if (typeof aud === 'string') return aud === want;
  return Array.isArray(aud) && aud.some((a) => a === want);
}

const INVALID: Value = [false, {}, {}];

function decodeVerify(fn: string, token: string, c: Constraints): Value {
  let current = token;
  let header: Obj;
  let payloadText: string;
  for (;;) {
    const s = split(fn, current);
    header = decodeHeader(fn, s);
    const h = parseHeader(fn, header);
    if (!headerValid(h)) return INVALID;
    if (c.alg !== '' && c.alg !== h.alg) return INVALID;
    const signature = b64url(fn, s.signature, 'signature');
    const input = `${s.header}.${s.payload}`;
    const ok = c.keys
      ? verifyWithKeys(h.alg, h.kid, c.keys, input, signature)
      : verifySignature(h.alg, createSecretKey(Buffer.from(c.secret, 'utf8')), input, signature);
    if (!ok) return INVALID;
    payloadText = b64url(fn, s.payload, 'payload').toString('utf8');
    if (h.cty.toUpperCase() !== 'JWT') break;
    current = payloadText; // nested: the payload is the next token, verified the same way
  }
  const payload = jsonObject(fn, payloadText, '');
  if (c.iss !== '' && payload.iss !== c.iss) return INVALID;
  if ('aud' in payload ? !validAudience(c.aud, payload.aud) : c.aud !== '') return INVALID;
  const nowSec = c.timeNs! / 1e9;
  if ('exp' in payload) {
    if (typeof payload.exp !== 'number' && typeof payload.exp !== 'bigint') throw builtinErr(fn, 'exp value must be a number');
    if (nowSec >= Number(payload.exp)) return INVALID;
  }
  if ('nbf' in payload) {
    if (typeof payload.nbf !== 'number' && typeof payload.nbf !== 'bigint') throw builtinErr(fn, 'nbf value must be a number');
    if (nowSec < Number(payload.nbf)) return INVALID;
  }
  return [true, header, payload];
}

export const jwtImpls: Impls = {
  'io.jwt.decode': ([t]) => decodeToken('io.jwt.decode', str('io.jwt.decode', t, 1)),
  'io.jwt.decode_verify': ([t, c], ctx) => {
    const fn = 'io.jwt.decode_verify';
    const token = str(fn, t, 1);
    return decodeVerify(fn, token, parseConstraints(fn, obj(fn, c, 2), ctx));
  },
};
for (const alg of JWS_ALGORITHMS) jwtImpls[`io.jwt.verify_${alg.toLowerCase()}`] = verifier(alg);
