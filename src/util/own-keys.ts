/**
 * JSON object keys are data. "__proto__", "constructor", "toString" are keys like any other in a
 * request body, a bundle's data, a tool's result or a Rego value — but a plain `{}` inherits
 * Object.prototype: `o[k] = v` with k = "__proto__" replaces the object's prototype (the key is lost,
 * and on a shared object every object in the process changes), and `k in o` is true for "toString".
 * Code that copies, merges or looks up keys it did not choose uses these instead.
 */

/** An empty object for data keys: no prototype, so every key is an ordinary own property. */
export function dataObject<T = unknown>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Whether `k` is an own key of `o` (never an inherited one). */
export function hasKey(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** o[k] when k is an own key, else undefined. */
export function getKey<T>(o: Record<string, T>, k: string): T | undefined {
  return hasKey(o, k) ? o[k] : undefined;
}

/**
 * o[k] = v as an own data property, also for "__proto__" (the one accessor a plain object inherits;
 * every other key assigns as an own property, and plain assignment keeps V8's fast object mode).
 */
export function setKey<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}
