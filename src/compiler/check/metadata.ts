/**
 * `rego.metadata.chain()` and `rego.metadata.rule()` are constants of the rule they are called in, as
 * OPA's compiler makes them (ast/annotations.go, AnnotationSet.Chain; compile.go rewrites the calls):
 *
 * - rule(): the rule's own `scope: rule` block closest above it, as an object; `{}` when it has none.
 * - chain(): an array of `{"path": [...], "annotations": {...}}` (path without `data`): the rule's own
 *   blocks, closest first (or `{"path": …}` alone when it has none), then the `document` block of its
 *   path, the `package` block of its package (from any module), and the `subpackages` blocks of the
 *   package and its ancestors, closest first.
 *
 * Each annotations object holds only what OPA's toObject writes: scope, title, entrypoint (when true),
 * description, organizations, related_resources, authors (`"Name <email>"` split), schemas, custom.
 */
import type * as A from '../ast';
import type { Const } from '../ir';
import { RegoError } from '../errors';
import { parseTerm } from '../parser';

interface Block {
  a: A.Annotations;
  module: A.Module;
}

const key = (path: string[]) => JSON.stringify(path);

export class MetadataIndex {
  /** rule-scope blocks by rule, in source order */
  private byRule = new Map<A.Rule, A.Annotations[]>();
  /** `document` blocks by the rule path they annotate, `subpackages` blocks by package path */
  private byPath = new Map<string, A.Annotations>();
  private byPackage = new Map<string, A.Annotations>();

  constructor(modules: A.Module[]) {
    for (const m of modules) {
      for (const a of m.annotations) this.add({ a, module: m });
    }
  }

  private add({ a, module }: Block): void {
    if (a.scope === 'package') this.byPackage.set(key(module.package.path), a);
    else if (a.scope === 'subpackages') this.byPath.set(key(module.package.path), a);
    else {
      const rule = module.rules.find((r) => r.loc.line === a.targetLine);
      if (!rule) return;
      if (a.scope === 'document') this.byPath.set(key(rulePath(module, rule)), a);
      else this.byRule.set(rule, [...(this.byRule.get(rule) ?? []), a]);
    }
  }

  /** rego.metadata.rule() for `branch` (the rule or one of its else branches, which have no blocks). */
  rule(def: { rule: A.Rule; module: A.Module }, branch: A.Rule): Const {
    const own = branch === def.rule ? this.byRule.get(def.rule) ?? [] : [];
    const closest = own[own.length - 1];
    return closest ? annotationsConst(closest) : { t: 'obj', v: [] };
  }

  /** rego.metadata.chain() for `branch`. */
  chain(def: { rule: A.Rule; module: A.Module }, branch: A.Rule): Const {
    const { module } = def;
    const path = rulePath(module, def.rule);
    const links: Array<[string[], A.Annotations | undefined]> = [];
    const own = branch === def.rule ? this.byRule.get(def.rule) ?? [] : [];
    if (own.length) for (const a of [...own].reverse()) links.push([path, a]);
    else links.push([path, undefined]);
    // (one tree holds document and subpackages blocks, as OPA's does)
    const doc = this.byPath.get(key(path));
    if (doc) links.push([path, doc]);
    const pkg = this.byPackage.get(key(module.package.path));
    if (pkg) links.push([module.package.path, pkg]);
    for (let n = module.package.path.length; n > 0; n--) {
      const p = module.package.path.slice(0, n);
      const sub = this.byPath.get(key(p));
      if (sub) links.push([p, sub]);
    }
    return {
      t: 'arr',
      v: links.map(([p, a]): Const => {
        const items: Array<[Const, Const]> = [[str('path'), { t: 'arr', v: p.map(str) }]];
        if (a) items.push([str('annotations'), annotationsConst(a)]);
        return { t: 'obj', v: items };
      }),
    };
  }
}

/**
 * The errors OPA's parser reports for METADATA fields (an author without name or email, a related
 * resource without a ref, a malformed schema, …), found whether or not rego.metadata is called.
 */
export function annotationErrors(modules: A.Module[]): RegoError[] {
  const out: RegoError[] = [];
  for (const m of modules) {
    for (const a of m.annotations) {
      try {
        annotationsConst(a);
      } catch (e) {
        if (e instanceof RegoError) out.push(e);
        else throw e;
      }
    }
  }
  return out;
}

/** The rule's path below `data`: its package, then its head up to the first variable. */
function rulePath(m: A.Module, r: A.Rule): string[] {
  const ref = r.head.ref;
  const out = [...m.package.path, ref.head.type === 'var' ? ref.head.name : ''];
  for (const t of ref.path) {
    if (t.type !== 'string') break;
    out.push(t.value);
  }
  return out;
}

const str = (v: string): Const => ({ t: 'str', v });

