/**
 * The rule tree: every module's rules placed under `data` by package and (static) rule path.
 *
 * A rule's head ref is split into its longest leading run of string terms (the *group path*, a node of
 * the tree) and what follows (a variable or non-string key). Rules with the same group path form a
 * RuleGroup whose kind decides how the planner builds that document:
 *  - complete: `p := v`, `a.b.c := v`, defaults, else chains
 *  - set:      `p contains x`
 *  - object:   `p[k] := v` (one dynamic key after the group path)
 *  - nested:   `a.b[k].c := v` (more than one term after the first dynamic key)
 *  - set_tree: `p[x] contains y`, `a.b[x].c contains y` (a variable in the ref of a `contains` rule):
 *              an object whose leaves are sets
 *  - function: `f(x) := v`
 * Internal nodes (packages and rule-path prefixes) are objects whose keys are their children.
 */
import type { Import, Module, Rule, RefTerm, Term } from '../ast';
import { RegoError, unsupported } from '../errors';

export type GroupKind = 'complete' | 'set' | 'object' | 'nested' | 'set_tree' | 'function';

export interface RuleDef {
  rule: Rule;
  module: Module;
  /** head terms after the group path (object key, nested path) */
  rest: Term[];
}

export interface RuleGroup {
  kind: GroupKind;
  path: string[];
  defs: RuleDef[];
  defaults: RuleDef[];
  arity: number;
}

export interface TreeNode {
  path: string[];
  children: Map<string, TreeNode>;
  group?: RuleGroup;
}

export interface RuleTree {
  root: TreeNode;
  groups: RuleGroup[];
}

function newNode(path: string[]): TreeNode {
  return { path, children: new Map() };
}

export function nodeAt(tree: RuleTree, path: string[]): TreeNode | undefined {
  let n: TreeNode | undefined = tree.root;
  for (const k of path) {
    n = n.children.get(k);
    if (!n) return undefined;
  }
  return n;
}

function ensureNode(root: TreeNode, path: string[]): TreeNode {
  let n = root;
  for (let i = 0; i < path.length; i++) {
    let c = n.children.get(path[i]);
    if (!c) {
      c = newNode(path.slice(0, i + 1));
      n.children.set(path[i], c);
    }
    n = c;
  }
  return n;
}

/** The rule's head as a list of terms after the package: `a.b[c]` → [string a, string b, var c]. */
export function headTerms(rule: Rule): Term[] {
  const ref = rule.head.ref;
  if (ref.head.type !== 'var') throw unsupported(rule.loc, 'rule head that does not start with a name');
  const first: Term = { type: 'string', value: ref.head.name, loc: ref.head.loc };
  return [first, ...ref.path];
}

export function buildTree(modules: Module[], errors: RegoError[]): RuleTree {
  const root = newNode([]);
  const groups: RuleGroup[] = [];
  for (const m of modules) {
    const pkgNode = ensureNode(root, m.package.path);
    void pkgNode;
    for (const rule of m.rules) {
      try {
        placeRule(root, groups, m, rule);
      } catch (e) {
        if (e instanceof RegoError) errors.push(e);
        else throw e;
      }
    }
  }
  // CheckRuleConflicts: a rule whose whole ref is a package of another module (`b := 1` in package a,
  // and a module `package a.b`) is refused, even when that package has no rules.
  const packages = new Map<string, Module>();
  for (const m of modules) packages.set(m.package.path.join('.'), m);
  for (const g of groups) {
    // a ref with a variable: only evaluation can tell
    if (g.kind === 'object' || g.kind === 'nested' || g.defs.some((d) => d.rest.length > 0)) continue;
    const other = packages.get(g.path.join('.'));
    const d = g.defs[0] ?? g.defaults[0];
    if (other && d) {
      const rel = g.path.slice(d.module.package.path.length).join('.');
      errors.push(new RegoError('rego_type_error', d.module.package.loc, `package ${g.path.join('.')} conflicts with rule ${rel} defined at ${d.rule.loc.file}:${d.rule.loc.line}`));
    }
  }
  // A group node must not have rule children (e.g. `p := 1` and `p.q := 2`), with exceptions the
  // planner merges exactly: a partial object `p[k] := v` or `p[x].q := v` with complete leaf rules
  // below it (`p.foo := "bar"`, `p.see.other := 1`), where a document defined by both must have one
  // value (equal values agree, anything else is a conflict), and `contains` rule trees
  // (isSetTreeOverlap).
  for (const g of groups) {
    const n = nodeAt({ root, groups }, g.path)!;
    if (n.children.size > 0 && !isMergeableOverlap(g, n) && !isSetTreeOverlap(g, n)) {
      const d = g.defs[0] ?? g.defaults[0];
      errors.push(unsupported(d.rule.loc, `rule ${['data', ...g.path].join('.')} overlapping other rules below it`));
    }
  }
  return { root, groups };
}

