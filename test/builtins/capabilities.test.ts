import { run } from '../../src/cli/commands/capabilities';

describe('pdp capabilities', () => {
  it('prints OPA capabilities JSON listing our built-ins', async () => {
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += s; return true; });
    const code = await run([]);
    spy.mockRestore();
    expect(code).toBe(0);
    const caps = JSON.parse(out);
    const plus = caps.builtins.find((b: { name: string }) => b.name === 'plus');
    expect(plus).toMatchObject({ infix: '+', implementation: 'native', decl: { type: 'function', args: [{ type: 'number' }, { type: 'number' }], result: { type: 'number' } } });
    expect(caps.builtins.find((b: { name: string }) => b.name === 'time.now_ns')).toMatchObject({ implementation: 'native', host_fallback: true, nondeterministic: true });
    expect(caps.builtins.find((b: { name: string }) => b.name === 'sprintf')).toMatchObject({ implementation: 'native', host_fallback: true });
    expect(caps.builtins.find((b: { name: string }) => b.name === 'numbers.range_step')).toMatchObject({ implementation: 'host' });
    expect(caps.builtins.find((b: { name: string }) => b.name === 'plus').host_fallback).toBeUndefined();
    // planned by the compiler, not in the registry, but callable
    expect(caps.builtins.find((b: { name: string }) => b.name === 'print')).toMatchObject({ implementation: 'compiler', decl: { variadic: { type: 'any' } } });
    for (const n of ['trace', 'rego.metadata.chain', 'rego.metadata.rule']) expect(caps.builtins.find((b: { name: string }) => b.name === n)).toMatchObject({ implementation: 'compiler' });
    expect(caps.wasm_abi_versions[0].version).toBe(1);
  });
  it('rejects unknown arguments', async () => {
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await run(['--bogus'])).toBe(2);
    spy.mockRestore();
  });
});

it('marks exactly the built-ins the emitter gives a host fallback', () => {
  const { NATIVE_WITH_HOST_FALLBACK } = require('../../src/builtins/catalog');
  const { HOST_FALLBACK } = require('../../src/compiler/emit/natives');
  expect([...NATIVE_WITH_HOST_FALLBACK].sort()).toEqual([...HOST_FALLBACK].sort());
});

describe('docs/builtins.md', () => {
  it('lists every declared built-in', () => {
    const fs = require('fs');
    const path = require('path');
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/builtins.md'), 'utf8');
    const { allBuiltins } = require('../../src/builtins/registry');
    const missing = allBuiltins().map((d: { name: string }) => d.name).filter((n: string) => !doc.includes('`' + n + '`'));
    expect(missing).toEqual([]);
  });
});
