/**
 * Compile a policy directory and evaluate one entrypoint the way the PDP does (our compiler, the
 * opa-wasm SDK, our host built-ins), for tests and benchmarks. Test files (`*_test.rego`) are left out.
 *
 * @example
 *   const p = await compilePolicyPaths(['rego/'], 'mcp/authz/decision');
 *   const decision = p.evaluate({ user: …, agent: …, tool: … });
 */
import { isTestFile } from './discover';

export interface CompiledPolicy {
  entrypoint: string;
  /** the entrypoint's value, or undefined when the result set is empty */
  evaluate(input: unknown): unknown;
}

export interface CompileOptions {
  /** initial wasm memory in 64 KiB pages (the SDK's default is small and grows on demand) */
  memoryPages?: number;
}

export async function compilePolicyPaths(paths: string[], entrypoint: string, opts: CompileOptions = {}): Promise<CompiledPolicy> {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { loadPolicyDir } = require('../compiler/load') as typeof import('../compiler/load');
  const { compile } = require('../compiler') as typeof import('../compiler');
  const registry = require('../builtins/registry') as { hostBuiltins(ctx: unknown): Record<string, unknown> };
  const context = require('../builtins/context') as typeof import('../builtins/context');
  const { loadPolicy } = require('@open-policy-agent/opa-wasm') as {
    loadPolicy(wasm: Uint8Array | ArrayBuffer, memory?: unknown, builtins?: Record<string, unknown>): Promise<{
      setData(d: unknown): void;
      evaluate(input: unknown, ep: string): Array<{ result: unknown }>;
    }>;
  };
  /* eslint-enable @typescript-eslint/no-var-requires */
  const sources = loadPolicyDir(paths);
  const modules = sources.modules.filter((m) => !isTestFile(m.file));
  const { wasm } = compile({ modules, entrypoints: [entrypoint] });
  const ctx = context.newEvalContext({ strict: false });
  const memory = opts.memoryPages ? { initial: opts.memoryPages } : undefined;
  const policy = await loadPolicy(wasm, memory, registry.hostBuiltins(ctx));
  policy.setData(sources.data);
  return {
    entrypoint,
    evaluate(input: unknown): unknown {
      context.beginEvaluation(ctx);
      const rs = policy.evaluate(input, entrypoint);
      return rs.length > 0 ? rs[0].result : undefined;
    },
  };
}
