/**
 * Several definitions of one test rule are several tests, as `opa test` runs them (its runner renames
 * the later ones test_x#01, test_x#02, …): a failing definition must not hide behind a passing one.
 */
import * as fs from 'fs';
import { fileTree } from '../helpers/file-tree';
import { runTestsInPaths } from '../../src/testing/runner';
import { displayTestName } from '../../src/testing/duplicates';

describe('pdp test: duplicate test names', () => {
  let dir: string;
  beforeAll(() => {
    dir = fileTree(
      {
        'p/a_test.rego': 'package p_test\n\ntest_x if true\n\ntest_x if false\n\ntest_y if true\n',
        'p/b_test.rego': 'package p_test\n\ntest_x if 1 == 1\n',
      },
      'pdp-dup-',
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs each definition on its own, named as OPA names them', async () => {
    const report = await runTestsInPaths([dir]);
    const status = Object.fromEntries(report.tests.map((t) => [t.name, t.status]));
    expect(status).toEqual({
      'data.p_test.test_x': 'pass',
      'data.p_test.test_x#01': 'fail',
      'data.p_test.test_y': 'pass',
      'data.p_test.test_x#02': 'pass', // the count is per package, across files
    });
    expect([report.passed, report.failed, report.errored]).toEqual([3, 1, 0]);
  });

  it('also in Rego v0, where gatekeeper-library repeats test names', async () => {
    const v0 = fileTree({ 'c_test.rego': 'package v0_test\n\ntest_z {\n\ttrue\n}\n\ntest_z {\n\tfalse\n}\n' }, 'pdp-dup0-');
    try {
      const report = await runTestsInPaths([v0], { v0Compatible: true });
      expect(report.tests.map((t) => [t.name, t.status])).toEqual([
        ['data.v0_test.test_z', 'pass'],
        ['data.v0_test.test_z#01', 'fail'],
      ]);
    } finally {
      fs.rmSync(v0, { recursive: true, force: true });
    }
  });

  it('--run matches the #NN name', async () => {
    const report = await runTestsInPaths([dir], { run: /test_x#01$/ });
    expect(report.tests.map((t) => [t.name, t.status])).toEqual([['data.p_test.test_x#01', 'fail']]);
  });

  it('shows other names unchanged', () => {
    expect(displayTestName('test_x__pdp_dup_03')).toBe('test_x#03');
    expect(displayTestName('test_dup_03')).toBe('test_dup_03');
  });
});

describe('pdp test: which files hold tests', () => {
  it('runs the test_* rules of any .rego file, as opa test does (the _test suffix is a convention)', async () => {
    const dir = fileTree({ 'p.rego': 'package p\n\nallow if input.x == 1\n\ntest_allow if allow with input as {"x": 1}\n' }, 'pdp-anyfile-');
    try {
      const report = await runTestsInPaths([dir]);
      expect(report.tests.map((t) => [t.name, t.status])).toEqual([['data.p.test_allow', 'pass']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pdp test: a test file that does not parse', () => {
  it('still counts its tests, each an error carrying why (they are not silently dropped)', async () => {
    const dir = fileTree(
      { 'p_test.rego': 'package p_test\n\ntest_a if {\n\t1 ==\n}\n\ntest_b if true\n\ntest_b if false\n' },
      'pdp-unparsed-',
    );
    try {
      const report = await runTestsInPaths([dir]);
      expect(report.tests.map((t) => [t.name, t.status, t.line])).toEqual([
        ['data.p_test.test_a', 'error', 3],
        ['data.p_test.test_b', 'error', 7],
        ['data.p_test.test_b#01', 'error', 9],
      ]);
      expect(report.tests[0].error).toMatch(/^cannot compile: this file does not parse\n.*p_test\.rego:5:1/);
      expect([report.passed, report.errored, report.errors.length]).toEqual([0, 3, 1]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
