import * as path from 'path';
import * as zlib from 'zlib';
import { extract } from 'tar-stream';
import { writeBundle } from '../../src/compiler/bundle';
import { loadPolicyDir, PolicySourceError } from '../../src/compiler/load';
import { fileTree } from '../helpers/file-tree';

async function readTar(buf: Buffer): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        out[h.name] = Buffer.concat(chunks).toString('utf8');
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(zlib.gunzipSync(buf));
  await done;
  return out;
}

describe('writeBundle', () => {
  test('writes OPA layout members with leading slashes, readable by a tar reader', async () => {
    const long = 'x/'.repeat(60) + 'policy.rego';
    const buf = writeBundle({
      manifest: { revision: 'r1', roots: [''] },
      data: { a: 1 },
      wasm: new Uint8Array([0, 97, 115, 109]),
      sources: [{ file: 'p/a.rego', source: 'package a\n' }, { file: long, source: 'package b\n' }],
    });
    const files = await readTar(buf);
    expect(JSON.parse(files['/.manifest'])).toEqual({ revision: 'r1', roots: [''] });
    expect(JSON.parse(files['/data.json'])).toEqual({ a: 1 });
    expect(files['/policy.wasm']).toBe('\0asm');
    expect(files['/p/a.rego']).toBe('package a\n');
    expect(files['/' + long]).toBe('package b\n');
  });
});

describe('loadPolicyDir', () => {
  const tmp = (files: Record<string, string>) => fileTree(files, 'pdp-load-');
  test('places data files by directory and reads modules', () => {
    const d = tmp({ 'a.rego': 'package a\n', 'data.json': '{"top": 1}', 'mcp/x/data.yaml': 'k: v\n' });
    const r = loadPolicyDir([d]);
    expect(r.modules.map((m) => path.basename(m.file))).toEqual(['a.rego']);
    expect(r.data).toEqual({ top: 1, mcp: { x: { k: 'v' } } });
  });
  test('conflicting data paths are an error', () => {
    const d = tmp({ 'data.json': '{"mcp": {"x": 1}}', 'mcp/x/data.json': '{"k": 2}' });
    expect(() => loadPolicyDir([d])).toThrow(PolicySourceError);
    expect(() => loadPolicyDir([d])).toThrow(/data conflict at \/mcp\/x/);
  });
  test('a value set by two data files is a conflict even when both say the same (OPA refuses it too)', () => {
    const d = tmp({ 'data.json': '{"a": {"b": 1}}', 'a/data.json': '{"b": 1}' });
    expect(() => loadPolicyDir([d])).toThrow(/data conflict at \/a\/b/);
  });
  test('a data file below the root may hold any value; at the root it must be an object', () => {
    expect(loadPolicyDir([tmp({ 'a/b/data.json': '[1, 2]', 'c/data.yaml': 'hello\n' })]).data).toEqual({ a: { b: [1, 2] }, c: 'hello' });
    expect(() => loadPolicyDir([tmp({ 'data.json': '[1]' })])).toThrow(/at the root must hold an object/);
  });
  test('"__proto__" in a data file is a key like any other, never a write to Object.prototype', () => {
    const d = tmp({ 'data.json': '{"__proto__": {"polluted": 1}, "x": {"__proto__": {"y": 2}}}', '__proto__/data.json': '{"z": 3}' });
    const r = loadPolicyDir([d]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(r.data)).toBe(Object.prototype);
    expect(Object.keys(r.data).sort()).toEqual(['__proto__', 'x']);
    // the __proto__/ directory sorts before data.json, so its file is merged first
    expect(JSON.stringify(r.data)).toBe('{"__proto__":{"z":3,"polluted":1},"x":{"__proto__":{"y":2}}}');
  });
});
