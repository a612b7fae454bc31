/**
 * Approvals as proofs, in the real PDP over HTTP: the deny with its approval request, the approval page
 * (HTML fetched and its form posted, as a browser would), and the approval given back with the call.
 */
import { SignJWT } from 'jose';
import { actionDigest } from '../../src/identity/action-digest';
import { startApprovalPdp, decide, refundBody, type ApprovalPdp } from '../helpers/approval-pdp';

let p: ApprovalPdp;
beforeAll(async () => {
  p = await startApprovalPdp();
});
afterAll(async () => p?.close());

/** GET the approval page: its HTML, the CSRF cookie and the form's hidden value. */
async function openPage(url: string): Promise<{ status: number; html: string; cookie: string; csrf: string; headers: Headers }> {
  const res = await fetch(url);
  const html = await res.text();
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return { status: res.status, html, cookie, csrf, headers: res.headers };
}

async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; html: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  return { status: res.status, html: await res.text() };
}

const tokenOnPage = (html: string) => /<textarea id="approval-token"[^>]*>([^<]+)<\/textarea>/.exec(html)?.[1];

/** Approve bob's refund of `amount` on the page; returns the approval token. */
async function approveOnPage(amount: number): Promise<string> {
  const d = await decide(p, refundBody(p, amount));
  const page = await openPage(d.approval_request.url);
  const done = await postForm(d.approval_request.url, { csrf: page.csrf, id_token: await p.signIn(), decision: 'approve' }, { cookie: page.cookie });
  expect(done.status).toBe(200);
  return tokenOnPage(done.html)!;
}

describe('a call that needs approval', () => {
  test('is denied with approval.required, the policy summary, the action digest, an expiry and a link', async () => {
    const d = await decide(p, refundBody(p, 150));
    expect(d.status).toBe(200);
    expect(d.allow).toBe(false);
    expect(d.reasons.map((r: any) => r.code)).toEqual(['approval.required']);
    expect(d.reasons[0].message).toMatch(/amount=150 is above the approval threshold of 100/);
    const r = d.approval_request;
    expect(r.url.startsWith(`${p.url}/approvals/`)).toBe(true);
    expect(r.summary).toMatch(/billing-bot asks to call billing\/refunds\.create for u-bob/);
    // the digest of the verified identities: user from the user token, current actor from the agent token
    expect(r.action_digest).toBe(actionDigest({ server: 'billing', tool: 'refunds.create', method: 'tools/call', parameters: { customer_id: 'c-1001', amount: 150, currency: 'EUR' }, user: 'u-bob', actor: 'billing-bot', task: 't-7' }));
    expect(Date.parse(r.expires_at)).toBeGreaterThan(Date.now());
  });

  test('a small refund needs none', async () => {
    const d = await decide(p, refundBody(p, 40));
    expect(d.allow).toBe(true);
    expect(d.approval_request).toBeUndefined();
  });

  test('an approval cannot be asserted in the body: only a token is accepted there', async () => {
    const d = await decide(p, refundBody(p, 150, { approval: { verified: true, approved_by: 'u-bob', jti: 'x' } }));
    expect(d.status).toBe(400);
    expect(d.allow).toBe(false);
  });
});

