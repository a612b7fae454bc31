// Randomized soak: many entrypoints of several policies evaluated over and over on ONE instance with
// varied inputs (tiny to large enough to grow memory), each answer compared with a fresh instance's.
// A difference means state leaked from one evaluation into another (a cache or pointer kept across a
// heap reset, memory growth mishandled, a shared value mutated). Seeds are fixed: failures reproduce.
import * as path from 'path';
import { loadPolicyDir } from '../../src/compiler/load';
import { compile, parseAll } from '../../src/compiler';
import { discoverTests, isTestFile } from '../../src/testing/discover';
import { compileRego, instantiate, prng, type Instance } from './repeat-helpers';

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const words = ['a', 'b', 'alice', 'bob', 'zoë', 'x"q', 'line\nbreak', 'tab\tch', '日本', '', 'admin', 'reader'];

/** A random JSON value; `size` scales arrays and objects (large ones make the SDK grow memory). */
function randomValue(r: Rand, depth: number, size: number): unknown {
  const k = depth > 3 ? Math.floor(r() * 5) : Math.floor(r() * 8);
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return pick(r, [0, 1, -1, 2, 3.5, -0.25, 1e21, 123456789012, 9007199254740993]);
    case 3: case 4: return pick(r, words);
    case 5: return Array.from({ length: Math.floor(r() * size) }, () => randomValue(r, depth + 1, size));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * size);
      for (let i = 0; i < n; i++) o[pick(r, words) + (r() < 0.5 ? String(i) : '')] = randomValue(r, depth + 1, size);
      return o;
    }
  }
}

/** Runs `steps` random (entrypoint, input) pairs on one shared instance and on fresh instances. */
async function soak(
  module: WebAssembly.Module, data: unknown, entrypoints: string[], steps: number, seed: number,
  input: (r: Rand, step: number) => unknown,
): Promise<{ mismatches: string[]; distinctAnswers: number; grew: boolean }> {
  const r = prng(seed);
  const shared = await instantiate(module, data);
  const start = shared.policy.mem.buffer.byteLength;
  const mismatches: string[] = [];
  const answers = new Set<string>();
  for (let step = 0; step < steps; step++) {
    const ep = pick(r, entrypoints);
    const inp = input(r, step);
    const got = shared.run(ep, inp);
    const fresh: Instance = await instantiate(module, data);
    const want = fresh.run(ep, inp);
    answers.add(want);
    if (got !== want && mismatches.length < 5) {
      mismatches.push(`step ${step} ${ep}: shared ${got.slice(0, 200)} / fresh ${want.slice(0, 200)}`);
    }
  }
  return { mismatches, distinctAnswers: answers.size, grew: shared.policy.mem.buffer.byteLength > start };
}

