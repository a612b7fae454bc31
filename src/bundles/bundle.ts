/**
 * A bundle in memory, OPA's format: `/.manifest`, data files (`data.json` / `data.yaml` / `data.yml`,
 * each merged into `data` at the path of its directory), `/policy.wasm` (and any other `policy.wasm`
 * named by the manifest's `wasm` entries), optional `.rego` sources and `/.signatures.json`.
 * parseBundle checks everything it can before anything is instantiated, so a bad bundle never gets as
 * far as activation.
 */
import { BundleFormatError } from './tar';
import { DATA_FILE_NAMES, parseDataText, placeDataFile } from './data-tree';

export interface WasmResolver {
  entrypoint: string;
  module: string;
}

export interface Manifest {
  revision: string;
  roots: string[];
  wasm: WasmResolver[];
  rego_version?: number;
  metadata?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface Bundle {
  manifest: Manifest;
  /** the merged data document */
  data: Record<string, unknown>;
  /** wasm modules by member name ("/policy.wasm") */
  wasm: Map<string, Uint8Array>;
  /** .rego sources by member name (kept for reference; OPA-built bundles include them) */
  rego: Map<string, string>;
  /** the raw `.signatures.json` content, when present */
  signatures?: unknown;
  /** every member, for signature verification */
  files: Map<string, Buffer>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

function parseManifest(raw: Buffer | undefined): Manifest {
  if (!raw) return { revision: '', roots: [''], wasm: [] };
  let m: unknown;
  try {
    m = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BundleFormatError(`/.manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(m)) throw new BundleFormatError('/.manifest must be a JSON object');
  if (m.revision !== undefined && typeof m.revision !== 'string') throw new BundleFormatError('/.manifest: revision must be a string');
  if (m.roots !== undefined && (!Array.isArray(m.roots) || m.roots.some((r) => typeof r !== 'string'))) {
    throw new BundleFormatError('/.manifest: roots must be an array of strings');
  }
  if (m.wasm !== undefined && (!Array.isArray(m.wasm) || m.wasm.some((w) => !isObject(w) || typeof w.entrypoint !== 'string' || typeof w.module !== 'string'))) {
    throw new BundleFormatError('/.manifest: wasm must be an array of {entrypoint, module} strings');
  }
  if (m.metadata !== undefined && !isObject(m.metadata)) throw new BundleFormatError('/.manifest: metadata must be an object');
  const roots = ((m.roots as string[] | undefined) ?? ['']).map(trimSlashes);
  for (let i = 0; i < roots.length; i++) {
    for (let j = 0; j < roots.length; j++) {
      if (i !== j && overlaps(roots[i], roots[j])) {
        throw new BundleFormatError(`/.manifest: roots ${JSON.stringify(roots[i])} and ${JSON.stringify(roots[j])} overlap`);
      }
    }
  }
  const wasm = ((m.wasm as WasmResolver[] | undefined) ?? []).map((w) => ({
    entrypoint: trimSlashes(w.entrypoint),
    module: '/' + trimSlashes(w.module),
  }));
  return { ...m, revision: (m.revision as string | undefined) ?? '', roots, wasm } as Manifest;
}

/** true when root `a` contains `b` (segment-wise) */
function covers(root: string, path: string): boolean {
  if (root === '') return true;
  return path === root || path.startsWith(root + '/');
}

/** true when one root contains the other ("" contains everything) */
export function overlaps(a: string, b: string): boolean {
  return covers(a, b) || covers(b, a);
}

function underRoots(roots: string[], path: string): boolean {
  return roots.some((r) => covers(r, path));
}

/** Bundle data errors name the member: "<file>: <what>". */
const dataError = (file: string, message: string) => new BundleFormatError(`${file}: ${message}`);

/** Check and assemble a bundle from its members (names normalised with a leading "/"). */
export function parseBundle(files: Map<string, Buffer>): Bundle {
  const manifest = parseManifest(files.get('/.manifest'));
  const data: Record<string, unknown> = {};
  const wasm = new Map<string, Uint8Array>();
  const rego = new Map<string, string>();
  let signatures: unknown;

  for (const [name, raw] of files) {
    const parts = name.split('/').filter(Boolean);
    const base = parts[parts.length - 1];
    if (name === '/.manifest') continue;
    if (name === '/.signatures.json') {
      try {
        signatures = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        throw new BundleFormatError(`/.signatures.json is not valid JSON: ${(err as Error).message}`);
      }
      continue;
    }
    if (DATA_FILE_NAMES.has(base)) {
      const dir = parts.slice(0, -1);
      const path = dir.join('/');
      const value = parseDataText(name, raw.toString('utf8'), dataError);
      // a data file's own path, or every key of a root file, must lie under the roots
      const paths = dir.length > 0 ? [path] : isObject(value) ? Object.keys(value) : [];
      for (const p of paths) {
        if (!underRoots(manifest.roots, p)) {
          throw new BundleFormatError(`manifest roots ${JSON.stringify(manifest.roots)} do not permit data at path /${p} (${name})`);
        }
      }
      placeDataFile(data, dir, value, name, dataError);
      continue;
    }
    if (base === 'policy.wasm') {
      wasm.set(name, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
      continue;
    }
    if (base.endsWith('.rego')) rego.set(name, raw.toString('utf8'));
    if (name === '/patch.json') throw new BundleFormatError('delta bundles (patch.json) are not supported');
  }

  const seen = new Set<string>();
  for (const w of manifest.wasm) {
    if (!wasm.has(w.module)) throw new BundleFormatError(`/.manifest: wasm module ${w.module} for ${w.entrypoint} is not in the bundle`);
    if (seen.has(w.entrypoint)) throw new BundleFormatError(`/.manifest: entrypoint ${w.entrypoint} appears twice`);
    seen.add(w.entrypoint);
    if (!underRoots(manifest.roots, w.entrypoint)) {
      throw new BundleFormatError(`manifest roots ${JSON.stringify(manifest.roots)} do not permit entrypoint ${w.entrypoint}`);
    }
  }
  if (wasm.size === 0) {
    throw new BundleFormatError(
      rego.size > 0
        ? 'bundle holds .rego sources but no policy.wasm: build it with `pdp build` (or `opa build -t wasm`), or serve the source directory'
        : 'bundle holds no policy.wasm',
    );
  }
  return { manifest, data, wasm, rego, signatures, files };
}
