// One loaded instance evaluated many times (how the PDP serves). Regressions for values that outlive an
// evaluation (constants, data, the entrypoints table): nothing an evaluation builds may be attached to
// them, since the next evaluation reuses that heap.
import { C, program, resultPlan, load, classicEval } from './helpers';
import { compileRego, instantiate } from './repeat-helpers';
import type { Stmt } from '../../src/compiler/ir';

const N = 40;

/** '' when equal, else the neighbourhood of the first differing character (big texts stay readable). */
function firstDifference(got: string, want: string): string {
  if (got === want) return '';
  let i = 0;
  while (i < got.length && got[i] === want[i]) i++;
  return `at ${i} of ${got.length}/${want.length}: got …${got.slice(Math.max(0, i - 40), i + 40)}… want …${want.slice(Math.max(0, i - 40), i + 40)}…`;
}

/** Evaluates `n` times and returns the distinct answers (one element when stable). */
function distinct(run: () => string, n = N): string[] {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(run());
  return [...seen];
}

describe('constant collections stay correct across evaluations', () => {
  const rego = `package r
not_in if { not "a" in {"a", "b"} }
num_in if { 1 in {1, 2} }
some_in if { some x in {"a", "b"}; x == "a" }
obj_iter contains k if { some k, v in {"z": 1, "a": 2, "m": 3}; v > 1 }
set_order := [x | some x in {"d", "b", "c", "a"}]
nested := [y | some s in [{"q", "p"}, {"r"}]; some y in s]
cmp if { {"b": 1, "a": 2} == {"a": 2, "b": 1}; {{"x"}, {"y"}} == {{"y"}, {"x"}} }
sorted_objs := sort([{"b": 1}, {"a": 1}, {"a": 0, "c": 1}])
`;
  const eps = ['r/not_in', 'r/num_in', 'r/some_in', 'r/obj_iter', 'r/set_order', 'r/nested', 'r/cmp', 'r/sorted_objs'];
  const expected: Record<string, string> = {
    'r/not_in': '[]',
    'r/num_in': '[{"result":true}]',
    'r/some_in': '[{"result":true}]',
    'r/obj_iter': '[{"result":["a","m"]}]',
    'r/set_order': '[{"result":["a","b","c","d"]}]',
    'r/nested': '[{"result":["p","q","r"]}]',
    'r/cmp': '[{"result":true}]',
    'r/sorted_objs': '[{"result":[{"a":0,"c":1},{"a":1},{"b":1}]}]',
  };
  let wasm: Uint8Array;
  beforeAll(() => { wasm = compileRego({ 'r.rego': rego }, eps); });

  test.each(eps)('%s gives the same answer on every one of many evaluations', async (ep) => {
    const inst = await instantiate(wasm);
    expect(distinct(() => inst.run(ep))).toEqual([expected[ep]]);
  });

  test('all entrypoints interleaved, with inputs that allocate and grow memory in between', async () => {
    const inst = await instantiate(wasm);
    const before = inst.policy.mem.buffer.byteLength;
    for (let i = 0; i < N; i++) {
      for (const ep of eps) {
        // a large input moves every later allocation and makes the SDK grow memory
        const input = i % 3 === 0 ? { big: Array.from({ length: 2000 * (i % 7 + 1) }, (_, j) => ({ k: `key-${j}` })) } : { i };
        expect(inst.run(ep, input)).toBe(expected[ep]);
      }
    }
    expect(inst.policy.mem.buffer.byteLength).toBeGreaterThan(before);
  });
});

describe('data loaded by setData stays correct across evaluations', () => {
  const rego = `package r
roles := [r | some r, _ in data.roles]
members := {m | some m in data.groups.admins}
first_admin := x if { x := sort([m | some m in data.groups.admins])[0] }
`;
  const eps = ['r/roles', 'r/members', 'r/first_admin'];
  const data = { roles: { writer: 1, admin: 2, reader: 3 }, groups: { admins: ['carol', 'alice', 'bob'] } };

  test('iteration over data objects and arrays is stable, and follows setData replacements', async () => {
    const inst = await instantiate(compileRego({ 'r.rego': rego }, eps), data);
    for (let i = 0; i < N; i++) {
      expect(inst.run('r/roles', { i })).toBe('[{"result":["admin","reader","writer"]}]');
      expect(inst.run('r/members')).toBe('[{"result":["alice","bob","carol"]}]');
      expect(inst.run('r/first_admin', { pad: 'x'.repeat(i * 1000) })).toBe('[{"result":"alice"}]');
    }
    inst.policy.setData({ roles: { zed: 1, abe: 2 }, groups: { admins: ['zoe', 'yan'] } });
    for (let i = 0; i < N; i++) {
      expect(inst.run('r/roles')).toBe('[{"result":["abe","zed"]}]');
      expect(inst.run('r/first_admin')).toBe('[{"result":"yan"}]');
    }
  });

  test('the classic ABI path (eval context, json dump) is stable too', async () => {
    const inst = await instantiate(compileRego({ 'r.rego': rego }, eps), data);
    const ep = inst.policy.entrypoints['r/roles'];
    for (let i = 0; i < N; i++) {
      expect(classicEval(inst.policy, { i, pad: 'y'.repeat(i * 500) }, ep)).toEqual([{ result: ['admin', 'reader', 'writer'] }]);
    }
  });

  test('the entrypoints table survives evaluations (the SDK may dump it again)', async () => {
    const inst = await instantiate(compileRego({ 'r.rego': rego }, eps), data);
    const ex = inst.policy.wasmInstance.exports;
    const dump = () => {
      const addr = ex.opa_json_dump(ex.entrypoints());
      const b = new Uint8Array(inst.policy.mem.buffer);
      let e = addr;
      while (b[e] !== 0) e++;
      return new TextDecoder().decode(b.subarray(addr, e));
    };
    const first = dump();
    for (let i = 0; i < 10; i++) inst.run('r/members', { pad: 'z'.repeat(5000) });
    expect(dump()).toBe(first);
    expect(JSON.parse(first)).toEqual({ 'r/roles': 0, 'r/members': 1, 'r/first_admin': 2 });
  });
});

