/**
 * One JSON POST with a deadline, over a keep-alive connection pool. This is the only place the PEP
 * touches the network; it never throws for network trouble, it returns a classified outcome so the
 * caller can turn every failure into a deny.
 */
import * as http from 'http';
import * as https from 'https';

export type PostOutcome =
  | { ok: true; status: number; body: unknown; bodyError?: string }
  | { ok: false; kind: 'unavailable' | 'timeout'; message: string; retriable: boolean };

export interface PostOptions {
  headers: Record<string, string>;
  /** absolute time (ms since epoch) after which the attempt is abandoned */
  deadline: number;
  agent: http.Agent;
  maxResponseBytes: number;
}

/** Connection errors that prove the request never reached a server: always safe to retry. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

export function postJson(url: URL, payload: unknown, opts: PostOptions): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: PostOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const remaining = opts.deadline - Date.now();
    if (remaining <= 0) {
      resolve({ ok: false, kind: 'timeout', message: 'PDP deadline passed before the request was sent', retriable: false });
      return;
    }
    const data = Buffer.from(JSON.stringify(payload));
    const mod = url.protocol === 'https:' ? https : http;
    let gotResponse = false;
    const req = mod.request(url, {
      method: 'POST',
      agent: opts.agent,
      headers: {
        ...opts.headers,
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': String(data.length),
      },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, kind: 'timeout', message: `PDP did not answer within ${Math.max(0, remaining)} ms`, retriable: false });
      req.destroy();
    }, remaining);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      // A reset on a reused keep-alive socket before any response is the classic idle-socket race:
      // the server closed the socket as we wrote, so it never processed the request.
      const staleSocket = req.reusedSocket && !gotResponse && (code === 'ECONNRESET' || code === 'EPIPE');
      finish({
        ok: false,
        kind: 'unavailable',
        message: `PDP unreachable: ${code || err.message}`,
        retriable: NOT_CONNECTED.has(code) || staleSocket,
      });
    });
    req.on('response', (res) => {
      gotResponse = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxResponseBytes) {
          finish({ ok: true, status: res.statusCode ?? 0, body: undefined, bodyError: `response larger than ${opts.maxResponseBytes} bytes` });
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('error', (err) => finish({ ok: false, kind: 'unavailable', message: `PDP response broke off: ${err.message}`, retriable: false }));
      res.on('aborted', () => finish({ ok: false, kind: 'unavailable', message: 'PDP response broke off', retriable: false }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          finish({ ok: true, status: res.statusCode ?? 0, body: text.length ? JSON.parse(text) : undefined });
        } catch {
          finish({ ok: true, status: res.statusCode ?? 0, body: undefined, bodyError: 'response is not JSON' });
        }
      });
    });
    req.end(data);
  });
}
