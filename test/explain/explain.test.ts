/**
 * Explaining decisions of the default policy (rego/): the instrumented module answers exactly what the
 * plain one answers, an allow names the allow rule's bodies that held (file:line), a deny maps each
 * reason code to the deny body that produced it; over HTTP: `?explain=full` / `X-PDP-Explain: full`,
 * the plain module alone without it, 400 for a wasm-only bundle, and `decision_logs.explain`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compile } from '../../src/compiler';
import { loadPolicyDir } from '../../src/compiler/load';
import { WasmPolicy } from '../../src/engine/policy';
import { explanationOf, hasExplainer } from '../../src/engine/explain';
import { defaultConfig } from '../../src/server/config';
import type { PdpServer } from '../../src/server/server';
import { decisionBundle, tarGz } from '../bundles/fixtures/make-bundle';
import { startWith, post, tmpDir } from '../server/helpers';

const REGO = path.join(__dirname, '..', '..', 'rego');
const EP = 'mcp/authz/decision';
const future = '2099-12-31T23:59:59Z';

const user = (id: string, roles: string[]) => ({ id, verified: true, assurance: 'verified', claims: { sub: id, tenant: 'acme', roles, may_act: { sub: 'nobody' } }, attributes: {} });
const agent = (id: string) => ({ id, verified: true, assurance: 'verified', claims: { sub: id }, delegation: [], attributes: {} });
const task = { id: 't-7', assurance: 'verified', scope: { tools: ['billing/refunds.*', 'billing/invoices.export'], data_domains: ['billing'], constraints: { max_amount: 200, max_records: 100 }, grants: ['write'], expires_at: future } };
const call = (name: string, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  user: user('u-bob', ['billing_specialist']), agent: agent('billing-bot'), tool: { server: 'billing', name, method: 'tools/call', annotations: {} },
  parameters, task, context: { request_id: 'r-1' }, ...extra,
});

const ALLOWED = call('refunds.create', { customer_id: 'c-1001', amount: 20, currency: 'EUR' });
const INPUTS: unknown[] = [
  ALLOWED,
  call('refunds.lookup', { customer_id: 'c-1001', view: 'summary' }),
  call('refunds.create', { customer_id: 'c-1001', amount: 150, currency: 'EUR' }),
  call('refunds.create', { customer_id: 'c-1001', amount: 150, currency: 'EUR' }, { approval: { verified: true, approved_by: 'u-bob', jti: 'a-1' } }),
  call('invoices.export', { tenant: 'acme', max_records: 5000 }),
  call('invoices.export', { tenant: 'globex', max_records: 50 }),
  call('refunds.create', { customer_id: 'c-1001', amount: 'lots', currency: 'EUR', extra: true }),
  call('refunds.lookup', { customer_id: 'c-1001' }, { agent: agent('rogue-bot') }),
  call('refunds.lookup', { customer_id: 'c-1001' }, { user: { id: 'u-bob', verified: false, assurance: 'asserted', claims: {} } }),
  call('refunds.lookup', { customer_id: 'c-1001' }, { task: { ...task, scope: { ...task.scope, expires_at: '2001-01-01T00:00:00Z' } } }),
  call('nope.tool', {}),
  { ...call('refunds.lookup', { customer_id: 'c-1001' }), tool: { server: 'billing', name: 'refunds.lookup', method: 'resources/read' } },
  {},
];

/** The lines of rego/mcp/authz/*.rego where a deny rule with this literal code starts. */
function denyLines(code: string): string[] {
  const out: string[] = [];
  for (const f of fs.readdirSync(path.join(REGO, 'mcp', 'authz'))) {
    if (!f.endsWith('.rego') || f.endsWith('_test.rego')) continue;
    fs.readFileSync(path.join(REGO, 'mcp', 'authz', f), 'utf8').split('\n').forEach((l, i) => {
      if (l.startsWith(`deny contains {"code": "${code}"`)) out.push(`mcp/authz/${f}:${i + 1}`);
    });
  }
  return out;
}

