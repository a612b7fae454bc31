/**
 * Config sections that reach other modules: identity key files relative to the config file, and the
 * AuthZEN entrypoint (`--authzen-entrypoint` / `authzen.entrypoint`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import { createPdpServer, type PdpServer } from '../../src/server/server';
import { loadConfig, ConfigError, type ConfigOverrides } from '../../src/server/config';
import { parseServeArgs } from '../../src/cli/commands/serve';
import { makeKey, signAs, now, type TestKey } from '../identity/helpers';
import { post, tmpDir } from './helpers';

let dir: string;
let idp: TestKey;
const ISS = 'https://idp.test';

beforeAll(async () => {
  dir = tmpDir();
  idp = await makeKey('ES256', 'k1');
  fs.mkdirSync(path.join(dir, 'keys'));
  fs.writeFileSync(path.join(dir, 'keys', 'idp.jwks.json'), JSON.stringify({ keys: [idp.publicJwk] }));
  fs.writeFileSync(path.join(dir, 'mcp.tar.gz'), await decisionBundle('r1', {
    // a second entrypoint with its own answer, to see which one AuthZEN evaluated
    'mcp/authz/authzen': ['[{"result":{"allow":false,"reasons":[{"code":"authzen.entrypoint"}],"obligations":{}}}]'],
  }));
});

async function start(yaml: string, over: ConfigOverrides = {}): Promise<PdpServer> {
  const file = path.join(dir, 'pdp.yaml');
  fs.writeFileSync(file, yaml);
  const cfg = loadConfig({ configFile: file, port: 0, workers: 1, ...over }, {});
  const pdp = createPdpServer(cfg, { log: () => undefined, watch: false, defaultMetrics: false });
  await pdp.bundles.start(cfg.bundles);
  await pdp.listen();
  return pdp;
}

function readLog(): any[] {
  return fs.readFileSync(path.join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('identity key files are relative to the config file', () => {
  test('jwks_file: keys/idp.jwks.json verifies tokens although the cwd is elsewhere', async () => {
    expect(process.cwd()).not.toBe(dir);
    const pdp = await start(`
bundles: [{ name: mcp, source: mcp.tar.gz }]
decision_logs: { output: decisions.jsonl }
identity:
  issuers: [{ issuer: '${ISS}', audiences: [pdp], jwks_file: keys/idp.jwks.json, algorithms: [ES256] }]
`);
    try {
      const good = await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u-42', exp: now() + 60 });
      const ok = await post(pdp.url(), '/v1/decide', { user: { token: good }, tool: { name: 't' } }, { 'x-request-id': 'good' });
      expect(ok.status).toBe(200);
      expect(ok.json.allow).toBe(true);
      const bad = await signAs(idp, 'user', { iss: ISS, aud: 'someone-else', sub: 'u-42', exp: now() + 60 });
      const no = await post(pdp.url(), '/v1/decide', { user: { token: bad }, tool: { name: 't' } });
      expect(no.json.allow).toBe(false);
      expect(no.json.reasons[0]).toMatchObject({ code: 'identity.invalid_token', token: 'user' });
    } finally {
      await pdp.close();
    }
    const ev = readLog().find((e) => e.request_id === 'good');
    expect(ev.input.user).toMatchObject({ id: 'u-42', verified: true, assurance: 'verified' });
  });

  test('a jwks_file missing next to the config file stops the start with its path', async () => {
    await expect(start(`
bundles: [{ source: mcp.tar.gz }]
identity:
  issuers: [{ issuer: '${ISS}', audiences: [pdp], jwks_file: keys/nope.jwks.json, algorithms: [ES256] }]
`)).rejects.toThrow(new RegExp(path.join(dir, 'keys', 'nope.jwks.json').replace(/[/.]/g, '\\$&')));
  });
});

describe('AuthZEN entrypoint', () => {
  const ev = { subject: { type: 'user', id: 'u' }, resource: { type: 'tool', id: 'billing/refunds.create' }, action: { name: 'call' } };

  test('default: the decision entrypoint answers AuthZEN', async () => {
    const pdp = await start('bundles: [{ name: mcp, source: mcp.tar.gz }]\ndecision_logs: { output: "off" }\n');
    try {
      const r = await post(pdp.url(), '/access/v1/evaluation', ev);
      expect(r.json.decision).toBe(true);
      expect(r.json.context.obligations).toEqual({ data: { rev: 'r1' } });
    } finally {
      await pdp.close();
    }
  });

  test('--authzen-entrypoint data.mcp.authz.authzen: AuthZEN evaluates it, /v1/decide does not', async () => {
    const over = parseServeArgs(['--authzen-entrypoint', 'data.mcp.authz.authzen']);
    if (typeof over === 'string') throw new Error(over);
    expect(over.authzenEntrypoint).toBe('mcp/authz/authzen');
    const pdp = await start('bundles: [{ name: mcp, source: mcp.tar.gz }]\ndecision_logs: { output: "off" }\n', { authzenEntrypoint: over.authzenEntrypoint });
    try {
      const r = await post(pdp.url(), '/access/v1/evaluation', ev);
      expect(r.status).toBe(200);
      expect(r.json.decision).toBe(false);
      expect(r.json.context.reasons).toEqual([expect.objectContaining({ code: 'authzen.entrypoint' })]);
      const d = await post(pdp.url(), '/v1/decide', { tool: { name: 't' } });
      expect(d.json.allow).toBe(true);
      expect(d.json.policy.entrypoint).toBe('mcp/authz/decision');
    } finally {
      await pdp.close();
    }
  });

  test('authzen.entrypoint in the config file does the same', async () => {
    const pdp = await start('bundles: [{ name: mcp, source: mcp.tar.gz }]\ndecision_logs: { output: "off" }\nauthzen: { entrypoint: mcp/authz/authzen }\n');
    try {
      expect((await post(pdp.url(), '/access/v1/evaluation', ev)).json.decision).toBe(false);
    } finally {
      await pdp.close();
    }
  });

  test('an AuthZEN entrypoint no bundle serves: a deny, never an allow', async () => {
    const pdp = await start('bundles: [{ name: mcp, source: mcp.tar.gz }]\ndecision_logs: { output: "off" }\nauthzen: { entrypoint: nothing/here }\n');
    try {
      const r = await post(pdp.url(), '/access/v1/evaluation', ev);
      expect(r.json.decision).toBe(false);
    } finally {
      await pdp.close();
    }
  });

  test('bad values are refused', () => {
    expect(parseServeArgs(['--authzen-entrypoint'])).toMatch(/missing value for --authzen-entrypoint/);
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'authzen: { entrypoint: "a b" }\n');
    expect(() => loadConfig({ configFile: file }, {})).toThrow(ConfigError);
  });
});
