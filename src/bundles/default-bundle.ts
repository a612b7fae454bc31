/**
 * `pdp start` serves the default policy: rego/ compiled into bundles/mcp.tar.gz. The bundle is
 * rebuilt only when it is missing or stale, judged by a content hash of the sources (names and bytes
 * of the .rego and data files, tests excluded; plus the compiler and runtime that build it) recorded in
 * the manifest's metadata.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { readTarGz } from './tar';
import { compileServedDir, regoDirHash } from './sources';

export interface EnsureResult {
  built: boolean;
  file: string;
  sourceHash: string;
  entrypoints?: string[];
}

async function recordedHash(file: string): Promise<string | undefined> {
  try {
    const files = await readTarGz(fs.readFileSync(file));
    const m = JSON.parse(files.get('/.manifest')?.toString('utf8') ?? '{}');
    return m?.metadata?.source_hash;
  } catch {
    return undefined; // unreadable or not ours: rebuild
  }
}

/** The compiler and runtime that produce the bundle: a new toolchain must rebuild it too. */
function toolchainHash(): string {
  const h = crypto.createHash('sha256');
  const files: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(js|wasm)$/.test(e.name)) files.push(f);
    }
  };
  walk(path.join(__dirname, '..', 'compiler'));
  walk(path.join(__dirname, '..', '..', 'build'));
  for (const f of files.sort()) h.update(fs.readFileSync(f));
  return h.digest('hex');
}

export async function ensureDefaultBundle(regoDir: string, outFile: string, entrypoint: string): Promise<EnsureResult> {
  if (!fs.existsSync(regoDir)) throw new Error(`policy directory ${regoDir} does not exist`);
  const sourceHash = crypto.createHash('sha256').update(regoDirHash(regoDir)).update(toolchainHash()).update(entrypoint).digest('hex');
  if (fs.existsSync(outFile) && (await recordedHash(outFile)) === sourceHash) return { built: false, file: outFile, sourceHash };

  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { writeBundle } = require('../compiler/bundle') as typeof import('../compiler/bundle');
  const compiled = compileServedDir(regoDir, {
    entrypoints: [entrypoint],
    revision: sourceHash.slice(0, 16),
    metadata: { source_hash: sourceHash, built_by: 'pdp start' },
    withSources: true,
  });
  const buf = writeBundle(compiled.contents);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, outFile); // atomic: a running PDP watching the file never reads half of it
  return { built: true, file: outFile, sourceHash, entrypoints: compiled.entrypoints };
}
