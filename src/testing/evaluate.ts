/**
 * Compile a policy directory and evaluate one entrypoint the way the PDP does (our compiler, then
 * src/engine/policy.ts: WasmPolicy), for tests and benchmarks. Test files (`*_test.rego`) are left out.
 *
 * @example
 *   const p = await compilePolicyPaths(['rego/'], 'mcp/authz/decision');
 *   const decision = p.evaluate({ user: …, agent: …, tool: … });
 */
import { loadPolicyDir } from '../compiler/load';
import { compile } from '../compiler';
import { WasmPolicy } from '../engine/policy';
import { isTestFile } from './discover';

export interface CompiledPolicy {
  entrypoint: string;
  /** the entrypoint's value, or undefined when the result set is empty */
  evaluate(input: unknown): unknown;
}

export interface CompileOptions {
  /** initial wasm memory in 64 KiB pages (never below what the module needs; it grows on demand) */
  memoryPages?: number;
}

export async function compilePolicyPaths(paths: string[], entrypoint: string, opts: CompileOptions = {}): Promise<CompiledPolicy> {
  const sources = loadPolicyDir(paths);
  const modules = sources.modules.filter((m) => !isTestFile(m.file));
  const { wasm } = compile({ modules, entrypoints: [entrypoint] });
  const policy = await WasmPolicy.load(wasm, { memoryPages: opts.memoryPages });
  policy.setData(sources.data);
  return {
    entrypoint,
    evaluate(input: unknown): unknown {
      const rs = policy.evaluate(entrypoint, input);
      return rs.length > 0 ? rs[0].result : undefined;
    },
  };
}
