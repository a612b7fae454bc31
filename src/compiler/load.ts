/**
 * Reading a policy directory: `.rego` files become modules, `data.json` / `data.yaml` files become base
 * documents placed under `data` at their directory's path relative to the root given (so
 * `policies/mcp/data.json` holding `{"x": 1}` is `data.mcp.x` when `policies` is the root), by the
 * same rules as a bundle's data (bundles/data-tree.ts): a data path set twice is an error, never a
 * silent override. Each module carries the Rego version it is parsed as (rego-version.ts): a `.manifest`
 * at the root of a directory given sets it as in a bundle (`rego_version`, `file_rego_versions`); otherwise
 * it is v1, or v0 with `v0Compatible` (OPA's `--v0-compatible`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DATA_FILE_NAMES, parseDataText, placeDataFile } from '../bundles/data-tree';
import type { SourceFile } from './index';
import type { RegoVersion } from './parser';
import { ManifestVersionError, readManifestVersions, regoVersionFor, type VersionRules } from './rego-version';

export interface LoadedPolicy {
  modules: SourceFile[];
  data: Record<string, unknown>;
}

export interface LoadOptions {
  /** parse files as Rego v0 unless a `.manifest` says otherwise (OPA's --v0-compatible) */
  v0Compatible?: boolean;
  /**
   * every `.json` / `.yaml` / `.yml` file is data at its directory's path, as OPA's loader reads the
   * paths given to `opa test` and `opa eval -d`; otherwise only `data.json` / `data.yaml`, as in a bundle
   * (what a served directory is)
   */
  anyDataFile?: boolean;
}

/**
 * A policy directory that cannot be read (missing path, unparsable or conflicting data file). Not
 * src/engine/policy.ts PolicyLoadError, which is a compiled policy.wasm that cannot be instantiated.
 */
export class PolicySourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicySourceError';
  }
}

const SKIP_DIRS = new Set(['node_modules', '.git']);
const dataError = (file: string, message: string) => new PolicySourceError(`${file}: ${message}`);

/** A data file's value (bundles/data-tree.ts parses bundle members the same way). */
function parseDataFile(file: string): unknown {
  return parseDataText(file, fs.readFileSync(file, 'utf8'), dataError);
}

/** The version rules of `<root>/.manifest`, when there is one. */
function manifestVersions(root: string): VersionRules | undefined {
  const file = path.join(root, '.manifest');
  if (!fs.existsSync(file)) return undefined;
  try {
    return readManifestVersions(fs.readFileSync(file, 'utf8'), file);
  } catch (e) {
    if (e instanceof ManifestVersionError) throw new PolicySourceError(e.message);
    throw new PolicySourceError(`${file}: cannot read: ${(e as Error).message}`);
  }
}

interface Versioning {
  rules?: VersionRules;
  fallback: RegoVersion;
}

/**
 * The Rego version of each file under `root` (a directory given on the command line, or a single file,
 * which has no manifest). Throws PolicySourceError for a bad `.manifest`.
 */
export function regoVersionsUnder(root: string, opts: LoadOptions = {}): (file: string) => RegoVersion {
  const fallback: RegoVersion = opts.v0Compatible ? 0 : 1;
  const isDir = fs.statSync(root).isDirectory();
  const rules = isDir ? manifestVersions(root) : undefined;
  return (file) => (isDir ? regoVersionFor(rules, '/' + path.relative(root, file).split(path.sep).join('/'), fallback) : fallback);
}

function walk(root: string, dir: string, out: LoadedPolicy, v: Versioning, anyDataFile: boolean): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(root, full, out, v, anyDataFile);
    } else if (e.isFile()) {
      if (e.name.endsWith('.rego')) {
        const bundlePath = '/' + path.relative(root, full).split(path.sep).join('/');
        out.modules.push({ file: full, source: fs.readFileSync(full, 'utf8'), regoVersion: regoVersionFor(v.rules, bundlePath, v.fallback) });
      }
      else if (anyDataFile ? /\.(json|ya?ml)$/.test(e.name) : DATA_FILE_NAMES.has(e.name)) {
        const rel = path.relative(root, dir);
        const at = rel === '' ? [] : rel.split(path.sep);
        placeDataFile(out.data, at, parseDataFile(full), full, dataError);
      }
    }
  }
}

/** Load .rego modules and data files from directories and/or single files. */
export function loadPolicyDir(paths: string[], opts: LoadOptions = {}): LoadedPolicy {
  const out: LoadedPolicy = { modules: [], data: {} };
  const fallback: RegoVersion = opts.v0Compatible ? 0 : 1;
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new PolicySourceError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) walk(p, p, out, { rules: manifestVersions(p), fallback }, opts.anyDataFile === true);
    // a single file given directly has no bundle root, hence no manifest
    else if (p.endsWith('.rego')) out.modules.push({ file: p, source: fs.readFileSync(p, 'utf8'), regoVersion: fallback });
    else if (/\.(json|ya?ml)$/.test(p)) placeDataFile(out.data, [], parseDataFile(p), p, dataError);
    else throw new PolicySourceError(`${p}: not a .rego, .json or .yaml file`);
  }
  return out;
}
