/** uuid.parse (google/uuid's forms and OPA's fields) and regex.globs_match (glob intersection). */
import { parseUuid } from '../../src/builtins/uuid';
import { globsIntersect } from '../../src/builtins/globs-match';

describe('uuid.parse', () => {
  test('version 2: time, clock sequence, node id, MAC flags, id and domain', () => {
    expect(parseUuid('000003e8-48b9-21ee-b200-325096b39f47')).toEqual({
      version: 2, variant: 'RFC4122', time: 1693566990121469600n, clocksequence: 12800,
      nodeid: '32-50-96-b3-9f-47', macvariables: 'local:unicast', id: 1000, domain: 'Person',
    });
  });
  test('the accepted spellings, and only version and variant for other versions', () => {
    for (const s of ['{00000000-0000-4000-8000-000000000000}', 'urn:uuid:00000000-0000-4000-8000-000000000000', '00000000000040008000000000000000']) {
      expect(parseUuid(s)).toEqual({ version: 4, variant: 'RFC4122' });
    }
  });
  test('anything else is not a UUID (undefined)', () => {
    for (const s of ['', '00000000-0000-4000-8000-00000000000', '00000000x0000-4000-8000-000000000000', '{00000000-0000-4000-8000-000000000000']) {
      expect(parseUuid(s)).toBeUndefined();
    }
  });
});

describe('regex.globs_match', () => {
  const m = (a: string, b: string) => globsIntersect('regex.globs_match', a, b);
  test('intersecting patterns', () => {
    expect(m('a.a.[0-9]+z', '.b.b2359825792*594823z')).toBe(true);
    expect(m('[a-z]+\\[[0-9]+\\]', 'foo\\[1\\]')).toBe(true);
    expect(m('b.*', 'bar')).toBe(true);
  });
  test('disjoint patterns, and the empty string alone does not count', () => {
    expect(m('[a-z]+', '[0-9]*')).toBe(false);
    expect(m('[a-z]+\\[[0-9]+\\]', 'foo["bar"]')).toBe(false);
    expect(m('a*', 'b*')).toBe(false);
    expect(m('[^a]', 'a')).toBe(false);
  });
  test('malformed patterns are errors', () => {
    expect(() => m('[a-z', 'a')).toThrow(/unterminated/);
    expect(() => m('*a', 'a')).toThrow(/quantifier/);
  });
});
