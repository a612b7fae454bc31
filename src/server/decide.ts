/**
 * The one decision pipeline: /v1/decide, /v1/decide/batch and AuthZEN all call
 * DecisionService.decide. It takes the active bundle set once, at the start of the call, and
 * evaluates on it (a concurrent swap never changes a decision midway); maps the result set to
 * `{allow, reasons, obligations}` failing closed; logs the decision; counts it.
 */
import { randomUUID } from 'crypto';
import type { BundleManager } from '../bundles/manager';
import type { ActiveBundle } from '../engine/engine';
import { Documents, type DocumentAnswer } from '../engine/documents';
import { overlaps } from '../bundles/bundle';
import { setKey } from '../util/own-keys';
import { mapDecision } from '../engine/decision';
import type { ResultSet } from '../engine/policy';
import { explainer, ExplainUnavailable, type Explanation, type ExplanationWithheld } from '../engine/explain';
import type { DecisionLogger, DecisionEvent, Preserialized } from './decision-log';
import type { PdpMetrics } from './metrics';
import type { DecisionMeta, DecisionResult, DecisionServiceApi } from './types';

export interface DataAnswer {
  decision_id: string;
  /** absent when the document is undefined */
  result?: unknown;
  error?: { code: string; message: string };
  bundle?: string;
  /** identity resolution refused a token (DecisionMeta.deny): nothing was evaluated */
  deny?: DecisionMeta['deny'];
  /** why the answer may be incomplete, or is undefined (a wasm-only bundle: engine/documents.ts) */
  warning?: { code: string; message: string };
  /** what the answer cost: evaluation, an on-demand compile, whether a compiled module was reused */
  metrics: { eval_ns?: number; compile_ns?: number; cache_hit?: boolean };
  /** the active bundles' revisions (OPA's provenance) */
  revisions: Record<string, { revision: string }>;
}

export class DecisionService implements DecisionServiceApi {
  constructor(
    private readonly bundles: BundleManager,
    private readonly opts: {
      decisionEntrypoint: string;
      logger?: DecisionLogger;
      metrics?: PdpMetrics;
      /** decision_logs.explain: every decision's log line carries its explanation */
      explainLog?: boolean;
      /** data_api.max_compiled_paths: per bundle, the on-demand Data API paths kept compiled */
      maxCompiledPaths?: number;
    },
  ) {}

  /** The bundle serving an entrypoint in a snapshot of the active set. */
  static find(snapshot: ReadonlyMap<string, ActiveBundle>, entrypoint: string): ActiveBundle | undefined {
    for (const b of snapshot.values()) if (b.has(entrypoint)) return b;
    return undefined;
  }

  async decide(input: Record<string, unknown>, meta: DecisionMeta): Promise<DecisionResult> {
    return this.decideSync(input, meta);
  }

  /** Synchronous core (evaluation is synchronous); the async wrapper is the public seam. */
  decideSync(input: Record<string, unknown>, meta: DecisionMeta): DecisionResult {
    return this.decideText(input, meta).result;
  }

