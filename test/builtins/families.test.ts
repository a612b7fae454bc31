/** Unit tests per family, with answers taken from OPA's documentation and Go's fmt/regexp behaviour. */
import { callHost, evalContextFor, newEvalContext, beginEvaluation, BuiltinError, Value } from '../../src/builtins/registry';

const call = (name: string, ...args: Value[]) => callHost(name, args, evalContextFor(true));
const errOf = (name: string, ...args: Value[]): BuiltinError => {
  try { call(name, ...args); } catch (e) { return e as BuiltinError; }
  throw new Error(`${name} did not fail`);
};

describe('sprintf (Go verbs)', () => {
  it.each([
    ['%v and %v', ['a', 1], 'a and 1'],
    ['%d items', [3], '3 items'],
    ['%s', ['x'], 'x'],
    ['%q', ['he said "hi"'], '"he said \\"hi\\""'],
    ['%f', [3.14159], '3.141590'],
    ['%.2f', [2.675], '2.67'], // exact binary value of 2.675 is below the tie
    ['%.0f', [2.5], '2'], // ties to even, unlike JS toFixed
    ['%x %X', [255, 255], 'ff FF'],
    ['%t', [true], '%!t(string=true)'], // OPA passes booleans as their Rego text
    ['%v', [{ b: [1, 2], a: null }], '{"a": null, "b": [1, 2]}'],
    ['%v', [1e-7], '1e-07'],
    ['%5.1f|%-4d|%04d', [3.14159, 7, 42], '  3.1|7   |0042'],
    ['%d%%', [50], '50%'],
    ['%d %d', [1], '1 %!d(MISSING)'],
  ])('sprintf(%j, %j) = %j', (f, args, want) => {
    expect(call('sprintf', f, args as Value[])).toBe(want);
  });
  it('formats exact big integers given as bigint and refuses rounded ones', () => {
    expect(call('sprintf', '%d', [123456789123456789123n])).toBe('123456789123456789123');
    expect(errOf('sprintf', '%d', [2 ** 60]).code).toBe('eval_builtin_error');
  });
});

describe('regex (RE2 semantics)', () => {
  it('matches and validates with RE2 syntax', () => {
    expect(call('regex.match', '^a+b$', 'aaab')).toBe(true);
    expect(call('regex.is_valid', '(?<=a)b')).toBe(false); // lookbehind is not RE2
    expect(call('regex.is_valid', '(?P<n>x)')).toBe(true);
    expect(errOf('regex.match', '[', 'x').code).toBe('eval_builtin_error');
  });
  it('splits, replaces and finds like Go', () => {
    expect(call('regex.split', 'a', 'banana')).toEqual(['b', 'n', 'n', '']);
    expect(call('regex.replace', 'abc-123', '([a-z]+)-(\\d+)', '$2:${1}')).toEqual('123:abc');
    expect(call('regex.replace', 'aaa', 'a*', 'X')).toEqual('X');
    expect(call('regex.find_n', 'a.', 'abacad', 2)).toEqual(['ab', 'ac']);
    expect(call('regex.find_n', 'a*', 'baaac', -1)).toEqual(['', 'aaa', '']);
    expect(call('regex.find_all_string_submatch_n', 'a(x*)b', '-ab-axxb-', -1)).toEqual([['ab', ''], ['axxb', 'xx']]);
    expect(call('regex.template_match', 'urn:foo:{.*}', 'urn:foo:bar:baz', '{', '}')).toBe(true);
    expect(call('regex.template_match', 'urn:foo:{[a-z]+}', 'urn:foo:BAR', '{', '}')).toBe(false);
  });
});

describe('glob.match', () => {
  it.each([
    ['*.github.com', [], 'api.github.com', true],
    ['*.github.com', [], 'api.cdn.github.com', false],
    ['*hub.com', null, 'api.cdn.github.com', true],
    ['*:github:com', [':'], 'api:github:com', true],
    ['api.**.com', [], 'api.cdn.github.com', true],
    ['?at', [], 'cat', true],
    ['[!a]at', [], 'cat', true],
    ['[a-c]at', [], 'dat', false],
    ['{cat,bat}', [], 'bat', true],
  ])('glob.match(%j, %j, %j) = %j', (p, d, m, want) => {
    expect(call('glob.match', p, d as Value, m)).toBe(want);
  });
});

