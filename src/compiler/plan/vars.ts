/**
 * Variable analysis used for safety ordering: which variables a term needs bound before it can be
 * evaluated, and which it can bind itself (reference keys, unification patterns).
 */
import type { Body, Expr, Term, VarTerm } from '../ast';

/** How a name in a body resolves: a local variable or a global (rule, import, input, data). */
export interface NameResolver {
  isLocal(name: string): boolean;
  /** variables the enclosing body declares with `:=` / `some`: a comprehension does not wait for them */
  declaredHere?: Set<string>;
}

/** Local variables a term needs bound to be evaluated as a value (ref key variables are outputs). */
export function needs(t: Term, r: NameResolver, outer: Set<string>, out: Set<string>): void {
  switch (t.type) {
    case 'var':
      // `_` as a value can never be bound: it makes the term unevaluable (only patterns accept it)
      if (t.name === '_' || r.isLocal(t.name)) out.add(t.name);
      return;
    case 'ref':
      needs(t.head, r, outer, out);
      for (const k of t.path) patNeeds(k, r, outer, out);
      return;
    case 'array':
    case 'set':
      for (const i of t.items) needs(i, r, outer, out);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        needs(k, r, outer, out);
        needs(v, r, outer, out);
      }
      return;
    case 'call':
      for (const a of t.args) needs(a, r, outer, out);
      return;
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr': {
      // a comprehension closes over the variables it shares with the enclosing body, except those it
      // declares itself (`:=` / `some` there make a new local)
      const vs = new Set<string>();
      allVarsTerm(t, vs);
      const own = comprehensionLocals(new Set(), t.body);
      for (const v of vs) if (!own.has(v) && outer.has(v) && r.isLocal(v) && !r.declaredHere?.has(v)) out.add(v);
      return;
    }
    default:
      return;
  }
}

/** Variables a term needs bound to be used as a unification pattern (plain variables are outputs). */
export function patNeeds(t: Term, r: NameResolver, outer: Set<string>, out: Set<string>): void {
  switch (t.type) {
    case 'var':
      return;
    case 'array':
      for (const i of t.items) patNeeds(i, r, outer, out);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        needs(k, r, outer, out);
        patNeeds(v, r, outer, out);
      }
      return;
    default:
      needs(t, r, outer, out);
  }
}

/** Every variable name occurring in a term, including inside comprehensions. */
export function allVarsTerm(t: Term, out: Set<string>): void {
  switch (t.type) {
    case 'var':
      if (t.name !== '_') out.add(t.name);
      return;
    case 'ref':
      allVarsTerm(t.head, out);
      for (const k of t.path) allVarsTerm(k, out);
      return;
    case 'array':
    case 'set':
      for (const i of t.items) allVarsTerm(i, out);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        allVarsTerm(k, out);
        allVarsTerm(v, out);
      }
      return;
    case 'call':
      allVarsTerm(t.fn, out);
      for (const a of t.args) allVarsTerm(a, out);
      return;
    case 'arraycompr':
    case 'setcompr':
      allVarsTerm(t.term, out);
      allVarsBody(t.body, out);
      return;
    case 'objectcompr':
      allVarsTerm(t.key, out);
      allVarsTerm(t.value, out);
      allVarsBody(t.body, out);
      return;
    default:
      return;
  }
}

export function allVarsExpr(e: Expr, out: Set<string>): void {
  const v = e.value;
  switch (v.type) {
    case 'term':
      allVarsTerm(v.term, out);
      break;
    case 'some':
      for (const x of v.vars) allVarsTerm(x, out);
      break;
    case 'some_in':
      if (v.key) allVarsTerm(v.key, out);
      allVarsTerm(v.value, out);
      allVarsTerm(v.collection, out);
      break;
    case 'every':
      if (v.key) allVarsTerm(v.key, out);
      allVarsTerm(v.value, out);
      allVarsTerm(v.domain, out);
      allVarsBody(v.body, out);
      break;
  }
  for (const w of e.with) allVarsTerm(w.value, out);
}

