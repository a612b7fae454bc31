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

describe('host built-ins see exact values (sets, non-string keys, big integers)', () => {
  test('sprintf %v prints sets as sets, also nested in arrays and objects', () => {
    const mod = gen('p := [sprintf("%v", [{"username"}]), sprintf("%v", [{1, 2}]), sprintf("%v", [[{1}, {"a": {2, 3}}]]), sprintf("%v", [set()]), sprintf("%v", [{[1]: "x"}])]');
    expect(run({ query: 'data.generated.p = x', modules: mod, want_result: [{ x: ['{"username"}', '{1, 2}', '[{1}, {"a": {2, 3}}]', 'set()', '{[1]: "x"}'] }] })).toEqual({ kind: 'pass' });
  });
  test('time.format of a nanosecond instant beyond 2^53 keeps every digit, and parse_rfc3339_ns inverts it', () => {
    const mod = gen('n := 1700000000123456789\np := [time.format(n), time.parse_rfc3339_ns(time.format(n)) == n]');
    expect(run({ query: 'data.generated.p = x', modules: mod, want_result: [{ x: ['2023-11-14T22:13:20.123456789Z', true] }] })).toEqual({ kind: 'pass' });
  });
  test('object.filter / object.remove with non-string keys', () => {
    const mod = gen('p := [object.filter({"a": 1, [[7]]: 2}, {[[7]]}) == {[[7]]: 2}, object.remove({"a": 1, [[7]]: 2}, {[[7]]}) == {"a": 1}]');
    expect(run({ query: 'data.generated.p = x', modules: mod, want_result: [{ x: [true, true] }] })).toEqual({ kind: 'pass' });
  });
});

describe('strings.replace_n follows Go\'s strings.Replacer', () => {
  test('an empty key matches at every code point boundary, once, before the other keys', () => {
    const mod = gen('p := [strings.replace_n({"": "X"}, ""), strings.replace_n({"": "X"}, "ab"), strings.replace_n({"": "X", "a": "Y"}, "ab"), strings.replace_n({"": "-", "é": "e"}, "aéb")]');
    expect(run({ query: 'data.generated.p = x', modules: mod, want_result: [{ x: ['X', 'XaXbX', 'XYXbX', '-a-e-b-'] }] })).toEqual({ kind: 'pass' });
  });
  test('a non-string key in the pattern object is a type error', () => {
    expect(run({ query: 'data.test.p = x', modules: ['package test\np := strings.replace_n({2: "x" | true}, "foo")\n'], want_error_code: 'eval_type_error', strict_error: true })).toEqual({ kind: 'pass' });
  });
});

describe('net.cidr_merge and net.cidr_contains_matches read their operands as OPA does', () => {
  test('cidr_merge: an IPv6 address needs a prefix; an IPv4 address gets its classful mask; non-strings are errors', () => {
    expect(run({ query: 'data.test.p = x', modules: ['package test\np := net.cidr_merge(["2601:600::1"])\n'], want_error_code: 'eval_builtin_error', strict_error: true })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: ['package test\np := net.cidr_merge([1])\n'], want_error_code: 'eval_builtin_error', strict_error: true })).toEqual({ kind: 'pass' });
    const mod = ['package test\np := [net.cidr_merge(["10.1.2.3"]), net.cidr_merge(["192.168.1.7", "192.168.1.9"]), net.cidr_merge(["2601:600::/64", "2601:600::1/128"])]\n'];
    expect(run({ query: 'data.test.p = x', modules: mod, want_result: [{ x: [['10.1.2.3/8'], ['192.168.1.0/24'], ['2601:600::/64']] }] })).toEqual({ kind: 'pass' });
  });
  test('cidr_contains_matches: set elements are their own keys; a bad element is a built-in error', () => {
    const mod = ['package test\np := net.cidr_contains_matches({"1.1.1.0/24", "1.1.2.0/24"}, {"1.1.1.1", "1.1.2.1"})\n'];
    expect(run({ query: 'data.test.p = x', modules: mod, want_result: [{ x: [['1.1.1.0/24', '1.1.1.1'], ['1.1.2.0/24', '1.1.2.1']] }] })).toEqual({ kind: 'pass' });
    const bad = ['package test\np := net.cidr_contains_matches({["1.1.1.0/24", "bar"]}, {1, ["1.1.2.1", "qux"]})\n'];
    expect(run({ query: 'data.test.p = x', modules: bad, want_error_code: 'eval_builtin_error', strict_error: true })).toEqual({ kind: 'pass' });
  });
});

describe('integer built-ins are exact beyond 2^53, as OPA\'s big.Int', () => {
  test('bits.lsh of max int64 does not overflow; numbers.range_step takes a huge step', () => {
    // compared inside the policy: the runtime compares big integers exactly (JS doubles would not)
    const mod = gen('p := [bits.lsh(9223372036854775807, 1) == 18446744073709551614, bits.rsh(18446744073709551614, 1) == 9223372036854775807, numbers.range_step(0, 10, 99999999999999999999)]');
    expect(run({ query: 'data.generated.p = x', modules: mod, want_result: [{ x: [true, true, [0]] }] })).toEqual({ kind: 'pass' });
  });
});

describe('json.patch reads paths and test ops as OPA does', () => {
  test('leading slashes are dropped: "b", "/b" and "//b" all name key b', () => {
    const mod = gen('p := [json.patch({"a": 1}, [{"op": "add", "path": "b", "value": 2}]), json.patch({"a": 1}, [{"op": "add", "path": "/b", "value": 2}]), json.patch({"a": 1}, [{"op": "add", "path": "//b", "value": 2}])]');
    expect(run({ query: 'data.generated.p = x', modules: mod, want_result: [{ x: [{ a: 1, b: 2 }, { a: 1, b: 2 }, { a: 1, b: 2 }] }] })).toEqual({ kind: 'pass' });
  });
  test('a test op without value, or with a leading-zero index, makes the call undefined', () => {
    for (const patch of ['[{"op": "test", "path": "/0"}]', '[{"op": "test", "path": "/00", "value": "foo"}]']) {
      expect(run({ query: 'data.generated.p = x', modules: gen(`p := json.patch(["foo", "bar"], ${patch})`), want_result: [] })).toEqual({ kind: 'pass' });
    }
    expect(run({ query: 'data.generated.p = x', modules: gen('p := json.patch(["foo", "bar"], [{"op": "test", "path": "/1", "value": "bar"}])'), want_result: [{ x: ['foo', 'bar'] }] })).toEqual({ kind: 'pass' });
  });
});

describe('a call argument that enumerates a variable binds it for the other arguments', () => {
  test('foo == input.foos[foo] (OPA hoists the ref out of the call)', () => {
    const mod = ['package test\np := foo if {\n  some foo\n  foo == input.foos[foo]\n}\n'];
    expect(run({ query: 'data.test.p = x', modules: mod, input: { foos: [2, 1, 0] }, want_result: [{ x: 1 }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: mod, input: { foos: ['foo'] }, want_result: [] })).toEqual({ kind: 'pass' });
    const mod2 = ['package test\np contains [i, v] if {\n  v := sprintf("%d", [count(input.xs[i])])\n}\n'];
    expect(run({ query: 'data.test.p = x', modules: mod2, input: { xs: [[1], [1, 2]] }, want_result: [{ x: [[0, '1'], [1, '2']] }], sort_bindings: true })).toEqual({ kind: 'pass' });
  });
});
