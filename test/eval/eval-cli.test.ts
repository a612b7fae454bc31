/**
 * `pdp eval`: opa eval's output shape from our compiler and engine, and the same answers as the
 * server gives for the default policy.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { run as pdpEval } from '../../src/cli/commands/eval';
import { writeBundle, compiledManifest, bundleMembers } from '../../src/compiler/bundle';
import { compile } from '../../src/compiler';
import { startWith, post, tmpDir } from '../server/helpers';
import { fileTree } from '../helpers/file-tree';

const ROOT = path.join(__dirname, '..', '..');
const REGO = path.join(ROOT, 'rego');

/** Runs `pdp eval` in-process; returns the exit code and what it printed. */
async function evalCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  let code: number;
  try {
    code = await pdpEval(args);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  let json: any;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}

function writeJson(dir: string, name: string, v: unknown): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, JSON.stringify(v));
  return f;
}

const user = { id: 'u-bob', verified: true, assurance: 'verified', claims: { sub: 'u-bob', tenant: 'acme', roles: ['billing_specialist'], may_act: { sub: 'billing-bot' } }, attributes: {} };
const agent = { id: 'billing-bot', verified: true, assurance: 'verified', claims: { sub: 'billing-bot' }, delegation: [], attributes: {} };
const task = {
  id: 't-7', assurance: 'verified',
  scope: { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 200 }, grants: ['write'], expires_at: '2099-12-31T23:59:59Z' },
};
const inputs: Record<string, unknown> = {
  empty: {},
  refund: { user, agent, task, tool: { server: 'billing', name: 'refunds.create', method: 'tools/call', annotations: {} }, parameters: { customer_id: 'c-1001', amount: 40, currency: 'EUR' }, context: { request_id: 'r-1' } },
  overLimit: { user, agent, task, tool: { server: 'billing', name: 'refunds.create', method: 'tools/call', annotations: {} }, parameters: { customer_id: 'c-9', amount: 900, currency: 'EUR' }, context: { request_id: 'r-2' } },
  unknownTool: { user, agent, task, tool: { server: 'x', name: 'nope', method: 'tools/call' }, parameters: {} },
};

describe('pdp eval against the server, on the default policy', () => {
  let pdp: Awaited<ReturnType<typeof startWith>>;
  let base: string;
  beforeAll(async () => {
    pdp = await startWith([REGO]);
    base = pdp.url();
  });
  afterAll(async () => {
    await pdp.close();
  });

  test.each(Object.keys(inputs))('data.mcp.authz.decision on input %s: the Data API answer', async (name) => {
    const dir = tmpDir();
    const inputFile = writeJson(dir, 'input.json', inputs[name]);
    const server = await post(base, '/v1/data/mcp/authz/decision', { input: inputs[name] });
    expect(server.status).toBe(200);
    const cli = await evalCli(['-d', REGO, '-i', inputFile, 'data.mcp.authz.decision']);
    expect(cli.code).toBe(0);
    expect(cli.json.result).toHaveLength(1);
    const [{ expressions, bindings }] = cli.json.result;
    expect(bindings).toBeUndefined();
    expect(expressions).toEqual([{ value: server.json.result, text: 'data.mcp.authz.decision', location: { row: 1, col: 1 } }]);
    // the decision endpoint answers the same allow and reasons (its schema requires a tool)
    if (name === 'empty') return;
    const decided = await post(base, '/v1/decide', inputs[name]);
    expect(decided.status).toBe(200);
    expect(decided.json.allow).toBe(expressions[0].value.allow);
    expect(decided.json.reasons).toEqual(expressions[0].value.reasons);
  });

  test('at least one input is allowed and one denied (the comparison covers both)', async () => {
    const answers = await Promise.all(Object.values(inputs).map((i) => post(base, '/v1/data/mcp/authz/decision', { input: i })));
    const allows = answers.map((a) => a.json.result.allow);
    expect(allows).toContain(true);
    expect(allows).toContain(false);
  });
});

