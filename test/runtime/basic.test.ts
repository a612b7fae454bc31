import { C, program, resultPlan, load, classicEval } from './helpers';

describe('runtime: a minimal policy', () => {
  test('returns a constant through both SDK paths', async () => {
    const p = program([C.num(42)], [resultPlan('a/b', 5, [{ op: 'const', dst: 2, c: 1 }])]);
    const policy = await load(p);
    expect(policy.entrypoints).toEqual({ 'a/b': 0 });
    expect(policy.evaluate({})).toEqual([{ result: 42 }]);
    expect(policy.evaluate({}, 'a/b')).toEqual([{ result: 42 }]);
    expect(classicEval(policy, {})).toEqual([{ result: 42 }]);
  });
});
