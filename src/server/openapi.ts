/**
 * The OpenAPI 3.1 document of the PDP's HTTP API, served at `GET /v1/openapi.json`.
 *
 * Request bodies are the very JSON schemas ajv validates them with (schemas/decide-request,
 * decide-batch); answers are schemas/responses.schema.json. Nothing is written twice: the document
 * only places those schemas under `components.schemas` and says which route answers what.
 *
 * @example
 *   const doc = openApiDocument();  // built once, then the same object
 *   doc.paths['/v1/decide'].post.responses['200']
 */
import decideSchema from './schemas/decide-request.schema.json';
import batchSchema from './schemas/decide-batch.schema.json';
import responses from './schemas/responses.schema.json';
import { productVersion } from '../util/version';

export const OPENAPI_PATH = '/v1/openapi.json';

type Obj = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * A schema file made fit for `components.schemas`: its `$id` dropped (an embedded `$id` would rebase
 * its `$ref`s away from the document) and its `#/$defs/X` refs pointed at `#/components/schemas/X`.
 */
function embedded(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(embedded);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Obj = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$id') continue;
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) out[k] = '#/components/schemas/' + v.slice('#/$defs/'.length);
    else out[k] = embedded(v);
  }
  return out;
}

function json(schemaName: string, description: string): Obj {
  return { description, content: { 'application/json': { schema: ref(schemaName) } } };
}

function jsonBody(schemaName: string): Obj {
  return { required: true, content: { 'application/json': { schema: ref(schemaName) } } };
}

const approvalRequestParam: Obj = { name: 'request', in: 'path', required: true, schema: { type: 'string' } };

/** `?explain=full` / `X-PDP-Explain: full` on /v1/decide (docs/service.md "Explaining a decision") */
const explainParams: Obj[] = [
  { name: 'explain', in: 'query', required: false, description: '`full`: the answer also carries `explain` (which rule bodies held, which produced each reason). 400 `explain_unavailable` for a bundle without its .rego sources', schema: { type: 'string', enum: ['full', 'off'] } },
  { name: 'X-PDP-Explain', in: 'header', required: false, description: 'the same as `?explain=` (the query parameter wins when both are given)', schema: { type: 'string', enum: ['full', 'off'] } },
];

/** The refusals every decision route can answer before deciding. */
const refusals: Obj = {
  '400': json('Refusal', 'the body is not valid JSON or does not match the schema (every field error in `error.details`)'),
  '401': json('Refusal', 'caller authentication failed'),
  '413': json('Refusal', 'the body is larger than `server.body_limit_bytes`'),
  '415': json('Refusal', 'the body is not JSON'),
};

/** The Data API's boolean query parameters, as OPA names them. */
const dataFlags: Array<[string, string]> = [
  ['pretty', 'indent the answer'],
  ['metrics', 'add `metrics`: timer_rego_input_parse_ns, timer_rego_query_eval_ns, timer_rego_query_compile_ns (an on-demand compile), counter_server_query_cache_hit, timer_server_handler_ns'],
  ['instrument', 'the same as `metrics` (no per-operation timers)'],
  ['provenance', 'add `provenance`: `version` and the active bundles\' revisions'],
  ['strict-builtin-errors', 'a built-in error fails the evaluation (500) instead of making the expression undefined; needs the bundle\'s .rego sources (400 otherwise)'],
];

