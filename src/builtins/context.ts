/**
 * Per-evaluation state for host built-ins.
 *
 * OPA evaluates `time.now_ns()` once per query: every call within one decision sees the same instant.
 * The engine owns one EvalContext per loaded policy instance (the SDK's customBuiltins map is bound at
 * load time) and calls `beginEvaluation(ctx)` immediately before every `evaluate()`. Evaluation is
 * synchronous, so a policy instance never runs two evaluations at once and the context cannot leak
 * between decisions.
 */
export interface EvalContext {
  /** built-in errors raise (OPA's strict-builtin-errors) instead of making the call undefined */
  strict: boolean;
  /** the evaluation's clock, fixed at the first time.now_ns() call (nanoseconds since the epoch) */
  nowNs?: bigint;
  /** a fixed clock for tests or replays (nanoseconds since the epoch); wins over the wall clock */
  fixedNowNs?: bigint;
  /**
   * arguments arrive, and results leave, as Rego text (our runtime after pdp_host_exact, see
   * rego-text.ts); otherwise as the SDK's JSON
   */
  exactValues?: boolean;
  /** per-evaluation cache for uuid.rfc4122 (same key ⇒ same UUID within one evaluation, as in OPA) */
  uuidCache?: Map<string, string>;
  /** explain notes `[site, value_json]` of an instrumented policy, while the engine collects them */
  notes?: Array<[string, string]>;
}

export function newEvalContext(opts: { strict?: boolean; fixedNowNs?: bigint } = {}): EvalContext {
  return { strict: !!opts.strict, fixedNowNs: opts.fixedNowNs };
}

/** Reset the per-evaluation values; call before each evaluation of the policy the context belongs to. */
export function beginEvaluation(ctx: EvalContext, opts: { strict?: boolean } = {}): void {
  ctx.nowNs = undefined;
  ctx.uuidCache = undefined;
  if (opts.strict !== undefined) ctx.strict = opts.strict;
}

/** The evaluation's `time.now_ns()`: read once, then fixed. */
export function evalNowNs(ctx: EvalContext): bigint {
  if (ctx.nowNs === undefined) {
    ctx.nowNs = ctx.fixedNowNs ?? BigInt(Date.now()) * 1_000_000n;
  }
  return ctx.nowNs;
}
