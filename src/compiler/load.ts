/**
 * Reading a policy directory: `.rego` files become modules, `data.json` / `data.yaml` files become base
 * documents placed under `data` at their directory's path relative to the root given (so
 * `policies/mcp/data.json` holding `{"x": 1}` is `data.mcp.x` when `policies` is the root). A data path
 * defined twice with different values is an error, never a silent override.
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';

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

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);
const SKIP_DIRS = new Set(['node_modules', '.git']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merge `value` into `into` at `at`; objects merge key by key, anything else must not collide. */
function mergeAt(into: Record<string, unknown>, at: string[], value: unknown, file: string, where: string[] = []): void {
  let cur: Record<string, unknown> = into;
  for (let i = 0; i < at.length; i++) {
    const k = at[i];
    const next = cur[k];
    if (next === undefined) cur[k] = {};
    else if (!isPlainObject(next)) throw new PolicySourceError(`${file}: data path ${['data', ...at.slice(0, i + 1)].join('.')} conflicts with a value defined elsewhere`);
    cur = cur[k] as Record<string, unknown>;
  }
  if (!isPlainObject(value)) {
    if (at.length === 0) throw new PolicySourceError(`${file}: a data file at the root must hold an object`);
    throw new PolicySourceError(`${file}: data files must hold an object`);
  }
  mergeObjects(cur, value, file, [...where, ...at]);
}

function mergeObjects(into: Record<string, unknown>, from: Record<string, unknown>, file: string, at: string[]): void {
  for (const [k, v] of Object.entries(from)) {
    const have = into[k];
    if (have === undefined) into[k] = v;
    else if (isPlainObject(have) && isPlainObject(v)) mergeObjects(have, v, file, [...at, k]);
    else if (JSON.stringify(have) !== JSON.stringify(v)) {
      throw new PolicySourceError(`${file}: data path ${['data', ...at, k].join('.')} is defined twice with different values`);
    }
  }
}

function parseDataFile(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new PolicySourceError(`${file}: cannot parse data file: ${(e as Error).message}`);
  }
}

function walk(root: string, dir: string, out: LoadedPolicy): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(root, full, out);
    } else if (e.isFile()) {
      if (e.name.endsWith('.rego')) out.modules.push({ file: full, source: fs.readFileSync(full, 'utf8') });
      else if (DATA_FILES.has(e.name)) {
        const rel = path.relative(root, dir);
        const at = rel === '' ? [] : rel.split(path.sep);
        mergeAt(out.data, at, parseDataFile(full), full);
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
    else if (/\.(json|ya?ml)$/.test(p)) mergeAt(out.data, [], parseDataFile(p), p);
    else throw new PolicySourceError(`${p}: not a .rego, .json or .yaml file`);
  }
  return out;
}
