/**
 * regex.match runs natively for fully anchored patterns of literals, \d \w \s, positive classes and
 * repetitions, and falls back to the host's RE2 for everything else. Either way the answer must be the
 * host's; the native forms must not reach the host.
 */
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../../src/compiler';
import { callHost, isBuiltinError } from '../../src/builtins/registry';
import { preferOurBuiltinsOverSdk } from '../../src/builtins/sdk';

let policy: Awaited<ReturnType<typeof loadPolicy>>;
let hostCalls = 0;

beforeAll(async () => {
  preferOurBuiltinsOverSdk();
  const { wasm } = compile({ modules: [{ file: 't.rego', source: 'package t\nm := regex.match(input.p, input.v)\n' }], entrypoints: ['t/m'] });
  policy = await loadPolicy(wasm, undefined, {
    'regex.match': (p: string, v: string) => {
      hostCalls++;
      try {
        return callHost('regex.match', [p, v]);
      } catch (e) {
        if (isBuiltinError(e)) return undefined;
        throw e;
      }
    },
  });
});

function check(p: unknown, v: unknown): { out: unknown; expected: unknown; host: number } {
  const before = hostCalls;
  const rs = policy.evaluate({ p, v }) as Array<{ result: unknown }>;
  let expected: unknown;
  try {
    expected = callHost('regex.match', [p as string, v as string]);
  } catch (e) {
    if (!isBuiltinError(e)) throw e;
  }
  return { out: rs.length ? rs[0].result : undefined, expected, host: hostCalls - before };
}

const values = ['', 'c-9', 'c-123456789', 'c-1234567890', 'C-9', 'c-', 'c-9x', 'xc-9', 'c-9\n', '2026-11-21', '2026-1-21',
  'abc', 'ab', 'abbb', 'a_b-9', 'a b', 'a\tb', 'ü', 'c-٣', 'a.b', 'a$b', '$', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'];
const nativePatterns = [
  '^c-[0-9]{1,9}$', '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', '^$', '^abc$', '^ab*$', '^ab+$', '^ab?c?$', '^a{2,}$', '^[a-z_]+-?\\d*$',
  '^\\w+$', '^\\w\\s\\w$', '^a\\.b$', '^a\\$b$', '^\\$$', '^[a-]+$', '^[-a.]*$', '^[a^]+$', '^[\\d\\-c]+$', '^c-\\d+?$', '^(?:x)?$'.replace('(?:x)?', 'x*?'),
  '^a{0}b$', '^a*a*a*a*a*a*a*a*a*a*a*a*!$', '^[A-Za-z0-9_]{1,64}$',
];
const hostPatterns = ['c-[0-9]+', '^c-[0-9]+', 'c-[0-9]+$', '^(a|b)$', '^.*$', '^[^a]+$', '^(?i)abc$', '^a\\$', '^\\bab$',
  '^a++$', '^a**$', '^[[:alpha:]]+$', '^[]a]$', '^a{65}$', '^a{3,2}$', '^\\ $', '^[z-a]$', '^a{,3}$', '^ü$', '^\\pL+$', '^[a$'];

test.each(nativePatterns)('native %j', (p) => {
  for (const v of values) {
    const r = check(p, v);
    expect({ p, v, out: r.out }).toEqual({ p, v, out: r.expected });
    expect(typeof r.out).toBe('boolean');
    expect(r.host).toBe(0);
  }
});

test.each(hostPatterns)('host %j', (p) => {
  for (const v of values) {
    const r = check(p, v);
    expect({ p, v, out: r.out }).toEqual({ p, v, out: r.expected });
    expect(r.host).toBe(1);
  }
});

test('non-string arguments go to the host, which refuses them', () => {
  expect(check(1, 'x')).toEqual({ out: undefined, expected: undefined, host: 1 });
  expect(check('^x$', 1)).toEqual({ out: undefined, expected: undefined, host: 1 });
});
