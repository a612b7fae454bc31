/**
 * OpenID AuthZEN Authorization API 1.0 on top of the one decision pipeline:
 *   POST /access/v1/evaluation, POST /access/v1/evaluations (all three `evaluations_semantic` values),
 *   GET /.well-known/authzen-configuration, and `X-Request-ID` echoed on every answer.
 *
 * An AuthZEN request is mapped onto a /v1/decide body (subject → user, resource of type `tool` → tool,
 * action.properties → parameters, context.agent or subject.properties.act → agent), resolved by the
 * identity resolver (tokens verified, removed), and decided by the same `decide` as /v1/decide. The raw
 * request, minus any `token` field, is kept at `input.authzen`. A deny is `200 {"decision": false}`; a
 * decision's `context` is present only when the policy gave reasons or obligations.
 *
 * @example
 *   mountAuthzen(app, { decide: service.decide, resolver, callerAuth, config });
 */
import express from 'express';
import type { Request, Response, NextFunction } from 'express';
import type { CallerAuth, DecisionMeta, DecisionResult, IdentityResolver, PdpConfig, CallerIdentity } from './types';
import { DEFAULT_MAX_JSON_DEPTH } from './config';
import { deeperThan, tooDeepMessage } from '../util/json-depth';

export interface MountAuthzenDeps {
  decide(input: Record<string, unknown>, meta: DecisionMeta): Promise<DecisionResult>;
  resolver: IdentityResolver;
  callerAuth: CallerAuth;
  config?: PdpConfig;
  /** entrypoint for AuthZEN decisions (`--authzen-entrypoint`); default: the decision entrypoint */
  entrypoint?: string;
  /** public base URL for the metadata document; default: derived from the request's Host */
  baseUrl?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export const EVALUATION_PATH = '/access/v1/evaluation';
export const EVALUATIONS_PATH = '/access/v1/evaluations';
export const METADATA_PATH = '/.well-known/authzen-configuration';
export const SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;
type Semantic = (typeof SEMANTICS)[number];
/** More evaluations than this in one call is refused (400): batching is for a page of tools, not a scan. */
export const MAX_EVALUATIONS = 1000;

interface FieldError { path: string; message: string }

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly errors?: FieldError[]) {
    super(message);
  }
}

/** Check one (merged) 4-tuple. Returns every problem, with paths relative to `at`. */
export function validateEvaluation(req: unknown, at = ''): FieldError[] {
  const errs: FieldError[] = [];
  const p = (s: string) => (at ? `${at}.${s}` : s);
  if (!isObj(req)) return [{ path: at || '(body)', message: 'must be a JSON object' }];
  const str = (o: Obj, k: string, where: string) => {
    if (typeof o[k] !== 'string' || (o[k] as string).length === 0) errs.push({ path: p(`${where}.${k}`), message: 'is required (non-empty string)' });
  };
  const props = (o: Obj, where: string) => {
    if (o.properties !== undefined && !isObj(o.properties)) errs.push({ path: p(`${where}.properties`), message: 'must be an object' });
  };
  for (const [key, fields] of [['subject', ['type', 'id']], ['resource', ['type', 'id']], ['action', ['name']]] as const) {
    const v = req[key];
    if (!isObj(v)) errs.push({ path: p(key), message: 'is required (object)' });
    else {
      for (const f of fields) str(v, f, key);
      props(v, key);
    }
  }
  if (req.context !== undefined && !isObj(req.context)) errs.push({ path: p('context'), message: 'must be an object' });
  return errs;
}

/** Drop every `token` field (deep copy) so no credential reaches the input or the decision log. */
export function withoutTokens(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTokens);
  if (!isObj(v)) return v;
  const out: Obj = {};
  // defineProperty, not `out[k] =`: a "__proto__" key must stay a key, not replace out's prototype
  for (const [k, x] of Object.entries(v)) if (k !== 'token') Object.defineProperty(out, k, { value: withoutTokens(x), enumerable: true, writable: true, configurable: true });
  return out;
}

