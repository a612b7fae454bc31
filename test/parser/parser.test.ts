import { parseBody, parseModule, parseTerm } from '../../src/compiler/parser';
import { RegoError, RegoErrors } from '../../src/compiler/errors';
import type { Module, Rule, Term } from '../../src/compiler/ast';
import { show, showBody } from './show';

const q = (src: string): string => showBody(parseBody(src, 'q.rego'));
const mod = (body: string): Module => parseModule(`package test\n${body}`, 'policy.rego');

/** The errors a module gives (file:line:col: message), or [] when it parses. */
function errorsOf(src: string): string[] {
  try {
    parseModule(src, 'policy.rego');
    return [];
  } catch (e) {
    if (!(e instanceof RegoErrors)) throw e;
    return e.errors.map((x) => x.message);
  }
}
function codesOf(src: string): string[] {
  try {
    parseModule(src, 'policy.rego');
    return [];
  } catch (e) {
    return (e as RegoErrors).errors.map((x: RegoError) => x.code);
  }
}

describe('operators and precedence (as OPA reads them)', () => {
  test.each([
    ['x := 1 + 2 * 3', 'assign(x, plus(1, mul(2, 3)))'],
    ['x = 8 - 2 - 1', 'eq(x, minus(minus(8, 2), 1))'],
    ['x := 7 / 2 % 3', 'assign(x, rem(div(7, 2), 3))'],
    ['x := (1 + 2) * 3', 'assign(x, mul(plus(1, 2), 3))'],
    ['a | b == c & d', 'equal(or(a, b), and(c, d))'],
    ['a | b & c', 'or(a, and(b, c))'],
    ['a + b == c * d', 'equal(plus(a, b), mul(c, d))'],
    ['a != b', 'neq(a, b)'],
    ['a < b', 'lt(a, b)'],
    ['a <= b', 'lte(a, b)'],
    ['a > b', 'gt(a, b)'],
    ['a >= b', 'gte(a, b)'],
    ['x in xs', 'internal.member_2(x, xs)'],
    ['k, v in xs', 'internal.member_3(k, v, xs)'],
    ['x in xs == true', 'internal.member_2(x, equal(xs, true))'],
    ['y := x in xs', 'assign(y, internal.member_2(x, xs))'],
    ['f(k, v in xs)', 'f(k, internal.member_2(v, xs))'],
    ['x-1 == y', 'equal(minus(x, 1), y)'],
  ])('%s', (src, want) => expect(q(src)).toBe(want));

  test('operators are calls to refs named like OPA built-ins, located at the operator', () => {
    const [e] = parseBody('x == 1', 'q.rego');
    expect(e.value.type).toBe('term');
    const t = (e.value as { term: Term }).term;
    expect(t).toMatchObject({ type: 'call', fn: { type: 'ref', head: { type: 'var', name: 'equal' }, path: [] }, loc: { line: 1, col: 1 } });
    if (t.type === 'call') expect(t.fn.loc).toEqual({ file: 'q.rego', line: 1, col: 3 });
  });

  test('unary minus: number literals only, like OPA', () => {
    expect(q('x := [-1, - 2, -.5, .25, -1.5e3]')).toBe('assign(x, [-1, -2, -0.5, 0.25, -1.5e3])');
    expect(() => q('y := -x')).toThrow(/q.rego:1:7: unexpected "x", expected a number after "-".*write 0 - x/);
  });
});

