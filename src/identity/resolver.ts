/**
 * From a raw /v1/decide body (DESIGN §3) to the decision input the policy sees.
 *
 * Every token is verified; tokens never reach the input. Each identity gets `claims` (verified claims
 * only, `{}` otherwise), `verified` and `assurance` (`verified` | `asserted` | `invalid`). A token that
 * fails makes the whole decision a deny (`identity.invalid_token`), whatever the policy would say. The
 * delegation rules are in docs/identity.md ("Delegation"); keep the two in step.
 */
import { flattenAct } from './delegation';
// keys from the body are copied with setKey (util/own-keys.ts): a "__proto__" key must stay a key, or
// the resolver and the policy would see different objects
import { setKey } from '../util/own-keys';
import { TokenVerifier, VerifyResult } from './verify';
import { ActorLink, CallerIdentity, HeaderBag, IdentityConfig, IdentityDeny, ResolveResult, TokenFailure } from './types';
import { assertValid, identityConfigSchema } from './schema';

type Obj = Record<string, unknown>;
type Slot = IdentityDeny['token'];

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);


/**
 * Fields the PDP computes; a caller may never supply them. Every field this file sets on an identity is
 * here (a body's copy is dropped before the PDP's own is set), so a policy can trust each of them.
 */
const RESERVED_IDENTITY_FIELDS = new Set([
  'token', 'claims', 'verified', 'assurance', 'issuer', 'delegation', 'delegation_form', 'delegation_assurance',
  'delegation_source', 'on_behalf_of', 'may_act', 'error', 'act',
]);
/** Task fields set from a verified task token only (`scope` is handled on its own: asserted or signed). */
const RESERVED_TASK_FIELDS = new Set(['scope', 'subject', 'jti', 'expires_at', 'asserted_scope_ignored']);
/** Top-level input fields the PDP computes from headers/authentication/approval verification, never from the body. */
const RESERVED_TOP_LEVEL = new Set(['user', 'agent', 'task', 'txn', 'caller', 'approval']);

export interface IdentityResolver {
  resolve(body: unknown, headers?: HeaderBag, caller?: CallerIdentity): Promise<ResolveResult>;
  readonly verifier: TokenVerifier;
}

class Collector {
  deny?: IdentityDeny;
  fail(token: Slot, reason: TokenFailure, message: string): { reason: TokenFailure; message: string } {
    if (!this.deny) {
      this.deny = { code: 'identity.invalid_token', token, reason, message: `${token} token rejected (${reason}): ${message}` };
    }
    return { reason, message };
  }
}

function baseIdentity(raw: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(raw)) if (!RESERVED_IDENTITY_FIELDS.has(k)) setKey(out, k, v);
  if (!isObj(out.attributes)) out.attributes = {};
  out.claims = {};
  out.verified = false;
  out.assurance = 'asserted';
  return out;
}

function markInvalid(target: Obj, err: { reason: TokenFailure; message: string }): void {
  target.claims = {};
  target.verified = false;
  target.assurance = 'invalid';
  target.error = { reason: err.reason, message: err.message };
}

function chainView(chain: ActorLink[]): Obj[] {
  return chain.map((l) => ({ sub: l.sub, ...(l.iss ? { iss: l.iss } : {}), claims: l.claims }));
}

/**
 * Build the resolver for an `identity` config section (validated here; throws a clear error on bad config).
 *
 * @example
 *   const r = createIdentityResolver({ issuers: [{ issuer: 'https://idp', audiences: ['pdp'],
 *     algorithms: ['ES256'], jwks_file: './keys/idp.jwks.json', use_for: ['user', 'agent', 'task', 'txn'] }] });
 *   const { input, deny } = await r.resolve(body, req.headers, caller);
 */
