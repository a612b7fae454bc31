import type { Location } from './ast';

/**
 * Every compile-time diagnostic is a RegoError: a stable code (OPA's error classes where OPA has one),
 * a message, and the location it points at. `toString()` is `file:line:col: message`, the form the CLI
 * prints one per line.
 *
 * Codes:
 * - `rego_parse_error`      syntax the parser cannot read (incl. Rego v0 syntax)
 * - `rego_compile_error`    a semantic error OPA also rejects (conflicting rule kinds, bad imports, …)
 * - `rego_unsafe_var_error` a variable that is never bound
 * - `rego_recursion_error`  a rule or function that depends on itself
 * - `rego_type_error`       wrong built-in arity / unknown function / obvious type errors
 * - `unsupported`           valid Rego our compiler does not compile yet: refused, never mis-compiled
 */
export type RegoErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'rego_type_error'
  | 'unsupported';

export class RegoError extends Error {
  readonly code: RegoErrorCode;
  readonly loc: Location;
  readonly detail: string;

  constructor(code: RegoErrorCode, loc: Location, detail: string) {
    super(`${loc.file}:${loc.line}:${loc.col}: ${code === 'unsupported' ? 'unsupported: ' : ''}${detail}`);
    this.name = 'RegoError';
    this.code = code;
    this.loc = loc;
    this.detail = detail;
  }
}

/** Several errors at once (the checker reports all it finds, not just the first). */
export class RegoErrors extends Error {
  readonly errors: RegoError[];
  constructor(errors: RegoError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'RegoErrors';
    this.errors = errors;
  }
}

export function unsupported(loc: Location, what: string): RegoError {
  return new RegoError('unsupported', loc, what);
}
