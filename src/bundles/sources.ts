/**
 * Where bundles come from, as raw member maps: a .tar.gz file, an unpacked bundle directory, or a
 * directory of .rego + data files compiled in-process by our compiler. (HTTP sources live in http.ts.)
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { readTarGz, normaliseName, BundleFormatError, DEFAULT_SIZE_LIMIT } from './tar';
import { isTestFile } from '../testing/discover';

export type SourceKind = 'file' | 'bundle-dir' | 'rego-dir' | 'http';

export function sourceKind(source: string): SourceKind {
  if (/^https?:\/\//i.test(source)) return 'http';
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new BundleFormatError(`bundle source ${source} does not exist`);
  }
  if (st.isDirectory()) {
    if (fs.existsSync(path.join(source, 'policy.wasm'))) return 'bundle-dir';
    const manifest = path.join(source, '.manifest');
    if (!fs.existsSync(manifest)) return 'rego-dir';
    // a manifest naming no wasm module is a bundle of sources (say, with rego_version 0): compile them
    return namesWasm(manifest) ? 'bundle-dir' : 'rego-dir';
  }
  return 'file';
}

/** Whether a `.manifest` lists wasm modules (an unreadable one is left to the bundle reader to report). */
function namesWasm(manifest: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { wasm?: unknown };
    return Array.isArray(m.wasm) && m.wasm.length > 0;
  } catch {
    return true;
  }
}

/** A default bundle name from its source: "bundles/mcp.tar.gz" → "mcp". */
export function defaultBundleName(source: string): string {
  const clean = source.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const base = clean.split('/').pop() || 'bundle';
  return base.replace(/\.tar\.gz$|\.tgz$/i, '') || 'bundle';
}

export async function readBundleFile(file: string, sizeLimit = DEFAULT_SIZE_LIMIT): Promise<{ files: Map<string, Buffer>; raw: Buffer }> {
  const st = await fs.promises.stat(file);
  if (st.size > sizeLimit) throw new BundleFormatError(`${file} exceeds the size limit of ${sizeLimit} bytes`);
  const raw = await fs.promises.readFile(file);
  return { files: await readTarGz(raw, sizeLimit), raw };
}

function walk(dir: string, out: string[], skip: (rel: string) => boolean, root = dir): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    const rel = path.relative(root, full);
    if (skip(rel)) continue;
    if (e.isDirectory()) walk(full, out, skip, root);
    else if (e.isFile()) out.push(full);
  }
}

/**
 * Whether a path inside a directory source (relative to it) is outside the bundle: package and VCS
 * folders always; for a .rego directory, dot-files and dot-folders too (editors' swap and temp files).
 */
export function ignoredInSource(kind: SourceKind, rel: string): boolean {
  return rel.split(path.sep).some((p) => p === 'node_modules' || p === '.git' || (kind === 'rego-dir' && p.startsWith('.')));
}

/** Every file of an unpacked bundle directory. */
export function bundleDirFiles(dir: string): string[] {
  const list: string[] = [];
  walk(dir, list, (rel) => ignoredInSource('bundle-dir', rel));
  return list;
}

export function readBundleDir(dir: string, sizeLimit = DEFAULT_SIZE_LIMIT): Map<string, Buffer> {
  const list = bundleDirFiles(dir);
  const files = new Map<string, Buffer>();
  let total = 0;
  for (const f of list) {
    const buf = fs.readFileSync(f);
    total += buf.length;
    if (total > sizeLimit) throw new BundleFormatError(`${dir} exceeds the size limit of ${sizeLimit} bytes`);
    files.set(normaliseName(path.relative(dir, f)), buf);
  }
  return files;
}

/** The files of a .rego directory that matter to its compiled bundle, for staleness and revisions. */
export function regoDirFiles(dir: string): string[] {
  const list: string[] = [];
  walk(dir, list, (rel) => ignoredInSource('rego-dir', rel));
  // the root .manifest decides how the sources are read (rego_version), so it is part of them
  const manifest = fs.existsSync(path.join(dir, '.manifest')) ? [path.join(dir, '.manifest')] : [];
  return [
    ...manifest,
    ...list.filter((f) => /\.rego$/.test(f) || /(^|\/)data\.(json|ya?ml)$/.test(f.split(path.sep).join('/'))).filter((f) => !isTestFile(f)),
  ].sort();
}

