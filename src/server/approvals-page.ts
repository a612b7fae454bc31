/**
 * The approval page, served by the PDP as plain server-rendered HTML (no scripts, no front-end build):
 *
 *   GET  /approvals/<request>   what the agent wants to do (from the signed approval request), a sign-in
 *                               field for the person's IdP token, Approve / Reject
 *   POST /approvals/<request>   form post: verifies the person (must be the call's user) and, on approve,
 *                               signs the approval and shows it. With `Content-Type: application/json`
 *                               ({id_token, decision}) the answer is JSON, for scripts and the demo.
 *   GET  /.well-known/jwks.json the PDP's public signing key (approvals, transaction tokens)
 *
 * Nothing is stored: the link carries the signed request, the answer carries the signed approval, which
 * the person hands to the agent's host (X-PDP-Approval on the retried call). Forms are CSRF-checked with a
 * double-submit cookie (SameSite=Strict) and an Origin check; every value shown is HTML-escaped; the page
 * cannot be framed and sends no Referer to other sites (the link itself is the request).
 */
import { randomBytes, timingSafeEqual } from 'crypto';
import express from 'express';
import type { LogFn } from '../bundles/manager';
import type { ApprovalRequest } from '../identity/approvals';
import type { TokenVerifier } from '../identity/verify';
import type { PdpTokens } from './pdp-tokens';

/** Clock difference allowed between the IdP (the sign-in's auth_time / iat) and the PDP (the request's iat). */
const SIGN_IN_SKEW_SECONDS = 5;

export interface ApprovalPageDeps {
  tokens: PdpTokens;
  /** verifies the person's sign-in token against the configured identity issuers (slot `user`) */
  verifier: TokenVerifier;
  log: LogFn;
}

const CSRF_COOKIE = 'pdp_approval_csrf';
const FORM_LIMIT = '64kb';

/** Escape for HTML text and double-quoted attribute values. */
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer browsers post forms with "Origin: null", and the link
  // (which holds the request) must still never leak to another site
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

