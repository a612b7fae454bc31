/**
 * Hot reload of a served .rego directory survives every way a file gets saved. Each style saves 20
 * times; after each save the served decision must show that save's value (bounded poll), so a watch
 * lost after the first rename-save — the bug this guards — fails at save 2.
 *
 * The periodic backstop check is off here (checkIntervalMs: 0): these saves must be seen through file
 * system events alone. The last test turns events off and checks the backstop on its own.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileTree } from '../helpers/file-tree';
import { decisionBundle } from './fixtures/make-bundle';
import { post, startWith } from '../server/helpers';
import type { PdpServer } from '../../src/server/server';

const SAVES = 20;
const WAIT_MS = 10_000;

const mainPolicy = (v: number) =>
  `package mcp.authz\nimport rego.v1\n\ndecision := {"allow": true, "reasons": [], "obligations": {"v": ${v}, "extra": data.mcp.extra.v}}\n`;
const extraPolicy = (v: number) => `package mcp.extra\nimport rego.v1\n\nv := ${v}\n`;

let dir: string;
let source: string;
let pdp: PdpServer | undefined;

beforeEach(() => {
  dir = fileTree({ 'policy/scope.rego': mainPolicy(0), 'policy/sub/extra.rego': extraPolicy(0) }, 'pdp-reload-');
  source = path.join(dir, 'policy');
});

afterEach(async () => {
  await pdp?.close();
  pdp = undefined;
});

async function serve(watchOptions = { debounceMs: 20, checkIntervalMs: 0 }): Promise<PdpServer> {
  pdp = await startWith([source], {}, { watch: true, watchOptions });
  return pdp;
}

/** The served obligations once `ok` holds for them, or the last ones seen after WAIT_MS. */
async function servedUntil(ok: (o: { v: number; extra: number }) => boolean): Promise<{ v: number; extra: number }> {
  const t0 = Date.now();
  for (;;) {
    const r = await post(pdp!.url(), '/v1/decide', { tool: { name: 'x' } });
    const o = r.json.obligations ?? {};
    if (ok(o) || Date.now() - t0 > WAIT_MS) return o;
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Save `SAVES` times with `save(i)` and count the saves whose value was then served. */
async function saveRepeatedly(save: (i: number) => void, field: 'v' | 'extra' = 'v'): Promise<number> {
  await serve();
  let observed = 0;
  for (let i = 1; i <= SAVES; i++) {
    save(i);
    if ((await servedUntil((o) => o[field] === i))[field] === i) observed++;
  }
  return observed;
}

const scope = () => path.join(source, 'scope.rego');

test('in-place writes', async () => {
  expect(await saveRepeatedly((i) => fs.writeFileSync(scope(), mainPolicy(i)))).toBe(SAVES);
});

test('rename over the file (mv tmp scope.rego, editors\' atomic save)', async () => {
  const observed = await saveRepeatedly((i) => {
    const tmp = path.join(dir, `scope.rego.${i}.tmp`);
    fs.writeFileSync(tmp, mainPolicy(i));
    fs.renameSync(tmp, scope());
  });
  expect(observed).toBe(SAVES);
});

test('sed -i', async () => {
  const observed = await saveRepeatedly((i) => execFileSync('sed', ['-i', `s/"v": [0-9]*/"v": ${i}/`, scope()]));
  expect(observed).toBe(SAVES);
});

test('delete and re-create', async () => {
  const observed = await saveRepeatedly((i) => {
    fs.unlinkSync(scope());
    fs.writeFileSync(scope(), mainPolicy(i));
  });
  expect(observed).toBe(SAVES);
});

test('a subdirectory replaced wholesale', async () => {
  const observed = await saveRepeatedly((i) => {
    const next = path.join(source, `sub.${i}.new`);
    fs.mkdirSync(next);
    fs.writeFileSync(path.join(next, 'extra.rego'), extraPolicy(i));
    fs.rmSync(path.join(source, 'sub'), { recursive: true });
    fs.renameSync(next, path.join(source, 'sub'));
  }, 'extra');
  expect(observed).toBe(SAVES);
});

test('the served directory itself replaced (deploy by rename)', async () => {
  const observed = await saveRepeatedly((i) => {
    const next = path.join(dir, `policy.${i}.new`);
    fs.mkdirSync(path.join(next, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(next, 'scope.rego'), mainPolicy(i));
    fs.writeFileSync(path.join(next, 'sub', 'extra.rego'), extraPolicy(0));
    fs.rmSync(source, { recursive: true });
    fs.renameSync(next, source);
  });
  expect(observed).toBe(SAVES);
});

test('without file system events (bundles[].watch.events: false) the periodic check still applies every save', async () => {
  pdp = await startWith([], { bundles: [{ source, watch: { events: false, check_interval_seconds: 0.03 } }] }, { watch: true, watchOptions: { debounceMs: 20 } });
  let observed = 0;
  for (let i = 1; i <= 5; i++) {
    const tmp = path.join(dir, 'tmp');
    fs.writeFileSync(tmp, mainPolicy(i));
    fs.renameSync(tmp, scope());
    if ((await servedUntil((o) => o.v === i)).v === i) observed++;
  }
  expect(observed).toBe(5);
});

test('a bundle file replaced by rename, again and again', async () => {
  const file = path.join(dir, 'mcp.tar.gz');
  fs.writeFileSync(file, await decisionBundle('rev-0'));
  pdp = await startWith([file], {}, { watch: true, watchOptions: { debounceMs: 20, checkIntervalMs: 0 } });
  let observed = 0;
  for (let i = 1; i <= SAVES; i++) {
    fs.writeFileSync(`${file}.tmp`, await decisionBundle(`rev-${i}`));
    fs.renameSync(`${file}.tmp`, file);
    const t0 = Date.now();
    let rev = '';
    while (rev !== `rev-${i}` && Date.now() - t0 < WAIT_MS) {
      rev = (await post(pdp.url(), '/v1/decide', { tool: { name: 'x' } })).json.policy?.revision;
      if (rev !== `rev-${i}`) await new Promise((r) => setTimeout(r, 10));
    }
    if (rev === `rev-${i}`) observed++;
  }
  expect(observed).toBe(SAVES);
});

test('a file written without pause inside the source does not postpone a save forever', async () => {
  await serve(); // debounce 20 ms: a burst is cut after 200 ms
  // another process, so the writes keep coming whatever this test's event loop does
  const writer = spawn('bash', ['-c', 'while :; do echo x >> notes.txt; sleep 0.005; done'], { cwd: source, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 100));
    fs.writeFileSync(scope(), mainPolicy(7));
    expect((await servedUntil((o) => o.v === 7)).v).toBe(7);
  } finally {
    writer.kill();
  }
});
