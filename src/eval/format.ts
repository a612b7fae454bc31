/**
 * Printing `pdp eval` results. `json` is `opa eval`'s document, indented by two spaces (values come
 * with their object keys sorted from query.ts, as OPA's Go encoder writes maps). `values` and
 * `bindings` print, per result, the expressions' values as an array or the bindings object. `raw` follows `opa eval --format raw`: one line per
 * result, expression values separated by spaces, strings written as they are. `pretty` is for people:
 * a lone value as indented JSON, anything else as a table of the same columns as `opa eval` chooses
 * (the table's drawing is ours, not byte-for-byte OPA's).
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

/** Indented JSON as Go's encoder writes it: two spaces, a final newline, Go's escapes. */
export function formatJson(out: unknown): string {
  return goEscapes(JSON.stringify(out, null, 2)) + '\n';
}

/** Go's default JSON escapes (`<`, `>`, `&`, U+2028, U+2029), applied to JSON text: they occur only in strings there. */
function goEscapes(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function rawValue(v: unknown): string {
  return typeof v === 'string' ? v : goEscapes(JSON.stringify(sortKeys(v)));
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

/**
 * A lone result without bindings whose expressions are one, or all booleans: that value as indented
 * JSON. Otherwise a table: the bound variables (sorted), then the expressions whose value is not a
 * boolean (every expression when there are no bindings).
 */
function formatPretty(out: EvalOutput): string {
  const rows: EvalRow[] = out.result ?? [];
  if (rows.length === 0) return 'undefined\n';
  const first = rows[0];
  const vars = Object.keys(first.bindings ?? {}).sort();
  if (rows.length === 1 && vars.length === 0 && (first.expressions.length === 1 || first.expressions.every((e) => typeof e.value === 'boolean'))) {
    return formatJson(first.expressions[0].value);
  }
  const shown = first.expressions.map((_, i) => i).filter((i) => vars.length === 0 || typeof first.expressions[i].value !== 'boolean');
  const header = [...vars, ...shown.map((i) => first.expressions[i].text)];
  const cells = rows.map((r) => [
    ...vars.map((v) => rawJson(r.bindings?.[v])),
    ...shown.map((i) => rawJson(r.expressions[i].value)),
  ]);
  return table(header, cells);
}

function rawJson(v: unknown): string {
  return v === undefined ? '' : goEscapes(JSON.stringify(sortKeys(v)));
}

export function formatOutput(out: EvalOutput, format: Format): string {
  if (format === 'raw') return formatRaw(out);
  // one document per result: its expressions' values, or its bindings
  if (format === 'values') return (out.result ?? []).map((r) => formatJson(r.expressions.map((e) => e.value))).join('');
  if (format === 'bindings') return (out.result ?? []).map((r) => formatJson(r.bindings ?? {})).join('');
  if (format === 'pretty') return formatPretty(out);
  return formatJson(out);
}
