/**
 * `pdp check <file|dir>... [--parse-only] [--v0-compatible]`: parses and checks every `.rego` file given
 * (directories are searched recursively). Prints one error per line (`file:line:col: message`) and exits 1,
 * or exits 0. A `.json` / `.yaml` / `.yml` file named explicitly is data: it is only checked to parse.
 * Files are Rego v1 unless `--v0-compatible` is given or a directory's `.manifest` says otherwise (as
 * for `pdp test`, see compiler/load.ts).
 *
 * Without --parse-only the files are also checked together as one policy set (the compiler's cross-file
 * checks); with it, each file is only parsed and checked on its own. When some files do not parse or the
 * set has errors, each package is also checked with the packages it needs (package-deps.ts), so that the
 * errors of every file are reported, not only those of the first stage that failed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Module } from '../../compiler/ast';
import { RegoError, RegoErrors } from '../../compiler/errors';
import { parseModule } from '../../compiler/parser';
import { checkModules } from '../../compiler/check';
import { closureOf, guessPackage, moduleUnit, type DepUnit } from '../../compiler/package-deps';
import { parseDataText } from '../../bundles/data-tree';
import { BuiltinPluginError, loadBuiltinPlugins } from '../../builtins/plugins';
import { PolicySourceError, regoVersionsUnder, type LoadOptions } from '../../compiler/load';
import type { RegoVersion } from '../../compiler/parser';

export const summary = 'parse and check Rego policy files (--parse-only: each file on its own)';

const USAGE = 'usage: pdp check [--parse-only] [--v0-compatible] [--builtins FILE] <file|dir>...';

const DATA_FILE = /\.(json|ya?ml)$/;

/**
 * The `.rego` files under the given paths, in a stable order, and the data files named explicitly.
 * Missing paths become errors.
 */
export function collectRegoFiles(paths: string[], opts: LoadOptions = {}): { files: string[]; dataFiles: string[]; errors: string[]; versions: Map<string, RegoVersion> } {
  const files: string[] = [];
  const versions = new Map<string, RegoVersion>();
  let versionOf: (file: string) => RegoVersion = () => 1;
  const dataFiles: string[] = [];
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
    } else if (p.endsWith('.rego') || (explicit && !DATA_FILE.test(p))) {
      files.push(p);
      versions.set(p, versionOf(p));
    } else if (explicit) {
      dataFiles.push(p);
    }
  };
  for (const p of paths) {
    try {
      versionOf = regoVersionsUnder(p, opts);
    } catch (e) {
      errors.push(e instanceof PolicySourceError ? e.message : `${p}: no such file or directory`);
      continue;
    }
    visit(p, true);
  }
  return { files, dataFiles, errors, versions };
}

/** One file that did not parse: its errors, and the package its `package` line names (if readable). */
export interface BrokenFile {
  file: string;
  pkg: string[] | undefined;
}

/** Parses each file; returns the modules that parsed and every error as RegoError or plain text. */
export function parseFiles(files: string[], versions?: Map<string, RegoVersion>): { modules: Module[]; errors: Array<RegoError | string>; broken: BrokenFile[] } {
  const modules: Module[] = [];
  const errors: Array<RegoError | string> = [];
  const broken: BrokenFile[] = [];
  for (const file of files) {
    let source: string;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch (e) {
      errors.push(`${file}: cannot read: ${(e as Error).message}`);
      broken.push({ file, pkg: undefined });
      continue;
    }
    try {
      modules.push(parseModule(source, file, { regoVersion: versions?.get(file) ?? 1 }));
    } catch (e) {
      if (e instanceof RegoErrors) errors.push(...e.errors);
      else if (e instanceof RegoError) errors.push(e);
      else throw e;
      broken.push({ file, pkg: guessPackage(source) });
    }
  }
  return { modules, errors, broken };
}

/** Each data file must parse; its errors (the content is not checked against the policies). */
function checkDataFiles(files: string[]): string[] {
  const errors: string[] = [];
  for (const file of files) {
    try {
      parseDataText(file, fs.readFileSync(file, 'utf8'), (f, m) => new Error(`${f}: ${m}`));
    } catch (e) {
      errors.push((e as Error).message.startsWith(file) ? (e as Error).message : `${file}: cannot read: ${(e as Error).message}`);
    }
  }
  return errors;
}

/**
 * The cross-file errors of every package whose needs all parsed, each package checked with the packages
 * it needs: one package's errors (or a file that does not parse) do not hide another's.
 */
function checkEachPackage(modules: Module[], broken: BrokenFile[]): RegoError[] {
  const units: DepUnit[] = [...modules.map(moduleUnit), ...broken.map((b) => ({ pkg: b.pkg, refs: [] }))];
  const isBroken = (i: number): boolean => i >= modules.length;
  const done = new Set<string>();
  const out: RegoError[] = [];
  for (const m of modules) {
    const pkg = m.package.path.join('.');
    if (done.has(pkg)) continue;
    done.add(pkg);
    const start = modules.flatMap((x, i) => (x.package.path.join('.') === pkg ? [i] : []));
    const needed = closureOf(units, start);
    if (needed.some(isBroken)) continue;
    out.push(...checkModules(needed.map((i) => modules[i])));
  }
  return out;
}

function uniqueMessages(errors: Array<RegoError | string>): string[] {
  return [...new Set(errors.map((e) => (typeof e === 'string' ? e : e.message)))];
}

export async function run(args: string[]): Promise<number> {
  let parseOnly = false;
  let v0Compatible = false;
  const paths: string[] = [];
  const plugins: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--parse-only') parseOnly = true;
    else if (a === '--v0-compatible') v0Compatible = true;
    else if (a === '--builtins' && i + 1 < args.length) plugins.push(args[++i]);
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
  try {
    loadBuiltinPlugins(plugins);
  } catch (e) {
    if (!(e instanceof BuiltinPluginError)) throw e;
    process.stderr.write(`pdp check: ${e.message}\n`);
    return 2;
  }
  const { files, dataFiles, errors: pathErrors, versions } = collectRegoFiles(paths, { v0Compatible });
  const { modules, errors, broken } = parseFiles(files, versions);
  const all: Array<RegoError | string> = [...pathErrors, ...checkDataFiles(dataFiles), ...errors];

  if (!parseOnly && modules.length > 0) {
    // Cross-file checks over the files as one policy set: rule conflicts, imports, safety,
    // recursion, unknown functions and arity, and constructs the compiler would refuse.
    const together = broken.length === 0 ? checkModules(modules) : [];
    all.push(...together);
    if (broken.length > 0 || together.length > 0) all.push(...checkEachPackage(modules, broken));
  }

  const lines = uniqueMessages(all);
  for (const line of lines) process.stderr.write(line + '\n');
  if (lines.length > 0) return 1;
  if (files.length === 0 && dataFiles.length === 0) {
    process.stderr.write(`pdp check: no .rego files found in ${paths.join(', ')}\n`);
    return 1;
  }
  return 0;
}
