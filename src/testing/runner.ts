/**
 * The Rego test runner behind `pdp test`: discovers `test_*` rules, compiles them all in one compile
 * call (one entrypoint per test: much faster than a compile per test), loads the module as the PDP does
 * (src/engine/policy.ts: WasmPolicy), and evaluates each test with no input.
 * A test passes when its result is `true`; undefined, any other value, or an evaluation error fails.
 *
 * @example
 *   const report = await runTestsInPaths(['rego/'], { run: /delegation/ });
 *   if (report.failed > 0) process.exitCode = 1;
 */
import type { Module } from '../compiler/ast';
import { RegoError, RegoErrors } from '../compiler/errors';
import { compile, parseAll } from '../compiler';
import { loadPolicyDir } from '../compiler/load';
import { WasmPolicy } from '../engine/policy';
import { errorMessage } from '../engine/error-message';
import { discoverTests, type DiscoveredTest } from './discover';

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
  failed: number;
  skipped: number;
  /** compile errors: when present, no test ran and the run failed */
  errors: string[];
  compileMs: number;
  tests: TestResult[];
}

export interface RunOptions {
  /** keep only tests whose `data.<pkg>.<rule>` name matches */
  run?: RegExp;
}

export interface PolicySources {
  modules: Array<{ file: string; source: string }>;
  data: unknown;
}

function compileErrorLines(e: unknown): string[] {
  if (e instanceof RegoErrors) return e.errors.map((x) => x.message);
  if (e instanceof RegoError) return [e.message];
  return [errorMessage(e)];
}

function parseForDiscovery(sources: PolicySources['modules']): { modules: Module[]; errors: string[] } {
  try {
    return { modules: parseAll(sources), errors: [] };
  } catch (e) {
    return { modules: [], errors: compileErrorLines(e) };
  }
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

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Runs the tests of already-loaded policy sources (modules and the merged data document).
 * Never throws for a bad policy: compile errors come back in `errors`.
 */
export async function runTests(sources: PolicySources, opts: RunOptions = {}): Promise<TestReport> {
  const report: TestReport = { passed: 0, failed: 0, skipped: 0, errors: [], compileMs: 0, tests: [] };
  const parsed = parseForDiscovery(sources.modules);
  if (parsed.errors.length) {
    report.errors = unique(parsed.errors);
    return report;
  }
  const tests = discoverTests(parsed.modules, { run: opts.run });
  const runnable = tests.filter((t) => !t.skip);
  for (const t of tests.filter((x) => x.skip)) {
    report.skipped++;
    report.tests.push(resultOf(t, 'skip', 0));
  }
  if (runnable.length === 0) return report;

  const compileStart = process.hrtime.bigint();
  let wasm: Uint8Array;
  try {
    wasm = compile({ modules: sources.modules, entrypoints: runnable.map((t) => t.entrypoint) }).wasm;
  } catch (e) {
    report.errors = unique(compileErrorLines(e));
    return report;
  } finally {
    report.compileMs = elapsedMs(compileStart);
  }

  let policy: WasmPolicy;
  try {
    policy = await WasmPolicy.load(wasm);
    policy.setData(sources.data ?? {});
  } catch (e) {
    report.errors = [`cannot load the compiled tests: ${errorMessage(e)}`];
    return report;
  }

  for (const t of runnable) {
    const start = process.hrtime.bigint();
    let outcome: { passed: boolean; error?: string };
    let status: TestStatus;
    const printed: string[] = [];
    policy.printSink = (line) => printed.push(line);
    try {
      outcome = verdict(policy.evaluate(t.entrypoint, undefined));
      status = outcome.passed ? 'pass' : 'fail';
    } catch (e) {
      outcome = { passed: false, error: errorMessage(e) };
      status = 'error';
    }
    const r = resultOf(t, status, elapsedMs(start), outcome.error);
    if (printed.length) r.output = printed;
    report.tests.push(r);
    if (r.passed) report.passed++;
    else report.failed++;
  }
  return report;
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
    sources = loadPolicyDir(paths);
  } catch (e) {
    return { passed: 0, failed: 0, skipped: 0, errors: compileErrorLines(e), compileMs: 0, tests: [] };
  }
  return runTests(sources, opts);
}

/** True when the run should exit 1: a compile error, a failing test, or nothing to run. */
export function runFailed(report: TestReport): boolean {
  return report.errors.length > 0 || report.failed > 0 || report.passed === 0;
}