  /**
   * decideSync, also returning the result as JSON text (exactly JSON.stringify(result)), built from the
   * pieces the decision log needs anyway so that nothing is serialised twice.
   */
  decideText(input: Record<string, unknown>, meta: DecisionMeta): { result: DecisionResult; json: string } {
    const snapshot = this.bundles.current();
    const entrypoint = meta.entrypoint ?? this.opts.decisionEntrypoint;
    const decision_id = randomUUID();
    const bundle = DecisionService.find(snapshot, entrypoint);
    let out: DecisionResult;
    let raw: unknown;
    let evalNs: number | undefined;
    let inputJson: string | undefined;
    let mappedJson: string | undefined;
    let resultJson: string | undefined;
    let json: string | undefined;
    let why: Explanation | ExplanationWithheld | undefined;
    const explaining = meta.explain || this.opts.explainLog;
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
        if (explaining) why = { rules: [], reasons: [{ code: meta.deny.code, rules: [] }], allow: [], not_evaluated: 'identity resolution refused a token: the policy was not evaluated' };
      } else {
        try {
          inputJson = JSON.stringify(input);
          const ev = bundle.evaluateJson(entrypoint, inputJson);
          evalNs = ev.evalNs;
          raw = ev.resultSet.length === 1 ? ev.resultSet[0].result : undefined;
          const mapped = mapDecision(ev.resultSet, entrypoint);
          out = { decision_id, allow: mapped.allow, reasons: mapped.reasons, obligations: mapped.obligations, policy };
          // the same text as JSON.stringify(out) and JSON.stringify(mapped), each piece serialised once
          const pieces = { allow: String(mapped.allow), reasons: JSON.stringify(mapped.reasons), obligations: JSON.stringify(mapped.obligations) };
          const tail = `"allow":${pieces.allow},"reasons":${pieces.reasons},"obligations":${pieces.obligations}`;
          json = `{"decision_id":${JSON.stringify(decision_id)},${tail},"policy":${this.policyJson(bundle, entrypoint)}}`;
          if (mapped.asIs) {
            // the policy's value is the decision itself: the log's `result` is spliced from the same
            // pieces (in the value's own key order) and carries no separate mapped_result
            resultJson = `{${Object.keys(raw as object).map((k) => `"${k}":${pieces[k as keyof typeof pieces]}`).join(',')}}`;
          } else mappedJson = `{${tail}}`;
          if (explaining) why = this.explanation(bundle, entrypoint, inputJson, ev.resultSet, mapped.reasons);
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
    if (explaining && !why) why = { unavailable: out.error ? `not evaluated: ${out.error.message}` : 'not evaluated' };
    this.record(out, input, raw, evalNs, meta, snapshot, bundle, entrypoint, { input: inputJson, result: resultJson, mapped_result: mappedJson }, this.opts.explainLog ? why : undefined);
    if (!meta.explain || !why) return { result: out, json: json ?? JSON.stringify(out) };
    const text = json ?? JSON.stringify(out);
    out.explain = why;
    return { result: out, json: `${text.slice(0, -1)},"explain":${JSON.stringify(why)}}` };
  }

  /**
   * Why the plain module answered `plain`: the bundle's instrumented module (compiled on first use,
   * once per revision) evaluated on the same input. Never changes the decision; a bundle that cannot
   * be explained says so in `unavailable`.
   */
  private explanation(bundle: ActiveBundle, entrypoint: string, inputJson: string | undefined, plain: ResultSet, reasons: DecisionResult['reasons']): Explanation | ExplanationWithheld {
    try {
      return explainer(bundle).explain(entrypoint, inputJson, plain, reasons);
    } catch (err) {
      return { unavailable: err instanceof ExplainUnavailable ? err.message : `the instrumented policy failed: ${(err as Error).message}` };
    }
  }

  /**
   * Whether the bundle serving an entrypoint can be explained: undefined when it can (its instrumented
   * module is then compiled), else why not. Lets /v1/decide refuse `?explain=full` up front.
   */
  explainUnavailable(entrypoint?: string): string | undefined {
    const bundle = DecisionService.find(this.bundles.current(), entrypoint ?? this.opts.decisionEntrypoint);
    if (!bundle) return undefined; // no policy: the decision itself says so
    try {
      explainer(bundle);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** JSON of `{bundle, revision, entrypoint}` per active bundle (immutable) and entrypoint. */
  private readonly policyJsons = new WeakMap<ActiveBundle, Map<string, string>>();
  private policyJson(bundle: ActiveBundle, entrypoint: string): string {
    let m = this.policyJsons.get(bundle);
    if (!m) this.policyJsons.set(bundle, (m = new Map()));
    let j = m.get(entrypoint);
    if (j === undefined) {
      if (m.size > 64) m.clear();
      m.set(entrypoint, (j = JSON.stringify({ bundle: bundle.name, revision: bundle.revision, entrypoint })));
    }
    return j;
  }

  /**
   * `{name: {revision}}` of a snapshot, and its JSON; snapshots are immutable (a swap makes a new
   * one), so both are computed once each.
   */
  private readonly bundleRevisions = new WeakMap<ReadonlyMap<string, ActiveBundle>, { value: Record<string, { revision: string }>; json: string }>();
  private bundlesOf(snapshot: ReadonlyMap<string, ActiveBundle>): { value: Record<string, { revision: string }>; json: string } {
    let r = this.bundleRevisions.get(snapshot);
    if (!r) {
      const value: Record<string, { revision: string }> = {};
      for (const [name, b] of snapshot) value[name] = { revision: b.revision };
      r = { value, json: JSON.stringify(value) };
      this.bundleRevisions.set(snapshot, r);
    }
    return r;
  }

  /** new Date().toISOString(), computed once per millisecond: every decision's log line needs one */
  private lastMs = -1;
  private lastIso = '';
  private timestamp(): string {
    const ms = Date.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }

  /** The decision-log event a decision and a Data API answer share (`mapped_result` for decisions only). */
  private event(
    decision_id: string,
    entrypoint: string,
    input: unknown,
    result: unknown,
    mapped_result: DecisionEvent['mapped_result'],
    snapshot: ReadonlyMap<string, ActiveBundle>,
    meta: DecisionMeta,
    evalNs: number | undefined,
  ): DecisionEvent {
    return {
      decision_id,
      timestamp: this.timestamp(),
      path: entrypoint,
      input,
      result,
      mapped_result,
      // shared by every event of this snapshot: the log only reads it (masking touches input/result only)
      bundles: this.bundlesOf(snapshot).value,
      caller: meta.caller,
      request_id: meta.requestId,
      api_path: meta.path,
      metrics: evalNs !== undefined ? { eval_ns: evalNs, timer_rego_query_eval_ns: evalNs } : {},
    };
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
    pre: Preserialized = {},
    explain?: unknown,
  ): void {
    const m = this.opts.metrics;
    if (m) {
      m.countDecision(out.error ? 'error' : out.allow ? 'allow' : 'deny', bundle?.name ?? '');
      m.countDenyReasons(out);
      if (evalNs !== undefined) m.evalSeconds.observe(evalNs / 1e9);
      if (out.error?.code === 'evaluation_error') m.evalErrors.labels(bundle?.name ?? '').inc();
    }
    const logger = this.opts.logger;
    if (logger?.enabled) {
      // mapped_result only where the mapping changed the policy's value (MappedDecision.asIs)
      const mapped = pre.result !== undefined ? undefined : { allow: out.allow, reasons: out.reasons, obligations: out.obligations };
      const ev = this.event(out.decision_id, entrypoint, input, raw, mapped, snapshot, meta, evalNs);
      if (out.error) ev.error = out.error;
      if (explain !== undefined) ev.explain = explain;
      pre.bundles = this.bundlesOf(snapshot).json;
      logger.log(ev, bundle, pre);
    }
  }

  /** Each active bundle's documents by path (engine/documents.ts), made on first use, gone with the bundle. */
  private readonly documents = new WeakMap<ActiveBundle, Documents>();
  private documentsOf(b: ActiveBundle): Documents {
    let d = this.documents.get(b);
    if (!d) this.documents.set(b, (d = new Documents(b, this.opts.maxCompiledPaths)));
    return d;
  }

  /**
   * OPA's Data API: the document at a slash path, from every active bundle whose roots overlap it
   * (entrypoints, any rule or package of a bundle with sources, base data: engine/documents.ts). No
   * mapping: the raw value is the answer, and no `result` key means undefined.
   */
  data(path: string, input: unknown, meta: DecisionMeta, opts: { strict?: boolean } = {}): DataAnswer {
    const snapshot = this.bundles.current();
    const segments = path.split('/').filter(Boolean);
    const entrypoint = segments.join('/');
    const decision_id = randomUUID();
    const ans: DataAnswer = { decision_id, metrics: {}, revisions: this.bundlesOf(snapshot).value };
    // serialised once, for the policy and for the log line
    const inputJson = input === undefined ? undefined : JSON.stringify(input);
    let bundle: ActiveBundle | undefined;
    if (meta.deny) {
      // an identity that failed verification never reaches the policy (as in decideText)
      ans.deny = meta.deny;
    } else {
      // bundles own disjoint roots: at most one holds a path below a root; a path above roots (say the
      // root itself) is the union of each bundle's part
      const parts: unknown[] = [];
      for (const b of snapshot.values()) {
        if (!b.bundle.manifest.roots.some((r) => overlaps(r, entrypoint))) continue;
        bundle ??= b;
        let doc: DocumentAnswer;
        try {
          doc = this.documentsOf(b).answer(segments, inputJson, opts);
        } catch (err) {
          ans.error = { code: 'evaluation_error', message: (err as Error).message };
          break;
        }
        if (doc.evalNs !== undefined) ans.metrics.eval_ns = (ans.metrics.eval_ns ?? 0) + doc.evalNs;
        if (doc.compileNs !== undefined) ans.metrics.compile_ns = (ans.metrics.compile_ns ?? 0) + doc.compileNs;
        if (doc.cacheHit) ans.metrics.cache_hit = true;
        if (doc.warning) ans.warning ??= doc.warning;
        if (doc.error) {
          ans.error = doc.error;
          break;
        }
        if (doc.defined) parts.push(doc.value);
      }
      if (!ans.error && parts.length > 0) {
        ans.result = parts.length === 1 ? parts[0] : parts.reduce(mergeDocuments);
        ans.bundle = bundle?.name;
      }
    }
    const evalNs = ans.metrics.eval_ns;
    const m = this.opts.metrics;
    if (m && evalNs !== undefined) m.evalSeconds.observe(evalNs / 1e9);
    // a parameter the bundle cannot honour (strict without sources) is the caller's mistake, not an evaluation error
    if (m && ans.error && ans.error.code !== 'invalid_parameter') m.evalErrors.labels(bundle?.name ?? '').inc();
    const logger = this.opts.logger;
    if (logger?.enabled) {
      const denied = ans.deny ? { allow: false, reasons: [{ ...ans.deny }], obligations: {} } : undefined;
      const ev = this.event(decision_id, entrypoint, input, ans.result, denied, snapshot, meta, evalNs);
      if (ans.error) ev.error = ans.error;
      logger.log(ev, bundle, { input: inputJson, bundles: this.bundlesOf(snapshot).json });
    }
    return ans;
  }
}

/** Two bundles' parts of one document above their roots: objects merged key by key (roots are disjoint). */
function mergeDocuments(a: unknown, b: unknown): unknown {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) {
    setKey(out, k, Object.prototype.hasOwnProperty.call(out, k) ? mergeDocuments(out[k], v) : v);
  }
  return out;
}
