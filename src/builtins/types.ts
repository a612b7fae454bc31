/** Shared declaration types for the built-in registry (kept apart from registry.ts to avoid import cycles). */
import type { EvalContext } from './context';
import type { Value } from './values';

export type BasicType = 'number' | 'string' | 'boolean' | 'null' | 'array' | 'object' | 'set';

/**
 * A built-in's argument or result type, for the type checker.
 * - 'any': anything; 'collection': array | set | object.
 * - 'a|b' (e.g. 'string|number', 'array|set'): a union of basic types; `typeAccepts` splits it.
 */
export type TypeName =
  | 'any'
  | BasicType
  | 'collection'
  | 'array|set'
  | 'string|array|set'
  | 'string|array|set|object'
  | 'object|array|set'
  | 'number|array'
  | 'number|set'
  | 'array|null'
  | 'object|array'
  | 'string|number';

/** Host implementation: receives the arguments as JSON values; returns the result, or undefined. Throws BuiltinError. */
export type HostFn = (args: Value[], ctx: EvalContext) => Value | undefined;

export interface BuiltinDecl {
  name: string;
  arity: number;
  args: TypeName[];
  result: TypeName;
  /** JS implementation; for built-ins native in the wasm runtime, a fallback (and the reference for tests) */
  host?: HostFn;
  /** the result may differ between evaluations (time.now_ns, rand.intn, uuid.rfc4122) */
  nondeterministic?: boolean;
  category: string;
  /** implemented inside the wasm runtime (OPA's native list); everything else is called on the host */
  native: boolean;
  /** native for the common forms only; the host answers every other form (see catalog.ts NATIVE_WITH_HOST_FALLBACK) */
  hostFallback?: boolean;
  /** operator spelling, for capabilities (e.g. '+', '==', 'in') */
  infix?: string;
  /** deprecated in OPA (still accepted) */
  deprecated?: boolean;
  /** a relation (may produce several results, e.g. walk); only the runtime can implement it */
  relation?: boolean;
}

export type Impls = Record<string, HostFn>;

/** Whether a value of basic type `actual` is acceptable where `t` is expected. */
export function typeAccepts(t: TypeName, actual: BasicType): boolean {
  if (t === 'any') return true;
  if (t === 'collection') return actual === 'array' || actual === 'set' || actual === 'object';
  return (t.split('|') as BasicType[]).includes(actual);
}
