/**
 * The error a host built-in raises. `code` is OPA's error class so the engine can report it verbatim
 * under strict built-in errors; `message` is OPA's text, prefixed with the built-in's name as OPA does.
 */
export type BuiltinErrorCode = 'eval_builtin_error' | 'eval_type_error';

export class BuiltinError extends Error {
  readonly code: BuiltinErrorCode;
  constructor(code: BuiltinErrorCode, message: string) {
    super(message);
    this.name = 'BuiltinError';
    this.code = code;
  }
}

export function isBuiltinError(e: unknown): e is BuiltinError {
  return e instanceof BuiltinError;
}
