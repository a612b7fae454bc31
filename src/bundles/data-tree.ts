/**
 * The data document a bundle (or a policy directory) defines: every `data.json` / `data.yaml` file is
 * placed under `data` at the path of its directory. One piece of code for both readers — the bundle
 * reader (bundle.ts) and the policy-directory loader (compiler/load.ts, behind `pdp build`, `pdp test`
 * and directory sources) — so a directory served as is and the bundle built from it hold the same data.
 *
 * Rules (OPA's): a data file at the root must hold an object; elsewhere any JSON value. Objects merge
 * key by key; any other value set twice is a conflict, reported with the path, never a silent override.
 *
 * Data files are hostile input, and JSON.parse (and YAML) make "__proto__" an ordinary key: `target[k]`
 * would read Object.prototype for it and a merge would then write the file's members into
 * Object.prototype for the whole process. Every read and write here is of own data properties.
 */

import YAML from 'yaml';
import { getKey, setKey } from '../util/own-keys';

export const DATA_FILE_NAMES: ReadonlySet<string> = new Set(['data.json', 'data.yaml', 'data.yml']);

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A data conflict or a bad data file; `file` names the file that caused it. */
export type DataErrorFactory = (file: string, message: string) => Error;

/** A data file's value: JSON for `.json`, YAML otherwise. */
/**
 * How OPA reads YAML data (sigs.k8s.io/yaml over go-yaml v2): YAML 1.1, so `yes`/`no`/`on`/`off`/`y`/`n` are
 * booleans and `0777` is octal, but a timestamp-like value stays a string (go-yaml v2 keeps timestamps
 * as strings when decoding into a generic value).
 */
export const YAML_AS_OPA: YAML.ParseOptions & YAML.DocumentOptions & YAML.SchemaOptions = {
  version: '1.1',
  customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
};

export function parseDataText(file: string, text: string, error: DataErrorFactory): unknown {
  try {
    return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text, YAML_AS_OPA);
  } catch (e) {
    throw error(file, `cannot parse data file: ${(e as Error).message}`);
  }
}

function mergeInto(target: Obj, src: Obj, at: string[], file: string, error: DataErrorFactory): void {
  for (const [k, v] of Object.entries(src)) {
    const cur = getKey(target, k);
    if (cur === undefined) setKey(target, k, v);
    else if (isObject(cur) && isObject(v)) mergeInto(cur, v, [...at, k], file, error);
    else throw error(file, `data conflict at /${[...at, k].join('/')}: two data files set it`);
  }
}

/**
 * Place one parsed data file, found in directory `dir` (path segments from the root), into `data`.
 * Throws error(file, message) on a conflict or a root file that is not an object; `data` may then hold
 * part of the file, so callers build a fresh document per load and discard it on error.
 */
export function placeDataFile(data: Obj, dir: string[], value: unknown, file: string, error: DataErrorFactory): void {
  if (dir.length === 0) {
    if (!isObject(value)) throw error(file, 'a data file at the root must hold an object');
    mergeInto(data, value, [], file, error);
    return;
  }
  let node = data;
  for (let i = 0; i < dir.length - 1; i++) {
    const k = dir[i];
    if (getKey(node, k) === undefined) setKey<unknown>(node, k, {});
    const next = getKey(node, k);
    if (!isObject(next)) throw error(file, `data conflict at /${dir.slice(0, i + 1).join('/')}: a value defined elsewhere is not an object`);
    node = next;
  }
  const last: Obj = {};
  setKey(last, dir[dir.length - 1], value);
  mergeInto(node, last, dir.slice(0, -1), file, error);
}
