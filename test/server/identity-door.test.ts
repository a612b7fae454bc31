/**
 * One door for identity: every endpoint that evaluates policy for a caller resolves identities the same
 * way before the policy sees anything. A body (or Data API input) that claims `verified: true`,
 * `assurance: "verified"` and made-up claims without a token is denied by the default policy through
 * /v1/decide, /v1/decide/batch, AuthZEN and POST/GET /v1/data alike; the same call with real tokens is
 * allowed; `data_api.raw_input: true` restores OPA's raw Data API.
 */
import * as path from 'path';
import { startWith, post } from './helpers';
import type { PdpServer } from '../../src/server/server';
import { makeKey, now, sign, TestKey, tmpDir, writeJwks } from '../identity/helpers';

const REGO = path.join(__dirname, '..', '..', 'rego');
const ISS = 'https://idp.example.com';
const future = '2099-12-31T23:59:59Z';
const scope = {
  tools: ['billing/refunds.*'],
  data_domains: ['billing'],
  constraints: { max_amount: 200 },
  grants: ['write'],
  expires_at: future,
};
const tool = { server: 'billing', name: 'refunds.create', method: 'tools/call', annotations: {} };
const parameters = { customer_id: 'c-1001', amount: 20, currency: 'EUR' };

/** Everything the PDP computes itself, claimed by the caller without any token. */
const forged = {
  user: { id: 'u-bob', verified: true, assurance: 'verified', issuer: ISS, claims: { sub: 'u-bob', tenant: 'acme', roles: ['billing_specialist'], may_act: { sub: 'nobody' } }, attributes: {} },
  agent: { id: 'billing-bot', verified: true, assurance: 'verified', claims: { sub: 'billing-bot' }, delegation: [], delegation_source: 'agent_token', attributes: {} },
  tool,
  parameters,
  task: { id: 't-7', assurance: 'verified', verified: true, expires_at: future, scope },
  context: { request_id: 'r-1' },
};

let key: TestKey;
let pdp: PdpServer;
let raw: PdpServer;
let valid: Record<string, unknown>;
const rawLog: string[] = [];

async function tokens(): Promise<Record<string, unknown>> {
  const exp = now() + 600;
  const user = await sign(key, { iss: ISS, aud: 'pdp', sub: 'u-bob', exp, tenant: 'acme', roles: ['billing_specialist'], may_act: { sub: 'nobody' } }, { typ: 'user+jwt' });
  const agent = await sign(key, { iss: ISS, aud: 'pdp', sub: 'billing-bot', exp }, { typ: 'agent+jwt' });
  const task = await sign(key, { iss: ISS, aud: 'pdp', sub: 'u-bob', jti: 't-7', exp, scope }, { typ: 'task+jwt' });
  return {
    user: { id: 'u-bob', token: user },
    agent: { id: 'billing-bot', token: agent },
    tool,
    parameters,
    task: { id: 't-7', token: task },
    context: { request_id: 'r-1' },
  };
}

beforeAll(async () => {
  key = await makeKey('ES256', 'k1');
  const identity = { issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(tmpDir(), 'idp', [key]), use_for: ['user', 'agent', 'task', 'txn'] }] };
  // resolver: undefined → the real identity resolver built from `identity`
  pdp = await startWith([REGO], { identity }, { resolver: undefined });
  raw = await startWith([REGO], { identity, data_api: { raw_input: true } }, { resolver: undefined, log: (level, msg) => rawLog.push(`${level} ${msg}`) });
  valid = await tokens();
});
afterAll(async () => {
  await pdp?.close();
  await raw?.close();
});

const getData = async (base: string, input: unknown) => {
  const res = await fetch(`${base}/v1/data/mcp/authz/decision?input=${encodeURIComponent(JSON.stringify(input))}`);
  return { status: res.status, json: (await res.json()) as any };
};
const codes = (reasons: { code: string }[]) => reasons.map((r) => r.code);

