/**
 * The decision endpoints as plain node:http handlers: `POST /v1/decide`, `POST /v1/decide/batch`,
 * `POST|GET /v1/data/{path}`. They run in front of express (see app.ts) because the decision path is
 * the product's hot path and the framework's per-request work measurably costs throughput there
 * (numbers in docs/service.md); everything else goes through express.
 */
import type { IncomingMessage, ServerResponse } from 'http';
import Ajv, { type ErrorObject } from 'ajv';
import decideSchema from './schemas/decide-request.schema.json';
import batchSchema from './schemas/decide-batch.schema.json';
import { readJsonBody, HttpError, type BodyLimits } from './body';
import { deeperThan, tooDeepMessage } from '../util/json-depth';
import { isAnswered, writeJsonSoon } from './response-batch';
import { MAX_PATH_CHARS, MAX_PATH_SEGMENTS } from '../engine/documents';
import { productVersion } from '../util/version';
import { getKey, setKey } from '../util/own-keys';
import type { DecisionService } from './decide';
import type { PdpMetrics } from './metrics';
import { APPROVALS_NOT_CONFIGURED, takeTokenAsks, type PdpTokens } from './pdp-tokens';
import type { CallerAuth, CallerIdentity, DecideRequest, DecisionMeta, DecisionResult, IdentityResolver, RequestHeaders } from './types';

const ajv = new Ajv({ allErrors: true, strict: false });
const validateDecide = ajv.compile(decideSchema);
const validateBatch = ajv.compile(batchSchema);

export interface HandlerDeps {
  service: DecisionService;
  resolver: IdentityResolver;
  callerAuth?: CallerAuth;
  metrics?: PdpMetrics;
  bodyLimit: number;
  /** the PDP's own signing key at work: approvals and transaction tokens (absent without `signing`) */
  tokens?: PdpTokens;
  /** server.max_json_depth: deeper bodies (and ?input=) are refused with 400 before anything else */
  maxJsonDepth: number;
  /** `data_api.raw_input`: the Data API evaluates its input as given, OPA-style, without identity resolution */
  dataApiRawInput?: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const limitsOf = (deps: HandlerDeps): BodyLimits => ({ bytes: deps.bodyLimit, depth: deps.maxJsonDepth });

function details(errors: ErrorObject[] | null | undefined, prefix = ''): unknown[] {
  return (errors ?? []).map((e) => {
    const at = prefix + (e.instancePath || '');
    const extra =
      e.keyword === 'additionalProperties'
        ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
        : e.keyword === 'required'
          ? ''
          : '';
    return { path: at || '/', message: `${e.message}${extra}`, keyword: e.keyword, params: e.params };
  });
}

/** Answer with a JSON body, written with the other answers of this event-loop turn (response-batch.ts). */
export function send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  writeJsonSoon(res, status, JSON.stringify(body), headers);
}

