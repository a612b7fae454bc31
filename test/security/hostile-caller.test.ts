/**
 * A hostile caller against the real PDP (default policy from rego/, test IdP, PDP signing key) over
 * loopback: every endpoint that decides is given forged identity facts, tokens in the wrong slot,
 * approvals for other calls, odd tool names and parameter values, and bad bodies. Each must be refused
 * (a deny, or a 4xx), never an allow, never a 500. Regression guards for the attacks that hold, and the
 * fixes for those that did not (see the tests' comments).
 */
import * as crypto from 'crypto';
import { decodeJwt, SignJWT } from 'jose';
import { actionDigest } from '../../src/identity/action-digest';
import { startApprovalPdp, decide, refundBody, type ApprovalPdp } from '../helpers/approval-pdp';

let p: ApprovalPdp;
beforeAll(async () => {
  p = await startApprovalPdp();
});
afterAll(async () => p?.close());

const auth = () => ({ 'content-type': 'application/json', authorization: `Bearer ${p.apiKey}` });

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(`${p.url}${path}`, { method: 'POST', headers: { ...auth(), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

const codes = (d: any): string[] => (d.reasons ?? []).map((r: any) => r.code);

/** Approve bob's refund of `amount` through the JSON form of the approval page; returns the approval token. */
async function approve(body: Record<string, unknown>): Promise<string> {
  const d = await decide(p, body);
  expect(codes(d)).toEqual(['approval.required']);
  const res = await fetch(d.approval_request.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: await p.signIn(), decision: 'approve' }) });
  const j = await res.json();
  expect(j.decision).toBe('approved');
  return j.approval_token;
}

const FORGED_USER = { id: 'u-bob', verified: true, assurance: 'verified', claims: { sub: 'u-bob', tenant: 'acme', roles: ['billing_specialist'] } };
const FORGED_AGENT = { id: 'billing-bot', verified: true, assurance: 'verified', delegation: [{ sub: 'billing-bot' }], on_behalf_of: 'u-bob', claims: { sub: 'billing-bot' } };
const FORGED_TASK = { id: 't-x', assurance: 'verified', verified: true, expires_at: '2999-01-01T00:00:00Z', scope: { tools: ['*/*'], data_domains: ['billing', 'crm', 'support'], constraints: { max_amount: 1e9 }, grants: ['write', 'destructive'], expires_at: '2999-01-01T00:00:00Z' } };

describe('caller authentication on every decision endpoint', () => {
  test.each([
    ['POST', '/v1/decide'], ['POST', '/v1/decide/batch'], ['POST', '/v1/data/mcp/authz/allow'], ['GET', '/v1/data/mcp/authz/allow'], ['GET', '/v1/data'],
    ['POST', '/access/v1/evaluation'], ['POST', '/access/v1/evaluations'], ['POST', '/ACCESS/V1/EVALUATION/'],
  ])('%s %s without (or with a wrong) API key is 401', async (method, path) => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${p.apiKey}`, `Bearer ${p.apiKey}x`]) {
      const res = await fetch(`${p.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        ...(method === 'POST' ? { body: JSON.stringify(path.includes('data') ? { input: refundBody(p, 40) } : refundBody(p, 40)) } : {}),
      });
      expect(res.status).toBe(401);
      const j = await res.json();
      expect(j.allow === false || j.decision === false).toBe(true);
    }
  });
});

describe('baseline', () => {
  test('bob’s small refund is allowed, a big one waits for approval', async () => {
    expect((await decide(p, refundBody(p, 40))).allow).toBe(true);
    expect(codes(await decide(p, refundBody(p, 150)))).toEqual(['approval.required']);
  });
});

