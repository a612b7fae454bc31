/**
 * `pdp conformance [dir] [--json] [--filter S] [--verbose] [--v0-compatible]` — runs OPA's conformance cases (by default
 * both samples, ../shared/opa-conformance and ../shared/opa-conformance-2, each reported on its own;
 * folders starting with `_`, such as `_unconfirmed/`, are skipped: pass such a folder as `dir` to run
 * it separately) through our compiler and the module loaded by
 * @open-policy-agent/opa-wasm, and classifies each case:
 *   pass     the SDK-loaded module answers exactly want_result, or fails with the wanted error class
 *   refused  our compiler rejected the module with an `unsupported` error (a to-do)
 *   wrong    anything else (a different answer, a missing or unexpected error, a crash)
 * With --json the last line printed is one JSON object with the totals and per-folder counts.
 * --v0-compatible reads the modules as Rego v0 (for OPA's `testdata/v0` cases).
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { compile } from '../../compiler';
import { parseTerm } from '../../compiler/parser';
import type { Term } from '../../compiler/ast';
import { RegoError, RegoErrors } from '../../compiler/errors';
import { WasmPolicy, EvaluationError } from '../../engine/policy';
import { errorMessage } from '../../engine/error-message';

export const summary = 'run the OPA conformance cases through the compiler and the wasm SDK';

export interface Case {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: unknown[];
  sort_bindings?: boolean;
  want_error_code?: string;
  want_error?: string;
  strict_error?: boolean;
}

export interface LoadedCase {
  folder: string;
  file: string;
  c: Case;
}

export type Outcome = { kind: 'pass' } | { kind: 'refused'; why: string } | { kind: 'wrong'; why: string };

export interface Counts {
  total: number;
  pass: number;
  refused: number;
  wrong: number;
}

export interface Report extends Counts {
  by_folder: Record<string, Counts>;
  details: Array<{ folder: string; note: string; outcome: Outcome }>;
}

/** The conformance samples, by folder name under ../shared: OPA's cases, first and second sample. */
export const CONFORMANCE_SAMPLES = ['opa-conformance', 'opa-conformance-2'];

export function defaultConformanceDir(sample = CONFORMANCE_SAMPLES[0]): string {
  return path.resolve(__dirname, '..', '..', '..', '..', 'shared', sample);
}

export function loadCases(dir: string): LoadedCase[] {
  const out: LoadedCase[] = [];
  for (const folder of fs.readdirSync(dir).sort()) {
    if (folder.startsWith('_') || folder.startsWith('.')) continue;
    const fdir = path.join(dir, folder);
    if (!fs.statSync(fdir).isDirectory()) continue;
    for (const f of fs.readdirSync(fdir).sort()) {
      if (!/\.ya?ml$/.test(f)) continue;
      const doc = YAML.parse(fs.readFileSync(path.join(fdir, f), 'utf8')) as { cases?: Case[] };
      for (const c of doc?.cases ?? []) out.push({ folder, file: f, c });
    }
  }
  return out;
}

// ------------------------------------------------------------ values and comparison

/** A value read back from the module in Rego syntax (opa_value_dump): sets stay sets. */
type Val = null | boolean | { num: string } | string | Val[] | { set: Val[] } | { obj: Array<[Val, Val]> };

function termToVal(t: Term): Val {
  switch (t.type) {
    case 'null':
      return null;
    case 'boolean':
      return t.value;
    case 'number':
      return { num: t.value };
    case 'string':
      return t.value;
    case 'array':
      return t.items.map(termToVal);
    case 'set':
      return { set: t.items.map(termToVal) };
    case 'object':
      return { obj: t.items.map(([k, v]) => [termToVal(k), termToVal(v)] as [Val, Val]) };
    case 'call':
      if (t.fn.head.type === 'var' && t.fn.head.name === 'minus' && t.args.length === 1 && t.args[0].type === 'number') {
        return { num: '-' + t.args[0].value };
      }
      throw new Error('unexpected call in a dumped value');
    default:
      throw new Error(`unexpected ${t.type} in a dumped value`);
  }
}

function valToJSON(v: Val): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(valToJSON);
  if ('num' in v) return Number(v.num);
  if ('set' in v) return v.set.map(valToJSON);
  const o: Record<string, unknown> = {};
  for (const [k, x] of v.obj) o[typeof k === 'string' ? k : JSON.stringify(valToJSON(k))] = valToJSON(x);
  return o;
}

function numEq(a: string, b: unknown): boolean {
  if (typeof b !== 'number') return false;
  return Number(a) === b;
}

