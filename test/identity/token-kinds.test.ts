/**
 * Token kinds told apart (RFC 8725 §3.11, explicit typing): with one issuer trusted for several kinds, a
 * token of one kind is refused in another kind's slot (`wrong_kind`), by `typ` by default or by the
 * issuer's `kinds` rules (claim, audience) for IdPs that issue plain `JWT`s.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeProtectedHeader, generateKeyPair, exportPKCS8, exportJWK } from 'jose';
import { createIdentityResolver, IdentityConfig, IssuerConfig } from '../../src/identity';
import { run as pdpToken } from '../../src/cli/commands/token';
import { isHighS } from '../../src/identity/ecdsa';
import { makeKey, now, sign, signAs, TestKey, tmpDir, writeJwks } from './helpers';

const ISS = 'https://idp.example.com';
let idp: TestKey;
let jwks: string;
const scope = { tools: ['billing/*'], data_domains: ['billing'], constraints: {} };
const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISS, aud: 'pdp', sub: 'u-42', jti: 'j-1', exp: now() + 600, ...extra });

beforeAll(async () => {
  idp = await makeKey('ES256', 'k1');
  jwks = writeJwks(tmpDir(), 'idp', [idp]);
});

const issuer = (over: Partial<IssuerConfig> = {}): IssuerConfig => ({ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: jwks, use_for: ['user', 'agent', 'task', 'txn'], ...over });
const resolverFor = (cfg: IssuerConfig) => createIdentityResolver({ issuers: [cfg] } as IdentityConfig);

describe('one issuer for user, agent, task and txn (the README setup)', () => {
  it('refuses a user token carrying a scope claim as the task token', async () => {
    const r = resolverFor(issuer());
    const userWithScope = await signAs(idp, 'user', claims({ scope }));
    // it is a perfectly good user token…
    expect((await r.resolve({ user: { token: userWithScope } })).deny).toBeUndefined();
    // …and never a task grant
    const { input, deny } = await r.resolve({ user: { token: await signAs(idp, 'user', claims()) }, task: { token: userWithScope } });
    expect(deny).toMatchObject({ code: 'identity.invalid_token', token: 'task', reason: 'wrong_kind' });
    expect(input.task).toMatchObject({ assurance: 'invalid', scope: {} });
  });

  it('accepts each kind in its own slot only', async () => {
    const r = resolverFor(issuer());
    const task = await signAs(idp, 'task', claims({ scope }));
    const ok = await r.resolve({ user: { token: await signAs(idp, 'user', claims()) }, agent: { token: await signAs(idp, 'agent', claims({ sub: 'bot' })) }, task: { token: task } });
    expect(ok.deny).toBeUndefined();
    expect(ok.input.task).toMatchObject({ assurance: 'verified', scope });
    expect((await r.resolve({ user: { token: task } })).deny).toMatchObject({ token: 'user', reason: 'wrong_kind' });
    expect((await r.resolve({ agent: { token: await signAs(idp, 'user', claims()) } })).deny).toMatchObject({ token: 'agent', reason: 'wrong_kind' });
  });

  it('refuses an untyped or plain JWT token in every slot, since nothing says which kind it is', async () => {
    const r = resolverFor(issuer());
    for (const header of [{}, { typ: 'JWT' }]) {
      const t = await sign(idp, claims({ scope }), header);
      for (const slot of ['user', 'agent', 'task'] as const) {
        expect((await r.resolve({ [slot]: { token: t } })).deny).toMatchObject({ token: slot, reason: 'wrong_kind' });
      }
    }
  });

  it('reads typ case-insensitively and with or without "application/" (RFC 7515 §4.1.9)', async () => {
    const r = resolverFor(issuer());
    expect((await r.resolve({ user: { token: await sign(idp, claims(), { typ: 'application/USER+JWT' }) } })).deny).toBeUndefined();
  });
});

describe('an issuer trusted for one kind', () => {
  it('needs no typ, but never accepts a token typed as another kind', async () => {
    const r = resolverFor(issuer({ use_for: ['user'] }));
    expect((await r.resolve({ user: { token: await sign(idp, claims(), { typ: 'JWT' }) } })).deny).toBeUndefined();
    expect((await r.resolve({ user: { token: await sign(idp, claims()) } })).deny).toBeUndefined();
    expect((await r.resolve({ user: { token: await signAs(idp, 'task', claims({ scope })) } })).deny).toMatchObject({ reason: 'wrong_kind' });
  });
});

describe('kinds rules for IdPs that issue plain JWTs', () => {
  const cfg = () =>
    issuer({
      use_for: ['user', 'agent', 'task'],
      kinds: { user: { typ: ['JWT', 'at+jwt'] }, task: { typ: 'JWT', claim: { name: 'token_use', value: 'task' } }, agent: { typ: 'JWT', audience: 'pdp-agents' } },
    });

  it('a claim rule: a task token matches user and task, so it is refused as user; a user token is no task', async () => {
    const r = resolverFor(cfg());
    const user = await sign(idp, claims(), { typ: 'JWT' });
    const task = await sign(idp, claims({ scope, token_use: 'task' }), { typ: 'JWT' });
    expect((await r.resolve({ user: { token: user } })).deny).toBeUndefined();
    expect((await r.resolve({ user: { token: await sign(idp, claims(), { typ: 'at+jwt' }) } })).deny).toBeUndefined();
    expect((await r.resolve({ task: { token: task } })).deny).toBeUndefined();
    expect((await r.resolve({ task: { token: user } })).deny).toMatchObject({ token: 'task', reason: 'wrong_kind' });
    expect((await r.resolve({ user: { token: task } })).deny).toMatchObject({ token: 'user', reason: 'wrong_kind' });
  });

  it('an audience rule: the kind audience is accepted for that kind only', async () => {
    const r = resolverFor(cfg());
    const agent = await sign(idp, claims({ sub: 'bot', aud: 'pdp-agents' }), { typ: 'JWT' });
    const ok = await r.resolve({ agent: { token: agent } });
    expect(ok.deny).toBeUndefined();
    expect(ok.input.agent).toMatchObject({ id: 'bot', assurance: 'verified' });
    expect((await r.resolve({ user: { token: agent } })).deny).toMatchObject({ token: 'user', reason: 'wrong_kind' });
    expect((await r.resolve({ agent: { token: await sign(idp, claims({ sub: 'bot' }), { typ: 'JWT' }) } })).deny).toMatchObject({ reason: 'wrong_kind' });
  });

  it('a token two rules match equally well is refused in both slots, never guessed', async () => {
    const r = resolverFor(issuer({ use_for: ['user', 'agent'], kinds: { user: { typ: 'JWT' }, agent: { audience: 'pdp-agents' } } }));
    const t = await sign(idp, claims({ sub: 'bot', aud: 'pdp-agents' }), { typ: 'JWT' });
    expect((await r.resolve({ agent: { token: t } })).deny).toMatchObject({ reason: 'wrong_kind' });
    expect((await r.resolve({ user: { token: t } })).deny).toMatchObject({ reason: 'wrong_kind' });
  });

  it('a rule for a kind the issuer is not used for is a configuration error naming the issuer', () => {
    expect(() => resolverFor(issuer({ use_for: ['user'], kinds: { task: { typ: 'JWT' } } }))).toThrow(/idp\.example\.com: kinds\.task .*not in use_for/);
    expect(() => resolverFor(issuer({ kinds: { user: {} } as never }))).toThrow(/kinds/);
  });
});

describe('pdp token --kind sets the typ of the kind', () => {
  it('mints user+jwt, agent+jwt, task+jwt and txntoken+jwt', async () => {
    const dir = tmpDir();
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    fs.writeFileSync(path.join(dir, 'idp.private.pem'), await exportPKCS8(privateKey));
    fs.writeFileSync(path.join(dir, 'idp.jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    try {
      for (const kind of ['user', 'agent', 'task', 'txn']) {
        expect(await pdpToken(['--key', path.join(dir, 'idp.private.pem'), '--sub', 'u-42', '--kind', kind, '--tools', 'billing/*'])).toBe(0);
      }
    } finally {
      spy.mockRestore();
    }
    expect(out.map((t) => decodeProtectedHeader(t.trim()).typ)).toEqual(['user+jwt', 'agent+jwt', 'task+jwt', 'txntoken+jwt']);
    // and signed low-S, so they pass identity.require_low_s
    for (const t of out) expect(isHighS('ES256', t.trim().split('.')[2])).toBe(false);
  });
});
