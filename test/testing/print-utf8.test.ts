/**
 * `print` output of `pdp test` is the UTF-8 text, as `opa test` prints it: the SDK's opa_println
 * decodes byte by byte (each byte >= 0x80 became U+FF80..U+FFFF), which WasmPolicy undoes for every
 * printed line (pdp test, pdp eval and the served policy alike).
 */
import * as fs from 'fs';
import { fileTree } from '../helpers/file-tree';
import { runTestsInPaths } from '../../src/testing/runner';
import { sdkPrintLine } from '../../src/engine/policy';

describe('pdp test: print of non-ASCII text', () => {
  let dir: string;
  beforeAll(() => {
    dir = fileTree(
      { 'p_test.rego': 'package p_test\n\ntest_print if {\n\tprint("héllo", "日本語", {"k": "ü"})\n\tfalse\n}\n' },
      'pdp-print-',
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows the printed line as OPA does', async () => {
    const report = await runTestsInPaths([`${dir}/p_test.rego`]);
    expect(report.tests[0].output).toEqual(['héllo 日本語 {"k": "ü"}']);
  });

  it('leaves lines that are not byte-wise SDK output alone', () => {
    expect(sdkPrintLine('plain ascii')).toBe('plain ascii');
    expect(sdkPrintLine('already é')).toBe('already é');
    expect(sdkPrintLine('h\uFFC3\uFFA9llo')).toBe('héllo');
  });
});
