/**
 * Any document of a bundle by its data path, as OPA's Data API answers `GET /v1/data/a/b/c`: not only
 * the entrypoints a bundle was built with. One `Documents` per ActiveBundle (so per revision; a swap
 * makes a new one and the old one goes with its bundle).
 *
 * How a path is answered, in order:
 *   1. an entrypoint, or a path below one (`mcp/authz/decision/allow`): the entrypoint's module, and
 *      the rest of the path looked up in its value;
 *   2. a bundle that carries its `.rego` sources (directory sources, `pdp start`'s bundle, bundles built
 *      with sources): the path is matched against the rule and package paths of the sources. A path
 *      that is a package, a rule, or a prefix of one is compiled on demand as a query `result :=
 *      data.<path>`; a path below a rule compiles the rule and looks the rest up in its value. Only
 *      paths the sources name are ever compiled (so their number is bounded by the policy, not by
 *      callers), and the compiled modules are kept in an LRU of `maxCompiled` entries; a compile error
 *      is kept too, so a path that cannot compile is not compiled again on every request;
 *   3. base data (`data.json`) at the path;
 *   4. otherwise undefined: with sources, the path names nothing (nothing is compiled); without
 *      sources (a wasm-only bundle), the answer says so in a warning, since a rule we cannot see may
 *      live there.
 * `strict` (OPA's strict-builtin-errors) always compiles the path (entrypoints too), in its own cache
 * entries; it needs the sources.
 */
import type { ActiveBundle } from './engine';
import { WasmPolicy, type ResultSet } from './policy';
import type { Module, Rule } from '../compiler/ast';

/** What a path resolved to in one bundle. */
export interface DocumentAnswer {
  defined: boolean;
  value?: unknown;
  evalNs?: number;
  /** ns spent compiling the path on demand (absent when nothing was compiled) */
  compileNs?: number;
  /** an entrypoint or an already compiled path answered: OPA's counter_server_query_cache_hit */
  cacheHit?: boolean;
  /** why the answer may be incomplete or is undefined (wasm-only bundles) */
  warning?: { code: string; message: string };
  /** the path could not be compiled (a refusal of our compiler), or strict mode is impossible */
  error?: { code: string; message: string };
}

/** Paths longer than this are refused (400): no policy nests so deep, and each segment costs work. */
export const MAX_PATH_SEGMENTS = 64;
export const MAX_PATH_CHARS = 2048;
export const DEFAULT_MAX_COMPILED = 32;

/**
 * The name of the query a path compiles to, `result := data[…]`: binding `result` makes its result set
 * `[{result: v}]`, an entrypoint's shape.
 */
const QUERY = 'data_path';

/** Where rules live in the sources: every rule's static path, and which of them are partial sets. */
interface SourceIndex {
  /** "a/b/rule" for each rule (functions left out: they are no documents) */
  rules: Set<string>;
  /** every proper prefix of a rule path (packages and the levels above them) */
  prefixes: Set<string>;
  /** rules that are partial sets (`contains`): a segment below one is a membership test */
  sets: Set<string>;
}

type Compiled = { policy: WasmPolicy } | { error: string };

/** The static part of a rule's path: package + the ref's leading string segments. */
function rulePath(m: Module, r: Rule): string[] {
  const ref = r.head.ref;
  const parts = [...m.package.path, ref.head.type === 'var' ? ref.head.name : ''];
  for (const p of ref.path) {
    if (p.type !== 'string') break;
    parts.push(p.value);
  }
  return parts;
}

function buildIndex(modules: Module[]): SourceIndex {
  const idx: SourceIndex = { rules: new Set(), prefixes: new Set(['']), sets: new Set() };
  for (const m of modules) {
    for (let i = 1; i <= m.package.path.length; i++) idx.prefixes.add(m.package.path.slice(0, i).join('/'));
    for (const r of m.rules) {
      if (r.head.args) continue;
      const parts = rulePath(m, r);
      const full = parts.join('/');
      // `p[x] := v` and `a.b[x]` are objects whose static part is the document
      idx.rules.add(full);
      if (r.head.key !== undefined && r.head.value === undefined) idx.sets.add(full);
      for (let i = 1; i < parts.length; i++) idx.prefixes.add(parts.slice(0, i).join('/'));
    }
  }
  return idx;
}

