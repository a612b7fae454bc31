import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { buildMockPolicy } from './fixtures/mock-policy';

test('the mock OPA-ABI module loads in the SDK and echoes input and data', async () => {
  const wasm = buildMockPolicy({
    entrypoints: {
      'a/echo': ['[{"result":{"input":', { input: true }, ',"data":', { data: true }, '}}]'],
      'a/const': ['[{"result":true}]'],
      'a/fail': [{ abort: 'eval_conflict_error: boom' }],
    },
  });
  const p = await loadPolicy(wasm);
  expect(p.entrypoints).toEqual({ 'a/echo': 0, 'a/const': 1, 'a/fail': 2 });
  p.setData({ rev: 'r1' });
  expect(p.evaluate({ x: 1 }, 'a/echo')).toEqual([{ result: { input: { x: 1 }, data: { rev: 'r1' } } }]);
  expect(p.evaluate({ big: 'y'.repeat(400000) }, 'a/echo')[0].result.input.big.length).toBe(400000);
  expect(p.evaluate(undefined, 'a/echo')).toEqual([{ result: { input: null, data: { rev: 'r1' } } }]);
  expect(p.evaluate({}, 'a/const')).toEqual([{ result: true }]);
  expect(() => p.evaluate({}, 'a/fail')).toThrow();
});
