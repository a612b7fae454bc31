/**
 * HTTP bundle sources against a local bundle server: ETag / 304, long polling, backoff after failures,
 * persistence of the last good bundle, and /health?bundles. Polls are driven by a fake clock (the
 * manager's injectable timers): we assert on the requests sent and the delays asked for, never on time.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BundleManager } from '../../src/bundles/manager';
import { BUNDLE_CONTENT_TYPE } from '../../src/bundles/http';
import { createPdpServer, type PdpServer } from '../../src/server/server';
import { defaultConfig } from '../../src/server/config';
import { decisionBundle } from './fixtures/make-bundle';
import { startBundleServer, etagReplies, FakeTimers, type BundleServer } from './fixtures/bundle-server';
import { post, passThrough, tmpDir } from '../server/helpers';

let r1: Buffer;
let r2: Buffer;
beforeAll(async () => {
  r1 = await decisionBundle('r1');
  r2 = await decisionBundle('r2');
});

const servers: BundleServer[] = [];
const managers: BundleManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) m.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(reply: Parameters<typeof startBundleServer>[0]): Promise<BundleServer> {
  const s = await startBundleServer(reply);
  servers.push(s);
  return s;
}

function manager(timers: FakeTimers, persistenceDir?: string): BundleManager {
  const m = new BundleManager({ decisionEntrypoint: 'mcp/authz/decision', timers, persistenceDir });
  managers.push(m);
  return m;
}

const revision = (m: BundleManager) => m.current().get('mcp')?.revision;

describe('ETag and 304', () => {
  test('If-None-Match carries the activated etag; 304 keeps the bundle; a new etag activates', async () => {
    const current = { body: r1, etag: '"v1"' };
    const bs = await server(etagReplies(current));
    const timers = new FakeTimers();
    const m = manager(timers);
    const errors = await m.start([{ name: 'mcp', source: bs.url, polling: { min_delay_seconds: 5, max_delay_seconds: 10 } }]);
    expect(errors.size).toBe(0);
    expect(revision(m)).toBe('r1');
    expect(bs.requests).toEqual([{ ifNoneMatch: undefined, prefer: 'modes=snapshot' }]);

    // the next poll waits uniformly in [min, max)
    expect(timers.delays).toHaveLength(1);
    expect(timers.delays[0]).toBeGreaterThanOrEqual(5000);
    expect(timers.delays[0]).toBeLessThan(10000);

    await timers.fire();
    expect(bs.requests[1].ifNoneMatch).toBe('"v1"');
    expect(revision(m)).toBe('r1');

    current.body = r2;
    current.etag = '"v2"';
    await timers.fire();
    expect(bs.requests[2].ifNoneMatch).toBe('"v1"');
    expect(revision(m)).toBe('r2');

    await timers.fire();
    expect(bs.requests[3].ifNoneMatch).toBe('"v2"');
    expect(bs.requests).toHaveLength(4);
    expect(revision(m)).toBe('r2');
  });

  test('a bundle that fails activation keeps the old one and its etag is not sent again', async () => {
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }));
    const timers = new FakeTimers();
    const m = manager(timers);
    await m.start([{ name: 'mcp', source: bs.url }]);
    bs.next.push({ status: 200, body: Buffer.from('not a tarball'), etag: '"broken"' });
    await timers.fire();
    expect(revision(m)).toBe('r1');
    await timers.fire();
    // still asks with the etag of the bundle that is active, so the broken one would be fetched again
    expect(bs.requests.map((r) => r.ifNoneMatch)).toEqual([undefined, '"v1"', '"v1"']);
  });
});

describe('long polling', () => {
  test('sends Prefer wait=N, repolls at once while the server speaks the bundle type, 304 on its timeout', async () => {
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }, BUNDLE_CONTENT_TYPE));
    const timers = new FakeTimers();
    const m = manager(timers);
    await m.start([{ name: 'mcp', source: bs.url, polling: { long_polling_timeout_seconds: 30, min_delay_seconds: 5, max_delay_seconds: 10 } }]);
    expect(revision(m)).toBe('r1');
    expect(bs.requests[0].prefer).toBe('modes=snapshot;wait=30');
    expect(timers.delays).toEqual([0]);

    // the server's wait ran out with nothing new: 304, and the client asks again straight away
    await timers.fire();
    expect(bs.requests[1]).toEqual({ ifNoneMatch: '"v1"', prefer: 'modes=snapshot;wait=30' });
    expect(timers.delays).toEqual([0, 0]);
  });

  test('a server that does not answer with the bundle content type turns long polling off', async () => {
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }));
    const timers = new FakeTimers();
    const m = manager(timers);
    await m.start([{ name: 'mcp', source: bs.url, polling: { long_polling_timeout_seconds: 30, min_delay_seconds: 5, max_delay_seconds: 10 } }]);
    expect(bs.requests[0].prefer).toBe('modes=snapshot;wait=30');
    expect(timers.delays[0]).toBeGreaterThanOrEqual(5000);
    await timers.fire();
    expect(bs.requests[1].prefer).toBe('modes=snapshot');
  });
});

describe('backoff after failures', () => {
  test('delays grow 100 ms × 1.6ⁿ (±20 %) while the server fails, and return to the poll delay after a success', async () => {
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }));
    bs.next.push({ status: 500 }, { status: 503 }, { status: 500 }, { status: 502 });
    const timers = new FakeTimers();
    const m = manager(timers);
    const errors = await m.start([{ name: 'mcp', source: bs.url, polling: { min_delay_seconds: 5, max_delay_seconds: 10 } }]);
    expect(errors.get('mcp')?.message).toMatch(/server replied with 500/);
    expect(revision(m)).toBeUndefined();
    expect(m.allActivated()).toBe(false);
    for (let i = 0; i < 3; i++) await timers.fire();
    await timers.fire(); // this one succeeds
    expect(bs.requests).toHaveLength(5);
    expect(revision(m)).toBe('r1');
    const [a, b, c, d, after] = timers.delays;
    const within = (x: number, base: number) => x >= base * 0.8 && x <= base * 1.2;
    expect([within(a, 100), within(b, 160), within(c, 256), within(d, 409.6)]).toEqual([true, true, true, true]);
    expect(a < b && b < c && c < d).toBe(true);
    expect(after).toBeGreaterThanOrEqual(5000);
    expect(timers.delays).toHaveLength(5);
  });

  test('backoff is capped at max_delay_seconds', async () => {
    const bs = await server(() => ({ status: 500 }));
    const timers = new FakeTimers();
    const m = manager(timers);
    await m.start([{ name: 'mcp', source: bs.url, polling: { min_delay_seconds: 0, max_delay_seconds: 0.3 } }]);
    for (let i = 0; i < 6; i++) await timers.fire();
    expect(bs.requests).toHaveLength(7);
    expect(Math.max(...timers.delays)).toBeLessThanOrEqual(300);
    // past the cap the base is the max, and jitter (−20 %) only lowers it
    for (const d of timers.delays.slice(-3)) expect(d).toBeGreaterThanOrEqual(240);
  });

  test('close() cancels the scheduled poll', async () => {
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }));
    const timers = new FakeTimers();
    const m = manager(timers);
    await m.start([{ name: 'mcp', source: bs.url }]);
    expect(timers.waiting).toBe(1);
    m.close();
    expect(timers.waiting).toBe(0);
  });
});

describe('persistence of the last good remote bundle', () => {
  test('activated at the next start while the bundle server is down', async () => {
    const dir = tmpDir();
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }));
    const first = manager(new FakeTimers(), dir);
    await first.start([{ name: 'mcp', source: bs.url, persist: true }]);
    expect(revision(first)).toBe('r1');
    first.close();
    const file = path.join(dir, 'bundles', 'mcp', 'bundle.tar.gz');
    expect(fs.readFileSync(file).equals(r1)).toBe(true);
    expect(fs.readFileSync(file + '.etag', 'utf8')).toBe('"v1"');
    const url = bs.url;
    await bs.close();
    servers.splice(servers.indexOf(bs), 1);

    const timers = new FakeTimers();
    const second = manager(timers, dir);
    const errors = await second.start([{ name: 'mcp', source: url, persist: true }]);
    expect(errors.size).toBe(0); // the persisted copy counts as activated
    expect(revision(second)).toBe('r1');
    expect(second.allActivated()).toBe(true);
    // the download failed, so the next attempt is a backoff retry
    expect(timers.delays[0]).toBeLessThanOrEqual(120);
  });

  test('the persisted etag is sent on the first download after a restart', async () => {
    const dir = tmpDir();
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }));
    const first = manager(new FakeTimers(), dir);
    await first.start([{ name: 'mcp', source: bs.url, persist: true }]);
    first.close();
    const second = manager(new FakeTimers(), dir);
    await second.start([{ name: 'mcp', source: bs.url, persist: true }]);
    expect(bs.requests.map((r) => r.ifNoneMatch)).toEqual([undefined, '"v1"']);
    expect(revision(second)).toBe('r1');
  });

  test('without persist nothing is written', async () => {
    const dir = tmpDir();
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }));
    const first = manager(new FakeTimers(), dir);
    await first.start([{ name: 'mcp', source: bs.url }]);
    first.close();
    expect(fs.existsSync(path.join(dir, 'bundles'))).toBe(false);
  });
});

describe('/health?bundles and /ready through the server', () => {
  let pdp: PdpServer | undefined;
  afterEach(async () => {
    await pdp?.close();
    pdp = undefined;
  });

  test('500 / 503 until the remote bundle activates, 200 after', async () => {
    const bs = await server(etagReplies({ body: r1, etag: '"v1"' }));
    bs.next.push({ status: 503 });
    const timers = new FakeTimers();
    const cfg = defaultConfig();
    cfg.server.port = 0;
    cfg.decision_logs.output = 'off';
    cfg.bundles = [{ name: 'mcp', source: bs.url }];
    pdp = createPdpServer(cfg, { log: () => undefined, resolver: passThrough, defaultMetrics: false, pollTimers: timers });
    const errors = await pdp.bundles.start(cfg.bundles);
    expect(errors.size).toBe(1);
    await pdp.listen();
    const base = pdp.url();

    expect((await fetch(`${base}/health`)).status).toBe(200);
    const h = await fetch(`${base}/health?bundles`);
    expect(h.status).toBe(500);
    expect((await h.json()).error).toMatch(/not all configured bundles/);
    expect((await fetch(`${base}/ready`)).status).toBe(503);
    const d = await post(base, '/v1/decide', { tool: { name: 't' } });
    expect(d.status).toBe(503);
    expect(d.json.allow).toBe(false);

    await timers.fire();
    expect((await fetch(`${base}/health?bundles`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, bundles: { mcp: { revision: 'r1' } } });
    expect((await post(base, '/v1/decide', { tool: { name: 't' } })).json.allow).toBe(true);
  });
});
