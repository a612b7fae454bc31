/**
 * A slow sender cannot hold a connection open: a request whose body trickles in (1 byte every 50 ms
 * here, standing for 1 byte/s) is answered 408 with a JSON body once server.request_timeout_ms has
 * passed, and the connection is closed, on the lean decision routes and on express (AuthZEN) alike.
 */
import * as net from 'net';
import { startWith } from './helpers';
import type { PdpServer } from '../../src/server/server';
import { defaultConfig } from '../../src/server/config';

let pdp: PdpServer;

beforeAll(async () => {
  const cfg = defaultConfig();
  pdp = await startWith([], { server: { ...cfg.server, port: 0, request_timeout_ms: 300 } });
});
afterAll(() => pdp?.close());

/** Send the head and then one body byte every 50 ms until the server closes; resolve with what came back. */
function trickle(path: string): Promise<{ text: string; bytesSent: number }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(pdp.url());
    const sock = net.connect(Number(port), '127.0.0.1');
    let text = '';
    let bytesSent = 0;
    let timer: NodeJS.Timeout | undefined;
    sock.on('connect', () => {
      sock.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
      timer = setInterval(() => {
        if (sock.writable) {
          sock.write(' ');
          bytesSent++;
        }
      }, 50);
    });
    sock.on('data', (d) => (text += d.toString()));
    sock.on('error', () => undefined); // writes racing the close
    sock.on('close', () => {
      clearInterval(timer);
      resolve({ text, bytesSent });
    });
    // a hang here is the bug itself: fail the test rather than wait for jest's timeout
    setTimeout(() => reject(new Error(`connection still open after 10 s: ${text}`)), 10_000).unref();
  });
}

it.each(['/v1/decide', '/v1/data/mcp/authz/decision', '/access/v1/evaluation'])('%s: 408 with a JSON error, connection closed', async (path) => {
  const { text } = await trickle(path);
  const [head, body] = text.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 408 /);
  expect(head).toMatch(/content-type: application\/json/i);
  expect(JSON.parse(body)).toEqual({ allow: false, decision: false, error: { code: 'request_timeout', message: 'the request was not received within 300 ms (server.request_timeout_ms)' } });
  // the server still answers others
  const ok = await fetch(`${pdp.url()}/health`);
  expect(ok.status).toBe(200);
});