/** `data["a"]["b"]` for segments the sources themselves named (never a caller's text unmatched). */
function dataRef(segments: string[]): string {
  return 'data' + segments.map((s) => `[${JSON.stringify(s)}]`).join('');
}

/** Look the rest of a path up in a value: object keys, array indices, set (array) members. */
function lookup(value: unknown, rest: string[], isSet: boolean): { defined: boolean; value?: unknown } {
  let node = value;
  for (let i = 0; i < rest.length; i++) {
    const seg = rest[i];
    if (Array.isArray(node)) {
      if (i === 0 && isSet) {
        // a partial set's member: `data.p.x` is x when x is in p (a string, or the number it spells)
        const hit = node.find((e) => e === seg || (typeof e === 'number' && String(e) === seg));
        if (hit === undefined) return { defined: false };
        node = hit;
        continue;
      }
      if (!/^(0|[1-9]\d*)$/.test(seg) || Number(seg) >= node.length) return { defined: false };
      node = node[Number(seg)];
    } else if (node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, seg)) {
      node = (node as Record<string, unknown>)[seg];
    } else return { defined: false };
  }
  return { defined: true, value: node };
}

function fromResultSet(rs: ResultSet, what: string): { defined: boolean; value?: unknown } {
  if (rs.length > 1) throw new Error(`${what} produced ${rs.length} results`);
  return rs.length === 1 ? { defined: true, value: rs[0].result } : { defined: false };
}

export class Documents {
  /** undefined: not read yet; null: no sources (wasm only); string: the sources do not parse */
  private index: SourceIndex | null | string | undefined;
  private modules: Array<{ file: string; source: string; regoVersion?: 0 | 1 }> = [];
  private readonly compiled = new Map<string, Compiled>();

  constructor(
    private readonly bundle: ActiveBundle,
    private readonly maxCompiled = DEFAULT_MAX_COMPILED,
  ) {}

  /** The value at a slash path (already split into segments) with this input (JSON text or undefined). */
  answer(segments: string[], inputJson: string | undefined, opts: { strict?: boolean } = {}): DocumentAnswer {
    const b = this.bundle;
    const path = segments.join('/');
    if (!opts.strict) {
      // 1. an entrypoint, or a path below one
      for (let i = segments.length; i >= 1; i--) {
        const ep = segments.slice(0, i).join('/');
        if (!b.has(ep)) continue;
        const ev = b.evaluateJson(ep, inputJson);
        const rest = segments.slice(i);
        // below an entrypoint that is a partial set, a segment is a membership test (known from the sources)
        const isSet = rest.length > 0 && this.isSet(ep);
        return { ...lookupIn(fromResultSet(ev.resultSet, ep), rest, isSet), evalNs: ev.evalNs, cacheHit: true };
      }
    }
    const idx = this.sourceIndex();
    if (typeof idx === 'object' && idx !== null) {
      // 2. a package, a rule, a level above them, or a path below a rule
      let key: string[] | undefined;
      if (idx.rules.has(path) || idx.prefixes.has(path)) key = segments;
      else {
        for (let i = segments.length - 1; i >= 1 && !key; i--) if (idx.rules.has(segments.slice(0, i).join('/'))) key = segments.slice(0, i);
      }
      if (key) return this.evaluateCompiled(key, segments.slice(key.length), idx, inputJson, !!opts.strict);
    } else if (opts.strict) {
      return { defined: false, error: { code: 'invalid_parameter', message: `strict-builtin-errors needs the policy's .rego sources, and bundle ${b.name} ${idx === null ? 'holds none (wasm only)' : `has sources our compiler cannot read: ${idx}`}` } };
    }
    // 3. base data; 4. undefined. Without readable sources a rule may be hiding there: say so.
    const blind = typeof idx === 'object' && idx !== null ? undefined : idx;
    const v = b.dataAt(path);
    if (v !== undefined) {
      const below = blind !== undefined ? b.entrypoints().filter((e) => path === '' || e.startsWith(path + '/')) : [];
      if (blind === undefined || below.length === 0) return { defined: true, value: v };
      return { defined: true, value: v, warning: this.noSources(path, blind, `the answer holds base data only: ${below.join(', ')} and any other rules below ${path || 'data'} are not in it`) };
    }
    if (blind !== undefined) return { defined: false, warning: this.noSources(path, blind, 'it may name a rule, but only entrypoints can be evaluated') };
    return { defined: false };
  }

