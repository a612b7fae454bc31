/**
 * Tests with sub-results (`test_x[case] if { … }`, OPA 1.x): each case is checked, also one whose body
 * fails after the case is reached (it produces no key, and OPA still fails the test).
 */
import * as fs from 'fs';
import { fileTree } from '../helpers/file-tree';
import { runTestsInPaths } from '../../src/testing/runner';

const V1 = `package s_test

test_rest[of] if {
	some [of, want] in {[[1, 2, 3], [2, 3]], [[1], []]}
	array.slice(of, 1, count(of)) == want
}

test_one_case_fails[of] if {
	some [of, want] in {[[1, 2, 3], [2, 3]], [[1], [9]]}
	array.slice(of, 1, count(of)) == want
}

test_named[sprintf("%v+%v", [a, b])] if {
	some [a, b, sum] in [[1, 2, 3], [2, 2, 4]]
	a + b == sum
}

test_named_fails[sprintf("%v+%v", [a, b])] if {
	some [a, b, sum] in [[1, 2, 3], [2, 2, 5]]
	a + b == sum
}

test_value_not_true[x] := 5 if {
	some x in ["a"]
}

test_no_cases[x] if {
	some x in []
	x == 1
}

test_set contains 1 if true
`;

describe('pdp test: tests with sub-results', () => {
  let dir: string;
  beforeAll(() => {
    dir = fileTree({ 's_test.rego': V1, 'v0/p_test.rego': 'package v0s_test\n\ntest_set[x] {\n\tx := 1\n}\n' }, 'pdp-sub-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fails a test when one case fails, passes it when all do, as opa test', async () => {
    const report = await runTestsInPaths([`${dir}/s_test.rego`]);
    const status = Object.fromEntries(report.tests.map((t) => [t.name, t.status]));
    expect(status).toEqual({
      'data.s_test.test_rest': 'pass',
      'data.s_test.test_one_case_fails': 'fail',
      'data.s_test.test_named': 'pass',
      'data.s_test.test_named_fails': 'fail',
      'data.s_test.test_value_not_true': 'fail',
      'data.s_test.test_no_cases': 'pass', // OPA: an empty object of cases has no failed case
      'data.s_test.test_set': 'fail', // a set is not true
    });
    const failed = Object.fromEntries(report.tests.map((t) => [t.name, t.error]));
    expect(failed['data.s_test.test_one_case_fails']).toBe('case [1] failed');
    expect(failed['data.s_test.test_named_fails']).toBe('case "2+2" failed');
  });

  it('a v0 partial set named test_* runs, and fails (its value is a set)', async () => {
    const report = await runTestsInPaths([`${dir}/v0`], { v0Compatible: true });
    expect(report.tests.map((t) => [t.name, t.status])).toEqual([['data.v0s_test.test_set', 'fail']]);
  });
});
