/**
 * `print(a, b, …)` is rewritten the way OPA's compiler rewrites it: each argument becomes the set of
 * its values, `{__printN__ | __printN__ = a}`, so an undefined argument is an empty set (printed as
 * `<undefined>`) instead of making the body undefined, and variables only the argument uses iterate
 * inside it. The planner then calls the runtime's `internal.print` with the array of those sets.
 * Rewriting before planning lets the safety ordering see the comprehensions, as OPA's does.
 */
import type { Body, Expr, Module, Rule, Term } from '../ast';
import { visitNodes } from '../ast-walk';
import { RegoError } from '../errors';

let counter = 0;

export function rewritePrintCalls(modules: Module[]): void {
  for (const m of modules) for (const r of m.rules) rewriteRule(r);
}

export function rewritePrintInBody(b: Body): void {
  for (const e of b) rewriteExpr(e);
}

function rewriteRule(r: Rule): void {
  for (let rr: Rule | undefined = r; rr; rr = rr.else) {
    rewritePrintInBody(rr.body);
    for (const t of [rr.head.key, rr.head.value, ...(rr.head.args ?? []), ...rr.head.ref.path]) if (t) rewriteTerm(t);
  }
}

function rewriteExpr(e: Expr): void {
  const v = e.value;
  switch (v.type) {
    case 'term':
      rewriteTerm(v.term);
      break;
    case 'some_in':
      if (v.key) rewriteTerm(v.key);
      rewriteTerm(v.value);
      rewriteTerm(v.collection);
      break;
    case 'every':
      rewriteTerm(v.domain);
      rewritePrintInBody(v.body);
      break;
    case 'some':
      break;
  }
  for (const w of e.with) rewriteTerm(w.value);
}

function rewriteTerm(t: Term): void {
  switch (t.type) {
    case 'ref':
      rewriteTerm(t.head);
      t.path.forEach(rewriteTerm);
      return;
    case 'array':
    case 'set':
      t.items.forEach(rewriteTerm);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        rewriteTerm(k);
        rewriteTerm(v);
      }
      return;
    case 'arraycompr':
    case 'setcompr':
      rewriteTerm(t.term);
      rewritePrintInBody(t.body);
      return;
    case 'objectcompr':
      rewriteTerm(t.key);
      rewriteTerm(t.value);
      rewritePrintInBody(t.body);
      return;
    case 'call':
      t.args.forEach(rewriteTerm);
      if (isPrint(t)) t.args = t.args.map((a) => (isValueSet(a) ? a : valueSet(a)));
      return;
    default:
      return;
  }
}

function isPrint(t: Term & { type: 'call' }): boolean {
  return t.fn.head.type === 'var' && t.fn.head.name === 'print' && t.fn.path.length === 0;
}

/** Already rewritten (a module compiled twice keeps its rewritten AST). */
function isValueSet(t: Term): boolean {
  return t.type === 'setcompr' && t.term.type === 'var' && /^__print\d+__$/.test(t.term.name);
}

function valueSet(a: Term): Term {
  const loc = a.loc;
  const v: Term = { type: 'var', name: `__print${counter++}__`, loc };
  const eq: Term = { type: 'call', fn: { type: 'ref', head: { type: 'var', name: 'eq', loc }, path: [], loc }, args: [v, a], loc };
  return { type: 'setcompr', term: v, body: [{ type: 'expr', value: { type: 'term', term: eq }, negated: false, with: [], loc }], loc };
}

/**
 * OPA's CheckVoidCalls: `print` has no value, so it may only stand as an expression of its own
 * (`print(x)`, also negated); `p := print(x)`, `f(print(x))` or a head `p := print(x)` is a type error
 * at compile time, never an answer.
 */
export function voidCallErrors(modules: Module[]): RegoError[] {
  const statements = new Set<unknown>();
  visitNodes(modules, (n) => {
    const e = n as Partial<Expr>;
    if (e.type === 'expr' && e.value?.type === 'term' && e.value.term.type === 'call') statements.add(e.value.term);
  });
  const errors: RegoError[] = [];
  visitNodes(modules, (n) => {
    const t = n as unknown as Term;
    if (t.type === 'call' && isPrint(t) && !statements.has(t)) errors.push(new RegoError('rego_type_error', t.loc, 'print used as value'));
  });
  return errors;
}
