/**
 * crypto.x509.parse_rsa_private_key: a PEM RSA private key (PKCS #1, or PKCS #8 holding RSA), or the
 * base64 of one, as its JWK (kty, n, e, d, p, q, dp, dq, qi), the shape OPA answers. The other
 * crypto.x509.* built-ins answer Go's whole x509 structs; they stay refused by name until they can be
 * reproduced field for field (a missing field would read as undefined where OPA has a value).
 */
import { createPrivateKey } from 'crypto';
import { b64decodeBytes } from './encoding';
import type { Impls } from './types';
import { builtinErr, str, Value } from './values';

function rsaPrivateKeyJwk(fn: string, input: string): Value {
  let pem = input;
  if (!input.startsWith('-----BEGIN')) {
    try {
      pem = b64decodeBytes(fn, input, 'std').toString('utf8');
    } catch {
      throw builtinErr(fn, 'illegal base64 data');
    }
  }
  const m = /-----BEGIN (RSA PRIVATE KEY|PRIVATE KEY)-----[\s\S]*?-----END \1-----/.exec(pem);
  if (!m) throw builtinErr(fn, 'failed to parse PEM block containing the key');
  try {
    const key = createPrivateKey(m[0]);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA private key');
    return key.export({ format: 'jwk' }) as unknown as Value;
  } catch (e) {
    throw builtinErr(fn, (e as Error).message);
  }
}

export const x509Impls: Impls = {
  'crypto.x509.parse_rsa_private_key': ([s]) => rsaPrivateKeyJwk('crypto.x509.parse_rsa_private_key', str('crypto.x509.parse_rsa_private_key', s, 1)),
};