/** Our value equals the YAML value: numbers by value, sets as sets (the YAML shows them as lists). */
export function valEquals(v: Val, w: unknown): boolean {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v === w;
  if (Array.isArray(v)) return Array.isArray(w) && w.length === v.length && v.every((x, i) => valEquals(x, w[i]));
  if ('num' in v) return numEq(v.num, w);
  if ('set' in v) return Array.isArray(w) && multisetEquals(v.set, w);
  if (typeof w !== 'object' || w === null || Array.isArray(w)) return false;
  const wk = Object.keys(w);
  if (wk.length !== v.obj.length) return false;
  for (const [k, x] of v.obj) {
    const ks = typeof k === 'string' ? k : JSON.stringify(valToJSON(k));
    if (!Object.prototype.hasOwnProperty.call(w, ks)) return false;
    if (!valEquals(x, (w as Record<string, unknown>)[ks])) return false;
  }
  return true;
}

/**
 * sort_bindings: OPA's runner sorts every array bound in a result before comparing, so an array
 * binding is compared regardless of its order (as a multiset).
 */
function unorderedBindings(row: Val): Val {
  if (row === null || typeof row !== 'object' || Array.isArray(row) || !('obj' in row)) return row;
  return { obj: row.obj.map(([k, v]): [Val, Val] => [k, Array.isArray(v) ? { set: v } : v]) };
}

function multisetEquals(vs: Val[], ws: unknown[]): boolean {
  if (vs.length !== ws.length) return false;
  const used = new Array(ws.length).fill(false);
  for (const v of vs) {
    const i = ws.findIndex((w, j) => !used[j] && valEquals(v, w));
    if (i < 0) return false;
    used[i] = true;
  }
  return true;
}

// ------------------------------------------------------------ running one case

export function runCase(c: Case, opts: { regoVersion?: 0 | 1 } = {}): Outcome {
  // an error is wanted when want_error_code is given, or want_error alone (its text names the class)
  const wantErr = c.want_error_code ?? (c.want_error !== undefined ? (/\b((?:eval|rego)_\w+_error)\b/.exec(c.want_error)?.[1] ?? 'any') : undefined);
  let compiled;
  try {
    compiled = compile({
      modules: (c.modules ?? []).map((source, i) => ({ file: `module${i}.rego`, source, regoVersion: opts.regoVersion })),
      queries: [{ name: 'q', query: c.query }],
      strictBuiltinErrors: !!c.strict_error,
    });
  } catch (e) {
    if (e instanceof RegoErrors || e instanceof RegoError) {
      const errs = e instanceof RegoErrors ? e.errors : [e];
      const uns = errs.find((x) => x.code === 'unsupported');
      if (wantErr && errs.some((x) => x.code === wantErr)) return { kind: 'pass' };
      if (uns) return { kind: 'refused', why: uns.message };
      return { kind: 'wrong', why: `compile error: ${errs.map((x) => x.message).join('; ')}` };
    }
    return { kind: 'wrong', why: `compiler crashed: ${e instanceof Error ? e.stack : String(e)}` };
  }
  let dumped: string;
  try {
    // loaded exactly as the PDP loads a policy (our host built-ins, memory sized from the module)
    const policy = WasmPolicy.loadSync(compiled.wasm, { strictBuiltinErrors: !!c.strict_error });
    if (c.data !== undefined) policy.setData(c.data);
    if (!('q' in policy.entrypoints)) return { kind: 'wrong', why: 'the module has no entrypoint q' };
    const inputText = c.input_term !== undefined ? c.input_term : c.input !== undefined ? JSON.stringify(c.input) : undefined;
    dumped = policy.evaluateRegoText('q', inputText);
  } catch (e) {
    const msg = errorMessage(e);
    const code = e instanceof EvaluationError ? (e.errorClass ?? '') : '';
    if (wantErr && (msg.startsWith(wantErr) || code === wantErr || (wantErr === 'any' && !/crash|RuntimeError/.test(msg)))) return { kind: 'pass' };
    return { kind: 'wrong', why: `evaluation failed: ${msg}` };
  }
  if (wantErr) return { kind: 'wrong', why: `wanted ${wantErr}, got ${dumped}` };
  let got: Val;
  try {
    got = termToVal(parseTerm(dumped, '<result>'));
  } catch (e) {
    return { kind: 'wrong', why: `unreadable result ${dumped}: ${errorMessage(e)}` };
  }
  const want = c.want_result ?? [];
  const rows = 'set' in (got as object) ? (got as { set: Val[] }).set : Array.isArray(got) ? got : undefined;
  if (!rows) return { kind: 'wrong', why: `result set is not a set: ${dumped}` };
  const ok = c.sort_bindings || rows.length <= 1
    ? multisetEquals(c.sort_bindings ? rows.map(unorderedBindings) : rows, want)
    : rows.length === want.length && rows.every((r, i) => valEquals(r, want[i]));
  if (ok) return { kind: 'pass' };
  return { kind: 'wrong', why: `got ${JSON.stringify(rows.map(valToJSON))}, want ${JSON.stringify(want)}` };
}

