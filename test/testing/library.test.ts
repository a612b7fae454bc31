/**
 * `pdp test` on a whole library where parts do not compile: the rest still runs, and what cannot be
 * compiled is reported as errors (counted, exit 1), never silently skipped.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileTree } from '../helpers/file-tree';
import { runFailed, runTestsInPaths } from '../../src/testing/runner';
import { formatJson, formatText } from '../../src/testing/report';
import { run as pdpTest } from '../../src/cli/commands/test';

const LIBRARY: Record<string, string> = {
  'lib/util.rego': 'package lib.util\n\npositive(x) if x > 0\n',
  'lib/util_test.rego': 'package lib.util_test\n\nimport data.lib.util\n\ntest_positive if util.positive(1)\n\ntest_negative_fails if util.positive(-1)\n',
  // a construct our compiler refuses, in a package of its own
  'refused/r.rego': 'package refused\n\np if {\n\tdata.lib.util.positive(1) with data.lib.util as {}\n}\n',
  'refused/r_test.rego': 'package refused_test\n\ntest_p if data.refused.p\n',
  // a package that does not parse, and a test package that needs it
  'broken/b.rego': 'package broken\n\nq if {\n\tinput.x ==\n}\n',
  'broken/b_test.rego': 'package broken_test\n\ntest_q if data.broken.q with input as {"x": 1}\n',
  // a test package that needs nothing broken
  'other/o_test.rego': 'package other_test\n\ntest_one if 1 == 1\n',
};

describe('pdp test on a library with a refused construct', () => {
  let dir: string;
  beforeAll(() => {
    dir = fileTree(LIBRARY, 'pdp-lib-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs what compiles and reports the rest as errors carrying the refusal', async () => {
    const report = await runTestsInPaths([dir]);
    const status = Object.fromEntries(report.tests.map((t) => [t.name, t.status]));
    expect(status).toEqual({
      'data.lib.util_test.test_positive': 'pass',
      'data.lib.util_test.test_negative_fails': 'fail',
      'data.other_test.test_one': 'pass',
      'data.refused_test.test_p': 'error',
      'data.broken_test.test_q': 'error',
    });
    expect([report.passed, report.failed, report.errored]).toEqual([2, 1, 2]);
    const refused = report.tests.find((t) => t.name === 'data.refused_test.test_p');
    expect(refused?.error).toContain(`${path.join(dir, 'refused', 'r.rego')}:4:`);
    expect(refused?.error).toMatch(/r\.rego:4:\d+: unsupported: with /);
    const broken = report.tests.find((t) => t.name === 'data.broken_test.test_q');
    expect(broken?.error).toMatch(new RegExp(`${path.join(dir, 'broken', 'b.rego').replace(/[.\\/]/g, '\\$&')}:5:1: `));
    // the file that does not parse is an error of its own
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toContain('b.rego:5:1');
    expect(runFailed(report)).toBe(true);

    const text = formatText(report);
    expect(text).toMatch(/data\.refused_test\.test_p: ERROR\n/);
    expect(text).toMatch(/PASS: 2\/5 {2}FAIL: 1 {2}ERROR: 2 {2}1 error outside tests/);
    const json = JSON.parse(formatJson(report));
    expect([json.passed, json.failed, json.errored, json.errors.length]).toEqual([2, 1, 2, 1]);
  });

  it('leaves out nothing a test could reach: a package referenced dynamically is needed', async () => {
    const d = fileTree({
      'refused/r.rego': 'package refused\n\np if {\n\ttrue with data as {}\n}\n',
      'dyn_test.rego': 'package dyn_test\n\ntest_dyn if {\n\tsome name\n\tnot data[name].p\n}\n',
    });
    try {
      const report = await runTestsInPaths([d]);
      // data[name] could be data.refused: compiling without it would wrongly pass
      expect(report.tests.map((t) => [t.name, t.status])).toEqual([['data.dyn_test.test_dyn', 'error']]);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('the CLI exits 1 and prints each test', async () => {
    const out: string[] = [];
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    try {
      expect(await pdpTest([dir])).toBe(1);
      expect(out.join('')).toMatch(/data\.other_test\.test_one: PASS/);
      out.length = 0;
      expect(await pdpTest([path.join(dir, 'lib')])).toBe(1); // one test fails there
      expect(await pdpTest([path.join(dir, 'other')])).toBe(0);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  });
});
