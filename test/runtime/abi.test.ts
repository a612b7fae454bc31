import { C, program, resultPlan, load, readStr, writeStr } from './helpers';
import { emitWasm, NATIVE_BUILTINS } from '../../src/compiler/emit';
import type { Stmt } from '../../src/compiler/ir';

const hostRegistry: Record<string, { arity: number; result?: 'set' | 'any' }> = {
  'time.now_ns': { arity: 0 },
  'custom.pair': { arity: 2 },
  'custom.tags': { arity: 1, result: 'set' },
  lower: { arity: 1 },
};
const opts = { hostBuiltin: (n: string) => hostRegistry[n] };

describe('host built-ins', () => {
  test('are listed in builtins(), receive JSON (sets as arrays) and may return sets', async () => {
    const body: Stmt[] = [
      { op: 'call_builtin', dst: 5, name: 'time.now_ns', args: [] },
      { op: 'const', dst: 6, c: 1 },
      { op: 'call_builtin', dst: 7, name: 'custom.pair', args: [6, 5] },
      { op: 'call_builtin', dst: 8, name: 'custom.tags', args: [0] },
      { op: 'const', dst: 9, c: 2 },
      { op: 'dot', dst: 10, src: 8, key: 9 }, // set membership: "b" in tags
      { op: 'make_array', dst: 2, cap: 3 },
      { op: 'array_append', arr: 2, val: 7 },
      { op: 'array_append', arr: 2, val: 8 },
      { op: 'array_append', arr: 2, val: 10 },
    ];
    const seen: unknown[] = [];
    const policy = await load(program([C.set(C.num(2), C.num(1)), C.str('b')], [resultPlan('p', 13, body)]), opts, {
      'time.now_ns': () => 42,
      'custom.pair': (a: unknown, b: unknown) => { seen.push(a); return [a, b]; },
      'custom.tags': (x: { tags: string[] }) => x.tags,
    });
    const exports = policy.wasmInstance.exports as any;
    expect(JSON.parse(readStr(policy.mem, exports.opa_json_dump(exports.builtins())))).toEqual({ 'time.now_ns': 0, 'custom.pair': 1, 'custom.tags': 2 });
    expect(policy.evaluate({ tags: ['c', 'b', 'b'] })).toEqual([{ result: [[[1, 2], 42], ['b', 'c'], 'b'] }]);
    expect(seen).toEqual([[1, 2]]);
  });

  test('an undefined host result makes the call undefined', async () => {
    const body: Stmt[] = [{ op: 'call_builtin', dst: 2, name: 'time.now_ns', args: [] }];
    const policy = await load(program([], [resultPlan('p', 5, body)]), opts, { 'time.now_ns': () => undefined });
    expect(policy.evaluate({})).toEqual([]);
  });

  test('unknown built-ins and too many arguments are refused at emit time', () => {
    const p = (name: string, n: number) => program([], [resultPlan('p', 12, [{ op: 'call_builtin', dst: 2, name, args: Array.from({ length: n }, () => 0) }])]);
    expect(() => emitWasm(p('no.such', 1), opts)).toThrow('built-in function no.such');
    hostRegistry['five.args'] = { arity: 5 };
    expect(() => emitWasm(p('five.args', 5), opts)).toThrow(/too many built-in call arguments/);
    expect(NATIVE_BUILTINS.has('count')).toBe(true);
    expect(NATIVE_BUILTINS.has('io.jwt.decode')).toBe(false);
  });

  test('lower falls back to the host for non-ASCII text when the host has it, else aborts', async () => {
    const body: Stmt[] = [{ op: 'call_builtin', dst: 2, name: 'lower', args: [0] }];
    const withHost = await load(program([], [resultPlan('p', 5, body)]), opts, { lower: (s: string) => s.toLowerCase() });
    expect(withHost.evaluate('ABC')).toEqual([{ result: 'abc' }]);
    expect(withHost.evaluate('ÄÖ')).toEqual([{ result: 'äö' }]);
    const noHost = await load(program([], [resultPlan('p', 5, body)]));
    expect(() => noHost.evaluate('ÄÖ')).toThrow(/not supported natively/);
  });
});

describe('strict built-in errors', () => {
  const body: Stmt[] = [{ op: 'const', dst: 5, c: 1 }, { op: 'call_builtin', dst: 2, name: 'div', args: [0, 5] }];
  const cnt: Stmt[] = [{ op: 'call_builtin', dst: 2, name: 'count', args: [0] }];
  test('abort with eval_builtin_error / eval_type_error', async () => {
    const strict = await load(program([C.num(0)], [resultPlan('div', 8, body), resultPlan('count', 8, cnt)], [], true));
    expect(() => strict.evaluate(1, 'div')).toThrow('eval_builtin_error: div: divide by zero');
    expect(() => strict.evaluate(1, 'count')).toThrow('eval_type_error: count: operand 1 must be one of {array, object, set, string} but got number');
    const lax = await load(program([C.num(0)], [resultPlan('div', 8, body), resultPlan('count', 8, cnt)], [], false));
    expect(lax.evaluate(1, 'div')).toEqual([]);
    expect(lax.evaluate(1, 'count')).toEqual([]);
  });
  test('to_number: NaN/Inf spellings are type errors (as in OPA), other bad text is a built-in error', async () => {
    const tn: Stmt[] = [{ op: 'call_builtin', dst: 2, name: 'to_number', args: [0] }];
    const strict = await load(program([], [resultPlan('t', 8, tn)], [], true));
    for (const s of ['nan', '-NaN', '+nan', 'inf', '-inf', 'iNf', 'Infinity', '-infinity', '+INFINITY']) {
      expect(() => strict.evaluate(s)).toThrow('eval_type_error: to_number: operand 1 must be valid number string but got string');
    }
    for (const s of ['infinit', 'nanx', 'in', '--inf', '1e', 'abc']) {
      expect(() => strict.evaluate(s)).toThrow('eval_builtin_error: to_number: invalid syntax');
    }
    expect(strict.evaluate('-12.5')).toEqual([{ result: -12.5 }]);
    const lax = await load(program([], [resultPlan('t', 8, tn)]));
    expect(lax.evaluate('inf')).toEqual([]);
  });
  test('integer overflow aborts even when not strict (never a silently wrong number)', async () => {
    const mul: Stmt[] = [{ op: 'call_builtin', dst: 2, name: 'mul', args: [0, 0] }];
    const lax = await load(program([], [resultPlan('m', 8, mul)]));
    expect(lax.evaluate(3037000499)).toEqual([{ result: 9223372030926249001 }]);
    expect(() => lax.evaluate(3037000500)).toThrow(/integer overflow/);
  });
});

