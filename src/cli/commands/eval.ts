/**
 * `pdp eval [-d dir|file|bundle.tar.gz]... [-b bundle]... [-i input.json | -I] [-f json|values|bindings|pretty|raw]
 * [--fail | --fail-defined] [--strict-builtin-errors] '<query>'`: evaluates a Rego query in the
 * spirit of `opa eval`, with our compiler and the PDP's engine (src/eval/query.ts), and prints OPA's
 * JSON result document `{"result": [{"expressions": [...], "bindings": {...}}]}` (`{}` when
 * undefined).
 */
import * as fs from 'fs';
import { RegoError, RegoErrors } from '../../compiler/errors';
import { parseDataText } from '../../bundles/data-tree';
import { ActiveBundle } from '../../engine/engine';
import { errorMessage } from '../../engine/error-message';
import { dataRefPath, entrypointOutput, explainQuery, prepareQuery, queryOutput, runQuery, type EvalOutput } from '../../eval/query';
import { loadEvalSources, type EvalSources } from '../../eval/sources';
import { FORMATS, formatJson, formatOutput, type Format } from '../../eval/format';
import { parseCommandArgs } from '../args';

export const summary = "evaluate a Rego query against policies, data and input (opa eval's JSON output)";

const USAGE = `usage: pdp eval [options] '<query>'

  -d, --data PATH            .rego / data file or directory, or a bundle (.tar.gz); repeatable
  -b, --bundle PATH          a bundle (.tar.gz or directory); repeatable
  -i, --input FILE           the input document (JSON or YAML)
  -I, --stdin-input          read the input document from stdin
  -f, --format FORMAT        json (default), values, bindings, pretty or raw
      --fail                 exit 1 when the result is undefined
      --fail-defined         exit 1 when the result is defined
      --strict-builtin-errors  built-in errors stop evaluation instead of making the call undefined
      --explain notes        also list the rule bodies that held (file:line:col): "explanation" in json,
                             one line each on stderr for the other formats`;

interface Args {
  query: string;
  data: string[];
  bundles: string[];
  input?: string;
  stdinInput: boolean;
  format: Format;
  fail: boolean;
  failDefined: boolean;
  strict: boolean;
  explain: boolean;
}

const VALUE_FLAGS: Record<string, 'data' | 'bundles' | 'input' | 'format' | 'explain'> = {
  '-d': 'data', '--data': 'data', '-b': 'bundles', '--bundle': 'bundles',
  '-i': 'input', '--input': 'input', '-f': 'format', '--format': 'format', '--explain': 'explain',
};

function parseArgs(args: string[]): Args | string {
  const out: Args = { query: '', data: [], bundles: [], stdinInput: false, format: 'json', fail: false, failDefined: false, strict: false, explain: false };
  const queries: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    let value: string | undefined;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const key = VALUE_FLAGS[a];
    if (key) {
      if (value === undefined) {
        if (i + 1 >= args.length) return `${a} needs a value`;
        value = args[++i];
      }
      if (key === 'data') out.data.push(value);
      else if (key === 'bundles') out.bundles.push(value);
      else if (key === 'input') out.input = value;
      else if (key === 'explain') {
        if (value !== 'notes') return `--explain ${value} is not supported by pdp eval: only --explain notes (the rule bodies that held; docs/eval.md)`;
        out.explain = true;
      } else {
        if (!(FORMATS as readonly string[]).includes(value)) return `unsupported format ${value} (supported: ${FORMATS.join(', ')})`;
        out.format = value as Format;
      }
    } else if (a === '-I' || a === '--stdin-input') out.stdinInput = true;
    else if (a === '--fail') out.fail = true;
    else if (a === '--fail-defined') out.failDefined = true;
    else if (a === '--strict-builtin-errors') out.strict = true;
    else if (a === '--partial' || a === '--profile' || a === '--coverage' || a === '-u' || a === '--unknowns') {
      return `${a} is not supported by pdp eval (docs/eval.md says what is)`;
    } else if (a.startsWith('-') && a !== '-') return `unknown option ${a}`;
    else queries.push(args[i]);
  }
  if (queries.length !== 1) return queries.length === 0 ? 'no query given' : 'give exactly one query (quote it)';
  if (out.fail && out.failDefined) return '--fail and --fail-defined exclude each other';
  if (out.input !== undefined && out.stdinInput) return '--input and --stdin-input exclude each other';
  out.query = queries[0];
  return out;
}