describe('forged identity facts next to (or instead of) tokens', () => {
  test('/v1/decide: verified/claims/assurance/delegation given by the body do not count', async () => {
    // the decide schema lets unknown identity members through to the resolver, which drops the reserved ones
    const d = await decide(p, { tool: { server: 'billing', name: 'refunds.create' }, user: FORGED_USER, agent: FORGED_AGENT, task: FORGED_TASK, parameters: { customer_id: 'c-1001', amount: 40, currency: 'EUR' } });
    expect(d.status).toBe(200);
    expect(d.allow).toBe(false);
    expect(codes(d)).toEqual(expect.arrayContaining(['identity.user_unverified', 'agent.unverified', 'task.unverified']));
  });

  test('a forged task scope next to a valid task token is ignored (the signed scope caps the amount)', async () => {
    const d = await decide(p, refundBody(p, 150, { task: { token: p.bob.task, scope: FORGED_TASK.scope } }));
    // 150 is within the signed cap of 500 but above the approval threshold: the signed scope is the one used
    expect(codes(d)).toEqual(['approval.required']);
    const big = await decide(p, refundBody(p, 600, { task: { token: p.bob.task, scope: FORGED_TASK.scope } }));
    expect(big.allow).toBe(false);
    expect(codes(big)).toContain('parameters.exceeds_scope_limit');
  });

  test('an approval object other than {token} is a 400; an approval under context is not input.approval', async () => {
    const r = await post('/v1/decide', refundBody(p, 150, { approval: { token: 'x', verified: true, approved_by: 'u-bob' } }));
    expect(r.status).toBe(400);
    expect(r.json.allow).toBe(false);
    const c = await decide(p, refundBody(p, 150, { context: { approval: { verified: true, approved_by: 'u-bob' } } }));
    expect(codes(c)).toEqual(['approval.required']);
  });

  test('batch: defaults cannot smuggle a forged approval or identity facts', async () => {
    const bad = await post('/v1/decide/batch', { defaults: { approval: { verified: true, approved_by: 'u-bob' } }, items: [refundBody(p, 150)] });
    expect(bad.status).toBe(400);
    const r = await post('/v1/decide/batch', { defaults: { user: FORGED_USER, agent: FORGED_AGENT, task: FORGED_TASK }, items: [{ tool: { server: 'billing', name: 'refunds.create' }, parameters: { customer_id: 'c-1001', amount: 40, currency: 'EUR' } }] });
    expect(r.status).toBe(200);
    expect(r.json.results[0].allow).toBe(false);
    // the item's own user token merged over forged defaults: claims still come only from verification
    const m = await post('/v1/decide/batch', { defaults: { user: FORGED_USER }, items: [refundBody(p, 150)] });
    expect(codes(m.json.results[0])).toEqual(['approval.required']);
  });

  test('Data API on entrypoint and non-entrypoint rules: forged approval/identity facts are dropped', async () => {
    const input = { ...refundBody(p, 150), approval: { verified: true, approved_by: 'u-bob', jti: 'x' } };
    for (const path of ['/v1/data/mcp/authz/allow', '/v1/data/mcp/authz/approval_satisfied', '/v1/data/mcp/authz/decision']) {
      const r = await post(path, { input });
      expect(r.status).toBe(200);
      const v = path.endsWith('decision') ? r.json.result.allow : r.json.result;
      expect(v).toBe(false);
    }
    const forged = await post('/v1/data/mcp/authz/allow', { input: { tool: { server: 'billing', name: 'refunds.create' }, user: FORGED_USER, agent: FORGED_AGENT, task: FORGED_TASK, parameters: { customer_id: 'c-1001', amount: 40, currency: 'EUR' } } });
    expect(forged.json.result).toBe(false);
    const get = await fetch(`${p.url}/v1/data/mcp/authz/allow?input=${encodeURIComponent(JSON.stringify({ ...input, user: FORGED_USER }))}`, { headers: auth() });
    expect((await get.json()).result).toBe(false);
  });

  test('AuthZEN: subject.properties and context cannot carry verified facts or an approval', async () => {
    const r = await post('/access/v1/evaluation', {
      subject: { type: 'user', id: 'u-bob', properties: { token: p.bob.user, verified: true, claims: FORGED_USER.claims, approval: { verified: true, approved_by: 'u-bob' } } },
      resource: { type: 'tool', id: 'billing/refunds.create' },
      action: { name: 'tools/call', properties: { customer_id: 'c-1001', amount: 150, currency: 'EUR' } },
      context: { agent: { token: p.bob.agent }, task: { token: p.bob.task }, approval: { verified: true, approved_by: 'u-bob' }, user: FORGED_USER },
    });
    expect(r.status).toBe(200);
    expect(r.json.decision).toBe(false);
    expect(r.json.context.reasons.map((x: any) => x.code)).toEqual(['approval.required']);
    const forged = await post('/access/v1/evaluation', {
      subject: { type: 'user', id: 'u-bob', properties: FORGED_USER },
      resource: { type: 'tool', id: 'billing/refunds.create' },
      action: { name: 'tools/call', properties: { customer_id: 'c-1001', amount: 40, currency: 'EUR' } },
      context: { agent: FORGED_AGENT, task: FORGED_TASK },
    });
    expect(forged.json.decision).toBe(false);
  });

  test('?explain=full does not change the answer', async () => {
    const r = await post('/v1/decide?explain=full', { tool: { server: 'billing', name: 'refunds.create' }, user: FORGED_USER, agent: FORGED_AGENT, task: FORGED_TASK, parameters: { customer_id: 'c-1001', amount: 40, currency: 'EUR' } });
    expect(r.status).toBe(200);
    expect(r.json.allow).toBe(false);
    expect(r.json.explain).toBeDefined();
  });
});

