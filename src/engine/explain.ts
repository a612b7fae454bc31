/**
 * Explaining a decision: which rule bodies held, which produced each reason, and, for an allow, which
 * bodies of the allow rule held.
 *
 * Each active bundle (one revision) gets, the first time an explanation is asked for, a second module:
 * its `.rego` sources compiled with `explain` (src/compiler/plan/explain.ts), loaded with the bundle's
 * data. Ordinary decisions never touch it. A decision with an explanation is still answered by the
 * plain module; the instrumented one is evaluated on the same input for its notes, and its answer
 * must be the same value, or the explanation is withheld (`mismatch`) rather than one that explains
 * another decision.
 *
 *   const x = explainer(bundle);            // throws ExplainUnavailable for a wasm-only bundle
 *   const e = x.explain(entrypoint, inputJson, plainResultSet, mappedReasons);
 */
import type { ActiveBundle, ResultSet } from './engine';
import { WasmPolicy } from './policy';
import type { NoteSite } from '../compiler/plan/explain';

/** A bundle that cannot be explained (no sources, or they do not compile); `message` says which. */
export class ExplainUnavailable extends Error {
  readonly code = 'explain_unavailable';
}

/** One rule body (or else branch, or default) that held, and how many times (iterations) it did. */
export interface ExplainedRule {
  rule: string;
  kind: NoteSite['kind'];
  location: string;
  count: number;
}

export type RuleRef = Pick<ExplainedRule, 'rule' | 'kind' | 'location'>;

export interface Explanation {
  /** every body that held, in the order each first held */
  rules: ExplainedRule[];
  /** per reason of the decision (same order): the bodies that produced it */
  reasons: Array<{ code: string; rules: RuleRef[] }>;
  /** the bodies of the decision's allow rule that held (`default` when none did) */
  allow: RuleRef[];
  /** compile time of the instrumented module (once per bundle revision) when this request paid it */
  compile_ms?: number;
  /** set when nothing was evaluated (identity resolution refused a token) */
  not_evaluated?: string;
}

/** Withheld because the instrumented module answered differently (never expected from our compiler). */
export interface ExplanationWithheld {
  unavailable: string;
}

/** JSON with object keys sorted: values compare by content whatever key order produced them. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

interface Note { site: NoteSite; value: unknown; key: string }

function parseNotes(raw: Array<[string, string]>): Note[] {
  const out: Note[] = [];
  for (const [s, v] of raw) {
    let site: NoteSite;
    let value: unknown;
    try {
      site = JSON.parse(s) as NoteSite;
      value = JSON.parse(v);
    } catch {
      continue; // a note written by a policy itself calling the built-in: not ours to read
    }
    if (typeof site?.rule !== 'string' || typeof site.location !== 'string') continue;
    out.push({ site, value, key: canonical(value) });
  }
  return out;
}

const ref = (n: Note): RuleRef => ({ rule: n.site.rule, kind: n.site.kind, location: n.site.location });

function uniqueRefs(notes: Note[]): RuleRef[] {
  const seen = new Set<string>();
  const out: RuleRef[] = [];
  for (const n of notes) {
    const k = `${n.site.rule}\0${n.site.location}\0${n.site.kind}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(ref(n));
    }
  }
  return out;
}

/**
 * The bodies that produced a reason: those whose value *is* the reason (a partial set's element, a
 * rule whose value is that reason object); failing that, those whose value is a collection holding it
 * (`reasons := [r] if …`); failing that, those whose value is an object with the same `code`.
 */
function producers(notes: Note[], reason: Record<string, unknown>): RuleRef[] {
  const key = canonical(reason);
  const exact = notes.filter((n) => n.key === key);
  if (exact.length) return uniqueRefs(exact);
  const holding = notes.filter((n) => Array.isArray(n.value) && n.value.some((e) => canonical(e) === key));
  if (holding.length) return uniqueRefs(holding);
  const byCode = notes.filter((n) => n.value !== null && typeof n.value === 'object' && (n.value as { code?: unknown }).code === reason.code);
  return uniqueRefs(byCode);
}

/** `data.mcp.authz.allow` for the entrypoint `mcp/authz/decision` (a bare-boolean entrypoint is its own allow rule). */
function allowRule(entrypoint: string, value: unknown): string {
  const parts = entrypoint.split('/').filter(Boolean);
  if (typeof value === 'boolean') return ['data', ...parts].join('.');
  return ['data', ...parts.slice(0, -1), 'allow'].join('.');
}

