/**
 * Ad-hoc queries in `opa eval`'s shape, compiled by our compiler and run by the PDP's engine.
 *
 * A query body such as `x := data.a[_]; x > 1` compiles (compiler `queries` option) to a plan whose
 * result-set rows are the bindings of its variables. `opa eval` also reports each expression's value
 * (a bare term's value, `true` for everything else), so before compiling, each bare-term expression
 * `T` is rewritten into `<v> := T; <v> != false` with a generated variable `<v>`: the row then carries
 * the value, and the expression still fails when T is false, as it does in Rego. The generated
 * variables are taken out of the bindings again.
 *
 * @example
 *   const q = prepareQuery('x := data.a[_]; data.b');
 *   const out = queryOutput(q, runQuery(q, modules, data, input));
 */
import type { Body, Expr, Location, Term } from '../compiler/ast';
import { compile } from '../compiler';
import { parseBody } from '../compiler/parser';
import { RegoErrors } from '../compiler/errors';
import { lookupBuiltin } from '../builtins/registry';
import { WasmPolicy } from '../engine/policy';
import { explanationOf, type ExplainedRule } from '../engine/explain';
import { sortKeys } from './format';

/** The plan name the query compiles to. */
export const EVAL_ENTRYPOINT = 'eval';

/** The file name errors in the query are reported against (the compiler names a query's file so). */
export const QUERY_FILE = `<query ${EVAL_ENTRYPOINT}>`;

export interface QueryExpression {
  /** the expression's source text, as `opa eval` reports it */
  text: string;
  location: { row: number; col: number };
  /** the generated variable holding the expression's value; undefined when the value is `true` */
  valueVar?: string;
}

export interface PreparedQuery {
  /** the query as given */
  source: string;
  /** a variable name the query does not use, for the ordered rows (see runQuery) */
  rowsVar: string;
  /** the query with bare terms captured (what is compiled) */
  rewritten: string;
  expressions: QueryExpression[];
}

/** One row of `opa eval`'s result: every expression's value and the query variables' bindings. */
export interface EvalRow {
  expressions: Array<{ value: unknown; text: string; location: { row: number; col: number } }>;
  bindings?: Record<string, unknown>;
}

/** `opa eval`'s document: `{}` when undefined, `{"result": [...]}` otherwise. */
export interface EvalOutput {
  result?: EvalRow[];
  /** `--explain notes`: the rule bodies that held (ours, not OPA's trace events) */
  explanation?: ExplainedRule[];
}

/** Offsets of each line start, to turn a (line, col) location back into a string index. */
function lineStarts(source: string): number[] {
  const out = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') out.push(i + 1);
  return out;
}

function offsetOf(starts: number[], loc: Location): number {
  return (starts[loc.line - 1] ?? 0) + loc.col - 1;
}

/** The name a call term calls (`count`, `data.x.f`), or undefined for a dynamic ref. */
function callName(t: Term): string | undefined {
  if (t.type !== 'call') return undefined;
  const parts: string[] = [];
  if (t.fn.head.type !== 'var') return undefined;
  parts.push(t.fn.head.name);
  for (const p of t.fn.path) {
    if (p.type !== 'string') return undefined;
    parts.push(p.value);
  }
  return parts.join('.');
}

/**
 * Whether an expression's value is its term's value. Assignment, unification, `not`, `some`, `every`
 * and built-in calls given an output argument (`count(xs, n)`) have the value `true` in OPA's output.
 */
function hasTermValue(e: Expr): e is Expr & { value: { type: 'term'; term: Term } } {
  if (e.negated || e.value.type !== 'term') return false;
  const name = callName(e.value.term);
  if (name === 'assign' || name === 'eq') return false;
  if (name !== undefined && e.value.term.type === 'call') {
    const decl = lookupBuiltin(name);
    if (decl && e.value.term.args.length > decl.arity) return false;
  }
  return true;
}

