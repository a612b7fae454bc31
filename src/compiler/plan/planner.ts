/**
 * The planner: lowers checked Rego (the rule tree) to the IR in ../ir.ts.
 *
 * Bodies are lowered in continuation style: lowering an expression emits its statements into the
 * current block and calls the continuation (the rest of the body) at the point where the expression
 * has produced one solution — inside a `scan` body when it iterates. "Undefined" is a failing
 * statement, which leaves the enclosing block, so no backtracking is needed.
 *
 * Expressions are taken in a safe order (as OPA reorders them): the first remaining expression whose
 * inputs are all bound goes next. Every rule group and every package node becomes an IR function
 * taking (input, data); rule groups without arguments are memoized by the runtime.
 */
import type * as A from '../ast';
import type { Block, Const, ConstId, Func, Local, Plan, Program, Stmt } from '../ir';
import { RegoError, unsupported } from '../errors';
import { RuleGroup, RuleTree, Scope, TreeNode, RuleDef, nodeAt } from '../check/tree';
import { lookupBuiltinInfo } from './builtins';
import { noteStmts, noteTag, type NoteKind } from './explain';
import { hoistDynamicTerms } from './dynamic-terms';
import { type Kind, checkArgKinds, literalKind } from './literal-types';
import { NameResolver, allVarsExpr, allVarsTerm, callName, comprehensionLocals, declaredNames, everyLocals, isOp, needs, patNeeds, scopeVarsExpr, scopeVarsTerm, visitScopeVars } from './vars';
import { MetadataIndex } from '../check/metadata';

/**
 * A `with` replacement of a function or built-in: another function (user function or built-in) or a
 * constant. Rules and functions planned under replacements are specialized copies (cached per set of
 * replacements), so the original functions and their memo caches are untouched.
 */
type Repl =
  | { kind: 'group'; group: RuleGroup }
  | { kind: 'builtin'; name: string }
  | { kind: 'const'; c: Const }
  /** the value of a rule (`with time.now_ns as r`), computed where the replaced call is made */
  | { kind: 'rule'; group: RuleGroup }
  /**
   * a value computed where the `with` is (a local, a comprehension, …): functions planned under it
   * receive it as an extra parameter (see valueMockKeys), so one specialized copy serves every value
   */
  | { kind: 'value' };
type Mocks = ReadonlyMap<string, Repl>;
const NO_MOCKS: Mocks = new Map();

function mocksKey(m: Mocks): string {
  if (m.size === 0) return '';
  return [...m.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([k, r]) => `${k}=${r.kind === 'group' || r.kind === 'rule' ? r.kind + ':' + r.group.path.join('.') : r.kind === 'builtin' ? 'b:' + r.name : r.kind === 'value' ? 'v' : 'c:' + constKey(r.c)}`)
    .join(';');
}

interface Env {
  vars: Map<string, Local>;
  input: Local;
  data: Local;
  mocks: Mocks;
  /** where the values of the `value` replacements in `mocks` are held in the current function */
  mockVals: ReadonlyMap<string, Local>;
}

const NO_VALS: ReadonlyMap<string, Local> = new Map();

/** The targets replaced by computed values, in the order their values are passed as extra parameters. */
function valueMockKeys(m: Mocks): string[] {
  const out: string[] = [];
  for (const [k, r] of m) if (r.kind === 'value') out.push(k);
  return out.sort();
}

/** The environment at the start of a function planned under `mocks` whose value parameters start at `first`. */
function paramEnv(mocks: Mocks, first: number): Env {
  const vals = new Map(valueMockKeys(mocks).map((k, i) => [k, first + i] as [string, Local]));
  return { vars: new Map(), input: 0, data: 1, mocks, mockVals: vals };
}

/** Per-function emission state. */
class FuncBuilder {
  nlocals: number;
  cur: Stmt[] = [];
  depth = 0;
  /** locals filled from a literal of the policy, by kind (for the built-in argument type check) */
  kinds = new Map<Local, Kind>();
  constructor(params: number) {
    this.nlocals = params;
  }
  local(): Local {
    return this.nlocals++;
  }
  emit(s: Stmt): void {
    this.cur.push(s);
  }
  /** Run `fn` emitting into `body` (one level deeper). */
  into(body: Block, fn: () => void): void {
    const saved = this.cur;
    this.cur = body;
    this.depth++;
    try {
      fn();
    } finally {
      this.cur = saved;
      this.depth--;
    }
  }
  block(fn: () => void): void {
    const body: Block = [];
    this.emit({ op: 'block', body });
    this.into(body, fn);
  }
}

/** Lowering context for one body (a rule body, a comprehension, a query). */
interface Ctx {
  fb: FuncBuilder;
  scope: Scope;
  /** names declared local somewhere in the rule (shadow globals) */
  locals: Set<string>;
  /** variables of the enclosing body outside comprehensions: comprehensions close over these */
  outer: Set<string>;
  /** variables this body declares with `:=` / `some` (comprehensions do not close over them early) */
  declaredHere?: Set<string>;
  /** variables bound when this body started (a `:=` in a nested body shadows them) */
  outerBound?: Set<string>;
  /** the rule (and else branch) being planned: what rego.metadata.* describe */
  meta?: { def: RuleDef; branch: A.Rule };
}

type K = (env: Env) => void;
type KV = (l: Local, env: Env) => void;

const unsafeVar = (loc: A.Location, name: string) => new RegoError('rego_unsafe_var_error', loc, `var ${name} is unsafe`);

function constKey(c: Const): string {
  return JSON.stringify(c);
}

export interface PlanOptions {
  entrypoints: string[];
  queries: Array<{ name: string; body: A.Body; loc: A.Location }>;
  strictBuiltinErrors: boolean;
}

export class Planner {
  private constants: Const[] = [];
  private constIds = new Map<string, ConstId>();
  private funcs: Func[] = [];
  private specialized = new Map<object, Map<string, number>>();
  private inProgress = new Map<object, Set<string>>();
  /** counter for the variables of terms moved out of an expression (`$dyn0`, …: no Rego name can collide) */
  private freshVars = 0;

  private cached(o: object, key: string): number | undefined {
    return this.specialized.get(o)?.get(key);
  }

  private setCached(o: object, key: string, id: number): void {
    let m = this.specialized.get(o);
    if (!m) this.specialized.set(o, (m = new Map()));
    m.set(key, id);
  }

  private enter(o: object, key: string): boolean {
    let s = this.inProgress.get(o);
    if (!s) this.inProgress.set(o, (s = new Set()));
    if (s.has(key)) return false;
    s.add(key);
    return true;
  }

  private leave(o: object, key: string): void {
    this.inProgress.get(o)?.delete(key);
  }
  readonly errors: RegoError[] = [];
  /** built-ins the program calls, with the first place each is called (the emitter needs an implementation) */
  readonly usedBuiltins = new Map<string, A.Location>();

  /** `explain`: instrument rule bodies with explain notes (plan/explain.ts); never for ordinary decisions */
  constructor(private tree: RuleTree, private scopes: Map<A.Module, Scope>, private readonly explain = false) {}

  /** An explain note for a body of g that held with `value` (nothing unless instrumenting). */
  private note(fb: FuncBuilder, g: RuleGroup, mocks: Mocks, at: A.Rule, kind: NoteKind, value: Local): void {
    if (!this.explain || g.kind === 'function' || mocksKey(mocks) !== '') return;
    const site = fb.local();
    const tag = noteTag({ rule: ['data', ...g.path].join('.'), kind, location: `${at.loc.file}:${at.loc.line}:${at.loc.col}` });
    fb.emit({ op: 'const', dst: site, c: this.constId({ t: 'str', v: tag }) });
    fb.emit(noteStmts(site, value, fb.local(), fb.local()));
  }

  private metadataIndex: MetadataIndex | undefined;
  private metadata(): MetadataIndex {
    return (this.metadataIndex ??= new MetadataIndex([...this.scopes.keys()]));
  }

  /** Plan every rule group (so errors anywhere are reported), then the entrypoints and queries. */
  program(opts: PlanOptions): Program {
    for (const g of this.tree.groups) {
      try {
        this.groupFunc(g, g.defs[0]?.rule.loc ?? g.defaults[0].rule.loc, NO_MOCKS);
      } catch (e) {
        if (e instanceof RegoError) this.errors.push(e);
        else throw e;
      }
    }
    const plans: Plan[] = [];
    if (this.errors.length) return { constants: this.constants, funcs: this.funcs, plans, strictBuiltinErrors: opts.strictBuiltinErrors };
    for (const ep of opts.entrypoints) {
      try {
        plans.push(this.entrypointPlan(ep));
      } catch (e) {
        if (e instanceof RegoError) this.errors.push(e);
        else throw e;
      }
    }
    for (const q of opts.queries) {
      try {
        plans.push(this.queryPlan(q.name, q.body, q.loc));
      } catch (e) {
        if (e instanceof RegoError) this.errors.push(e);
        else throw e;
      }
    }
    return { constants: this.constants, funcs: this.funcs, plans, strictBuiltinErrors: opts.strictBuiltinErrors };
  }

  // ------------------------------------------------------------ constants

  private constId(c: Const): ConstId {
    const k = constKey(c);
    let id = this.constIds.get(k);
    if (id === undefined) {
      id = this.constants.length;
      this.constants.push(c);
      this.constIds.set(k, id);
    }
    return id;
  }

  private emitConst(fb: FuncBuilder, c: Const): Local {
    const dst = fb.local();
    fb.emit({ op: 'const', dst, c: this.constId(c) });
    return dst;
  }

  private str(fb: FuncBuilder, s: string): Local {
    return this.emitConst(fb, { t: 'str', v: s });
  }

  // ------------------------------------------------------------ plans

  private entrypointPlan(name: string): Plan {
    const parts = name.split('/').filter((p) => p.length);
    const loc: A.Location = { file: '<entrypoint>', line: 1, col: 1 };
    const node = nodeAt(this.tree, parts);
    if (!node) throw new RegoError('rego_compile_error', loc, `entrypoint ${name} does not match any rule or package`);
    if (node.group?.kind === 'function') throw new RegoError('rego_compile_error', loc, `entrypoint ${name} is a function`);
    const fb = new FuncBuilder(2);
    const env: Env = { vars: new Map(), input: 0, data: 1, mocks: NO_MOCKS, mockVals: NO_VALS };
    fb.block(() => {
      const l = this.nodeValue(fb, node, env, loc);
      const o = fb.local();
      fb.emit({ op: 'make_object', dst: o });
      fb.emit({ op: 'object_insert', obj: o, key: this.str(fb, 'result'), val: l });
      fb.emit({ op: 'result_add', val: o });
    });
    return { name: parts.join('/'), locals: fb.nlocals, body: fb.cur };
  }

