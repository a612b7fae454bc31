/**
 * `pdp build <dirs|files>... -e <entrypoint>... [-o bundle.tar.gz] [--revision R]` — compile Rego to an
 * OPA-format bundle: /.manifest, /data.json (merged data files), /policy.wasm and the .rego sources.
 * Entry points come from -e flags (`mcp/authz/decision` or `data.mcp.authz.decision`) and from
 * `# METADATA` `entrypoint: true` annotations.
 */
import { normalizeEntrypoint } from '../entrypoint';
import * as fs from 'fs';
import * as path from 'path';
import { compile } from '../../compiler';
import { compiledManifest, regoVersionFields, writeBundle } from '../../compiler/bundle';
import { loadPolicyDir, PolicySourceError } from '../../compiler/load';
import { RegoErrors } from '../../compiler/errors';
import { BuiltinPluginError, loadBuiltinPlugins } from '../../builtins/plugins';

export const summary = 'compile Rego policies and data into an OPA bundle with policy.wasm';

const USAGE = 'usage: pdp build <dir|file>... -e <entrypoint>... [-o bundle.tar.gz] [--revision R] [--v0-compatible] [--builtins FILE]\n';

export async function run(args: string[]): Promise<number> {
  const inputs: string[] = [];
  const eps: string[] = [];
  let out = 'bundle.tar.gz';
  let revision = '';
  let v0Compatible = false;
  const plugins: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = (): string | undefined => args[++i];
    if (a === '-e' || a === '--entrypoint') {
      const v = val();
      if (!v) return fail('missing value for -e');
      eps.push(normalizeEntrypoint(v));
    } else if (a === '-o' || a === '--output') {
      const v = val();
      if (!v) return fail('missing value for -o');
      out = v;
    } else if (a === '--revision' || a === '-r') {
      const v = val();
      if (v === undefined) return fail('missing value for --revision');
      revision = v;
    } else if (a === '--v0-compatible') {
      v0Compatible = true;
    } else if (a === '--builtins') {
      const v = val();
      if (!v) return fail('missing value for --builtins');
      plugins.push(v);
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else if (a.startsWith('-')) return fail(`unknown option ${a}`);
    else inputs.push(a);
  }
  if (!inputs.length) return fail('no policy files or directories given');
  try {
    loadBuiltinPlugins(plugins);
  } catch (e) {
    if (e instanceof BuiltinPluginError) return fail(e.message);
    throw e;
  }
  let loaded;
  try {
    loaded = loadPolicyDir(inputs, { v0Compatible });
  } catch (e) {
    if (e instanceof PolicySourceError) return fail(e.message);
    throw e;
  }
  if (!loaded.modules.length) return fail('no .rego files found');
  const t0 = Date.now();
  let result;
  try {
    result = compile({ modules: loaded.modules, entrypoints: eps });
  } catch (e) {
    if (e instanceof RegoErrors) {
      for (const err of e.errors) process.stderr.write(err.message + '\n');
      return 1;
    }
    throw e;
  }
  if (!result.entrypoints.length) {
    return fail('no entrypoints: give -e <path> or annotate a rule with `# METADATA` `entrypoint: true`');
  }
  const cwd = process.cwd();
  const sources = loaded.modules.map((m) => ({ file: path.relative(cwd, path.resolve(m.file)).split(path.sep).join('/'), source: m.source, regoVersion: m.regoVersion }));
  const manifest = compiledManifest({
    revision,
    packages: result.modules.map((m) => m.package.path),
    data: loaded.data,
    entrypoints: result.entrypoints,
    // the sources travel in the bundle: say how to read them, as opa build does
    regoVersions: regoVersionFields(sources),
  });
  const buf = writeBundle({ manifest, data: loaded.data, wasm: result.wasm, sources });
  try {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true }); // `-o dist/x.tar.gz` in a fresh checkout
    fs.writeFileSync(out, buf);
  } catch (e) {
    process.stderr.write(`pdp build: cannot write ${out}: ${(e as Error).message}
`);
    return 1;
  }
  process.stdout.write(
    `wrote ${out} (${buf.length} bytes; ${result.entrypoints.length} entrypoint(s): ${result.entrypoints.join(', ')}; compiled in ${Date.now() - t0} ms)\n`,
  );
  return 0;
}

function fail(msg: string): number {
  process.stderr.write(`pdp build: ${msg}\n${USAGE}`);
  return 2;
}
