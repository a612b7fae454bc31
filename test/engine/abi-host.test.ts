/**
 * WasmPolicy drives OPA's wasm ABI itself (src/engine/abi-host.ts). What the SDK did for us must still
 * hold: inputs larger than the memory grow it, host results with integers beyond 2^53 stay exact, data
 * is set once and replaced whole, falsy inputs reach the policy, strict built-in errors and the module's
 * aborts surface as evaluation errors.
 */
import { compile } from '../../src/compiler';
import { WasmPolicy, EvaluationError } from '../../src/engine/policy';

function build(source: string, entrypoints: string[], strictBuiltinErrors = false): Uint8Array {
  return compile({ modules: [{ file: 'p.rego', source }], entrypoints, strictBuiltinErrors }).wasm;
}

test('an input far larger than the initial memory grows it and round-trips', async () => {
  const p = await WasmPolicy.load(build('package t\nn := count(input.items)\nlast := input.items[count(input.items) - 1]\n', ['t/n', 't/last']));
  const items = Array.from({ length: 40000 }, (_, i) => ({ id: `item-${i}`, text: 'ünïcödé ✓ '.repeat(3) }));
  expect(p.evaluate('t/n', { items })).toEqual([{ result: 40000 }]);
  expect(p.evaluate('t/last', { items })).toEqual([{ result: items[39999] }]);
  expect(p.evaluate('t/n', { items: [1] })).toEqual([{ result: 1 }]);
});

test('falsy inputs reach the policy; no input is undefined input', async () => {
  const p = await WasmPolicy.load(build('package t\nx := [input]\n', ['t/x']));
  expect(p.evaluate('t/x', false)).toEqual([{ result: [false] }]);
  expect(p.evaluate('t/x', 0)).toEqual([{ result: [0] }]);
  expect(p.evaluate('t/x', '')).toEqual([{ result: [''] }]);
  expect(p.evaluate('t/x', null)).toEqual([{ result: [null] }]);
  expect(p.evaluate('t/x', undefined)).toEqual([]);
});

test('data is set whole and replaced, and evaluations see the latest', async () => {
  const p = await WasmPolicy.load(build('package t\nx := data.d\n', ['t/x']));
  expect(p.evaluate('t/x', {})).toEqual([]);
  p.setData({ d: { a: 1 } });
  expect(p.evaluate('t/x', {})).toEqual([{ result: { a: 1 } }]);
  p.setData({ d: 'é' });
  expect(p.evaluate('t/x', {})).toEqual([{ result: 'é' }]);
});

test('a host result beyond 2^53 stays exact inside the policy', async () => {
  // time.parse_ns is a host built-in; 2262-01-01 is 9.2e18 ns, far beyond 2^53
  const p = await WasmPolicy.load(build('package t\nx := format_int(time.parse_ns("2006-01-02", input.d) % 1000003, 10)\n', ['t/x']));
  const ns = BigInt(Date.UTC(2262, 0, 1)) * 1_000_000n;
  expect(p.evaluate('t/x', { d: '2262-01-01' })).toEqual([{ result: String(ns % 1000003n) }]);
});

test('strict built-in errors and module aborts are evaluation errors with their class', async () => {
  const strict = await WasmPolicy.load(build('package t\nx := to_number(input.s)\n', ['t/x'], true), { strictBuiltinErrors: true });
  expect(() => strict.evaluate('t/x', { s: 'nope' })).toThrow(EvaluationError);
  const conflict = await WasmPolicy.load(build('package t\nx := 1 if input.a\nx := 2 if input.b\n', ['t/x']));
  let err: unknown;
  try {
    conflict.evaluate('t/x', { a: true, b: true });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EvaluationError);
  expect((err as EvaluationError).errorClass).toBe('eval_conflict_error');
  // the instance stays usable after an abort
  expect(conflict.evaluate('t/x', { a: true })).toEqual([{ result: 1 }]);
});

test('a module that is not OPA-ABI wasm is refused at load', async () => {
  await expect(WasmPolicy.load(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).rejects.toThrow(/does not load|builtins/);
});