  private queryPlan(name: string, body: A.Body, loc: A.Location): Plan {
    const fb = new FuncBuilder(2);
    const scope: Scope = { module: { type: 'module', file: loc.file, package: { path: [], loc }, imports: [], rules: [], annotations: [] }, globals: new Map() };
    const locals = new Set<string>();
    declaredNames(body, locals);
    const ctx: Ctx = { fb, scope, locals, outer: new Set() };
    const order: string[] = [];
    const seen = new Set<string>();
    for (const e of body) {
      const vs = new Set<string>();
      scopeVarsExpr(e, vs);
      for (const v of vs) if (!seen.has(v) && this.isLocal(ctx, v) && !v.startsWith('__')) { seen.add(v); order.push(v); }
    }
    const env: Env = { vars: new Map(), input: 0, data: 1, mocks: NO_MOCKS, mockVals: NO_VALS };
    fb.block(() => {
      this.lowerBody(ctx, body, env, (env2) => {
        const o = fb.local();
        fb.emit({ op: 'make_object', dst: o });
        for (const v of order) {
          const l = env2.vars.get(v);
          if (l === undefined) continue;
          fb.emit({ op: 'object_insert', obj: o, key: this.str(fb, v), val: l });
        }
        fb.emit({ op: 'result_add', val: o });
      });
    });
    return { name, locals: fb.nlocals, body: fb.cur };
  }

  // ------------------------------------------------------------ functions for rule groups and nodes

  private groupFunc(g: RuleGroup, refLoc: A.Location, mocks: Mocks): number {
    const mk = mocksKey(mocks);
    const have = this.cached(g, mk);
    if (have !== undefined) return have;
    const name = ['data', ...g.path].join('.');
    if (!this.enter(g, mk)) throw new RegoError('rego_recursion_error', refLoc, `rule ${name} is recursive`);
    try {
      const nv = valueMockKeys(mocks).length;
      const fb = new FuncBuilder(2 + g.arity + nv);
      const r = fb.local();
      fb.emit({ op: 'reset', dst: r });
      if (g.kind === 'set') fb.emit({ op: 'make_set', dst: r });
      if (g.kind === 'object' || g.kind === 'nested' || g.kind === 'set_tree') fb.emit({ op: 'make_object', dst: r });
      const seen = g.kind === 'nested' ? fb.local() : -1;
      if (seen >= 0) fb.emit({ op: 'make_object', dst: seen });
      for (const def of g.defs) this.planDef(fb, g, def, r, seen, mocks);
      for (const def of g.defaults) {
        const ctx = this.ruleCtx(fb, def);
        fb.block(() => {
          fb.emit({ op: 'is_undefined', a: r });
          const v = def.rule.head.value;
          const env = paramEnv(mocks, 2 + g.arity);
          if (!v) {
            const t = this.emitConst(fb, { t: 'bool', v: true });
            this.note(fb, g, mocks, def.rule, 'default', t);
            fb.emit({ op: 'assign', dst: r, src: t });
          } else {
            this.evalTerm(ctx, v, env, (l) => {
              this.note(fb, g, mocks, def.rule, 'default', l);
              fb.emit({ op: 'assign', dst: r, src: l });
            });
          }
        });
      }
      const id = this.funcs.length;
      this.funcs.push({ name: `g${id}.${name}${mk ? ' [with ' + mk + ']' : ''}`, params: 2 + g.arity + nv, locals: fb.nlocals, result: r, body: fb.cur, memo: g.arity === 0 && nv === 0 });
      this.setCached(g, mk, id);
      return id;
    } finally {
      this.leave(g, mk);
    }
  }

  /** The context of one rule (or one `else` branch of it: each branch has its own declarations). */
  private ruleCtx(fb: FuncBuilder, def: RuleDef, branch: A.Rule = def.rule): Ctx {
    const scope = this.scopes.get(def.module)!;
    const locals = new Set<string>();
    for (const a of def.rule.head.args ?? []) allVarsTerm(a, locals);
    // an argument `input.x` is a value to match (OPA's RewriteRefsInHead), not a variable named input
    locals.delete('input');
    locals.delete('data');
    declaredNames(branch.body, locals);
    // head variables that are not rule names resolve locally as well (checked for safety later)
    return { fb, scope, locals, outer: new Set(), meta: { def, branch } };
  }

  /**
   * Plan one rule of group g into its document r. `prefix`: the static keys from the document being
   * built down to g (a `contains` rule planned into the set tree of a rule above it, setTreeOverlapFunc).
   */
  private planDef(fb: FuncBuilder, g: RuleGroup, def: RuleDef, r: Local, seen: Local, mocks: Mocks, prefix: string[] = []): void {
    const rule = def.rule;
    const ctx = this.ruleCtx(fb, def);
    const env0 = paramEnv(mocks, 2 + g.arity);
    const kind = g.kind === 'function' ? 'function' : 'rule';
    const headOuter = (extra: A.Term[]) => {
      const s = new Set<string>();
      for (const t of extra) scopeVarsTerm(t, s);
      return s;
    };
    const value = (rr: A.Rule): A.Term => rr.head.value ?? { type: 'boolean', value: true, loc: rr.head.loc };
    fb.block(() => {
      const args = rule.head.args ?? [];
      const bindArgs = (i: number, env: Env, k: K): void => {
        if (i === args.length) return k(env);
        this.unify(ctx, args[i], 2 + i, env, (env2) => bindArgs(i + 1, env2, k));
      };
      bindArgs(0, env0, (envA) => {
        if (g.kind === 'complete' || g.kind === 'function') {
          const tmp = fb.local();
          fb.emit({ op: 'reset', dst: tmp });
          let first = true;
          for (let rr: A.Rule | undefined = rule; rr; rr = rr.else) {
            const branch = rr;
            const guard = !first;
            first = false;
            fb.block(() => {
              if (guard) fb.emit({ op: 'is_undefined', a: tmp });
              const v = value(branch);
              const c2: Ctx = { ...this.ruleCtx(fb, def, branch), outer: headOuter([v, ...args]) };
              this.lowerBody(c2, branch.body, envA, (env2) =>
                this.evalTerm(c2, v, env2, (l) => {
                  this.note(fb, g, mocks, branch, guard ? 'else' : 'body', l);
                  fb.emit({ op: 'assign_once', dst: tmp, src: l, kind });
                }),
              );
            });
          }
          fb.emit({ op: 'assign_once', dst: r, src: tmp, kind });
        } else if (g.kind === 'set' && prefix.length === 0) {
          const key = rule.head.key!;
          const c2: Ctx = { ...ctx, outer: headOuter([key]) };
          this.lowerBody(c2, rule.body, envA, (env2) =>
            this.evalTerm(c2, key, env2, (l) => {
              this.note(fb, g, mocks, rule, 'body', l);
              fb.emit({ op: 'set_add', set: r, val: l });
            }),
          );
        } else if (g.kind === 'object') {
          const key = def.rest[0];
          const v = value(rule);
          const c2: Ctx = { ...ctx, outer: headOuter([key, v]) };
          this.lowerBody(c2, rule.body, envA, (env2) =>
            this.evalTerm(c2, key, env2, (kl, env3) =>
              this.evalTerm(c2, v, env3, (vl) => {
                this.note(fb, g, mocks, rule, 'body', vl);
                fb.emit({ op: 'object_insert_once', obj: r, key: kl, val: vl });
              }),
            ),
          );
        } else if (g.kind === 'set_tree' || g.kind === 'set') {
          // `p[x].q contains y`: find or create the objects along the keys (all built in this call,
          // so they may be filled in place), then add the element to the set at the end.
          const elem = rule.head.key!;
          const c2: Ctx = { ...ctx, outer: headOuter([...def.rest, elem]) };
          this.lowerBody(c2, rule.body, envA, (env2) =>
            this.evalTerms(c2, def.rest, env2, (restKeys, env3) =>
              this.evalTerm(c2, elem, env3, (el) => {
                const keys = [...prefix.map((k) => this.str(fb, k)), ...restKeys];
                let cur = r;
                keys.forEach((kl, i) => {
                  cur = this.childOrNew(fb, cur, kl, i === keys.length - 1 ? 'make_set' : 'make_object');
                });
                fb.emit({ op: 'set_add', set: cur, val: el });
              }),
            ),
          );
        } else {
          // nested ref head: a.b[k].c := v — record the full key path once (conflict check at the
          // leaf), then merge the singleton nested object into the document.
          const v = value(rule);
          const c2: Ctx = { ...ctx, outer: headOuter([...def.rest, v]) };
          this.lowerBody(c2, rule.body, envA, (env2) =>
            this.evalTerms(c2, def.rest, env2, (keys, env3) =>
              this.evalTerm(c2, v, env3, (vl) => {
                const p = fb.local();
                fb.emit({ op: 'make_array', dst: p, cap: keys.length });
                for (const kl of keys) fb.emit({ op: 'array_append', arr: p, val: kl });
                fb.emit({ op: 'object_insert_once', obj: seen, key: p, val: vl });
                this.note(fb, g, mocks, rule, 'body', vl);
                let inner = vl;
                for (let i = keys.length - 1; i >= 0; i--) {
                  const o = fb.local();
                  fb.emit({ op: 'make_object', dst: o });
                  fb.emit({ op: 'object_insert', obj: o, key: keys[i], val: inner });
                  inner = o;
                }
                const m = fb.local();
                fb.emit({ op: 'object_merge', dst: m, a: r, b: inner });
                fb.emit({ op: 'assign', dst: r, src: m });
              }),
            ),
          );
        }
      });
    });
  }

