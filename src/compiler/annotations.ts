/**
 * `# METADATA` annotation blocks: a comment line whose text starts with `METADATA`, followed by comment
 * lines at column 1 on the immediately following lines, holding YAML. The parser attaches each block to the
 * package or rule that follows it (see attachAnnotations in parser.ts).
 */
import { parse as parseYaml } from 'yaml';
import type { Annotations, Location } from './ast';
import type { Comment } from './lexer';
import { RegoError } from './errors';

export interface AnnotationBlock {
  annotations: Annotations;
  /** the last source line the block occupies */
  endLine: number;
}

const SCOPES = new Set(['package', 'rule', 'document', 'subpackages']);

/** Finds every METADATA block in a file's comments and parses its YAML. Bad blocks become errors. */
export function parseAnnotationBlocks(comments: Comment[], file: string): { blocks: AnnotationBlock[]; errors: RegoError[] } {
  const blocks: AnnotationBlock[] = [];
  const errors: RegoError[] = [];
  let i = 0;
  while (i < comments.length) {
    const head = comments[i];
    if (!head.text.trim().startsWith('METADATA')) {
      i++;
      continue;
    }
    const lines: Comment[] = [];
    let j = i + 1;
    let prevLine = head.line;
    while (j < comments.length && comments[j].line === prevLine + 1 && comments[j].col === 1) {
      lines.push(comments[j]);
      prevLine = comments[j].line;
      j++;
    }
    i = j;
    const loc: Location = { file, line: head.line, col: head.col };
    const result = parseBlock(lines, loc);
    if (result instanceof RegoError) errors.push(result);
    else blocks.push({ annotations: result, endLine: prevLine });
  }
  return { blocks, errors };
}

function parseBlock(lines: Comment[], loc: Location): Annotations | RegoError {
  // Each comment line contributes its text minus one leading space (`# title: x` → `title: x`).
  const text = lines.map((c) => (c.text.startsWith(' ') ? c.text.slice(1) : c.text)).join('\n');
  if (text.trim() === '') {
    return new RegoError('rego_parse_error', loc, 'expected METADATA block, found whitespace');
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const err = e as { message?: string; linePos?: Array<{ line: number; col: number }> };
    const firstLine = (err.message ?? String(e)).split('\n')[0];
    // Point at the comment line the YAML error names (YAML lines are 1-based within the block).
    const yamlLine = err.linePos?.[0]?.line;
    const at = yamlLine !== undefined && lines[yamlLine - 1] ? { file: loc.file, line: lines[yamlLine - 1].line, col: 1 } : loc;
    return new RegoError('rego_parse_error', at, `invalid METADATA block: ${firstLine}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return new RegoError('rego_parse_error', loc, 'invalid METADATA block: expected YAML key/value pairs (e.g. "title: My rule")');
  }
  const map = raw as Record<string, unknown>;
  const out: Annotations = { raw: map, loc };
  if (map.scope !== undefined) {
    if (typeof map.scope !== 'string' || !SCOPES.has(map.scope)) {
      return new RegoError('rego_parse_error', loc, `invalid annotation scope ${JSON.stringify(map.scope)}: expected one of package, rule, document, subpackages`);
    }
    out.scope = map.scope as Annotations['scope'];
  }
  for (const key of ['title', 'description'] as const) {
    const v = map[key];
    // an empty value (`# description:`) is YAML null: OPA reads it as no text
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') return new RegoError('rego_parse_error', loc, `invalid METADATA block: "${key}" must be a string`);
    out[key] = v;
  }
  if (map.entrypoint !== undefined) {
    if (typeof map.entrypoint !== 'boolean') {
      return new RegoError('rego_parse_error', loc, 'invalid METADATA block: "entrypoint" must be true or false');
    }
    out.entrypoint = map.entrypoint;
  }
  return out;
}
