import { C, jsConst, program, resultPlan, load, classicEval, readStr, writeStr } from './helpers';
import { emitWasm } from '../../src/compiler/emit';
import type { Stmt } from '../../src/compiler/ir';

const echoInput = resultPlan('echo', 5, [{ op: 'assign', dst: 2, src: 0 }]);

describe('JSON in and out', () => {
  const tricky = {
    esc: 'quote " backslash \\ slash / tab \t nl \n cr \r ctl \u0001 \u001f',
    uni: 'héllo wörld ✓ 😀 \u2028',
    nested: { a: [1, [2, [3, { b: null }]]], t: true, f: false },
    nums: [0, -0.5, 1e-7, 123456789012, -9007199254740993, 0.1, 1.7976931348623157e308, 5e-324, 2.5e21],
    empty: { o: {}, a: [], s: '' },
  };

  test('round-trips through both paths, including escapes, unicode and numbers', async () => {
    const policy = await load(program([], [echoInput]));
    expect(policy.evaluate(tricky)).toEqual([{ result: tricky }]);
    expect(classicEval(policy, tricky)).toEqual([{ result: tricky }]);
  });

  test('integers beyond 2^53 stay exact (i64)', async () => {
    const policy = await load(program([], [echoInput]));
    const text = '{"m":-9223372036854775808,"n":9223372036854775807}';
    const out = policy.wasmInstance.exports;
    const [addr, len] = writeStr(policy, text);
    const v = out.opa_json_parse(addr, len);
    expect(readStr(policy.mem, out.opa_json_dump(v))).toBe(text);
  });

  test('numbers we cannot represent exactly abort instead of being approximated; big integers stay exact', async () => {
    const policy = await load(program([], [echoInput]));
    expect(() => policy.evaluate(new TextEncoder().encode('[1e200000]').buffer)).toThrow(/out of supported range/);
    expect(() => emitWasm(program([C.num('1e999999')], [echoInput]), { hostBuiltin: () => undefined })).toThrow(/outside the supported range/);
    // integers beyond 64 bits are kept exactly: the dump gives back the very digits (and the sign)
    const ex = policy.wasmInstance.exports as Record<string, (...a: number[]) => number>;
    const text = '{"m":-123456789123456789123,"n":9223372036854775808}';
    const bytes = new TextEncoder().encode(text);
    const addr = ex.opa_malloc(bytes.length);
    new Uint8Array((ex.memory as unknown as WebAssembly.Memory).buffer, addr, bytes.length).set(bytes);
    const v = ex.opa_json_parse(addr, bytes.length);
    const out = ex.opa_json_dump(v);
    const mem = new Uint8Array((ex.memory as unknown as WebAssembly.Memory).buffer);
    let end = out;
    while (mem[end] !== 0) end++;
    expect(new TextDecoder().decode(mem.slice(out, end))).toBe(text);
    expect(() => emitWasm(program([C.num('99999999999999999999')], [echoInput]), { hostBuiltin: () => undefined })).not.toThrow();
  });

  test('a large input (~1 MB) parses and evaluates', async () => {
    const big = { items: Array.from({ length: 20000 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] })) };
    const policy = await load(program([], [echoInput]));
    expect(policy.evaluate(big)).toEqual([{ result: big }]);
  });

  test('dumps sort object keys and set elements; value dump keeps sets and non-string keys', async () => {
    const policy = await load(program([], [echoInput]));
    const ex = policy.wasmInstance.exports;
    const [addr, len] = writeStr(policy, '{"b": 1, "a": {"z": [3, {"y": 1, "x": 2}], "c": {3, 1, "s", null, [1]}}, 1: set()}');
    const v = ex.opa_value_parse(addr, len);
    expect(v).not.toBe(0);
    expect(readStr(policy.mem, ex.opa_json_dump(v))).toBe('{"1":[],"a":{"c":[null,1,3,"s",[1]],"z":[3,{"x":2,"y":1}]},"b":1}');
    expect(readStr(policy.mem, ex.opa_value_dump(v))).toBe('{1:set(),"a":{"c":{null,1,3,"s",[1]},"z":[3,{"x":2,"y":1}]},"b":1}');
    const [a2, l2] = writeStr(policy, '{"a": {1, 2}}');
    expect(ex.opa_json_parse(a2, l2)).toBe(0); // sets are not JSON
    const [a3, l3] = writeStr(policy, '{"a": 1,}');
    expect(ex.opa_json_parse(a3, l3)).toBe(0);
  });
});