  /**
   * obj[key], inserting a new empty object or set there first when obj has no such key. When rules
   * put a set where another needs an object (refs of different lengths whose keys meet), the document
   * has two values at one key: that stops the evaluation with eval_conflict_error ("object keys must
   * be unique") rather than dropping an element.
   */
  private childOrNew(fb: FuncBuilder, obj: Local, key: Local, make: 'make_object' | 'make_set'): Local {
    const child = fb.local();
    fb.emit({ op: 'reset', dst: child });
    fb.block(() => fb.emit({ op: 'dot', dst: child, src: obj, key }));
    fb.block(() => {
      fb.emit({ op: 'is_undefined', a: child });
      fb.emit({ op: make, dst: child });
      fb.emit({ op: 'object_insert', obj, key, val: child });
    });
    fb.block(() => {
      fb.emit({ op: 'not', body: [{ op: make === 'make_set' ? 'is_set' : 'is_object', a: child }] });
      const other = fb.local();
      fb.emit({ op: make, dst: other });
      this.keyConflict(fb, key, child, other);
    });
    return child;
  }

  /**
   * Stop the evaluation with eval_conflict_error "object keys must be unique" (the runtime's error for
   * two different values under one key): a and b must differ.
   */
  private keyConflict(fb: FuncBuilder, key: Local, a: Local, b: Local): void {
    const o = fb.local();
    fb.emit({ op: 'make_object', dst: o });
    fb.emit({ op: 'object_insert_once', obj: o, key, val: a });
    fb.emit({ op: 'object_insert_once', obj: o, key, val: b });
  }

  /** The object for a package / rule-path prefix: its rules' values merged with base data under it. */
  private nodeFunc(node: TreeNode, refLoc: A.Location, mocks: Mocks): number {
    return this.memoFunc(node, node.path, refLoc, mocks, 'n', (fb, env) => {
      const r = fb.local();
      fb.emit({ op: 'make_object', dst: r });
      for (const [k, child] of node.children) {
        if (child.group?.kind === 'function' && child.children.size === 0) continue;
        fb.block(() => {
          const l = this.nodeValue(fb, child, env, refLoc);
          fb.emit({ op: 'object_insert', obj: r, key: this.str(fb, k), val: l });
        });
      }
      // Base data under this node: sub-packages already merged their own base data; where base data
      // and a rule's value share a key, the base document's value is what OPA reports.
      const out = r;
      const nodeKeys = [...node.children.entries()].filter(([, c]) => !c.group).map(([k]) => ({ t: 'str', v: k }) as Const);
      fb.block(() => {
        const base = this.dataDots(fb, env.data, node.path);
        fb.emit({ op: 'is_object', a: base });
        const kl = fb.local();
        const vl = fb.local();
        const body: Block = [];
        fb.emit({ op: 'scan', src: base, key: kl, value: vl, body });
        fb.into(body, () => {
          if (nodeKeys.length) {
            const keys = this.emitConst(fb, { t: 'set', v: nodeKeys });
            const hit = fb.local();
            fb.emit({ op: 'reset', dst: hit });
            fb.block(() => fb.emit({ op: 'dot', dst: hit, src: keys, key: kl }));
            fb.emit({ op: 'is_undefined', a: hit });
          }
          fb.emit({ op: 'object_insert', obj: r, key: kl, val: vl });
        });
      });
      return out;
    });
  }

  /**
   * A partial object `p[k] := v` / `p[x].q := v` with complete rules below it (`p.foo := "bar"`,
   * `p.see.other := 1`; see isMergeableOverlap): the object's entries plus each defined rule's value
   * at its path. A path the object already defines must hold an equal value, and a path through a
   * non-object is a conflict (eval_conflict_error "object keys must be unique"), as OPA reports rules
   * that overlap at evaluation.
   */
  private overlapKeys = new Map<TreeNode, object>();
  private overlapKey(node: TreeNode): object {
    let k = this.overlapKeys.get(node);
    if (!k) this.overlapKeys.set(node, (k = {}));
    return k;
  }
  private overlapFunc(node: TreeNode, refLoc: A.Location, mocks: Mocks): number {
    const g = node.group!;
    return this.memoFunc(this.overlapKey(node), node.path, refLoc, mocks, 'o', (fb, env) => {
      const base = fb.local();
      fb.emit({ op: 'call', dst: base, func: this.groupFunc(g, refLoc, mocks), args: [env.input, env.data, ...this.mockArgs(env)] });
      // copy: the group's value may be memoized and shared
      const r = fb.local();
      fb.emit({ op: 'make_object', dst: r });
      const m = fb.local();
      fb.emit({ op: 'object_merge', dst: m, a: r, b: base });
      fb.emit({ op: 'assign', dst: r, src: m });
      const leaves = (n: TreeNode): TreeNode[] => [...n.children.values()].flatMap((c) => (c.group ? [c] : leaves(c)));
      for (const leaf of leaves(node)) {
        fb.block(() => {
          const l = this.nodeValue(fb, leaf, env, refLoc);
          const keys = leaf.path.slice(node.path.length).map((k) => this.str(fb, k));
          this.conflictIfDefinedOtherwise(fb, r, keys, 0, l);
          const u = fb.local();
          fb.emit({ op: 'upsert', dst: u, src: r, path: keys, val: l });
          fb.emit({ op: 'assign', dst: r, src: u });
        });
      }
      return r;
    });
  }

  /**
   * A `contains` rule tree with `contains` rules below it (see isSetTreeOverlap): every rule of the
   * subtree planned into one object of sets, each under its static path from this node, so rules
   * reaching the same set add to it.
   */
  private setTreeOverlapFunc(node: TreeNode, refLoc: A.Location, mocks: Mocks): number {
    return this.memoFunc(this.overlapKey(node), node.path, refLoc, mocks, 's', (fb) => {
      const r = fb.local();
      fb.emit({ op: 'make_object', dst: r });
      const plan = (n: TreeNode): void => {
        if (n.group) for (const def of n.group.defs) this.planDef(fb, n.group, def, r, -1, mocks, n.path.slice(node.path.length));
        for (const c of n.children.values()) plan(c);
      };
      plan(node);
      return r;
    });
  }

  /**
   * The function computing a tree node's whole document under one set of `with` replacements, planned
   * once per (cacheKey, replacements) and memoized when nothing is replaced: `build` emits its body and
   * returns the local holding the result. `tag` prefixes the function's name in plan dumps (n: a
   * package or path prefix, o: an object rule merged with rules below it, s: a tree of sets).
   */
  private memoFunc(cacheKey: object, path: string[], refLoc: A.Location, mocks: Mocks, tag: string, build: (fb: FuncBuilder, env: Env) => Local): number {
    const mk = mocksKey(mocks);
    const have = this.cached(cacheKey, mk);
    if (have !== undefined) return have;
    const name = ['data', ...path].join('.');
    const what = tag === 'n' ? 'document' : 'rule';
    if (!this.enter(cacheKey, mk)) throw new RegoError('rego_recursion_error', refLoc, `${what} ${name} is recursive`);
    try {
      const nv = valueMockKeys(mocks).length;
      const fb = new FuncBuilder(2 + nv);
      const r = build(fb, paramEnv(mocks, 2));
      const id = this.funcs.length;
      this.funcs.push({ name: `${tag}${id}.${name}${mk ? ' [with ' + mk + ']' : ''}`, params: 2 + nv, locals: fb.nlocals, result: r, body: fb.cur, memo: nv === 0 });
      this.setCached(cacheKey, mk, id);
      return id;
    } finally {
      this.leave(cacheKey, mk);
    }
  }

  /**
   * Abort with eval_conflict_error ("object keys must be unique") when doc already holds, along keys,
   * a value other than val, or a non-object on the way; carry on when the path is free or holds val.
   */
  private conflictIfDefinedOtherwise(fb: FuncBuilder, doc: Local, keys: Local[], i: number, val: Local): void {
    fb.block(() => {
      const t = fb.local();
      fb.emit({ op: 'dot', dst: t, src: doc, key: keys[i] }); // absent: nothing defined there, no conflict
      const last = i === keys.length - 1;
      fb.block(() => {
        let other = val;
        if (last) fb.emit({ op: 'not_equal', a: t, b: val });
        else {
          fb.emit({ op: 'not', body: [{ op: 'is_object', a: t }] });
          other = fb.local();
          fb.emit({ op: 'make_object', dst: other });
        }
        this.keyConflict(fb, keys[i], t, other);
      });
      if (!last) this.conflictIfDefinedOtherwise(fb, t, keys, i + 1, val);
    });
  }

  /** Emit the value of a tree node (rule group or package); fails when undefined. */
  private nodeValue(fb: FuncBuilder, node: TreeNode, env: Env, loc: A.Location): Local {
    const dst = fb.local();
    if (node.group) {
      if (node.group.kind === 'function') throw new RegoError('rego_type_error', loc, `function ${['data', ...node.path].join('.')} used as a value`);
      // replaced by `with data.<rule> as …`
      const key = 'data.' + node.group.path.join('.');
      const repl = env.mocks.get(key);
      if (repl?.kind === 'const') {
        fb.emit({ op: 'assign', dst, src: this.emitConst(fb, repl.c) });
        return dst;
      }
      if (repl?.kind === 'value') {
        fb.emit({ op: 'assign', dst, src: this.mockVal(env, key) });
        return dst;
      }
      const fid =
        node.children.size === 0
          ? this.groupFunc(node.group, loc, env.mocks)
          : node.group.kind === 'set_tree'
            ? this.setTreeOverlapFunc(node, loc, env.mocks)
            : this.overlapFunc(node, loc, env.mocks);
      fb.emit({ op: 'call', dst, func: fid, args: [env.input, env.data, ...this.mockArgs(env)] });
    } else {
      fb.emit({ op: 'call', dst, func: this.nodeFunc(node, loc, env.mocks), args: [env.input, env.data, ...this.mockArgs(env)] });
    }
    return dst;
  }

  private dataDots(fb: FuncBuilder, from: Local, path: string[]): Local {
    let cur = from;
    if (path.length === 0) {
      const d = fb.local();
      fb.emit({ op: 'assign', dst: d, src: from });
      return d;
    }
    for (const p of path) {
      const d = fb.local();
      fb.emit({ op: 'dot', dst: d, src: cur, key: this.str(fb, p) });
      cur = d;
    }
    return cur;
  }

  // ------------------------------------------------------------ names

  private isLocal(ctx: Ctx, name: string): boolean {
    if (ctx.locals.has(name)) return true;
    if (name === 'input' || name === 'data') return false;
    return !ctx.scope.globals.has(name);
  }