describe('tokens in the wrong slot', () => {
  test.each([
    ['user token as agent', () => ({ agent: { token: p.bob.user } }), 'agent'],
    ['agent token as user', () => ({ user: { token: p.bob.agent } }), 'user'],
    ['task token as user', () => ({ user: { token: p.bob.task } }), 'user'],
    ['user token as task', () => ({ task: { token: p.bob.user } }), 'task'],
  ])('%s is wrong_kind', async (_n, extra, slot) => {
    const d = await decide(p, refundBody(p, 40, extra()));
    expect(d.allow).toBe(false);
    expect(d.reasons[0]).toMatchObject({ code: 'identity.invalid_token', token: slot, reason: 'wrong_kind' });
  });

  test('an approval token or a PDP Txn-Token as a user token is refused', async () => {
    const approval = await approve(refundBody(p, 150));
    expect((await decide(p, refundBody(p, 40, { user: { token: approval } }))).reasons[0]).toMatchObject({ code: 'identity.invalid_token', token: 'user' });
    const minted = await decide(p, refundBody(p, 40, { issue_txn_token: true }));
    expect(typeof minted.txn_token).toBe('string');
    expect((await decide(p, refundBody(p, 40, { user: { token: minted.txn_token } }))).allow).toBe(false);
    // an approval is not an approval request, nor the reverse
    const d = await decide(p, refundBody(p, 150));
    const req = d.approval_request.url.split('/approvals/')[1];
    expect((await decide(p, refundBody(p, 150, { approval: { token: req } }))).allow).toBe(false);
    const page = await fetch(`${p.url}/approvals/${approval}`);
    expect(page.status).toBe(400);
  });

  test('another user’s task token is refused for bob', async () => {
    const alice = await p.idpToken({ sub: 'u-alice', jti: 't-a', scope: { tools: ['billing/*'], data_domains: ['billing'], constraints: { max_amount: 500 }, grants: ['write'] } }, '10m', 'task');
    const d = await decide(p, refundBody(p, 40, { task: { token: alice } }));
    expect(d.reasons[0]).toMatchObject({ token: 'task', reason: 'subject_mismatch' });
  });
});

