/**
 * GET /v1/openapi.json: an OpenAPI 3.1 document of every route the server answers, whose request
 * schemas are the ones ajv validates with, and whose response schemas the live answers satisfy.
 */
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import decideSchema from '../../src/server/schemas/decide-request.schema.json';
import batchSchema from '../../src/server/schemas/decide-batch.schema.json';
import type { CallerAuth } from '../../src/server/types';
import { startWith, post } from './helpers';

const REGO = path.join(__dirname, '..', '..', 'rego');

// a caller is refused when it sends `x-refuse`, so the 401 answers can be checked too
const callerAuth: CallerAuth = {
  async authenticate(req) {
    if (req.headers['x-refuse']) return { ok: false, status: 401, wwwAuthenticate: 'Bearer realm="pdp"', message: 'refused for the test' };
    return { ok: true, caller: { id: 'gw', method: 'test' } };
  },
};

type Obj = Record<string, any>;

/** Every string route the express app (and routers mounted in it) answers, as "METHOD path". */
function expressRoutes(stack: any[]): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route && typeof layer.route.path === 'string') {
      for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${layer.route.path}`);
    } else if (layer.handle && Array.isArray(layer.handle.stack)) out.push(...expressRoutes(layer.handle.stack));
  }
  return out;
}

describe('GET /v1/openapi.json', () => {
  let pdp: Awaited<ReturnType<typeof startWith>>;
  let base: string;
  let doc: Obj;
  const ajv = new Ajv2020({ allErrors: true, strict: false });

  beforeAll(async () => {
    pdp = await startWith([REGO], {}, { callerAuth });
    base = pdp.url();
    const res = await fetch(base + '/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    doc = await res.json();
    ajv.addSchema(doc, 'openapi.json');
  });
  afterAll(async () => {
    await pdp.close();
  });

  /** The documented schema for an answer, compiled with the document's components in reach. */
  function responseValidator(p: string, method: string, status: number, type = 'application/json') {
    const op = doc.paths[p]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${p} is not documented`);
    const r = op.responses[String(status)];
    if (!r) throw new Error(`${method} ${p} does not document status ${status}`);
    const schema = r.content?.[type]?.schema;
    if (!schema) throw new Error(`${method} ${p} ${status} documents no ${type} body`);
    const rebased = JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi.json#/components/'));
    return ajv.compile(rebased);
  }

  function expectDocumented(p: string, method: string, status: number, body: unknown): void {
    const validate = responseValidator(p, method, status);
    if (!validate(body)) throw new Error(`${method} ${p} ${status}: ${JSON.stringify(body)} does not match: ${ajv.errorsText(validate.errors)}`);
  }

  test('is OpenAPI 3.1 and places the very schemas ajv validates requests with', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    const { $id: _a, ...decide } = decideSchema as Obj;
    const { $id: _b, ...batch } = batchSchema as Obj;
    expect(doc.components.schemas.DecideRequest).toEqual(decide);
    expect(doc.components.schemas.DecideBatchRequest).toEqual(batch);
    expect(doc.paths['/v1/decide'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DecideRequest' });
    // every security requirement names a declared scheme
    for (const req of doc.security) for (const name of Object.keys(req)) expect(doc.components.securitySchemes[name]).toBeDefined();
  });

  test('every route the app answers is documented, and every documented $ref resolves', () => {
    const routes = expressRoutes((pdp.app as any).router.stack);
    expect(routes.length).toBeGreaterThan(8);
    for (const r of routes) {
      const [method, p] = r.split(' ');
      expect([r, doc.paths[p]?.[method.toLowerCase()] !== undefined]).toEqual([r, true]);
    }
    // the lean node:http routes (not in express when lean) are documented too
    for (const p of ['/v1/decide', '/v1/decide/batch', '/v1/data/{path}']) expect(doc.paths[p]).toBeDefined();
    for (const [p, ops] of Object.entries(doc.paths as Obj)) {
      for (const [m, op] of Object.entries(ops as Obj)) {
        expect([p, m, typeof op.operationId]).toEqual([p, m, 'string']);
        for (const status of Object.keys(op.responses)) {
          const content = op.responses[status].content ?? {};
          if (content['application/json']) responseValidator(p, m, Number(status));
        }
      }
    }
  });

  test('decision answers match the documented schemas (200, 400, 401, batch)', async () => {
    const call = { tool: { server: 'billing', name: 'refunds.create' }, user: { id: 'u-1' } };
    const ok = await post(base, '/v1/decide', call);
    expect(ok.status).toBe(200);
    expectDocumented('/v1/decide', 'POST', 200, ok.json);
    const bad = await post(base, '/v1/decide', { tool: {} , extra: 1 });
    expect(bad.status).toBe(400);
    expectDocumented('/v1/decide', 'POST', 400, bad.json);
    const refused = await post(base, '/v1/decide', call, { 'x-refuse': '1' });
    expect(refused.status).toBe(401);
    expectDocumented('/v1/decide', 'POST', 401, refused.json);
    const batch = await post(base, '/v1/decide/batch', { items: [call, { tool: { name: 'x' } }] });
    expect(batch.status).toBe(200);
    expectDocumented('/v1/decide/batch', 'POST', 200, batch.json);
    // a schema that says nothing would pass anything: the documented one refuses a wrong shape
    expect(responseValidator('/v1/decide', 'POST', 200)({ allow: 'yes' })).toBe(false);
  });

  test('the explain parameters are documented, and explained answers match the schema', async () => {
    const params = doc.paths['/v1/decide'].post.parameters as Obj[];
    expect(params.map((x) => `${x.in} ${x.name}`)).toEqual(['query explain', 'header X-PDP-Explain']);
    const call = { tool: { server: 'billing', name: 'refunds.create' }, user: { id: 'u-1' } };
    const explained = await post(base, '/v1/decide?explain=full', call);
    expect(explained.status).toBe(200);
    expect(explained.json.explain.reasons.length).toBeGreaterThan(0);
    expectDocumented('/v1/decide', 'POST', 200, explained.json);
    expect(responseValidator('/v1/decide', 'POST', 200)({ ...explained.json, explain: { rules: [{ rule: 1 }] } })).toBe(false);
    const bad = await post(base, '/v1/decide?explain=maybe', call);
    expect(bad.status).toBe(400);
    expectDocumented('/v1/decide', 'POST', 400, bad.json);
  });

  test('Data API answers match (defined, undefined with warning, bad input)', async () => {
    const defined = await post(base, '/v1/data/mcp/authz/decision', { input: { tool: { name: 'x' } } });
    expect(defined.status).toBe(200);
    expect(defined.json.result).toBeDefined();
    expectDocumented('/v1/data/{path}', 'POST', 200, defined.json);
    const undef = await post(base, '/v1/data/no/such/thing', {});
    expect(undef.status).toBe(200);
    expect(undef.json.warning).toBeDefined();
    expectDocumented('/v1/data/{path}', 'POST', 200, undef.json);
    const root = await post(base, '/v1/data', { input: {} });
    expect(root.status).toBe(200);
    expectDocumented('/v1/data', 'POST', 200, root.json);
    const extras = await post(base, '/v1/data/mcp/authz/allow?metrics&provenance&pretty', { input: {} });
    expect(extras.json.metrics.timer_rego_query_eval_ns).toBeDefined();
    expectDocumented('/v1/data/{path}', 'POST', 200, extras.json);
    // the documented metrics are numbers
    expect(responseValidator('/v1/data/{path}', 'POST', 200)({ decision_id: 'd', metrics: { timer_server_handler_ns: 'slow' } })).toBe(false);
    const badGet = await fetch(base + '/v1/data/mcp/authz/decision?input=%7Bnot-json');
    expect(badGet.status).toBe(400);
    expectDocumented('/v1/data/{path}', 'GET', 400, await badGet.json());
  });

  test('operations and AuthZEN answers match', async () => {
    for (const [p, status] of [['/health', 200], ['/health/live', 200], ['/ready', 200], ['/health/ready', 200], ['/.well-known/authzen-configuration', 200]] as const) {
      const res = await fetch(base + p);
      expect([p, res.status]).toEqual([p, status]);
      expectDocumented(p, 'GET', status, await res.json());
    }
    const metrics = await fetch(base + '/metrics');
    expect(metrics.status).toBe(200);
    expect(doc.paths['/metrics'].get.responses['200'].content['text/plain']).toBeDefined();
    const tuple = { subject: { type: 'user', id: 'u-1' }, action: { name: 'tools/call' }, resource: { type: 'tool', id: 'billing/refunds.create' } };
    const one = await post(base, '/access/v1/evaluation', tuple);
    expect(one.status).toBe(200);
    expectDocumented('/access/v1/evaluation', 'POST', 200, one.json);
    const many = await post(base, '/access/v1/evaluations', { ...tuple, evaluations: [{}, { action: { name: 'tools/list' } }] });
    expect(many.status).toBe(200);
    expectDocumented('/access/v1/evaluations', 'POST', 200, many.json);
    const invalid = await post(base, '/access/v1/evaluation', { subject: {} });
    expect(invalid.status).toBe(400);
    expectDocumented('/access/v1/evaluation', 'POST', 400, invalid.json);
  });
});
