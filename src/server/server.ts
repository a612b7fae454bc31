/**
 * Assembles one PDP process: bundle manager, decision service, decision log, metrics, the lean
 * decision routes and the express app for everything else (health, readiness, metrics, AuthZEN).
 *
 *   node:http ──► /v1/decide, /v1/decide/batch, /v1/data/*  (handlers.ts, no framework)
 *            └──► express: /health, /ready, /metrics, AuthZEN, 404s
 */
import * as http from 'http';
import * as https from 'https';
import type { AddressInfo } from 'net';
import express from 'express';
import { BundleManager, type BundleManagerOptions, type LogFn, type PollTimers } from '../bundles/manager';
import { DecisionService } from './decide';
import { DecisionLogger } from './decision-log';
import { PdpMetrics } from './metrics';
import { handleDecide, handleDecideBatch, handleData, send, type HandlerDeps } from './handlers';
import { tlsServerOptions } from './caller-auth';
import { PdpTokens } from './pdp-tokens';
import { mountApprovals } from './approvals-page';
import { TokenVerifier } from '../identity/verify';
import { DEFAULT_MAX_JSON_DEPTH, DEFAULT_REQUEST_TIMEOUT_MS } from './config';
import { clusterMetricsText, inCluster, shareWithPrimary } from './cluster-metrics';
import { logThroughPrimary, relayToPrimary } from './cluster-log';
import { OPENAPI_PATH, openApiDocument } from './openapi';
import { DecisionLogUploader, type UploadConfig } from './decision-log-upload';
import { statusDocument, strictHealthProblem } from './status';
import { productVersion } from '../util/version';
import type { AuthzenDeps, CallerAuth, IdentityResolver, PdpConfig } from './types';

export interface PdpServer {
  config: PdpConfig;
  /** an https.Server when `server.tls` is configured */
  server: http.Server | https.Server;
  app: express.Express;
  bundles: BundleManager;
  service: DecisionService;
  metrics: PdpMetrics;
  logger: DecisionLogger;
  /** Start listening; resolves with the bound port. */
  listen(): Promise<number>;
  /** the "http://addr:port" base URL once listening */
  url(): string;
  close(): Promise<void>;
}

export interface CreateOptions {
  /** operational log lines (JSON); default: stderr */
  log?: LogFn;
  /** replace identity resolution (tests) */
  resolver?: IdentityResolver;
  callerAuth?: CallerAuth;
  /** route the decision endpoints through express too (to measure the framework's cost) */
  lean?: boolean;
  /** watch sources for hot reload (default true) */
  watch?: boolean;
  defaultMetrics?: boolean;
  /** the HTTP bundle poller's timers (tests inject a fake clock) */
  pollTimers?: PollTimers;
  /** how local sources are watched (bundles/watch.ts): debounce, backstop period, fs events on/off */
  watchOptions?: Pick<BundleManagerOptions, 'debounceMs' | 'checkIntervalMs' | 'fsEvents'>;
}

export function jsonLogger(stream: NodeJS.WritableStream = process.stderr): LogFn {
  return (level, msg, fields) => {
    stream.write(JSON.stringify({ level, time: new Date().toISOString(), msg, ...(fields ?? {}) }) + '\n');
  };
}

/** A resolver that passes the request through unchanged: used only when src/identity is absent. */
const passThroughResolver: IdentityResolver = {
  async resolve(body) {
    return { input: body as unknown as Record<string, unknown> };
  },
};

function defaultResolver(config: PdpConfig, log: LogFn): IdentityResolver {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('../identity') as { createIdentityResolver?: (cfg: unknown, opts?: { baseDir?: string }) => IdentityResolver };
    // relative jwks_file / public_key_pem paths are relative to the config file, like every other path in it
    if (typeof mod.createIdentityResolver === 'function') return mod.createIdentityResolver(config.identity ?? {}, { baseDir: config.config_dir });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
  }
  log('warn', 'identity module not available: tokens are NOT verified; requests pass through as input');
  return passThroughResolver;
}

