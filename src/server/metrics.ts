/**
 * Prometheus metrics (prom-client), one registry per server so tests and workers stay independent.
 * `http_request_duration_seconds{code,handler,method}` keeps OPA's name, labels and buckets so
 * dashboards written for OPA work.
 */
import * as client from 'prom-client';
import { BoundedLabel, DENY_REASON_CODES_MAX, denyCodes } from './deny-reasons';
import type { DecisionResult } from './types';
import type { BundleStatus } from '../bundles/manager';

export class PdpMetrics {
  readonly registry = new client.Registry();
  readonly httpDuration: client.Histogram<'code' | 'handler' | 'method'>;
  readonly decisions: client.Counter<'result' | 'bundle'>;
  readonly evalSeconds: client.Histogram<string>;
  readonly bundleLoads: client.Counter<'bundle' | 'result'>;
  readonly activeRevision: client.Gauge<'bundle' | 'revision'>;
  readonly bundleInfo: client.Gauge<'bundle' | 'revision'>;
  readonly lastSuccess: client.Gauge<'bundle'>;
  readonly lastFailure: client.Gauge<'bundle'>;
  readonly consecutiveFailures: client.Gauge<'bundle'>;
  private bundleStatuses: () => BundleStatus[] = () => [];
  readonly logDropped: client.Counter<string>;
  readonly evalErrors: client.Counter<'bundle'>;
  readonly denyReasons: client.Counter<'code'>;
  readonly logUploaded: client.Counter<string>;
  readonly logUploadDropped: client.Counter<'reason'>;
  readonly logUploadFailures: client.Counter<string>;
  private readonly denyCodeLabels: BoundedLabel;
  private readonly denyChildren = new Map<string, { inc(v?: number): void }>();
  private readonly httpChildren = new Map<string, { observe(v: number): void }>();
  private readonly decisionChildren = new Map<string, { inc(v?: number): void }>();

