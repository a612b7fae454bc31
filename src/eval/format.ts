/**
 * Printing `pdp eval` results. `json` is `opa eval`'s document, indented by two spaces (values come
 * with their object keys sorted from query.ts, as OPA's Go encoder writes maps). `values` and
 * `bindings` print, per result, the expressions' values as an array or the bindings object. `raw` follows `opa eval --format raw`: one line per
 * result, expression values separated by spaces, strings written as they are. `pretty` is for people:
 * a lone value is printed as indented JSON, anything with bindings as a table (our layout, not
 * byte-for-byte OPA's).
 */
import type { EvalOutput, EvalRow } from './query';

export type Format = 'json' | 'values' | 'bindings' | 'pretty' | 'raw';
export const FORMATS: readonly Format[] = ['json', 'values', 'bindings', 'pretty', 'raw'];

/** A copy of v with every object's keys in sorted order (Go's encoding/json order for maps). */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * Indented JSON as Go's encoder writes it: two spaces, a final newline, and `<`, `>`, `&`, U+2028 and
 * U+2029 escaped (Go escapes them by default; in JSON text they can only occur inside strings).
 */
export function formatJson(out: unknown): string {
  return JSON.stringify(out, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '\n';
}

function rawValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(sortKeys(v));
}

function formatRaw(out: EvalOutput): string {
  return (out.result ?? []).map((r) => r.expressions.map((e) => rawValue(e.value)).join(' ') + '\n').join('');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |\n';
  return rule + line(header) + rule + rows.map(line).join('') + rule;
}

function formatPretty(out: EvalOutput): string {
  const rows: EvalRow[] = out.result ?? [];
  if (rows.length === 0) return 'undefined\n';
  const vars = [...new Set(rows.flatMap((r) => Object.keys(r.bindings ?? {})))].sort();
  // expressions whose value is not simply `true` are worth a column
  const shown = rows[0].expressions.map((e, i) => i).filter((i) => rows.some((r) => r.expressions[i].value !== true));
  if (vars.length === 0 && rows.length === 1 && rows[0].expressions.length === 1) {
    return JSON.stringify(sortKeys(rows[0].expressions[0].value), null, 2) + '\n';
  }
  const header = [...vars, ...shown.map((i) => rows[0].expressions[i].text)];
  if (header.length === 0) return 'true\n';
  const cells = rows.map((r) => [
    ...vars.map((v) => (r.bindings && v in r.bindings ? JSON.stringify(sortKeys(r.bindings[v])) : '')),
    ...shown.map((i) => JSON.stringify(sortKeys(r.expressions[i].value))),
  ]);
  return table(header, cells);
}

export function formatOutput(out: EvalOutput, format: Format): string {
  if (format === 'raw') return formatRaw(out);
  // one document per result: its expressions' values, or its bindings
  if (format === 'values') return (out.result ?? []).map((r) => formatJson(r.expressions.map((e) => e.value))).join('');
  if (format === 'bindings') return (out.result ?? []).map((r) => formatJson(r.bindings ?? {})).join('');
  if (format === 'pretty') return formatPretty(out);
  return formatJson(out);
}
