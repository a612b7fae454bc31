/**
 * The seams between the decision service and its neighbours (identity, caller authentication,
 * AuthZEN). Everything that crosses a module boundary in src/server is typed here, so the parts can
 * be written in parallel and swapped without touching each other.
 *
 * Flow of one decision:
 *   HTTP body ──ajv──► DecideRequest ──IdentityResolver.resolve──► policy input
 *     ──DecisionService.decide(input, meta)──► DecisionResult (logged, counted) ──► HTTP 200
 */

/** The body of `POST /v1/decide` (DESIGN.md §3). Only `tool` is required by the schema. */
export interface DecideRequest {
  user?: { id?: string; token?: string; attributes?: Record<string, unknown>; [k: string]: unknown };
  agent?: { id?: string; token?: string; attributes?: Record<string, unknown>; [k: string]: unknown };
  tool: {
    server?: string;
    name: string;
    method?: string;
    annotations?: Record<string, unknown>;
    [k: string]: unknown;
  };
  parameters?: Record<string, unknown>;
  task?: { id?: string; token?: string; scope?: Record<string, unknown>; [k: string]: unknown };
  context?: Record<string, unknown>;
  /** a person's approval of this call, signed by the PDP's approval page (docs/approvals.md) */
  approval?: { token: string };
  /** ask for a transaction token for the upstream call in the answer (`txn_token`), when allowed */
  issue_txn_token?: boolean;
  [k: string]: unknown;
}

/** Who called the PDP (the enforcement point), as established by caller authentication. */
export interface CallerIdentity {
  /** a stable id for logs: client id, certificate subject, key name… */
  id: string;
  /** how it was established: 'mtls' | 'bearer' | 'api_key' | 'anonymous' | … */
  method: string;
  /** free-form extra claims kept for the decision log */
  claims?: Record<string, unknown>;
}

/** Headers as node:http gives them. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** Result of identity resolution: the input the policy sees, or a deny decided before evaluation. */
export interface ResolvedInput {
  input: Record<string, unknown>;
  /** set when a token was given but did not verify: the decision is a deny with this reason */
  deny?: { code: string; message: string; [k: string]: unknown };
}

/** Verifies the tokens of a decide request and builds the policy input (owned by src/identity). */
export interface IdentityResolver {
  resolve(body: DecideRequest, headers: RequestHeaders, caller?: CallerIdentity): Promise<ResolvedInput>;
}

export type CallerAuthResult =
  | { ok: true; caller: CallerIdentity }
  | { ok: false; status: 401; wwwAuthenticate: string; message: string };

/** Authenticates the enforcement point calling the PDP (owned by src/server/caller-auth.ts). */
export interface CallerAuth {
  authenticate(req: import('http').IncomingMessage): Promise<CallerAuthResult>;
}

/** A reason attached to a decision (DESIGN.md §3). */
export interface Reason {
  code: string;
  message?: string;
  [k: string]: unknown;
}

/** What a decision was made with: the bundle, its revision, and the entrypoint evaluated. */
export interface PolicyRef {
  bundle: string;
  revision: string;
  entrypoint: string;
}

/** The answer of `/v1/decide` and of DecisionService.decide. */
export interface DecisionResult {
  decision_id: string;
  allow: boolean;
  reasons: Reason[];
  obligations: Record<string, unknown>;
  /** absent only when no bundle was active (then allow is false) */
  policy?: PolicyRef;
  /** set when evaluation failed (the decision is then a deny and the HTTP status 500) */
  error?: { code: string; message: string };
  /** a deny `approval.required`: what to approve and where (docs/approvals.md) */
  approval_request?: { url: string; action_digest: string; summary: string; expires_at: string };
  /** the verified approval this decision used */
  approval?: { verified: true; jti: string; approved_by: string };
  /** an allowed tools/call asked with `issue_txn_token`: the Txn-Token for the upstream call */
  txn_token?: string;
  /** `?explain=full` / `X-PDP-Explain: full`: why (src/engine/explain.ts, docs/service.md) */
  explain?: import('../engine/explain').Explanation | import('../engine/explain').ExplanationWithheld;
}

/** Per-call facts that do not belong in the policy input. */
export interface DecisionMeta {
  caller?: CallerIdentity;
  /** the API path that asked, for logs and metrics: '/v1/decide', '/access/v1/evaluation', … */
  path: string;
  /** the decision entrypoint to evaluate; default: the configured decision entrypoint */
  entrypoint?: string;
  /** the caller's request id (X-Request-ID / context.request_id), kept in the log */
  requestId?: string;
  /** set by identity resolution: decide deny without evaluating the policy (extra fields such as
   *  `token` and `reason` are kept in the reason) */
  deny?: { code: string; message: string; [k: string]: unknown };
  /** the caller asked for an explanation (`?explain=full`): the answer carries `explain` */
  explain?: boolean;
}

/** The one decision pipeline behind /v1/decide, /v1/decide/batch and AuthZEN. */
export interface DecisionServiceApi {
  decide(input: Record<string, unknown>, meta: DecisionMeta): Promise<DecisionResult>;
}

