/**
 * Token checks jose leaves to us: `iat` in the future, ECDSA's second (high-S) signature form, and
 * RSA keys under 2048 bits in the trust configuration.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { createIdentityResolver, IdentityConfig } from '../../src/identity';
import { CURVE_ORDER, isHighS, toLowS } from '../../src/identity/ecdsa';
import { makeKey, now, signAs, TestKey, tmpDir, writeJwks } from './helpers';

const ISS = 'https://idp.example.com';
let idp: TestKey;
let jwks: string;

beforeAll(async () => {
  idp = await makeKey('ES256', 'k1');
  jwks = writeJwks(tmpDir(), 'idp', [idp]);
});

const config = (extra: Partial<IdentityConfig> = {}): IdentityConfig => ({
  issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256', 'ES384', 'ES512', 'RS256'], jwks_file: jwks, use_for: ['user'] }],
  clock_skew_seconds: 30,
  ...extra,
});

describe('iat', () => {
  it('in the future beyond the clock skew is not_yet_valid; within the skew it is accepted', async () => {
    const r = createIdentityResolver(config());
    const future = await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u', iat: now() + 120, exp: now() + 600 });
    expect((await r.resolve({ user: { token: future } })).deny).toMatchObject({ reason: 'not_yet_valid', message: expect.stringContaining('iat') });
    const skewed = await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u', iat: now() + 10, exp: now() + 600 });
    expect((await r.resolve({ user: { token: skewed } })).deny).toBeUndefined();
  });
});

describe('ECDSA high-S signatures', () => {
  it.each(['ES256', 'ES384', 'ES512'] as const)('%s: both forms verify; require_low_s refuses the high one', async (alg) => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const dir = tmpDir();
    const file = path.join(dir, 'k.jwks.json');
    fs.writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'e', alg }] }));
    const token = await new SignJWT({ iss: ISS, aud: 'pdp', sub: 'u', exp: now() + 600 }).setProtectedHeader({ alg, kid: 'e' }).sign(privateKey);
    const low = toLowS(alg, token);
    // the other form: same r, s' = n − s (what anyone holding the token can compute without the key)
    const [h, p, sig] = low.split('.');
    const bytes = Buffer.from(sig, 'base64url');
    const half = bytes.length / 2;
    const sHigh = (CURVE_ORDER[alg] - BigInt('0x' + bytes.subarray(half).toString('hex'))).toString(16).padStart(half * 2, '0');
    const high = `${h}.${p}.${Buffer.concat([bytes.subarray(0, half), Buffer.from(sHigh, 'hex')]).toString('base64url')}`;
    expect(isHighS(alg, low.split('.')[2])).toBe(false);
    expect(isHighS(alg, high.split('.')[2])).toBe(true);
    // both are valid signatures of the same header and payload, checked by node itself (which also
    // proves CURVE_ORDER right: with a wrong n the flipped signature would not verify)
    const hash = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[alg];
    for (const t of [low, high]) {
      const [th, tp, ts] = t.split('.');
      expect(crypto.verify(hash, Buffer.from(`${th}.${tp}`), { key: publicKey as crypto.KeyObject, dsaEncoding: 'ieee-p1363' }, Buffer.from(ts, 'base64url'))).toBe(true);
    }
    const issuers = [{ issuer: ISS, audiences: ['pdp'], algorithms: [alg], jwks_file: file, use_for: ['user' as const] }];
    const lenient = createIdentityResolver({ issuers });
    expect((await lenient.resolve({ user: { token: high } })).deny).toBeUndefined();
    const strict = createIdentityResolver({ issuers, require_low_s: true });
    expect((await strict.resolve({ user: { token: low } })).deny).toBeUndefined();
    expect((await strict.resolve({ user: { token: high } })).deny).toMatchObject({ reason: 'malformed', message: expect.stringContaining('low-S') });
  });
});

describe('RSA keys under 2048 bits', () => {
  const weak = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  const strong = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  const rsaIssuer = (src: Record<string, string>) => ({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['RS256' as const], use_for: ['user' as const], ...src }] });

  it('in a jwks_file are refused at start, naming the issuer, the file and the kid', () => {
    const file = path.join(tmpDir(), 'weak.jwks.json');
    fs.writeFileSync(file, JSON.stringify({ keys: [{ ...strong.export({ format: 'jwk' }), kid: 'good' }, { ...weak.export({ format: 'jwk' }), kid: 'old-1024' }] }));
    expect(() => createIdentityResolver(rsaIssuer({ jwks_file: file }))).toThrow(
      new RegExp(`idp\\.example\\.com: jwks_file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} kid "old-1024" is a 1024-bit RSA key; at least 2048`),
    );
  });

  it('as public_key_pem (text or file) are refused at start; 2048 bits are accepted', async () => {
    const pem = weak.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => createIdentityResolver(rsaIssuer({ public_key_pem: pem }))).toThrow(/public_key_pem is a 1024-bit RSA key/);
    const file = path.join(tmpDir(), 'weak.pem');
    fs.writeFileSync(file, pem);
    expect(() => createIdentityResolver(rsaIssuer({ public_key_pem: file }))).toThrow(new RegExp(`public_key_pem ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a 1024-bit`));
    const strongPem = await exportSPKI(strong);
    expect(() => createIdentityResolver(rsaIssuer({ public_key_pem: strongPem }))).not.toThrow();
  });
});