describe('pdp eval queries', () => {
  let dir: string;
  beforeAll(() => {
    dir = fileTree({
      'p/x.rego': 'package x\n\ny := {"b": 2, "a": 1}\n\nallow if input.user == "ann"\n\nf(v) := v * 10\n',
      'p/data.json': JSON.stringify({ a: [3, 1, 2], roles: { ann: 'admin' } }),
    }, 'pdp-eval-');
  });

  test('data.x.y: one expression with its value and location, keys sorted as OPA writes them', async () => {
    const r = await evalCli(['-d', path.join(dir, 'p'), 'data.x.y']);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ result: [{ expressions: [{ value: { a: 1, b: 2 }, text: 'data.x.y', location: { row: 1, col: 1 } }] }] });
    expect(r.stdout).toBe(JSON.stringify(r.json, null, 2) + '\n');
    expect(r.stdout.indexOf('"a"')).toBeLessThan(r.stdout.indexOf('"b"'));
  });

  test('x := data.a[_]: one result per solution in evaluation order, the assignment\'s value is true', async () => {
    const r = await evalCli(['--data', path.join(dir, 'p'), 'x := data.a[_]']);
    expect(r.code).toBe(0);
    const xs = r.json.result.map((row: any) => row.bindings.x);
    expect(xs).toEqual([3, 1, 2]);
    for (const row of r.json.result) expect(row.expressions).toEqual([{ value: true, text: 'x := data.a[_]', location: { row: 1, col: 1 } }]);
  });

  test('duplicates and nested iteration come as OPA gives them: every solution, outer loop first', async () => {
    const r = await evalCli(['x := [3, 1, 1][_]; y := {"b": 1, "a": 2}[k]']);
    expect(r.json.result.map((row: any) => row.bindings)).toEqual([
      { k: 'a', x: 3, y: 2 }, { k: 'b', x: 3, y: 1 },
      { k: 'a', x: 1, y: 2 }, { k: 'b', x: 1, y: 1 },
      { k: 'a', x: 1, y: 2 }, { k: 'b', x: 1, y: 1 },
    ]);
    const values = await evalCli(['-f', 'raw', '[2, 2, 1][_]']);
    expect(values.stdout).toBe('2\n2\n1\n');
  });

  test('undefined → {} (exit 0; 1 with --fail), and a false term is undefined too', async () => {
    for (const q of ['data.x.nope', 'data.x.allow', '1 == 2']) {
      const r = await evalCli(['-d', path.join(dir, 'p'), q]);
      expect([q, r.code, r.stdout]).toEqual([q, 0, '{}\n']);
    }
    expect((await evalCli(['-d', path.join(dir, 'p'), '--fail', 'data.x.nope'])).code).toBe(1);
    expect((await evalCli(['-d', path.join(dir, 'p'), '--fail-defined', 'data.x.y'])).code).toBe(1);
    expect((await evalCli(['-d', path.join(dir, 'p'), '--fail', 'data.x.y'])).code).toBe(0);
  });

  test('several expressions: each text and location; term values captured, input from -i', async () => {
    const input = writeJson(dir, 'in.json', { user: 'ann' });
    const r = await evalCli(['-d', path.join(dir, 'p'), '-i', input, 'data.x.allow; r := data.roles[input.user]\ndata.x.f(4)']);
    expect(r.code).toBe(0);
    expect(r.json.result).toEqual([{
      expressions: [
        { value: true, text: 'data.x.allow', location: { row: 1, col: 1 } },
        { value: true, text: 'r := data.roles[input.user]', location: { row: 1, col: 15 } },
        { value: 40, text: 'data.x.f(4)', location: { row: 2, col: 1 } },
      ],
      bindings: { r: 'admin' },
    }]);
  });

  test('with modifiers apply to the captured expression', async () => {
    const r = await evalCli(['-d', path.join(dir, 'p'), 'data.x.allow with input as {"user": "ann"}']);
    expect(r.json.result[0].expressions[0]).toEqual({ value: true, text: 'data.x.allow with input as {"user": "ann"}', location: { row: 1, col: 1 } });
  });

  test('a query that does not compile: OPA\'s error document at the query\'s own location, exit 1', async () => {
    const r = await evalCli(['-d', path.join(dir, 'p'), 'x := data.a[_]; y == 1']);
    expect(r.code).toBe(1);
    expect(r.json.errors.length).toBeGreaterThan(0);
    expect(r.json.errors[0]).toMatchObject({ code: expect.stringMatching(/^rego_/), location: { file: '<query eval>', row: 1 } });
    expect(r.json.errors.some((e: any) => /\by\b/.test(e.message))).toBe(true);
    const parse = await evalCli(['x :=']);
    expect(parse.json.errors[0]).toMatchObject({ code: 'rego_parse_error', location: { file: '<query eval>', row: 1, col: 5 } });
  });

  test('--format raw and pretty', async () => {
    const raw = await evalCli(['-f', 'raw', '"s"; 1 + 1']);
    expect(raw.stdout).toBe('s 2\n');
    const pretty = await evalCli(['-d', path.join(dir, 'p'), '--format', 'pretty', 'data.x.y']);
    expect(pretty.stdout).toBe('{\n  "a": 1,\n  "b": 2\n}\n');
    const table = await evalCli(['-d', path.join(dir, 'p'), '--format=pretty', 'x := data.a[_]']);
    expect(table.stdout.split('\n').filter((l) => l.startsWith('| '))).toEqual(['| x |', '| 3 |', '| 1 |', '| 2 |']);
    expect((await evalCli(['--format', 'pretty', 'false'])).stdout).toBe('undefined\n');
    const bad = await evalCli(['--format', 'source', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unsupported format source/);
  });

  test('--format values and bindings: one indented document per result', async () => {
    const values = await evalCli(['-f', 'values', 'x := [1, 2][_]; x + 10']);
    expect(values.stdout).toBe(JSON.stringify([true, 11], null, 2) + '\n' + JSON.stringify([true, 12], null, 2) + '\n');
    const bindings = await evalCli(['--format=bindings', 'x := [1, 2][_]']);
    expect(bindings.stdout).toBe(JSON.stringify({ x: 1 }, null, 2) + '\n' + JSON.stringify({ x: 2 }, null, 2) + '\n');
    expect((await evalCli(['-f', 'values', 'false'])).stdout).toBe('');
  });

  test("strings are escaped as Go's encoder writes them (<, >, & as \\u00XX)", async () => {
    const r = await evalCli(['"a<b>&c"']);
    expect(r.stdout).toContain('"value": "a\\u003cb\\u003e\\u0026c"');
    expect(r.json.result[0].expressions[0].value).toBe('a<b>&c');
  });

  test('a bundle built by pdp build (sources included) answers any query; one without sources only its entrypoints', async () => {
    const mods = [{ file: 'x.rego', source: fs.readFileSync(path.join(dir, 'p', 'x.rego'), 'utf8') }];
    const built = compile({ modules: mods, entrypoints: ['x/allow'] });
    const manifest = compiledManifest({ revision: 'r1', packages: [['x']], data: { a: [3, 1, 2] }, entrypoints: built.entrypoints });
    const withSources = path.join(dir, 'with.tar.gz');
    fs.writeFileSync(withSources, writeBundle({ manifest, data: { a: [3, 1, 2] }, wasm: built.wasm, sources: mods }));
    const withoutSources = path.join(dir, 'without.tar.gz');
    fs.writeFileSync(withoutSources, writeBundle({ manifest, data: { a: [3, 1, 2] }, wasm: built.wasm }));
    const input = writeJson(dir, 'ann.json', { user: 'ann' });

    const q = await evalCli(['-b', withSources, 'count(data.a) + data.x.f(1)']);
    expect(q.json.result[0].expressions[0].value).toBe(13);
    const ep = await evalCli(['-d', withoutSources, '-i', input, 'data.x.allow']);
    expect(ep.json).toEqual({ result: [{ expressions: [{ value: true, text: 'data.x.allow', location: { row: 1, col: 1 } }] }] });
    // an unpacked bundle directory given to -d is read as a bundle, not as a policy directory
    const unpacked = path.join(dir, 'unpacked');
    for (const [name, bytes] of bundleMembers({ manifest, data: { a: [3, 1, 2] }, wasm: built.wasm })) {
      fs.mkdirSync(path.dirname(path.join(unpacked, name)), { recursive: true });
      fs.writeFileSync(path.join(unpacked, name), bytes);
    }
    // (read as a policy directory it would hold no rules, and data.x.allow would be undefined)
    expect((await evalCli(['-d', unpacked, '-i', input, 'data.x.allow'])).json).toEqual(ep.json);
    const refused = await evalCli(['-b', withoutSources, 'data.x.y']);
    expect(refused.code).toBe(1);
    expect(refused.json.errors[0].message).toMatch(/without \.rego sources.*data\.x\.allow/);
  });

  test('the pdp command runs it (bin/pdp.js eval, stdin input)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'pdp.js'), 'eval', '-I', '-d', path.join(dir, 'p'), 'data.x.allow'], { input: '{"user": "ann"}', encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).result[0].expressions[0].value).toBe(true);
  });

  test('usage errors exit 2 and name the problem', async () => {
    expect((await evalCli([])).stderr).toMatch(/no query given/);
    const explain = await evalCli(['--explain', 'full', '1']);
    expect(explain.code).toBe(2);
    expect(explain.stderr).toMatch(/--explain full is not supported/);
  });

  test('--explain notes lists the rule bodies that held, file:line:col, and prints the same answer', async () => {
    const input = writeJson(tmpDir(), 'input.json', { tool: { server: 'billing', name: 'nope' } });
    const plain = await evalCli(['-d', REGO, '-i', input, 'data.mcp.authz.decision']);
    const r = await evalCli(['-d', REGO, '-i', input, '--explain', 'notes', 'data.mcp.authz.decision']);
    expect(r.code).toBe(0);
    expect(r.json.result).toEqual(plain.json.result);
    expect(plain.json).not.toHaveProperty('explanation');
    const deny = r.json.explanation.filter((e: { rule: string }) => e.rule === 'data.mcp.authz.deny');
    expect(deny.length).toBeGreaterThan(0);
    for (const e of r.json.explanation) expect(e.location).toMatch(/mcp\/authz\/\w+\.rego:\d+:\d+$/);
    expect(r.json.explanation).toContainEqual(expect.objectContaining({ rule: 'data.mcp.authz.allow', kind: 'default' }));
    const pretty = await evalCli(['-d', REGO, '-i', input, '--explain=notes', '-f', 'values', 'data.mcp.authz.decision']);
    expect(pretty.json).toEqual([plain.json.result[0].expressions[0].value]);
    expect(pretty.stderr).toMatch(/decision\.rego:\d+:1 data\.mcp\.authz\.allow \(default\)/);
  });
});