/** A content hash of a .rego directory's sources (names and bytes): changes iff the bundle must. */
export function regoDirHash(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of regoDirFiles(dir)) {
    h.update(path.relative(dir, f));
    h.update('\0');
    h.update(fs.readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/** A source file's name inside the bundle built from `dir`. */
function bundleFile(dir: string, file: string): string {
  return path.relative(dir, path.resolve(file)).split(path.sep).join('/');
}

/** What a served policy directory compiles to: the bundle's contents and the entrypoints it serves. */
export interface CompiledDir {
  contents: import('../compiler/bundle').BundleContents;
  entrypoints: string[];
}

/**
 * Compile a directory of .rego (+ data files) the way the PDP serves it, in-process: test files
 * (`*_test.rego`) left out — they are for `pdp test`, never part of what is served (docs/service.md) —
 * and the given entrypoints, or, when those are absent from the directory and `fallbackToAnnotated`,
 * the modules' own `entrypoint: true` annotations (the first error is reported if that fails too).
 * `pdp serve --bundle <dir>` (compileRegoDir) and `pdp start`'s default bundle both come from here.
 */
export function compileServedDir(
  dir: string,
  opts: {
    entrypoints?: string[];
    fallbackToAnnotated?: boolean;
    revision: string;
    metadata?: Record<string, unknown>;
    withSources?: boolean;
    /** Rego v0 unless the directory's .manifest says otherwise */
    v0Compatible?: boolean;
  },
): CompiledDir {
  // loaded on first use: a PDP that serves only built bundles never pays for the compiler
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { compile } = require('../compiler') as typeof import('../compiler');
  const { loadPolicyDir } = require('../compiler/load') as typeof import('../compiler/load');
  const { compiledManifest, regoVersionFields } = require('../compiler/bundle') as typeof import('../compiler/bundle');
  /* eslint-enable @typescript-eslint/no-var-requires */
  const files = regoDirFiles(dir);
  if (!files.some((f) => f.endsWith('.rego'))) throw new BundleFormatError(`${dir} holds no .rego files`);
  const loaded = loadPolicyDir([dir], { v0Compatible: opts.v0Compatible });
  const modules = loaded.modules.filter((m) => !isTestFile(m.file));
  let out: ReturnType<typeof compile>;
  try {
    out = compile({ modules, entrypoints: opts.entrypoints });
  } catch (first) {
    if (!opts.entrypoints || !opts.fallbackToAnnotated) throw first;
    try {
      out = compile({ modules });
    } catch {
      throw first;
    }
    if (out.entrypoints.length === 0) throw first;
  }
  const manifest = compiledManifest({
    revision: opts.revision,
    packages: out.modules.map((m) => m.package.path),
    data: loaded.data,
    entrypoints: out.entrypoints,
    metadata: opts.metadata,
    regoVersions: regoVersionFields(modules.map((m) => ({ file: bundleFile(dir, m.file), regoVersion: m.regoVersion }))),
  });
  const sources = opts.withSources ? modules.map((m) => ({ file: bundleFile(dir, m.file), source: m.source })) : undefined;
  return { contents: { manifest, data: loaded.data, wasm: out.wasm, sources }, entrypoints: out.entrypoints };
}

/**
 * A directory source's bundle members (/.manifest with revision = content hash of the sources,
 * /data.json, /policy.wasm, and the .rego sources as an OPA-built bundle carries them, so the Data API
 * can compile any rule path of them on demand: engine/documents.ts), for the bundle reader.
 */
export async function compileRegoDir(dir: string, entrypoints?: string[], opts: { v0Compatible?: boolean } = {}): Promise<Map<string, Buffer>> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { bundleMembers } = require('../compiler/bundle') as typeof import('../compiler/bundle');
  const compiled = compileServedDir(dir, { entrypoints, fallbackToAnnotated: true, revision: regoDirHash(dir).slice(0, 16), v0Compatible: opts.v0Compatible, withSources: true });
  return bundleMembers(compiled.contents);
}
