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

export function writeBundle(b: BundleContents): Buffer {
  const entries: Array<{ name: string; body: Buffer }> = [
    { name: '/.manifest', body: Buffer.from(JSON.stringify(b.manifest)) },
    { name: '/data.json', body: Buffer.from(JSON.stringify(b.data)) },
    { name: '/policy.wasm', body: Buffer.from(b.wasm) },
  ];
  const used = new Set(entries.map((e) => e.name));
  for (const s of b.sources ?? []) {
    let name = '/' + s.file.replace(/\\/g, '/').replace(/^(\.\.?\/)+/, '').replace(/^\/+/, '');
    while (used.has(name)) name = name.replace(/\.rego$/, '') + '_.rego';
    used.add(name);
    entries.push({ name, body: Buffer.from(s.source) });
  }
  return zlib.gzipSync(tarEntries(entries));
}
