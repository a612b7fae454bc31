/**
 * OPA's Data API against a real server: any rule or package path of a bundle compiled from .rego
 * sources answers as OPA would (compiled on demand, bounded, identity resolution as for entrypoints);
 * a wasm-only bundle says why it cannot answer a path; and OPA's request details: api_usage_warning,
 * any content type read as JSON, ?pretty, ?metrics, ?provenance, ?strict-builtin-errors.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startWith, post, tmpDir } from './helpers';
import type { PdpServer } from '../../src/server/server';
import { compile } from '../../src/compiler';
import { writeBundle } from '../../src/compiler/bundle';

const POLICY = `package app.authz

# METADATA
# entrypoint: true
decision := {"allow": allow, "limits": limits}

default allow := false

allow if input.user.verified == true

user_verified if input.user.verified == true

roles contains "viewer"

roles contains "admin" if input.user.id == "root"

limits := {"max": data.app.config.max}

double(x) := x * 2

parsed := to_number(input.n)
`;

function policyDir(): string {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'authz.rego'), POLICY);
  fs.mkdirSync(path.join(dir, 'app', 'config'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'app', 'config', 'data.json'), JSON.stringify({ max: 5 }));
  return dir;
}

/** The same policy built into a bundle file, without its sources (wasm only) or with them. */
function builtBundle(name: string, withSources: boolean, source = POLICY, regoVersion = 1): string {
  const out = compile({ modules: [{ file: 'authz.rego', source, regoVersion: regoVersion as 0 | 1 }], entrypoints: ['app/authz/decision'] });
  const file = path.join(tmpDir(), `${name}.tar.gz`);
  const manifest = { revision: 'w1', roots: ['app'], wasm: [{ entrypoint: 'app/authz/decision', module: '/policy.wasm' }], rego_version: regoVersion };
  const sources = withSources ? [{ file: 'app/authz/authz.rego', source }] : undefined;
  fs.writeFileSync(file, writeBundle({ manifest, data: { app: { config: { max: 5 } } }, wasm: out.wasm, sources }));
  return file;
}
const wasmOnlyBundle = () => builtBundle('wasm-only', false);

const over = { decision_entrypoint: 'app/authz/decision' };
let pdp: PdpServer;
let raw: PdpServer;
let small: PdpServer;
let wasmOnly: PdpServer;

beforeAll(async () => {
  const dir = policyDir();
  // resolver: undefined → the real identity resolver, as in production
  pdp = await startWith([dir], over, { resolver: undefined });
  raw = await startWith([dir], { ...over, data_api: { raw_input: true } }, { resolver: undefined });
  small = await startWith([dir], { ...over, data_api: { max_compiled_paths: 2 } });
  wasmOnly = await startWith([wasmOnlyBundle()], over);
});
afterAll(async () => {
  await Promise.all([pdp, raw, small, wasmOnly].map((s) => s?.close()));
});

const get = async (base: string, p: string) => {
  const res = await fetch(base + p);
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
};

