/**
 * Reading a policy directory: `.rego` files become modules, `data.json` / `data.yaml` files become base
 * documents placed under `data` at their directory's path relative to the root given (so
 * `policies/mcp/data.json` holding `{"x": 1}` is `data.mcp.x` when `policies` is the root), by the
 * same rules as a bundle's data (bundles/data-tree.ts): a data path set twice is an error, never a
 * silent override.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DATA_FILE_NAMES, parseDataText, placeDataFile } from '../bundles/data-tree';

export interface LoadedPolicy {
  modules: Array<{ file: string; source: string }>;
  data: Record<string, unknown>;
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

function walk(root: string, dir: string, out: LoadedPolicy): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(root, full, out);
    } else if (e.isFile()) {
      if (e.name.endsWith('.rego')) out.modules.push({ file: full, source: fs.readFileSync(full, 'utf8') });
      else if (DATA_FILE_NAMES.has(e.name)) {
        const rel = path.relative(root, dir);
        const at = rel === '' ? [] : rel.split(path.sep);
        placeDataFile(out.data, at, parseDataFile(full), full, dataError);
      }
    }
  }
}

/** Load .rego modules and data files from directories and/or single files. */
export function loadPolicyDir(paths: string[]): LoadedPolicy {
  const out: LoadedPolicy = { modules: [], data: {} };
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new PolicySourceError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) walk(p, p, out);
    else if (p.endsWith('.rego')) out.modules.push({ file: p, source: fs.readFileSync(p, 'utf8') });
    else if (/\.(json|ya?ml)$/.test(p)) placeDataFile(out.data, [], parseDataFile(p), p, dataError);
    else throw new PolicySourceError(`${p}: not a .rego, .json or .yaml file`);
  }
  return out;
}
