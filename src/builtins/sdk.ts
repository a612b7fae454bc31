/**
 * The SDK (@open-policy-agent/opa-wasm) dispatches a host built-in with
 *     impl = sdkBundled[name] || customBuiltins[name]
 * so its own `sprintf` (sprintf-js, not Go's verbs), `regex.split` (JS RegExp, not RE2), `json.is_valid`
 * and `yaml.*` silently win over ours. The bundled map is one module-level object shared by every
 * loaded policy; removing our names from it makes the SDK fall through to customBuiltins.
 *
 * The package's "exports" field hides the file, so it is loaded by absolute path, which Node's module
 * cache resolves to the very object opa.js holds. Call once at start-up, before loading policies.
 */
import * as path from 'path';
import { lookupBuiltin } from './registry';

let done: string[] | undefined;

/** The SDK's bundled built-in map (name → JS implementation), live: what it serves before customBuiltins. */
export function sdkBundledBuiltins(): Record<string, unknown> {
  const main = require.resolve('@open-policy-agent/opa-wasm');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require(path.join(path.dirname(main), 'builtins', 'index.js')) as Record<string, unknown>;
}

export function preferOurBuiltinsOverSdk(): string[] {
  if (done) return done;
  const bundled = sdkBundledBuiltins();
  const removed: string[] = [];
  for (const name of Object.keys(bundled)) {
    if (lookupBuiltin(name)?.host) {
      delete bundled[name];
      removed.push(name);
    }
  }
  done = removed.sort();
  return done;
}
