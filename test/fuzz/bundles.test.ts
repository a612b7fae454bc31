/**
 * Seeded fuzzing of bundle loading: random bytes, damaged gzip/tar/manifest/data/wasm, traversal names,
 * duplicate members and huge declared sizes. Every attempt either activates or fails with a clear error
 * (never a crash or a hang), a failed activation leaves the previous bundle active and answering, and no
 * bundle can touch Object.prototype.
 */
import * as zlib from 'zlib';
import { readTarGz, BundleFormatError } from '../../src/bundles/tar';
import { parseBundle } from '../../src/bundles/bundle';
import { BundleManager } from '../../src/bundles/manager';
import { EvaluationError } from '../../src/engine/policy';
import { decisionBundle, tarGz } from '../bundles/fixtures/make-bundle';
import { prng } from '../helpers/prng';
import { int, pick, randJsonText, type Rand } from './gen';

const LIMIT = 4 * 1024 * 1024;
let good: Buffer;
let goodTar: Buffer;
let goodFiles: Map<string, Buffer>;
let mgr: BundleManager;

beforeAll(async () => {
  good = await decisionBundle('good');
  goodTar = zlib.gunzipSync(good);
  goodFiles = await readTarGz(good);
  mgr = new BundleManager({ decisionEntrypoint: 'mcp/authz/decision', log: () => undefined, watch: false });
  await mgr.activate('mcp', goodFiles);
});
afterAll(() => mgr.close());

function answer(): unknown {
  const b = mgr.current().get('mcp')!;
  return b.evaluate('mcp/authz/decision', { tool: { name: 't' } }).resultSet;
}

/** Load bytes the way a file or HTTP source does, then activate; returns the error, if any. */
async function attempt(bytes: Buffer, what: string): Promise<Error | undefined> {
  const before = mgr.current().get('mcp');
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what}`)), 10_000);
  });
  let err: Error | undefined;
  try {
    await Promise.race([readTarGz(bytes, LIMIT).then((files) => mgr.activate('mcp', files)), hang]);
  } catch (e) {
    err = e as Error;
  } finally {
    clearTimeout(timer);
  }
  if (err) {
    if (/^hang:/.test(err.message)) throw err;
    if (!(err instanceof Error) || !err.message) throw new Error(`${what}: rejected with a non-Error or an empty message: ${String(err)}`);
    if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) {
      throw new Error(`${what}: an internal ${err.constructor.name} escaped instead of a clear error: ${err.message}`);
    }
    // the previous bundle stays active, and answers
    if (mgr.current().get('mcp') !== before) throw new Error(`${what}: a failed activation replaced the active bundle`);
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  if (err) answer(); // the previous bundle answers as before
  else {
    // A damaged policy.wasm can still validate, instantiate and pass the smoke evaluation, then fail on
    // a real input (found by a longer run: a bit flip made the module dump malformed JSON). That must
    // surface as an EvaluationError, which the server answers with a 500 deny; nothing else may escape.
    try {
      answer();
    } catch (e) {
      if (!(e instanceof EvaluationError)) throw new Error(`${what}: evaluating the activated bundle threw ${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
  }
  return err;
}

/** Rebuild a tar from members (tar-stream), with the fixture's files as a base. */
function withFiles(patch: Record<string, string | Uint8Array | null>): Promise<Buffer> {
  const files: Record<string, string | Uint8Array> = {};
  for (const [k, v] of goodFiles) files[k] = v;
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete files[k];
    else files[k] = v;
  }
  return tarGz(files);
}

function flip(r: Rand, buf: Buffer, from = 0, to = buf.length): Buffer {
  const out = Buffer.from(buf);
  const n = 1 + int(r, 4);
  for (let i = 0; i < n; i++) {
    const at = from + int(r, Math.max(1, to - from));
    out[at] = int(r, 2) ? out[at] ^ (1 << int(r, 8)) : int(r, 256);
  }
  return out;
}

/** Set the declared size of the first tar member and fix the header checksum. */
function declareSize(tar: Buffer, size: number): Buffer {
  const out = Buffer.from(tar);
  out.write(size.toString(8).padStart(11, '0').slice(-11) + '\0', 124, 12, 'ascii');
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i];
  out.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return out;
}

test('random bytes and gzip of random bytes', async () => {
  const r = prng(1);
  for (let i = 0; i < 150; i++) {
    const raw = Buffer.from(Array.from({ length: int(r, 2000) }, () => int(r, 256)));
    const bytes = int(r, 2) ? raw : zlib.gzipSync(raw);
    expect(await attempt(bytes, `random #${i}`)).toBeInstanceOf(Error);
  }
});

