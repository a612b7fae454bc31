#!/usr/bin/env node
'use strict';
/**
 * `npm run bench [-- --json] [--duration S] [--connections N] [--express] [--calibrate]
 *                [--policy DIR --entrypoint EP]`
 *
 * A benchmark, not a test. In one run it starts (1) the PDP on the default policy (`pdp start`, one
 * worker, decision log written to /dev/null so its cost is paid), (2) the same PDP on a one-rule policy
 * that answers a constant — the service's own cost per decision, without a policy worth the name — and
 * (3) a bare node:http server that reads and parses the same JSON body and answers a constant; it
 * drives each in turn with autocannon over loopback at the same concurrency and prints decisions/s,
 * p50/p99, the CPU time each server process spent per request, and the ratios to the bare server. `--json` prints the numbers as one JSON object, last.
 * `--express` routes the PDP's decision endpoints through express instead of the lean path, to
 * measure what the framework costs. `--policy` benches a policy directory of your own instead of the
 * default. `--calibrate` adds the bare server kept busy 10/20/40 µs per request: how far the ratio
 * falls on this machine for a given amount of work per request.
 */
const { spawn } = require('child_process');
const http = require('http');
const path = require('path');
const fs = require('fs');
const os = require('os');
const net = require('net');
const autocannon = require('autocannon');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const strOpt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const opt = (name, dflt) => (strOpt(name) ? Number(strOpt(name)) : dflt);
const JSON_OUT = args.includes('--json');
const CALIBRATE = args.includes('--calibrate');
const POLICY = strOpt('--policy');
const ENTRYPOINT = strOpt('--entrypoint') ?? 'mcp/authz/decision';
const EXPRESS = args.includes('--express');
const DURATION = opt('--duration', 10);
const CONNECTIONS = opt('--connections', 32);
const log = (...a) => process.stderr.write(a.join(' ') + '\n');

// DESIGN.md §3's example request; its task expiry is moved far ahead so the decision (and so the
// measurement) does not change when the example's date passes.
const BODY = JSON.stringify({
  user: { id: 'u-42', attributes: { department: 'support' } },
  agent: { id: 'support-bot', attributes: {} },
  tool: { server: 'billing', name: 'refunds.create', method: 'tools/call', annotations: { readOnlyHint: false, destructiveHint: true } },
  parameters: { customer_id: 'c-9', amount: 120, currency: 'EUR' },
  task: { id: 't-7', scope: { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 200 }, expires_at: '2099-12-31T23:59:59Z' } },
  context: { request_id: 'r-1', ip: '10.0.0.7' },
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const BARE_SERVER = `
const http = require('http');
const answer = JSON.stringify({ decision_id: '00000000-0000-0000-0000-000000000000', allow: true, reasons: [], obligations: {} });
// --calibrate: the same server kept busy for SPIN_US µs per request, to show how the ratio falls
// with per-request work on the machine at hand
const spinNs = BigInt(Math.round(Number(process.env.SPIN_US || 0) * 1000));
http.createServer((req, res) => {
  // the CPU time this process has used, so the bench can report CPU per request
  if (req.method === 'GET' && req.url === '/cpu') { const u = process.cpuUsage(); res.end(JSON.stringify({ seconds: (u.user + u.system) / 1e6 })); return; }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400); res.end(); return; }
    if (!body || !body.tool) { res.writeHead(400); res.end(); return; }
    if (spinNs > 0n) { const until = process.hrtime.bigint() + spinNs; while (process.hrtime.bigint() < until); }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

async function waitFor(url, child, label) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      http.get(url, (res) => { res.resume(); resolve(res.statusCode === 200); }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${label} did not become ready`);
}

function check(url) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

function drive(url) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections: CONNECTIONS, duration: DURATION },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
}

