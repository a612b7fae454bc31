/**
 * What `pdp eval -d/-b` loads: directories and files of `.rego` + data (as `pdp test` and the PDP's
 * directory source read them) and built bundles (`.tar.gz` or an unpacked bundle directory, read by
 * the same bundle reader as the server). A bundle's `.rego` sources join the modules the query is
 * compiled with; a bundle without sources can only answer its own entrypoints (see evalCommand).
 */
import * as fs from 'fs';
import { loadPolicyDir, PolicySourceError } from '../compiler/load';
import { placeDataFile } from '../bundles/data-tree';
import { parseBundle, type Bundle } from '../bundles/bundle';
import { readBundleDir, readBundleFile, sourceKind, defaultBundleName } from '../bundles/sources';
import { bundleSources } from '../compiler/rego-version';
import type { RegoVersion } from '../compiler/parser';

export interface EvalSources {
  modules: Array<{ file: string; source: string; regoVersion?: RegoVersion }>;
  data: Record<string, unknown>;
  /** bundles that hold a policy.wasm but no .rego sources, by name */
  builtOnly: Array<{ name: string; bundle: Bundle }>;
}

const dataError = (file: string, message: string) => new PolicySourceError(`${file}: ${message}`);

/** Whether a `-d` path is a built bundle: a .tar.gz, or a directory holding .manifest or policy.wasm. */
function isBundlePath(p: string): boolean {
  if (/\.(tar\.gz|tgz)$/i.test(p)) return true;
  try {
    return fs.statSync(p).isDirectory() && sourceKind(p) === 'bundle-dir';
  } catch {
    return false;
  }
}

/** Load every path; `bundles` are the `-b` ones (always read as bundles). */
export async function loadEvalSources(paths: string[], bundles: string[]): Promise<EvalSources> {
  const out: EvalSources = { modules: [], data: {}, builtOnly: [] };
  const plain = paths.filter((p) => !isBundlePath(p));
  const bundlePaths = [...paths.filter(isBundlePath), ...bundles];
  if (plain.length > 0) {
    const loaded = loadPolicyDir(plain, { anyDataFile: true });
    out.modules.push(...loaded.modules);
    placeDataFile(out.data, [], loaded.data, plain.join(', '), dataError);
  }
  for (const p of bundlePaths) {
    if (!fs.existsSync(p)) throw new PolicySourceError(`${p}: no such file or directory`);
    const files = fs.statSync(p).isDirectory() ? readBundleDir(p) : (await readBundleFile(p)).files;
    const bundle = parseBundle(files);
    placeDataFile(out.data, [], bundle.data, p, dataError);
    if (bundle.rego.size === 0) out.builtOnly.push({ name: defaultBundleName(p), bundle });
    // each source read as the manifest says (rego_version / file_rego_versions), as the server reads it
    for (const m of bundleSources(bundle.rego, bundle.manifest, `${p}:/.manifest`)) out.modules.push({ ...m, file: `${p}:/${m.file}` });
  }
  return out;
}
