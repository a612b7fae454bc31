/**
 * A reload that fails is visible: /v1/status, /health?bundles&strict, the metrics and the log all say
 * so while the previous bundle keeps serving, and all say so again when a fixed save loads.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileTree } from '../helpers/file-tree';
import { post, startWith } from './helpers';

const policy = (v: number) => `package mcp.authz\nimport rego.v1\n\ndecision := {"allow": true, "reasons": [], "obligations": {"v": ${v}}}\n`;
// line 4 is broken: the error must point there
const typo = 'package mcp.authz\nimport rego.v1\n\ndecision := {"allow": true,, }\n';

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() - t0 > 10_000) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('status, strict health, metrics and log after a broken save and after its fix', async () => {
  const dir = fileTree({ 'policy/scope.rego': policy(1) }, 'pdp-status-');
  const file = path.join(dir, 'policy', 'scope.rego');
  const logs: Array<Record<string, unknown>> = [];
  const pdp = await startWith([path.join(dir, 'policy')], {}, {
    watch: true,
    watchOptions: { debounceMs: 20, checkIntervalMs: 0 },
    log: (level, msg, fields) => logs.push({ level, msg, ...fields }),
  });
  const base = pdp.url();
  const status = async () => (await (await fetch(`${base}/v1/status`)).json()).result.bundles.policy;
  const health = async (q: string) => {
    const r = await fetch(`${base}/health${q}`);
    return { status: r.status, json: await r.json() };
  };
  const metrics = async () => (await fetch(`${base}/metrics`)).text();
  try {
    const first = await status();
    expect(first).toMatchObject({ name: 'policy', consecutive_failures: 0 });
    expect(first.active_revision).toMatch(/^[0-9a-f]{16}$/);
    expect(first.code).toBeUndefined();
    expect(Date.parse(first.last_successful_activation)).toBeGreaterThan(0);
    expect((await health('?bundles&strict')).status).toBe(200);

    fs.writeFileSync(file, typo);
    const broken = await until(status, (s) => s.consecutive_failures === 1);
    expect(broken.consecutive_failures).toBe(1);
    expect(broken.active_revision).toBe(first.active_revision); // keep-last-good
    expect(broken.code).toBe('bundle_error');
    expect(broken.message).toMatch(/scope\.rego:4:\d+/);
    expect(broken.errors[0].location).toMatchObject({ file: expect.stringMatching(/scope\.rego$/), row: 4 });
    expect(broken.last_error.stage).toBe('read');
    expect(Date.parse(broken.last_failed_activation)).toBeGreaterThanOrEqual(Date.parse(first.last_successful_activation));
    expect(broken.last_attempt).toBe(broken.last_failed_activation);
    // the previous policy still answers
    expect((await post(base, '/v1/decide', { tool: { name: 'x' } })).json.obligations.v).toBe(1);
    // OPA's /health?bundles only covers the first activation; strict reports the failing reload
    const plain = await health('?bundles');
    expect(plain.status).toBe(200);
    expect(plain.json.warning).toMatch(/bundle policy: the newest load attempt failed .*scope\.rego:4/);
    const strict = await health('?bundles&strict');
    expect(strict.status).toBe(500);
    expect(strict.json.error).toMatch(/bundle policy: the newest load attempt failed \(1 in a row; serving revision [0-9a-f]+\): .*scope\.rego:4/);
    let m = await metrics();
    expect(m).toMatch(/pdp_bundle_consecutive_failures\{bundle="policy"\} 1\n/);
    expect(m).toMatch(/pdp_bundle_last_failure_timestamp_seconds\{bundle="policy"\} \d+/);
    expect(m).toContain(`pdp_bundle_info{bundle="policy",revision="${first.active_revision}"} 1`);

    fs.writeFileSync(file, policy(2));
    const fixed = await until(status, (s) => s.consecutive_failures === 0);
    expect(fixed.consecutive_failures).toBe(0);
    expect(fixed.active_revision).not.toBe(first.active_revision);
    expect(fixed.code).toBeUndefined();
    expect(fixed.message).toBeUndefined();
    expect(fixed.last_error.message).toMatch(/scope\.rego:4/); // what went wrong last stays visible
    expect(fixed.last_failed_activation).toBe(broken.last_failed_activation);
    expect(Date.parse(fixed.last_successful_activation)).toBeGreaterThanOrEqual(Date.parse(broken.last_failed_activation));
    expect((await health('?bundles&strict')).status).toBe(200);
    expect((await post(base, '/v1/decide', { tool: { name: 'x' } })).json.obligations.v).toBe(2);
    m = await metrics();
    expect(m).toMatch(/pdp_bundle_consecutive_failures\{bundle="policy"\} 0\n/);
    expect(m).toContain(`pdp_bundle_info{bundle="policy",revision="${fixed.active_revision}"} 1`);
    expect(m).not.toContain(`revision="${first.active_revision}"`);
    const fixLog = logs.find((l) => l.msg === 'bundle reload fixed: the source loads again');
    expect(fixLog).toMatchObject({ level: 'info', bundle: 'policy', failed_attempts: 1, revision: fixed.active_revision });
    expect(String(fixLog!.last_error)).toMatch(/scope\.rego:4/);
  } finally {
    await pdp.close();
  }
});

test('reverting a broken save to the active content also clears the failure', async () => {
  const dir = fileTree({ 'policy/scope.rego': policy(1) }, 'pdp-status-');
  const file = path.join(dir, 'policy', 'scope.rego');
  const pdp = await startWith([path.join(dir, 'policy')], {}, { watch: true, watchOptions: { debounceMs: 20, checkIntervalMs: 0 } });
  const status = async () => (await (await fetch(`${pdp.url()}/v1/status`)).json()).result.bundles.policy;
  try {
    fs.writeFileSync(file, typo);
    expect((await until(status, (s) => s.consecutive_failures === 1)).consecutive_failures).toBe(1);
    fs.writeFileSync(file, policy(1));
    expect((await until(status, (s) => s.consecutive_failures === 0)).consecutive_failures).toBe(0);
  } finally {
    await pdp.close();
  }
});