/** Build the explanation from an instrumented evaluation's notes and the decision they explain. */
export function explanationOf(
  rawNotes: Array<[string, string]>,
  entrypoint: string,
  value: unknown,
  reasons: ReadonlyArray<Record<string, unknown> & { code: string }>,
): Explanation {
  const notes = parseNotes(rawNotes);
  const rules: ExplainedRule[] = [];
  const index = new Map<string, ExplainedRule>();
  for (const n of notes) {
    const k = `${n.site.rule}\0${n.site.location}\0${n.site.kind}`;
    const r = index.get(k);
    if (r) r.count++;
    else {
      const e: ExplainedRule = { ...ref(n), count: 1 };
      index.set(k, e);
      rules.push(e);
    }
  }
  const allow = allowRule(entrypoint, value);
  return {
    rules,
    reasons: reasons.map((r) => ({ code: r.code, rules: producers(notes, r) })),
    allow: uniqueRefs(notes.filter((n) => n.site.rule === allow)),
  };
}

/** The instrumented module of one bundle revision, compiled on first use. */
export class Explainer {
  private constructor(private readonly policy: WasmPolicy, readonly compileMs: number) {}

  /** the first explanation reports compileMs (the one decision that waited for the compile) */
  private reported = false;

  /** Compile the bundle's sources with `explain` (synchronously: once per revision). */
  static build(bundle: ActiveBundle): Explainer {
    const b = bundle.bundle;
    if (b.rego.size === 0) {
      throw new ExplainUnavailable(`bundle ${bundle.name} holds no .rego sources (built elsewhere, wasm only): it cannot be explained; rebuild it with its sources (pdp build keeps them)`);
    }
    /* eslint-disable @typescript-eslint/no-var-requires */
    const { compile } = require('../compiler') as typeof import('../compiler');
    const { bundleSources } = require('../compiler/rego-version') as typeof import('../compiler/rego-version');
    /* eslint-enable @typescript-eslint/no-var-requires */
    const t0 = process.hrtime.bigint();
    let policy: WasmPolicy;
    try {
      const modules = bundleSources(b.rego, b.manifest, `${bundle.name}/.manifest`);
      const out = compile({ modules, entrypoints: bundle.entrypoints(), explain: true });
      policy = WasmPolicy.loadSync(out.wasm);
      policy.setData(b.data);
    } catch (err) {
      throw new ExplainUnavailable(`bundle ${bundle.name}: its sources do not compile for explain: ${(err as Error).message.split('\n')[0]}`);
    }
    return new Explainer(policy, Number(process.hrtime.bigint() - t0) / 1e6);
  }

  /**
   * Evaluate the instrumented module on the input the plain module answered `plain` for, and explain
   * that answer; withheld when the two answers differ.
   */
  explain(
    entrypoint: string,
    inputJson: string | undefined,
    plain: ResultSet,
    reasons: ReadonlyArray<Record<string, unknown> & { code: string }>,
  ): Explanation | ExplanationWithheld {
    const { resultSet, notes } = this.policy.evaluateJsonWithNotes(entrypoint, inputJson);
    if (canonical(resultSet) !== canonical(plain)) {
      return { unavailable: 'the instrumented policy answered differently from the served one (its sources do not match its wasm)' };
    }
    const e = explanationOf(notes, entrypoint, plain.length === 1 ? plain[0].result : undefined, reasons);
    if (!this.reported) {
      this.reported = true;
      e.compile_ms = Math.round(this.compileMs);
    }
    return e;
  }
}

const explainers = new WeakMap<ActiveBundle, Explainer | ExplainUnavailable>();

/**
 * The Explainer of an active bundle, compiled the first time it is asked for and kept as long as the
 * bundle is (a new revision is a new ActiveBundle). Throws ExplainUnavailable (also remembered).
 */
export function explainer(bundle: ActiveBundle): Explainer {
  let x = explainers.get(bundle);
  if (!x) {
    try {
      x = Explainer.build(bundle);
    } catch (err) {
      x = err instanceof ExplainUnavailable ? err : new ExplainUnavailable((err as Error).message);
    }
    explainers.set(bundle, x);
  }
  if (x instanceof ExplainUnavailable) throw x;
  return x;
}

/** Whether an explanation was asked for this bundle already (tests: the plain path compiles nothing). */
export function hasExplainer(bundle: ActiveBundle): boolean {
  return explainers.has(bundle);
}
