import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../../src/compiler';
import { checkModules } from '../../src/compiler/check';
import { parseModule } from '../../src/compiler/parser';
import { RegoErrors } from '../../src/compiler/errors';

const POLICY = `package mcp.authz

# METADATA
# entrypoint: true
default allow := false

allow if input.user.role == "admin"

allow if {
	some g in data.mcp.grants[input.user.name]
	g == input.tool
}

reasons contains "not admin" if input.user.role != "admin"
`;

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof RegoErrors) return e.errors.map((x) => x.message);
    throw e;
  }
  return [];
}

describe('compile() to a module the SDK loads', () => {
  test('entrypoints from -e and from METADATA; answers through @open-policy-agent/opa-wasm', async () => {
    const r = compile({ modules: [{ file: 'authz.rego', source: POLICY }], entrypoints: ['mcp/authz/reasons'] });
    expect(r.entrypoints).toEqual(['mcp/authz/reasons', 'mcp/authz/allow']);
    const p = await loadPolicy(r.wasm);
    p.setData({ mcp: { grants: { alice: ['read_file'] } } });
    expect(p.evaluate({ user: { name: 'alice', role: 'dev' }, tool: 'read_file' }, 'mcp/authz/allow')).toEqual([{ result: true }]);
    expect(p.evaluate({ user: { name: 'bob', role: 'dev' }, tool: 'read_file' }, 'mcp/authz/allow')).toEqual([{ result: false }]);
    expect(p.evaluate({ user: { name: 'bob', role: 'dev' } }, 'mcp/authz/reasons')).toEqual([{ result: ['not admin'] }]);
  });

  test('a query plan binds the query variables', async () => {
    const r = compile({ modules: [{ file: 'a.rego', source: 'package a\np contains x if some x in [1, 2]' }], queries: [{ name: 'q', query: 'data.a.p[x]' }] });
    const p = await loadPolicy(r.wasm);
    const rs = p.evaluate({}, 'q') as Array<{ x: number }>;
    expect(rs.map((b) => b.x).sort()).toEqual([1, 2]);
  });

  test('compile errors carry file:line:col; unsupported constructs are refused, not mis-compiled', () => {
    expect(errorsOf(() => compile({ modules: [{ file: 'u.rego', source: 'package u\np if { x > 1 }' }], entrypoints: ['u/p'] }))).toEqual([
      'u.rego:2:8: var x is unsafe',
    ]);
    const refused = errorsOf(() => compile({ modules: [{ file: 'w.rego', source: 'package w\nf(x) := 1\ng(x, y) := 2\np if { f(1) with f as g }' }], entrypoints: ['w/p'] }));
    expect(refused[0]).toMatch(/^w\.rego:4:\d+: unsupported: with replacing a function by a function of another arity/);
    expect(errorsOf(() => compile({ modules: [{ file: 'r.rego', source: 'package r\np if q\nq if p' }], entrypoints: ['r/p'] }))[0]).toMatch(/^r\.rego:\d+:\d+: rule data\.r\.\w is recursive/);
  });

  test('with replacing a function or built-in by a computed value reaches calls in rules below', async () => {
    const src = [
      'package w',
      'f(_) := 1',
      'q := f(0)',
      'r := [f(0), count("abc")]',
      'p := [x | some v in input.vals; x := q with f as v]',
      'nested := y if { c := input.n; y := t with count as c }',
      't := [r, s] if { s := sprintf("", []) } ',
      'u := z if { v := "mocked"; z := t with sprintf as v with count as 7 }',
      'both := [q, q2, q] if q2 := q with f as input.v',
    ].join('\n');
    const r = compile({ modules: [{ file: 'w.rego', source: src }], entrypoints: ['w/p', 'w/nested', 'w/u', 'w/q', 'w/both'] });
    const p = await loadPolicy(r.wasm);
    expect(p.evaluate({ vals: [5, 'a', [1]] }, 'w/p')).toEqual([{ result: [5, 'a', [1]] }]);
    expect(p.evaluate({ n: 9 }, 'w/nested')).toEqual([{ result: [[1, 9], ''] }]);
    expect(p.evaluate({}, 'w/u')).toEqual([{ result: [[1, 7], 'mocked'] }]);
    // the unreplaced rules keep their own answers (and their cached values stay unpolluted)
    expect(p.evaluate({ vals: [5] }, 'w/q')).toEqual([{ result: 1 }]);
    expect(p.evaluate({ v: 'x' }, 'w/both')).toEqual([{ result: [1, 'x', 1] }]);
  });

  test('with data.<rule> replaces the rule wherever it is read, by a constant or a computed value', async () => {
    const lib = 'package lib\na := {"b": 1}\nq := "orig"';
    const src = [
      'package d',
      'import data.lib',
      'pkg := data.lib',
      'c := [x, y, z, w] if {',
      '  x := lib.q with data.lib.q as "const"',
      '  y := lib.q',
      '  z := pkg.a with data.lib.a as input.v',
      '  w := [e | some e in lib.q] with data.lib.q as [3, 4]',
      '}',
    ].join('\n');
    const p = await loadPolicy(compile({ modules: [{ file: 'lib.rego', source: lib }, { file: 'd.rego', source: src }], entrypoints: ['d/c'] }).wasm);
    expect(p.evaluate({ v: { z: 9 } }, 'd/c')).toEqual([{ result: ['const', 'orig', { z: 9 }, [3, 4]] }]);
    // a function named by its data path is replaced like one named directly
    const f = await loadPolicy(compile({ modules: [{ file: 'd.rego', source: 'package d\nf(x) := x\nt := y if { y := f(1) with data.d.f as 2 }' }], entrypoints: ['d/t'] }).wasm);
    expect(f.evaluate({}, 'd/t')).toEqual([{ result: 2 }]);
    const refused = errorsOf(() => compile({ modules: [{ file: 'lib.rego', source: lib }, { file: 'd.rego', source: 'package d\nt if { data.lib.q with data.lib as {} }' }], entrypoints: ['d/t'] }));
    expect(refused[0]).toMatch(/^d\.rego:2:\d+: unsupported: with on data\.lib \(replacing rules\)/);
  });

  test('a built-in we lack is fine when every reachable call to it is replaced by with', async () => {
    const src = 'package h\nallow if "admin" in http.send({"method": "GET"}).body.roles\nmock(_) := {"body": {"roles": ["admin"]}}\nt if { allow with http.send as mock }';
    const p = await loadPolicy(compile({ modules: [{ file: 'h.rego', source: src }], entrypoints: ['h/t'] }).wasm);
    expect(p.evaluate({}, 'h/t')).toEqual([{ result: true }]);
    expect(errorsOf(() => compile({ modules: [{ file: 'h.rego', source: src }], entrypoints: ['h/t', 'h/allow'] }))).toEqual([
      'h.rego:2:21: unsupported: built-in http.send (not implemented)',
    ]);
  });

  test('number literals are kept exactly (any size, any precision); only exponents beyond ±100000 are refused, at the literal', async () => {
    const src = 'package n\n\nbig := 123456789123456789123\np if {\n\tx := 0.1234567890123456789\n\t1e400 > x\n\t1e-400 > 0\n\tx > 0.1234567890123456788\n}\nok := [0.1, 1e15, 2.5e-7, 9223372036854775807]';
    const { wasm } = compile({ modules: [{ file: 'n.rego', source: src }], entrypoints: ['n/p', 'n/big'] });
    const policy = await loadPolicy(wasm);
    // a double could not tell 0.1234567890123456789 from …788, nor 1e-400 from 0
    expect(policy.evaluate({}, 'n/p')).toEqual([{ result: true }]);
    expect(errorsOf(() => compile({ modules: [{ file: 'n.rego', source: 'package n\np := 1' }], queries: [{ name: 'q', query: 'x := 1e200000' }] }))).toEqual([
      '<query q>:1:6: number too big: 1e200000', // the parser's bound (±30000) is inside the runtime's
    ]);
    expect(errorsOf(() => compile({ modules: [{ file: 'n.rego', source: 'package n\nok := [0.1, 1e15, 2.5e-7, 9223372036854775807, -0.0]' }], entrypoints: ['n/ok'] }))).toEqual([]);
  });

  test('checkModules reports errors without emitting', () => {
    const m = parseModule('package c\np if { nosuch(1) }', 'c.rego');
    expect(checkModules([m]).map((e) => e.code)).toEqual(['rego_type_error']);
    expect(checkModules([parseModule('package c\np if input.x', 'c.rego')])).toEqual([]);
  });
});