describe('terms', () => {
  test('scalars', () => {
    expect(parseTerm('null', 't')).toMatchObject({ type: 'null' });
    expect(parseTerm('true', 't')).toMatchObject({ type: 'boolean', value: true });
    expect(parseTerm('123456789012345678901234567890', 't')).toMatchObject({ type: 'number', value: '123456789012345678901234567890' });
    expect(parseTerm('1.5E-7', 't')).toMatchObject({ type: 'number', value: '1.5E-7' });
    expect(parseTerm('"a\\n\\"b\\u00e9\\/"', 't')).toMatchObject({ type: 'string', value: 'a\n"bé/' });
    expect(parseTerm('`raw \\n\nline`', 't')).toMatchObject({ type: 'string', value: 'raw \\n\nline', raw: true });
  });

  test('collections, sets and set()', () => {
    expect(show(parseTerm('{1, 2}', 't'))).toBe('set(1, 2)');
    expect(show(parseTerm('set()', 't'))).toBe('set()');
    expect(show(parseTerm('{}', 't'))).toBe('{}');
    expect(show(parseTerm('{"a": {1}, "b": [1, 2,], }', 't'))).toBe('{"a": set(1), "b": [1, 2]}');
    expect(show(parseTerm('[{"x": [true, null]}]', 't'))).toBe('[{"x": [true, null]}]');
  });

  test('comprehensions win over "|" as in OPA; a "," after the body falls back to or', () => {
    expect(show(parseTerm('[x | x := xs[_]]', 't'))).toBe('[x | assign(x, xs[_])]');
    expect(show(parseTerm('{x | some x in xs}', 't'))).toBe('{x | some x in xs}');
    expect(show(parseTerm('{k: v | some k, v in o}', 't'))).toBe('{k: v | some k, v in o}');
    expect(show(parseTerm('{a | b, c}', 't'))).toBe('set(or(a, b), c)');
    expect(show(parseTerm('[a, b | c]', 't'))).toBe('[a, or(b, c)]');
  });

  test('refs: dots, brackets, variables, keywords after dots; whitespace ends a ref', () => {
    expect(show(parseTerm('input.a[_].b[x]["c d"]', 't'))).toBe('input.a[_].b[x]["c d"]');
    const r = parseTerm('input.a[x]', 't');
    expect(r).toMatchObject({ type: 'ref', head: { type: 'var', name: 'input' }, path: [{ type: 'string', value: 'a' }, { type: 'var', name: 'x' }] });
    expect(show(parseTerm('input.if.not', 't'))).toBe('input.if.not');
    expect(parseTerm('input', 't')).toMatchObject({ type: 'ref', head: { name: 'input' }, path: [] });
    expect(() => parseTerm('a [1]', 't')).toThrow(/unexpected "\[", expected the end of the term/);
  });

  test('calls with dotted names, call results as ref heads', () => {
    const c = parseTerm('time.now_ns()', 't');
    expect(c).toMatchObject({ type: 'call', fn: { head: { name: 'time' }, path: [{ value: 'now_ns' }] }, args: [] });
    expect(show(parseTerm('data.lib.f(x, [1])', 't'))).toBe('data.lib.f(x, [1])');
    expect(show(parseTerm('count(x, n)', 't'))).toBe('count(x, n)');
    expect(show(parseTerm('f(x)[0].y', 't'))).toBe('f(x)[0].y');
    expect(show(parseTerm('contains("abc", "b")', 't'))).toBe('contains("abc", "b")');
  });
});

describe('bodies', () => {
  test('newlines and ";" separate expressions', () => {
    expect(q('x = data.a; y = x')).toBe('eq(x, data.a); eq(y, x)');
    expect(q('x = 1\n  y = 2 # comment\nz')).toBe('eq(x, 1); eq(y, 2); z');
    expect(() => q('x = 1 y = 2')).toThrow(/q.rego:1:7: unexpected "y", expected a newline, ";" or the end of the query/);
  });

  test('not, some, every, with', () => {
    expect(q('not input.a[_].b[x]')).toBe('not input.a[_].b[x]');
    expect(q('some x, y')).toBe('some x, y');
    expect(q('some x in xs')).toBe('some x in xs');
    expect(q('some k, v in {"a": 1}')).toBe('some k, v in {"a": 1}');
    expect(q('every k, v in xs { v > k }')).toBe('every k, v in xs {gt(v, k)}');
    expect(q('every v in xs { v > 0; v < 9 }')).toBe('every v in xs {gt(v, 0); lt(v, 9)}');
    expect(q('allow with input as {"a": 1} with data.x as set() with time.now_ns as 1')).toBe(
      'allow with input as {"a": 1} with data.x as set() with time.now_ns as 1',
    );
    expect(q('x := data.a[k] with input.k as "v"')).toBe('assign(x, data.a[k]) with input.k as "v"');
  });
});