export function createIdentityResolver(config: IdentityConfig = {}, opts: { baseDir?: string } = {}): IdentityResolver {
  assertValid(identityConfigSchema, config, 'identity');
  const verifier = new TokenVerifier(config, opts);

  async function resolve(body: unknown, headers: HeaderBag = {}, caller?: CallerIdentity): Promise<ResolveResult> {
    const b: Obj = isObj(body) ? body : {};
    const c = new Collector();
    const input: Obj = {};
    for (const [k, v] of Object.entries(b)) if (!RESERVED_TOP_LEVEL.has(k)) setKey(input, k, v);

    // ---- user -------------------------------------------------------------------------------------
    let user: Obj | undefined;
    let userActChain: ActorLink[] = [];
    if (isObj(b.user)) {
      const raw = b.user;
      user = baseIdentity(raw);
      if (raw.token !== undefined) {
        const r = await verifier.verify(raw.token, 'user');
        if (!r.ok) markInvalid(user, c.fail('user', r.reason, r.message));
        else {
          const sub = r.claims.sub;
          if (typeof sub !== 'string' || sub === '') markInvalid(user, c.fail('user', 'missing_claim', 'token has no "sub" claim'));
          else if (typeof raw.id === 'string' && raw.id !== sub) {
            markInvalid(user, c.fail('user', 'subject_mismatch', `user.id ${JSON.stringify(raw.id)} differs from the token's sub ${JSON.stringify(sub)}`));
          } else {
            const chain = flattenAct(r.claims.act);
            if (!chain.ok) markInvalid(user, c.fail('user', 'invalid_claim', chain.message));
            else {
              Object.assign(user, { id: sub, claims: r.claims, verified: true, assurance: 'verified', issuer: r.issuer });
              if (r.claims.may_act !== undefined) user.may_act = r.claims.may_act;
              userActChain = chain.chain;
            }
          }
        }
      }
      // no token: the user stays `asserted` (baseIdentity), with or without an id
      input.user = user;
    }
    const userId = user && user.assurance !== 'invalid' && typeof user.id === 'string' ? user.id : undefined;

    // ---- agent ------------------------------------------------------------------------------------
    let agent: Obj | undefined;
    const rawAgent = isObj(b.agent) ? b.agent : undefined;
    if (rawAgent || userActChain.length > 0) {
      agent = baseIdentity(rawAgent ?? {});
      agent.delegation = [];
      agent.delegation_form = 'none';
      agent.delegation_assurance = 'none';
      const assertedId = rawAgent && typeof rawAgent.id === 'string' ? rawAgent.id : undefined;
      let agentChain: ActorLink[] | undefined;

      if (rawAgent && rawAgent.token !== undefined) {
        const r = await verifier.verify(rawAgent.token, 'agent');
        if (!r.ok) markInvalid(agent, c.fail('agent', r.reason, r.message));
        else applyAgentToken(agent, r, assertedId, userId, c);
        if (agent.assurance === 'verified') agentChain = agent.delegation as unknown as ActorLink[];
      }

      if (agent.assurance !== 'invalid' && userActChain.length > 0) {
        // The user's own token names the current actor (token exchange output presented as the user token).
        const current = userActChain[0].sub;
        if (agent.assurance === 'verified') {
          const agentCurrent = (agentChain && agentChain.length > 0 ? (agentChain[0] as unknown as Obj).sub : agent.id) as string;
          if (agentCurrent !== current) {
            markInvalid(agent, c.fail('agent', 'actor_mismatch', `the user token names ${JSON.stringify(current)} as the current actor, the agent token ${JSON.stringify(agentCurrent)}`));
          }
        } else if (assertedId !== undefined && assertedId !== current) {
          markInvalid(agent, c.fail('user', 'actor_mismatch', `agent.id ${JSON.stringify(assertedId)} differs from the current actor ${JSON.stringify(current)} in the user token`));
        } else {
          Object.assign(agent, {
            id: current, claims: userActChain[0].claims, verified: true, assurance: 'verified',
            delegation: chainView(userActChain), delegation_form: 'rfc8693', delegation_assurance: 'verified',
            delegation_source: 'user_token', on_behalf_of: userId,
          });
        }
      }

      // An asserted `act` (e.g. AuthZEN subject.properties.act) is shown, clearly marked as asserted.
      if (agent.assurance === 'asserted' && rawAgent && rawAgent.act !== undefined) {
        const chain = flattenAct(rawAgent.act);
        if (chain.ok && chain.chain.length > 0) {
          agent.delegation = chainView(chain.chain);
          agent.delegation_form = 'rfc8693';
          agent.delegation_assurance = 'asserted';
          if (agent.id === undefined) agent.id = chain.chain[0].sub;
        }
      }
      input.agent = agent;
    }

    // ---- task -------------------------------------------------------------------------------------
    if (isObj(b.task)) {
      const raw = b.task;
      const task: Obj = {};
      for (const [k, v] of Object.entries(raw)) if (!RESERVED_IDENTITY_FIELDS.has(k) && !RESERVED_TASK_FIELDS.has(k)) setKey(task, k, v);
      task.claims = {};
      task.verified = false;
      if (raw.token !== undefined) {
        const r = await verifier.verify(raw.token, 'task');
        const err = r.ok ? checkTaskClaims(r, userId, raw.id) : r;
        if (!err.ok) {
          markInvalid(task, c.fail('task', err.reason, err.message));
          task.scope = {};
        } else {
          const claims = r.ok ? r.claims : {};
          Object.assign(task, {
            claims, verified: true, assurance: 'verified', scope: claims.scope, subject: claims.sub, jti: claims.jti,
            expires_at: new Date((claims.exp as number) * 1000).toISOString(),
          });
          task.id = claims.jti;
          // An unsigned scope next to a signed one is ignored: only the signed grant counts.
          if (raw.scope !== undefined) task.asserted_scope_ignored = true;
        }
      } else {
        task.assurance = 'asserted';
        task.scope = isObj(raw.scope) ? raw.scope : {};
      }
      input.task = task;
    }

    // ---- Txn-Token header -------------------------------------------------------------------------
    const txnHeader = headerValue(headers, 'txn-token');
    if (txnHeader !== undefined) {
      const txn: Obj = { claims: {}, verified: false };
      const r: VerifyResult = Array.isArray(txnHeader)
        ? { ok: false, reason: 'malformed', message: 'more than one Txn-Token header' }
        : await verifier.verify(txnHeader, 'txn');
      if (!r.ok) markInvalid(txn, c.fail('txn', r.reason, r.message));
      else {
        const cl = r.claims;
        Object.assign(txn, {
          claims: cl, verified: true, assurance: 'verified', id: cl.txn, sub: cl.sub, scope: cl.scope,
          tctx: cl.tctx, rctx: cl.rctx, req_wl: cl.req_wl,
          subject_matches_user: userId === undefined || cl.sub === undefined ? null : cl.sub === userId,
        });
      }
      input.txn = txn;
    }

    input.caller = caller ?? { method: 'anonymous', id: 'anonymous' };
    return c.deny ? { input, deny: c.deny } : { input };
  }

  return { resolve, verifier };
}

