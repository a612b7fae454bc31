import { decimalArith } from '../../src/builtins/decimal';
import { jsConst, program, load } from './helpers';
import type { Const, Plan } from '../../src/compiler/ir';

/**
 * Each case: built-in name, argument values, expected result (undefined = the call is undefined).
 * Expected values follow OPA's documented semantics.
 */
type Case = [string, unknown[], unknown];
const set = (...v: unknown[]) => new Set(v);

const cases: Case[] = [
  ['equal', [1, 1.0], true], ['equal', [{ a: [1, 2] }, { a: [1, 2] }], true], ['neq', ['a', 'b'], true],
  ['lt', [1, 2], true], ['lt', [null, false], true], ['lt', ['b', 'a'], false], ['lte', [2, 2.0], true],
  ['gt', [[1, 2], [1]], true], ['gte', ['a', 1], true], ['lt', [{}, set()], true],
  ['plus', [1, 2], 3], ['plus', [1.5, 2], 3.5], ['plus', ['a', 1], undefined], ['minus', [5, 7], -2],
  ['minus', [set(1, 2, 3), set(2)], [1, 3]], ['mul', [3, 4], 12], ['mul', [0.5, 3], 1.5],
  ['div', [7, 2], 3.5], ['div', [6, 3], 2], ['div', [1, 0], undefined], ['rem', [7, 3], 1], ['rem', [-7, 3], -1],
  ['rem', [7.5, 2], undefined], ['and', [set(1, 2, 3), set(2, 3, 4)], [2, 3]], ['or', [set(1), set(2)], [1, 2]],
  ['count', [[1, 2, 3]], 3], ['count', ['héllo'], 5], ['count', [{ a: 1 }], 1], ['count', [1], undefined],
  ['sum', [[1, 2, 3.5]], 6.5], ['sum', [[]], 0], ['product', [[2, 3]], 6], ['max', [[1, 'a', null]], 'a'],
  ['min', [[3, 1, 2]], 1], ['max', [[]], undefined],
  ['is_number', [1.5], true], ['is_number', ['1'], false], ['is_string', ['x'], true], ['is_boolean', [false], true],
  ['is_array', [[]], true], ['is_set', [set()], true], ['is_object', [{}], true], ['is_null', [null], true],
  ['type_name', [set()], 'set'], ['type_name', [1.5], 'number'], ['type_name', [{}], 'object'],
  ['internal.member_2', [2, [1, 2]], true], ['internal.member_2', [3, [1, 2]], false],
  ['internal.member_2', [1, { a: 1 }], true], ['internal.member_2', ['a', { a: 1 }], false],
  ['internal.member_2', [1.0, set(1)], true], ['internal.member_3', [1, 'b', ['a', 'b']], true],
  ['internal.member_3', ['a', 1, { a: 1 }], true], ['internal.member_3', ['a', 2, { a: 1 }], false],
  ['object.get', [{ a: { b: 1 } }, ['a', 'b'], 0], 1], ['object.get', [{ a: 1 }, 'x', 'd'], 'd'],
  ['object.get', [{ a: 1 }, [], 0], { a: 1 }], ['object.get', [{ a: [5, 6] }, ['a', 1], 0], 6],
  ['concat', [',', ['a', 'b']], 'a,b'], ['concat', ['-', set('b', 'a')], 'a-b'], ['concat', [',', []], ''],
  ['startswith', ['hello', 'he'], true], ['endswith', ['hello', 'lo'], true], ['contains', ['hello', 'ell'], true],
  ['contains', ['hello', ''], true], ['lower', ['AbC'], 'abc'], ['upper', ['AbC'], 'ABC'],
  ['split', ['a,b,,c', ','], ['a', 'b', '', 'c']], ['split', ['', ','], ['']], ['split', ['añb', ''], ['a', 'ñ', 'b']],
  ['replace', ['aaa', 'a', 'bb'], 'bbbbbb'], ['replace', ['ab', '', '-'], '-a-b-'],
  ['trim', ['  xx  ', ' '], 'xx'], ['trim', ['abcxcba', 'abc'], 'x'], ['trim_left', ['xxa', 'x'], 'a'],
  ['trim_right', ['axx', 'x'], 'a'], ['trim_prefix', ['foobar', 'foo'], 'bar'], ['trim_prefix', ['foobar', 'x'], 'foobar'],
  ['trim_suffix', ['foobar', 'bar'], 'foo'], ['trim_space', ['\t hi \n\u00a0'], 'hi'],
  ['indexof', ['héllo', 'l'], 2], ['indexof', ['abc', 'z'], -1], ['substring', ['héllo', 1, 3], 'éll'],
  ['substring', ['hello', 1, -1], 'ello'], ['substring', ['hello', 10, 2], ''], ['substring', ['hello', -1, 2], undefined],
  ['array.concat', [[1], [2, 3]], [1, 2, 3]], ['array.slice', [[1, 2, 3, 4], 1, 3], [2, 3]],
  ['array.slice', [[1, 2, 3], -5, 10], [1, 2, 3]], ['array.slice', [[1, 2, 3], 2, 1], []],
  ['abs', [-3], 3], ['abs', [-2.5], 2.5], ['round', [2.5], 3], ['round', [-2.5], -3], ['round', [2.4], 2],
  ['ceil', [1.2], 2], ['floor', [-1.2], -2], ['floor', [3], 3],
  ['intersection', [set(set(1, 2), set(2, 3))], [2]], ['union', [set(set(1), set(2))], [1, 2]],
  ['object.keys', [{ b: 1, a: 2 }], ['a', 'b']], ['array.reverse', [[1, 2, 3]], [3, 2, 1]],
  ['sort', [[3, 'a', 1, null]], [null, 1, 3, 'a']], ['strings.reverse', ['añb'], 'bña'],
  ['to_number', ['12'], 12], ['to_number', ['1.5'], 1.5], ['to_number', [true], 1], ['to_number', ['x'], undefined],
  ['json.marshal', [{ b: [1, 'x'], a: null }], '{"a":null,"b":[1,"x"]}'],
  // object.subset, OPA's rules (native: a host would see the sets as arrays)
  ['object.subset', [{ a: 1, b: { x: set(1, 2, 3), y: [1, 2, 3], z: { q: 1, r: 2 } } }, { b: { x: set(3, 1), y: [2, 3], z: { r: 2 } } }], true],
  ['object.subset', [{ a: [1, 2, 3] }, { a: [1, 3] }], false], ['object.subset', [{ a: [1, 2] }, { a: set(1) }], false],
  ['object.subset', [{ a: set(1, 2) }, { a: set(1, 3) }], false], ['object.subset', [{ a: 1 }, { b: 1 }], false],
  ['object.subset', [{ a: 1 }, { a: 1.0 }], true], ['object.subset', [{ a: 'x' }, { a: ['x'] }], false],
  ['object.subset', [set(1, 2), set(2)], true], ['object.subset', [set(1), set(2)], false],
  ['object.subset', [[1, 2, 3], [2, 3]], true], ['object.subset', [[1, 2, 3], [1, 3]], false], ['object.subset', [[1], []], true],
  ['object.subset', [[1, 2, 3], set(3, 1)], true], ['object.subset', [[1, 2], set(3)], false],
  ['object.subset', [[], set()], false], ['object.subset', [[1, 1, 3], set(1, 2)], true],
  ['object.subset', [{ a: 1 }, [1]], undefined], ['object.subset', [set(1), [1]], undefined], ['object.subset', ['x', {}], undefined],
];

