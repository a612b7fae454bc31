/**
 * A directory of .rego files served as a bundle is compiled in-process; its tests (`*_test.rego`) are
 * for `pdp test` and never part of the served policy.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileRegoDir } from '../../src/bundles/sources';

test('compileRegoDir leaves *_test.rego files out of the served policy', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-regodir-'));
  fs.writeFileSync(path.join(dir, 'p.rego'), 'package p\n\nallow if input.ok == true\n');
  // a test module the served policy must not contain (and which would not even compile: unknown function)
  fs.writeFileSync(path.join(dir, 'p_test.rego'), 'package p_test\n\ntest_x if no_such_function(1)\n');
  const members = await compileRegoDir(dir, ['p/allow']);
  const manifest = JSON.parse(members.get('/.manifest')!.toString('utf8'));
  expect(manifest.wasm).toEqual([{ entrypoint: 'p/allow', module: '/policy.wasm' }]);
  expect(members.get('/policy.wasm')!.length).toBeGreaterThan(0);
});

describe('serving a v0 source directory', () => {
  const V0 = 'package p\n\ndefault allow = false\n\nallow { input.ok == true }\n';
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-regodir-v0-'));
    fs.writeFileSync(path.join(dir, 'p.rego'), V0);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function allow(members: Map<string, Buffer>, input: unknown): Promise<unknown> {
    const { loadPolicy } = await import('@open-policy-agent/opa-wasm');
    const policy = await loadPolicy(members.get('/policy.wasm')!);
    policy.setData({});
    return policy.evaluate(input, 'p/allow');
  }

  test('is refused as v1 by default and compiled as v0 with v0_compatible (pdp serve --v0-compatible)', async () => {
    await expect(compileRegoDir(dir, ['p/allow'])).rejects.toThrow(/p\.rego:5:1: rules must use "if"/);
    const members = await compileRegoDir(dir, ['p/allow'], { v0Compatible: true });
    expect(JSON.parse(members.get('/.manifest')!.toString('utf8')).rego_version).toBe(0);
    expect(await allow(members, { ok: true })).toEqual([{ result: true }]);
    expect(await allow(members, { ok: false })).toEqual([{ result: false }]);
  });

  test('a .manifest with rego_version 0 and no wasm makes the directory a v0 source directory', async () => {
    const { sourceKind } = await import('../../src/bundles/sources');
    fs.writeFileSync(path.join(dir, '.manifest'), JSON.stringify({ revision: 'r', rego_version: 0 }));
    expect(sourceKind(dir)).toBe('rego-dir');
    expect(await allow(await compileRegoDir(dir, ['p/allow']), { ok: true })).toEqual([{ result: true }]);
    fs.writeFileSync(path.join(dir, '.manifest'), JSON.stringify({ wasm: [{ entrypoint: 'p/allow', module: '/policy.wasm' }] }));
    expect(sourceKind(dir)).toBe('bundle-dir');
  });

  test('pdp serve --v0-compatible marks every bundle', async () => {
    const { parseServeArgs } = await import('../../src/cli/commands/serve');
    const { loadConfig } = await import('../../src/server/config');
    const over = parseServeArgs(['--bundle', dir, '--v0-compatible']);
    if (typeof over === 'string') throw new Error(over);
    expect(loadConfig(over, {}).bundles).toEqual([{ source: dir, v0_compatible: true }]);
  });
});
