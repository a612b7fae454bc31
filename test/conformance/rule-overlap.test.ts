/**
 * A partial object `p[k] := v` with complete rules below it (`p.foo := "bar"`): the planner merges
 * them into one document. Expectations are OPA's answers: keys from both, equal values for a shared
 * key agree, different values are a conflict; deeper complete rules and nested ref heads merge the same
 * way; other overlaps stay refused.
 */
import { runCase, type Case } from '../../src/cli/commands/conformance';

const run = (c: Omit<Case, 'note'>) => runCase({ note: 'overlap', ...c });
const mod = (body: string) => [`package test\n\n${body}\n`];
const OBJ = 'p[k] := v if { v := ["a", "b", "c"][k] }\n\np["foo"] := "bar"\n';

describe('partial object with complete rules below it', () => {
  test('the whole document has the keys of both', () => {
    expect(run({ query: 'data.test.p = x', modules: mod(OBJ), want_result: [{ x: { 0: 'a', 1: 'b', 2: 'c', foo: 'bar' } }] })).toEqual({ kind: 'pass' });
    // and not the object alone (the test can fail)
    expect(run({ query: 'data.test.p = x', modules: mod(OBJ), want_result: [{ x: { 0: 'a', 1: 'b', 2: 'c' } }] }).kind).toBe('wrong');
  });
  test('reads through the child and iteration see both', () => {
    expect(run({ query: 'data.test.p.foo = x', modules: mod(OBJ), want_result: [{ x: 'bar' }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.q = x', modules: mod(OBJ + 'q contains x if { some x in p }'), want_result: [{ x: ['a', 'b', 'c', 'bar'] }] })).toEqual({ kind: 'pass' });
  });
  test('an undefined child leaves its key out; the object is still defined', () => {
    const m = mod('p[k] := 1 if { k := input.ks[_] }\n\np.bar := 2 if input.bar');
    expect(run({ query: 'data.test.p = x', modules: m, input: { ks: [] }, want_result: [{ x: {} }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: m, input: { ks: ['a'], bar: true }, want_result: [{ x: { a: 1, bar: 2 } }] })).toEqual({ kind: 'pass' });
  });
  test('a key produced by both: equal values agree, different values conflict', () => {
    const m = mod('p[k] := v if { some k, v in input.m }\n\np.foo := "bar"');
    expect(run({ query: 'data.test.p = x', modules: m, input: { m: { foo: 'bar', z: 1 } }, want_result: [{ x: { foo: 'bar', z: 1 } }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: m, input: { m: { foo: 'other' } }, want_error_code: 'eval_conflict_error' })).toEqual({ kind: 'pass' });
  });
  test('with on a child of the merged document stays refused', () => {
    const m = mod(OBJ + 'q := x if { x := p with p.foo as "mocked" }');
    // `with` inside a rule's value stays refused rather than guessed
    expect(run({ query: 'data.test.q = x', modules: m, want_result: [] }).kind).toBe('refused');
  });
  test('complete rules deeper below, and below a nested ref head (OPA issue 7399 shape)', () => {
    expect(run({ query: 'data.test.p = x', modules: mod('p[k] := 1 if k := "a"\n\np.q.r := 2'), want_result: [{ x: { a: 1, q: { r: 2 } } }] })).toEqual({ kind: 'pass' });
    const m = mod('allow[action].something if action := input.action\n\nallow.see.something_else if true');
    expect(run({ query: 'data.test.allow = x', modules: m, input: { action: 'show' }, want_result: [{ x: { show: { something: true }, see: { something_else: true } } }] })).toEqual({ kind: 'pass' });
    // both write below allow.see: different leaves merge
    expect(run({ query: 'data.test.allow = x', modules: m, input: { action: 'see' }, want_result: [{ x: { see: { something: true, something_else: true } } }] })).toEqual({ kind: 'pass' });
  });
  test('a rule inside another rule’s object value is a conflict at evaluation (OPA docs: general refs)', () => {
    const m = mod('p.q.r := {"s": 1}\n\np[x].r.t := 2 if x := input.x');
    expect(run({ query: 'data.test.p = x', modules: m, input: { x: 'q' }, want_error_code: 'eval_conflict_error' })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.p = x', modules: m, input: { x: 'z' }, want_result: [{ x: { q: { r: { s: 1 } }, z: { r: { t: 2 } } } }] })).toEqual({ kind: 'pass' });
    // a value where the other rule needs an object
    const m2 = mod('p[x] := 1 if x := "q"\n\np.q.r := 2');
    expect(run({ query: 'data.test.p = x', modules: m2, want_error_code: 'eval_conflict_error' })).toEqual({ kind: 'pass' });
  });
  test('other overlaps stay refused', () => {
    expect(run({ query: 'data.test.p = x', modules: mod('p := {"a": 1}\n\np.q := 2'), want_result: [] }).kind).toBe('refused');
    expect(run({ query: 'data.test.p = x', modules: mod('p[k] := 1 if k := "a"\n\np.q[r] := 2 if r := "b"'), want_result: [] }).kind).toBe('refused');
  });
  test('a dynamic reference into data that includes the rule itself is refused, not reported as recursion', () => {
    const modules = ['package test\np := data[first].allow.see.x if first := "primary"\n', 'package primary\nallow.see.x := true\n'];
    expect(run({ query: 'data.test.p = x', modules, want_result: [{ x: true }] }).kind).toBe('refused');
  });
});