export function runConformance(dir: string, opts: { filter?: string; regoVersion?: 0 | 1 } = {}): Report {
  const cases = loadCases(dir);
  const report: Report = { total: 0, pass: 0, refused: 0, wrong: 0, by_folder: {}, details: [] };
  for (const lc of cases) {
    if (opts.filter && !lc.c.note.includes(opts.filter) && lc.folder !== opts.filter) continue;
    let outcome: Outcome;
    try {
      outcome = runCase(lc.c, { regoVersion: opts.regoVersion });
    } catch (e) {
      outcome = { kind: 'wrong', why: `runner crashed: ${e instanceof Error ? e.stack : String(e)}` };
    }
    const f = (report.by_folder[lc.folder] ??= { total: 0, pass: 0, refused: 0, wrong: 0 });
    f.total++;
    f[outcome.kind]++;
    report.total++;
    report[outcome.kind]++;
    report.details.push({ folder: lc.folder, note: lc.c.note, outcome });
  }
  return report;
}

const USAGE = 'usage: pdp conformance [dir] [--json] [--verbose] [--filter text] [--v0-compatible]\n';

function printReport(r: Report, verbose: boolean, seconds: number, label: string): void {
  for (const [folder, c] of Object.entries(r.by_folder)) {
    process.stdout.write(`${folder.padEnd(28)} pass ${String(c.pass).padStart(3)} / refused ${String(c.refused).padStart(3)} / wrong ${String(c.wrong).padStart(3)}  (of ${c.total})\n`);
  }
  if (verbose) {
    for (const d of r.details) {
      if (d.outcome.kind !== 'pass') process.stdout.write(`${d.outcome.kind.toUpperCase()} ${d.note}: ${d.outcome.why}\n`);
    }
  }
  process.stdout.write(`${label}total ${r.total}: pass ${r.pass}, refused ${r.refused}, wrong ${r.wrong} (${seconds.toFixed(1)} s)\n`);
}

export async function run(args: string[]): Promise<number> {
  let dirs: string[] | undefined;
  let json = false;
  let verbose = false;
  let filter: string | undefined;
  let regoVersion: 0 | 1 = 1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--verbose' || a === '-v') verbose = true;
    else if (a === '--filter') {
      filter = args[++i];
      if (filter === undefined) {
        process.stderr.write(`pdp conformance: --filter needs a value\n${USAGE}`);
        return 2;
      }
    } else if (a === '--v0-compatible') regoVersion = 0;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else if (a.startsWith('-')) {
      process.stderr.write(`pdp conformance: unknown option ${a}\n${USAGE}`);
      return 2;
    } else dirs = [path.resolve(a)];
  }
  // by default every sample that is present; at least one must be
  dirs ??= CONFORMANCE_SAMPLES.map((s) => defaultConformanceDir(s)).filter((d) => fs.existsSync(d));
  const absent = dirs.length === 0 ? defaultConformanceDir() : dirs.find((d) => !fs.existsSync(d));
  if (absent) {
    process.stderr.write(`pdp conformance: no conformance cases at ${absent}\n`);
    return 2;
  }
  let wrong = 0;
  const reports: Record<string, Omit<Report, 'details'>> = {};
  for (const dir of dirs) {
    const t0 = Date.now();
    const r = runConformance(dir, { filter, regoVersion });
    printReport(r, verbose, (Date.now() - t0) / 1000, dirs.length > 1 ? `${path.basename(dir)}: ` : '');
    wrong += r.wrong;
    const { details, ...rest } = r;
    void details;
    reports[path.basename(dir)] = rest;
  }
  if (json) {
    // one sample: its counts (as before); several: the counts of each, by folder name
    process.stdout.write(JSON.stringify(dirs.length === 1 ? Object.values(reports)[0] : reports) + '\n');
  }
  return wrong === 0 ? 0 : 1;
}
