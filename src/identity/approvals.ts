/**
 * Approvals that are proofs: a person's "yes" to exactly one call, signed by the PDP, checked by the PDP.
 *
 *  1. A decision that needs approval answers with an *approval request*: a JWT the PDP signs
 *     (typ `approval-request+jwt`) holding the action (server, tool, parameters, user, agent, task), its
 *     digest and the policy's summary. It is the `<request>` in the approval link `/approvals/<request>`,
 *     so the page shows what the PDP signed and nothing a link-maker could swap in; no state is kept.
 *  2. On the page, the person signs in (their IdP token) and approves: the PDP signs an *approval*
 *     (typ `approval+jwt`): `sub` = the person, `action_digest`, `jti`, a short `exp`.
 *  3. The retried call carries it (`approval: {token}` in /v1/decide); the PDP verifies it like any token
 *     and that its digest is the digest of the call being decided and its `sub` the call's user. Only
 *     then does the policy see `input.approval.verified == true`.
 *
 * A stateless PDP cannot tell a first use from a second: an approval can be replayed for the same call
 * until it expires. Keep `ttl_seconds` short; every use is logged with the approval's `jti`.
 */
import { randomUUID } from 'crypto';
import { Action, actionDigest, actionOf } from './action-digest';
import { CanonicalJsonError } from './jcs';
import type { PdpSigner } from './pdp-signer';

export const APPROVAL_TYP = 'approval+jwt';
export const APPROVAL_REQUEST_TYP = 'approval-request+jwt';
/** `aud` of approvals and of approval requests: this PDP's approval service, nobody else. */
export const APPROVAL_AUDIENCE = 'pdp-approvals';

export interface ApprovalSettings {
  /** lifetime of an approval (default 300 s): how long a replay for the same call remains possible */
  ttl_seconds?: number;
  /** how long an approval link can be used (default 900 s) */
  request_ttl_seconds?: number;
  /** base URL of approval links, e.g. https://pdp.example.com (default: from the decide request's Host) */
  public_url?: string;
}

/** What the policy sees as `input.approval`. */
export type ApprovalFact =
  | { verified: true; approved_by: string; approved_at: string; jti: string; expires_at: string }
  | { verified: false; error: { reason: string; message: string } };

/** The approval request as the page reads it back. */
export interface ApprovalRequest {
  action: Action;
  action_digest: string;
  summary: string;
  decision_id?: string;
  expires_at: string;
  /** when the PDP issued the request (seconds): the person must sign in after it (approvals-page.ts) */
  issued_at: number;
}

/** Part of the /v1/decide answer when a call waits for approval. */
export interface ApprovalRequestAnswer {
  url: string;
  action_digest: string;
  summary: string;
  expires_at: string;
}

const MAX_SUMMARY = 2000;
/** Node refuses request lines over 16 KiB; leave room for the other headers. */
export const MAX_LINK = 12 * 1024;

export class Approvals {
  readonly ttl: number;
  readonly requestTtl: number;

  constructor(
    readonly signer: PdpSigner,
    readonly settings: ApprovalSettings = {},
  ) {
    this.ttl = settings.ttl_seconds ?? 300;
    this.requestTtl = settings.request_ttl_seconds ?? 900;
  }

  /** The signed approval request for a decision input (after identity resolution) and the link to it. */
  async request(input: Record<string, unknown>, summary: string, decisionId: string, baseUrl: string): Promise<ApprovalRequestAnswer> {
    const action = actionOf(input);
    const digest = actionDigest(action);
    const text = summary.slice(0, MAX_SUMMARY);
    const token = await this.signer.sign(
      { action, action_digest: digest, summary: text, decision_id: decisionId },
      { typ: APPROVAL_REQUEST_TYP, audience: APPROVAL_AUDIENCE, ttlSeconds: this.requestTtl },
    );
    const base = (this.settings.public_url ?? baseUrl).replace(/\/+$/, '');
    const url = `${base}/approvals/${token}`;
    // the link carries the call: one that does not fit in a URL a server accepts cannot be approved this way
    if (url.length > MAX_LINK) throw new Error(`the call's parameters are too large for an approval link (${url.length} > ${MAX_LINK} characters)`);
    return { url, action_digest: digest, summary: text, expires_at: isoIn(this.requestTtl) };
  }

