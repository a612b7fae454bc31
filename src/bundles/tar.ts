/**
 * Reads a bundle tarball (.tar.gz) into memory with hard limits, because bundles may come from the
 * network: the decompressed size is capped (gzip bombs) and so is every file. Member names are
 * normalised to start with "/" (OPA writes them that way; other tools do not), and names that escape
 * the bundle ("..") are refused.
 */
import * as zlib from 'zlib';
import { extract } from 'tar-stream';
import { Readable } from 'stream';

export const DEFAULT_SIZE_LIMIT = 1024 * 1024 * 1024; // OPA's default: 1 GiB

export class BundleFormatError extends Error {
  readonly code = 'bundle_format_error';
}

/** "/a/b", "a/b", "./a/b" → "/a/b"; refuses ".." segments and empty names. */
export function normaliseName(name: string): string {
  const parts = name.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new BundleFormatError(`bundle member ${JSON.stringify(name)} escapes the bundle`);
  if (parts.length === 0) throw new BundleFormatError(`bundle member with an empty name`);
  return '/' + parts.join('/');
}

export async function readTarGz(buf: Uint8Array, sizeLimit = DEFAULT_SIZE_LIMIT): Promise<Map<string, Buffer>> {
  let tar: Buffer;
  try {
    tar = zlib.gunzipSync(buf, { maxOutputLength: sizeLimit });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength/i.test(e.message)) {
      throw new BundleFormatError(`bundle exceeds the size limit of ${sizeLimit} bytes once decompressed`);
    }
    throw new BundleFormatError(`bundle is not a gzip file: ${e.message}`);
  }
  return readTar(tar, sizeLimit);
}

function readTar(tar: Buffer, sizeLimit: number): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    const ex = extract();
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      ex.destroy();
      reject(err instanceof BundleFormatError ? err : new BundleFormatError(`bundle is not a valid tar archive: ${err.message}`));
    };
    ex.on('entry', (header, stream, next) => {
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        // directories carry nothing; links and devices have no meaning in a bundle
        stream.resume();
        stream.on('end', next);
        return;
      }
      let name: string;
      try {
        name = normaliseName(header.name);
      } catch (err) {
        stream.resume();
        fail(err as Error);
        return;
      }
      if ((header.size ?? 0) > sizeLimit) {
        stream.resume();
        fail(new BundleFormatError(`bundle file ${name} exceeds the size limit of ${sizeLimit} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => { chunks.push(c as Buffer); });
      stream.on('error', fail);
      stream.on('end', () => {
        if (files.has(name)) {
          fail(new BundleFormatError(`bundle holds ${name} twice`));
          return;
        }
        files.set(name, Buffer.concat(chunks));
        next();
      });
    });
    ex.on('finish', () => {
      if (!failed) resolve(files);
    });
    ex.on('error', fail);
    Readable.from([tar]).pipe(ex);
  });
}
