/**
 * The docs' key shell blocks run as written. Each block is taken from the Markdown file itself (so an
 * edit to the docs is what gets tested), run with bash in a scratch directory, with only these
 * substitutions: `npx pdp` → this tree's bin/pdp.js, `rego/` → this tree's rego/, port 8181 → a free
 * port. Needs the build (`node scripts/build.js`) and curl.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';

const ROOT = path.join(__dirname, '..', '..');

/** The first ```sh block after the line `heading` in a Markdown file. */
function shellBlock(file: string, heading: string): string {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`${file} has no heading ${heading}`);
  const m = /```sh\n([\s\S]*?)\n```/.exec(text.slice(at));
  if (!m) throw new Error(`${file}: no sh block after ${heading}`);
  return m[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Run a block with bash; resolves with its stdout and stderr (the whole process group is ended after). */
async function runBlock(block: string, port: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = block
    .replace(/npx pdp /g, `node ${JSON.stringify(path.join(ROOT, 'bin', 'pdp.js'))} `)
    .replace(/(^|\s)rego\//g, `$1${path.join(ROOT, 'rego')}/`)
    .replace(/8181/g, String(port));
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-docs-'));
  const child = spawn('bash', ['-c', script], {
    cwd,
    detached: true, // its own process group, so a background `pdp serve` is stopped with it
    env: { ...process.env, PDP_DECISION_LOG: 'off', PDP_CONFIG: '', PDP_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => resolve(null), 60_000); // bounded: a block that hangs fails
    child.once('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
  return { code, stdout, stderr };
}

test('docs/identity.md "Try it": the verified flow is allowed, an altered signature denied', async () => {
  const r = await runBlock(shellBlock('docs/identity.md', '## Try it'), await freePort());
  const answers = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  expect({ code: r.code, answers: answers.length, stderr: answers.length === 2 ? '' : r.stderr }).toEqual({ code: 0, answers: 2, stderr: '' });
  const [allowed, tampered] = answers;
  expect({ allow: allowed.allow, reasons: allowed.reasons }).toEqual({ allow: true, reasons: [] });
  expect(tampered.allow).toBe(false);
  expect(tampered.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'identity.invalid_token', reason: 'bad_signature' })]));
});

test('README "Writing policies": test, check and build the default policy as written', async () => {
  // the block's `serve` line would run until stopped: every other line runs as written
  const block = shellBlock('README.md', '## Writing policies')
    .split('\n')
    .filter((l) => !/ serve /.test(l))
    .join('\n');
  const r = await runBlock(`set -e\n${block}`, await freePort());
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
});
