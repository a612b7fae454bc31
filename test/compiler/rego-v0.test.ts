/**
 * Rego v0 (OPA 1.x `--v0-compatible`, or a bundle `.manifest` with `rego_version: 0`): v0 rules mean what
 * they mean in OPA, keywords are keywords only once imported, and v1 stays the default.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseModule } from '../../src/compiler/parser';
import { fileTree } from '../helpers/file-tree';
import { runTestsInPaths } from '../../src/testing/runner';
import { run as pdpTest } from '../../src/cli/commands/test';
import { run as pdpCheck } from '../../src/cli/commands/check';
import { quietly } from '../helpers/quietly';

const v0 = (src: string) => parseModule(src, 'x.rego', { regoVersion: 0 });
const heads = (src: string) =>
  v0(src).rules.map((r) => ({
    ref: [r.head.ref.head.type === 'var' ? r.head.ref.head.name : '?', ...r.head.ref.path.map((p) => (p.type === 'string' ? p.value : p.type))],
    key: r.head.key ? (r.head.key.type === 'var' ? r.head.key.name : r.head.key.type === 'string' ? r.head.key.value : r.head.key.type) : undefined,
    body: r.body.length,
  }));


describe('parsing Rego v0', () => {
  it('reads p[x] { } and a bare p[x] / p.x as partial sets, p[k] = v { } as an object entry', () => {
    expect(heads('package a\n\ndeny[msg] { msg := "x" }\ndeny["always"]\nq.r { true }\nobj[k] = v { v := input[k] }\n')).toEqual([
      { ref: ['deny'], key: 'msg', body: 1 },
      { ref: ['deny'], key: 'always', body: 0 },
      { ref: ['q'], key: 'r', body: 1 },
      { ref: ['obj', 'var'], key: undefined, body: 1 },
    ]);
  });

  it('in, every, if and contains are names until imported', () => {
    expect(() => v0('package a\n\nin := 1\nif { in == 1 }\nevery = 2\ncontains_x { every == 2 }\n')).not.toThrow();
    expect(() => v0('package a\n\np { 1 in [1] }\n')).toThrow(/x\.rego:3:/);
    expect(() => v0('package a\n\nimport future.keywords.in\n\np { 1 in [1] }\n')).not.toThrow();
    expect(() => v0('package a\n\nimport future.keywords\n\np contains x if { some x in [1] }\n')).not.toThrow();
  });

  it('after import future.keywords, a function named contains is refused, as OPA\'s parser does', () => {
    // OPA (v1/ast/parser.go parseRules): a statement starting with the contains keyword is a rule only
    // when a ref follows (`contains.x`, `contains[x]`); `contains(item, coll) { … } else = false { … }`
    // falls back to query statements and fails at `else`. Without the import, contains is a name.
    const fn = 'contains(item, coll) {\n  item in coll\n} else = false {\n  true\n}\n';
    expect(() => v0(`package a\n\nimport future.keywords\n\n${fn}`)).toThrow(/x\.rego:5:1: unexpected keyword "contains"/);
    expect(() => v0(`package a\n\nimport future.keywords.in\n\n${fn}`)).not.toThrow();
  });

  it('a v0 module importing rego.v1 is held to v1 syntax; both imports together are an error', () => {
    expect(() => v0('package a\n\nimport rego.v1\n\np if { true }\n')).not.toThrow();
    expect(() => v0('package a\n\nimport rego.v1\n\np { true }\n')).toThrow(/rules must use "if"/);
    expect(() => v0('package a\n\nimport rego.v1\nimport future.keywords.in\n\np if { true }\n')).toThrow(/x\.rego:4:1: .*not both/);
  });

  it('a local variable named input is allowed in v0 (OPA rewriteLocalVars); v1 forbids it, a local data stays refused', () => {
    expect(() => v0('package a\n\np { input := 1 }\n')).not.toThrow();
    expect(() => parseModule('package a\n\np if { input := 1 }\n', 'x.rego')).toThrow(/variables must not shadow input/);
    expect(() => v0('package a\n\np { data := 1 }\n')).toThrow(/x\.rego:3:5: unsupported: a variable named data/);
    // declared like any variable: OPA's "referenced above" / "assigned above"
    expect(() => v0('package a\n\np { x := input.a; input := 1 }\n')).toThrow(/var input referenced above/);
    expect(() => v0('package a\n\np { input := 1; input := 2 }\n')).toThrow(/var input assigned above/);
    // where OPA's answer depends on more than the body, refused
    expect(() => v0('package a\n\np = input.x { input := {"x": 1} }\n')).toThrow(/unsupported: a rule head reading input/);
    expect(() => v0('package a\n\nimport input.x\n\np { input := {"x": 1}; x == 1 }\n')).toThrow(/unsupported: a local variable named input in a module that imports input/);
    expect(() => v0('package a\n\np { [input, y] := [1, 2] }\n')).toThrow(/unsupported: input inside an assignment pattern/);
  });

  it('pdp parse --v0-compatible', async () => {
    const { run: pdpParse } = await import('../../src/cli/commands/parse');
    const d = fileTree({ 'v0.rego': 'package a\n\ndeny[m] { m := 1 }\n' });
    try {
      const r = await quietly(() => pdpParse([path.join(d, 'v0.rego'), '--v0-compatible']));
      expect(r.value).toBe(0);
      expect(JSON.parse(r.out).rules[0].head.key).toMatchObject({ type: 'var', name: 'm' });
      expect((await quietly(() => pdpParse([path.join(d, 'v0.rego')]))).value).toBe(1);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('v0 keeps deprecated built-ins; a rule named input and duplicate imports stay refused', async () => {
    const { compile } = await import('../../src/compiler');
    const src = 'package a\n\nimport data.lib.x\nimport data.other.x\n\ninput { true }\n\np := any([false, true])\n';
    const v1 = () => compile({ modules: [{ file: 'a.rego', source: src.replace('input { true }', 'input := true') }], entrypoints: ['a/p'] });
    expect(v1).toThrow(/a\.rego:4:1: import must not shadow import data\.lib\.x/);
    expect(v1).toThrow(/a\.rego:6:1: rules must not shadow input/);
    const deprecated = () => compile({ modules: [{ file: 'd.rego', source: 'package a\n\np := any([false, true])\n' }], entrypoints: ['a/p'] });
    expect(deprecated).toThrow(/d\.rego:3:6: deprecated built-in function calls in expression: any/);
    // v0: deprecated built-ins are accepted, and any() answers; a rule named input and two imports binding
    // one name stay refused (OPA accepts them in v0, but a refusal can never answer differently)
    expect(() => compile({ modules: [{ file: 'a.rego', source: src, regoVersion: 0 }], entrypoints: ['a/p'] })).toThrow(/rules must not shadow input/);
    const out = compile({ modules: [{ file: 'a.rego', source: 'package a\n\np := any([false, true])\n', regoVersion: 0 }], entrypoints: ['a/p'] });
    const { WasmPolicy } = await import('../../src/engine/policy');
    const policy = await WasmPolicy.load(out.wasm);
    policy.setData({});
    expect(policy.evaluate('a/p', {})).toEqual([{ result: true }]);
    // a v0 module importing rego.v1 is held to v1's checks
    expect(() => compile({ modules: [{ file: 'd.rego', source: 'package a\n\nimport rego.v1\n\np := any([false, true])\n', regoVersion: 0 }], entrypoints: ['a/p'] })).toThrow(
      /deprecated built-in/,
    );
  });

  it('v1 stays the default and keeps its message', () => {
    expect(() => parseModule('package a\n\np { true }\n', 'x.rego')).toThrow(/rules must use "if" before the body in Rego v1/);
  });
});

const V0_LIBRARY: Record<string, string> = {
  'lib/k8s.rego': 'package lib.k8s\n\nhas_label(obj, name) {\n  obj.metadata.labels[name]\n}\n\ndefault is_admin = false\n\nis_admin {\n  input.user == "admin"\n}\n',
  'required/src.rego': [
    'package k8srequiredlabels',
    '',
    'import data.lib.k8s',
    '',
    'violation[{"msg": msg, "details": {"missing_labels": missing}}] {',
    '  provided := {label | input.review.object.metadata.labels[label]}',
    '  required := {label | label := input.parameters.labels[_]}',
    '  missing := required - provided',
    '  count(missing) > 0',
    '  msg := sprintf("you must provide labels: %v", [missing])',
    '}',
    '',
    'level = "high" { count(violation) > 1 } else = "low" { count(violation) == 1 } else = "none"',
    '',
    'owners[n] = owner { owner := input.owners[n] }',
    '',
    'double(x) = y { y := x * 2 }',
    '',
    'owned { k8s.has_label(input.review.object, "owner") }',
    '',
    'flags.strict { input.strict }',
    '',
  ].join('\n'),
  'required/src_test.rego': [
    'package k8srequiredlabels',
    '',
    'one_missing = {"review": {"object": {"metadata": {"labels": {"a": "1"}}}}, "parameters": {"labels": ["a", "b"]}}',
    'none_missing = {"review": {"object": {"metadata": {"labels": {"a": "1", "b": "2"}}}}, "parameters": {"labels": ["a", "b"]}}',
    '',
    'test_missing_label {',
    '  count(violation) == 1 with input as one_missing',
    '  violation[v] with input as one_missing',
    '  v.details.missing_labels == {"b"}',
    '}',
    'test_all_labels { count(violation) == 0 with input as none_missing }',
    'test_else_chain { level == "low" with input as one_missing }',
    'test_else_default { level == "none" with input as none_missing }',
    'test_object_rule { owners == {"x": "alice"} with input as {"owners": {"x": "alice"}} }',
    'test_function { double(2) == 4 }',
    'test_import { not owned with input as none_missing }',
    'test_dotted_set { flags == {"strict"} with input as {"strict": true} }',
    'test_default { not data.lib.k8s.is_admin }',
    'test_keyword_as_name { in := 1; in == 1 }',
    'test_fails { double(2) == 5 }',
    '',
  ].join('\n'),
  'future/f.rego': 'package future_kw\n\nimport future.keywords.in\nimport future.keywords.if\n\nallowed if "a" in input.roles\n',
  'future/f_test.rego': 'package future_kw\n\ntest_in { allowed with input as {"roles": ["a"]} }\n',
  'modern/m.rego': 'package modern\n\nimport rego.v1\n\nnames contains n if some n in ["x", "y"]\n',
  'modern/m_test.rego': 'package modern\n\nimport rego.v1\n\ntest_contains if names == {"x", "y"}\n',
};

describe('pdp test --v0-compatible on a v0 library', () => {
  let dir: string;
  beforeAll(() => {
    dir = fileTree(V0_LIBRARY, 'pdp-v0-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs v0 tests with OPA v0 semantics', async () => {
    const report = await runTestsInPaths([dir], { v0Compatible: true });
    expect(report.errors).toEqual([]);
    const status = Object.fromEntries(report.tests.map((t) => [t.name.replace(/^data\./, ''), t.status]));
    expect(status).toEqual({
      'k8srequiredlabels.test_missing_label': 'pass',
      'k8srequiredlabels.test_all_labels': 'pass',
      'k8srequiredlabels.test_else_chain': 'pass',
      'k8srequiredlabels.test_else_default': 'pass',
      'k8srequiredlabels.test_object_rule': 'pass',
      'k8srequiredlabels.test_function': 'pass',
      'k8srequiredlabels.test_import': 'pass',
      'k8srequiredlabels.test_dotted_set': 'pass',
      'k8srequiredlabels.test_default': 'pass',
      'k8srequiredlabels.test_keyword_as_name': 'pass',
      'k8srequiredlabels.test_fails': 'fail',
      'future_kw.test_in': 'pass',
      'modern.test_contains': 'pass',
    });
  });

  it('without the flag the same library is refused as v1, with the v1 form to write', async () => {
    const report = await runTestsInPaths([dir]);
    expect(report.passed).toBe(1); // only modern/, which is v1 syntax
    expect(report.errors.join('\n')).toMatch(/k8s\.rego:3:1: rules must use "if" before the body in Rego v1/);
  });

  it('the CLI flags: pdp test and pdp check', async () => {
    const t = await quietly(() => pdpTest(['--v0-compatible', path.join(dir, 'future')]));
    expect(t.value).toBe(0);
    expect(t.out).toMatch(/data\.future_kw\.test_in: PASS/);
    expect((await quietly(() => pdpCheck(['--v0-compatible', dir]))).value).toBe(0);
    expect((await quietly(() => pdpCheck([dir]))).value).toBe(1);
  });

  it('a .manifest with rego_version 0 makes the directory v0 without the flag; file_rego_versions overrides per file', async () => {
    const d = fileTree({
      '.manifest': JSON.stringify({ revision: '1', rego_version: 0, file_rego_versions: { '/v1/*.rego': 1 } }),
      'old/p.rego': 'package old\n\nallow { input.ok }\n',
      'old/p_test.rego': 'package old\n\ntest_allow { allow with input as {"ok": true} }\n',
      'v1/q.rego': 'package newer\n\nallow if input.ok\n',
      'v1/q_test.rego': 'package newer\n\ntest_allow if allow with input as {"ok": true}\n',
    });
    try {
      const report = await runTestsInPaths([d]);
      expect(report.errors).toEqual([]);
      expect(report.tests.map((t) => [t.name, t.status])).toEqual([
        ['data.old.test_allow', 'pass'],
        ['data.newer.test_allow', 'pass'],
      ]);
      fs.writeFileSync(path.join(d, '.manifest'), JSON.stringify({ rego_version: 2 }));
      const bad = await runTestsInPaths([d]);
      expect(bad.errors.join('\n')).toMatch(/\.manifest: rego_version must be 0 or 1, got 2/);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

// gatekeeper-library tests build their input in a local named input: `results := violation with input as input`
const GK_POLICY = `package k8srequiredlabels

violation[{"msg": msg}] {
  provided := {label | input.review.object.metadata.labels[label]}
  required := {label | label := input.parameters.labels[_]}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("missing: %v", [missing])
}

allowed(x) = true { input := x; not input.deny } else = false { true }
`;
const GK_TESTS = `package k8srequiredlabels

import future.keywords

test_missing {
  input := {"review": {"object": {"metadata": {"labels": {"a": "1"}}}}, "parameters": {"labels": ["a", "b"]}}
  results := violation with input as input
  count(results) == 1
}

test_present {
  input := {"review": {"object": {"metadata": {"labels": {"a": "1", "b": "2"}}}}, "parameters": {"labels": ["a", "b"]}}
  results := violation with input as input
  count(results) == 0
}

test_without_with {
  input := {"review": {"object": {"metadata": {"labels": {}}}}, "parameters": {"labels": ["a"]}}
  count(violation) == 0
}

test_root_before {
  x := input with input as {"outer": true}
  input := 5
  x == {"outer": true}
  input == 5
}

test_nested {
  input := {"xs": [1, 2]}
  ys := [y | y := input.xs[_] * 2]
  ys == [2, 4]
  every v in input.xs { v > 0 }
  zs := [z | input := {"xs": [7]}; z := input.xs[0]]
  zs == [7]
  input.xs == [1, 2]
}

test_target_path {
  input := {"k": "a"}
  results := violation with input.review.object.metadata.labels as {input.k: "1"} with input.parameters.labels as ["a"]
  count(results) == 0
}

test_function {
  allowed({})
  not allowed({"deny": true})
}

test_fails {
  input := {"review": {"object": {"metadata": {"labels": {}}}}, "parameters": {"labels": ["a"]}}
  results := violation with input as input
  count(results) == 0
}
`;

describe('a local variable named input in Rego v0', () => {
  const statuses = async (files: Record<string, string>) => {
    const dir = fileTree(files, 'pdp-v0-input-');
    try {
      const report = await runTestsInPaths([dir], { v0Compatible: true });
      expect(report.errors).toEqual([]);
      return Object.fromEntries(report.tests.map((t) => [t.name, t.status]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it('shadows the root input in its body; with targets still name the root input', async () => {
    const got = await statuses({ 'p.rego': GK_POLICY, 'p_test.rego': GK_TESTS });
    const expected = {
      'data.k8srequiredlabels.test_missing': 'pass',
      'data.k8srequiredlabels.test_present': 'pass',
      'data.k8srequiredlabels.test_without_with': 'pass',
      'data.k8srequiredlabels.test_root_before': 'pass',
      'data.k8srequiredlabels.test_nested': 'pass',
      'data.k8srequiredlabels.test_target_path': 'pass',
      'data.k8srequiredlabels.test_function': 'pass',
      'data.k8srequiredlabels.test_fails': 'fail',
    };
    expect(got).toEqual(expected);
    // the same policy with the local renamed by hand answers the same
    const renamed = (src: string) =>
      src
        .replace(/\binput := /g, 'inp := ')
        .replace(/with input as input/g, 'with input as inp')
        .replace(/input\.xs/g, 'inp.xs')
        .replace(/input\.k\b/g, 'inp.k')
        .replace(/input == 5/, 'inp == 5')
        .replace('not input.deny', 'not inp.deny');
    expect(renamed(GK_TESTS)).not.toMatch(/input :=/);
    expect(await statuses({ 'p.rego': renamed(GK_POLICY), 'p_test.rego': renamed(GK_TESTS) })).toEqual(expected);
  });
});

describe('pdp conformance --v0-compatible', () => {
  it('runs v0 cases (OPA keeps its v0 cases in testdata/v0) with the modules read as v0', async () => {
    const { runCase } = await import('../../src/cli/commands/conformance');
    const c = {
      note: 'v0/partial set and else',
      query: 'data.t = x',
      modules: ['package t\n\ns[v] { v := [1, 2][_] }\n\nlevel = "hi" { false } else = "lo" { true }\n'],
      want_result: [{ x: { s: [1, 2], level: 'lo' } }],
    };
    expect(runCase(c, { regoVersion: 0 })).toEqual({ kind: 'pass' });
    expect(runCase(c).kind).toBe('wrong'); // v1 refuses the syntax: a compile error is not the answer
  });
});