function page(res: express.Response, status: number, title: string, body: string, extraHeaders: Record<string, string> = {}): void {
  res.status(status).set({ ...SECURITY_HEADERS, ...extraHeaders, 'Content-Type': 'text/html; charset=utf-8' });
  res.send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
pre,textarea{font-family:ui-monospace,monospace;font-size:.85rem}pre{background:#f4f4f4;padding:.75rem;overflow:auto}
textarea{width:100%}dt{font-weight:600}dd{margin:0 0 .5rem 0}.why{background:#fff6d6;padding:.75rem}
button{font-size:1rem;padding:.4rem 1.2rem;margin-right:.5rem}</style></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`);
}

function describe(r: ApprovalRequest): string {
  const a = r.action;
  return `<p class="why" id="summary">${esc(r.summary)}</p>
<dl>
<dt>Tool</dt><dd id="tool">${esc(a.server ?? '?')}/${esc(a.tool ?? '?')} <small>(${esc(a.method)})</small></dd>
<dt>For</dt><dd id="user">${esc(a.user ?? 'nobody named')}</dd>
<dt>By agent</dt><dd id="agent">${esc(a.actor ?? 'no agent named')}</dd>
<dt>Task</dt><dd id="task">${esc(a.task ?? 'none')}</dd>
<dt>Parameters</dt><dd><pre id="parameters">${esc(JSON.stringify(a.parameters, null, 2))}</pre></dd>
<dt>Action digest</dt><dd><code id="digest">${esc(r.action_digest)}</code></dd>
<dt>Link valid until</dt><dd>${esc(r.expires_at)}</dd>
</dl>`;
}

function cookieValue(req: express.Request, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function sameSecret(a: unknown, b: unknown): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length === 0 || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** A cross-site form post names another origin; a same-origin one names ours (or, from old agents, none). */
function sameOrigin(req: express.Request): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return origin === `${proto}://${req.headers.host}`;
}

export function mountApprovals(app: express.Express, deps: ApprovalPageDeps): void {
  const { tokens, verifier, log } = deps;
  const approvals = tokens.approvals;

  app.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(tokens.signer.jwks());
  });

  app.get('/approvals/:request', async (req, res) => {
    const read = await approvals.readRequest(req.params.request);
    if (!read.ok) return page(res, 400, 'Approval link not valid', `<p id="error">${esc(read.message)}</p>`);
    // one secret per browser, kept across pages: a second approval tab must not void the first one's form
    const kept = cookieValue(req, CSRF_COOKIE);
    const csrf = kept && /^[A-Za-z0-9_-]{32}$/.test(kept) ? kept : randomBytes(24).toString('base64url');
    const secure = (req.socket as { encrypted?: boolean }).encrypted ? '; Secure' : '';
    page(
      res,
      200,
      'Approve this action?',
      `${describe(read.request)}
<form method="post">
<input type="hidden" name="csrf" value="${esc(csrf)}">
<p><label for="id_token">Sign in: your identity token (from your identity provider; for local use, one minted by
<code>pdp token --sub ${esc(read.request.action.user ?? '<you>')}</code>)</label><br>
<textarea id="id_token" name="id_token" rows="5" required autocomplete="off" spellcheck="false"></textarea></p>
<p><button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="reject" id="reject">Reject</button></p>
</form>`,
      { 'Set-Cookie': `${CSRF_COOKIE}=${csrf}; Path=/approvals; HttpOnly; SameSite=Strict${secure}` },
    );
  });

  const form = express.urlencoded({ extended: false, limit: FORM_LIMIT });
  const json = express.json({ limit: FORM_LIMIT });
  app.post('/approvals/:request', (req, res, next) => (req.is('application/json') ? json : form)(req, res, next), async (req, res) => {
    const asJson = req.is('application/json') !== false;
    const answer = (status: number, title: string, html: string, body: Record<string, unknown>) =>
      asJson ? void res.status(status).set('Cache-Control', 'no-store').json(body) : page(res, status, title, html);
    const fields = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;

    // A JSON post needs a CORS preflight no browser gets from us, so only a form post can be forged
    // cross-site: that one must bring the cookie's secret back and come from our own origin.
    if (!asJson && (!sameOrigin(req) || !sameSecret(fields.csrf, cookieValue(req, CSRF_COOKIE)))) {
      return answer(403, 'Request refused', '<p id="error">This form was not sent from the approval page (CSRF check failed). Open the approval link again.</p>', {});
    }
    const read = await approvals.readRequest(req.params.request);
    if (!read.ok) return answer(400, 'Approval link not valid', `<p id="error">${esc(read.message)}</p>`, { error: { code: 'approval.invalid_request', message: read.message } });
    const request = read.request;
    const decision = fields.decision;
    if (decision !== 'approve' && decision !== 'reject') {
      return answer(400, 'Choose approve or reject', '<p id="error">Choose Approve or Reject.</p>', { error: { code: 'approval.invalid_decision', message: 'decision must be "approve" or "reject"' } });
    }
    const who = await verifier.verify(typeof fields.id_token === 'string' ? fields.id_token.trim() : undefined, 'user');
    if (!who.ok) {
      const message = `your sign-in token was refused (${who.reason}): ${who.message}`;
      return answer(401, 'Sign-in failed', `<p id="error">${esc(message)}</p>`, { error: { code: 'approval.sign_in_failed', reason: who.reason, message } });
    }
    // A token with `act` is a delegated one (RFC 8693): its bearer is an actor working for the person, such
    // as the very agent whose call waits for approval, not the person. It cannot sign in to approve.
    if (who.claims.act !== undefined) {
      const message = 'your sign-in token is a delegated token (it has an "act" claim): sign in as yourself, not through an agent';
      log('warn', 'approval refused: delegated sign-in token', { person: who.claims.sub, action_digest: request.action_digest });
      return answer(401, 'Sign-in failed', `<p id="error">${esc(message)}</p>`, { error: { code: 'approval.sign_in_failed', reason: 'delegated_token', message } });
    }
    // The agent holds the person's user token already (it sends it with every call), so a token that
    // existed before this request proves nothing about the person being here now. The sign-in must be
    // fresh: authenticated (OIDC `auth_time`, else issued, `iat`) after the PDP issued the request.
    const signedInAt = typeof who.claims.auth_time === 'number' ? who.claims.auth_time : who.claims.iat;
    if (typeof signedInAt !== 'number' || signedInAt + SIGN_IN_SKEW_SECONDS < request.issued_at) {
      const message =
        'your sign-in token is older than this approval request: sign in again (a fresh login at your identity provider, or a new token) and approve with that token';
      log('warn', 'approval refused: sign-in not fresh', { person: who.claims.sub, action_digest: request.action_digest });
      return answer(401, 'Sign-in failed', `<p id="error">${esc(message)}</p>`, { error: { code: 'approval.sign_in_failed', reason: 'stale_sign_in', message } });
    }
    const person = who.claims.sub;
    if (typeof person !== 'string' || person !== request.action.user) {
      const message = `you are signed in as ${String(person)}; only ${request.action.user ?? 'the call\'s user'} can decide on this call`;
      log('warn', 'approval refused: another person', { person, user: request.action.user, action_digest: request.action_digest });
      return answer(403, 'Not your call', `<p id="error">${esc(message)}</p>`, { error: { code: 'approval.wrong_person', message } });
    }
    if (decision === 'reject') {
      log('info', 'approval rejected', { person, action_digest: request.action_digest, decision_id: request.decision_id });
      return answer(200, 'Rejected', '<p id="outcome">You rejected this action. Nothing was signed; the agent\'s call stays denied.</p>', { decision: 'rejected' });
    }
    const approval = await approvals.approve(request, person);
    log('info', 'approval given', { person, jti: approval.jti, action_digest: request.action_digest, decision_id: request.decision_id, expires_at: approval.expires_at });
    answer(
      200,
      'Approved',
      `<p id="outcome">You approved this action. Give the approval below to the agent's host: it retries the call with the
header <code>X-PDP-Approval</code> set to it. It is valid until ${esc(approval.expires_at)}, for exactly this call.</p>
${describe(request)}
<p><label for="approval-token">Approval</label><br><textarea id="approval-token" rows="6" readonly>${esc(approval.token)}</textarea></p>
<p><small>id ${esc(approval.jti)}</small></p>`,
      { decision: 'approved', approval_token: approval.token, jti: approval.jti, expires_at: approval.expires_at, action_digest: request.action_digest },
    );
  });
}
