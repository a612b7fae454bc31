import express from 'express';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { PdpClient } from '../../src/pep/client';
import { bearerToken, pdpMiddleware } from '../../src/pep/express';
import { allow, closedPort, deny, FakePdp, startFakePdp } from './fake-pdp';

async function listen(app: express.Express): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('pdpMiddleware', () => {
  let pdp: FakePdp;
  let client: PdpClient;
  let app: { url: string; server: http.Server };
  let routeRuns: any[];

  async function start(pdpUrl: string, handles?: string[]) {
    client = new PdpClient({ url: pdpUrl, timeoutMs: 500 });
    const a = express();
    a.use(express.json());
    a.post(
      '/refunds',
      pdpMiddleware({
        client,
        handles,
        toInput: (req) => {
          if (typeof req.body?.amount !== 'number') throw new Error('amount must be a number');
          return { user: { token: bearerToken(req) }, tool: { server: 'billing', name: 'refunds.create', method: 'POST' }, parameters: req.body };
        },
      }),
      (req, res) => {
        routeRuns.push(req.pdp);
        res.json({ ok: true, obligations: req.pdp?.obligations });
      },
    );
    app = await listen(a);
  }
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app.url}/refunds`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeEach(async () => {
    routeRuns = [];
    pdp = await startFakePdp(() => allow());
  });
  afterEach(async () => {
    client.close();
    app.server.closeAllConnections();
    await new Promise((r) => app.server.close(r));
    await pdp.close();
  });

  test('allow: the route runs with the obligations attached; the mapper built the input', async () => {
    pdp.handler = () => allow({ log_level: 'full' });
    await start(pdp.url, ['log_level']);
    const res = await post({ amount: 5 }, { authorization: 'Bearer user-jwt' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, obligations: { log_level: 'full' } });
    expect(routeRuns[0].decision_id).toBe('d-allow');
    expect(pdp.seen[0].body).toEqual({
      user: { token: 'user-jwt' },
      tool: { server: 'billing', name: 'refunds.create', method: 'POST' },
      parameters: { amount: 5 },
    });
  });

  test('deny: 403 with the reasons, the route never runs', async () => {
    pdp.handler = () => deny('limits.amount', 'amount above 200');
    await start(pdp.url);
    const res = await post({ amount: 500 });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'forbidden', decision_id: 'd-deny', reasons: [{ code: 'limits.amount', message: 'amount above 200' }] });
    expect(routeRuns).toHaveLength(0);
  });

  test('an allow with an obligation the app does not handle is a 403', async () => {
    pdp.handler = () => allow({ require_approval: true });
    await start(pdp.url, ['redact_fields']);
    const res = await post({ amount: 5 });
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body.reasons[0]).toMatchObject({ code: 'obligation.unsupported', obligations: ['require_approval'] });
    expect(routeRuns).toHaveLength(0);
  });

  test('the mapper throwing is a 400; the PDP is not asked', async () => {
    await start(pdp.url);
    const res = await post({ amount: 'lots' });
    expect(res.status).toBe(400);
    expect((await res.json()).reasons[0]).toEqual({ code: 'pep.invalid_request', message: 'amount must be a number' });
    expect(pdp.seen).toHaveLength(0);
    expect(routeRuns).toHaveLength(0);
  });

  test('PDP unreachable: 403 pdp.unavailable, the route never runs', async () => {
    await start(`http://127.0.0.1:${await closedPort()}`);
    const res = await post({ amount: 5 });
    expect(res.status).toBe(403);
    expect((await res.json()).reasons[0].code).toBe('pdp.unavailable');
    expect(routeRuns).toHaveLength(0);
  });
});