/** OPA's ResolveRefs: a function argument may not be named input or data (in any pattern position). */
function rejectRootDocumentArg(t: Term): void {
  const v = t.type === 'ref' && t.path.length === 0 ? t.head : t;
  if (v.type === 'var' && (v.name === 'input' || v.name === 'data')) {
    throw new RegoError('rego_compile_error', t.loc, `args must not shadow ${v.name} (use a different variable name)`);
  }
  if (t.type === 'array') t.items.forEach(rejectRootDocumentArg);
  if (t.type === 'object') for (const [, v] of t.items) rejectRootDocumentArg(v);
}

/** A partial-object group (`p[k] := v`, `p[x].q := v`) whose rules below are all complete rules with nothing below them. */
export function isMergeableOverlap(g: RuleGroup, n: TreeNode): boolean {
  if (g.kind !== 'object' && g.kind !== 'nested') return false;
  const ok = (m: TreeNode): boolean => {
    for (const c of m.children.values()) {
      if (c.group ? c.group.kind !== 'complete' || c.children.size > 0 : !ok(c)) return false;
    }
    return true;
  };
  return n.children.size > 0 && ok(n);
}

/**
 * A `contains` group with variables in its ref (`obj[x][y] contains z`) whose rules below are all
 * `contains` rules (`obj.sub[x][x] contains x`, `obj.a.b contains 1`): one document of sets, where
 * rules reaching the same set add to it (the planner builds them together). Anything else below
 * (values, functions) stays refused.
 */
export function isSetTreeOverlap(g: RuleGroup, n: TreeNode): boolean {
  if (g.kind !== 'set_tree') return false;
  const ok = (m: TreeNode): boolean => {
    for (const c of m.children.values()) {
      if (c.group && c.group.kind !== 'set' && c.group.kind !== 'set_tree') return false;
      if (!ok(c)) return false;
    }
    return true;
  };
  return ok(n);
}