describe('strings and numbers', () => {
  it('follows Go on edge cases', () => {
    expect(call('trim_space', ' \t x \n')).toBe('x');
    expect(call('substring', 'aåäö', 1, 2)).toBe('åä');
    expect(call('indexof', '🍧x', 'x')).toBe(1);
    expect(call('replace', 'ab', '', '-')).toBe('-a-b-');
    expect(call('strings.replace_n', { a: 'b', b: 'c' }, 'ab')).toBe('bc');
    expect(call('format_int', -15.5, 16)).toBe('-f');
    expect(call('round', -2.5)).toBe(-3);
    expect(call('to_number', '1e3')).toBe(1000);
    expect(call('to_number', '12345678901234567890')).toBe(12345678901234567890n);
    expect(errOf('to_number', 'inf').code).toBe('eval_type_error');
    expect(call('numbers.range', 3, 1)).toEqual([3, 2, 1]);
    expect(call('plus', 9007199254740993n, 1)).toBe(9007199254740994n);
  });
  it('reports OPA type errors with the operand position', () => {
    const e = errOf('concat', 1, ['a']);
    expect(e.code).toBe('eval_type_error');
    expect(e.message).toBe('concat: operand 1 must be string but got number');
  });
});

describe('objects and json', () => {
  it('works on nested documents', () => {
    expect(call('object.get', { a: { b: 1 } }, ['a', 'b'], 0)).toBe(1);
    expect(call('object.get', { a: { b: 1 } }, ['a', 'c'], 0)).toBe(0);
    expect(call('object.union_n', [{ a: 1 }, { a: { b: 1 } }, { a: { c: 2 } }])).toEqual({ a: { b: 1, c: 2 } });
    expect(call('json.filter', { a: { b: 1, c: 2 }, d: 3 }, ['a/b', 'd'])).toEqual({ a: { b: 1 }, d: 3 });
    expect(call('json.remove', { a: { b: 1, c: 2 }, d: 3 }, ['a/b'])).toEqual({ a: { c: 2 }, d: 3 });
    expect(call('json.patch', { a: [1] }, [{ op: 'add', path: '/a/-', value: 2 }, { op: 'replace', path: '/b', value: 1 }].slice(0, 1))).toEqual({ a: [1, 2] });
    expect(errOf('json.patch', { a: 1 }, [{ op: 'test', path: '/a', value: 2 }]).code).toBe('eval_builtin_error');
  });
  it('marshals like Go (sorted keys, HTML escaping) and unmarshals big integers exactly', () => {
    expect(call('json.marshal', { b: 1, a: '<x>' })).toBe('{"a":"\\u003cx\\u003e","b":1}');
    expect(call('json.unmarshal', '{"n": 12345678901234567890}')).toEqual({ n: 12345678901234567890n });
    expect(call('json.is_valid', '{')).toBe(false);
  });
  it('encodes urlquery and base64 like Go', () => {
    expect(call('urlquery.encode', 'a b&c=d/é')).toBe('a+b%26c%3Dd%2F%C3%A9');
    expect(call('urlquery.decode_object', 'a=1&a=2&b=x+y')).toEqual({ a: ['1', '2'], b: ['x y'] });
    expect(call('urlquery.encode_object', { b: ['1', '2'], a: 'x' })).toBe('a=x&b=1&b=2');
    expect(errOf('base64.decode', 'aGVsbG8').code).toBe('eval_builtin_error'); // missing padding
    expect(call('base64url.decode', 'aGVsbG8')).toBe('hello');
    expect(call('hex.decode', '6869')).toBe('hi');
  });
});

