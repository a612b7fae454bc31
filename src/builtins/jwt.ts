/**
 * io.jwt.* built-ins. Decoding uses jose (decodeProtectedHeader, base64url); signature checks use
 * node:crypto directly because the SDK calls host built-ins synchronously and jose's verification API
 * is Promise-based. Keys: a PEM certificate, a PEM public key, or a JWK / JWK Set as a JSON string
 * (any key of a set may verify, as in OPA). "none" and unknown algorithms never verify.
 */
import { createHmac, createPublicKey, KeyObject, timingSafeEqual, verify as cryptoVerify, X509Certificate, constants } from 'crypto';
import { base64url, decodeProtectedHeader } from 'jose';
import { evalNowNs } from './context';
import type { EvalContext } from './context';
import type { Impls } from './types';
import { builtinErr, isObject, obj, Obj, str, Value } from './values';

interface Parts { header: Obj; payload: Obj; signature: Buffer; signingInput: string }

function decode(fn: string, token: string): Parts {
  const segs = token.split('.');
  if (segs.length !== 3) throw builtinErr(fn, segs.length === 5 ? 'JWE tokens are not supported' : 'encoded JWT must have 3 sections');
  let header: unknown;
  let payload: unknown;
  try {
    header = decodeProtectedHeader(token);
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(segs[1])));
  } catch (e) {
    throw builtinErr(fn, `failed to decode JWT: ${(e as Error).message}`);
  }
  if (!isObject(header) || !isObject(payload)) throw builtinErr(fn, 'JWT header and payload must be JSON objects');
  let signature: Buffer;
  try { signature = Buffer.from(base64url.decode(segs[2])); } catch { throw builtinErr(fn, 'failed to decode JWT signature'); }
  return { header: header as Obj, payload: payload as Obj, signature, signingInput: `${segs[0]}.${segs[1]}` };
}

const DIGEST: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const EC_SIZE: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 };

function keysFrom(fn: string, material: string): KeyObject[] {
  const t = material.trim();
  try {
    if (t.startsWith('-----BEGIN CERTIFICATE-----')) return [new X509Certificate(t).publicKey];
    if (t.startsWith('-----BEGIN')) return [createPublicKey(t)];
    const j = JSON.parse(t);
    const jwks = isObject(j) && Array.isArray(j.keys) ? j.keys : [j];
    return jwks.map((k: unknown) => createPublicKey({ key: k as import('crypto').JsonWebKey, format: 'jwk' }));
  } catch (e) {
    throw builtinErr(fn, `failed to parse key: ${(e as Error).message}`);
  }
}

function verifyAsym(alg: string, p: Parts, keys: KeyObject[]): boolean {
  const family = alg.slice(0, 2);
  const digest = DIGEST[alg.slice(2)];
  if (!digest || !['RS', 'PS', 'ES'].includes(family)) return false;
  const data = Buffer.from(p.signingInput, 'utf8');
  return keys.some((key) => {
    try {
      if (family === 'ES') {
        if (key.asymmetricKeyType !== 'ec' || p.signature.length !== EC_SIZE[alg]) return false;
        return cryptoVerify(digest, data, { key, dsaEncoding: 'ieee-p1363' }, p.signature);
      }
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return false;
      if (family === 'PS') {
        return cryptoVerify(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, p.signature);
      }
      return cryptoVerify(digest, data, { key, padding: constants.RSA_PKCS1_PADDING }, p.signature);
    } catch {
      return false;
    }
  });
}

function verifyHmac(alg: string, p: Parts, secret: string): boolean {
  const digest = DIGEST[alg.slice(2)];
  if (!alg.startsWith('HS') || !digest) return false;
  const mac = createHmac(digest, Buffer.from(secret, 'utf8')).update(p.signingInput, 'utf8').digest();
  return mac.length === p.signature.length && timingSafeEqual(mac, p.signature);
}

function verifier(alg: string) {
  const fn = `io.jwt.verify_${alg.toLowerCase()}`;
  return ([t, k]: Value[]): boolean => {
    const token = str(fn, t, 1);
    const material = str(fn, k, 2);
    const p = decode(fn, token);
    if (alg.startsWith('HS')) return verifyHmac(alg, p, material);
    return verifyAsym(alg, p, keysFrom(fn, material));
  };
}

const CONSTRAINT_KEYS = new Set(['cert', 'secret', 'alg', 'iss', 'aud', 'time']);

function decodeVerify(token: string, c: Obj, ctx: EvalContext): Value {
  const fn = 'io.jwt.decode_verify';
  for (const k of Object.keys(c)) if (!CONSTRAINT_KEYS.has(k)) throw builtinErr(fn, `unknown token validation constraint: ${k}`);
  const hasCert = typeof c.cert === 'string';
  const hasSecret = typeof c.secret === 'string';
  if (hasCert === hasSecret) throw builtinErr(fn, 'exactly one of the constraints cert and secret must be given');
  const invalid = [false, {}, {}];
  let p: Parts;
  try { p = decode(fn, token); } catch { return invalid; }
  const alg = p.header.alg;
  if (typeof alg !== 'string') return invalid;
  if (c.alg !== undefined && c.alg !== alg) return invalid;
  const ok = hasSecret ? verifyHmac(alg, p, c.secret as string) : verifyAsym(alg, p, keysFrom(fn, c.cert as string));
  if (!ok) return invalid;
  // time is in nanoseconds; exp/nbf are seconds
  const nowNs = c.time !== undefined ? (typeof c.time === 'number' ? BigInt(Math.trunc(c.time)) : null) : evalNowNs(ctx);
  if (nowNs === null) throw builtinErr(fn, 'constraint time must be a number');
  const nowSec = Number(nowNs) / 1e9;
  if (p.payload.exp !== undefined) {
    if (typeof p.payload.exp !== 'number') return invalid;
    if (nowSec >= p.payload.exp) return invalid;
  }
  if (p.payload.nbf !== undefined) {
    if (typeof p.payload.nbf !== 'number') return invalid;
    if (nowSec < p.payload.nbf) return invalid;
  }
  if (c.iss !== undefined && p.payload.iss !== c.iss) return invalid;
  const aud = p.payload.aud;
  if (aud !== undefined || c.aud !== undefined) {
    if (typeof c.aud !== 'string' || aud === undefined) return invalid;
    const list = Array.isArray(aud) ? aud : [aud];
    if (!list.includes(c.aud)) return invalid;
  }
  return [true, p.header, p.payload];
}

export const jwtImpls: Impls = {
  'io.jwt.decode': ([t]) => {
    const p = decode('io.jwt.decode', str('io.jwt.decode', t, 1));
    return [p.header, p.payload, p.signature.toString('hex')];
  },
  'io.jwt.decode_verify': ([t, c], ctx) => decodeVerify(str('io.jwt.decode_verify', t, 1), obj('io.jwt.decode_verify', c, 2), ctx),
};
for (const fam of ['RS', 'PS', 'ES', 'HS']) {
  for (const size of ['256', '384', '512']) jwtImpls[`io.jwt.verify_${fam.toLowerCase()}${size}`] = verifier(fam + size);
}
