/**
 * OPA's conformance cases, compiled by our compiler and run in the module loaded by
 * @open-policy-agent/opa-wasm: both samples (../shared/opa-conformance and ../shared/opa-conformance-2),
 * each with its own floor file. wrong must be 0; pass must not fall below the recorded floor (which only
 * ever moves up). `_unconfirmed/` folders are not counted (loadCases skips `_` folders).
 */
import * as fs from 'fs';
import * as path from 'path';
import { runConformance, CONFORMANCE_SAMPLES } from '../../src/cli/commands/conformance';

const FLOOR_FILES: Record<string, string> = { 'opa-conformance': 'floor.json', 'opa-conformance-2': 'floor-2.json' };

test.each(CONFORMANCE_SAMPLES)('OPA conformance (%s): no wrong answers, pass count at or above the floor', (sample) => {
  const dir = path.resolve(__dirname, '../../../shared', sample);
  if (!fs.existsSync(dir)) throw new Error(`conformance cases not found at ${dir} (../shared/${sample} is required)`);
  const floor = JSON.parse(fs.readFileSync(path.join(__dirname, FLOOR_FILES[sample]), 'utf8')) as { pass: number };
  const r = runConformance(dir);
  const wrong = r.details.filter((d) => d.outcome.kind === 'wrong').map((d) => `${d.note}: ${(d.outcome as { why: string }).why.slice(0, 300)}`);
  if (process.env.CONFORMANCE_VERBOSE) {
    const byFolder = Object.entries(r.by_folder).map(([f, c]) => `${f}: ${c.pass}/${c.refused}/${c.wrong} of ${c.total}`);
    const refused = r.details.filter((d) => d.outcome.kind === 'refused').map((d) => `${d.note}: ${(d.outcome as { why: string }).why.slice(0, 200)}`);
    console.log(`${byFolder.join('\n')}\nREFUSED\n${refused.join('\n')}\nWRONG\n${wrong.join('\n')}\ntotal ${r.total} pass ${r.pass} refused ${r.refused} wrong ${r.wrong}`);
  }
  expect(wrong).toEqual([]);
  expect(r.pass).toBeGreaterThanOrEqual(floor.pass);
});

test('every sample has a floor file', () => {
  for (const s of CONFORMANCE_SAMPLES) expect(fs.existsSync(path.join(__dirname, FLOOR_FILES[s] ?? '-'))).toBe(true);
});