function paths(): Obj {
  const dataOp = (method: 'get' | 'post', withPath = true): Obj => ({
    tags: ['OPA Data API'],
    summary: method === 'post' ? 'Evaluate any document (entrypoint, rule, package, data) with `{"input": …}`' : 'Evaluate any document (entrypoint, rule, package, data), input as a query parameter',
    description:
      'OPA\'s Data API. Entrypoints are evaluated by the bundle\'s module; any other rule or package path of a bundle that carries its `.rego` sources is compiled on demand (kept per bundle revision, `data_api.max_compiled_paths`); a wasm-only bundle answers entrypoints, paths below them and base data, and says in `warning` (`not_an_entrypoint`) when it cannot answer a path. ' +
      (method === 'post' ? 'The body is read as JSON whatever its content type (as OPA; YAML is refused with 415); without `input` (or with `input: null`) the answer carries OPA\'s `api_usage_warning`.' : ''),
    operationId: (method === 'post' ? 'postData' : 'getData') + (withPath ? '' : 'Root'),
    parameters: [
      ...(withPath ? [{ name: 'path', in: 'path', required: true, description: 'slash path below data, e.g. `mcp/authz/decision`', schema: { type: 'string' } }] : []),
      ...(method === 'get' ? [{ name: 'input', in: 'query', required: false, description: 'the input document as JSON text (the last one when repeated)', schema: { type: 'string' } }] : []),
      ...dataFlags.map(([name, description]) => ({ name, in: 'query', required: false, description: `${description} (OPA's boolean parameter: present without a value, or \`=true\`)`, schema: { type: 'string' } })),
    ],
    ...(method === 'post' ? { requestBody: { required: false, content: { 'application/json': { schema: ref('DataRequest') } } } } : {}),
    responses: {
      '200': json('DataResponse', 'evaluated; no `result` key means undefined'),
      '400': json('DataError', 'bad input or path'),
      '401': json('Refusal', 'caller authentication failed'),
      ...(method === 'post' ? { '415': json('Refusal', 'a YAML body: only JSON is read') } : {}),
      '500': json('DataError', 'evaluation failed, or the path could not be compiled'),
    },
  });
  return {
    '/v1/decide': {
      post: {
        tags: ['Decisions'],
        summary: 'Decide one tool call',
        operationId: 'decide',
        parameters: explainParams,
        requestBody: jsonBody('DecideRequest'),
        responses: {
          '200': json('DecideResponse', 'allow or deny'),
          ...refusals,
          '400': json('Refusal', 'the body is not valid JSON or does not match the schema (every field error in `error.details`); or `explain` is not `full`/`off`; or `explain_unavailable`: the bundle has no .rego sources to explain with'),
          '500': json('DecideResponse', 'evaluation failed: a deny carrying `error`'),
          '503': json('DecideResponse', 'no active bundle serves the decision entrypoint: a deny carrying `error`'),
        },
      },
    },
    '/v1/decide/batch': {
      post: {
        tags: ['Decisions'],
        summary: 'Decide many tool calls (e.g. to filter tools/list); answers in order',
        operationId: 'decideBatch',
        parameters: explainParams,
        requestBody: jsonBody('DecideBatchRequest'),
        responses: { '200': json('DecideBatchResponse', 'one decision per item, in order'), ...refusals },
      },
    },
    '/v1/data/{path}': { get: dataOp('get'), post: dataOp('post') },
    '/v1/data': { get: dataOp('get', false), post: dataOp('post', false) },
    '/access/v1/evaluation': {
      post: {
        tags: ['AuthZEN'],
        summary: 'AuthZEN Authorization API 1.0: one evaluation',
        operationId: 'authzenEvaluation',
        requestBody: jsonBody('AuthzenEvaluationRequest'),
        responses: {
          '200': json('AuthzenDecision', 'the decision'),
          '400': json('AuthzenRefusal', 'invalid request'),
          '401': json('AuthzenRefusal', 'caller authentication failed'),
          '413': json('AuthzenRefusal', 'body too large'),
          '500': json('AuthzenDecision', 'evaluation failed: `decision: false` with `context.error`'),
        },
      },
    },
    '/access/v1/evaluations': {
      post: {
        tags: ['AuthZEN'],
        summary: 'AuthZEN Authorization API 1.0: several evaluations (execute_all, deny_on_first_deny, permit_on_first_permit)',
        operationId: 'authzenEvaluations',
        requestBody: jsonBody('AuthzenEvaluationsRequest'),
        responses: {
          '200': { description: 'one decision per evaluation, or a single decision when `evaluations` is absent or empty', content: { 'application/json': { schema: { oneOf: [ref('AuthzenEvaluationsResponse'), ref('AuthzenDecision')] } } } },
          '400': json('AuthzenRefusal', 'invalid request'),
          '401': json('AuthzenRefusal', 'caller authentication failed'),
          '413': json('AuthzenRefusal', 'body too large'),
        },
      },
    },
    '/.well-known/authzen-configuration': {
      get: { tags: ['AuthZEN'], summary: 'AuthZEN PDP metadata', operationId: 'authzenConfiguration', responses: { '200': json('AuthzenConfiguration', 'the endpoints') } },
    },
    '/health': {
      get: {
        tags: ['Operations'],
        summary: 'Liveness; with `?bundles` (OPA) also that every configured bundle activated once',
        operationId: 'health',
        parameters: [
          { name: 'bundles', in: 'query', required: false, allowEmptyValue: true, schema: { type: 'string' } },
          { name: 'plugins', in: 'query', required: false, allowEmptyValue: true, schema: { type: 'string' } },
        ],
        responses: { '200': json('Health', '`{}`, or `{"warning": …}` while a reload is failing'), '500': json('Health', '`{"error": …}`') },
      },
    },
    '/v1/status': {
      get: {
        tags: ['Operations'],
        summary: "Per bundle: active revision, activation and attempt times, consecutive failures, the last error (OPA's status API in spirit)",
        operationId: 'status',
        responses: { '200': { description: 'the status document (docs/service.md)', content: { 'application/json': { schema: { type: 'object' } } } }, '401': refusals['401'] },
      },
    },
    '/.well-known/jwks.json': {
      get: { tags: ['Approvals'], summary: "The PDP's public signing key (approvals, Txn-Tokens); only with `signing` configured", operationId: 'jwks', responses: { '200': { description: 'a JWKS', content: { 'application/json': { schema: { type: 'object', required: ['keys'], properties: { keys: { type: 'array' } } } } } } } },
    },
    '/approvals/{request}': {
      get: { tags: ['Approvals'], summary: 'The approval page (HTML) for one signed approval request', operationId: 'approvalPage', parameters: [approvalRequestParam], responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } } },
      post: { tags: ['Approvals'], summary: 'Approve or reject (form post from the page, or JSON)', operationId: 'approvalDecide', parameters: [approvalRequestParam], responses: { '200': { description: 'the signed approval (HTML or JSON)' } } },
    },
    '/health/live': { get: { tags: ['Operations'], summary: 'Liveness', operationId: 'healthLive', responses: { '200': json('Health', '`{}`') } } },
    '/ready': {
      get: { tags: ['Operations'], summary: 'Readiness: every configured bundle is active', operationId: 'ready', responses: { '200': json('Ready', 'ready, with the active revisions'), '503': json('Ready', 'not ready, with why') } },
    },
    '/health/ready': {
      get: { tags: ['Operations'], summary: 'Readiness (same as /ready)', operationId: 'healthReady', responses: { '200': json('Ready', 'ready'), '503': json('Ready', 'not ready') } },
    },
    '/metrics': {
      get: {
        tags: ['Operations'],
        summary: 'Prometheus metrics (docs/service.md lists them)',
        operationId: 'metrics',
        responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    [OPENAPI_PATH]: {
      get: {
        tags: ['Operations'],
        summary: 'This document',
        operationId: 'openapi',
        responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
  };
}

let built: Obj | undefined;

/** The document (built on first use; the same object afterwards). */
export function openApiDocument(): Obj {
  if (built) return built;
  const schemas: Obj = {
    DecideRequest: embedded(decideSchema),
    DecideBatchRequest: embedded(batchSchema),
    ...(embedded((responses as { $defs: Obj }).$defs) as Obj),
  };
  built = {
    openapi: '3.1.0',
    info: {
      title: 'Agent-tool PDP',
      version: productVersion(),
      description: "Policy decision point for AI agents' tool calls. Every refusal carries `allow: false` (AuthZEN: `decision: false`), so a client that reads only that field fails closed.",
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths: paths(),
    // which of these applies is the server's `authentication.mode` (docs/identity.md); `{}` is mode none
    security: [{}, { bearer: [] }, { mtls: [] }],
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key (mode api_key) or a client-credentials JWT (mode jwt)' },
        mtls: { type: 'mutualTLS', description: 'a client certificate from server.tls.client_ca_file (mode mtls)' },
      },
    },
  };
  return built;
}
