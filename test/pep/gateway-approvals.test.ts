/**
 * End to end: the SDK's Client → gateway → the SDK's McpServer (demo billing server, verifying every
 * Txn-Token with verifyTxnToken), decisions by the real PDP with the default policy and its signing key.
 * A refund above the approval threshold is refused with the approval link; the person approves on the
 * page; the retried call goes through, and the tool server learns who it is for and which agent asks.
 */
import { SignJWT } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { startDemoMcpServer, RunningDemoServer } from '../../src/pep/demo-server';
import { startGateway, RunningGateway } from '../../src/pep/gateway/gateway';
import { txnTokenKeys, verifyTxnToken } from '../../src/pep/txn-token-verify';
import { startApprovalPdp, decide, refundBody, type ApprovalPdp } from '../helpers/approval-pdp';

describe('approvals and Txn-Tokens through the gateway, real PDP', () => {
  let p: ApprovalPdp;
  let demo: RunningDemoServer;
  let gw: RunningGateway;
  let keys: ReturnType<typeof txnTokenKeys>;
  const clients: Client[] = [];

  beforeAll(async () => {
    p = await startApprovalPdp();
    keys = txnTokenKeys(`${p.url}/.well-known/jwks.json`);
    demo = await startDemoMcpServer({ servers: ['billing', 'crm'], txnToken: { keys, issuer: 'https://pdp.test' } });
    gw = await startGateway({
      upstreams: ['billing', 'crm'].map((s) => ({ url: demo.endpoint(s), serverName: s })),
      pdp: { url: p.url, apiKey: p.apiKey, timeoutMs: 5000, retries: 0 },
    });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw?.close();
    await demo?.close();
    await p?.close();
  });

  async function connect(extra: Record<string, string> = {}): Promise<Client> {
    const headers = { authorization: `Bearer ${p.bob.user}`, 'x-agent-token': p.bob.agent, 'x-task-token': p.bob.task, ...extra };
    const c = new Client({ name: 'e2e-agent', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/billing/mcp`), { requestInit: { headers } }));
    clients.push(c);
    return c;
  }

  const refund = (amount: number) => ({ name: 'refunds.create', arguments: { customer_id: 'c-1001', amount, currency: 'EUR' } });

  /** What the approval page gives the person for this call (the JSON form of the page's answer). */
  async function approve(url: string, idToken?: string): Promise<string> {
    idToken ??= await p.signIn();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: idToken, decision: 'approve' }) });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`approval refused: ${JSON.stringify(body)}`);
    return body.approval_token;
  }

  async function refusal(c: Client, amount: number): Promise<McpError> {
    const e = await c.callTool(refund(amount)).catch((x) => x);
    expect(e).toBeInstanceOf(McpError);
    return e;
  }

  test('a refund above the threshold is refused with the approval link and never reaches the server', async () => {
    const before = demo.calls.length;
    const e: any = await refusal(await connect(), 150);
    expect(e.code).toBe(-32001);
    expect(e.data.reasons[0].code).toBe('approval.required');
    expect(e.data.approval_request.url).toMatch(new RegExp(`^${p.url}/approvals/`));
    expect(e.message).toContain(`approve at ${e.data.approval_request.url}`);
    expect(demo.calls.length).toBe(before);
  });

  test('approved on the page, the retried call goes through; the tool server verifies who it is for', async () => {
    const e: any = await refusal(await connect(), 150);
    const token = await approve(e.data.approval_request.url);
    const c = await connect({ 'x-pdp-approval': token });
    const r: any = await c.callTool(refund(150));
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ status: 'created', amount: 150 });
    const seen = demo.calls[demo.calls.length - 1];
    expect(seen.txn).toMatchObject({ ok: true, person: 'u-bob', actor: 'billing-bot', delegation: ['billing-bot', 'planner'], task: 't-7' });
  });

  test.each([
    ['for different parameters', async (url: string) => ({ token: await approve(url), amount: 450 })],
    ['tampered', async (url: string) => {
      const [h, b, s] = (await approve(url)).split('.');
      const claims = JSON.parse(Buffer.from(b, 'base64url').toString());
      claims.exp += 3600;
      return { token: `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`, amount: 150 };
    }],
    ['expired', async (url: string) => {
      const digest = decodeURIComponent(url).split('/approvals/')[1];
      const request = JSON.parse(Buffer.from(digest.split('.')[1], 'base64url').toString());
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ sub: 'u-bob', action_digest: request.action_digest, jti: 'old' })
        .setProtectedHeader({ alg: 'ES256', typ: 'approval+jwt' }).setIssuer('https://pdp.test').setAudience('pdp-approvals')
        .setIssuedAt(now - 900).setExpirationTime(now - 600).sign(p.pdpKey);
      return { token, amount: 150 };
    }],
    ['by a different person', async (url: string) => {
      // the page refuses alice outright; a token only a broken PDP would sign is refused at decision time too
      await expect(approve(url, await p.idpToken({ sub: 'u-alice' }))).rejects.toThrow(/approval\.wrong_person/);
      const request = JSON.parse(Buffer.from(url.split('/approvals/')[1].split('.')[1], 'base64url').toString());
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ sub: 'u-alice', action_digest: request.action_digest, jti: 'alice' })
        .setProtectedHeader({ alg: 'ES256', typ: 'approval+jwt' }).setIssuer('https://pdp.test').setAudience('pdp-approvals')
        .setIssuedAt(now).setExpirationTime(now + 300).sign(p.pdpKey);
      return { token, amount: 150 };
    }],
  ])('an approval %s is no approval: still refused, nothing reaches the server', async (_what, make) => {
    const e: any = await refusal(await connect(), 150);
    const { token, amount } = await make(e.data.approval_request.url);
    const before = demo.calls.length;
    const again: any = await refusal(await connect({ 'x-pdp-approval': token }), amount);
    expect(again.code).toBe(-32001);
    expect(again.data.reasons[0].code).toBe('approval.required');
    expect(demo.calls.length).toBe(before);
  });

  /** A client that declared form elicitation; `answer` plays its user. */
  async function connectEliciting(answer: (message: string) => Promise<Record<string, unknown>>): Promise<{ client: Client; asked: string[] }> {
    const asked: string[] = [];
    const c = new Client({ name: 'e2e-host', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    c.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push((req.params as { message: string }).message);
      return answer((req.params as { message: string }).message) as any;
    });
    const headers = { authorization: `Bearer ${p.bob.user}`, 'x-agent-token': p.bob.agent, 'x-task-token': p.bob.task };
    await c.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/billing/mcp`), { requestInit: { headers } }));
    clients.push(c);
    return { client: c, asked };
  }
  const linkIn = (message: string) => /(http:\/\/\S+\/approvals\/\S+)/.exec(message)![1];

  test('elicitation: the host asks its user, who approves on the page and pastes the approval; the call goes through', async () => {
    const { client, asked } = await connectEliciting(async (message) => ({ action: 'accept', content: { approval: await approve(linkIn(message)) } }));
    const r: any = await client.callTool(refund(150));
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ status: 'created', amount: 150 });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/amount=150 is above the approval threshold/);
    expect(demo.calls[demo.calls.length - 1].txn).toMatchObject({ ok: true, person: 'u-bob' });
  });

  test('elicitation: a host that answers by itself, or a person who declines, approves nothing', async () => {
    const before = demo.calls.length;
    const selfAnswering = await connectEliciting(async () => ({ action: 'accept', content: { approval: 'yes, approved' } }));
    const e1: any = await selfAnswering.client.callTool(refund(150)).catch((x) => x);
    expect(e1.code).toBe(-32001);
    expect(e1.data.reasons[0].code).toBe('approval.required');
    const declining = await connectEliciting(async () => ({ action: 'decline' }));
    const e2: any = await declining.client.callTool(refund(150)).catch((x) => x);
    expect(e2.code).toBe(-32001);
    expect(e2.data.approval_request.url).toMatch(/\/approvals\//);
    expect(declining.asked).toHaveLength(1);
    expect(demo.calls.length).toBe(before);
  });

  test('the agent\'s own credentials never reach the tool server; only the Txn-Token does', async () => {
    const seenHeaders: Array<Record<string, unknown>> = [];
    const http = await import('http');
    // a recording proxy in front of the demo server
    const proxy = http.createServer((req, res) => {
      seenHeaders.push({ ...req.headers });
      const up = http.request(demo.endpoint('billing'), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as import('net').AddressInfo).port;
    const gw2 = await startGateway({ upstreams: [{ url: `http://127.0.0.1:${port}/billing/mcp`, serverName: 'billing' }], pdp: { url: p.url, apiKey: p.apiKey, retries: 0 } });
    try {
      const c = new Client({ name: 'e2e-agent', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${gw2.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${p.bob.user}`, 'x-agent-token': p.bob.agent, 'x-task-token': p.bob.task } } }));
      const r: any = await c.callTool(refund(40));
      expect(r.isError).toBeFalsy();
      await c.close();
      const withTxn = seenHeaders.filter((h) => h['txn-token']);
      expect(withTxn).toHaveLength(1); // only the tools/call, not initialize, tools/list or the stream
      for (const h of seenHeaders) {
        expect(h.authorization).toBeUndefined();
        expect(h['x-agent-token']).toBeUndefined();
        expect(h['x-task-token']).toBeUndefined();
      }
    } finally {
      await gw2.close();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});

describe('verifyTxnToken (the tool server\'s side)', () => {
  let p: ApprovalPdp;
  let keys: ReturnType<typeof txnTokenKeys>;
  const opts = () => ({ keys, issuer: 'https://pdp.test' });
  const call = { server: 'billing', name: 'refunds.create', arguments: { customer_id: 'c-1001', amount: 40, currency: 'EUR' } };
  let token: string;

  beforeAll(async () => {
    p = await startApprovalPdp();
    keys = txnTokenKeys(`${p.url}/.well-known/jwks.json`);
    const d = await decide(p, refundBody(p, 40, { issue_txn_token: true }));
    expect(d.allow).toBe(true);
    token = d.txn_token;
  });
  afterAll(async () => p?.close());

  test('accepts the PDP\'s token for the call it was minted for, and reads the person and the chain from it', async () => {
    const r = await verifyTxnToken(token, call, opts());
    expect(r).toMatchObject({ ok: true, person: 'u-bob', actor: 'billing-bot', delegation: ['billing-bot', 'planner'], task: 't-7' });
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header.typ).toBe('txntoken+jwt');
    expect(claims).toMatchObject({ aud: 'billing', sub: 'u-bob', act: { sub: 'billing-bot', act: { sub: 'planner' } }, req_wl: 'gw', tctx: { tool: 'refunds.create' } });
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(60);
  });

  test.each([
    ['missing', undefined, call, 'missing'],
    ['repeated', ['a', 'b'], call, 'malformed'],
    ['garbage', 'not-a-token', call, 'malformed'],
    ['replayed to another server', 'TOKEN', { ...call, server: 'crm' }, 'wrong_audience'],
    ['arriving with other arguments', 'TOKEN', { ...call, arguments: { ...call.arguments, amount: 400 } }, 'digest_mismatch'],
    ['arriving for another tool', 'TOKEN', { ...call, name: 'refunds.lookup' }, 'digest_mismatch'],
  ])('refuses a token %s', async (_what, t, c, reason) => {
    const r = await verifyTxnToken(t === 'TOKEN' ? token : (t as any), c, opts());
    expect(r).toMatchObject({ ok: false, reason });
  });

  test('refuses a tampered, a forged, an expired and a mistyped token', async () => {
    const [h, b, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(b, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'u-alice' })).toString('base64url')}.${s}`;
    expect(await verifyTxnToken(tampered, call, opts())).toMatchObject({ ok: false, reason: 'bad_signature' });
    const sign = (c: Record<string, unknown>, key: any, typ = 'txntoken+jwt') => new SignJWT(c).setProtectedHeader({ alg: 'ES256', typ }).setIssuer('https://pdp.test').setAudience('billing').sign(key);
    const otherKey = (await import('crypto')).generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(await verifyTxnToken(await sign(claims, otherKey), call, opts())).toMatchObject({ ok: false, reason: expect.stringMatching(/bad_signature|unknown_kid/) });
    const now = Math.floor(Date.now() / 1000);
    expect(await verifyTxnToken(await sign({ ...claims, iat: now - 300, exp: now - 60 }, p.pdpKey), call, opts())).toMatchObject({ ok: false, reason: 'expired' });
    expect(await verifyTxnToken(await sign(claims, p.pdpKey, 'JWT'), call, opts())).toMatchObject({ ok: false, reason: 'wrong_kind' });
    // and the PDP's own key with the right claims is accepted (the forgeries above failed for their flaw only)
    expect(await verifyTxnToken(await sign(claims, p.pdpKey), call, opts())).toMatchObject({ ok: true });
  });

  test('the PDP mints none for a denied call or when not asked', async () => {
    expect((await decide(p, refundBody(p, 150, { issue_txn_token: true }))).txn_token).toBeUndefined();
    expect((await decide(p, refundBody(p, 40))).txn_token).toBeUndefined();
  });
});