function annotationsConst(a: A.Annotations): Const {
  const raw = a.raw;
  const bad = (what: string) => new RegoError('rego_parse_error', a.loc, `invalid METADATA block: ${what}`);
  const items: Array<[Const, Const]> = [[str('scope'), str(a.scope ?? 'rule')]];
  if (a.title) items.push([str('title'), str(a.title)]);
  if (a.entrypoint) items.push([str('entrypoint'), { t: 'bool', v: true }]);
  if (a.description) items.push([str('description'), str(a.description)]);
  const list = (k: string): unknown[] => {
    const v = raw[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw bad(`"${k}" must be a list`);
    return v;
  };
  const orgs = list('organizations').map((o) => {
    if (typeof o !== 'string') throw bad('"organizations" must be a list of strings');
    return str(o);
  });
  if (orgs.length) items.push([str('organizations'), { t: 'arr', v: orgs }]);
  const related = list('related_resources').map((r): Const => {
    if (typeof r === 'string' && r) return { t: 'obj', v: [[str('ref'), str(r)]] };
    const o = r as Record<string, unknown> | null;
    const ref = o && typeof o === 'object' && typeof o.ref === 'string' ? o.ref.trim() : '';
    if (!ref) throw bad('a related resource needs a "ref" URL');
    const v: Array<[Const, Const]> = [[str('ref'), str(ref)]];
    const description = typeof o!.description === 'string' ? o!.description.trim() : '';
    if (description) v.push([str('description'), str(description)]);
    return { t: 'obj', v };
  });
  if (related.length) items.push([str('related_resources'), { t: 'arr', v: related }]);
  const authors = list('authors').map((x): Const => {
    const { name, email } = author(x, bad);
    const v: Array<[Const, Const]> = [];
    if (name) v.push([str('name'), str(name)]);
    if (email) v.push([str('email'), str(email)]);
    return { t: 'obj', v };
  });
  if (authors.length) items.push([str('authors'), { t: 'arr', v: authors }]);
  const schemas = list('schemas').map((x) => schemaConst(x, bad));
  if (schemas.length) items.push([str('schemas'), { t: 'arr', v: schemas }]);
  const custom = raw.custom;
  if (custom !== undefined && custom !== null) {
    if (typeof custom !== 'object' || Array.isArray(custom)) throw bad('"custom" must be a map');
    if (Object.keys(custom).length) items.push([str('custom'), yamlConst(custom, bad)]);
  }
  return { t: 'obj', v: items };
}

/**
 * A `schemas` entry, `- input.x: schema["name"]` or `- input: {definition…}`, as OPA writes it:
 * `{"path": ["input", "x"], "schema": ["schema", "name"]}` or `{"path": […], "definition": {…}}`.
 */
function schemaConst(x: unknown, bad: (w: string) => RegoError): Const {
  if (!x || typeof x !== 'object' || Array.isArray(x) || Object.keys(x).length === 0) throw bad('a schema entry maps a document path to a schema');
  const [path, schema] = Object.entries(x as Record<string, unknown>)[0];
  const items: Array<[Const, Const]> = [];
  const p = refStrings(path);
  if (!p) throw bad(`invalid document reference ${JSON.stringify(path)} in schemas`);
  if (p.length) items.push([str('path'), { t: 'arr', v: p.map(str) }]);
  if (typeof schema === 'string') {
    const sr = refStrings(schema);
    if (!sr || sr[0] !== 'schema') throw bad(`invalid schema reference ${JSON.stringify(schema)}`);
    items.push([str('schema'), { t: 'arr', v: sr.map(str) }]);
  } else if (schema && typeof schema === 'object' && !Array.isArray(schema)) {
    items.push([str('definition'), yamlConst(schema, bad)]);
  } else throw bad(`invalid schema declaration for path ${JSON.stringify(path)}`);
  return { t: 'obj', v: items };
}

/** A ref written in an annotation (`input.x`, `schema["k8s"]`) as OPA's Ref.toArray writes it: each part as text. */
function refStrings(text: string): string[] | undefined {
  let t: A.Term;
  try {
    t = parseTerm(text, '<METADATA>');
  } catch {
    return undefined;
  }
  const parts = t.type === 'ref' ? [t.head, ...t.path] : [t];
  const out: string[] = [];
  for (const part of parts) {
    if (part.type === 'var') out.push(part.name);
    else if (part.type === 'string' || part.type === 'number') out.push(String(part.value));
    else if (part.type === 'boolean') out.push(String(part.value));
    else if (part.type === 'null') out.push('null');
    else return undefined;
  }
  return parts[0].type === 'var' ? out : undefined;
}

/** An author: `"Jane Doe <jane@example.com>"` (the last word in angle brackets is the email) or `{name, email}`. */
function author(x: unknown, bad: (w: string) => RegoError): { name: string; email: string } {
  if (typeof x === 'string') {
    const words = x.split(/\s+/).filter((w) => w.length);
    if (!words.length) throw bad('an author is an empty string');
    const last = words[words.length - 1];
    if (last.length >= 2 && last.startsWith('<') && last.endsWith('>')) {
      return { name: words.slice(0, -1).join(' '), email: last.slice(1, -1) };
    }
    return { name: words.join(' '), email: '' };
  }
  if (x && typeof x === 'object' && !Array.isArray(x)) {
    const o = x as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name.trim() : '';
    const email = typeof o.email === 'string' ? o.email.trim() : '';
    if (name || email) return { name, email };
  }
  throw bad('an author needs a name and/or an email');
}

function yamlConst(v: unknown, bad: (w: string) => RegoError): Const {
  if (v === null || v === undefined) return { t: 'null' };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw bad('a custom value is not a finite number');
    return { t: 'num', v: String(v) };
  }
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return { t: 'arr', v: v.map((x) => yamlConst(x, bad)) };
  if (typeof v === 'object') {
    if (v instanceof Date) return str(v.toISOString());
    return { t: 'obj', v: Object.entries(v as Record<string, unknown>).map(([k, x]): [Const, Const] => [str(k), yamlConst(x, bad)]) };
  }
  throw bad('unsupported custom value');
}
