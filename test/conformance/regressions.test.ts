/**
 * End-to-end regressions for answers the conformance run once got wrong: each case goes through our
 * compiler and the module loaded by @open-policy-agent/opa-wasm, exactly as the conformance runner runs
 * OPA's cases. The expectations are OPA's answers.
 */
import { runCase, type Case } from '../../src/cli/commands/conformance';

const run = (c: Omit<Case, 'note'>) => runCase({ note: 'regression', ...c });
const gen = (body: string) => [`package generated\n\n${body}\n`];

describe('host built-ins win over the SDK bundled JS ones', () => {
  test('sprintf %v of an array prints Rego text (sprintf-js would print "there,5,3.14")', () => {
    expect(run({ query: 'data.generated.p = x', modules: gen('p := sprintf("hi %v", [["there", 5, 3.14]])'), want_result: [{ x: 'hi ["there", 5, 3.14]' }] })).toEqual({ kind: 'pass' });
  });
  test('json.is_valid / yaml.is_valid of a non-string are false, not undefined', () => {
    for (const fn of ['json.is_valid', 'yaml.is_valid']) {
      expect(run({ query: 'data.generated.p = x', modules: gen(`p := x if { ${fn}(input.foo, x) }`), input: { foo: 1 }, want_result: [{ x: false }], strict_error: true })).toEqual({ kind: 'pass' });
    }
  });
  test('yaml.is_valid accepts a multi-document stream', () => {
    expect(run({ query: 'data.generated.p = x', modules: gen('p := yaml.is_valid("a: 1\\n---\\nb: 2\\n")'), want_result: [{ x: true }] })).toEqual({ kind: 'pass' });
  });
});

describe('native built-ins', () => {
  test('to_number("-Infinity") is an eval_type_error in strict mode', () => {
    expect(run({ query: 'data.generated.p = b', modules: gen('p if { to_number("-Infinity", b) }'), want_error_code: 'eval_type_error', strict_error: true })).toEqual({ kind: 'pass' });
    // and the class matters: a built-in error would not do
    expect(run({ query: 'data.generated.p = b', modules: gen('p if { to_number("-Infinity", b) }'), want_error_code: 'eval_builtin_error', strict_error: true }).kind).toBe('wrong');
  });
  test('object.subset recurses into nested sets and arrays', () => {
    const mod = gen('A := {"n": {"s": {1, 2, 3}, "a": [6, 7, 8]}}\nB := {"n": {"s": {3, 1}, "a": [7, 8]}}\np := [object.subset(A, B), object.subset(B, A)]');
    expect(run({ query: 'data.generated.p = x', modules: mod, want_result: [{ x: [true, false] }] })).toEqual({ kind: 'pass' });
  });
});

describe('unknown and unimplemented built-ins are named, not blamed on their output variable', () => {
  test('an OPA built-in we lack, called with an output argument, is refused by name', () => {
    const out = run({ query: 'data.generated.p = x', modules: gen('p := x if { graphql.parse_query("{a}", x) }'), want_result: [] });
    expect(out.kind).toBe('refused');
    expect((out as { why: string }).why).toMatch(/^module0\.rego:3:\d+: unsupported: built-in graphql\.parse_query \(not implemented\)$/);
  });
  test('a name OPA does not know either is "undefined function", as in OPA', () => {
    const out = run({ query: 'data.generated.p = x', modules: gen('p := x if { foo.bar(1, x) }'), want_result: [] });
    expect(out).toEqual({ kind: 'wrong', why: expect.stringMatching(/undefined function foo\.bar$/) });
    expect(run({ query: 'data.generated.p = x', modules: gen('p := x if { foo.bar(1, x) }'), want_error_code: 'rego_type_error' })).toEqual({ kind: 'pass' });
  });
});
