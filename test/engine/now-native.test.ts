/**
 * time.now_ns(): WasmPolicy hands the evaluation's instant to our runtime before each evaluation, so the
 * call needs no host round-trip; it is one instant per evaluation, fresh for the next, and hosts that do
 * not hand it in (a plain SDK user) still get an answer from their host built-in.
 */
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../../src/compiler';
import { WasmPolicy } from '../../src/engine/policy';
import { preferOurBuiltinsOverSdk } from '../../src/builtins/sdk';

const SOURCE = `package t
now := time.now_ns()
pair := [time.now_ns(), a] if a := time.now_ns()
`;
const { wasm } = compile({ modules: [{ file: 't.rego', source: SOURCE }], entrypoints: ['t/now', 't/pair'] });

test('WasmPolicy: the wall clock, one instant per evaluation, fresh each evaluation', async () => {
  const p = await WasmPolicy.load(wasm);
  const before = Date.now();
  const [{ result: now }] = p.evaluate('t/now', {}) as Array<{ result: number }>;
  const after = Date.now();
  // the instant is whole milliseconds × 1e6, beyond 2^53: read back as a double it may be off by a
  // fraction of a nanosecond-millisecond, so compare whole milliseconds
  expect(Math.round(now / 1e6)).toBeGreaterThanOrEqual(before);
  expect(Math.round(now / 1e6)).toBeLessThanOrEqual(after);
  const [{ result: pair }] = p.evaluate('t/pair', {}) as Array<{ result: number[] }>;
  expect(pair[0]).toBe(pair[1]);
  await new Promise((r) => setTimeout(r, 5));
  const [{ result: later }] = p.evaluate('t/now', {}) as Array<{ result: number }>;
  expect(later).toBeGreaterThan(now);
});

test('a host that does not hand the instant in gets time.now_ns from its host built-in', async () => {
  preferOurBuiltinsOverSdk();
  let calls = 0;
  const sdk = await loadPolicy(wasm, undefined, {
    'time.now_ns': () => {
      calls++;
      return 1234;
    },
  });
  expect(sdk.evaluate({}, 't/now')).toEqual([{ result: 1234 }]);
  expect(calls).toBe(1);
});
