#!/usr/bin/env node
'use strict';
// Micro-benchmark of the wasm runtime (not a test): link time per policy and evaluations per second
// through WasmPolicy (src/engine/policy.ts, what the PDP pays per decision) and, as a lower bound,
// through a raw SDK instance's opa_eval directly. Needs `npm run build` first (uses dist/).
const { performance } = require('perf_hooks');
const path = require('path');
const { loadPolicy } = require('@open-policy-agent/opa-wasm');
const { emitWasm } = require(path.join(__dirname, '..', 'dist', 'compiler', 'emit'));
const { WasmPolicy } = require(path.join(__dirname, '..', 'dist', 'engine', 'policy'));

// allow if input.tool is in data.allowed[input.agent] and count(input.args) < 10
function policyIR(nRules) {
  const constants = [{ t: 'str', v: 'result' }, { t: 'str', v: 'tool' }, { t: 'str', v: 'agent' },
    { t: 'str', v: 'allowed' }, { t: 'str', v: 'args' }, { t: 'num', v: '10' }, { t: 'bool', v: true }];
  const allowBody = [
    { op: 'const', dst: 3, c: 3 }, { op: 'dot', dst: 4, src: 1, key: 3 },
    { op: 'const', dst: 5, c: 2 }, { op: 'dot', dst: 6, src: 0, key: 5 }, { op: 'dot', dst: 7, src: 4, key: 6 },
    { op: 'const', dst: 8, c: 1 }, { op: 'dot', dst: 9, src: 0, key: 8 },
    { op: 'call_builtin', dst: 10, name: 'internal.member_2', args: [9, 7] }, { op: 'truthy', a: 10 },
    { op: 'const', dst: 11, c: 4 }, { op: 'dot', dst: 12, src: 0, key: 11 },
    { op: 'call_builtin', dst: 13, name: 'count', args: [12] }, { op: 'const', dst: 14, c: 5 },
    { op: 'call_builtin', dst: 15, name: 'lt', args: [13, 14] }, { op: 'truthy', a: 15 },
    { op: 'const', dst: 16, c: 6 }, { op: 'assign_once', dst: 2, src: 16, kind: 'rule' },
  ];
  const funcs = Array.from({ length: nRules }, (_, i) => ({ name: `allow${i}`, params: 2, locals: 17, result: 2, memo: true, body: allowBody }));
  const plans = [{ name: 'authz/allow', locals: 6, body: [
    { op: 'call', dst: 2, func: 0, args: [0, 1] }, { op: 'make_object', dst: 3 }, { op: 'const', dst: 4, c: 0 },
    { op: 'object_insert', obj: 3, key: 4, val: 2 }, { op: 'result_add', val: 3 },
  ] }];
  return { constants, funcs, plans, strictBuiltinErrors: false };
}

async function main() {
  const opts = { hostBuiltin: () => undefined };
  for (const n of [2, 200]) {
    const ir = policyIR(n);
    emitWasm(ir, opts);
    const t0 = performance.now();
    const N = 200;
    for (let i = 0; i < N; i++) emitWasm(ir, opts);
    console.log(`link ${n} rules: ${((performance.now() - t0) / N).toFixed(3)} ms/policy`);
  }
  const wasm = emitWasm(policyIR(2), opts);
  const data = { allowed: { alice: ['read', 'write'], bob: ['read'] } };
  const input = { agent: 'alice', tool: 'write', args: { path: '/tmp/x' } };
  const wp = await WasmPolicy.load(wasm);
  wp.setData(data);
  console.log('result', JSON.stringify(wp.evaluate('authz/allow', input)));
  for (let i = 0; i < 50000; i++) wp.evaluate('authz/allow', input); // warm up (wasm tier-up, JIT)
  let t0 = performance.now();
  let N = 200000;
  for (let i = 0; i < N; i++) wp.evaluate('authz/allow', input);
  console.log(`WasmPolicy evaluate: ${Math.round(N / ((performance.now() - t0) / 1000))} evals/s`);
  // lower bound: the bare ABI call on a raw SDK instance, no wrapper, no input encoding per call
  const policy = await loadPolicy(wasm);
  policy.setData(data);
  const ex = policy.wasmInstance.exports;
  const bytes = new TextEncoder().encode(JSON.stringify(input));
  new Uint8Array(policy.mem.buffer).set(bytes, policy.dataHeapPtr);
  t0 = performance.now();
  N = 1000000;
  for (let i = 0; i < N; i++) ex.opa_eval(0, 0, policy.dataAddr, policy.dataHeapPtr, bytes.length, policy.dataHeapPtr + bytes.length, 0);
  console.log(`direct opa_eval: ${Math.round(N / ((performance.now() - t0) / 1000))} evals/s`);
  const big = { agent: 'alice', tool: 'write', args: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'v'.repeat(4000)])) };
  t0 = performance.now();
  N = 5000;
  for (let i = 0; i < N; i++) wp.evaluate('authz/allow', big);
  console.log(`WasmPolicy evaluate, ${JSON.stringify(big).length >> 10} KB input: ${Math.round(N / ((performance.now() - t0) / 1000))} evals/s`);
}
main();