describe('any rule or package path of a bundle with sources', () => {
  it('answers a rule that is not an entrypoint (it was silently undefined before)', async () => {
    const r = await post(pdp.url(), '/v1/data/app/authz/allow', { input: {} });
    expect(r.status).toBe(200);
    expect(r.json).toHaveProperty('result', false);
    expect(r.json.warning).toBeUndefined();
  });

  it('answers a package and the levels above it with base data and rules together (functions left out)', async () => {
    const r = await get(pdp.url(), '/v1/data/app');
    expect(r.json.result.config).toEqual({ max: 5 });
    expect(r.json.result.authz).toMatchObject({ allow: false, roles: ['viewer'], limits: { max: 5 } });
    expect(r.json.result.authz).not.toHaveProperty('double');
    const root = await get(pdp.url(), '/v1/data');
    expect(root.json.result.app.authz.limits).toEqual({ max: 5 });
  });

  it('answers a path below a rule or an entrypoint from its value, and a partial set member', async () => {
    expect((await get(pdp.url(), '/v1/data/app/authz/limits/max')).json.result).toBe(5);
    expect((await get(pdp.url(), '/v1/data/app/authz/decision/limits/max')).json.result).toBe(5);
    expect((await get(pdp.url(), '/v1/data/app/authz/roles/viewer')).json.result).toBe('viewer');
    expect((await get(pdp.url(), '/v1/data/app/authz/roles/admin')).json).not.toHaveProperty('result');
    const root = await post(pdp.url(), '/v1/data/app/authz/roles/admin', { input: { user: { id: 'root' } } });
    expect(root.json.result).toBe('admin');
  });

  it('a segment below an entrypoint that is a partial set is a membership test too', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'tags.rego'), 'package tags\n\n# METADATA\n# entrypoint: true\nall contains "red"\n\nall contains "blue"\n');
    const s = await startWith([dir], over);
    try {
      const hit = await get(s.url(), '/v1/data/tags/all/red?metrics');
      expect(hit.json.result).toBe('red');
      expect(hit.json.metrics).not.toHaveProperty('timer_rego_query_compile_ns'); // the entrypoint answered
      expect((await get(s.url(), '/v1/data/tags/all/green')).json).not.toHaveProperty('result');
    } finally {
      await s.close();
    }
  });

  it('a path that names nothing is undefined without compiling anything', async () => {
    const r = await post(pdp.url(), '/v1/data/app/authz/nope/deeper?metrics', { input: {} });
    expect(r.status).toBe(200);
    expect(r.json).not.toHaveProperty('result');
    expect(r.json.warning).toBeUndefined();
    expect(r.json.metrics).not.toHaveProperty('timer_rego_query_compile_ns');
  });

  it('keeps at most data_api.max_compiled_paths compiled paths: the least recently used is compiled again', async () => {
    const compiled = async (p: string) => 'timer_rego_query_compile_ns' in (await post(small.url(), `/v1/data/app/authz/${p}?metrics`, { input: {} })).json.metrics;
    expect(await compiled('allow')).toBe(true);
    const again = await post(small.url(), '/v1/data/app/authz/allow?metrics', { input: {} });
    expect(again.json.metrics.counter_server_query_cache_hit).toBe(1);
    expect(again.json.metrics).not.toHaveProperty('timer_rego_query_compile_ns');
    expect(await compiled('roles')).toBe(true);
    expect(await compiled('limits')).toBe(true); // allow is evicted now
    expect(await compiled('limits')).toBe(false);
    expect(await compiled('allow')).toBe(true);
  });

  it('compiles per bundle revision: after a reload the path answers the new policy', async () => {
    const dir = policyDir();
    const s = await startWith([dir], over);
    try {
      expect((await get(s.url(), '/v1/data/app/authz/roles')).json.result).toEqual(['viewer']);
      fs.writeFileSync(path.join(dir, 'authz.rego'), POLICY.replace('roles contains "viewer"', 'roles contains "editor"'));
      await s.bundles.reload(path.basename(dir));
      const r = await post(s.url(), '/v1/data/app/authz/roles?metrics', { input: {} });
      expect(r.json.result).toEqual(['editor']);
      expect(r.json.metrics).toHaveProperty('timer_rego_query_compile_ns');
    } finally {
      await s.close();
    }
  });

  it('answers the root from every bundle (their disjoint roots merged) and a path from the bundle that owns it', async () => {
    const other = tmpDir();
    fs.writeFileSync(path.join(other, 'ops.rego'), 'package ops\n\n# METADATA\n# entrypoint: true\nready := true\n\nlevel := 3\n');
    const s = await startWith([policyDir(), other], over);
    try {
      const root = await get(s.url(), '/v1/data');
      expect(root.json.result.ops).toEqual({ ready: true, level: 3 });
      expect(root.json.result.app.authz.limits).toEqual({ max: 5 });
      expect((await get(s.url(), '/v1/data/ops/level')).json.result).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('refuses absurd paths with a clear 400', async () => {
    const deep = await post(pdp.url(), '/v1/data/' + Array.from({ length: 65 }, () => 'a').join('/'), { input: {} });
    expect(deep.status).toBe(400);
    expect(deep.json).toMatchObject({ allow: false, code: 'invalid_parameter' });
    expect(deep.json.message).toMatch(/64 segments/);
    const long = await post(pdp.url(), '/v1/data/' + 'x'.repeat(3000), { input: {} });
    expect(long.status).toBe(400);
  });
});

describe('bundle files with sources', () => {
  it('a built bundle that carries its .rego files answers any rule too, each file read in the Rego version its manifest says', async () => {
    const v0 = 'package app.authz\n\ndecision = {"allow": allow}\n\ndefault allow = false\n\nlegacy { input.x == 1 }\n';
    const files = [builtBundle('with-sources', true), builtBundle('v0-sources', true, v0, 0)];
    for (const [i, file] of files.entries()) {
      const s = await startWith([file], over);
      try {
        const rule = i === 0 ? 'roles' : 'legacy';
        const r = await post(s.url(), `/v1/data/app/authz/${rule}`, { input: { x: 1 } });
        expect(r.status).toBe(200);
        expect(r.json.result).toEqual(i === 0 ? ['viewer'] : true);
        expect(r.json.warning).toBeUndefined();
      } finally {
        await s.close();
      }
    }
  });
});

describe('identity resolution applies to on-demand paths exactly as to entrypoints', () => {
  const forged = { input: { user: { id: 'u-1', verified: true, assurance: 'verified' } } };

  it('a forged verified: true is not what a non-entrypoint rule sees', async () => {
    const r = await post(pdp.url(), '/v1/data/app/authz/user_verified', forged);
    expect(r.status).toBe(200);
    expect(r.json).not.toHaveProperty('result');
    expect((await post(pdp.url(), '/v1/data/app/authz/allow', forged)).json.result).toBe(false);
    // the entrypoint agrees
    expect((await post(pdp.url(), '/v1/data/app/authz/decision', forged)).json.result.allow).toBe(false);
    const g = await get(pdp.url(), '/v1/data/app/authz/user_verified?input=' + encodeURIComponent(JSON.stringify(forged.input)));
    expect(g.json).not.toHaveProperty('result');
  });

  it('a token that fails verification is a deny on an on-demand path too, nothing evaluated', async () => {
    const r = await post(pdp.url(), '/v1/data/app/authz/user_verified', { input: { user: { id: 'u-1', token: 'not.a.jwt' } } });
    expect(r.status).toBe(200);
    expect(r.json).not.toHaveProperty('result');
    expect(r.json.allow).toBe(false);
    expect(r.json.reasons[0].code).toBe('identity.invalid_token');
  });

  it('only data_api.raw_input evaluates the input as sent (OPA)', async () => {
    expect((await post(raw.url(), '/v1/data/app/authz/user_verified', forged)).json.result).toBe(true);
  });
});

describe('a wasm-only bundle (no .rego sources)', () => {
  it('answers its entrypoints, paths below them and base data', async () => {
    expect((await post(wasmOnly.url(), '/v1/data/app/authz/decision', { input: {} })).json.result).toEqual({ allow: false, limits: { max: 5 } });
    expect((await post(wasmOnly.url(), '/v1/data/app/authz/decision/allow', { input: {} })).json.result).toBe(false);
    const d = await get(wasmOnly.url(), '/v1/data/app/config/max');
    expect(d.json.result).toBe(5);
    expect(d.json.warning).toBeUndefined();
  });

  it('says why another path is undefined instead of a silent undefined', async () => {
    const r = await post(wasmOnly.url(), '/v1/data/app/authz/allow', { input: {} });
    expect(r.status).toBe(200);
    expect(r.json).not.toHaveProperty('result');
    expect(r.json.warning.code).toBe('not_an_entrypoint');
    expect(r.json.warning.message).toMatch(/app\/authz\/allow is not an entrypoint of bundle wasm-only, which holds no \.rego sources \(wasm only\).*Entrypoints: app\/authz\/decision/);
  });

  it('warns when a data answer leaves rules out', async () => {
    const r = await get(wasmOnly.url(), '/v1/data/app');
    expect(r.json.result).toEqual({ config: { max: 5 } });
    expect(r.json.warning.message).toMatch(/base data only: app\/authz\/decision/);
  });

  it('refuses strict-builtin-errors, which needs the sources', async () => {
    const r = await post(wasmOnly.url(), '/v1/data/app/authz/decision?strict-builtin-errors', { input: {} });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ allow: false, code: 'invalid_parameter' });
    expect(r.json.message).toMatch(/wasm only/);
  });
});

