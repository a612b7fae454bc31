/**
 * A PDP that cannot serve says so and exits non-zero; it never hangs. A worker that dies after it
 * started is replaced. Runs the built CLI (`node scripts/build.js` first).
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { spawn, type ChildProcess } from 'child_process';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import { tmpDir } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const children: ChildProcess[] = [];
let blocker: net.Server | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
  blocker = undefined;
});

/** A port held by another listener on 127.0.0.1. */
function takenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    blocker = net.createServer();
    blocker.once('error', reject);
    blocker.listen(0, '127.0.0.1', () => resolve((blocker!.address() as net.AddressInfo).port));
  });
}

function run(cmd: string, args: string[], env: Record<string, string>): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cmd, ...args], {
    cwd: ROOT,
    env: { ...process.env, PDP_DECISION_LOG: 'off', PDP_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  // bounded: a process that hangs fails the test instead of blocking it
  const exited = new Promise<number | null>((resolve) => {
    const t = setTimeout(() => resolve(null), 20_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
  return { child, out: () => out, exited };
}

async function bundleFile(): Promise<string> {
  const file = path.join(tmpDir(), 'mcp.tar.gz');
  fs.writeFileSync(file, await decisionBundle('r1'));
  return file;
}

test.each([1, 2])('a port in use ends `pdp serve --workers %i` with a message and a non-zero code', async (workers) => {
  const port = await takenPort();
  const file = await bundleFile();
  const p = run(path.join(ROOT, 'bin', 'pdp.js'), ['serve', '--bundle', file, '--port', String(port), '--workers', String(workers)], {});
  const code = await p.exited;
  expect({ code, out: p.out() }).toEqual({ code: 1, out: expect.stringContaining(`cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE)`) });
});

test('`pdp start` (npm start) on a port in use exits non-zero too', async () => {
  const port = await takenPort();
  const p = run(path.join(ROOT, 'bin', 'pdp.js'), ['start'], { PDP_PORT: String(port), PDP_WORKERS: '2' });
  const code = await p.exited;
  expect({ code, out: p.out() }).toEqual({ code: 1, out: expect.stringContaining('EADDRINUSE') });
});

test('a worker that dies after it started is restarted', async () => {
  const srv = net.createServer();
  const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)));
  await new Promise<void>((r) => srv.close(() => r()));
  const file = await bundleFile();
  const p = run(path.join(ROOT, 'bin', 'pdp.js'), ['serve', '--bundle', file, '--port', String(port), '--workers', '2'], {});
  const listening = () =>
    p
      .out()
      .split('\n')
      .filter((l) => l.includes('"pdp listening"'))
      .map((l) => JSON.parse(l).pid as number);
  const waitFor = async (ok: () => boolean) => {
    for (let i = 0; i < 300 && !ok() && p.child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  };
  await waitFor(() => listening().length >= 2);
  expect(listening()).toHaveLength(2);
  const victim = listening()[0];
  process.kill(victim, 'SIGKILL');
  await waitFor(() => listening().length >= 3);
  expect(listening()).toHaveLength(3);
  expect(listening()).not.toContain(p.child.pid);
  const restart = p.out().split('\n').find((l) => l.includes('worker exited; restarting it'));
  expect(JSON.parse(restart!)).toMatchObject({ pid: victim, signal: 'SIGKILL', restart_in_ms: 250 });
  // the server still answers
  expect((await fetch(`http://127.0.0.1:${port}/health`, { headers: { connection: 'close' } })).status).toBe(200);
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
});

test('`npm run demo` refuses to start when one of its ports is taken', async () => {
  const port = await takenPort();
  const p = run(path.join(ROOT, 'scripts', 'demo.js'), [], { GATEWAY_PORT: String(port), PDP_PORT: '0', MCP_PORT: '0' });
  const code = await p.exited;
  expect({ code, out: p.out() }).toEqual({ code: 1, out: expect.stringContaining(`port ${port} (GATEWAY_PORT) is in use`) });
});
