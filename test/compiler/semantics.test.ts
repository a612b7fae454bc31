/**
 * Semantics pinned to OPA's compiler stages (v1/ast/compile.go): each test is named after the stage
 * whose behaviour it checks. The expectations are OPA's answers. Cases go through our compiler and
 * the module loaded by @open-policy-agent/opa-wasm, as the conformance runner runs OPA's own cases.
 */
import { runCase, type Case } from '../../src/cli/commands/conformance';
import { runTests } from '../../src/testing/runner';
import { compile } from '../../src/compiler';
import { RegoErrors } from '../../src/compiler/errors';

const run = (c: Omit<Case, 'note'>) => runCase({ note: 'semantics', ...c });
const gen = (body: string) => [`package generated\n\n${body}\n`];
/** the value of data.generated.p for each input (undefined: []) */
const p = (body: string, input: unknown, want: unknown[]) => run({ query: 'data.generated.p = x', modules: gen(body), input, want_result: want.map((x) => ({ x })) });
const PASS = { kind: 'pass' };

/** The compile errors of one module (empty when it compiles). */
function compileErrors(source: string, entrypoint = 'generated/p'): string[] {
  try {
    compile({ modules: [{ file: 'g.rego', source }], entrypoints: [entrypoint] });
  } catch (e) {
    if (e instanceof RegoErrors) return e.errors.map((x) => x.message);
    throw e;
  }
  return [];
}