/**
 * Read an agent token's subject and `act` chain. Rules (docs/identity.md, "Delegation"):
 *  1. no `act`: the token's `sub` is the agent; an `on_behalf_of` claim (string or {sub}) names the principal.
 *  2. `act` present, RFC 8693 reading: `sub` is the principal, the outermost `act.sub` the current actor (the agent).
 *  3. `act` present, `sub` is the agent and the single `act` names the request's user: the "agent-subject"
 *     form some IdPs issue. It is normalised to rule 2 (principal = that user, current actor = the agent).
 *     Any other use of `act` in a token whose `sub` is the agent is refused (actor_mismatch / ambiguous).
 */
function applyAgentToken(agent: Obj, r: Extract<VerifyResult, { ok: true }>, assertedId: string | undefined, userId: string | undefined, c: Collector): void {
  const sub = r.claims.sub;
  if (typeof sub !== 'string' || sub === '') return markInvalid(agent, c.fail('agent', 'missing_claim', 'token has no "sub" claim'));
  const flat = flattenAct(r.claims.act);
  if (!flat.ok) return markInvalid(agent, c.fail('agent', 'invalid_claim', flat.message));
  const chain = flat.chain;
  let agentId: string;
  let principal: string | undefined;
  let delegation: Obj[] = [];
  let form: string;

  if (chain.length === 0) {
    if (assertedId !== undefined && assertedId !== sub) {
      return markInvalid(agent, c.fail('agent', 'subject_mismatch', `agent.id ${JSON.stringify(assertedId)} differs from the token's sub ${JSON.stringify(sub)}`));
    }
    agentId = sub;
    const obo = r.claims.on_behalf_of;
    principal = typeof obo === 'string' ? obo : isObj(obo) && typeof obo.sub === 'string' ? obo.sub : undefined;
    form = principal !== undefined ? 'agent_subject' : 'none';
    if (principal !== undefined) delegation = [{ sub: agentId, iss: r.issuer, claims: {} }];
  } else {
    const agentIsSubject = assertedId !== undefined ? assertedId === sub : userId !== undefined && chain[0].sub === userId && sub !== userId;
    if (agentIsSubject) {
      if (userId === undefined || chain[0].sub !== userId) {
        return markInvalid(agent, c.fail('agent', 'actor_mismatch', `the token's sub is the agent but its current actor ${JSON.stringify(chain[0].sub)} is not the request's user`));
      }
      if (chain.length > 1) {
        return markInvalid(agent, c.fail('agent', 'ambiguous_delegation', 'a token whose sub is the agent may name only the user in a single "act"; nested actors are ambiguous'));
      }
      agentId = sub;
      principal = chain[0].sub;
      delegation = [{ sub: agentId, iss: r.issuer, claims: {} }];
      form = 'agent_subject';
    } else {
      if (assertedId !== undefined && assertedId !== chain[0].sub) {
        return markInvalid(agent, c.fail('agent', 'actor_mismatch', `agent.id ${JSON.stringify(assertedId)} is not the token's current actor ${JSON.stringify(chain[0].sub)}`));
      }
      agentId = chain[0].sub;
      principal = sub;
      delegation = chainView(chain);
      form = 'rfc8693';
    }
  }
  if (principal !== undefined && userId !== undefined && principal !== userId) {
    return markInvalid(agent, c.fail('agent', 'principal_mismatch', `the agent acts for ${JSON.stringify(principal)}, not for the request's user ${JSON.stringify(userId)}`));
  }
  Object.assign(agent, {
    id: agentId, claims: r.claims, verified: true, assurance: 'verified', issuer: r.issuer,
    delegation, delegation_form: form, delegation_assurance: delegation.length > 0 ? 'verified' : 'none',
    delegation_source: 'agent_token',
  });
  if (principal !== undefined) agent.on_behalf_of = principal;
}