/**
 * The input document as JSON text, or undefined when none was given (then `input` is undefined in the
 * query). A JSON file's own text goes to the policy, as the server passes a request's input: parsing it
 * into JS numbers first would round long decimals and integers beyond 2^53.
 */
function readInput(a: Args): string | undefined {
  const read = (file: string, text: string): string => {
    const value = parseDataText(file, text, inputError); // validates, and reads YAML
    return file.endsWith('.json') ? text : JSON.stringify(value);
  };
  if (a.stdinInput) return read('<stdin>.json', fs.readFileSync(0, 'utf8'));
  if (a.input === undefined) return undefined;
  return read(a.input, fs.readFileSync(a.input, 'utf8'));
}

const inputError = (file: string, message: string) => new Error(`${file}: ${message}`);

/**
 * Evaluate with the sources loaded. A bundle without .rego sources has only its compiled entrypoints:
 * a query that is exactly `data.<entrypoint>` is answered by its module, as the server would answer
 * it; anything else is refused rather than answered without the bundle's rules.
 */
async function evaluate(a: Args, src: EvalSources, input: string | undefined): Promise<EvalOutput> {
  if (src.builtOnly.length > 0) {
    if (a.explain) throw new Error(`--explain notes needs the .rego sources, and ${src.builtOnly.map((b) => b.name).join(', ')} holds none (wasm only)`);
    const path = dataRefPath(a.query);
    for (const { name, bundle } of src.builtOnly) {
      const active = await ActiveBundle.create(name, bundle);
      if (path !== undefined && active.has(path)) {
        const rs = active.evaluateJson(path, input).resultSet;
        return entrypointOutput(a.query, rs.length > 0 ? { defined: true, value: rs[0].result } : { defined: false });
      }
    }
    const list = src.builtOnly.map((b) => `${b.name} (entrypoints: ${b.bundle.manifest.wasm.map((w) => 'data.' + w.entrypoint.replace(/\//g, '.')).join(', ') || 'none'})`);
    throw new Error(`a bundle without .rego sources can only be queried for one of its entrypoints, exactly: ${list.join('; ')}`);
  }
  const q = prepareQuery(a.query);
  const out = queryOutput(q, runQuery(q, src.modules, src.data, input, { strictBuiltinErrors: a.strict }));
  if (a.explain) out.explanation = explainQuery(q, src.modules, src.data, input, { strictBuiltinErrors: a.strict });
  return out;
}

/** OPA's error document: `{"errors": [{message, code, location: {file, row, col}}]}` (its field order). */
function errorDocument(err: unknown): { errors: Array<Record<string, unknown>> } {
  const list = err instanceof RegoErrors ? err.errors : err instanceof RegoError ? [err] : undefined;
  if (list) {
    return { errors: list.map((e) => ({ message: e.detail, code: e.code, location: { file: e.loc.file, row: e.loc.line, col: e.loc.col } })) };
  }
  const code = err && typeof err === 'object' && typeof (err as { errorClass?: unknown }).errorClass === 'string' ? (err as { errorClass: string }).errorClass : undefined;
  return { errors: [{ message: errorMessage(err), ...(code ? { code } : {}) }] };
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('eval', args, USAGE, parseArgs);
  if (typeof parsed === 'number') return parsed;
  let out: EvalOutput;
  try {
    const input = readInput(parsed);
    const src = await loadEvalSources(parsed.data, parsed.bundles);
    out = await evaluate(parsed, src, input);
  } catch (err) {
    if (parsed.format === 'json') process.stdout.write(formatJson(errorDocument(err)));
    else process.stderr.write(`pdp eval: ${errorMessage(err)}\n`);
    return 1;
  }
  process.stdout.write(formatOutput(out, parsed.format));
  if (out.explanation && parsed.format !== 'json') {
    for (const r of out.explanation) process.stderr.write(`${r.location} ${r.rule} (${r.kind}${r.count > 1 ? ` ×${r.count}` : ''})\n`);
  }
  const defined = (out.result?.length ?? 0) > 0;
  if (parsed.fail && !defined) return 1;
  if (parsed.failDefined && defined) return 1;
  return 0;
}