/** What AuthZEN's mountAuthzen (src/server/authzen.ts) receives. */
export interface AuthzenDeps {
  decide: (input: Record<string, unknown>, meta: DecisionMeta) => Promise<DecisionResult>;
  resolver: IdentityResolver;
  callerAuth: CallerAuth;
  config: PdpConfig;
}

/** One configured bundle source. */
export interface BundleSourceConfig {
  /** the bundle's name (used in metrics, logs, `policy.bundle`); default derived from the source */
  name?: string;
  /** a .tar.gz file, a directory (of .rego + data.json, or an unpacked bundle), or an http(s) URL */
  source: string;
  /** HTTP polling, in seconds: a successful poll waits uniformly in [min, max) */
  polling?: { min_delay_seconds?: number; max_delay_seconds?: number; long_polling_timeout_seconds?: number };
  /** keep the last good remote bundle on disk and use it at the next start if the server is down */
  persist?: boolean;
  /** signature verification: a key name from `keys` (its algorithm and key), optional scope */
  signing?: { keyid?: string; scope?: string; exclude_files?: string[] };
  /** extra request headers for HTTP sources (e.g. Authorization) */
  headers?: Record<string, string>;
  /** read limit for the bundle and each file in it; default 1 GiB like OPA */
  size_limit_bytes?: number;
  /**
   * a directory of .rego compiled in-process is Rego v0 unless its `.manifest` says otherwise (OPA's
   * --v0-compatible); `pdp serve --v0-compatible` sets it on every bundle
   */
  v0_compatible?: boolean;
  /**
   * local sources: how changes are noticed (bundles/watch.ts). `events: false` relies on the periodic
   * content check alone (network file systems, where file system events do not arrive);
   * `check_interval_seconds` is that check's period (default 3; 0 turns it off)
   */
  watch?: { events?: boolean; check_interval_seconds?: number };
}

/** The PDP configuration (YAML or JSON file plus PDP_* variables), validated at start. */
export interface PdpConfig {
  server: {
    addr: string;
    port: number;
    /** body limit of the JSON APIs, in bytes (default 1 MiB) */
    body_limit_bytes: number;
    /** nesting limit of every JSON request (body, ?input=), refused with 400 `too_deep` (default 64) */
    max_json_depth?: number;
    /** a request not received in full (headers and body) within this many ms gets 408 (default 30000) */
    request_timeout_ms?: number;
    /** listen with HTTPS (and client certificates when client_ca_file is set) */
    tls?: { cert_file: string; key_file: string; client_ca_file?: string; require_client_cert?: boolean };
  };
  /** the entrypoint /v1/decide evaluates */
  decision_entrypoint: string;
  /**
   * OPA's Data API (/v1/data). `raw_input: true` evaluates `input` as sent, with no identity resolution
   * (OPA's behaviour; any caller can then claim any identity). Default false: `input` is resolved like
   * a /v1/decide body (docs/identity.md).
   */
  data_api?: { raw_input?: boolean; max_compiled_paths?: number };
  /** AuthZEN endpoints: the entrypoint they evaluate (default: decision_entrypoint) */
  authzen?: { entrypoint?: string };
  bundles: BundleSourceConfig[];
  /** verification keys for signed bundles, by key id */
  keys?: Record<string, { algorithm?: string; key: string; scope?: string }>;
  decision_logs: {
    /** 'stdout' (default), 'stderr', 'off', or a file path */
    output: string;
    /** JSON pointers (into the event: "/input/…", "/result/…") to erase before logging */
    mask: string[];
    /** bounded buffer: events queued beyond this are dropped and counted */
    buffer_size_limit_events: number;
    /** upload to an HTTP service in OPA's decision-log API shape (decision-log-upload.ts) */
    upload?: import('./decision-log-upload').UploadConfig;
    /** put each decision's explanation (src/engine/explain.ts) into its log line; slower, off by default */
    explain?: boolean;
  };
  /** where persisted remote bundles go (default ./.pdp) */
  persistence_directory: string;
  /** plug-in modules of custom built-ins (src/builtins/plugins.ts), relative to the config file */
  builtins?: string[];
  /** worker processes (node:cluster); default: number of CPUs */
  workers?: number;
  /** identity section: validated by the identity helper's schema */
  identity?: Record<string, unknown>;
  /** caller authentication section: validated by the identity helper's schema */
  authentication?: Record<string, unknown>;
  /** the PDP's own signing key (approvals, transaction tokens, /.well-known/jwks.json); docs/approvals.md */
  signing?: { key_file: string; jwks_file?: string; issuer?: string };
  /** approval lifetimes and the base URL of approval links (needs `signing`) */
  approvals?: { ttl_seconds?: number; request_ttl_seconds?: number; public_url?: string };
  /** transaction tokens minted for allowed tools/call when the caller asks (needs `signing`) */
  txn_tokens?: { ttl_seconds?: number };
  /**
   * The directory of the config file, set by loadConfig (not a config key): relative paths inside
   * `identity` (jwks_file, public_key_pem) and `server.tls` resolve against it. Default: the cwd.
   */
  config_dir?: string;
}
