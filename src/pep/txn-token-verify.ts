/**
 * For tool servers behind the gateway: verify the `Txn-Token` a call arrives with, and learn from it who
 * the call is for and which agent makes it. The token is signed by the PDP (keys at its
 * /.well-known/jwks.json) for this one call.
 *
 * @example
 * const jwks = txnTokenKeys('http://pdp:8181/.well-known/jwks.json');
 * mcp.registerTool('refunds.create', { inputSchema }, async (args, extra) => {
 *   const t = await verifyTxnToken(extra.requestInfo?.headers['txn-token'], { server: 'billing', name: 'refunds.create', arguments: args },
 *                                  { keys: jwks, issuer: 'https://pdp.example.com' });
 *   if (!t.ok) throw new Error(`refused: ${t.reason}`);
 *   console.log(`refund for ${t.person}, made by ${t.actor}`);
 * });
 *
 * Refused (never thrown): a missing, repeated, malformed, expired or not-yet-valid token, a bad signature,
 * another issuer, a token addressed to another server (`aud`), another `typ`, and a token whose action
 * digest does not match the call it came with (other tool, other arguments).
 */
import { createLocalJWKSet, createRemoteJWKSet, JSONWebKeySet, JWTVerifyGetKey, jwtVerify } from 'jose';
import { actorsOfAct, ForwardedCall, txnTokenDigestFor, TXN_TOKEN_TYP } from '../identity/txn-token';
import { mapJoseError } from '../identity/verify';

export interface TxnTokenVerifyOptions {
  /** the PDP's keys: from txnTokenKeys(url or JWKS) */
  keys: JWTVerifyGetKey;
  /** the PDP's `signing.issuer` */
  issuer: string;
  /** seconds of clock skew tolerated (default 5: these tokens live tens of seconds) */
  clockToleranceSeconds?: number;
}

export type TxnTokenResult =
  | {
      ok: true;
      /** the originating person (`sub`) */
      person: string;
      /** the current actor (outermost `act`), when an agent is named */
      actor?: string;
      /** the whole delegation chain, current actor first */
      delegation: string[];
      /** the transaction id: the PDP's decision_id */
      txn: string;
      task?: string;
      claims: Record<string, unknown>;
    }
  | { ok: false; reason: string; message: string };

/** The PDP's key set, from its JWKS URL (fetched and cached by jose) or a JWKS object. */
export function txnTokenKeys(source: string | URL | JSONWebKeySet): JWTVerifyGetKey {
  if (typeof source === 'string' || source instanceof URL) return createRemoteJWKSet(new URL(String(source)));
  return createLocalJWKSet(source);
}

const refuse = (reason: string, message: string): TxnTokenResult => ({ ok: false, reason, message });

export async function verifyTxnToken(header: string | string[] | undefined, call: ForwardedCall, opts: TxnTokenVerifyOptions): Promise<TxnTokenResult> {
  if (header === undefined || header === '') return refuse('missing', 'the call carries no Txn-Token');
  if (Array.isArray(header)) return refuse('malformed', 'the call carries more than one Txn-Token');
  if (header.length > 16 * 1024) return refuse('malformed', 'the Txn-Token is too long');
  let claims: Record<string, unknown>;
  try {
    const r = await jwtVerify(header, opts.keys, {
      issuer: opts.issuer,
      // addressed to this server and no other: a token replayed to another server fails here
      audience: call.server,
      typ: TXN_TOKEN_TYP,
      clockTolerance: opts.clockToleranceSeconds ?? 5,
      requiredClaims: ['exp', 'iat', 'sub', 'txn', 'tctx'],
    });
    claims = r.payload as Record<string, unknown>;
  } catch (e) {
    if ((e as { claim?: string }).claim === 'typ') return refuse('wrong_kind', `the token is not a ${TXN_TOKEN_TYP}`);
    const m = mapJoseError(e, opts.issuer);
    return m.ok ? refuse('bad_signature', 'token could not be verified') : refuse(m.reason, m.message);
  }
  let expected: string;
  try {
    expected = txnTokenDigestFor(claims, call);
  } catch (e) {
    return refuse('malformed', `the call's arguments cannot be canonicalised: ${(e as Error).message}`);
  }
  const tctx = claims.tctx as Record<string, unknown>;
  if (tctx.action_digest !== expected) {
    return refuse('digest_mismatch', 'the Txn-Token was issued for another call (tool, arguments, person, agent or task differ)');
  }
  const delegation = actorsOfAct(claims.act);
  return {
    ok: true,
    person: claims.sub as string,
    ...(delegation[0] ? { actor: delegation[0] } : {}),
    delegation,
    txn: String(claims.txn),
    ...(typeof tctx.task === 'string' ? { task: tctx.task } : {}),
    claims,
  };
}