/** A variable name that the query does not use: `eval_value<i>`, suffixed until it is free. */
function freshPrefix(source: string): string {
  let prefix = 'eval_value';
  while (source.includes(prefix)) prefix += '_';
  return prefix;
}

/**
 * Parse a query and rewrite it so that each expression's value reaches the result set. Throws
 * RegoErrors (with locations in the query as given) when it does not parse.
 */
export function prepareQuery(source: string): PreparedQuery {
  const body: Body = parseBody(source, QUERY_FILE);
  if (body.length === 0) throw new Error('empty query');
  const starts = lineStarts(source);
  const prefix = freshPrefix(source);
  const expressions: QueryExpression[] = [];
  const parts: string[] = [];
  body.forEach((e, i) => {
    const from = offsetOf(starts, e.loc);
    const to = i + 1 < body.length ? offsetOf(starts, body[i + 1].loc) : source.length;
    // the next expression starts after a `;` or a newline (and any blanks): they are not this one's text
    const text = source.slice(from, to).replace(/[\s;]+$/, '');
    const location = { row: e.loc.line, col: e.loc.col };
    if (hasTermValue(e)) {
      const valueVar = `${prefix}${i}`;
      expressions.push({ text, location, valueVar });
      // `v := T with …` applies the modifiers to the whole expression, as `T with …` did
      parts.push(`${valueVar} := ${text}`, `${valueVar} != false`);
    } else {
      expressions.push({ text, location });
      parts.push(text);
    }
  });
  return { source, rowsVar: `${prefix}rows`, rewritten: parts.join('\n'), expressions };
}

/**
 * Compile the query together with the policy modules into one module whose entrypoint
 * EVAL_ENTRYPOINT answers it, loaded as the PDP loads every policy (src/engine WasmPolicy).
 * Errors are reported against the query as written: when the rewritten query fails to compile, the
 * original is compiled for its located errors.
 */
export function compileQuery(q: PreparedQuery, modules: Array<{ file: string; source: string }>, opts: { strictBuiltinErrors?: boolean } = {}): WasmPolicy {
  try {
    return compileText(q.rewritten, modules, opts);
  } catch (rewrittenErr) {
    if (!(rewrittenErr instanceof RegoErrors)) throw rewrittenErr;
    // the original query's errors carry its real locations
    compileText(q.source, modules, opts);
    throw rewrittenErr;
  }
}

type Row = Record<string, unknown>;

/**
 * The query wrapped in an array comprehension over its variables, `rows := [{"x": x, …} | body]`:
 * a comprehension keeps evaluation order and duplicates, which the compiled module's result *set*
 * (sorted, duplicates collapsed) does not. `vars` are the row keys the plain query produced.
 */
export function orderedQuery(q: PreparedQuery, vars: string[]): string {
  const row = vars.map((v) => `${JSON.stringify(v)}: ${v}`).join(', ');
  return `${q.rowsVar} := [{${row}} |\n${q.rewritten}\n]`;
}

/**
 * Compile and evaluate the query with the policy modules, data and input (JSON text): rows of bindings in evaluation
 * order, duplicates kept, as `opa eval` gives them. The plain query runs first (its errors are the
 * ones reported, and its rows name the variables); when it is defined, the ordered form gives the
 * rows. Should the ordered form not compile, the plain rows are returned as they are (sorted, no
 * duplicates).
 */
