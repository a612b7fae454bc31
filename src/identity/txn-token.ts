/**
 * Transaction tokens the PDP mints for allowed `tools/call`s (draft-ietf-oauth-transaction-tokens): what
 * the gateway forwards to the tool server in the `Txn-Token` header, so the server learns — verifiably —
 * for whom and by which agent it is called, for which call, without ever seeing the agent's credentials.
 *
 *   header  { typ: "txntoken+jwt", alg, kid }
 *   claims  iss (the PDP), aud (the upstream server name), iat, exp (tens of seconds),
 *           txn (the decision_id), sub (the verified user), act (the delegation chain, current actor
 *           outermost), req_wl (the enforcement point that asked), tctx {server, tool, method, task,
 *           action_digest}
 *
 * Minted only when the user is verified: a Txn-Token vouches for the person, and the PDP vouches only for
 * what it has verified. The tool-server side is src/pep/txn-token-verify.ts.
 */
import { actionDigest, actionOf } from './action-digest';
import type { PdpSigner } from './pdp-signer';
import { TXN_TOKEN_TYP } from './verify';

export { TXN_TOKEN_TYP };

export interface TxnTokenSettings {
  /** lifetime in seconds (default 30): long enough for one forwarded call */
  ttl_seconds?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 8693 nested `act` from a chain given current actor first: the current actor is outermost. */
export function nestAct(chain: string[]): Obj | undefined {
  let act: Obj | undefined;
  for (const sub of [...chain].reverse()) act = act ? { sub, act } : { sub };
  return act;
}

/** The actors of the call, current first, from the verified agent of a resolved input. */
function actorsOf(input: Obj): string[] {
  const agent = isObj(input.agent) ? input.agent : undefined;
  if (!agent || agent.verified !== true) return [];
  const chain = Array.isArray(agent.delegation) ? agent.delegation.map((l) => (isObj(l) ? l.sub : undefined)).filter((s): s is string => typeof s === 'string') : [];
  if (chain.length > 0) return chain;
  return typeof agent.id === 'string' ? [agent.id] : [];
}

/**
 * A Txn-Token for an allowed call, or undefined when the call has no verified user or no server name
 * (there would be nobody to vouch for, or no audience to address it to).
 */
export async function mintTxnToken(signer: PdpSigner, input: Obj, decisionId: string, settings: TxnTokenSettings = {}): Promise<string | undefined> {
  const user = isObj(input.user) ? input.user : undefined;
  const tool = isObj(input.tool) ? input.tool : undefined;
  if (!user || user.verified !== true || typeof user.id !== 'string') return undefined;
  if (!tool || typeof tool.server !== 'string' || tool.server === '') return undefined;
  const action = actionOf(input);
  const actors = actorsOf(input);
  // the digest binds the token to this call; its actor is the current actor the chain names
  const digest = actionDigest({ ...action, actor: actors[0] ?? null });
  const caller = isObj(input.caller) && typeof input.caller.id === 'string' ? input.caller.id : undefined;
  const act = nestAct(actors);
  return signer.sign(
    {
      txn: decisionId,
      sub: user.id,
      ...(act ? { act } : {}),
      ...(caller ? { req_wl: caller } : {}),
      tctx: { server: action.server, tool: action.tool, method: action.method, task: action.task, action_digest: digest },
    },
    { typ: TXN_TOKEN_TYP, audience: tool.server, ttlSeconds: settings.ttl_seconds ?? 30 },
  );
}

/** A tools/call as the side that forwards or receives it knows it. */
export interface ForwardedCall {
  /** the upstream server's name (the token's audience) */
  server: string;
  /** the MCP tool name */
  name: string;
  /** the call's arguments as sent (`{}` when absent) */
  arguments?: unknown;
}

/**
 * The digest a Txn-Token must carry for `call`: the call's own server, tool and arguments, with the
 * person, current actor and task the token names. Used by the client library (on the PDP's answer, before
 * anything is forwarded) and by verifyTxnToken (at the tool server, on what actually arrived).
 */
export function txnTokenDigestFor(claims: Record<string, unknown>, call: ForwardedCall): string {
  const act = isObj(claims.act) ? claims.act : undefined;
  const tctx = isObj(claims.tctx) ? claims.tctx : {};
  return actionDigest({
    server: call.server,
    tool: call.name,
    method: 'tools/call',
    parameters: call.arguments === undefined ? {} : call.arguments,
    user: typeof claims.sub === 'string' ? claims.sub : null,
    actor: act && typeof act.sub === 'string' ? act.sub : null,
    task: typeof tctx.task === 'string' ? tctx.task : null,
  });
}

/** The delegation chain of a token's nested `act`, current actor first. */
export function actorsOfAct(act: unknown): string[] {
  const out: string[] = [];
  let cur = act;
  while (isObj(cur) && typeof cur.sub === 'string' && out.length < 16) {
    out.push(cur.sub);
    cur = cur.act;
  }
  return out;
}