function placeRule(root: TreeNode, groups: RuleGroup[], m: Module, rule: Rule): void {
  const terms = headTerms(rule);
  let i = 0;
  while (i < terms.length && terms[i].type === 'string') i++;
  const staticPath = terms.slice(0, i).map((t) => (t as { value: string }).value);
  // CheckKeywordOverrides (checkRootDocumentOverrides): a rule named input or data would hide the document
  if (staticPath[0] === 'input' || staticPath[0] === 'data') {
    throw new RegoError('rego_compile_error', rule.loc, `rules must not shadow ${staticPath[0]} (use a different rule name)`);
  }
  const rest = terms.slice(i);
  for (const a of rule.head.args ?? []) rejectRootDocumentArg(a);
  // `f() := v` is the rule `f := v` in OPA (issue #6315): in its package's document, read as `f`
  const isFn = (rule.head.args?.length ?? 0) > 0;
  const isSet = rule.head.key !== undefined;
  let kind: GroupKind;
  if (isFn) {
    if (rest.length) throw unsupported(rule.loc, 'function with a non-string ref head');
    kind = 'function';
  } else if (isSet) {
    kind = rest.length ? 'set_tree' : 'set';
  } else if (rest.length === 0) kind = 'complete';
  else if (rest.length === 1) kind = 'object';
  else kind = 'nested';
  if (rule.default && kind !== 'complete') {
    if (kind === 'function') {
      for (const a of rule.head.args ?? []) {
        if (a.type !== 'var') throw new RegoError('rego_compile_error', rule.loc, 'default function arguments must be variables');
      }
    } else
    throw new RegoError('rego_compile_error', rule.loc, 'default rules must not have a variable in their ref');
  }
  void unsupported;
  if (rule.else && kind !== 'complete' && kind !== 'function') {
    throw new RegoError('rego_compile_error', rule.loc, 'else keyword cannot be used on multi-value rules');
  }
  const path = [...m.package.path, ...staticPath];
  const node = ensureNode(root, path);
  if (!node.group) {
    node.group = { kind, path, defs: [], defaults: [], arity: rule.head.args?.length ?? 0 };
    groups.push(node.group);
  }
  const g = node.group;
  const name = ['data', ...path].join('.');
  if (g.kind !== kind) {
    // object and nested groups at the same path both build an object, but mixing them is rare: refuse.
    throw new RegoError('rego_compile_error', rule.loc, `conflicting rules ${name} found`);
  }
  if (kind === 'function' && (rule.head.args?.length ?? 0) !== g.arity) {
    throw new RegoError('rego_compile_error', rule.loc, `conflicting rules ${name} found (functions must have the same arity)`);
  }
  const def: RuleDef = { rule, module: m, rest };
  if (rule.default) {
    if (g.defaults.length) throw new RegoError('rego_compile_error', rule.loc, `multiple default rules ${name} found`);
    g.defaults.push(def);
  } else g.defs.push(def);
}

/** Names a module can use unqualified: its package's top-level rule names and import aliases. */
export interface Scope {
  module: Module;
  /** name → absolute ref path (first element 'data' or 'input') */
  globals: Map<string, string[]>;
}

export function moduleScope(m: Module, tree: RuleTree, errors: RegoError[]): Scope {
  const globals = new Map<string, string[]>();
  const pkg = nodeAt(tree, m.package.path);
  if (pkg) for (const k of pkg.children.keys()) globals.set(k, ['data', ...m.package.path, k]);
  // CheckDuplicateImports: two imports may not bind the same name (the last path element or the alias)
  const imported = new Map<string, Import>();
  for (const imp of m.imports) {
    const p = importPath(imp, errors);
    if (!p) continue;
    if (p[0] === 'future' || p[0] === 'rego') continue; // keyword imports bind no name
    const name = imp.alias ?? p[p.length - 1];
    const prev = imported.get(name);
    if (prev) errors.push(new RegoError('rego_compile_error', imp.loc, `import must not shadow import ${importText(prev)}`));
    else imported.set(name, imp);
    const alias = imp.alias ?? p[p.length - 1];
    if (p.length === 1 && !imp.alias) continue; // `import data` / `import input`: nothing new
    globals.set(alias, p);
  }
  return { module: m, globals };
}

function importText(imp: Import): string {
  const parts = [imp.path.head.type === 'var' ? imp.path.head.name : '?', ...imp.path.path.map((t) => (t.type === 'string' ? t.value : '?'))];
  return parts.join('.') + (imp.alias ? ` as ${imp.alias}` : '');
}

function importPath(imp: Import, errors: RegoError[]): string[] | undefined {
  const ref: RefTerm = imp.path;
  if (ref.head.type !== 'var') {
    errors.push(new RegoError('rego_parse_error', imp.loc, 'invalid import path'));
    return undefined;
  }
  const out = [ref.head.name];
  for (const t of ref.path) {
    if (t.type !== 'string') {
      errors.push(new RegoError('rego_compile_error', imp.loc, 'import path must contain only strings'));
      return undefined;
    }
    out.push(t.value);
  }
  if (!['data', 'input', 'future', 'rego'].includes(out[0])) {
    errors.push(new RegoError('rego_compile_error', imp.loc, `invalid import ${out.join('.')}: must begin with input or data`));
    return undefined;
  }
  return out;
}