describe('forged reserved fields without tokens', () => {
  it('are denied by /v1/decide (the reference)', async () => {
    const r = await post(pdp.url(), '/v1/decide', forged);
    expect(r.status).toBe(200);
    expect(r.json.allow).toBe(false);
    expect(codes(r.json.reasons)).toContain('identity.user_unverified');
  });

  it('are denied through POST /v1/data exactly like /v1/decide', async () => {
    const decide = await post(pdp.url(), '/v1/decide', forged);
    const r = await post(pdp.url(), '/v1/data/mcp/authz/decision', { input: forged });
    expect(r.status).toBe(200);
    expect(r.json.result.allow).toBe(false);
    expect(r.json.result.reasons).toEqual(decide.json.reasons);
  });

  it('are denied through GET /v1/data?input= exactly like /v1/decide', async () => {
    const decide = await post(pdp.url(), '/v1/decide', forged);
    const r = await getData(pdp.url(), forged);
    expect(r.status).toBe(200);
    expect(r.json.result.allow).toBe(false);
    expect(r.json.result.reasons).toEqual(decide.json.reasons);
  });

  it('with a garbage token next to them are an identity deny on every endpoint, never evaluated', async () => {
    const bad = { ...forged, user: { ...forged.user, token: 'garbage' } };
    const deny = { code: 'identity.invalid_token', token: 'user', reason: 'malformed' };
    const viaDecide = await post(pdp.url(), '/v1/decide', bad);
    expect(viaDecide.json.allow).toBe(false);
    expect(viaDecide.json.reasons[0]).toMatchObject(deny);
    for (const r of [await post(pdp.url(), '/v1/data/mcp/authz/decision', { input: bad }), await getData(pdp.url(), bad)]) {
      expect(r.status).toBe(200);
      expect(r.json).not.toHaveProperty('result');
      expect(r.json.allow).toBe(false);
      expect(r.json.reasons[0]).toMatchObject(deny);
    }
  });

  it('are denied by /v1/decide/batch, as items and as defaults', async () => {
    const r = await post(pdp.url(), '/v1/decide/batch', { defaults: { user: forged.user, agent: forged.agent, task: forged.task }, items: [{ tool, parameters }, forged] });
    expect(r.status).toBe(200);
    expect(r.json.results.map((x: any) => x.allow)).toEqual([false, false]);
    for (const x of r.json.results) expect(codes(x.reasons)).toContain('identity.user_unverified');
  });

  it('are denied by AuthZEN (subject properties, context.agent and context.task)', async () => {
    const r = await post(pdp.url(), '/access/v1/evaluation', {
      subject: { type: 'user', id: 'u-bob', properties: { verified: true, assurance: 'verified', claims: forged.user.claims } },
      resource: { type: 'tool', id: 'billing/refunds.create' },
      action: { name: 'tools/call', properties: parameters },
      context: { agent: forged.agent, task: forged.task },
    });
    expect(r.status).toBe(200);
    expect(r.json.decision).toBe(false);
    expect(codes(r.json.context.reasons)).toContain('identity.user_unverified');
  });
});

describe('with valid tokens', () => {
  it('the same call is allowed through /v1/decide, POST and GET /v1/data', async () => {
    const decide = await post(pdp.url(), '/v1/decide', valid);
    expect(decide.json).toMatchObject({ allow: true, reasons: [] });
    const viaPost = await post(pdp.url(), '/v1/data/mcp/authz/decision', { input: valid });
    expect(viaPost.json.result).toEqual({ allow: true, reasons: [], obligations: {} });
    const viaGet = await getData(pdp.url(), valid);
    expect(viaGet.json.result).toEqual({ allow: true, reasons: [], obligations: {} });
  });
});

describe('data_api.raw_input: true (explicit opt-in)', () => {
  it('evaluates the Data API input as sent, as OPA does; /v1/decide still resolves identities', async () => {
    const r = await post(raw.url(), '/v1/data/mcp/authz/decision', { input: forged });
    expect(r.json.result).toEqual({ allow: true, reasons: [], obligations: {} });
    expect((await getData(raw.url(), forged)).json.result.allow).toBe(true);
    expect((await post(raw.url(), '/v1/decide', forged)).json.allow).toBe(false);
  });

  it('is announced with a warning at start', () => {
    expect(rawLog).toContainEqual(expect.stringMatching(/^warn data_api\.raw_input is on: .*without verifying tokens/));
  });
});