describe('approvals bound to the call', () => {
  let token = '';
  beforeAll(async () => {
    token = await approve(refundBody(p, 150));
  });

  test('it allows exactly the approved call', async () => {
    const d = await decide(p, refundBody(p, 150, { approval: { token } }));
    expect(d.allow).toBe(true);
  });

  test.each([
    ['another amount', () => refundBody(p, 400, { approval: { token } })],
    ['the same amount as a string', () => refundBody(p, 150, { approval: { token }, parameters: { customer_id: 'c-1001', amount: '150', currency: 'EUR' } })],
    ['an extra null parameter', () => refundBody(p, 150, { approval: { token }, parameters: { customer_id: 'c-1001', amount: 150, currency: 'EUR', reason: null } })],
    ['another customer', () => refundBody(p, 150, { approval: { token }, parameters: { customer_id: 'c-1002', amount: 150, currency: 'EUR' } })],
    ['another tool', () => refundBody(p, 150, { approval: { token }, tool: { server: 'billing', name: 'invoices.export', method: 'tools/call' }, parameters: { tenant: 'acme', max_records: 10 } })],
    ['no agent', () => refundBody(p, 150, { approval: { token }, agent: undefined })],
  ])('it does not approve %s', async (_n, body) => {
    const d = await decide(p, JSON.parse(JSON.stringify(body())));
    expect(d.allow).toBe(false);
  });

  test('another person cannot approve bob’s call, and bob’s approval does not serve carol', async () => {
    const d = await decide(p, refundBody(p, 150));
    const carol = await p.idpToken({ sub: 'u-carol', tenant: 'acme', roles: ['billing_specialist'] });
    const res = await fetch(d.approval_request.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: carol, decision: 'approve' }) });
    expect(res.status).toBe(403);
    const carolTask = await p.idpToken({ sub: 'u-carol', jti: 't-7', scope: { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 500 }, grants: ['write'] } }, '10m', 'task');
    const carolAgent = await p.idpToken({ sub: 'u-carol', act: { sub: 'billing-bot', act: { sub: 'planner' } } }, '10m', 'agent');
    const c = await decide(p, refundBody(p, 150, { user: { token: carol }, agent: { token: carolAgent }, task: { token: carolTask }, approval: { token } }));
    expect(c.allow).toBe(false);
    expect(codes(c)).toEqual(['approval.required']);
  });

  // Fixed: the page took any token that verifies as a user token, so a token-exchange output (sub = bob,
  // act = billing-bot), which the agent itself holds and presents as the user token, approved its own call.
  test('a delegated token (with act) cannot sign in to approve, even though it decides as bob', async () => {
    const exchanged = await p.idpToken({ sub: 'u-bob', tenant: 'acme', roles: ['billing_specialist'], act: { sub: 'billing-bot', act: { sub: 'planner' } } });
    const body = refundBody(p, 150, { user: { token: exchanged }, agent: undefined });
    const d = await decide(p, JSON.parse(JSON.stringify(body)));
    expect(codes(d)).toEqual(['approval.required']);
    const res = await fetch(d.approval_request.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: exchanged, decision: 'approve' }) });
    expect(res.status).toBe(401);
    expect((await res.json()).error.reason).toBe('delegated_token');
  });

  test('the approval page refuses a cross-site form post (no CSRF secret, foreign Origin)', async () => {
    const d = await decide(p, refundBody(p, 150));
    const res = await fetch(d.approval_request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ id_token: await p.signIn(), decision: 'approve' }).toString(),
    });
    expect(res.status).toBe(403);
    const plain = await fetch(d.approval_request.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ id_token: await p.signIn(), decision: 'approve' }) });
    expect(plain.status).toBe(403);
  });

  // Fixed: task.id came from the body even next to a verified task token, so a caller chose the task an
  // approval (and a Txn-Token's tctx.task) is bound to: an approval given in task t-7 then passed in
  // any other task of bob's by naming it "t-7".
  test('a task id that is not the verified task token’s jti is refused', async () => {
    const other = await p.idpToken({ sub: 'u-bob', jti: 't-8', scope: { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 500 }, grants: ['write'] } }, '10m', 'task');
    const d = await decide(p, refundBody(p, 150, { task: { token: other, id: 't-7' }, approval: { token } }));
    expect(d.allow).toBe(false);
    expect(d.reasons[0]).toMatchObject({ code: 'identity.invalid_token', token: 'task' });
    const t = await decide(p, refundBody(p, 40, { task: { token: other, id: 't-7' }, issue_txn_token: true }));
    expect(t.allow).toBe(false);
    expect(t.txn_token).toBeUndefined();
    // naming the token's own jti is fine
    const ok = await decide(p, refundBody(p, 40, { task: { token: other, id: 't-8' }, issue_txn_token: true }));
    expect(ok.allow).toBe(true);
    expect((decodeJwt(ok.txn_token).tctx as any).task).toBe('t-8');
  });
});

