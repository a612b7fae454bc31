/**
 * Template strings `$"…{expr}…"` and `` $`…{expr}…` `` (OPA 1.12): parsed as OPA's compiler rewrites
 * them (internal.template_string over the sets of values of each expression). Expectations follow
 * OPA's scanner (escapes), parser (what an expression may be) and topdown/template_string.go.
 */
import { runCase, type Case } from '../../src/cli/commands/conformance';
import { compile } from '../../src/compiler';
import { parseModule } from '../../src/compiler/parser';
import { RegoErrors } from '../../src/compiler/errors';
import { WasmPolicy } from '../../src/engine/policy';

const run = (c: Omit<Case, 'note'>) => runCase({ note: 'template strings', ...c });
const mod = (body: string) => [`package test\n\n${body}\n`];
/** The value of `p := <expr>`. */
const value = (expr: string, input?: unknown): unknown => {
  const r = compile({ modules: [{ file: 'p.rego', source: mod(`p := ${expr}`)[0] }], entrypoints: ['test/p'] });
  return WasmPolicy.loadSync(r.wasm).evaluate('test/p', input)[0]?.result;
};

describe('template strings', () => {
  test('expressions are written in place: strings bare, other values as Rego text', () => {
    expect(value('$"hello {input.name}!"', { name: 'bob' })).toBe('hello bob!');
    expect(value('$"n={input.n} b={true} o={ {"k": [1, {2}]} } s={"str"} sum={1 + 2}"', { n: 1.5 })).toBe('n=1.5 b=true o={"k": [1, {2}]} s=str sum=3');
    expect(value('$"{count(input.xs) > 1}/{upper("a")}"', { xs: [1, 2] })).toBe('true/A');
    expect(value('$""')).toBe('');
  });
  test('an undefined expression is <undefined> and the rule stays defined', () => {
    expect(value('$"x is {input.nope}"', {})).toBe('x is <undefined>');
  });
  test('escapes: \\{ is a brace, string escapes in $"…", none in $`…` (which may span lines)', () => {
    expect(value('$"a \\{b} \\"q\\" \\u00e9 \\\\{1}"')).toBe('a {b} "q" é \\1');
    expect(value('$`raw {1}\nline \\{ \\n`')).toBe('raw 1\nline { \\n');
  });
  test('variables of the body, nested templates, and use in rule heads', () => {
    const m = mod('deny contains $"bad {x.name} ({x.kind})" if some x in input\n\nq := $"outer {$"inner {1}"}"');
    expect(run({ query: 'data.test.deny = x', modules: m, input: [{ name: 'a', kind: 'k' }], want_result: [{ x: ['bad a (k)'] }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.q = x', modules: m, want_result: [{ x: 'outer inner 1' }] })).toEqual({ kind: 'pass' });
  });
  test('an expression with several values is a conflict', () => {
    expect(run({ query: 'data.test.p = x', modules: mod('p := $"{input.xs[_]}"'), input: { xs: [1, 2] }, want_error_code: 'eval_conflict_error' })).toEqual({ kind: 'pass' });
  });
  test('assignments, unification, not, some and every are parse errors; so is an unterminated template', () => {
    const err = (src: string): string => {
      try {
        parseModule(`package test\n\np := ${src}\n`, 'p.rego');
      } catch (e) {
        if (e instanceof RegoErrors) return e.errors.map((x) => `${x.code}: ${x.message}`).join('\n');
        throw e;
      }
      return 'no error';
    };
    expect(err('$"{x := 1}"')).toMatch(/rego_parse_error.*assignment/);
    expect(err('$"{x = 1}"')).toMatch(/rego_parse_error.*unification/);
    expect(err('$"{not x}"')).toMatch(/rego_parse_error.*negation/);
    expect(err('$"{some x in y}"')).toMatch(/rego_parse_error.*'some'/);
    expect(err('$"abc')).toMatch(/rego_parse_error.*unterminated template/);
    expect(err('$"a {1"')).toMatch(/rego_parse_error/);
  });
});
