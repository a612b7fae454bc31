/** AuthZEN 1.0 endpoints over HTTP, with a fake decide that records what it was given. */
import express from 'express';
import type { AddressInfo } from 'net';
import type { Server } from 'http';
import { mountAuthzen } from '../../src/server/authzen';
import { createCallerAuth, hashApiKey } from '../../src/server/caller-auth';
import { createIdentityResolver } from '../../src/identity';
import type { DecisionMeta, DecisionResult } from '../../src/server/types';
import { alterSignature, makeKey, now, signAs, TestKey, tmpDir, writeJwks } from './helpers';

const ISS = 'https://idp.example.com';
const API_KEY = 'pdpk_test_0123456789abcdef';
let idp: TestKey;
let server: Server;
let base = '';
const calls: { input: Record<string, any>; meta: DecisionMeta }[] = [];

/** Fake policy: allow when the tool/resource id does not contain "deny"; reasons for denies; an error on "boom". */
async function decide(input: Record<string, any>, meta: DecisionMeta): Promise<DecisionResult> {
  calls.push({ input, meta });
  // A pipeline that (wrongly) ignores meta.deny: the AuthZEN layer must still deny.
  if (String(input.tool?.name ?? '').includes('ignoredeny')) return { decision_id: 'x', allow: true, reasons: [], obligations: {} };
  if (meta.deny) return { decision_id: 'd-' + calls.length, allow: false, reasons: [meta.deny], obligations: {} };
  const id = String(input.tool?.name ?? input.resource?.id ?? '');
  if (id.includes('boom')) return { decision_id: 'd', allow: false, reasons: [], obligations: {}, error: { code: 'eval', message: 'evaluation failed' } };
  if (id.includes('deny')) return { decision_id: 'd-' + calls.length, allow: false, reasons: [{ code: 'test.denied', message: `${id} denied` }], obligations: {} };
  if (id.includes('obl')) return { decision_id: 'd-' + calls.length, allow: true, reasons: [], obligations: { redact: ['ssn'] } };
  return { decision_id: 'd-' + calls.length, allow: true, reasons: [], obligations: {} };
}

beforeAll(async () => {
  idp = await makeKey('ES256', 'k1');
  const app = express();
  mountAuthzen(app, {
    decide,
    resolver: createIdentityResolver({
      issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(tmpDir(), 'idp', [idp]), use_for: ['user', 'agent', 'task', 'txn'] }],
    }),
    callerAuth: createCallerAuth({ mode: 'api_key', api_keys: [{ id: 'gw', hash: hashApiKey(API_KEY) }] }, { address: '0.0.0.0', tls: false }),
    entrypoint: 'mcp/authz/authzen',
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => (calls.length = 0));

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: API_KEY, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const subject = { type: 'user', id: 'u-42' };
const tool = (id: string, properties?: object) => ({ type: 'tool', id, ...(properties ? { properties } : {}) });
const action = { name: 'tools/call', properties: { amount: 120, currency: 'EUR' } };

describe('GET /.well-known/authzen-configuration', () => {
  test('names the PDP and both endpoints', async () => {
    const res = await fetch(base + '/.well-known/authzen-configuration');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      policy_decision_point: base,
      access_evaluation_endpoint: `${base}/access/v1/evaluation`,
      access_evaluations_endpoint: `${base}/access/v1/evaluations`,
    });
  });
});

