/**
 * io.jwt.* header handling as OPA's topdown does it: `crit` (RFC 7515 §4.1.11), header types, JWE,
 * nested tokens (cty: JWT), kid selection in a JWK Set, EdDSA. Real keys, signed here.
 */
import { generateKeyPairSync, createSign, createHmac, sign as edSign } from 'crypto';
import { hostBuiltins, newEvalContext } from '../../src/builtins/registry';
import { runCase } from '../../src/cli/commands/conformance';

const b64 = (o: object | string) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signRs = (header: object, payload: object | string) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
};
const signHs = (header: object, payload: object | string, secret: string) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};
const strict = hostBuiltins(newEvalContext({ strict: true }));
const INVALID = [false, {}, {}];

describe('crit', () => {
  test('decode_verify rejects a validly signed token whose crit names a header it does not understand', () => {
    const t = signRs({ alg: 'RS256', crit: ['junk'], junk: 'xxx' }, { sub: 'fred' });
    expect(strict['io.jwt.decode_verify'](t, { cert: pem })).toEqual(INVALID);
    const h = signHs({ alg: 'HS256', crit: ['exp'], exp: 1 }, { sub: 'fred' }, 'k');
    expect(strict['io.jwt.decode_verify'](h, { secret: 'k' })).toEqual(INVALID);
  });
  test('crit naming only understood parameters, or an unknown parameter not in crit, verifies', () => {
    const t = signRs({ alg: 'RS256', crit: ['alg'], junk: 'x' }, { sub: 'fred' });
    expect(strict['io.jwt.decode_verify'](t, { cert: pem })[0]).toBe(true);
  });
  test('a crit that is not a non-empty list of strings is an error', () => {
    for (const crit of [[], 'junk', [1, 'junk']]) {
      const t = signRs({ alg: 'RS256', crit, junk: 'x' }, {});
      expect(() => strict['io.jwt.decode_verify'](t, { cert: pem })).toThrow(/crit: must be/);
    }
    // non-strict: the call is undefined, never an allow
    const lax = hostBuiltins(newEvalContext({ strict: false }));
    expect(lax['io.jwt.decode_verify'](signRs({ alg: 'RS256', crit: [] }, {}), { cert: pem })).toBeUndefined();
  });
  test('verify_<alg> checks only the signature, as OPA (crit is decode_verify\'s business)', () => {
    const t = signRs({ alg: 'RS256', crit: ['junk'], junk: 'xxx' }, { sub: 'fred' });
    expect(strict['io.jwt.verify_rs256'](t, pem)).toBe(true);
  });
  test('end to end: the policy built on decode_verify denies the crit token', () => {
    const t = signRs({ alg: 'RS256', crit: ['junk'], junk: 'xxx' }, { sub: 'fred' });
    const modules = [`package p\nallow if { [true, _, _] := io.jwt.decode_verify(input.t, {"cert": input.k}) }\n`];
    expect(runCase({ note: 'crit', query: 'data.p.allow = x', modules, input: { t, k: pem }, want_result: [] })).toEqual({ kind: 'pass' });
  });
});

describe('other header checks', () => {
  test('a header without alg never verifies; alg of the wrong type is an error', () => {
    expect(strict['io.jwt.decode_verify'](signHs({ typ: 'JWT' }, {}, 'k'), { secret: 'k' })).toEqual(INVALID);
    expect(() => strict['io.jwt.decode_verify'](signHs({ alg: 5 }, {}, 'k'), { secret: 'k' })).toThrow(/alg: must be a string/);
  });
  test('a JWE header (enc) is an error for decode and decode_verify', () => {
    const t = signHs({ alg: 'HS256', enc: 'x' }, {}, 'k');
    expect(() => strict['io.jwt.decode'](t)).toThrow(/JWE/);
    expect(() => strict['io.jwt.decode_verify'](t, { secret: 'k' })).toThrow(/JWE/);
  });
  test('a malformed token is an error, not an invalid answer', () => {
    expect(() => strict['io.jwt.decode_verify']('a.b', { secret: 'k' })).toThrow(/3 sections/);
  });
  test('constraint errors: unknown, both keys, none, negative time', () => {
    const t = signHs({ alg: 'HS256' }, {}, 'k');
    expect(() => strict['io.jwt.decode_verify'](t, { secret: 'k', foo: 1 })).toThrow(/unknown token validation constraint: foo/);
    expect(() => strict['io.jwt.decode_verify'](t, { secret: 'k', cert: pem })).toThrow(/duplicate key constraints/);
    expect(() => strict['io.jwt.decode_verify'](t, { secret: '' })).toThrow(/no key constraint/);
    expect(() => strict['io.jwt.decode_verify'](t, { secret: 'k', time: -1 })).toThrow(/must not be negative/);
  });
});

