/**
 * Which Rego version each file of a policy directory is parsed as, the way OPA 1.x decides it for a
 * bundle: the manifest's `file_rego_versions` entry matching the file (a path or glob from the bundle
 * root, with a leading `/`; keys are tried in sorted order, the first match wins), else the manifest's
 * `rego_version`, else the default: v1, or v0 under `--v0-compatible`.
 *
 * @example
 *   const rules = readManifestVersions(fs.readFileSync('lib/.manifest', 'utf8'), 'lib/.manifest');
 *   regoVersionFor(rules, '/legacy/policy.rego', 1); // 0 when the manifest says {"rego_version": 0}
 */
import { RE2JS } from 're2js';
import { globToRegex } from '../builtins/glob';
import type { RegoVersion } from './parser';

export interface VersionRules {
  /** the manifest's `rego_version` */
  regoVersion?: RegoVersion;
  /** `file_rego_versions`, in sorted key order */
  files: Array<{ pattern: string; match: RE2JS; version: RegoVersion }>;
}

export class ManifestVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestVersionError';
  }
}

function version(v: unknown, what: string, where: string): RegoVersion {
  if (v === 0 || v === 1) return v;
  throw new ManifestVersionError(`${where}: ${what} must be 0 or 1, got ${JSON.stringify(v)}`);
}

/** The version rules of a `.manifest`'s text (`where` names it in errors). Throws ManifestVersionError. */
export function readManifestVersions(text: string, where: string): VersionRules {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new ManifestVersionError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new ManifestVersionError(`${where}: must be a JSON object`);
  const o = m as Record<string, unknown>;
  const rules: VersionRules = { files: [] };
  if (o.rego_version !== undefined) rules.regoVersion = version(o.rego_version, 'rego_version', where);
  const frv = o.file_rego_versions;
  if (frv !== undefined) {
    if (typeof frv !== 'object' || frv === null || Array.isArray(frv)) throw new ManifestVersionError(`${where}: file_rego_versions must be an object`);
    for (const pattern of Object.keys(frv).sort()) {
      const v = version((frv as Record<string, unknown>)[pattern], `file_rego_versions[${JSON.stringify(pattern)}]`, where);
      let match: RE2JS;
      try {
        match = RE2JS.compile(globToRegex(pattern, ['/']));
      } catch (e) {
        throw new ManifestVersionError(`${where}: file_rego_versions key ${JSON.stringify(pattern)} is not a valid glob: ${(e as Error).message}`);
      }
      rules.files.push({ pattern, match, version: v });
    }
  }
  return rules;
}

/** The version of the file at `bundlePath` (`/dir/x.rego`, relative to the bundle root). */
export function regoVersionFor(rules: VersionRules | undefined, bundlePath: string, fallback: RegoVersion): RegoVersion {
  if (!rules) return fallback;
  for (const f of rules.files) if (f.match.matcher(bundlePath).find()) return f.version;
  return rules.regoVersion ?? fallback;
}

/**
 * A bundle's `.rego` members (`/a/b.rego` → source) as compiler source files, each in the Rego version
 * its manifest gives it (v1 when the manifest says nothing, as in OPA 1.x). The Data API's on-demand
 * paths (engine/documents.ts) and explain (engine/explain.ts) compile bundles from these.
 */
export function bundleSources(rego: ReadonlyMap<string, string>, manifest: object, where = '/.manifest'): Array<{ file: string; source: string; regoVersion: RegoVersion }> {
  const rules = readManifestVersions(JSON.stringify(manifest), where);
  return [...rego].map(([member, source]) => ({ file: member.replace(/^\//, ''), source, regoVersion: regoVersionFor(rules, member, 1) }));
}
