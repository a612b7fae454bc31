import { PdpClient } from '../../src/pep/client';
import { allow, closedPort, deny, FakePdp, startFakePdp } from './fake-pdp';

const input = { tool: { server: 'billing', name: 'refunds.create', method: 'tools/call' }, parameters: { amount: 10 } };

describe('PdpClient', () => {
  let pdp: FakePdp;
  let client: PdpClient;
  beforeEach(async () => {
    pdp = await startFakePdp(() => allow());
  });
  afterEach(async () => {
    client?.close();
    await pdp.close();
  });

  test('allow: passes the decision through, sends the API key and request id', async () => {
    pdp.handler = () => allow({ redact_fields: ['email'] });
    client = new PdpClient({ url: pdp.url, apiKey: 'k-123' });
    const d = await client.decide(input, { requestId: 'r-9' });
    expect(d).toMatchObject({ allow: true, decision_id: 'd-allow', obligations: { redact_fields: ['email'] } });
    expect(d.failure).toBeUndefined();
    expect(pdp.seen[0].path).toBe('/v1/decide');
    expect(pdp.seen[0].headers.authorization).toBe('Bearer k-123');
    expect(pdp.seen[0].headers['x-request-id']).toBe('r-9');
    expect(pdp.seen[0].body).toEqual(input);
  });

  test('a Txn-Token in the answer must name this very call (audience and action digest), or the allow is a deny', async () => {
    const { actionDigest } = await import('../../src/identity/action-digest');
    const unsigned = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
    const forCall = (amount: number, aud = 'billing') => unsigned({
      aud, sub: 'u-1', act: { sub: 'bot' }, txn: 'd-allow',
      tctx: { task: 't-1', action_digest: actionDigest({ server: 'billing', tool: 'refunds.create', method: 'tools/call', parameters: { amount }, user: 'u-1', actor: 'bot', task: 't-1' }) },
    });
    client = new PdpClient({ url: pdp.url });
    pdp.handler = () => ({ body: { ...(allow().body as object), txn_token: forCall(10) } });
    expect(await client.decide(input)).toMatchObject({ allow: true, txn_token: forCall(10) });
    pdp.handler = () => ({ body: { ...(allow().body as object), txn_token: forCall(1000) } });
    expect(await client.decide(input)).toMatchObject({ allow: false, failure: { kind: 'invalid_response' } });
    pdp.handler = () => ({ body: { ...(allow().body as object), txn_token: forCall(10, 'crm') } });
    expect(await client.decide(input)).toMatchObject({ allow: false, reasons: [{ code: 'pdp.invalid_response' }] });
  });

  test('keeps the approval request of an approval.required deny', async () => {
    const approval_request = { url: 'http://pdp/approvals/x', action_digest: 'd', summary: 's', expires_at: '2026-12-03T12:00:00Z' };
    pdp.handler = () => ({ body: { ...(deny('approval.required', 'needs approval').body as object), approval_request } });
    client = new PdpClient({ url: pdp.url });
    expect(await client.decide(input)).toMatchObject({ allow: false, approval_request });
  });

  test('keeps a path prefix of the PDP url', async () => {
    client = new PdpClient({ url: `${pdp.url}/pdp` });
    await client.decide(input);
    expect(pdp.seen[0].path).toBe('/pdp/v1/decide');
  });

  test('deny: keeps the policy reasons', async () => {
    pdp.handler = () => deny('task_scope.tool_not_granted', 'refunds.create is outside task t-7');
    client = new PdpClient({ url: pdp.url });
    const d = await client.decide(input);
    expect(d.allow).toBe(false);
    expect(d.reasons).toEqual([{ code: 'task_scope.tool_not_granted', message: 'refunds.create is outside task t-7' }]);
  });

  test('PDP not listening: deny pdp.unavailable, no exception', async () => {
    client = new PdpClient({ url: `http://127.0.0.1:${await closedPort()}`, retries: 2, retryBackoffMs: 1 });
    const d = await client.decide(input);
    expect(d.allow).toBe(false);
    expect(d.reasons[0].code).toBe('pdp.unavailable');
    expect(d.failure).toEqual({ kind: 'unavailable' });
  });

  test('PDP hangs: deny pdp.timeout', async () => {
    pdp.handler = () => 'hang';
    client = new PdpClient({ url: pdp.url, timeoutMs: 150 });
    const d = await client.decide(input);
    expect(d.allow).toBe(false);
    expect(d.reasons[0].code).toBe('pdp.timeout');
    expect(pdp.seen).toHaveLength(1); // a timeout is not retried: the budget is spent
  });

  test.each([
    [400, 'rejected'],
    [401, 'rejected'],
    [413, 'rejected'],
    [500, 'error'],
  ])('HTTP %i: deny pdp.error (%s), not retried', async (status, kind) => {
    pdp.handler = () => ({ status, body: { error: { code: 'x', message: 'nope' }, allow: true } });
    client = new PdpClient({ url: pdp.url, retries: 3, retryBackoffMs: 1 });
    const d = await client.decide(input);
    expect(d.allow).toBe(false);
    expect(d.reasons[0]).toMatchObject({ code: 'pdp.error' });
    expect(d.reasons[0].message).toContain(`HTTP ${status}: nope`);
    expect(d.failure).toEqual({ kind, status });
    expect(pdp.seen).toHaveLength(1);
  });

  test('503 then 200: retried once, then allowed', async () => {
    let n = 0;
    pdp.handler = () => (n++ === 0 ? { status: 503, body: {} } : allow());
    client = new PdpClient({ url: pdp.url, retries: 1, retryBackoffMs: 1 });
    const d = await client.decide(input);
    expect(d.allow).toBe(true);
    expect(pdp.seen).toHaveLength(2);
  });

  test('503 every time: deny pdp.unavailable after the retries', async () => {
    pdp.handler = () => ({ status: 503, body: {} });
    client = new PdpClient({ url: pdp.url, retries: 2, retryBackoffMs: 1 });
    const d = await client.decide(input);
    expect(d).toMatchObject({ allow: false, failure: { kind: 'unavailable', status: 503 } });
    expect(pdp.seen).toHaveLength(3);
  });

  test('a reset on a reused keep-alive socket is retried; on a fresh socket it is not', async () => {
    client = new PdpClient({ url: pdp.url, retries: 1, retryBackoffMs: 1 });
    // fresh socket dropped without an answer: the PDP may have processed it, so no retry
    pdp.handler = () => 'destroy';
    const first = await client.decide(input);
    expect(first).toMatchObject({ allow: false, reasons: [{ code: 'pdp.unavailable' }] });
    expect(pdp.seen).toHaveLength(1);
    // warm a keep-alive socket, then drop the next request on it once
    pdp.handler = () => allow();
    expect((await client.decide(input)).allow).toBe(true);
    let dropped = false;
    pdp.handler = () => {
      if (!dropped) {
        dropped = true;
        return 'destroy';
      }
      return allow();
    };
    const d = await client.decide(input);
    expect(d.allow).toBe(true);
    expect(pdp.seen).toHaveLength(4);
  });

  test.each([
    ['allow as a string', { raw: JSON.stringify({ allow: 'true' }) }],
    ['no allow', { raw: JSON.stringify({ decision: true }) }],
    ['not JSON', { raw: 'allow' }],
    ['obligations is an array', { raw: JSON.stringify({ allow: true, obligations: ['x'] }) }],
    ['reason without code', { raw: JSON.stringify({ allow: true, reasons: [{ message: 'm' }] }) }],
    ['a JSON array', { raw: '[true]' }],
  ])('malformed 200 (%s): deny pdp.invalid_response', async (_name, answer) => {
    pdp.handler = () => ({ status: 200, ...answer });
    client = new PdpClient({ url: pdp.url });
    const d = await client.decide(input);
    expect(d).toMatchObject({ allow: false, reasons: [{ code: 'pdp.invalid_response' }], failure: { kind: 'invalid_response' } });
  });

  test('an oversized answer is refused', async () => {
    pdp.handler = () => ({ status: 200, body: { allow: true, pad: 'x'.repeat(5000) } });
    client = new PdpClient({ url: pdp.url, maxResponseBytes: 1000 });
    const d = await client.decide(input);
    expect(d).toMatchObject({ allow: false, reasons: [{ code: 'pdp.invalid_response' }] });
  });

  test('an input that cannot be serialised is a deny, not an exception', async () => {
    const cyclic: any = { tool: { name: 'x' } };
    cyclic.parameters = { self: cyclic };
    client = new PdpClient({ url: pdp.url });
    const d = await client.decide(cyclic);
    expect(d).toMatchObject({ allow: false, failure: { kind: 'invalid_input' } });
    expect(pdp.seen).toHaveLength(0);
  });

  test('decideBatch: one request, results in order', async () => {
    pdp.handler = (_p, body) => ({
      status: 200,
      body: { results: body.items.map((it: any) => (it.tool.name === 'b' ? deny('no', 'b is denied').body : allow().body)) },
    });
    client = new PdpClient({ url: pdp.url });
    const items = ['a', 'b', 'c'].map((name) => ({ tool: { server: 's', name } }));
    const out = await client.decideBatch(items, { user: { token: 't' } });
    expect(out.map((d) => d.allow)).toEqual([true, false, true]);
    expect(pdp.seen).toHaveLength(1);
    expect(pdp.seen[0].path).toBe('/v1/decide/batch');
    expect(pdp.seen[0].body.defaults).toEqual({ user: { token: 't' } });
  });

  test('decideBatch: wrong number of results or a failure denies every item', async () => {
    pdp.handler = () => ({ status: 200, body: { results: [allow().body] } });
    client = new PdpClient({ url: pdp.url });
    const items = [{ tool: { name: 'a' } }, { tool: { name: 'b' } }];
    expect((await client.decideBatch(items)).map((d) => d.allow)).toEqual([false, false]);
    pdp.handler = () => ({ status: 500, body: {} });
    const out = await client.decideBatch(items);
    expect(out.map((d) => d.reasons[0].code)).toEqual(['pdp.error', 'pdp.error']);
  });

  test('AuthZEN evaluation and evaluations', async () => {
    pdp.handler = (path, body) =>
      path === '/access/v1/evaluation'
        ? { status: 200, body: { decision: body.action.name === 'read' } }
        : { status: 200, body: { evaluations: body.evaluations.map((e: any) => ({ decision: e.action.name === 'read' })) } };
    client = new PdpClient({ url: pdp.url });
    const subject = { type: 'user', id: 'u1' };
    const resource = { type: 'tool', id: 'billing/invoices.get' };
    expect(await client.evaluation({ subject, resource, action: { name: 'read' } })).toEqual({ decision: true });
    expect((await client.evaluation({ subject, resource, action: { name: 'write' } })).decision).toBe(false);
    const many = await client.evaluations({ subject, resource, evaluations: [{ action: { name: 'read' } }, { action: { name: 'write' } }] });
    expect(many.evaluations.map((e) => e.decision)).toEqual([true, false]);
  });

  test('AuthZEN: failures and malformed answers are decision false', async () => {
    pdp.handler = () => ({ status: 200, body: { decision: 'yes' } });
    client = new PdpClient({ url: pdp.url });
    const e = await client.evaluation({ action: { name: 'read' } });
    expect(e.decision).toBe(false);
    pdp.handler = () => ({ status: 200, body: { evaluations: [{ decision: true }] } });
    const many = await client.evaluations({ evaluations: [{ action: { name: 'a' } }, { action: { name: 'b' } }] });
    expect(many.evaluations.map((x) => x.decision)).toEqual([false, false]);
    await pdp.close();
    const down = await client.evaluation({ action: { name: 'read' } });
    expect(down).toMatchObject({ decision: false, context: { reasons: [{ code: 'pdp.unavailable' }] } });
  });
});