  private isSet(path: string): boolean {
    const idx = this.sourceIndex();
    return typeof idx === 'object' && idx !== null && idx.sets.has(path);
  }

  private noSources(path: string, idx: null | string, what: string): { code: string; message: string } {
    const why = idx === null ? 'holds no .rego sources (wasm only)' : `has .rego sources our compiler cannot read (${idx})`;
    return {
      code: 'not_an_entrypoint',
      message: `${path || '(root)'} is not an entrypoint of bundle ${this.bundle.name}, which ${why}: ${what}. Entrypoints: ${this.bundle.entrypoints().join(', ') || 'none'}`,
    };
  }

  private evaluateCompiled(key: string[], rest: string[], idx: SourceIndex, inputJson: string | undefined, strict: boolean): DocumentAnswer {
    const cacheKey = (strict ? 'strict:' : ':') + key.join('/');
    let entry = this.compiled.get(cacheKey);
    let compileNs: number | undefined;
    if (entry) {
      // least recently used first: a hit moves to the end
      this.compiled.delete(cacheKey);
    } else {
      const t0 = process.hrtime.bigint();
      entry = this.compile(key, strict);
      compileNs = Number(process.hrtime.bigint() - t0);
    }
    this.compiled.set(cacheKey, entry);
    while (this.compiled.size > this.maxCompiled) this.compiled.delete(this.compiled.keys().next().value as string);
    if ('error' in entry) return { defined: false, compileNs, error: { code: 'compile_error', message: entry.error } };
    const t0 = process.hrtime.bigint();
    const rs = entry.policy.evaluateJson(QUERY, inputJson);
    const evalNs = Number(process.hrtime.bigint() - t0);
    return { ...lookupIn(fromResultSet(rs, key.join('/')), rest, idx.sets.has(key.join('/'))), evalNs, compileNs, cacheHit: compileNs === undefined };
  }

  private compile(key: string[], strict: boolean): Compiled {
    // loaded on first use: a PDP that serves only entrypoints never pays for the compiler
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { compile } = require('../compiler') as typeof import('../compiler');
    try {
      const out = compile({ modules: this.modules, queries: [{ name: QUERY, query: `result := ${dataRef(key)}` }], strictBuiltinErrors: strict });
      const policy = WasmPolicy.loadSync(out.wasm, { strictBuiltinErrors: strict });
      policy.setData(this.bundle.bundle.data);
      return { policy };
    } catch (err) {
      return { error: `data.${key.join('.')} cannot be compiled: ${(err as Error).message}` };
    }
  }

  /** The sources' rule index, read once (null: the bundle has no .rego sources). */
  private sourceIndex(): SourceIndex | null | string {
    if (this.index !== undefined) return this.index;
    const rego = this.bundle.bundle.rego;
    if (rego.size === 0) return (this.index = null);
    /* eslint-disable @typescript-eslint/no-var-requires */
    const { parseAll } = require('../compiler') as typeof import('../compiler');
    const { bundleSources } = require('../compiler/rego-version') as typeof import('../compiler/rego-version');
    /* eslint-enable @typescript-eslint/no-var-requires */
    try {
      this.modules = bundleSources(rego, this.bundle.bundle.manifest, `${this.bundle.name}/.manifest`);
      this.index = buildIndex(parseAll(this.modules));
    } catch (err) {
      this.index = (err as Error).message.split('\n')[0];
    }
    return this.index;
  }
}

function lookupIn(v: { defined: boolean; value?: unknown }, rest: string[], isSet: boolean): { defined: boolean; value?: unknown } {
  if (!v.defined || rest.length === 0) return v;
  return lookup(v.value, rest, isSet);
}
