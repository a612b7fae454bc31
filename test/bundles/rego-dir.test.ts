/**
 * A directory of .rego files served as a bundle is compiled in-process; its tests (`*_test.rego`) are
 * for `pdp test` and never part of the served policy.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileRegoDir } from '../../src/bundles/sources';

test('compileRegoDir leaves *_test.rego files out of the served policy', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-regodir-'));
  fs.writeFileSync(path.join(dir, 'p.rego'), 'package p\n\nallow if input.ok == true\n');
  // a test module the served policy must not contain (and which would not even compile: unknown function)
  fs.writeFileSync(path.join(dir, 'p_test.rego'), 'package p_test\n\ntest_x if no_such_function(1)\n');
  const members = await compileRegoDir(dir, ['p/allow']);
  const manifest = JSON.parse(members.get('/.manifest')!.toString('utf8'));
  expect(manifest.wasm).toEqual([{ entrypoint: 'p/allow', module: '/policy.wasm' }]);
  expect(members.get('/policy.wasm')!.length).toBeGreaterThan(0);
});