describe('POST /access/v1/evaluation', () => {
  test('maps the request onto the decision input and answers {decision: true} without context', async () => {
    const r = await post('/access/v1/evaluation', {
      subject: { ...subject, properties: { department: 'support' } },
      resource: tool('billing/refunds.create', { annotations: { destructiveHint: true } }),
      action,
      context: { agent: { id: 'support-bot' }, ip: '10.0.0.7' },
    }, { 'X-Request-ID': 'req-123' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ decision: true });
    expect(r.headers.get('x-request-id')).toBe('req-123');
    const { input, meta } = calls[0];
    expect(input.user).toMatchObject({ id: 'u-42', type: 'user', attributes: { department: 'support' }, assurance: 'asserted' });
    expect(input.agent).toMatchObject({ id: 'support-bot', assurance: 'asserted' });
    expect(input.tool).toEqual({ server: 'billing', name: 'refunds.create', method: 'tools/call', annotations: { destructiveHint: true } });
    expect(input.parameters).toEqual({ amount: 120, currency: 'EUR' });
    expect(input.context).toEqual({ ip: '10.0.0.7' });
    expect(input.caller).toEqual({ method: 'api_key', id: 'gw' });
    expect(input.authzen.subject).toEqual({ type: 'user', id: 'u-42', properties: { department: 'support' } });
    expect(meta).toMatchObject({ path: '/access/v1/evaluation', entrypoint: 'mcp/authz/authzen', requestId: 'req-123', caller: { id: 'gw' } });
  });

  test('a deny is 200 {decision:false} with the policy reasons in context', async () => {
    const r = await post('/access/v1/evaluation', { subject, resource: tool('x/deny-me'), action });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ decision: false, context: { reasons: [{ code: 'test.denied', message: 'deny-me denied' }], decision_id: expect.any(String) } });
  });

  test('obligations give a context on an allow', async () => {
    const r = await post('/access/v1/evaluation', { subject, resource: tool('x/obl'), action });
    expect(r.body).toMatchObject({ decision: true, context: { obligations: { redact: ['ssn'] } } });
  });

  test('subject.properties.act gives an asserted agent chain', async () => {
    await post('/access/v1/evaluation', { subject: { ...subject, properties: { act: { sub: 'bot', act: { sub: 'planner' } } } }, resource: tool('t'), action });
    const agent = calls[0].input.agent;
    expect(agent).toMatchObject({ id: 'bot', assurance: 'asserted', delegation_assurance: 'asserted' });
    expect(agent.delegation.map((l: any) => l.sub)).toEqual(['bot', 'planner']);
  });

  test('a non-tool resource is kept as input.resource', async () => {
    await post('/access/v1/evaluation', { subject, resource: { type: 'document', id: 'doc-1' }, action: { name: 'read' } });
    expect(calls[0].input.tool).toBeUndefined();
    expect(calls[0].input.resource).toEqual({ type: 'document', id: 'doc-1', properties: {} });
    expect(calls[0].input.action).toEqual({ name: 'read' });
  });

  test('verified user token: verified identity, token removed from input and input.authzen', async () => {
    const token = await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u-42', exp: now() + 600 });
    const r = await post('/access/v1/evaluation', { subject: { ...subject, properties: { token } }, resource: tool('t'), action });
    expect(r.body).toEqual({ decision: true });
    const { input } = calls[0];
    expect(input.user).toMatchObject({ id: 'u-42', verified: true, assurance: 'verified' });
    expect(JSON.stringify(input)).not.toContain(token);
  });

  test('an altered user token is a deny with identity.invalid_token, whatever the policy says', async () => {
    const token = alterSignature(await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u-42', exp: now() + 600 }));
    const r = await post('/access/v1/evaluation', { subject: { ...subject, properties: { token } }, resource: tool('t'), action });
    expect(r.status).toBe(200);
    expect(r.body.decision).toBe(false);
    expect(r.body.context.reasons[0]).toMatchObject({ code: 'identity.invalid_token', reason: 'bad_signature', token: 'user' });
    expect(calls[0].meta.deny).toMatchObject({ code: 'identity.invalid_token' });
  });

  test('an invalid token is a deny even if the pipeline would allow', async () => {
    const token = alterSignature(await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u-42', exp: now() + 600 }));
    const r = await post('/access/v1/evaluation', { subject: { ...subject, properties: { token } }, resource: tool('ignoredeny'), action });
    expect(r.body.decision).toBe(false);
    expect(r.body.context.reasons[0]).toMatchObject({ code: 'identity.invalid_token' });
  });

  test('missing required fields are 400 naming each', async () => {
    const r = await post('/access/v1/evaluation', { subject: { type: 'user' }, action: {} }, { 'X-Request-ID': 'bad-1' });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-request-id')).toBe('bad-1');
    expect(r.body.error.errors.map((e: any) => e.path).sort()).toEqual(['action.name', 'resource', 'subject.id']);
    expect(calls).toHaveLength(0);
  });

  test('invalid JSON is 400; no credentials is 401 with WWW-Authenticate', async () => {
    expect((await post('/access/v1/evaluation', '{nope')).status).toBe(400);
    const res = await fetch(base + '/access/v1/evaluation', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject, resource: tool('t'), action }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="pdp"');
    expect(calls).toHaveLength(0);
  });

  test('an evaluation error is 500 (fail closed)', async () => {
    const r = await post('/access/v1/evaluation', { subject, resource: tool('boom'), action });
    expect(r.status).toBe(500);
    expect(r.body.decision).toBe(false);
  });
});