export function runQuery(
  q: PreparedQuery,
  modules: Array<{ file: string; source: string }>,
  data: unknown,
  input: string | undefined,
  opts: { strictBuiltinErrors?: boolean } = {},
): Row[] {
  const plain = compileQuery(q, modules, opts);
  plain.setData(data);
  const rows = plain.evaluateJson(EVAL_ENTRYPOINT, input) as unknown as Row[];
  // a plain `data.a.b` ref has at most one solution: nothing to order (and a second compile saved)
  if (rows.length === 0 || dataRefPath(q.source) !== undefined) return rows;
  const vars = [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
  let ordered: WasmPolicy;
  try {
    ordered = compileText(orderedQuery(q, vars), modules, opts);
  } catch (err) {
    if (err instanceof RegoErrors) return rows;
    throw err;
  }
  ordered.setData(data);
  const rs = ordered.evaluateJson(EVAL_ENTRYPOINT, input) as unknown as Row[];
  const list = rs[0]?.[q.rowsVar];
  return Array.isArray(list) ? (list as Row[]) : rows;
}

/**
 * `pdp eval --explain notes`: the rule bodies that held (and else/default taken) while the query was
 * answered, from the query compiled a second time with the compiler's `explain` instrumentation
 * (src/compiler/plan/explain.ts; the answer printed is still the plain module's).
 */
export function explainQuery(
  q: PreparedQuery,
  modules: Array<{ file: string; source: string }>,
  data: unknown,
  input: string | undefined,
  opts: { strictBuiltinErrors?: boolean } = {},
): ExplainedRule[] {
  const p = compileText(q.rewritten, modules, { ...opts, explain: true });
  p.setData(data);
  const { notes } = p.evaluateJsonWithNotes(EVAL_ENTRYPOINT, input);
  return explanationOf(notes, EVAL_ENTRYPOINT, undefined, []).rules;
}

function compileText(query: string, modules: Array<{ file: string; source: string }>, opts: { strictBuiltinErrors?: boolean; explain?: boolean }): WasmPolicy {
  const wasm = compile({ modules, queries: [{ name: EVAL_ENTRYPOINT, query }], strictBuiltinErrors: opts.strictBuiltinErrors, explain: opts.explain }).wasm;
  return WasmPolicy.loadSync(wasm, { strictBuiltinErrors: opts.strictBuiltinErrors });
}

/** The result set of the compiled query (rows of bindings) in `opa eval`'s shape. */
export function queryOutput(q: PreparedQuery, rows: ReadonlyArray<Record<string, unknown>>): EvalOutput {
  if (rows.length === 0) return {};
  const generated = new Set(q.expressions.map((e) => e.valueVar).filter((v): v is string => !!v));
  return {
    result: rows.map((row) => {
      const expressions = q.expressions.map((e) => ({
        value: e.valueVar ? sortKeys(row[e.valueVar]) : true,
        text: e.text,
        location: e.location,
      }));
      const bindings: Record<string, unknown> = {};
      // Go writes a map's keys sorted; the struct around them keeps its field order (value, text, location)
      for (const [k, v] of Object.entries(row).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (!generated.has(k)) bindings[k] = sortKeys(v);
      return Object.keys(bindings).length > 0 ? { expressions, bindings } : { expressions };
    }),
  };
}

/**
 * The output for a query that is exactly one entrypoint's ref, answered by a built bundle's own
 * module (for bundles without .rego sources to compile a query against).
 */
export function entrypointOutput(query: string, value: { defined: boolean; value?: unknown }): EvalOutput {
  if (!value.defined) return {};
  return { result: [{ expressions: [{ value: sortKeys(value.value), text: query.trim(), location: { row: 1, col: 1 } }] }] };
}

/** `data.a.b.c` → `a/b/c` when the query is nothing but a plain data ref; otherwise undefined. */
export function dataRefPath(source: string): string | undefined {
  let body: Body;
  try {
    body = parseBody(source, QUERY_FILE);
  } catch {
    return undefined;
  }
  if (body.length !== 1) return undefined;
  const e = body[0];
  if (e.negated || e.with.length > 0 || e.value.type !== 'term') return undefined;
  const t = e.value.term;
  if (t.type !== 'ref' || t.head.type !== 'var' || t.head.name !== 'data') return undefined;
  const parts: string[] = [];
  for (const p of t.path) {
    if (p.type !== 'string') return undefined;
    parts.push(p.value);
  }
  return parts.join('/');
}
