import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { run } from '../../src/cli/commands/build';

/** Minimal ustar reader for the test (names and sizes only). */
function untar(buf: Buffer): Record<string, Buffer> {
  const tar = zlib.gunzipSync(buf);
  const out: Record<string, Buffer> = {};
  for (let off = 0; off + 512 <= tar.length && tar[off]; ) {
    const name = tar.subarray(off, off + 100).toString().replace(/\0.*$/s, '');
    const prefix = tar.subarray(off + 345, off + 500).toString().replace(/\0.*$/s, '');
    const size = parseInt(tar.subarray(off + 124, off + 136).toString(), 8);
    out[prefix ? `${prefix}/${name}` : name] = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

test('pdp build writes a bundle whose policy.wasm the SDK loads unchanged', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-build-'));
  fs.mkdirSync(path.join(dir, 'p', 'app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'p', 'app', 'a.rego'), 'package app\n\ndefault allow := false\n\nallow if input.user in data.app.admins\n');
  fs.writeFileSync(path.join(dir, 'p', 'app', 'data.json'), '{"admins": ["ann"]}');
  const out = path.join(dir, 'bundle.tar.gz');
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const code = await run([path.join(dir, 'p'), '-e', 'data.app.allow', '-o', out, '--revision', 'r7']);
  write.mockRestore();
  expect(code).toBe(0);
  const files = untar(fs.readFileSync(out));
  const manifest = JSON.parse(files['/.manifest'].toString());
  expect(manifest).toEqual({ revision: 'r7', roots: ['app'], wasm: [{ entrypoint: 'app/allow', module: '/policy.wasm' }], rego_version: 1 });
  const data = JSON.parse(files['/data.json'].toString());
  expect(data).toEqual({ app: { admins: ['ann'] } });
  const policy = await loadPolicy(files['/policy.wasm']);
  policy.setData(data);
  expect(policy.evaluate({ user: 'ann' }, 'app/allow')).toEqual([{ result: true }]);
  expect(policy.evaluate({ user: 'bob' }, 'app/allow')).toEqual([{ result: false }]);
});

test('pdp build refuses without entrypoints and reports compile errors with locations', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-build-'));
  fs.writeFileSync(path.join(dir, 'a.rego'), 'package a\np if { x > 1 }\n');
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await run([dir, '-e', 'a/p', '-o', path.join(dir, 'b.tar.gz')])).toBe(1);
  expect(String(err.mock.calls[0][0])).toMatch(/a\.rego:2:8: var x is unsafe/);
  fs.writeFileSync(path.join(dir, 'a.rego'), 'package a\np := 1\n');
  expect(await run([dir, '-o', path.join(dir, 'b.tar.gz')])).toBe(2);
  err.mockRestore();
  expect(fs.existsSync(path.join(dir, 'b.tar.gz'))).toBe(false);
});
