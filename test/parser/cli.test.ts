import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run as check } from '../../src/cli/commands/check';
import { run as parse } from '../../src/cli/commands/parse';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const code = await fn();
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('pdp check / pdp parse', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-cli-'));
    fs.mkdirSync(path.join(dir, 'policies', 'nested'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'policies', 'good.rego'), 'package mcp\n\nallow if input.tool == "search"\n');
    fs.writeFileSync(path.join(dir, 'policies', 'nested', 'also.rego'), 'package mcp.x\n\ndeny contains "x" if input.bad\n');
    fs.writeFileSync(path.join(dir, 'policies', 'notes.txt'), 'not rego {');
    fs.writeFileSync(path.join(dir, 'typo.rego'), 'package mcp\n\nallow if {\n  input.tool == "search"\n  input.user = \n}\n');
    fs.writeFileSync(path.join(dir, 'v0.rego'), 'package mcp\n\ndeny[msg] {\n  msg := "no"\n}\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a directory of valid policies: exit 0, nothing printed', async () => {
    const r = await capture(() => check([path.join(dir, 'policies')]));
    expect(r).toEqual({ code: 0, out: '', err: '' });
  });

  test('errors: one per line, file:line:col, exit 1', async () => {
    const r = await capture(() => check(['--parse-only', path.join(dir, 'typo.rego'), path.join(dir, 'v0.rego'), path.join(dir, 'policies')]));
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines).toEqual([
      `${path.join(dir, 'typo.rego')}:6:1: unexpected "}", expected a term after "="`,
      `${path.join(dir, 'v0.rego')}:3:1: partial set rules must use "contains" and "if" in Rego v1 (write: deny contains msg if { … }); Rego v0 syntax is not supported`,
    ]);
  });

  test('every file\'s errors: a file that does not parse does not hide the check errors of other packages', async () => {
    const lib = path.join(dir, 'library');
    fs.mkdirSync(lib, { recursive: true });
    fs.writeFileSync(path.join(lib, 'a.rego'), 'package a\n\nallow if {\n  input.x ==\n}\n');
    fs.writeFileSync(path.join(lib, 'b.rego'), 'package b\n\nallow if no_such_fn(input.x)\n');
    fs.writeFileSync(path.join(lib, 'c.rego'), 'package c\n\nallow if y > 1\n');
    // needs package a, which does not parse: its own errors are not guessed at
    fs.writeFileSync(path.join(lib, 'd.rego'), 'package d\n\nallow if data.a.allow\n');
    const r = await capture(() => check([lib]));
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/a\.rego:5:1: /);
    expect(lines.some((l) => /b\.rego:3:\d+: .*no_such_fn/.test(l))).toBe(true);
    expect(lines.some((l) => /c\.rego:3:\d+: .*\by\b/.test(l))).toBe(true);
  });

  test('data files named explicitly are data: they must parse, and are not read as Rego', async () => {
    fs.writeFileSync(path.join(dir, 'data.yaml'), 'limits:\n  max: 3\n');
    fs.writeFileSync(path.join(dir, 'data.json'), '{"a": [1, 2]}');
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"a": ');
    const good = await capture(() => check([path.join(dir, 'policies'), path.join(dir, 'data.yaml'), path.join(dir, 'data.json')]));
    expect(good).toEqual({ code: 0, out: '', err: '' });
    const bad = await capture(() => check([path.join(dir, 'bad.json')]));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${path.join(dir, 'bad.json')}: cannot parse data file`);
  });

  test('missing paths and usage', async () => {
    const r = await capture(() => check([path.join(dir, 'nope.rego')]));
    expect(r.code).toBe(1);
    expect(r.err).toContain('nope.rego: no such file or directory');
    expect((await capture(() => check([]))).code).toBe(2);
    expect((await capture(() => check(['--bogus', dir]))).code).toBe(2);
  });

  test('pdp parse prints the AST as JSON with locations', async () => {
    const r = await capture(() => parse([path.join(dir, 'policies', 'good.rego')]));
    expect(r.code).toBe(0);
    const ast = JSON.parse(r.out);
    expect(ast).toMatchObject({ type: 'module', package: { path: ['mcp'] }, rules: [{ type: 'rule', hasIf: true, loc: { line: 3, col: 1 } }] });
    const bad = await capture(() => parse([path.join(dir, 'typo.rego')]));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/typo\.rego:6:1: unexpected "}"/);
  });
});
