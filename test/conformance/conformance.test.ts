/**
 * OPA's conformance cases, compiled by our compiler and run in the module loaded by
 * @open-policy-agent/opa-wasm. wrong must be 0; pass must not fall below the recorded floor
 * (test/conformance/floor.json, which only ever moves up).
 */
import * as fs from 'fs';
import * as path from 'path';
import { runConformance } from '../../src/cli/commands/conformance';

const DIR = path.resolve(__dirname, '../../../shared/opa-conformance');
const FLOOR = JSON.parse(fs.readFileSync(path.join(__dirname, 'floor.json'), 'utf8')) as { pass: number };

test('OPA conformance: no wrong answers, pass count at or above the floor', () => {
  if (!fs.existsSync(DIR)) throw new Error(`conformance cases not found at ${DIR} (../shared/opa-conformance is required)`);
  const r = runConformance(DIR);
  const wrong = r.details.filter((d) => d.outcome.kind === 'wrong').map((d) => `${d.note}: ${(d.outcome as { why: string }).why.slice(0, 300)}`);
  if (process.env.CONFORMANCE_VERBOSE) {
    const byFolder = Object.entries(r.by_folder).map(([f, c]) => `${f}: ${c.pass}/${c.refused}/${c.wrong} of ${c.total}`);
    const refused = r.details.filter((d) => d.outcome.kind === 'refused').map((d) => `${d.note}: ${(d.outcome as { why: string }).why.slice(0, 200)}`);
    console.log(`${byFolder.join('\n')}\nREFUSED\n${refused.join('\n')}\nWRONG\n${wrong.join('\n')}\ntotal ${r.total} pass ${r.pass} refused ${r.refused} wrong ${r.wrong}`);
  }
  expect(wrong).toEqual([]);
  expect(r.pass).toBeGreaterThanOrEqual(FLOOR.pass);
});
