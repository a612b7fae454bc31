import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseBody, parseModule, parseTerm } from '../../src/compiler/parser';
import { RegoErrors } from '../../src/compiler/errors';
import { run as check } from '../../src/cli/commands/check';
import { loadConformanceCases } from './corpus';

const cases = loadConformanceCases();
const describeErr = (e: unknown): string => (e instanceof RegoErrors ? e.message : String(e));

describe('OPA conformance corpus', () => {
  test('the corpus is there (a missing corpus must not pass silently)', () => {
    expect(cases.length).toBeGreaterThanOrEqual(735);
    expect(cases.reduce((n, c) => n + c.modules.length, 0)).toBeGreaterThanOrEqual(939);
  });

  test('every module parses', () => {
    const failures: string[] = [];
    cases.forEach((c) =>
      c.modules.forEach((m, i) => {
        try {
          const mod = parseModule(m, `${c.note}#${i}`);
          expect(mod.package.path.length).toBeGreaterThan(0);
        } catch (e) {
          failures.push(`${c.note}: ${describeErr(e)}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  });

  test('every query parses as a body and every input_term as a term', () => {
    const failures: string[] = [];
    let queries = 0;
    let terms = 0;
    for (const c of cases) {
      if (c.query !== undefined) {
        queries++;
        try {
          expect(parseBody(c.query, 'query').length).toBeGreaterThan(0);
        } catch (e) {
          failures.push(`${c.note} query: ${describeErr(e)}`);
        }
      }
      if (c.input_term !== undefined) {
        terms++;
        try {
          parseTerm(c.input_term, 'input_term');
        } catch (e) {
          failures.push(`${c.note} input_term: ${describeErr(e)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(queries).toBe(cases.length);
    expect(terms).toBeGreaterThan(0);
  });

  test('pdp check --parse-only accepts every module, written out as .rego files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-conf-'));
    try {
      let n = 0;
      for (const c of cases) for (const m of c.modules) fs.writeFileSync(path.join(dir, `m${n++}.rego`), m);
      const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      let code: number;
      let printed: string;
      try {
        code = await check(['--parse-only', dir]);
        printed = spy.mock.calls.map((a) => String(a[0])).join('');
      } finally {
        spy.mockRestore();
      }
      expect(printed).toBe('');
      expect(code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