function checkTaskClaims(r: Extract<VerifyResult, { ok: true }>, userId: string | undefined, assertedId: unknown): VerifyResult {
  const scope = r.claims.scope;
  if (!isObj(scope)) return { ok: false, reason: 'invalid_scope', message: '"scope" must be an object {tools, data_domains, constraints}' };
  for (const k of ['tools', 'data_domains'] as const) {
    const v = scope[k];
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      return { ok: false, reason: 'invalid_scope', message: `scope.${k} must be a list of strings` };
    }
  }
  if (scope.constraints !== undefined && !isObj(scope.constraints)) {
    return { ok: false, reason: 'invalid_scope', message: 'scope.constraints must be an object' };
  }
  // The task id is what an approval's action digest and a Txn-Token's tctx.task bind to: with a signed task
  // it is the token's jti, and a body naming another one would move an approval to another task.
  if (assertedId !== undefined && assertedId !== r.claims.jti) {
    return { ok: false, reason: 'subject_mismatch', message: `task.id ${JSON.stringify(assertedId)} is not the task token's jti ${JSON.stringify(r.claims.jti)}` };
  }
  if (userId !== undefined && r.claims.sub !== userId) {
    return { ok: false, reason: 'subject_mismatch', message: `the task was granted to ${JSON.stringify(r.claims.sub)}, not to the request's user ${JSON.stringify(userId)}` };
  }
  return r;
}

function headerValue(headers: HeaderBag, name: string): string | string[] | undefined {
  if (name in headers) return headers[name];
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}