describe('RewriteDynamicTerms / RewriteExprTerms: what is evaluated before a negation', () => {
  test('RewriteDynamicTerms: not f(input.missing) is undefined, not true', () => {
    const body = 'blocked(name) if name in {"mallory"}\np if not blocked(input.user.name)';
    expect(p(body, {}, [])).toEqual(PASS);
    expect(p(body, { user: { name: 'alice' } }, [true])).toEqual(PASS);
    expect(p(body, { user: { name: 'mallory' } }, [])).toEqual(PASS);
  });

  test('RewriteDynamicTerms: not s[input.missing] is undefined (the bracket is evaluated first)', () => {
    const body = 'names := {"ok"}\np if not names[input.spec.name]';
    expect(p(body, { spec: {} }, [])).toEqual(PASS);
    expect(p(body, { spec: { name: 'bad' } }, [true])).toEqual(PASS);
    expect(p(body, { spec: { name: 'ok' } }, [])).toEqual(PASS);
  });

  test('RewriteDynamicTerms: a local reference argument (m[0][1] of an empty match) makes the body undefined', () => {
    const body = 'p if {\n  m := regex.find_all_string_submatch_n("a(b)", input.s, -1)\n  not regex.match("^b$", m[0][1])\n}';
    expect(p(body, { s: 'zzz' }, [])).toEqual(PASS);
    expect(p(body, { s: 'ac' }, [])).toEqual(PASS);
  });

  test('RewriteDynamicTerms: operators and membership are calls too (!=, <, in)', () => {
    expect(p('p if not input.x != 1', {}, [])).toEqual(PASS);
    expect(p('p if not input.x < 1', {}, [])).toEqual(PASS);
    expect(p('p if not "admin" in input.roles', {}, [])).toEqual(PASS);
    expect(p('p if not "admin" in input.roles', { roles: ['dev'] }, [true])).toEqual(PASS);
    expect(p('p if not input.role in {"admin"}', {}, [])).toEqual(PASS);
  });

  test('RewriteDynamicTerms: references inside composite arguments and a rule passed as argument', () => {
    expect(p('f(x) if x[0] == 1\np if not f([input.a])', {}, [])).toEqual(PASS);
    expect(p('f(x) if x.k == 1\np if not f({"k": input.a})', { a: 2 }, [true])).toEqual(PASS);
    expect(p('f(x) if x == 1\nq if false\np if not f(q)', {}, [])).toEqual(PASS);
  });

  test('RewriteEquals: not a == b is a unification, a missing reference operand makes it true', () => {
    expect(p('p if not input.x == 1', {}, [true])).toEqual(PASS);
    expect(p('p if not input.x == input.y', {}, [true])).toEqual(PASS);
    expect(p('q if false\np if not q == 1', {}, [true])).toEqual(PASS);
    // but the brackets of such a reference are evaluated first
    expect(p('p if not input.a[input.k] == 1', { a: {} }, [])).toEqual(PASS);
  });

  test('RewriteExprTerms: a call nested in a negated expression is evaluated first', () => {
    expect(p('p if not count(input.xs) > 0', {}, [])).toEqual(PASS);
    expect(p('p if not count(input.xs) > 0', { xs: [] }, [true])).toEqual(PASS);
    // lower(5) is undefined (a built-in error outside strict mode), so the body is
    expect(p('p if { x := input.n; not lower(x) == "a" }', { n: 5 }, [])).toEqual(PASS);
  });

  test('negations that stay whole: a plain reference, a local, a lone rule', () => {
    expect(p('p if not input.x', {}, [true])).toEqual(PASS);
    expect(p('p if not input.x', { x: false }, [true])).toEqual(PASS);
    expect(p('q if false\np if not q', {}, [true])).toEqual(PASS);
    expect(p('s := {"a"}\np if { x := "b"; not s[x] }', {}, [true])).toEqual(PASS);
    expect(p('f(x) if x == 1\np if { x := 2; not f(x) }', {}, [true])).toEqual(PASS);
  });

  test('RewriteDynamicTerms: the moved terms see the expression\'s with modifiers', () => {
    const body = 'f(x) if x == 1\nq if not f(input.a)\np if q with input.a as 2';
    expect(p(body, {}, [true])).toEqual(PASS);
    expect(p('f(x) if x == 1\nq if not f(input.a)\np if { not q with input as {} }', {}, [true])).toEqual(PASS);
  });

  test('RewriteWithValues: a with value is evaluated before, and outside, the negation', () => {
    const body = 'q if input.y == 1\np if not q with input as input.x';
    expect(p(body, {}, [])).toEqual(PASS);
    expect(p(body, { x: { y: 2 } }, [true])).toEqual(PASS);
    expect(p(body, { x: { y: 1 } }, [])).toEqual(PASS);
  });

  test('CheckSafetyRuleBodies: a wildcard in a negation is unsafe (a negation cannot iterate)', () => {
    expect(compileErrors('package generated\np if not input.steps[_].tool == "go-test"')).toEqual(['g.rego:2:22: var _ is unsafe']);
    expect(compileErrors('package generated\nf(x) if x == 1\np if not f(input.xs[_])')).toEqual(['g.rego:3:21: var _ is unsafe']);
    // inside a comprehension the wildcard iterates the comprehension's own body
    expect(p('p if not [x | x := input.xs[_]; x > 1] == []', { xs: [1, 2] }, [true])).toEqual(PASS);
  });

  test('the Rego test package of the report: allow is undefined without a user', async () => {
    const source = `package repro.not_args_test
import rego.v1
blocked(name) if name in {"mallory"}
allow if not blocked(input.user.name)
allowed_names := {"ok"}
bad_name if not allowed_names[input.spec.name]
test_allow_is_undefined_without_user if not allow with input as {}
test_bad_name_undefined_without_name if not bad_name with input as {"spec": {}}
test_allow_defined_user if allow with input as {"user": {"name": "alice"}}
`;
    const report = await runTests({ modules: [{ file: 'repro_test.rego', source }], data: {} });
    expect(report.errors).toEqual([]);
    expect(report.tests.map((t) => [t.name, t.passed])).toEqual([
      ['data.repro.not_args_test.test_allow_is_undefined_without_user', true],
      ['data.repro.not_args_test.test_bad_name_undefined_without_name', true],
      ['data.repro.not_args_test.test_allow_defined_user', true],
    ]);
  });
});

