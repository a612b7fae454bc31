/** A tiny stand-in PDP for PEP tests: node:http on port 0 answering from a handler table. */
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}
export type Answer = { status?: number; body?: unknown; raw?: string } | 'hang' | 'destroy';
export type Handler = (path: string, body: any, seen: Seen) => Answer;

export interface FakePdp {
  url: string;
  port: number;
  seen: Seen[];
  handler: Handler;
  close(): Promise<void>;
}

export async function startFakePdp(handler: Handler, port = 0): Promise<FakePdp> {
  const hanging = new Set<http.ServerResponse>();
  const fake: FakePdp = { url: '', port: 0, seen: [], handler, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const seen = { path: req.url ?? '', headers: req.headers, body };
      fake.seen.push(seen);
      const a = fake.handler(seen.path, body, seen);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      if (a === 'destroy') {
        req.socket.destroy();
        return;
      }
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
      res.end(a.raw ?? JSON.stringify(a.body ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  fake.port = (server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${fake.port}`;
  fake.close = () =>
    new Promise<void>((r) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function allow(obligations: Record<string, unknown> = {}) {
  return { status: 200, body: { decision_id: 'd-allow', allow: true, reasons: [], obligations, policy: { bundle: 'mcp', revision: 'r1', entrypoint: 'mcp/authz/decision' } } };
}
export function deny(code: string, message: string) {
  return { status: 200, body: { decision_id: 'd-deny', allow: false, reasons: [{ code, message }], obligations: {} } };
}
