/** What the policy sees: assurance, verified claims only, delegation chains, task scope, Txn-Token. */
import { createIdentityResolver, IdentityConfig, IdentityResolver } from '../../src/identity';
import { makeKey, now, sign, signAs, TestKey, tmpDir, writeJwks } from './helpers';

const ISS = 'https://idp.example.com';
let idp: TestKey;
let r: IdentityResolver;
const caller = { method: 'api_key', id: 'gateway-1' };

beforeAll(async () => {
  idp = await makeKey('ES256', 'k1');
  const config: IdentityConfig = {
    issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(tmpDir(), 'idp', [idp]), use_for: ['user', 'agent', 'task', 'txn'] }],
  };
  r = createIdentityResolver(config);
});

const claims = (extra: Record<string, unknown>) => ({ iss: ISS, aud: 'pdp', iat: now(), exp: now() + 600, ...extra });
const tok = (extra: Record<string, unknown>, header: Record<string, unknown> = {}) => sign(idp, claims(extra), header);
// one issuer signs every kind here, so each token carries its kind's typ (docs/identity.md, "Token kinds")
const userTok = (extra: Record<string, unknown>) => signAs(idp, 'user', claims(extra));
const agentTok = (extra: Record<string, unknown>) => signAs(idp, 'agent', claims(extra));
const taskTok = (extra: Record<string, unknown>) => signAs(idp, 'task', claims(extra));
type O = Record<string, any>;

describe('assurance and claims', () => {
  test('asserted identities carry no claims, and caller-supplied claims/verified are ignored', async () => {
    const { input, deny } = await r.resolve(
      { user: { id: 'u-1', claims: { role: 'admin' }, verified: true, assurance: 'verified', attributes: { dept: 'x' } }, agent: { id: 'bot' }, tool: { name: 't' } },
      {},
      caller,
    );
    expect(deny).toBeUndefined();
    expect(input.user).toEqual({ id: 'u-1', attributes: { dept: 'x' }, claims: {}, verified: false, assurance: 'asserted' });
    expect(input.agent).toMatchObject({ id: 'bot', claims: {}, verified: false, assurance: 'asserted', delegation: [] });
    expect(input.caller).toEqual(caller);
    expect(input.tool).toEqual({ name: 't' });
  });

  test('every field the resolver sets is dropped from the body first (delegation_source, task expiry/subject/jti)', async () => {
    const { input } = await r.resolve(
      {
        agent: { id: 'bot', delegation_source: 'agent_token', on_behalf_of: 'u-1', delegation_form: 'rfc8693' },
        task: { id: 't-7', expires_at: '2099-01-01T00:00:00Z', subject: 'u-1', jti: 'j', asserted_scope_ignored: true, verified: true, assurance: 'verified' },
        tool: { name: 't' },
      },
      {},
      caller,
    );
    expect(input.agent).not.toHaveProperty('delegation_source');
    expect(input.agent).toMatchObject({ delegation_form: 'none', assurance: 'asserted' });
    expect(input.agent).not.toHaveProperty('on_behalf_of');
    expect(input.task).toEqual({ id: 't-7', claims: {}, verified: false, assurance: 'asserted', scope: {} });
  });

  test('a caller cannot inject input.caller or input.txn through the body', async () => {
    const { input } = await r.resolve({ caller: { id: 'root' }, txn: { verified: true }, tool: { name: 't' } }, {}, caller);
    expect(input.caller).toEqual(caller);
    expect(input.txn).toBeUndefined();
  });

  test('user.id that differs from the token sub is a deny (subject_mismatch)', async () => {
    const { deny } = await r.resolve({ user: { id: 'u-2', token: await userTok({ sub: 'u-1' }) } });
    expect(deny).toMatchObject({ code: 'identity.invalid_token', token: 'user', reason: 'subject_mismatch' });
  });

  test('may_act in the user token is exposed', async () => {
    const { input } = await r.resolve({ user: { token: await userTok({ sub: 'u-1', may_act: { sub: 'bot' } }) } });
    expect((input.user as O).may_act).toEqual({ sub: 'bot' });
  });
});

