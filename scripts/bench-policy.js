#!/usr/bin/env node
'use strict';
// Decision-evaluation benchmark of the default MCP policy: compiles rego/ with our compiler, loads it
// through @open-policy-agent/opa-wasm with our host built-ins, and evaluates `mcp/authz/decision` on
// realistic inputs (an allowed lookup, an allowed refund with an obligation, a denied broad export)
// in a tight loop. Reports evaluations per second and mean µs per decision, per input and overall.
// Needs `npm run build` first (it runs the compiled dist/).
// Usage: node scripts/bench-policy.js [seconds] [initial memory pages]
const path = require('path');

const root = path.join(__dirname, '..');
const { compilePolicyPaths } = require(path.join(root, 'dist', 'testing', 'evaluate'));

const seconds = Number(process.argv[2] || 3);
const memoryPages = process.argv[3] ? Number(process.argv[3]) : undefined;
const future = '2099-12-31T23:59:59Z';
const bob = {
  id: 'u-bob', verified: true, assurance: 'verified', attributes: {},
  claims: { sub: 'u-bob', tenant: 'acme', roles: ['billing_specialist'], iss: 'https://idp.example', aud: 'pdp' },
};
const refundWorker = {
  id: 'refund-worker', verified: true, assurance: 'verified', attributes: {},
  claims: { sub: 'u-bob', act: { sub: 'refund-worker', act: { sub: 'planner' } } },
  delegation: [{ sub: 'refund-worker' }, { sub: 'planner' }], on_behalf_of: 'u-bob',
};
const task = {
  id: 't-7', assurance: 'verified', expires_at: future,
  scope: {
    tools: ['billing/refunds.*', 'billing/invoices.export'], data_domains: ['billing'],
    constraints: { max_amount: 200, max_records: 100 }, grants: ['write'], expires_at: future,
  },
};
const request = (name, parameters) => ({
  user: bob, agent: refundWorker, task, parameters,
  tool: { server: 'billing', name, method: 'tools/call', annotations: { readOnlyHint: name !== 'refunds.create' } },
  caller: { method: 'api_key', id: 'gateway-1' },
  context: { request_id: 'r-1', ip: '10.0.0.7' },
});
const inputs = {
  'allowed lookup': request('refunds.lookup', { customer_id: 'c-1001', view: 'summary' }),
  'refund needing approval': request('refunds.create', { customer_id: 'c-1001', amount: 150, currency: 'EUR', reason: 'duplicate charge' }),
  'denied broad export': request('invoices.export', { tenant: 'globex', max_records: 5000, format: 'csv' }),
  // what the PDP hands the policy for `npm run bench`'s body (DESIGN.md §3's example, no tokens): every
  // identity only asserted, so a deny with 8 reasons
  'npm run bench body': {
    tool: { server: 'billing', name: 'refunds.create', method: 'tools/call', annotations: { readOnlyHint: false, destructiveHint: true } },
    parameters: { customer_id: 'c-9', amount: 120, currency: 'EUR' },
    context: { request_id: 'r-1', ip: '10.0.0.7' },
    user: { id: 'u-42', attributes: { department: 'support' }, claims: {}, verified: false, assurance: 'asserted' },
    agent: { id: 'support-bot', attributes: {}, claims: {}, verified: false, assurance: 'asserted', delegation: [], delegation_form: 'none', delegation_assurance: 'none' },
    task: { id: 't-7', claims: {}, verified: false, assurance: 'asserted', scope: { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 200 }, expires_at: future } },
    caller: { method: 'anonymous', id: 'anonymous' },
  },
};

function bench(evaluate, input) {
  for (let i = 0; i < 200; i++) evaluate(input); // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) evaluate(input);
    n += 100;
    now = process.hrtime.bigint();
  }
  const ns = Number(now - start);
  return { n, perSec: (n * 1e9) / ns, meanUs: ns / n / 1000 };
}

(async () => {
  const t0 = process.hrtime.bigint();
  const policy = await compilePolicyPaths([path.join(root, 'rego')], 'mcp/authz/decision', { memoryPages });
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`compiled rego/ (mcp/authz/decision) in ${compileMs.toFixed(0)} ms`);
  console.log(`node ${process.version}, ${seconds}s per input${memoryPages ? `, ${memoryPages} initial memory pages` : ''}`);
  let total = 0;
  let totalNs = 0;
  for (const [label, input] of Object.entries(inputs)) {
    const d = policy.evaluate(input);
    if (!d || typeof d.allow !== 'boolean') throw new Error(`${label}: no decision (${JSON.stringify(d)})`);
    const r = bench((x) => policy.evaluate(x), input);
    total += r.n;
    totalNs += r.n * r.meanUs * 1000;
    const codes = d.allow ? Object.keys(d.obligations).join(',') || '-' : d.reasons.map((x) => x.code).join(',');
    console.log(`${label.padEnd(24)} allow=${String(d.allow).padEnd(5)} ${r.perSec.toFixed(0).padStart(8)} eval/s  mean ${r.meanUs.toFixed(1).padStart(6)} µs  (${codes})`);
  }
  console.log(`overall: ${((total * 1e9) / totalNs).toFixed(0)} eval/s, mean ${(totalNs / total / 1000).toFixed(1)} µs per decision`);
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