function defaultCallerAuth(config: PdpConfig, log: LogFn): CallerAuth | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('./caller-auth') as {
      createCallerAuth?: (cfg: unknown, listen: { address: string; tls: boolean }, log?: (m: string) => void) => CallerAuth;
    };
    if (typeof mod.createCallerAuth === 'function') {
      // mTLS is possible only when the server listens with TLS and asks for client certificates
      const tls = Boolean(config.server.tls?.client_ca_file);
      return mod.createCallerAuth(config.authentication, { address: config.server.addr, tls }, (m) => log('warn', m));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
  }
  return undefined;
}

function mountAuthzenIfPresent(app: express.Express, deps: AuthzenDeps, log: LogFn): void {
  let mod: { mountAuthzen?: (app: express.Express, deps: AuthzenDeps & { entrypoint?: string }) => void };
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    mod = require('./authzen');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    log('info', 'AuthZEN endpoints not available in this build');
    return;
  }
  if (typeof mod.mountAuthzen === 'function') mod.mountAuthzen(app, { ...deps, entrypoint: deps.config.authzen?.entrypoint });
}

/** The decision-log upload, counted in the server's metrics; each worker uploads its own events. */
function createUploader(cfg: UploadConfig, metrics: PdpMetrics, log: LogFn): DecisionLogUploader {
  let failures = 0;
  return new DecisionLogUploader(cfg, {
    onUploaded: (n) => metrics.logUploaded.inc(n),
    onDropped: (n, why) => metrics.logUploadDropped.labels(why).inc(n),
    onFailure: (err) => {
      metrics.logUploadFailures.inc();
      // one line for the first failure and then every 100th, not one per retry
      if (failures++ % 100 === 0) log('warn', 'decision log upload failed; retrying', { error: err.message, failures });
    },
  }, productVersion());
}

