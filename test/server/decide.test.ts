import * as fs from 'fs';
import * as path from 'path';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import { startWith, post, tmpDir } from './helpers';
import type { PdpServer } from '../../src/server/server';

let pdp: PdpServer;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'mcp.tar.gz'), await decisionBundle('r1', {
    'mcp/authz/boom': [{ abort: 'eval_conflict_error: complete rules must not produce multiple outputs' }],
    'mcp/authz/undef': ['[]'],
    'mcp/authz/num': ['[{"result":1}]'],
  }));
  pdp = await startWith([path.join(dir, 'mcp.tar.gz')]);
  base = pdp.url();
});
afterAll(() => pdp.close());

const req = { tool: { name: 'refunds.create', server: 'billing' }, parameters: { amount: 5 } };

describe('POST /v1/decide', () => {
  test('answers 200 with the decision contract', async () => {
    const r = await post(base, '/v1/decide', req);
    expect(r.status).toBe(200);
    expect(r.json.allow).toBe(true);
    expect(r.json.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.json.reasons).toEqual([]);
    expect(r.json.obligations).toEqual({ data: { rev: 'r1' } });
    expect(r.json.policy).toEqual({ bundle: 'mcp', revision: 'r1', entrypoint: 'mcp/authz/decision' });
  });

  test('{} is a 400 listing the errors', async () => {
    const r = await post(base, '/v1/decide', {});
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_request');
    expect(r.json.error.details).toEqual([expect.objectContaining({ keyword: 'required' })]);
  });

  test('every schema error is reported', async () => {
    const r = await post(base, '/v1/decide', { tool: { name: 3 }, user: 'x', tools: 1 });
    expect(r.status).toBe(400);
    const paths = r.json.error.details.map((d: any) => d.path).sort();
    expect(paths).toEqual(['/', '/tool/name', '/user']);
  });

  test('non-JSON is 415, bad JSON 400, 2 MiB 413', async () => {
    const a = await post(base, '/v1/decide', 'tool=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(a.status).toBe(415);
    const b = await post(base, '/v1/decide', '{"tool":');
    expect(b.status).toBe(400);
    expect(b.json.error.code).toBe('invalid_json');
    const c = await post(base, '/v1/decide', JSON.stringify({ tool: { name: 'x' }, parameters: { pad: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(c.status).toBe(413);
    expect(c.json.error.code).toBe('payload_too_large');
  });

  test('batch answers in order, with defaults merged', async () => {
    const r = await post(base, '/v1/decide/batch', { defaults: { user: { id: 'u1' } }, items: [{ tool: { name: 'a' } }, { tool: { name: 'b' } }] });
    expect(r.status).toBe(200);
    expect(r.json.results).toHaveLength(2);
    expect(r.json.results.every((x: any) => x.allow === true)).toBe(true);
    const bad = await post(base, '/v1/decide/batch', { items: [{ tool: { name: 'a' } }, {}] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe('/items/1');
  });

  test('batch: an item\'s "__proto__" is a field of the item, never what the schema check reads its tool from', async () => {
    // merging the item over the defaults once assigned "__proto__" as the merged item's prototype: the
    // schema then found the inherited tool while the policy's input had none
    const body = '{"defaults": {"user": {"id": "u1"}}, "items": [{"__proto__": {"tool": {"name": "a"}}}]}';
    const r = await post(base, '/v1/decide/batch', body);
    expect(r.status).toBe(400);
    expect(r.json.allow).toBe(false);
    expect(r.json.error.details[0]).toMatchObject({ path: '/items/0', keyword: 'required', params: { missingProperty: 'tool' } });
  });

  test('OPA Data API: result, undefined without a result key, data paths, GET', async () => {
    const r = await post(base, '/v1/data/mcp/authz/echo', { input: { a: [1, 2] } });
    expect(r.status).toBe(200);
    expect(r.json.result).toEqual({ input: { a: [1, 2] }, data: { rev: 'r1' } });
    expect(typeof r.json.decision_id).toBe('string');
    const u = await post(base, '/v1/data/mcp/authz/undef', { input: {} });
    expect(u.status).toBe(200);
    expect('result' in u.json).toBe(false);
    const d = await post(base, '/v1/data/rev', {});
    expect(d.json.result).toBe('r1');
    expect(d.json.warning.code).toBe('api_usage_warning');
    const g = await fetch(base + '/v1/data/mcp/authz/echo?input=' + encodeURIComponent('false'));
    expect((await g.json()).result).toEqual({ input: false, data: { rev: 'r1' } });
    const e = await post(base, '/v1/data/mcp/authz/boom', { input: {} });
    expect(e.status).toBe(500);
    expect(e.json.message).toMatch(/eval_conflict_error/);
  });

  test('an evaluation error is a 500 deny with the error, counted', async () => {
    const r = await post(base, '/v1/data/x', {}); // warm
    expect(r.status).toBe(200);
    const pdp2 = pdp;
    const res = pdp2.service.decideSync({}, { path: 'test', entrypoint: 'mcp/authz/boom' });
    expect(res.allow).toBe(false);
    expect(res.error?.code).toBe('evaluation_error');
    const metrics = await pdp.metrics.registry.metrics();
    expect(metrics).toMatch(/pdp_decisions_total\{result="error",bundle="mcp"\} 1/);
  });

  test('undefined and non-boolean decisions deny with a reason', async () => {
    const u = pdp.service.decideSync({}, { path: 'test', entrypoint: 'mcp/authz/undef' });
    expect(u).toMatchObject({ allow: false, reasons: [{ code: 'policy.undefined' }] });
    const n = pdp.service.decideSync({}, { path: 'test', entrypoint: 'mcp/authz/num' });
    expect(n).toMatchObject({ allow: false, reasons: [{ code: 'policy.invalid_result' }] });
  });

  test('health, ready, metrics', async () => {
    expect((await fetch(base + '/health')).status).toBe(200);
    const hb = await fetch(base + '/health?bundles');
    expect(hb.status).toBe(200);
    expect(await hb.json()).toEqual({});
    const ready = await fetch(base + '/ready');
    expect(ready.status).toBe(200);
    const m = await (await fetch(base + '/metrics')).text();
    for (const name of ['http_request_duration_seconds', 'pdp_decisions_total', 'pdp_decision_eval_seconds', 'pdp_bundle_loads_total', 'pdp_bundle_active_revision', 'pdp_decision_log_dropped_total']) {
      expect(m).toContain(name);
    }
    expect(m).toMatch(/http_request_duration_seconds_count\{code="200",handler="v1\/decide",method="POST"\} \d+/);
    expect(m).toMatch(/pdp_bundle_active_revision\{bundle="mcp",revision="r1"\} 1/);
    expect((await fetch(base + '/nope')).status).toBe(404);
  });
});

describe('readiness without an active bundle', () => {
  test('a missing bundle: /ready 503, /health?bundles 500, decide 503 deny', async () => {
    const p = await startWith([path.join(tmpDir(), 'missing.tar.gz')].filter(() => false));
    try {
      expect((await fetch(p.url() + '/ready')).status).toBe(503);
      const r = await post(p.url(), '/v1/decide', req);
      expect(r.status).toBe(503);
      expect(r.json.allow).toBe(false);
    } finally {
      await p.close();
    }
  });
});