describe('soak: one instance, many evaluations, same answers as fresh instances', () => {
  const features = `package soak
import rego.v1

keys := sort([k | some k, _ in input.obj])
vals := [v | some v in input.arr; is_string(v)]
uniq := {x | some x in input.arr}
count_all := [count(input.arr), count(input.obj)] if { is_array(input.arr); is_object(input.obj) }
const_member if { "admin" in {"admin", "reader", "writer"}; not "root" in {"admin", "reader"} }
const_iter := [k | some k, v in {"z": 1, "y": 2, "x": 3}; v >= 2]
role_names := sort([n | some n, _ in data.roles])
has_role(u) if { some r in data.users[u]; data.roles[r].level > 1 }
privileged := {u | some u, _ in data.users; has_role(u)}
with_data := x if { x := privileged with data.roles as {"reader": {"level": 5}} }
with_input := x if { x := keys with input.obj as {"q": 1, "p": 2} }
merged := object.union(input.obj, {"added": true}) if is_object(input.obj)
joined := concat(",", sort([s | some s in input.arr; is_string(s)]))
text := sprintf("%v-%v", [count(keys), input.name]) if input.name
upper_words := [upper(w) | some w in input.arr; is_string(w)]
nums := sum([n | some n in input.arr; is_number(n)])
nested := {k: sort([x | some x in v; is_string(x)]) | some k, v in input.obj; is_array(v)}
pairs contains [k, v] if { some k, v in input.obj; is_string(v) }
marshal := json.marshal({"keys": keys, "n": count(uniq)})
deny contains msg if { some u in input.users; not data.users[u]; msg := sprintf("unknown user %s", [u]) }
allow if { count(deny) == 0; input.users[_] in object.keys(data.users) }
`;
  const eps = [
    'soak/keys', 'soak/vals', 'soak/uniq', 'soak/count_all', 'soak/const_member', 'soak/const_iter',
    'soak/role_names', 'soak/privileged', 'soak/with_data', 'soak/with_input', 'soak/merged', 'soak/joined',
    'soak/text', 'soak/upper_words', 'soak/nums', 'soak/nested', 'soak/pairs', 'soak/marshal', 'soak/deny',
    'soak/allow',
  ];
  const data = {
    roles: { admin: { level: 3 }, reader: { level: 1 }, writer: { level: 2 } },
    users: { alice: ['admin'], bob: ['reader'], carol: ['writer', 'reader'] },
  };

  test('a feature mix with random inputs (small and large)', async () => {
    const module = new WebAssembly.Module(compileRego({ 'soak.rego': features }, eps));
    const res = await soak(module, data, eps, 400, 0x5eed, (r, step) => {
      const size = step % 25 === 0 ? 3000 : step % 5 === 0 ? 60 : 6;
      const v = randomValue(r, 0, 6) as any;
      // now and then a non-object input (or none); mostly objects with the fields the rules read
      if (r() < 0.1) return r() < 0.5 ? undefined : v;
      const input = v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
      input.arr = Array.from({ length: Math.floor(r() * size) }, () => randomValue(r, 2, 4));
      input.obj = r() < 0.85 ? Object.fromEntries(Array.from({ length: Math.floor(r() * Math.min(size, 300)) }, (_, i) => [pick(r, words) + i, randomValue(r, 2, 4)])) : randomValue(r, 1, 5);
      input.users = Array.from({ length: Math.floor(r() * 4) }, () => pick(r, ['alice', 'bob', 'carol', 'mallory']));
      if (r() < 0.7) input.name = pick(r, words);
      return input;
    });
    expect(res.mismatches).toEqual([]);
    // the inputs really exercised the entrypoints (140, not 150, since 1e21 became an exact integer beyond
    // 64 bits, which arithmetic refuses instead of computing with its double)
    expect(res.distinctAnswers).toBeGreaterThan(140);
    expect(res.grew).toBe(true); // and memory grew during the run
  });

  test('the rego/ policy: decision and every Rego test, with default memory', async () => {
    const root = path.join(__dirname, '..', '..', 'rego');
    const src = loadPolicyDir([root]);
    const tests = discoverTests(parseAll(src.modules), {});
    const fixtures = ['lookup_request', 'alice', 'bob', 'carol', 'dave', 'asserted_alice', 'invalid_alice', 'lookup', 'refund', 'invoice_export', 'refund_task', 'support_task', 'crm_task'];
    const fixtureEps = fixtures.map((f) => `mcp/authz_test/${f}`);
    const decision = 'mcp/authz/decision';
    const { wasm } = compile({ modules: src.modules, entrypoints: [decision, ...tests.map((t) => t.entrypoint), ...fixtureEps] });
    const module = new WebAssembly.Module(wasm);
    // fixture documents, evaluated once on a fresh instance, are the material inputs are built from
    const fx: Record<string, any> = {};
    const probe = await instantiate(module, src.data);
    for (let i = 0; i < fixtures.length; i++) fx[fixtures[i]] = JSON.parse(probe.run(fixtureEps[i]))[0].result;
    const users = ['alice', 'bob', 'carol', 'dave', 'asserted_alice', 'invalid_alice'].map((u) => fx[u]);
    const tools = [fx.lookup, fx.refund, fx.invoice_export, { server: 'crm', name: 'contacts.search', method: 'tools/call', annotations: {} }];
    const tasks = [fx.refund_task, fx.support_task, fx.crm_task, null];
    const res = await soak(module, src.data, [decision, decision, decision, ...tests.map((t) => t.entrypoint)], 300, 0xdec1de, (r, step) => {
      const doc = JSON.parse(JSON.stringify(fx.lookup_request));
      if (r() < 0.5) doc.user = pick(r, users);
      if (r() < 0.5) doc.tool = pick(r, tools);
      if (r() < 0.4) doc.task = pick(r, tasks);
      if (r() < 0.3) doc.parameters = { customer_id: 'c-1001', amount: Math.floor(r() * 500), tenant: pick(r, ['acme', 'globex']) };
      if (r() < 0.1) delete doc.agent;
      if (step % 20 === 0) doc.context.padding = Array.from({ length: 5000 }, (_, i) => ({ i, s: pick(r, words) }));
      return r() < 0.05 ? {} : doc;
    });
    expect(res.mismatches).toEqual([]);
    expect(res.distinctAnswers).toBeGreaterThan(3);
  });

  test('every rego/ test passes on one shared instance, run twice in a row', async () => {
    const root = path.join(__dirname, '..', '..', 'rego');
    const src = loadPolicyDir([root]);
    const tests = discoverTests(parseAll(src.modules), {});
    expect(tests.length).toBeGreaterThan(50);
    expect(src.modules.some((m) => isTestFile(m.file))).toBe(true);
    const { wasm } = compile({ modules: src.modules, entrypoints: tests.map((t) => t.entrypoint) });
    const inst = await instantiate(wasm, src.data);
    const failed: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (const t of tests) {
        const got = inst.run(t.entrypoint);
        if (got !== '[{"result":true}]') failed.push(`round ${round} ${t.rule}: ${got.slice(0, 120)}`);
      }
    }
    expect(failed).toEqual([]);
  });
});
