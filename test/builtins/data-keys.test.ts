/**
 * Rego object keys are data: "__proto__", "constructor", "toString" must behave like any other key in
 * every host built-in (they reach the host as JSON.parse made them, and go back as JSON.stringify
 * writes them). These once lost the key or answered from Object.prototype: json.unmarshal and
 * object.union_n dropped "__proto__", urlquery.decode_object failed on it, json.patch could not add it,
 * json.filter could not keep it.
 */
import { callHost, evalContextFor, Value } from '../../src/builtins/registry';

/** Call as the SDK does: arguments parsed from JSON, the result serialised back to JSON. */
const call = (name: string, argsJson: string): unknown => {
  const args = JSON.parse(argsJson) as Value[];
  return JSON.parse(JSON.stringify(callHost(name, args, evalContextFor(true))));
};

const KEYS = ['__proto__', 'constructor', 'toString'];

afterAll(() => {
  // nothing above may have written into the prototype every object shares
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe.each(KEYS)('key %j', (key) => {
  const k = JSON.stringify(key);
  const same = (v: unknown) => JSON.stringify(v);

  test('json.unmarshal keeps it', () => {
    expect(same(call('json.unmarshal', JSON.stringify([`{${k}: {"polluted": 1}, "a": 2}`])))).toBe(`{${k}:{"polluted":1},"a":2}`);
  });

  test('urlquery.decode_object collects it', () => {
    expect(call('urlquery.decode_object', JSON.stringify([`${encodeURIComponent(key)}=x&${encodeURIComponent(key)}=y&a=b`]))).toEqual(
      JSON.parse(`{${k}: ["x", "y"], "a": ["b"]}`),
    );
  });

  test('object.union and object.union_n merge it', () => {
    const want = `{${k}:{"y":1,"z":2},"a":1}`;
    expect(same(call('object.union', `[{${k}: {"y": 1}, "a": 1}, {${k}: {"z": 2}}]`))).toBe(want);
    expect(same(call('object.union_n', `[[{${k}: {"y": 1}, "a": 1}, {${k}: {"z": 2}}]]`))).toBe(want);
    // absent on the left: no inherited value to merge into
    expect(same(call('object.union', `[{"a": 1}, {${k}: {"z": 2}}]`))).toBe(`{"a":1,${k}:{"z":2}}`);
  });

  test('object.subset sees only own keys', () => {
    expect(call('object.subset', `[{"a": 1}, {${k}: 1}]`)).toBe(false);
    expect(call('object.subset', `[{${k}: 1, "a": 1}, {${k}: 1}]`)).toBe(true);
  });

  test('json.filter keeps it and json.remove removes only it', () => {
    expect(same(call('json.filter', `[{${k}: {"y": 1}, "a": 1}, [${k}]]`))).toBe(`{${k}:{"y":1}}`);
    expect(same(call('json.filter', `[{"a": 1}, [${k}]]`))).toBe('{}');
    expect(same(call('json.remove', `[{${k}: {"y": 1}, "a": 1}, [${k}]]`))).toBe('{"a":1}');
    expect(same(call('json.remove', `[{${k}: {"y": 1}, "a": 1}, ["a"]]`))).toBe(`{${k}:{"y":1}}`);
  });

  test('json.patch adds, replaces, tests and removes it', () => {
    const p = `/${key}`;
    expect(same(call('json.patch', JSON.stringify([{}, [{ op: 'add', path: p, value: { x: 1 } }]])))).toBe(`{${k}:{"x":1}}`);
    expect(same(call('json.patch', JSON.stringify([JSON.parse(`{${k}: 1}`), [{ op: 'replace', path: p, value: 2 }, { op: 'test', path: p, value: 2 }]])))).toBe(`{${k}:2}`);
    expect(same(call('json.patch', JSON.stringify([JSON.parse(`{${k}: 1, "a": 1}`), [{ op: 'remove', path: p }]])))).toBe('{"a":1}');
    // replacing or removing a key the document does not have is an error, inherited or not
    expect(() => call('json.patch', JSON.stringify([{}, [{ op: 'replace', path: p, value: 2 }]]))).toThrow(/does not exist/);
  });

  test('graph.reachable follows only the graph\'s own nodes', () => {
    expect(call('graph.reachable', `[{"a": [${k}]}, ["a"]]`)).toEqual(['a']);
    expect(call('graph.reachable', `[{"a": [${k}], ${k}: ["b"], "b": []}, ["a"]]`)).toEqual([key, 'a', 'b'].sort());
  });

  test('object.get finds it only when it is there', () => {
    expect(call('object.get', `[{"a": 1}, ${k}, "none"]`)).toBe('none');
    expect(call('object.get', `[{${k}: 5}, ${k}, "none"]`)).toBe(5);
  });
});