describe('native built-ins (non-strict: errors make the call undefined)', () => {
  let policy: Awaited<ReturnType<typeof load>>;
  beforeAll(async () => {
    const constants: Const[] = [];
    const plans: Plan[] = cases.map(([name, args], i) => {
      const argLocals = args.map((a, j) => {
        constants.push(jsConst(a));
        return { op: 'const' as const, dst: 5 + j, c: constants.length };
      });
      return {
        name: `c${i}`,
        locals: 10,
        body: [
          ...argLocals,
          { op: 'call_builtin', dst: 2, name, args: args.map((_, j) => 5 + j) },
          { op: 'make_object', dst: 3 },
          { op: 'const', dst: 4, c: 0 },
          { op: 'object_insert', obj: 3, key: 4, val: 2 },
          { op: 'result_add', val: 3 },
        ],
      };
    });
    // decimal arithmetic needs the host's exact decimal built-in, as every compiled policy has
    policy = await load(program(constants, plans), { hostBuiltin: (n) => (n === 'internal.pdp_decimal_arith' ? { arity: 3 } : undefined) },
      { 'internal.pdp_decimal_arith': (op: string, a: string, b: string) => decimalArith(op, a, b) });
  });

  test.each(cases.map((c, i) => [i, ...c] as const))('#%i %s(%j)', (i, _name, _args, expected) => {
    const rs = policy.evaluate(null, `c${i}`);
    if (expected === undefined) expect(rs).toEqual([]);
    else expect(rs).toEqual([{ result: expected }]);
  });
});
