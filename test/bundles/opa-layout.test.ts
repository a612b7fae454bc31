/**
 * A bundle in exactly the layout `opa build -t wasm -e example/hello` writes (there is no opa binary
 * here, so the tarball is assembled member by member with tar-stream, not with our writeBundle):
 * members `/.manifest`, `/data.json`, `/roles/data.json`, `/policy.wasm`, `/example.rego`, mode 0600,
 * mtime 0, and OPA's manifest text. Its policy.wasm comes from OUR compiler (the one thing that is not
 * OPA's output). Served the way `pdp serve --bundle <file>` serves it, answering the Data API.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { pack, extract } from 'tar-stream';
import { compile } from '../../src/compiler/index';
import { parseServeArgs } from '../../src/cli/commands/serve';
import { loadConfig } from '../../src/server/config';
import { createPdpServer, type PdpServer } from '../../src/server/server';
import { readTarGz } from '../../src/bundles/tar';
import { post, passThrough, tmpDir } from '../server/helpers';

const REGO = `package example

import rego.v1

default hello := false

hello if {
	input.message == "world"
	input.user in data.roles.admins
}
`;
const MANIFEST = '{"revision":"","roots":[""],"wasm":[{"entrypoint":"example/hello","module":"/policy.wasm"}],"rego_version":1}';

function opaLayoutTarball(members: Array<[string, Buffer]>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = pack();
    for (const [name, body] of members) p.entry({ name, mode: 0o600, mtime: new Date(0), size: body.length, type: 'file' }, body);
    p.finalize();
    const chunks: Buffer[] = [];
    p.on('data', (c: Buffer) => chunks.push(c));
    p.on('end', () => resolve(zlib.gzipSync(Buffer.concat(chunks))));
    p.on('error', reject);
  });
}

let pdp: PdpServer;
let file: string;
beforeAll(async () => {
  const { wasm } = compile({ modules: [{ file: 'example.rego', source: REGO }], entrypoints: ['example/hello'] });
  const dir = tmpDir();
  file = path.join(dir, 'bundle.tar.gz');
  fs.writeFileSync(file, await opaLayoutTarball([
    ['/data.json', Buffer.from('{}')],
    ['/roles/data.json', Buffer.from('{"admins":["alice"]}')],
    ['/policy.wasm', Buffer.from(wasm)],
    ['/example.rego', Buffer.from(REGO)],
    ['/.manifest', Buffer.from(MANIFEST)],
  ]));
  const over = parseServeArgs(['--bundle', file, '--port', '0']);
  if (typeof over === 'string') throw new Error(over);
  const config = loadConfig({ ...over, workers: 1 }, {});
  config.decision_logs.output = 'off';
  pdp = createPdpServer(config, { log: () => undefined, resolver: passThrough, watch: false, defaultMetrics: false });
  const errors = await pdp.bundles.start(config.bundles);
  expect([...errors.values()].map((e) => e.message)).toEqual([]);
  await pdp.listen();
});
afterAll(() => pdp?.close());

test('the tarball really has the OPA layout', async () => {
  const files = await readTarGz(fs.readFileSync(file));
  expect([...files.keys()].sort()).toEqual(['/.manifest', '/data.json', '/example.rego', '/policy.wasm', '/roles/data.json']);
  expect(files.get('/.manifest')!.toString()).toBe(MANIFEST);
  const headers: Array<{ name: string; mode?: number; mtime?: Date }> = [];
  await new Promise<void>((resolve, reject) => {
    const x = extract();
    x.on('entry', (h, stream, next) => {
      headers.push({ name: h.name, mode: h.mode, mtime: h.mtime });
      stream.on('end', next);
      stream.resume();
    });
    x.on('finish', resolve);
    x.on('error', reject);
    x.end(zlib.gunzipSync(fs.readFileSync(file)));
  });
  expect(headers.map((h) => h.name)).toEqual(['/data.json', '/roles/data.json', '/policy.wasm', '/example.rego', '/.manifest']);
  for (const h of headers) {
    expect(h.mode).toBe(0o600);
    expect(h.mtime!.getTime()).toBe(0);
  }
});

test('POST /v1/data/example/hello answers from the bundle', async () => {
  const yes = await post(pdp.url(), '/v1/data/example/hello', { input: { message: 'world', user: 'alice' } });
  expect(yes.status).toBe(200);
  expect(yes.json.result).toBe(true);
  const no = await post(pdp.url(), '/v1/data/example/hello', { input: { message: 'world', user: 'mallory' } });
  expect(no.json.result).toBe(false);
  const other = await post(pdp.url(), '/v1/data/example/hello', { input: { message: 'moon', user: 'alice' } });
  expect(other.json.result).toBe(false);
});

test('nested /roles/data.json is mounted at data.roles', async () => {
  const r = await fetch(`${pdp.url()}/v1/data/roles/admins`);
  expect((await r.json()).result).toEqual(['alice']);
});

test('the bundle is named after the file and its empty revision is kept', async () => {
  const ready = await (await fetch(`${pdp.url()}/ready`)).json();
  expect(ready).toEqual({ ready: true, bundles: { bundle: { revision: '' } } });
});

test('/v1/decide, whose entrypoint this bundle does not have, is a 503 deny', async () => {
  const r = await post(pdp.url(), '/v1/decide', { tool: { name: 'x' } });
  expect(r.status).toBe(503);
  expect(r.json.allow).toBe(false);
});
