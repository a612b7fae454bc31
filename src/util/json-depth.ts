/**
 * How deep a parsed JSON value nests, checked without recursion. Recursive code downstream
 * (JSON.stringify for the policy and the decision log, masking) overflows V8's stack a few thousand
 * levels down, so a request nested that deep must be refused before it gets there, and the check
 * itself must not recurse.
 */

/**
 * Whether `value` nests deeper than `max` levels (each array or object is one level; a scalar is 0).
 *
 * @example
 *   deeperThan({ a: [1] }, 2) // false: depth 2
 *   deeperThan({ a: [[1]] }, 2) // true: depth 3
 */
export function deeperThan(value: unknown, max: number): boolean {
  // two parallel stacks (values, their depths): no per-node allocation on the hot path
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const d = depths.pop() as number;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    // indexed loop / for-in rather than Object.values: no array per object on the hot path
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c = v[i];
        if (c !== null && typeof c === 'object') {
          values.push(c);
          depths.push(d + 1);
        }
      }
    } else {
      for (const k in v as Record<string, unknown>) {
        const c = (v as Record<string, unknown>)[k];
        if (c !== null && typeof c === 'object') {
          values.push(c);
          depths.push(d + 1);
        }
      }
    }
  }
  return false;
}

/** The refusal's text, one wording for every endpoint. */
export function tooDeepMessage(what: string, max: number): string {
  return `${what} nests deeper than ${max} levels (server.max_json_depth)`;
}