describe('POST /access/v1/evaluations', () => {
  const items = [{ resource: tool('a') }, { resource: tool('deny-b') }, { resource: tool('c') }];

  test('defaults at top level, per-item overrides; execute_all answers every item in order', async () => {
    const r = await post('/access/v1/evaluations', {
      subject,
      action,
      resource: {},
      context: { ip: '1.2.3.4' },
      evaluations: [...items, { resource: tool('d'), subject: { type: 'user', id: 'u-7' }, context: { ip: '5.6.7.8' } }],
    });
    expect(r.status).toBe(200);
    expect(r.body.evaluations).toEqual([
      { decision: true },
      { decision: false, context: { reasons: [{ code: 'test.denied', message: 'deny-b denied' }], decision_id: expect.any(String) } },
      { decision: true },
      { decision: true },
    ]);
    expect(calls.map((c) => c.input.user.id)).toEqual(['u-42', 'u-42', 'u-42', 'u-7']);
    expect(calls.map((c) => c.input.context.ip)).toEqual(['1.2.3.4', '1.2.3.4', '1.2.3.4', '5.6.7.8']);
    expect(calls[0].input.authzen.resource).toEqual(tool('a'));
    expect(calls[0].meta.path).toBe('/access/v1/evaluations');
  });

  test('deny_on_first_deny stops after the first deny', async () => {
    const r = await post('/access/v1/evaluations', { subject, action, options: { evaluations_semantic: 'deny_on_first_deny' }, evaluations: items });
    expect(r.body.evaluations.map((e: any) => e.decision)).toEqual([true, false]);
    expect(calls).toHaveLength(2);
  });

  test('permit_on_first_permit stops after the first permit', async () => {
    const r = await post('/access/v1/evaluations', {
      subject, action, options: { evaluations_semantic: 'permit_on_first_permit' },
      evaluations: [{ resource: tool('deny-1') }, { resource: tool('ok') }, { resource: tool('ok2') }],
    });
    expect(r.body.evaluations.map((e: any) => e.decision)).toEqual([false, true]);
    expect(calls).toHaveLength(2);
  });

  test('execute_all given explicitly; results are exact (no context on plain decisions)', async () => {
    const r = await post('/access/v1/evaluations', { subject, action, options: { evaluations_semantic: 'execute_all' }, evaluations: [{ resource: tool('a') }, { resource: tool('c') }] });
    expect(r.body).toEqual({ evaluations: [{ decision: true }, { decision: true }] });
  });

  test('an unknown semantic is 400', async () => {
    const r = await post('/access/v1/evaluations', { subject, action, options: { evaluations_semantic: 'first' }, evaluations: items });
    expect(r.status).toBe(400);
    expect(r.body.error.errors[0].path).toBe('options.evaluations_semantic');
  });

  test('without evaluations the request is a single evaluation', async () => {
    const r = await post('/access/v1/evaluations', { subject, action, resource: tool('x') });
    expect(r.body).toEqual({ decision: true });
  });

  test('an item missing a required field (after defaults) is 400 naming it; nothing is decided', async () => {
    const r = await post('/access/v1/evaluations', { subject, resource: {}, evaluations: [{ action, resource: tool('a') }, { action }] });
    expect(r.status).toBe(400);
    expect(r.body.error.errors.map((e: any) => e.path)).toEqual(['evaluations[1].resource.type', 'evaluations[1].resource.id']);
    expect(calls).toHaveLength(0);
  });

  test('one item with an invalid token is a deny for that item only', async () => {
    const good = await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u-42', exp: now() + 600 });
    const bad = await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u-42', exp: now() - 600 });
    const r = await post('/access/v1/evaluations', {
      action, resource: tool('t'),
      evaluations: [{ subject: { ...subject, properties: { token: good } } }, { subject: { ...subject, properties: { token: bad } } }],
    });
    expect(r.body.evaluations[0]).toEqual({ decision: true });
    expect(r.body.evaluations[1].decision).toBe(false);
    expect(r.body.evaluations[1].context.reasons[0]).toMatchObject({ code: 'identity.invalid_token', reason: 'expired' });
  });

  test('an evaluation error in one item is a deny with an error context for that item', async () => {
    const r = await post('/access/v1/evaluations', { subject, action, evaluations: [{ resource: tool('boom') }, { resource: tool('a') }] });
    expect(r.status).toBe(200);
    expect(r.body.evaluations[0]).toMatchObject({ decision: false, context: { error: { status: 500 } } });
    expect(r.body.evaluations[1]).toEqual({ decision: true });
  });
});
