/**
 * The identity resolver on random request bodies: it never throws, never lets a key rewrite an object's
 * prototype (JSON.parse makes "__proto__" an ordinary own key, and it must stay one), and what the
 * resolver reasons about is exactly what the policy will see.
 */
import { createIdentityResolver } from '../../src/identity';
import { withoutTokens } from '../../src/server/authzen';
import { prng } from '../helpers/prng';
import { int, mutate, randJsonText, randValue } from './gen';

/** Every object reachable from v has Object.prototype (or null) as its prototype. */
function plainPrototypes(v: unknown, seen = new Set<unknown>()): boolean {
  if (v === null || typeof v !== 'object' || seen.has(v)) return true;
  seen.add(v);
  const proto = Object.getPrototypeOf(v);
  if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return false;
  return Object.values(v as object).every((x) => plainPrototypes(x, seen));
}

test('a "__proto__" key is kept as a key, and never lends the resolver an id', async () => {
  const r = createIdentityResolver({});
  const body = JSON.parse('{"tool":{"name":"t"},"__proto__":{"x":1},"user":{"__proto__":{"id":"root"}},"agent":{"id":"a","__proto__":{"id":"b"}},"task":{"__proto__":{"id":"t"}}}');
  const { input } = await r.resolve(body);
  expect(plainPrototypes(input)).toBe(true);
  const seen = JSON.parse(JSON.stringify(input));
  expect((input.user as Record<string, unknown>).id).toBeUndefined();
  expect(Object.keys(seen.user)).toContain('__proto__');
  expect(Object.keys(seen)).toContain('__proto__');
  expect(seen.agent.id).toBe('a');
  expect(plainPrototypes(withoutTokens(JSON.parse('{"a":{"__proto__":{"token":"x","id":"y"}}}')))).toBe(true);
  expect(JSON.stringify(withoutTokens(JSON.parse('{"a":{"__proto__":{"token":"x","id":"y"}}}')))).toBe('{"a":{"__proto__":{"id":"y"}}}');
});

test('random bodies: no throw, plain objects, tokens gone, a token that cannot verify is a deny', async () => {
  const r = createIdentityResolver({ issuers: [] });
  const rand = prng(909);
  const valid = { tool: { name: 't' }, user: { id: 'u', token: 'a.b.c' }, agent: { id: 'a', act: { sub: 'x' } }, task: { id: 't', scope: {} }, context: { txn: 'x' } };
  for (let i = 0; i < 400; i++) {
    const body = int(rand, 2) ? JSON.parse(randJsonText(rand)) : int(rand, 2) ? mutate(rand, valid) : randValue(rand);
    let res;
    try {
      res = await r.resolve(body);
    } catch (err) {
      throw new Error(`#${i} resolve threw ${(err as Error).message} on ${JSON.stringify(body)?.slice(0, 300)}`);
    }
    const text = JSON.stringify(res.input);
    if (!plainPrototypes(res.input)) throw new Error(`#${i} an object in the input lost its plain prototype: ${text.slice(0, 300)}`);
    for (const slot of ['user', 'agent', 'task'] as const) {
      const raw = (body as Record<string, any> | null)?.[slot];
      const out = res.input[slot] as Record<string, unknown> | undefined;
      if (out && Object.prototype.hasOwnProperty.call(out, 'token')) throw new Error(`#${i} ${slot}.token reached the input`);
      if (raw && typeof raw === 'object' && !Array.isArray(raw) && raw.token !== undefined && !res.deny) {
        throw new Error(`#${i} ${slot} token ${JSON.stringify(raw.token).slice(0, 100)} with no trusted issuer was not a deny`);
      }
    }
  }
});
