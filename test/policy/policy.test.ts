/**
 * The default MCP policy (rego/) through our compiler and the opa-wasm SDK: its Rego test suite via
 * the `pdp test` runner, decisions on full inputs, and the runner's own failure reporting.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTestsInPaths, runFailed } from '../../src/testing/runner';
import { compilePolicyPaths, type CompiledPolicy } from '../../src/testing/evaluate';
import { run as pdpTest } from '../../src/cli/commands/test';

const REGO = path.join(__dirname, '..', '..', 'rego');

interface Decision {
  allow: boolean;
  reasons: Array<{ code: string; message: string }>;
  obligations: Record<string, unknown>;
}

const future = '2099-12-31T23:59:59Z';

function user(id: string, roles: string[], mayAct = 'nobody', tenant = 'acme') {
  return { id, verified: true, assurance: 'verified', claims: { sub: id, tenant, roles, may_act: { sub: mayAct } }, attributes: {} };
}
function agent(id: string) {
  return { id, verified: true, assurance: 'verified', claims: { sub: id }, delegation: [], attributes: {} };
}
const refundTask = {
  id: 't-7',
  assurance: 'verified',
  scope: {
    tools: ['billing/refunds.*', 'billing/invoices.export'],
    data_domains: ['billing'],
    constraints: { max_amount: 200, max_records: 100 },
    grants: ['write'],
    expires_at: future,
  },
};
function call(name: string, parameters: Record<string, unknown>, who = user('u-bob', ['billing_specialist'])) {
  return {
    user: who,
    agent: agent('billing-bot'),
    tool: { server: 'billing', name, method: 'tools/call', annotations: {} },
    parameters,
    task: refundTask,
    context: { request_id: 'r-1' },
  };
}

function expectWellFormed(d: Decision): void {
  expect(typeof d.allow).toBe('boolean');
  expect(Array.isArray(d.reasons)).toBe(true);
  for (const r of d.reasons) {
    expect(typeof r.code).toBe('string');
    expect(typeof r.message).toBe('string');
    expect(r.message.length).toBeGreaterThan(0);
  }
  expect(typeof d.obligations).toBe('object');
  if (!d.allow) {
    expect(d.reasons.length).toBeGreaterThan(0);
    expect(d.obligations).toEqual({});
  }
}

describe('rego/ test suite (pdp test runner)', () => {
  it('runs at least 40 Rego tests with no failure', async () => {
    const report = await runTestsInPaths([REGO]);
    const failures = report.tests.filter((t) => !t.passed).map((t) => `${t.name}: ${t.error}`);
    expect(report.errors).toEqual([]);
    expect(failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.passed).toBeGreaterThanOrEqual(40);
    expect(runFailed(report)).toBe(false);
  });
});

describe('mcp/authz/decision on full inputs', () => {
  let policy: CompiledPolicy;
  beforeAll(async () => {
    policy = await compilePolicyPaths([REGO], 'mcp/authz/decision');
  });
  const decide = (input: unknown) => policy.evaluate(input) as Decision;

  it('allows a summary lookup with no reasons, redacting the IBAN for a role without see_pii', () => {
    const d = decide(call('refunds.lookup', { customer_id: 'c-1001', view: 'summary' }));
    expectWellFormed(d);
    expect(d).toEqual({ allow: true, reasons: [], obligations: { redact_fields: ['iban'] } });
  });

  it('allows a small refund with no reasons and no obligations', () => {
    const d = decide(call('refunds.create', { customer_id: 'c-1001', amount: 20, currency: 'EUR' }));
    expectWellFormed(d);
    expect(d).toEqual({ allow: true, reasons: [], obligations: {} });
  });

  it('denies a broad export in the same task, saying why', () => {
    const d = decide(call('invoices.export', { tenant: 'acme', max_records: 5000 }));
    expectWellFormed(d);
    expect(d.allow).toBe(false);
    expect(d.reasons.map((r) => r.code)).toContain('parameters.exceeds_scope_limit');
  });

  it('denies a large refund until its user has approved it, then allows it', () => {
    const ask = call('refunds.create', { customer_id: 'c-1001', amount: 150, currency: 'EUR' });
    const d = decide(ask);
    expectWellFormed(d);
    expect(d.allow).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual(['approval.required']);
    expect(d.reasons[0].message).toContain('amount=150');
    // input.approval is what the PDP's verification (src/identity/approvals.ts) puts there
    const ok = decide({ ...ask, approval: { verified: true, approved_by: 'u-bob', approved_at: '2026-12-03T12:00:00Z', jti: 'a-1' } });
    expect(ok.allow).toBe(true);
    expect(ok.obligations).toEqual({});
  });

  it('allows a narrow approved export with redaction', () => {
    const ask = call('invoices.export', { tenant: 'acme', max_records: 50 });
    expect(decide(ask).reasons.map((r) => r.code)).toEqual(['approval.required']);
    const d = decide({ ...ask, approval: { verified: true, approved_by: 'u-bob', jti: 'a-2' } });
    expectWellFormed(d);
    expect(d.allow).toBe(true);
    expect(d.obligations.redact_fields).toEqual(['iban', 'card_last4']);
  });

  it('denies an empty input with a reason for each missing part', () => {
    const d = decide({});
    expectWellFormed(d);
    const codes = d.reasons.map((r) => r.code);
    expect(codes).toEqual(expect.arrayContaining(['catalog.unknown_tool', 'identity.user_missing', 'agent.missing', 'task.missing']));
  });

  it('denies an asserted user and an unregistered agent', () => {
    const asserted = { ...call('refunds.lookup', { customer_id: 'c-1001' }), user: { id: 'u-bob', verified: false, assurance: 'asserted', claims: {} } };
    expect(decide(asserted).reasons.map((r) => r.code)).toContain('identity.user_unverified');
    const rogue = { ...call('refunds.lookup', { customer_id: 'c-1001' }), agent: agent('rogue-bot') };
    expect(decide(rogue).reasons.map((r) => r.code)).toContain('agent.unregistered');
  });

  it('gives the same answer on every evaluation of one instance', () => {
    // Guards against state leaking between evaluations (constants, caches, heap resets).
    const inputs = [
      call('refunds.lookup', { customer_id: 'c-1001' }),
      call('invoices.export', { tenant: 'globex', max_records: 5000 }),
      { ...call('refunds.lookup', { customer_id: 'c-1001' }), tool: { server: 'billing', name: 'refunds.lookup', method: 'resources/read' } },
    ];
    const first = inputs.map((i) => JSON.stringify(decide(i)));
    for (let round = 0; round < 5; round++) {
      expect(inputs.map((i) => JSON.stringify(decide(i)))).toEqual(first);
    }
  });
});

describe('pdp test runner reports failures', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-test-'));
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'data.json'), JSON.stringify({ limit: 3 }));
    fs.writeFileSync(path.join(dir, 'lib', 'lib.rego'), 'package lib\n\nsmall(n) if n <= data.lib.limit\n\nallow if input.n == 1\n');
    fs.writeFileSync(
      path.join(dir, 'lib', 'lib_test.rego'),
      [
        'package lib_test',
        '',
        'import data.lib',
        '',
        'test_small_passes if lib.small(2)',
        '',
        'test_big_fails if lib.small(9)',
        '',
        'test_false_fails := false',
        '',
        'test_with_input if lib.allow with input as {"n": 1}',
        '',
        'test_with_data if lib.small(9) with data.lib.limit as 10',
        '',
        'todo_later if false',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('counts passes, failures and skips, with a reason per failure', async () => {
    const report = await runTestsInPaths([dir]);
    expect(report.errors).toEqual([]);
    const byName = Object.fromEntries(report.tests.map((t) => [t.name.replace('data.lib_test.', ''), t]));
    expect(byName.test_small_passes.status).toBe('pass');
    expect(byName.test_with_input.status).toBe('pass');
    expect(byName.test_with_data.status).toBe('pass');
    expect(byName.test_big_fails).toMatchObject({ status: 'fail', error: 'undefined' });
    expect(byName.test_false_fails).toMatchObject({ status: 'fail', error: 'result is false' });
    expect(byName.todo_later.status).toBe('skip');
    expect([report.passed, report.failed, report.skipped]).toEqual([3, 2, 1]);
    expect(runFailed(report)).toBe(true);
  });

  it('filters with --run and prints JSON last on stdout, exiting 1 on failure', async () => {
    const out: string[] = [];
    const outSpy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await pdpTest([dir, '--run', 'fails', '--json']);
      expect(code).toBe(1);
      const json = JSON.parse(out.join(''));
      expect(json.passed).toBe(0);
      expect(json.failed).toBe(2);
      expect(json.tests.map((t: { name: string }) => t.name).sort()).toEqual(['data.lib_test.test_big_fails', 'data.lib_test.test_false_fails']);
      out.length = 0;
      expect(await pdpTest([dir, '--run', 'passes'])).toBe(0);
      expect(out.join('')).toMatch(/data\.lib_test\.test_small_passes: PASS \(/);
    } finally {
      outSpy.mockRestore();
      errSpy.mockRestore();
    }
  });

  it('reports compile errors with their location as test errors', async () => {
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-test-bad-'));
    try {
      fs.writeFileSync(path.join(bad, 'x_test.rego'), 'package x\n\ntest_a if {\n\tunknown_fn(1)\n}\n');
      const report = await runTestsInPaths([bad]);
      expect(report.tests.map((t) => t.status)).toEqual(['error']);
      expect(report.errored).toBe(1);
      expect(report.tests[0].error).toMatch(/x_test\.rego:4:\d+: /);
      expect(runFailed(report)).toBe(true);
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });
});
