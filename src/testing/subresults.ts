/**
 * Tests with sub-results, as `opa test` (OPA 1.x) runs them: a test rule whose head has a key,
 * `test_rest[of] if { some [of, want] in cases; rest(of) == want }`, is one test whose cases are its
 * keys. OPA marks the point of the body where every variable of the key is bound (a case is reached
 * there) and fails the test when a reached case does not end with its key set to `true`, also when the
 * rest of the body fails for it (so no key is produced at all).
 *
 * The value alone cannot show a case whose body failed, so each such rule gets a companion rule of our
 * own, `__pdp_cases__test_rest`, with the body up to that point and the same key: the set of reached
 * cases. The test passes when every reached case is a key of the test's value whose value is `true`
 * (an object value: every value in it, recursively), and every key's value is.
 *
 * @example
 *   addCaseRules(files, reparse);       // appends the companion rules to the sources
 *   subResultVerdict(value, cases);     // { passed: false, error: 'case [[1], []] failed' }
 */
import type { Module, Rule, Term } from '../compiler/ast';
import { offsetOf } from './duplicates';

export const CASES_PREFIX = '__pdp_cases__';

/** `test_x[key]` (a non-constant key, no function arguments, no `contains`): a test with sub-results. */
export function isSubResultTest(rule: Rule): boolean {
  const ref = rule.head.ref;
  if (rule.default || ref.head.type !== 'var' || !ref.head.name.startsWith('test_')) return false;
  if (ref.path.length !== 1 || rule.head.args !== undefined || rule.head.key !== undefined) return false;
  const k = ref.path[0].type;
  return k !== 'string' && k !== 'number' && k !== 'boolean' && k !== 'null';
}

/** Names of the variables in an AST node (terms, expressions), `_` and generated ones excluded. */
function varsOf(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const x of node) varsOf(x, out);
  } else if (node && typeof node === 'object') {
    const n = node as Record<string, unknown>;
    if (n.type === 'var' && typeof n.name === 'string') {
      if (n.name !== '_') out.add(n.name);
      return out;
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'loc') varsOf(v, out);
  }
  return out;
}

/** End (exclusive) of the key term starting at `start`: the `]` closing the head's `[`. */
function keyEnd(source: string, start: number): number {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (c === '"') {
      for (i++; i < source.length && source[i] !== '"'; i++) if (source[i] === '\\') i++;
    } else if (c === '`') {
      i = source.indexOf('`', i + 1);
      if (i < 0) return -1;
    } else if (c === '[' || c === '(' || c === '{') depth++;
    else if (c === ')' || c === '}') depth--;
    else if (c === ']') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** The companion rule's source for `rule`, or undefined when the body has nothing after the key is bound. */
function caseRuleSource(source: string, rule: Rule, v1: boolean): string | undefined | null {
  const name = (rule.head.ref.head as { name: string }).name;
  const key: Term = rule.head.ref.path[0];
  const keyVars = varsOf(key);
  const body = rule.body;
  let reach = -1;
  for (const v of keyVars) {
    const first = body.findIndex((e) => varsOf(e).has(v));
    if (first > reach) reach = first;
  }
  if (reach < 0 || reach >= body.length - 1) return undefined; // no expression after the cases are reached
  const ks = offsetOf(source, key.loc.line, key.loc.col);
  const ke = ks < 0 ? -1 : keyEnd(source, ks);
  const bs = offsetOf(source, body[0].loc.line, body[0].loc.col);
  const be = offsetOf(source, body[reach + 1].loc.line, body[reach + 1].loc.col);
  if (ke < 0 || bs < 0 || be <= bs) return null;
  const keyText = source.slice(ks, ke);
  const pre = source.slice(bs, be).replace(/[\s;]+$/, '');
  const head = v1 ? `${CASES_PREFIX}${name} contains ${keyText} if` : `${CASES_PREFIX}${name}[${keyText}]`;
  return `\n\n${head} {\n${pre}\n}\n`;
}

export interface CaseTarget {
  file: string;
  source: string;
  regoVersion?: number;
  module?: Module;
}

/**
 * Appends a companion rule for every test with sub-results (see the file comment). A rule whose body
 * cannot be cut is left alone; its test then errors (`casesUnavailable`).
 */
export function addCaseRules<T extends CaseTarget>(files: T[], reparse: (f: T, source: string) => Module): void {
  for (const f of files) {
    if (!f.module || !f.module.rules.some(isSubResultTest)) continue;
    const v1 = f.regoVersion !== 0 || f.module.imports.some((i) => i.path.head.type === 'var' && i.path.head.name === 'rego');
    let extra = '';
    for (const rule of f.module.rules) {
      if (!isSubResultTest(rule)) continue;
      const text = caseRuleSource(f.source, rule, v1);
      if (typeof text === 'string') extra += text;
    }
    if (extra === '') continue;
    const source = f.source.replace(/\s*$/, '\n') + extra;
    try {
      f.module = reparse(f, source);
      f.source = source;
    } catch {
      // leave the file as it was: its sub-result tests are reported as errors
    }
  }
}

/** Whether a sub-result value is a pass (OPA: a `true`, or an object all of whose values are). */
function allTrue(v: unknown): boolean {
  if (v === true) return true;
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.values(v).every(allTrue);
  return false;
}

function show(v: unknown): string {
  return JSON.stringify(v);
}

/**
 * The verdict of a test with sub-results: `value` is the test rule's value (an object keyed by case),
 * `cases` the reached cases (undefined when every case reaches the end of the body by construction).
 */
export function subResultVerdict(value: unknown, cases: unknown[] | undefined): { passed: boolean; error?: string } {
  if (value === undefined) return { passed: false, error: 'undefined' };
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { passed: false, error: `result is ${show(value)}, not an object of cases` };
  const obj = value as Record<string, unknown>;
  const failed: string[] = [];
  for (const [k, v] of Object.entries(obj)) if (!allTrue(v)) failed.push(`case ${show(k)} is ${show(v)}`);
  for (const c of cases ?? []) {
    const k = typeof c === 'string' ? c : show(c);
    if (!(k in obj)) failed.push(`case ${show(c)} failed`);
  }
  return failed.length === 0 ? { passed: true } : { passed: false, error: failed.join('; ') };
}
