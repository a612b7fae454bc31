/**
 * The runtime formats plain sprintf calls natively (%s/%v of strings, integers, booleans, null; %d of
 * integers; %%) and hands everything else to the host's Go-semantics implementation. Both paths must give
 * exactly the host's answer; the plain ones must not call the host at all (that is the point: a host call
 * costs a JSON round-trip per argument).
 */
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../../src/compiler';
import { goSprintf, sprintfImpls } from '../../src/builtins/sprintf';
import { newEvalContext } from '../../src/builtins/context';
import { preferOurBuiltinsOverSdk } from '../../src/builtins/sdk';
import type { Value } from '../../src/builtins/values';

const SOURCE = 'package t\nx := sprintf(input.f, input.a)\n';

let policy: Awaited<ReturnType<typeof loadPolicy>>;
let hostCalls = 0;

beforeAll(async () => {
  preferOurBuiltinsOverSdk();
  const { wasm } = compile({ modules: [{ file: 't.rego', source: SOURCE }], entrypoints: ['t/x'] });
  policy = await loadPolicy(wasm, undefined, {
    sprintf: (f: Value, a: Value) => {
      hostCalls++;
      try {
        return sprintfImpls.sprintf([f, a], newEvalContext());
      } catch {
        return undefined;
      }
    },
  });
});

function run(f: unknown, a: unknown): { out: unknown; host: number } {
  const before = hostCalls;
  const rs = policy.evaluate({ f, a }) as Array<{ result: unknown }>;
  return { out: rs.length ? rs[0].result : undefined, host: hostCalls - before };
}

const plain: Array<[string, unknown[], string]> = [
  ['%s needs %s in task %s', ['billing/refunds.create', 'write', 't-7'], 'billing/refunds.create needs write in task t-7'],
  ['%v=%d', ['amount', 120], 'amount=120'],
  ['%d|%v|%d', [-7, 0, 9007199254740991], '-7|0|9007199254740991'],
  ['%v %v %s %s', [true, null, false, null], 'true null false null'],
  ['100%% of %s', ['ünïcödé ✓'], '100% of ünïcödé ✓'],
  ['no verbs at all', [], 'no verbs at all'],
  ['', [], ''],
  ['%s%s', ['', 'x'], 'x'],
  ['é%sé', ['—'], 'é—é'],
];

test.each(plain)('native: sprintf(%j, %j)', (f, a, expected) => {
  const r = run(f, a);
  expect(r.out).toBe(expected);
  expect(r.out).toBe(goSprintf(f, a as Value[]));
  expect(r.host).toBe(0);
});

const fallback: Array<[string, unknown[]]> = [
  ['%s', [5]], // Go: %!s(int=5)
  ['%d', ['x']],
  ['%d', [true]],
  ['%v', [1.5]],
  ['%v', [[1, 'a']]],
  ['%v', [{ a: 1 }]],
  ['%5s|%-4d|%05d', ['ab', 3, 42]],
  ['%.2f', [3.14159]],
  ['%q %x %T', ['a', 'hi', 1]],
  ['%s %s', ['only one']],
  ['%s', ['a', 'extra']],
  ['trailing %', []],
  ['%d', [9007199254740993]], // beyond 2^53: the host refuses (undefined)
];

test.each(fallback)('host fallback: sprintf(%j, %j)', (f, a) => {
  const r = run(f, a);
  let expected: string | undefined;
  try {
    expected = goSprintf(f, a as Value[]);
  } catch {
    expected = undefined;
  }
  expect(r.out).toBe(expected);
  expect(r.host).toBe(1);
});

test('non-string format or non-array values go to the host, which refuses them', () => {
  expect(run(5, []).out).toBeUndefined();
  expect(run('%s', 'x').out).toBeUndefined();
});