describe('delegation (RFC 8693 act)', () => {
  test('a 3-deep act chain becomes agent.delegation, current actor first', async () => {
    const agentToken = await agentTok({
      sub: 'u-42',
      act: { sub: 'support-bot', client_id: 'c1', act: { sub: 'planner-agent', act: { sub: 'orchestrator' } } },
    });
    const { input, deny } = await r.resolve({ user: { token: await userTok({ sub: 'u-42' }) }, agent: { token: agentToken } });
    expect(deny).toBeUndefined();
    const agent = input.agent as O;
    expect(agent.id).toBe('support-bot');
    expect(agent.on_behalf_of).toBe('u-42');
    expect(agent.delegation_form).toBe('rfc8693');
    expect(agent.delegation_assurance).toBe('verified');
    expect(agent.delegation.map((l: O) => l.sub)).toEqual(['support-bot', 'planner-agent', 'orchestrator']);
    expect(agent.delegation[0].claims).toEqual({ sub: 'support-bot', client_id: 'c1' });
    expect(agent).toMatchObject({ verified: true, assurance: 'verified' });
  });

  test('agent.id that is not the current actor is a deny (actor_mismatch)', async () => {
    const agentToken = await agentTok({ sub: 'u-42', act: { sub: 'support-bot', act: { sub: 'planner-agent' } } });
    const { deny } = await r.resolve({ agent: { id: 'planner-agent', token: agentToken } });
    expect(deny).toMatchObject({ token: 'agent', reason: 'actor_mismatch' });
  });

  test('an agent acting for someone other than the verified user is a deny (principal_mismatch)', async () => {
    const { deny } = await r.resolve({
      user: { token: await userTok({ sub: 'u-42' }) },
      agent: { token: await agentTok({ sub: 'u-99', act: { sub: 'support-bot' } }) },
    });
    expect(deny).toMatchObject({ token: 'agent', reason: 'principal_mismatch' });
  });

  test('agent-subject form: sub is the agent, act names the user — normalised to one hop', async () => {
    const { input, deny } = await r.resolve({
      user: { token: await userTok({ sub: 'u-42' }) },
      agent: { id: 'support-bot', token: await agentTok({ sub: 'support-bot', act: { sub: 'u-42' } }) },
    });
    expect(deny).toBeUndefined();
    const agent = input.agent as O;
    expect(agent).toMatchObject({ id: 'support-bot', on_behalf_of: 'u-42', delegation_form: 'agent_subject' });
    expect(agent.delegation.map((l: O) => l.sub)).toEqual(['support-bot']);
  });

  test('agent-subject form without agent.id is recognised from the verified user', async () => {
    const { input, deny } = await r.resolve({
      user: { token: await userTok({ sub: 'u-42' }) },
      agent: { token: await agentTok({ sub: 'support-bot', act: { sub: 'u-42' } }) },
    });
    expect(deny).toBeUndefined();
    expect(input.agent).toMatchObject({ id: 'support-bot', on_behalf_of: 'u-42', delegation_form: 'agent_subject' });
  });

  test('agent-subject form with nested actors is refused (ambiguous_delegation)', async () => {
    const { deny } = await r.resolve({
      user: { token: await userTok({ sub: 'u-42' }) },
      agent: { id: 'support-bot', token: await agentTok({ sub: 'support-bot', act: { sub: 'u-42', act: { sub: 'x' } } }) },
    });
    expect(deny).toMatchObject({ reason: 'ambiguous_delegation' });
  });

  test('sub is the agent but act names a third party: refused (actor_mismatch)', async () => {
    const { deny } = await r.resolve({
      user: { id: 'u-42' },
      agent: { id: 'support-bot', token: await agentTok({ sub: 'support-bot', act: { sub: 'other-agent' } }) },
    });
    expect(deny).toMatchObject({ reason: 'actor_mismatch' });
  });

  test('on_behalf_of claim in an agent token without act', async () => {
    const { input, deny } = await r.resolve({ user: { id: 'u-42' }, agent: { token: await agentTok({ sub: 'bot', on_behalf_of: 'u-42' }) } });
    expect(deny).toBeUndefined();
    expect(input.agent).toMatchObject({ id: 'bot', on_behalf_of: 'u-42', delegation_form: 'agent_subject' });
  });

  test('a plain agent token (no act) has an empty delegation', async () => {
    const { input } = await r.resolve({ agent: { token: await agentTok({ sub: 'bot' }) } });
    expect(input.agent).toMatchObject({ id: 'bot', delegation: [], delegation_form: 'none', delegation_assurance: 'none' });
  });

  test('act in the user token (token exchange output) gives the agent and its chain', async () => {
    const { input, deny } = await r.resolve({ user: { token: await userTok({ sub: 'u-42', act: { sub: 'bot', act: { sub: 'planner' } } }) } });
    expect(deny).toBeUndefined();
    const agent = input.agent as O;
    expect(agent).toMatchObject({ id: 'bot', verified: true, delegation_source: 'user_token', on_behalf_of: 'u-42' });
    expect(agent.delegation.map((l: O) => l.sub)).toEqual(['bot', 'planner']);
  });

  test('an asserted act (no token) is shown but marked asserted', async () => {
    const { input } = await r.resolve({ agent: { act: { sub: 'bot', act: { sub: 'planner' } } } });
    const agent = input.agent as O;
    expect(agent).toMatchObject({ id: 'bot', verified: false, assurance: 'asserted', delegation_assurance: 'asserted' });
    expect(agent.delegation.map((l: O) => l.sub)).toEqual(['bot', 'planner']);
  });

  test('a malformed act claim is a deny', async () => {
    const { deny } = await r.resolve({ agent: { token: await agentTok({ sub: 'u', act: { client: 'x' } }) } });
    expect(deny).toMatchObject({ reason: 'invalid_claim' });
  });
});