const headOf = (r: Rule): string =>
  show(r.head.ref) +
  (r.head.args ? `(${r.head.args.map(show).join(', ')})` : '') +
  (r.head.key ? ` contains ${show(r.head.key)}` : '') +
  (r.head.value ? ` ${r.head.assign ? ':=' : '='} ${show(r.head.value)}` : '');

describe('rules', () => {
  const m = mod(`
import rego.v1
import future.keywords.in
import future.keywords
import data.lib.helpers as h
import input.user

default allow := false
allow if input.x == 1
allow if {
  input.y == 2
}
deny contains msg if { msg := "no" }
deny contains "always"
p[k] := v if { some k, v in input.o }
a.b[c].d := 1 if c := "x"
q := 1
r = {"a": 1}
f(x, y) := z if { z := x + y } else := 0
g(x) if x > 1
g(x) if { x < 0 } { x == 0 }
h2 := 1 if false else := 2 if true else := 3
obj[k] if k := "a"
t.u.v
`);

  test('package and imports', () => {
    expect(m.package).toMatchObject({ path: ['test'], loc: { file: 'policy.rego', line: 1, col: 1 } });
    expect(m.imports.map((i) => show(i.path) + (i.alias ? ' as ' + i.alias : ''))).toEqual([
      'rego.v1',
      'future.keywords.in',
      'future.keywords',
      'data.lib.helpers as h',
      'input.user',
    ]);
    expect(m.imports[3].loc.line).toBe(6);
  });

  test('heads', () => {
    expect(m.rules.map(headOf)).toEqual([
      'allow := false',
      'allow',
      'allow',
      'deny contains msg',
      'deny contains "always"',
      'p[k] := v',
      'a.b[c].d := 1',
      'q := 1',
      'r = {"a": 1}',
      'f(x, y) := z',
      'g(x)',
      'g(x)',
      'g(x)',
      'h2 := 1',
      'obj[k]',
      't.u.v',
    ]);
  });

  test('bodies, else chains, default, hasIf, locations', () => {
    const byLine = (l: number): Rule => m.rules.find((r) => r.loc.line === l)!;
    expect(m.rules[0]).toMatchObject({ default: true, body: [], hasIf: false, loc: { line: 9, col: 1 } });
    expect(showBody(byLine(10).body)).toBe('equal(input.x, 1)');
    expect(byLine(10).hasIf).toBe(true);
    expect(showBody(byLine(11).body)).toBe('equal(input.y, 2)');
    expect(byLine(11).body[0].loc).toEqual({ file: 'policy.rego', line: 12, col: 3 });
    expect(byLine(15).body).toEqual([]);
    const f = byLine(20);
    expect(showBody(f.body)).toBe('assign(z, plus(x, y))');
    expect(f.else).toMatchObject({ head: { value: { type: 'number', value: '0' }, assign: true }, body: [] });
    const g = m.rules.filter((r) => r.head.ref.head.type === 'var' && r.head.ref.head.name === 'g');
    expect(g.map((r) => showBody(r.body))).toEqual(['gt(x, 1)', 'lt(x, 0)', 'equal(x, 0)']);
    expect(g[2].hasIf).toBe(true);
    const h2 = byLine(23);
    expect(show(h2.else!.head.value!)).toBe('2');
    expect(showBody(h2.else!.body)).toBe('true');
    expect(show(h2.else!.else!.head.value!)).toBe('3');
  });

  test('a set literal after "if" is a body block; other terms are one-line bodies', () => {
    expect(showBody(mod('p if { true }').rules[0].body)).toBe('true');
    expect(showBody(mod('p if {"a": 1}["a"] == 1').rules[0].body)).toBe('equal({"a": 1}.a, 1)');
  });
});

