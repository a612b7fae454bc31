/**
 * The part of OPA's type checker (stage CheckTypes) that needs no real inference: a built-in called
 * with a literal of a type it does not take (`"a" + 1`, `count(5)`, `lower(["A"])`), or with a local
 * bound to such a literal (`x := 5; count(x)`), is a compile-time `rego_type_error` in OPA, where we
 * would only fail at run time (undefined, or an error in strict mode). The planner records the kind
 * of each local it fills from a literal written in the policy; other values (references, calls, `with`
 * replacements) have no kind here and are not checked.
 */
import type { Location, Term } from '../ast';
import { RegoError } from '../errors';
import type { BuiltinInfo } from './builtins';

export type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'set' | 'object';

/** The type of a term that is known without inference, if any. */
export function literalKind(t: Term): Kind | undefined {
  switch (t.type) {
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
    case 'array':
    case 'set':
    case 'object':
      return t.type;
    case 'arraycompr':
      return 'array';
    case 'setcompr':
      return 'set';
    case 'objectcompr':
      return 'object';
    default:
      return undefined;
  }
}

/** Whether a declared argument type ('any', 'collection', 'string|array', …) admits a kind. */
function admits(declared: string, k: Kind): boolean {
  if (declared === 'any') return true;
  if (declared === 'collection') return k === 'array' || k === 'set' || k === 'object';
  return declared.split('|').includes(k);
}

/** Refuse a call of built-in `info` with arguments of these kinds (undefined: not known) it cannot take. */
export function checkArgKinds(info: BuiltinInfo, kinds: Array<Kind | undefined>, loc: Location): void {
  if (!info.args) return;
  kinds.forEach((k, i) => {
    const want = info.args![i];
    if (k && want && !admits(want, k)) {
      throw new RegoError('rego_type_error', loc, `${info.name}: invalid argument(s): argument ${i + 1} is ${k === 'array' || k === 'object' ? 'an' : 'a'} ${k}, ${info.name} takes ${want.split('|').join(' or ')}`);
    }
  });
}
