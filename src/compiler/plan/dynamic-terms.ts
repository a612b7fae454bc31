/**
 * What OPA evaluates before an expression, and so outside a negation. OPA's compiler rewrites every expression before evaluation
 * (stages RewriteExprTerms, RewriteEquals and RewriteDynamicTerms of v1/ast/compile.go), and for a
 * negated expression that rewriting decides the answer: the terms it moves out become positive
 * expressions that run *before* the `not`, so when one of them is undefined the whole body is
 * undefined — `not f(input.missing)` does not succeed, it fails (OPA issue #1877).
 *
 * What moves out of `not e`, in OPA's order:
 * 1. every call nested in e's operands (`not count(input.xs) > 0` first computes `count(input.xs)`), and
 *    a composite that is the head of a ref (`[input.a][0]`);
 * 2. then, by the form of what is left:
 *    - a call (`f(a)`, `a < b`, `a != b`, `x in xs`): each argument that is a reference (a rule, an
 *      import, `input.x`, a local's `m[0][1]`), and references inside argument arrays, objects and sets;
 *    - a unification `a = b`, or `a == b` (which OPA turns into `a = b` first): nothing of a reference
 *      operand but the references in its brackets (`not input.x == 1` is true when input.x is missing);
 *      for other operands as for call arguments;
 *    - a lone term: the references in the brackets of a reference (`not s[input.k]`), or as for call
 *      arguments when the term is a composite.
 * References in brackets move out before the reference holding them. Comprehensions stay: they always
 * have a value, so evaluating one inside or outside the negation answers the same.
 *
 * The same split serves a positive call whose arguments bind their own variables: OPA's safety check
 * counts the variables in a reference argument's brackets as outputs (`f(x, input.a[x])`,
 * `foo == input.foos[foo]`), which is sound because the reference is evaluated first. For a positive
 * statement moving terms out changes no answer, so `==` is treated as a call there (its reference
 * operands move out too) and the planner keeps lowering it as a comparison.
 */
import type { Expr, Term, VarTerm } from '../ast';
import { isOp } from './vars';

export interface HoistedTerms {
  /** positive `v = term` expressions to evaluate first, in order */
  support: Expr[];
  /** the expression, its moved terms replaced by their variables */
  core: Expr;
}

/**
 * Split an expression as OPA's compiler does. `isGlobal(name)` tells whether a variable name is not a
 * local (a rule, an import, `input`, `data`): OPA sees those as references. `fresh()` names a new
 * variable.
 */
export function hoistDynamicTerms(e: Expr, isGlobal: (name: string) => boolean, fresh: () => string): HoistedTerms {
  const support: Expr[] = [];
  const v = e.value;
  if (v.type !== 'term') return { support, core: e };

  const bind = (t: Term): VarTerm => {
    const name: VarTerm = { type: 'var', name: fresh(), loc: t.loc };
    const eq: Term = { type: 'call', fn: { type: 'ref', head: { type: 'var', name: 'eq', loc: t.loc }, path: [], loc: t.loc }, args: [name, t], loc: t.loc };
    support.push({ type: 'expr', value: { type: 'term', term: eq }, negated: false, with: e.with, loc: t.loc });
    return name;
  };
  const isRefLike = (t: Term): boolean => t.type === 'ref' || (t.type === 'var' && t.name !== '_' && isGlobal(t.name));

  // 1. nested calls (RewriteExprTerms)
  const expand = (t: Term): Term => {
    switch (t.type) {
      case 'call':
        return bind({ ...t, args: t.args.map(expand) });
      case 'ref': {
        let head = expand(t.head);
        if (['array', 'object', 'set', 'arraycompr', 'setcompr', 'objectcompr'].includes(head.type)) head = bind(head);
        return { ...t, head, path: t.path.map(expand) };
      }
      case 'array':
        return { ...t, items: t.items.map(expand) };
      case 'set':
        return { ...t, items: t.items.map(expand) };
      case 'object':
        return { ...t, items: t.items.map(([k, x]) => [expand(k), expand(x)] as [Term, Term]) };
      default:
        return t;
    }
  };

  // 2. references (RewriteDynamicTerms): a whole reference moves out, after those in its brackets
  const dynOne = (t: Term): Term => {
    switch (t.type) {
      case 'ref':
        return bind({ ...t, path: t.path.map(dynOne) });
      case 'var':
        return isRefLike(t) ? bind(t) : t;
      case 'array':
        return { ...t, items: t.items.map(dynOne) };
      case 'set':
        return { ...t, items: t.items.map(dynOne) };
      case 'object':
        return { ...t, items: t.items.map(([k, x]) => [dynOne(k), dynOne(x)] as [Term, Term]) };
      default:
        return t;
    }
  };
  // an operand that stays in place: only the references in its brackets move out
  const dynInPlace = (t: Term): Term => {
    if (t.type === 'ref') return { ...t, path: t.path.map(dynOne) };
    if (isRefLike(t) || t.type === 'arraycompr' || t.type === 'setcompr' || t.type === 'objectcompr') return t;
    return dynOne(t);
  };

  let term: Term;
  const t0 = v.term;
  if (t0.type === 'call') {
    const call = { ...t0, args: t0.args.map(expand) };
    const unification = isOp(call, 'eq') || (e.negated && isOp(call, 'equal') && call.args.length === 2);
    term = { ...call, args: call.args.map(unification ? dynInPlace : dynOne) };
  } else {
    term = dynInPlace(expand(t0));
  }
  if (support.length === 0) return { support, core: e };
  return { support, core: { ...e, value: { type: 'term', term } } };
}
