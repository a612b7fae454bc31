/**
 * `pdp check <file|dir>... [--parse-only]`: parses and checks every `.rego` file given (directories are
 * searched recursively). Prints one error per line (`file:line:col: message`) and exits 1, or exits 0.
 *
 * Without --parse-only the files are also checked together as one policy set (the compiler's cross-file
 * checks); with it, each file is only parsed and checked on its own.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Module } from '../../compiler/ast';
import { RegoError, RegoErrors } from '../../compiler/errors';
import { parseModule } from '../../compiler/parser';
import { checkModules } from '../../compiler/check';

export const summary = 'parse and check Rego policy files (--parse-only: each file on its own)';

const USAGE = 'usage: pdp check [--parse-only] <file|dir>...';

/** All `.rego` files under the given paths, in a stable order. Missing paths become errors. */
export function collectRegoFiles(paths: string[]): { files: string[]; errors: string[] } {
  const files: string[] = [];
  const errors: string[] = [];
  const visit = (p: string, explicit: boolean): void => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      errors.push(`${p}: no such file or directory`);
      return;
    }
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) {
        if (name.startsWith('.') || name === 'node_modules') continue;
        visit(path.join(p, name), false);
      }
    } else if (explicit || p.endsWith('.rego')) {
      files.push(p);
    }
  };
  for (const p of paths) visit(p, true);
  return { files, errors };
}

/** Parses each file; returns the modules that parsed and every error as RegoError or plain text. */
export function parseFiles(files: string[]): { modules: Module[]; errors: Array<RegoError | string> } {
  const modules: Module[] = [];
  const errors: Array<RegoError | string> = [];
  for (const file of files) {
    let source: string;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch (e) {
      errors.push(`${file}: cannot read: ${(e as Error).message}`);
      continue;
    }
    try {
      modules.push(parseModule(source, file));
    } catch (e) {
      if (e instanceof RegoErrors) errors.push(...e.errors);
      else if (e instanceof RegoError) errors.push(e);
      else throw e;
    }
  }
  return { modules, errors };
}

export async function run(args: string[]): Promise<number> {
  let parseOnly = false;
  const paths: string[] = [];
  for (const a of args) {
    if (a === '--parse-only') parseOnly = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    } else if (a.startsWith('-')) {
      process.stderr.write(`pdp check: unknown option ${a}\n${USAGE}\n`);
      return 2;
    } else paths.push(a);
  }
  if (paths.length === 0) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const { files, errors: pathErrors } = collectRegoFiles(paths);
  const { modules, errors } = parseFiles(files);
  const all: Array<RegoError | string> = [...pathErrors, ...errors];

  if (!parseOnly && all.length === 0) {
    // Cross-file checks over the files as one policy set: rule conflicts, imports, safety,
    // recursion, unknown functions and arity, and constructs the compiler would refuse.
    all.push(...checkModules(modules));
  }

  for (const e of all) process.stderr.write((typeof e === 'string' ? e : e.message) + '\n');
  if (all.length > 0) return 1;
  if (files.length === 0) {
    process.stderr.write(`pdp check: no .rego files found in ${paths.join(', ')}\n`);
    return 1;
  }
  return 0;
}
