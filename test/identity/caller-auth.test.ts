/** Caller (PEP) authentication: none (loopback only), API keys, JWT client credentials, mutual TLS. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { createCallerAuth, hashApiKey, isLoopbackAddress, tlsServerOptions } from '../../src/server/caller-auth';
import type { CallerAuth } from '../../src/server/types';
import { makeKey, now, sign, TestKey, tmpDir, writeJwks } from './helpers';

/** A fake request carrying only headers (and a plain socket) for the header-based modes. */
function fakeReq(headers: Record<string, string>): http.IncomingMessage {
  return { headers, socket: {} } as unknown as http.IncomingMessage;
}

describe('mode none', () => {
  test('is refused at construction unless listening on loopback', () => {
    expect(() => createCallerAuth({ mode: 'none' }, { address: '0.0.0.0', tls: false }, () => {})).toThrow(/loopback/);
    expect(() => createCallerAuth({ mode: 'none' }, { address: '10.0.0.5', tls: false }, () => {})).toThrow(/loopback/);
    expect(() => createCallerAuth(undefined, { address: '::', tls: false }, () => {})).toThrow(/loopback/);
  });
  test('on loopback it warns once and lets callers in as anonymous', async () => {
    const warnings: string[] = [];
    const auth = createCallerAuth({ mode: 'none' }, { address: '127.0.0.1', tls: false }, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/warning/);
    expect(await auth.authenticate(fakeReq({}))).toEqual({ ok: true, caller: { method: 'anonymous', id: 'anonymous' } });
  });
  test('loopback detection', () => {
    for (const a of ['127.0.0.1', '::1', 'localhost', '[::1]', '127.1.2.3', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com']) expect(isLoopbackAddress(a)).toBe(false);
  });
});

describe('mode api_key', () => {
  const key = 'pdpk_3f9a2c7d1e8b4a60c5d2e9f1a7b3c8d4';
  let auth: CallerAuth;
  beforeAll(() => {
    auth = createCallerAuth({ mode: 'api_key', api_keys: [{ id: 'other', hash: hashApiKey('x') }, { id: 'gateway-1', hash: hashApiKey(key) }] }, { address: '0.0.0.0', tls: false });
  });
  test('Authorization: Bearer <key>', async () => {
    expect(await auth.authenticate(fakeReq({ authorization: `Bearer ${key}` }))).toEqual({ ok: true, caller: { method: 'api_key', id: 'gateway-1' } });
  });
  test('the bare key, as AuthZEN interop clients send it', async () => {
    expect(await auth.authenticate(fakeReq({ authorization: key }))).toMatchObject({ ok: true, caller: { id: 'gateway-1' } });
  });
  test('a wrong key is 401 with an invalid_token challenge', async () => {
    const r = await auth.authenticate(fakeReq({ authorization: 'Bearer nope' }));
    expect(r).toMatchObject({ ok: false, status: 401 });
    if (!r.ok) expect(r.wwwAuthenticate).toMatch(/^Bearer realm="pdp", error="invalid_token"/);
  });
  test('no credentials is 401 with a plain challenge', async () => {
    const r = await auth.authenticate(fakeReq({}));
    expect(r).toEqual({ ok: false, status: 401, wwwAuthenticate: 'Bearer realm="pdp"', message: 'authentication required' });
  });
  test('config keeps only hashes; a plaintext key is refused', () => {
    expect(() => createCallerAuth({ mode: 'api_key', api_keys: [{ id: 'gw', hash: key }] }, { address: '0.0.0.0', tls: false })).toThrow(/hash/);
    expect(() => createCallerAuth({ mode: 'api_key' }, { address: '0.0.0.0', tls: false })).toThrow(/api_keys/);
  });
});

describe('mode jwt (client credentials)', () => {
  let idp: TestKey;
  let auth: CallerAuth;
  const ISS = 'https://auth.example.com';
  beforeAll(async () => {
    idp = await makeKey('ES256', 'c1');
    auth = createCallerAuth(
      { mode: 'jwt', jwt: { issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(tmpDir(), 'cc', [idp]) }] } },
      { address: '0.0.0.0', tls: false },
    );
  });
  test('a valid client-credentials token authenticates the client', async () => {
    const t = await sign(idp, { iss: ISS, aud: 'pdp', sub: 'svc-gw', client_id: 'mcp-gateway', exp: now() + 60 });
    const r = await auth.authenticate(fakeReq({ authorization: `Bearer ${t}` }));
    expect(r).toMatchObject({ ok: true, caller: { method: 'jwt', id: 'mcp-gateway' } });
  });
  test('an expired or foreign token is 401', async () => {
    const expired = await sign(idp, { iss: ISS, aud: 'pdp', sub: 's', exp: now() - 300 });
    const r1 = await auth.authenticate(fakeReq({ authorization: `Bearer ${expired}` }));
    expect(r1).toMatchObject({ ok: false, status: 401 });
    if (!r1.ok) expect(r1.message).toMatch(/expired/);
    const foreign = await sign(idp, { iss: 'https://evil', aud: 'pdp', sub: 's', exp: now() + 60 });
    expect(await auth.authenticate(fakeReq({ authorization: `Bearer ${foreign}` }))).toMatchObject({ ok: false, status: 401 });
  });
  test('an issuer marked use_for without caller cannot authenticate callers', async () => {
    const a = createCallerAuth(
      { mode: 'jwt', jwt: { issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], use_for: ['user'], jwks_file: writeJwks(tmpDir(), 'cc', [idp]) }] } },
      { address: '0.0.0.0', tls: false },
    );
    const t = await sign(idp, { iss: ISS, aud: 'pdp', sub: 's', exp: now() + 60 });
    expect(await a.authenticate(fakeReq({ authorization: `Bearer ${t}` }))).toMatchObject({ ok: false, status: 401 });
  });
});

