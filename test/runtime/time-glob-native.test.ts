/**
 * time.parse_rfc3339_ns and glob.match run natively for their common forms (well-formed stamps; literal,
 * `*` and `**` globs with ASCII delimiters) and fall back to the host for the rest. Either way the answer
 * must be exactly the host implementation's; the common forms must not reach the host.
 */
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../../src/compiler';
import { callHost, isBuiltinError, toSdkResult } from '../../src/builtins/registry';
import { preferOurBuiltinsOverSdk } from '../../src/builtins/sdk';
import type { Value } from '../../src/builtins/values';

const SOURCE = `package t
ts := time.parse_rfc3339_ns(input.s)
g := glob.match(input.p, input.d, input.v)
`;

let policy: Awaited<ReturnType<typeof loadPolicy>>;
const hostCalls: Record<string, number> = {};

function host(name: string) {
  return (...args: Value[]) => {
    hostCalls[name] = (hostCalls[name] ?? 0) + 1;
    try {
      return toSdkResult(callHost(name, args));
    } catch (e) {
      if (isBuiltinError(e)) return undefined;
      throw e;
    }
  };
}

beforeAll(async () => {
  preferOurBuiltinsOverSdk();
  const { wasm } = compile({ modules: [{ file: 't.rego', source: SOURCE }], entrypoints: ['t/ts', 't/g'] });
  policy = await loadPolicy(wasm, undefined, {
    'time.parse_rfc3339_ns': host('time.parse_rfc3339_ns'),
    'glob.match': host('glob.match'),
  });
});

function run(entrypoint: string, name: string, input: Record<string, unknown>, args: Value[]) {
  const before = hostCalls[name] ?? 0;
  const rs = policy.evaluate(input, entrypoint) as Array<{ result: unknown }>;
  let expected: unknown;
  try {
    expected = callHost(name, args);
    if (typeof expected === 'bigint') expected = Number(expected);
  } catch (e) {
    if (!isBuiltinError(e)) throw e;
    expected = undefined;
  }
  return { out: rs.length ? rs[0].result : undefined, expected, host: (hostCalls[name] ?? 0) - before };
}

const nativeStamps = [
  '2026-11-21T18:00:00Z', '2026-11-21t18:00:00z', '1970-01-01T00:00:00Z', '1969-12-31T23:59:59.999999999Z',
  '2024-02-29T12:30:45.5+05:30', '2000-03-01T00:00:00-00:01', '2261-12-31T23:59:59-23:59', '1678-01-01T00:00:00+23:59',
  '2099-12-31T23:59:59.123Z', '1900-02-28T01:02:03.000000001+01:00',
];
// errors and rarer forms: the host decides
const hostStamps = [
  '2023-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-31T00:00:00Z', '2026-11-21T24:00:00Z', '2026-11-21T18:00:60Z',
  '2026-11-21 18:00:00Z', '2026-11-21T18:00:00', '2026-11-21T18:00:00.Z', '2026-11-21T18:00:00.1234567890Z',
  '2026-11-21T18:00:00+24:00', '2026-11-21T18:00:00+0100', '2026-11-21T18:00:00Zjunk', '1600-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z', '２０２６-11-21T18:00:00Z', '', 'x',
];

test.each(nativeStamps)('native time.parse_rfc3339_ns(%s)', (s) => {
  const r = run('t/ts', 'time.parse_rfc3339_ns', { s }, [s]);
  expect(r.out).toEqual(r.expected);
  expect(r.out).not.toBeUndefined();
  expect(r.host).toBe(0);
});

test.each(hostStamps)('host time.parse_rfc3339_ns(%j)', (s) => {
  const r = run('t/ts', 'time.parse_rfc3339_ns', { s }, [s]);
  expect(r.out).toEqual(r.expected);
  expect(r.host).toBe(1);
});

test('a non-string stamp goes to the host, which refuses it', () => {
  const r = run('t/ts', 'time.parse_rfc3339_ns', { s: 5 }, [5]);
  expect(r.out).toBeUndefined();
  expect(r.host).toBe(1);
});

type G = [string, unknown, string];
const nativeGlobs: G[] = [
  ['billing/refunds.*', ['/'], 'billing/refunds.create'], ['billing/refunds.*', ['/'], 'billing/refunds/create'],
  ['billing/*', ['/'], 'billing/refunds.create'], ['*/refunds.create', ['/'], 'billing/refunds.create'],
  ['billing/**', ['/'], 'billing/a/b/c'], ['**', ['/'], ''], ['*', ['/'], ''], ['', ['/'], ''], ['', ['/'], 'x'],
  ['*.github.com', [], 'api.github.com'], ['*.github.com', [], 'api.cdn.github.com'], ['*.github.com', null, 'api.cdn.github.com'],
  ['a*b*c', ['/', '.'], 'aXbYc'], ['a*b*c', ['/', '.'], 'aX.bYc'], ['a**c', ['.'], 'a.b.c'], ['*ö*', ['/'], 'xöy'],
  ['ö/*', ['/'], 'ö/äü'], ['abc', ['/'], 'abd'], ['a*', ['/'], 'b'], ['*a*a*a*a*b', ['/'], 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
  ['x,y', ['/'], 'x,y'],
];
const hostGlobs: G[] = [
  ['a?c', ['/'], 'abc'], ['[ab]c', ['/'], 'bc'], ['{a,b}c', ['/'], 'bc'], ['a\\*', ['/'], 'a*'], ['a/*', ['ö'], 'a/b'],
  ['a/*', ['//'], 'a/b'], ['a/*', [1], 'a/b'], ['a/*', '/', 'a/b'], ['[', ['/'], '['],
];

test.each(nativeGlobs)('native glob.match(%j, %j, %j)', (p, d, v) => {
  const r = run('t/g', 'glob.match', { p, d, v }, [p, d as Value, v]);
  expect(r.out).toEqual(r.expected);
  expect(typeof r.out).toBe('boolean');
  expect(r.host).toBe(0);
});

test.each(hostGlobs)('host glob.match(%j, %j, %j)', (p, d, v) => {
  const r = run('t/g', 'glob.match', { p, d, v }, [p, d as Value, v]);
  expect(r.out).toEqual(r.expected);
  expect(r.host).toBe(1);
});