describe('nested tokens and key choice', () => {
  test('decode_verify verifies every level of a cty: JWT token and answers the innermost', () => {
    const inner = signRs({ alg: 'RS256', typ: 'JWT' }, { iss: 'xxx' });
    const outer = signRs({ alg: 'RS256', cty: 'JWT' }, inner);
    expect(strict['io.jwt.decode_verify'](outer, { cert: pem, iss: 'xxx' })).toEqual([true, { alg: 'RS256', typ: 'JWT' }, { iss: 'xxx' }]);
    // an inner level signed by another key fails the whole token
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const input = `${b64({ alg: 'RS256' })}.${b64({ iss: 'xxx' })}`;
    const forged = `${input}.${createSign('RSA-SHA256').update(input).sign(other).toString('base64url')}`;
    expect(strict['io.jwt.decode_verify'](signRs({ alg: 'RS256', cty: 'JWT' }, forged), { cert: pem })).toEqual(INVALID);
  });
  test('io.jwt.decode follows cty: JWT, dropping the quotes jwt.io adds', () => {
    const inner = signHs({ alg: 'HS256' }, { sub: '0' }, 'k');
    const outer = signHs({ alg: 'HS256', cty: 'JWT' }, `"${inner}"`, 'k');
    expect(strict['io.jwt.decode'](outer)[1]).toEqual({ sub: '0' });
  });
  test('a JWK Set key whose kid matches the header is the only key tried', () => {
    const good = { ...(publicKey.export({ format: 'jwk' }) as object), kid: 'a' };
    const wrong = { ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as object), kid: 'b' };
    const jwks = JSON.stringify({ keys: [wrong, good] });
    expect(strict['io.jwt.decode_verify'](signRs({ alg: 'RS256', kid: 'a' }, {}), { cert: jwks })[0]).toBe(true);
    expect(strict['io.jwt.decode_verify'](signRs({ alg: 'RS256', kid: 'b' }, {}), { cert: jwks })).toEqual(INVALID);
    // a key declared for another algorithm is skipped
    const es = JSON.stringify({ keys: [{ ...good, kid: undefined, alg: 'RS512' }] });
    expect(strict['io.jwt.decode_verify'](signRs({ alg: 'RS256' }, {}), { cert: es })).toEqual(INVALID);
  });
  test('EdDSA: decode_verify and verify_eddsa', () => {
    const ed = generateKeyPairSync('ed25519');
    const input = `${b64({ alg: 'EdDSA' })}.${b64({ sub: 'x' })}`;
    const t = `${input}.${edSign(null, Buffer.from(input), ed.privateKey).toString('base64url')}`;
    const key = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(strict['io.jwt.decode_verify'](t, { cert: key })[0]).toBe(true);
    expect(strict['io.jwt.verify_eddsa'](t, key)).toBe(true);
    expect(strict['io.jwt.verify_eddsa'](t.slice(0, -4) + 'AAAA', key)).toBe(false);
  });
});

describe('io.jwt.encode_sign / encode_sign_raw', () => {
  const hsKey = { kty: 'oct', k: Buffer.from('42').toString('base64url') };
  test('RFC 7515 A.1 (HS256) is reproduced byte for byte by encode_sign_raw', () => {
    const k = '{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}';
    const t = strict['io.jwt.encode_sign_raw']('{"typ":"JWT",\r\n "alg":"HS256"}', '{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}', k);
    expect(t).toBe('eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
  });
  test('tokens signed with each key kind verify with decode_verify', () => {
    expect(strict['io.jwt.decode_verify'](strict['io.jwt.encode_sign']({ alg: 'HS256' }, { sub: 'a' }, hsKey), { secret: '42' })).toEqual([true, { alg: 'HS256' }, { sub: 'a' }]);
    for (const [alg, kp] of [['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })], ['PS384', generateKeyPairSync('rsa', { modulusLength: 2048 })], ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })], ['EdDSA', generateKeyPairSync('ed25519')]] as const) {
      const t = strict['io.jwt.encode_sign']({ alg }, { sub: 'a' }, kp.privateKey.export({ format: 'jwk' }));
      const cert = kp.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(strict['io.jwt.decode_verify'](t, { cert })).toEqual([true, { alg }, { sub: 'a' }]);
    }
  });
  test('header and payload errors', () => {
    const k = JSON.stringify(hsKey);
    expect(() => strict['io.jwt.encode_sign_raw']('{"alg":"dummy"}', '{}', k)).toThrow(/unknown JWS algorithm: dummy/);
    expect(() => strict['io.jwt.encode_sign_raw']('{}', '{}', k)).toThrow(/alg/);
    expect(() => strict['io.jwt.encode_sign_raw']('e', '{}', k)).toThrow(/cannot parse JSON/);
    expect(() => strict['io.jwt.encode_sign_raw']('{"alg":"HS256"}', 'not json', k)).toThrow(/payload is not JSON/);
    expect(strict['io.jwt.encode_sign_raw']('{"alg":"HS256","typ":"text/plain"}', 'e', k)).toMatch(/\.ZQ\./);
  });
});