describe('the instrumented module of the default policy', () => {
  let plain: WasmPolicy;
  let instr: WasmPolicy;
  beforeAll(() => {
    const loaded = loadPolicyDir([REGO]);
    const modules = loaded.modules.filter((m) => !m.file.endsWith('_test.rego')).map((m) => ({ ...m, file: path.relative(REGO, m.file) }));
    plain = WasmPolicy.loadSync(compile({ modules, entrypoints: [EP] }).wasm);
    instr = WasmPolicy.loadSync(compile({ modules, entrypoints: [EP], explain: true }).wasm);
    plain.setData(loaded.data);
    instr.setData(loaded.data);
  });

  it('answers exactly what the plain module answers, over 13 inputs (and notes only when instrumented)', () => {
    const kinds = new Set<boolean>();
    for (const input of INPUTS) {
      const a = plain.evaluateJsonWithNotes(EP, JSON.stringify(input));
      const b = instr.evaluateJsonWithNotes(EP, JSON.stringify(input));
      expect(b.resultSet).toEqual(a.resultSet);
      expect(a.notes).toEqual([]);
      expect(b.notes.length).toBeGreaterThan(0);
      kinds.add((a.resultSet[0].result as { allow: boolean }).allow);
    }
    expect([...kinds].sort()).toEqual([false, true]); // both allows and denies were compared
    expect(plain.builtins).not.toContain('internal.pdp_explain_note');
    expect(instr.builtins).toContain('internal.pdp_explain_note');
  });

  it('explains an allow by the body of the allow rule that held, at its file:line', () => {
    const { resultSet, notes } = instr.evaluateJsonWithNotes(EP, JSON.stringify(ALLOWED));
    const value = resultSet[0].result as { allow: boolean; reasons: [] };
    expect(value.allow).toBe(true);
    const e = explanationOf(notes, EP, value, value.reasons);
    const line = fs.readFileSync(path.join(REGO, 'mcp/authz/decision.rego'), 'utf8').split('\n').indexOf('allow if {') + 1;
    expect(e.allow).toEqual([{ rule: 'data.mcp.authz.allow', kind: 'body', location: `mcp/authz/decision.rego:${line}:1` }]);
    expect(e.rules.map((r) => r.rule)).toEqual(expect.arrayContaining(['data.mcp.authz.allowed_but_for_approval', 'data.mcp.authz.approval_satisfied']));
    expect(e.rules.some((r) => r.rule === 'data.mcp.authz.deny')).toBe(false);
    expect(e.reasons).toEqual([]);
  });

  it('maps each reason of a deny to the deny body that produced it', () => {
    for (const input of [{}, INPUTS[4], INPUTS[7], INPUTS[9]]) {
      const { resultSet, notes } = instr.evaluateJsonWithNotes(EP, JSON.stringify(input));
      const value = resultSet[0].result as { allow: boolean; reasons: Array<{ code: string; message: string }> };
      expect(value.allow).toBe(false);
      const e = explanationOf(notes, EP, value, value.reasons);
      expect(e.reasons.map((r) => r.code)).toEqual(value.reasons.map((r) => r.code));
      for (const r of e.reasons) {
        const lines = denyLines(r.code);
        expect(lines.length).toBeGreaterThan(0);
        expect(r.rules.length).toBeGreaterThan(0);
        for (const p of r.rules) {
          expect(p.rule).toBe('data.mcp.authz.deny');
          expect(lines).toContain(p.location.replace(/:\d+$/, ''));
        }
      }
      // the default allow was taken
      expect(e.allow).toEqual([expect.objectContaining({ rule: 'data.mcp.authz.allow', kind: 'default' })]);
    }
  });

  it('maps a reason that no deny body adds (approval.required) to the rules that built it', () => {
    const { resultSet, notes } = instr.evaluateJsonWithNotes(EP, JSON.stringify(INPUTS[2]));
    const value = resultSet[0].result as { reasons: Array<{ code: string }> };
    expect(value.reasons.map((r) => r.code)).toEqual(['approval.required']);
    const e = explanationOf(notes, EP, value, value.reasons as Array<{ code: string }>);
    expect(e.reasons[0].rules.map((r) => r.rule)).toEqual(['data.mcp.authz.approval_reason']);
    expect(e.reasons[0].rules[0].location).toMatch(/^mcp\/authz\/approval\.rego:\d+:1$/);
  });
});