export function createPdpServer(config: PdpConfig, opts: CreateOptions = {}): PdpServer {
  const log = opts.log ?? jsonLogger();
  const metrics = new PdpMetrics({ defaultMetrics: opts.defaultMetrics });
  const uploader = config.decision_logs.upload ? createUploader(config.decision_logs.upload, metrics, log) : undefined;
  const logger = new DecisionLogger({
    sink: uploader ? (line) => uploader.push(line) : undefined,
    output: config.decision_logs.output,
    mask: config.decision_logs.mask,
    bufferSizeLimitEvents: config.decision_logs.buffer_size_limit_events,
    onDrop: () => metrics.logDropped.inc(),
    onError: (err) => log('error', 'decision log error', { error: err.message }),
    // with several workers, one writer: the primary (cluster-log.ts)
    stream: logThroughPrimary(config.decision_logs.output) ? relayToPrimary() : undefined,
  });
  const bundles = new BundleManager({
    keys: config.keys,
    persistenceDir: config.persistence_directory,
    decisionEntrypoint: config.decision_entrypoint,
    log,
    onLoad: (b, result) => metrics.bundleLoaded(b, result),
    watch: opts.watch,
    timers: opts.pollTimers,
    ...opts.watchOptions,
  });
  metrics.readBundleStatus(() => bundles.statuses());
  const service = new DecisionService(bundles, { decisionEntrypoint: config.decision_entrypoint, logger, metrics, explainLog: !!config.decision_logs.explain, maxCompiledPaths: config.data_api?.max_compiled_paths });
  const resolver = opts.resolver ?? defaultResolver(config, log);
  const callerAuth = opts.callerAuth ?? defaultCallerAuth(config, log);
  const tokens = PdpTokens.fromConfig(config, log);
  const dataApiRawInput = config.data_api?.raw_input === true;
  if (dataApiRawInput) {
    log('warn', 'data_api.raw_input is on: /v1/data evaluates its input as sent, without verifying tokens; any caller can claim any identity there');
  }
  const deps: HandlerDeps = { service, resolver, callerAuth, metrics, bodyLimit: config.server.body_limit_bytes, maxJsonDepth: config.server.max_json_depth ?? DEFAULT_MAX_JSON_DEPTH, dataApiRawInput, tokens };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const timed = (handler: string, fn: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<number>) =>
    async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const t0 = process.hrtime.bigint();
      const code = await fn(req, res);
      metrics.observeHttp(code, handler, req.method ?? 'GET', Number(process.hrtime.bigint() - t0) / 1e9);
    };
  const decideRoute = timed('v1/decide', (req, res) => handleDecide(deps, req, res));
  const batchRoute = timed('v1/decide/batch', (req, res) => handleDecideBatch(deps, req, res));
  const dataRoute = timed('v1/data', (req, res) => handleData(deps, req, res, new URL(req.url ?? '/', 'http://x')));

  const health = (req: express.Request, res: express.Response) => {
    const t0 = process.hrtime.bigint();
    const q = req.query as Record<string, unknown>;
    const wantBundles = 'bundles' in q || 'bundle' in q || 'plugins' in q;
    // OPA's check covers the initial activation only; `strict` also fails while a newest reload failed
    // Without `strict` a failing reload stays a 200 (OPA's answer) but is named in the body, so a person
    // looking at /health?bundles sees the typo; alerts use `strict`, /v1/status or the metrics.
    const reloadProblem = wantBundles ? strictHealthProblem(bundles.statuses()) : undefined;
    const problem = !wantBundles
      ? undefined
      : !bundles.allActivated()
        ? 'not all configured bundles have been activated'
        : 'strict' in q
          ? reloadProblem
          : undefined;
    const code = problem ? 500 : 200;
    res.status(code).json(problem ? { error: problem } : reloadProblem ? { warning: reloadProblem } : {});
    metrics.observeHttp(code, 'health', req.method, Number(process.hrtime.bigint() - t0) / 1e9);
  };
  app.get('/health', health);
  app.get('/health/live', (_req, res) => void res.json({}));
  const ready = (_req: express.Request, res: express.Response) => {
    const names = bundles.configuredNames();
    if (names.length > 0 && bundles.allActivated()) {
      const active: Record<string, { revision: string }> = {};
      for (const [n, b] of bundles.current()) active[n] = { revision: b.revision };
      res.json({ ready: true, bundles: active });
    } else {
      res.status(503).json({ ready: false, error: names.length === 0 ? 'no bundles are configured' : 'not all configured bundles have been activated' });
    }
  };
  app.get('/ready', ready);
  app.get('/v1/status', async (req, res) => {
    if (callerAuth) {
      const r = await callerAuth.authenticate(req);
      if (!r.ok) {
        res.set('WWW-Authenticate', r.wwwAuthenticate);
        return void send(res, 401, { error: { code: 'unauthorized', message: r.message } });
      }
    }
    send(res, 200, statusDocument(bundles.statuses(), bundles.allActivated(), productVersion()));
  });
  app.get('/health/ready', ready);
  // with several workers, the primary sums every worker's registry (cluster-metrics.ts)
  shareWithPrimary(metrics.registry);
  app.get('/metrics', async (_req, res) => {
    let text: string;
    try {
      text = inCluster() ? await clusterMetricsText() : await metrics.registry.metrics();
    } catch (err) {
      res.status(503).json({ error: { code: 'metrics_unavailable', message: `metrics of all workers could not be gathered: ${(err as Error).message}` } });
      return;
    }
    res.set('Content-Type', metrics.registry.contentType);
    res.end(text);
  });
  app.get(OPENAPI_PATH, (_req, res) => void res.json(openApiDocument()));
  if (!(opts.lean ?? process.env.PDP_LEAN !== '0')) {
    app.post('/v1/decide', (req, res) => void decideRoute(req, res));
    app.post('/v1/decide/batch', (req, res) => void batchRoute(req, res));
    app.all(/^\/v1\/data(\/.*)?$/, (req, res) => void dataRoute(req, res));
  }
  if (tokens) mountApprovals(app, { tokens, verifier: new TokenVerifier(config.identity ?? {}, { baseDir: config.config_dir }), log });
  mountAuthzenIfPresent(
    app,
    { decide: (input, meta) => service.decide(input, meta), resolver, callerAuth: callerAuth ?? { authenticate: async () => ({ ok: true, caller: { id: 'anonymous', method: 'none' } }) }, config },
    log,
  );
  // every refusal carries `allow: false` (and AuthZEN's `decision: false`): a client that reads only that field denies
  app.use((req, res) => send(res, 404, { allow: false, decision: false, error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } }));
  // express error handler (4 arguments): JSON, never HTML, never a stack
  app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 600 ? err.status : 500;
    const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 400 ? 'invalid_request' : 'internal_error';
    if (status >= 500) log('error', 'request failed', { error: err.message });
    send(res, status, { allow: false, decision: false, error: { code, message: status >= 500 ? 'internal error' : err.message } });
  });

  const lean = opts.lean ?? process.env.PDP_LEAN !== '0';
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (lean) {
      const url = req.url ?? '/';
      if (req.method === 'POST' && (url === '/v1/decide' || url.startsWith('/v1/decide?'))) return void decideRoute(req, res);
      if (req.method === 'POST' && (url === '/v1/decide/batch' || url.startsWith('/v1/decide/batch?'))) return void batchRoute(req, res);
      if ((req.method === 'POST' || req.method === 'GET') && (url.startsWith('/v1/data/') || url === '/v1/data' || url.startsWith('/v1/data?'))) {
        return void dataRoute(req, res);
      }
    }
    app(req as express.Request, res as express.Response);
  };
  // TLS files are read (and checked) here, so a bad server.tls stops the start with the file named
  const tlsOptions = config.server.tls ? tlsServerOptions(config.server.tls, config.config_dir) : undefined;
  // A slow sender (a body at 1 byte/s) must not hold a connection open: node answers a request not
  // received in full within request_timeout_ms (clientError below → JSON 408). It checks connections
  // every connectionsCheckingInterval, so that is kept to a fraction of the timeout.
  const requestTimeout = config.server.request_timeout_ms ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const timeouts = { requestTimeout, connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(requestTimeout / 4))) };
  const server = tlsOptions ? https.createServer({ ...tlsOptions, ...timeouts }, handler) : http.createServer(timeouts, handler);
  // Requests node's parser refuses (header block or URL over its 16 KiB limit, malformed request line)
  // never reach a handler; answer them with a JSON refusal too, not node's bare status line.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: import('stream').Duplex) => {
    if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') return void socket.destroy();
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      const body = JSON.stringify({ allow: false, decision: false, error: { code: 'request_timeout', message: `the request was not received within ${requestTimeout} ms (server.request_timeout_ms)` } });
      return void socket.end(`HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      allow: false,
      decision: false,
      error: { code: tooLarge ? 'headers_too_large' : 'invalid_request', message: tooLarge ? 'request line or headers exceed the size limit' : 'malformed HTTP request' },
    });
    socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = Math.min(66_000, requestTimeout);

  let boundPort = config.server.port;
  return {
    config,
    server,
    app,
    bundles,
    service,
    metrics,
    logger,
    listen: () =>
      new Promise<number>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, config.server.addr, config.server.port)));
        server.listen(config.server.port, config.server.addr, () => {
          boundPort = (server.address() as AddressInfo).port;
          resolve(boundPort);
        });
      }),
    url: () => `${tlsOptions ? 'https' : 'http'}://${config.server.addr.includes(':') ? `[${config.server.addr}]` : config.server.addr}:${boundPort}`,
    close: async () => {
      bundles.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections?.();
      });
      await logger.close();
      await uploader?.close();
    },
  };
}