  private resolver(ctx: Ctx): NameResolver {
    return { isLocal: (n) => this.isLocal(ctx, n), declaredHere: ctx.declaredHere };
  }

  private unboundNeeds(ctx: Ctx, t: A.Term, env: Env, pattern: boolean): string[] {
    const s = new Set<string>();
    (pattern ? patNeeds : needs)(t, this.resolver(ctx), ctx.outer, s);
    return [...s].filter((v) => !env.vars.has(v));
  }

  private canEval(ctx: Ctx, t: A.Term, env: Env): boolean {
    return this.unboundNeeds(ctx, t, env, false).length === 0;
  }

  private canPattern(ctx: Ctx, t: A.Term, env: Env): boolean {
    return this.unboundNeeds(ctx, t, env, true).length === 0;
  }

  // ------------------------------------------------------------ bodies

  lowerBody(ctx: Ctx, body: A.Body, env: Env, k: K): void {
    checkDeclaredUsed(body, ctx.outer);
    const outer = new Set(ctx.outer);
    const declaredHere = new Set<string>();
    for (const e of body) {
      scopeVarsExpr(e, outer);
      const v = e.value;
      if (v.type === 'some') for (const x of v.vars) declaredHere.add(x.name);
      if (v.type === 'term' && isOp(v.term, 'assign')) allVarsTerm((v.term as A.CallTerm).args[0], declaredHere);
    }
    const c2: Ctx = { ...ctx, outer, declaredHere, outerBound: new Set(env.vars.keys()) };
    this.lowerExprs(c2, body, env, k);
  }

  private lowerExprs(ctx: Ctx, rest: A.Expr[], env: Env, k: K): void {
    if (rest.length === 0) return k(env);
    let idx = rest.findIndex((e) => this.exprReady(ctx, e, env));
    if (idx < 0) {
      const e = rest[0];
      const vs = new Set<string>();
      scopeVarsExpr(e, vs);
      if (e.value.type === 'term') for (const x of this.unboundNeeds(ctx, e.value.term, env, false)) vs.add(x);
      const cands = [...vs].filter((v) => this.isLocal(ctx, v) && !env.vars.has(v));
      // prefer a variable that no remaining expression can bind
      const name = cands.find((v) => !rest.some((o) => o !== e && this.mayBind(o, v))) ?? cands[0] ?? '?';
      throw unsafeVar(e.loc, name);
    }
    const e = rest[idx];
    const remaining = rest.slice(0, idx).concat(rest.slice(idx + 1));
    this.lowerExpr(ctx, e, env, (env2) => this.lowerExprs(ctx, remaining, env2, k));
  }

  private mayBind(e: A.Expr, v: string): boolean {
    const vs = new Set<string>();
    scopeVarsExpr(e, vs);
    return vs.has(v) && !e.negated;
  }

  /** Whether an expression can be lowered with the variables bound in env. */
  private exprReady(ctx: Ctx, e: A.Expr, env: Env): boolean {
    // a with on anything but input/data is refused when lowered: let it be reached
    if (e.with.some((w) => !this.isDocumentTarget(ctx, this.withTarget(ctx, w.target)))) return true;
    for (const w of e.with) if (!this.canEval(ctx, w.value, env)) return false;
    const v = e.value;
    if (e.negated) {
      const vs = new Set<string>();
      scopeVarsExpr(e, vs);
      for (const x of vs) if (this.isLocal(ctx, x) && !env.vars.has(x)) return false;
      return v.type !== 'term' || this.canEval(ctx, v.term, env);
    }
    switch (v.type) {
      case 'some':
        return true;
      case 'some_in':
        return this.canEval(ctx, v.collection, env) && (!v.key || this.canPattern(ctx, v.key, env)) && this.canPattern(ctx, v.value, env);
      case 'every': {
        if (!this.canEval(ctx, v.domain, env)) return false;
        const inner = new Set<string>();
        for (const b of v.body) allVarsExpr(b, inner);
        const own = new Set<string>();
        if (v.key) allVarsTerm(v.key, own);
        allVarsTerm(v.value, own);
        for (const x of inner) if (!own.has(x) && ctx.outer.has(x) && this.isLocal(ctx, x) && !env.vars.has(x)) return false;
        return true;
      }
      case 'term':
        return this.termStmtReady(ctx, v.term, env) || this.hoistedReady(ctx, e, env);
    }
  }

  private termStmtReady(ctx: Ctx, t: A.Term, env: Env): boolean {
    if (t.type === 'call') {
      if (isOp(t, 'eq')) return this.unifyReady(ctx, t.args[0], t.args[1], env);
      if (isOp(t, 'assign')) return this.canEval(ctx, t.args[1], env) && this.canPattern(ctx, t.args[0], env);
      const out = this.outputArg(ctx, t);
      if (out) return t.args.slice(0, -1).every((a) => this.canEval(ctx, a, env)) && this.canPattern(ctx, out, env);
    }
    return this.canEval(ctx, t, env);
  }

  private unifyReady(ctx: Ctx, a: A.Term, b: A.Term, env: Env): boolean {
    if (this.canEval(ctx, a, env) && this.canPattern(ctx, b, env)) return true;
    if (this.canEval(ctx, b, env) && this.canPattern(ctx, a, env)) return true;
    const pairs = this.pairsOf(a, b);
    if (pairs) {
      // pairwise; variables bound by one pair may make the next one ready
      const bound = new Map(env.vars);
      const pending = pairs.slice();
      let progress = true;
      while (pending.length && progress) {
        progress = false;
        for (let i = 0; i < pending.length; i++) {
          const [x, y] = pending[i];
          const e2: Env = { ...env, vars: bound };
          if (this.unifyReady(ctx, x, y, e2)) {
            for (const t of [x, y]) {
              const s = new Set<string>();
              allVarsTerm(t, s);
              for (const n of s) if (this.isLocal(ctx, n)) bound.set(n, -1);
            }
            pending.splice(i, 1);
            progress = true;
            break;
          }
        }
      }
      return pending.length === 0;
    }
    return false;
  }

  /** For a call with one argument more than the function takes, the last argument is its output. */
  private outputArg(ctx: Ctx, t: A.CallTerm): A.Term | undefined {
    const arity = this.callArity(ctx, t);
    if (arity !== undefined && t.args.length === arity + 1) return t.args[arity];
    return undefined;
  }

  private lowerExpr(ctx: Ctx, e: A.Expr, env: Env, k: K): void {
    if (e.with.length) return this.lowerWith(ctx, e, 0, env, env, k);
    this.lowerExprCore(ctx, e, env, k);
  }

  private lowerExprCore(ctx: Ctx, e: A.Expr, env: Env, k: K): void {
    const fb = ctx.fb;
    if (e.negated) {
      // a negation cannot iterate: OPA's safety check refuses a wildcard in one (CheckSafetyRuleBodies)
      if (e.value.type === 'term') {
        visitScopeVars(e.value.term, (v) => {
          if (v.name === '_') throw unsafeVar(v.loc, '_');
        });
      }
      // the terms OPA evaluates before the negation run first: when one is undefined, so is the body
      const { support, core } = this.hoist(ctx, e);
      const negate = (env1: Env): void => {
        // not: succeeds when the expression has no solution. A flag records a solution; break leaves early.
        const flag = fb.local();
        fb.emit({ op: 'reset', dst: flag });
        const d0 = fb.depth;
        fb.block(() => {
          this.lowerPositive(ctx, core, env1, () => {
            fb.emit({ op: 'const', dst: flag, c: this.constId({ t: 'bool', v: true }) });
            fb.emit({ op: 'break', levels: fb.depth - d0 - 1 });
          });
        });
        fb.emit({ op: 'is_undefined', a: flag });
        k(env1);
      };
      return this.lowerSupport(ctx, support, 0, env, negate);
    }
    // a call whose reference arguments bind its variables: those references first (see exprReady)
    if (e.value.type === 'term' && !this.termStmtReady(ctx, e.value.term, env) && this.hoistedReady(ctx, e, env)) {
      const { support, core } = this.hoist(ctx, e);
      return this.lowerSupport(ctx, support, 0, env, (env1) => this.lowerPositive(ctx, core, env1, k));
    }
    this.lowerPositive(ctx, e, env, k);
  }

  /** Split e as OPA's RewriteExprTerms / RewriteDynamicTerms do (see dynamic-terms.ts). */
  private hoist(ctx: Ctx, e: A.Expr, fresh = () => `$dyn${this.freshVars++}`) {
    return hoistDynamicTerms(e, (n) => !this.isLocal(ctx, n), fresh);
  }

  private lowerSupport(ctx: Ctx, support: A.Expr[], i: number, env: Env, k: K): void {
    if (i === support.length) return k(env);
    this.lowerPositive(ctx, support[i], env, (env2) => this.lowerSupport(ctx, support, i + 1, env2, k));
  }

  /**
   * Whether a call statement is safe once its moved-out terms run first: the variables in the brackets
   * of a reference argument are outputs of that reference (OPA's safety rule for calls).
   */
  private hoistedReady(ctx: Ctx, e: A.Expr, env: Env): boolean {
    if (e.negated || e.value.type !== 'term' || e.value.term.type !== 'call') return false;
    const t = e.value.term;
    if (isOp(t, 'eq') || isOp(t, 'assign')) return false;
    let n = 0;
    const { support, core } = this.hoist(ctx, e, () => `$probe${n++}`);
    if (support.length === 0 || core.value.type !== 'term') return false;
    const vars = new Map(env.vars);
    for (const s of support) {
      const [v, term] = (s.value as { term: A.CallTerm }).term.args;
      if (!this.canEval(ctx, term, { ...env, vars })) return false;
      const bound = new Set<string>();
      scopeVarsTerm(term, bound);
      scopeVarsTerm(v, bound);
      for (const x of bound) if (this.isLocal(ctx, x) && !vars.has(x)) vars.set(x, -1);
    }
    return this.termStmtReady(ctx, core.value.term, { ...env, vars });
  }