describe('mode mtls', () => {
  let dir: string;
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  function cert(name: string, cn: string, signer: 'ca' | 'self', ext?: string) {
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
    if (signer === 'self') {
      openssl('req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '2', '-out', `${name}.crt`);
      return;
    }
    openssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    const extArgs = ext ? ['-extfile', ext] : [];
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, ...extArgs);
  }
  const read = (f: string) => fs.readFileSync(path.join(dir, f));

  let server: https.Server;
  let port = 0;
  beforeAll(async () => {
    dir = tmpDir();
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
    openssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=Test CA', '-days', '2', '-out', 'ca.crt');
    fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    cert('server', 'localhost', 'ca', 'server.ext');
    cert('client', 'gateway-1', 'ca');
    cert('intruder', 'gateway-1', 'self');
    cert('other', 'other-client', 'ca');

    const auth = createCallerAuth({ mode: 'mtls', mtls: { allowed_subjects: ['gateway-1'] } }, { address: '0.0.0.0', tls: true });
    // requestCert without rejectUnauthorized so the 401 path (not the handshake) is exercised too.
    server = https.createServer({ key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: false }, async (req, res) => {
      const r = await auth.authenticate(req);
      res.statusCode = r.ok ? 200 : r.status;
      if (!r.ok) res.setHeader('WWW-Authenticate', r.wwwAuthenticate);
      res.end(JSON.stringify(r));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  function call(client?: string): Promise<{ status: number; body: any; www?: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path: '/', method: 'GET', ca: read('ca.crt'), ...(client ? { key: read(`${client}.key`), cert: read(`${client}.crt`) } : {}), agent: false },
        (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(data), www: res.headers['www-authenticate'] as string | undefined }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('a client certificate signed by the client CA authenticates, with certificate facts', async () => {
    const r = await call('client');
    expect(r.status).toBe(200);
    expect(r.body.caller).toMatchObject({ method: 'mtls', id: 'gateway-1' });
    expect(r.body.caller.certificate.fingerprint256).toMatch(/^[0-9A-F:]+$/);
  });
  test('no certificate is 401', async () => {
    const r = await call();
    expect(r.status).toBe(401);
    expect(r.www).toBe('MutualTLS realm="pdp"');
  });
  test('a self-signed certificate with the same CN is 401', async () => {
    const r = await call('intruder');
    expect(r.status).toBe(401);
    expect(r.body.message).toMatch(/rejected/);
  });
  test('a CA-signed certificate outside allowed_subjects is 401', async () => {
    const r = await call('other');
    expect(r.status).toBe(401);
    expect(r.body.message).toMatch(/not allowed/);
  });
  test('require_client_cert: the handshake itself refuses a client without a trusted certificate', async () => {
    const strict = https.createServer(tlsServerOptions({ cert_file: 'server.crt', key_file: 'server.key', client_ca_file: 'ca.crt' }, dir), (_q, s) => s.end('{}'));
    await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
    const p = (strict.address() as AddressInfo).port;
    const get = (client?: string) =>
      new Promise<number>((resolve, reject) => {
        const q = https.request({ host: '127.0.0.1', port: p, ca: read('ca.crt'), agent: false, ...(client ? { key: read(`${client}.key`), cert: read(`${client}.crt`) } : {}) }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        q.on('error', reject);
        q.end();
      });
    try {
      expect(await get('client')).toBe(200);
      await expect(get('intruder')).rejects.toThrow();
      await expect(get()).rejects.toThrow();
    } finally {
      await new Promise<void>((r) => strict.close(() => r()));
    }
  });
  test('tls config errors name the file', () => {
    expect(() => tlsServerOptions({ cert_file: 'missing.crt', key_file: 'server.key' }, dir)).toThrow(/server\.tls\.cert_file/);
  });
  test('mtls without TLS listening is refused at construction', () => {
    expect(() => createCallerAuth({ mode: 'mtls' }, { address: '0.0.0.0', tls: false })).toThrow(/TLS/);
  });
});

describe('combined modes', () => {
  test('api_key or jwt: either is accepted', async () => {
    const idp = await makeKey('ES256', 'c1');
    const auth = createCallerAuth(
      {
        mode: ['api_key', 'jwt'],
        api_keys: [{ id: 'gw', hash: hashApiKey('k-123') }],
        jwt: { issuers: [{ issuer: 'https://a', audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(tmpDir(), 'a', [idp]) }] },
      },
      { address: '0.0.0.0', tls: false },
    );
    expect(await auth.authenticate(fakeReq({ authorization: 'k-123' }))).toMatchObject({ ok: true, caller: { method: 'api_key' } });
    const t = await sign(idp, { iss: 'https://a', aud: 'pdp', sub: 'svc', exp: now() + 60 });
    expect(await auth.authenticate(fakeReq({ authorization: `Bearer ${t}` }))).toMatchObject({ ok: true, caller: { method: 'jwt', id: 'svc' } });
  });
});
