/**
 * Integers beyond 64 bits are held exactly (their digits) by the runtime: they compare, hash, sort and
 * print exactly against every other number kind; any built-in that would compute with them (or hand
 * them to the host as a double) stops the evaluation instead of answering from a rounded value.
 * Expectations are OPA's answers; results are booleans/strings so the SDK's JSON parsing cannot round.
 */
import { runCase, type Case } from '../../src/cli/commands/conformance';

const run = (c: Omit<Case, 'note'>) => runCase({ note: 'big', ...c });
const mod = (body: string) => [`package test\n\n${body}\n`];
const expectValue = (body: string, x: unknown, input?: unknown) =>
  expect(run({ query: 'data.test.p = x', modules: mod(body), input, want_result: [{ x }] })).toEqual({ kind: 'pass' });

describe('integers beyond 64 bits', () => {
  test('equality and order between big integers, exactly (they differ only in the last digit)', () => {
    expectValue('p := [1234567890123456789012 < 1234567890123456789013, 1234567890123456789013 == 1234567890123456789012, -1234567890123456789013 < -1234567890123456789012]', [true, false, true]);
    // a wrong expectation is caught
    expect(run({ query: 'data.test.p = x', modules: mod('p := 1234567890123456789012 == 1234567890123456789013'), want_result: [{ x: true }] }).kind).toBe('wrong');
  });
  test('against 64-bit integers and doubles', () => {
    expectValue('p := [9223372036854775808 > 9223372036854775807, -9223372036854775809 < -9223372036854775808, 10000000000000000000 == 1e19, 10000000000000000001 > 1e19, 10000000000000000000 == 10000000000000000000.0, 1e19 < 10000000000000000001, 99999999999999999999 < 1e20, 9223372036854775808 > 1.5]', [true, true, true, true, true, true, true, true]);
  });
  test('keys of sets and objects: equal numbers of different kinds are one key', () => {
    expectValue('p := [{10000000000000000000, 1e19} == {1e19}, {10000000000000000000, 10000000000000000001} == {1e19}, {10000000000000000000: "a"}[1e19], 1e19 in {10000000000000000000}, {1e19: 1} == {10000000000000000000: 1}]', [true, false, 'a', true, true]);
  });
  test('sort orders them with every other number', () => {
    expectValue('p := [sort([10000000000000000001, 1, 1e19, -99999999999999999999, 2.5]) == [-99999999999999999999, 1, 2.5, 1e19, 10000000000000000001], sort([10000000000000000001, 1e19]) == [10000000000000000001, 1e19]]', [true, false]);
  });
  test('type checks and sprintf print the exact digits', () => {
    expectValue('p := [is_number(123456789123456789123), type_name(-123456789123456789123), sprintf("%d %s %v", [123456789123456789123, -123456789123456789123, 1208925819614629174706175])]', [true, 'number', '123456789123456789123 -123456789123456789123 1208925819614629174706175']);
  });
  test('input and host results arrive exactly', () => {
    const big = '{"n": 123456789123456789123}';
    expect(run({ query: 'data.test.p = x', modules: mod('p := [input.n == 123456789123456789123, input.n == 123456789123456789124]'), input_term: big, want_result: [{ x: [true, false] }] } as never)).toEqual({ kind: 'pass' });
    expectValue('p := units.parse("10Ei") == 11529215046068469760', true);
  });
  test('arithmetic, aggregates and host calls on them stop the evaluation', () => {
    for (const body of ['p := 10000000000000000000 + 1', 'p := sum([10000000000000000000])', 'p := abs(-10000000000000000000)', 'p := format_int(10000000000000000000, 16)', 'p := count([10000000000000000000])']) {
      const r = run({ query: 'data.test.p = x', modules: mod(body), want_result: [] });
      expect(r.kind).toBe('wrong');
      expect(JSON.stringify(r)).toMatch(/number out of supported range/);
    }
    // not even undefined (non-strict): a guarded `not` must not turn into allow
    const r = run({ query: 'data.test.p = x', modules: mod('p if not q\nq if 10000000000000000000 + 1 > 0'), want_result: [{ x: true }] });
    expect(JSON.stringify(r)).toMatch(/number out of supported range/);
  });
});