describe('tokens only the PDP signs', () => {
  const digest150 = () => actionDigest({ server: 'billing', tool: 'refunds.create', method: 'tools/call', parameters: { customer_id: 'c-1001', amount: 150, currency: 'EUR' }, user: 'u-bob', actor: 'billing-bot', task: 't-7' });
  const sign = (claims: Record<string, unknown>, typ: string, key: crypto.KeyObject, exp: number, aud = 'pdp-approvals') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ }).setIssuer('https://pdp.test').setAudience(aud).setIssuedAt(exp - 300).setExpirationTime(exp).setJti('j-1').sign(key);
  const now = () => Math.floor(Date.now() / 1000);

  test('an approval for exactly this call is refused when expired, of another typ or audience, or not signed by the PDP', async () => {
    const claims = { sub: 'u-bob', action_digest: digest150() };
    // control: the same claims, well signed, pass (so each refusal below is for its one difference)
    expect((await decide(p, refundBody(p, 150, { approval: { token: await sign(claims, 'approval+jwt', p.pdpKey, now() + 60) } }))).allow).toBe(true);
    const { privateKey: other } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (const token of [
      await sign(claims, 'approval+jwt', p.pdpKey, now() - 120),
      await sign(claims, 'approval-request+jwt', p.pdpKey, now() + 60),
      await sign(claims, 'txntoken+jwt', p.pdpKey, now() + 60),
      await sign(claims, 'approval+jwt', p.pdpKey, now() + 60, 'pdp'),
      await sign(claims, 'approval+jwt', other, now() + 60),
    ]) {
      const d = await decide(p, refundBody(p, 150, { approval: { token } }));
      expect(d.allow).toBe(false);
      expect(codes(d)).toEqual(['approval.required']);
    }
  });

  test('no Txn-Token vouches for a user the PDP did not verify (public tool, asserted or absent user)', async () => {
    const task = await p.idpToken({ sub: 'u-bob', jti: 't-p', scope: { tools: ['support/*'], data_domains: ['public'], constraints: {}, grants: [] } }, '10m', 'task');
    const bot = await p.idpToken({ sub: 'support-bot' }, '10m', 'agent');
    const call = { tool: { server: 'support', name: 'kb.search' }, agent: { token: bot }, task: { token: task }, parameters: { query: 'vat' }, issue_txn_token: true };
    const anon = await decide(p, call);
    expect(anon.allow).toBe(true);
    expect(anon.txn_token).toBeUndefined();
    const asserted = await decide(p, { ...call, user: { id: 'u-bob' } });
    expect(asserted.allow).toBe(true);
    expect(asserted.txn_token).toBeUndefined();
  });
});

