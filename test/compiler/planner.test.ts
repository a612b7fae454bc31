import { compileToProgram } from '../../src/compiler';
import { RegoErrors } from '../../src/compiler/errors';
import { runPlan, Abort } from './ir-interp';

function evalQ(modules: string[], query: string, input?: unknown, data?: unknown): unknown[] {
  const { program } = compileToProgram({
    modules: modules.map((source, i) => ({ file: `m${i}.rego`, source })),
    queries: [{ name: 'q', query }],
  });
  return runPlan(program, 'q', input, data);
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof RegoErrors) return e.errors.map((x) => `${x.code}: ${x.message}`).join('\n');
    if (e instanceof Abort) return e.message;
    throw e;
  }
  return 'no error';
}

describe('planner (through the IR interpreter)', () => {
  test('complete rules, iteration and unification', () => {
    const m = `package t
allow if { some i; input.xs[i] == 2 }
ys contains y if { some x in input.xs; y := x + 1 }
obj[k] := v if { some k, v in {"a": 1, "b": 2} }
pair := [a, b] if { [a, b] = input.pair }
`;
    expect(evalQ([m], 'data.t.allow = x', { xs: [1, 2] })).toEqual([{ x: true }]);
    expect(evalQ([m], 'data.t.allow = x', { xs: [1] })).toEqual([]);
    expect(evalQ([m], 'data.t.ys = x', { xs: [1, 2] })).toEqual([{ x: [2, 3] }]);
    expect(evalQ([m], 'data.t.obj = x')).toEqual([{ x: { a: 1, b: 2 } }]);
    expect(evalQ([m], 'data.t.pair = x', { pair: [3, 4] })).toEqual([{ x: [3, 4] }]);
  });

  test('not, every, comprehensions, default, else, functions', () => {
    const m = `package t
default d := 0
d := 1 if input.one
e := 1 if { input.a } else := 2 if { input.b } else := 3
f(x) := x + 1
f2(1) := "one"
f2(x) := "other" if x != 1
nope if not input.a
all_pos if every x in input.xs { x > 0 }
c := [x | some x in input.xs; x > 1]
s := {x | some x in input.xs}
o := {k: v | some k, v in input.xs}
`;
    expect(evalQ([m], 'data.t.d = x', {})).toEqual([{ x: 0 }]);
    expect(evalQ([m], 'data.t.d = x', { one: true })).toEqual([{ x: 1 }]);
    expect(evalQ([m], 'data.t.e = x', { b: true })).toEqual([{ x: 2 }]);
    expect(evalQ([m], 'data.t.e = x', {})).toEqual([{ x: 3 }]);
    expect(evalQ([m], 'x = data.t.f(1)', {})).toEqual([{ x: 2 }]);
    expect(evalQ([m], 'x = [data.t.f2(1), data.t.f2(2)]', {})).toEqual([{ x: ['one', 'other'] }]);
    expect(evalQ([m], 'data.t.nope = x', {})).toEqual([{ x: true }]);
    expect(evalQ([m], 'data.t.nope = x', { a: 1 })).toEqual([]);
    expect(evalQ([m], 'data.t.all_pos = x', { xs: [1, 2] })).toEqual([{ x: true }]);
    expect(evalQ([m], 'data.t.all_pos = x', { xs: [1, -2] })).toEqual([]);
    expect(evalQ([m], 'data.t.c = x', { xs: [1, 2, 3] })).toEqual([{ x: [2, 3] }]);
    expect(evalQ([m], 'data.t.s = x', { xs: [1, 1] })).toEqual([{ x: [1] }]);
    expect(evalQ([m], 'data.t.o = x', { xs: ['a'] })).toEqual([{ x: { '0': 'a' } }]);
  });

  test('virtual documents merged with base data, with', () => {
    const m = `package a.b
p := 1
q := input.v
r if q == 7 with input.v as 7
`;
    expect(evalQ([m], 'data.a = x', {}, { a: { z: 2 } })).toEqual([{ x: { z: 2, b: { p: 1, r: true } } }]);
    expect(evalQ([m], 'data.a.b[k] = 1', {}, {})).toEqual([{ k: 'p' }]);
  });

  test('errors: conflicts, recursion, unsafe vars', () => {
    expect(errorOf(() => evalQ(['package t\np := x if { x := [1, 2][_] }'], 'data.t.p = x'))).toMatch(/eval_conflict_error/);
    expect(errorOf(() => evalQ(['package t\np if q\nq if p'], 'data.t.p = x'))).toMatch(/rego_recursion_error/);
    expect(errorOf(() => evalQ(['package t\np if { x > 1 }'], 'data.t.p = x'))).toMatch(/rego_unsafe_var_error.*var x is unsafe/);
    expect(errorOf(() => evalQ(['package t\np if { nosuch(1) }'], 'data.t.p = x'))).toMatch(/rego_type_error/);
  });
});
