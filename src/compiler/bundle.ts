/**
 * Writing a bundle in OPA's layout: a gzipped tar whose members are named from the bundle root with a
 * leading slash (`/.manifest`, `/data.json`, `/policy.wasm`, then the `.rego` sources). Deterministic:
 * the same inputs give the same bytes (zero mtimes, fixed modes).
 */
import * as zlib from 'zlib';

export interface BundleContents {
  manifest: object;
  data: object;
  wasm: Uint8Array;
  sources?: Array<{ file: string; source: string }>;
}

/**
 * A ustar archive written directly (tar-stream's packer is asynchronous, and writeBundle is synchronous
 * by contract). Names longer than 100 bytes use the ustar prefix field.
 */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512, 0);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`bundle: file name too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write('0000644\0', 100, 8, 'ascii');
  h.write('0000000\0', 108, 8, 'ascii');
  h.write('0000000\0', 116, 8, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 12, 'ascii');
  h.write('00000000000\0', 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

function tarEntries(entries: Array<{ name: string; body: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e.name, e.body.length), e.body);
    const pad = (512 - (e.body.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}

/** The bundle member a source file is stored as: its path from the bundle root, with a leading `/`. */
export function sourceMemberName(file: string): string {
  return '/' + file.replace(/\\/g, '/').replace(/^(\.\.?\/)+/, '').replace(/^\/+/, '');
}

/**
 * The manifest's Rego version fields for sources of these versions (as OPA writes them): `rego_version`
 * 0 when every source is v0, else 1 with a `file_rego_versions` entry for each v0 source.
 */
export function regoVersionFields(sources: Array<{ file: string; regoVersion?: 0 | 1 }>): Record<string, unknown> {
  const v0 = sources.filter((s) => s.regoVersion === 0);
  if (v0.length === 0) return { rego_version: 1 };
  if (v0.length === sources.length) return { rego_version: 0 };
  return { rego_version: 1, file_rego_versions: Object.fromEntries(v0.map((s) => [sourceMemberName(s.file), 0])) };
}

/** The bundle's members in OPA's order and naming (`/.manifest`, `/data.json`, `/policy.wasm`, sources). */
export function bundleMembers(b: BundleContents): Map<string, Buffer> {
  const members = new Map<string, Buffer>([
    ['/.manifest', Buffer.from(JSON.stringify(b.manifest))],
    ['/data.json', Buffer.from(JSON.stringify(b.data))],
    ['/policy.wasm', Buffer.from(b.wasm)],
  ]);
  for (const s of b.sources ?? []) {
    let name = sourceMemberName(s.file);
    while (members.has(name)) name = name.replace(/\.rego$/, '') + '_.rego';
    members.set(name, Buffer.from(s.source));
  }
  return members;
}

/** The bundle as a gzipped tar, the file `opa build` writes. */
export function writeBundle(b: BundleContents): Buffer {
  return zlib.gzipSync(tarEntries([...bundleMembers(b)].map(([name, body]) => ({ name, body }))));
}

/**
 * The manifest of a compiled policy: one wasm module serving `entrypoints`, roots = the top-level
 * segments of its packages and of its data (what the bundle owns, so bundles that own different
 * trees can be served side by side).
 */
export function compiledManifest(o: {
  revision: string;
  packages: string[][];
  data: Record<string, unknown>;
  entrypoints: string[];
  metadata?: Record<string, unknown>;
  /** the bundle's Rego version fields (regoVersionFields); v1 when absent */
  regoVersions?: Record<string, unknown>;
}): Record<string, unknown> {
  const roots = new Set<string>();
  for (const p of o.packages) if (p.length) roots.add(p[0]);
  for (const k of Object.keys(o.data)) roots.add(k);
  return {
    revision: o.revision,
    roots: [...roots].sort(),
    wasm: o.entrypoints.map((entrypoint) => ({ entrypoint, module: '/policy.wasm' })),
    ...(o.regoVersions ?? { rego_version: 1 }),
    ...(o.metadata ? { metadata: o.metadata } : {}),
  };
}
