/** OPA's capabilities JSON shape, generated from the registry (used by `pdp capabilities`). */
import { allBuiltins } from './registry';
import { COMPILER_BUILTINS } from '../compiler/plan/builtins';
import type { BuiltinDecl, TypeName } from './types';

type CapType = { type: string; [k: string]: unknown };

function capType(t: TypeName): CapType {
  switch (t) {
    case 'any': return { type: 'any' };
    case 'array': return { type: 'array', dynamic: { type: 'any' } };
    case 'set': return { type: 'set', of: { type: 'any' } };
    case 'object': return { type: 'object', dynamic: { key: { type: 'any' }, value: { type: 'any' } } };
    case 'collection': return { type: 'any', of: [capType('array'), capType('object'), capType('set')] };
    default:
      if (t.includes('|')) return { type: 'any', of: t.split('|').map((x) => capType(x as TypeName)) };
      return { type: t };
  }
}

export interface CapabilityEntry {
  name: string;
  decl: { type: 'function'; args: CapType[]; result: CapType; variadic?: CapType };
  infix?: string;
  relation?: boolean;
  nondeterministic?: boolean;
  deprecated?: boolean;
  /** ours, not OPA's: where the built-in runs */
  implementation: 'native' | 'host' | 'compiler';
  /** ours: native for the common forms, the host for the others (e.g. sprintf's plain %s/%v/%d) */
  host_fallback?: boolean;
}

function entry(d: BuiltinDecl): CapabilityEntry {
  const e: CapabilityEntry = {
    name: d.name,
    decl: { type: 'function', args: d.args.map(capType), result: capType(d.result) },
    implementation: d.native ? 'native' : 'host',
  };
  if (d.hostFallback) e.host_fallback = true;
  if (d.infix) e.infix = d.infix;
  if (d.relation) e.relation = true;
  if (d.nondeterministic) e.nondeterministic = true;
  if (d.deprecated) e.deprecated = true;
  return e;
}

/**
 * Calls the compiler plans itself (COMPILER_BUILTINS in src/compiler/plan/builtins.ts, minus the
 * internal ones): no registry entry, but policies may call them, so tools reading our capabilities must
 * see them. Declarations as OPA's.
 */
const COMPILER_DECLS: Record<string, CapabilityEntry['decl']> = {
  print: { type: 'function', args: [], result: { type: 'any' }, variadic: { type: 'any' } },
  trace: { type: 'function', args: [{ type: 'string' }], result: { type: 'boolean' } },
  'rego.metadata.chain': { type: 'function', args: [], result: { type: 'array', dynamic: { type: 'any' } } },
  'rego.metadata.rule': { type: 'function', args: [], result: { type: 'any' } },
};

function compilerPlanned(): CapabilityEntry[] {
  return Object.keys(COMPILER_BUILTINS)
    .filter((name) => !name.startsWith('internal.'))
    .map((name) => ({ name, decl: COMPILER_DECLS[name] ?? { type: 'function', args: [], result: { type: 'any' }, variadic: { type: 'any' } }, implementation: 'compiler' as const }));
}

export function capabilities(): { builtins: CapabilityEntry[]; wasm_abi_versions: { version: number; minor_version: number }[]; features: string[] } {
  return {
    builtins: [...allBuiltins().map(entry), ...compilerPlanned().filter((c) => !allBuiltins().some((b) => b.name === c.name))],
    wasm_abi_versions: [{ version: 1, minor_version: 2 }],
    features: ['rego_v1'],
  };
}
