/**
 * `PDP_WORKERS=2 pdp serve`: the primary forks two node:cluster workers that share the port and both
 * answer; SIGTERM stops them all and the primary exits 0. Runs the built CLI (`npm run build` first).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as net from 'net';
import { spawn, type ChildProcess } from 'child_process';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import { post, tmpDir } from './helpers';

const ROOT = path.join(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

let child: ChildProcess | undefined;
afterAll(() => {
  // SIGTERM stops the primary and its workers (SIGKILL would orphan the workers)
  if (child && child.exitCode === null) child.kill('SIGTERM');
});

test('two workers answer on one port and stop on SIGTERM', async () => {
  expect(fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))).toBe(true); // run `npm run build`
  const dir = tmpDir();
  const file = path.join(dir, 'mcp.tar.gz');
  fs.writeFileSync(file, await decisionBundle('w1'));
  const port = await freePort();
  child = spawn(process.execPath, [path.join(ROOT, 'bin', 'pdp.js'), 'serve', '--bundle', file, '--port', String(port)], {
    cwd: dir,
    env: { ...process.env, PDP_WORKERS: '2', PDP_DECISION_LOG: 'off', PDP_CONFIG: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));

  const listening = () => new Set(stderr.split('\n').filter((l) => l.includes('"pdp listening"')).map((l) => JSON.parse(l).pid));
  // bounded wait for both workers to report that they listen (not a timing assertion)
  for (let i = 0; i < 300 && listening().size < 2 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  expect({ workers: listening().size, stderr: listening().size < 2 ? stderr : '' }).toEqual({ workers: 2, stderr: '' });
  expect(listening().has(child.pid)).toBe(false); // the primary does not serve itself

  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 6; i++) {
    const r = await post(base, '/v1/decide', { tool: { name: `t${i}` } }, { connection: 'close' });
    expect(r.status).toBe(200);
    expect(r.json.allow).toBe(true);
    expect(r.json.policy.revision).toBe('w1');
  }
  expect((await fetch(`${base}/ready`, { headers: { connection: 'close' } })).status).toBe(200);

  // /metrics speaks for the whole server whichever worker takes the scrape: the 6 decisions were
  // spread over both workers, and every scrape counts all 6 (a new connection each time)
  for (let i = 0; i < 4; i++) {
    const text = await (await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).text();
    expect(text).toMatch(/^pdp_decisions_total\{result="allow",bundle="[^"]+"\} 6$/m);
    expect(text).toMatch(/^pdp_bundle_active_revision\{bundle="[^"]+",revision="w1"\} 1$/m);
    // once per server, not once per worker
    expect(text).toMatch(/^pdp_bundle_info\{bundle="[^"]+",revision="w1"\} 1$/m);
    expect(text).toMatch(/^pdp_bundle_consecutive_failures\{bundle="[^"]+"\} 0$/m);
  }

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  await expect(fetch(`${base}/health`)).rejects.toThrow();
});

test('two workers, one decision log on a shared stdout pipe: every line whole, none lost', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'mcp.tar.gz');
  fs.writeFileSync(file, await decisionBundle('w2'));
  const port = await freePort();
  const pdp = spawn(process.execPath, [path.join(ROOT, 'bin', 'pdp.js'), 'serve', '--bundle', file, '--port', String(port)], {
    cwd: dir,
    env: { ...process.env, PDP_WORKERS: '2', PDP_DECISION_LOG: 'stdout', PDP_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = pdp;
  let out = '';
  let err = '';
  pdp.stdout!.on('data', (c) => (out += c));
  pdp.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => pdp.once('exit', (code) => r(code)));
  const listening = () => err.split('\n').filter((l) => l.includes('"pdp listening"')).length;
  for (let i = 0; i < 300 && listening() < 2 && pdp.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  expect(listening()).toBe(2);

  // lines of ~9 KB, well over the 4 KiB a pipe writes atomically, from both workers at once
  const base = `http://127.0.0.1:${port}`;
  const ids = new Set<string>();
  for (let round = 0; round < 10; round++) {
    // a reader that falls behind (stdout paused while the round is decided) fills the pipe, so both
    // workers' writes block part-way: exactly when two writers' pieces used to interleave
    pdp.stdout!.pause();
    const pending = Promise.all(
      Array.from({ length: 20 }, (_, i) => post(base, '/v1/decide', { tool: { name: `t${round}-${i}` }, parameters: { pad: 'x'.repeat(8000) } }, { connection: 'close' })),
    );
    await new Promise((r) => setTimeout(r, 150));
    pdp.stdout!.resume();
    const answers = await pending;
    for (const a of answers) {
      expect(a.status).toBe(200);
      ids.add(a.json.decision_id);
    }
  }
  pdp.kill('SIGTERM');
  expect(await exited).toBe(0);
  const lines = out.split('\n').filter((l) => l !== '');
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as { decision_id: string };
    } catch {
      throw new Error(`a decision log line is not whole JSON: ${l.slice(0, 120)}…`);
    }
  });
  expect(parsed).toHaveLength(200);
  expect(new Set(parsed.map((p) => p.decision_id))).toEqual(ids);
});
