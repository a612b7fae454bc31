/**
 * The decision path serialises each piece once and splices the text (perf): the answer and the log
 * line must be exactly what JSON.stringify of the same objects gives.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import { defaultConfig } from '../../src/server/config';
import { serializeEvent, type DecisionEvent } from '../../src/server/decision-log';
import { startWith, post, tmpDir } from './helpers';

test('serializeEvent is JSON.stringify with the pre-serialised fields spliced in', () => {
  const ev: DecisionEvent = {
    decision_id: 'd"1',
    timestamp: '2026-01-01T00:00:00.000Z',
    path: 'a/b',
    input: { x: [1, 'two', null], 'k"ey': { n: 1.5 } },
    result: undefined,
    mapped_result: { allow: false, reasons: [{ code: 'c', message: 'm\n' }], obligations: {} },
    bundles: { b: { revision: 'r' } },
    caller: undefined,
    request_id: 'r-1',
    api_path: '/v1/decide',
    metrics: {},
  };
  const pre = { input: JSON.stringify(ev.input), mapped_result: JSON.stringify(ev.mapped_result) };
  expect(serializeEvent(ev, pre)).toBe(JSON.stringify(ev));
  const withResult = { ...ev, result: { allow: true, n: [1] }, mapped_result: undefined };
  expect(serializeEvent(withResult, { result: JSON.stringify(withResult.result) })).toBe(JSON.stringify(withResult));
  expect(serializeEvent(ev, {})).toBe(JSON.stringify(ev));
  expect(serializeEvent({ ...ev, input: undefined }, {})).toBe(JSON.stringify({ ...ev, input: undefined }));
});

/** A PDP on the decision fixture (revision `rev`) whose decision log goes to a fresh file. */
async function loggingPdp(rev: string) {
  const dir = tmpDir();
  const file = path.join(dir, 'b.tar.gz');
  fs.writeFileSync(file, await decisionBundle(rev));
  const logFile = path.join(dir, 'log.jsonl');
  const pdp = await startWith([file], { decision_logs: { ...defaultConfig().decision_logs, output: logFile } });
  return { pdp, logFile };
}

test('the answer and the unmasked log line carry exactly the decision as objects serialise it', async () => {
  const { pdp, logFile } = await loggingPdp('r7');
  const body = { user: { id: 'u-1' }, tool: { server: 's', name: 't' }, parameters: { 'q"uote': 'é\u2028', n: 3 } };
  const r = await post(pdp.url(), '/v1/decide', body);
  expect(r.status).toBe(200);
  // the text is the serialisation of the parsed object (same keys, same order)
  expect(r.text).toBe(JSON.stringify(r.json));
  expect(Object.keys(r.json)).toEqual(['decision_id', 'allow', 'reasons', 'obligations', 'policy']);
  expect(r.json.policy).toEqual({ bundle: expect.any(String), revision: 'r7', entrypoint: expect.any(String) });
  const batch = await post(pdp.url(), '/v1/decide/batch', { items: [body, body] });
  expect(batch.text).toBe(JSON.stringify(batch.json));
  expect(batch.json.results).toHaveLength(2);
  await pdp.close();
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(3);
  const ev = JSON.parse(lines[0]);
  expect(lines[0]).toBe(JSON.stringify(ev));
  expect(ev.decision_id).toBe(r.json.decision_id);
  expect(ev.input.parameters).toEqual(body.parameters);
  // the policy answered {allow, reasons, obligations} as is: `result` is that value (its own key
  // order) and there is no separate mapped_result
  expect(ev.result).toEqual({ allow: r.json.allow, reasons: r.json.reasons, obligations: r.json.obligations });
  expect(Object.keys(ev.result)).toEqual(['allow', 'reasons', 'obligations']);
  expect(ev).not.toHaveProperty('mapped_result');
  expect(Object.keys(ev).slice(0, 6)).toEqual(['decision_id', 'timestamp', 'path', 'input', 'result', 'bundles']);
});

test('a policy value the mapping changes is logged as it was, with the mapped decision beside it', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'b.tar.gz');
  fs.writeFileSync(
    file,
    await decisionBundle('r8', {
      // a bare boolean, and an object whose reasons are bare strings and whose allow is missing
      'mcp/authz/bare': ['[{"result":false}]'],
      'mcp/authz/loose': ['[{"result":{"reasons":["a.b"],"obligations":{},"extra":1}}]'],
    }),
  );
  for (const [entrypoint, result, mapped] of [
    ['mcp/authz/bare', false, { allow: false, reasons: [{ code: 'policy.denied', message: 'mcp/authz/bare is false' }], obligations: {} }],
    [
      'mcp/authz/loose',
      { reasons: ['a.b'], obligations: {}, extra: 1 },
      { allow: false, reasons: [{ code: 'a.b' }, { code: 'policy.allow_undefined', message: 'mcp/authz/loose.allow is undefined' }], obligations: {} },
    ],
  ] as const) {
    const logFile = path.join(dir, `${entrypoint.split('/').pop()}.jsonl`);
    const pdp = await startWith([file], { decision_entrypoint: entrypoint, decision_logs: { ...defaultConfig().decision_logs, output: logFile } });
    const r = await post(pdp.url(), '/v1/decide', { user: { id: 'u-1' }, tool: { server: 's', name: 't' } });
    expect(r.json.allow).toBe(false);
    await pdp.close();
    const line = fs.readFileSync(logFile, 'utf8').trim();
    const ev = JSON.parse(line);
    expect(line).toBe(JSON.stringify(ev));
    expect(ev.result).toEqual(result);
    expect(ev.mapped_result).toEqual(mapped);
    expect({ allow: r.json.allow, reasons: r.json.reasons, obligations: r.json.obligations }).toEqual(mapped);
  }
});

test('a Data API log line carries the input serialised once, exactly as JSON.stringify writes it', async () => {
  const { pdp, logFile } = await loggingPdp('r9');
  const input = { 'q"uote': 'é\u2028', n: [1, 2.5, null], nested: { a: {} } };
  const r = await post(pdp.url(), '/v1/data/mcp/authz/echo', { input });
  expect(r.status).toBe(200);
  expect(r.json.result.input).toEqual(input);
  const none = await post(pdp.url(), '/v1/data/mcp/authz/echo', {});
  expect(none.status).toBe(200);
  await pdp.close();
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(2);
  const [withInput, without] = lines.map((l) => JSON.parse(l));
  expect(lines[0]).toBe(JSON.stringify(withInput));
  expect(withInput.input).toEqual(input);
  expect(withInput.bundles).toEqual({ [Object.keys(withInput.bundles)[0]]: { revision: 'r9' } });
  expect(lines[1]).toBe(JSON.stringify(without));
  expect(without).not.toHaveProperty('input');
});
