/** Dev-only: run the conformance cases through the planner + IR interpreter (no wasm). */
import * as path from 'path';
import { loadCases } from '../../src/cli/commands/conformance';
import { compileToProgram } from '../../src/compiler';
import { RegoErrors } from '../../src/compiler/errors';
import { parseTerm } from '../../src/compiler/parser';
import { runPlan, Abort, toJSON, VObj, VSet, keyOf, V } from './ir-interp';
import type { Term } from '../../src/compiler/ast';

function termV(t: Term): V {
  switch (t.type) {
    case 'null': return null;
    case 'boolean': return t.value;
    case 'number': return Number(t.value);
    case 'string': return t.value;
    case 'array': return t.items.map(termV);
    case 'set': { const s = new VSet(); for (const i of t.items) { const v = termV(i); s.m.set(keyOf(v), v); } return s; }
    case 'object': { const o = new VObj(); for (const [k, v] of t.items) { const kk = termV(k); o.m.set(keyOf(kk), [kk, termV(v)]); } return o; }
    default: throw new Error('bad input term');
  }
}

const norm = (x: unknown): string => JSON.stringify(x, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));

test('conformance via IR interpreter', () => {
  const dir = path.resolve(__dirname, '../../../shared/opa-conformance');
  const counts: Record<string, Record<string, number>> = {};
  const lines: string[] = [];
  const filter = process.env.CASE_FILTER;
  for (const { folder, c } of loadCases(dir)) {
    if (filter && !c.note.includes(filter) && folder !== filter) continue;
    let kind = 'pass', why = '';
    try {
      const { program } = compileToProgram({ modules: (c.modules ?? []).map((source, i) => ({ file: `m${i}.rego`, source })), queries: [{ name: 'q', query: c.query }], strictBuiltinErrors: !!c.strict_error });
      const input = c.input_term !== undefined ? toJSON(termV(parseTerm(c.input_term, 'in'))) : c.input;
      const res = runPlan(program, 'q', input, c.data ?? {});
      if (c.want_error_code) { kind = 'wrong'; why = 'wanted error ' + c.want_error_code + ' got ' + JSON.stringify(res); }
      else {
        const want = (c.want_result ?? []) as unknown[];
        const a = res.map(norm).sort(), b = want.map(norm).sort();
        if (JSON.stringify(a) !== JSON.stringify(b)) { kind = 'wrong'; why = `got ${JSON.stringify(res)} want ${JSON.stringify(want)}`; }
      }
    } catch (e) {
      if (e instanceof RegoErrors) {
        if (c.want_error_code && e.errors.some((x) => x.code === c.want_error_code)) kind = 'pass';
        else if (e.errors.some((x) => x.code === 'unsupported')) { kind = 'refused'; why = e.message; }
        else { kind = 'wrong'; why = e.message; }
      } else if (e instanceof Abort) {
        if (c.want_error_code && e.message.startsWith(c.want_error_code)) kind = 'pass'; else { kind = 'wrong'; why = e.message; }
      } else if (e instanceof Error && e.message.startsWith('interp: no built-in')) { kind = 'nobuiltin'; why = e.message; }
      else { kind = 'wrong'; why = e instanceof Error ? e.stack ?? e.message : String(e); }
    }
    (counts[folder] ??= {})[kind] = ((counts[folder] ??= {})[kind] ?? 0) + 1;
    if (kind !== 'pass' && kind !== 'nobuiltin') lines.push(`${kind} ${c.note}: ${why.slice(0, 400)}`);
  }
  console.log(lines.join('\n') + '\n' + Object.entries(counts).map(([f, c]) => `${f} ${JSON.stringify(c)}`).join('\n'));
});