describe('ResolveRefs / RewriteLocalVars: a declared name shadows a rule only where it is declared', () => {
  const doc = (body: string, want: unknown) => run({ query: 'data.generated = x', modules: gen(body), want_result: [{ x: want }] });

  test('ResolveRefs: := inside a comprehension declares a local that shadows the rule', () => {
    expect(p('r := 7\np := [r | some x in [1, 7]; r := x]', {}, [[1, 7]])).toEqual(PASS);
    expect(p('r := 7\np := {r: 1 | some x in [1, 7]; r := x}', {}, [{ 1: 1, 7: 1 }])).toEqual(PASS);
    expect(p('r := 7\np := [y | some x in [1, 7]; r := x; y := r + 1]', {}, [[2, 8]])).toEqual(PASS);
  });

  test('ResolveRefs: some x in xs inside a comprehension shadows the rule', () => {
    expect(p('r := 7\np := [r | some r in [1, 2]]', {}, [[1, 2]])).toEqual(PASS);
  });

  test('ResolveRefs: a function name declared in a comprehension is a local, not a use of the function', () => {
    expect(p('f(a) := a\np := [f | some x in [1, 7]; f := x]', {}, [[1, 7]])).toEqual(PASS);
  });

  test('ResolveRefs: outside the comprehension the name is the rule again', () => {
    expect(p('r := 7\np if { xs := [r | r := 1]; r == 7; xs == [1] }', {}, [true])).toEqual(PASS);
    expect(p('r := 7\np := [r | r := 1] if { r == 7 }', {}, [[1]])).toEqual(PASS);
  });

  test('ResolveRefs: an every key or value shadows the rule only in the every body', () => {
    expect(p('r := 7\np if { every r in [1] { r == 1 }; r == 7 }', {}, [true])).toEqual(PASS);
  });

  test('RewriteLocalVars: a comprehension declaring a name does not close over the outer one', () => {
    expect(p('p := x if [x | x := 1][0] = x', {}, [1])).toEqual(PASS);
    expect(p('p := [ys, x] if { ys := [x | x := 2]; x := 1 }', {}, [[[2], 1]])).toEqual(PASS);
  });

  test('ResolveRefs: each else branch has its own declarations', () => {
    expect(doc('r := 7\np := r if { false } else := y if { r := 5; y := r + 1 }\nq if { r == 7 } else if { r := 1 }', { r: 7, p: 6, q: true })).toEqual(PASS);
  });
});

describe('zero-argument functions and with targets through imports', () => {
  test('RuleKind: f() := v is the rule f (OPA issue #6315): a value, part of its package', () => {
    expect(run({ query: 'data.generated = x', modules: gen('f() := 1\nx := f'), want_result: [{ x: { f: 1, x: 1 } }] })).toEqual(PASS);
    expect(p('default f() := 2\nf() := 1 if input.a\np := f', {}, [2])).toEqual(PASS);
    // calling it is OPA's type error, as for any rule
    expect(compileErrors('package generated\nf() := 1\np := f()')).toEqual(['g.rego:3:6: undefined function data.generated.f']);
  });

  const lib = 'package lib\nr := 1\nf(x) := x\n';
  const withLib = (body: string) => run({ query: 'data.generated.p = x', modules: [...gen(body), lib], input: { user: { name: 'b' } }, want_result: [{ x: true }] });

  test('ResolveRefs: a with target written through an import alias replaces what the alias stands for', () => {
    expect(withLib('import data.lib\nq if lib.r == 5\np if { q with lib.r as 5 }')).toEqual(PASS);
    expect(withLib('import data.lib.r as limit\nq if data.lib.r == 5\np if { q with limit as 5 }')).toEqual(PASS);
    expect(withLib('import input.user\nq if user.name == "a"\np if { q with user.name as "a" }')).toEqual(PASS);
    expect(withLib('import data.lib\nq if lib.f(1) == 5\np if { q with lib.f as 5 }')).toEqual(PASS);
  });

  test('RewriteWithValues: a with target that is neither a document nor a function is OPA\'s error', () => {
    expect(compileErrors('package generated\nq := input.a\np if { x := 1; q with x as 2 }')).toEqual(['g.rego:3:18: with keyword target must reference existing input, data, or a function']);
  });

  test('ResolveRefs: a with target naming a rule of the package replaces that rule', () => {
    expect(withLib('q if r == 5\nr := 1\np if { q with r as 5 }')).toEqual(PASS);
    expect(withLib('q if data.lib.f(1) == 5\np if { q with data.lib.f as 5 }')).toEqual(PASS);
  });
});

