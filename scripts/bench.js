#!/usr/bin/env node
'use strict';
/**
 * `npm run bench [-- --json] [--duration S] [--connections N] [--express]`
 *
 * A benchmark, not a test. In one run it starts (1) the PDP on the default policy (`pdp start`, one
 * worker, decision log written to /dev/null so its cost is paid) and (2) a bare node:http server that
 * reads and parses the same JSON body and answers a constant; it drives each with autocannon over
 * loopback at the same concurrency and prints decisions/s, p50/p99 for both and their ratio.
 * `--json` prints the numbers as one JSON object, last. `--express` routes the PDP's decision
 * endpoints through express instead of the lean path, to measure what the framework costs.
 */
const { spawn } = require('child_process');
const http = require('http');
const path = require('path');
const net = require('net');
const autocannon = require('autocannon');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : dflt;
};
const JSON_OUT = args.includes('--json');
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
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400); res.end(); return; }
    if (!body || !body.tool) { res.writeHead(400); res.end(); return; }
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

async function main() {
  const pdpPort = await freePort();
  const barePort = await freePort();
  const env = { ...process.env, PDP_PORT: String(pdpPort), PDP_ADDR: '127.0.0.1', PDP_WORKERS: '1', PDP_DECISION_LOG: '/dev/null' };
  if (EXPRESS) env.PDP_LEAN = '0';
  delete env.PDP_CONFIG;
  const pdp = spawn(process.execPath, [path.join(root, 'bin', 'pdp.js'), 'start'], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let pdpErr = '';
  pdp.stderr.on('data', (c) => (pdpErr += c));
  const bare = spawn(process.execPath, ['-e', BARE_SERVER], { env: { ...process.env, PORT: String(barePort) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const children = [pdp, bare];
  const cleanup = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  process.on('exit', cleanup);
  try {
    try {
      await waitFor(`http://127.0.0.1:${pdpPort}/ready`, pdp, 'pdp');
    } catch (err) {
      log(pdpErr);
      throw err;
    }
    const pdpUrl = `http://127.0.0.1:${pdpPort}/v1/decide`;
    const bareUrl = `http://127.0.0.1:${barePort}/`;
    const sample = await check(pdpUrl);
    if (sample.status !== 200) throw new Error(`the PDP answered ${sample.status}: ${sample.text}`);
    log(`PDP sample answer: allow=${JSON.parse(sample.text).allow} (${JSON.parse(sample.text).reasons.length} reasons)`);
    await waitFor(`http://127.0.0.1:${barePort}/`, bare, 'bare').catch(() => undefined);
    log(`driving each server for ${DURATION}s at ${CONNECTIONS} connections (PDP decision path: ${EXPRESS ? 'express' : 'lean'})`);
    // short warm-up of both (JIT, wasm tiering), then the measured runs
    const saved = { d: DURATION };
    await Promise.all([]);
    await new Promise((resolve, reject) => autocannon({ url: pdpUrl, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections: CONNECTIONS, duration: 2 }, (e) => (e ? reject(e) : resolve())));
    await new Promise((resolve, reject) => autocannon({ url: bareUrl, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections: CONNECTIONS, duration: 2 }, (e) => (e ? reject(e) : resolve())));
    void saved;
    const bareR = summarise(await drive(bareUrl));
    const pdpR = summarise(await drive(pdpUrl));
    const ratio = Math.round((pdpR.requests_per_sec / bareR.requests_per_sec) * 1000) / 1000;
    const out = { connections: CONNECTIONS, duration_s: DURATION, path: EXPRESS ? 'express' : 'lean', pdp: pdpR, bare: bareR, ratio };
    const line = (name, r) => `${name.padEnd(6)} ${String(r.requests_per_sec).padStart(8)} decisions/s   p50 ${r.p50_ms} ms   p99 ${r.p99_ms} ms   (${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;
    process.stdout.write(`${line('pdp', pdpR)}\n${line('bare', bareR)}\nratio pdp/bare = ${ratio}\n`);
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
