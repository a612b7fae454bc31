import type { Decision } from '../../src/pep/types';
import { callDuties, redactResult, redactValue } from '../../src/pep/gateway/obligations';

const allowWith = (obligations: Record<string, unknown>): Decision => ({ allow: true, reasons: [], obligations });

describe('gateway obligations', () => {
  test('a bare name is removed at any depth; a dotted path only where it points', () => {
    const v = { email: 'a', customer: { email: 'b', name: 'n' }, list: [{ email: 'c', id: 1 }] };
    expect(redactValue(v, ['email'])).toEqual({ customer: { name: 'n' }, list: [{ id: 1 }] });
    expect(redactValue(v, ['customer.email'])).toEqual({ email: 'a', customer: { name: 'n' }, list: [{ email: 'c', id: 1 }] });
    expect(redactValue(v, ['list.email'])).toEqual({ email: 'a', customer: { email: 'b', name: 'n' }, list: [{ id: 1 }] });
    expect(v.customer.email).toBe('b'); // input untouched
  });

  test('fields named "__proto__" or "toString" in a tool result are fields like any other', () => {
    const v = JSON.parse('{"__proto__": {"iban": "DE1", "id": 1}, "toString": {"iban": "DE2"}, "a": {"__proto__": {"iban": "DE3"}}}');
    expect(JSON.stringify(redactValue(v, ['iban']))).toBe('{"__proto__":{"id":1},"toString":{},"a":{"__proto__":{}}}');
    expect(JSON.stringify(redactValue(v, ['__proto__.iban']))).toBe('{"__proto__":{"id":1},"toString":{"iban":"DE2"},"a":{"__proto__":{"iban":"DE3"}}}');
    expect(JSON.stringify(redactValue(v, ['__proto__']))).toBe('{"toString":{"iban":"DE2"},"a":{}}');
    // a path through a key the value does not have leaves it as it is ("toString" is inherited, not own)
    expect(JSON.stringify(redactValue({ a: 1 }, ['toString.x']))).toBe('{"a":1}');
    expect(({} as Record<string, unknown>).iban).toBeUndefined();
  });

  test('results: JSON text and structured content are redacted; other content withholds the result', () => {
    const ok = redactResult({ content: [{ type: 'text', text: '{"iban":"DE1","id":1}' }, { type: 'image', data: 'AA==', mimeType: 'image/png' }], structuredContent: { iban: 'DE1', id: 1 } }, ['iban']);
    expect(ok).toEqual({ ok: true, result: { content: [{ type: 'text', text: '{"id":1}' }, { type: 'image', data: 'AA==', mimeType: 'image/png' }], structuredContent: { id: 1 } } });
    expect(redactResult({ content: [{ type: 'text', text: 'IBAN DE1' }] }, ['iban']).ok).toBe(false);
    expect(redactResult({ content: [{ type: 'resource', resource: { uri: 'x:', blob: 'AA==' } }] }, ['iban']).ok).toBe(false);
    expect(redactResult({ content: [{ type: 'hologram' }] }, ['iban']).ok).toBe(false);
    // nothing to redact: plain text passes
    expect(redactResult({ content: [{ type: 'text', text: 'hi' }] }, []).ok).toBe(true);
  });

  test('duties: unknown or malformed obligations deny; approval needs the PDP to have verified one', () => {
    const verified = { approval: { verified: true as const, jti: 'a-1', approved_by: 'u-1' } };
    expect(callDuties(allowWith({}))).toEqual({ ok: true, redact: [] });
    expect(callDuties(allowWith({ redact_fields: ['a'] }))).toEqual({ ok: true, redact: ['a'] });
    expect(callDuties(allowWith({ redact_fields: 'a' }))).toMatchObject({ ok: false, reasons: [{ code: 'obligation.invalid' }] });
    expect(callDuties(allowWith({ log: true }))).toMatchObject({ ok: false, reasons: [{ code: 'obligation.unsupported' }] });
    expect(callDuties(allowWith({ require_approval: { reasons: ['amount above 100'] } }))).toMatchObject({ ok: false, reasons: [{ code: 'approval.required' }] });
    expect(callDuties({ ...allowWith({ require_approval: true }), ...verified })).toEqual({ ok: true, redact: [] });
    expect(callDuties({ ...allowWith({ require_approval: true }), approval: { verified: false } as any })).toMatchObject({ ok: false });
    expect(callDuties(allowWith({ require_approval: false }))).toEqual({ ok: true, redact: [] });
    expect(callDuties({ ...allowWith({ require_approval: 'yes' }), ...verified })).toMatchObject({ ok: false, reasons: [{ code: 'obligation.invalid' }] });
  });
});
