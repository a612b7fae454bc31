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
  return codeBlocks(file, heading, 'sh')[0];
}

/** The ```lang blocks between the line `heading` and the next heading of a Markdown file, in order. */
function codeBlocks(file: string, heading: string, lang: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`${file} has no heading ${heading}`);
  const rest = text.slice(at + heading.length + 2);
  const section = rest.slice(0, rest.search(/\n## /) < 0 ? undefined : rest.search(/\n## /));
  const blocks = [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]);
  if (blocks.length === 0) throw new Error(`${file}: no ${lang} block after ${heading}`);
  return blocks;
}

/** The top-level JSON objects in a text, wherever lines break. */
function jsonObjects(text: string): any[] {
  const out: any[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0 && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
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

test('README "A full example": keys, config, tokens and the two calls, as written', async () => {
  // The section has the person copy two printed values (the API key, its hash) into the next steps:
  // the test does that copying, and waits for the server it starts in the background before calling it.
  // The section relies on the default port 8181: PDP_PORT points the server at the test's free port.
  const [setup, calls] = codeBlocks('README.md', '## A full example: verified user, agent and task scope', 'sh');
  const [config] = codeBlocks('README.md', '## A full example: verified user, agent and task scope', 'yaml');
  const [keysGen, apiKey] = setup.split('\n');
  const script = [
    'set -e',
    'export PDP_PORT=8181',
    `${keysGen} >/dev/null`,
    `APIOUT=$(${apiKey.replace(/\s+#.*$/, '')})`,
    'HASH=$(echo "$APIOUT" | grep -o "sha256:[0-9a-f]*")',
    `cat > pdp.yaml <<EOF\n${config.replace('sha256:…', '$HASH')}\nEOF`,
    calls
      .replace(/^(npx pdp serve .*&)$/m, '$1\nuntil curl -sf localhost:8181/ready >/dev/null; do sleep 0.2; done')
      .replace(/^KEY=pdpk_….*$/m, 'KEY=$(echo "$APIOUT" | grep -o "pdpk_[A-Za-z0-9_-]*" | head -1)'),
  ].join('\n');
  const r = await runBlock(script, await freePort());
  // curl prints no newline after an answer: the two answers share a line
  const answers = jsonObjects(r.stdout);
  expect({ answers: answers.length, stderr: answers.length === 2 ? '' : r.stderr }).toEqual({ answers: 2, stderr: '' });
  const [allowed, tampered] = answers;
  expect({ allow: allowed.allow, reasons: allowed.reasons }).toEqual({ allow: true, reasons: [] });
  expect(tampered.allow).toBe(false);
  expect(tampered.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'identity.invalid_token', reason: 'bad_signature' })]));
});
