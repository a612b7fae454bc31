/**
 * Runs the simple cases of OPA's conformance folders for built-ins directly against our host
 * implementations (no compiler): `p := f(args)`, `p if { f(args) == v }`, `f(args, out)`, … Cases outside
 * the mini evaluator's grammar are skipped here and covered by the end-to-end conformance runner.
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { evalCase } from './mini-eval';
import { compare, toSet } from '../../src/builtins/values';
import type { Value } from '../../src/builtins/registry';

const ROOT = '/work/shared/opa-conformance';
const FOLDERS = ['aggregates', 'arithmetic', 'array', 'base64builtins', 'base64urlbuiltins', 'casts', 'globmatch',
  'jsonbuiltins', 'netcidrcontains', 'numbersrange', 'objectfilter', 'objectget', 'objectremove', 'objectunion',
  'regexmatch', 'semvercompare', 'sprintf', 'strings', 'time', 'trim', 'units'];

interface Case { note: string; query: string; modules: string[]; input?: Value; data?: Value; want_result?: { x: Value }[]; want_error_code?: string; want_error?: string; strict_error?: boolean; sort_bindings?: boolean }

function loadCases(): Case[] {
  const out: Case[] = [];
  for (const f of FOLDERS) {
    const dir = path.join(ROOT, f);
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir)) {
      for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
        const j = doc.toJSON() as { cases?: Case[] } | null;
        if (j?.cases) out.push(...j.cases);
      }
    }
  }
  return out;
}

/** Compare by value; numbers by value (bigint vs double), arrays that were sets in OPA compared sorted when asked. */
function same(a: Value, b: Value, asSet: boolean): boolean {
  const norm = (v: Value): Value => (typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(norm) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)])) : v);
  const x = norm(a), y = norm(b);
  if (asSet && Array.isArray(x) && Array.isArray(y)) return compare(toSet(x), toSet(y)) === 0;
  return compare(x, y) === 0;
}

const hasCorpus = fs.existsSync(ROOT);
(hasCorpus ? describe : describe.skip)('conformance cases run directly against host built-ins', () => {
  const cases = hasCorpus ? loadCases() : [];
  const results = cases.map((c) => ({ c, r: evalCase(c) }));
  const evaluated = results.filter((x) => x.r.kind !== 'skip');

  it('evaluates a meaningful share of the cases', () => {
    // printed so a drop is visible in CI logs
    console.log(`built-in conformance: ${cases.length} cases, ${evaluated.length} evaluated directly, ${cases.length - evaluated.length} skipped`);
    expect(evaluated.length).toBeGreaterThan(200);
  });

  for (const { c, r } of evaluated) {
    it(c.note, () => {
      if (c.want_error_code) {
        expect(r.kind).toBe('error');
        if (r.kind === 'error') {
          expect(r.code).toBe(c.want_error_code);
          if (c.want_error) expect(r.message).toContain(c.want_error);
        }
        return;
      }
      if (c.strict_error && !c.want_result) {
        // strict cases without a wanted result: OPA fails with some error
        expect(r.kind).toBe('error');
        return;
      }
      expect(r.kind).toBe('value');
      if (r.kind !== 'value') return;
      const want = c.want_result ?? [];
      if (want.length === 0) {
        expect(r.defined).toBe(false);
        return;
      }
      expect(r.defined).toBe(true);
      expect(same(r.value as Value, want[0].x, !!(r.set || c.sort_bindings))).toBe(true);
    });
  }
});
