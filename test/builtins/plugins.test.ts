/**
 * Built-ins of your own (src/builtins/plugins.ts): a policy written for conftest calls parse_config,
 * which OPA does not have; without a plug-in that is a compile error naming it, with one it runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileTree } from '../helpers/file-tree';
import { run as pdpTest } from '../../src/cli/commands/test';
import { BuiltinPluginError, loadBuiltinPlugins } from '../../src/builtins/plugins';
import { quietly as captured } from '../helpers/quietly';

const PLUGIN = `
exports.builtins = {
  // a toy conftest parse_config: only "ini", key=value lines
  parse_config: {
    args: ['string', 'string'],
    result: 'object',
    fn: (parser, text) => parser === 'ini'
      ? Object.fromEntries(text.split('\\n').filter(Boolean).map((l) => l.split('=')))
      : undefined,
  },
};
`;

async function quietly(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const r = await captured(fn);
  return { code: r.value, out: r.out };
}

describe('custom built-ins from a plug-in module', () => {
  let dir: string;
  beforeAll(() => {
    dir = fileTree({
      'plugin.js': PLUGIN,
      'policy/p.rego': 'package conf\n\ndeny contains "debug is on" if {\n\tcfg := parse_config("ini", input.text)\n\tcfg.debug == "true"\n}\n',
      'policy/p_test.rego':
        'package conf_test\n\nimport data.conf\n\ntest_debug if conf.deny == {"debug is on"} with input as {"text": "debug=true\\nport=80\\n"}\n\ntest_other_parser if count(conf.deny) == 0 with input as {"text": "x"}\n',
      'bad.js': 'exports.builtins = { "count": { args: ["array"], result: "number", fn: () => 0 } };\n',
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('without the plug-in the built-in is a compile error naming it; with it the tests run', async () => {
    const before = await quietly(() => pdpTest([path.join(dir, 'policy')]));
    expect(before.code).toBe(1);
    expect(before.out).toMatch(/p\.rego:4:\d+: undefined function parse_config/);
    const after = await quietly(() => pdpTest([path.join(dir, 'policy'), '--builtins', path.join(dir, 'plugin.js')]));
    expect(after.out).toMatch(/data\.conf_test\.test_debug: PASS/);
    expect(after.out).toMatch(/data\.conf_test\.test_other_parser: PASS/);
    expect(after.code).toBe(0);
  });

  it('never replaces a built-in OPA has, and says what is wrong with a declaration', () => {
    expect(() => loadBuiltinPlugins([path.join(dir, 'bad.js')])).toThrow(/built-in "count": a built-in of that name already exists/);
    fs.writeFileSync(path.join(dir, 'typo.js'), 'exports.builtins = { "acme.x": { args: ["str"], result: "any", fn: () => 1 } };\n');
    expect(() => loadBuiltinPlugins([path.join(dir, 'typo.js')])).toThrow(BuiltinPluginError);
    expect(() => loadBuiltinPlugins([path.join(dir, 'missing.js')])).toThrow(/cannot load the built-ins module/);
  });

  it('pdp serve takes --builtins and the config file\'s builtins list (relative to the file)', async () => {
    const { parseServeArgs } = await import('../../src/cli/commands/serve');
    const { loadConfig } = await import('../../src/server/config');
    fs.writeFileSync(path.join(dir, 'pdp.yaml'), 'builtins:\n  - plugin.js\nbundles:\n  - source: policy\n');
    const over = parseServeArgs(['--config', path.join(dir, 'pdp.yaml'), '--builtins', 'more.js']);
    if (typeof over === 'string') throw new Error(over);
    const cfg = loadConfig(over, {});
    expect(cfg.builtins).toEqual(['plugin.js', path.resolve('more.js')]);
    expect(cfg.config_dir).toBe(dir);
  });
});
