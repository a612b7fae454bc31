/**
 * Several definitions of one test rule are several tests, as in `opa test`: OPA's test runner renames
 * the second and later definitions of `test_x` (per package, in file then source order) to `test_x#01`,
 * `test_x#02`, … and runs each on its own, so a failing definition is reported even when another one
 * passes. Without this, the definitions would be one incremental rule (true when any body is), and a
 * failing duplicate would pass silently.
 *
 * `#` cannot appear in a Rego name, so the source is rewritten with a name of our own
 * (`test_x__pdp_dup_01`) at the rule's head, and the report shows OPA's `test_x#01`.
 *
 * @example
 *   const renamed = renameDuplicateTests(files, reparse);
 *   displayTestName('test_x__pdp_dup_01'); // 'test_x#01'
 */
import type { Module, Rule } from '../compiler/ast';

const MARK = '__pdp_dup_';
const DUP = /^(.*)__pdp_dup_(\d{2,})_*$/;

/** OPA's name for a renamed duplicate (`test_x#01`); any other name unchanged. */
export function displayTestName(rule: string): string {
  const m = DUP.exec(rule);
  return m ? `${m[1]}#${m[2]}` : rule;
}

/** The test (or todo) name of a rule that OPA would run as a test by that name, else undefined. */
function plainTestName(rule: Rule): string | undefined {
  if (rule.default) return undefined;
  const ref = rule.head.ref;
  if (ref.head.type !== 'var' || ref.path.length > 0 || rule.head.args !== undefined || rule.head.key !== undefined) return undefined;
  const name = ref.head.name;
  return name.startsWith('test_') ? name : undefined;
}

/** Character offset of a 1-based line/column in `source`, or -1. */
export function offsetOf(source: string, line: number, col: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = source.indexOf('\n', off);
    if (nl < 0) return -1;
    off = nl + 1;
  }
  return off + col - 1;
}

export interface RenameTarget {
  file: string;
  source: string;
  module?: Module;
}

/**
 * Rewrites, in place, the second and later definitions of each `test_*` rule of a package so that each
 * is a rule of its own; `reparse` parses a rewritten source. Files are visited in name order (the order
 * tests are reported in). Returns how many definitions were renamed.
 */
export function renameDuplicateTests<T extends RenameTarget>(files: T[], reparse: (f: T, source: string) => Module): number {
  const count = new Map<string, number>();
  const taken = new Set<string>();
  for (const f of files) {
    if (!f.module) continue;
    const pkg = f.module.package.path.join('.');
    for (const r of f.module.rules) taken.add(`${pkg}.${r.head.ref.head.type === 'var' ? r.head.ref.head.name : ''}`);
  }
  let renamed = 0;
  const order = [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const f of order) {
    if (!f.module) continue;
    const pkg = f.module.package.path.join('.');
    const edits: Array<{ at: number; from: string; to: string }> = [];
    for (const rule of f.module.rules) {
      const name = plainTestName(rule);
      if (name === undefined) continue;
      const key = `${pkg}.${name}`;
      const k = count.get(key) ?? 0;
      count.set(key, k + 1);
      if (k === 0) continue;
      const head = rule.head.ref.head;
      const at = offsetOf(f.source, head.loc.line, head.loc.col);
      if (at < 0 || f.source.slice(at, at + name.length) !== name) continue; // cannot locate it: leave it merged
      let to = `${name}${MARK}${String(k).padStart(2, '0')}`;
      while (taken.has(`${pkg}.${to}`)) to = `${to}_`;
      taken.add(`${pkg}.${to}`);
      edits.push({ at, from: name, to });
    }
    if (edits.length === 0) continue;
    let src = f.source;
    for (const e of [...edits].sort((a, b) => b.at - a.at)) src = src.slice(0, e.at) + e.to + src.slice(e.at + e.from.length);
    f.module = reparse(f, src);
    f.source = src;
    renamed += edits.length;
  }
  return renamed;
}