export function allVarsBody(b: Body, out: Set<string>): void {
  for (const e of b) allVarsExpr(e, out);
}

/** Visit each variable occurring in a term outside comprehension bodies (the enclosing body's own scope). */
export function visitScopeVars(t: Term, fn: (v: VarTerm) => void): void {
  switch (t.type) {
    case 'var':
      fn(t);
      return;
    case 'ref':
      visitScopeVars(t.head, fn);
      for (const k of t.path) visitScopeVars(k, fn);
      return;
    case 'array':
    case 'set':
      for (const i of t.items) visitScopeVars(i, fn);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        visitScopeVars(k, fn);
        visitScopeVars(v, fn);
      }
      return;
    case 'call':
      for (const a of t.args) visitScopeVars(a, fn);
      return;
    default:
      return;
  }
}

/** Variables occurring in a term outside comprehension bodies (the enclosing body's own scope). */
export function scopeVarsTerm(t: Term, out: Set<string>): void {
  visitScopeVars(t, (v) => {
    if (v.name !== '_') out.add(v.name);
  });
}

export function scopeVarsExpr(e: Expr, out: Set<string>): void {
  const v = e.value;
  switch (v.type) {
    case 'term':
      scopeVarsTerm(v.term, out);
      break;
    case 'some':
      for (const x of v.vars) scopeVarsTerm(x, out);
      break;
    case 'some_in':
      if (v.key) scopeVarsTerm(v.key, out);
      scopeVarsTerm(v.value, out);
      scopeVarsTerm(v.collection, out);
      break;
    case 'every':
      // the every's own key/value are local to it; its domain is in the enclosing scope
      scopeVarsTerm(v.domain, out);
      break;
  }
  for (const w of e.with) scopeVarsTerm(w.value, out);
}

/**
 * Names a body declares (`:=`, `some`, `some … in`), which shadow rules and imports of the same name
 * throughout that body. As in OPA (declaredVars in v1/ast/compile.go), declarations inside an `every`
 * body count for the enclosing body too, those inside a comprehension only for the comprehension
 * (see comprehensionLocals), and an `every`'s own key and value only for its body (everyLocals).
 */
export function declaredNames(b: Body, out: Set<string>): void {
  for (const e of b) declaredExpr(e, out);
}

function declaredExpr(e: Expr, out: Set<string>): void {
  const v = e.value;
  switch (v.type) {
    case 'term':
      if (v.term.type === 'call' && isOp(v.term, 'assign')) allVarsTerm(v.term.args[0], out);
      break;
    case 'some':
      for (const x of v.vars) out.add(x.name);
      break;
    case 'some_in':
      if (v.key) allVarsTerm(v.key, out);
      allVarsTerm(v.value, out);
      break;
    case 'every':
      declaredNames(v.body, out);
      break;
  }
}

/** The names local to a comprehension: the enclosing ones plus those its body declares. */
export function comprehensionLocals(outer: ReadonlySet<string>, body: Body): Set<string> {
  const out = new Set(outer);
  declaredNames(body, out);
  return out;
}

/** The names local to an `every` body: the enclosing ones plus its key and value. */
export function everyLocals(outer: ReadonlySet<string>, key: Term | undefined, value: Term): Set<string> {
  const out = new Set(outer);
  if (key) allVarsTerm(key, out);
  allVarsTerm(value, out);
  return out;
}

/** Whether a call term calls the operator/built-in `name` (a one-segment ref). */
export function isOp(t: Term, name: string): boolean {
  return t.type === 'call' && t.fn.head.type === 'var' && t.fn.head.name === name && t.fn.path.length === 0;
}

/** The dotted name of a call's function ref if it is all names/strings: `time.now_ns`. */
export function callName(t: Term & { type: 'call' }): string | undefined {
  const h = t.fn.head;
  if (h.type !== 'var') return undefined;
  const parts = [h.name];
  for (const p of t.fn.path) {
    if (p.type !== 'string') return undefined;
    parts.push(p.value);
  }
  return parts.join('.');
}
