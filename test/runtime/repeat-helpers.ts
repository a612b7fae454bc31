// Helpers for tests that evaluate many times on ONE loaded instance, the way the PDP serves.
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../../src/compiler';
import { hostBuiltins } from '../../src/builtins/registry';
import { newEvalContext, beginEvaluation } from '../../src/builtins/context';

export interface Instance {
  policy: any;
  /** evaluates through the SDK's fast path (ABI ≥ 1.2); an abort comes back as `ERR <message>` */
  run(entrypoint: string, input?: unknown): string;
}

/** Compiles Rego modules (file name → source) with the given entrypoints. */
export function compileRego(modules: Record<string, string>, entrypoints: string[]): Uint8Array {
  return compile({ modules: Object.entries(modules).map(([file, source]) => ({ file, source })), entrypoints }).wasm;
}

export async function instantiate(wasm: Uint8Array | WebAssembly.Module, data?: unknown, pages?: number): Promise<Instance> {
  const ctx = newEvalContext({ strict: false });
  const policy: any = await loadPolicy(wasm as any, pages ? { initial: pages } : undefined, hostBuiltins(ctx) as any);
  if (data !== undefined) policy.setData(data);
  return {
    policy,
    run(entrypoint: string, input?: unknown): string {
      beginEvaluation(ctx);
      try {
        return JSON.stringify(policy.evaluate(input, entrypoint));
      } catch (e: any) {
        return 'ERR ' + String(e?.message ?? e);
      }
    },
  };
}

export { prng } from '../helpers/prng';