function sendError(res: ServerResponse, err: HttpError): void {
  // `allow: false` on every refusal: a client that reads only `allow` must never see anything but a deny
  const body: Obj = { allow: false, error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
  // after a 413 the rest of the body is not read: close the connection rather than drain it
  send(res, err.status, body, err.status === 413 ? { Connection: 'close' } : undefined);
}

async function authenticate(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<CallerIdentity | undefined | false> {
  if (!deps.callerAuth) return undefined;
  const r = await deps.callerAuth.authenticate(req);
  if (r.ok) return r.caller;
  send(res, 401, { allow: false, error: { code: 'unauthorized', message: r.message } }, { 'WWW-Authenticate': r.wwwAuthenticate });
  return false;
}

function requestId(req: IncomingMessage, body: Obj | undefined): string | undefined {
  const h = req.headers['x-request-id'];
  if (typeof h === 'string' && h) return h.slice(0, 256);
  const ctx = body?.context as Obj | undefined;
  return typeof ctx?.request_id === 'string' ? ctx.request_id : undefined;
}

function statusOf(r: DecisionResult): number {
  if (!r.error) return 200;
  return r.error.code === 'no_policy' ? 503 : 500;
}

/** One decision and its JSON text (the service builds it from pieces it serialises anyway). */
async function decideOne(deps: HandlerDeps, raw: DecideRequest, req: IncomingMessage, caller: CallerIdentity | undefined, path: string, explain = false): Promise<{ result: DecisionResult; json: string }> {
  // the approval and the txn-token ask are the PDP's own business (pdp-tokens.ts): input.approval is set
  // only by verifying the token, after the identities it is checked against are resolved
  const { body, asks } = takeTokenAsks(raw);
  const resolved = await deps.resolver.resolve(body, req.headers as RequestHeaders, caller);
  if (asks.approvalToken !== undefined) {
    resolved.input.approval = deps.tokens ? await deps.tokens.verifyApproval(asks.approvalToken, resolved.input) : APPROVALS_NOT_CONFIGURED;
  }
  const out = deps.service.decideText(resolved.input, { caller, path, requestId: requestId(req, body as Obj), deny: resolved.deny, ...(explain ? { explain } : {}) });
  const extras = deps.tokens ? await deps.tokens.extras(out.result, resolved.input, asks, req) : undefined;
  if (!extras) return out;
  Object.assign(out.result, extras);
  // out.json is one object: splice the extra members in before its closing brace
  return { result: out.result, json: `${out.json.slice(0, -1)},${JSON.stringify(extras).slice(1)}` };
}

/**
 * `?explain=full` or `X-PDP-Explain: full` (docs/service.md "Explaining a decision"): true when asked,
 * false when not; any other value is a 400, as is a bundle that cannot be explained (wasm only).
 */
function explainAsked(deps: HandlerDeps, req: IncomingMessage): boolean {
  const q = req.url && req.url.includes('explain') ? new URL(req.url, 'http://pdp').searchParams.get('explain') : null;
  const h = req.headers['x-pdp-explain'];
  const asked = q ?? (typeof h === 'string' ? h : undefined);
  if (asked === undefined || asked === 'off') return false;
  if (asked !== 'full') throw new HttpError(400, 'invalid_request', `explain must be "full" (or "off"), got ${JSON.stringify(asked.slice(0, 40))}`);
  const why = deps.service.explainUnavailable();
  if (why) throw new HttpError(400, 'explain_unavailable', why);
  return true;
}

/** POST /v1/decide */
export async function handleDecide(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<number> {
  try {
    const caller = await authenticate(deps, req, res);
    if (caller === false) return 401;
    const body = await readJsonBody(req, limitsOf(deps));
    if (!validateDecide(body)) throw new HttpError(400, 'invalid_request', 'the request does not match the decide schema', details(validateDecide.errors));
    const explain = explainAsked(deps, req);
    const out = await decideOne(deps, body as DecideRequest, req, caller, '/v1/decide', explain);
    const status = statusOf(out.result);
    writeJsonSoon(res, status, out.json);
    return status;
  } catch (err) {
    return fail(res, err);
  }
}

function mergeDefaults(defaults: Obj | undefined, item: Obj): Obj {
  if (!defaults) return item;
  const out: Obj = { ...defaults };
  for (const [k, v] of Object.entries(item)) {
    // own keys only (util/own-keys.ts): an item's "__proto__" is a field, not the merged item's prototype
    const d = getKey(out, k);
    setKey(out, k, d && v && typeof d === 'object' && typeof v === 'object' && !Array.isArray(d) && !Array.isArray(v) ? { ...(d as Obj), ...(v as Obj) } : v);
  }
  return out;
}

/** POST /v1/decide/batch: `{items: [...], defaults?}` → `{results: [...]}` in order. */
export async function handleDecideBatch(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<number> {
  try {
    const caller = await authenticate(deps, req, res);
    if (caller === false) return 401;
    const body = await readJsonBody(req, limitsOf(deps));
    if (!validateBatch(body)) throw new HttpError(400, 'invalid_request', 'the request does not match the batch schema', details(validateBatch.errors));
    const b = body as { items: Obj[]; defaults?: Obj };
    const items = b.items.map((it) => mergeDefaults(b.defaults, it));
    const errs: unknown[] = [];
    items.forEach((it, i) => {
      if (!validateDecide(it)) errs.push(...details(validateDecide.errors, `/items/${i}`));
    });
    if (errs.length > 0) throw new HttpError(400, 'invalid_request', 'one or more items do not match the decide schema', errs);
    const explain = explainAsked(deps, req);
    const results: string[] = [];
    for (const it of items) results.push((await decideOne(deps, it as DecideRequest, req, caller, '/v1/decide/batch', explain)).json);
    // an item that could not be evaluated is a deny inside a 200: the batch itself succeeded
    writeJsonSoon(res, 200, `{"results":[${results.join(',')}]}`);
    return 200;
  } catch (err) {
    return fail(res, err);
  }
}

/**
 * OPA's boolean query parameters (`?pretty`, `?metrics=true`): present without a value is true, else
 * true when any value is "true" (any case).
 */
function flag(url: URL, name: string): boolean {
  const all = url.searchParams.getAll(name);
  if (all.length === 0) return false;
  return (all.length === 1 && all[0] === '') || all.some((v) => v.toLowerCase() === 'true');
}

/** The slash path after /v1/data, decoded, refused when absurd (engine/documents.ts MAX_PATH_*). */
function dataPath(url: URL): string {
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.slice('/v1/data'.length));
  } catch {
    // a malformed escape ("%E0%A4%A", "%") is the client's mistake, not an internal error
    throw new HttpError(400, 'invalid_parameter', `the data path is not validly percent-encoded: ${url.pathname.slice(0, 200)}`);
  }
  if (path.length > MAX_PATH_CHARS || path.split('/').filter(Boolean).length > MAX_PATH_SEGMENTS) {
    throw new HttpError(400, 'invalid_parameter', `the data path is longer than ${MAX_PATH_SEGMENTS} segments or ${MAX_PATH_CHARS} characters`);
  }
  return path;
}

/** The Data API's input: POST `{"input": …}` (any content type, as OPA), GET `?input=<json>` (the last one). */
async function dataInput(deps: HandlerDeps, req: IncomingMessage, url: URL): Promise<{ input: unknown; missing: boolean }> {
  if (req.method === 'POST') {
    const body = await readJsonBody(req, limitsOf(deps), false, true);
    if (body === undefined) return { input: undefined, missing: true };
    if (!isObj(body)) throw new HttpError(400, 'invalid_parameter', 'request body must be an object like {"input": …}');
    // OPA: an absent and a null `input` alike mean no input (and earn the api_usage_warning)
    const input = Object.prototype.hasOwnProperty.call(body, 'input') ? body.input : undefined;
    return { input: input === null ? undefined : input, missing: input === undefined || input === null };
  }
  req.resume();
  const q = url.searchParams.getAll('input').pop();
  if (q === undefined) return { input: undefined, missing: false };
  let input: unknown;
  try {
    input = JSON.parse(q);
  } catch (err) {
    throw new HttpError(400, 'invalid_parameter', `input query parameter is not valid JSON: ${(err as Error).message}`);
  }
  if (deeperThan(input, deps.maxJsonDepth)) throw new HttpError(400, 'too_deep', tooDeepMessage('the input query parameter', deps.maxJsonDepth));
  return { input, missing: false };
}

/**
 * POST /v1/data/{path} `{"input": …}` and GET /v1/data/{path}?input=<json>: OPA's Data API, with its
 * `?pretty`, `?metrics` (`?instrument` gives the same), `?provenance` and `?strict-builtin-errors`.
 */
export async function handleData(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> {
  const started = process.hrtime.bigint();
  try {
    const caller = await authenticate(deps, req, res);
    if (caller === false) return 401;
    const path = dataPath(url);
    const parseStart = process.hrtime.bigint();
    const got = await dataInput(deps, req, url);
    let input = got.input;
    const parseNs = Number(process.hrtime.bigint() - parseStart);
    // One door for identity (docs/identity.md): an object input is resolved like a decide body, so
    // tokens are verified and the reserved fields come from verification only, never from the caller.
    // On-demand paths (any rule, not only entrypoints) get exactly the same input.
    let deny: DecisionMeta['deny'];
    if (!deps.dataApiRawInput && isObj(input)) {
      const resolved = await deps.resolver.resolve(input as DecideRequest, req.headers as RequestHeaders, caller);
      input = resolved.input;
      deny = resolved.deny;
    }
    const ans = deps.service.data(path, input, { caller, path: '/v1/data', requestId: requestId(req, undefined), deny }, { strict: flag(url, 'strict-builtin-errors') });
    if (ans.deny) {
      // a token that failed is a deny, as on /v1/decide; no `result` (undefined), so an OPA client denies too
      send(res, 200, { decision_id: ans.decision_id, allow: false, reasons: [ans.deny] });
      return 200;
    }
    if (ans.error) {
      const status = ans.error.code === 'invalid_parameter' ? 400 : 500;
      send(res, status, { allow: false, code: status === 400 ? ans.error.code : 'internal_error', message: ans.error.message, decision_id: ans.decision_id });
      return status;
    }
    const out: Obj = { decision_id: ans.decision_id };
    if (flag(url, 'provenance')) out.provenance = { version: productVersion(), bundles: ans.revisions };
    if (flag(url, 'metrics') || flag(url, 'instrument')) {
      // OPA's metric names (docs/service.md): nanoseconds, and the cache hit counter only on a hit
      const m: Obj = { timer_rego_input_parse_ns: parseNs };
      if (ans.metrics.eval_ns !== undefined) m.timer_rego_query_eval_ns = ans.metrics.eval_ns;
      if (ans.metrics.compile_ns !== undefined) m.timer_rego_query_compile_ns = ans.metrics.compile_ns;
      if (ans.metrics.cache_hit) m.counter_server_query_cache_hit = 1;
      m.timer_server_handler_ns = Number(process.hrtime.bigint() - started);
      out.metrics = m;
    }
    if ('result' in ans) out.result = ans.result;
    // the path's own warning (a wasm-only bundle) says more than OPA's missing-input one
    if (ans.warning) out.warning = ans.warning;
    else if (got.missing) out.warning = { code: 'api_usage_warning', message: "'input' key missing from the request" };
    writeJsonSoon(res, 200, flag(url, 'pretty') ? JSON.stringify(out, null, 2) : JSON.stringify(out));
    return 200;
  } catch (err) {
    return fail(res, err, true);
  }
}

function fail(res: ServerResponse, err: unknown, opaShape = false): number {
  if (isAnswered(res)) return 500;
  if (err instanceof HttpError) {
    if (opaShape && err.status !== 413 && err.status !== 415) {
      send(res, err.status, { allow: false, code: err.code, message: err.message, ...(err.details ? { errors: err.details } : {}) });
    } else sendError(res, err);
    return err.status;
  }
  const message = (err as Error)?.message ?? String(err);
  // fail closed: an unexpected error is a deny with the error, never a silent allow
  send(res, 500, { allow: false, error: { code: 'internal_error', message } });
  return 500;
}
