/**
 * Decision-log upload in OPA's decision-log API shape, against a local receiver that is down (port
 * closed, then 503) for a while and then comes up: every event within the buffer arrives exactly
 * once; beyond the buffer the oldest are dropped and counted.
 */
import * as http from 'http';
import * as zlib from 'zlib';
import type { AddressInfo } from 'net';
import { startWith, post } from './helpers';
import { fileTree } from '../helpers/file-tree';
import type { PdpServer } from '../../src/server/server';

const POLICY = `package mcp.authz

decision := {"allow": input.tool.name == "ok", "reasons": [{"code": "test.reason", "message": "m"}], "obligations": {}}
`;

interface Received {
  path: string;
  bytes: number;
  headers: http.IncomingHttpHeaders;
  events: any[];
}

/** A receiver that answers `unavailable` times 503 before it accepts. */
class Receiver {
  readonly got: Received[] = [];
  private server?: http.Server;
  constructor(readonly port: number, private unavailable = 0) {}

  start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (this.unavailable > 0) {
          this.unavailable--;
          res.writeHead(503).end();
          return;
        }
        const body = Buffer.concat(chunks);
        this.got.push({ path: req.url ?? '', bytes: body.length, headers: req.headers, events: JSON.parse(zlib.gunzipSync(body).toString('utf8')) });
        res.writeHead(200).end();
      });
    });
    return new Promise((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
  }

  events(): any[] {
    return this.got.flatMap((g) => g.events);
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** A loopback port nobody listens on (yet). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Wait for a condition, polling; fails with `what` after 15 s (a bound, not a timing assertion). */
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function counter(pdp: PdpServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = pdp.metrics.registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

function upload(port: number, over: Record<string, unknown> = {}) {
  return {
    decision_logs: {
      output: 'off',
      mask: ['/input/parameters/secret'],
      buffer_size_limit_events: 10000,
      upload: { url: `http://127.0.0.1:${port}`, min_delay_seconds: 0.01, max_delay_seconds: 0.2, labels: { env: 'test' }, ...over },
    },
  };
}

describe('decision-log upload', () => {
  const dir = fileTree({ 'mcp/authz/policy.rego': POLICY }, 'pdp-upload-');
  let receiver: Receiver | undefined;
  let pdp: PdpServer | undefined;
  afterEach(async () => {
    await receiver?.close();
    await pdp?.close();
    receiver = undefined;
    pdp = undefined;
  });

  test('events logged while the service is down arrive once it is up, each exactly once, in OPA\'s shape', async () => {
    const port = await closedPort();
    pdp = await startWith([dir], upload(port) as never);
    const base = pdp.url();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post(base, '/v1/decide', { tool: { name: i % 2 ? 'ok' : 'no' }, parameters: { i, secret: 's3cret' } })).json.decision_id);
    const batch = await post(base, '/v1/decide/batch', { items: Array.from({ length: 25 }, (_, i) => ({ tool: { name: 'ok' }, parameters: { i: 100 + i } })) });
    ids.push(...batch.json.results.map((r: any) => r.decision_id));
    // it has tried (and failed) while nothing listened
    await until('failed attempts', async () => (await counter(pdp!, 'pdp_decision_log_upload_failures_total')) >= 2);
    expect(await counter(pdp, 'pdp_decision_log_uploaded_total')).toBe(0);

    receiver = new Receiver(port, 2); // up, but refusing twice more
    await receiver.start();
    await until('every event', () => receiver!.events().length >= ids.length);

    const events = receiver.events();
    expect(events.map((e) => e.decision_id).sort()).toEqual([...ids].sort());
    expect(new Set(events.map((e) => e.decision_id)).size).toBe(ids.length);
    for (const g of receiver.got) {
      expect(g.path).toBe('/logs');
      expect(g.headers['content-encoding']).toBe('gzip');
      expect(g.headers['content-type']).toBe('application/json');
      expect(Array.isArray(g.events)).toBe(true);
    }
    const first = events.find((e) => e.decision_id === ids[0]);
    expect(first).toMatchObject({ labels: { id: expect.any(String), version: expect.any(String), env: 'test' }, path: 'mcp/authz/decision', bundles: expect.any(Object), timestamp: expect.any(String) });
    // the same masking as the log output
    expect(first.input.parameters).toEqual({ i: 0 });
    expect(first.erased).toEqual(['/input/parameters/secret']);
    // the counter moves when the receiver's reply reaches the PDP, a moment after the receiver has the events
    await until('the uploaded count', async () => (await counter(pdp!, 'pdp_decision_log_uploaded_total')) >= ids.length);
    expect(await counter(pdp, 'pdp_decision_log_uploaded_total')).toBe(ids.length);
    expect(await counter(pdp, 'pdp_decision_log_upload_dropped_total')).toBe(0);
  });

  test('over the buffer the oldest events are dropped and counted; the rest arrive', async () => {
    const port = await closedPort();
    pdp = await startWith([dir], upload(port, { buffer_size_limit_events: 10 }) as never);
    const batch = await post(pdp.url(), '/v1/decide/batch', { items: Array.from({ length: 25 }, (_, i) => ({ tool: { name: 'ok' }, parameters: { i } })) });
    const ids: string[] = batch.json.results.map((r: any) => r.decision_id);
    await pdp.logger.drain();
    expect(await counter(pdp, 'pdp_decision_log_upload_dropped_total', { reason: 'buffer_full' })).toBe(15);

    receiver = new Receiver(port);
    await receiver.start();
    await until('the buffered events', () => receiver!.events().length >= 10);
    await pdp.close(); // a final attempt must not send anything twice
    pdp = undefined;
    expect(receiver.events().map((e) => e.decision_id)).toEqual(ids.slice(15));
  });

  test('chunks stay under upload_size_limit_bytes (gzip\'ed), an event alone over it is dropped and counted', async () => {
    receiver = new Receiver(await closedPort());
    await receiver.start();
    pdp = await startWith([dir], upload(receiver.port, { upload_size_limit_bytes: 2048 }) as never);
    const random = (n: number) => Array.from({ length: n }, () => Math.random().toString(36).slice(2)).join('');
    const items = Array.from({ length: 40 }, (_, i) => ({ tool: { name: 'ok' }, parameters: { i, pad: random(10) } }));
    await post(pdp.url(), '/v1/decide/batch', { items });
    await post(pdp.url(), '/v1/decide', { tool: { name: 'ok' }, parameters: { huge: random(2000) } });
    await until('the small events', () => receiver!.events().length >= 40);
    await until('the drop', async () => (await counter(pdp!, 'pdp_decision_log_upload_dropped_total', { reason: 'too_large' })) === 1);
    expect(receiver.got.length).toBeGreaterThan(1);
    for (const g of receiver.got) expect(g.bytes).toBeLessThanOrEqual(2048);
  });
});
