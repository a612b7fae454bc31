/** The registry's contracts: declarations, the SDK adapter (strict vs not), imports check, JWT with real keys. */
import { generateKeyPairSync, createSign, createHmac } from 'crypto';
import {
  allBuiltins, beginEvaluation, checkHostImports, hostBuiltins, lookupBuiltin, newEvalContext,
} from '../../src/builtins/registry';
import { preferOurBuiltinsOverSdk } from '../../src/builtins/sdk';

describe('declarations', () => {
  it('knows operators, natives and host built-ins', () => {
    expect(lookupBuiltin('plus')).toMatchObject({ arity: 2, infix: '+', native: true });
    expect(lookupBuiltin('internal.member_2')).toMatchObject({ arity: 2, native: true });
    expect(lookupBuiltin('time.now_ns')).toMatchObject({ arity: 0, native: true, hostFallback: true, nondeterministic: true });
    expect(lookupBuiltin('numbers.range_step')).toMatchObject({ native: false });
    expect(lookupBuiltin('object.keys')?.result).toBe('set');
    expect(lookupBuiltin('net.cidr_expand')?.result).toBe('set');
    expect(lookupBuiltin('http.send')).toBeUndefined();
    for (const d of allBuiltins()) expect(d.args).toHaveLength(d.arity);
  });
  it('covers every built-in the SDK capabilities list, except the unification operators', () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const caps = JSON.parse(require('fs').readFileSync(require('path').join(__dirname, '../../node_modules/@open-policy-agent/opa-wasm/capabilities.json'), 'utf8')) as { builtins: { name: string }[] };
    const missing = caps.builtins.map((b) => b.name).filter((n) => !['eq', 'assign'].includes(n) && !lookupBuiltin(n));
    expect(missing).toEqual([]);
  });
  it('reports host imports it cannot serve', () => {
    expect(checkHostImports(['time.now_ns', 'sprintf', 'io.jwt.verify_rs256'])).toEqual([]);
    expect(checkHostImports(['http.send', 'time.now_ns', 'net.lookup_ip_addr'])).toEqual(['http.send', 'net.lookup_ip_addr']);
  });
});

describe('hostBuiltins (the SDK customBuiltins map)', () => {
  it('makes errors undefined unless strict, where it throws OPA error classes', () => {
    const lax = newEvalContext();
    expect(hostBuiltins(lax)['units.parse_bytes']('foo')).toBeUndefined();
    const strict = newEvalContext({ strict: true });
    expect(() => hostBuiltins(strict)['units.parse_bytes']('foo')).toThrow(expect.objectContaining({ code: 'eval_builtin_error', message: 'units.parse_bytes: no byte amount provided' }));
  });
  it('returns exact big integers as raw JSON text (ArrayBuffer) the SDK parses verbatim', () => {
    const ctx = newEvalContext({ fixedNowNs: 1700000000123456789n });
    beginEvaluation(ctx);
    const r = hostBuiltins(ctx)['time.now_ns']();
    expect(r).toBeInstanceOf(ArrayBuffer);
    expect(new TextDecoder().decode(r as ArrayBuffer)).toBe('1700000000123456789');
  });
  it('resets time.now_ns per evaluation', () => {
    const ctx = newEvalContext();
    const fns = hostBuiltins(ctx);
    beginEvaluation(ctx);
    ctx.fixedNowNs = 1n;
    expect(fns['time.now_ns']()).toBe(1);
    ctx.fixedNowNs = 2n;
    expect(fns['time.now_ns']()).toBe(1); // same evaluation: same instant
    beginEvaluation(ctx);
    expect(fns['time.now_ns']()).toBe(2);
  });
  it('removes the SDK bundled implementations we replace so customBuiltins win', () => {
    const removed = preferOurBuiltinsOverSdk();
    expect(removed).toEqual(expect.arrayContaining(['sprintf', 'regex.split', 'json.is_valid', 'yaml.is_valid', 'yaml.marshal', 'yaml.unmarshal']));
    const path = require('path');
    const bundled = require(path.join(path.dirname(require.resolve('@open-policy-agent/opa-wasm')), 'builtins', 'index.js'));
    expect(bundled.sprintf).toBeUndefined();
  });
});

describe('io.jwt', () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const jwk = JSON.stringify(publicKey.export({ format: 'jwk' }));
  const signRs = (payload: object) => {
    const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload)}`;
    return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
  };
  const signHs = (payload: object, secret: string) => {
    const input = `${b64({ alg: 'HS256' })}.${b64(payload)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const fns = hostBuiltins(newEvalContext({ strict: true }));

  it('verifies signatures with PEM keys, JWKs and secrets', () => {
    const t = signRs({ sub: 'alice' });
    expect(fns['io.jwt.verify_rs256'](t, pem)).toBe(true);
    expect(fns['io.jwt.verify_rs256'](t, jwk)).toBe(true);
    expect(fns['io.jwt.verify_rs256'](t.slice(0, -4) + 'AAAA', pem)).toBe(false);
    expect(fns['io.jwt.verify_hs256'](signHs({}, 's3cret'), 's3cret')).toBe(true);
    expect(fns['io.jwt.verify_hs256'](signHs({}, 's3cret'), 'other')).toBe(false);
  });
  it('decodes and checks claims in decode_verify', () => {
    const t = signRs({ sub: 'alice', iss: 'me', aud: 'pdp', exp: 2000, nbf: 1000 });
    expect(fns['io.jwt.decode'](t)[1]).toEqual({ sub: 'alice', iss: 'me', aud: 'pdp', exp: 2000, nbf: 1000 });
    const at = (sec: number) => sec * 1e9;
    expect(fns['io.jwt.decode_verify'](t, { cert: pem, iss: 'me', aud: 'pdp', time: at(1500) })[0]).toBe(true);
    expect(fns['io.jwt.decode_verify'](t, { cert: pem, aud: 'pdp', time: at(2500) })).toEqual([false, {}, {}]);
    expect(fns['io.jwt.decode_verify'](t, { cert: pem, aud: 'pdp', time: at(500) })).toEqual([false, {}, {}]);
    expect(fns['io.jwt.decode_verify'](t, { cert: pem, time: at(1500) })).toEqual([false, {}, {}]); // aud in token, none asked
    expect(fns['io.jwt.decode_verify'](t, { cert: pem, aud: 'pdp', alg: 'HS256', time: at(1500) })).toEqual([false, {}, {}]);
    const none = `${b64({ alg: 'none' })}.${b64({})}.`;
    expect(fns['io.jwt.decode_verify'](none, { secret: 'x' })).toEqual([false, {}, {}]);
  });
});