test('byte flips and truncations in the gzip stream and in the tar', async () => {
  const r = prng(2);
  for (let i = 0; i < 200; i++) {
    let bytes: Buffer;
    switch (int(r, 4)) {
      case 0: bytes = flip(r, good); break;
      case 1: bytes = good.subarray(0, int(r, good.length)); break;
      case 2: bytes = zlib.gzipSync(flip(r, goodTar, 0, 512 * 3)); break; // headers and the first member
      default: bytes = zlib.gzipSync(int(r, 2) ? flip(r, goodTar) : goodTar.subarray(0, int(r, goodTar.length)));
    }
    await attempt(bytes, `flip #${i}`);
  }
});

test('damaged manifest, data and wasm members', async () => {
  const r = prng(3);
  const wasm = goodFiles.get('/policy.wasm')!;
  const manifest = goodFiles.get('/.manifest')!.toString();
  for (let i = 0; i < 200; i++) {
    const patch: Record<string, string | Uint8Array | null> = {};
    switch (int(r, 6)) {
      case 0: patch['/.manifest'] = int(r, 2) ? randJsonText(r) : manifest.slice(0, int(r, manifest.length)); break;
      case 1: patch['/.manifest'] = manifest.replace(/"mcp\/authz\/decision"/, JSON.stringify(pick(r, ['', '/', '..', 'mcp//authz', 'x/../y', 'data', '\u0000']))); break;
      case 2: patch['/data.json'] = randJsonText(r); break;
      case 3: patch[pick(r, ['/data.json', '/a/data.json', '/__proto__/data.json', '/constructor/prototype/data.json', '/a/data.yaml'])] = pick(r, [
        '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"rev":{"__proto__":{"polluted":1}}}',
        '__proto__:\n  polluted: 1\n', '{"rev":"x"}', '[1,2]', '1e400', '{"a":1,"a":2}', '"\\ud800"',
      ]); break;
      case 4: patch['/policy.wasm'] = int(r, 2) ? flip(r, Buffer.from(wasm)) : wasm.subarray(0, int(r, wasm.length)); break;
      default: patch['/.signatures.json'] = randJsonText(r);
    }
    await attempt(await withFiles(patch), `member #${i} ${JSON.stringify(patch).slice(0, 200)}`);
    // whatever activated, put the good bundle back so the next case starts from it
    await mgr.activate('mcp', goodFiles);
  }
});

test('traversal names, duplicates, huge declared sizes: refused with BundleFormatError', async () => {
  const names = ['../evil', '/../../etc/passwd', 'a/../../b', '..', '\\..\\x', './../x', '', '/', './'];
  for (const name of names) {
    const err = await attempt(await tarGz({ '/.manifest': '{}', [name]: 'x', '/policy.wasm': goodFiles.get('/policy.wasm')! }), `name ${name}`);
    expect(err).toBeInstanceOf(BundleFormatError);
  }
  // the same member twice, spelt two ways
  const dup = await tarGz({ '/data.json': '{"a":1}', 'data.json': '{"b":1}', '/.manifest': goodFiles.get('/.manifest')!, '/policy.wasm': goodFiles.get('/policy.wasm')! });
  expect(await attempt(dup, 'duplicate')).toBeInstanceOf(BundleFormatError);
  for (const size of [LIMIT + 1, 0o77777777777, 2 ** 31, goodTar.length * 10]) {
    const err = await attempt(zlib.gzipSync(declareSize(goodTar, size)), `declared size ${size}`);
    expect(err).toBeInstanceOf(BundleFormatError);
  }
  // a gzip bomb: 64 MiB of zeros decompressing past the limit
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
  expect((await attempt(bomb, 'bomb'))?.message).toMatch(/size limit/);
});

test('parseBundle alone on random member maps never throws anything but BundleFormatError', () => {
  const r = prng(4);
  const names = ['/.manifest', '/data.json', '/x/data.json', '/data.yaml', '/policy.wasm', '/p.rego', '/.signatures.json', '/patch.json', '/__proto__/data.json'];
  for (let i = 0; i < 300; i++) {
    const files = new Map<string, Buffer>();
    for (let j = 0; j < 1 + int(r, 5); j++) files.set(pick(r, names), Buffer.from(int(r, 4) ? randJsonText(r) : String.fromCharCode(...Array.from({ length: int(r, 50) }, () => int(r, 256)))));
    try {
      parseBundle(files);
    } catch (e) {
      if (!(e instanceof BundleFormatError)) throw new Error(`#${i} ${[...files.keys()]}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }
});

test('a "__proto__" key in data.json stays data: Object.prototype untouched, the key served as a key', async () => {
  for (const [name, text] of [['/data.json', '{"__proto__":{"polluted":1},"rev":"p"}'], ['/__proto__/data.json', '{"polluted":1}'], ['/data.yaml', '__proto__:\n  polluted: 1\n']]) {
    const files = await readTarGz(await withFiles({ [name]: text, ...(name === '/data.json' ? {} : { '/data.json': '{"rev":"p"}' }) }));
    const ab = await mgr.activate('mcp', files);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(ab.dataAt('__proto__/polluted')).toBe(1);
  }
  await mgr.activate('mcp', goodFiles);
});
