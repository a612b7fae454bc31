/**
 * `PdpClient`: how an enforcement point asks the PDP. Every method resolves (never rejects) and every
 * failure — unreachable PDP, timeout, non-200, a body that is not a decision — comes back as a deny
 * with a reason, so no caller can turn an exception into an accidental allow.
 *
 * @example
 * const pdp = new PdpClient({ url: 'http://localhost:8181', apiKey: process.env.PDP_API_KEY });
 * const d = await pdp.decide({ tool: { server: 'billing', name: 'refunds.create' }, parameters: { amount: 10 } });
 * if (!d.allow) throw new Error(d.reasons.map((r) => r.code).join(', '));
 */
import * as http from 'http';
import * as https from 'https';
import { decodeJwt } from 'jose';
import { postJson, PostOutcome } from './http';
import { txnTokenDigestFor } from '../identity/txn-token';
import type {
  AuthzenDecision,
  AuthzenEvaluationRequest,
  AuthzenEvaluationsRequest,
  BatchItem,
  Decision,
  DecisionInput,
  FailureKind,
  Reason,
} from './types';

export interface PdpClientOptions {
  /** base URL of the PDP, e.g. `http://pdp:8181` (a path prefix is kept) */
  url: string;
  /** the PEP's own credential for the PDP, sent as `Authorization: Bearer <apiKey>`; never a user's token */
  apiKey?: string;
  /** extra headers on every PDP request */
  headers?: Record<string, string>;
  /** total budget per call, retries included (default 2000 ms) */
  timeoutMs?: number;
  /** extra attempts when the request provably did not reach the PDP or a proxy said 502/503/504 (default 1) */
  retries?: number;
  /** first retry delay, doubled each time (default 25 ms) */
  retryBackoffMs?: number;
  /** answers larger than this are refused (default 8 MiB) */
  maxResponseBytes?: number;
  /** connection pool size per PDP host (default 64) */
  maxSockets?: number;
}

export interface CallOptions {
  /** sent as `X-Request-ID` so the PDP's decision log can be joined with the PEP's */
  requestId?: string;
}

/** Statuses a load balancer or a starting PDP uses for "did not process it, try again". */
const RETRY_STATUSES = new Set([502, 503, 504]);

export class PdpClient {
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBytes: number;
  private readonly agent: http.Agent;