describe('evaluation semantics', () => {
  test('scan over objects and sets runs in sorted order (array comprehension order)', async () => {
    // result := [v | v := input.obj[k]] ++ [x | input.set[x]] built by scanning
    const body: Stmt[] = [
      { op: 'make_array', dst: 2, cap: 0 },
      { op: 'const', dst: 5, c: 1 },
      { op: 'dot', dst: 6, src: 0, key: 5 },
      { op: 'scan', src: 6, key: 7, value: 8, body: [{ op: 'array_append', arr: 2, val: 7 }] },
    ];
    const policy = await load(program([C.str('obj')], [resultPlan('p', 11, body)]));
    const keys = { b: 1, a: 2, 10: 3, 9: 4, B: 5, ä: 6, '': 7 };
    expect(policy.evaluate({ obj: keys })).toEqual([{ result: Object.keys(keys).sort() }]);
    // a set constant with mixed types scans in type order
    const setBody: Stmt[] = [
      { op: 'make_array', dst: 2, cap: 0 },
      { op: 'const', dst: 6, c: 1 },
      { op: 'scan', src: 6, key: 7, value: 8, body: [{ op: 'array_append', arr: 2, val: 8 }] },
    ];
    const mixed = C.set(C.str('b'), C.num(2), C.arr(C.num(1)), C.null(), C.bool(true), C.num('1.5'), C.obj(), C.set(), C.str('a'), C.bool(false));
    const p2 = await load(program([mixed], [resultPlan('p', 11, setBody)]));
    expect(p2.evaluate(null)).toEqual([{ result: [null, false, true, 1.5, 2, 'a', 'b', [1], {}, []] }]);
  });

  test('break leaves enclosing blocks and stops a scan; not inverts; failures end one iteration', async () => {
    // count elements until the first 3 (break), skipping 1 (failure), then `not` checks
    const body: Stmt[] = [
      { op: 'make_array', dst: 2, cap: 0 },
      { op: 'const', dst: 5, c: 1 }, // 3
      { op: 'const', dst: 6, c: 2 }, // 1
      {
        op: 'scan', src: 0, key: 7, value: 8, body: [
          { op: 'block', body: [{ op: 'equal', a: 8, b: 5 }, { op: 'break', levels: 2 }] },
          { op: 'not_equal', a: 8, b: 6 },
          { op: 'array_append', arr: 2, val: 8 },
        ],
      },
      { op: 'not', body: [{ op: 'equal', a: 5, b: 6 }] },
    ];
    const policy = await load(program([C.num(3), C.num(1)], [resultPlan('p', 11, body)]));
    expect(policy.evaluate([0, 1, 2, 1, 3, 4, 5])).toEqual([{ result: [0, 2] }]);
    const failing: Stmt[] = [
      { op: 'const', dst: 5, c: 1 },
      { op: 'not', body: [{ op: 'is_defined', a: 5 }] },
      { op: 'assign', dst: 2, src: 5 },
    ];
    const p2 = await load(program([C.num(3)], [resultPlan('p', 11, failing)]));
    expect(p2.evaluate({})).toEqual([]);
  });

  test('conflicts abort with OPA error classes', async () => {
    const rule: Stmt[] = [
      { op: 'scan', src: 0, key: 5, value: 6, body: [{ op: 'assign_once', dst: 2, src: 6, kind: 'rule' }] },
    ];
    const policy = await load(program([], [resultPlan('p', 9, rule)]));
    expect(policy.evaluate([1, 1.0, 1])).toEqual([{ result: 1 }]);
    expect(() => policy.evaluate([1, 2])).toThrow('eval_conflict_error: complete rules must not produce multiple outputs');
    const fn: Stmt[] = [{ op: 'assign_once', dst: 2, src: 0, kind: 'function' }, { op: 'assign_once', dst: 2, src: 1, kind: 'function' }];
    const p2 = await load(program([], [resultPlan('p', 9, fn)]));
    p2.setData({ x: 1 });
    expect(() => p2.evaluate({ y: 1 })).toThrow('eval_conflict_error: functions must not produce multiple outputs for same inputs');
    const obj: Stmt[] = [
      { op: 'make_object', dst: 2 },
      { op: 'scan', src: 0, key: 5, value: 6, body: [{ op: 'object_insert_once', obj: 2, key: 6, val: 5 }] },
    ];
    const p3 = await load(program([], [resultPlan('p', 9, obj)]));
    expect(p3.evaluate(['a', 'b'])).toEqual([{ result: { a: 0, b: 1 } }]);
    expect(() => p3.evaluate(['a', 'a'])).toThrow('eval_conflict_error: object keys must be unique');
  });

  test('data, setData, numbered and named entrypoints, memoised functions', async () => {
    // func 0 (memo): returns data.n + input.n; called twice
    const p = program([C.str('n'), C.str('k')], [
      resultPlan('sum', 8, [
        { op: 'call', dst: 5, func: 0, args: [0, 1] },
        { op: 'call', dst: 6, func: 0, args: [0, 1] },
        { op: 'call_builtin', dst: 2, name: 'plus', args: [5, 6] },
      ]),
      resultPlan('k', 8, [{ op: 'const', dst: 5, c: 2 }, { op: 'dot', dst: 2, src: 1, key: 5 }]),
    ], [{
      name: 'f', params: 2, locals: 6, result: 2, memo: true, body: [
        { op: 'const', dst: 3, c: 1 },
        { op: 'dot', dst: 4, src: 0, key: 3 },
        { op: 'dot', dst: 5, src: 1, key: 3 },
        { op: 'call_builtin', dst: 2, name: 'plus', args: [4, 5] },
      ],
    }]);
    const policy = await load(p);
    expect(policy.entrypoints).toEqual({ sum: 0, k: 1 });
    expect(policy.evaluate({ n: 1 })).toEqual([]); // data.n undefined
    policy.setData({ n: 10, k: 'v' });
    expect(policy.evaluate({ n: 1 })).toEqual([{ result: 22 }]);
    expect(policy.evaluate({ n: 2 }, 0)).toEqual([{ result: 24 }]);
    expect(policy.evaluate({}, 'k')).toEqual([{ result: 'v' }]);
    expect(policy.evaluate({}, 1)).toEqual([{ result: 'v' }]);
    expect(classicEval(policy, { n: 5 }, 0)).toEqual([{ result: 30 }]);
    expect(() => policy.evaluate({}, 7)).toThrow(/illegal entrypoint/);
  });

  test('upsert (with) copies, object_merge merges deeply and detects conflicts', async () => {
    const body: Stmt[] = [
      { op: 'const', dst: 5, c: 1 }, { op: 'const', dst: 6, c: 2 }, { op: 'const', dst: 7, c: 3 },
      { op: 'upsert', dst: 8, src: 0, path: [5, 6], val: 7 },
      { op: 'make_array', dst: 2, cap: 2 },
      { op: 'array_append', arr: 2, val: 8 },
      { op: 'array_append', arr: 2, val: 0 },
      { op: 'object_merge', dst: 9, a: 0, b: 1 },
      { op: 'array_append', arr: 2, val: 9 },
    ];
    const policy = await load(program([C.str('a'), C.str('b'), C.num(9)], [resultPlan('p', 12, body)]));
    policy.setData({ a: { c: 2 }, z: 1 });
    expect(policy.evaluate({ a: { d: 1 }, q: 1 })).toEqual([{
      result: [{ a: { b: 9, d: 1 }, q: 1 }, { a: { d: 1 }, q: 1 }, { a: { c: 2, d: 1 }, q: 1, z: 1 }],
    }]);
    // upsert over a non-object intermediate replaces it by an object; undefined src becomes {}
    expect(policy.evaluate({ q: 1 })).toEqual([{ result: [{ a: { b: 9 }, q: 1 }, { q: 1 }, { a: { c: 2 }, q: 1, z: 1 }] }]);
    expect(() => policy.evaluate({ a: 5 })).toThrow('eval_conflict_error: object keys must be unique');
    expect(() => policy.evaluate({ z: 2 })).toThrow('eval_conflict_error: object keys must be unique');
  });
});
