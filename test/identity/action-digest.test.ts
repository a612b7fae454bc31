/**
 * RFC 8785 canonical JSON and the action digest: the vectors here are the ones in docs/approvals.md, so a
 * tool server in another language can check its own implementation against them.
 */
import { canonicalJson, CanonicalJsonError } from '../../src/identity/jcs';
import { actionDigest, actionOf, Action } from '../../src/identity/action-digest';

describe('canonical JSON (RFC 8785)', () => {
  test('sorts members by UTF-16 code units (the RFC 8785 §3.2.3 example)', () => {
    const v = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // read the order off the text: Object.keys would put the integer-like "1" first
    const keys = [...canonicalJson(v).matchAll(/"([^"]*)":/g)].map((m) => JSON.parse(`"${m[1]}"`));
    expect(keys).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  test('writes numbers the ECMAScript way (the RFC 8785 §3.2.2 example)', () => {
    // eslint-disable-next-line @typescript-eslint/no-loss-of-precision
    expect(canonicalJson({ numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001] })).toBe('{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}');
    expect(canonicalJson([-0, 1e21, 1e-7, 100])).toBe('[0,1e+21,1e-7,100]');
  });

  test('escapes strings minimally, nests, and drops whitespace', () => {
    expect(canonicalJson({ s: '\u20ac$\u000f\nA\'B"\\/', b: [true, false, null], o: { z: {}, a: [] } })).toBe('{"b":[true,false,null],"o":{"a":[],"z":{}},"s":"€$\\u000f\\nA\'B\\"\\\\/"}');
  });

  test('refuses what is not JSON', () => {
    for (const bad of [NaN, Infinity, undefined, () => 1, BigInt(1), new Date(0), { s: 'x\ud800' }, { s: '\udc00y' }]) {
      expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(/deeper/);
    // a repeated (not cyclic) value is fine, and a surrogate pair is text
    const shared = { a: 1 };
    expect(canonicalJson([shared, shared, '\ud83d\ude00'])).toBe('[{"a":1},{"a":1},"😀"]');
  });
});

describe('action digest', () => {
  const refund: Action = { server: 'billing', tool: 'refunds.create', method: 'tools/call', parameters: { customer_id: 'c-1001', amount: 150, currency: 'EUR' }, user: 'u-bob', actor: 'billing-bot', task: 't-7' };

  test('test vectors (docs/approvals.md)', () => {
    expect(actionDigest(refund)).toBe('SpIQzq8MFqX6FVwJd_SknKXzlY-MLy7GJNS-h10sD9w');
    expect(actionDigest({ ...refund, parameters: { customer_id: 'c-1001', amount: 1500, currency: 'EUR' } })).toBe('1vBUbKI9Rr1Kb-6QtkPMmUgAJ6Ei2tqJRvimSXu21Q4');
    expect(actionDigest({ server: null, tool: 'kb.search', method: 'tools/call', parameters: {}, user: null, actor: null, task: null })).toBe('j8KKmAw1Qn5i7R5CL0F5q911X7KGckGkNbJFfQSm-bY');
  });

  test('member order of the parameters does not matter; every member of the action does', () => {
    const reordered = { ...refund, parameters: { currency: 'EUR', amount: 150, customer_id: 'c-1001' } };
    expect(actionDigest(reordered)).toBe(actionDigest(refund));
    const base = actionDigest(refund);
    for (const change of [{ server: 'crm' }, { tool: 'refunds.lookup' }, { method: 'tools/list' }, { user: 'u-alice' }, { actor: 'support-bot' }, { task: 't-8' }, { parameters: { ...refund.parameters as object, amount: 150.01 } }]) {
      expect(actionDigest({ ...refund, ...change })).not.toBe(base);
    }
    // absent is not the same as empty
    expect(actionDigest({ ...refund, task: null })).not.toBe(actionDigest({ ...refund, task: '' }));
  });

  test('actionOf reads a decision input (resolved ids) with defaults', () => {
    const input = { user: { id: 'u-bob', verified: true }, agent: { id: 'billing-bot' }, task: { id: 't-7' }, tool: { server: 'billing', name: 'refunds.create' }, parameters: refund.parameters, context: { request_id: 'r' } };
    expect(actionOf(input)).toEqual(refund);
    expect(actionOf({ tool: { name: 'x' } })).toEqual({ server: null, tool: 'x', method: 'tools/call', parameters: {}, user: null, actor: null, task: null });
    expect(actionOf('not an object')).toMatchObject({ tool: null, parameters: {} });
  });
});