describe('tool names and task-scope globs', () => {
  test.each(['refunds.createX', 'refunds.Create', 'REFUNDS.CREATE', 'refunds.create.', 'refunds.create ', 'refunds\u2024create', 'refunds.cre\u0430te', '../billing/refunds.create', 'refunds.create\u0000', 'refunds.*', '*'])(
    'billing/%j is not refunds.create',
    async (name) => {
      const d = await decide(p, refundBody(p, 40, { tool: { server: 'billing', name, method: 'tools/call' } }));
      expect(d.status).toBe(200);
      expect(d.allow).toBe(false);
      expect(codes(d)).toContain('catalog.unknown_tool');
    },
  );

  test('server names with a slash or glob cannot reach another server’s tool', async () => {
    for (const tool of [{ server: 'billing/refunds.create', name: 'x' }, { server: '*', name: 'refunds.create' }, { server: 'Billing', name: 'refunds.create' }, { name: 'billing/refunds.create' }]) {
      const d = await decide(p, refundBody(p, 40, { tool: { ...tool, method: 'tools/call' } }));
      expect(d.allow).toBe(false);
    }
  });

  test('a task scope of billing/refunds.lookup does not grant refunds.create; refunds.* does not reach crm', async () => {
    const narrow = await p.idpToken({ sub: 'u-bob', jti: 't-n', scope: { tools: ['billing/refunds.lookup'], data_domains: ['billing'], constraints: { max_amount: 500 }, grants: ['write'] } }, '10m', 'task');
    expect(codes(await decide(p, refundBody(p, 40, { task: { token: narrow } })))).toContain('task_scope.tool_not_granted');
    const d = await decide(p, refundBody(p, 40, { tool: { server: 'crm', name: 'contacts.search', method: 'tools/call' }, parameters: {} }));
    expect(d.allow).toBe(false);
  });

  test('an unknown method is refused, tools/list does not execute', async () => {
    const d = await decide(p, refundBody(p, 40, { tool: { server: 'billing', name: 'refunds.create', method: 'tools/Call' } }));
    expect(codes(d)).toContain('request.unsupported_method');
  });
});

describe('parameter type confusion', () => {
  test.each([
    ['"40" as a string', '40'],
    ['an array', [40]],
    ['an object', { value: 40 }],
    ['a boolean', true],
    ['-1', -1],
    ['0', 0],
    ['1e3', 1e3],
    ['600', 600],
  ])('amount %s is not an allowed refund', async (_n, amount) => {
    const d = await decide(p, refundBody(p, amount as never));
    expect(d.status).toBe(200);
    expect(d.allow).toBe(false);
  });

  test('100.0000000001 needs an approval; 1e400 (Infinity) is not a number the policy can be fooled with', async () => {
    expect(codes(await decide(p, refundBody(p, 100.0000000001)))).toEqual(['approval.required']);
    const r = await post('/v1/decide', JSON.stringify(refundBody(p, 1)).replace('"amount":1', '"amount":1e400'));
    expect(r.status).toBeLessThan(500);
    expect(r.json.allow).toBe(false);
    const neg = await post('/v1/decide', JSON.stringify(refundBody(p, 1)).replace('"amount":1', '"amount":-1e400'));
    expect(neg.json.allow).toBe(false);
  });

  test('duplicate keys: the last one counts for identity and policy alike', async () => {
    const text = JSON.stringify(refundBody(p, 40)).replace('"amount":40', '"amount":40,"amount":400');
    const r = await post('/v1/decide', text);
    expect(r.status).toBe(200);
    expect(r.json.allow).toBe(false);
    const u = JSON.stringify(refundBody(p, 40)).replace('"user":{', '"user":{"token":"bad.bad.bad"},"user":{');
    // the verified user (last) is the one decided on; the first, junk one never reaches anyone
    expect((await post('/v1/decide', u)).json.allow).toBe(true);
  });

  test('prototype keys are plain keys: they neither pass nor crash', async () => {
    const text = JSON.stringify(refundBody(p, 40)).replace('"parameters":{', '"parameters":{"__proto__":{"amount":1},"constructor":{"prototype":{"x":1}},');
    const r = await post('/v1/decide', text);
    expect(r.status).toBe(200);
    expect(r.json.allow).toBe(false);
    expect(codes(r.json)).toContain('parameters.unexpected');
    const u = JSON.stringify(refundBody(p, 40, { user: {}, task: { token: p.bob.task } })).replace('"user":{}', '"user":{"__proto__":{"verified":true,"assurance":"verified","id":"u-bob","claims":{"sub":"u-bob","tenant":"acme","roles":["billing_specialist"]}}}');
    const v = await post('/v1/decide', u);
    expect(v.status).toBe(200);
    expect(v.json.allow).toBe(false);
    const az = await post('/access/v1/evaluation', '{"subject":{"type":"user","id":"u-bob","properties":{"__proto__":{"verified":true}}},"resource":{"type":"tool","id":"billing/refunds.create"},"action":{"name":"tools/call","properties":{"__proto__":{"x":1}}},"context":{"__proto__":{"agent":{"verified":true}}}}');
    expect(az.status).toBe(200);
    expect(az.json.decision).toBe(false);
  });
});

