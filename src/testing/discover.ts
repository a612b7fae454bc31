/**
 * Test discovery for `pdp test`: the `test_*` rules of every module (not only of `*_test.rego` files), as
 * OPA's `opa test` finds them. A test is a rule without arguments whose name starts with `test_`; a rule named `todo_*` is
 * reported as skipped. Each test becomes an entrypoint (`pkg/path/test_name`) of the compiled policy.
 *
 * @example
 *   const tests = discoverTests(modules, { run: /refund/ });
 *   // [{ name: 'data.mcp.authz_test.test_refund_within_limits_is_allowed', entrypoint: 'mcp/authz_test/test_…', … }]
 */
import type { Module, Rule } from '../compiler/ast';
import { displayTestName } from './duplicates';
import { CASES_PREFIX, isSubResultTest } from './subresults';

export interface DiscoveredTest {
  /** `data.<package>.<rule>`: the name --run matches and reports print */
  name: string;
  /** the package, dotted, without `data.` */
  package: string;
  /** the rule name (`test_…` or `todo_…`) */
  rule: string;
  /** the compiled entrypoint: package path and rule joined by `/` */
  entrypoint: string;
  file: string;
  line: number;
  /** `todo_*` rules are listed, never run */
  skip: boolean;
  /** a test with sub-results (`test_x[case] if …`, subresults.ts): its value is an object of cases */
  subResults?: {
    /** the entrypoint of its reached cases (a set), when the body goes on after a case is reached */
    casesEntrypoint?: string;
  };
}

export interface DiscoverOptions {
  /** keep only tests whose `name` matches */
  run?: RegExp;
}

/** The files named as test files (`*_test.rego`): left out of bundles; `pdp test` runs the test_* rules of every file. */
export function isTestFile(file: string): boolean {
  return file.endsWith('_test.rego');
}

function ruleName(rule: Rule): string | undefined {
  const ref = rule.head.ref;
  // `test_x`, `test_x contains …` (a set: OPA runs it, and it fails as not true) and `test_x[case]`
  // (sub-results); not functions, nor constant ref heads (`test_x.y`).
  if (ref.head.type !== 'var' || rule.head.args !== undefined) return undefined;
  if (ref.path.length > 0 && !isSubResultTest(rule)) return undefined;
  return ref.head.name;
}

/**
 * The tests of the given modules in file order, then source order. Several definitions of one test
 * rule (incremental definitions) are one test, reported at its first definition, unless
 * duplicates.ts renamed them apart first (as `pdp test` does, like `opa test`): a renamed definition is
 * reported by OPA's name for it, `test_x#01`.
 */
export function discoverTests(modules: Module[], opts: DiscoverOptions = {}): DiscoveredTest[] {
  const seen = new Set<string>();
  const tests: DiscoveredTest[] = [];
  const sorted = [...modules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const mod of sorted) {
    // like `opa test`, every module's test_* rules are tests; `_test.rego` is a naming convention only
    for (const rule of mod.rules) {
      if (rule.default) continue;
      const name = ruleName(rule);
      if (name === undefined) continue;
      const isTest = name.startsWith('test_');
      const isTodo = name.startsWith('todo_');
      if (!isTest && !isTodo) continue;
      const pkg = mod.package.path.join('.');
      const full = `data.${pkg}.${displayTestName(name)}`;
      if (seen.has(full)) continue;
      seen.add(full);
      if (opts.run && !opts.run.test(full)) continue;
      tests.push({
        name: full,
        package: pkg,
        rule: displayTestName(name),
        entrypoint: [...mod.package.path, name].join('/'),
        file: mod.file,
        line: rule.loc.line,
        skip: isTodo,
        ...(isTest && isSubResultTest(rule)
          ? {
              subResults: mod.rules.some((r) => r.head.ref.head.type === 'var' && r.head.ref.head.name === `${CASES_PREFIX}${name}`)
                ? { casesEntrypoint: [...mod.package.path, `${CASES_PREFIX}${name}`].join('/') }
                : {},
            }
          : {}),
      });
    }
  }
  return tests;
}
