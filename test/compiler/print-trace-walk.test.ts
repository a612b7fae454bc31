/**
 * `print`, `trace` and `walk`: compiled and run through the SDK as the PDP runs them. Expected output
 * and values are OPA's (topdown/print.go, topdown/walk.go).
 */
import { compile } from '../../src/compiler';
import { WasmPolicy } from '../../src/engine/policy';
import { runCase, type Case } from '../../src/cli/commands/conformance';
import { runTestsInPaths } from '../../src/testing/runner';
import { formatJson, formatText } from '../../src/testing/report';
import { fileTree } from '../helpers/file-tree';

/** The value of `data.t.<rule>` and the lines printed while evaluating it. */
function evalPrinting(source: string, rule: string, input?: unknown): { result: unknown; lines: string[] } {
  const r = compile({ modules: [{ file: 'p.rego', source: `package t\n\n${source}\n` }], entrypoints: [`t/${rule}`] });
  const lines: string[] = [];
  const p = WasmPolicy.loadSync(r.wasm, { print: (l) => lines.push(l) });
  const rs = p.evaluate(`t/${rule}`, input);
  return { result: rs[0]?.result, lines };
}

const run = (c: Omit<Case, 'note'>) => runCase({ note: 'print/walk', ...c });
const mod = (body: string) => [`package test\n\n${body}\n`];

describe('print', () => {
  test('strings bare, other values as Rego text, separated by spaces', () => {
    const { result, lines } = evalPrinting('p if print("hi", 1, true, null, ["a", {"k": {2, 1}}], set(), {})', 'p');
    expect(result).toBe(true);
    expect(lines).toEqual(['hi 1 true null ["a", {"k": {1, 2}}] set() {}']);
  });
  test('an undefined argument prints <undefined> and the body goes on', () => {
    const { result, lines } = evalPrinting('p := 7 if {\n\tprint("x is", input.x)\n\tprint()\n}', 'p', {});
    expect(result).toBe(7);
    expect(lines).toEqual(['x is <undefined>', '']);
  });
  test('an argument with several values: one line per value, in sorted order, crossed with the others', () => {
    const { lines } = evalPrinting('p if print(input.xs[_], input.ys[_])', 'p', { xs: [2, 1, 2], ys: ['b', 'a'] });
    expect(lines).toEqual(['1 a', '1 b', '2 a', '2 b']);
  });
  test('prints once per solution of the body, after the variables it uses are bound', () => {
    const { result, lines } = evalPrinting('s contains y if {\n\tprint("y =", y)\n\ty = input[_]\n}', 's', [3, 4]);
    expect(result).toEqual([3, 4]);
    expect(lines).toEqual(['y = 3', 'y = 4']);
  });
  test('in functions and comprehensions', () => {
    const { result, lines } = evalPrinting('f(x) := x + 1 if print("f", x)\n\np := [f(v) | some v in [1, 2]]', 'p');
    expect(result).toEqual([2, 3]);
    expect(lines).toEqual(['f 1', 'f 2']);
  });
  test('an unbound variable is unsafe', () => {
    expect(run({ query: 'data.test.p = x', modules: mod('p if print(x)'), want_error_code: 'rego_unsafe_var_error' })).toEqual({ kind: 'pass' });
  });
  test('pdp test shows a test’s prints with -v and when it fails, as opa test does', async () => {
    const dir = fileTree({ 'p_test.rego': 'package p_test\n\ntest_a if { print("checking", 1); true }\n\ntest_b if { print("b ran"); false }\n' });
    const report = await runTestsInPaths([dir]);
    expect(report.tests.map((t) => [t.name, t.output])).toEqual([
      ['data.p_test.test_a', ['checking 1']],
      ['data.p_test.test_b', ['b ran']],
    ]);
    const quiet = formatText(report);
    expect(quiet).not.toContain('checking 1');
    expect(quiet).toContain('\n\n  b ran\n\n');
    expect(formatText(report, { verbose: true })).toContain('\n\n  checking 1\n\n');
    expect((JSON.parse(formatJson(report)) as { tests: Array<{ output?: string[] }> }).tests.map((t) => t.output)).toEqual([['checking 1'], ['b ran']]);
  });
});

describe('trace', () => {
  test('is true for a string and never prints', () => {
    const { result, lines } = evalPrinting('p := x if { trace("note"); x := trace(sprintf("%d", [1])) }', 'p');
    expect(result).toBe(true);
    expect(lines).toEqual([]);
  });
});

describe('walk', () => {
  const DOC = { b: [1, { c: 2 }], a: 'x' };
  test('every [path, value], the node first, then children in sorted order', () => {
    const { result } = evalPrinting('pairs := [[p, v] | walk(input, [p, v])]', 'pairs', DOC);
    expect(result).toEqual([
      [[], DOC],
      [['a'], 'x'],
      [['b'], [1, { c: 2 }]],
      [['b', 0], 1],
      [['b', 1], { c: 2 }],
      [['b', 1, 'c'], 2],
    ]);
  });
  test('set elements are their own path keys', () => {
    expect(run({ query: 'data.test.p = x', modules: mod('p := [[k, v] | walk({"s": {2, 1}}, [k, v])]'), want_result: [{ x: [[[], { s: [1, 2] }], [['s'], [1, 2]], [['s', 1], 1], [['s', 2], 2]] }] })).toEqual({ kind: 'pass' });
  });
  test('patterns in the output select pairs; the result form iterates too', () => {
    const m = mod('leaves contains v if { walk(input, [p, v]); count(p) == 3 }\n\nbs contains k if walk(input, [["b", k], _])\n\nn := count([x | x := walk(input)])');
    const input = DOC;
    expect(run({ query: 'data.test.leaves = x', modules: m, input, want_result: [{ x: [2] }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.bs = x', modules: m, input, want_result: [{ x: [0, 1] }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.n = x', modules: m, input, want_result: [{ x: 6 }] })).toEqual({ kind: 'pass' });
  });
  test('OPA case walkbuiltin/objects no path: sort_bindings compares an array binding in any order, as OPA’s runner sorts it', () => {
    const c = { query: 'data.generated.p = x', modules: ['package generated\n\np := [x | walk(data.b, [_, x])]\n'], data: { b: { v1: 'hello', v2: 'goodbye' } } };
    expect(run({ ...c, want_result: [{ x: ['goodbye', 'hello', { v1: 'hello', v2: 'goodbye' }] }], sort_bindings: true })).toEqual({ kind: 'pass' });
    // without sort_bindings the order is ours (the node first), and another order is wrong
    expect(run({ ...c, want_result: [{ x: ['goodbye', 'hello', { v1: 'hello', v2: 'goodbye' }] }] }).kind).toBe('wrong');
    expect(run({ ...c, want_result: [{ x: ['goodbye', 'hello'] }], sort_bindings: true }).kind).toBe('wrong');
  });
  test('a scalar walks to itself only', () => {
    expect(run({ query: 'data.test.p = x', modules: mod('p := [[k, v] | walk(3, [k, v])]'), want_result: [{ x: [[[], 3]] }] })).toEqual({ kind: 'pass' });
  });
});