  private lowerPositive(ctx: Ctx, e: A.Expr, env: Env, k: K): void {
    const fb = ctx.fb;
    const v = e.value;
    switch (v.type) {
      case 'some': {
        // declares fresh variables: forget outer bindings of the same names
        const vars = new Map(env.vars);
        for (const x of v.vars) vars.delete(x.name);
        return k({ ...env, vars });
      }
      case 'some_in': {
        this.evalTerm(ctx, v.collection, env, (coll, env1) => {
          const vars = new Map(env1.vars);
          const fresh = new Set<string>();
          if (v.key) allVarsTerm(v.key, fresh);
          allVarsTerm(v.value, fresh);
          for (const n of fresh) vars.delete(n);
          const kl = fb.local();
          const vl = fb.local();
          const body: Block = [];
          fb.emit({ op: 'scan', src: coll, key: kl, value: vl, body });
          fb.into(body, () => {
            const env2 = { ...env1, vars };
            const afterKey = (env3: Env) => this.unify(ctx, v.value, vl, env3, k);
            if (v.key) this.unify(ctx, v.key, kl, env2, afterKey);
            else afterKey(env2);
          });
        });
        return;
      }
      case 'every':
        return this.lowerEvery(ctx, e, v, env, k);
      case 'term':
        return this.lowerTermStmt(ctx, v.term, env, k);
    }
  }

  private lowerEvery(ctx0: Ctx, e: A.Expr, v: Extract<A.ExprValue, { type: 'every' }>, env: Env, k: K): void {
    const fb = ctx0.fb;
    checkEveryVarsUsed(v, e.loc);
    // the domain is the enclosing body's; key and value are the every body's own names
    const ctx: Ctx = { ...ctx0, locals: everyLocals(ctx0.locals, v.key, v.value) };
    this.evalTerm(ctx0, v.domain, env, (dom, env1) => {
      const failed = fb.local();
      fb.emit({ op: 'reset', dst: failed });
      const d0 = fb.depth;
      fb.block(() => {
        const kl = fb.local();
        const vl = fb.local();
        const body: Block = [];
        fb.emit({ op: 'scan', src: dom, key: kl, value: vl, body });
        fb.into(body, () => {
          const vars = new Map(env1.vars);
          const fresh = new Set<string>();
          if (v.key) allVarsTerm(v.key, fresh);
          allVarsTerm(v.value, fresh);
          for (const n of fresh) vars.delete(n);
          // ok := some solution of the body for this element
          const ok = fb.local();
          fb.emit({ op: 'reset', dst: ok });
          const d1 = fb.depth;
          fb.block(() => {
            const env2: Env = { ...env1, vars };
            const afterKey = (env3: Env) =>
              this.unify(ctx, v.value, vl, env3, (env4) =>
                this.lowerBody({ ...ctx }, v.body, env4, () => {
                  fb.emit({ op: 'const', dst: ok, c: this.constId({ t: 'bool', v: true }) });
                  fb.emit({ op: 'break', levels: fb.depth - d1 - 1 });
                }),
              );
            if (v.key) this.unify(ctx, v.key, kl, env2, afterKey);
            else afterKey(env2);
          });
          fb.emit({ op: 'is_undefined', a: ok });
          fb.emit({ op: 'const', dst: failed, c: this.constId({ t: 'bool', v: true }) });
          fb.emit({ op: 'break', levels: fb.depth - d0 - 1 });
        });
      });
      fb.emit({ op: 'is_undefined', a: failed });
      k(env1);
    });
    void e;
  }

  /** `with` modifiers: compute replaced input/data, run the expression with them, restore after. */
  private lowerWith(ctx: Ctx, e: A.Expr, i: number, env0: Env, envW: Env, k: K): void {
    const fb = ctx.fb;
    if (i === e.with.length) {
      return this.lowerExprCore(ctx, e, envW, (env3) => k({ ...env3, input: env0.input, data: env0.data, mocks: env0.mocks, mockVals: env0.mockVals }));
    }
    const w = e.with[i];
    const tgt = this.withTarget(ctx, w.target);
    if (!this.isDocumentTarget(ctx, tgt)) {
      const [key, arity] = this.mockTarget(ctx, tgt, w.loc);
      const repl = this.mockReplacement(ctx, w.value, arity, w.loc);
      return this.withReplacement(ctx, e, i, env0, envW, key, repl, k);
    }
    const path: string[] = [];
    for (const p of tgt.path) {
      if (p.type !== 'string') throw unsupported(w.loc, 'with target path containing a non-string key');
      path.push(p.value);
    }
    const isInput = tgt.head.type === 'var' && tgt.head.name === 'input';
    if (!isInput) {
      if (path.length === 0) throw unsupported(w.loc, 'with data as (replacing all of data)');
      let node: TreeNode | undefined = this.tree.root;
      for (const p of path) {
        if (!node) break;
        if (node.group) throw unsupported(w.loc, `with on data.${path.join('.')} (inside a rule's value)`);
        node = node.children.get(p);
      }
      if (node) {
        // a rule's whole value is replaced (reads of it, of its package, …, see nodeValue); a package,
        // a rule with rules below it or a function stays refused
        const g = node.group;
        if (!g || g.kind === 'function' || node.children.size) throw unsupported(w.loc, `with on data.${path.join('.')} (replacing rules)`);
        const c = this.constOf(w.value);
        return this.withReplacement(ctx, e, i, env0, envW, 'data.' + g.path.join('.'), c ? { kind: 'const', c } : undefined, k);
      }
    }
    // the value is evaluated in the environment outside the with (env0's input/data)
    this.evalTerm(ctx, w.value, { ...envW, input: env0.input, data: env0.data }, (val, env1) => {
      const src = isInput ? envW.input : envW.data;
      let dst: Local;
      if (path.length === 0) {
        dst = fb.local();
        fb.emit({ op: 'assign', dst, src: val });
      } else {
        dst = fb.local();
        const keys = path.map((p) => this.str(fb, p));
        fb.emit({ op: 'upsert', dst, src, path: keys, val });
      }
      const next: Env = { ...env1, input: isInput ? dst : envW.input, data: isInput ? envW.data : dst };
      this.lowerWith(ctx, e, i + 1, env0, next, k);
    });
  }

  /**
   * Continue lowering e's `with` modifiers after the i-th, which replaces `key` (a function, built-in or
   * rule) by `repl`, or when undefined by the value of its term computed outside the with, which is
   * handed to whatever is planned under it.
   */
  private withReplacement(ctx: Ctx, e: A.Expr, i: number, env0: Env, envW: Env, key: string, repl: Repl | undefined, k: K): void {
    if (repl) {
      const mocks = new Map(envW.mocks);
      mocks.set(key, repl);
      return this.lowerWith(ctx, e, i + 1, env0, { ...envW, mocks }, k);
    }
    const outer: Env = { ...envW, input: env0.input, data: env0.data, mocks: env0.mocks, mockVals: env0.mockVals };
    this.evalTerm(ctx, e.with[i].value, outer, (val, env1) => {
      const mocks = new Map(envW.mocks);
      mocks.set(key, { kind: 'value' });
      const mockVals = new Map(envW.mockVals);
      mockVals.set(key, val);
      this.lowerWith(ctx, e, i + 1, env0, { ...env1, input: envW.input, data: envW.data, mocks, mockVals }, k);
    });
  }

  /**
   * A `with` target as OPA's ResolveRefs leaves it: an import alias or a rule of the package is
   * written out as the `input…` / `data…` reference it stands for (`import data.lib` makes
   * `with lib.r as 1` replace data.lib.r). Locals and built-in names stay as written.
   */
  private withTarget(ctx: Ctx, tgt: A.RefTerm): A.RefTerm {
    const h = tgt.head;
    if (h.type !== 'var' || ctx.locals.has(h.name)) return tgt;
    const g = ctx.scope.globals.get(h.name);
    if (!g) return tgt;
    const path: A.Term[] = g.slice(1).map((k) => ({ type: 'string', value: k, loc: h.loc }) as A.Term);
    return { ...tgt, head: { type: 'var', name: g[0], loc: h.loc }, path: [...path, ...tgt.path] };
  }

  /** Whether a (resolved) `with` target replaces part of input or data, not a function. */
  private isDocumentTarget(ctx: Ctx, tgt: A.RefTerm): boolean {
    if (!isInputOrData(ctx, tgt)) return false;
    if (tgt.head.type !== 'var' || tgt.head.name !== 'data') return true;
    const path: string[] = [];
    for (const p of tgt.path) {
      if (p.type !== 'string') return true;
      path.push(p.value);
    }
    return nodeAt(this.tree, path)?.group?.kind !== 'function';
  }

  /** The key and arity of a function or built-in named as a `with` target. */
  private mockTarget(ctx: Ctx, tgt: A.RefTerm, loc: A.Location): [string, number] {
    let r;
    try {
      r = this.resolveCall(ctx, { type: 'call', fn: tgt, args: [], loc });
    } catch (e) {
      // neither a document nor a function or built-in: OPA's RewriteWithValues refuses it too
      if (e instanceof RegoError && e.code === 'rego_type_error') {
        throw new RegoError('rego_type_error', loc, 'with keyword target must reference existing input, data, or a function');
      }
      throw unsupported(loc, `with on ${refText(tgt)}`);
    }
    if ('group' in r) return ['data.' + r.group.path.join('.'), r.group.arity];
    if (['eq', 'assign', 'equal', 'neq', 'internal.member_2', 'internal.member_3', 'print'].includes(r.builtin)) {
      throw unsupported(loc, `with on ${r.builtin}`);
    }
    return [r.builtin, r.arity];
  }

  /** Where the value replacing `key` is held in the current function. */
  private mockVal(env: Env, key: string): Local {
    const l = env.mockVals.get(key);
    if (l === undefined) throw new Error(`internal: no value for the with replacement of ${key}`);
    return l;
  }

  /** The values of the environment's value replacements, as the extra arguments of a specialized function. */
  private mockArgs(env: Env): Local[] {
    return valueMockKeys(env.mocks).map((k) => this.mockVal(env, k));
  }

