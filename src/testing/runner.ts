/**
 * The Rego test runner behind `pdp test`: discovers `test_*` rules, compiles them all in one compile
 * call (one entrypoint per test: much faster than a compile per test), loads the module as the PDP does
 * (src/engine/policy.ts: WasmPolicy), and evaluates each test with no input.
 * A test passes when its result is `true`; undefined or any other value fails it; an evaluation error, or
 * a compile error in what the test needs (e.g. a refused construct), makes it an error. When the whole set
 * does not compile, each test package is compiled on its own with the packages it needs.
 *
 * @example
 *   const report = await runTestsInPaths(['rego/'], { run: /delegation/ });
 *   if (report.failed > 0) process.exitCode = 1;
 */
import type { Module } from '../compiler/ast';
import { RegoError, RegoErrors } from '../compiler/errors';
import { compile, type SourceFile } from '../compiler';
import { parseModule } from '../compiler/parser';
import { closureOf, guessPackage, moduleUnit } from '../compiler/package-deps';
import { loadPolicyDir } from '../compiler/load';
import { WasmPolicy } from '../engine/policy';
import { errorMessage } from '../engine/error-message';
import { discoverTests, type DiscoveredTest } from './discover';
import { renameDuplicateTests } from './duplicates';
import { addCaseRules, subResultVerdict } from './subresults';

export type TestStatus = 'pass' | 'fail' | 'error' | 'skip';

export interface TestResult {
  name: string;
  package: string;
  file: string;
  line: number;
  status: TestStatus;
  passed: boolean;
  /** wall-clock evaluation time in milliseconds */
  durationMs: number;
  /** why it failed: "undefined", "result is false", the evaluation error, … */
  error?: string;
  /** the lines the test printed (`print(…)`), when it printed any */
  output?: string[];
}

export interface TestReport {
  passed: number;
  /** tests that ran and were not true */
  failed: number;
  /** tests that could not be compiled, loaded or evaluated (status `error`) */
  errored: number;
  skipped: number;
  /** errors outside any test (a file that does not parse, a path that cannot be read): the run failed */
  errors: string[];
  compileMs: number;
  tests: TestResult[];
}

export interface RunOptions {
  /** keep only tests whose `data.<pkg>.<rule>` name matches */
  run?: RegExp;
  /** parse as Rego v0 where no `.manifest` says otherwise (OPA's --v0-compatible) */
  v0Compatible?: boolean;
}

export interface PolicySources {
  modules: SourceFile[];
  data: unknown;
}

function compileErrorLines(e: unknown): string[] {
  if (e instanceof RegoErrors) return e.errors.map((x) => x.message);
  if (e instanceof RegoError) return [e.message];
  return [errorMessage(e)];
}

/** One source file after parsing: its module, or why it has none. */
interface ParsedFile extends SourceFile {
  module?: Module;
  errors?: string[];
}

/** Parses each file on its own, so that one unreadable file does not hide the tests of the others. */
function parseEach(sources: PolicySources['modules']): ParsedFile[] {
  return sources.map((s) => {
    try {
      return { ...s, module: parseModule(s.source, s.file, { regoVersion: s.regoVersion }) };
    } catch (e) {
      return { ...s, errors: compileErrorLines(e) };
    }
  });
}

/** Deduplicated, in order: the compiler may report one error once per entrypoint that reaches it. */
function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

function verdict(rs: Array<{ result: unknown }>): { passed: boolean; error?: string } {
  if (!Array.isArray(rs) || rs.length === 0) return { passed: false, error: 'undefined' };
  if (rs.length > 1) return { passed: false, error: `${rs.length} results` };
  const v = rs[0].result;
  if (v === true) return { passed: true };
  if (v === false) return { passed: false, error: 'result is false' };
  return { passed: false, error: `result is ${JSON.stringify(v)}, not true` };
}