describe('pdp eval -b on a bundle of Rego v0 sources', () => {
  test('each source is read as its manifest says, as the server reads it', async () => {
    const { run: build } = await import('../../src/cli/commands/build');
    const src = fileTree({ 'p.rego': 'package legacy\n\nallow { input.user == "alice" }\n\nnames[n] { n := input.names[_] }\n' }, 'pdp-eval-v0-');
    const out = path.join(tmpDir(), 'v0.tar.gz');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await build([src, '--v0-compatible', '-e', 'legacy/allow', '-o', out])).toBe(0);
    } finally {
      write.mockRestore();
    }
    const dir = tmpDir();
    const input = path.join(dir, 'input.json');
    fs.writeFileSync(input, JSON.stringify({ user: 'alice', names: ['a', 'b'] }));
    const r = await evalCli(['-b', out, '-i', input, 'data.legacy.names']);
    expect(r.code).toBe(0);
    expect(r.json.result[0].expressions[0].value).toEqual(['a', 'b']);
  });
});

describe('pdp eval -i passes the input file as the server passes a request: exactly', () => {
  test('an integer beyond 2^53 and a long decimal keep their value', async () => {
    const dir = tmpDir();
    const input = path.join(dir, 'input.json');
    fs.writeFileSync(input, '{"n": 12345678901234567891, "d": 0.1000000000000000055511151231257827}');
    const n = await evalCli(['-i', input, 'input.n == 12345678901234567891']);
    expect(n.json.result?.[0]?.expressions?.[0]?.value).toBe(true);
    // read as a double it would equal 0.1; as its text it does not (OPA compares the exact decimal)
    const d = await evalCli(['-i', input, 'x := input.d == 0.1']);
    expect(d.json.result[0].bindings.x).toBe(false);
  });
});