  constructor(opts: PdpClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw new TypeError(`PdpClient: invalid PDP url ${JSON.stringify(opts.url)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`PdpClient: PDP url must be http(s), got ${base.protocol}`);
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.headers = { ...(opts.headers ?? {}) };
    if (opts.apiKey) this.headers.authorization = `Bearer ${opts.apiKey}`;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.retries = Math.max(0, opts.retries ?? 1);
    this.backoffMs = opts.retryBackoffMs ?? 25;
    this.maxBytes = opts.maxResponseBytes ?? 8 * 1024 * 1024;
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 64 };
    this.agent = base.protocol === 'https:' ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  }

  /** One decision (`POST /v1/decide`). Resolves to a deny with a reason on any failure. */
  async decide(input: DecisionInput, opts: CallOptions = {}): Promise<Decision> {
    const r = await this.post('v1/decide', input, opts);
    if (!r.ok) return r.deny;
    const d = toDecision(r.body);
    // A Txn-Token that would name another call must never be forwarded with this one.
    if (d.txn_token !== undefined && !txnTokenBindsCall(d.txn_token, input)) {
      return failed('invalid_response', 'pdp.invalid_response', 'the transaction token in the answer is not for this call (audience or action digest differ)');
    }
    return d;
  }

  /**
   * Many decisions in one round trip (`POST /v1/decide/batch`), in the order of `items`.
   * If the batch as a whole fails, every item is a deny with the same reason.
   */
  async decideBatch(items: BatchItem[], defaults?: Partial<DecisionInput>, opts: CallOptions = {}): Promise<Decision[]> {
    if (items.length === 0) return [];
    const body: Record<string, unknown> = { items };
    if (defaults) body.defaults = defaults;
    const r = await this.post('v1/decide/batch', body, opts);
    if (!r.ok) return items.map(() => r.deny);
    const results = isObject(r.body) ? r.body.results : undefined;
    if (!Array.isArray(results) || results.length !== items.length) {
      const deny = failed('invalid_response', 'pdp.invalid_response', `batch answer does not hold ${items.length} results`);
      return items.map(() => deny);
    }
    return results.map(toDecision);
  }

  /** AuthZEN single evaluation (`POST /access/v1/evaluation`); `decision` is false on any failure. */
  async evaluation(req: AuthzenEvaluationRequest, opts: CallOptions = {}): Promise<AuthzenDecision> {
    const r = await this.post('access/v1/evaluation', req, opts);
    if (!r.ok) return authzenDeny(r.deny.reasons);
    return toAuthzen(r.body);
  }

  /**
   * AuthZEN batch evaluation (`POST /access/v1/evaluations`). With `execute_all` (the default) the
   * answer must have one entry per request; with a short-circuit semantic it may stop early.
   */
  async evaluations(req: AuthzenEvaluationsRequest, opts: CallOptions = {}): Promise<{ evaluations: AuthzenDecision[] }> {
    const n = Array.isArray(req.evaluations) ? req.evaluations.length : 0;
    const r = await this.post('access/v1/evaluations', req, opts);
    const allDeny = (reasons: Reason[]) => ({ evaluations: Array.from({ length: Math.max(n, 1) }, () => authzenDeny(reasons)) });
    if (!r.ok) return allDeny(r.deny.reasons);
    const list = isObject(r.body) ? r.body.evaluations : undefined;
    const semantic = req.options?.evaluations_semantic ?? 'execute_all';
    const okLength = Array.isArray(list) && (semantic === 'execute_all' ? list.length === n : list.length >= 1 && list.length <= n);
    if (!okLength) {
      return allDeny([{ code: 'pdp.invalid_response', message: `evaluations answer does not match the ${n} requests` }]);
    }
    return { evaluations: (list as unknown[]).map(toAuthzen) };
  }

  /** Closes pooled keep-alive connections (call on shutdown). */
  close(): void {
    this.agent.destroy();
  }

  private async post(path: string, payload: unknown, opts: CallOptions): Promise<{ ok: true; body: unknown } | { ok: false; deny: Decision }> {
    try {
      JSON.stringify(payload);
    } catch (e) {
      return { ok: false, deny: failed('invalid_input', 'pdp.invalid_input', `decision input cannot be serialised: ${(e as Error).message}`) };
    }
    const url = new URL(path, this.base);
    const headers = { ...this.headers };
    if (opts.requestId) headers['x-request-id'] = opts.requestId;
    const deadline = Date.now() + this.timeoutMs;
    let outcome: PostOutcome;
    for (let attempt = 0; ; attempt++) {
      outcome = await postJson(url, payload, { headers, deadline, agent: this.agent, maxResponseBytes: this.maxBytes });
      const again = outcome.ok ? RETRY_STATUSES.has(outcome.status) : outcome.retriable;
      if (!again || attempt >= this.retries) break;
      const delay = this.backoffMs * 2 ** attempt;
      if (Date.now() + delay >= deadline) break;
      await new Promise((r) => setTimeout(r, delay));
    }
    if (!outcome.ok) {
      const code = outcome.kind === 'timeout' ? 'pdp.timeout' : 'pdp.unavailable';
      return { ok: false, deny: failed(outcome.kind, code, outcome.message) };
    }
    if (outcome.status !== 200) {
      const kind: FailureKind = RETRY_STATUSES.has(outcome.status)
        ? 'unavailable'
        : outcome.status >= 400 && outcome.status < 500
          ? 'rejected'
          : 'error';
      const code = kind === 'unavailable' ? 'pdp.unavailable' : 'pdp.error';
      const detail = errorMessage(outcome.body);
      const deny = failed(kind, code, `PDP answered HTTP ${outcome.status}${detail ? `: ${detail}` : ''}`, outcome.status);
      if (isObject(outcome.body) && typeof outcome.body.decision_id === 'string') deny.decision_id = outcome.body.decision_id;
      return { ok: false, deny };
    }
    if (outcome.bodyError) {
      return { ok: false, deny: failed('invalid_response', 'pdp.invalid_response', outcome.bodyError, outcome.status) };
    }
    return { ok: true, body: outcome.body };
  }
}

/** A deny the client made up because the PDP gave no usable answer. */
function failed(kind: FailureKind, code: string, message: string, status?: number): Decision {
  return { allow: false, reasons: [{ code, message }], obligations: {}, failure: status === undefined ? { kind } : { kind, status } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorMessage(body: unknown): string {
  if (!isObject(body)) return '';
  if (typeof body.message === 'string') return body.message;
  const err = body.error;
  if (typeof err === 'string') return err;
  if (isObject(err) && typeof err.message === 'string') return err.message;
  return '';
}

/**
 * Validates one decision object. Anything off-contract is a deny: an allow is only ever taken from a
 * body whose `allow` is exactly `true` and whose reasons and obligations are well formed.
 */
export function toDecision(body: unknown): Decision {
  if (!isObject(body) || typeof body.allow !== 'boolean') {
    return failed('invalid_response', 'pdp.invalid_response', 'answer has no boolean "allow"');
  }
  const reasons: Reason[] = [];
  if (body.reasons !== undefined) {
    if (!Array.isArray(body.reasons)) return failed('invalid_response', 'pdp.invalid_response', '"reasons" is not an array');
    for (const r of body.reasons) {
      if (!isObject(r) || typeof r.code !== 'string') {
        return failed('invalid_response', 'pdp.invalid_response', 'a reason has no string "code"');
      }
      reasons.push({ ...r, code: r.code, message: typeof r.message === 'string' ? r.message : '' });
    }
  }
  let obligations: Record<string, unknown> = {};
  if (body.obligations !== undefined && body.obligations !== null) {
    if (!isObject(body.obligations)) return failed('invalid_response', 'pdp.invalid_response', '"obligations" is not an object');
    obligations = body.obligations;
  }
  const d: Decision = { allow: body.allow === true, reasons, obligations };
  if (typeof body.decision_id === 'string') d.decision_id = body.decision_id;
  if (isObject(body.policy)) d.policy = body.policy as Decision['policy'];
  if (!d.allow && reasons.length === 0) d.reasons.push({ code: 'pdp.denied', message: 'denied by policy (no reason given)' });
  const ar = body.approval_request;
  if (!d.allow && isObject(ar) && ['url', 'action_digest', 'summary', 'expires_at'].every((k) => typeof ar[k] === 'string')) {
    d.approval_request = ar as Decision['approval_request'];
  }
  if (d.allow && isObject(body.approval) && body.approval.verified === true && typeof body.approval.jti === 'string') {
    d.approval = body.approval as Decision['approval'];
  }
  if (d.allow && typeof body.txn_token === 'string') d.txn_token = body.txn_token;
  return d;
}

/**
 * Whether a Txn-Token from the PDP's answer names this very call: addressed to `tool.server`, and its
 * action digest that of `tool.name` with these parameters (src/identity/action-digest.ts, the same
 * function the PDP and the tool server use). The PDP's signature is the tool server's to check.
 */
export function txnTokenBindsCall(token: string, input: DecisionInput): boolean {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token) as Record<string, unknown>;
  } catch {
    return false;
  }
  const server = input.tool.server;
  if (typeof server !== 'string' || !(claims.aud === server || (Array.isArray(claims.aud) && claims.aud.includes(server)))) return false;
  const tctx = isObject(claims.tctx) ? claims.tctx : {};
  try {
    return tctx.action_digest === txnTokenDigestFor(claims, { server, name: input.tool.name, arguments: input.parameters ?? {} });
  } catch {
    return false;
  }
}

function authzenDeny(reasons: Reason[]): AuthzenDecision {
  return { decision: false, context: { reasons } };
}

function toAuthzen(body: unknown): AuthzenDecision {
  if (!isObject(body) || typeof body.decision !== 'boolean') {
    return authzenDeny([{ code: 'pdp.invalid_response', message: 'answer has no boolean "decision"' }]);
  }
  const out: AuthzenDecision = { decision: body.decision === true };
  if (isObject(body.context)) out.context = body.context;
  return out;
}
