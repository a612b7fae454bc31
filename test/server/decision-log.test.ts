/**
 * The decision log through the server: masking by configured pointers and by the bundle's
 * `system/log/mask` entrypoint, fail-safe when the mask policy fails, and the bounded queue
 * (dropped events counted in pdp_decision_log_dropped_total).
 */
import * as fs from 'fs';
import * as path from 'path';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import type { PdpServer } from '../../src/server/server';
import type { PdpConfig } from '../../src/server/types';
import { defaultConfig } from '../../src/server/config';
import { startWith, post, tmpDir } from './helpers';

let dir: string;
beforeAll(() => {
  dir = tmpDir();
});

async function start(bundle: Buffer, logs: Partial<PdpConfig['decision_logs']>): Promise<{ pdp: PdpServer; logFile: string }> {
  const name = `b${Math.random().toString(36).slice(2)}`;
  const file = path.join(dir, `${name}.tar.gz`);
  fs.writeFileSync(file, bundle);
  const logFile = path.join(dir, `${name}.jsonl`);
  const pdp = await startWith([file], { decision_logs: { ...defaultConfig().decision_logs, output: logFile, ...logs } });
  return { pdp, logFile };
}

const readLog = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

const body = {
  user: { id: 'u-1' },
  tool: { server: 'billing', name: 'refunds.create' },
  parameters: { card_number: '4111111111111111', secret: 's3cr3t', amount: 5 },
};

test('configured pointers and the bundle mask policy are both applied', async () => {
  const { pdp, logFile } = await start(
    await decisionBundle('r1', {
      'system/log/mask': ['[{"result":["/input/parameters/secret",{"op":"upsert","path":"/input/user/id","value":"***"},"/input/absent"]}]'],
    }),
    { mask: ['/input/parameters/card_number', '/result/obligations'] },
  );
  const r = await post(pdp.url(), '/v1/decide', body, { 'x-request-id': 'm1' });
  expect(r.json.allow).toBe(true);
  // the answer itself is not masked
  expect(r.json.obligations).toEqual({ data: { rev: 'r1' } });
  await pdp.close();
  const [ev] = readLog(logFile);
  expect(ev.request_id).toBe('m1');
  expect(ev.input.parameters).toEqual({ amount: 5 });
  expect(ev.input.user.id).toBe('***');
  expect(ev.result).toEqual({ allow: true, reasons: [] });
  expect(ev.erased).toEqual(['/input/parameters/card_number', '/result/obligations', '/input/parameters/secret']);
  expect(ev.masked).toEqual(['/input/user/id']);
  expect(JSON.stringify(ev)).not.toMatch(/4111|s3cr3t/);
});

test('a failing mask policy drops input and result instead of logging them unmasked', async () => {
  const { pdp, logFile } = await start(await decisionBundle('r1', { 'system/log/mask': [{ abort: 'mask policy blew up' }] }), {});
  expect((await post(pdp.url(), '/v1/decide', body)).json.allow).toBe(true);
  await pdp.close();
  const [ev] = readLog(logFile);
  expect(ev.input).toBeUndefined();
  expect(ev.result).toBeUndefined();
  expect(ev.erased).toEqual(['/input', '/result']);
  expect(ev.decision_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(JSON.stringify(ev)).not.toMatch(/4111|s3cr3t/);
});

test('beyond buffer_size_limit_events, events are dropped and counted; answers are unaffected', async () => {
  const { pdp, logFile } = await start(await decisionBundle('r1'), { buffer_size_limit_events: 2 });
  // one batch queues its five events before the logger gets a turn to write
  const items = Array.from({ length: 5 }, (_, i) => ({ tool: { name: `t${i}` } }));
  const r = await post(pdp.url(), '/v1/decide/batch', { items });
  expect(r.json.results.map((x: any) => x.allow)).toEqual([true, true, true, true, true]);
  const metrics = await (await fetch(`${pdp.url()}/metrics`)).text();
  expect(metrics).toMatch(/^pdp_decision_log_dropped_total 3$/m);
  expect(pdp.logger.dropped).toBe(3);
  await pdp.close();
  const lines = readLog(logFile);
  expect(lines).toHaveLength(2);
  expect(lines.map((l) => l.input.tool.name)).toEqual(['t0', 't1']);
});
