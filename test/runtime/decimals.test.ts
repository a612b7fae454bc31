// Exact decimals in the wasm runtime: expected values from exact rational arithmetic (BigInt) here,
// never from the code under test.
import { compile } from '../../src/compiler';
import { WasmPolicy } from '../../src/engine/policy';
import { decimalArith } from '../../src/builtins/decimal';

/** Round p/q (> 0) to a 64-bit mantissa, half even; returns [m, e] with value m·2^e. */
function round64(p: bigint, q: bigint): [bigint, bigint] {
  let e = 0n;
  while (p / q >= 1n << 64n) { q <<= 1n; e++; }
  while (p / q < 1n << 63n) { p <<= 1n; e--; }
  let m = p / q; const r2 = (p - m * q) * 2n;
  if (r2 > q || (r2 === q && (m & 1n) === 1n)) m++;
  return [m, e];
}
const sameAt64 = (text: string, p: bigint, q: bigint): boolean => {
  const [m1, e1] = round64(p, q);
  const [intp, frac = ''] = text.split('.');
  const [m2, e2] = round64(BigInt(intp + frac), 10n ** BigInt(frac.length));
  return m1 === m2 && e1 === e2;
};

async function run(rules: string, input?: unknown) {
  const r = compile({ modules: [{ file: 't.rego', source: `package t\n${rules}\n` }], entrypoints: ['t'] });
  const p = await WasmPolicy.load(r.wasm);
  return (p.evaluateJson('t', input === undefined ? undefined : typeof input === 'string' ? input : JSON.stringify(input)) as any)[0].result;
}

describe('host decimal arithmetic (OPA 64-bit big.Float semantics)', () => {
  test('0.1 + 0.2 is 0.3; 3 * 1.1 and 1 / 3 at 64 bits', () => {
    expect(decimalArith('plus', '0.1', '0.2')).toBe('0.3');
    expect(decimalArith('mul', '3', '1.1')).toBe('3.3000000000000000002');
    expect(decimalArith('div', '1', '3')).toBe('0.33333333333333333334');
    // the texts identify the exact results' 64-bit roundings
    // 3 × (1.1 rounded to 64 bits), exactly, then rounded: not 3.3 rounded
    const [m, e] = round64(11n, 10n);
    expect(sameAt64('3.3000000000000000002', 3n * m, 1n << -e)).toBe(true);
    expect(sameAt64('0.33333333333333333334', 1n, 3n)).toBe(true);
    // and are the shortest: one digit fewer does not
    expect(sameAt64('0.3333333333333333333', 1n, 3n)).toBe(false);
  });
  test('round half away from zero, ceil, floor, abs', () => {
    expect(decimalArith('round', '2.5', '0')).toBe('3');
    expect(decimalArith('round', '-2.5', '0')).toBe('-3');
    expect(decimalArith('floor', '-0.5', '0')).toBe('-1');
    expect(decimalArith('ceil', '-0.5', '0')).toBe('0');
    expect(decimalArith('abs', '-1.25', '0')).toBe('1.25');
  });
  test('large results use Go %g layout', () => {
    expect(decimalArith('plus', '1000000.5', '1000000.5')).toBe('2.000001e+06');
  });
  test('integer operations are exact big integers (OPA\'s big.Int branch), never 64-bit floats', () => {
    expect(decimalArith('iplus', '18446744073709551616', '1')).toBe('18446744073709551617');
    expect(decimalArith('plus', '18446744073709551616', '1')).toBe('1.8446744073709551616e+19'); // the float op rounds
    expect(decimalArith('iminus', '-9223372036854775808', '1')).toBe('-9223372036854775809');
    expect(decimalArith('imul', '-3', '9223372036854775807')).toBe('-27670116110564327421');
    expect(decimalArith('irem', '-18446744073709551619', '10')).toBe('-9');
    expect(decimalArith('irem', '10', '18446744073709551616')).toBe('10');
    expect(() => decimalArith('irem', '18446744073709551616', '0')).toThrow(/modulo by zero/);
    expect(() => decimalArith('iplus', '1.5', '1')).toThrow(/not an integer/);
    const huge = '9'.repeat(60000);
    expect(() => decimalArith('imul', huge, huge)).toThrow(/beyond 100000 digits/);
  });
});

describe('decimals in policies', () => {
  test('0.1 + 0.2 == 0.3 and comparisons do not flip', async () => {
    const r = await run('y := (0.1 + 0.2) == 0.3\ng := (0.1 + 0.2) > 0.3\nx := 0.1 + 0.2');
    expect(r).toEqual({ y: true, g: false, x: 0.3 });
  });
  test('1 == 1.0, mixed order, keys and sets', async () => {
    const r = await run('a := 1 == 1.0\nb := 2 < 2.5\nc := 3 > 2.5\nk := {1.0: "x"}[1]\ns := count({1, 1.0, 0.5, 0.50})\no := sort([2.5, 1, 0.5, 2])');
    expect(r).toEqual({ a: true, b: true, c: true, k: 'x', s: 2, o: [0.5, 1, 2, 2.5] });
  });
  test('decimals with 20+ significant digits from input compare exactly against integers', async () => {
    // 9007199254740993.5 is not 9007199254740992 (its double) nor 9007199254740993
    const r = await run('a := input.x > 9007199254740993\nb := input.x < 9007199254740994', '{"x": 9007199254740993.5}');
    expect(r).toEqual({ a: true, b: true });
  });
  test('decimals that round to the same double are still different numbers (OPA compares exactly)', async () => {
    // 0.1 and 0.10000000000000001 have the same double; 0.100 is 0.1
    const r = await run(
      'a := input.x == input.y\nb := input.x < input.y\nc := input.y > input.x\nd := input.x == input.z\ne := input.y == input.y2',
      '{"x": 0.1, "y": 0.10000000000000001, "z": 0.100, "y2": 0.100000000000000010}',
    );
    expect(r).toEqual({ a: false, b: true, c: true, d: true, e: true });
  });
  test('division, sum, product, max, min over decimals', async () => {
    const r = await run('d := (1 / 4) == 0.25\ne := (1 / 3) == input.t\ns := sum([0.1, 0.2]) == 0.3\np := product([1.5, 2]) == 3\nm := max([1, 2.5, 2])\nn := min([1, 0.5])', '{"t": 0.33333333333333333334}');
    expect(r).toEqual({ d: true, e: true, s: true, p: true, m: 2.5, n: 0.5 });
  });
  test('round/ceil/floor/abs of decimals', async () => {
    const r = await run('a := round(input.x)\nb := ceil(input.x)\nc := floor(input.x)\nd := abs(input.x)', { x: -2.5 });
    expect(r).toEqual({ a: -3, b: -2, c: -3, d: 2.5 });
  });
  test('% on a decimal is an error', async () => {
    const r = compile({ modules: [{ file: 't.rego', source: 'package t\nx := input.a % 2\n' }], entrypoints: ['t'] });
    const p = await WasmPolicy.load(r.wasm);
    let err: unknown; let out: any;
    try { out = p.evaluateJson('t', '{"a": 1.5}'); } catch (e) { err = e; }
    // non-strict mode: undefined, never a number
    expect(err !== undefined || out[0].result.x === undefined).toBe(true);
  });
  test('a 25-digit decimal from input round-trips through json.marshal exactly', async () => {
    const r = await run('m := json.marshal(input.x)', '{"x": 0.1234567890123456789012345}');
    expect(r.m).toBe('0.1234567890123456789012345');
  });
});