/** Create, load bundles, listen. Initial bundle failures are returned (the server still runs). */
export async function startPdpServer(config: PdpConfig, opts: CreateOptions = {}): Promise<{ pdp: PdpServer; errors: Map<string, Error> }> {
  const pdp = createPdpServer(config, opts);
  try {
    const errors = await pdp.bundles.start(config.bundles);
    await pdp.listen();
    return { pdp, errors };
  } catch (err) {
    await pdp.close(); // watchers, timers and the log would otherwise keep a process that cannot serve alive
    throw err;
  }
}

/** A listen failure said so that an operator knows what to do (node's own message is terse). */
function listenError(err: NodeJS.ErrnoException, addr: string, port: number): Error {
  const where = `${addr.includes(':') ? `[${addr}]` : addr}:${port}`;
  const why: Record<string, string> = {
    EADDRINUSE: 'the address is already in use (EADDRINUSE): another process holds the port; stop it or choose another port (--port, PDP_PORT, server.port)',
    EACCES: 'permission denied (EACCES): ports below 1024 need privileges; choose another port',
    EADDRNOTAVAIL: 'the address is not available on this host (EADDRNOTAVAIL): check --addr / PDP_ADDR / server.addr',
  };
  return Object.assign(new Error(`cannot listen on ${where}: ${why[err.code ?? ''] ?? err.message}`), { code: err.code });
}
