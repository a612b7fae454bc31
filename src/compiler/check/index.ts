/**
 * The checker: places modules in the rule tree, resolves imports and reports the semantic errors OPA
 * reports (conflicting rules, unsafe variables, recursion, unknown functions and arity). Safety and
 * recursion are found while planning (the planner orders expressions exactly as it lowers them), so
 * checking runs the planner and keeps only its diagnostics.
 */
import type { Module } from '../ast';
import { RegoError } from '../errors';
import { Planner } from '../plan/planner';
import { RuleTree, Scope, buildTree, moduleScope } from './tree';
import { rewritePrintCalls, voidCallErrors } from './rewrite-print';
import { annotationErrors } from './metadata';

export interface Checked {
  tree: RuleTree;
  scopes: Map<Module, Scope>;
  errors: RegoError[];
}

export function analyze(modules: Module[]): Checked {
  const errors: RegoError[] = [];
  const seen = new Set<string>();
  for (const m of modules) {
    if (seen.has(m.file)) errors.push(new RegoError('rego_compile_error', m.package.loc, `duplicate module file name ${m.file}`));
    seen.add(m.file);
  }
  errors.push(...annotationErrors(modules));
  errors.push(...voidCallErrors(modules));
  rewritePrintCalls(modules);
  const tree = buildTree(modules, errors);
  const scopes = new Map<Module, Scope>();
  for (const m of modules) scopes.set(m, moduleScope(m, tree, errors));
  return { tree, scopes, errors };
}

/** All compile errors of a module set (empty when it compiles). */
export function checkModules(modules: Module[]): RegoError[] {
  const c = analyze(modules);
  if (c.errors.length) return c.errors;
  const p = new Planner(c.tree, c.scopes);
  p.program({ entrypoints: [], queries: [], strictBuiltinErrors: false });
  return p.errors;
}