describe('CheckSafetyRuleBodies: variables in a reference argument\'s brackets are outputs', () => {
  test('CheckSafetyRuleBodies: foo == input.foos[foo] iterates the reference to bind foo (key/value fixpoint)', () => {
    expect(p('p := foo if { some foo; foo == input.foos[foo] }', { foos: [2, 1, 0] }, [1])).toEqual(PASS);
    expect(p('p if { some foo; foo == input.foos[foo] }', { foos: ['foo'] }, [])).toEqual(PASS);
  });

  test('CheckSafetyRuleBodies: a call, an operator and a nested call bind through a reference argument', () => {
    const a = { a: { k: 'k', j: 'z' } };
    expect(p('f(a, b) if a == b\np contains x if f(x, input.a[x])', a, [['k']])).toEqual(PASS);
    expect(p('p contains x if x != input.a[x]', a, [['j']])).toEqual(PASS);
    expect(p('p contains x if lower(input.a[x]) == x', { a: { k: 'K', j: 'z' } }, [['k']])).toEqual(PASS);
  });

  test('CheckSafetyRuleBodies: a variable only outside brackets stays unsafe', () => {
    expect(compileErrors('package generated\np if x == 1')).toEqual(['g.rego:2:6: var x is unsafe']);
    expect(compileErrors('package generated\nf(y) := y\np if f(x)')).toEqual(['g.rego:3:6: var x is unsafe']);
  });
});