  /**
   * A `with` replacement known at compile time: a function or built-in of the same arity, a constant, or
   * a rule. undefined when the replacement is a value to compute (a local, a comprehension, a rule's
   * document by ref); a function or built-in of another arity is refused.
   */
  private mockReplacement(ctx: Ctx, v: A.Term, arity: number, loc: A.Location): Repl | undefined {
    const c = this.constOf(v);
    if (c) return { kind: 'const', c };
    const h = v.type === 'ref' ? v.head : v;
    if (v.type === 'var' && !ctx.locals.has(v.name)) {
      const g = ctx.scope.globals.get(v.name);
      const node = g && g[0] === 'data' ? nodeAt(this.tree, g.slice(1)) : undefined;
      if (node?.group && node.group.kind !== 'function') return { kind: 'rule', group: node.group };
    }
    if ((v.type === 'var' || v.type === 'ref') && h.type === 'var' && !ctx.locals.has(h.name) && (v.type === 'ref' || !this.isLocal(ctx, h.name) || lookupBuiltinInfo(h.name))) {
      const ref: A.RefTerm = v.type === 'ref' ? v : { type: 'ref', head: v, path: [], loc: v.loc };
      let r;
      try {
        r = this.resolveCall(ctx, { type: 'call', fn: ref, args: [], loc });
      } catch {
        r = undefined;
      }
      if (r && 'group' in r && r.group.arity === arity) return { kind: 'group', group: r.group };
      if (r && 'builtin' in r && r.arity === arity && !['eq', 'assign', 'print'].includes(r.builtin)) return { kind: 'builtin', name: r.builtin };
      if (r && (('group' in r && r.group.kind === 'function') || 'builtin' in r)) {
        throw unsupported(loc, 'with replacing a function by a function of another arity');
      }
    }
    return undefined;
  }

  private lowerTermStmt(ctx: Ctx, t: A.Term, env: Env, k: K): void {
    const fb = ctx.fb;
    if (t.type === 'call') {
      if (isOp(t, 'eq')) return this.unifyTerms(ctx, t.args[0], t.args[1], env, k);
      if (isOp(t, 'assign')) {
        const lhs = t.args[0];
        const fresh = new Set<string>();
        allVarsTerm(lhs, fresh);
        let envA = env;
        for (const n of fresh) {
          if (!env.vars.has(n)) continue;
          if (!ctx.outerBound?.has(n)) throw new RegoError('rego_compile_error', t.loc, `var ${n} assigned above`);
          // a comprehension / every body declaring a name bound outside: a new variable shadows it
          if (envA === env) envA = { ...env, vars: new Map(env.vars) };
          envA.vars.delete(n);
        }
        if (lhs.type !== 'var' && lhs.type !== 'array' && lhs.type !== 'object') {
          throw new RegoError('rego_compile_error', t.loc, 'cannot assign to ' + lhs.type);
        }
        return this.evalTerm(ctx, t.args[1], env, (l, env2) => {
          const vars = new Map(env2.vars);
          for (const n of fresh) if (!envA.vars.has(n)) vars.delete(n);
          this.unify(ctx, lhs, l, { ...env2, vars }, k);
        });
      }
      if (isOp(t, 'equal') || isOp(t, 'neq')) {
        return this.evalTerms(ctx, t.args, env, ([a, b], env2) => {
          fb.emit(isOp(t, 'equal') ? { op: 'equal', a, b } : { op: 'not_equal', a, b });
          k(env2);
        });
      }
      const out = this.outputArg(ctx, t);
      if (out) {
        const call: A.CallTerm = { ...t, args: t.args.slice(0, -1) };
        return this.evalTerm(ctx, call, env, (l, env2) => this.unify(ctx, out, l, env2, k));
      }
    }
    this.evalTerm(ctx, t, env, (l, env2) => {
      fb.emit({ op: 'truthy', a: l });
      k(env2);
    });
  }

  // ------------------------------------------------------------ unification

  private unifyTerms(ctx: Ctx, a: A.Term, b: A.Term, env: Env, k: K): void {
    if (this.canEval(ctx, a, env) && this.canPattern(ctx, b, env)) {
      return this.evalTerm(ctx, a, env, (l, env2) => this.unify(ctx, b, l, env2, k));
    }
    if (this.canEval(ctx, b, env) && this.canPattern(ctx, a, env)) {
      return this.evalTerm(ctx, b, env, (l, env2) => this.unify(ctx, a, l, env2, k));
    }
    const pairs = this.pairsOf(a, b);
    if (pairs === null) return this.fail(ctx, k, env);
    if (pairs) {
      const pending = pairs;
      const step = (ps: ReadonlyArray<readonly [A.Term, A.Term]>, env1: Env): void => {
        if (ps.length === 0) return k(env1);
        const i = ps.findIndex(([x, y]) => this.unifyReady(ctx, x, y, env1));
        if (i < 0) throw unsafeVar(a.loc, this.unboundNeeds(ctx, ps[0][0], env1, true)[0] ?? this.unboundNeeds(ctx, ps[0][1], env1, true)[0] ?? '?');
        const [x, y] = ps[i];
        this.unifyTerms(ctx, x, y, env1, (env2) => step(ps.filter((_, j) => j !== i), env2));
      };
      return step(pending, env);
    }
    const name = this.unboundNeeds(ctx, a, env, true)[0] ?? this.unboundNeeds(ctx, b, env, true)[0] ?? this.unboundNeeds(ctx, a, env, false)[0] ?? '?';
    throw unsafeVar(a.loc, name);
  }

  /**
   * Two composite terms unified element by element: arrays of the same length, objects with the same
   * constant keys. null when they can never unify; undefined when not decomposable.
   */
  private pairsOf(a: A.Term, b: A.Term): Array<readonly [A.Term, A.Term]> | null | undefined {
    if (a.type === 'array' && b.type === 'array') {
      if (a.items.length !== b.items.length) return null;
      return a.items.map((x, i) => [x, b.items[i]] as const);
    }
    if (a.type === 'object' && b.type === 'object') {
      const ka = new Map<string, A.Term>();
      for (const [k, v] of a.items) {
        const c = this.constOf(k);
        if (!c) return undefined;
        ka.set(constKey(c), v);
      }
      const out: Array<readonly [A.Term, A.Term]> = [];
      if (ka.size !== b.items.length) return null;
      for (const [k, v] of b.items) {
        const c = this.constOf(k);
        if (!c) return undefined;
        const av = ka.get(constKey(c));
        if (!av) return null;
        out.push([av, v]);
      }
      return out;
    }
    if ((a.type === 'array' && b.type === 'object') || (a.type === 'object' && b.type === 'array')) return null;
    return undefined;
  }

  /** Statically failing unification ([1] = [1, 2]): emit a statement that always fails. */
  private fail(ctx: Ctx, k: K, env: Env): void {
    const f = this.emitConst(ctx.fb, { t: 'bool', v: false });
    ctx.fb.emit({ op: 'truthy', a: f });
    k(env);
  }

  /** Match a pattern term against a value in local `v`, binding the pattern's unbound variables. */
  private unify(ctx: Ctx, p: A.Term, v: Local, env: Env, k: K): void {
    const fb = ctx.fb;
    if (p.type === 'var') {
      if (p.name === '_') return k(env);
      if (this.isLocal(ctx, p.name)) {
        const b = env.vars.get(p.name);
        if (b === undefined) {
          const vars = new Map(env.vars);
          vars.set(p.name, v);
          return k({ ...env, vars });
        }
        fb.emit({ op: 'equal', a: b, b: v });
        return k(env);
      }
    }
    if (p.type === 'array' && !this.canEval(ctx, p, env)) {
      fb.emit({ op: 'is_array', a: v });
      const n = fb.local();
      fb.emit({ op: 'len', dst: n, src: v });
      fb.emit({ op: 'equal', a: n, b: this.emitConst(fb, { t: 'num', v: String(p.items.length) }) });
      const step = (i: number, env1: Env): void => {
        if (i === p.items.length) return k(env1);
        const el = fb.local();
        fb.emit({ op: 'dot', dst: el, src: v, key: this.emitConst(fb, { t: 'num', v: String(i) }) });
        this.unify(ctx, p.items[i], el, env1, (env2) => step(i + 1, env2));
      };
      return step(0, env);
    }
    if (p.type === 'object' && !this.canEval(ctx, p, env)) {
      fb.emit({ op: 'is_object', a: v });
      const n = fb.local();
      fb.emit({ op: 'len', dst: n, src: v });
      fb.emit({ op: 'equal', a: n, b: this.emitConst(fb, { t: 'num', v: String(p.items.length) }) });
      const step = (i: number, env1: Env): void => {
        if (i === p.items.length) return k(env1);
        const [kt, vt] = p.items[i];
        this.evalTerm(ctx, kt, env1, (kl, env2) => {
          const el = fb.local();
          fb.emit({ op: 'dot', dst: el, src: v, key: kl });
          this.unify(ctx, vt, el, env2, (env3) => step(i + 1, env3));
        });
      };
      return step(0, env);
    }
    if (!this.canEval(ctx, p, env)) {
      if (p.type === 'set') throw unsupported(p.loc, 'unification with a set pattern containing variables');
      throw unsafeVar(p.loc, this.unboundNeeds(ctx, p, env, false)[0] ?? '?');
    }
    this.evalTerm(ctx, p, env, (l, env2) => {
      fb.emit({ op: 'equal', a: l, b: v });
      k(env2);
    });
  }

  // ------------------------------------------------------------ terms

  private evalTerms(ctx: Ctx, ts: A.Term[], env: Env, k: (ls: Local[], env: Env) => void): void {
    const out: Local[] = [];
    const step = (i: number, env1: Env): void => {
      if (i === ts.length) return k(out.slice(), env1);
      this.evalTerm(ctx, ts[i], env1, (l, env2) => {
        out[i] = l;
        step(i + 1, env2);
      });
    };
    step(0, env);
  }

  private constOf(t: A.Term): Const | undefined {
    switch (t.type) {
      case 'null':
        return { t: 'null' };
      case 'boolean':
        return { t: 'bool', v: t.value };
      case 'number':
        return { t: 'num', v: t.value };
      case 'string':
        return { t: 'str', v: t.value };
      case 'array': {
        const items: Const[] = [];
        for (const i of t.items) {
          const c = this.constOf(i);
          if (!c) return undefined;
          items.push(c);
        }
        return { t: 'arr', v: items };
      }
      case 'set': {
        const items: Const[] = [];
        for (const i of t.items) {
          const c = this.constOf(i);
          if (!c) return undefined;
          items.push(c);
        }
        return { t: 'set', v: items };
      }
      case 'object': {
        const items: Array<[Const, Const]> = [];
        const keys = new Set<string>();
        for (const [kt, vt] of t.items) {
          const kc = this.constOf(kt);
          const vc = this.constOf(vt);
          if (!kc || !vc) return undefined;
          const ks = constKey(kc);
          if (keys.has(ks)) return undefined; // duplicate keys: let object_insert_once decide
          keys.add(ks);
          items.push([kc, vc]);
        }
        return { t: 'obj', v: items };
      }
      default:
        return undefined;
    }
  }

