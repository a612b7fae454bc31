/**
 * A bundle whose policy.wasm needs a host built-in that nobody implements must fail activation with
 * a message naming it, and the previous bundle must stay active. The module is produced by our own
 * emitter: a compiled policy whose call to a real host built-in is renamed to `no.such_builtin`.
 */
import { compileToProgram } from '../../src/compiler/index';
import { emitWasm } from '../../src/compiler/emit';
import { BundleManager } from '../../src/bundles/manager';
import { readTarGz } from '../../src/bundles/tar';
import { decisionBundle, tarGz } from './fixtures/make-bundle';

function wasmCalling(name: string): Uint8Array {
  const { program } = compileToProgram({
    modules: [{ file: 'p.rego', source: 'package mcp.authz\nimport rego.v1\ndecision := {"allow": true, "n": units.parse_bytes(input.a)}\n' }],
    entrypoints: ['mcp/authz/decision'],
  });
  const renamed = JSON.parse(JSON.stringify(program).split('"units.parse_bytes"').join(JSON.stringify(name)));
  return emitWasm(renamed, { hostBuiltin: (n) => (n === name ? { arity: 1 } : undefined) });
}

test('activation fails naming the built-in; the previous bundle stays', async () => {
  const log: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const loads: string[] = [];
  const m = new BundleManager({ decisionEntrypoint: 'mcp/authz/decision', log: (_l, msg, fields) => log.push({ msg, fields }), onLoad: (_b, r) => loads.push(r) });
  await m.activate('mcp', await readTarGz(await decisionBundle('good')));
  const bad = await tarGz({
    '/.manifest': JSON.stringify({ revision: 'bad', roots: [''], wasm: [{ entrypoint: 'mcp/authz/decision', module: '/policy.wasm' }] }),
    '/data.json': '{}',
    '/policy.wasm': wasmCalling('no.such_builtin'),
  });
  await expect(m.activate('mcp', await readTarGz(bad))).rejects.toThrow(/no\.such_builtin/);
  expect(m.current().get('mcp')?.revision).toBe('good');
  expect(loads).toEqual(['success', 'failure']);
  const failure = log.find((l) => l.msg.startsWith('bundle activation failed'));
  expect(failure?.fields).toMatchObject({ bundle: 'mcp', stage: 'instantiate', active_revision: 'good' });
  expect(String(failure?.fields?.error)).toMatch(/no\.such_builtin/);
  m.close();
});

test('control: the same module calling the real built-in activates and answers', async () => {
  const m = new BundleManager({ decisionEntrypoint: 'mcp/authz/decision' });
  const ok = await tarGz({
    '/.manifest': JSON.stringify({ revision: 'ok', roots: [''], wasm: [{ entrypoint: 'mcp/authz/decision', module: '/policy.wasm' }] }),
    '/data.json': '{}',
    '/policy.wasm': wasmCalling('units.parse_bytes'),
  });
  const ab = await m.activate('mcp', await readTarGz(ok));
  expect(ab.evaluate('mcp/authz/decision', { a: '2KB' }).resultSet).toEqual([{ result: { allow: true, n: 2000 } }]);
  m.close();
});
