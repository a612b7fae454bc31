/**
 * An audit log that cannot be dodged: a request nested deeper than server.max_json_depth is refused
 * with 400 `too_deep` on every endpoint before anything evaluates or logs it; every answered decision
 * leaves a log line, and an event that cannot be serialised still leaves one naming its decision.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PassThrough } from 'stream';
import { startWith, post, tmpDir } from './helpers';
import type { PdpServer } from '../../src/server/server';
import { DecisionLogger, type DecisionEvent } from '../../src/server/decision-log';
import { deeperThan } from '../../src/util/json-depth';
import { loadConfig, ConfigError } from '../../src/server/config';

const REGO = path.join(__dirname, '..', '..', 'rego');

/** `[[[…0…]]]` n levels deep, built without recursion */
const nested = (n: number): string => '['.repeat(n) + '0' + ']'.repeat(n);
/** an object n levels deep, as a value */
function nestedValue(n: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
}

let pdp: PdpServer;
let logFile: string;
const tool = { server: 'billing', name: 'refunds.create' };

beforeAll(async () => {
  logFile = path.join(tmpDir(), 'decisions.log');
  pdp = await startWith([REGO], { decision_logs: { output: logFile, mask: [], buffer_size_limit_events: 1000 } });
});
afterAll(() => pdp?.close());

const dropped = async () => {
  const text = await pdp.metrics.registry.metrics();
  return Number(/^pdp_decision_log_dropped_total (\d+)/m.exec(text)?.[1] ?? NaN);
};

describe('a 10,000-level input', () => {
  const deep = `{"tool":{"name":"refunds.create"},"parameters":{"p":${nested(10000)}}}`;

  it('is refused with 400 too_deep on every endpoint, no crash, nothing logged', async () => {
    const answers = [
      await post(pdp.url(), '/v1/decide', deep),
      await post(pdp.url(), '/v1/decide/batch', `{"items":[${deep}]}`),
      await post(pdp.url(), '/v1/data/mcp/authz/decision', `{"input":${deep}}`),
    ];
    for (const a of answers) {
      expect(a.status).toBe(400);
      expect(a.json.allow).toBe(false);
      expect(JSON.stringify(a.json)).toContain('too_deep');
    }
    // GET: as deep as a URL allows (node refuses longer request lines itself, with 431)
    const get = await fetch(`${pdp.url()}/v1/data/mcp/authz/decision?input=${encodeURIComponent(`{"parameters":${nested(2000)}}`)}`);
    expect(get.status).toBe(400);
    expect(await get.json()).toMatchObject({ allow: false, code: 'too_deep' });
    const authzen = `{"subject":{"type":"user","id":"u"},"resource":{"type":"tool","id":"billing/refunds.create"},"action":{"name":"tools/call","properties":{"p":${nested(10000)}}}}`;
    for (const p of ['/access/v1/evaluation', '/access/v1/evaluations']) {
      const a = await post(pdp.url(), p, authzen);
      expect(a.status).toBe(400);
      expect(a.json).toMatchObject({ decision: false, error: { code: 'too_deep' } });
    }

    // the server still answers, and the one answered decision is the one logged line
    const ok = await post(pdp.url(), '/v1/decide', { tool, parameters: { amount: 1 } });
    expect(ok.status).toBe(200);
    await pdp.logger.drain();
    // the file stream writes asynchronously: wait until the answered decision's line is there
    for (let i = 0; i < 200 && !fs.readFileSync(logFile, 'utf8').includes(ok.json.decision_id); i++) await new Promise((r) => setTimeout(r, 10));
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).decision_id)).toEqual([ok.json.decision_id]);
    expect(await dropped()).toBe(0);
  });
});

describe('the limit', () => {
  it('is 64 levels of the whole body by default: 64 is answered, 65 refused', async () => {
    const body = (depth: number) => `{"tool":{"name":"t"},"parameters":{"p":${nested(depth - 2)}}}`;
    expect(deeperThan(JSON.parse(body(64)), 64)).toBe(false);
    expect((await post(pdp.url(), '/v1/decide', body(64))).status).toBe(200);
    const r = await post(pdp.url(), '/v1/decide', body(65));
    expect(r.status).toBe(400);
    expect(r.json.error).toEqual({ code: 'too_deep', message: 'request body nests deeper than 64 levels (server.max_json_depth)' });
  });

  it('is configurable (server.max_json_depth, 8 to 1000)', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'pdp.json');
    fs.writeFileSync(file, JSON.stringify({ server: { max_json_depth: 10 } }));
    expect(loadConfig({ configFile: file }, {}).server.max_json_depth).toBe(10);
    fs.writeFileSync(file, JSON.stringify({ server: { max_json_depth: 100000 } }));
    expect(() => loadConfig({ configFile: file }, {})).toThrow(ConfigError);
    const small = await startWith([REGO], { server: { ...pdp.config.server, port: 0, max_json_depth: 10 } });
    try {
      expect((await post(small.url(), '/v1/decide', `{"tool":{"name":"t"},"parameters":{"p":${nested(9)}}}`)).status).toBe(400);
      expect((await post(small.url(), '/v1/decide', `{"tool":{"name":"t"},"parameters":{"p":${nested(8)}}}`)).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('deeperThan does not recurse: a million levels are checked without a stack overflow', () => {
    expect(deeperThan(nestedValue(1_000_000), 64)).toBe(true);
    expect(deeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(deeperThan({ a: [1, { b: 2 }] }, 2)).toBe(true);
    expect(deeperThan('scalar', 0)).toBe(false);
  });
});

describe('a decision-log event that cannot be serialised', () => {
  it('still leaves a line naming its decision (without input), reported with the decision_id', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => (text += c));
    const errors: string[] = [];
    let drops = 0;
    const logger = new DecisionLogger({ output: 'stdout', mask: [], bufferSizeLimitEvents: 10, stream: out, onError: (e) => errors.push(e.message), onDrop: () => drops++ });
    const ev: DecisionEvent = { decision_id: 'd-deep', timestamp: '2026-01-01T00:00:00.000Z', path: 'mcp/authz/decision', input: nestedValue(200_000), bundles: { mcp: { revision: 'r1' } }, metrics: {} };
    logger.log(ev);
    logger.log({ ...ev, decision_id: 'd-ok', input: { a: 1 } });
    await logger.drain();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.decision_id)).toEqual(['d-deep', 'd-ok']);
    expect(lines[0]).toMatchObject({ path: 'mcp/authz/decision', erased: ['/input', '/result', '/mapped_result'], log_error: expect.stringContaining('could not be serialised') });
    expect(lines[0]).not.toHaveProperty('input');
    expect(lines[1].input).toEqual({ a: 1 });
    expect(errors).toEqual([expect.stringContaining('decision d-deep')]);
    expect(drops).toBe(0);
  });
});
