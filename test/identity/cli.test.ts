/** `pdp keys gen` + `pdp token` produce keys and tokens the resolver accepts (the README flow). */
import * as fs from 'fs';
import * as path from 'path';
import { run as keys } from '../../src/cli/commands/keys';
import { run as token } from '../../src/cli/commands/token';
import { createIdentityResolver } from '../../src/identity';
import { createCallerAuth } from '../../src/server/caller-auth';
import { tmpDir } from './helpers';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: any) => ((out += s), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: any) => ((err += s), true));
  try {
    return { code: await fn(), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

test('keys gen, token --sub/--act/--scope, and the resolver verifies them', async () => {
  const dir = tmpDir();
  const g = await capture(() => keys(['gen', '--out', dir, '--name', 'idp', '--kid', 'dev-1']));
  expect(g.code).toBe(0);
  const jwks = JSON.parse(fs.readFileSync(path.join(dir, 'idp.jwks.json'), 'utf8'));
  expect(jwks.keys[0]).toMatchObject({ kid: 'dev-1', alg: 'ES256', kty: 'EC' });
  expect(jwks.keys[0].d).toBeUndefined();
  expect(fs.statSync(path.join(dir, 'idp.private.pem')).mode & 0o077).toBe(0);
  expect((await capture(() => keys(['gen', '--out', dir]))).code).toBe(1); // refuses to overwrite

  const key = path.join(dir, 'idp.private.pem');
  const user = (await capture(() => token(['--key', key, '--sub', 'u-42']))).out.trim();
  const agent = (await capture(() => token(['--key', key, '--kind', 'agent', '--sub', 'u-42', '--act', 'support-bot,planner,orchestrator']))).out.trim();
  const task = (await capture(() => token(['--key', key, '--kind', 'task', '--sub', 'u-42', '--tools', 'billing/refunds.*', '--data-domains', 'billing', '--constraints', '{"max_amount":200}']))).out.trim();
  const txn = (await capture(() => token(['--key', key, '--kind', 'txn', '--sub', 'u-42', '--claim', 'tctx={"amount":5}']))).out.trim();

  const resolver = createIdentityResolver({
    issuers: [{ issuer: 'https://idp.example.com', audiences: ['pdp'], algorithms: ['ES256'], jwks_file: path.join(dir, 'idp.jwks.json'), use_for: ['user', 'agent', 'task', 'txn'] }],
  });
  const { input, deny } = await resolver.resolve({ user: { token: user }, agent: { token: agent }, task: { token: task }, tool: { name: 'x' } }, { 'txn-token': txn });
  expect(deny).toBeUndefined();
  expect(input.user).toMatchObject({ id: 'u-42', assurance: 'verified' });
  expect((input.agent as any).delegation.map((l: any) => l.sub)).toEqual(['support-bot', 'planner', 'orchestrator']);
  expect((input.task as any).scope).toEqual({ tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 200 } });
  expect(input.txn).toMatchObject({ verified: true, tctx: { amount: 5 } });
});

test('keys apikey prints a key whose hash authenticates', async () => {
  const r = await capture(() => keys(['apikey', '--id', 'gw']));
  const key = /pdpk_[A-Za-z0-9_-]+/.exec(r.out)![0];
  const hash = /hash: (sha256:[0-9a-f]{64})/.exec(r.out)![1];
  const auth = createCallerAuth({ mode: 'api_key', api_keys: [{ id: 'gw', hash }] }, { address: '0.0.0.0', tls: false });
  expect(await auth.authenticate({ headers: { authorization: `Bearer ${key}` }, socket: {} } as any)).toMatchObject({ ok: true, caller: { id: 'gw' } });
});

test('token refuses a task without scope and missing arguments', async () => {
  expect((await capture(() => token(['--sub', 'x']))).code).toBe(2);
  const dir = tmpDir();
  await capture(() => keys(['gen', '--out', dir]));
  expect((await capture(() => token(['--key', path.join(dir, 'idp.private.pem'), '--sub', 'u', '--kind', 'task']))).code).toBe(2);
});