describe('task scope', () => {
  const scope = { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 200 } };

  test('a verified task token gives input.task.scope; a body scope next to it is ignored', async () => {
    const t = await taskTok({ sub: 'u-42', scope, jti: 't-7' });
    const { input, deny } = await r.resolve({
      user: { id: 'u-42' },
      task: { id: 't-7', token: t, scope: { tools: ['*'] } },
    });
    expect(deny).toBeUndefined();
    expect(input.task).toMatchObject({ id: 't-7', scope, assurance: 'verified', verified: true, jti: 't-7', asserted_scope_ignored: true });
    expect((input.task as O).token).toBeUndefined();
  });

  test('with a task token the task id is its jti: a body id naming another task is refused', async () => {
    // approvals and Txn-Tokens are bound to input.task.id: a caller must not choose it
    const t = await taskTok({ sub: 'u-42', scope, jti: 'grant-1' });
    const { deny } = await r.resolve({ user: { id: 'u-42' }, task: { id: 't-7', token: t } });
    expect(deny).toMatchObject({ code: 'identity.invalid_token', token: 'task', reason: 'subject_mismatch' });
    const ok = await r.resolve({ user: { id: 'u-42' }, task: { token: t } });
    expect(ok.deny).toBeUndefined();
    expect(ok.input.task).toMatchObject({ id: 'grant-1', jti: 'grant-1' });
  });

  test('an unsigned scope is asserted', async () => {
    const { input } = await r.resolve({ task: { id: 't', scope } });
    expect(input.task).toMatchObject({ scope, assurance: 'asserted', verified: false, claims: {} });
  });

  test('a task granted to another user is a deny', async () => {
    const { deny } = await r.resolve({ user: { id: 'u-1' }, task: { token: await taskTok({ sub: 'u-2', scope, jti: 'j' }) } });
    expect(deny).toMatchObject({ token: 'task', reason: 'subject_mismatch' });
  });

  test('a task token without jti, or with a string scope, is a deny', async () => {
    expect((await r.resolve({ task: { token: await taskTok({ sub: 'u', scope }) } })).deny).toMatchObject({ reason: 'missing_claim' });
    expect((await r.resolve({ task: { token: await taskTok({ sub: 'u', scope: 'read write', jti: 'j' }) } })).deny).toMatchObject({ reason: 'invalid_scope' });
  });
});

describe('Txn-Token header', () => {
  test('a valid Txn-Token becomes input.txn', async () => {
    const t = await tok({ sub: 'u-42', txn: 'txn-1', scope: 'refund', tctx: { amount: 5 }, req_wl: 'gateway' }, { typ: 'txntoken+jwt' });
    const { input, deny } = await r.resolve({ user: { id: 'u-42' } }, { 'txn-token': t });
    expect(deny).toBeUndefined();
    expect(input.txn).toMatchObject({ verified: true, assurance: 'verified', id: 'txn-1', tctx: { amount: 5 }, req_wl: 'gateway', subject_matches_user: true });
  });

  test('a Txn-Token without typ txntoken+jwt is refused', async () => {
    const { deny } = await r.resolve({}, { 'Txn-Token': await tok({ sub: 'u', txn: 'x' }) });
    expect(deny).toMatchObject({ token: 'txn', reason: 'wrong_kind' });
  });

  test('an expired Txn-Token is refused', async () => {
    const t = await tok({ sub: 'u', txn: 'x', exp: now() - 100 }, { typ: 'txntoken+jwt' });
    expect((await r.resolve({}, { 'txn-token': t })).deny).toMatchObject({ token: 'txn', reason: 'expired' });
  });
});
