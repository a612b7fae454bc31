/**
 * `pdp parse <file> [--v0-compatible]`: prints a module's AST as JSON (like `opa parse --format json`), every node with
 * its file, line and column. Exits 1 with `file:line:col: message` lines when the file does not parse.
 */
import * as fs from 'fs';
import { RegoErrors } from '../../compiler/errors';
import { parseModule } from '../../compiler/parser';

export const summary = 'print the AST of a Rego file as JSON';

const USAGE = 'usage: pdp parse <file.rego> [--v0-compatible]\n';

export async function run(args: string[]): Promise<number> {
  const v0 = args.includes('--v0-compatible');
  const rest = args.filter((a) => a !== '--v0-compatible');
  const files = rest.filter((a) => !a.startsWith('-'));
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (files.length !== 1 || files.length !== rest.length) {
    process.stderr.write(USAGE);
    return 2;
  }
  const file = files[0];
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (e) {
    process.stderr.write(`${file}: cannot read: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const module = parseModule(source, file, { regoVersion: v0 ? 0 : 1 });
    process.stdout.write(JSON.stringify(module, null, 2) + '\n');
    return 0;
  } catch (e) {
    if (!(e instanceof RegoErrors)) throw e;
    for (const err of e.errors) process.stderr.write(err.message + '\n');
    return 1;
  }
}
