import * as http from 'http';
import type { AddressInfo } from 'net';
import { isAnswered, writeJsonSoon } from '../../src/server/response-batch';

function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

function get(port: number, path: string, agent: http.Agent): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      })
      .on('error', reject);
  });
}

describe('coalesced response writes', () => {
  test('every answer queued in a turn reaches its own client, with its status, headers and length', async () => {
    const { server, port } = await listen((req, res) => {
      const n = Number(req.url!.slice(1));
      writeJsonSoon(res, n % 2 ? 200 : 403, JSON.stringify({ n, text: 'é'.repeat(n) }), { 'X-N': String(n) });
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(port, `/${i}`, agent)));
      answers.forEach((a, i) => {
        expect(a.status).toBe(i % 2 ? 200 : 403);
        expect(JSON.parse(a.body)).toEqual({ n: i, text: 'é'.repeat(i) });
        expect(a.headers['x-n']).toBe(String(i));
        expect(Number(a.headers['content-length'])).toBe(Buffer.byteLength(a.body));
        expect(a.headers['content-type']).toBe('application/json');
      });
    } finally {
      agent.destroy();
      server.close();
    }
  });

  test('a second answer for a response already answered is ignored, not written after the first', async () => {
    const seen: boolean[] = [];
    const { server, port } = await listen((_req, res) => {
      seen.push(isAnswered(res));
      writeJsonSoon(res, 200, '{"first":true}');
      seen.push(isAnswered(res));
      writeJsonSoon(res, 500, '{"second":true}');
    });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const a = await get(port, '/', agent);
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body)).toEqual({ first: true });
      expect(seen).toEqual([false, true]);
      // the connection stays usable: nothing stray was written into it
      const b = await get(port, '/', agent);
      expect(JSON.parse(b.body)).toEqual({ first: true });
    } finally {
      agent.destroy();
      server.close();
    }
  });

  test('a client gone before its answer is written is skipped without an error', async () => {
    let resolveDone: (written: boolean) => void;
    const done = new Promise<boolean>((r) => (resolveDone = r));
    const { server, port } = await listen((req, res) => {
      req.socket.destroy();
      writeJsonSoon(res, 200, '{}');
      setImmediate(() => setImmediate(() => resolveDone(res.headersSent)));
    });
    try {
      await get(port, '/', new http.Agent()).catch(() => undefined);
      expect(await done).toBe(false);
    } finally {
      server.close();
    }
  });

  test('an answer that cannot be written closes its connection and does not strand the others of its turn', async () => {
    let n = 0;
    const { server, port } = await listen((_req, res) => {
      const i = n++;
      // node refuses a header value with a newline in it: writeHead throws for this answer only
      writeJsonSoon(res, 200, JSON.stringify({ i }), i === 1 ? { 'X-Bad': 'a\nb' } : undefined);
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => get(port, `/${i}`, agent).then((a) => ({ ok: true as const, a }), (e: Error) => ({ ok: false as const, e }))));
      const failed = answers.filter((x) => !x.ok);
      expect(failed).toHaveLength(1);
      const served = answers.filter((x): x is { ok: true; a: { status: number; body: string; headers: http.IncomingHttpHeaders } } => x.ok);
      expect(served).toHaveLength(5);
      for (const s of served) expect(s.a.status).toBe(200);
      expect(served.map((s) => JSON.parse(s.a.body).i).sort()).toEqual([0, 2, 3, 4, 5]);
    } finally {
      agent.destroy();
      server.close();
    }
  });
});
