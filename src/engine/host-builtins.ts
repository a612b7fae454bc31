/**
 * The engine's side of the host built-ins: the SDK's `customBuiltins` for one policy instance and the
 * check that every built-in a module imports can be served. Implementations live in src/builtins.
 */
import { hostBuiltins, newEvalContext, beginEvaluation, type EvalContext } from '../builtins/registry';
import { preferOurBuiltinsOverSdk, sdkBundledBuiltins } from '../builtins/sdk';

export type BuiltinImpl = (...args: unknown[]) => unknown;
export { newEvalContext, beginEvaluation, type EvalContext };

/**
 * Make the SDK call our implementations instead of its bundled JS ones (sprintf-js is not Go's fmt;
 * its json.is_valid and yaml.* differ from OPA too). Idempotent; runs before any policy is loaded.
 */
export function useOurBuiltins(): void {
  preferOurBuiltinsOverSdk();
}

/**
 * Host built-ins for one policy instance. `ctx` is shared by every call of one instance; the engine
 * calls beginEvaluation(ctx) before each evaluation so per-evaluation state (e.g. the fixed
 * `time.now_ns`) never leaks from one decision into the next.
 */
export function hostBuiltinsFor(ctx: EvalContext): Record<string, BuiltinImpl> {
  return hostBuiltins(ctx);
}

/**
 * The built-ins a module needs that nobody implements (neither the SDK's remaining bundled ones nor
 * ours): loading such a module must fail, naming them, rather than fail later at the first decision.
 */
export function missingBuiltins(names: string[], provided: Record<string, BuiltinImpl>): string[] {
  const sdk = sdkBundledBuiltins();
  return names.filter((n) => typeof sdk[n] !== 'function' && typeof provided[n] !== 'function');
}
