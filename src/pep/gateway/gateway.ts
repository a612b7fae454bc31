/**
 * The MCP gateway: a Streamable HTTP endpoint that agents connect to instead of the MCP server.
 * Every `tools/call` is decided by the PDP before it is forwarded; `tools/list` shows only tools the
 * caller may call; anything the gateway cannot authorise is refused.
 *
 * @example
 * const gw = await startGateway({ upstreams: [{ url: 'http://billing:3000/mcp', serverName: 'billing' }],
 *                                 pdp: { url: 'http://pdp:8181', apiKey: 'k' }, port: 8080 });
 * // agents connect to http://localhost:8080/mcp
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { PdpClient, PdpClientOptions } from '../client';
import { DEFAULT_HEADERS, IdentityHeaderNames } from './identity';
import { GatewayMetrics } from './metrics';
import { GatewayAuthOptions, METADATA_PREFIX, ResourceGuard } from './oauth';
import { GatewaySession } from './session';
import { checkUpstream, describeUpstream, UpstreamRoute } from './upstream';

export interface GatewayRoute extends UpstreamRoute {
  /** where agents connect for this upstream; default `/mcp`, or `/<serverName>/mcp` when several upstreams share a gateway */
  path?: string;
}

export interface GatewayOptions {
  upstreams: GatewayRoute[];
  /** a PdpClient, or options to make one (`url`, `apiKey`, `timeoutMs` …) */
  pdp: PdpClient | PdpClientOptions;
  port?: number;
  host?: string;
  /** header names to read credentials from (lower case); see IdentityHeaderNames */
  headers?: Partial<IdentityHeaderNames>;
  /** largest accepted request body (default 4 MiB) */
  maxBodyBytes?: number;
  /** at most this many open agent sessions (default 1000); more are refused with 503 */
  maxSessions?: number;
  /** receives one object per decision and per session event (default: none) */
  log?: (event: Record<string, unknown>) => void;
  /** ask for a needed approval through MCP elicitation when the agent's client declared it (default true) */
  elicitApprovals?: boolean;
  /** how long such an elicitation waits for the person (default 5 minutes) */
  elicitationTimeoutMs?: number;
  /**
   * MCP authorization: every MCP request needs an access token from one of these authorization servers,
   * issued for the endpoint (audience = its URL); else 401 with a `WWW-Authenticate` challenge naming the
   * protected resource metadata. Off by default (the token, if any, goes to the PDP unchecked here).
   */
  auth?: GatewayAuthOptions;
  /** the gateway's origin as agents reach it, e.g. `https://gw.example.com` (default: its listen address) */
  publicUrl?: string;
  /** add prom-client's process metrics to `/metrics` (default false) */
  defaultMetrics?: boolean;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** the resolved mount paths, e.g. ['/mcp'] */
  paths: string[];
  sessions(): number;
  close(): Promise<void>;
}

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  if (!opts.upstreams.length) throw new Error('gateway: at least one upstream is required');
  const routes = new Map<string, GatewayRoute>();
  for (const r of opts.upstreams) {
    checkUpstream(r); // a clear error at start, not on the first agent
    const path = r.path ?? (opts.upstreams.length === 1 ? '/mcp' : r.serverName ? `/${r.serverName}/mcp` : '');
    if (!path) throw new Error(`gateway: upstream ${describeUpstream(r)} needs a server name (name=url) when there are several upstreams`);
    if (!path.startsWith('/') || RESERVED.includes(path) || path.startsWith('/.well-known/')) throw new Error(`gateway: cannot mount an upstream at ${path}`);
    if (routes.has(path)) throw new Error(`gateway: two upstreams mounted at ${path}`);
    routes.set(path, r);
  }
  const headerNames: IdentityHeaderNames = { ...DEFAULT_HEADERS };
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (v) headerNames[k as keyof IdentityHeaderNames] = v.toLowerCase();
  if (opts.auth && headerNames.userToken !== 'authorization') throw new Error('gateway: with auth, the user token is the Authorization header (drop the user token header setting)');
  const pdpClient = opts.pdp instanceof PdpClient ? opts.pdp : new PdpClient(opts.pdp);
  const ownsPdp = !(opts.pdp instanceof PdpClient);
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const maxSessions = opts.maxSessions ?? 1000;
  const log = opts.log ?? (() => undefined);
  const sessions = new Map<string, GatewaySession>();
  const opening = new Set<GatewaySession>();
  const metrics = new GatewayMetrics({ defaultMetrics: opts.defaultMetrics, sessions: () => sessions.size });
  const pdp = metrics.timed(pdpClient);
  let guard: ResourceGuard | undefined; // made once the listen address (the default public URL) is known

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const route = routes.get(path);
    if (!route) return other(req, res, path);
    if (opts.auth && !guard) return reply(res, 503, null, -32603, 'gateway is starting');
    if (guard) {
      const g = await guard.check(req.headers.authorization, path);
      if (!g.ok) {
        metrics.authRejected(g.error);
        const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
        if (g.challenge) headers['www-authenticate'] = g.challenge;
        res.writeHead(g.status, headers);
        res.end(JSON.stringify({ error: g.error, error_description: g.description }));
        return;
      }
    }
    const sid = header(req, 'mcp-session-id');
    let body: unknown;
    if (req.method === 'POST') {
      const read = await readJson(req, maxBody);
      if (!read.ok) return reply(res, read.status, null, read.code, read.message);
      body = read.body;
    }
    if (sid) {
      const s = sessions.get(sid);
      if (!s) return reply(res, 404, null, -32001, 'session not found (expired or never opened); initialize again');
      await s.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return reply(res, 400, null, -32000, 'no mcp-session-id: the first request of a session must be initialize');
    }
    if (sessions.size + opening.size >= maxSessions) return reply(res, 503, (body as any).id, -32603, 'too many open sessions');
    let session: GatewaySession;
    try {
      session = await GatewaySession.open(
        { route, pdp, headerNames, log, metrics, elicitApprovals: opts.elicitApprovals, elicitationTimeoutMs: opts.elicitationTimeoutMs },
        (id, s) => {
          opening.delete(s);
          sessions.set(id, s);
          log({ event: 'session.open', session: id, server: s.serverName });
        },
        (s) => {
          opening.delete(s);
          for (const [id, x] of sessions) if (x === s) sessions.delete(id);
        },
      );
    } catch (e) {
      metrics.upstreamError(route.serverName ?? path, 'connect');
      log({ event: 'upstream.unreachable', upstream: describeUpstream(route), error: String((e as Error)?.message ?? e) });
      return reply(res, 502, (body as any).id, -32603, `upstream MCP server unavailable: ${(e as Error)?.message ?? e}`);
    }
    opening.add(session);
    await session.transport.handleRequest(req, res, body);
    if (!session.transport.sessionId) {
      opening.delete(session);
      await session.close();
    }
  }

  /** Everything but the MCP endpoints: health, metrics, the protected resource metadata. */
  async function other(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 404, null, -32600, `no MCP endpoint at ${path}; try ${[...routes.keys()].join(', ')}`);
    if (path === '/health') return json(res, 200, { status: 'ok', sessions: sessions.size, endpoints: [...routes.keys()] });
    if (path === '/metrics') {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (guard && path.startsWith(METADATA_PREFIX)) {
      // the path-suffixed document of each endpoint; the bare one too when there is only one endpoint
      // (the MCP spec's fallback for clients that do not use the challenge's resource_metadata)
      const rest = path.slice(METADATA_PREFIX.length);
      const endpoint = rest === '' && routes.size === 1 ? [...routes.keys()][0] : routes.has(rest) ? rest : undefined;
      if (endpoint) return json(res, 200, guard.metadata(endpoint), { 'cache-control': 'max-age=300', 'access-control-allow-origin': '*' });
    }
    return reply(res, 404, null, -32600, `no MCP endpoint at ${path}; try ${[...routes.keys()].join(', ')}`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      log({ event: 'gateway.error', error: String((e as Error)?.stack ?? e) });
      if (!res.headersSent) reply(res, 500, null, -32603, 'internal gateway error');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (opts.auth) {
    try {
      guard = new ResourceGuard(opts.auth, opts.publicUrl ?? url, [...routes.keys()]);
    } catch (e) {
      await new Promise<void>((r) => server.close(() => r()));
      if (ownsPdp) pdpClient.close();
      throw e;
    }
  }
  return {
    url,
    port,
    paths: [...routes.keys()],
    sessions: () => sessions.size,
    async close() {
      const all = [...sessions.values(), ...opening];
      sessions.clear();
      opening.clear();
      await Promise.allSettled(all.map((s) => s.close()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (ownsPdp) pdpClient.close();
    },
  };
}

const RESERVED = ['/health', '/metrics'];

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function reply(res: http.ServerResponse, status: number, id: unknown, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code, message } }));
}

async function readJson(req: http.IncomingMessage, max: number): Promise<{ ok: true; body: unknown } | { ok: false; status: number; code: number; message: string }> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) return { ok: false, status: 415, code: -32700, message: 'content-type must be application/json' };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) return { ok: false, status: 413, code: -32600, message: `request body larger than ${max} bytes` };
    chunks.push(c as Buffer);
  }
  try {
    return { ok: true, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, status: 400, code: -32700, message: 'request body is not JSON' };
  }
}