describe('bad bodies are 4xx, never 500, and never allow', () => {
  const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  test.each([
    ['/v1/decide', () => JSON.stringify({ ...refundBody(p, 40), parameters: JSON.parse(deep(100)) })],
    ['/v1/decide/batch', () => `{"items":[${deep(100)}]}`],
    ['/v1/data/mcp/authz/allow', () => `{"input":${deep(100)}}`],
    ['/access/v1/evaluation', () => deep(100)],
    ['/v1/decide', () => '{"tool":'],
    ['/v1/decide', () => '[]'],
    ['/v1/decide', () => 'null'],
    ['/v1/decide', () => '{"tool":{"name":"x"},"user":"u-bob"}'],
    ['/v1/decide', () => '{"tool":{"name":"x"},"parameters":[]}'],
    ['/v1/decide/batch', () => '{"items":[],"defaults":[]}'],
    ['/v1/data/mcp/authz/allow', () => '"x"'],
    ['/v1/data/%E0%A4%A', () => '{}'],
    ['/access/v1/evaluations', () => '{"evaluations":[1,null]}'],
    ['/access/v1/evaluation', () => '{"subject":[],"resource":{},"action":1}'],
  ])('%s %#', async (path, body) => {
    const r = await post(path, body());
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.json.allow ?? r.json.decision).toBe(false);
  });

  test('odd identity shapes are denies, not 500s', async () => {
    for (const extra of [
      { user: { token: 'a.b.c' } },
      { user: { token: 'x'.repeat(20000) } },
      { user: { id: 'u-eve', token: p.bob.user } },
      { agent: { id: 'support-bot', token: p.bob.agent } },
      { agent: { id: 'planner', token: p.bob.agent } },
      { task: { token: p.bob.task, id: 7 } },
      { task: { token: p.bob.task, id: '' } },
    ]) {
      const r = await post('/v1/decide', refundBody(p, 40, extra));
      expect(r.status).toBeLessThan(500);
      expect(r.json.allow).toBe(false);
    }
    // an asserted `act` next to an agent token, junk annotations, attributes claiming a tenant: ignored,
    // the verified facts decide (and these would allow bob's small refund anyway)
    for (const extra of [
      { agent: { token: p.bob.agent, act: { sub: 'support-bot' } } },
      { user: { token: p.bob.user, attributes: { tenant: 'globex', roles: ['crm_admin'] } } },
      { tool: { server: 'billing', name: 'refunds.create', annotations: { readOnlyHint: 'yes', destructiveHint: [1] } } },
    ]) {
      const r = await post('/v1/decide?explain=full', refundBody(p, 40, extra));
      expect(r.status).toBe(200);
      expect(r.json.allow).toBe(true);
    }
    // an asserted act cannot make support-bot (not in bob's tenant) the actor of bob's billing-bot token
    const viaAct = await post('/v1/decide', refundBody(p, 40, { agent: { token: p.bob.agent, act: { sub: 'support-bot' } }, tool: { server: 'support', name: 'kb.search', method: 'tools/call' }, parameters: { query: 'x' } }));
    expect(viaAct.json.allow).toBe(false);
  });

  test('Data API with a non-object input is evaluated without identity: never an allow', async () => {
    for (const input of [[refundBody(p, 40)], 'u-bob', 42, true]) {
      const r = await post('/v1/data/mcp/authz/allow', { input });
      expect(r.status).toBe(200);
      expect(r.json.result).toBe(false);
    }
  });
});
