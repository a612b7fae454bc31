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

test('pdp build --v0-compatible compiles v0 sources and says so in the manifest (per file when mixed)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-build-v0-'));
  try {
    fs.mkdirSync(path.join(dir, 'p'));
    fs.writeFileSync(path.join(dir, 'p', 'a.rego'), 'package app\n\ndefault allow = false\n\nallow { input.user == "ann" }\n\ndeny[msg] { not allow; msg := "no" }\n');
    const out = path.join(dir, 'bundle.tar.gz');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run([path.join(dir, 'p'), '-e', 'app/allow', '-e', 'app/deny', '-o', out])).toBe(1); // v1 by default
      expect(await run([path.join(dir, 'p'), '-e', 'app/allow', '-e', 'app/deny', '-o', out, '--v0-compatible'])).toBe(0);
    } finally {
      write.mockRestore();
      err.mockRestore();
    }
    const files = untar(fs.readFileSync(out));
    expect(JSON.parse(files['/.manifest'].toString()).rego_version).toBe(0);
    const policy = await loadPolicy(files['/policy.wasm']);
    policy.setData({});
    expect(policy.evaluate({ user: 'bob' }, 'app/deny')).toEqual([{ result: ['no'] }]);
    expect(policy.evaluate({ user: 'ann' }, 'app/allow')).toEqual([{ result: true }]);

    // a manifest that makes one file v1: the bundle lists the v0 files
    fs.writeFileSync(path.join(dir, 'p', '.manifest'), JSON.stringify({ rego_version: 0, file_rego_versions: { '/b.rego': 1 } }));
    fs.writeFileSync(path.join(dir, 'p', 'b.rego'), 'package other\n\nok if input.ok\n');
    const w2 = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const cwd = process.cwd();
    process.chdir(path.join(dir, 'p'));
    try {
      expect(await run(['.', '-e', 'app/allow', '-e', 'other/ok', '-o', out])).toBe(0);
    } finally {
      process.chdir(cwd);
      w2.mockRestore();
    }
    const m = JSON.parse(untar(fs.readFileSync(out))['/.manifest'].toString());
    expect([m.rego_version, m.file_rego_versions]).toEqual([1, { '/a.rego': 0 }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