function getText(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

/** CPU seconds a server process has used: the PDP's from its /metrics, the bare server's from /cpu. */
async function cpuSeconds(target) {
  if (target.kind === 'bare') return JSON.parse(await getText(`${target.base}/cpu`)).seconds;
  const m = /^process_cpu_seconds_total (\S+)$/m.exec(await getText(`${target.base}/metrics`));
  if (!m) throw new Error('the PDP\'s /metrics has no process_cpu_seconds_total');
  return Number(m[1]);
}

/** Drive a target and summarise, with the CPU time its process spent per request meanwhile. */
async function measure(target) {
  const before = await cpuSeconds(target);
  const r = await drive(target.url);
  const after = await cpuSeconds(target);
  return { ...summarise(r), cpu_us_per_request: r.requests.total ? Math.round(((after - before) / r.requests.total) * 1e7) / 10 : null };
}

function summarise(r) {
  return {
    requests_per_sec: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/** A policy whose decision is a constant: serving it measures the PDP's own cost per decision. */
const ONE_RULE_POLICY = `package bench
import rego.v1

decision := {"allow": true, "reasons": [], "obligations": {}}
`;

function warm(url) {
  return new Promise((resolve, reject) =>
    autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections: CONNECTIONS, duration: 2 }, (e) => (e ? reject(e) : resolve())),
  );
}

async function main() {
  const children = [];
  const cleanup = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  process.on('exit', cleanup);

  /** Start one PDP (one worker, decision log paid and thrown away) with `pdp <args>`; resolves with its /v1/decide URL. */
  async function startPdp(label, args) {
    const port = await freePort();
    const env = { ...process.env, PDP_PORT: String(port), PDP_ADDR: '127.0.0.1', PDP_WORKERS: '1', PDP_DECISION_LOG: '/dev/null' };
    if (EXPRESS) env.PDP_LEAN = '0';
    delete env.PDP_CONFIG;
    const child = spawn(process.execPath, [path.join(root, 'bin', 'pdp.js'), ...args, ...(args[0] === 'serve' ? ['--port', String(port)] : [])], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    try {
      await waitFor(`http://127.0.0.1:${port}/ready`, child, label);
    } catch (e) {
      log(err);
      throw e;
    }
    const base = `http://127.0.0.1:${port}`;
    const url = `${base}/v1/decide`;
    const sample = await check(url);
    if (sample.status !== 200) throw new Error(`${label} answered ${sample.status}: ${sample.text}`);
    const a = JSON.parse(sample.text);
    log(`${label} sample answer: allow=${a.allow} (${a.reasons.length} reasons, ${sample.text.length} bytes)`);
    return { kind: 'pdp', base, url };
  }

  /** The bare node:http server, optionally busy for `spinUs` µs per request (--calibrate). */
  async function startBare(spinUs = 0) {
    const port = await freePort();
    const child = spawn(process.execPath, ['-e', BARE_SERVER], { env: { ...process.env, PORT: String(port), SPIN_US: String(spinUs) }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/cpu`, child, 'bare');
    return { kind: 'bare', base, url: `${base}/` };
  }

  try {
    const bare = await startBare();
    const pdp = await startPdp('pdp', POLICY ? ['serve', '--bundle', POLICY, '--decision-entrypoint', ENTRYPOINT] : ['start']);
    // the service's own cost: the same server on a policy that answers a constant
    const oneRuleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-bench-'));
    fs.writeFileSync(path.join(oneRuleDir, 'bench.rego'), ONE_RULE_POLICY);
    process.on('exit', () => fs.rmSync(oneRuleDir, { recursive: true, force: true }));
    const oneRule = await startPdp('one-rule', ['serve', '--bundle', oneRuleDir, '--decision-entrypoint', 'bench/decision']);
    const calibration = CALIBRATE ? await Promise.all([10, 20, 40].map(async (us) => ({ us, target: await startBare(us) }))) : [];

    log(`driving each server for ${DURATION}s at ${CONNECTIONS} connections (PDP decision path: ${EXPRESS ? 'express' : 'lean'})`);
    // short warm-up of each (JIT, wasm tiering), then the measured runs, one at a time
    for (const t of [pdp, oneRule, bare, ...calibration.map((c) => c.target)]) await warm(t.url);
    const bareR = await measure(bare);
    const pdpR = await measure(pdp);
    const oneRuleR = await measure(oneRule);
    const calibrated = [];
    for (const c of calibration) calibrated.push({ busy_us: c.us, ...(await measure(c.target)) });

    const ratioOf = (r) => Math.round((r.requests_per_sec / bareR.requests_per_sec) * 1000) / 1000;
    const ratio = ratioOf(pdpR);
    const out = {
      connections: CONNECTIONS,
      duration_s: DURATION,
      path: EXPRESS ? 'express' : 'lean',
      policy: POLICY ? { dir: POLICY, entrypoint: ENTRYPOINT } : 'default (rego/)',
      pdp: pdpR,
      bare: bareR,
      ratio,
      one_rule: { ...oneRuleR, ratio: ratioOf(oneRuleR) },
      ...(CALIBRATE ? { calibration: calibrated.map((c) => ({ ...c, ratio: ratioOf(c) })) } : {}),
    };
    const line = (name, r) =>
      `${name.padEnd(14)} ${String(r.requests_per_sec).padStart(8)} decisions/s   p50 ${r.p50_ms} ms   p99 ${r.p99_ms} ms   ${String(r.cpu_us_per_request).padStart(5)} µs CPU/request   (${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;
    let text = `${line('pdp', pdpR)}\n${line('pdp one-rule', oneRuleR)}\n${line('bare', bareR)}\n`;
    for (const c of calibrated) text += `${line(`bare +${c.busy_us}µs`, c)}   ratio ${ratioOf(c)}\n`;
    text += `ratio pdp/bare = ${ratio}   (one-rule policy: ${ratioOf(oneRuleR)})\n`;
    process.stdout.write(text);
    if (JSON_OUT) process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  } finally {
    cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`bench: ${err.message}`);
    process.exit(1);
  },
);
