/** crypto.x509.parse_rsa_private_key: PEM (PKCS #1 / #8) or its base64, answered as a JWK. */
import { generateKeyPairSync } from 'crypto';
import { hostBuiltins, newEvalContext } from '../../src/builtins/registry';

const fns = hostBuiltins(newEvalContext({ strict: true }));
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const jwk = privateKey.export({ format: 'jwk' });

test('PKCS #1 and PKCS #8 PEM, and the base64 of the PEM, give the key as a JWK', () => {
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  for (const s of [pkcs1, pkcs8, Buffer.from(pkcs1).toString('base64')]) {
    expect(fns['crypto.x509.parse_rsa_private_key'](s)).toEqual(jwk);
  }
});
test('anything else is an error', () => {
  expect(() => fns['crypto.x509.parse_rsa_private_key']('invalid')).toThrow(/illegal base64/);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  expect(() => fns['crypto.x509.parse_rsa_private_key'](ec)).toThrow(/not an RSA private key/);
});