describe('ABI details', () => {
  test('opa_value_add_path / remove_path edit data in place', async () => {
    const body: Stmt[] = [{ op: 'assign', dst: 2, src: 1 }];
    const policy = await load(program([], [resultPlan('p', 5, body)]));
    policy.setData({ a: { b: 1 } });
    const ex = policy.wasmInstance.exports as any;
    const parse = (t: string) => { const [a, l] = writeStr(policy, t); return ex.opa_json_parse(a, l); };
    expect(ex.opa_value_add_path(policy.dataAddr, parse('["a","c","d"]'), parse('[1,2]'))).toBe(0);
    expect(ex.opa_value_add_path(policy.dataAddr, parse('["a","b","x"]'), parse('1'))).toBe(3); // b is not an object
    expect(ex.opa_value_remove_path(policy.dataAddr, parse('["a","b"]'))).toBe(0);
    expect(ex.opa_value_remove_path(policy.dataAddr, parse('["nope"]'))).toBe(3);
    (policy as any).dataHeapPtr = ex.opa_heap_ptr_get();
    expect(policy.evaluate({})).toEqual([{ result: { a: { c: { d: [1, 2] } } } }]);
  });

  test('opa_eval resets the heap itself and serializes the result set; format 1 keeps sets', async () => {
    const body: Stmt[] = [{ op: 'const', dst: 2, c: 1 }];
    const policy = await load(program([C.set(C.num(1))], [resultPlan('p', 5, body)]));
    const ex = policy.wasmInstance.exports as any;
    const base = ex.opa_heap_ptr_get();
    const [addr, len] = writeStr(policy, '{}');
    const r1 = readStr(policy.mem, ex.opa_eval(0, 0, policy.dataAddr, addr, len, base + 1001, 0));
    expect(r1).toBe('[{"result":[1]}]');
    const r2 = readStr(policy.mem, ex.opa_eval(0, 0, policy.dataAddr, addr, len, base + 1001, 1));
    expect(r2).toBe('[{"result":{1}}]');
  });

  test('memory stays bounded over many evaluations', async () => {
    const body: Stmt[] = [
      { op: 'make_array', dst: 2, cap: 0 },
      { op: 'scan', src: 0, key: 5, value: 6, body: [{ op: 'array_append', arr: 2, val: 5 }] },
    ];
    const policy = await load(program([], [resultPlan('p', 9, body)]));
    const input = { a: 'x'.repeat(1000), b: [1, 2, 3], c: { d: 'e' } };
    for (let i = 0; i < 500; i++) policy.evaluate(input);
    const size = policy.mem.buffer.byteLength;
    for (let i = 0; i < 20000; i++) policy.evaluate(input);
    expect(policy.mem.buffer.byteLength).toBe(size);
    expect(policy.evaluate(input)).toEqual([{ result: ['a', 'b', 'c'] }]);
  });

  test('the module imports env.memory without maximum and exports the ABI', async () => {
    const wasm = emitWasm(program([], [resultPlan('p', 5, [])]), { hostBuiltin: () => undefined });
    const mod = new WebAssembly.Module(wasm);
    const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}:${i.kind}`);
    expect(imports).toContain('env.memory:memory');
    expect(imports).toContain('env.opa_abort:function');
    expect(imports.filter((i) => i.endsWith(':memory'))).toHaveLength(1);
    const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const name of ['memory', 'opa_wasm_abi_version', 'opa_wasm_abi_minor_version', 'eval', 'builtins', 'entrypoints',
      'opa_eval_ctx_new', 'opa_eval_ctx_set_input', 'opa_eval_ctx_set_data', 'opa_eval_ctx_set_entrypoint',
      'opa_eval_ctx_get_result', 'opa_malloc', 'opa_free', 'opa_json_parse', 'opa_value_parse', 'opa_json_dump',
      'opa_value_dump', 'opa_heap_ptr_get', 'opa_heap_ptr_set', 'opa_value_add_path', 'opa_value_remove_path',
      'opa_value_free', 'opa_heap_blocks_stash', 'opa_heap_blocks_restore', 'opa_heap_stash_clear', 'opa_eval']) {
      expect(exports).toContain(name);
    }
  });
});