/** A test with sub-results: its cases (subresults.ts) must all be reached keys whose value is true. */
function subResultOutcome(policy: WasmPolicy, t: DiscoveredTest): { passed: boolean; error?: string } {
  const value = policy.evaluate(t.entrypoint, undefined);
  if (value.length > 1) return { passed: false, error: `${value.length} results` };
  let cases: unknown[] | undefined;
  if (t.subResults?.casesEntrypoint) {
    const rs = policy.evaluate(t.subResults.casesEntrypoint, undefined);
    cases = rs.length > 0 && Array.isArray(rs[0].result) ? (rs[0].result as unknown[]) : [];
  }
  return subResultVerdict(value.length > 0 ? value[0].result : undefined, cases);
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function record(report: TestReport, r: TestResult): void {
  report.tests.push(r);
  if (r.status === 'pass') report.passed++;
  else if (r.status === 'fail') report.failed++;
  else if (r.status === 'error') report.errored++;
  else report.skipped++;
}

/** Compiles `modules` for `tests`; the wasm, or the compile errors (every test of the group then errors). */
function compileGroup(report: TestReport, modules: PolicySources['modules'], tests: DiscoveredTest[]): Uint8Array | string[] {
  const start = process.hrtime.bigint();
  try {
    const entrypoints = tests.flatMap((t) => [t.entrypoint, ...(t.subResults?.casesEntrypoint ? [t.subResults.casesEntrypoint] : [])]);
    return compile({ modules, entrypoints }).wasm;
  } catch (e) {
    return unique(compileErrorLines(e));
  } finally {
    report.compileMs += elapsedMs(start);
  }
}

/** Loads a compiled group and evaluates each of its tests with no input. */
async function evaluateGroup(report: TestReport, wasm: Uint8Array, tests: DiscoveredTest[], data: unknown): Promise<void> {
  let policy: WasmPolicy;
  try {
    policy = await WasmPolicy.load(wasm);
    policy.setData(data ?? {});
  } catch (e) {
    const why = `cannot load the compiled tests: ${errorMessage(e)}`;
    for (const t of tests) record(report, resultOf(t, 'error', 0, why));
    return;
  }
  for (const t of tests) {
    const start = process.hrtime.bigint();
    let outcome: { passed: boolean; error?: string };
    let status: TestStatus;
    const printed: string[] = [];
    policy.printSink = (line) => printed.push(line);
    try {
      outcome = t.subResults ? subResultOutcome(policy, t) : verdict(policy.evaluate(t.entrypoint, undefined));
      status = outcome.passed ? 'pass' : 'fail';
    } catch (e) {
      outcome = { passed: false, error: errorMessage(e) };
      status = 'error';
    }
    const r = resultOf(t, status, elapsedMs(start), outcome.error);
    if (printed.length) r.output = printed;
    record(report, r);
  }
}

async function runGroup(report: TestReport, modules: PolicySources['modules'], tests: DiscoveredTest[], data: unknown): Promise<void> {
  const wasm = compileGroup(report, modules, tests);
  if (Array.isArray(wasm)) {
    const why = wasm.join('\n');
    for (const t of tests) record(report, resultOf(t, 'error', 0, why));
    return;
  }
  await evaluateGroup(report, wasm, tests, data);
}

/**
 * Runs the tests of already-loaded policy sources (modules and the merged data document).
 * Never throws for a bad policy. Everything is compiled in one go when it can be; otherwise each test
 * package is compiled with the packages it needs (package-deps.ts), so a refused construct errors the
 * tests that need it, and only those. A file that does not parse is an entry of `errors`, and errors
 * every test package that needs it.
 */
export async function runTests(sources: PolicySources, opts: RunOptions = {}): Promise<TestReport> {
  const report: TestReport = { passed: 0, failed: 0, errored: 0, skipped: 0, errors: [], compileMs: 0, tests: [] };
  const files = parseEach(sources.modules);
  for (const f of files) if (f.errors) report.errors.push(...f.errors);
  // several definitions of one test are several tests, as in `opa test` (test_x, test_x#01, …)
  renameDuplicateTests(files, (f, source) => parseModule(source, f.file, { regoVersion: f.regoVersion }));
  // tests with sub-results (test_x[case] if …) get the rule that lists their reached cases
  addCaseRules(files, (f, source) => parseModule(source, f.file, { regoVersion: f.regoVersion }));
  const rewritten = files.map(({ file, source, regoVersion }) => ({ file, source, regoVersion }));
  const modules = files.flatMap((f) => (f.module ? [f.module] : []));
  const tests = discoverTests(modules, { run: opts.run });
  for (const t of tests.filter((x) => x.skip)) record(report, resultOf(t, 'skip', 0));
  // the tests of a file that does not parse still count: each is an error carrying why
  for (const f of files) if (f.errors) for (const t of unparsedTests(f, opts.run)) record(report, t);
  const runnable = tests.filter((t) => !t.skip);
  if (runnable.length === 0) return report;

  if (report.errors.length === 0) {
    // the common case, and the fastest: one compile for every test
    const wasm = compileGroup(report, rewritten, runnable);
    if (!Array.isArray(wasm)) {
      await evaluateGroup(report, wasm, runnable, sources.data);
      return report;
    }
  }

  const units = files.map((f) => (f.module ? moduleUnit(f.module) : { pkg: guessPackage(f.source), refs: [] }));
  const byPackage = new Map<string, DiscoveredTest[]>();
  for (const t of runnable) byPackage.set(t.package, [...(byPackage.get(t.package) ?? []), t]);
  for (const [pkg, group] of byPackage) {
    const start = files.flatMap((f, i) => (f.module && f.module.package.path.join('.') === pkg ? [i] : []));
    const needed = closureOf(units, start).map((i) => files[i]);
    const broken = needed.filter((f) => f.errors);
    if (broken.length > 0) {
      const why = [`cannot compile: a file this package needs does not parse`, ...broken.flatMap((f) => f.errors ?? [])].join('\n');
      for (const t of group) record(report, resultOf(t, 'error', 0, why));
      continue;
    }
    await runGroup(report, needed.map(({ file, source, regoVersion }) => ({ file, source, regoVersion })), group, sources.data);
  }
  report.tests.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return report;
}

/**
 * The tests a file that does not parse would hold: top-level rules starting a line with `test_` (the
 * usual layout; the file has no AST to ask). Repeated names are numbered as OPA numbers them.
 */
function unparsedTests(f: ParsedFile, run?: RegExp): TestResult[] {
  const pkg = (guessPackage(f.source) ?? []).join('.');
  const why = [`cannot compile: this file does not parse`, ...(f.errors ?? [])].join('\n');
  const seen = new Map<string, number>();
  const out: TestResult[] = [];
  const lines = f.source.split('\n');
  lines.forEach((text, i) => {
    const m = /^(test_[A-Za-z0-9_]*)\b/.exec(text);
    if (!m) return;
    const k = seen.get(m[1]) ?? 0;
    seen.set(m[1], k + 1);
    const name = `data.${pkg}.${k === 0 ? m[1] : `${m[1]}#${String(k).padStart(2, '0')}`}`;
    if (run && !run.test(name)) return;
    out.push({ name, package: pkg, file: f.file, line: i + 1, status: 'error', passed: false, durationMs: 0, error: why });
  });
  return out;
}

function resultOf(t: DiscoveredTest, status: TestStatus, durationMs: number, error?: string): TestResult {
  const r: TestResult = {
    name: t.name,
    package: t.package,
    file: t.file,
    line: t.line,
    status,
    passed: status === 'pass',
    durationMs,
  };
  if (error !== undefined) r.error = error;
  return r;
}

/** Loads `.rego` and `data.json` files from the given files/directories and runs their tests. */
export async function runTestsInPaths(paths: string[], opts: RunOptions = {}): Promise<TestReport> {
  let sources: PolicySources;
  try {
    sources = loadPolicyDir(paths, { v0Compatible: opts.v0Compatible, anyDataFile: true });
  } catch (e) {
    return { passed: 0, failed: 0, errored: 0, skipped: 0, errors: compileErrorLines(e), compileMs: 0, tests: [] };
  }
  return runTests(sources, opts);
}

/** True when the run should exit 1: an error, a failing or erroring test, or nothing to run. */
export function runFailed(report: TestReport): boolean {
  return report.errors.length > 0 || report.failed > 0 || report.errored > 0 || report.passed === 0;
}