describe("OPA's request details", () => {
  const MISSING = { code: 'api_usage_warning', message: "'input' key missing from the request" };

  it('api_usage_warning when a POST body has no input, an empty body, or input: null; not otherwise', async () => {
    expect((await post(pdp.url(), '/v1/data/app/authz/allow', {})).json.warning).toEqual(MISSING);
    expect((await post(pdp.url(), '/v1/data/app/authz/allow', '')).json.warning).toEqual(MISSING);
    expect((await post(pdp.url(), '/v1/data/app/authz/allow', { input: null })).json.warning).toEqual(MISSING);
    expect((await post(pdp.url(), '/v1/data/app/authz/allow', { input: {} })).json.warning).toBeUndefined();
    expect((await get(pdp.url(), '/v1/data/app/authz/allow')).json.warning).toBeUndefined();
  });

  it('reads the body as JSON whatever its content type (curl -d), refusing YAML clearly', async () => {
    const body = JSON.stringify({ input: { user: { id: 'root' } } });
    const form = await post(pdp.url(), '/v1/data/app/authz/roles', body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(200);
    expect(form.json.result.sort()).toEqual(['admin', 'viewer']);
    const none = await fetch(pdp.url() + '/v1/data/app/authz/roles', { method: 'POST', body: Buffer.from(body) });
    expect(none.status).toBe(200);
    expect(((await none.json()) as any).result.sort()).toEqual(['admin', 'viewer']);
    const yaml = await post(pdp.url(), '/v1/data/app/authz/roles', 'input: {}', { 'content-type': 'application/yaml' });
    expect(yaml.status).toBe(415);
    expect(yaml.json.allow).toBe(false);
    expect(yaml.json.error.message).toMatch(/YAML/);
  });

  it('?pretty indents the answer; without it (or =false) it is compact', async () => {
    const p = await get(pdp.url(), '/v1/data/app/config?pretty');
    expect(p.text).toContain('\n  "result": {\n    "max": 5\n  }');
    expect((await get(pdp.url(), '/v1/data/app/config?pretty=false')).text).not.toContain('\n');
    expect((await get(pdp.url(), '/v1/data/app/config')).text).not.toContain('\n');
  });

  it('?metrics gives OPA metric names, ?provenance the version and bundle revisions; neither by default', async () => {
    const m = await post(pdp.url(), '/v1/data/app/authz/decision?metrics=true&provenance', { input: {} });
    for (const k of ['timer_rego_input_parse_ns', 'timer_rego_query_eval_ns', 'timer_server_handler_ns']) expect(typeof m.json.metrics[k]).toBe('number');
    expect(m.json.metrics.counter_server_query_cache_hit).toBe(1);
    const version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
    const [name] = pdp.bundles.current().keys();
    expect(m.json.provenance).toEqual({ version, bundles: { [name]: { revision: pdp.bundles.current().get(name)!.revision } } });
    const plain = await post(pdp.url(), '/v1/data/app/authz/decision', { input: {} });
    expect(plain.json).not.toHaveProperty('metrics');
    expect(plain.json).not.toHaveProperty('provenance');
  });

  it('?strict-builtin-errors turns a built-in error into an evaluation error', async () => {
    const lax = await post(pdp.url(), '/v1/data/app/authz/parsed', { input: { n: 'abc' } });
    expect(lax.status).toBe(200);
    expect(lax.json).not.toHaveProperty('result');
    const strict = await post(pdp.url(), '/v1/data/app/authz/parsed?strict-builtin-errors', { input: { n: 'abc' } });
    expect(strict.status).toBe(500);
    expect(strict.json).toMatchObject({ allow: false, code: 'internal_error' });
    expect(strict.json.message).toMatch(/to_number/);
    expect((await post(pdp.url(), '/v1/data/app/authz/parsed?strict-builtin-errors', { input: { n: '12' } })).json.result).toBe(12);
  });
});
