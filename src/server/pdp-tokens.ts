/**
 * What the PDP signs and checks itself, around one decision (docs/approvals.md):
 *
 *   body.approval.token ──verify──► input.approval          (before the policy; never from the body)
 *   deny approval.required ──────► answer.approval_request  (summary, action digest, link, expiry)
 *   allow + issue_txn_token ─────► answer.txn_token         (for the gateway's upstream call)
 *
 * Present only when the config has a `signing` key; without one an approval in a request is reported to
 * the policy as refused (`not_configured`) and no token is minted.
 */
import type { IncomingMessage } from 'http';
import { Approvals, ApprovalFact } from '../identity/approvals';
import { PdpSigner } from '../identity/pdp-signer';
import { IdentityConfigError } from '../identity/key-sources';
import { mintTxnToken } from '../identity/txn-token';
import type { LogFn } from '../bundles/manager';
import type { DecideRequest, DecisionResult, PdpConfig } from './types';

type Obj = Record<string, unknown>;

/** What a request asked of the PDP's own tokens, taken out of the body before identity resolution. */
export interface TokenAsks {
  approvalToken?: string;
  txnToken: boolean;
}

const NO_ASKS: TokenAsks = Object.freeze({ txnToken: false });

/** Split `approval` and `issue_txn_token` off a decide body: the resolver and the policy never see them raw. */
export function takeTokenAsks(body: DecideRequest): { body: DecideRequest; asks: TokenAsks } {
  // most requests ask nothing: keep the body as is, no copy on the hot path
  if (body.approval === undefined && body.issue_txn_token === undefined) return { body, asks: NO_ASKS };
  const { approval, issue_txn_token, ...rest } = body;
  return { body: rest as DecideRequest, asks: { approvalToken: approval?.token, txnToken: issue_txn_token === true } };
}

export class PdpTokens {
  readonly approvals: Approvals;

  constructor(
    readonly signer: PdpSigner,
    private readonly config: Pick<PdpConfig, 'approvals' | 'txn_tokens'>,
    private readonly log: LogFn,
  ) {
    this.approvals = new Approvals(signer, config.approvals ?? {});
  }

  /** From the config, or undefined when no `signing` key is configured. Throws on a bad key file. */
  static fromConfig(config: PdpConfig, log: LogFn): PdpTokens | undefined {
    if (!config.signing) {
      // settings for something that cannot happen are a mistake worth stopping for, not ignoring
      if (config.approvals || config.txn_tokens) throw new IdentityConfigError('approvals and txn_tokens need the PDP\'s own key: configure signing.key_file (pdp keys gen --name pdp)');
      return undefined;
    }
    const skew = (config.identity as { clock_skew_seconds?: number } | undefined)?.clock_skew_seconds;
    if (!config.approvals?.public_url) {
      // the link would be built from each request's Host header, which the calling enforcement point sets
      log('warn', 'approvals.public_url is not set: approval links are built from the Host header of each decide request; set it to the address people open');
    }
    return new PdpTokens(PdpSigner.load(config.signing, config.config_dir, skew ?? 30), config, log);
  }

  /** `input.approval` for a given token. */
  verifyApproval(token: string, input: Obj): Promise<ApprovalFact> {
    return this.approvals.verify(token, input);
  }

  /**
   * The members to add to a decision's answer: the approval request of an `approval.required` deny, the
   * verified approval it used, a Txn-Token for an allowed call. Undefined when there is nothing to add.
   */
  async extras(result: DecisionResult, input: Obj, asks: TokenAsks, req: IncomingMessage): Promise<Partial<DecisionResult> | undefined> {
    const out: Partial<DecisionResult> = {};
    const fact = input.approval as ApprovalFact | undefined;
    if (fact) {
      // every use is logged with its jti: a stateless PDP cannot refuse a replay, but it can show one
      this.log('info', 'approval presented', {
        decision_id: result.decision_id,
        allow: result.allow,
        verified: fact.verified,
        ...(fact.verified ? { jti: fact.jti, approved_by: fact.approved_by } : { reason: fact.error.reason }),
      });
      if (fact.verified && result.allow) out.approval = { verified: true, jti: fact.jti, approved_by: fact.approved_by };
    }
    const waiting = !result.allow && result.reasons.find((r) => r.code === 'approval.required');
    if (waiting) {
      const summary = typeof waiting.summary === 'string' ? waiting.summary : waiting.message ?? 'this call needs your approval';
      try {
        out.approval_request = await this.approvals.request(input, summary, result.decision_id, baseUrl(req));
      } catch (e) {
        // parameters that cannot be canonicalised cannot be approved: the deny stands, without a link
        this.log('warn', 'approval request not created', { decision_id: result.decision_id, error: (e as Error).message });
      }
    }
    const tool = input.tool as Obj | undefined;
    if (result.allow && asks.txnToken && (tool?.method ?? 'tools/call') === 'tools/call') {
      try {
        const token = await mintTxnToken(this.signer, input, result.decision_id, this.config.txn_tokens ?? {});
        if (token) out.txn_token = token;
      } catch (e) {
        // arguments that are not plain JSON have no digest: no token, so the tool server refuses the call
        this.log('warn', 'txn token not minted', { decision_id: result.decision_id, error: (e as Error).message });
      }
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
}

/** The PDP's own base URL as the caller reached it (used when `approvals.public_url` is not set). */
function baseUrl(req: IncomingMessage): string {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = typeof req.headers.host === 'string' && /^[A-Za-z0-9.\-:[\]]+$/.test(req.headers.host) ? req.headers.host : 'localhost';
  return `${tls ? 'https' : 'http'}://${host}`;
}

/** A fact for a request that carried an approval to a PDP that cannot check one. */
export const APPROVALS_NOT_CONFIGURED: ApprovalFact = {
  verified: false,
  error: { reason: 'not_configured', message: 'this PDP has no signing key, so it cannot verify approvals' },
};