  private evalTerm(ctx: Ctx, t: A.Term, env: Env, k0: KV): void {
    const fb = ctx.fb;
    const kind = literalKind(t);
    const k: KV = (l, env2) => {
      if (kind) fb.kinds.set(l, kind);
      k0(l, env2);
    };
    const c = this.constOf(t);
    if (c) return k(this.emitConst(fb, c), env);
    switch (t.type) {
      case 'var': {
        if (this.isLocal(ctx, t.name)) {
          const l = env.vars.get(t.name);
          if (l === undefined || t.name === '_') throw unsafeVar(t.loc, t.name);
          return k(l, env);
        }
        return this.evalRef(ctx, { type: 'ref', head: t, path: [], loc: t.loc }, env, k);
      }
      case 'ref':
        return this.evalRef(ctx, t, env, k);
      case 'array':
        return this.evalTerms(ctx, t.items, env, (ls, env2) => {
          const dst = fb.local();
          fb.emit({ op: 'make_array', dst, cap: ls.length });
          for (const l of ls) fb.emit({ op: 'array_append', arr: dst, val: l });
          k(dst, env2);
        });
      case 'set':
        return this.evalTerms(ctx, t.items, env, (ls, env2) => {
          const dst = fb.local();
          fb.emit({ op: 'make_set', dst });
          for (const l of ls) fb.emit({ op: 'set_add', set: dst, val: l });
          k(dst, env2);
        });
      case 'object': {
        const flat = t.items.flatMap(([a, b]) => [a, b]);
        return this.evalTerms(ctx, flat, env, (ls, env2) => {
          const dst = fb.local();
          fb.emit({ op: 'make_object', dst });
          for (let i = 0; i < ls.length; i += 2) fb.emit({ op: 'object_insert_once', obj: dst, key: ls[i], val: ls[i + 1] });
          k(dst, env2);
        });
      }
      case 'arraycompr':
      case 'setcompr':
      case 'objectcompr':
        return this.evalCompr(ctx, t, env, k);
      case 'call':
        return this.evalCall(ctx, t, env, k);
      default:
        throw unsupported(t.loc, `term ${t.type}`);
    }
  }

  private evalCompr(ctx: Ctx, t: A.ArrayComprehension | A.SetComprehension | A.ObjectComprehension, env: Env, k: KV): void {
    const fb = ctx.fb;
    const dst = fb.local();
    if (t.type === 'arraycompr') fb.emit({ op: 'make_array', dst, cap: 0 });
    else if (t.type === 'setcompr') fb.emit({ op: 'make_set', dst });
    else fb.emit({ op: 'make_object', dst });
    const head = new Set<string>();
    if (t.type === 'objectcompr') {
      scopeVarsTerm(t.key, head);
      scopeVarsTerm(t.value, head);
    } else scopeVarsTerm(t.term, head);
    // variables bound outside stay bound; everything else is local to the comprehension, and what
    // it declares shadows rules of the same name only inside it
    const inner: Ctx = { ...ctx, locals: comprehensionLocals(ctx.locals, t.body), outer: head };
    fb.block(() => {
      this.lowerBody(inner, t.body, env, (env2) => {
        if (t.type === 'objectcompr') {
          this.evalTerm(inner, t.key, env2, (kl, env3) =>
            this.evalTerm(inner, t.value, env3, (vl) => fb.emit({ op: 'object_insert_once', obj: dst, key: kl, val: vl })),
          );
        } else {
          this.evalTerm(inner, t.term, env2, (vl) =>
            fb.emit(t.type === 'arraycompr' ? { op: 'array_append', arr: dst, val: vl } : { op: 'set_add', set: dst, val: vl }),
          );
        }
      });
    });
    k(dst, env);
  }

  // ------------------------------------------------------------ refs

  private evalRef(ctx: Ctx, ref: A.RefTerm, env: Env, k: KV): void {
    const fb = ctx.fb;
    const h = ref.head;
    if (h.type === 'var') {
      if (this.isLocal(ctx, h.name)) {
        const l = env.vars.get(h.name);
        if (l === undefined) throw unsafeVar(h.loc, h.name);
        return this.dynamicPath(ctx, l, ref.path, 0, env, k);
      }
      if (h.name === 'input') {
        if (ref.path.length === 0) {
          fb.emit({ op: 'is_defined', a: env.input });
          return k(env.input, env);
        }
        return this.dynamicPath(ctx, env.input, ref.path, 0, env, k);
      }
      if (h.name === 'data') return this.dataPath(ctx, this.tree.root, ref.path, 0, env, k, ref.loc);
      const g = ctx.scope.globals.get(h.name);
      if (g) {
        const path: A.Term[] = g.slice(1).map((s) => ({ type: 'string', value: s, loc: h.loc }) as A.Term);
        const keys = [...path, ...ref.path];
        if (g[0] === 'input') return this.dynamicPath(ctx, env.input, keys, 0, env, k);
        return this.dataPath(ctx, this.tree.root, keys, 0, env, k, ref.loc);
      }
      throw unsafeVar(h.loc, h.name);
    }
    this.evalTerm(ctx, h, env, (l, env2) => this.dynamicPath(ctx, l, ref.path, 0, env2, k));
  }

  /** Walk a ref through the rule tree while its keys are constant; then continue on values. */
  private dataPath(ctx: Ctx, node: TreeNode, keys: A.Term[], i: number, env: Env, k: KV, loc: A.Location): void {
    const fb = ctx.fb;
    if (node.group) {
      checkConstantRef(node, keys, i, loc);
      const l = this.nodeValue(fb, node, env, loc);
      return this.dynamicPath(ctx, l, keys, i, env, k);
    }
    if (i === keys.length) return k(this.nodeValue(fb, node, env, loc), env);
    if (node.children.size === 0) {
      // pure base data below this point
      return this.dynamicPath(ctx, this.dataDots(fb, env.data, node.path), keys, i, env, k);
    }
    const key = keys[i];
    if (key.type === 'string') {
      const child = node.children.get(key.value);
      if (child) return this.dataPath(ctx, child, keys, i + 1, env, k, loc);
      return this.dynamicPath(ctx, this.dataDots(fb, env.data, [...node.path, key.value]), keys, i + 1, env, k);
    }
    // a variable or non-string key over a package: iterate / look up in its full document. OPA only
    // evaluates the keys looked up; the full document may include the rule being defined (`p :=
    // data[x].q` in a package under data), which is not recursion in OPA: refuse rather than report it.
    let whole: Local;
    try {
      whole = this.nodeValue(fb, node, env, loc);
    } catch (e) {
      if (e instanceof RegoError && e.code === 'rego_recursion_error') {
        throw unsupported(key.loc, `a dynamic reference into ${['data', ...node.path].join('.')} that includes the rule using it`);
      }
      throw e;
    }
    return this.dynamicPath(ctx, whole, keys, i, env, k);
  }

  /** Apply ref keys to a value: bound keys are lookups, unbound variables iterate. */
  private dynamicPath(ctx: Ctx, src: Local, keys: A.Term[], i: number, env: Env, k: KV): void {
    const fb = ctx.fb;
    if (i === keys.length) return k(src, env);
    const key = keys[i];
    const unboundVar = key.type === 'var' && (key.name === '_' || (this.isLocal(ctx, key.name) && !env.vars.has(key.name)));
    if (unboundVar || !this.canEval(ctx, key, env)) {
      if (key.type !== 'var' && !this.canPattern(ctx, key, env)) throw unsafeVar(key.loc, this.unboundNeeds(ctx, key, env, true)[0] ?? '?');
      const kl = fb.local();
      const vl = fb.local();
      const body: Block = [];
      fb.emit({ op: 'scan', src, key: kl, value: vl, body });
      fb.into(body, () => {
        this.unify(ctx, key, kl, env, (env2) => this.dynamicPath(ctx, vl, keys, i + 1, env2, k));
      });
      return;
    }
    this.evalTerm(ctx, key, env, (kl, env2) => {
      const dst = fb.local();
      fb.emit({ op: 'dot', dst, src, key: kl });
      this.dynamicPath(ctx, dst, keys, i + 1, env2, k);
    });
  }

  // ------------------------------------------------------------ calls

  /** Resolve a call's function: a user function group, or a built-in name. */
  private resolveCall(ctx: Ctx, t: A.CallTerm): { group: RuleGroup } | { builtin: string; arity: number } {
    const h = t.fn.head;
    if (h.type !== 'var') throw unsupported(t.loc, 'call of a computed function');
    const strs: string[] = [];
    for (const p of t.fn.path) {
      if (p.type !== 'string') throw unsupported(t.loc, 'call through a dynamic reference');
      strs.push(p.value);
    }
    let abs: string[] | undefined;
    if (!ctx.locals.has(h.name)) {
      if (h.name === 'data') abs = strs;
      else {
        const g = ctx.scope.globals.get(h.name);
        if (g && g[0] === 'data') abs = [...g.slice(1), ...strs];
      }
    }
    if (abs) {
      const node = nodeAt(this.tree, abs);
      if (node?.group?.kind === 'function') return { group: node.group };
      if (h.name === 'data' || node) throw new RegoError('rego_type_error', t.loc, `undefined function data.${abs.join('.')}`);
    }
    const name = [h.name, ...strs].join('.');
    const info = lookupBuiltinInfo(name);
    if (!info) throw new RegoError('rego_type_error', t.loc, `undefined function ${name}`);
    if (info.deprecated && ctx.scope.module.regoVersion !== 0) {
      throw new RegoError('rego_type_error', t.loc, `deprecated built-in function calls in expression: ${name} (removed in Rego v1; v0 policies need --v0-compatible)`);
    }
    // print is variadic: it takes what it is given
    return { builtin: name, arity: info.arity < 0 ? t.args.length : info.arity };
  }

  private callArity(ctx: Ctx, t: A.CallTerm): number | undefined {
    if (isOp(t, 'eq') || isOp(t, 'assign')) return 2;
    // an unknown function is reported as such here: guessing "no output" would blame the output
    // variable instead ("var x is unsafe")
    const r = this.resolveCall(ctx, t);
    return 'group' in r ? r.group.arity : r.arity;
  }

