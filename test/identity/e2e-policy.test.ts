/**
 * Identity through a real policy: our compiler → wasm → WasmPolicy (the PDP's loader), behind the AuthZEN
 * endpoint with API-key caller auth. A valid user + agent token is allowed and the logged input shows the verified user; the same
 * request with the user token's signature altered is denied. The small `decide` below stands in for
 * DecisionService so the test sees exactly the input the policy got (test/server covers the real pipeline).
 */
import express from 'express';
import type { AddressInfo } from 'net';
import type { Server } from 'http';
import { WasmPolicy } from '../../src/engine/policy';
import { compile } from '../../src/compiler';
import { createIdentityResolver } from '../../src/identity';
import { mountAuthzen } from '../../src/server/authzen';
import { createCallerAuth, hashApiKey } from '../../src/server/caller-auth';
import type { DecisionMeta, DecisionResult } from '../../src/server/types';
import { alterSignature, makeKey, now, signAs, TestKey, tmpDir, writeJwks } from './helpers';

const POLICY = `package e2e
import rego.v1

default decision := {"allow": false, "reasons": [{"code": "e2e.identity_not_verified"}]}

decision := {"allow": true, "reasons": []} if {
  input.user.assurance == "verified"
  input.agent.assurance == "verified"
  input.agent.delegation[0].sub == input.agent.id
  input.agent.on_behalf_of == input.user.id
  input.tool.name == "refunds.create"
}
`;

const ISS = 'https://idp.example.com';
let idp: TestKey;
let server: Server;
let url = '';
const log: Record<string, any>[] = [];

beforeAll(async () => {
  idp = await makeKey('ES256', 'k1');
  const { wasm } = compile({ modules: [{ file: 'e2e.rego', source: POLICY }], entrypoints: ['e2e/decision'] });
  const policy = await WasmPolicy.load(wasm);
  let n = 0;
  async function decide(input: Record<string, unknown>, meta: DecisionMeta): Promise<DecisionResult> {
    const id = `d-${++n}`;
    let result: DecisionResult;
    if (meta.deny) result = { decision_id: id, allow: false, reasons: [meta.deny], obligations: {} };
    else {
      const rs = policy.evaluate('e2e/decision', input) as { result: { allow: boolean; reasons: any[] } }[];
      result = { decision_id: id, allow: rs[0]?.result.allow === true, reasons: rs[0]?.result.reasons ?? [], obligations: {} };
    }
    log.push({ decision_id: id, input, result, caller: meta.caller });
    return result;
  }
  const app = express();
  mountAuthzen(app, {
    decide,
    resolver: createIdentityResolver({ issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(tmpDir(), 'idp', [idp]), use_for: ['user', 'agent'] }] }),
    callerAuth: createCallerAuth({ mode: 'api_key', api_keys: [{ id: 'mcp-gateway', hash: hashApiKey('k-e2e') }] }, { address: '0.0.0.0', tls: false }),
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/access/v1/evaluation`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function ask(userToken: string, agentToken: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k-e2e' },
    body: JSON.stringify({
      subject: { type: 'user', id: 'u-42', properties: { token: userToken } },
      resource: { type: 'tool', id: 'billing/refunds.create' },
      action: { name: 'tools/call', properties: { amount: 120 } },
      context: { agent: { id: 'support-bot', token: agentToken } },
    }),
  });
  return { status: res.status, body: await res.json() };
}

test('valid user + agent tokens are allowed and the log shows the verified user; an altered signature is denied', async () => {
  const userToken = await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'u-42', exp: now() + 600 });
  const agentToken = await signAs(idp, 'agent', { iss: ISS, aud: 'pdp', sub: 'u-42', act: { sub: 'support-bot' }, exp: now() + 600 });

  const ok = await ask(userToken, agentToken);
  expect(ok).toEqual({ status: 200, body: { decision: true } });
  expect(log[0].input.user).toMatchObject({ id: 'u-42', verified: true, assurance: 'verified' });
  expect(log[0].caller).toEqual({ method: 'api_key', id: 'mcp-gateway' });
  expect(JSON.stringify(log[0])).not.toContain(userToken);

  const bad = await ask(alterSignature(userToken), agentToken);
  expect(bad.status).toBe(200);
  expect(bad.body.decision).toBe(false);
  expect(bad.body.context.reasons[0]).toMatchObject({ code: 'identity.invalid_token', token: 'user', reason: 'bad_signature' });
  expect(log[1].input.user).toMatchObject({ assurance: 'invalid', verified: false, claims: {} });

  // Without tokens the same policy denies: asserted identities are not verified ones.
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k-e2e' },
    body: JSON.stringify({ subject: { type: 'user', id: 'u-42' }, resource: { type: 'tool', id: 'billing/refunds.create' }, action: { name: 'tools/call' }, context: { agent: { id: 'support-bot' } } }),
  });
  expect(await res.json()).toEqual({ decision: false, context: { reasons: [{ code: 'e2e.identity_not_verified' }], decision_id: expect.any(String) } });
});
