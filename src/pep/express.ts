/**
 * Express middleware that asks the PDP before the route runs.
 *
 * @example
 * app.post('/refunds', pdpMiddleware({
 *   client: new PdpClient({ url: process.env.PDP_URL! }),
 *   toInput: (req) => ({ user: { token: bearer(req) }, tool: { server: 'billing', name: 'refunds.create' }, parameters: req.body }),
 *   handles: ['redact_fields'],
 * }), (req, res) => { const { obligations } = req.pdp!; … });
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { randomUUID } from 'crypto';
import type { PdpClient } from './client';
import { unknownObligations, unsupportedObligationReason } from './obligations';
import type { Decision, DecisionInput } from './types';

/** What the middleware attaches to an allowed request as `req.pdp` (and `res.locals.pdp`). */
export interface PdpGrant {
  decision_id?: string;
  obligations: Record<string, unknown>;
  decision: Decision;
}

declare module 'express-serve-static-core' {
  interface Request {
    pdp?: PdpGrant;
  }
}

export interface PdpMiddlewareOptions {
  client: Pick<PdpClient, 'decide'>;
  /** builds the decision input; throwing (or returning nothing) answers 400 and the route never runs */
  toInput(req: Request): DecisionInput | undefined | Promise<DecisionInput | undefined>;
  /**
   * Obligations the application carries out itself (read them from `req.pdp.obligations`). An allow
   * carrying any other obligation is answered 403, so nothing is silently ignored. Default: none.
   */
  handles?: string[];
  /** status of a deny, including a deny because the PDP was unreachable (default 403) */
  denyStatus?: number;
}

export function pdpMiddleware(opts: PdpMiddlewareOptions): RequestHandler {
  const handles = opts.handles ?? [];
  const denyStatus = opts.denyStatus ?? 403;
  return async (req: Request, res: Response, next: NextFunction) => {
    const requestId = headerValue(req.headers['x-request-id']) ?? randomUUID();
    let input: DecisionInput | undefined;
    try {
      input = await opts.toInput(req);
    } catch (e) {
      res.status(400).json({ error: 'bad_request', reasons: [{ code: 'pep.invalid_request', message: (e as Error)?.message ?? String(e) }] });
      return;
    }
    if (!input || typeof input !== 'object' || !input.tool || typeof input.tool.name !== 'string') {
      res.status(400).json({ error: 'bad_request', reasons: [{ code: 'pep.invalid_request', message: 'the request does not describe an authorizable action' }] });
      return;
    }
    let decision: Decision;
    try {
      decision = await opts.client.decide(input, { requestId });
    } catch (e) {
      // PdpClient never throws; a custom client might. Either way: deny.
      decision = { allow: false, reasons: [{ code: 'pdp.error', message: (e as Error)?.message ?? String(e) }], obligations: {} };
    }
    if (decision.allow === true) {
      const unknown = unknownObligations(decision, handles);
      if (unknown.length > 0) {
        decision = { ...decision, allow: false, reasons: [unsupportedObligationReason(unknown)] };
      }
    }
    if (decision.allow !== true) {
      res.status(denyStatus).json({ error: 'forbidden', decision_id: decision.decision_id, reasons: decision.reasons });
      return;
    }
    const grant: PdpGrant = { decision_id: decision.decision_id, obligations: decision.obligations, decision };
    req.pdp = grant;
    res.locals.pdp = grant;
    next();
  };
}

/** `Authorization: Bearer <token>` → token (a helper for mappers). */
export function bearerToken(req: Pick<Request, 'headers'>): string | undefined {
  const h = headerValue(req.headers.authorization);
  const m = h ? /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(h) : null;
  return m ? m[1] : undefined;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