  /** Read back an approval request from a link. The digest is recomputed, not trusted from the token. */
  async readRequest(token: string): Promise<{ ok: true; request: ApprovalRequest } | { ok: false; reason: string; message: string }> {
    const r = await this.signer.verify(token, { typ: APPROVAL_REQUEST_TYP, audience: APPROVAL_AUDIENCE, requiredClaims: ['action'] });
    if (!r.ok) return { ok: false, reason: r.reason, message: `this approval link is not valid: ${r.message}` };
    const action = r.claims.action as Action;
    let digest: string;
    try {
      digest = actionDigest(action);
    } catch (e) {
      return { ok: false, reason: 'malformed', message: `this approval link holds no valid action: ${(e as Error).message}` };
    }
    return {
      ok: true,
      request: {
        action,
        action_digest: digest,
        summary: typeof r.claims.summary === 'string' ? r.claims.summary : '',
        decision_id: typeof r.claims.decision_id === 'string' ? r.claims.decision_id : undefined,
        expires_at: new Date((r.claims.exp as number) * 1000).toISOString(),
        issued_at: typeof r.claims.iat === 'number' ? r.claims.iat : Math.floor(Date.now() / 1000),
      },
    };
  }

  /** Sign the approval of `request` by `person` (already verified as the request's user by the caller). */
  async approve(request: ApprovalRequest, person: string): Promise<{ token: string; jti: string; expires_at: string }> {
    if (request.action.user === null || person !== request.action.user) {
      throw new Error(`only ${request.action.user ?? 'the call\'s user'} can approve this call`);
    }
    const jti = randomUUID();
    const token = await this.signer.sign(
      { sub: person, action_digest: request.action_digest, jti, ...(request.decision_id ? { decision_id: request.decision_id } : {}) },
      { typ: APPROVAL_TYP, audience: APPROVAL_AUDIENCE, ttlSeconds: this.ttl },
    );
    return { token, jti, expires_at: isoIn(this.ttl) };
  }

  /** Verify an approval given with a call: signature, typ, iss, aud, exp, and that it approves this very call. */
  async verify(token: unknown, input: Record<string, unknown>): Promise<ApprovalFact> {
    const r = await this.signer.verify(token, { typ: APPROVAL_TYP, audience: APPROVAL_AUDIENCE, requiredClaims: ['sub', 'jti', 'action_digest', 'iat'] });
    if (!r.ok) return refused(r.reason, `approval rejected (${r.reason}): ${r.message}`);
    let digest: string;
    try {
      digest = actionDigest(actionOf(input));
    } catch (e) {
      if (e instanceof CanonicalJsonError) return refused('malformed', `the call's parameters cannot be canonicalised: ${e.message}`);
      throw e;
    }
    if (r.claims.action_digest !== digest) {
      return refused('digest_mismatch', 'the approval is for a different call (server, tool, parameters, user, agent or task differ)');
    }
    const user = (input.user as { id?: unknown } | undefined)?.id;
    if (typeof user !== 'string' || r.claims.sub !== user) {
      return refused('subject_mismatch', `the approval was given by ${JSON.stringify(r.claims.sub)}, not by the call's user`);
    }
    return {
      verified: true,
      approved_by: r.claims.sub as string,
      approved_at: new Date((r.claims.iat as number) * 1000).toISOString(),
      jti: String(r.claims.jti),
      expires_at: new Date((r.claims.exp as number) * 1000).toISOString(),
    };
  }
}

function refused(reason: string, message: string): ApprovalFact {
  return { verified: false, error: { reason, message } };
}

function isoIn(seconds: number): string {
  return new Date((Math.floor(Date.now() / 1000) + seconds) * 1000).toISOString();
}
