/**
 * How `pdp test` prints a TestReport: one line per test with its time, failures with their reason,
 * and a summary; `--json` adds (or, on stdout, is) the machine-readable form.
 */
import type { TestReport, TestResult } from './runner';

const LABEL: Record<TestResult['status'], string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', skip: 'SKIPPED' };

function ms(x: number): string {
  return x >= 100 ? `${x.toFixed(0)}ms` : x >= 1 ? `${x.toFixed(1)}ms` : `${(x * 1000).toFixed(0)}µs`;
}

/** Human-readable lines. Verbose groups tests by file and shows their source lines and compile time. */
export function formatText(report: TestReport, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  if (report.errors.length) out.push(...report.errors, '');
  let file = '';
  for (const t of report.tests) {
    if (opts.verbose && t.file !== file) {
      if (file) out.push('');
      file = t.file;
      out.push(`${file}:`);
    }
    const where = opts.verbose ? ` ${t.file}:${t.line}` : '';
    // skipped tests, and tests that could not be compiled, never ran: no time to show
    const ran = t.status !== 'skip' && !(t.status === 'error' && t.durationMs === 0);
    const time = ran ? ` (${ms(t.durationMs)})` : '';
    out.push(`${t.name}: ${LABEL[t.status]}${time}${where}`);
    if (!t.passed && t.error && t.status !== 'skip') out.push(`  ${t.error.split('\n').join('\n  ')}`);
    // what the test printed, as `opa test` shows it: with -v, or when the test did not pass
    if (t.output && (opts.verbose || !t.passed)) out.push('', ...t.output.map((l) => `  ${l}`), '');
  }
  out.push('-'.repeat(80));
  if (report.tests.length === 0) out.push('no tests found');
  const parts = [`PASS: ${report.passed}/${report.passed + report.failed + report.errored}`];
  if (report.failed) parts.push(`FAIL: ${report.failed}`);
  if (report.errored) parts.push(`ERROR: ${report.errored}`);
  if (report.skipped) parts.push(`SKIPPED: ${report.skipped}`);
  if (report.errors.length) parts.push(`${report.errors.length} error${report.errors.length === 1 ? '' : 's'} outside tests (above)`);
  if (opts.verbose) parts.push(`compile ${ms(report.compileMs)}`);
  out.push(parts.join('  '));
  return out.join('\n') + '\n';
}

/** The JSON summary: `{"passed", "failed", "errored", "skipped", "errors", "compile_ms", "tests": [...]}`. */
export function formatJson(report: TestReport): string {
  return (
    JSON.stringify({
      passed: report.passed,
      failed: report.failed,
      errored: report.errored,
      skipped: report.skipped,
      errors: report.errors,
      compile_ms: Number(report.compileMs.toFixed(3)),
      tests: report.tests.map((t) => ({
        name: t.name,
        package: t.package,
        file: t.file,
        line: t.line,
        status: t.status,
        passed: t.passed,
        duration_ms: Number(t.durationMs.toFixed(4)),
        ...(t.error !== undefined ? { error: t.error } : {}),
        ...(t.output !== undefined ? { output: t.output } : {}),
      })),
    }) + '\n'
  );
}