describe('POST /v1/decide?explain=full', () => {
  let pdp: PdpServer;
  let base: string;
  let logFile: string;
  beforeAll(async () => {
    logFile = path.join(tmpDir(), 'decisions.log');
    pdp = await startWith([REGO], { decision_entrypoint: EP });
    base = pdp.url();
  });
  afterAll(() => pdp.close());

  it('without explain: no explain member, and no instrumented module is compiled', async () => {
    const r = await post(base, '/v1/decide', ALLOWED);
    expect(r.status).toBe(200);
    expect(r.json.allow).toBe(true);
    expect(r.json).not.toHaveProperty('explain');
    const bundle = [...pdp.bundles.current().values()][0];
    expect(hasExplainer(bundle)).toBe(false);
  });

  it('answers the same decision plus explain, by query or header', async () => {
    // every input the decide schema takes (not {}: no tool; not an `approval` object: that is a token there)
    const bodies = INPUTS.filter((i) => 'tool' in (i as object) && !('approval' in (i as object)));
    expect(bodies.length).toBeGreaterThanOrEqual(10);
    for (const input of bodies) {
      const plain = await post(base, '/v1/decide', input);
      expect(plain.status).toBe(200);
      const q = await post(base, '/v1/decide?explain=full', input);
      const h = await post(base, '/v1/decide', input, { 'X-PDP-Explain': 'full' });
      for (const x of [q, h]) {
        expect(x.status).toBe(200);
        const { decision_id: _a, explain, ...rest } = x.json;
        const { decision_id: _b, ...want } = plain.json;
        expect(rest).toEqual(want);
        expect(explain.rules.length).toBeGreaterThan(0);
        expect(explain.reasons.map((r: { code: string }) => r.code)).toEqual(want.reasons.map((r: { code: string }) => r.code));
        if (want.allow) expect(explain.allow.map((a: { kind: string }) => a.kind)).toEqual(['body']);
      }
    }
    const bundle = [...pdp.bundles.current().values()][0];
    expect(hasExplainer(bundle)).toBe(true);
  });

  it('explains each result of a batch', async () => {
    const r = await post(base, '/v1/decide/batch?explain=full', { items: [ALLOWED, INPUTS[4]] });
    expect(r.status).toBe(200);
    expect(r.json.results.map((x: { allow: boolean }) => x.allow)).toEqual([true, false]);
    expect(r.json.results[0].explain.allow[0].rule).toBe('data.mcp.authz.allow');
    expect(r.json.results[1].explain.reasons.map((x: { code: string }) => x.code)).toContain('parameters.exceeds_scope_limit');
    const plain = await post(base, '/v1/decide/batch', { items: [ALLOWED] });
    expect(plain.json.results[0]).not.toHaveProperty('explain');
  });

  it('refuses an unknown explain value', async () => {
    const r = await post(base, '/v1/decide?explain=yes', ALLOWED);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_request');
  });

  it('refuses explain for a bundle built elsewhere without sources (400 explain_unavailable)', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'mcp.tar.gz'), await decisionBundle('r1'));
    const other = await startWith([path.join(dir, 'mcp.tar.gz')]);
    try {
      const r = await post(other.url(), '/v1/decide?explain=full', ALLOWED);
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ allow: false, error: { code: 'explain_unavailable' } });
      expect(r.json.error.message).toMatch(/no \.rego sources/);
      expect((await post(other.url(), '/v1/decide', ALLOWED)).json.allow).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('withholds the explanation when the sources answer differently from the served wasm, and keeps the served answer', async () => {
    const served = compile({ modules: [{ file: 'mm.rego', source: 'package mm\ndecision := {"allow": true, "reasons": []}\n' }], entrypoints: ['mm/decision'] }).wasm;
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'mm.tar.gz'), await tarGz({
      '/.manifest': JSON.stringify({ revision: 'x', roots: [''], wasm: [{ entrypoint: 'mm/decision', module: '/policy.wasm' }] }),
      '/policy.wasm': served,
      '/mm.rego': 'package mm\ndecision := {"allow": false, "reasons": [{"code": "other"}]}\n',
    }));
    const other = await startWith([path.join(dir, 'mm.tar.gz')], { decision_entrypoint: 'mm/decision' });
    try {
      const r = await post(other.url(), '/v1/decide?explain=full', ALLOWED);
      expect(r.status).toBe(200);
      expect(r.json.allow).toBe(true);
      expect(r.json.reasons).toEqual([]);
      expect(r.json.explain).toEqual({ unavailable: expect.stringMatching(/answered differently/) });
    } finally {
      await other.close();
    }
  });

  it('authenticates the caller and resolves identities exactly as an ordinary decide', async () => {
    const seen: unknown[] = [];
    const other = await startWith([REGO], { decision_entrypoint: EP }, {
      callerAuth: {
        async authenticate(req) {
          if (req.headers['x-refuse']) return { ok: false, status: 401, wwwAuthenticate: 'Bearer', message: 'refused for the test' };
          return { ok: true, caller: { id: 'gw', method: 'test' } };
        },
      },
      resolver: {
        async resolve(body, _headers, caller) {
          seen.push(caller);
          const b = body as Record<string, any>;
          if (b.user?.token === 'bad') return { input: b, deny: { code: 'identity.invalid_token', message: 'bad token' } };
          return { input: b };
        },
      },
    });
    try {
      const refused = await post(other.url(), '/v1/decide?explain=full', ALLOWED, { 'x-refuse': '1' });
      expect(refused.status).toBe(401);
      expect(seen).toEqual([]); // nothing resolved, nothing compiled for a refused caller
      expect(hasExplainer([...other.bundles.current().values()][0])).toBe(false);
      const ok = await post(other.url(), '/v1/decide?explain=full', ALLOWED);
      expect(ok.json.allow).toBe(true);
      expect(seen).toEqual([{ id: 'gw', method: 'test' }]);
      const denied = await post(other.url(), '/v1/decide?explain=full', { ...ALLOWED, user: { ...ALLOWED.user, token: 'bad' } });
      expect(denied.json.allow).toBe(false);
      expect(denied.json.reasons.map((r: { code: string }) => r.code)).toEqual(['identity.invalid_token']);
      expect(denied.json.explain).toMatchObject({ rules: [], reasons: [{ code: 'identity.invalid_token', rules: [] }], not_evaluated: expect.any(String) });
    } finally {
      await other.close();
    }
  });

  it('decision_logs.explain puts the explanation into the log line', async () => {
    const logged = await startWith([REGO], { decision_entrypoint: EP, decision_logs: { ...defaultConfig().decision_logs, output: logFile, explain: true } });
    try {
      const r = await post(logged.url(), '/v1/decide', INPUTS[4]);
      expect(r.json).not.toHaveProperty('explain');
      expect(r.json.allow).toBe(false);
    } finally {
      await logged.close();
    }
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const ev = lines[lines.length - 1];
    expect(ev.explain.reasons.map((r: { code: string }) => r.code)).toContain('parameters.exceeds_scope_limit');
    expect(ev.explain.reasons.every((r: { rules: unknown[] }) => r.rules.length > 0)).toBe(true);
  });
});
