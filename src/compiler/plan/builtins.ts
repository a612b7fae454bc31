/**
 * What the planner needs to know about a built-in: that it exists and its arity. The registry in
 * src/builtins/registry.ts is the source of truth; the small table below covers the operators and
 * core functions so the compiler works (and is testable) on its own.
 */
export interface BuiltinInfo {
  name: string;
  arity: number;
  /** may produce several results (walk): not a plain call */
  relation?: boolean;
  /** not available to Rego v1 (`any`, `all`, `re_match`, …): OPA refuses calls to it */
  deprecated?: boolean;
  /** declared argument types ('number', 'string|array|set', 'any', …), when the registry knows them */
  args?: string[];
}

const CORE: Record<string, number> = {
  plus: 2, minus: 2, mul: 2, div: 2, rem: 2, and: 2, or: 2,
  lt: 2, lte: 2, gt: 2, gte: 2, equal: 2, neq: 2,
  count: 1, sum: 1, product: 1, max: 1, min: 1, sort: 1, abs: 1, round: 1, ceil: 1, floor: 1,
  concat: 2, contains: 2, startswith: 2, endswith: 2, lower: 1, upper: 1, split: 2, sprintf: 2,
  trim: 2, trim_space: 1, trim_prefix: 2, trim_suffix: 2, replace: 3, substring: 3, indexof: 2,
  format_int: 2, to_number: 1, is_number: 1, is_string: 1, is_boolean: 1, is_array: 1, is_set: 1,
  is_object: 1, is_null: 1, type_name: 1, intersection: 1, union: 1, 'array.concat': 2, 'array.slice': 3,
  'array.reverse': 1, 'object.get': 3, 'object.remove': 2, 'object.union': 2, 'object.union_n': 1,
  'object.filter': 2, 'object.keys': 1, 'json.marshal': 1, 'json.unmarshal': 1, 'numbers.range': 2,
  'time.now_ns': 0, regex_match: 2, 'regex.match': 2, 'glob.match': 3, 'strings.replace_n': 2,
  'base64.encode': 1, 'base64.decode': 1, 'internal.member_2': 2, 'internal.member_3': 3,
  'opa.runtime': 0, 'units.parse_bytes': 1, 'units.parse': 1, 'semver.compare': 2, 'semver.is_valid': 1,
  'net.cidr_contains': 2, 'io.jwt.decode_verify': 2, 'io.jwt.decode': 1,
};

/**
 * OPA's built-ins that we do not implement (v1/ast/builtins.go DefaultBuiltins), with their arity. Knowing
 * them lets a call plan normally (its output argument is recognised) and then be refused by name,
 * `unsupported: built-in <name> (not implemented)`, instead of a misleading "var x is unsafe"; a name OPA
 * does not know either stays "undefined function".
 */
const OPA_NOT_IMPLEMENTED: Record<string, number> = {
  'http.send': 1, 'net.lookup_ip_addr': 1, 'rego.parse_module': 2, 'graph.reachable_paths': 2,
  'graphql.parse': 2, 'graphql.parse_and_verify': 2, 'graphql.parse_query': 1, 'graphql.parse_schema': 1,
  'graphql.is_valid': 2, 'graphql.schema_is_valid': 1,
  'crypto.x509.parse_certificates': 1, 'crypto.x509.parse_and_verify_certificates': 1,
  'crypto.x509.parse_and_verify_certificates_with_options': 2, 'crypto.x509.parse_certificate_request': 1,
  'crypto.x509.parse_keypair': 2, 'crypto.parse_private_keys': 1,

  cast_array: 1, cast_boolean: 1, cast_null: 1, cast_object: 1, cast_set: 1, cast_string: 1,
};

/**
 * Calls the compiler plans itself rather than calling a built-in of that name: `print` (variadic; see
 * check/rewrite-print.ts), `trace` (true for a string: there is no tracer in a compiled policy) and
 * `rego.metadata.*` (constants from the METADATA annotations), and the template-string built-in.
 * Arity -1: any number of arguments.
 */
export const COMPILER_BUILTINS: Readonly<Record<string, number>> = {
  print: -1,
  trace: 1,
  'rego.metadata.chain': 0,
  'rego.metadata.rule': 0,
  // what a template string $"…{x}…" is parsed into (parser.ts templateString); native in the runtime
  'internal.template_string': 1,
};

let registry: { lookupBuiltin?: (name: string) => { arity?: number; relation?: boolean; deprecated?: boolean; args?: string[] } | undefined } | null | undefined;

function loadRegistry(): typeof registry {
  if (registry !== undefined) return registry;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    registry = require('../../builtins/registry');
  } catch {
    registry = null;
  }
  return registry;
}

export function lookupBuiltinInfo(name: string): BuiltinInfo | undefined {
  if (name in COMPILER_BUILTINS) return { name, arity: COMPILER_BUILTINS[name] };
  const r = loadRegistry();
  const d = r?.lookupBuiltin?.(name);
  if (d && typeof d.arity === 'number') return { name, arity: d.arity, relation: !!d.relation, deprecated: !!d.deprecated, args: d.args };
  if (name in CORE) return { name, arity: CORE[name] };
  if (name in OPA_NOT_IMPLEMENTED) return { name, arity: OPA_NOT_IMPLEMENTED[name] };
  return undefined;
}