describe('checks OPA makes at compile time that we made at run time or not at all', () => {
  test('CheckVoidCalls: print has no value, so using it as one is a type error', () => {
    expect(compileErrors('package generated\np := print("a")')).toEqual(['g.rego:2:6: print used as value']);
    expect(compileErrors('package generated\np if {\n\tx := count([print(1)])\n\tx > 0\n}')).toEqual(['g.rego:3:14: print used as value']);
    // as an expression of its own it is fine
    expect(compileErrors('package generated\np if {\n\tprint("a")\n}')).toEqual([]);
  });

  test('CheckDeprecatedBuiltins: a Rego v1 module may not call any, all, set_diff, re_match, …', () => {
    expect(compileErrors('package generated\np := any([true])')).toEqual(['g.rego:2:6: deprecated built-in function calls in expression: any (removed in Rego v1; v0 policies need --v0-compatible)']);
    expect(compileErrors('package generated\np if re_match("a", "a")')).toEqual(['g.rego:2:6: deprecated built-in function calls in expression: re_match (removed in Rego v1; v0 policies need --v0-compatible)']);
    // a function of the package with that name is not the built-in
    expect(p('all(xs) if { every x in xs { x } }\np := all([true])', {}, [true])).toEqual(PASS);
  });

  test('CheckKeywordOverrides: a rule named input or data is refused', () => {
    expect(compileErrors('package generated\ninput := 1\np := 2')).toEqual(['g.rego:2:1: rules must not shadow input (use a different rule name)']);
    expect(compileErrors('package generated\ndata.x := 1\np := 2')).toEqual(['g.rego:2:1: rules must not shadow data (use a different rule name)']);
  });

  test('RewriteLocalVars: a some-declared variable used nowhere is refused', () => {
    expect(compileErrors('package generated\np if { some x; true }')).toEqual(['g.rego:2:8: declared var x unused']);
    expect(compileErrors('package generated\np := [1 | some y; true]')).toEqual(['g.rego:2:11: declared var y unused']);
    // an every's key and value must be used by its body
    expect(compileErrors('package generated\np if every x in [] { false }')).toEqual(['g.rego:2:6: declared var x unused']);
    expect(p('p if every _, x in [1] { x > 0 }', {}, [true])).toEqual(PASS);
    // used by the head, the comprehension term or another expression: fine
    expect(run({ query: 'data.generated = x', modules: gen('p contains x if { some x; x = 1 }\nq := [y | some y; y = 2]\nw if { some k; input[k] }'), input: { a: 1 }, want_result: [{ x: { p: [1], q: [2], w: true } }] })).toEqual(PASS);
  });

  test('RewriteRefsInHead: a function argument input.x is a value the call must match', () => {
    expect(p('f(input.x) := 1\np := [f(2)]', { x: 2 }, [[1]])).toEqual(PASS);
    expect(p('f(input.x) := 1\np := [f(3)]', { x: 2 }, [])).toEqual(PASS);
  });

  test('ResolveRefs: a function argument named input or data is refused', () => {
    expect(compileErrors('package generated\nf(input) := 1\np := f(2)')).toEqual(['g.rego:2:3: args must not shadow input (use a different variable name)']);
    expect(compileErrors('package generated\nf([data, 1]) := 1\np := f(2)')).toEqual(['g.rego:2:4: args must not shadow data (use a different variable name)']);
  });

  test('CheckTypes: a built-in called with a literal of a type it does not take is refused', () => {
    expect(compileErrors('package generated\np := "a" + "b"')).toEqual(['g.rego:2:6: plus: invalid argument(s): argument 1 is a string, plus takes number']);
    expect(compileErrors('package generated\np := count(5)')).toEqual(['g.rego:2:6: count: invalid argument(s): argument 1 is a number, count takes string or array or set or object']);
    expect(compileErrors('package generated\np := sprintf("%s", "a")')).toEqual(['g.rego:2:6: sprintf: invalid argument(s): argument 2 is a string, sprintf takes array']);
    // a local bound to a literal has the literal's type
    expect(compileErrors('package generated\np if { x := 5; count(x) > 0 }')).toEqual(['g.rego:2:16: count: invalid argument(s): argument 1 is a number, count takes string or array or set or object']);
    // literals it does take, and values whose type needs inference, compile
    expect(p('p := [count([x | some x in [1]]), concat(",", {"a"}), {1, 2} - {1}]', {}, [[1, 'a', [2]]])).toEqual(PASS);
    expect(p('p := count(input.x)', { x: 'ab' }, [2])).toEqual(PASS);
  });

  test('CheckRuleConflicts: a rule whose ref is another module\'s package is refused', () => {
    const errs = (mods: Array<[string, string]>): string[] => {
      try {
        compile({ modules: mods.map(([file, source]) => ({ file, source })), entrypoints: ['a'] });
      } catch (e) {
        if (e instanceof RegoErrors) return e.errors.map((x) => x.message);
        throw e;
      }
      return [];
    };
    expect(errs([['a.rego', 'package a\nb := 1'], ['b.rego', 'package a.b\n']])).toEqual(['a.rego:1:1: package a.b conflicts with rule b defined at a.rego:2']);
    // a rule with a variable in its ref is left to evaluation, as in OPA
    expect(errs([['a.rego', 'package a\nb[x] := 1 if x := 1'], ['b.rego', 'package a.b\n']])).toEqual([]);
  });

  test('CheckRuleConflicts: a complete rule defined twice with := compiles (OPA 1.x has no "redeclared" check)', () => {
    // OPA 0.x refused it ("rule named p redeclared"); v1/ast/compile.go checkRuleConflicts checks only kinds,
    // arities, extents and defaults, so equal values answer and different ones conflict at evaluation.
    expect(compileErrors('package generated\np := 1\np := 1')).toEqual([]);
    expect(p('p := 1\np := 1', {}, [1])).toEqual(PASS);
    expect(run({ query: 'data.generated.p = x', modules: gen('p := 1\np := 2'), want_error_code: 'eval_conflict_error' })).toEqual(PASS);
  });

  test('CheckTypes: a missing key of a constant object rule is an undefined ref', () => {
    const config = 'config := {"max_depth": 2, "nested": {"a": 1}, "list": [1]}\n';
    expect(compileErrors(`package generated\n${config}p if input.d > config.max_depht`)).toEqual(['g.rego:3:16: undefined ref: data.generated.config.max_depht']);
    expect(compileErrors(`package generated\n${config}p if config.nested.b`)).toEqual(['g.rego:3:6: undefined ref: data.generated.config.nested.b']);
    expect(compileErrors(`package generated\n${config}p := config.max_depth.x`)).toEqual(['g.rego:3:6: undefined ref: data.generated.config.max_depth.x']);
    expect(p(`${config}p := [config.max_depth, config.nested.a, config.list[0]]`, {}, [[2, 1, 1]])).toEqual(PASS);
    // a rule with a body (or several definitions) has no static keys to check
    expect(p('config := {"a": 1} if true\np := 1 if config.b', {}, [])).toEqual(PASS);
  });

  test('CheckDuplicateImports: two imports binding one name are refused', () => {
    expect(compileErrors('package generated\nimport data.a\nimport data.b as a\np := 1')).toEqual(['g.rego:3:1: import must not shadow import data.a']);
    expect(compileErrors('package generated\nimport input.x\nimport data.x\np := 1')).toEqual(['g.rego:3:1: import must not shadow import input.x']);
  });
});
