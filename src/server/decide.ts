/**
 * The one decision pipeline: /v1/decide, /v1/decide/batch and AuthZEN all call
 * DecisionService.decide. It takes the active bundle set once, at the start of the call, and
 * evaluates on it (a concurrent swap never changes a decision midway); maps the result set to
 * `{allow, reasons, obligations}` failing closed; logs the decision; counts it.
 */
import { randomUUID } from 'crypto';
import type { BundleManager } from '../bundles/manager';
import type { ActiveBundle } from '../engine/engine';
import { mapDecision } from '../engine/decision';
import type { DecisionLogger, DecisionEvent } from './decision-log';
import type { PdpMetrics } from './metrics';
import type { DecisionMeta, DecisionResult, DecisionServiceApi } from './types';

export interface DataAnswer {
  decision_id: string;
  /** absent when the document is undefined */
  result?: unknown;
  error?: { code: string; message: string };
  bundle?: string;
}

export class DecisionService implements DecisionServiceApi {
  constructor(
    private readonly bundles: BundleManager,
    private readonly opts: { decisionEntrypoint: string; logger?: DecisionLogger; metrics?: PdpMetrics },
  ) {}

  /** The bundle serving an entrypoint in a snapshot of the active set. */
  static find(snapshot: ReadonlyMap<string, ActiveBundle>, entrypoint: string): ActiveBundle | undefined {
    for (const b of snapshot.values()) if (b.has(entrypoint)) return b;
    return undefined;
  }

  private bundlesOf(snapshot: ReadonlyMap<string, ActiveBundle>): Record<string, { revision: string }> {
    const out: Record<string, { revision: string }> = {};
    for (const [name, b] of snapshot) out[name] = { revision: b.revision };
    return out;
  }

  async decide(input: Record<string, unknown>, meta: DecisionMeta): Promise<DecisionResult> {
    return this.decideSync(input, meta);
  }

  /** Synchronous core (evaluation is synchronous); the async wrapper is the public seam. */
  decideSync(input: Record<string, unknown>, meta: DecisionMeta): DecisionResult {
    const snapshot = this.bundles.current();
    const entrypoint = meta.entrypoint ?? this.opts.decisionEntrypoint;
    const decision_id = randomUUID();
    const bundle = DecisionService.find(snapshot, entrypoint);
    let out: DecisionResult;
    let raw: unknown;
    let evalNs: number | undefined;
    if (!bundle) {
      out = {
        decision_id,
        allow: false,
        reasons: [{ code: 'pdp.no_policy', message: `no active bundle serves ${entrypoint}` }],
        obligations: {},
        error: { code: 'no_policy', message: `no active bundle serves ${entrypoint}` },
      };
    } else {
      const policy = { bundle: bundle.name, revision: bundle.revision, entrypoint };
      if (meta.deny) {
        // an identity that failed verification never reaches the policy
        out = { decision_id, allow: false, reasons: [{ ...meta.deny }] /* keep token/reason: the caller needs to know which token failed and why */, obligations: {}, policy };
      } else {
        try {
          const ev = bundle.evaluate(entrypoint, input);
          evalNs = ev.evalNs;
          raw = ev.resultSet.length === 1 ? ev.resultSet[0].result : undefined;
          out = { decision_id, ...mapDecision(ev.resultSet, entrypoint), policy };
        } catch (err) {
          const message = (err as Error).message;
          out = {
            decision_id,
            allow: false,
            reasons: [{ code: 'policy.evaluation_error', message }],
            obligations: {},
            policy,
            error: { code: 'evaluation_error', message },
          };
        }
      }
    }
    this.record(out, input, raw, evalNs, meta, snapshot, bundle, entrypoint);
    return out;
  }

  private record(
    out: DecisionResult,
    input: unknown,
    raw: unknown,
    evalNs: number | undefined,
    meta: DecisionMeta,
    snapshot: ReadonlyMap<string, ActiveBundle>,
    bundle: ActiveBundle | undefined,
    entrypoint: string,
  ): void {
    const m = this.opts.metrics;
    if (m) {
      m.countDecision(out.error ? 'error' : out.allow ? 'allow' : 'deny', bundle?.name ?? '');
      if (evalNs !== undefined) m.evalSeconds.observe(evalNs / 1e9);
      if (out.error?.code === 'evaluation_error') m.evalErrors.labels(bundle?.name ?? '').inc();
    }
    const logger = this.opts.logger;
    if (logger?.enabled) {
      const ev: DecisionEvent = {
        decision_id: out.decision_id,
        timestamp: new Date().toISOString(),
        path: entrypoint,
        input,
        result: raw,
        mapped_result: { allow: out.allow, reasons: out.reasons, obligations: out.obligations },
        bundles: this.bundlesOf(snapshot),
        caller: meta.caller,
        request_id: meta.requestId,
        api_path: meta.path,
        metrics: evalNs !== undefined ? { eval_ns: evalNs, timer_rego_query_eval_ns: evalNs } : {},
      };
      if (out.error) ev.error = out.error;
      logger.log(ev, bundle);
    }
  }

  /**
   * OPA's Data API: evaluate an entrypoint of any active bundle, or read a data path. No mapping: the
   * raw value is the answer, and no `result` key means undefined.
   */
  data(path: string, input: unknown, meta: DecisionMeta): DataAnswer {
    const snapshot = this.bundles.current();
    const entrypoint = path.split('/').filter(Boolean).join('/');
    const decision_id = randomUUID();
    const bundle = DecisionService.find(snapshot, entrypoint);
    let ans: DataAnswer = { decision_id };
    let evalNs: number | undefined;
    if (bundle) {
      ans.bundle = bundle.name;
      try {
        const ev = bundle.evaluate(entrypoint, input);
        evalNs = ev.evalNs;
        if (ev.resultSet.length > 1) {
          ans.error = { code: 'evaluation_error', message: `${entrypoint} produced ${ev.resultSet.length} results` };
        } else if (ev.resultSet.length === 1) ans.result = ev.resultSet[0].result;
      } catch (err) {
        ans.error = { code: 'evaluation_error', message: (err as Error).message };
      }
    } else {
      for (const b of snapshot.values()) {
        const v = b.dataAt(entrypoint);
        if (v !== undefined) {
          ans = { decision_id, result: v, bundle: b.name };
          break;
        }
      }
    }
    const m = this.opts.metrics;
    if (m && evalNs !== undefined) m.evalSeconds.observe(evalNs / 1e9);
    if (m && ans.error) m.evalErrors.labels(bundle?.name ?? '').inc();
    const logger = this.opts.logger;
    if (logger?.enabled) {
      const ev: DecisionEvent = {
        decision_id,
        timestamp: new Date().toISOString(),
        path: entrypoint,
        input,
        result: ans.result,
        bundles: this.bundlesOf(snapshot),
        caller: meta.caller,
        request_id: meta.requestId,
        api_path: meta.path,
        metrics: evalNs !== undefined ? { eval_ns: evalNs, timer_rego_query_eval_ns: evalNs } : {},
      };
      if (ans.error) ev.error = ans.error;
      logger.log(ev, bundle);
    }
    return ans;
  }
}
