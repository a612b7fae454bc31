/**
 * One HTTP bundle download, OPA's protocol: `If-None-Match` with the etag of the last activated
 * bundle, `304` when unchanged, `Prefer: modes=snapshot;wait=N` for long polling (we never ask for
 * deltas), a byte limit on the body, and the backoff OPA uses between failed attempts.
 */
import { BundleFormatError } from './tar';

export const BUNDLE_CONTENT_TYPE = 'application/vnd.openpolicyagent.bundles';

export type Download =
  | { kind: 'bundle'; raw: Buffer; etag?: string; longPoll: boolean }
  | { kind: 'not_modified'; etag?: string; longPoll: boolean }
  | { kind: 'empty' };

export class HttpBundleError extends Error {
  readonly code = 'bundle_download_error';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export async function downloadBundle(
  url: string,
  opts: { etag?: string; headers?: Record<string, string>; waitSeconds?: number; sizeLimit: number; signal?: AbortSignal },
): Promise<Download> {
  const headers: Record<string, string> = {
    Accept: `${BUNDLE_CONTENT_TYPE}, application/gzip, application/octet-stream`,
    Prefer: opts.waitSeconds ? `modes=snapshot;wait=${opts.waitSeconds}` : 'modes=snapshot',
    ...(opts.headers ?? {}),
  };
  if (opts.etag) headers['If-None-Match'] = opts.etag;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: opts.signal, redirect: 'follow' });
  } catch (err) {
    throw new HttpBundleError(`GET ${url}: ${(err as Error).message}`);
  }
  const etag = res.headers.get('etag') ?? undefined;
  const longPoll = (res.headers.get('content-type') ?? '').startsWith(BUNDLE_CONTENT_TYPE);
  if (res.status === 304) {
    await res.body?.cancel();
    return { kind: 'not_modified', etag, longPoll };
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new HttpBundleError(`GET ${url}: server replied with ${res.status} ${res.statusText}`, res.status);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > opts.sizeLimit) {
    await res.body?.cancel();
    throw new BundleFormatError(`bundle at ${url} exceeds the size limit of ${opts.sizeLimit} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > opts.sizeLimit) {
        await reader.cancel();
        throw new BundleFormatError(`bundle at ${url} exceeds the size limit of ${opts.sizeLimit} bytes`);
      }
      chunks.push(Buffer.from(value));
    }
  }
  if (total === 0) return { kind: 'empty' };
  return { kind: 'bundle', raw: Buffer.concat(chunks), etag, longPoll };
}

/** OPA's backoff after failed downloads: 0 first, then 100 ms × 1.6^n with ±20 % jitter, capped. */
export function backoffMs(retry: number, maxMs: number): number {
  if (retry <= 0) return 0;
  const base = Math.min(maxMs, 100 * 1.6 ** (retry - 1));
  const jitter = base * 0.2 * (Math.random() * 2 - 1);
  return Math.max(0, Math.min(maxMs, base + jitter));
}

/** After a successful poll: uniformly in [min, max). */
export function pollDelayMs(minS: number, maxS: number): number {
  return (minS + Math.random() * Math.max(0, maxS - minS)) * 1000;
}