/** Map one validated AuthZEN 4-tuple onto a /v1/decide body (DESIGN §3). */
export function authzenToDecideBody(req: Obj): Obj {
  const subject = req.subject as Obj;
  const action = req.action as Obj;
  const resource = req.resource as Obj;
  const context: Obj = isObj(req.context) ? { ...req.context } : {};
  const sp: Obj = isObj(subject.properties) ? subject.properties : {};

  const { token: userToken, act: subjectAct, ...userAttributes } = sp;
  const user: Obj = { id: subject.id, type: subject.type, attributes: userAttributes };
  if (userToken !== undefined) user.token = userToken;

  const body: Obj = { user };
  const ctxAgent = context.agent;
  delete context.agent;
  if (isObj(ctxAgent)) {
    body.agent = { ...ctxAgent, ...(subjectAct !== undefined ? { act: subjectAct } : {}) };
  } else if (subjectAct !== undefined) {
    body.agent = { act: subjectAct };
  }
  if (isObj(context.task)) body.task = context.task;
  delete context.task;

  const rp: Obj = isObj(resource.properties) ? resource.properties : {};
  if (resource.type === 'tool') {
    const { server, method, annotations, name: _ignored, ...rest } = rp;
    const id = resource.id as string;
    let toolServer = typeof server === 'string' ? server : undefined;
    let toolName = id;
    // "billing/refunds.create" names server and tool when properties.server is not given.
    const slash = id.indexOf('/');
    if (toolServer === undefined && slash > 0 && slash < id.length - 1) {
      toolServer = id.slice(0, slash);
      toolName = id.slice(slash + 1);
    }
    body.tool = {
      ...rest,
      name: toolName,
      ...(toolServer !== undefined ? { server: toolServer } : {}),
      method: typeof method === 'string' ? method : 'tools/call',
      ...(isObj(annotations) ? { annotations } : {}),
    };
  } else {
    body.resource = { type: resource.type, id: resource.id, properties: rp };
  }
  body.action = { name: action.name };
  body.parameters = isObj(action.properties) ? action.properties : {};
  body.context = context;
  return body;
}

/** A decision in AuthZEN form. `context` only when the policy gave reasons or obligations. */
export function toAuthzenDecision(r: DecisionResult, forceDeny = false): Obj {
  const out: Obj = { decision: !forceDeny && r.allow === true };
  const ctx: Obj = {};
  if (Array.isArray(r.reasons) && r.reasons.length > 0) ctx.reasons = r.reasons;
  if (isObj(r.obligations) && Object.keys(r.obligations).length > 0) ctx.obligations = r.obligations;
  if (Object.keys(ctx).length > 0) {
    ctx.decision_id = r.decision_id;
    out.context = ctx;
  }
  return out;
}

