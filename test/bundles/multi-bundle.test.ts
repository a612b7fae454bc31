/**
 * Several bundles served side by side (`pdp serve --bundle a --bundle b`, or `bundles:` in the config):
 * each owns a disjoint part of data, as in OPA. A bundle whose roots overlap an active one's is refused
 * at activation (the active ones keep answering), because which bundle a data path or a same-named
 * document came from would otherwise depend on activation order.
 */
import { BundleManager } from '../../src/bundles/manager';
import { compileRegoDir } from '../../src/bundles/sources';
import { readTarGz } from '../../src/bundles/tar';
import { decisionBundle, tarGz } from './fixtures/make-bundle';
import { buildMockPolicy } from '../engine/fixtures/mock-policy';
import { fileTree } from '../helpers/file-tree';

const dir = (files: Record<string, string>) => fileTree(files, 'pdp-multi-');

const alpha = () => dir({ 'a.rego': 'package alpha\nimport rego.v1\n\n# METADATA\n# entrypoint: true\nallow if input.x == data.alpha.want\n', 'alpha/data.json': '{"want": 1}' });
const beta = () => dir({ 'b.rego': 'package beta\nimport rego.v1\n\n# METADATA\n# entrypoint: true\nanswer := data.beta.v\n', 'data.json': '{"beta": {"v": 42}}' });

let mgr: BundleManager;
const logs: Array<Record<string, unknown>> = [];
beforeEach(() => {
  logs.length = 0;
  mgr = new BundleManager({ decisionEntrypoint: 'mcp/authz/decision', log: (_level, msg, fields) => logs.push({ msg, ...fields }), watch: false });
});
afterEach(() => mgr.close());

test('bundles with disjoint roots are served side by side, each answering from its own data', async () => {
  const a = await mgr.activate('a', await compileRegoDir(alpha()));
  const b = await mgr.activate('b', await compileRegoDir(beta()));
  expect(a.bundle.manifest.roots).toEqual(['alpha']);
  expect(b.bundle.manifest.roots).toEqual(['beta']);
  expect([...mgr.current().keys()]).toEqual(['a', 'b']);
  expect(mgr.current().get('a')!.evaluate('alpha/allow', { x: 1 }).resultSet[0].result).toBe(true);
  expect(mgr.current().get('b')!.evaluate('beta/answer', {}).resultSet[0].result).toBe(42);
  // a new revision of one of them replaces it in place
  await mgr.activate('a', await compileRegoDir(alpha()));
  expect([...mgr.current().keys()]).toEqual(['a', 'b']);
});

test('a bundle whose roots overlap an active bundle is refused; the active ones keep answering', async () => {
  await mgr.activate('b', await compileRegoDir(beta()));
  // claims beta/extra, inside the other bundle's root "beta"
  const inside = dir({ 'x.rego': 'package beta.extra\nimport rego.v1\n\n# METADATA\n# entrypoint: true\ny := 1\n' });
  await expect(mgr.activate('x', await compileRegoDir(inside))).rejects.toThrow('root "beta" overlaps root "beta" of bundle b');
  expect([...mgr.current().keys()]).toEqual(['b']);
  expect(mgr.current().get('b')!.evaluate('beta/answer', {}).resultSet[0].result).toBe(42);
  expect(logs.some((l) => l.msg === 'bundle activation failed; keeping the previous bundle' && l.bundle === 'x')).toBe(true);
});

test('a manifest without roots owns the whole namespace, so it cannot join another bundle', async () => {
  await mgr.activate('b', await compileRegoDir(beta()));
  const whole = await readTarGz(await decisionBundle('r1')); // roots [""]
  await expect(mgr.activate('mcp', whole)).rejects.toThrow(/root "" overlaps root "beta" of bundle b \(a manifest without roots owns the whole namespace\)/);
  // and the other way round
  const m2 = new BundleManager({ decisionEntrypoint: 'mcp/authz/decision', log: () => undefined, watch: false });
  try {
    await m2.activate('mcp', whole);
    await expect(m2.activate('b', await compileRegoDir(beta()))).rejects.toThrow(/root "beta" overlaps root "" of bundle mcp/);
  } finally {
    m2.close();
  }
});

test('nested roots overlap: "a" and "a/b"', async () => {
  const wasm = buildMockPolicy({ entrypoints: { 'a/x': ['[{"result":1}]'] } });
  const wasmB = buildMockPolicy({ entrypoints: { 'a/b/y': ['[{"result":2}]'] } });
  await mgr.activate('one', await readTarGz(await tarGz({ '/.manifest': JSON.stringify({ roots: ['a'], wasm: [{ entrypoint: 'a/x', module: '/policy.wasm' }] }), '/policy.wasm': wasm })));
  const two = await readTarGz(await tarGz({ '/.manifest': JSON.stringify({ roots: ['a/b'], wasm: [{ entrypoint: 'a/b/y', module: '/policy.wasm' }] }), '/policy.wasm': wasmB }));
  await expect(mgr.activate('two', two)).rejects.toThrow('root "a/b" overlaps root "a" of bundle one');
  // siblings are fine
  const three = await readTarGz(await tarGz({ '/.manifest': JSON.stringify({ roots: ['ab'], wasm: [{ entrypoint: 'ab/y', module: '/policy.wasm' }] }), '/policy.wasm': buildMockPolicy({ entrypoints: { 'ab/y': ['[{"result":3}]'] } }) }));
  await mgr.activate('three', three);
  expect([...mgr.current().keys()]).toEqual(['one', 'three']);
});
