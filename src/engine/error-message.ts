/**
 * The text of anything thrown. The SDK throws strings, the wasm module plain objects, host built-ins
 * Errors: every runner reports all of them the same way.
 */
export function errorMessage(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'string') return thrown;
  if (thrown && typeof thrown === 'object') {
    const message = (thrown as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    try {
      const json = JSON.stringify(thrown);
      if (json !== undefined) return json;
    } catch {
      // cyclic: fall through
    }
  }
  return String(thrown);
}
