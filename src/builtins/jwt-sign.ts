/**
 * io.jwt.encode_sign / encode_sign_raw, as OPA's commonBuiltinJWTEncodeSign: the key is the first key
 * of a JWK or JWK Set; the header must name an algorithm OPA knows; with `typ` absent or "JWT" the
 * payload must be JSON; the token is base64url(header text) "." base64url(payload text) "." signature.
 * encode_sign writes header and payload as Go's json.Marshal does (sorted keys), encode_sign_raw signs
 * the given text unchanged. Signing uses node:crypto synchronously (jose's API is asynchronous); ECDSA
 * and RSA-PSS signatures are randomised, as in OPA.
 */
import { createHmac, createPrivateKey, KeyObject, sign as cryptoSign, constants } from 'crypto';
import { b64decodeBytes, marshal } from './encoding';
import { JWS_ALGORITHMS } from './jwt';
import type { Impls } from './types';
import { builtinErr, isObject, obj, Obj, str, Value } from './values';

const DIGEST: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

function firstJwk(fn: string, text: string): Obj {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw builtinErr(fn, `failed to parse JWK: ${(e as Error).message}`);
  }
  const keys = isObject(j) && Array.isArray(j.keys) ? j.keys : [j];
  if (keys.length === 0) throw builtinErr(fn, 'no keys found in JWK set');
  if (!isObject(keys[0])) throw builtinErr(fn, 'failed to parse JWK: a key is not an object');
  return keys[0];
}

function signature(fn: string, alg: string, jwk: Obj, input: Buffer): Buffer {
  try {
    if (alg.startsWith('HS')) {
      if (jwk.kty !== 'oct') throw new Error('an HMAC algorithm needs an oct key');
      return createHmac(DIGEST[alg.slice(2)], b64decodeBytes(fn, String(jwk.k ?? ''), 'url')).update(input).digest();
    }
    const key: KeyObject = createPrivateKey({ key: jwk as unknown as import('crypto').JsonWebKey, format: 'jwk' });
    if (alg === 'EdDSA') return cryptoSign(null, input, key);
    const digest = DIGEST[alg.slice(2)];
    if (alg.startsWith('ES')) return cryptoSign(digest, input, { key, dsaEncoding: 'ieee-p1363' });
    if (alg.startsWith('PS')) return cryptoSign(digest, input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    return cryptoSign(digest, input, { key, padding: constants.RSA_PKCS1_PADDING });
  } catch (e) {
    throw builtinErr(fn, `failed to sign: ${(e as Error).message}`);
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function encodeSign(fn: string, header: string, payload: string, jwkText: string): string {
  const jwk = firstJwk(fn, jwkText);
  let h: unknown;
  try {
    h = JSON.parse(header);
  } catch (e) {
    throw builtinErr(fn, `missing or invalid 'alg' header: cannot parse JSON: ${(e as Error).message}`);
  }
  const alg = isObject(h) ? h.alg : undefined;
  if (typeof alg !== 'string') throw builtinErr(fn, "missing or invalid 'alg' header");
  if (!JWS_ALGORITHMS.has(alg)) throw builtinErr(fn, `unknown JWS algorithm: ${alg}`);
  const typ = isObject(h) ? h.typ : undefined;
  if ((typeof typ !== 'string' || typ === 'JWT') && !isJson(payload)) throw builtinErr(fn, 'type is JWT but payload is not JSON');
  const input = `${Buffer.from(header, 'utf8').toString('base64url')}.${Buffer.from(payload, 'utf8').toString('base64url')}`;
  return `${input}.${signature(fn, alg, jwk, Buffer.from(input, 'utf8')).toString('base64url')}`;
}

export const jwtSignImpls: Impls = {
  'io.jwt.encode_sign': ([h, p, k]) => {
    const fn = 'io.jwt.encode_sign';
    return encodeSign(fn, marshal(obj(fn, h, 1) as Value), marshal(obj(fn, p, 2) as Value), marshal(obj(fn, k, 3) as Value));
  },
  'io.jwt.encode_sign_raw': ([h, p, k]) => {
    const fn = 'io.jwt.encode_sign_raw';
    return encodeSign(fn, str(fn, h, 1), str(fn, p, 2), str(fn, k, 3));
  },
};