  constructor(opts: { defaultMetrics?: boolean; denyReasonCodesMax?: number } = {}) {
    const r = this.registry;
    this.httpDuration = new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'A histogram of duration for requests.',
      labelNames: ['code', 'handler', 'method'],
      buckets: [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2, 1e-1, 1],
      registers: [r],
    });
    this.decisions = new client.Counter({
      name: 'pdp_decisions_total',
      help: 'Decisions by outcome (allow, deny, error) and bundle.',
      labelNames: ['result', 'bundle'],
      registers: [r],
    });
    this.evalSeconds = new client.Histogram({
      name: 'pdp_decision_eval_seconds',
      help: 'Policy evaluation time per decision (wasm evaluation only).',
      buckets: [1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.1, 1],
      registers: [r],
    });
    this.bundleLoads = new client.Counter({
      name: 'pdp_bundle_loads_total',
      help: 'Bundle activation attempts by bundle and result (success, failure).',
      labelNames: ['bundle', 'result'],
      registers: [r],
    });
    // The bundle gauges are read from the bundle manager's status at scrape time, so they can never
    // disagree with /v1/status. Across workers (cluster-metrics.ts) each takes the max: an _info metric
    // is 1 where any worker has that revision active (not the number of workers), a timestamp is the
    // newest of any worker, consecutive failures the worst. (Each gauge refreshes all of them when it is
    // read, so the scrape order does not matter.)
    const fromStatus = () => this.collectBundleGauges();
    this.activeRevision = new client.Gauge({
      name: 'pdp_bundle_active_revision',
      help: '1 for the revision of each bundle that is active (older name of pdp_bundle_info).',
      labelNames: ['bundle', 'revision'],
      registers: [r],
      aggregator: 'max',
      collect: fromStatus,
    });
    this.bundleInfo = new client.Gauge({
      name: 'pdp_bundle_info',
      help: '1 for the revision of each bundle that is active.',
      labelNames: ['bundle', 'revision'],
      registers: [r],
      aggregator: 'max',
      collect: fromStatus,
    });
    this.lastSuccess = new client.Gauge({
      name: 'pdp_bundle_last_success_timestamp_seconds',
      help: 'When the bundle was last activated (UNIX seconds).',
      labelNames: ['bundle'],
      registers: [r],
      aggregator: 'max',
      collect: fromStatus,
    });
    this.lastFailure = new client.Gauge({
      name: 'pdp_bundle_last_failure_timestamp_seconds',
      help: 'When a load or reload of the bundle last failed (UNIX seconds; absent if never).',
      labelNames: ['bundle'],
      registers: [r],
      aggregator: 'max',
      collect: fromStatus,
    });
    this.consecutiveFailures = new client.Gauge({
      name: 'pdp_bundle_consecutive_failures',
      help: 'Failed load attempts since the last success: above 0, the bundle served is not what its source holds.',
      labelNames: ['bundle'],
      registers: [r],
      aggregator: 'max',
      collect: fromStatus,
    });
    this.logDropped = new client.Counter({
      name: 'pdp_decision_log_dropped_total',
      help: 'Decision log events dropped because the log buffer was full.',
      registers: [r],
    });
    this.evalErrors = new client.Counter({
      name: 'pdp_decision_errors_total',
      help: 'Evaluation errors (each also counted as a decision with result="error").',
      labelNames: ['bundle'],
      registers: [r],
    });
    this.denyReasons = new client.Counter({
      name: 'pdp_deny_reasons_total',
      help: `Reasons of decisions that did not allow, by code (the first ${opts.denyReasonCodesMax ?? DENY_REASON_CODES_MAX} distinct codes; later ones as "other").`,
      labelNames: ['code'],
      registers: [r],
    });
    this.logUploaded = new client.Counter({
      name: 'pdp_decision_log_uploaded_total',
      help: 'Decision log events delivered to the upload service (2xx).',
      registers: [r],
    });
    this.logUploadDropped = new client.Counter({
      name: 'pdp_decision_log_upload_dropped_total',
      help: 'Decision log events never uploaded: the upload buffer was full (oldest dropped) or one event exceeded the chunk size.',
      labelNames: ['reason'],
      registers: [r],
    });
    this.logUploadFailures = new client.Counter({
      name: 'pdp_decision_log_upload_failures_total',
      help: 'Failed upload attempts (network error or non-2xx); their events are retried.',
      registers: [r],
    });
    this.denyCodeLabels = new BoundedLabel(opts.denyReasonCodesMax ?? DENY_REASON_CODES_MAX);
    if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: r });
  }

  /** Cached label children: the hot path must not build label objects per request. */
  observeHttp(code: number, handler: string, method: string, seconds: number): void {
    const key = `${code}|${handler}|${method}`;
    let h = this.httpChildren.get(key);
    if (!h) {
      h = this.httpDuration.labels(String(code), handler, method);
      this.httpChildren.set(key, h);
    }
    h.observe(seconds);
  }

  countDecision(result: 'allow' | 'deny' | 'error', bundle: string): void {
    const key = `${result}|${bundle}`;
    let c = this.decisionChildren.get(key);
    if (!c) {
      c = this.decisions.labels(result, bundle);
      this.decisionChildren.set(key, c);
    }
    c.inc();
  }

  /** One count per reason code of a deny (deny-reasons.ts bounds the codes). */
  countDenyReasons(result: Pick<DecisionResult, 'allow' | 'reasons'>): void {
    for (const code of denyCodes(result)) {
      const label = this.denyCodeLabels.value(code);
      let c = this.denyChildren.get(label);
      if (!c) {
        c = this.denyReasons.labels(label);
        this.denyChildren.set(label, c);
      }
      c.inc();
    }
  }

  bundleLoaded(bundle: string, result: 'success' | 'failure'): void {
    this.bundleLoads.labels(bundle, result).inc();
  }

  /** Where the bundle gauges read from (the bundle manager's statuses). */
  readBundleStatus(statuses: () => BundleStatus[]): void {
    this.bundleStatuses = statuses;
  }

  private collectBundleGauges(): void {
    for (const g of [this.activeRevision, this.bundleInfo, this.lastSuccess, this.lastFailure, this.consecutiveFailures]) g.reset();
    for (const s of this.bundleStatuses()) {
      if (s.activeRevision !== undefined) {
        this.activeRevision.labels(s.name, s.activeRevision).set(1);
        this.bundleInfo.labels(s.name, s.activeRevision).set(1);
      }
      if (s.activatedAt !== undefined) this.lastSuccess.labels(s.name).set(s.activatedAt / 1000);
      if (s.lastFailureAt !== undefined) this.lastFailure.labels(s.name).set(s.lastFailureAt / 1000);
      this.consecutiveFailures.labels(s.name).set(s.consecutiveFailures);
    }
  }
}
