import { readTarGz } from '../../src/bundles/tar';
import { parseBundle } from '../../src/bundles/bundle';
import { ActiveBundle } from '../../src/engine/engine';
import { tarGz, decisionBundle } from './fixtures/make-bundle';
import { buildMockPolicy } from '../engine/fixtures/mock-policy';

const echo = () => buildMockPolicy({ entrypoints: { 'example/hello': ['[{"result":', { data: true }, '}]'] } });

describe('bundle reader', () => {
  test('reads an OPA-layout bundle: manifest, data by directory, wasm entries', async () => {
    const raw = await tarGz({
      '/.manifest': JSON.stringify({ revision: 'r7', roots: [''], wasm: [{ entrypoint: 'example/hello', module: '/policy.wasm' }], rego_version: 1 }),
      '/data.json': '{"top": 1}',
      '/roles/bindings/data.json': '{"admins": ["alice"]}',
      '/roles/data.yaml': 'viewers:\n  - bob\n',
      '/example.rego': 'package example\nhello := true\n',
      '/policy.wasm': echo(),
    });
    const b = parseBundle(await readTarGz(raw));
    expect(b.manifest.revision).toBe('r7');
    expect(b.data).toEqual({ top: 1, roles: { bindings: { admins: ['alice'] }, viewers: ['bob'] } });
    expect([...b.wasm.keys()]).toEqual(['/policy.wasm']);
    const ab = await ActiveBundle.create('ex', b);
    expect(ab.evaluate('example/hello', {}).resultSet).toEqual([{ result: b.data }]);
    expect(ab.dataAt('roles/bindings/admins/0')).toBe('alice');
  });

  test('names without a leading slash are accepted too', async () => {
    const raw = await tarGz({ '.manifest': '{"revision":"x"}', 'policy.wasm': echo(), 'data.json': '{"a":1}' });
    const b = parseBundle(await readTarGz(raw));
    expect(b.data).toEqual({ a: 1 });
    expect(b.manifest.revision).toBe('x');
  });

  test.each([
    ['a manifest that is not JSON', { '/.manifest': '{', '/policy.wasm': 'x' }, /manifest is not valid JSON/],
    ['a wasm entry whose module is absent', { '/.manifest': JSON.stringify({ wasm: [{ entrypoint: 'a/b', module: '/other.wasm' }] }), '/policy.wasm': 'x' }, /not in the bundle/],
    ['data outside the roots', { '/.manifest': JSON.stringify({ roots: ['a'] }), '/b/data.json': '{}', '/policy.wasm': 'x' }, /do not permit data/],
    ['conflicting data files', { '/data.json': '{"a":1}', '/a/data.json': '{"b":2}', '/policy.wasm': 'x' }, /data conflict/],
    ['no policy.wasm', { '/data.json': '{}', '/x.rego': 'package x' }, /no policy.wasm/],
    ['overlapping roots', { '/.manifest': JSON.stringify({ roots: ['a', 'a/b'] }), '/policy.wasm': 'x' }, /overlap/],
    ['path traversal', { '../evil/data.json': '{}', '/policy.wasm': 'x' }, /escapes the bundle/],
  ])('refuses %s', async (_what, files, msg) => {
    await expect(readTarGz(await tarGz(files as Record<string, string>)).then(parseBundle)).rejects.toThrow(msg);
  });

  test('a gzip bomb stops at the size limit', async () => {
    const raw = await tarGz({ '/data.json': JSON.stringify({ pad: 'x'.repeat(200_000) }), '/policy.wasm': echo() });
    await expect(readTarGz(raw, 10_000)).rejects.toThrow(/size limit/);
  });

  test('a module needing a built-in nobody implements fails activation, naming it', async () => {
    const wasm = buildMockPolicy({ entrypoints: { 'a/b': ['[]'] }, builtins: { 'no.such_builtin': 0 } });
    const raw = await tarGz({ '/policy.wasm': wasm });
    await expect(ActiveBundle.create('x', parseBundle(await readTarGz(raw)))).rejects.toThrow(/no\.such_builtin/);
  });

  test.each(['toString', 'constructor', '__proto__'])('a manifest entrypoint %j the module does not export fails activation', async (ep) => {
    const raw = await tarGz({ '/.manifest': JSON.stringify({ wasm: [{ entrypoint: ep, module: '/policy.wasm' }] }), '/policy.wasm': echo() });
    await expect(ActiveBundle.create('x', parseBundle(await readTarGz(raw)))).rejects.toThrow(/which has no such entrypoint \(it has: example\/hello\)/);
  });

  test('decision fixture answers with its own revision', async () => {
    const ab = await ActiveBundle.create('mcp', parseBundle(await readTarGz(await decisionBundle('r1'))));
    expect(ab.revision).toBe('r1');
    expect(ab.evaluate('mcp/authz/decision', { tool: { name: 't' } }).resultSet[0].result).toEqual({
      allow: true,
      reasons: [],
      obligations: { data: { rev: 'r1' } },
    });
  });
});
