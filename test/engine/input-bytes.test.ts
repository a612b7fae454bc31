/**
 * WasmPolicy hands the SDK the input as reused, space-padded JSON bytes (perf): every value, of any
 * size, falsy ones included, must reach the policy exactly as before, also after a longer or shorter one.
 */
import { compilePolicyPaths } from '../../src/testing/evaluate';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

test('inputs of every size and falsy inputs evaluate as their JSON values', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inb-'));
  fs.writeFileSync(path.join(dir, 'p.rego'), 'package p\necho := input\n');
  const policy = await compilePolicyPaths([dir], 'p/echo');
  const values: unknown[] = [false, 0, '', null, 'x'.repeat(100), { a: 'é'.repeat(70) }, [1, 2, 3], 'y'.repeat(70_000), true, { b: 1 }];
  for (const v of values) expect(policy.evaluate(v)).toEqual(v);
});
