/**
 * `contains` rules with variables in their ref head (`deny[kind] contains msg`, `p.q[x].r contains y`):
 * the document is an object whose leaves are sets, as OPA evaluates it. Expectations are OPA's answers.
 */
import { runCase, type Case } from '../../src/cli/commands/conformance';

const run = (c: Omit<Case, 'note'>) => runCase({ note: 'ref-head sets', ...c });
const mod = (body: string) => [`package test\n\n${body}\n`];

const DENY = `deny[kind] contains msg if {
	some item in input.items
	kind := item.kind
	msg := sprintf("bad %s", [item.name])
}`;
const ITEMS = { items: [{ kind: 'a', name: 'x' }, { kind: 'a', name: 'y' }, { kind: 'b', name: 'z' }] };

describe("'contains' with a variable in the ref head", () => {
  test('groups the elements by key', () => {
    expect(run({ query: 'data.test.deny = x', modules: mod(DENY), input: ITEMS, want_result: [{ x: { a: ['bad x', 'bad y'], b: ['bad z'] } }] })).toEqual({ kind: 'pass' });
    // the grouping is checked, not just the elements
    expect(run({ query: 'data.test.deny = x', modules: mod(DENY), input: ITEMS, want_result: [{ x: { a: ['bad x'], b: ['bad y', 'bad z'] } }] }).kind).toBe('wrong');
  });
  test('each leaf is a set: duplicates collapse, and set operations apply', () => {
    const m = mod(`${DENY}\n\nn := count(deny.a)\n\nis_set_a := is_set(deny.a)`);
    const input = { items: [...ITEMS.items, { kind: 'a', name: 'x' }] };
    expect(run({ query: 'data.test.n = x', modules: m, input, want_result: [{ x: 2 }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.is_set_a = x', modules: m, input, want_result: [{ x: true }] })).toEqual({ kind: 'pass' });
  });
  test('several rules add to the same sets', () => {
    const m2 = mod(`${DENY}\n\ndeny[k] contains "dyn" if k := "a"`);
    expect(run({ query: 'data.test.deny = x', modules: m2, input: ITEMS, want_result: [{ x: { a: ['bad x', 'bad y', 'dyn'], b: ['bad z'] } }] })).toEqual({ kind: 'pass' });
  });
  test('no solutions: an empty object; a missing key is undefined', () => {
    expect(run({ query: 'data.test.deny = x', modules: mod(DENY), input: { items: [] }, want_result: [{ x: {} }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.deny.c = x', modules: mod(DENY), input: ITEMS, want_result: [] })).toEqual({ kind: 'pass' });
  });
  test('reads through the ref and iteration', () => {
    const m = mod(`${DENY}\n\nall contains m if some m in deny[_]\n\nkinds contains k if deny[k]`);
    expect(run({ query: 'data.test.deny.b = x', modules: m, input: ITEMS, want_result: [{ x: ['bad z'] }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.all = x', modules: m, input: ITEMS, want_result: [{ x: ['bad x', 'bad y', 'bad z'] }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.kinds = x', modules: m, input: ITEMS, want_result: [{ x: ['a', 'b'] }] })).toEqual({ kind: 'pass' });
  });
  test('static keys after the variable and several variables', () => {
    const m = mod('p.q[x].r contains y if some x, y in {"a": 1, "b": 2}');
    expect(run({ query: 'data.test.p = x', modules: m, want_result: [{ x: { q: { a: { r: [1] }, b: { r: [2] } } } }] })).toEqual({ kind: 'pass' });
    const m2 = mod('p[x][y] contains z if { some x, ys in input; some y, z in ys }');
    const input = { a: { b: 1, c: 2 }, d: { b: 3 } };
    expect(run({ query: 'data.test.p = x', modules: m2, input, want_result: [{ x: { a: { b: [1], c: [2] }, d: { b: [3] } } }] })).toEqual({ kind: 'pass' });
  });
  test('non-string keys', () => {
    const m = mod('p[n] contains s if { some s in ["a", "bb", "cc"]; n := count(s) }');
    expect(run({ query: 'data.test.p[2] = x', modules: m, want_result: [{ x: ['bb', 'cc'] }] })).toEqual({ kind: 'pass' });
  });
  test('an unbound head variable is unsafe; else is a compile error', () => {
    expect(run({ query: 'data.test.p = x', modules: mod('p[x] contains 1 if true'), want_error_code: 'rego_unsafe_var_error' })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: mod('p[x] contains 1 if x := 1 else := 2'), want_error_code: 'rego_parse_error' }).kind).not.toBe('wrong');
  });
  test('refs of different lengths: sets at different depths; a set where an object is needed is a conflict', () => {
    const m = mod('p[x] contains 1 if x := "a"\n\np[x].b contains 2 if x := input.k');
    expect(run({ query: 'data.test.p = x', modules: m, input: { k: 'c' }, want_result: [{ x: { a: [1], c: { b: [2] } } }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: m, input: { k: 'a' }, want_error_code: 'eval_conflict_error' })).toEqual({ kind: 'pass' });
  });
  test('multi-variable object ref heads (p[x][y] := z)', () => {
    const m = mod('p[x][y] := z if { some x, ys in input; some y, z in ys }');
    const input = { a: { b: 1, c: 2 }, d: { b: 3 } };
    expect(run({ query: 'data.test.p = x', modules: m, input, want_result: [{ x: input }] })).toEqual({ kind: 'pass' });
    const m2 = mod('p[x][y] := z if { some z in [1, 2]; x := "a"; y := "b" }');
    expect(run({ query: 'data.test.p = x', modules: m2, want_error_code: 'eval_conflict_error' })).toEqual({ kind: 'pass' });
  });
});

describe("'contains' rules with variables overlapping 'contains' rules below them", () => {
  test('OPA regression case: obj.sub[x][x] with obj[x][x]', () => {
    const m = mod('obj.sub[x][x] contains x if some x in ["one", "two"]\n\nobj[x][x] contains x if x := "whatever"\n\nmain contains x if {\n\t[1 | obj.sub[_].one[_]]\n\tx := obj.sub[_][_][_]\n}');
    expect(run({ query: 'data.test.main = x', modules: m, want_result: [{ x: ['one', 'two'] }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.obj = x', modules: m, want_result: [{ x: { sub: { one: { one: ['one'] }, two: { two: ['two'] } }, whatever: { whatever: ['whatever'] } } }] })).toEqual({ kind: 'pass' });
  });
  test('rules reaching the same set add to it', () => {
    const m = mod('deny[k] contains "dyn" if some k in ["a", "b"]\n\ndeny.a contains "static"');
    expect(run({ query: 'data.test.deny = x', modules: m, want_result: [{ x: { a: ['dyn', 'static'], b: ['dyn'] } }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.deny.a = x', modules: m, want_result: [{ x: ['dyn', 'static'] }] })).toEqual({ kind: 'pass' });
  });
  test('sets at another depth merge where they do not meet; values or functions below stay refused', () => {
    expect(run({ query: 'data.test.p = x', modules: mod('p[x] contains 1 if x := "a"\n\np.b.c contains 2'), want_result: [{ x: { a: [1], b: { c: [2] } } }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: mod('p[x] contains 1 if x := "b"\n\np.b.c contains 2'), want_error_code: 'eval_conflict_error' })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: mod('p[x] contains 1 if x := "a"\n\np.b := 2'), want_result: [] }).kind).toBe('refused');
    expect(run({ query: 'data.test.p = x', modules: mod('p[x] contains 1 if x := "a"\n\np.f(y) := y'), want_result: [] }).kind).toBe('refused');
  });
});
