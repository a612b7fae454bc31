/**
 * Integers beyond 64 bits are held exactly (their digits) by the runtime: they compare, hash, sort and
 * print exactly against every other number kind; + - * % and the aggregates compute with them exactly
 * (host big integers, as OPA's big.Int); any other built-in that would compute with them (or hand them
 * to the host as a double) stops the evaluation instead of answering from a rounded value.
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
  test('+ - * % on integers beyond 64 bits are exact, as OPA computes them with big.Int', () => {
    // the trial repros (gatekeeper containerlimits: "1E" memory = 1 * 10^21), values from input
    const n = (v: number) => ({ n: v, m: -3 });
    expectValue('p := [input.n * 1000000000000000000000 == 1000000000000000000000, input.n * 1152921504606846976000 > 1125899906842624000, input.n + 18446744073709551616 == 18446744073709551617, input.n + 18446744073709551616 != 18446744073709551616]', [true, true, true, true], n(1));
    expectValue('p := [to_number("2") * 1000000000000000000000 == 2000000000000000000000]', [true]);
    // int64 overflow in + - * is computed, not refused; negatives; back into 64 bits
    expectValue(`p := [
      9223372036854775807 + input.n == 9223372036854775808,
      -9223372036854775807 - input.n - input.n == -9223372036854775809,
      input.m * 9223372036854775807 == -27670116110564327421,
      input.m * -9223372036854775807 == 27670116110564327421,
      (input.n + 18446744073709551616) - 18446744073709551616 == 1,
      (input.n + 18446744073709551616) % 10 == 7,
      (input.m - 18446744073709551616) % 10 == -9,
      10 % (input.n + 18446744073709551615) == 10,
      (input.n + 18446744073709551616) * (input.n + 18446744073709551616) == 340282366920938463500268095579187314689,
      input.m * 0 * 18446744073709551616 == 0,
    ]`, [true, true, true, true, true, true, true, true, true, true], n(1));
  });
  test('division and mixed decimal operands take OPA\'s 64-bit float path', () => {
    // -3 * 2^64 / 2 is exact as a float; (2^64 + 1) rounds to 2^64 at 64 bits, half to even
    expectValue(`p := [
      (input.m * 18446744073709551616) / 2 == -27670116110564327424,
      (input.n + 18446744073709551616) * 0.5 == 9223372036854775808,
      (input.n + 18446744073709551616) + 0.5 == 18446744073709551616,
      -9223372036854775808 / (input.m + 2) == 9223372036854775808,
    ]`, [true, true, true, true], { n: 1, m: -3 });
    const r = run({ query: 'data.test.p = x', modules: mod('p := (input.n + 18446744073709551616) % 0'), input: { n: 1 }, want_result: [], strict_error: true } as never);
    expect(JSON.stringify(r)).toMatch(/modulo by zero/);
  });
  test('count, sum, product, max and min of big integers', () => {
    expectValue(`p := [
      count([18446744073709551616 + input.n, 1]) == 2,
      sum([input.n, 9223372036854775807, 18446744073709551616]) == 27670116110564327424,
      sum({input.n, 9223372036854775807, 9223372036854775806}) == 18446744073709551614,
      product([input.m, 9223372036854775807, 9223372036854775807]) == -255211775190703847542190723352697503747,
      product([18446744073709551616, 0, input.n]) == 0,
      max([input.n + 18446744073709551616, 3]) == 18446744073709551617,
      min([input.m - 18446744073709551616, 3]) == -18446744073709551619,
    ]`, [true, true, true, true, true, true, true], { n: 1, m: -3 });
    // a decimal element: OPA's float fold from 0, each step at 64 bits (2^64 + 0.5 + 1 stays 2^64)
    expectValue('p := sum([18446744073709551616, 0.5, input.n]) == 18446744073709551616', true, { n: 1 });
  });
  test('other built-ins on them stop the evaluation', () => {
    for (const body of ['p := abs(-10000000000000000000)', 'p := format_int(10000000000000000000, 16)', 'p := round(10000000000000000000)']) {
      const r = run({ query: 'data.test.p = x', modules: mod(body), want_result: [] });
      expect(r.kind).toBe('wrong');
      expect(JSON.stringify(r)).toMatch(/number out of supported range/);
    }
    // not even undefined (non-strict): a guarded `not` must not turn into allow
    const r = run({ query: 'data.test.p = x', modules: mod('p if not q\nq if abs(10000000000000000000) > 0'), want_result: [{ x: true }] });
    expect(JSON.stringify(r)).toMatch(/number out of supported range/);
  });
});

describe('sprintf of decimals with more than 15 significant digits', () => {
  // OPA formats a non-integer number as its float64 (ast.Number.Float64 in topdown/strings.go): the
  // exact text reaches the host, whose Number() is that double
  const withInput = (body: string, x: unknown, input_term: string, strict = false) =>
    run({ query: 'data.test.p = x', modules: mod(body), input_term, want_result: [{ x }], strict_error: strict } as never);
  test('a computed decimal (3 * 1.1 = 3.3000000000000000002 at 64 bits) is formatted, not refused', () => {
    expect(withInput('p := [sprintf("%v", [input.n * 1.1]), sprintf("%.2f|%s|%d", [input.n * 1.1, "x", 7])]', ['3.3', '3.30|x|7'], '{"n": 3}')).toEqual({ kind: 'pass' });
  });
  test('a long decimal from input is formatted as OPA\'s double', () => {
    expect(withInput('p := [sprintf("%v", [input.x]), sprintf("%e", [input.x]), sprintf("%v", [0 - input.x])]', ['0.12345678901234568', '1.234568e-01', '-0.12345678901234568'], '{"x": 0.12345678901234567890123}')).toEqual({ kind: 'pass' });
  });
  test('nested in a composite (OPA prints the exact text) or next to an integer, it is still refused', () => {
    for (const [body, input] of [['p := sprintf("%v", [[input.x]])', '{"x": 0.12345678901234567890123}'], ['p := sprintf("%v", [{"a": input.x}])', '{"x": 0.12345678901234567890123}'], ['p := sprintf("%d", [input.x])', '{"x": 1.00000000000000000001}']]) {
      const r = withInput(body, 'never', input);
      expect(JSON.stringify(r)).toMatch(/number out of supported range/);
    }
  });
});