  private evalCall(ctx: Ctx, t: A.CallTerm, env: Env, k: KV): void {
    const fb = ctx.fb;
    if (isOp(t, 'eq') || isOp(t, 'assign')) throw unsupported(t.loc, 'unification used as a value');
    const r = this.resolveCall(ctx, t);
    // CheckDeprecatedBuiltins is in resolveCall (v1 modules only; v0 keeps them)
    const arity = 'group' in r ? r.group.arity : r.arity;
    if (t.args.length === arity + 1) {
      // f(x, out) used as a value: the result is whether out matches
      throw unsupported(t.loc, 'call with an output argument used as a value');
    }
    if (t.args.length !== arity) {
      throw new RegoError('rego_type_error', t.loc, `${callName(t) ?? 'function'}: arity mismatch: ${t.args.length} arguments given, ${arity} expected`);
    }
    const mockKey = 'group' in r ? 'data.' + r.group.path.join('.') : r.builtin;
    const repl = env.mocks.get(mockKey);
    if (repl) {
      // replaced by `with`: arguments are still evaluated (they must be defined); replacements run
      // without the caller's replacements (a mock calling the original gets the original)
      return this.evalTerms(ctx, t.args, env, (ls, env2) => {
        if (repl.kind === 'const') return k(this.emitConst(fb, repl.c), env2);
        if (repl.kind === 'value') return k(this.mockVal(env2, mockKey), env2);
        const dst = fb.local();
        if (repl.kind === 'rule') {
          fb.emit({ op: 'call', dst, func: this.groupFunc(repl.group, t.loc, NO_MOCKS), args: [env2.input, env2.data] });
        } else if (repl.kind === 'group') {
          fb.emit({ op: 'call', dst, func: this.groupFunc(repl.group, t.loc, NO_MOCKS), args: [env2.input, env2.data, ...ls] });
        } else {
          if (!this.usedBuiltins.has(repl.name)) this.usedBuiltins.set(repl.name, t.loc);
          fb.emit({ op: 'call_builtin', dst, name: repl.name, args: ls });
        }
        k(dst, env2);
      });
    }
    if ('group' in r) {
      const id = this.groupFunc(r.group, t.loc, env.mocks);
      return this.evalTerms(ctx, t.args, env, (ls, env2) => {
        const dst = fb.local();
        fb.emit({ op: 'call', dst, func: id, args: [env2.input, env2.data, ...ls, ...this.mockArgs(env2)] });
        k(dst, env2);
      });
    }
    const name = r.builtin;
    if (name === 'print') {
      // the arguments are sets of values (check/rewrite-print.ts): always defined
      return this.evalTerms(ctx, t.args, env, (ls, env2) => {
        const arr = fb.local();
        fb.emit({ op: 'make_array', dst: arr, cap: ls.length });
        for (const l of ls) fb.emit({ op: 'array_append', arr, val: l });
        k(this.callBuiltin(fb, 'internal.print', [arr], t.loc), env2);
      });
    }
    if (name === 'trace') {
      // no tracer runs in a compiled policy: trace(note) is true, as in OPA, for its string argument
      return this.evalTerms(ctx, t.args, env, (ls, env2) => {
        const ok = this.callBuiltin(fb, 'is_string', ls, t.loc);
        fb.emit({ op: 'truthy', a: ok });
        k(ok, env2);
      });
    }
    if (name === 'rego.metadata.chain' || name === 'rego.metadata.rule') {
      // constants of the rule being planned, as OPA's compiler rewrites them
      if (!ctx.meta) throw unsupported(t.loc, `${name} outside a rule`);
      const { def, branch } = ctx.meta;
      const c = name === 'rego.metadata.chain' ? this.metadata().chain(def, branch) : this.metadata().rule(def, branch);
      return k(this.emitConst(fb, c), env);
    }
    if (name === 'walk') {
      // a relation: one solution per [path, value] pair, in the order the runtime lists them
      return this.evalTerms(ctx, t.args, env, (ls, env2) => {
        const pairs = this.callBuiltin(fb, 'walk', ls, t.loc);
        const kl = fb.local();
        const vl = fb.local();
        const body: Block = [];
        fb.emit({ op: 'scan', src: pairs, key: kl, value: vl, body });
        fb.into(body, () => k(vl, env2));
      });
    }
    const info = lookupBuiltinInfo(name);
    if (info?.relation) throw unsupported(t.loc, `built-in ${name} (relation)`);
    if (name === 'equal' || name === 'neq') {
      return this.evalTerms(ctx, t.args, env, ([a, b], env2) => k(this.boolOf(fb, (): void => {
        fb.emit(name === 'equal' ? { op: 'equal', a, b } : { op: 'not_equal', a, b });
      }), env2));
    }
    if (name === 'internal.member_2' || name === 'internal.member_3') {
      return this.evalTerms(ctx, t.args, env, (ls, env2) => {
        const coll = ls[ls.length - 1];
        const d0 = fb.depth;
        const res = fb.local();
        fb.emit({ op: 'reset', dst: res });
        fb.block(() => {
          const kl = fb.local();
          const vl = fb.local();
          const body: Block = [];
          fb.emit({ op: 'scan', src: coll, key: kl, value: vl, body });
          fb.into(body, () => {
            if (ls.length === 3) fb.emit({ op: 'equal', a: kl, b: ls[0] });
            fb.emit({ op: 'equal', a: vl, b: ls[ls.length - 2] });
            fb.emit({ op: 'const', dst: res, c: this.constId({ t: 'bool', v: true }) });
            fb.emit({ op: 'break', levels: fb.depth - d0 - 1 });
          });
        });
        fb.block(() => {
          fb.emit({ op: 'is_undefined', a: res });
          fb.emit({ op: 'const', dst: res, c: this.constId({ t: 'bool', v: false }) });
        });
        k(res, env2);
      });
    }
    this.evalTerms(ctx, t.args, env, (ls, env2) => {
      if (info) checkArgKinds(info, ls.map((l) => fb.kinds.get(l)), t.loc);
      k(this.callBuiltin(fb, name, ls, t.loc), env2);
    });
  }

  /** dst := name(args…), recording the built-in as used (the emitter needs an implementation). */
  private callBuiltin(fb: FuncBuilder, name: string, args: Local[], loc: A.Location): Local {
    if (!this.usedBuiltins.has(name)) this.usedBuiltins.set(name, loc);
    const dst = fb.local();
    fb.emit({ op: 'call_builtin', dst, name, args });
    return dst;
  }

  /** true if the statements emitted by `test` succeed, else false. */
  private boolOf(fb: FuncBuilder, test: () => void): Local {
    const res = fb.local();
    fb.emit({ op: 'reset', dst: res });
    fb.block(() => {
      test();
      fb.emit({ op: 'const', dst: res, c: this.constId({ t: 'bool', v: true }) });
    });
    fb.block(() => {
      fb.emit({ op: 'is_undefined', a: res });
      fb.emit({ op: 'const', dst: res, c: this.constId({ t: 'bool', v: false }) });
    });
    return res;
  }
}

/**
 * RewriteLocalVars: a variable declared with `some x` must be used by another expression of its body or
 * by what the body produces (`used`: the rule head, the comprehension term), else OPA refuses the body.
 */
function checkDeclaredUsed(body: A.Body, used: ReadonlySet<string>): void {
  for (const e of body) {
    if (e.value.type !== 'some') continue;
    for (const x of e.value.vars) {
      if (x.name === '_' || used.has(x.name)) continue;
      const elsewhere = body.some((o) => {
        if (o === e) return false;
        const vs = new Set<string>();
        allVarsExpr(o, vs);
        return vs.has(x.name);
      });
      if (!elsewhere) throw new RegoError('rego_compile_error', e.loc, `declared var ${x.name} unused`);
    }
  }
}

/**
 * The part of OPA's CheckTypes that needs no inference for references: a rule defined once, without a
 * body, as an object literal has exactly those keys, so `config.missing` is OPA's `undefined ref` type
 * error (a typo there would otherwise make a condition silently undefined).
 */
function checkConstantRef(node: TreeNode, keys: A.Term[], i: number, loc: A.Location): void {
  const g = node.group!;
  const def = g.defs[0];
  if (g.kind !== 'complete' || g.defs.length !== 1 || g.defaults.length || node.children.size) return;
  if (def.rule.body.length || def.rule.else || !def.rule.head.value) return;
  let cur: A.Term = def.rule.head.value;
  for (let j = i; j < keys.length; j++) {
    const key = keys[j];
    if (key.type !== 'string') return;
    // a scalar or an array has no string keys; an object literal has exactly its own
    const noKeys = ['null', 'boolean', 'number', 'string', 'array'].includes(cur.type);
    if (!noKeys && (cur.type !== 'object' || cur.items.some(([kt]) => kt.type !== 'string'))) return;
    const hit = cur.type === 'object' ? cur.items.find(([kt]) => (kt as A.StringTerm).value === key.value) : undefined;
    if (!hit) {
      const text = ['data', ...node.path, ...keys.slice(i, j + 1).map((t) => (t as A.StringTerm).value)].join('.');
      throw new RegoError('rego_type_error', loc, `undefined ref: ${text}`);
    }
    cur = hit[1];
  }
}

/** RewriteLocalVars: an every's key and value are declared for its body, which must use them. */
function checkEveryVarsUsed(v: Extract<A.ExprValue, { type: 'every' }>, loc: A.Location): void {
  const inBody = new Set<string>();
  for (const b of v.body) allVarsExpr(b, inBody);
  for (const t of v.key ? [v.key, v.value] : [v.value]) {
    if (t.type === 'var' && t.name !== '_' && !inBody.has(t.name)) throw new RegoError('rego_compile_error', loc, `declared var ${t.name} unused`);
  }
}

function isInputOrData(ctx: Ctx, t: A.RefTerm): boolean {
  return t.head.type === 'var' && (t.head.name === 'input' || t.head.name === 'data') && !ctx.locals.has(t.head.name);
}

function refText(r: A.RefTerm): string {
  const h = r.head.type === 'var' ? r.head.name : '…';
  return [h, ...r.path.map((p) => (p.type === 'string' ? p.value : '[…]'))].join('.');
}