describe('time', () => {
  it('parses and breaks down instants', () => {
    expect(call('time.parse_rfc3339_ns', '2017-06-02T19:00:00-07:00')).toBe(1496455200000000000n);
    expect(call('time.parse_ns', '2006-01-02', '2023-03-04')).toBe(1677888000000000000n);
    expect(call('time.parse_ns', 'RFC1123Z', 'Mon, 02 Jan 2006 15:04:05 -0700')).toBe(1136239445000000000n);
    expect(call('time.parse_duration_ns', '1h30m')).toBe(5400000000000);
    expect(call('time.parse_duration_ns', '1.5s')).toBe(1500000000);
    expect(call('time.date', 1496455200000000000)).toEqual([2017, 6, 3]);
    expect(call('time.date', [1496455200000000000, 'America/Los_Angeles'])).toEqual([2017, 6, 2]);
    expect(call('time.clock', [1496455200000000000, 'America/Los_Angeles'])).toEqual([19, 0, 0]);
    expect(call('time.weekday', 0)).toBe('Thursday');
    expect(call('time.add_date', 0, 1, 1, 1)).toBe(34300800000000000n);
    expect(call('time.diff', 0, 1496455200000000000)).toEqual([47, 5, 2, 2, 0, 0]);
    expect(call('time.format', [0, 'UTC', '2006-01-02 15:04'])).toBe('1970-01-01 00:00');
    expect(call('time.format', 1500000000)).toBe('1970-01-01T00:00:01.5Z');
  });
  it('gives one time.now_ns per evaluation', () => {
    const ctx = newEvalContext({ fixedNowNs: 5n });
    beginEvaluation(ctx);
    expect(callHost('time.now_ns', [], ctx)).toBe(5);
    const real = newEvalContext();
    beginEvaluation(real);
    const a = callHost('time.now_ns', [], real);
    const b = callHost('time.now_ns', [], real);
    expect(a).toBe(b);
  });
});

describe('net', () => {
  it('handles CIDRs', () => {
    expect(call('net.cidr_contains', '10.0.0.0/8', '10.1.2.3')).toBe(true);
    expect(call('net.cidr_contains', '10.0.0.0/8', '11.0.0.0/24')).toBe(false);
    expect(call('net.cidr_intersects', '192.168.0.0/16', '192.168.1.0/24')).toBe(true);
    expect(call('net.cidr_expand', '192.168.0.0/30')).toEqual(['192.168.0.0', '192.168.0.1', '192.168.0.2', '192.168.0.3']);
    expect(call('net.cidr_merge', ['192.0.128.0/24', '192.0.129.0/24'])).toEqual(['192.0.128.0/23']);
    expect(call('net.cidr_merge', ['2001:db8::/33', '2001:db8:8000::/33'])).toEqual(['2001:db8::/32']);
    expect(call('net.cidr_is_valid', '10.0.0.0/33')).toBe(false);
    expect(errOf('net.cidr_expand', '10.0.0.0/8').code).toBe('eval_builtin_error');
  });
});

describe('units, semver, uuid, crypto', () => {
  it('answers as OPA documents', () => {
    expect(call('units.parse', '1.1Ki')).toBe(1126.4);
    expect(call('units.parse_bytes', '10ei')).toBe(11529215046068469760n);
    expect(call('semver.compare', '1.0.0-alpha', '1.0.0')).toBe(-1);
    expect(call('semver.is_valid', 'v1.0.0')).toBe(false);
    expect(call('crypto.sha256', 'hello')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(call('crypto.hmac.sha256', 'hello', 'key')).toBe('9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b');
    const ctx = evalContextFor(false);
    const u1 = callHost('uuid.rfc4122', ['k'], ctx);
    expect(u1).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(callHost('uuid.rfc4122', ['k'], ctx)).toBe(u1);
  });
});

describe('yaml.unmarshal reads YAML as OPA does (YAML 1.1 via sigs.k8s.io/yaml)', () => {
  it('yes/on/n are booleans, 0777 is octal, a date stays a string', () => {
    expect(call('yaml.unmarshal', 'a: yes\nb: on\nc: n\nd: 0777\ne: 2001-01-01\nf: "yes"\n')).toEqual({ a: true, b: true, c: false, d: 511, e: '2001-01-01', f: 'yes' });
  });
});
