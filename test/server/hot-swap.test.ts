/**
 * The bar: replace the bundle 100 times while decisions run; no request fails, and every answer
 * comes from exactly one revision (the policy echoes data.rev; it must equal policy.revision).
 */
import * as fs from 'fs';
import * as path from 'path';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import { startWith, post, tmpDir } from './helpers';

test('100 bundle replacements under load: 0 failures, every answer from one revision', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'mcp.tar.gz');
  fs.writeFileSync(file, await decisionBundle('rev-0'));
  const pdp = await startWith([file]);
  const base = pdp.url();
  const revisions = await Promise.all(Array.from({ length: 101 }, (_, i) => decisionBundle(`rev-${i}`)));
  const body = { tool: { name: 'x' } };

  let stop = false;
  const answers: Array<{ status: number; json: any }> = [];
  const MAX_PER_CLIENT = 250; // bounded request count
  const client = async () => {
    for (let i = 0; i < MAX_PER_CLIENT && !stop; i++) answers.push(await post(base, '/v1/decide', body));
  };
  const swapper = async () => {
    for (let i = 1; i <= 100; i++) {
      const tmp = `${file}.${i}.tmp`;
      fs.writeFileSync(tmp, revisions[i]);
      fs.renameSync(tmp, file);
      await pdp.bundles.reload('mcp');
      // let some decisions through between swaps
      await new Promise((r) => setImmediate(r));
    }
    stop = true;
  };
  try {
    await Promise.all([swapper(), client(), client(), client(), client()]);
    expect(answers.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.json.allow).toBe(true);
      expect(a.json.obligations.data.rev).toBe(a.json.policy.revision);
      seen.add(a.json.policy.revision);
    }
    expect(pdp.bundles.current().get('mcp')!.revision).toBe('rev-100');
    const metrics = await pdp.metrics.registry.metrics();
    expect(metrics).toMatch(/pdp_bundle_loads_total\{bundle="mcp",result="success"\} 101/);
    expect(metrics).toMatch(/pdp_bundle_active_revision\{bundle="mcp",revision="rev-100"\} 1/);
    expect(metrics).not.toMatch(/revision="rev-99"/);
  } finally {
    await pdp.close();
  }
});

test('a broken replacement keeps the previous bundle, logs and counts the failure', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'mcp.tar.gz');
  fs.writeFileSync(file, await decisionBundle('good'));
  const logs: any[] = [];
  const pdp = await startWith([file], {}, { log: (level, msg, fields) => logs.push({ level, msg, ...fields }) });
  try {
    fs.writeFileSync(file, Buffer.from('not a bundle'));
    await expect(pdp.bundles.reload('mcp')).rejects.toThrow(/gzip/);
    const r = await post(pdp.url(), '/v1/decide', { tool: { name: 'x' } });
    expect(r.json.policy.revision).toBe('good');
    expect(logs.some((l) => l.level === 'error' && /keeping the previous bundle/.test(l.msg) && l.active_revision === 'good')).toBe(true);
    expect(await pdp.metrics.registry.metrics()).toMatch(/pdp_bundle_loads_total\{bundle="mcp",result="failure"\} 1/);
  } finally {
    await pdp.close();
  }
});

test('the file watcher picks up a replaced bundle', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'mcp.tar.gz');
  fs.writeFileSync(file, await decisionBundle('w1'));
  let resolveActivated: (rev: string) => void;
  const activated = new Promise<string>((r) => (resolveActivated = r));
  const pdp = await startWith([file], {}, {
    watch: true,
    log: (_l, msg, f) => {
      if (msg === 'bundle activated' && f?.revision === 'w2') resolveActivated(f.revision as string);
    },
  });
  try {
    fs.writeFileSync(`${file}.tmp`, await decisionBundle('w2'));
    fs.renameSync(`${file}.tmp`, file);
    expect(await activated).toBe('w2');
    const r = await post(pdp.url(), '/v1/decide', { tool: { name: 'x' } });
    expect(r.json.policy.revision).toBe('w2');
  } finally {
    await pdp.close();
  }
});
