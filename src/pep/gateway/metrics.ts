/**
 * The gateway's Prometheus metrics (prom-client), one registry per gateway so several gateways in one
 * process (tests, embedding) stay apart. Served at `GET /metrics`.
 *
 * @example
 * const m = new GatewayMetrics();
 * m.call('billing', 'deny');
 * const text = await m.registry.metrics();
 */
import * as client from 'prom-client';
import type { PdpClient } from '../client';

/** What became of a `tools/call`: forwarded, refused, or no usable decision (failing closed). */
export type CallOutcome = 'allow' | 'deny' | 'error';
/** connect: could not open the upstream; closed: the connection ended on its own; gone/timeout/transport: a request failed */
export type UpstreamErrorKind = 'connect' | 'closed' | 'gone' | 'timeout' | 'transport';

export class GatewayMetrics {
  readonly registry = new client.Registry();
  private readonly calls: client.Counter<'server' | 'decision'>;
  private readonly pdpSeconds: client.Histogram<'operation' | 'outcome'>;
  private readonly upstreamErrors: client.Counter<'server' | 'kind'>;
  private readonly authRejections: client.Counter<'reason'>;

  constructor(opts: { defaultMetrics?: boolean; sessions?: () => number } = {}) {
    const registers = [this.registry];
    this.calls = new client.Counter({
      name: 'pdp_gateway_tool_calls_total',
      help: 'tools/call requests by upstream server and decision (allow: forwarded, deny: refused, error: no usable decision).',
      labelNames: ['server', 'decision'],
      registers,
    });
    this.pdpSeconds = new client.Histogram({
      name: 'pdp_gateway_pdp_request_duration_seconds',
      help: 'Time to get an answer from the PDP, retries included, by operation (decide, decide_batch) and outcome (ok, failure).',
      labelNames: ['operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.upstreamErrors = new client.Counter({
      name: 'pdp_gateway_upstream_errors_total',
      help: 'Failures reaching upstream MCP servers, by server and kind (connect, closed, gone, timeout, transport).',
      labelNames: ['server', 'kind'],
      registers,
    });
    this.authRejections = new client.Counter({
      name: 'pdp_gateway_auth_rejections_total',
      help: 'MCP requests refused before any decision because the bearer token was missing, invalid or lacked a scope.',
      labelNames: ['reason'],
      registers,
    });
    if (opts.sessions) {
      const sessions = opts.sessions;
      new client.Gauge({ name: 'pdp_gateway_sessions', help: 'Open agent sessions.', registers, collect() { this.set(sessions()); } });
    }
    if (opts.defaultMetrics) client.collectDefaultMetrics({ register: this.registry });
  }

  call(server: string, outcome: CallOutcome): void {
    this.calls.inc({ server, decision: outcome });
  }

  upstreamError(server: string, kind: UpstreamErrorKind): void {
    this.upstreamErrors.inc({ server, kind });
  }

  authRejected(reason: string): void {
    this.authRejections.inc({ reason });
  }

  /** The PDP client with every answer timed. A PdpClient never rejects: a deny with `failure` is a failed request. */
  timed(pdp: Pick<PdpClient, 'decide' | 'decideBatch'>): Pick<PdpClient, 'decide' | 'decideBatch'> {
    const time = async <T>(operation: string, run: () => Promise<T>, failed: (r: T) => boolean): Promise<T> => {
      const end = this.pdpSeconds.startTimer({ operation });
      const r = await run();
      end({ outcome: failed(r) ? 'failure' : 'ok' });
      return r;
    };
    return {
      decide: (input, opts) => time('decide', () => pdp.decide(input, opts), (d) => d.failure !== undefined),
      decideBatch: (items, defaults, opts) => time('decide_batch', () => pdp.decideBatch(items, defaults, opts), (ds) => ds.some((d) => d.failure !== undefined)),
    };
  }
}