describe('the approval page over plain HTTP', () => {
  test('shows exactly what the agent wants to do, escaped, and cannot be framed', async () => {
    const d = await decide(p, refundBody(p, 150, { parameters: { customer_id: 'c-1001', amount: 150, currency: 'EUR', reason: '<script>alert("x")</script>' } }));
    const page = await openPage(d.approval_request.url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('billing/refunds.create');
    expect(page.html).toContain('&#34;amount&#34;: 150');
    expect(page.html).toContain('&#60;script&#62;alert(');
    expect(page.html).not.toContain('<script>');
    expect(page.html).toContain(d.approval_request.action_digest);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(page.cookie).toMatch(/^pdp_approval_csrf=/);
    expect(page.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
  });

  test('a link whose request was altered is refused', async () => {
    const d = await decide(p, refundBody(p, 150));
    const [h, body, sig] = d.approval_request.url.split('/approvals/')[1].split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    claims.action.parameters.amount = 15;
    const forged = `${p.url}/approvals/${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    const page = await openPage(forged);
    expect(page.status).toBe(400);
    expect(page.html).toMatch(/not valid/);
    expect(page.html).not.toContain('name="csrf"');
  });

  test('the form is refused without the CSRF secret or from another origin', async () => {
    const d = await decide(p, refundBody(p, 150));
    const page = await openPage(d.approval_request.url);
    const url = d.approval_request.url;
    expect((await postForm(url, { csrf: page.csrf, id_token: await p.signIn(), decision: 'approve' })).status).toBe(403);
    expect((await postForm(url, { csrf: 'guess', id_token: await p.signIn(), decision: 'approve' }, { cookie: page.cookie })).status).toBe(403);
    expect((await postForm(url, { csrf: page.csrf, id_token: await p.signIn(), decision: 'approve' }, { cookie: page.cookie, origin: 'https://evil.example' })).status).toBe(403);
    // an opaque origin (sandboxed frame, data: URL) is not ours either
    expect((await postForm(url, { csrf: page.csrf, id_token: await p.signIn(), decision: 'approve' }, { cookie: page.cookie, origin: 'null' })).status).toBe(403);
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
  });

  test('only the call\'s own user, signed in with a valid token, can approve', async () => {
    const d = await decide(p, refundBody(p, 150));
    const url = d.approval_request.url;
    const page = await openPage(url);
    const alice = await p.idpToken({ sub: 'u-alice' });
    const other = await postForm(url, { csrf: page.csrf, id_token: alice, decision: 'approve' }, { cookie: page.cookie });
    expect(other.status).toBe(403);
    expect(other.html).toMatch(/signed in as u-alice; only u-bob can decide/);
    expect(tokenOnPage(other.html)).toBeUndefined();
    const garbage = await postForm(url, { csrf: page.csrf, id_token: 'not.a.token', decision: 'approve' }, { cookie: page.cookie });
    expect(garbage.status).toBe(401);
  });

  test('the agent cannot approve its own call with the user token it already holds: the sign-in must be newer than the request', async () => {
    const now = Math.floor(Date.now() / 1000);
    // what the agent carries: bob's user token, issued a while before the call
    const held = await p.idpToken({ sub: 'u-bob', tenant: 'acme', roles: ['billing_specialist'], iat: now - 600 });
    const d = await decide(p, refundBody(p, 150, { user: { token: held } }));
    expect(d.reasons[0].code).toBe('approval.required');
    const url = d.approval_request.url;
    const byAgent = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: held, decision: 'approve' }) });
    expect(byAgent.status).toBe(401);
    expect((await byAgent.json()).error).toMatchObject({ code: 'approval.sign_in_failed', reason: 'stale_sign_in' });
    // a refreshed token (new iat) of an old login is no fresher: OIDC auth_time says when the person signed in
    const refreshed = await p.idpToken({ sub: 'u-bob', auth_time: now - 600 });
    const r2 = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: refreshed, decision: 'approve' }) });
    expect((await r2.json()).error).toMatchObject({ reason: 'stale_sign_in' });
    // bob signing in now can
    const fresh = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: await p.signIn(), decision: 'approve' }) });
    expect(fresh.status).toBe(200);
  });

  test('reject signs nothing', async () => {
    const d = await decide(p, refundBody(p, 150));
    const page = await openPage(d.approval_request.url);
    const r = await postForm(d.approval_request.url, { csrf: page.csrf, id_token: await p.signIn(), decision: 'reject' }, { cookie: page.cookie });
    expect(r.status).toBe(200);
    expect(r.html).toMatch(/You rejected this action/);
    expect(tokenOnPage(r.html)).toBeUndefined();
  });

  test('JSON post (for scripts) answers with the approval token', async () => {
    const d = await decide(p, refundBody(p, 150));
    const res = await fetch(d.approval_request.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: await p.signIn(), decision: 'approve' }) });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ decision: 'approved', action_digest: d.approval_request.action_digest });
    expect((await decide(p, refundBody(p, 150, { approval: { token: body.approval_token } }))).allow).toBe(true);
  });

  test('serves the PDP\'s public key, and only the public part', async () => {
    const jwks = await (await fetch(`${p.url}/.well-known/jwks.json`)).json();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
  });
});

describe('the approval given back with the call', () => {
  test('approves exactly that call: allowed, logged with its jti', async () => {
    const token = await approveOnPage(150);
    const d = await decide(p, refundBody(p, 150, { approval: { token } }));
    expect(d.allow).toBe(true);
    expect(d.approval).toMatchObject({ verified: true, approved_by: 'u-bob' });
    const line = p.logs.find((l) => l.msg === 'approval presented' && l.fields?.decision_id === d.decision_id);
    expect(line?.fields).toMatchObject({ jti: d.approval.jti, verified: true, allow: true });
  });

  test('an approval for 150 does not approve 450', async () => {
    const token = await approveOnPage(150);
    const d = await decide(p, refundBody(p, 450, { approval: { token } }));
    expect(d.allow).toBe(false);
    expect(d.reasons[0].code).toBe('approval.required');
    expect(d.reasons[0].message).toMatch(/approval is for a different call/);
    // a new link for the new amount
    expect(d.approval_request.action_digest).not.toBe((await decide(p, refundBody(p, 150))).approval_request.action_digest);
  });

  test('the same call by another agent is another call', async () => {
    const token = await approveOnPage(150);
    const direct = await p.idpToken({ sub: 'refund-worker', on_behalf_of: 'u-bob' }, '10m', 'agent');
    const d = await decide(p, refundBody(p, 150, { agent: { token: direct }, approval: { token } }));
    expect(d.allow).toBe(false);
    expect(d.reasons[0].message).toMatch(/different call/);
  });

  async function forge(claims: Record<string, unknown>, opts: { typ?: string; exp?: number; key?: any; iss?: string } = {}): Promise<string> {
    const digest = (await decide(p, refundBody(p, 150))).approval_request.action_digest;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'u-bob', action_digest: digest, jti: 'forged-1', ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: opts.typ ?? 'approval+jwt' })
      .setIssuer(opts.iss ?? 'https://pdp.test')
      .setAudience('pdp-approvals')
      .setIssuedAt(now - 600)
      .setExpirationTime(opts.exp ?? now + 300)
      .sign(opts.key ?? p.pdpKey);
  }

  test.each([
    ['expired', async () => forge({}, { exp: Math.floor(Date.now() / 1000) - 120 }), /expired/],
    ['given by another person', async () => forge({ sub: 'u-alice' }), /given by "u-alice"/],
    ['signed by another key', async () => forge({}, { key: (await import('crypto')).generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }), /signature/],
    ['of another token type', async () => forge({}, { typ: 'JWT' }), /wrong_kind/],
    ['from another issuer', async () => forge({}, { iss: 'https://idp.example' }), /untrusted_issuer|iss/],
  ])('an approval %s is refused', async (_what, make, why) => {
    const d = await decide(p, refundBody(p, 150, { approval: { token: await make() } }));
    expect(d.allow).toBe(false);
    expect(d.reasons[0].code).toBe('approval.required');
    expect(d.reasons[0].message).toMatch(why);
  });

  test('a tampered approval is refused', async () => {
    const token = await approveOnPage(150);
    const [h, body, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    claims.exp += 3600;
    const d = await decide(p, refundBody(p, 150, { approval: { token: `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}` } }));
    expect(d.allow).toBe(false);
    expect(d.reasons[0].message).toMatch(/bad_signature/);
  });

  test('an approval link (the request) is not an approval', async () => {
    const d0 = await decide(p, refundBody(p, 150));
    const requestToken = d0.approval_request.url.split('/approvals/')[1];
    const d = await decide(p, refundBody(p, 150, { approval: { token: requestToken } }));
    expect(d.allow).toBe(false);
    expect(d.reasons[0].message).toMatch(/wrong_kind/);
  });
});