describe('errors name the line and what was expected', () => {
  test.each([
    ['package test\n\nallow {\n  true\n}', 'policy.rego:3:1: rules must use "if" before the body in Rego v1 (write: allow if { … })'],
    ['package test\np[x] {\n  x := 1\n}', 'policy.rego:2:1: partial set rules must use "contains" and "if" in Rego v1 (write: p contains x if { … })'],
    ['package test\nf(x) = y { y := x }', 'policy.rego:2:1: rules must use "if" before the body in Rego v1 (write: f(x) = y if { … })'],
    ['package test\np := 1 if { true } else = 2 { true }', 'policy.rego:2:29: "else" bodies must use "if" in Rego v1'],
    ['package test\nallow if {\n  input.x ==\n}', 'policy.rego:4:1: unexpected "}", expected a term after "=="'],
    ['package test\nallow if { x := [1, 2 }', 'policy.rego:2:23: unexpected "}", expected "," or "]"'],
    ['package test\nallow if { x := "abc }', 'policy.rego:2:17: unterminated string'],
    ['package test\nallow if { x := 1 @ 2 }', 'policy.rego:2:19: unexpected character "@"'],
    ['package test\nallow if { if := 1 }', 'policy.rego:2:12: unexpected keyword "if", expected a term (keywords cannot be used as variables)'],
    ['package test\nallow if { some in }', 'policy.rego:2:17: unexpected keyword "in", expected a variable after "some"'],
    ['allow if true', 'policy.rego:1:1: unexpected "allow", expected a package declaration'],
    ['', 'policy.rego:1:1: empty module'],
    ['package test\nimport future.keywords.not', 'policy.rego:2:8: invalid import future.keywords.not'],
    ['package test\nimport rego.v2', 'policy.rego:2:8: invalid import rego.v2'],
    ['package test\nimport foo.bar', 'policy.rego:2:8: invalid import path: it must begin with data, input, future or rego'],
    ['package test\ndefault allow := input.x', 'policy.rego:2:1: invalid default rule: its value cannot contain a ref'],
    ['package test\ndefault allow', 'policy.rego:2:1: default rules must have a value'],
    ['package test\nallow', 'policy.rego:2:1: rule "allow" has no value or body'],
    ['package test\nallow if input.a == 1 input.b == 2', 'policy.rego:2:23: unexpected "input" after the end of the rule on the same line'],
    ['package test\nx := 01', 'policy.rego:2:6: invalid number 01: numbers cannot have leading zeros'],
    ['package test\nx := 1e999999', 'policy.rego:2:6: number too big'],
    ['package test\np if { true } else := 2 if { true } { false }', 'policy.rego:2:37: expected "else" after an else chain'],
    ['package test\np contains x if { x := 1 } else := 2', 'policy.rego:2:28: else cannot be used on multi-value rules'],
    ['package test\nevery := 1', 'policy.rego:2:1: unexpected keyword "every", expected a rule name'],
    ['package test\nallow if { input.a == 1 && input.b }', 'policy.rego:2:25: Rego has no "&&" operator'],
    ["package test\nallow if input.a == 'x'", 'policy.rego:2:21: unexpected character "\'": strings use double quotes'],
    ['package test\nallow if {\n  x := {1, 2\n}\n\ndeny contains 1 if true', 'policy.rego:6:6: unexpected keyword "contains", expected a newline, ";" or "}" after the expression (is a "}" missing before line 6?)'],
  ])('%j', (src, want) => {
    const errs = errorsOf(src);
    expect(errs.length).toBeGreaterThan(0);
    expect(errs[0].startsWith(want)).toBe(true);
  });
});

