/**
 * Every token failure mode is a deny with code identity.invalid_token and a stable reason, in every slot.
 */
import * as http from 'http';
import { SignJWT } from 'jose';
import { createIdentityResolver, IdentityConfig, TokenVerifier } from '../../src/identity';
import { alterSignature, b64url, makeKey, now, sign as signRaw, tamperPayload, TestKey, tmpDir, writeJwks } from './helpers';

// the tokens of this file are user tokens unless a test says otherwise: typed as such, since the main
// issuer signs several kinds (docs/identity.md, "Token kinds")
const sign = (key: TestKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}) => signRaw(key, claims, { typ: 'user+jwt', ...header });

const ISS = 'https://idp.example.com';
let idp: TestKey;
let idp2: TestKey; // second key of the same issuer (rotation)
let rogue: TestKey; // same kid as idp, not published
let rsaIdp: TestKey;
let config: IdentityConfig;
let dir: string;

beforeAll(async () => {
  idp = await makeKey('ES256', 'k1');
  idp2 = await makeKey('ES256', 'k2');
  rogue = await makeKey('ES256', 'k1');
  rsaIdp = await makeKey('RS256', 'rsa1');
  dir = tmpDir();
  config = {
    issuers: [
      { issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(dir, 'idp', [idp, idp2]), use_for: ['user', 'agent', 'task', 'txn'] },
      { issuer: 'https://rsa.example.com', audiences: ['pdp'], algorithms: ['RS256'], public_key_pem: rsaIdp.publicPem, use_for: ['user'] },
      { issuer: 'https://agents-only.example.com', audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(dir, 'agents', [idp]), use_for: ['agent'] },
    ],
    clock_skew_seconds: 30,
  };
});

const base = () => ({ iss: ISS, aud: 'pdp', sub: 'u-42', iat: now(), exp: now() + 600 });

async function userDeny(token: string) {
  const r = createIdentityResolver(config);
  const { input, deny } = await r.resolve({ user: { token }, tool: { name: 't' } }, {});
  return { input, deny };
}

describe('valid tokens', () => {
  test('an ES256 user token from a JWKS file verifies; claims are exposed, the token is not', async () => {
    const { input, deny } = await userDeny(await sign(idp, { ...base(), email: 'a@x' }));
    expect(deny).toBeUndefined();
    const user = input.user as Record<string, unknown>;
    expect(user).toMatchObject({ id: 'u-42', verified: true, assurance: 'verified' });
    expect((user.claims as Record<string, unknown>).email).toBe('a@x');
    expect(JSON.stringify(input)).not.toContain('eyJ');
  });
  test('a second key of the issuer (rotation) verifies by kid', async () => {
    expect((await userDeny(await sign(idp2, base()))).deny).toBeUndefined();
  });
  test('an RS256 token verifies against public_key_pem', async () => {
    expect((await userDeny(await sign(rsaIdp, { ...base(), iss: 'https://rsa.example.com' }))).deny).toBeUndefined();
  });
  test('expiry within the clock skew is accepted', async () => {
    expect((await userDeny(await sign(idp, { ...base(), exp: now() - 10 }))).deny).toBeUndefined();
  });
});