describe('plans never mutate values they did not create', () => {
  // a plan that appends to / inserts into a constant would keep pointers into the evaluation heap on
  // a value that outlives it: the runtime refuses (fails closed) instead
  test.each<[string, Stmt[]]>([
    ['array_append on a constant', [{ op: 'const', dst: 2, c: 1 }, { op: 'const', dst: 3, c: 2 }, { op: 'array_append', arr: 2, val: 3 }]],
    ['object_insert on the input', [{ op: 'assign', dst: 2, src: 0 }, { op: 'const', dst: 3, c: 2 }, { op: 'object_insert', obj: 2, key: 3, val: 3 }]],
    ['set_add on a constant', [{ op: 'const', dst: 2, c: 3 }, { op: 'const', dst: 3, c: 2 }, { op: 'set_add', set: 2, val: 3 }]],
  ])('%s aborts the evaluation, every time', async (_name, body) => {
    const policy = await load(program([C.arr(C.num(1)), C.str('k'), C.set(C.num(1))], [resultPlan('p', 6, body)]));
    for (let i = 0; i < 3; i++) expect(() => policy.evaluate({ a: 1 })).toThrow(/plan mutates a shared value/);
  });

  test('the same statements on values the evaluation made are fine', async () => {
    const body: Stmt[] = [
      { op: 'make_array', dst: 2, cap: 1 },
      { op: 'const', dst: 3, c: 1 },
      { op: 'array_append', arr: 2, val: 3 },
      { op: 'array_append', arr: 2, val: 0 },
    ];
    const policy = await load(program([C.str('k')], [resultPlan('p', 6, body)]));
    for (let i = 0; i < N; i++) expect(policy.evaluate({ i })).toEqual([{ result: ['k', { i }] }]);
  });
});

describe('memory growth during evaluations', () => {
  // every pair of elements: quadratic allocation, so a few hundred elements grow memory mid-evaluation
  const rego = `package g
pairs := [[x, y] | some x in input.a; some y in input.a]
index := {sprintf("k%v", [x]): {"v": x, "tags": {t | some t in input.tags}} | some x in input.a}
echo := input
`;
  const eps = ['g/pairs', 'g/index', 'g/echo'];
  const expectPairs = (a: number[]) => JSON.stringify([{ result: a.flatMap((x) => a.map((y) => [x, y])) }]);
  const expectIndex = (a: number[], tags: string[]) => {
    const o: Record<string, unknown> = {};
    for (const x of [...a].sort((p, q) => (`k${p}` < `k${q}` ? -1 : 1))) o[`k${x}`] = { tags: [...new Set(tags)].sort(), v: x };
    return JSON.stringify([{ result: o }]);
  };

  test('alternating small and large evaluations on one instance (unaligned input lengths)', async () => {
    const inst = await instantiate(compileRego({ 'g.rego': rego }, eps));
    const start = inst.policy.mem.buffer.byteLength;
    for (let i = 0; i < 30; i++) {
      const n = i % 4 === 1 ? 250 + i : i % 5; // 250² pairs ≈ several MB of values
      const a = Array.from({ length: n }, (_, j) => j * 7 + i);
      const pad = 'p'.repeat(i * 37 + 1); // odd input lengths: the SDK passes an unaligned heap pointer
      expect(inst.run('g/pairs', { a, pad })).toBe(expectPairs(a));
      const tags = ['b', 'a', `t${i}`, 'a'];
      expect(inst.run('g/index', { a, tags, pad })).toBe(expectIndex(a, tags));
    }
    expect(inst.policy.mem.buffer.byteLength).toBeGreaterThan(start * 4);
  });

  test('a result dump of several MB (the dump buffer grows while sort orders are allocated)', async () => {
    const inst = await instantiate(compileRego({ 'g.rego': rego }, eps));
    for (let i = 0; i < 3; i++) {
      const input: Record<string, unknown> = {};
      for (let j = 0; j < 12000; j++) input[`key-${(j * 7919) % 12000}-${i}`] = { n: j, q: 'quote"\\', s: ['z', 'y', 'x'] };
      const want = JSON.stringify([{ result: Object.fromEntries(Object.entries(input).sort(([p], [q]) => (p < q ? -1 : 1))) }]);
      // the runtime writes keys in Rego's order (byte order), as JS sorts these ASCII keys
      expect(firstDifference(inst.run('g/echo', input), want)).toBe('');
      expect(inst.run('g/echo', { small: i })).toBe(JSON.stringify([{ result: { small: i } }]));
    }
  });
});