describe('stage checks (reported together)', () => {
  test(':= redeclared in one body', () => {
    const src = 'package test\np if {\n  x := 1\n  x := 2\n}\nq if {\n  some y\n  y := 1\n}\nf(a) := 1 if { a := 2 }\nr if { z == 1; z := 3 }';
    expect(errorsOf(src)).toEqual([
      'policy.rego:4:3: var x assigned above',
      'policy.rego:8:3: var y declared above',
      'policy.rego:10:16: arg a redeclared',
      'policy.rego:11:16: var z referenced above',
    ]);
    expect(new Set(codesOf(src))).toEqual(new Set(['rego_compile_error']));
  });

  test('nested scopes may shadow; separate bodies are independent', () => {
    expect(errorsOf('package test\np if { x := 1; y := [x | x := 2] }\nq if { x := 1 }\nr if { every x in [1] { x > 0 }; x := 2 }')).toEqual([]);
  });

  test('assignment to refs and to input/data', () => {
    expect(errorsOf('package test\np if { input.x := 1 }\nq if { input := 1 }')).toEqual([
      'policy.rego:2:8: cannot assign to ref',
      'policy.rego:3:8: variables must not shadow input (use a different variable name)',
    ]);
  });

  test('a rule that mixes complete, partial and function definitions', () => {
    expect(errorsOf('package test\np := 1\np contains 2\nf(x) := x\nf := 3\ng(x) := 1\ng(x, y) := 2')).toEqual([
      'policy.rego:3:1: conflicting rules data.test.p found: defined as a partial set (contains) here and as a single value at line 2',
      'policy.rego:5:1: conflicting rules data.test.f found: defined as a single value here and as a function of 1 argument at line 4',
      'policy.rego:7:1: conflicting rules data.test.g found: defined as a function of 2 arguments here and as a function of 1 argument at line 6',
    ]);
    expect(errorsOf('package test\ndefault p := 1\np := 2 if input.x\nq[x] := 1 if x := "a"\nq.b := 2')).toEqual([]);
  });
});

describe('METADATA annotations', () => {
  const m = parseModule(
    [
      '# METADATA',
      '# title: Tool policy',
      '# description: Decides tool calls',
      'package mcp.authz',
      '',
      '# a plain comment',
      '# METADATA',
      '# title: Allow',
      '# entrypoint: true',
      '# custom:',
      '#   owner: sec',
      'allow if input.ok',
      '',
      'deny contains "x"',
    ].join('\n'),
    'policy.rego',
  );

  // an entrypoint rule's block defaults to scope document, as in OPA
  test('attached to the following package and rule, with scope defaults and raw YAML', () => {
    expect(m.package.annotations).toMatchObject({ scope: 'package', title: 'Tool policy', description: 'Decides tool calls', loc: { line: 1, col: 1 } });
    expect(m.rules[0].annotations).toMatchObject({ scope: 'document', title: 'Allow', entrypoint: true, raw: { custom: { owner: 'sec' } }, loc: { line: 7 } });
    expect(m.rules[1].annotations).toBeUndefined();
    expect(m.annotations).toHaveLength(2);
  });

  test('bad blocks are errors that point at the block', () => {
    expect(errorsOf('package p\n# METADATA\n# title: [unclosed\nallow if true')[0]).toMatch(/^policy.rego:\d+:1: invalid METADATA block/);
    expect(errorsOf('package p\n# METADATA\n# scope: everywhere\nallow if true')[0]).toMatch(/^policy.rego:2:1: invalid annotation scope "everywhere"/);
    expect(errorsOf('package p\n# METADATA\n# scope: package\nallow if true')[0]).toBe(
      "policy.rego:2:1: annotation scope 'package' must be applied to package (found rule)",
    );
    expect(errorsOf('package p\n# METADATA\n# entrypoint: yes please\nallow if true')[0]).toMatch(/"entrypoint" must be true or false/);
  });
});

describe('locations', () => {
  test('every term, expression and rule carries file, line and column (columns count characters)', () => {
    const m = parseModule('package p\n\nallow if {\n\tx := "é😀"; y := [x, input.a]\n}', 'f.rego');
    const r = m.rules[0];
    expect(r.loc).toEqual({ file: 'f.rego', line: 3, col: 1 });
    expect(r.head.loc).toEqual({ file: 'f.rego', line: 3, col: 1 });
    expect(r.body[1].loc).toEqual({ file: 'f.rego', line: 4, col: 13 });
    const seen: Term[] = [];
    const walk = (t: Term): void => {
      seen.push(t);
      if (t.type === 'call') t.args.forEach(walk);
      if (t.type === 'array') t.items.forEach(walk);
      if (t.type === 'ref') [t.head, ...t.path].forEach(walk);
    };
    for (const e of r.body) if (e.value.type === 'term') walk(e.value.term);
    for (const t of seen) expect(t.loc).toMatchObject({ file: 'f.rego', line: 4 });
    const input = seen.find((t) => t.type === 'var' && t.name === 'input')!;
    expect(input.loc.col).toBe(22);
  });
});