describe('each failure mode is a deny with a stable reason', () => {
  const cases: [string, () => Promise<string>, string][] = [
    ['expired', () => sign(idp, { ...base(), exp: now() - 120 }), 'expired'],
    ['not yet valid (nbf)', () => sign(idp, { ...base(), nbf: now() + 600 }), 'not_yet_valid'],
    ['tampered payload', async () => tamperPayload(await sign(idp, base()), { sub: 'admin' }), 'bad_signature'],
    ['altered signature', async () => alterSignature(await sign(idp, base())), 'bad_signature'],
    ['signed by an unpublished key with a known kid', () => sign(rogue, base()), 'bad_signature'],
    ['untrusted issuer', () => sign(idp, { ...base(), iss: 'https://evil.example.com' }), 'untrusted_issuer'],
    ['wrong audience', () => sign(idp, { ...base(), aud: 'other-service' }), 'wrong_audience'],
    ['unknown kid', () => sign(idp, base(), { kid: 'nope' }), 'unknown_kid'],
    ['alg none', async () => `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(base()))}.`, 'algorithm_not_allowed'],
    [
      'HMAC signed with the public key as secret (key confusion)',
      () => new SignJWT(base()).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(JSON.stringify(idp.publicJwk))),
      'algorithm_not_allowed',
    ],
    ['RS256 token from an ES256-only issuer', () => sign(rsaIdp, base(), { kid: 'k1' }), 'algorithm_not_allowed'],
    ['issuer not allowed for user tokens (use_for)', () => sign(idp, { ...base(), iss: 'https://agents-only.example.com' }), 'issuer_not_allowed_for_kind'],
    ['no exp', async () => sign(idp, { iss: ISS, aud: 'pdp', sub: 'u-42' }), 'missing_claim'],
    ['a Txn-Token presented as a user token', () => sign(idp, { ...base(), txn: 't1' }, { typ: 'txntoken+jwt' }), 'wrong_kind'],
    ['garbage', async () => 'not-a-jwt', 'malformed'],
    ['bad base64 header', async () => '!!!.e30.sig', 'malformed'],
  ];
  test.each(cases)('%s', async (_name, make, reason) => {
    const { input, deny } = await userDeny(await make());
    expect(deny).toMatchObject({ code: 'identity.invalid_token', token: 'user', reason });
    expect(deny!.message).toContain('user token rejected');
    const user = input.user as Record<string, unknown>;
    expect(user).toMatchObject({ verified: false, assurance: 'invalid', claims: {} });
  });

  test('no issuers configured: any token is untrusted', async () => {
    const r = createIdentityResolver({});
    const { deny } = await r.resolve({ user: { token: await sign(idp, base()) } });
    expect(deny).toMatchObject({ reason: 'untrusted_issuer' });
  });

  test('an agent token is checked in the agent slot (use_for: an agent-only issuer signs agents)', async () => {
    const r = createIdentityResolver(config);
    const ok = await r.resolve({ agent: { token: await signRaw(idp, { ...base(), iss: 'https://agents-only.example.com', sub: 'bot' }) } });
    expect(ok.deny).toBeUndefined();
    expect(ok.input.agent).toMatchObject({ id: 'bot', assurance: 'verified' });
    const bad = await r.resolve({ agent: { token: await sign(idp, { ...base(), sub: 'bot', exp: now() - 100 }, { typ: 'agent+jwt' }) } });
    expect(bad.deny).toMatchObject({ token: 'agent', reason: 'expired' });
  });
});

describe('configuration is refused when unsafe', () => {
  test('HS256 in algorithms', () => {
    expect(() => createIdentityResolver({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['HS256' as never], jwks_file: 'x', use_for: ['user'] }] })).toThrow(/algorithms/);
  });
  test('none in algorithms', () => {
    expect(() => createIdentityResolver({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['none' as never], jwks_file: 'x', use_for: ['user'] }] })).toThrow(/algorithms/);
  });
  test('a private key in a JWKS file', async () => {
    const fs = await import('fs');
    const file = `${dir}/private.jwks.json`;
    fs.writeFileSync(file, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret' }] }));
    expect(() => createIdentityResolver({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: file, use_for: ['user'] }] })).toThrow(/private or symmetric/);
  });
  test('two key sources', () => {
    expect(() => createIdentityResolver({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: 'a', jwks_uri: 'https://x', use_for: ['user'] }] })).toThrow();
  });
  test('a missing jwks_file names the issuer', () => {
    expect(() => createIdentityResolver({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: '/nonexistent/x.json', use_for: ['user'] }] })).toThrow(/idp\.example\.com.*cannot read/);
  });
});

describe('remote JWKS (jose cached key set)', () => {
  let server: http.Server;
  let hits = 0;
  let url = '';
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [idp.publicJwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('verifies, caches the key set, and does not refetch for every unknown kid (cooldown)', async () => {
    const v = new TokenVerifier({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_uri: url, use_for: ['user'] }] });
    expect((await v.verify(await sign(idp, base()), 'user')).ok).toBe(true);
    expect((await v.verify(await sign(idp, base()), 'user')).ok).toBe(true);
    expect(hits).toBe(1);
    const unknown = await v.verify(await sign(idp, base(), { kid: 'rotated-away' }), 'user');
    expect(unknown).toMatchObject({ ok: false, reason: 'unknown_kid' });
    await v.verify(await sign(idp, base(), { kid: 'rotated-away-2' }), 'user');
    expect(hits).toBe(1); // within the cooldown: no refetch storm
  });

  test('an unreachable JWKS is a refusal (keys_unavailable), never a pass', async () => {
    const v = new TokenVerifier({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_uri: 'http://127.0.0.1:1/jwks', use_for: ['user'] }] });
    const r = await v.verify(await sign(idp, base()), 'user');
    expect(r).toMatchObject({ ok: false, reason: 'keys_unavailable' });
  });
});