export function mountAuthzen(app: express.Application, deps: MountAuthzenDeps): void {
  const router = express.Router();
  const limit = deps.config?.server?.body_limit_bytes ?? 1024 * 1024;
  const entrypoint = deps.entrypoint ?? ((deps.config as unknown as { authzen?: { entrypoint?: string } } | undefined)?.authzen?.entrypoint);

  router.use((req: Request, res: Response, next: NextFunction) => {
    const rid = req.headers['x-request-id'];
    if (typeof rid === 'string' && rid.length > 0 && rid.length <= 256 && !/[\r\n]/.test(rid)) res.setHeader('X-Request-ID', rid);
    next();
  });

  router.get(METADATA_PATH, (req: Request, res: Response) => {
    const base = (deps.baseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`).replace(/\/+$/, '');
    res.json({
      policy_decision_point: base,
      access_evaluation_endpoint: base + EVALUATION_PATH,
      access_evaluations_endpoint: base + EVALUATIONS_PATH,
    });
  });

  const maxDepth = deps.config?.server?.max_json_depth ?? DEFAULT_MAX_JSON_DEPTH;
  // a body nested too deep is refused before anything reads it (src/util/json-depth.ts)
  const depthGuard = (req: Request, _res: Response, next: NextFunction) =>
    next(deeperThan(req.body, maxDepth) ? new HttpError(400, 'too_deep', tooDeepMessage('request body', maxDepth)) : undefined);
  const json = [express.json({ limit }), depthGuard];

  /** Authenticate, then return the caller or answer 401 and return undefined. */
  async function authenticate(req: Request, res: Response): Promise<CallerIdentity | undefined> {
    const r = await deps.callerAuth.authenticate(req);
    if (r.ok) return r.caller;
    res.status(401).setHeader('WWW-Authenticate', r.wwwAuthenticate);
    res.json({ decision: false, error: { code: 'unauthorized', message: r.message } });
    return undefined;
  }

  function requestId(req: Request): string | undefined {
    const rid = req.headers['x-request-id'];
    return typeof rid === 'string' ? rid : undefined;
  }

  /** Resolve identities and decide one 4-tuple. Identity failures are denies whatever the policy says. */
  async function evaluateOne(tuple: Obj, req: Request, caller: CallerIdentity, path: string): Promise<{ result: DecisionResult; forceDeny: boolean }> {
    const body = authzenToDecideBody(tuple);
    const resolved = await deps.resolver.resolve(body as never, req.headers, caller);
    const input = { ...resolved.input, authzen: withoutTokens(tuple) };
    const meta: DecisionMeta = { caller, path, entrypoint, requestId: requestId(req), ...(resolved.deny ? { deny: resolved.deny } : {}) };
    const result = await deps.decide(input, meta);
    if (resolved.deny) {
      // Belt and braces: the pipeline denies on meta.deny, and we never turn a failed token into an allow.
      const reasons = Array.isArray(result.reasons) ? [...result.reasons] : [];
      if (!reasons.some((x) => x && x.code === resolved.deny!.code)) reasons.unshift({ ...resolved.deny });
      return { result: { ...result, allow: false, reasons }, forceDeny: true };
    }
    return { result, forceDeny: false };
  }

  router.post(EVALUATION_PATH, json, async (req: Request, res: Response, next: NextFunction) => {
    try {
      const caller = await authenticate(req, res);
      if (!caller) return;
      const body: unknown = req.body;
      const errors = validateEvaluation(body);
      if (errors.length > 0) throw new HttpError(400, 'invalid_request', 'the evaluation request is invalid', errors);
      const { result, forceDeny } = await evaluateOne(body as Obj, req, caller, EVALUATION_PATH);
      if (result.error) {
        res.status(500).json({ decision: false, context: { error: { status: 500, message: result.error.message, code: result.error.code } } });
        return;
      }
      res.json(toAuthzenDecision(result, forceDeny));
    } catch (e) {
      next(e);
    }
  });

  router.post(EVALUATIONS_PATH, json, async (req: Request, res: Response, next: NextFunction) => {
    try {
      const caller = await authenticate(req, res);
      if (!caller) return;
      const body: unknown = req.body;
      if (!isObj(body)) throw new HttpError(400, 'invalid_request', 'the body must be a JSON object', [{ path: '(body)', message: 'must be a JSON object' }]);
      const items = body.evaluations;
      if (items !== undefined && !Array.isArray(items)) {
        throw new HttpError(400, 'invalid_request', 'evaluations must be an array', [{ path: 'evaluations', message: 'must be an array' }]);
      }
      let semantic: Semantic = 'execute_all';
      if (body.options !== undefined) {
        if (!isObj(body.options)) throw new HttpError(400, 'invalid_request', 'options must be an object', [{ path: 'options', message: 'must be an object' }]);
        const s = body.options.evaluations_semantic;
        if (s !== undefined) {
          if (!(SEMANTICS as readonly unknown[]).includes(s)) {
            throw new HttpError(400, 'invalid_request', `options.evaluations_semantic must be one of ${SEMANTICS.join(', ')}`, [
              { path: 'options.evaluations_semantic', message: `must be one of ${SEMANTICS.join(', ')}` },
            ]);
          }
          semantic = s as Semantic;
        }
      }

      // No (or an empty) evaluations array: the request is a single evaluation, answered as one.
      if (items === undefined || items.length === 0) {
        const single = { subject: body.subject, action: body.action, resource: body.resource, ...(body.context !== undefined ? { context: body.context } : {}) };
        const errors = validateEvaluation(single);
        if (errors.length > 0) throw new HttpError(400, 'invalid_request', 'the evaluation request is invalid', errors);
        const { result, forceDeny } = await evaluateOne(single, req, caller, EVALUATIONS_PATH);
        if (result.error) {
          res.status(500).json({ decision: false, context: { error: { status: 500, message: result.error.message, code: result.error.code } } });
          return;
        }
        res.json(toAuthzenDecision(result, forceDeny));
        return;
      }
      if (items.length > MAX_EVALUATIONS) {
        throw new HttpError(400, 'invalid_request', `at most ${MAX_EVALUATIONS} evaluations per request`, [{ path: 'evaluations', message: `more than ${MAX_EVALUATIONS} items` }]);
      }

      // Top-level 4-tuple members are defaults; an item's own member replaces the default whole.
      const merged: Obj[] = [];
      const errors: FieldError[] = [];
      items.forEach((item, i) => {
        if (!isObj(item)) {
          errors.push({ path: `evaluations[${i}]`, message: 'must be a JSON object' });
          return;
        }
        const tuple: Obj = {};
        for (const k of ['subject', 'action', 'resource', 'context'] as const) {
          const v = item[k] !== undefined ? item[k] : body[k];
          if (v !== undefined) tuple[k] = v;
        }
        errors.push(...validateEvaluation(tuple, `evaluations[${i}]`));
        merged.push(tuple);
      });
      if (errors.length > 0) throw new HttpError(400, 'invalid_request', 'the evaluations request is invalid', errors);

      const answers: Obj[] = [];
      for (const tuple of merged) {
        let answer: Obj;
        try {
          const { result, forceDeny } = await evaluateOne(tuple, req, caller, EVALUATIONS_PATH);
          answer = result.error
            ? { decision: false, context: { error: { status: 500, message: result.error.message, code: result.error.code } } }
            : toAuthzenDecision(result, forceDeny);
        } catch (e) {
          // One failing item is a deny for that item (fail closed), not a failure of the whole batch.
          answer = { decision: false, context: { error: { status: 500, message: (e as Error).message } } };
        }
        answers.push(answer);
        if (semantic === 'deny_on_first_deny' && answer.decision !== true) break;
        if (semantic === 'permit_on_first_permit' && answer.decision === true) break;
      }
      res.json({ evaluations: answers });
    } catch (e) {
      next(e);
    }
  });

  // Errors of these routes are answered here, as JSON, whatever the app's own error handler does; every
  // refusal says `decision: false`, so a client that reads only that field denies.
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) {
      res.status(err.status).json({ decision: false, error: { code: err.code, message: err.message, ...(err.errors ? { errors: err.errors } : {}) } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e && e.type === 'entity.too.large') {
      res.status(413).json({ decision: false, error: { code: 'payload_too_large', message: `the body is larger than ${limit} bytes` } });
      return;
    }
    if (e && (e.type === 'entity.parse.failed' || e.status === 400)) {
      res.status(400).json({ decision: false, error: { code: 'invalid_json', message: 'the body is not valid JSON' } });
      return;
    }
    if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ decision: false, error: { code: 'bad_request', message: e.message ?? 'bad request' } });
      return;
    }
    res.status(500).json({ decision: false, error: { code: 'internal_error', message: 'the PDP failed to answer; treat as deny' } });
  });

  app.use(router);
}
