/**
 * `server.tls` through the real server: HTTPS listening from a config file whose TLS paths are
 * relative to it, and mTLS caller authentication end to end (certificates made with openssl here).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as https from 'https';
import { execFileSync } from 'child_process';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import { createPdpServer, type PdpServer } from '../../src/server/server';
import { loadConfig, ConfigError } from '../../src/server/config';
import { tmpDir } from './helpers';

let dir: string;
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const read = (f: string) => fs.readFileSync(path.join(dir, f));

/** A key and a certificate signed by `ca` (or self-signed), in dir/<name>.key|crt. */
function cert(name: string, cn: string, ca: string | null, ext?: string): void {
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  if (!ca) {
    openssl('req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '2', '-out', `${name}.crt`);
    return;
  }
  openssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, ...(ext ? ['-extfile', ext] : []));
}

interface Answer { status: number; json: any; headers: Record<string, unknown> }

/** POST over HTTPS trusting our CA, optionally presenting a client certificate. */
function httpsPost(url: string, p: string, body: unknown, client?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = https.request(url + p, {
      method: 'POST',
      ca: read('ca.crt'),
      ...(client ? { cert: read(`${client}.crt`), key: read(`${client}.key`) } : {}),
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown = text;
        try { json = JSON.parse(text); } catch { /* keep text */ }
        resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const decide = { tool: { server: 'billing', name: 'refunds.create' } };

beforeAll(async () => {
  dir = tmpDir();
  for (const ca of ['ca', 'rogue-ca']) {
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${ca}.key`);
    openssl('req', '-x509', '-new', '-key', `${ca}.key`, '-subj', `/CN=${ca}`, '-days', '2', '-out', `${ca}.crt`);
  }
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  cert('server', 'localhost', 'ca', 'server.ext');
  cert('gateway', 'mcp-gateway', 'ca');
  cert('other', 'someone-else', 'ca');
  cert('intruder', 'mcp-gateway', 'rogue-ca');
  fs.mkdirSync(path.join(dir, 'tls'));
  for (const f of ['server.crt', 'server.key', 'ca.crt']) fs.copyFileSync(path.join(dir, f), path.join(dir, 'tls', f));
  fs.writeFileSync(path.join(dir, 'mcp.tar.gz'), await decisionBundle('r1'));
});

/** Write pdp.yaml in dir (relative paths) and start the server from it, as `pdp serve --config` does. */
async function startFromConfig(yaml: string): Promise<PdpServer> {
  const file = path.join(dir, 'pdp.yaml');
  fs.writeFileSync(file, yaml);
  const cfg = loadConfig({ configFile: file, port: 0, workers: 1 }, {});
  const pdp = createPdpServer(cfg, { log: () => undefined, watch: false, defaultMetrics: false });
  await pdp.bundles.start(cfg.bundles);
  await pdp.listen();
  return pdp;
}

describe('server.tls with mTLS caller authentication', () => {
  let pdp: PdpServer;
  const logFile = () => path.join(dir, 'decisions.jsonl');

  beforeAll(async () => {
    pdp = await startFromConfig(`
server:
  addr: 127.0.0.1
  tls: { cert_file: tls/server.crt, key_file: tls/server.key, client_ca_file: tls/ca.crt, require_client_cert: false }
bundles: [{ name: mcp, source: mcp.tar.gz }]
decision_logs: { output: decisions.jsonl }
authentication:
  mode: mtls
  mtls: { allowed_subjects: [mcp-gateway] }
`);
  });
  afterAll(() => pdp?.close());

  test('listens with HTTPS (relative paths resolved against the config file)', () => {
    expect(pdp.url()).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(pdp.config.server.tls!.cert_file).toBe(path.join(dir, 'tls', 'server.crt'));
  });

  test('a certificate from the CA with an allowed subject is the caller', async () => {
    const r = await httpsPost(pdp.url(), '/v1/decide', decide, 'gateway', { 'x-request-id': 'mtls-1' });
    expect(r.status).toBe(200);
    expect(r.json.allow).toBe(true);
  });

  test('no certificate: 401 with a MutualTLS challenge', async () => {
    const r = await httpsPost(pdp.url(), '/v1/decide', decide);
    expect(r.status).toBe(401);
    expect(String(r.headers['www-authenticate'])).toMatch(/^MutualTLS realm="pdp"/);
    expect(r.json.error.code).toBe('unauthorized');
  });

  test('a certificate from another CA: 401, even with the allowed CN', async () => {
    const r = await httpsPost(pdp.url(), '/v1/decide', decide, 'intruder');
    expect(r.status).toBe(401);
    expect(r.json.error.message).toMatch(/client certificate rejected/);
  });

  test('a certificate from the CA with a subject not allowed: 401 naming it', async () => {
    const r = await httpsPost(pdp.url(), '/v1/decide', decide, 'other');
    expect(r.status).toBe(401);
    expect(r.json.error.message).toMatch(/someone-else is not allowed/);
  });

  test('AuthZEN goes through the same mTLS check', async () => {
    const ev = { subject: { type: 'user', id: 'u' }, resource: { type: 'tool', id: 'billing/refunds.create' }, action: { name: 'call' } };
    expect((await httpsPost(pdp.url(), '/access/v1/evaluation', ev)).status).toBe(401);
    const ok = await httpsPost(pdp.url(), '/access/v1/evaluation', ev, 'gateway');
    expect(ok.status).toBe(200);
    expect(ok.json.decision).toBe(true);
  });

  test('the decision log names the certificate as the caller', async () => {
    await pdp.close();
    const lines = fs.readFileSync(logFile(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const ev = lines.find((l) => l.request_id === 'mtls-1');
    expect(ev).toBeDefined();
    expect(ev.caller).toMatchObject({ method: 'mtls', id: 'mcp-gateway' });
  });
});

describe('server.tls refusals', () => {
  test('require_client_cert (the default with a CA) refuses the handshake without a certificate', async () => {
    const pdp = await startFromConfig(`
server: { tls: { cert_file: tls/server.crt, key_file: tls/server.key, client_ca_file: tls/ca.crt } }
bundles: [{ source: mcp.tar.gz }]
decision_logs: { output: 'off' }
authentication: { mode: mtls }
`);
    try {
      await expect(httpsPost(pdp.url(), '/v1/decide', decide)).rejects.toThrow();
      const r = await httpsPost(pdp.url(), '/v1/decide', decide, 'gateway');
      expect(r.status).toBe(200);
    } finally {
      await pdp.close();
    }
  });

  test('mode mtls without client_ca_file is refused at start', async () => {
    await expect(startFromConfig(`
server: { tls: { cert_file: tls/server.crt, key_file: tls/server.key } }
bundles: [{ source: mcp.tar.gz }]
authentication: { mode: mtls }
`)).rejects.toThrow(/mtls.*needs the server to listen with TLS/);
  });

  test('an unreadable TLS file names the key and the path', async () => {
    await expect(startFromConfig(`
server: { tls: { cert_file: tls/missing.crt, key_file: tls/server.key } }
bundles: [{ source: mcp.tar.gz }]
`)).rejects.toThrow(/server\.tls\.cert_file: cannot read .*missing\.crt/);
  });

  test('server.tls without key_file is a config error', () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'server: { tls: { cert_file: a.crt } }\n');
    expect(() => loadConfig({ configFile: file }, {})).toThrow(ConfigError);
    expect(() => loadConfig({ configFile: file }, {})).toThrow(/\/server\/tls: must have required property 'key_file'/);
  });
});
