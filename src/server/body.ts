/**
 * Reading a JSON request body on the hot path without a framework: content type check (415),
 * declared and actual size limit (413), parse (400), nesting depth (400 `too_deep`). Every failure is an HttpError with a JSON body.
 */
import type { IncomingMessage } from 'http';
import { deeperThan, tooDeepMessage } from '../util/json-depth';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
  }
}

export function isJsonContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  const base = ct.split(';')[0].trim().toLowerCase();
  return base === 'application/json' || (base.startsWith('application/') && base.endsWith('+json'));
}

/** What a body may be: at most `bytes` long and `depth` levels deep (server.max_json_depth). */
export interface BodyLimits {
  bytes: number;
  depth: number;
}

/**
 * Read and parse the body. `requireBody: false` lets an empty body stand for undefined. `anyContentType`
 * is OPA's Data API rule: a body is JSON whatever its content type says (`curl -d` sends
 * application/x-www-form-urlencoded), except YAML, which OPA parses and we refuse with 415.
 */
export function readJsonBody(req: IncomingMessage, limits: BodyLimits, requireBody = true, anyContentType = false): Promise<unknown> {
  const limit = limits.bytes;
  return new Promise((resolve, reject) => {
    const len = req.headers['content-length'];
    if (len !== undefined && Number(len) > limit) {
      req.resume();
      reject(new HttpError(413, 'payload_too_large', `request body exceeds the limit of ${limit} bytes`));
      return;
    }
    const ct = req.headers['content-type'];
    if (anyContentType ? /yaml/i.test(ct ?? '') : len !== '0' && !isJsonContentType(ct) && (requireBody || ct)) {
      req.resume();
      reject(new HttpError(415, 'unsupported_media_type', anyContentType ? 'YAML request bodies are not supported: send the body as JSON' : 'request body must be application/json'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        reject(new HttpError(413, 'payload_too_large', `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        if (requireBody) reject(new HttpError(400, 'invalid_request', 'request body is empty'));
        else resolve(undefined);
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        reject(new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`));
        return;
      }
      if (deeperThan(value, limits.depth)) reject(new HttpError(400, 'too_deep', tooDeepMessage('request body', limits.depth)));
      else resolve(value);
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(new HttpError(400, 'invalid_request', `request body could not be read: ${err.message}`));
    });
  });
}
