/**
 * `pdp test` (and `pdp eval -d`) read the paths they are given as OPA's loader does for `opa test`: every
 * .json / .yaml / .yml file is data at its directory's path, whatever its name. A served directory keeps
 * the bundle rule (only data.json / data.yaml), tested in test/bundles/rego-dir.test.ts.
 */
import * as fs from 'fs';
import { fileTree } from '../helpers/file-tree';
import { runTestsInPaths } from '../../src/testing/runner';
import { loadPolicyDir } from '../../src/compiler/load';

const TREE: Record<string, string> = {
  'values.json': '{"limits": {"max": 3}}',
  'sub/more.yaml': 'extra: "yes"\n',
  'p_test.rego': 'package repro\n\ntest_root_json_any_name if data.limits.max == 3\n\ntest_sub_yaml_any_name if data.sub.extra == "yes"\n',
};

describe('data files of any name, as opa test loads them', () => {
  let dir: string;
  beforeAll(() => {
    dir = fileTree(TREE, 'pdp-datafiles-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('pdp test reads values.json and sub/more.yaml at their directories', async () => {
    const report = await runTestsInPaths([dir]);
    expect(report.tests.map((t) => [t.name, t.status])).toEqual([
      ['data.repro.test_root_json_any_name', 'pass'],
      ['data.repro.test_sub_yaml_any_name', 'pass'],
    ]);
  });

  it('a directory read as a bundle (what the PDP serves) keeps only data.json / data.yaml', () => {
    expect(loadPolicyDir([dir]).data).toEqual({});
    expect(loadPolicyDir([dir], { anyDataFile: true }).data).toEqual({ limits: { max: 3 }, sub: { extra: 'yes' } });
  });
});

describe('YAML data is read as OPA reads it (YAML 1.1, as sigs.k8s.io/yaml over go-yaml v2)', () => {
  it('yes/no/on/off are booleans, 0777 is octal, a date stays a string', () => {
    const dir = fileTree({ 'cfg/data.yaml': 'enabled: yes\nlegacy: off\nshort: n\nmode: 0777\nsince: 2001-01-01\nname: "yes"\n' }, 'pdp-yaml11-');
    try {
      expect(loadPolicyDir([dir]).data).toEqual({ cfg: { enabled: true, legacy: false, short: false, mode: 511, since: '2001-01-01', name: 'yes' } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
