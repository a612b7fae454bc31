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
    const refused = errorsOf(() => compile({ modules: [{ file: 'w.rego', source: 'package w\nf(x) := 1\np if { y := input.y; f(1) with f as y }' }], entrypoints: ['w/p'] }));
    expect(refused[0]).toMatch(/^w\.rego:3:\d+: unsupported: with replacing a function by a computed value/);
    expect(errorsOf(() => compile({ modules: [{ file: 'r.rego', source: 'package r\np if q\nq if p' }], entrypoints: ['r/p'] }))[0]).toMatch(/^r\.rego:\d+:\d+: rule data\.r\.\w is recursive/);
  });

  test('numbers the runtime cannot hold exactly are refused at the literal, every one of them', () => {
    const src = 'package n\n\nbig := 123456789123456789123\np if {\n\tx := 0.1234567890123456789\n\t1e400 > x\n\t1e-400 > 0\n}\nok := [0.1, 1e15, 2.5e-7, 9223372036854775807]';
    expect(errorsOf(() => compile({ modules: [{ file: 'n.rego', source: src }], entrypoints: ['n/p'] }))).toEqual([
      'n.rego:3:8: unsupported: number 123456789123456789123 is outside the supported range (64-bit integers)',
      'n.rego:5:7: unsupported: number 0.1234567890123456789 has more precision than a double holds',
      'n.rego:6:2: unsupported: number 1e400 is outside the supported range (double precision)',
      'n.rego:7:2: unsupported: number 1e-400 is outside the supported range (too close to zero for double precision)',
    ]);
    expect(errorsOf(() => compile({ modules: [{ file: 'n.rego', source: 'package n\np := 1' }], queries: [{ name: 'q', query: 'x := 1e999' }] }))).toEqual([
      '<query q>:1:6: unsupported: number 1e999 is outside the supported range (double precision)',
    ]);
    expect(errorsOf(() => compile({ modules: [{ file: 'n.rego', source: 'package n\nok := [0.1, 1e15, 2.5e-7, 9223372036854775807, -0.0]' }], entrypoints: ['n/ok'] }))).toEqual([]);
  });

  test('checkModules reports errors without emitting', () => {
    const m = parseModule('package c\np if { nosuch(1) }', 'c.rego');
    expect(checkModules([m]).map((e) => e.code)).toEqual(['rego_type_error']);
    expect(checkModules([parseModule('package c\np if input.x', 'c.rego')])).toEqual([]);
  });
});
